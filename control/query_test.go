package control

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
)

// runController starts a controller over a fake dataplane; the loop stops
// when the test ends.
func runController(t *testing.T, sink RouteSink) (*Controller, *fakeDP) {
	t.Helper()
	dp := newFakeDP()
	ctrl, err := New(baseConfig(), dp, &fakeUnderlay{}, sink)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ctrl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("loop ended with %v", err)
		}
	})
	return ctrl, dp
}

func TestQueries(t *testing.T) {
	ctx := context.Background()
	ctrl, _ := runController(t, nil)
	paths := []evpn.Path{type3(pe(1)), type3(pe(2))}
	for i := 1; i <= 3; i++ {
		paths = append(paths, eadES(pe(i), esiRem), eadEVI(pe(i), esiRem))
	}
	paths = append(paths, type4(pe(1), esiLoc, 200), eadES(pe(1), esiLoc), eadEVI(pe(1), esiLoc))
	paths = append(paths,
		type2(pe(1), macN(1), evpn.ESI{}, 0), // remote VTEP
		type2(pe(2), macN(2), esiRem, 3),     // behind the remote ES
		type2(pe(1), macN(3), esiLoc, 0),     // SYNC on our ES
	)
	if res, err := ctrl.Apply(ctx, paths); err != nil || res.Rejected != 0 {
		t.Fatalf("apply: %+v %v", res, err)
	}
	if err := ctrl.Learned(ctx, vni, macN(4), localES.Ifindex); err != nil {
		t.Fatal(err)
	}

	ess, err := ctrl.ESes(ctx)
	if err != nil || len(ess) != 2 {
		t.Fatalf("ESes: %v %v", ess, err)
	}
	loc, rem := ess[0], ess[1]
	if !loc.Local || loc.ESI != esiLoc || loc.Ifindex != localES.Ifindex || !loc.PortUp || loc.DFPref != 100 || len(loc.Peers) != 1 || loc.Peers[0].Candidate.Pref != 200 {
		t.Errorf("local ES view %+v", loc)
	}
	if rem.Local || rem.ESI != esiRem || len(rem.Peers) != 3 || len(rem.Members) != 3 || rem.Group == 0 || rem.MACs != 1 {
		t.Errorf("remote ES view %+v", rem)
	}
	for _, p := range rem.Peers {
		if !p.Active || !p.EADPerES || p.EVIs != 1 {
			t.Errorf("remote ES peer %+v", p)
		}
	}

	macs, err := ctrl.MACs(ctx, MACFilter{})
	if err != nil || len(macs) != 4 {
		t.Fatalf("MACs: %+v %v", macs, err)
	}
	want := []struct {
		local, sync bool
		esi         evpn.ESI
		kind        dataplane.FDBKind
	}{
		{false, false, evpn.ESI{}, dataplane.FDBVTEP},
		{false, false, esiRem, dataplane.FDBES},
		{false, true, esiLoc, dataplane.FDBES},
		{true, false, esiLoc, dataplane.FDBES},
	}
	for i, w := range want {
		m := macs[i]
		if m.MAC != macN(i+1) || m.Local != w.local || m.Sync != w.sync || m.ESI != w.esi || m.Installed == nil || m.Installed.Kind != w.kind {
			t.Errorf("MAC %d: %+v (installed %+v), want %+v", i+1, m, m.Installed, w)
		}
	}
	if macs[1].Seq != 3 || macs[1].VTEP != pe(2) {
		t.Errorf("MAC behind the remote ES: %+v", macs[1])
	}
	m2 := macN(2)
	if got, _ := ctrl.MACs(ctx, MACFilter{MAC: &m2}); len(got) != 1 || got[0].MAC != m2 {
		t.Errorf("MAC filter: %+v", got)
	}
	loce := esiLoc
	if got, _ := ctrl.MACs(ctx, MACFilter{ESI: &loce}); len(got) != 2 {
		t.Errorf("ESI filter: %+v", got)
	}
	if got, _ := ctrl.MACs(ctx, MACFilter{VNI: vni + 1}); len(got) != 0 {
		t.Errorf("VNI filter: %+v", got)
	}

	vteps, err := ctrl.VTEPs(ctx)
	if err != nil || len(vteps) != 3 || vteps[0].Addr != pe(1) || vteps[0].NextHop == 0 || vteps[0].ESes != 1 {
		t.Errorf("VTEPs: %+v %v", vteps, err)
	}
	groups, err := ctrl.Groups(ctx)
	if err != nil || len(groups) == 0 {
		t.Errorf("groups: %+v %v", groups, err)
	}
	// A group's users are the MACs behind its ES: one behind the remote
	// ES, two (a synced and a local one) behind the local ES's backup.
	refs := map[uint32]int{}
	for _, g := range groups {
		refs[g.Group.ID] = g.Refs
	}
	if loc.BackupGroup == 0 || refs[rem.Group] != 1 || refs[loc.BackupGroup] != 2 {
		t.Errorf("group refs %v: want 1 for the remote ES's group %d, 2 for the local ES's backup %d", refs, rem.Group, loc.BackupGroup)
	}
	t2, err := ctrl.Routes(ctx, evpn.RouteTypeMACIP)
	if err != nil || len(t2) != 3 {
		t.Errorf("type-2 routes: %d %v", len(t2), err)
	}
	all, _ := ctrl.Routes(ctx, 0)
	counts, _ := ctrl.RouteCounts(ctx)
	if len(all) != len(paths) || counts[evpn.RouteTypeEAD] != 8 || counts[evpn.RouteTypeIMET] != 2 {
		t.Errorf("%d routes (want %d), counts %v", len(all), len(paths), counts)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].Route.Type() > all[i].Route.Type() {
			t.Fatalf("routes not sorted by type at %d", i)
		}
	}
	flood, _ := ctrl.Flood(ctx)
	if len(flood[vni]) != 2 || flood[vni][0] != pe(1) {
		t.Errorf("flood %v", flood)
	}
	n, _ := ctrl.Counts(ctx)
	if n.Routes != len(paths) || n.MACs != 4 || n.ESes != 2 || n.VTEPs != 3 {
		t.Errorf("counts %+v", n)
	}
}

// TestESAdmin: an operator holding a local ES down sets its down bit and
// withdraws its routes, as a port down does; releasing it undoes both.
func TestESAdmin(t *testing.T) {
	ctx := context.Background()
	sink := &sinkRec{}
	ctrl, dp := runController(t, sink)
	ess, _ := ctrl.ESes(ctx)
	id := ess[0].ID
	advertised := func() int {
		n := 0
		for _, p := range sink.paths {
			if routeESI(p.Route) == esiLoc {
				if p.Withdraw {
					n--
				} else {
					n++
				}
			}
		}
		return n
	}
	before := advertised()
	if before == 0 || dp.esDown[id] {
		t.Fatalf("before: %d ES routes advertised, down bit %v", before, dp.esDown[id])
	}
	if err := ctrl.SetESAdmin(ctx, esiLoc, false); err != nil {
		t.Fatal(err)
	}
	ess, _ = ctrl.ESes(ctx)
	if !dp.esDown[id] || !ess[0].AdminDown || ess[0].Up || ess[0].DF || advertised() != 0 {
		t.Fatalf("held down: bit %v, view %+v, %d routes advertised", dp.esDown[id], ess[0], advertised())
	}
	if err := ctrl.SetESAdmin(ctx, esiLoc, true); err != nil {
		t.Fatal(err)
	}
	ess, _ = ctrl.ESes(ctx)
	if dp.esDown[id] || ess[0].AdminDown || !ess[0].Up || advertised() != before {
		t.Fatalf("released: bit %v, view %+v, %d routes advertised (want %d)", dp.esDown[id], ess[0], advertised(), before)
	}
	if err := ctrl.SetESAdmin(ctx, esiRem, false); !errors.Is(err, ErrUnknownES) {
		t.Fatalf("remote/unknown ES: %v", err)
	}
}

func TestLatency(t *testing.T) {
	ctx := context.Background()
	ctrl, _ := runController(t, nil)
	for range 10 {
		if _, err := ctrl.Stats(ctx); err != nil {
			t.Fatal(err)
		}
	}
	l, err := ctrl.Latency(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, c := range l.Counts {
		n += c
	}
	if l.Count != 10 || n+l.Inf != l.Count || l.Sum <= 0 {
		t.Fatalf("latency %+v", l)
	}
}

func TestSetBridgeDomains(t *testing.T) {
	ctx := context.Background()
	ctrl, dp := runController(t, nil)
	const other = vni + 1
	p := evpn.MACPath(rd(pe(1), other), evpn.ESI{}, macN(9), other, pe(1), evpn.SourceAPI)
	if _, err := ctrl.Apply(ctx, []evpn.Path{p, type2(pe(1), macN(1), evpn.ESI{}, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := dp.fdb[dataplane.FDBKey{BD: other, MAC: macN(9)}]; ok {
		t.Fatal("a MAC of a VNI this node does not serve was installed")
	}
	if err := ctrl.SetBridgeDomains(ctx, []uint32{vni, other}); err != nil {
		t.Fatal(err)
	}
	if _, ok := dp.fdb[dataplane.FDBKey{BD: other, MAC: macN(9)}]; !ok || !dp.bds[other] {
		t.Fatal("the MAC of the added bridge domain was not installed")
	}
	if err := ctrl.SetBridgeDomains(ctx, []uint32{other}); err != nil {
		t.Fatal(err)
	}
	if _, ok := dp.fdb[dataplane.FDBKey{BD: vni, MAC: macN(1)}]; ok {
		t.Fatal("the removed bridge domain's MAC is still installed")
	}
	if err := ctrl.SetBridgeDomains(ctx, []uint32{0}); err == nil {
		t.Fatal("VNI 0 accepted")
	}
}

// TestApplyMACs: a generated batch (one template, MACs by index) installs
// and withdraws exactly its MACs, and refuses what it cannot apply.
func TestApplyMACs(t *testing.T) {
	ctx := context.Background()
	ctrl, dp := runController(t, nil)
	tmpl := type2(pe(1), macN(0), evpn.ESI{}, 0)
	res, err := ctrl.ApplyMACs(ctx, 2000, tmpl, macN)
	if err != nil || res.Added != 2000 || res.Rejected != 0 {
		t.Fatalf("announce: %+v %v", res, err)
	}
	if _, err := ctrl.Stats(ctx); err != nil { // the flush is done: dp may be read
		t.Fatal(err)
	}
	if len(dp.fdb) != 2000 {
		t.Fatalf("%d FDB entries, want 2000", len(dp.fdb))
	}
	if res, _ := ctrl.ApplyMACs(ctx, 2000, tmpl, macN); res.Duplicates != 2000 {
		t.Fatalf("again: %+v", res)
	}
	res, err = ctrl.ApplyMACs(ctx, 3, tmpl.Withdrawal(), func(i int) evpn.MAC {
		if i == 2 {
			return evpn.MAC{}
		}
		return macN(i)
	})
	if err != nil || res.Withdrawn != 2 || res.Rejected != 1 || len(res.Errors) != 1 {
		t.Fatalf("withdraw: %+v %v", res, err)
	}
	if _, err := ctrl.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	if len(dp.fdb) != 1998 {
		t.Fatalf("%d FDB entries after the withdraw, want 1998", len(dp.fdb))
	}
	if _, err := ctrl.ApplyMACs(ctx, 1, eadES(pe(1), esiRem), macN); err == nil {
		t.Fatal("a type-1 template accepted")
	}
}

// TestSwitchFirst: a lone EAD-per-ES withdraw answers after its switch;
// what it left is done before anything else reads or changes the state.
func TestSwitchFirst(t *testing.T) {
	ctx := context.Background()
	ctrl, _ := runController(t, nil)
	var paths []evpn.Path
	for i := 1; i <= 3; i++ {
		paths = append(paths, eadES(pe(i), esiRem), eadEVI(pe(i), esiRem))
	}
	paths = append(paths, type2(pe(1), macN(1), esiRem, 0))
	if _, err := ctrl.Apply(ctx, paths); err != nil {
		t.Fatal(err)
	}
	// Let the loop stage the versions.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ess, _ := ctrl.ESes(ctx)
		if err := ctx.Err(); err != nil || time.Now().After(deadline) {
			t.Fatal("not staged in time")
		}
		var staged int
		_ = ctrl.do(ctx, func(k *core) error { staged = len(k.ess[esiRem].staged); return nil })
		if len(ess) > 0 && staged == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s0, _ := ctrl.Stats(ctx)
	res, err := ctrl.Apply(ctx, []evpn.Path{withdraw(eadES(pe(2), esiRem))})
	if err != nil || res.Withdrawn != 1 {
		t.Fatalf("withdraw: %+v %v", res, err)
	}
	s1, _ := ctrl.Stats(ctx)
	if s1.StagedSwitches-s0.StagedSwitches != 1 || s1.GroupWrites-s0.GroupWrites != 1 || s1.PathsWithdrawn-s0.PathsWithdrawn != 1 {
		t.Fatalf("staged switches %d, group writes %d, withdrawn %d", s1.StagedSwitches-s0.StagedSwitches, s1.GroupWrites-s0.GroupWrites, s1.PathsWithdrawn-s0.PathsWithdrawn)
	}
	ead, _ := ctrl.Routes(ctx, evpn.RouteTypeEAD)
	if len(ead) != 5 {
		t.Fatalf("%d EAD routes after the withdraw, want 5", len(ead))
	}
	ess, _ := ctrl.ESes(ctx)
	for _, e := range ess {
		if e.ESI == esiRem && (len(e.Members) != 2 || slices.Contains(e.Members, pe(2))) {
			t.Fatalf("members after the withdraw: %v", e.Members)
		}
	}
	// A withdraw of a path that is not there takes the ordinary way.
	if res, _ := ctrl.Apply(ctx, []evpn.Path{withdraw(eadES(pe(2), esiRem))}); res.UnknownWithdraws != 1 {
		t.Fatalf("second withdraw: %+v", res)
	}
}
