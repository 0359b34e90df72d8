package api

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// metricsContentType is the Prometheus text exposition format, version
// 0.0.4.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// writeMetrics writes m in the Prometheus text format: every family with
// its HELP and TYPE lines, series in a stable order (by label value), label
// values escaped. A malformed histogram is an error, before anything is
// written.
func writeMetrics(out *bytes.Buffer, m Metrics) error {
	if err := m.LoopLatency.validate(); err != nil {
		return fmt.Errorf("fwd_loop_call_seconds: %w", err)
	}
	w := &promWriter{w: out}

	w.family("fwd_packets_total", "counter", "Frames the fast path handled, by the reason it counted them for.")
	for _, c := range m.Counters {
		w.sample("fwd_packets_total", "reason", c.Name, strconv.FormatUint(c.Value, 10))
	}

	w.family("fwd_map_entries", "gauge", "Entries in each BPF map.")
	for _, u := range m.Maps {
		w.sample("fwd_map_entries", "map", u.Name, strconv.Itoa(u.Entries))
	}
	w.family("fwd_map_capacity", "gauge", "Maximum entries of each BPF map.")
	for _, u := range m.Maps {
		w.sample("fwd_map_capacity", "map", u.Name, strconv.Itoa(u.Max))
	}

	w.family("fwd_nexthop_groups", "gauge", "Nexthop groups by install state.")
	for _, k := range slices.Sorted(maps.Keys(m.Groups)) {
		w.sample("fwd_nexthop_groups", "state", k, strconv.Itoa(m.Groups[k]))
	}

	w.family("fwd_ethernet_segments", "gauge", "Ethernet Segments by state (df, non-df, down, remote).")
	for _, k := range slices.Sorted(maps.Keys(m.ESes)) {
		w.sample("fwd_ethernet_segments", "state", k, strconv.Itoa(m.ESes[k]))
	}

	w.family("fwd_evpn_routes", "gauge", "EVPN paths in the RIB by route type.")
	for _, k := range slices.Sorted(maps.Keys(m.Routes)) {
		w.sample("fwd_evpn_routes", "type", strconv.Itoa(k), strconv.Itoa(m.Routes[k]))
	}

	h := m.LoopLatency
	w.family("fwd_loop_call_seconds", "histogram", "Time calls held the control loop.")
	var cum uint64
	for i, b := range h.Bounds {
		cum += h.Counts[i]
		w.sample("fwd_loop_call_seconds_bucket", "le", formatFloat(b), strconv.FormatUint(cum, 10))
	}
	cum += h.Inf
	w.sample("fwd_loop_call_seconds_bucket", "le", "+Inf", strconv.FormatUint(cum, 10))
	w.sample("fwd_loop_call_seconds_sum", "", "", formatFloat(h.Sum))
	w.sample("fwd_loop_call_seconds_count", "", "", strconv.FormatUint(cum, 10))

	w.family("fwd_loop_writes_total", "counter", "Writes the control loop made to the fast path, and their errors, by kind.")
	for _, k := range slices.Sorted(maps.Keys(m.LoopWrites)) {
		w.sample("fwd_loop_writes_total", "kind", k, strconv.FormatUint(m.LoopWrites[k], 10))
	}
	return nil
}

// validate checks that h can be exposed: as many counts as bounds, bounds
// finite and increasing, and Count (when set) the total of the buckets.
func (h Histogram) validate() error {
	if len(h.Bounds) != len(h.Counts) {
		return fmt.Errorf("%d bounds but %d counts", len(h.Bounds), len(h.Counts))
	}
	for i, b := range h.Bounds {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return fmt.Errorf("bound %d is %v; the +Inf bucket is implicit", i, b)
		}
		if i > 0 && b <= h.Bounds[i-1] {
			return fmt.Errorf("bound %d (%v) is not above bound %d (%v)", i, b, i-1, h.Bounds[i-1])
		}
	}
	total := h.Inf
	for _, c := range h.Counts {
		total += c
	}
	if h.Count != 0 && h.Count != total {
		return fmt.Errorf("count %d is not the %d observations in the buckets", h.Count, total)
	}
	return nil
}

// promWriter writes exposition lines.
type promWriter struct {
	w *bytes.Buffer
}

func (p *promWriter) family(name, typ, help string) {
	p.w.WriteString("# HELP " + name + " " + helpEscaper.Replace(help) + "\n")
	p.w.WriteString("# TYPE " + name + " " + typ + "\n")
}

// sample writes `name{label="value"} v`, or `name v` when label is "".
func (p *promWriter) sample(name, label, value, v string) {
	p.w.WriteString(name)
	if label != "" {
		p.w.WriteString("{" + label + `="` + labelEscaper.Replace(value) + `"}`)
	}
	p.w.WriteString(" " + v + "\n")
}

var (
	// Label values escape backslash, double quote and newline; HELP text
	// backslash and newline.
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// formatFloat prints a sample value or bucket bound as Prometheus does.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
