package evpn

import (
	"net/netip"
	"testing"
)

func TestPathConstructors(t *testing.T) {
	vtep := netip.MustParseAddr("192.0.2.2")
	rd, err := RDIPv4(vtep, 100)
	if err != nil {
		t.Fatal(err)
	}
	esi, err := ESIFromSysMAC(MAC{0x44, 0x38, 0x39, 0xff, 0xff, 0x01}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Path{
		EADPerESPath(rd, esi, vtep, SourceAPI),
		EADPerEVIPath(rd, esi, 100, vtep, SourceAPI),
		MACPath(rd, esi, MAC{2, 0, 0, 0, 0, 1}, 100, vtep, SourceAPI),
		MACPath(rd, ESI{}, MAC{2, 0, 0, 0, 0, 1}, 100, vtep, SourceBGP),
	} {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		w := p.Withdrawal()
		if !w.Withdraw || w.Route.Key() != p.Route.Key() || w.Validate() != nil {
			t.Errorf("withdrawal of %s: %+v", p, w)
		}
	}
	if r := EADPerESPath(rd, esi, vtep, SourceAPI).Route.(EADRoute); !r.PerES() {
		t.Error("EAD-per-ES route is not per ES")
	}
}
