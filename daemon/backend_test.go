package daemon

import (
	"slices"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/api"
	"github.com/fwdplane/fwd/evpn"
)

func TestPathOf(t *testing.T) {
	d := &Daemon{}
	p, err := d.pathOf(api.Route{Type: 2, MAC: "02:00:00:00:00:01", IP: "10.0.0.1", VNI: 100, NextHop: "192.0.2.2", Seq: 3, Sticky: true, EthernetTag: 7})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Route.(evpn.MACIPRoute)
	if r.Label1 != 100 || r.EthernetTag != 7 || r.IP.String() != "10.0.0.1" || p.Attrs.MACMobility.Seq != 3 || !p.Attrs.MACMobility.Sticky || p.Source != evpn.SourceAPI {
		t.Errorf("type 2: %+v %+v", r, p.Attrs)
	}
	if rt := routeOf(p); rt.MAC != "02:00:00:00:00:01" || rt.VNI != 100 || rt.NextHop != "192.0.2.2" || rt.Type != 2 {
		t.Errorf("round trip: %+v", rt)
	}
	p, err = d.pathOf(api.Route{Type: 3, VNI: 100, NextHop: "192.0.2.2"})
	if err != nil || p.Route.(evpn.IMETRoute).EthernetTag != 100 {
		t.Errorf("type 3: %+v %v", p, err)
	}
	p, err = d.pathOf(api.Route{Type: 4, ESI: "03:44:38:39:ff:ff:01:00:00:01", NextHop: "192.0.2.2"})
	if err != nil || p.Attrs.DFElection != (evpn.DFElection{Alg: evpn.DFAlgPreference, Pref: evpn.DefaultDFPref}) {
		t.Errorf("type 4 without a DF candidacy takes FRR's default: %+v %v", p.Attrs.DFElection, err)
	}
	p, err = d.pathOf(api.Route{Type: 5, IPPrefix: "10.1.0.0/16", IP: "10.1.0.1", VNI: 5000, NextHop: "192.0.2.2"})
	if err != nil || p.Route.(evpn.IPPrefixRoute).GatewayIP.String() != "10.1.0.1" {
		t.Errorf("type 5: %+v %v", p, err)
	}
	for _, c := range []struct {
		r    api.Route
		want string
	}{
		{api.Route{Type: 3, VNI: 100, NextHop: "192.0.2.2", MAC: "02:00:00:00:00:01"}, "mac (type 2 only)"},
		{api.Route{Type: 2, MAC: "02:00:00:00:00:01", VNI: 100, NextHop: "192.0.2.2", Prefix: "x"}, "prefix (output only)"},
		{api.Route{Type: 2, MAC: "02:00:00:00:00:01", VNI: 100, NextHop: "nope"}, `nexthop "nope"`},
		{api.Route{Type: 2, MAC: "zz", VNI: 100, NextHop: "192.0.2.2"}, "mac"},
		{api.Route{Type: 6, NextHop: "192.0.2.2"}, "type 6: want 1-5"},
		{api.Route{Type: 4, VNI: 1, NextHop: "192.0.2.2", ESI: "03:44:38:39:ff:ff:01:00:00:01"}, "vni/ethernet_tag"},
	} {
		if _, err := d.pathOf(c.r); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.r, err, c.want)
		}
	}
}

func TestGenerator(t *testing.T) {
	d := &Daemon{}
	tmpl, gen, err := d.generator(api.Generator{Count: 300, StartMAC: "02:aa:00:00:00:ff", VNI: 100, NextHop: "192.0.2.2"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Withdraw || tmpl.Route.(evpn.MACIPRoute).Label1 != 100 || tmpl.Attrs.NextHop.String() != "192.0.2.2" {
		t.Fatalf("template %+v", tmpl)
	}
	seen := map[evpn.MAC]bool{}
	for i := range 300 {
		m := gen(i)
		if seen[m] || m.IsZero() {
			t.Fatalf("route %d: %v repeats", i, m)
		}
		seen[m] = true
	}
	if m := gen(0); m.String() != "02:aa:00:00:00:ff" {
		t.Errorf("first MAC %s, want the start", m)
	}
	if m := gen(1); m.String() != "02:aa:00:00:01:00" {
		t.Errorf("second MAC %s: the count carries", m)
	}
	if w, _, _ := d.generator(api.Generator{Count: 1, StartMAC: "02:aa:00:00:00:00", VNI: 100, NextHop: "192.0.2.2"}, true); !w.Withdraw {
		t.Error("withdraw generator made an announcement")
	}
	for _, g := range []api.Generator{
		{Count: 0, StartMAC: "02:aa:00:00:00:00", VNI: 100, NextHop: "192.0.2.2"},
		{Count: 2, StartMAC: "ff:ff:ff:ff:ff:ff", VNI: 100, NextHop: "192.0.2.2"},
		{Count: 1, StartMAC: "02:aa:00:00:00:00", VNI: 0, NextHop: "192.0.2.2"},
	} {
		if _, _, err := d.generator(g, false); err == nil {
			t.Errorf("%+v accepted", g)
		}
	}
}

func TestTraceFrame(t *testing.T) {
	f, err := traceFrame(api.TraceRequest{DstMAC: "02:00:00:00:00:02", VLAN: 10})
	if err != nil || len(f) != 60 || f[12] != 0x81 || f[13] != 0x00 || f[15] != 10 {
		t.Fatalf("tagged frame %x: %v", f, err)
	}
	g, err := traceFrame(api.TraceRequest{VNI: 100, OuterSrc: "192.0.2.2", OuterDst: "192.0.2.1"})
	if err != nil || len(g) != 60+50 {
		t.Fatalf("VXLAN frame of %d bytes: %v", len(g), err)
	}
	for _, r := range []api.TraceRequest{{Frame: "zz"}, {SrcIP: "2001:db8::1"}, {VLAN: 4095}, {VNI: 100, OuterSrc: "x", OuterDst: "192.0.2.1"}} {
		if _, err := traceFrame(r); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
}

// TestTraceKeys: the trace's bridge-domain and FDB steps name what the
// frame that ran carries (its tags, or its VNI and inner MAC), whatever
// the request said and however it gave the frame.
func TestTraceKeys(t *testing.T) {
	frame := func(r api.TraceRequest) []byte {
		t.Helper()
		f, err := traceFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tagged := frame(api.TraceRequest{DstMAC: "02:00:00:00:00:0b", VLAN: 10})
	qinq := append(append(append([]byte{}, tagged[:12]...), 0x88, 0xa8, 0x00, 0x64), tagged[12:]...)
	for _, c := range []struct {
		name    string
		f       []byte
		bd, dst string
	}{
		{"untagged", frame(api.TraceRequest{DstMAC: "02:00:00:00:00:0a"}), "untagged", "02:00:00:00:00:0a"},
		{"802.1Q", tagged, "vlan 10", "02:00:00:00:00:0b"},
		{"802.1ad over 802.1Q", qinq, "vlan 100.10", "02:00:00:00:00:0b"},
		{"VXLAN", frame(api.TraceRequest{DstMAC: "02:00:00:00:00:0c", VNI: 200, OuterSrc: "192.0.2.2", OuterDst: "192.0.2.1"}), "vni 200", "02:00:00:00:00:0c"},
		{"VXLAN over IPv6", frame(api.TraceRequest{DstMAC: "02:00:00:00:00:0d", VNI: 300, OuterSrc: "2001:db8::2", OuterDst: "2001:db8::1"}), "vni 300", "02:00:00:00:00:0d"},
		{"short", []byte{1, 2, 3}, "?", "?"},
	} {
		if bd, dst := traceKeys(c.f, 4789); bd != c.bd || dst != c.dst {
			t.Errorf("%s: %q %q, want %q %q", c.name, bd, dst, c.bd, c.dst)
		}
	}
	// UDP to another port is not VXLAN: the outer frame's own keys.
	vx := frame(api.TraceRequest{DstMAC: "02:00:00:00:00:0c", VNI: 200, OuterSrc: "192.0.2.2", OuterDst: "192.0.2.1"})
	if bd, _ := traceKeys(vx, 8472); bd != "untagged" {
		t.Errorf("UDP to 4789 read with VXLAN port 8472: %q, want untagged", bd)
	}
	if bd, _ := traceKeys(vx, 0); bd != "untagged" {
		t.Errorf("VXLAN read on an access port (port 0): %q, want untagged", bd)
	}
}

// TestTraceKeysAnyFrame: traceKeys reads a frame a user gave as hex, so it
// must answer for any bytes: every prefix of well-formed frames (cut in a
// tag, an IP header, UDP, VXLAN), and those frames with every byte turned
// into values that steer its parsing (tag and IP ethertypes, UDP, header
// lengths 0 and 15, the VXLAN port).
func TestTraceKeysAnyFrame(t *testing.T) {
	var frames [][]byte
	for _, r := range []api.TraceRequest{
		{DstMAC: "02:00:00:00:00:0a", VLAN: 10},
		{DstMAC: "02:00:00:00:00:0c", VNI: 200, OuterSrc: "192.0.2.2", OuterDst: "192.0.2.1"},
		{DstMAC: "02:00:00:00:00:0d", VNI: 300, OuterSrc: "2001:db8::2", OuterDst: "2001:db8::1"},
	} {
		f, err := traceFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	steer := []byte{0x00, 0x08, 0x0f, 0x11, 0x12, 0x40, 0x45, 0x4f, 0x81, 0x86, 0x88, 0xa8, 0xb5, 0xdd, 0xff}
	for _, f := range frames {
		for i := range len(f) + 1 {
			traceKeys(f[:i], 4789)
		}
		for i := range f {
			for _, v := range steer {
				g := slices.Clone(f)
				g[i] = v
				for j := range len(g) + 1 {
					traceKeys(g[:j], 4789)
				}
			}
		}
	}
}
