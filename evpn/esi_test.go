package evpn

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseESI(t *testing.T) {
	frr := ESI{0x03, 0x44, 0x38, 0x39, 0xff, 0xff, 0x01, 0x00, 0x00, 0x01}
	good := []struct {
		in   string
		want ESI
	}{
		{"03:44:38:39:ff:ff:01:00:00:01", frr},
		{"03:44:38:39:FF:FF:01:00:00:01", frr},
		{"3:44:38:39:ff:ff:1:0:0:1", frr}, // FRR's sscanf("%2x:...") takes one digit
		{"03443839ffff01000001", frr},
		{"03443839FFFF01000001", frr},
		{"00:00:00:00:00:00:00:00:00:00", ESI{}},
		{"ff:ff:ff:ff:ff:ff:ff:ff:ff:ff", MaxESI},
		{"00:11:22:33:44:55:66:77:88:99", ESI{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99}},
	}
	for _, tt := range good {
		got, err := ParseESI(tt.in)
		if err != nil {
			t.Errorf("ParseESI(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseESI(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	bad := []struct {
		in, why string
	}{
		{"", "0 characters"},
		{"03:44:38:39:ff:ff:01:00:00", "9 bytes"},
		{"03:44:38:39:ff:ff:01:00:00:01:02", "11 bytes"},
		{"03:44:38:39:ff:ff:01:00:00:", "byte 10"},
		{"03:44:38:39:ff:ff:01:00::01", "byte 9"},
		{"03:44:38:39:ff:ff:01:00:00:001", "byte 10 \"001\""},
		{"03:44:38:39:ff:ff:01:00:00:zz", "not hex"},
		{"03:44:38:39:ff:ff:01:00:00:+1", "not hex"},
		{"03443839ffff0100000", "19 characters"},
		{"03443839ffff01000001ff", "22 characters"},
		{"03443839ffff0100000g", "not hex"},
		{"03-44-38-39-ff-ff-01-00-00-01", "29 characters"},
		{"single-homed", "12 characters"},
	}
	for _, tt := range bad {
		_, err := ParseESI(tt.in)
		checkErr(t, err, ErrSyntax, "esi", tt.in, tt.why, "03:44:38:39:ff:ff:01:00:00:01")
	}
}

func TestESIString(t *testing.T) {
	for _, s := range []string{
		"03:44:38:39:ff:ff:01:00:00:01",
		"00:00:00:00:00:00:00:00:00:00",
		"ff:ff:ff:ff:ff:ff:ff:ff:ff:ff",
		"01:0a:0b:0c:0d:0e:0f:10:a0:fe",
	} {
		e := mustESI(t, s)
		if got := e.String(); got != s {
			t.Errorf("String() = %q, want %q", got, s)
		}
	}
}

// TestESIFromSysMAC checks FRR's example from ANCHORS.md and the es-id range.
func TestESIFromSysMAC(t *testing.T) {
	mac := mustMAC(t, "44:38:39:ff:ff:01")
	tests := []struct {
		esID uint32
		want string
	}{
		{1, "03:44:38:39:ff:ff:01:00:00:01"},
		{2, "03:44:38:39:ff:ff:01:00:00:02"},
		{0x0102, "03:44:38:39:ff:ff:01:00:01:02"},
		{0x010203, "03:44:38:39:ff:ff:01:01:02:03"},
		{MaxESID, "03:44:38:39:ff:ff:01:ff:ff:ff"},
	}
	for _, tt := range tests {
		e, err := ESIFromSysMAC(mac, tt.esID)
		if err != nil {
			t.Errorf("ESIFromSysMAC(%v, %d): %v", mac, tt.esID, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("ESIFromSysMAC(%v, %d) = %s, want %s", mac, tt.esID, got, tt.want)
		}
		m, id, ok := e.SysMAC()
		if !ok || m != mac || id != tt.esID {
			t.Errorf("%s.SysMAC() = %v, %d, %v; want %v, %d, true", e, m, id, ok, mac, tt.esID)
		}
		if e.Type() != ESITypeMAC {
			t.Errorf("%s.Type() = %v", e, e.Type())
		}
	}
	// A [6]byte converts without ceremony.
	if _, err := ESIFromSysMAC([6]byte{0x44, 0x38, 0x39, 0xff, 0xff, 0x01}, 1); err != nil {
		t.Error(err)
	}
	for _, id := range []uint32{0, MaxESID + 1, 1 << 31, ^uint32(0)} {
		_, err := ESIFromSysMAC(mac, id)
		checkErr(t, err, ErrRange, "es-id", "1-16777215")
	}
	_, err := ESIFromSysMAC(MAC{}, 1)
	checkErr(t, err, ErrInvalid, "es-sys-mac", "zero")
}

func TestESIArbitrary(t *testing.T) {
	e := ESIArbitrary([9]byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	if got, want := e.String(), "00:01:02:03:04:05:06:07:08:09"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if e.Type() != ESITypeArbitrary || e.IsZero() || e.IsMax() {
		t.Errorf("Type/IsZero/IsMax wrong for %s", e)
	}
	if e.Value() != [9]byte{1, 2, 3, 4, 5, 6, 7, 8, 9} {
		t.Errorf("Value() = %v", e.Value())
	}
	if _, _, ok := e.SysMAC(); ok {
		t.Error("SysMAC of a type-0 ESI is ok")
	}
}

func TestESIPredicates(t *testing.T) {
	if !(ESI{}).IsZero() || (ESI{}).IsMax() {
		t.Error("zero ESI")
	}
	if !MaxESI.IsMax() || MaxESI.IsZero() {
		t.Error("MAX-ESI")
	}
	if got := MaxESI.Type(); got != 0xff || got.String() != "type 255" {
		t.Errorf("MaxESI.Type() = %v", got)
	}
	names := map[ESIType]string{0: "arbitrary", 1: "lacp", 2: "bridge", 3: "mac", 4: "router-id", 5: "as", 6: "type 6"}
	for typ, want := range names {
		if got := typ.String(); got != want {
			t.Errorf("ESIType(%d).String() = %q, want %q", typ, got, want)
		}
	}
}

// TestESIImportRT checks RFC 7432 section 7.6: octets 1-6 of the ESI for
// types 1, 2, 3, nothing for the others.
func TestESIImportRT(t *testing.T) {
	tests := []struct {
		esi  string
		want string
		ok   bool
	}{
		{"01:aa:bb:cc:dd:ee:ff:12:34:00", "aa:bb:cc:dd:ee:ff", true}, // LACP: CE system MAC, port key
		{"02:aa:bb:cc:dd:ee:ff:80:00:00", "aa:bb:cc:dd:ee:ff", true}, // bridge: root MAC, priority
		{"03:44:38:39:ff:ff:01:00:00:01", "44:38:39:ff:ff:01", true}, // MAC: FRR's es-sys-mac
		{"00:44:38:39:ff:ff:01:00:00:01", "", false},
		{"04:0a:00:00:01:00:00:00:01:00", "", false},
		{"05:00:00:fd:e8:00:00:00:01:00", "", false},
		{"00:00:00:00:00:00:00:00:00:00", "", false},
	}
	for _, tt := range tests {
		mac, ok := mustESI(t, tt.esi).ImportRT()
		if ok != tt.ok {
			t.Errorf("%s.ImportRT() ok = %v, want %v", tt.esi, ok, tt.ok)
			continue
		}
		if ok && mac.String() != tt.want {
			t.Errorf("%s.ImportRT() = %s, want %s", tt.esi, mac, tt.want)
		}
		if !ok && !mac.IsZero() {
			t.Errorf("%s.ImportRT() = %s with ok false", tt.esi, mac)
		}
	}
	// The result assigns to a plain [6]byte.
	var raw [6]byte
	raw, _ = mustESI(t, "03:44:38:39:ff:ff:01:00:00:01").ImportRT()
	if raw != [6]byte{0x44, 0x38, 0x39, 0xff, 0xff, 0x01} {
		t.Errorf("raw = %x", raw)
	}
}

func TestESIText(t *testing.T) {
	type doc struct {
		ESI ESI `json:"esi"`
	}
	in := doc{mustESI(t, "03:44:38:39:ff:ff:01:00:00:01")}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"esi":"03:44:38:39:ff:ff:01:00:00:01"}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("round trip = %v, %v", out, err)
	}
	err = json.Unmarshal([]byte(`{"esi":"03:44"}`), &out)
	if err == nil || !strings.Contains(err.Error(), `"03:44"`) {
		t.Errorf("bad ESI: %v", err)
	}
}
