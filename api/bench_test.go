package api

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkAddRoutes measures a batch of explicit type-2 routes from the
// Client through the socket, the strict decoder and into the Backend (a
// fake that only records): the API's share of route injection.
func BenchmarkAddRoutes(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		batch := RouteBatch{Routes: make([]Route, n)}
		for i := range batch.Routes {
			batch.Routes[i] = Route{
				Type: 2, RD: "192.0.2.2:100", VNI: 100, NextHop: "192.0.2.2",
				MAC: fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", byte(i>>24), byte(i>>16), byte(i>>8), byte(i)),
			}
		}
		b.Run(fmt.Sprintf("routes/%d", n), func(b *testing.B) {
			ts := mustServe(b, ServerOptions{}, true)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ts.c.AddRoutes(ctx, batch); err != nil {
					b.Fatal(err)
				}
				ts.fake.reset()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "routes/s")
		})
	}
}
