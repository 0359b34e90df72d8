// Package vxlan owns fwd's view of VXLAN (RFC 7348): today the codec for the
// outer headers a VTEP puts in front of an Ethernet frame, and later the
// VNI/bridge-domain model and underlay resolution that the control plane
// programs into the dataplane.
//
// The codec ([Outer], [Outer.Encode], [Encap], [Decode]) writes and parses the
// untagged Ethernet, IPv4 or IPv6, UDP and VXLAN headers byte for byte as the
// XDP program in bpf/vxlan.h does, so that tests and benchmarks can build and
// check the frames the fast path sends and receives. Its success paths do not
// allocate; every error is one of the package's sentinels, wrapped with
// context, and is matched with [errors.Is].
//
// The package is pure Go: it holds no kernel objects, so there is nothing to
// close, and it needs no particular kernel or privileges.
package vxlan
