package evpn

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// MACMobility is the MAC Mobility extended community (RFC 7432 section 7.7).
// Its absence reads as the zero value: sequence 0, not sticky (section
// 15.1).
type MACMobility struct {
	// Seq is the sequence number; the highest wins when a MAC moves.
	Seq uint32
	// Sticky marks a static MAC that must not move (section 15.2).
	Sticky bool
}

// ESILabel is the ESI Label extended community (RFC 7432 section 7.5),
// carried by EAD per ES routes.
type ESILabel struct {
	// SingleActive is the community's flag: the segment is single-active.
	// fwd, like FRR, does all-active only.
	SingleActive bool
	// Label is the split-horizon label; VXLAN ignores it (RFC 8365 section
	// 8.3.1 uses the source VTEP instead).
	Label uint32
}

// DFElection is the DF Election extended community (RFC 8584 section 2.2,
// RFC 9785) carried by type-4 routes. Its absence reads as the zero value:
// the default algorithm, modulo.
type DFElection struct {
	Alg DFAlg
	// Pref is the preference of the preference algorithm (2-byte field).
	Pref uint16
	// DontPreempt is the DP bit of the preference algorithm (RFC 9785).
	DontPreempt bool
}

// Candidate returns the DF candidate for the VTEP that advertised e.
func (e DFElection) Candidate(vtep netip.Addr) Candidate {
	return Candidate{VTEP: vtep, Alg: e.Alg, Pref: e.Pref, DontPreempt: e.DontPreempt}
}

// Attrs are the path attributes of an EVPN route that fwd's control plane
// acts on. The zero value of each field means the attribute is absent.
type Attrs struct {
	// NextHop is the VTEP that originated the route (the BGP next hop).
	NextHop netip.Addr
	// RouteTargets are the route target extended communities the route is
	// imported by.
	RouteTargets []RT
	// ESImportRT is the ES-Import route target of a type-4 route (RFC 7432
	// section 7.6): a MAC, see [ESI.ImportRT].
	ESImportRT MAC
	// MACMobility is the MAC Mobility community of a type-2 route.
	MACMobility MACMobility
	// RouterMAC is the Router's MAC community (RFC 9135 section 8.1) of a
	// type-2 or type-5 route used for symmetric IRB.
	RouterMAC MAC
	// ESILabel is the ESI Label community of an EAD per ES route.
	ESILabel ESILabel
	// DFElection is the DF Election community of a type-4 route.
	DFElection DFElection
	// Proxy is the proxy flag of the ARP/ND extended community (FRR: a
	// type-2 route a PE re-advertises for an ES peer, without having
	// learned it locally).
	Proxy bool
	// Router is the router flag (R) of the ARP/ND extended community: the IP
	// of a type-2 route belongs to a router (IPv6 ND).
	Router bool
}

// Equal reports whether a and b hold the same attributes, route targets in
// the same order.
func (a Attrs) Equal(b Attrs) bool {
	return a.NextHop == b.NextHop &&
		slices.Equal(a.RouteTargets, b.RouteTargets) &&
		a.ESImportRT == b.ESImportRT &&
		a.MACMobility == b.MACMobility &&
		a.RouterMAC == b.RouterMAC &&
		a.ESILabel == b.ESILabel &&
		a.DFElection == b.DFElection &&
		a.Proxy == b.Proxy &&
		a.Router == b.Router
}

// Validate checks that the next hop is set, unzoned and specified, that every
// route target is one, and that the ESI label fits in 24 bits. A withdrawal
// needs no attributes: see [Path.Validate].
func (a Attrs) Validate() error {
	const what = "attrs"
	if err := validateAddr(what, "NextHop", a.NextHop); err != nil {
		return err
	}
	for i, rt := range a.RouteTargets {
		if !rt.Valid() {
			return fieldError(what, fmt.Sprintf("RouteTargets[%d]", i), fmt.Sprintf("%s is not a route target", rt), ErrInvalid)
		}
	}
	return validateLabel(what, "ESILabel.Label", a.ESILabel.Label)
}

// Source says where a path came from.
type Source uint8

// Path sources. The zero Source is invalid, so that a path whose source was
// never set is caught by [Path.Validate].
const (
	// SourceBGP: learned from a BGP peer.
	SourceBGP Source = iota + 1
	// SourceAPI: injected through fwd's API (the SHARP-style test source).
	SourceAPI
	// SourceStatic: from the static configuration.
	SourceStatic
	// SourceLocal: originated by this VTEP (learned MACs, local ES).
	SourceLocal
)

var sourceNames = [...]string{SourceBGP: "bgp", SourceAPI: "api", SourceStatic: "static", SourceLocal: "local"}

// String returns "bgp", "api", "static", "local", or "source N".
func (s Source) String() string {
	if s >= SourceBGP && s <= SourceLocal {
		return sourceNames[s]
	}
	return fmt.Sprintf("source %d", uint8(s))
}

// ParseSource parses the names [Source.String] returns, in any case.
func ParseSource(s string) (Source, error) {
	for i, n := range sourceNames {
		if i > 0 && strings.EqualFold(s, n) {
			return Source(i), nil
		}
	}
	return 0, syntaxError("source", s, "unknown", "bgp, api, static or local")
}

// MarshalText implements encoding.TextMarshaler with [Source.String].
func (s Source) MarshalText() ([]byte, error) {
	if s < SourceBGP || s > SourceLocal {
		return nil, fmt.Errorf("%s: %w", s, ErrInvalid)
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with [ParseSource].
func (s *Source) UnmarshalText(text []byte) error {
	v, err := ParseSource(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Path is one route with its attributes and origin: the unit that flows from
// BGP, the API, static configuration and local learning into the control
// plane. A withdrawal carries the route (its key matters) and no attributes.
type Path struct {
	Route    Route
	Attrs    Attrs
	Source   Source
	Withdraw bool
}

// String returns the route, the next hop and source, and "withdraw" for a
// withdrawal.
func (p Path) String() string {
	r := "<nil route>"
	if !isNilRoute(p.Route) {
		r = p.Route.String()
	}
	if p.Withdraw {
		return r + " withdraw from " + p.Source.String()
	}
	return r + " via " + p.Attrs.NextHop.String() + " from " + p.Source.String()
}

// Validate checks the source, the route ([ValidateRoute]) and, unless p is a
// withdrawal, the attributes ([Attrs.Validate]).
func (p Path) Validate() error {
	if p.Source < SourceBGP || p.Source > SourceLocal {
		return fieldError("path", "Source", fmt.Sprintf("%d is not set to bgp, api, static or local", uint8(p.Source)), ErrInvalid)
	}
	if err := ValidateRoute(p.Route); err != nil {
		return fmt.Errorf("path from %s: %w", p.Source, err)
	}
	if p.Withdraw {
		return nil
	}
	if err := p.Attrs.Validate(); err != nil {
		return fmt.Errorf("path %s from %s: %w", p.Route.Key(), p.Source, err)
	}
	return nil
}
