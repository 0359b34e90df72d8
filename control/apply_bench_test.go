package control

import (
	"fmt"
	"testing"

	"github.com/fwdplane/fwd/evpn"
)

// BenchmarkApply measures type-2 routes per second through the loop's core
// into an in-memory dataplane: the control plane's own cost.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			paths := make([]evpn.Path, n)
			for i := range paths {
				paths[i] = type2(pe(1+i%4), macN(i), evpn.ESI{}, 0)
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				c, _ := mustCore(b, baseConfig())
				b.StartTimer()
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
