package evpn

import (
	"encoding/json"
	"net/netip"
	"testing"
)

// sampleRoutes returns one valid route of each type.
func sampleRoutes(tb testing.TB) []Route {
	tb.Helper()
	rd := mustRD(tb, "10.0.0.1:2")
	esi := mustESI(tb, "03:44:38:39:ff:ff:01:00:00:01")
	return []Route{
		EADRoute{RD: rd, ESI: esi, EthernetTag: MaxET},
		EADRoute{RD: rd, ESI: esi, EthernetTag: 0, Label: 100},
		MACIPRoute{RD: rd, ESI: esi, MAC: mustMAC(tb, "00:02:00:00:00:01"), IP: mustAddr(tb, "10.1.1.1"), Label1: 100, Label2: 4000},
		MACIPRoute{RD: rd, MAC: mustMAC(tb, "00:02:00:00:00:01"), Label1: 100},
		IMETRoute{RD: rd, OriginatorIP: mustAddr(tb, "10.0.0.1")},
		ESRoute{RD: rd, ESI: esi, OriginatorIP: mustAddr(tb, "10.0.0.1")},
		IPPrefixRoute{RD: rd, Prefix: mustPrefix(tb, "10.1.1.0/24"), Label: 4000},
	}
}

func TestRouteTypes(t *testing.T) {
	want := []RouteType{1, 1, 2, 2, 3, 4, 5}
	for i, r := range sampleRoutes(t) {
		if r.Type() != want[i] || r.Key().Type != want[i] {
			t.Errorf("%s: Type() = %v, Key().Type = %v, want %v", r, r.Type(), r.Key().Type, want[i])
		}
		if err := ValidateRoute(r); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
}

func TestRouteString(t *testing.T) {
	want := []string{
		"10.0.0.1:2 [1]:[4294967295]:[03:44:38:39:ff:ff:01:00:00:01] label 0",
		"10.0.0.1:2 [1]:[0]:[03:44:38:39:ff:ff:01:00:00:01] label 100",
		"10.0.0.1:2 [2]:[0]:[48]:[00:02:00:00:00:01]:[32]:[10.1.1.1] esi 03:44:38:39:ff:ff:01:00:00:01 label1 100 label2 4000",
		"10.0.0.1:2 [2]:[0]:[48]:[00:02:00:00:00:01] label1 100",
		"10.0.0.1:2 [3]:[0]:[32]:[10.0.0.1]",
		"10.0.0.1:2 [4]:[03:44:38:39:ff:ff:01:00:00:01]:[32]:[10.0.0.1]",
		"10.0.0.1:2 [5]:[0]:[24]:[10.1.1.0] label 4000",
	}
	for i, r := range sampleRoutes(t) {
		if got := r.String(); got != want[i] {
			t.Errorf("String() = %q\n\t\twant %q", got, want[i])
		}
	}
	r6 := IPPrefixRoute{
		RD: mustRD(t, "65000:1"), ESI: mustESI(t, "00:11:22:33:44:55:66:77:88:99"), EthernetTag: 7,
		Prefix: mustPrefix(t, "2001:db8::/32"), GatewayIP: mustAddr(t, "2001:db8::1"), Label: 5,
	}
	if got, want := r6.String(), "65000:1 [5]:[7]:[32]:[2001:db8::] esi 00:11:22:33:44:55:66:77:88:99 gw 2001:db8::1 label 5"; got != want {
		t.Errorf("String() = %q\n\t\twant %q", got, want)
	}
	m6 := MACIPRoute{RD: mustRD(t, "0.100:3"), MAC: mustMAC(t, "00:02:00:00:00:01"), IP: mustAddr(t, "2001:db8::5")}
	if got, want := m6.String(), "0.100:3 [2]:[0]:[48]:[00:02:00:00:00:01]:[128]:[2001:db8::5] label1 0"; got != want {
		t.Errorf("String() = %q\n\t\twant %q", got, want)
	}
}

// TestRouteKeyUnique builds routes that differ in one key field at a time and
// checks that every key is distinct, and that routes differing only in
// non-key fields share a key.
func TestRouteKeyUnique(t *testing.T) {
	rds := []RD{mustRD(t, "10.0.0.1:2"), mustRD(t, "10.0.0.2:2"), mustRD(t, "10.0.0.1:3"), mustRD(t, "65000:2"), mustRD(t, "0.65000:2")}
	esis := []ESI{mustESI(t, "03:44:38:39:ff:ff:01:00:00:01"), mustESI(t, "03:44:38:39:ff:ff:01:00:00:02"), mustESI(t, "00:44:38:39:ff:ff:01:00:00:01")}
	tags := []uint32{0, 100, MaxET}
	macs := []MAC{mustMAC(t, "00:02:00:00:00:01"), mustMAC(t, "00:02:00:00:00:02")}
	ips := []netip.Addr{{}, mustAddr(t, "10.1.1.1"), mustAddr(t, "10.1.1.2"), mustAddr(t, "2001:db8::1"), mustAddr(t, "::ffff:10.1.1.1")}
	prefixes := []netip.Prefix{mustPrefix(t, "10.1.1.0/24"), mustPrefix(t, "10.1.1.0/25"), mustPrefix(t, "10.1.2.0/24"), mustPrefix(t, "2001:db8::/64"), mustPrefix(t, "0.0.0.0/0"), mustPrefix(t, "::/0")}

	var routes []Route
	for _, rd := range rds {
		for _, esi := range esis {
			for _, tag := range tags {
				routes = append(routes, EADRoute{RD: rd, ESI: esi, EthernetTag: tag})
			}
			for _, ip := range ips {
				routes = append(routes, ESRoute{RD: rd, ESI: esi, OriginatorIP: ip})
			}
		}
		for _, tag := range tags {
			for _, mac := range macs {
				for _, ip := range ips {
					routes = append(routes, MACIPRoute{RD: rd, EthernetTag: tag, MAC: mac, IP: ip})
				}
			}
			for _, ip := range ips {
				routes = append(routes, IMETRoute{RD: rd, EthernetTag: tag, OriginatorIP: ip})
			}
			for _, p := range prefixes {
				routes = append(routes, IPPrefixRoute{RD: rd, EthernetTag: tag, Prefix: p})
			}
		}
	}
	seen := make(map[RouteKey]Route, len(routes))
	strs := make(map[string]Route, len(routes))
	for _, r := range routes {
		k := r.Key()
		if k != r.Key() {
			t.Fatalf("%s: key not stable", r)
		}
		if prev, ok := seen[k]; ok {
			t.Errorf("key collision: %s and %s", prev, r)
		}
		seen[k] = r
		if prev, ok := strs[k.String()]; ok {
			t.Errorf("key string collision %q: %s and %s", k.String(), prev, r)
		}
		strs[k.String()] = r
	}
	if len(seen) != len(routes) {
		t.Errorf("%d keys for %d routes", len(seen), len(routes))
	}
}

// TestRouteKeyAttributes checks that the NLRI fields the RFCs call route
// attributes do not change the key.
func TestRouteKeyAttributes(t *testing.T) {
	esi1, esi2 := mustESI(t, "03:44:38:39:ff:ff:01:00:00:01"), mustESI(t, "03:44:38:39:ff:ff:01:00:00:02")
	rd := mustRD(t, "10.0.0.1:2")
	mac := mustMAC(t, "00:02:00:00:00:01")
	pairs := []struct{ a, b Route }{
		{EADRoute{RD: rd, ESI: esi1, Label: 1}, EADRoute{RD: rd, ESI: esi1, Label: 2}},
		{MACIPRoute{RD: rd, ESI: esi1, MAC: mac, Label1: 1, Label2: 3}, MACIPRoute{RD: rd, ESI: esi2, MAC: mac, Label1: 2}},
		{IPPrefixRoute{RD: rd, ESI: esi1, Prefix: mustPrefix(t, "10.1.1.0/24"), GatewayIP: mustAddr(t, "10.0.0.9"), Label: 1},
			IPPrefixRoute{RD: rd, Prefix: mustPrefix(t, "10.1.1.0/24"), Label: 2}},
		// An unmasked prefix has the key of its masked form.
		{IPPrefixRoute{RD: rd, Prefix: mustPrefix(t, "10.1.1.7/24")}, IPPrefixRoute{RD: rd, Prefix: mustPrefix(t, "10.1.1.0/24")}},
	}
	for _, p := range pairs {
		if p.a.Key() != p.b.Key() {
			t.Errorf("keys differ: %s vs %s", p.a.Key(), p.b.Key())
		}
	}
	// The same fields under different route types never share a key.
	ead := EADRoute{RD: rd, ESI: esi1}
	es := ESRoute{RD: rd, ESI: esi1}
	if ead.Key() == es.Key() {
		t.Error("EAD and ES keys collide")
	}
	// Pointers are routes too, with the same key.
	if (&ead).Key() != ead.Key() {
		t.Error("pointer key differs")
	}
}

func TestEADPerES(t *testing.T) {
	if !(EADRoute{EthernetTag: MaxET}).PerES() || (EADRoute{EthernetTag: 0}).PerES() {
		t.Error("PerES wrong")
	}
}

func TestRouteValidate(t *testing.T) {
	rd := mustRD(t, "10.0.0.1:2")
	esi := mustESI(t, "03:44:38:39:ff:ff:01:00:00:01")
	mac := mustMAC(t, "00:02:00:00:00:01")
	badRD := RD{0, 7}
	v4 := mustAddr(t, "10.0.0.1")
	tests := []struct {
		r     Route
		err   error
		field string
	}{
		{EADRoute{RD: badRD, ESI: esi}, ErrInvalid, "RD has unknown type 7"},
		{EADRoute{RD: rd}, ErrInvalid, "ESI must not be zero"},
		{EADRoute{RD: rd, ESI: MaxESI}, ErrInvalid, "ESI must not be the reserved MAX-ESI"},
		{EADRoute{RD: rd, ESI: esi, Label: MaxLabel + 1}, ErrRange, "Label 16777216 is wider than 24 bits"},
		{MACIPRoute{RD: rd}, ErrInvalid, "MAC must not be zero"},
		{MACIPRoute{RD: badRD, MAC: mac}, ErrInvalid, "RD has unknown type"},
		{MACIPRoute{RD: rd, MAC: mac, ESI: MaxESI}, ErrInvalid, "ESI must not be the reserved MAX-ESI"},
		{MACIPRoute{RD: rd, MAC: mac, EthernetTag: MaxET}, ErrInvalid, "EthernetTag must not be MAX-ET"},
		{MACIPRoute{RD: rd, MAC: mac, IP: mustAddr(t, "fe80::1%eth0")}, ErrInvalid, "IP fe80::1%eth0 has a zone"},
		{MACIPRoute{RD: rd, MAC: mac, IP: mustAddr(t, "0.0.0.0")}, ErrInvalid, "IP 0.0.0.0 is unspecified"},
		{MACIPRoute{RD: rd, MAC: mac, Label2: 4000}, ErrInvalid, "Label2 4000 (L3 VNI) needs an IP"},
		{MACIPRoute{RD: rd, MAC: mac, Label1: 1 << 24}, ErrRange, "Label1 16777216"},
		{MACIPRoute{RD: rd, MAC: mac, IP: v4, Label2: 1 << 24}, ErrRange, "Label2 16777216"},
		{IMETRoute{RD: rd}, ErrInvalid, "OriginatorIP is not set"},
		{IMETRoute{RD: rd, OriginatorIP: mustAddr(t, "::")}, ErrInvalid, "OriginatorIP :: is unspecified"},
		{IMETRoute{RD: rd, OriginatorIP: v4, EthernetTag: MaxET}, ErrInvalid, "EthernetTag must not be MAX-ET"},
		{IMETRoute{RD: badRD, OriginatorIP: v4}, ErrInvalid, "RD has unknown type"},
		{ESRoute{RD: rd, OriginatorIP: v4}, ErrInvalid, "ESI must not be zero"},
		{ESRoute{RD: rd, ESI: esi}, ErrInvalid, "OriginatorIP is not set"},
		{ESRoute{RD: badRD, ESI: esi, OriginatorIP: v4}, ErrInvalid, "RD has unknown type"},
		{IPPrefixRoute{RD: rd}, ErrInvalid, "Prefix is not set"},
		{IPPrefixRoute{RD: rd, Prefix: mustPrefix(t, "10.1.1.7/24")}, ErrInvalid, "Prefix 10.1.1.7/24 has bits set beyond its length (want 10.1.1.0/24)"},
		{IPPrefixRoute{RD: rd, Prefix: mustPrefix(t, "10.1.1.0/24"), GatewayIP: mustAddr(t, "2001:db8::1")}, ErrInvalid, "GatewayIP 2001:db8::1 is not of the family of prefix 10.1.1.0/24"},
		{IPPrefixRoute{RD: rd, Prefix: mustPrefix(t, "2001:db8::/64"), GatewayIP: mustAddr(t, "fe80::1%eth0")}, ErrInvalid, "GatewayIP fe80::1%eth0 has a zone"},
		{IPPrefixRoute{RD: rd, Prefix: mustPrefix(t, "10.1.1.0/24"), EthernetTag: MaxET}, ErrInvalid, "EthernetTag must not be MAX-ET"},
		{IPPrefixRoute{RD: rd, Prefix: mustPrefix(t, "10.1.1.0/24"), ESI: MaxESI}, ErrInvalid, "ESI must not be the reserved MAX-ESI"},
		{IPPrefixRoute{RD: rd, Prefix: mustPrefix(t, "10.1.1.0/24"), Label: 1 << 30}, ErrRange, "Label 1073741824"},
		{IPPrefixRoute{RD: badRD, Prefix: mustPrefix(t, "10.1.1.0/24")}, ErrInvalid, "RD has unknown type"},
	}
	for _, tt := range tests {
		err := ValidateRoute(tt.r)
		checkErr(t, err, tt.err, tt.r.Type().String()+" route", tt.field)
	}
	// Valid edge cases.
	for _, r := range []Route{
		EADRoute{RD: RD{}, ESI: esi, EthernetTag: MaxET, Label: MaxLabel},
		MACIPRoute{RD: rd, MAC: mac, IP: mustAddr(t, "2001:db8::1"), Label1: MaxLabel, Label2: MaxLabel},
		IPPrefixRoute{RD: rd, Prefix: mustPrefix(t, "0.0.0.0/0"), GatewayIP: mustAddr(t, "0.0.0.0")},
		IPPrefixRoute{RD: rd, Prefix: mustPrefix(t, "2001:db8::/64"), GatewayIP: mustAddr(t, "2001:db8::1")},
		IMETRoute{RD: rd, OriginatorIP: mustAddr(t, "2001:db8::1")},
		&ESRoute{RD: rd, ESI: esi, OriginatorIP: v4},
	} {
		if err := ValidateRoute(r); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
}

type fakeRoute struct{}

func (fakeRoute) Type() RouteType { return RouteTypeEAD }
func (fakeRoute) Key() RouteKey   { return RouteKey{} }
func (fakeRoute) String() string  { return "fake" }

func TestValidateRouteOdd(t *testing.T) {
	checkErr(t, ValidateRoute(nil), ErrInvalid, "route: missing")
	for _, r := range []Route{(*EADRoute)(nil), (*MACIPRoute)(nil), (*IMETRoute)(nil), (*ESRoute)(nil), (*IPPrefixRoute)(nil)} {
		checkErr(t, ValidateRoute(r), ErrInvalid, "missing")
	}
	checkErr(t, ValidateRoute(fakeRoute{}), ErrInvalid, "unknown route implementation")
}

func TestRouteTypeNames(t *testing.T) {
	names := map[RouteType]string{1: "ead", 2: "macip", 3: "multicast", 4: "es", 5: "prefix", 0: "type 0", 6: "type 6"}
	for typ, want := range names {
		if got := typ.String(); got != want {
			t.Errorf("RouteType(%d) = %q, want %q", typ, got, want)
		}
	}
	parse := map[string]RouteType{
		"1": 1, "ead": 1, "A-D": 1, "2": 2, "macip": 2, "MACADV": 2, "mac-ip": 2,
		"3": 3, "multicast": 3, "imet": 3, "4": 4, "es": 4, "esi": 4, "5": 5, "prefix": 5, "ip-prefix": 5,
	}
	for in, want := range parse {
		got, err := ParseRouteType(in)
		if err != nil || got != want {
			t.Errorf("ParseRouteType(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "6", "route"} {
		_, err := ParseRouteType(in)
		checkErr(t, err, ErrSyntax, "route type", in, "ead, macip")
	}
	b, err := json.Marshal([]RouteType{1, 5})
	if err != nil || string(b) != `["ead","prefix"]` {
		t.Errorf("json = %s, %v", b, err)
	}
	var back []RouteType
	if err := json.Unmarshal(b, &back); err != nil || len(back) != 2 || back[0] != 1 || back[1] != 5 {
		t.Errorf("unmarshal = %v, %v", back, err)
	}
	if _, err := RouteType(9).MarshalText(); err == nil {
		t.Error("type 9 marshalled")
	}
	if err := json.Unmarshal([]byte(`["x"]`), &back); err == nil {
		t.Error("bad type unmarshalled")
	}
}
