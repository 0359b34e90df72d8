package evpn

import (
	"encoding/json"
	"net"
	"testing"
)

func TestParseMAC(t *testing.T) {
	want := MAC{0x44, 0x38, 0x39, 0xff, 0xff, 0x01}
	for _, in := range []string{"44:38:39:ff:ff:01", "44:38:39:FF:FF:01", "44-38-39-ff-ff-01", "4438.39ff.ff01"} {
		got, err := ParseMAC(in)
		if err != nil {
			t.Errorf("ParseMAC(%q): %v", in, err)
			continue
		}
		if got != want {
			t.Errorf("ParseMAC(%q) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{"", "44:38:39:ff:ff", "44:38:39:ff:ff:01:02", "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01", "gg:38:39:ff:ff:01", "4438:39ff:ff01"} {
		_, err := ParseMAC(in)
		checkErr(t, err, ErrSyntax, "mac", in, "44:38:39:ff:ff:01")
	}
}

func TestMACString(t *testing.T) {
	m := MAC{0x00, 0x0a, 0xb0, 0xff, 0x10, 0x01}
	if got, want := m.String(), "00:0a:b0:ff:10:01"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := m.String(), net.HardwareAddr(m[:]).String(); got != want {
		t.Errorf("String() = %q, net.HardwareAddr says %q", got, want)
	}
	if !(MAC{}).IsZero() || m.IsZero() {
		t.Error("IsZero wrong")
	}
	if !(MAC{0x01, 0, 0x5e, 0, 0, 1}).IsMulticast() || m.IsMulticast() {
		t.Error("IsMulticast wrong")
	}
}

func TestMACText(t *testing.T) {
	in := struct{ M MAC }{MAC{0x44, 0x38, 0x39, 0xff, 0xff, 0x01}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"M":"44:38:39:ff:ff:01"}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	var out struct{ M MAC }
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("round trip = %v, %v; want %v", out, err, in)
	}
	if err := json.Unmarshal([]byte(`{"M":"nope"}`), &out); err == nil {
		t.Error("bad MAC unmarshalled")
	}
}
