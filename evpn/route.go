package evpn

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// RouteType is the EVPN route type, the first octet of an EVPN NLRI.
type RouteType uint8

// EVPN route types (RFC 7432 section 7, RFC 9136 section 3).
const (
	// RouteTypeEAD is type 1, Ethernet Auto-Discovery: [EADRoute].
	RouteTypeEAD RouteType = 1
	// RouteTypeMACIP is type 2, MAC/IP Advertisement: [MACIPRoute].
	RouteTypeMACIP RouteType = 2
	// RouteTypeIMET is type 3, Inclusive Multicast Ethernet Tag: [IMETRoute].
	RouteTypeIMET RouteType = 3
	// RouteTypeES is type 4, Ethernet Segment: [ESRoute].
	RouteTypeES RouteType = 4
	// RouteTypeIPPrefix is type 5, IP Prefix: [IPPrefixRoute].
	RouteTypeIPPrefix RouteType = 5
)

// MaxET is the reserved Ethernet Tag MAX-ET (0xFFFFFFFF). It marks an
// Ethernet Auto-Discovery route per ES (RFC 7432 section 8.2); no other
// route may carry it.
const MaxET uint32 = 0xFFFFFFFF

var routeTypeNames = [...]string{
	RouteTypeEAD:      "ead",
	RouteTypeMACIP:    "macip",
	RouteTypeIMET:     "multicast",
	RouteTypeES:       "es",
	RouteTypeIPPrefix: "prefix",
}

const routeTypeForms = "1-5 or a name: ead, macip, multicast (imet), es, prefix; GoBGP's a-d, macadv, esi are accepted too"

// String returns the name FRR uses for the type in "show bgp l2vpn evpn
// route type ...": "ead", "macip", "multicast", "es", "prefix"; or "type N".
func (t RouteType) String() string {
	if t >= RouteTypeEAD && t <= RouteTypeIPPrefix {
		return routeTypeNames[t]
	}
	return "type " + strconv.Itoa(int(t))
}

// ParseRouteType parses a route type by number (1-5) or by name: FRR's names
// (ead, macip, multicast, es, prefix), GoBGP's (a-d, macadv, multicast, esi,
// prefix) and "imet", in any case.
func ParseRouteType(s string) (RouteType, error) {
	switch strings.ToLower(s) {
	case "1", "ead", "a-d", "ad":
		return RouteTypeEAD, nil
	case "2", "macip", "mac-ip", "macadv":
		return RouteTypeMACIP, nil
	case "3", "multicast", "imet":
		return RouteTypeIMET, nil
	case "4", "es", "esi":
		return RouteTypeES, nil
	case "5", "prefix", "ip-prefix":
		return RouteTypeIPPrefix, nil
	}
	return 0, syntaxError("route type", s, "unknown", routeTypeForms)
}

// MarshalText implements encoding.TextMarshaler with [RouteType.String].
func (t RouteType) MarshalText() ([]byte, error) {
	if t < RouteTypeEAD || t > RouteTypeIPPrefix {
		return nil, fmt.Errorf("route type %d: %w", t, ErrInvalid)
	}
	return []byte(t.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with [ParseRouteType].
func (t *RouteType) UnmarshalText(text []byte) error {
	v, err := ParseRouteType(string(text))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Route is an EVPN route: one of [EADRoute], [MACIPRoute], [IMETRoute],
// [ESRoute], [IPPrefixRoute]. Routes are plain values; each type also has a
// Validate method (see [ValidateRoute]).
type Route interface {
	// Type returns the route type.
	Type() RouteType
	// Key returns the route's identity: its RD and the NLRI fields that
	// the RFCs make part of the prefix.
	Key() RouteKey
	// String formats the route as its key followed by its other NLRI
	// fields.
	String() string
}

// RouteKey identifies an EVPN route: two routes with equal keys are the same
// BGP route, and the later replaces the earlier. It is comparable and usable
// as a map key. Fields a route type does not have are zero. Following RFC
// 7432 section 7 and RFC 9136 section 3.1, only these NLRI fields are part of
// the key besides the RD:
//
//   - type 1: ESI, Ethernet tag;
//   - type 2: Ethernet tag, MAC, IP (not the ESI, not the labels);
//   - type 3: Ethernet tag, originator IP;
//   - type 4: ESI, originator IP;
//   - type 5: Ethernet tag, prefix (not the ESI, gateway IP or label).
type RouteKey struct {
	Type        RouteType
	RD          RD
	ESI         ESI          // types 1 and 4
	EthernetTag uint32       // types 1, 2, 3 and 5
	MAC         MAC          // type 2
	IP          netip.Addr   // type 2 (optional), types 3 and 4 (originator)
	Prefix      netip.Prefix // type 5, masked
}

// String formats the key as the RD followed by the prefix in FRR's bracket
// notation, e.g. "10.0.0.1:2 [2]:[0]:[48]:[00:02:00:00:00:01]:[32]:[10.1.1.1]".
func (k RouteKey) String() string {
	var b strings.Builder
	b.WriteString(k.RD.String())
	fmt.Fprintf(&b, " [%d]", k.Type)
	switch k.Type {
	case RouteTypeEAD:
		fmt.Fprintf(&b, ":[%d]:[%s]", k.EthernetTag, k.ESI)
	case RouteTypeMACIP:
		fmt.Fprintf(&b, ":[%d]:[48]:[%s]", k.EthernetTag, k.MAC)
		if k.IP.IsValid() {
			fmt.Fprintf(&b, ":[%d]:[%s]", k.IP.BitLen(), k.IP)
		}
	case RouteTypeIMET:
		fmt.Fprintf(&b, ":[%d]:[%d]:[%s]", k.EthernetTag, k.IP.BitLen(), k.IP)
	case RouteTypeES:
		fmt.Fprintf(&b, ":[%s]:[%d]:[%s]", k.ESI, k.IP.BitLen(), k.IP)
	case RouteTypeIPPrefix:
		fmt.Fprintf(&b, ":[%d]:[%d]:[%s]", k.EthernetTag, k.Prefix.Bits(), k.Prefix.Addr())
	}
	return b.String()
}

// ValidateRoute checks r with its Validate method: nil, a route of an
// unknown type, or one that breaks a rule of its type is an error that names
// the bad field.
func ValidateRoute(r Route) error {
	if isNilRoute(r) {
		return fmt.Errorf("route: missing (%T): %w", r, ErrInvalid)
	}
	if v, ok := r.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return fmt.Errorf("route %T: unknown route implementation: %w", r, ErrInvalid)
}

// isNilRoute reports whether r is nil or a nil pointer to one of the
// package's route types.
func isNilRoute(r Route) bool {
	switch v := r.(type) {
	case nil:
		return true
	case *EADRoute:
		return v == nil
	case *MACIPRoute:
		return v == nil
	case *IMETRoute:
		return v == nil
	case *ESRoute:
		return v == nil
	case *IPPrefixRoute:
		return v == nil
	}
	return false
}

// validateRD, validateLabel and friends check one field for the route
// described by what.
func validateRD(what string, rd RD) error {
	if !rd.Valid() {
		return fieldError(what, "RD", fmt.Sprintf("has unknown type %d (want 0, 1 or 2)", rd.Type()), ErrInvalid)
	}
	return nil
}

func validateLabel(what, field string, l uint32) error {
	if l > MaxLabel {
		return fieldError(what, field, fmt.Sprintf("%d is wider than 24 bits (max %d)", l, MaxLabel), ErrRange)
	}
	return nil
}

func validateSegmentESI(what string, e ESI) error {
	switch {
	case e.IsZero():
		return fieldError(what, "ESI", "must not be zero (the route is about an Ethernet Segment)", ErrInvalid)
	case e.IsMax():
		return fieldError(what, "ESI", "must not be the reserved MAX-ESI", ErrInvalid)
	}
	return nil
}

func validateOptionalESI(what string, e ESI) error {
	if e.IsMax() {
		return fieldError(what, "ESI", "must not be the reserved MAX-ESI", ErrInvalid)
	}
	return nil
}

func validateTag(what string, tag uint32) error {
	if tag == MaxET {
		return fieldError(what, "EthernetTag", "must not be MAX-ET 4294967295 (reserved for EAD per ES)", ErrInvalid)
	}
	return nil
}

// validateAddr checks a required unicast-ish address: set, unzoned, not
// unspecified.
func validateAddr(what, field string, a netip.Addr) error {
	switch {
	case !a.IsValid():
		return fieldError(what, field, "is not set", ErrInvalid)
	case a.Zone() != "":
		return fieldError(what, field, fmt.Sprintf("%s has a zone", a), ErrInvalid)
	case a.IsUnspecified():
		return fieldError(what, field, fmt.Sprintf("%s is unspecified", a), ErrInvalid)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// EADRoute is a type-1 Ethernet Auto-Discovery route (RFC 7432 section 7.1).
// With EthernetTag [MaxET] it is an EAD per ES: it tells which VTEPs attach
// to the segment, and its withdrawal is the mass withdrawal (section 8.2).
// With another tag (0 for VLAN-based services) it is an EAD per EVI, used
// for aliasing (section 8.4).
type EADRoute struct {
	RD          RD
	ESI         ESI
	EthernetTag uint32
	// Label is the VNI (RFC 8365 section 5.1.3); 0 in an EAD per ES.
	Label uint32
}

// Type returns [RouteTypeEAD].
func (r EADRoute) Type() RouteType { return RouteTypeEAD }

// PerES reports whether r is an EAD per ES (Ethernet tag MAX-ET).
func (r EADRoute) PerES() bool { return r.EthernetTag == MaxET }

// Key returns RD, ESI and Ethernet tag.
func (r EADRoute) Key() RouteKey {
	return RouteKey{Type: RouteTypeEAD, RD: r.RD, ESI: r.ESI, EthernetTag: r.EthernetTag}
}

// String returns the key and the label.
func (r EADRoute) String() string {
	return r.Key().String() + " label " + strconv.FormatUint(uint64(r.Label), 10)
}

// Validate checks the RD's type, that the ESI names a segment (neither zero
// nor MAX-ESI) and that the label fits in 24 bits.
func (r EADRoute) Validate() error {
	// The subject is formatted only for a route that fails.
	if r.validate("") == nil {
		return nil
	}
	return r.validate("ead route " + r.Key().String())
}

func (r EADRoute) validate(what string) error {
	return firstErr(
		validateRD(what, r.RD),
		validateSegmentESI(what, r.ESI),
		validateLabel(what, "Label", r.Label),
	)
}

// MACIPRoute is a type-2 MAC/IP Advertisement route (RFC 7432 section 7.2,
// RFC 9135 for Label2).
type MACIPRoute struct {
	RD RD
	// ESI is zero for a single-homed MAC, or the segment the MAC sits
	// behind. It is not part of the key.
	ESI         ESI
	EthernetTag uint32
	MAC         MAC
	// IP is the host's address; the zero Addr when the route carries a MAC
	// only.
	IP netip.Addr
	// Label1 is the L2 VNI.
	Label1 uint32
	// Label2 is the L3 VNI for symmetric IRB (RFC 9135), 0 when absent. It
	// needs an IP.
	Label2 uint32
}

// Type returns [RouteTypeMACIP].
func (r MACIPRoute) Type() RouteType { return RouteTypeMACIP }

// Key returns RD, Ethernet tag, MAC and IP.
func (r MACIPRoute) Key() RouteKey {
	return RouteKey{Type: RouteTypeMACIP, RD: r.RD, EthernetTag: r.EthernetTag, MAC: r.MAC, IP: r.IP}
}

// String returns the key, the ESI when not zero, and the labels.
func (r MACIPRoute) String() string {
	s := r.Key().String()
	if !r.ESI.IsZero() {
		s += " esi " + r.ESI.String()
	}
	s += " label1 " + strconv.FormatUint(uint64(r.Label1), 10)
	if r.Label2 != 0 {
		s += " label2 " + strconv.FormatUint(uint64(r.Label2), 10)
	}
	return s
}

// Validate checks the RD's type, the ESI (not MAX-ESI), the Ethernet tag (not
// MAX-ET), that the MAC is not zero, that an IP is unzoned and specified,
// that the labels fit in 24 bits, and that Label2 comes with an IP.
func (r MACIPRoute) Validate() error {
	// The subject is formatted only for a route that fails.
	if r.validate("") == nil {
		return nil
	}
	return r.validate("macip route " + r.Key().String())
}

func (r MACIPRoute) validate(what string) error {
	if r.MAC.IsZero() {
		return fieldError(what, "MAC", "must not be zero", ErrInvalid)
	}
	if r.IP.IsValid() {
		if err := validateAddr(what, "IP", r.IP); err != nil {
			return err
		}
	} else if r.Label2 != 0 {
		return fieldError(what, "Label2", fmt.Sprintf("%d (L3 VNI) needs an IP", r.Label2), ErrInvalid)
	}
	return firstErr(
		validateRD(what, r.RD),
		validateOptionalESI(what, r.ESI),
		validateTag(what, r.EthernetTag),
		validateLabel(what, "Label1", r.Label1),
		validateLabel(what, "Label2", r.Label2),
	)
}

// IMETRoute is a type-3 Inclusive Multicast Ethernet Tag route (RFC 7432
// section 7.3): its originator joins the BUM flood list of the VNI
// (ingress replication, RFC 8365 section 5.1.3; the VNI is in the PMSI
// tunnel attribute, which the control plane maps to the route's bridge
// domain).
type IMETRoute struct {
	RD           RD
	EthernetTag  uint32
	OriginatorIP netip.Addr
}

// Type returns [RouteTypeIMET].
func (r IMETRoute) Type() RouteType { return RouteTypeIMET }

// Key returns RD, Ethernet tag and originator IP: all of the NLRI.
func (r IMETRoute) Key() RouteKey {
	return RouteKey{Type: RouteTypeIMET, RD: r.RD, EthernetTag: r.EthernetTag, IP: r.OriginatorIP}
}

// String returns the key.
func (r IMETRoute) String() string { return r.Key().String() }

// Validate checks the RD's type, the Ethernet tag (not MAX-ET) and that the
// originator IP is set, unzoned and specified.
func (r IMETRoute) Validate() error {
	// The subject is formatted only for a route that fails.
	if r.validate("") == nil {
		return nil
	}
	return r.validate("multicast route " + r.Key().String())
}

func (r IMETRoute) validate(what string) error {
	return firstErr(
		validateRD(what, r.RD),
		validateTag(what, r.EthernetTag),
		validateAddr(what, "OriginatorIP", r.OriginatorIP),
	)
}

// ESRoute is a type-4 Ethernet Segment route (RFC 7432 section 7.4): its
// originator attaches to the segment and takes part in its DF election.
type ESRoute struct {
	RD           RD
	ESI          ESI
	OriginatorIP netip.Addr
}

// Type returns [RouteTypeES].
func (r ESRoute) Type() RouteType { return RouteTypeES }

// Key returns RD, ESI and originator IP: all of the NLRI.
func (r ESRoute) Key() RouteKey {
	return RouteKey{Type: RouteTypeES, RD: r.RD, ESI: r.ESI, IP: r.OriginatorIP}
}

// String returns the key.
func (r ESRoute) String() string { return r.Key().String() }

// Validate checks the RD's type, that the ESI names a segment and that the
// originator IP is set, unzoned and specified.
func (r ESRoute) Validate() error {
	// The subject is formatted only for a route that fails.
	if r.validate("") == nil {
		return nil
	}
	return r.validate("es route " + r.Key().String())
}

func (r ESRoute) validate(what string) error {
	return firstErr(
		validateRD(what, r.RD),
		validateSegmentESI(what, r.ESI),
		validateAddr(what, "OriginatorIP", r.OriginatorIP),
	)
}

// IPPrefixRoute is a type-5 IP Prefix route (RFC 9136 section 3).
type IPPrefixRoute struct {
	RD RD
	// ESI is an overlay index (RFC 9136 section 3.2), usually zero. It is
	// not part of the key.
	ESI         ESI
	EthernetTag uint32
	// Prefix must have no bits set beyond its length.
	Prefix netip.Prefix
	// GatewayIP is an overlay index; the zero Addr (or the unspecified
	// address of the prefix's family) when absent. It is of the prefix's
	// family.
	GatewayIP netip.Addr
	// Label is the L3 VNI.
	Label uint32
}

// Type returns [RouteTypeIPPrefix].
func (r IPPrefixRoute) Type() RouteType { return RouteTypeIPPrefix }

// Key returns RD, Ethernet tag and the masked prefix.
func (r IPPrefixRoute) Key() RouteKey {
	return RouteKey{Type: RouteTypeIPPrefix, RD: r.RD, EthernetTag: r.EthernetTag, Prefix: r.Prefix.Masked()}
}

// String returns the key, the ESI and gateway IP when set, and the label.
func (r IPPrefixRoute) String() string {
	s := r.Key().String()
	if !r.ESI.IsZero() {
		s += " esi " + r.ESI.String()
	}
	if r.GatewayIP.IsValid() && !r.GatewayIP.IsUnspecified() {
		s += " gw " + r.GatewayIP.String()
	}
	return s + " label " + strconv.FormatUint(uint64(r.Label), 10)
}

// Validate checks the RD's type, the ESI (not MAX-ESI), the Ethernet tag (not
// MAX-ET), that the prefix is set and masked, that a gateway IP is unzoned
// and of the prefix's family, and that the label fits in 24 bits.
func (r IPPrefixRoute) Validate() error {
	// The subject is formatted only for a route that fails.
	if r.validate("") == nil {
		return nil
	}
	return r.validate("prefix route " + r.Key().String())
}

func (r IPPrefixRoute) validate(what string) error {
	if !r.Prefix.IsValid() {
		return fieldError(what, "Prefix", "is not set", ErrInvalid)
	}
	if m := r.Prefix.Masked(); m != r.Prefix {
		return fieldError(what, "Prefix", fmt.Sprintf("%s has bits set beyond its length (want %s)", r.Prefix, m), ErrInvalid)
	}
	if gw := r.GatewayIP; gw.IsValid() {
		switch {
		case gw.Zone() != "":
			return fieldError(what, "GatewayIP", fmt.Sprintf("%s has a zone", gw), ErrInvalid)
		case gw.Is4() != r.Prefix.Addr().Is4():
			return fieldError(what, "GatewayIP", fmt.Sprintf("%s is not of the family of prefix %s", gw, r.Prefix), ErrInvalid)
		}
	}
	return firstErr(
		validateRD(what, r.RD),
		validateOptionalESI(what, r.ESI),
		validateTag(what, r.EthernetTag),
		validateLabel(what, "Label", r.Label),
	)
}
