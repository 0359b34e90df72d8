// Package vxlan owns fwd's view of VXLAN (RFC 7348): the codec for the outer
// headers a VTEP puts in front of an Ethernet frame, the resolution of remote
// VTEPs over the underlay, and later the VNI/bridge-domain model that the
// control plane programs into the dataplane.
//
// The codec ([Outer], [Outer.Encode], [Encap], [Decode]) writes and parses the
// untagged Ethernet, IPv4 or IPv6, UDP and VXLAN headers byte for byte as the
// XDP program in bpf/vxlan.h does, so that tests and benchmarks can build and
// check the frames the fast path sends and receives. Its success paths do not
// allocate; every error is one of the package's sentinels, wrapped with
// context, and is matched with [errors.Is]. It is pure Go: it holds no kernel
// objects, so there is nothing to close, and it needs no particular kernel or
// privileges.
//
// Underlay resolution ([Resolver], [Underlay], Linux only) tells the control
// plane, for each remote VTEP, what the fast path's nexthop entry needs to
// encapsulate towards it: the egress ifindex, our MAC on that link, the next
// hop's MAC (the gateway's, or the VTEP's own when it is on-link) and the
// source address the kernel would use, or why the VTEP is unreachable. It asks
// the kernel of one network namespace over netlink (route lookup, link,
// neighbour entry) and follows route, nexthop, neighbour and link
// notifications, so that a lost route or a failed neighbour sets the
// nexthop's down bit within a millisecond (failover tier 1), and a lost
// carrier as soon as the kernel announces it (its link watch batches those,
// up to a second). When a next
// hop has no neighbour entry, the resolver has the kernel resolve it
// (RTM_NEWNEIGH with NTF_USE, as `ip neigh replace ... use`) and reports the
// answer when the kernel learns it. A Resolver owns a goroutine, netlink
// sockets and a namespace handle: whoever calls [NewResolver] calls
// [Resolver.Close]. It needs Linux 5.3 or later and CAP_NET_ADMIN in its
// namespace.
package vxlan
