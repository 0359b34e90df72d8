package api

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// TestMetricsText checks the exposition line by line: HELP and TYPE for
// every family, sorted series, escaped label values, a cumulative
// histogram whose +Inf bucket is its count.
func TestMetricsText(t *testing.T) {
	m := Metrics{
		Counters: []Counter{
			{Name: "fwd_encap", Value: 1234567890123},
			{Name: `odd"name\with` + "\nnewline", Value: 1},
		},
		Maps:   []MapUsage{{Name: "fdb", Entries: 3, Max: 1048576}, {Name: "nhg", Entries: 0, Max: 4096}},
		Groups: map[string]int{"pending": 2, "installed": 5, "failed": 0},
		ESes:   map[string]int{"remote": 3, "df": 1, "non-df": 2},
		Routes: map[int]int{5: 1, 2: 1000000, 3: 4},
		LoopLatency: Histogram{
			Bounds: []float64{0.00001, 0.0001, 0.001, 0.1},
			Counts: []uint64{5, 10, 0, 1},
			Inf:    2,
			Sum:    0.5,
			Count:  18,
		},
		LoopWrites: map[string]uint64{"group": 7, "fdb": 1000, "error": 0},
	}
	var buf bytes.Buffer
	if err := writeMetrics(&buf, m); err != nil {
		t.Fatal(err)
	}
	want := `# HELP fwd_packets_total Frames the fast path handled, by the reason it counted them for.
# TYPE fwd_packets_total counter
fwd_packets_total{reason="fwd_encap"} 1234567890123
fwd_packets_total{reason="odd\"name\\with\nnewline"} 1
# HELP fwd_map_entries Entries in each BPF map.
# TYPE fwd_map_entries gauge
fwd_map_entries{map="fdb"} 3
fwd_map_entries{map="nhg"} 0
# HELP fwd_map_capacity Maximum entries of each BPF map.
# TYPE fwd_map_capacity gauge
fwd_map_capacity{map="fdb"} 1048576
fwd_map_capacity{map="nhg"} 4096
# HELP fwd_nexthop_groups Nexthop groups by install state.
# TYPE fwd_nexthop_groups gauge
fwd_nexthop_groups{state="failed"} 0
fwd_nexthop_groups{state="installed"} 5
fwd_nexthop_groups{state="pending"} 2
# HELP fwd_ethernet_segments Ethernet Segments by state (df, non-df, down, remote).
# TYPE fwd_ethernet_segments gauge
fwd_ethernet_segments{state="df"} 1
fwd_ethernet_segments{state="non-df"} 2
fwd_ethernet_segments{state="remote"} 3
# HELP fwd_evpn_routes EVPN paths in the RIB by route type.
# TYPE fwd_evpn_routes gauge
fwd_evpn_routes{type="2"} 1000000
fwd_evpn_routes{type="3"} 4
fwd_evpn_routes{type="5"} 1
# HELP fwd_loop_call_seconds Time calls held the control loop.
# TYPE fwd_loop_call_seconds histogram
fwd_loop_call_seconds_bucket{le="1e-05"} 5
fwd_loop_call_seconds_bucket{le="0.0001"} 15
fwd_loop_call_seconds_bucket{le="0.001"} 15
fwd_loop_call_seconds_bucket{le="0.1"} 16
fwd_loop_call_seconds_bucket{le="+Inf"} 18
fwd_loop_call_seconds_sum 0.5
fwd_loop_call_seconds_count 18
# HELP fwd_loop_writes_total Writes the control loop made to the fast path, and their errors, by kind.
# TYPE fwd_loop_writes_total counter
fwd_loop_writes_total{kind="error"} 0
fwd_loop_writes_total{kind="fdb"} 1000
fwd_loop_writes_total{kind="group"} 7
`
	got, wantLines := strings.Split(buf.String(), "\n"), strings.Split(want, "\n")
	for i := range max(len(got), len(wantLines)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, g, w)
		}
	}
}

// TestMetricsEmpty: no data still gives every family and a zero
// histogram, which Prometheus accepts.
func TestMetricsEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := writeMetrics(&buf, Metrics{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# TYPE fwd_packets_total counter\n# HELP fwd_map_entries",
		"fwd_loop_call_seconds_bucket{le=\"+Inf\"} 0\nfwd_loop_call_seconds_sum 0\nfwd_loop_call_seconds_count 0\n",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("empty metrics:\n%s\nhave no %q", buf.String(), want)
		}
	}
}

func TestMetricsBadHistogram(t *testing.T) {
	for name, h := range map[string]Histogram{
		"counts without bounds": {Counts: []uint64{1}},
		"decreasing bounds":     {Bounds: []float64{0.1, 0.01}, Counts: []uint64{1, 1}},
		"infinite bound":        {Bounds: []float64{math.Inf(1)}, Counts: []uint64{1}},
		"NaN bound":             {Bounds: []float64{math.NaN()}, Counts: []uint64{1}},
		"count off":             {Bounds: []float64{1}, Counts: []uint64{1}, Inf: 1, Count: 3},
	} {
		if err := writeMetrics(&bytes.Buffer{}, Metrics{LoopLatency: h}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestMetricsBackendFailure: a histogram the server cannot expose is a 500,
// not half an exposition.
func TestMetricsBackendFailure(t *testing.T) {
	ts := mustServe(t, ServerOptions{}, true)
	old := fakeMetrics.LoopLatency
	fakeMetrics.LoopLatency = Histogram{Bounds: []float64{1}}
	defer func() { fakeMetrics.LoopLatency = old }()
	resp, e, _ := ts.raw(t, "GET", "/metrics", nil)
	if resp.StatusCode != 500 || !strings.Contains(ts.log.String(), "1 bounds but 0 counts") {
		t.Errorf("%d %+v; log:\n%s", resp.StatusCode, e, ts.log.String())
	}
}
