// Package dataplane owns fwd's XDP fast path: it loads the program built from
// bpf/, attaches it to ports, pins maps and links under /sys/fs/bpf/fwd, and
// gives typed access to every map: ports, VLAN to bridge-domain maps, the FDB
// (single and batch), Ethernet Segments, nexthops, nexthop groups with
// precomputed backups, down bits, the learn-event ring and the counters.
//
// It is the only package that imports github.com/cilium/ebpf; every other
// package sees the types defined here.
//
// Group replacement is atomic and fast: a group's versions live in immutable
// slots of an ARRAY map and the group's active slot is one aligned u32 in a
// BPF_F_MMAPABLE map, replaced with one atomic store. A retired slot is reused
// only after an RCU grace period (membarrier(MEMBARRIER_CMD_GLOBAL)), taken in
// the background and batched. Nexthop and ES-port down bits are single atomic
// stores into mmapable maps too.
//
// The caller owns a *Dataplane and closes it; Close detaches nothing that was
// pinned and removes nothing from bpffs (see [Dataplane.Unpin]).
//
// Minimum kernel: 6.1 for loading (BPF_F_MMAPABLE arrays, DEVMAP_HASH,
// bpf_check_mtu, ring buffer, BPF links for XDP); BPF_PROG_RUN with an
// ingress ifindex in the context needs 5.15. Developed and tested on 6.18.
package dataplane
