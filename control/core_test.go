package control

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/vxlan"
)

const vni = 100

var (
	me      = netip.MustParseAddr("192.0.2.1")
	esiRem  = mustESI("03:44:38:39:ff:ff:02:00:00:01")
	esiLoc  = mustESI("03:44:38:39:ff:ff:01:00:00:01")
	localES = LocalES{ESI: esiLoc, Ifindex: 7, DFAlg: evpn.DFAlgPreference, DFPref: 100}
)

func mustESI(s string) evpn.ESI {
	e, err := evpn.ParseESI(s)
	if err != nil {
		panic(err)
	}
	return e
}

func pe(n int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + n)}) }

func rd(a netip.Addr, n uint16) evpn.RD {
	r, err := evpn.RDIPv4(a, n)
	if err != nil {
		panic(err)
	}
	return r
}

func macN(i int) evpn.MAC { return evpn.MAC{0x02, 0xaa, 0, byte(i >> 16), byte(i >> 8), byte(i)} }

func type2(from netip.Addr, m evpn.MAC, esi evpn.ESI, seq uint32) evpn.Path {
	p := evpn.MACPath(rd(from, vni), esi, m, vni, from, evpn.SourceAPI)
	p.Attrs.MACMobility.Seq = seq
	return p
}

func eadES(from netip.Addr, esi evpn.ESI) evpn.Path {
	return evpn.EADPerESPath(rd(from, 0), esi, from, evpn.SourceAPI)
}

func eadEVI(from netip.Addr, esi evpn.ESI) evpn.Path {
	return evpn.EADPerEVIPath(rd(from, vni), esi, vni, from, evpn.SourceAPI)
}

func type4(from netip.Addr, esi evpn.ESI, pref uint16) evpn.Path {
	return evpn.Path{Route: evpn.ESRoute{RD: rd(from, 0), ESI: esi, OriginatorIP: from},
		Attrs: evpn.Attrs{NextHop: from, DFElection: evpn.DFElection{Alg: evpn.DFAlgPreference, Pref: pref}}, Source: evpn.SourceAPI}
}

func type3(from netip.Addr) evpn.Path {
	return evpn.Path{Route: evpn.IMETRoute{RD: rd(from, vni), EthernetTag: vni, OriginatorIP: from},
		Attrs: evpn.Attrs{NextHop: from}, Source: evpn.SourceAPI}
}

func withdraw(p evpn.Path) evpn.Path { return p.Withdrawal() }

func baseConfig() Config {
	return Config{VTEP4: me, BDs: []uint32{vni}, ESes: []LocalES{localES}}
}

func (c *core) applyAll(tb testing.TB, paths ...evpn.Path) {
	tb.Helper()
	for _, p := range paths {
		if err := c.apply(p); err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
	}
	c.flush()
	c.settle() // as the loop does while nobody waits
}

func fdbOf(dp *fakeDP, m evpn.MAC) (dataplane.FDBEntry, bool) {
	e, ok := dp.fdb[dataplane.FDBKey{BD: vni, MAC: m}]
	return e, ok
}

func TestType2RemoteVTEP(t *testing.T) {
	c, dp := mustCore(t, baseConfig())
	p := type2(pe(1), macN(1), evpn.ESI{}, 0)
	c.applyAll(t, p)
	e, ok := fdbOf(dp, macN(1))
	if !ok || e.Kind != dataplane.FDBVTEP || dp.nh[e.Ref].Dst != pe(1) || dp.nhDown[e.Ref] {
		t.Fatalf("entry %+v (nexthop %+v)", e, dp.nh[e.Ref])
	}
	if dp.vteps[pe(1)] != dataplane.VTEPRemote {
		t.Fatal("remote VTEP not declared: its VXLAN would be passed to the kernel")
	}
	c.applyAll(t, withdraw(p))
	if _, ok := fdbOf(dp, macN(1)); ok || len(dp.nh) != 0 || len(dp.vteps) != 1 {
		t.Fatalf("after withdraw: fdb %v nexthops %v vteps %v", dp.fdb, dp.nh, dp.vteps)
	}
	// A MAC in a VNI we do not serve is ignored.
	other := type2(pe(1), macN(2), evpn.ESI{}, 0)
	other.Route = evpn.MACIPRoute{RD: rd(pe(1), 5), MAC: macN(2), Label1: 5}
	c.applyAll(t, other)
	if len(dp.fdb) != 0 {
		t.Fatalf("installed a MAC of an unserved VNI: %v", dp.fdb)
	}
}

// TestMassWithdraw is tier 2: N MACs behind a remote ES of four PEs; one
// PE's EAD-per-ES withdraw is one group write and no FDB write.
func TestMassWithdraw(t *testing.T) {
	c, dp := mustCore(t, baseConfig())
	var paths []evpn.Path
	for i := 1; i <= 4; i++ {
		paths = append(paths, eadES(pe(i), esiRem), eadEVI(pe(i), esiRem))
	}
	const n = 1000
	for i := 0; i < n; i++ {
		paths = append(paths, type2(pe(1+i%4), macN(i), esiRem, 0))
	}
	c.applyAll(t, paths...)
	e, _ := fdbOf(dp, macN(0))
	es := dp.es[e.Ref]
	if e.Kind != dataplane.FDBES || dp.canonicalGroup(es.Group) != "{192.0.2.11,192.0.2.12,192.0.2.13,192.0.2.14}" {
		t.Fatalf("MAC behind ES: %+v, group %s", e, dp.canonicalGroup(es.Group))
	}
	before := clone(dp.writes)
	c.applyAll(t, withdraw(eadES(pe(2), esiRem)))
	if d := diff(before, dp.writes); d["group"] != 1 || d["fdb"] != 0 || d["es"] != 0 {
		t.Fatalf("EAD-per-ES withdraw wrote %v, want one group write", d)
	}
	if got := dp.canonicalGroup(es.Group); got != "{192.0.2.11,192.0.2.13,192.0.2.14}" {
		t.Fatalf("group after withdraw %s", got)
	}
	// It was the staged version, switched with one store, and the group
	// table agrees with it once the deferred bookkeeping ran.
	c.settle()
	if c.stats.StagedSwitches != 1 || c.stats.SettleRewrites != 0 || diff(before, dp.writes)["group"] != 1 {
		t.Fatalf("staged switches %d, settle rewrites %d, writes %v", c.stats.StagedSwitches, c.stats.SettleRewrites, diff(before, dp.writes))
	}
	// The last PE's EAD withdrawn: MACs fall back to their own VTEPs.
	for _, i := range []int{1, 3, 4} {
		c.applyAll(t, withdraw(eadES(pe(i), esiRem)))
	}
	e, _ = fdbOf(dp, macN(0))
	if e.Kind != dataplane.FDBVTEP || dp.nh[e.Ref].Dst != pe(1) {
		t.Fatalf("with no active PE the MAC goes to its advertising VTEP: %+v", e)
	}
}

func (f *fakeDP) canonicalGroup(id uint32) string {
	set := map[string]bool{}
	for _, b := range f.groups[id] {
		set[f.nh[b.Primary].Dst.String()] = true
	}
	var s []string
	for k := range set {
		s = append(s, k)
	}
	sortStrings(s)
	out := "{"
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out + "}"
}

func clone(m map[string]int) map[string]int {
	o := map[string]int{}
	for k, v := range m {
		o[k] = v
	}
	return o
}

func diff(a, b map[string]int) map[string]int {
	o := map[string]int{}
	for k, v := range b {
		if v != a[k] {
			o[k] = v - a[k]
		}
	}
	return o
}

func TestMobilityAndSticky(t *testing.T) {
	c, dp := mustCore(t, baseConfig())
	c.applyAll(t, type2(pe(1), macN(1), evpn.ESI{}, 1), type2(pe(2), macN(1), evpn.ESI{}, 2))
	if e, _ := fdbOf(dp, macN(1)); dp.nh[e.Ref].Dst != pe(2) {
		t.Fatalf("higher sequence number lost: at %s", dp.nh[e.Ref].Dst)
	}
	st := type2(pe(3), macN(1), evpn.ESI{}, 0)
	st.Attrs.MACMobility.Sticky = true
	c.applyAll(t, st)
	if e, _ := fdbOf(dp, macN(1)); dp.nh[e.Ref].Dst != pe(3) || e.Flags&dataplane.FDBSticky == 0 {
		t.Fatalf("sticky MAC not preferred: %+v at %s", e, dp.nh[e.Ref].Dst)
	}
	// Local learning of a MAC known remotely takes over with seq+1.
	c.learned(vni, macN(9), 3)
	c.flush()
	if e, _ := fdbOf(dp, macN(9)); e.Kind != dataplane.FDBLocal || e.Ref != 3 {
		t.Fatalf("learned MAC %+v", e)
	}
	c.applyAll(t, type2(pe(1), macN(9), evpn.ESI{}, 5))
	if e, _ := fdbOf(dp, macN(9)); e.Kind != dataplane.FDBVTEP {
		t.Fatalf("a MAC that moved away (seq 5 > 0) stayed local: %+v", e)
	}
}

func TestLocalESAndDF(t *testing.T) {
	cfg := baseConfig()
	now := time.Unix(1000, 0)
	c, dp := mustCore(t, cfg)
	c.now = func() time.Time { return now }
	c.ess[esiLoc].upSince = now
	id := c.ess[esiLoc].id
	if es := dp.es[id]; es.Flags&dataplane.ESLocal == 0 || es.Ifindex != 7 {
		t.Fatalf("local ES %+v", es)
	}
	// A peer on the same ES: backup group, es_peers, and SYNC MACs.
	c.applyAll(t, eadES(pe(4), esiLoc), eadEVI(pe(4), esiLoc), type2(pe(4), macN(1), esiLoc, 0))
	es := dp.es[id]
	if dp.canonicalGroup(es.BackupGroup) != "{192.0.2.14}" || !dp.peers["192.0.2.14/1"] {
		t.Fatalf("backup group %s, peers %v", dp.canonicalGroup(es.BackupGroup), dp.peers)
	}
	if e, _ := fdbOf(dp, macN(1)); e.Kind != dataplane.FDBES || e.Ref != id || e.Flags&dataplane.FDBSync == 0 {
		t.Fatalf("SYNC MAC %+v", e)
	}
	// DF: the peer has no type-4 (GoBGP drops FRR's): it counts at 32767,
	// above our 100, so we are not the DF.
	if es.Flags&dataplane.ESNonDF == 0 {
		t.Fatalf("DF with a higher-preference peer: %+v", es)
	}
	c.applyAll(t, type4(pe(4), esiLoc, 50))
	if dp.es[id].Flags&dataplane.ESNonDF != 0 {
		t.Fatalf("not DF against a peer of preference 50: %+v", dp.es[id])
	}
	// Tier 1: the port goes down: one bit, then the routes and DF follow.
	before := clone(dp.writes)
	c.portState(7, false)
	if d := diff(before, dp.writes); d["bit"] != 1 || !dp.esDown[id] {
		t.Fatalf("port down wrote %v", d)
	}
	c.flush()
	if c.ess[esiLoc].df {
		t.Fatal("a PE whose ES port is down stays DF")
	}
	if d := diff(before, dp.writes); d["group"] != 0 || d["es"] != 0 || d["bit"] != 1 {
		t.Fatalf("port down wrote more than its bit: %v", d)
	}
	// Back up: non-DF during the DF delay, DF after it.
	c.cfg.DFDelay = 3 * time.Second
	c.portState(7, true)
	c.flush()
	if dp.esDown[id] || dp.es[id].Flags&dataplane.ESNonDF == 0 {
		t.Fatalf("right after coming up: down %v flags %d", dp.esDown[id], dp.es[id].Flags)
	}
	now = now.Add(4 * time.Second)
	c.dirtyES[esiLoc] = struct{}{}
	c.flush()
	if dp.es[id].Flags&dataplane.ESNonDF != 0 {
		t.Fatal("not DF after the delay")
	}
}

func TestUnderlayLostIsOneBit(t *testing.T) {
	c, dp := mustCore(t, baseConfig())
	c.applyAll(t, type2(pe(1), macN(1), evpn.ESI{}, 0))
	e, _ := fdbOf(dp, macN(1))
	before := clone(dp.writes)
	c.underlay(vxlan.Underlay{VTEP: pe(1), Reachable: false, Reason: "no route"})
	if d := diff(before, dp.writes); len(d) != 1 || d["bit"] != 1 || !dp.nhDown[e.Ref] {
		t.Fatalf("underlay lost wrote %v", d)
	}
	c.underlay(vxlan.Underlay{VTEP: pe(1), Reachable: true, Ifindex: 9})
	if dp.nhDown[e.Ref] {
		t.Fatal("nexthop still down after the underlay came back")
	}
}

func TestBadPaths(t *testing.T) {
	c, dp := mustCore(t, baseConfig())
	bad := []evpn.Path{
		{Route: evpn.MACIPRoute{RD: rd(pe(1), 1), MAC: macN(1), Label1: 1 << 25}, Attrs: evpn.Attrs{NextHop: pe(1)}, Source: evpn.SourceAPI},
		{Route: nil, Source: evpn.SourceAPI},
		{Route: evpn.MACIPRoute{RD: rd(pe(1), 1), MAC: macN(1), Label1: vni}, Source: evpn.SourceAPI},
	}
	before := dp.canonical()
	for _, p := range bad {
		if err := c.apply(p); err == nil {
			t.Errorf("accepted %s", p)
		}
	}
	c.flush()
	if dp.canonical() != before {
		t.Fatal("rejected paths changed the fast path")
	}
	if c.stats.Ignored != uint64(len(bad)) {
		t.Fatalf("ignored %d", c.stats.Ignored)
	}
	// A withdraw of a route never seen is counted, not an error.
	c.applyAll(t, withdraw(type2(pe(1), macN(5), evpn.ESI{}, 0)))
	if c.stats.UnknownWithdraws != 1 {
		t.Fatal("unknown withdraw not counted")
	}
}

// TestOrderIndependence: the final fast-path state is a function of the set
// of routes, whatever order they came in, with duplicates, flaps and
// withdraws of unknown routes mixed in.
func TestOrderIndependence(t *testing.T) {
	var routes []evpn.Path
	for i := 1; i <= 4; i++ {
		routes = append(routes, eadES(pe(i), esiRem), eadEVI(pe(i), esiRem), type3(pe(i)))
	}
	routes = append(routes, eadES(pe(4), esiLoc), eadEVI(pe(4), esiLoc), type4(pe(4), esiLoc, 500))
	for i := 0; i < 40; i++ {
		switch i % 4 {
		case 0:
			routes = append(routes, type2(pe(1+i%4), macN(i), esiRem, 0))
		case 1:
			routes = append(routes, type2(pe(1+i%3), macN(i), evpn.ESI{}, uint32(i%3)))
		case 2:
			routes = append(routes, type2(pe(4), macN(i), esiLoc, 0))
		case 3:
			routes = append(routes, type2(pe(2), macN(i-1), evpn.ESI{}, 7)) // a moved MAC
		}
	}
	ref, refDP := mustCore(t, baseConfig())
	ref.applyAll(t, routes...)
	want := refDP.canonical()

	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		var seq []evpn.Path
		for _, p := range routes {
			seq = append(seq, p)
			switch rng.IntN(6) {
			case 0:
				seq = append(seq, p) // duplicate
			case 1:
				seq = append(seq, withdraw(p), p) // flap
			case 2:
				seq = append(seq, withdraw(type2(pe(9), macN(1000+rng.IntN(50)), evpn.ESI{}, 0))) // unknown
			}
		}
		rng.Shuffle(len(seq), func(i, j int) { seq[i], seq[j] = seq[j], seq[i] })
		// Flaps must end announced: re-announce everything at the end in
		// random order, in random batch sizes.
		tail := append([]evpn.Path(nil), routes...)
		rng.Shuffle(len(tail), func(i, j int) { tail[i], tail[j] = tail[j], tail[i] })
		seq = append(seq, tail...)
		c, dp := mustCore(t, baseConfig())
		for len(seq) > 0 {
			n := 1 + rng.IntN(min(len(seq), 20))
			for _, p := range seq[:n] {
				if err := c.apply(p); err != nil {
					t.Fatal(err)
				}
			}
			c.flush()
			seq = seq[n:]
		}
		c.settle()
		if c.stats.SettleRewrites != 0 {
			t.Fatalf("trial %d: %d staged versions disagreed with the group table", trial, c.stats.SettleRewrites)
		}
		if got := dp.canonical(); got != want {
			t.Fatalf("trial %d: state differs from in-order application:\n got:\n%s\nwant:\n%s", trial, got, want)
		}
	}
}

func TestControllerLoop(t *testing.T) {
	dp := newFakeDP()
	sink := &sinkRec{}
	ctrl, err := New(baseConfig(), dp, &fakeUnderlay{}, sink)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ctrl.Run(ctx) }()
	var paths []evpn.Path
	for i := 0; i < 10000; i++ {
		paths = append(paths, type2(pe(1+i%4), macN(i), evpn.ESI{}, 0))
	}
	paths = append(paths, evpn.Path{Source: evpn.SourceAPI}) // rejected
	res, err := ctrl.Apply(ctx, paths)
	if err != nil || res.Added != 10000 || res.Rejected != 1 || len(res.Errors) != 1 {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	if len(dp.fdb) != 10000 {
		t.Fatalf("%d FDB entries", len(dp.fdb))
	}
	t.Logf("10k type-2 routes applied in %s", res.Elapsed)
	// The node originates IMET and its local ES routes.
	var kinds = map[evpn.RouteType]int{}
	for _, p := range sink.paths {
		kinds[p.Route.Type()]++
	}
	if kinds[evpn.RouteTypeIMET] != 1 || kinds[evpn.RouteTypeEAD] != 2 || kinds[evpn.RouteTypeES] != 1 {
		t.Fatalf("originated %v", kinds)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("run ended with %v", err)
	}
	if _, err := ctrl.Apply(context.Background(), nil); err != ErrClosed {
		t.Fatalf("apply after stop: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{},
		{VTEP4: netip.MustParseAddr("2001:db8::1")},
		{VTEP4: me, BDs: []uint32{0}},
		{VTEP4: me, BDs: []uint32{5, 5}},
		{VTEP4: me, ESes: []LocalES{{ESI: esiLoc}}},
		{VTEP4: me, ESes: []LocalES{{ESI: esiLoc, Ifindex: 1}, {ESI: esiRem, Ifindex: 1}}},
	}
	for i, c := range bad {
		if err := c.validate(); err == nil {
			t.Errorf("config %d accepted", i)
		}
	}
}

// TestOriginateIncremental: the routes this node originates follow its
// ports and learned MACs, and an event only re-sends what it touched.
func TestOriginateIncremental(t *testing.T) {
	dp := newFakeDP()
	sink := &sinkRec{}
	c, err := newCore(baseConfig(), dp, &fakeUnderlay{}, sink)
	if err != nil {
		t.Fatal(err)
	}
	c.originate()
	if n := len(sink.paths); n != 4 { // IMET, EAD-per-ES, EAD-per-EVI, type-4
		t.Fatalf("initial origination: %d paths", n)
	}
	for i := 0; i < 1000; i++ {
		c.learned(vni, macN(i), 3)
	}
	c.flush()
	sink.paths = nil
	c.originate()
	if len(sink.paths) != 1000 {
		t.Fatalf("1000 learned MACs: %d paths", len(sink.paths))
	}
	sink.paths = nil
	c.portState(7, false)
	c.flush()
	c.originate()
	withdrawn := 0
	for _, p := range sink.paths {
		if !p.Withdraw || p.Route.Type() == evpn.RouteTypeMACIP {
			t.Fatalf("port down sent %s", p)
		}
		withdrawn++
	}
	if withdrawn != 3 {
		t.Fatalf("port down withdrew %d routes, want the ES's 3", withdrawn)
	}
	sink.paths = nil
	c.portState(7, true)
	c.flush()
	c.originate()
	if len(sink.paths) != 3 || sink.paths[0].Withdraw {
		t.Fatalf("port up re-advertised %d paths", len(sink.paths))
	}
}

// TestControllerFlap: a PE flapping back to back through the controller
// (withdraw, re-announce, withdraw...) finds its staged version ready every
// time: the re-announce stages it before answering, whatever the loop's
// background staging has reached.
func TestControllerFlap(t *testing.T) {
	dp := newFakeDP()
	ctrl, err := New(baseConfig(), dp, &fakeUnderlay{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ctrl.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("loop ended with %v", err)
		}
	}()
	var paths []evpn.Path
	for i := 1; i <= 4; i++ {
		paths = append(paths, eadES(pe(i), esiRem), eadEVI(pe(i), esiRem))
	}
	for i := 0; i < 1000; i++ {
		paths = append(paths, type2(pe(1+i%4), macN(i), esiRem, 0))
	}
	if _, err := ctrl.Apply(ctx, paths); err != nil {
		t.Fatal(err)
	}
	// The first withdraw may find the background staging unfinished.
	w, a := withdraw(eadES(pe(2), esiRem)), eadES(pe(2), esiRem)
	for _, p := range []evpn.Path{w, a} {
		if _, err := ctrl.Apply(ctx, []evpn.Path{p}); err != nil {
			t.Fatal(err)
		}
	}
	s0, _ := ctrl.Stats(ctx)
	const flaps = 25
	for range flaps {
		for _, p := range []evpn.Path{w, a} {
			if _, err := ctrl.Apply(ctx, []evpn.Path{p}); err != nil {
				t.Fatal(err)
			}
		}
	}
	s1, _ := ctrl.Stats(ctx)
	if got := s1.StagedSwitches - s0.StagedSwitches; got != flaps {
		t.Fatalf("%d of %d withdraws switched to a staged version", got, flaps)
	}
	if got := s1.GroupWrites - s0.GroupWrites; got != 2*flaps {
		t.Fatalf("%d group writes for %d flaps, want 2 each", got, flaps)
	}
	if s1.SettleRewrites != 0 {
		t.Fatalf("%d staged versions disagreed with the group table", s1.SettleRewrites)
	}
}

// TestMACReuse: a MAC dropped by its last withdraw is kept for reuse, and
// the next MAC built from it carries nothing of the old one.
func TestMACReuse(t *testing.T) {
	c, dp := mustCore(t, baseConfig())
	c.applyAll(t, eadES(pe(1), esiRem), eadEVI(pe(1), esiRem), type2(pe(1), macN(1), esiRem, 7))
	old := c.macOf(macKey{vni: vni, mac: macN(1)})
	c.applyAll(t, withdraw(type2(pe(1), macN(1), esiRem, 7)))
	if c.macOf(macKey{vni: vni, mac: macN(1)}) != nil || len(c.freeMACs) != 1 || c.nMACs != 0 {
		t.Fatalf("after the withdraw: %d MACs, %d kept for reuse", c.nMACs, len(c.freeMACs))
	}
	c.applyAll(t, type2(pe(2), macN(2), evpn.ESI{}, 0))
	m := c.macOf(macKey{vni: vni, mac: macN(2)})
	if m != old {
		t.Fatal("the dropped MAC was not reused")
	}
	if len(m.paths) != 1 || m.paths[0].seq != 0 || len(m.esis) != 0 || m.local != nil || m.next != nil {
		t.Fatalf("reused MAC carries old state: %+v", m)
	}
	if e, ok := fdbOf(dp, macN(2)); !ok || e.Kind != dataplane.FDBVTEP || dp.nh[e.Ref].Dst != pe(2) {
		t.Fatalf("entry of the new MAC: %+v", e)
	}
	if _, ok := fdbOf(dp, macN(1)); ok {
		t.Fatal("the withdrawn MAC is still installed")
	}
}

// TestSwitchFirstOrder: a lone EAD-per-ES withdraw switches the group
// before anything else of the path is applied: the group holds the
// version without the PE while the RIB still holds the path; what it left
// then brings the RIB along, and the flush writes nothing more.
func TestSwitchFirstOrder(t *testing.T) {
	c, dp := mustCore(t, baseConfig())
	var paths []evpn.Path
	for i := 1; i <= 3; i++ {
		paths = append(paths, eadES(pe(i), esiRem), eadEVI(pe(i), esiRem))
	}
	paths = append(paths, type2(pe(1), macN(1), esiRem, 0))
	c.applyAll(t, paths...)
	e, _ := fdbOf(dp, macN(1))
	group := dp.es[e.Ref].Group
	w := withdraw(eadES(pe(2), esiRem))
	before := clone(dp.writes)
	if !c.switchFirst(w) {
		t.Fatal("the withdraw was not switched first")
	}
	if got := dp.canonicalGroup(group); got != "{192.0.2.11,192.0.2.13}" {
		t.Fatalf("group after the switch %s", got)
	}
	if _, still := c.rib[eadES(pe(2), esiRem).Route.Key()]; !still || len(c.early) != 1 {
		t.Fatalf("the path was applied with the switch (in RIB %v, %d early jobs)", still, len(c.early))
	}
	c.runEarly()
	c.flush()
	c.settle()
	if _, still := c.rib[eadES(pe(2), esiRem).Route.Key()]; still {
		t.Fatal("the path is still in the RIB after its bookkeeping")
	}
	if d := diff(before, dp.writes); d["group"] != 1 || d["fdb"] != 0 || d["es"] != 0 || c.stats.SettleRewrites != 0 {
		t.Fatalf("writes %v, settle rewrites %d: want the one group write", d, c.stats.SettleRewrites)
	}
	// Not switched first: a PE that another EAD-per-ES route keeps active,
	// and a withdraw of something not there.
	if c.switchFirst(w) {
		t.Fatal("a second withdraw of the same path was switched")
	}
	other := eadES(pe(3), esiRem)
	other.Route = evpn.EADRoute{RD: rd(pe(3), 7), ESI: esiRem, EthernetTag: evpn.MaxET}
	c.applyAll(t, other)
	if c.switchFirst(withdraw(eadES(pe(3), esiRem))) {
		t.Fatal("switched a PE another EAD-per-ES route keeps active")
	}
}
