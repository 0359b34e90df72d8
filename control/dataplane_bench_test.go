package control

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/internal/testutil"
)

// benchFDBMax is the real FDB's capacity in the injection benchmarks: the
// largest run fills half of it.
const benchFDBMax = 2 << 20

// BenchmarkApplyDataplane measures type-2 routes per second from
// Controller.Apply into the real fast-path maps (a loaded, unattached
// program with an FDB of 2M entries): N routes from four remote VTEPs,
// in one call (as the API's batch injection makes it) or in calls of
// 10k. Each iteration starts from a freshly loaded dataplane and a new
// controller; only the Apply calls are timed. Needs root.
func BenchmarkApplyDataplane(b *testing.B) {
	testutil.RequireRoot(b)
	for _, tc := range []struct{ routes, batch int }{
		{10000, 10000}, {100000, 100000}, {1000000, 1000000}, {1000000, 10000},
	} {
		b.Run(fmt.Sprintf("routes=%d/batch=%d", tc.routes, tc.batch), func(b *testing.B) {
			paths := benchType2(tc.routes)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				r := newBenchRig(b)
				b.StartTimer()
				for i := 0; i < len(paths); i += tc.batch {
					res, err := r.ctrl.Apply(r.ctx, paths[i:min(i+tc.batch, len(paths))])
					if err != nil || res.Added != min(tc.batch, len(paths)-i) {
						b.Fatalf("apply: %+v, %v", res, err)
					}
				}
				b.StopTimer()
				if n := r.dp.FDBCount(); n != tc.routes {
					b.Fatalf("FDB holds %d entries after %d routes", n, tc.routes)
				}
				r.close(b)
				b.StartTimer()
			}
			b.ReportMetric(float64(tc.routes)*float64(b.N)/b.Elapsed().Seconds(), "routes/s")
		})
	}
}

// TestApplyDataplane checks what the benchmark measures: every route's
// entry, read back from the real FDB, points at its VTEP's nexthop, and a
// withdrawal of them all empties the FDB again.
func TestApplyDataplane(t *testing.T) {
	testutil.RequireRoot(t)
	r := newBenchRig(t)
	defer r.close(t)
	const n = 20000
	paths := benchType2(n)
	start := time.Now()
	res, err := r.ctrl.Apply(r.ctx, paths)
	if err != nil || res.Added != n {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	t.Logf("%d routes in %v (%.0f routes/s)", n, time.Since(start), n/time.Since(start).Seconds())
	nh := map[uint32]bool{}
	for i, p := range paths {
		e, err := r.dp.FDB(dataplane.FDBKey{BD: vni, MAC: macN(i)})
		if err != nil {
			t.Fatalf("route %d (%s): %v", i, p, err)
		}
		if e.Kind != dataplane.FDBVTEP || e.Flags != 0 {
			t.Fatalf("route %d: entry %+v, want a plain VTEP entry", i, e)
		}
		nh[e.Ref] = true
	}
	if len(nh) != 4 {
		t.Fatalf("the entries use %d nexthops, want one per VTEP (4)", len(nh))
	}
	s, err := r.ctrl.Stats(r.ctx)
	if err != nil || s.FDBWrites != n || s.WriteErrors != 0 {
		t.Fatalf("stats %+v, %v: want %d FDB writes and no error", s, err, n)
	}
	w := make([]evpn.Path, n)
	for i, p := range paths {
		w[i] = p.Withdrawal()
	}
	if res, err := r.ctrl.Apply(r.ctx, w); err != nil || res.Withdrawn != n {
		t.Fatalf("withdraw: %+v, %v", res, err)
	}
	if c := r.dp.FDBCount(); c != 0 {
		t.Fatalf("FDB holds %d entries after every route was withdrawn", c)
	}
}

// benchType2 returns n type-2 routes, MAC i from VTEP pe(1+i%4).
func benchType2(n int) []evpn.Path {
	paths := make([]evpn.Path, n)
	for i := range paths {
		paths[i] = type2(pe(1+i%4), macN(i), evpn.ESI{}, 0)
	}
	return paths
}

// benchRig is a running controller over a freshly loaded dataplane.
type benchRig struct {
	dp     *dataplane.Dataplane
	ctrl   *Controller
	ctx    context.Context
	cancel context.CancelFunc
	done   chan error
}

func newBenchRig(tb testing.TB) *benchRig {
	tb.Helper()
	d, err := dataplane.Load(&dataplane.Options{FDBMax: benchFDBMax})
	if err != nil {
		tb.Fatal(err)
	}
	ctrl, err := New(baseConfig(), d, &fakeUnderlay{}, nil)
	if err != nil {
		_ = d.Close()
		tb.Fatal(err)
	}
	r := &benchRig{dp: d, ctrl: ctrl, done: make(chan error, 1)}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	go func() { r.done <- ctrl.Run(r.ctx) }()
	runtime.GC() // the previous iteration's garbage is not this one's cost
	return r
}

func (r *benchRig) close(tb testing.TB) {
	tb.Helper()
	r.cancel()
	if err := <-r.done; !errors.Is(err, context.Canceled) {
		tb.Errorf("loop: %v", err)
	}
	if err := r.dp.Close(); err != nil {
		tb.Error(err)
	}
}
