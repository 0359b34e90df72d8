package evpn

import "net/netip"

// Constructors of the paths a PE advertises most, for route injection, tests
// and benchmarks. Each returns an announcement from nextHop (the VTEP);
// Path.Withdrawal turns one into its withdrawal.

// EADPerESPath is an EAD-per-ES route (Ethernet tag MAX-ET): nextHop is
// attached to esi. Its withdrawal is the mass withdraw.
func EADPerESPath(rd RD, esi ESI, nextHop netip.Addr, src Source) Path {
	return Path{Route: EADRoute{RD: rd, ESI: esi, EthernetTag: MaxET}, Attrs: Attrs{NextHop: nextHop}, Source: src}
}

// EADPerEVIPath is an EAD-per-EVI route (Ethernet tag 0) for vni: aliasing.
func EADPerEVIPath(rd RD, esi ESI, vni uint32, nextHop netip.Addr, src Source) Path {
	return Path{Route: EADRoute{RD: rd, ESI: esi, Label: vni}, Attrs: Attrs{NextHop: nextHop}, Source: src}
}

// MACPath is a type-2 route for mac in vni, behind esi (zero: single-homed).
func MACPath(rd RD, esi ESI, mac MAC, vni uint32, nextHop netip.Addr, src Source) Path {
	return Path{Route: MACIPRoute{RD: rd, ESI: esi, MAC: mac, Label1: vni}, Attrs: Attrs{NextHop: nextHop}, Source: src}
}

// Withdrawal returns the withdrawal of p's route.
func (p Path) Withdrawal() Path {
	return Path{Route: p.Route, Source: p.Source, Withdraw: true}
}
