package bench

import (
	"os"
	"testing"
	"time"
)

// benchBurst is how many frames one benchmark iteration sends: one
// generator burst, long enough that a call's fixed cost (1.5 ms and more)
// is a few percent of it.
const benchBurst = 1 << 20

// BenchmarkXDP runs the fast-path scenarios through fwd on the live-frame
// harness: each iteration is one generator burst; pkts/s and ns/pkt are
// what the sink counted, over the generator's time. Names carry the scale:
// BenchmarkXDP/encap4/fdb=1M/flows=64k/64B.
func BenchmarkXDP(b *testing.B) { benchmarkSystem(b, Fwd) }

// BenchmarkXDPFloor runs the same scenarios through the floor, the
// redirect-only reference: fwd's pkts/s over the floor's is fwd/floor.
func BenchmarkXDPFloor(b *testing.B) { benchmarkSystem(b, Floor) }

func benchmarkSystem(b *testing.B, sys System) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: network namespaces, XDP and BPF_PROG_RUN")
	}
	o, err := (&Options{}).withDefaults()
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range Scenarios(false) {
		b.Run(s.Name(), func(b *testing.B) {
			b.ReportAllocs()
			r, err := newRig(b.Context(), s.rigKey(), sys, o, func(string) {})
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				if err := r.close(); err != nil {
					b.Error(err)
				}
			}()
			ru, err := r.start(b.Context(), s, 0, 100*time.Millisecond)
			if err != nil {
				b.Fatal(err)
			}
			var sent uint64
			var gen time.Duration
			for b.Loop() {
				n, el, err := r.generate(b.Context(), ru.tmpl, ru.cfg, benchBurst, 0, 0, 0)
				if err != nil {
					b.Fatal(err)
				}
				sent += n
				gen += el
			}
			time.Sleep(drain)
			_, per, err := r.bench.SinkCounts(s.Flows)
			if err != nil {
				b.Fatal(err)
			}
			var delivered uint64
			for i := range per {
				delivered += per[i] - ru.per[i]
			}
			if delivered == 0 {
				b.Fatalf("%d frames sent, none delivered", sent)
			}
			b.ReportMetric(float64(delivered)/gen.Seconds(), "pkts/s")
			b.ReportMetric(float64(gen.Nanoseconds())/float64(delivered), "ns/pkt")
			b.ReportMetric(float64(sent-min(sent, delivered))/float64(sent), "loss")
		})
	}
}
