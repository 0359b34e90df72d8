// Package lab builds EVPN/VXLAN topologies in network namespaces for fwd's
// demo, its interop tests and its benchmarks: hosts, VTEPs and the underlay
// between them, all on veth pairs, with nothing on the host's own network.
//
// Two kinds of VTEP take part. A kernel VTEP is what FRR programs on Linux: a
// vxlan device (nolearning, and udp6zerocsumrx over an IPv6 underlay, since
// fwd sends UDP checksum 0 there as RFC 6935 allows) enslaved to a bridge with
// the host-facing veths, and static `bridge fdb` entries for remote MACs and
// for flooding. An fwd VTEP runs fwd's XDP program (package dataplane) on its
// access ports and its uplink, configured through the dataplane's maps.
//
// There are two ways in. [Build] takes a [Spec] (VTEPs, hosts, the underlay
// family) and makes everything: namespaces, veths, addresses, static
// neighbour entries so that no host ever needs ARP (fwd hands broadcast to
// the kernel until BUM replication lands), FDB entries on both kinds of VTEP,
// nexthops from the underlay MACs read back over netlink, Ethernet Segments
// with their backup groups. The lower layer ([New], [Topology.AddNS],
// [Topology.AddVeth], [Topology.AddKernelVTEP], [Topology.AddFwdVTEP]) is
// there for topologies the Spec does not describe.
//
// Every object a Topology creates is named with its prefix,
// "fwdlab-<pid>-<n>", so that concurrent runs never collide and leftovers of
// a killed run are found by [RemoveStale]. The caller owns the Topology and
// must Close it: Close stops the user-space hosts, closes the dataplanes
// (detaching fwd) and deletes every namespace, and with them every link, it
// created. A Topology kept with [Options.Pin] leaves fwd's links pinned under
// /sys/fs/bpf/<prefix> so that they outlive the process; [RemoveStale] and
// [Topology.Close] remove those pins too.
//
// veth facts the package takes care of: a frame XDP-redirected into a veth is
// dropped unless the veth's peer has NAPI, so GRO is switched on for the peer
// of every fwd port; a redirected frame larger than the peer's MTU + 18 is
// dropped, so underlay veths get MTU 1550 (IPv4) or 1570 (IPv6).
//
// There is no 802.1Q module on the machines fwd is developed on, so a host
// on a tagged fwd port is a small user-space stack on an AF_PACKET socket
// that answers and sends ICMP echo in its VLAN.
//
// Everything here needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_BPF), Linux
// 6.1 or later (the dataplane's minimum), and iproute2's ip and bridge and
// ethtool on PATH.
package lab
