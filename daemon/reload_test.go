package daemon

import (
	"testing"

	"github.com/fwdplane/fwd/config"
	"github.com/fwdplane/fwd/evpn"
)

func TestESChange(t *testing.T) {
	o := config.EthernetSegment{Name: "host1", Interface: "swp1", DFAlg: evpn.DFAlgPreference, DFPref: 100}
	n := o
	n.DFPref, n.Interface = 200, "swp2"
	if got, want := esChange(o, n), "interface swp1 -> swp2, df preference 100 -> 200"; got != want {
		t.Errorf("esChange = %q, want %q", got, want)
	}
	if got := esChange(o, o); got != "no difference in effect" {
		t.Errorf("esChange of equal ESes = %q", got)
	}
}

// TestRunningTakesESes: Ethernet Segments apply live, so the running
// config after a reload has the new file's; settings that wait for a
// start keep the old value.
func TestRunningTakesESes(t *testing.T) {
	prev := &config.Config{EthernetSegments: []config.EthernetSegment{{Name: "a", Interface: "swp1"}}}
	prev.Multihoming.EADPerESOnly = true
	next := &config.Config{EthernetSegments: []config.EthernetSegment{{Name: "b", Interface: "swp2"}}}
	r := running(prev, next)
	if len(r.EthernetSegments) != 1 || r.EthernetSegments[0].Name != "b" {
		t.Errorf("running ESes %+v, want the new file's", r.EthernetSegments)
	}
	if !r.Multihoming.EADPerESOnly {
		t.Error("multihoming applies at the next start: the running value should stay")
	}
}
