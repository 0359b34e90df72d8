package control

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
)

// pinnedOf reads what a fake dataplane holds, as dataplane.Inventory does.
func pinnedOf(f *fakeDP) *Pinned {
	p := &Pinned{}
	for id := range f.nh {
		p.NextHops = append(p.NextHops, id)
	}
	for id := range f.groups {
		p.Groups = append(p.Groups, id)
	}
	for id := range f.es {
		p.ESes = append(p.ESes, id)
	}
	for a := range f.vteps {
		p.VTEPs = append(p.VTEPs, a)
	}
	return p
}

// TestRestart: a second instance over the first one's fast path builds its
// state beside the old one (every FDB entry resolves at every step), then
// the sweep leaves exactly what a fresh instance with the re-announced
// routes would hold.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	var all []evpn.Path
	for i := 1; i <= 4; i++ {
		all = append(all, eadES(pe(i), esiRem), eadEVI(pe(i), esiRem))
	}
	for i := 0; i < 200; i++ {
		esi := evpn.ESI{}
		if i%2 == 0 {
			esi = esiRem
		}
		all = append(all, type2(pe(1+i%4), macN(i), esi, 0))
	}
	// Routes that do not come back after the restart: PE 4 entirely and
	// every tenth MAC.
	var back []evpn.Path
	for _, p := range all {
		if p.Attrs.NextHop == pe(4) {
			continue
		}
		if r, ok := p.Route.(evpn.MACIPRoute); ok && r.MAC[5]%10 == 0 {
			continue
		}
		back = append(back, p)
	}

	dp := newFakeDP()
	old, err := newCore(baseConfig(), dp, &fakeUnderlay{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	old.applyAll(t, all...)
	resolves := func(when string) {
		t.Helper()
		if c := dp.canonical(); strings.Contains(c, "missing-es") || strings.Contains(c, "unresolved-nh") {
			t.Fatalf("%s: an FDB entry does not resolve:\n%s", when, c)
		}
	}
	resolves("before the restart")
	oldNH, oldGroups, oldES := len(dp.nh), len(dp.groups), len(dp.es)

	cfg := baseConfig()
	cfg.Pinned = pinnedOf(dp)
	ctrl, err := New(cfg, dp, &fakeUnderlay{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- ctrl.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("loop ended with %v", err)
		}
	}()
	resolves("after the new instance started")
	if res, err := ctrl.Apply(ctx, back); err != nil || res.Rejected != 0 {
		t.Fatalf("re-announce: %+v %v", res, err)
	}
	resolves("after the routes came back")
	if len(dp.nh) <= oldNH || len(dp.groups) <= oldGroups || len(dp.es) <= oldES {
		t.Fatalf("the new state did not go beside the old: %d/%d nexthops, %d/%d groups, %d/%d ESes", len(dp.nh), oldNH, len(dp.groups), oldGroups, len(dp.es), oldES)
	}

	var keys []dataplane.FDBKey
	for k := range dp.fdb {
		keys = append(keys, k)
	}
	swept, err := ctrl.SweepFDB(ctx, keys)
	if err != nil || swept != 200-len(macsOf(back)) {
		t.Fatalf("swept %d FDB entries (want %d): %v", swept, 200-len(macsOf(back)), err)
	}
	resolves("after the FDB sweep")
	syncs := 0
	rel, err := ctrl.ReleasePinned(ctx, func() error { syncs++; return nil })
	if err != nil || syncs != 2 || rel.ESes != oldES || rel.Groups != oldGroups || rel.NextHops != oldNH || rel.VTEPs != 1 {
		t.Fatalf("released %v with %d grace periods: %v", rel, syncs, err)
	}

	fresh, fdp := mustCore(t, baseConfig())
	fresh.applyAll(t, back...)
	if _, err := ctrl.Stats(ctx); err != nil { // let the loop settle
		t.Fatal(err)
	}
	if got, want := dp.canonical(), fdp.canonical(); got != want {
		t.Fatalf("after the sweep:\n%s\nwant (a fresh instance):\n%s", got, want)
	}
	if len(dp.nh) != len(fdp.nh) || len(dp.groups) != len(fdp.groups) || len(dp.es) != len(fdp.es) {
		t.Fatalf("left %d nexthops, %d groups, %d ESes; a fresh instance has %d, %d, %d", len(dp.nh), len(dp.groups), len(dp.es), len(fdp.nh), len(fdp.groups), len(fdp.es))
	}
	if again, _ := ctrl.ReleasePinned(ctx, func() error { return nil }); again != (PinnedRelease{}) {
		t.Fatalf("a second release removed %v", again)
	}
}

func macsOf(paths []evpn.Path) []evpn.MAC {
	var out []evpn.MAC
	for _, p := range paths {
		if r, ok := p.Route.(evpn.MACIPRoute); ok && !slices.Contains(out, r.MAC) {
			out = append(out, r.MAC)
		}
	}
	return out
}
