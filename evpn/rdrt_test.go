package evpn

import (
	"encoding/json"
	"net/netip"
	"testing"
)

func TestParseRD(t *testing.T) {
	tests := []struct {
		in     string
		typ    AdminType
		asn    uint32
		ip     string
		num    uint32
		wire   [8]byte
		format string // String() when it differs from in
	}{
		{in: "65000:100", typ: AdminAS2, asn: 65000, num: 100,
			wire: [8]byte{0, 0, 0xfd, 0xe8, 0, 0, 0, 100}},
		{in: "0:0", typ: AdminAS2},
		{in: "65535:4294967295", typ: AdminAS2, asn: 65535, num: 4294967295,
			wire: [8]byte{0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{in: "10.0.0.1:2", typ: AdminIPv4, ip: "10.0.0.1", num: 2,
			wire: [8]byte{0, 1, 10, 0, 0, 1, 0, 2}},
		{in: "255.255.255.255:65535", typ: AdminIPv4, ip: "255.255.255.255", num: 65535,
			wire: [8]byte{0, 1, 255, 255, 255, 255, 0xff, 0xff}},
		{in: "4200000000:100", typ: AdminAS4, asn: 4200000000, num: 100,
			wire: [8]byte{0, 2, 0xfa, 0x56, 0xea, 0, 0, 100}},
		{in: "65536:1", typ: AdminAS4, asn: 65536, num: 1,
			wire: [8]byte{0, 2, 0, 1, 0, 0, 0, 1}},
		{in: "1.0:1", typ: AdminAS4, asn: 65536, num: 1, format: "65536:1"},
		{in: "0.100:5", typ: AdminAS4, asn: 100, num: 5,
			wire: [8]byte{0, 2, 0, 0, 0, 100, 0, 5}},
		{in: "65535.65535:65535", typ: AdminAS4, asn: 4294967295, num: 65535, format: "4294967295:65535"},
		{in: "065000:0100", typ: AdminAS2, asn: 65000, num: 100, format: "65000:100"},
	}
	for _, tt := range tests {
		rd, err := ParseRD(tt.in)
		if err != nil {
			t.Errorf("ParseRD(%q): %v", tt.in, err)
			continue
		}
		if rd.Type() != tt.typ || !rd.Valid() {
			t.Errorf("ParseRD(%q).Type() = %v, want %v", tt.in, rd.Type(), tt.typ)
		}
		if asn, ok := rd.ASN(); ok != (tt.typ != AdminIPv4) || asn != tt.asn {
			t.Errorf("ParseRD(%q).ASN() = %d, %v; want %d", tt.in, asn, ok, tt.asn)
		}
		ip, ok := rd.IP()
		if ok != (tt.typ == AdminIPv4) || (ok && ip.String() != tt.ip) {
			t.Errorf("ParseRD(%q).IP() = %v, %v; want %s", tt.in, ip, ok, tt.ip)
		}
		if rd.Assigned() != tt.num {
			t.Errorf("ParseRD(%q).Assigned() = %d, want %d", tt.in, rd.Assigned(), tt.num)
		}
		if tt.wire != ([8]byte{}) && [8]byte(rd) != tt.wire {
			t.Errorf("ParseRD(%q) = % x, want % x", tt.in, rd[:], tt.wire[:])
		}
		want := tt.in
		if tt.format != "" {
			want = tt.format
		}
		if got := rd.String(); got != want {
			t.Errorf("ParseRD(%q).String() = %q, want %q", tt.in, got, want)
		}
		if back, err := ParseRD(rd.String()); err != nil || back != rd {
			t.Errorf("ParseRD(%q) round trip = %v, %v", tt.in, back, err)
		}
	}
}

func TestParseRDErrors(t *testing.T) {
	tests := []struct {
		in, why string
		err     error
	}{
		{"", `no ":"`, ErrSyntax},
		{"65000", `no ":"`, ErrSyntax},
		{"65000:", "empty field", ErrSyntax},
		{":100", "empty field", ErrSyntax},
		{"2001:db8::1:100", "IPv6", ErrSyntax},
		{"a:b:c", "more than one", ErrSyntax},
		{"65000:x", `number "x" is not decimal`, ErrSyntax},
		{"65000:-1", `number "-1" is not decimal`, ErrSyntax},
		{"65000:+1", `number "+1" is not decimal`, ErrSyntax},
		{"65000:4294967296", "larger than 4294967295", ErrRange},
		{"4294967296:1", "ASN 4294967296 is larger than 4294967295", ErrRange},
		{"+65000:1", "is not an ASN or IPv4 address", ErrSyntax},
		{"as65000:1", "is not an ASN or IPv4 address", ErrSyntax},
		{"10.0.0:1", "is not an ASN or IPv4 address", ErrSyntax},
		{"10.0.0.256:1", "is not an IPv4 address", ErrSyntax},
		{"010.0.0.1:1", "is not an IPv4 address", ErrSyntax},
		{"10.0.0.1:65536", "larger than 65535", ErrRange},
		{"70000:65536", "larger than 65535", ErrRange},
		{"0.100:65536", "larger than 65535", ErrRange},
		{"65536.1:1", "not an asdot ASN", ErrSyntax},
		{"1.:1", "not an asdot ASN", ErrSyntax},
		{".1:1", "not an asdot ASN", ErrSyntax},
		{" 65000:1", "is not an ASN", ErrSyntax},
		{"65000:1 ", "not decimal", ErrSyntax},
	}
	for _, tt := range tests {
		_, err := ParseRD(tt.in)
		checkErr(t, err, tt.err, "rd", `"`+tt.in+`"`, tt.why, "ASN:nn", "IPv4:nn", "65000:100")
		_, err = ParseRT(tt.in)
		checkErr(t, err, tt.err, "rt", `"`+tt.in+`"`, tt.why, "ASN:nn")
	}
}

func TestRDConstructors(t *testing.T) {
	if got, want := RDAS2(65000, 100), mustRD(t, "65000:100"); got != want {
		t.Errorf("RDAS2 = %v, want %v", got, want)
	}
	if got, want := RDAS4(4200000000, 7), mustRD(t, "4200000000:7"); got != want {
		t.Errorf("RDAS4 = %v, want %v", got, want)
	}
	small := RDAS4(100, 5)
	if small.Type() != AdminAS4 || small.String() != "0.100:5" || small == RDAS2(100, 5) {
		t.Errorf("RDAS4(100, 5) = %v type %v", small, small.Type())
	}
	rd, err := RDIPv4(netip.MustParseAddr("10.0.0.1"), 3)
	if err != nil || rd != mustRD(t, "10.0.0.1:3") {
		t.Errorf("RDIPv4 = %v, %v", rd, err)
	}
	_, err = RDIPv4(netip.MustParseAddr("2001:db8::1"), 3)
	checkErr(t, err, ErrInvalid, "rd", "2001:db8::1", "IPv4")
	_, err = RDIPv4(netip.Addr{}, 3)
	checkErr(t, err, ErrInvalid, "IPv4")
}

func TestRDUnknownType(t *testing.T) {
	rd := RD{0, 3, 1, 2, 3, 4, 5, 6}
	if rd.Valid() {
		t.Error("type 3 RD is valid")
	}
	if got, want := rd.String(), "type 3:010203040506"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if _, err := ParseRD(rd.String()); err == nil {
		t.Error("unknown-type RD parsed")
	}
	if _, ok := rd.ASN(); ok {
		t.Error("ASN ok")
	}
	if _, ok := rd.IP(); ok {
		t.Error("IP ok")
	}
	if rd.Assigned() != 0 {
		t.Error("Assigned != 0")
	}
	if _, err := rd.MarshalText(); err == nil {
		t.Error("MarshalText of an unknown type succeeded")
	}
	if (RD{1, 0}).Type() != 0xff {
		t.Error("type 256 does not read as 255")
	}
}

func TestParseRT(t *testing.T) {
	tests := []struct {
		in   string
		typ  AdminType
		wire [8]byte
		str  string
	}{
		{"65000:100", AdminAS2, [8]byte{0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100}, "65000:100"},
		{"RT:65000:100", AdminAS2, [8]byte{0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100}, "65000:100"},
		{"rt:65000:100", AdminAS2, [8]byte{0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100}, "65000:100"},
		{"10.0.0.1:5", AdminIPv4, [8]byte{0x01, 0x02, 10, 0, 0, 1, 0, 5}, "10.0.0.1:5"},
		{"4200000000:5", AdminAS4, [8]byte{0x02, 0x02, 0xfa, 0x56, 0xea, 0, 0, 5}, "4200000000:5"},
		{"0.65000:5", AdminAS4, [8]byte{0x02, 0x02, 0, 0, 0xfd, 0xe8, 0, 5}, "0.65000:5"},
	}
	for _, tt := range tests {
		rt, err := ParseRT(tt.in)
		if err != nil {
			t.Errorf("ParseRT(%q): %v", tt.in, err)
			continue
		}
		if [8]byte(rt) != tt.wire || rt.Type() != tt.typ || !rt.Valid() {
			t.Errorf("ParseRT(%q) = % x type %v, want % x", tt.in, rt[:], rt.Type(), tt.wire[:])
		}
		if rt.String() != tt.str {
			t.Errorf("ParseRT(%q).String() = %q, want %q", tt.in, rt.String(), tt.str)
		}
		if back, err := ParseRT(rt.String()); err != nil || back != rt {
			t.Errorf("round trip %q = %v, %v", tt.in, back, err)
		}
	}
	_, err := ParseRT("RT:65000")
	checkErr(t, err, ErrSyntax, `rt "RT:65000"`, `no ":"`)
	_, err = ParseRT("RT:")
	checkErr(t, err, ErrSyntax, `rt "RT:"`)
}

func TestRTAccessors(t *testing.T) {
	rt := RTAS2(65000, 100)
	if asn, ok := rt.ASN(); !ok || asn != 65000 || rt.Assigned() != 100 {
		t.Errorf("RTAS2: %v %v %v", asn, ok, rt.Assigned())
	}
	if _, ok := rt.IP(); ok {
		t.Error("IP of an AS route target")
	}
	rt4 := RTAS4(4200000000, 9)
	if asn, ok := rt4.ASN(); !ok || asn != 4200000000 || rt4.Assigned() != 9 || rt4.Type() != AdminAS4 {
		t.Errorf("RTAS4: %v", rt4)
	}
	rtip, err := RTIPv4(netip.MustParseAddr("192.0.2.1"), 7)
	if err != nil {
		t.Fatal(err)
	}
	if ip, ok := rtip.IP(); !ok || ip != netip.MustParseAddr("192.0.2.1") || rtip.Assigned() != 7 {
		t.Errorf("RTIPv4: %v", rtip)
	}
	if _, ok := rtip.ASN(); ok {
		t.Error("ASN of an IPv4 route target")
	}
	_, err = RTIPv4(netip.MustParseAddr("::1"), 7)
	checkErr(t, err, ErrInvalid, "rt", "IPv4")

	for _, bad := range []RT{{}, {0x00, 0x03}, {0x06, 0x02, 0x44, 0x38, 0x39, 0xff, 0xff, 0x01}, {0x03, 0x02}} {
		if bad.Valid() {
			t.Errorf("% x is a valid route target", bad[:])
		}
		if _, ok := bad.ASN(); ok {
			t.Errorf("% x has an ASN", bad[:])
		}
		if _, ok := bad.IP(); ok {
			t.Errorf("% x has an IP", bad[:])
		}
		if bad.Assigned() != 0 {
			t.Errorf("% x has a number", bad[:])
		}
		if _, err := ParseRT(bad.String()); err == nil {
			t.Errorf("%s parsed", bad)
		}
		if _, err := bad.MarshalText(); err == nil {
			t.Errorf("%s marshalled", bad)
		}
	}
	if got, want := (RT{}).String(), "extcomm:0000000000000000"; got != want {
		t.Errorf("zero RT = %q, want %q", got, want)
	}
}

// TestAutoRT checks FRR's form_auto_rt: low 16 bits of the AS, the VNI, and
// the RFC 8365 type bit on request.
func TestAutoRT(t *testing.T) {
	tests := []struct {
		asn, vni uint32
		rfc8365  bool
		want     string
	}{
		{65000, 10100, false, "65000:10100"},
		{65000, 10100, true, "65000:268445556"}, // 0x10000000 | 10100
		{4200000000, 100, false, "59904:100"},   // 4200000000 & 0xffff
		{65000, MaxLabel, false, "65000:16777215"},
	}
	for _, tt := range tests {
		rt, err := AutoRT(tt.asn, tt.vni, tt.rfc8365)
		if err != nil {
			t.Errorf("AutoRT(%d, %d, %v): %v", tt.asn, tt.vni, tt.rfc8365, err)
			continue
		}
		if rt.String() != tt.want || rt.Type() != AdminAS2 {
			t.Errorf("AutoRT(%d, %d, %v) = %s, want %s", tt.asn, tt.vni, tt.rfc8365, rt, tt.want)
		}
		if rt != mustRT(t, tt.want) {
			t.Errorf("AutoRT(%d, %d) != ParseRT(%q)", tt.asn, tt.vni, tt.want)
		}
	}
	_, err := AutoRT(65000, MaxLabel+1, false)
	checkErr(t, err, ErrRange, "vni 16777216", "16777215")
}

func TestRDRTText(t *testing.T) {
	type doc struct {
		RD  RD   `json:"rd"`
		RTs []RT `json:"rts"`
	}
	in := doc{mustRD(t, "10.0.0.1:2"), []RT{mustRT(t, "65000:100"), mustRT(t, "0.1:2")}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"rd":"10.0.0.1:2","rts":["65000:100","0.1:2"]}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil || out.RD != in.RD || len(out.RTs) != 2 || out.RTs[0] != in.RTs[0] || out.RTs[1] != in.RTs[1] {
		t.Errorf("round trip = %v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"rd":"x"}`), &out); err == nil {
		t.Error("bad rd unmarshalled")
	}
	if err := json.Unmarshal([]byte(`{"rts":["x"]}`), &out); err == nil {
		t.Error("bad rt unmarshalled")
	}
}

func TestAdminTypeString(t *testing.T) {
	for typ, want := range map[AdminType]string{AdminAS2: "as2", AdminIPv4: "ipv4", AdminAS4: "as4", 9: "type 9"} {
		if got := typ.String(); got != want {
			t.Errorf("AdminType(%d) = %q, want %q", typ, got, want)
		}
	}
}
