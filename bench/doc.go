// Package bench measures fwd's XDP fast path against two references on one
// harness and one frame set: the floor (a program that only redirects to
// the port fwd would send to) and the kernel path FRR programs on Linux (a
// bridge, a vxlan device and L2 nexthop groups, with permanent neighbour
// entries).
//
// The harness: a generator namespace injects frames with the live-frame
// generator (BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, package
// dataplane's Bench) out of veth g0, pinned to one CPU; the peer g1 is the
// ingress port of the system under test; the system's egress (the uplink u0
// for encapsulation, an access port a0 for decapsulation and local
// switching) has its peer in a sink namespace, where an XDP program counts
// what arrives per flow, by the flow id the generator stamped into each
// frame. Delivered means counted by the sink; loss is (sent - delivered) /
// sent. Each system gets a fresh topology (package lab), built and removed
// per scenario group, so nothing one system leaves behind slows the next.
//
// [Run] runs scenarios and returns a [Report], which writes itself as a
// table, as one JSON object and as an SVG bar chart. `fwd bench xdp` is the
// command; the Go benchmarks (BenchmarkXDP) run the same scenarios for fwd
// and the floor under `go test -bench`.
//
// Everything that sends frames needs root (namespaces, XDP, BPF_PROG_RUN),
// Linux 6.1 or later (the dataplane's minimum; live frames need 5.18), and
// iproute2's ip and bridge and ethtool on PATH. The report writers are pure
// Go.
package bench
