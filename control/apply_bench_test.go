package control

import (
	"fmt"
	"testing"

	"github.com/fwdplane/fwd/evpn"
)

// BenchmarkApply measures type-2 routes per second through the loop's core
// into an in-memory dataplane: the control plane's own cost.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{10000, 100000, 1000000} {
		for _, reserve := range []bool{false, true} {
			b.Run(fmt.Sprintf("routes=%d/reserve=%v", n, reserve), func(b *testing.B) {
				paths := make([]evpn.Path, n)
				for i := range paths {
					paths[i] = type2(pe(1+i%4), macN(i), evpn.ESI{}, 0)
				}
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					c, _ := mustCore(b, baseConfig())
					b.StartTimer()
					if reserve {
						c.reserve(paths)
					}
					for _, p := range paths {
						if err := c.apply(p); err != nil {
							b.Fatal(err)
						}
					}
					c.flush()
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "routes/s")
			})
		}
	}
}

// BenchmarkMassWithdraw: one PE's EAD-per-ES withdrawn and restored, on a
// remote ES of four PEs: the control plane's cost of a tier-2 event.
func BenchmarkMassWithdraw(b *testing.B) {
	c, _ := mustCore(b, baseConfig())
	var paths []evpn.Path
	for i := 1; i <= 4; i++ {
		paths = append(paths, eadES(pe(i), esiRem), eadEVI(pe(i), esiRem))
	}
	for i := 0; i < 1000; i++ {
		paths = append(paths, type2(pe(1+i%4), macN(i), esiRem, 0))
	}
	c.applyAll(b, paths...)
	w, a := withdraw(eadES(pe(2), esiRem)), eadES(pe(2), esiRem)
	b.ReportAllocs()
	for b.Loop() {
		_ = c.apply(w)
		c.flush()
		_ = c.apply(a)
		c.flush()
	}
}
