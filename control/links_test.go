package control

import (
	"context"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/fwdplane/fwd/internal/testutil"
)

// TestWatchLinks: a real port of a local ES goes down and up in a
// namespace; the ES's down bit follows.
func TestWatchLinks(t *testing.T) {
	testutil.RequireRoot(t)
	ns := testutil.NewNetNS(t)
	port, _ := testutil.VethPair(t, ns, "es0", "es0p", 1500)
	cfg := baseConfig()
	cfg.ESes = []LocalES{{ESI: esiLoc, Ifindex: uint32(port)}}
	dp := newFakeDP()
	ctrl, err := New(cfg, dp, &fakeUnderlay{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = ctrl.Run(ctx) }()
	h, err := ns.Handle().LinkByName("es0")
	if err != nil {
		t.Fatal(err)
	}
	nsh, err := netns.GetFromName(ns.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer nsh.Close()
	go func() { _ = ctrl.WatchLinks(ctx, nsh, []uint32{uint32(port)}) }()

	esDown := func() bool {
		var down bool
		_ = ctrl.do(ctx, func(k *core) error { down = dp.esDown[k.ess[esiLoc].id]; return nil })
		return down
	}
	waitFor := func(want bool) time.Duration {
		start := time.Now()
		for esDown() != want {
			if time.Since(start) > 3*time.Second {
				t.Fatalf("ES down bit not %v after 3 s", want)
			}
			time.Sleep(time.Millisecond)
		}
		return time.Since(start)
	}
	if err := ns.Handle().LinkSetDown(h); err != nil {
		t.Fatal(err)
	}
	d := waitFor(true)
	if err := ns.Handle().LinkSetUp(h); err != nil {
		t.Fatal(err)
	}
	waitFor(false)
	t.Logf("admin down to ES down bit: %s", d)
}
