package control

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
)

// newESReconfig builds a controller over a fake dataplane with cfg and a
// route recorder; calls before Run apply at once.
func newESReconfig(t *testing.T, cfg Config) (*Controller, *fakeDP, *sinkRec) {
	t.Helper()
	dp, sink := newFakeDP(), &sinkRec{}
	ctrl, err := New(cfg, dp, &fakeUnderlay{}, sink)
	if err != nil {
		t.Fatal(err)
	}
	return ctrl, dp, sink
}

// advertisedNow is what the sink was last told and not withdrawn since.
func advertisedNow(s *sinkRec) map[evpn.RouteKey]evpn.Path {
	out := map[evpn.RouteKey]evpn.Path{}
	for _, p := range s.paths {
		if p.Withdraw {
			delete(out, p.Route.Key())
		} else {
			out[p.Route.Key()] = p
		}
	}
	return out
}

// esRoutesOf counts the advertised routes of types 1 and 4 for esi.
func esRoutesOf(s *sinkRec, esi evpn.ESI) (ead, es4 int, pref uint16) {
	for _, p := range advertisedNow(s) {
		switch r := p.Route.(type) {
		case evpn.EADRoute:
			if r.ESI == esi {
				ead++
			}
		case evpn.ESRoute:
			if r.ESI == esi {
				es4++
				pref = p.Attrs.DFElection.Pref
			}
		}
	}
	return ead, es4, pref
}

// advertisedMAC is the ESI of the type-2 route advertised for m.
func advertisedMAC(t *testing.T, s *sinkRec, m evpn.MAC) evpn.ESI {
	t.Helper()
	for _, p := range advertisedNow(s) {
		if r, ok := p.Route.(evpn.MACIPRoute); ok && r.MAC == m {
			return r.ESI
		}
	}
	t.Fatalf("no type-2 route advertised for %s", m)
	return evpn.ESI{}
}

func localOf(t *testing.T, ctrl *Controller, esi evpn.ESI) (ESView, bool) {
	t.Helper()
	ess, err := ctrl.ESes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range ess {
		if v.ESI == esi {
			return v, true
		}
	}
	return ESView{}, false
}

// TestESReconfigAddRemove: an ES added at runtime ends in the state of one
// configured from the start (the fast path's tables compare equal), and
// removing it again ends in the state of a node that never had it.
func TestESReconfigAddRemove(t *testing.T) {
	ctx := context.Background()
	// Routes that touch the ES (a peer on it, a MAC it learned there) and
	// a MAC learned on the ES's port before the ES exists.
	routes := []evpn.Path{type3(pe(1)), eadES(pe(1), esiLoc), eadEVI(pe(1), esiLoc), type4(pe(1), esiLoc, 200),
		type2(pe(1), macN(1), esiLoc, 0), type2(pe(2), macN(2), evpn.ESI{}, 0)}
	feed := func(ctrl *Controller) {
		t.Helper()
		if res, err := ctrl.Apply(ctx, routes); err != nil || res.Rejected != 0 {
			t.Fatalf("apply: %+v %v", res, err)
		}
		if err := ctrl.Learned(ctx, vni, macN(3), localES.Ifindex); err != nil {
			t.Fatal(err)
		}
		if err := ctrl.Learned(ctx, vni, macN(4), 5); err != nil { // another port
			t.Fatal(err)
		}
	}
	plain := Config{VTEP4: me, BDs: []uint32{vni}}

	ref, refDP, refSink := newESReconfig(t, baseConfig())
	feed(ref)
	never, neverDP, _ := newESReconfig(t, plain)
	feed(never)

	ctrl, dp, sink := newESReconfig(t, plain)
	feed(ctrl)
	before := dp.canonical()
	if before != neverDP.canonical() {
		t.Fatalf("same routes, different tables:\n%s\n--\n%s", before, neverDP.canonical())
	}
	if e, _ := fdbOf(dp, macN(1)); e.Kind != dataplane.FDBES || e.Flags&dataplane.FDBSync != 0 {
		t.Fatalf("MAC behind the still remote ES: %+v", e)
	}
	remote, ok := localOf(t, ctrl, esiLoc)
	if !ok || remote.Local || remote.Group == 0 {
		t.Fatalf("before: the ES should be remote with a group: %+v", remote)
	}

	ids, err := ctrl.SetLocalESes(ctx, []LocalES{localES}, func(uint32) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	id := ids[esiLoc]
	if id == 0 || id != remote.ID {
		t.Fatalf("ids %v: the remote ES's id %d should stay", ids, remote.ID)
	}
	if got, want := dp.canonical(), refDP.canonical(); got != want {
		t.Errorf("after adding the ES:\n%s\nconfigured from the start:\n%s", got, want)
	}
	if _, ok := dp.groups[remote.Group]; ok && remote.Group != dp.es[id].BackupGroup {
		t.Errorf("the remote ES's group %d is left in the fast path", remote.Group)
	}
	if e, _ := fdbOf(dp, macN(1)); e.Kind != dataplane.FDBES || e.Ref != id || e.Flags&dataplane.FDBSync == 0 {
		t.Errorf("the peer's MAC on our ES should be SYNC: %+v", e)
	}
	if e, _ := fdbOf(dp, macN(3)); e != (dataplane.FDBEntry{Kind: dataplane.FDBES, Ref: id}) {
		t.Errorf("the MAC learned on the port should join the ES: %+v", e)
	}
	if e, _ := fdbOf(dp, macN(4)); e != (dataplane.FDBEntry{Kind: dataplane.FDBLocal, Ref: 5}) {
		t.Errorf("a MAC on another port: %+v", e)
	}
	v, _ := localOf(t, ctrl, esiLoc)
	if !v.Local || v.Ifindex != localES.Ifindex || !v.PortUp || v.BackupGroup == 0 || v.DFPref != localES.DFPref {
		t.Errorf("view after adding: %+v", v)
	}
	ead, es4, pref := esRoutesOf(sink, esiLoc)
	rEAD, rES4, _ := esRoutesOf(refSink, esiLoc)
	if ead != rEAD || es4 != rES4 || ead == 0 || pref != localES.DFPref {
		t.Errorf("ES routes advertised: %d type-1, %d type-4 (pref %d); from the start: %d, %d", ead, es4, pref, rEAD, rES4)
	}
	if got := advertisedMAC(t, sink, macN(3)); got != esiLoc {
		t.Errorf("the learned MAC's type-2 carries ESI %s, want %s", got, esiLoc)
	}
	if !dp.peers[fmt.Sprint(pe(1), "/", id)] {
		t.Errorf("no es_peers entry for the ES peer: %v", dp.peers)
	}

	// Remove it again: the node is as one that never had it.
	if _, err := ctrl.SetLocalESes(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := dp.canonical(), neverDP.canonical(); got != want {
		t.Errorf("after removing the ES:\n%s\nnever had it:\n%s", got, want)
	}
	if e, _ := fdbOf(dp, macN(3)); e != (dataplane.FDBEntry{Kind: dataplane.FDBLocal, Ref: localES.Ifindex}) {
		t.Errorf("the learned MAC should be back on its port: %+v", e)
	}
	if ead, es4, _ := esRoutesOf(sink, esiLoc); ead+es4 != 0 {
		t.Errorf("%d type-1 and %d type-4 routes still advertised", ead, es4)
	}
	if got := advertisedMAC(t, sink, macN(3)); !got.IsZero() {
		t.Errorf("the learned MAC's type-2 still carries ESI %s", got)
	}
	if len(dp.peers) != 0 || len(dp.esDown) != 0 {
		t.Errorf("es_peers %v, down bits %v left", dp.peers, dp.esDown)
	}
	if _, ok := dp.groups[v.BackupGroup]; ok && v.BackupGroup != dp.es[id].Group {
		t.Errorf("the backup group %d is left in the fast path", v.BackupGroup)
	}
}

// TestESReconfigNoUsersLeft: an ES nobody else mentions is deleted with
// its id; a new one on a down port starts down and advertises nothing.
func TestESReconfigNoUsersLeft(t *testing.T) {
	ctx := context.Background()
	ctrl, dp, sink := newESReconfig(t, Config{VTEP4: me, BDs: []uint32{vni}})
	ids, err := ctrl.SetLocalESes(ctx, []LocalES{localES}, func(idx uint32) bool { return idx != localES.Ifindex })
	if err != nil {
		t.Fatal(err)
	}
	id := ids[esiLoc]
	if e := dp.es[id]; e.Flags&dataplane.ESLocal == 0 || e.Ifindex != localES.Ifindex || !dp.esDown[id] {
		t.Fatalf("new ES on a down port: entry %+v, down bit %v", e, dp.esDown[id])
	}
	if ead, es4, _ := esRoutesOf(sink, esiLoc); ead+es4 != 0 {
		t.Fatalf("an ES whose port is down advertises %d routes", ead+es4)
	}
	if err := ctrl.PortState(ctx, localES.Ifindex, true); err != nil {
		t.Fatal(err)
	}
	if _, err := ctrl.Stats(ctx); err != nil { // the port change's rest runs first
		t.Fatal(err)
	}
	if ead, es4, _ := esRoutesOf(sink, esiLoc); ead == 0 || es4 != 1 || dp.esDown[id] {
		t.Fatalf("port up: %d type-1, %d type-4, down bit %v", ead, es4, dp.esDown[id])
	}
	if _, err := ctrl.SetLocalESes(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := dp.es[id]; ok || len(dp.es) != 0 {
		t.Fatalf("ES entries left: %v", dp.es)
	}
	if _, ok := localOf(t, ctrl, esiLoc); ok {
		t.Fatal("the controller still lists the ES")
	}
	// Its id is free again.
	ids, err = ctrl.SetLocalESes(ctx, []LocalES{{ESI: esiRem, Ifindex: 8}}, nil)
	if err != nil || ids[esiRem] != id {
		t.Fatalf("ids %v %v: want the freed id %d again", ids, err, id)
	}
}

// TestESReconfigChange: a new DF preference changes the type-4 route in
// place; a new port moves the ES (its MACs with it: the old port's back
// to plain local, the new port's onto the ES); a bad set changes nothing.
func TestESReconfigChange(t *testing.T) {
	ctx := context.Background()
	ctrl, dp, sink := newESReconfig(t, baseConfig())
	if err := ctrl.Learned(ctx, vni, macN(1), 7); err != nil {
		t.Fatal(err)
	}
	if err := ctrl.Learned(ctx, vni, macN(2), 8); err != nil {
		t.Fatal(err)
	}
	v0, _ := localOf(t, ctrl, esiLoc)

	pref := localES
	pref.DFPref = 300
	ids, err := ctrl.SetLocalESes(ctx, []LocalES{pref}, nil)
	if err != nil || ids[esiLoc] != v0.ID {
		t.Fatalf("ids %v %v", ids, err)
	}
	if _, _, p := esRoutesOf(sink, esiLoc); p != 300 {
		t.Errorf("type-4 advertises preference %d, want 300", p)
	}
	if v, _ := localOf(t, ctrl, esiLoc); v.DFPref != 300 || v.Ifindex != 7 {
		t.Errorf("view %+v", v)
	}

	moved := pref
	moved.Ifindex = 8
	ids, err = ctrl.SetLocalESes(ctx, []LocalES{moved}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := ids[esiLoc]
	if e := dp.es[id]; e.Ifindex != 8 {
		t.Errorf("ES entry port %d, want 8", e.Ifindex)
	}
	if e, _ := fdbOf(dp, macN(1)); e != (dataplane.FDBEntry{Kind: dataplane.FDBLocal, Ref: 7}) {
		t.Errorf("MAC on the old port: %+v", e)
	}
	if e, _ := fdbOf(dp, macN(2)); e != (dataplane.FDBEntry{Kind: dataplane.FDBES, Ref: id}) {
		t.Errorf("MAC on the new port: %+v", e)
	}

	before := dp.canonical()
	var maxESI evpn.ESI
	for i := range maxESI {
		maxESI[i] = 0xff
	}
	bad := [][]LocalES{
		{moved, moved},                                          // listed twice
		{moved, {ESI: esiRem, Ifindex: 8}},                      // two ESes on one port
		{{ESI: evpn.ESI{}, Ifindex: 9}},                         // reserved ESI
		{{ESI: esiRem, Ifindex: 0}},                             // no port
		{{ESI: esiRem, Ifindex: 9}, {ESI: maxESI, Ifindex: 10}}, // a good one beside a reserved one
	}
	for i, set := range bad {
		if _, err := ctrl.SetLocalESes(ctx, set, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("bad set %d: %v, want ErrConfig", i, err)
		}
	}
	if got := dp.canonical(); got != before {
		t.Errorf("a refused set changed the tables:\n%s\nwas:\n%s", got, before)
	}
}

// TestESReconfigRenumberPort: a port that comes back under a new ifindex
// takes its ES, its uplink state and its local MACs along.
func TestESReconfigRenumberPort(t *testing.T) {
	ctx := context.Background()
	cfg := baseConfig()
	cfg.Uplinks = []uint32{3}
	ctrl, dp, _ := newESReconfig(t, cfg)
	if err := ctrl.Learned(ctx, vni, macN(1), 7); err != nil {
		t.Fatal(err)
	}
	if err := ctrl.Learned(ctx, vni, macN(2), 5); err != nil {
		t.Fatal(err)
	}
	v, _ := localOf(t, ctrl, esiLoc)
	for _, mv := range [][2]uint32{{7, 17}, {5, 15}, {3, 13}} {
		if err := ctrl.RenumberPort(ctx, mv[0], mv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if e := dp.es[v.ID]; e.Ifindex != 17 || e.Flags&dataplane.ESLocal == 0 {
		t.Errorf("ES entry %+v: want port 17", e)
	}
	if e, _ := fdbOf(dp, macN(1)); e != (dataplane.FDBEntry{Kind: dataplane.FDBES, Ref: v.ID}) {
		t.Errorf("MAC on the ES: %+v", e)
	}
	if e, _ := fdbOf(dp, macN(2)); e != (dataplane.FDBEntry{Kind: dataplane.FDBLocal, Ref: 15}) {
		t.Errorf("MAC on the renumbered port: %+v", e)
	}
	if cfg.ESes[0].Ifindex != 7 || cfg.Uplinks[0] != 3 {
		t.Errorf("the caller's config changed: %+v", cfg)
	}
	// The port state follows the new ifindex: down at 17 holds the ES down,
	// and all uplinks down (13) does too.
	if err := ctrl.PortState(ctx, 17, false); err != nil {
		t.Fatal(err)
	}
	if !dp.esDown[v.ID] {
		t.Error("port 17 down does not hold the ES down")
	}
	if err := ctrl.PortState(ctx, 17, true); err != nil {
		t.Fatal(err)
	}
	if err := ctrl.PortState(ctx, 13, false); err != nil {
		t.Fatal(err)
	}
	if !dp.esDown[v.ID] {
		t.Error("the renumbered uplink down does not hold the ES down")
	}
	if err := ctrl.Learned(ctx, vni, macN(3), 17); err != nil {
		t.Fatal(err)
	}
	if e, _ := fdbOf(dp, macN(3)); e.Kind != dataplane.FDBES {
		t.Errorf("a MAC learned on the new ifindex is not on the ES: %+v", e)
	}
	if err := ctrl.RenumberPort(ctx, 15, 17); !errors.Is(err, ErrConfig) {
		t.Errorf("renumber onto the ES's port: %v", err)
	}
	if err := ctrl.RenumberPort(ctx, 0, 4); !errors.Is(err, ErrConfig) {
		t.Errorf("renumber from 0: %v", err)
	}
}

// TestSetUplinks: removing the only uplink, down, releases the local ES it
// held down; a new uplink starts from the state it is given, and one that
// is down alone holds the ES down again.
func TestSetUplinks(t *testing.T) {
	ctx := context.Background()
	cfg := baseConfig()
	cfg.Uplinks = []uint32{3}
	ctrl, dp, _ := newESReconfig(t, cfg)
	v, _ := localOf(t, ctrl, esiLoc)
	if err := ctrl.PortState(ctx, 3, false); err != nil {
		t.Fatal(err)
	}
	if !dp.esDown[v.ID] {
		t.Fatal("the only uplink down does not hold the ES down")
	}
	if err := ctrl.SetUplinks(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	if dp.esDown[v.ID] {
		t.Error("the ES stays down after its down uplink was removed")
	}
	if err := ctrl.SetUplinks(ctx, []uint32{4}, func(uint32) bool { return false }); err != nil {
		t.Fatal(err)
	}
	if !dp.esDown[v.ID] {
		t.Error("a new uplink that is down does not hold the ES down")
	}
	if err := ctrl.SetUplinks(ctx, []uint32{4, 5}, func(u uint32) bool { return u == 5 }); err != nil {
		t.Fatal(err)
	}
	if dp.esDown[v.ID] {
		t.Error("a second uplink, up, does not release the ES")
	}
	if err := ctrl.PortState(ctx, 5, false); err != nil {
		t.Fatal(err)
	}
	if !dp.esDown[v.ID] {
		t.Error("both uplinks down does not hold the ES down")
	}
	if cfg.Uplinks[0] != 3 {
		t.Errorf("the caller's config changed: %+v", cfg.Uplinks)
	}
}
