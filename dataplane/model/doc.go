// Package model is a reference model of fwd's XDP fast path (bpf/fwd_xdp.c)
// in plain Go: a [State] holding everything the program reads from its maps,
// and [State.Process], which returns what the program does with one frame,
// the verdict, the counter it bumps, the trace fields it records and the
// frame it leaves behind.
//
// The model mirrors the C decision by decision, in the order the C checks
// them: the flow hash (parse.h fwd_flow_hash, words loaded little-endian from
// the raw bytes), bucket selection with precomputed backups, VLAN tag
// rewrites (QinQ: 0x88A8 outer, 0x8100 inner), VXLAN encapsulation over IPv4
// and IPv6 with bpf_check_mtu semantics, decapsulation, the re-encapsulation
// to ES peers, and every pass and drop reason. Array maps behave like arrays
// (a missing id reads as a zeroed entry, an id past the end as no entry), hash
// maps like hash maps.
//
// The dataplane package runs it differentially against the real program
// (BPF_PROG_RUN) on generated and fuzzed frames; a difference is a bug in one
// of the two. Where the C contradicts the dataplane's documented behaviour,
// the model holds the documented behaviour and says so at that spot, so that
// the differential test reports the C until it is fixed. Learn events are reported as a decision ([Learn]) only: whether
// an event is written depends on the port's learn flag and a time-based rate
// limiter the model does not simulate.
//
// The package is pure Go, uses the standard library only and needs no
// privileges; it owns nothing that must be closed.
package model
