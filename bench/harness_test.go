package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fwdplane/fwd/internal/testutil"
	"github.com/fwdplane/fwd/lab"
)

// TestHarness runs a small encap4 scenario (1k FDB entries, 16 flows, a
// fixed frame count) and its remote-ES twin (64 flows over a 4-VTEP group)
// on fwd, the floor and the kernel path, and checks that every system
// delivered frames, that the sink's per-flow counts add up (to what was
// delivered, and for fwd and the floor, which lose nothing at this size,
// to exactly what was sent per flow), and that the encapsulating systems
// sent encap4 to its one VTEP and es4 to all four.
func TestHarness(t *testing.T) {
	testutil.RequireRoot(t)
	const frames = 2 * 64 * 256
	encap := Scenario{Kind: Encap4, FDB: FDBSmall, Flows: 16, FrameBytes: 64}
	es := Scenario{Kind: ES4, FDB: FDBSmall, Flows: 64, FrameBytes: 64}
	var steps []string
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, []Scenario{encap, es}, &Options{Frames: frames, Rounds: 2, BelowCapacity: 0.5,
		Progress: func(p Progress) { steps = append(steps, p.String()) }})
	if err != nil {
		t.Fatal(err)
	}
	if errs := append(rep.Errors(), rep.Warnings...); len(errs) > 0 {
		t.Fatalf("errors: %s", strings.Join(errs, "; "))
	}
	if len(rep.Results) != 2 {
		t.Fatalf("%d results, want 2", len(rep.Results))
	}
	for i, s := range []Scenario{encap, es} {
		res := rep.Results[i]
		if res.Name != s.Name() {
			t.Fatalf("result %d: %s, want %s", i, res.Name, s.Name())
		}
		for _, sys := range Systems {
			m := res.Measurement(sys)
			if m == nil {
				t.Errorf("%s %s: no measurement", s, sys)
				continue
			}
			t.Logf("%s %s: sent %d, delivered %d (%.2f Mpps, loss %.2f%%), stray %d, flows %d..%d, VTEPs %v",
				s, sys, m.Sent, m.Delivered, m.Mpps, 100*m.Loss, m.Stray, m.FlowMin, m.FlowMax, m.VTEPs)
			if m.Sent != frames {
				t.Errorf("%s %s: sent %d, want %d", s, sys, m.Sent, frames)
			}
			if m.Delivered == 0 || m.Delivered > m.Sent {
				t.Errorf("%s %s: delivered %d of %d", s, sys, m.Delivered, m.Sent)
			}
			if len(m.PerFlow) != s.Flows {
				t.Fatalf("%s %s: %d per-flow counts, want %d", s, sys, len(m.PerFlow), s.Flows)
			}
			var sum uint64
			for _, n := range m.PerFlow {
				sum += n
			}
			if sum != m.Delivered {
				t.Errorf("%s %s: per-flow counts add up to %d, delivered %d", s, sys, sum, m.Delivered)
			}
			if sys != Floor {
				var vsum uint64
				for _, n := range m.VTEPs {
					vsum += n
				}
				if want := s.Kind.members(); len(m.VTEPs) != want || vsum != m.Delivered {
					t.Errorf("%s %s: frames per VTEP %v (%d in all), want %d VTEPs and %d frames", s, sys, m.VTEPs, vsum, want, m.Delivered)
				}
			}
			if sys == Kernel {
				continue
			}
			for f, n := range m.PerFlow {
				if n != frames/uint64(s.Flows) {
					t.Errorf("%s %s: flow %d: %d frames, want %d", s, sys, f, n, frames/s.Flows)
				}
			}
		}
	}
	res := rep.Results[0]
	if res.FwdVsKernel <= 0 || res.FwdVsFloor <= 0 {
		t.Errorf("ratios: fwd/kernel %g, fwd/floor %g", res.FwdVsKernel, res.FwdVsFloor)
	}
	var fwdPaced bool
	for _, p := range rep.BelowCapacity {
		t.Logf("below capacity: %s offered %.2f of %.2f Mpps, loss %.4f%%", p.System, p.OfferedMpps, p.CapacityMpps, 100*p.Loss)
		if p.System == Fwd {
			fwdPaced = true
			if p.Sent != frames || p.Delivered != p.Sent {
				t.Errorf("fwd below capacity: sent %d, delivered %d", p.Sent, p.Delivered)
			}
		}
	}
	if !fwdPaced {
		t.Error("no below-capacity check for fwd")
	}
	if len(steps) == 0 || !strings.Contains(strings.Join(steps, "\n"), "round 2/2") {
		t.Errorf("progress: %q", steps)
	}
	// Every namespace is gone.
	ents, _ := os.ReadDir("/run/netns")
	prefix := lab.Prefix + strconv.Itoa(os.Getpid()) + "-"
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			t.Errorf("namespace %s left behind", e.Name())
		}
	}
}
