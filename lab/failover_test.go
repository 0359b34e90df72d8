package lab_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/bench/pktgen"
	"github.com/fwdplane/fwd/control"
	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/internal/dpwrites"
	"github.com/fwdplane/fwd/internal/testutil"
	"github.com/fwdplane/fwd/lab"
	"github.com/fwdplane/fwd/vxlan"
)

// The three failover tiers of DESIGN.md section 3, end to end: fwd's real
// control loop over its real fast path, with live traffic.
//
//	gen: g0 ── g1 ┐ fwd         sink: s0 counts frames per outer destination
//	              ├ u0 ──────── s0      (the VTEP: last byte at offset 30)
//	              └ a0 ──────── p0      and frames to the local ES port
//
// tierMACs MACs sit behind a remote ES of four PEs, as many behind a local
// ES on a0 (SYNC routes from its peer), and the generator sends to all of
// them. Each test builds and removes its own namespaces.

const (
	tierVNI  = 100
	tierMACs = 100
	// tierPortKey is where the sink counts frames to the local port: the
	// last byte of the frames' inner destination address.
	tierPortKey = 250
	// tierSettle is how long frames already in the veth rings get to
	// arrive after an event; tierWindow how long the traffic is watched.
	tierSettle = 20 * time.Millisecond
	tierWindow = 200 * time.Millisecond
	// tierMinFrames is the least a window must see (see watch).
	tierMinFrames = 20000
	tierMaxWindow = 5 * time.Second
)

var (
	tierLocal = netip.MustParseAddr("10.0.0.1")
	tierPEs   = []netip.Addr{netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3"),
		netip.MustParseAddr("192.0.2.4"), netip.MustParseAddr("192.0.2.5")}
	tierPeer      = netip.MustParseAddr("192.0.2.6")
	tierRemoteESI = evpn.ESI{0x03, 0x44, 0x38, 0x39, 0xff, 0xff, 0x02, 0, 0, 1}
	tierLocalESI  = evpn.ESI{0x03, 0x44, 0x38, 0x39, 0xff, 0xff, 0x01, 0, 0, 1}
	tierMACBase   = [6]byte{0x02, 0xcc, 0, 0, 0, 0} // remote MAC i: base+i; local MAC i: base+tierMACs+i
)

func tierKey(a netip.Addr) int { return int(a.As4()[3]) }

func tierMAC(i int) evpn.MAC { return evpn.MAC(pktgen.AddMAC(tierMACBase, uint32(i))) }

func tierRD(a netip.Addr, n uint16) evpn.RD {
	rd, err := evpn.RDIPv4(a, n)
	if err != nil {
		panic(err)
	}
	return rd
}

func tierEADES(pe netip.Addr, esi evpn.ESI) evpn.Path {
	return evpn.EADPerESPath(tierRD(pe, 0), esi, pe, evpn.SourceAPI)
}

func tierEADEVI(pe netip.Addr, esi evpn.ESI) evpn.Path {
	return evpn.EADPerEVIPath(tierRD(pe, tierVNI), esi, tierVNI, pe, evpn.SourceAPI)
}

func tierType2(pe netip.Addr, m evpn.MAC, esi evpn.ESI) evpn.Path {
	return evpn.MACPath(tierRD(pe, tierVNI), esi, m, tierVNI, pe, evpn.SourceAPI)
}

func tierWithdraw(p evpn.Path) evpn.Path { return p.Withdrawal() }

// tierLab is one test's topology, controller and traffic.
type tierLab struct {
	t     *testing.T
	ctx   context.Context
	dp    *dpwrites.Recorder
	ctrl  *control.Controller
	ul    *vxlan.StaticResolver
	bench *dataplane.Bench
	a0    int
}

// newTierLab builds the topology, starts the controller, applies the
// routes and starts the traffic; the test's cleanup stops and removes all.
func newTierLab(t *testing.T) *tierLab {
	t.Helper()
	testutil.RequireRoot(t)
	for _, c := range []string{"ip", "ethtool"} {
		testutil.RequireCommand(t, c)
	}
	ctx := context.Background()
	top := lab.New(nil)
	l := &tierLab{t: t, ctx: ctx}
	t.Cleanup(func() {
		if l.bench != nil {
			if err := l.bench.Close(); err != nil {
				t.Errorf("close bench programs: %v", err)
			}
		}
		if err := top.Close(); err != nil {
			t.Errorf("close topology: %v", err)
		}
		ents, _ := os.ReadDir("/run/netns")
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), top.Prefix()+"-") {
				t.Errorf("namespace %s left after Close", e.Name())
			}
		}
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	gen, err := top.AddNS(ctx, "gen")
	must(err)
	sut, err := top.AddNS(ctx, "fwd")
	must(err)
	sink, err := top.AddNS(ctx, "sink")
	must(err)
	in, err := top.AddVeth(ctx, gen, "g0", sut, "g1", 1600)
	must(err)
	up, err := top.AddVeth(ctx, sut, "u0", sink, "s0", 1600)
	must(err)
	port, err := top.AddVeth(ctx, sut, "a0", sink, "p0", 1600)
	must(err)
	l.bench, err = dataplane.LoadBench()
	must(err)
	must(gen.Do(func() error { return l.bench.AttachPass(in.A.Ifindex) }))
	must(sink.Do(func() error {
		return errors.Join(l.bench.AttachSinkAddr(up.B.Ifindex, 0, 0, 30), l.bench.AttachSinkAddr(port.B.Ifindex, 0, 0, 30))
	}))
	f, err := top.AddFwdVTEP(ctx, sut, lab.FwdVTEPConfig{Local: tierLocal})
	must(err)
	g1, err := f.AddPort(ctx, "g1", dataplane.Port{Role: dataplane.RoleAccess})
	must(err)
	u0, err := f.AddPort(ctx, "u0", dataplane.Port{Role: dataplane.RoleUplink})
	must(err)
	if l.a0, err = f.AddPort(ctx, "a0", dataplane.Port{Role: dataplane.RoleAccess}); err != nil {
		t.Fatal(err)
	}
	l.dp = dpwrites.New(f.Dataplane())
	l.dp.Start()
	l.ul = &vxlan.StaticResolver{Ifindex: u0, SrcMAC: [6]byte(up.A.MAC), DstMAC: [6]byte(up.B.MAC), Src: tierLocal}
	cfg := control.Config{VTEP4: tierLocal, BDs: []uint32{tierVNI},
		ESes: []control.LocalES{{ESI: tierLocalESI, Ifindex: uint32(l.a0), DFAlg: evpn.DFAlgPreference}}}
	l.ctrl, err = control.New(cfg, l.dp, l.ul, nil)
	must(err)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.ctrl.Run(cctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("control loop: %v", err)
		}
	})
	for _, ifindex := range []int{g1, l.a0} {
		must(l.dp.SetVLAN(uint32(ifindex), dataplane.Tags{}, tierVNI))
	}

	var paths []evpn.Path
	for _, pe := range tierPEs {
		paths = append(paths, tierEADES(pe, tierRemoteESI), tierEADEVI(pe, tierRemoteESI))
	}
	paths = append(paths, tierEADES(tierPeer, tierLocalESI), tierEADEVI(tierPeer, tierLocalESI))
	for i := 0; i < tierMACs; i++ {
		paths = append(paths, tierType2(tierPEs[i%len(tierPEs)], tierMAC(i), tierRemoteESI),
			tierType2(tierPeer, tierMAC(tierMACs+i), tierLocalESI))
	}
	l.apply(paths...)
	if n := l.dp.FDBCount(); n != 2*tierMACs {
		t.Fatalf("fwd FDB holds %d entries, want %d", n, 2*tierMACs)
	}

	// Traffic: 64k flows over the 2*tierMACs MACs, from the generator
	// pinned to CPU 0, until the test ends.
	spec := pktgen.Spec{Flow: pktgen.Flow{SrcMAC: [6]byte{0x02, 0xaa, 0, 0, 0, 1}, DstMAC: tierMACBase,
		Src: netip.MustParseAddr("198.18.0.1"), Dst: netip.AddrFrom4([4]byte{198, 18, 0, tierPortKey}), SrcPort: 1024, DstPort: 9}}
	tmpl, err := pktgen.Build(spec)
	must(err)
	gcfg := dataplane.GenConfig{Flows: dataplane.BenchMaxFlows, MACs: 2 * tierMACs, MACStride: 1,
		MACBase: uint32(tierMACBase[3])<<16 | uint32(tierMACBase[4])<<8 | uint32(tierMACBase[5]), SrcPortOffset: uint16(spec.Offsets().SrcPort)}
	var stop atomic.Bool
	genDone := make(chan error, 1)
	go func() {
		genDone <- gen.Do(func() error {
			var set unix.CPUSet
			set.Set(0)
			_ = unix.SchedSetaffinity(0, &set)
			for !stop.Load() {
				if _, err := l.bench.Generate(tmpl, uint32(in.A.Ifindex), gcfg, 1<<14, 0); err != nil {
					return err
				}
			}
			return nil
		})
	}()
	t.Cleanup(func() {
		stop.Store(true)
		if err := <-genDone; err != nil {
			t.Errorf("generator: %v", err)
		}
	})
	// Every member gets traffic before anything fails.
	d := l.watch(tierWindow)
	for _, pe := range tierPEs {
		if d[tierKey(pe)] == 0 {
			t.Fatalf("no traffic reaches %s before the event: %v", pe, l.nonzero(d))
		}
	}
	if d[tierPortKey] == 0 {
		t.Fatalf("no traffic reaches the local ES port before the event: %v", l.nonzero(d))
	}
	return l
}

func (l *tierLab) apply(paths ...evpn.Path) {
	l.t.Helper()
	res, err := l.ctrl.Apply(l.ctx, paths)
	if err != nil || res.Rejected > 0 {
		l.t.Fatalf("apply: %+v %v", res, err)
	}
}

func (l *tierLab) counts() [256]uint64 {
	l.t.Helper()
	c, err := l.bench.SinkAddrCounts()
	if err != nil {
		l.t.Fatal(err)
	}
	return c
}

// watch returns the frames the sink counted per slot during d.
// The window is at least d and lasts until the sink has counted
// tierMinFrames in all (at most tierMaxWindow): on a loaded machine the
// generator can be off its CPU for a whole d, and "no frames to X" means
// something only when frames flowed.
func (l *tierLab) watch(d time.Duration) [256]uint64 {
	l.t.Helper()
	c0 := l.counts()
	start := time.Now()
	for {
		time.Sleep(d)
		c1 := l.counts()
		total := uint64(0)
		for i := range c1 {
			c1[i] -= c0[i]
			total += c1[i]
		}
		if total >= tierMinFrames || time.Since(start) >= tierMaxWindow {
			return c1
		}
	}
}

// after lets the frames of before the event drain, then watches a window.
func (l *tierLab) after() [256]uint64 {
	l.t.Helper()
	time.Sleep(tierSettle)
	return l.watch(tierWindow)
}

func (l *tierLab) nonzero(c [256]uint64) string {
	var parts []string
	for i, v := range c {
		if v > 0 {
			parts = append(parts, fmt.Sprintf("%d:%d", i, v))
		}
	}
	return strings.Join(parts, " ")
}

func (l *tierLab) counters() map[string]uint64 {
	l.t.Helper()
	c, err := l.dp.Counters()
	if err != nil {
		l.t.Fatal(err)
	}
	return c
}

// TestFailoverTier1UnderlayLost: a remote PE's underlay route is lost; the
// controller flips its nexthop's down bit and writes nothing else; no frame
// goes to it afterwards, and its buckets' backups (the other PEs) carry its
// traffic.
func TestFailoverTier1UnderlayLost(t *testing.T) {
	l := newTierLab(t)
	dead := tierPEs[1]
	before, ctrs := l.dp.Mark(), l.counters()
	if err := l.ctrl.UnderlayUpdate(l.ctx, vxlan.Underlay{VTEP: dead, Reason: "route lost"}); err != nil {
		t.Fatal(err)
	}
	if w := l.dp.Since(before); !slices.Equal(w, []string{dpwrites.NHBit}) {
		t.Fatalf("underlay lost wrote %v, want one down bit and no map write", w)
	}
	d := l.after()
	if d[tierKey(dead)] != 0 {
		t.Errorf("%d frames to the unreachable VTEP %s after the flip", d[tierKey(dead)], dead)
	}
	for _, pe := range tierPEs {
		if pe != dead && d[tierKey(pe)] == 0 {
			t.Errorf("no frames to %s after the flip: %v", pe, l.nonzero(d))
		}
	}
	if b := lab.Delta(ctrs, l.counters())["nh_backup"]; b == 0 {
		t.Error("no frame went by a bucket's backup")
	}
	t.Logf("after the flip: %s", l.nonzero(d))
	// Reachable again: traffic comes back to it.
	if err := l.ctrl.UnderlayUpdate(l.ctx, l.ul.Resolve(dead)); err != nil {
		t.Fatal(err)
	}
	if d := l.after(); d[tierKey(dead)] == 0 {
		t.Errorf("no frames to %s once reachable again", dead)
	}
}

// TestFailoverTier1LocalPortDown: the local ES's port goes down; the ES's
// down bit is the first write, and the ES's traffic moves to the ES peer
// (its backup group) at once.
func TestFailoverTier1LocalPortDown(t *testing.T) {
	l := newTierLab(t)
	before := l.dp.Mark()
	if err := l.ctrl.PortState(l.ctx, uint32(l.a0), false); err != nil {
		t.Fatal(err)
	}
	w := l.dp.Since(before)
	if len(w) == 0 || w[0] != dpwrites.ESBit {
		t.Fatalf("port down wrote %v: want the ES down bit first", w)
	}
	t.Logf("port down wrote %v (the bit, then the DF and routes follow)", w)
	d := l.after()
	if d[tierPortKey] != 0 {
		t.Errorf("%d frames to the down port after the flip", d[tierPortKey])
	}
	if d[tierKey(tierPeer)] == 0 {
		t.Errorf("no frames to the ES peer %s after the flip: %v", tierPeer, l.nonzero(d))
	}
	// Up again: the traffic comes back to the port, none to the peer.
	if err := l.ctrl.PortState(l.ctx, uint32(l.a0), true); err != nil {
		t.Fatal(err)
	}
	d = l.after()
	if d[tierPortKey] == 0 || d[tierKey(tierPeer)] != 0 {
		t.Errorf("port up: %d frames to the port, %d to the peer", d[tierPortKey], d[tierKey(tierPeer)])
	}
}

// TestFailoverTier2EADWithdraw: a PE withdraws its EAD-per-ES route (the mass
// withdraw): exactly one group write, no FDB write, and no frame goes to it
// afterwards while the others carry the ES's traffic.
func TestFailoverTier2EADWithdraw(t *testing.T) {
	l := newTierLab(t)
	gone := tierPEs[2]
	before := l.dp.Mark()
	l.apply(tierWithdraw(tierEADES(gone, tierRemoteESI)))
	if w := l.dp.Since(before); !slices.Equal(w, []string{dpwrites.Group}) {
		t.Fatalf("EAD-per-ES withdraw wrote %v, want one group write", w)
	}
	d := l.after()
	if d[tierKey(gone)] != 0 {
		t.Errorf("%d frames to %s after its withdraw", d[tierKey(gone)], gone)
	}
	for _, pe := range tierPEs {
		if pe != gone && d[tierKey(pe)] == 0 {
			t.Errorf("no frames to %s after the withdraw: %v", pe, l.nonzero(d))
		}
	}
	// Its type-2 routes stay: the MACs still point at the ES.
	e, err := l.dp.FDB(dataplane.FDBKey{BD: tierVNI, MAC: tierMAC(2)})
	if err != nil || e.Kind != dataplane.FDBES {
		t.Errorf("MAC behind the ES after the withdraw: %+v %v", e, err)
	}
	// Back: one more group write, and it gets traffic again.
	before = l.dp.Mark()
	l.apply(tierEADES(gone, tierRemoteESI))
	if w := l.dp.Since(before); !slices.Equal(w, []string{dpwrites.Group}) {
		t.Errorf("EAD-per-ES re-announce wrote %v", w)
	}
	if d := l.after(); d[tierKey(gone)] == 0 {
		t.Errorf("no frames to %s once back", gone)
	}
}

// TestFailoverTier3MACWithdraw: convergence. The type-2 routes behind the
// remote ES are withdrawn: their FDB entries go (one write each), frames to
// those MACs stop reaching any VTEP (they become unknown unicast, left to
// the kernel), and the local ES's MACs are untouched.
func TestFailoverTier3MACWithdraw(t *testing.T) {
	l := newTierLab(t)
	var paths []evpn.Path
	for i := 0; i < tierMACs; i++ {
		paths = append(paths, tierWithdraw(tierType2(tierPEs[i%len(tierPEs)], tierMAC(i), tierRemoteESI)))
	}
	before, ctrs := l.dp.Mark(), l.counters()
	l.apply(paths...)
	w := l.dp.Since(before)
	fdb := 0
	for _, x := range w {
		if x == dpwrites.FDB {
			fdb++
		}
	}
	if fdb != tierMACs {
		t.Errorf("withdrawing %d MAC routes made %d FDB writes (%d writes in all)", tierMACs, fdb, len(w))
	}
	for i := 0; i < tierMACs; i++ {
		if _, err := l.dp.FDB(dataplane.FDBKey{BD: tierVNI, MAC: tierMAC(i)}); !errors.Is(err, dataplane.ErrNotFound) {
			t.Fatalf("MAC %s still in the FDB after its route was withdrawn: %v", tierMAC(i), err)
		}
	}
	if n := l.dp.FDBCount(); n != tierMACs {
		t.Errorf("FDB holds %d entries, want the %d local-ES MACs", n, tierMACs)
	}
	d := l.after()
	for _, pe := range tierPEs {
		if d[tierKey(pe)] != 0 {
			t.Errorf("%d frames to %s after every MAC behind it was withdrawn", d[tierKey(pe)], pe)
		}
	}
	if d[tierPortKey] == 0 {
		t.Error("the local ES's MACs lost their traffic")
	}
	if u := lab.Delta(ctrs, l.counters())["pass_unknown_ucast"]; u == 0 {
		t.Error("frames to the withdrawn MACs were not left to the kernel as unknown unicast")
	}
}
