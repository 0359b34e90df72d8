package lab_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/internal/testutil"
	"github.com/fwdplane/fwd/lab"
)

// The interop tests run real traffic between fwd and a peer no one here
// wrote: the Linux kernel's own vxlan device and bridge, in another
// namespace. Each builds its own topology and removes it.

const count = 5

// mustBuild builds spec and removes it when the test ends, checking that
// no namespace of it is left.
func mustBuild(tb testing.TB, spec lab.Spec) *lab.Topology {
	tb.Helper()
	testutil.RequireRoot(tb)
	for _, c := range []string{"ip", "bridge", "ethtool"} {
		testutil.RequireCommand(tb, c)
	}
	topo, err := lab.Build(context.Background(), spec, nil)
	if err != nil {
		tb.Fatalf("build: %v", err)
	}
	tb.Cleanup(func() {
		if err := topo.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
		ents, err := os.ReadDir("/run/netns")
		if err != nil {
			tb.Errorf("list namespaces: %v", err)
			return
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), topo.Prefix()+"-") {
				tb.Errorf("namespace %s left after Close", e.Name())
			}
		}
	})
	return topo
}

// counters returns fwd VTEP name's counters.
func counters(tb testing.TB, topo *lab.Topology, name string) map[string]uint64 {
	tb.Helper()
	c, err := topo.Fwd(name).Counters()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// mustPing pings from -> to and fails unless every request was answered.
func mustPing(tb testing.TB, topo *lab.Topology, from, to string, o lab.PingOptions) lab.PingResult {
	tb.Helper()
	r, err := topo.Ping(context.Background(), from, to, o)
	if err != nil {
		tb.Fatal(err)
	}
	if r.Sent == 0 || r.Received != r.Sent {
		tb.Fatalf("ping %s -> %s (%d bytes): %d sent, %d replies", from, to, o.Size, r.Sent, r.Received)
	}
	tb.Logf("ping %s -> %s: %d/%d replies, avg %v", from, to, r.Received, r.Sent, r.AvgRTT)
	return r
}

// checkDelta asserts that each counter in want grew by at least its value,
// and that no drop counter grew at all.
func checkDelta(tb testing.TB, before, after map[string]uint64, want map[string]uint64) {
	tb.Helper()
	d := lab.Delta(before, after)
	tb.Logf("counter deltas: %v", d)
	for name, least := range want {
		if d[name] < least {
			tb.Errorf("counter %s grew by %d, want at least %d (all deltas: %v)", name, d[name], least, d)
		}
	}
	for name, v := range d {
		if strings.HasPrefix(name, "drop_") {
			tb.Errorf("counter %s grew by %d: fwd dropped frames", name, v)
		}
	}
}

// TestKernelVTEPInterop: a host behind fwd and a host behind the kernel's
// vxlan device reach each other, over an IPv4 and an IPv6 underlay. The
// kernel decapsulates what fwd encapsulates, and fwd what the kernel does;
// full-size frames fit the underlay MTU.
func TestKernelVTEPInterop(t *testing.T) {
	for _, fam := range []lab.Family{lab.IPv4, lab.IPv6} {
		t.Run(fam.String(), func(t *testing.T) {
			topo := mustBuild(t, lab.Spec{
				Underlay: fam,
				VTEPs:    []lab.VTEPSpec{{Name: "vtep1", Kind: lab.Fwd}, {Name: "vtep2", Kind: lab.Kernel}},
				Hosts:    []lab.HostSpec{{Name: "h1", VTEP: "vtep1"}, {Name: "h3", VTEP: "vtep2"}},
			})
			encap, other := "tx_encap4", "tx_encap6"
			if fam == lab.IPv6 {
				encap, other = other, encap
			}
			before := counters(t, topo, "vtep1")
			n := 0
			n += mustPing(t, topo, "h1", "h3", lab.PingOptions{Count: count}).Received
			n += mustPing(t, topo, "h3", "h1", lab.PingOptions{Count: count}).Received
			// 1472 bytes of ICMP payload make 1514-byte frames: the
			// largest a 1500-byte MTU host sends.
			n += mustPing(t, topo, "h1", "h3", lab.PingOptions{Count: 3, Size: 1472}).Received
			after := counters(t, topo, "vtep1")
			// Every echo crossed fwd twice: once encapsulated, once
			// decapsulated.
			checkDelta(t, before, after, map[string]uint64{encap: uint64(n), "tx_decap": uint64(n),
				"rx_access": uint64(n), "rx_uplink": uint64(n)})
			if d := after[other] - before[other]; d != 0 {
				t.Errorf("%s grew by %d over an %s underlay", other, d, fam)
			}
		})
	}
}

// TestLocalSwitching: two hosts on fwd's access ports, untagged and with
// one on VLAN 10 (fwd pushes and pops the tag).
func TestLocalSwitching(t *testing.T) {
	for _, tc := range []struct {
		name string
		vlan uint16
	}{{"untagged", 0}, {"VLAN10", 10}} {
		t.Run(tc.name, func(t *testing.T) {
			topo := mustBuild(t, lab.Spec{
				VTEPs: []lab.VTEPSpec{{Name: "vtep1", Kind: lab.Fwd}},
				Hosts: []lab.HostSpec{{Name: "h1", VTEP: "vtep1"}, {Name: "h2", VTEP: "vtep1", VLAN: tc.vlan}},
			})
			before := counters(t, topo, "vtep1")
			n := mustPing(t, topo, "h1", "h2", lab.PingOptions{Count: count}).Received
			n += mustPing(t, topo, "h2", "h1", lab.PingOptions{Count: count}).Received
			after := counters(t, topo, "vtep1")
			checkDelta(t, before, after, map[string]uint64{"tx_local": uint64(2 * n), "rx_access": uint64(2 * n)})
		})
	}
}

// TestLocalESFromKernel: the kernel VTEP reaches a host on fwd's local
// Ethernet Segment (tx_decap_es). With the ES's port down, fwd would send
// the frames to the ES's backup, the kernel VTEP, which is the sender:
// split horizon drops them instead (drop_decap_loop).
func TestLocalESFromKernel(t *testing.T) {
	topo := mustBuild(t, lab.Spec{
		VTEPs: []lab.VTEPSpec{{Name: "vtep1", Kind: lab.Fwd}, {Name: "vtep2", Kind: lab.Kernel}},
		Hosts: []lab.HostSpec{
			{Name: "hE", VTEP: "vtep1", ES: 1, ESBackup: []string{"vtep2"}},
			{Name: "h3", VTEP: "vtep2"},
		},
	})
	f := topo.Fwd("vtep1")
	d := f.Dataplane()
	hE := topo.Host("hE")
	e, err := d.FDB(dataplane.FDBKey{BD: topo.Spec().VNI, MAC: [6]byte(hE.MAC)})
	if err != nil || e.Kind != dataplane.FDBES || e.Ref != 1 {
		t.Fatalf("fdb entry of hE: %+v, %v; want kind es, ES 1", e, err)
	}

	before := counters(t, topo, "vtep1")
	n := mustPing(t, topo, "h3", "hE", lab.PingOptions{Count: count}).Received
	after := counters(t, topo, "vtep1")
	checkDelta(t, before, after, map[string]uint64{"tx_decap_es": uint64(n), "tx_encap4": uint64(n)})

	if err := d.SetESDown(1, true); err != nil {
		t.Fatal(err)
	}
	before = after
	r, err := topo.Ping(context.Background(), "h3", "hE", lab.PingOptions{Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Received != 0 {
		t.Errorf("ES port down: %d replies from hE, want none", r.Received)
	}
	after = counters(t, topo, "vtep1")
	delta := lab.Delta(before, after)
	t.Logf("ES down, counter deltas: %v", delta)
	if delta["drop_decap_loop"] < uint64(r.Sent) || delta["tx_decap_es"] != 0 {
		t.Errorf("ES port down: drop_decap_loop +%d, tx_decap_es +%d; want +%d and 0",
			delta["drop_decap_loop"], delta["tx_decap_es"], r.Sent)
	}
}

// TestFabric: three VTEPs on an underlay bridge, two of them fwd: fwd talks
// to the kernel and to another fwd.
func TestFabric(t *testing.T) {
	topo := mustBuild(t, lab.Spec{
		VTEPs: []lab.VTEPSpec{{Name: "vtep1", Kind: lab.Fwd}, {Name: "vtep2", Kind: lab.Kernel}, {Name: "vtep3", Kind: lab.Fwd}},
		Hosts: []lab.HostSpec{{Name: "h1", VTEP: "vtep1"}, {Name: "h2", VTEP: "vtep2"}, {Name: "h3", VTEP: "vtep3"}},
	})
	b1, b3 := counters(t, topo, "vtep1"), counters(t, topo, "vtep3")
	n12 := mustPing(t, topo, "h1", "h2", lab.PingOptions{Count: count}).Received
	n13 := mustPing(t, topo, "h1", "h3", lab.PingOptions{Count: count}).Received
	n23 := mustPing(t, topo, "h2", "h3", lab.PingOptions{Count: count}).Received
	a1, a3 := counters(t, topo, "vtep1"), counters(t, topo, "vtep3")
	checkDelta(t, b1, a1, map[string]uint64{"tx_encap4": uint64(n12 + n13), "tx_decap": uint64(n12 + n13)})
	checkDelta(t, b3, a3, map[string]uint64{"tx_encap4": uint64(n13 + n23), "tx_decap": uint64(n13 + n23)})
}

// TestDemo runs the demo as `fwd lab demo` does.
func TestDemo(t *testing.T) {
	testutil.RequireRoot(t)
	rep, err := lab.Demo(context.Background(), lab.DemoOptions{Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("demo: not every echo answered: %+v", rep.Pings)
	}
	got := make(map[string]uint64)
	for _, c := range rep.Counters {
		got[c.Name] = c.Value
	}
	for _, name := range []string{"tx_local", "tx_encap4", "tx_decap", "tx_decap_es"} {
		if got[name] == 0 {
			t.Errorf("demo: counter %s is zero (counters: %v)", name, got)
		}
	}
	if ents, err := os.ReadDir("/run/netns"); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), rep.Prefix+"-") {
				t.Errorf("namespace %s left after the demo", e.Name())
			}
		}
	}
}
