package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// FailoverResult is one event at one N.
type FailoverResult struct {
	Event FailoverEvent `json:"event"`
	Tier  int           `json:"tier"`
	MACs  int           `json:"macs"`
	// Writes counts the dataplane map writes the event's controller call
	// made (Controller.Stats deltas: FDB, group, ES and nexthop writes),
	// per injection; the kinds follow.
	Writes        uint64 `json:"writes"`
	FDBWrites     uint64 `json:"fdb_writes"`
	GroupWrites   uint64 `json:"group_writes"`
	ESWrites      uint64 `json:"es_writes"`
	NextHopWrites uint64 `json:"nexthop_writes"`
	// DownBitFlips counts down bits set or cleared: single atomic stores
	// into a mapped word, not map writes.
	DownBitFlips uint64 `json:"down_bit_flips"`
	// WritesBeforeSwitch counts the map writes made before the write that
	// switched the traffic (a down bit or the group); WriteOrder lists
	// every write of the first injection in order.
	WritesBeforeSwitch uint64   `json:"writes_before_switch"`
	WriteOrder         []string `json:"write_order"`
	// SwitchUS is the median duration of the controller call (from the
	// call to its return; the write inside it is the switch), over Reps
	// injections, with the fastest and slowest.
	SwitchUS    float64 `json:"switch_us"`
	SwitchUSMin float64 `json:"switch_us_min"`
	SwitchUSMax float64 `json:"switch_us_max"`
	// SwitchUSHot is the median controller call when the event is
	// injected and undone back to back, HotReps times: the loop's steady
	// cost, without an idle machine's cold caches.
	SwitchUSHot float64 `json:"switch_us_hot"`
	// SwitchWriteUSHot and WriteUSHot are SwitchWriteUS and WriteUS for
	// the back-to-back calls.
	SwitchWriteUSHot float64 `json:"switch_write_us_hot"`
	WriteUSHot       float64 `json:"write_us_hot"`
	// SwitchWriteUS is the median time from the call to the completion of
	// the switching write: when the fast path started forwarding the new
	// way. The rest of the call is bookkeeping and the loop's reply.
	SwitchWriteUS float64 `json:"switch_write_us"`
	// WriteUS is the median duration of the switching write itself (the
	// dataplane call, from entry to return): SwitchWriteUS - WriteUS is
	// the control loop's work before it.
	WriteUS float64 `json:"write_us"`
	// FramesAfter counts the frames the sink saw going to the dead member
	// (the failed VTEP, or the local port) from failoverSettle (20 ms)
	// after the call returned to one window later, over all injections:
	// frames fwd sent there after the switch. Target: 0.
	FramesAfter uint64 `json:"frames_after"`
	// InFlight is the most frames (over the injections) the sink counted
	// for the dead member in the 20 ms right after the call returned:
	// frames fwd had encapsulated before the switch, still in the veth
	// rings. DrainUS is the latest time after the return at which that
	// count still grew (0: never), read by polling the sink (one poll
	// takes a few hundred microseconds).
	InFlight uint64  `json:"in_flight"`
	DrainUS  float64 `json:"drain_us"`
	// DeadBefore is the mean number of frames the dead member got in the
	// window before an injection, SurvivorsAfter the mean number the
	// surviving members (or the ES peer) got in the window after: the
	// traffic was there, and it moved.
	DeadBefore     uint64 `json:"dead_before"`
	SurvivorsAfter uint64 `json:"survivors_after"`
	// KernelReplaceUS is FRR's mechanism on the same N: the kernel's
	// replace of the fdb group N FDB entries use (median); null where FRR
	// installs nothing (a local ES's backup group, see ANCHORS.md).
	KernelReplaceUS    *float64 `json:"kernel_replace_us"`
	KernelReplaceUSMin *float64 `json:"kernel_replace_us_min,omitempty"`
	KernelReplaceUSMax *float64 `json:"kernel_replace_us_max,omitempty"`
	// KernelReplaceUSHot is the replace timed back to back (median), to
	// set beside SwitchUSHot.
	KernelReplaceUSHot *float64 `json:"kernel_replace_us_hot,omitempty"`
	// NaiveUS is the naive mechanism: every MAC's entry rewritten with
	// one Dataplane.SetFDBBatch of N entries (median).
	NaiveUS float64 `json:"naive_us"`
	// KernelFDBUS is the naive mechanism on the kernel: N FDB entries
	// through `bridge -batch` (one load, measured while setting up).
	KernelFDBUS float64 `json:"kernel_naive_us"`
	// NaiveOverSwitch and KernelOverSwitch are NaiveUS and KernelReplaceUS
	// over SwitchUS.
	NaiveOverSwitch     float64  `json:"naive_over_switch"`
	KernelOverSwitch    *float64 `json:"kernel_over_switch"`
	KernelOverSwitchHot *float64 `json:"kernel_over_switch_hot,omitempty"`
	Reps                int      `json:"reps"`
	Note                string   `json:"note,omitempty"`
}

// FailoverTarget is one of issue 4's targets, checked against the results.
type FailoverTarget struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

// FailoverReport is a whole run.
type FailoverReport struct {
	Results      []FailoverResult `json:"results"`
	Targets      []FailoverTarget `json:"targets"`
	Loads        []FailoverLoad   `json:"setup"`
	Machine      Machine          `json:"machine"`
	Started      time.Time        `json:"started"`
	Seconds      float64          `json:"seconds"`
	Reps         int              `json:"reps"`
	HotReps      int              `json:"hot_reps"`
	WindowMS     float64          `json:"window_ms"`
	GeneratorCPU int              `json:"generator_cpu"`
	KernelMethod string           `json:"kernel_method"`
}

func (r *FailoverReport) find(ev FailoverEvent, n int) *FailoverResult {
	for i := range r.Results {
		if r.Results[i].Event == ev && r.Results[i].MACs == n {
			return &r.Results[i]
		}
	}
	return nil
}

// macsRun lists the N that have results, ascending.
func (r *FailoverReport) macsRun() []int {
	var ns []int
	for _, res := range r.Results {
		if !slices.Contains(ns, res.MACs) {
			ns = append(ns, res.MACs)
		}
	}
	slices.Sort(ns)
	return ns
}

// CheckTargets checks issue 4's targets against the results: one write per
// remote-ES event whatever N; switch time at the largest N within 1.5x of
// the smallest; tier-1 events with no write on the path (and, strictly, no
// write at all) and no frame to the dead member after the flip; at the
// largest N at least 100x faster than the naive rewrite and no slower than
// the kernel's replace. Targets whose results are missing are left out.
func (r *FailoverReport) CheckTargets() []FailoverTarget {
	ns := r.macsRun()
	if len(ns) == 0 {
		return nil
	}
	lo, hi := ns[0], ns[len(ns)-1]
	var out []FailoverTarget
	add := func(name, want string, met bool, got string) {
		out = append(out, FailoverTarget{Name: name, Want: want, Got: got, Met: met})
	}
	perN := func(ev FailoverEvent, f func(*FailoverResult) string) string {
		var parts []string
		for _, n := range ns {
			if res := r.find(ev, n); res != nil {
				parts = append(parts, failoverScale(n)+": "+f(res))
			}
		}
		return strings.Join(parts, ", ")
	}
	all := func(ev FailoverEvent, ok func(*FailoverResult) bool) bool {
		for _, n := range ns {
			if res := r.find(ev, n); res != nil && !ok(res) {
				return false
			}
		}
		return true
	}

	ev := FailoverEADWithdraw
	add("ead-withdraw: one write whatever N", "1 map write at every N",
		all(ev, func(x *FailoverResult) bool { return x.Writes == 1 }),
		perN(ev, func(x *FailoverResult) string { return failoverWritesText(x) }))
	add("ead-withdraw: no frame to the withdrawn PE after the switch", "0 frames",
		all(ev, func(x *FailoverResult) bool { return x.FramesAfter == 0 }),
		perN(ev, func(x *FailoverResult) string { return fmt.Sprint(x.FramesAfter) }))
	if hi > lo {
		for _, ev := range FailoverEvents {
			a, b := r.find(ev, lo), r.find(ev, hi)
			if a == nil || b == nil || a.SwitchUS == 0 {
				continue
			}
			x := b.SwitchUS / a.SwitchUS
			got := fmt.Sprintf("%.2fx (%.1f us vs %.1f us)", x, b.SwitchUS, a.SwitchUS)
			if a.SwitchUSHot > 0 {
				got += fmt.Sprintf("; hot %.2fx (%.1f us vs %.1f us)", b.SwitchUSHot/a.SwitchUSHot, b.SwitchUSHot, a.SwitchUSHot)
			}
			add(fmt.Sprintf("%s: switch time at N=%s within 1.5x of N=%s", ev, failoverScale(hi), failoverScale(lo)),
				"<= 1.5x", x <= 1.5, got)
		}
	}
	for _, ev := range []FailoverEvent{FailoverUnderlayLost, FailoverLocalPortDown} {
		add(ev.String()+" (tier 1): no map write before the bit flips", "0 writes before the flip",
			all(ev, func(x *FailoverResult) bool { return x.WritesBeforeSwitch == 0 && x.DownBitFlips >= 1 }),
			perN(ev, func(x *FailoverResult) string {
				return fmt.Sprintf("%d before, %d bit flip(s)", x.WritesBeforeSwitch, x.DownBitFlips)
			}))
		add(ev.String()+" (tier 1): no control-plane map write at all", "0 writes",
			all(ev, func(x *FailoverResult) bool { return x.Writes == 0 }),
			perN(ev, func(x *FailoverResult) string { return failoverWritesText(x) }))
		add(ev.String()+" (tier 1): no frame to the dead member after the flip", "0 frames",
			all(ev, func(x *FailoverResult) bool { return x.FramesAfter == 0 }),
			perN(ev, func(x *FailoverResult) string { return fmt.Sprint(x.FramesAfter) }))
	}
	for _, ev := range FailoverEvents {
		x := r.find(ev, hi)
		if x == nil {
			continue
		}
		add(fmt.Sprintf("%s at N=%s: >= 100x faster than the naive rewrite", ev, failoverScale(hi)), ">= 100x",
			x.NaiveOverSwitch >= 100, fmt.Sprintf("%.0fx (naive %.0f us, switch %.1f us)", x.NaiveOverSwitch, x.NaiveUS, x.SwitchUS))
		if x.KernelOverSwitch != nil {
			add(fmt.Sprintf("%s at N=%s: no slower than the kernel's ip nexthop replace (cold)", ev, failoverScale(hi)),
				"switch <= kernel replace", *x.KernelOverSwitch >= 1,
				fmt.Sprintf("switch %.1f us, kernel %.1f us (%.2fx)", x.SwitchUS, *x.KernelReplaceUS, *x.KernelOverSwitch))
		}
		if x.KernelOverSwitchHot != nil {
			add(fmt.Sprintf("%s at N=%s: no slower than the kernel's ip nexthop replace (hot)", ev, failoverScale(hi)),
				"switch <= kernel replace", *x.KernelOverSwitchHot >= 1,
				fmt.Sprintf("switch %.1f us, kernel %.1f us (%.2fx)", x.SwitchUSHot, *x.KernelReplaceUSHot, *x.KernelOverSwitchHot))
		}
	}
	return out
}

// failoverWritesText says what an event wrote: "0", "1 group", "1 group + 1 es".
func failoverWritesText(x *FailoverResult) string {
	var parts []string
	for _, w := range []struct {
		n    uint64
		kind string
	}{{x.GroupWrites, "group"}, {x.ESWrites, "es"}, {x.NextHopWrites, "nexthop"}, {x.FDBWrites, "fdb"}} {
		if w.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", w.n, w.kind))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " + ")
}

// WriteJSON writes the report as one JSON object.
func (r *FailoverReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

func failoverFmtUS(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 0.1:
		return fmt.Sprintf("%.2f", v)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// WriteTable writes the results, the set-up rates and the targets as text.
func (r *FailoverReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "fwd bench failover: N MACs behind a remote ES of 4 VTEPs and N behind a local ES,\n")
	fmt.Fprintf(w, "live traffic through fwd's fast path, events injected through control.Controller\n")
	fmt.Fprintf(w, "(kernel %s, %d CPUs, load %.2f -> %.2f; per event and N: %d injections a %.0f ms window apart, %d back to back)\n\n",
		r.Machine.Kernel, r.Machine.CPUs, r.Machine.LoadStart, r.Machine.LoadEnd, r.Reps, r.WindowMS, r.HotReps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "event\ttier\tMACs\twrites\tbit flips\tswitch us\t(min-max)\tswitched at\twrite us\tin flight\tframes after\thot switch\thot at\tkernel us\tkernel hot\tnaive us\tnaive/switch\tkernel/switch\t")
	for _, x := range r.Results {
		kc, kh, kx := "n/a", "n/a", "n/a"
		if x.KernelReplaceUS != nil {
			kc = failoverFmtUS(*x.KernelReplaceUS)
			kx = fmt.Sprintf("%.2fx", *x.KernelOverSwitch)
		}
		if x.KernelReplaceUSHot != nil {
			kh = failoverFmtUS(*x.KernelReplaceUSHot)
		}
		inflight := "0"
		if x.InFlight > 0 {
			inflight = fmt.Sprintf("%d (%.1f ms)", x.InFlight, x.DrainUS/1000)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s-%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%.0fx\t%s\t\n",
			x.Event, x.Tier, failoverScale(x.MACs), failoverWritesText(&x), x.DownBitFlips,
			failoverFmtUS(x.SwitchUS), failoverFmtUS(x.SwitchUSMin), failoverFmtUS(x.SwitchUSMax),
			failoverFmtUS(x.SwitchWriteUS), failoverFmtUS(x.WriteUS), inflight, x.FramesAfter,
			failoverFmtUS(x.SwitchUSHot), failoverFmtUS(x.SwitchWriteUSHot), kc, kh, failoverFmtUS(x.NaiveUS), x.NaiveOverSwitch, kx)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "writes: map writes by the event's controller call (Controller.Stats); bit flips are atomic stores")
	fmt.Fprintln(w, "switch: the controller call's duration, a window after the last event (cold), median of the injections")
	fmt.Fprintln(w, "switched at: when the write that moved the traffic returned, from the call; write: that write's own time")
	fmt.Fprintln(w, "  (a down bit is one atomic store; a group is a slot write and one atomic store)")
	fmt.Fprintln(w, "in flight: frames to the dead member counted in the 20 ms after the call (encapsulated before the switch,")
	fmt.Fprintln(w, "  still in a veth ring), the most of any injection, and (in brackets) the last time that count grew")
	fmt.Fprintln(w, "frames after: frames to the dead member from 20 ms after the call to one window later, all injections")
	fmt.Fprintln(w, "hot switch, hot at: the same call back to back; kernel: ip nexthop replace of the fdb group, one netlink")
	fmt.Fprintln(w, "  message, send to ack, cold (a window apart) and hot (back to back)")
	fmt.Fprintln(w, "naive: Dataplane.SetFDBBatch rewriting all N entries; kernel/switch: kernel cold over fwd cold")
	for _, res := range r.Results {
		if res.Note != "" {
			fmt.Fprintf(w, "note: %s N=%s: %s\n", res.Event, failoverScale(res.MACs), res.Note)
		}
	}
	if len(r.Loads) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "MACs\troutes\tController.Apply s\troutes/s\tkernel bridge -batch s\tkernel entries/s\ttraffic delivered Mpps\tother processes (CPUs)\t")
		for _, l := range r.Loads {
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.0f\t%.2f\t%.0f\t%.2f\t%.2f\t\n", failoverScale(l.MACs), failoverScale(l.Routes),
				l.ApplySeconds, l.PerSecond, l.KernelLoadSeconds, l.KernelPerSecond, l.FramesPerSecond/1e6, l.OtherCPUs)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, l := range r.Loads {
			if l.OtherCPUs >= 0.2 {
				fmt.Fprintf(w, "warning: other processes kept %.2f CPUs busy during N=%s's events: its times are inflated\n",
					l.OtherCPUs, failoverScale(l.MACs))
			}
		}
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(w, "\ntargets (issue 4):")
		for _, t := range r.Targets {
			mark := "MET   "
			if !t.Met {
				mark = "MISSED"
			}
			fmt.Fprintf(w, "  %s %s: %s\n", mark, t.Name, t.Got)
		}
	}
	fmt.Fprintf(w, "\nrun took %.0f s\n", r.Seconds)
	return nil
}

// WriteSVG draws the switch time against N, both on log scales, for fwd's
// three events beside the kernel's group replace and the two naive
// rewrites.
func (r *FailoverReport) WriteSVG(w io.Writer) error {
	ns := r.macsRun()
	type series struct {
		name, colour, dash string
		pts                map[int]float64
	}
	var ss []series
	colours := map[FailoverEvent]string{FailoverEADWithdraw: "#1f77b4", FailoverUnderlayLost: "#2ca02c", FailoverLocalPortDown: "#9467bd"}
	for _, ev := range FailoverEvents {
		s := series{name: "fwd " + string(ev), colour: colours[ev], pts: map[int]float64{}}
		for _, n := range ns {
			if x := r.find(ev, n); x != nil {
				s.pts[n] = x.SwitchUS
			}
		}
		ss = append(ss, s)
	}
	kern := series{name: "kernel ip nexthop replace (FRR)", colour: "#d62728", dash: "6,4", pts: map[int]float64{}}
	naive := series{name: "naive: rewrite N fwd FDB entries", colour: "#7f7f7f", dash: "2,3", pts: map[int]float64{}}
	knaive := series{name: "naive on the kernel: N bridge fdb entries", colour: "#ff7f0e", dash: "2,3", pts: map[int]float64{}}
	for _, n := range ns {
		if x := r.find(FailoverEADWithdraw, n); x != nil {
			if x.KernelReplaceUS != nil {
				kern.pts[n] = *x.KernelReplaceUS
			}
			naive.pts[n] = x.NaiveUS
			knaive.pts[n] = x.KernelFDBUS
		}
	}
	ss = append(ss, kern, naive, knaive)

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, v := range s.pts {
			if v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if len(ns) == 0 || math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	ylo, yhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if yhi == ylo {
		yhi++
	}
	xlo, xhi := 0.0, 1.0
	if len(ns) > 0 {
		xlo, xhi = math.Floor(math.Log10(float64(ns[0]))), math.Ceil(math.Log10(float64(ns[len(ns)-1])))
		if xhi == xlo {
			xhi++
		}
	}
	const width, height, left, right, top, bottom = 880.0, 460.0, 70.0, 300.0, 40.0, 50.0
	pw, ph := width-left-right, height-top-bottom
	px := func(n float64) float64 { return left + (math.Log10(n)-xlo)/(xhi-xlo)*pw }
	py := func(v float64) float64 { return top + ph - (math.Log10(v)-ylo)/(yhi-ylo)*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="22" font-size="15" font-weight="bold">fwd bench failover: time to switch N MACs (log-log)</text>`+"\n", left)
	for e := ylo; e <= yhi; e++ {
		y := py(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, y, left+pw, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+4, failoverSVGPow(e))
	}
	for e := xlo; e <= xhi; e++ {
		x := px(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", x, top, x, top+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, top+ph+18, failoverScale(int(math.Pow(10, e))))
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#333"/>`+"\n", left, top, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">MACs behind the ES (N)</text>`+"\n", left+pw/2, height-10)
	fmt.Fprintf(&b, `<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">time to switch (log)</text>`+"\n", top+ph/2)
	for i, s := range ss {
		var pts []string
		for _, n := range ns {
			if v, ok := s.pts[n]; ok && v > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(float64(n)), py(v)))
			}
		}
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
		}
		if len(pts) > 0 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), s.colour, dash)
			for _, p := range pts {
				xy := strings.Split(p, ",")
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", xy[0], xy[1], s.colour)
			}
		}
		ly := top + 14 + float64(i)*20
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`+"\n", left+pw+14, ly, left+pw+40, ly, s.colour, dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", left+pw+46, ly+4, failoverSVGEsc(s.name))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#555">%s</text>`+"\n", left+pw+14, top+float64(len(ss))*20+20,
		failoverSVGEsc(fmt.Sprintf("kernel %s, %d CPUs", r.Machine.Kernel, r.Machine.CPUs)))
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// failoverSVGPow labels 10^e microseconds in a readable unit.
func failoverSVGPow(e float64) string {
	v := math.Pow(10, e)
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%g s", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%g ms", v/1e3)
	case v >= 1:
		return fmt.Sprintf("%g us", v)
	}
	return fmt.Sprintf("%g ns", v*1e3)
}

func failoverSVGEsc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
