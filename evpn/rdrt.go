package evpn

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// AdminType is the form of a route distinguisher's or route target's
// administrator field: the RD type of RFC 4364 section 4.2, and the type
// octet of the matching route target extended community (RFC 4360, RFC
// 5668).
type AdminType uint8

// Administrator forms.
const (
	// AdminAS2 is "ASN:nn" with a 2-octet AS number and a 4-octet number:
	// RD type 0, RT type 0x00.
	AdminAS2 AdminType = 0
	// AdminIPv4 is "IPv4:nn" with a 2-octet number: RD type 1, RT type
	// 0x01.
	AdminIPv4 AdminType = 1
	// AdminAS4 is "ASN:nn" with a 4-octet AS number and a 2-octet number:
	// RD type 2, RT type 0x02.
	AdminAS4 AdminType = 2
)

// rtSubtype is the route target sub-type of the extended communities of
// types 0x00, 0x01 and 0x02.
const rtSubtype = 0x02

// EVPNAutoRTVXLAN is the bit FRR's "autort rfc8365-compatible" sets in an
// auto-derived route target's number: the Type field of RFC 8365 section
// 5.1.2.1 set to 1 (VXLAN).
const EVPNAutoRTVXLAN = 0x10000000

const adminForms = "ASN:nn, IPv4:nn or 4-byte-ASN:nn, e.g. 65000:100 (nn up to 4294967295), " +
	"10.0.0.1:100 or 4200000000:100 (nn up to 65535); a 4-byte ASN may also be written X.Y (asdot), e.g. 0.100:5"

// String returns "as2", "ipv4", "as4" or "type N".
func (t AdminType) String() string {
	switch t {
	case AdminAS2:
		return "as2"
	case AdminIPv4:
		return "ipv4"
	case AdminAS4:
		return "as4"
	}
	return "type " + strconv.Itoa(int(t))
}

// admin is the decoded form shared by RD and RT.
type admin struct {
	typ AdminType
	asn uint32     // AdminAS2, AdminAS4
	ip  netip.Addr // AdminIPv4
	num uint32
}

// parseAdmin parses the "admin:nn" forms common to RDs and RTs; what names
// the kind of value in errors ("rd", "rt").
func parseAdmin(what, s string) (admin, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return admin{}, syntaxError(what, s, "no \":\"", adminForms)
	}
	adm, nn := s[:i], s[i+1:]
	if strings.IndexByte(adm, ':') >= 0 {
		return admin{}, syntaxError(what, s, "more than one \":\" (IPv6 administrators are not allowed)", adminForms)
	}
	if adm == "" || nn == "" {
		return admin{}, syntaxError(what, s, "empty field", adminForms)
	}
	num, err := strconv.ParseUint(nn, 10, 32)
	if err != nil {
		if isDigits(nn) {
			return admin{}, rangeError(what, s, fmt.Sprintf("number %s is larger than 4294967295", nn), adminForms)
		}
		return admin{}, syntaxError(what, s, fmt.Sprintf("number %q is not decimal", nn), adminForms)
	}
	a := admin{num: uint32(num)}
	switch strings.Count(adm, ".") {
	case 3:
		ip, err := netip.ParseAddr(adm)
		if err != nil || !ip.Is4() {
			return admin{}, syntaxError(what, s, fmt.Sprintf("%q is not an IPv4 address", adm), adminForms)
		}
		a.typ, a.ip = AdminIPv4, ip
	case 1: // asdot: always a 4-byte ASN
		hi, lo, _ := strings.Cut(adm, ".")
		h, err1 := parseUint16(hi)
		l, err2 := parseUint16(lo)
		if err1 != nil || err2 != nil {
			return admin{}, syntaxError(what, s, fmt.Sprintf("%q is not an asdot ASN (two numbers up to 65535)", adm), adminForms)
		}
		a.typ, a.asn = AdminAS4, uint32(h)<<16|uint32(l)
	case 0:
		if !isDigits(adm) {
			return admin{}, syntaxError(what, s, fmt.Sprintf("%q is not an ASN or IPv4 address", adm), adminForms)
		}
		asn, err := strconv.ParseUint(adm, 10, 32)
		if err != nil {
			return admin{}, rangeError(what, s, fmt.Sprintf("ASN %s is larger than 4294967295", adm), adminForms)
		}
		a.asn = uint32(asn)
		if asn > 0xFFFF {
			a.typ = AdminAS4
		}
	default:
		return admin{}, syntaxError(what, s, fmt.Sprintf("%q is not an ASN or IPv4 address", adm), adminForms)
	}
	if a.typ != AdminAS2 && a.num > 0xFFFF {
		kind := "a 4-byte ASN"
		if a.typ == AdminIPv4 {
			kind = "an IPv4 address"
		}
		return admin{}, rangeError(what, s, fmt.Sprintf("number %d is larger than 65535, the most %s leaves room for", a.num, kind), adminForms)
	}
	return a, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseUint16(s string) (uint16, error) {
	if !isDigits(s) {
		return 0, ErrSyntax
	}
	v, err := strconv.ParseUint(s, 10, 16)
	return uint16(v), err
}

// format writes a in the form parseAdmin reads back to the same value: a
// 4-byte ASN that would fit in 2 bytes is written in asdot ("0.100:5") so
// that it keeps its type.
func (a admin) format() string {
	switch a.typ {
	case AdminAS2:
		return strconv.FormatUint(uint64(a.asn), 10) + ":" + strconv.FormatUint(uint64(a.num), 10)
	case AdminIPv4:
		return a.ip.String() + ":" + strconv.FormatUint(uint64(a.num), 10)
	case AdminAS4:
		if a.asn <= 0xFFFF {
			return "0." + strconv.FormatUint(uint64(a.asn), 10) + ":" + strconv.FormatUint(uint64(a.num), 10)
		}
		return strconv.FormatUint(uint64(a.asn), 10) + ":" + strconv.FormatUint(uint64(a.num), 10)
	}
	return ""
}

// put writes the administrator and number of a into the six octets v.
func (a admin) put(v []byte) {
	switch a.typ {
	case AdminAS2:
		binary.BigEndian.PutUint16(v[0:2], uint16(a.asn))
		binary.BigEndian.PutUint32(v[2:6], a.num)
	case AdminIPv4:
		ip := a.ip.As4()
		copy(v[0:4], ip[:])
		binary.BigEndian.PutUint16(v[4:6], uint16(a.num))
	case AdminAS4:
		binary.BigEndian.PutUint32(v[0:4], a.asn)
		binary.BigEndian.PutUint16(v[4:6], uint16(a.num))
	}
}

// getAdmin decodes the six octets v of type t.
func getAdmin(t AdminType, v []byte) admin {
	a := admin{typ: t}
	switch t {
	case AdminAS2:
		a.asn = uint32(binary.BigEndian.Uint16(v[0:2]))
		a.num = binary.BigEndian.Uint32(v[2:6])
	case AdminIPv4:
		a.ip = netip.AddrFrom4([4]byte(v[0:4]))
		a.num = uint32(binary.BigEndian.Uint16(v[4:6]))
	case AdminAS4:
		a.asn = binary.BigEndian.Uint32(v[0:4])
		a.num = uint32(binary.BigEndian.Uint16(v[4:6]))
	}
	return a
}

func ipv4Admin(what string, ip netip.Addr, n uint16) (admin, error) {
	if !ip.Is4() {
		return admin{}, fmt.Errorf("%s administrator %v: not an IPv4 address (types 0x01 carry IPv4 only): %w", what, ip, ErrInvalid)
	}
	return admin{typ: AdminIPv4, ip: ip, num: uint32(n)}, nil
}

// RD is a BGP route distinguisher (RFC 4364 section 4.2) in its eight-octet
// wire form: a two-octet type (0, 1 or 2) and six octets of value. It is
// comparable and its zero value is the type-0 RD 0:0.
type RD [8]byte

// ParseRD parses an RD as FRR and GoBGP write it:
//
//   - "ASN:nn" with an ASN up to 65535 and nn up to 4294967295: type 0;
//   - "IPv4:nn" with nn up to 65535: type 1;
//   - "ASN:nn" with an ASN above 65535, or any ASN in asdot ("1.10:5",
//     "0.100:5"), and nn up to 65535: type 2.
func ParseRD(s string) (RD, error) {
	a, err := parseAdmin("rd", s)
	if err != nil {
		return RD{}, err
	}
	return a.rd(), nil
}

func (a admin) rd() RD {
	var rd RD
	binary.BigEndian.PutUint16(rd[0:2], uint16(a.typ))
	a.put(rd[2:])
	return rd
}

// RDAS2 returns the type-0 RD asn:n.
func RDAS2(asn uint16, n uint32) RD { return admin{typ: AdminAS2, asn: uint32(asn), num: n}.rd() }

// RDIPv4 returns the type-1 RD ip:n; ip must be an IPv4 address.
func RDIPv4(ip netip.Addr, n uint16) (RD, error) {
	a, err := ipv4Admin("rd", ip, n)
	if err != nil {
		return RD{}, err
	}
	return a.rd(), nil
}

// RDAS4 returns the type-2 RD asn:n.
func RDAS4(asn uint32, n uint16) RD { return admin{typ: AdminAS4, asn: asn, num: uint32(n)}.rd() }

// Type returns the RD's type field; a type above 254, which no RFC defines,
// reads as 255. [RD.Valid] reports whether it is one of 0, 1, 2.
func (rd RD) Type() AdminType {
	t := binary.BigEndian.Uint16(rd[0:2])
	if t > 0xFF {
		return 0xFF
	}
	return AdminType(t)
}

// Valid reports whether rd has type 0, 1 or 2.
func (rd RD) Valid() bool { return binary.BigEndian.Uint16(rd[0:2]) <= uint16(AdminAS4) }

// ASN returns the AS number of a type-0 or type-2 RD.
func (rd RD) ASN() (uint32, bool) {
	if !rd.Valid() || rd.Type() == AdminIPv4 {
		return 0, false
	}
	return getAdmin(rd.Type(), rd[2:]).asn, true
}

// IP returns the IPv4 address of a type-1 RD.
func (rd RD) IP() (netip.Addr, bool) {
	if rd.Type() != AdminIPv4 {
		return netip.Addr{}, false
	}
	return getAdmin(AdminIPv4, rd[2:]).ip, true
}

// Assigned returns the RD's assigned number, the part after the colon.
func (rd RD) Assigned() uint32 {
	if !rd.Valid() {
		return 0
	}
	return getAdmin(rd.Type(), rd[2:]).num
}

// String formats rd in the form [ParseRD] reads back to the same RD; a type-2
// RD whose ASN fits in two octets is written in asdot ("0.100:5"). An RD of
// an unknown type is written as "type N:hex" and does not parse.
func (rd RD) String() string {
	if !rd.Valid() {
		return fmt.Sprintf("type %d:%x", binary.BigEndian.Uint16(rd[0:2]), rd[2:])
	}
	return getAdmin(rd.Type(), rd[2:]).format()
}

// MarshalText implements encoding.TextMarshaler with [RD.String]; an RD of
// an unknown type is an error.
func (rd RD) MarshalText() ([]byte, error) {
	if !rd.Valid() {
		return nil, fmt.Errorf("rd %s: unknown type: %w", rd, ErrInvalid)
	}
	return []byte(rd.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with [ParseRD].
func (rd *RD) UnmarshalText(text []byte) error {
	v, err := ParseRD(string(text))
	if err != nil {
		return err
	}
	*rd = v
	return nil
}

// RT is a route target extended community (RFC 4360, RFC 5668) in its
// eight-octet wire form: the type octet (0x00, 0x01 or 0x02, transitive),
// the sub-type 0x02, and six octets of value. The zero RT is not valid.
type RT [8]byte

// ParseRT parses a route target in the forms [ParseRD] accepts. FRR's show
// output prefixes route targets with "RT:" ("RT:65000:100"); that prefix is
// accepted too. The EVPN auto-derived route target "ASN:VNI" is an ordinary
// type-0 route target; [AutoRT] builds it.
func ParseRT(s string) (RT, error) {
	in := s
	if len(s) > 3 && strings.EqualFold(s[:3], "rt:") {
		s = s[3:]
	}
	a, err := parseAdmin("rt", s)
	if err != nil {
		if in != s {
			return RT{}, fmt.Errorf("rt %q: %w", in, err)
		}
		return RT{}, err
	}
	return a.rt(), nil
}

func (a admin) rt() RT {
	var rt RT
	rt[0], rt[1] = byte(a.typ), rtSubtype
	a.put(rt[2:])
	return rt
}

// RTAS2 returns the route target asn:n with a 2-octet ASN (type 0x00).
func RTAS2(asn uint16, n uint32) RT { return admin{typ: AdminAS2, asn: uint32(asn), num: n}.rt() }

// RTIPv4 returns the route target ip:n (type 0x01); ip must be IPv4.
func RTIPv4(ip netip.Addr, n uint16) (RT, error) {
	a, err := ipv4Admin("rt", ip, n)
	if err != nil {
		return RT{}, err
	}
	return a.rt(), nil
}

// RTAS4 returns the route target asn:n with a 4-octet ASN (type 0x02).
func RTAS4(asn uint32, n uint16) RT { return admin{typ: AdminAS4, asn: asn, num: uint32(n)}.rt() }

// AutoRT returns the route target an EVPN speaker derives for a VNI, as FRR
// does (form_auto_rt): "ASN:VNI", a type-0x00 route target whose ASN is the
// low 16 bits of the local AS (enough to be the same on every router of the
// AS and unique per VNI) and whose number is the VNI. With rfc8365 the number
// also carries [EVPNAutoRTVXLAN], as FRR's "autort rfc8365-compatible" and
// RFC 8365 section 5.1.2.1 do. The VNI must fit in 24 bits.
func AutoRT(asn, vni uint32, rfc8365 bool) (RT, error) {
	if vni > MaxLabel {
		return RT{}, fmt.Errorf("auto rt: vni %d: must be at most %d (24 bits): %w", vni, MaxLabel, ErrRange)
	}
	if rfc8365 {
		vni |= EVPNAutoRTVXLAN
	}
	return RTAS2(uint16(asn), vni), nil
}

// Type returns the route target's administrator form, from its type octet.
func (rt RT) Type() AdminType { return AdminType(rt[0]) }

// Valid reports whether rt is a route target: type 0x00, 0x01 or 0x02 with
// sub-type 0x02.
func (rt RT) Valid() bool { return rt[0] <= byte(AdminAS4) && rt[1] == rtSubtype }

// ASN returns the AS number of a type-0x00 or 0x02 route target.
func (rt RT) ASN() (uint32, bool) {
	if !rt.Valid() || rt.Type() == AdminIPv4 {
		return 0, false
	}
	return getAdmin(rt.Type(), rt[2:]).asn, true
}

// IP returns the IPv4 address of a type-0x01 route target.
func (rt RT) IP() (netip.Addr, bool) {
	if !rt.Valid() || rt.Type() != AdminIPv4 {
		return netip.Addr{}, false
	}
	return getAdmin(AdminIPv4, rt[2:]).ip, true
}

// Assigned returns the route target's local number, the part after the colon.
func (rt RT) Assigned() uint32 {
	if !rt.Valid() {
		return 0
	}
	return getAdmin(rt.Type(), rt[2:]).num
}

// String formats rt in the form [ParseRT] reads back to the same route
// target (without FRR's "RT:" prefix). An invalid route target is written as
// "extcomm:hex" and does not parse.
func (rt RT) String() string {
	if !rt.Valid() {
		return fmt.Sprintf("extcomm:%x", rt[:])
	}
	return getAdmin(rt.Type(), rt[2:]).format()
}

// MarshalText implements encoding.TextMarshaler with [RT.String]; an invalid
// route target is an error.
func (rt RT) MarshalText() ([]byte, error) {
	if !rt.Valid() {
		return nil, fmt.Errorf("rt %s: not a route target: %w", rt, ErrInvalid)
	}
	return []byte(rt.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with [ParseRT].
func (rt *RT) UnmarshalText(text []byte) error {
	v, err := ParseRT(string(text))
	if err != nil {
		return err
	}
	*rt = v
	return nil
}
