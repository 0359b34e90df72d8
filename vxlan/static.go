package vxlan

import "net/netip"

// StaticResolver resolves every VTEP to one underlay port and next hop,
// without asking the kernel: for labs and benchmarks whose underlay is a
// single veth. Its Watch never reports changes.
type StaticResolver struct {
	Ifindex        int
	SrcMAC, DstMAC [6]byte
	// Src is the local VTEP address reported as the source.
	Src netip.Addr
}

// Resolve returns vtep's underlay: always reachable through the port.
func (r *StaticResolver) Resolve(vtep netip.Addr) Underlay {
	return Underlay{VTEP: vtep, Ifindex: r.Ifindex, SrcMAC: r.SrcMAC, DstMAC: r.DstMAC, Src: r.Src, Reachable: true}
}

// Watch returns vtep's underlay.
func (r *StaticResolver) Watch(vtep netip.Addr) (Underlay, error) { return r.Resolve(vtep), nil }

// Unwatch does nothing: nothing is followed.
func (r *StaticResolver) Unwatch(netip.Addr) {}
