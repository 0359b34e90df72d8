package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Measurement is one system's run of one scenario, in one or more rounds
// interleaved with the other systems' (so that other work on the machine
// hits every system alike).
type Measurement struct {
	// Sent is what the generator sent; Delivered what the sink counted
	// for the scenario's flows; Stray the other frames the sink saw.
	Sent      uint64 `json:"sent"`
	Delivered uint64 `json:"delivered"`
	Stray     uint64 `json:"stray,omitempty"`
	// Seconds is how long the generator ran, all rounds together.
	Seconds float64 `json:"seconds"`
	// Mpps is the median of the rounds' delivered rates (RoundsMpps), in
	// millions of frames per second; SentMpps is Sent per second.
	Mpps       float64   `json:"mpps"`
	RoundsMpps []float64 `json:"rounds_mpps"`
	// Spread is (fastest round - slowest round) / Mpps: how much other
	// work on the machine moved the numbers.
	Spread   float64 `json:"spread"`
	SentMpps float64 `json:"sent_mpps"`
	// Loss is (Sent - Delivered) / Sent.
	Loss float64 `json:"loss"`
	// NsPerPkt is 1000 / Mpps: the generator's time per delivered frame.
	NsPerPkt float64 `json:"ns_per_pkt"`
	// FlowsDelivered is how many flows got at least one frame through;
	// FlowMin and FlowMax are the fewest and most frames of one flow.
	FlowsDelivered int    `json:"flows_delivered"`
	FlowMin        uint64 `json:"flow_min"`
	FlowMax        uint64 `json:"flow_max"`
	// VTEPs counts delivered frames by the remote VTEP they were sent to
	// (the outer destination), for systems that encapsulate.
	VTEPs map[string]uint64 `json:"vteps,omitempty"`
	// PerFlow is the sink's count per flow.
	PerFlow []uint64 `json:"-"`
}

func newMeasurement(sent, total uint64, perFlow []uint64, elapsed time.Duration, rounds []float64) *Measurement {
	m := &Measurement{Sent: sent, Seconds: elapsed.Seconds(), PerFlow: perFlow, RoundsMpps: rounds}
	for i, n := range perFlow {
		m.Delivered += n
		if n > 0 {
			m.FlowsDelivered++
		}
		if i == 0 || n < m.FlowMin {
			m.FlowMin = n
		}
		m.FlowMax = max(m.FlowMax, n)
	}
	if total > m.Delivered {
		m.Stray = total - m.Delivered
	}
	if m.Seconds > 0 {
		m.SentMpps = float64(sent) / m.Seconds / 1e6
	}
	m.Mpps = median(rounds)
	if len(rounds) == 0 && m.Seconds > 0 {
		m.Mpps = float64(m.Delivered) / m.Seconds / 1e6
	}
	if len(rounds) > 1 && m.Mpps > 0 {
		m.Spread = (slices.Max(rounds) - slices.Min(rounds)) / m.Mpps
	}
	if m.Mpps > 0 {
		m.NsPerPkt = 1000 / m.Mpps
	}
	if sent > 0 && sent > m.Delivered {
		m.Loss = float64(sent-m.Delivered) / float64(sent)
	}
	return m
}

// median returns the median of v (the mean of the middle two for an even
// count), 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Result is one scenario on every system. The flat fields are the
// summary; Fwd, Floor and Kernel hold the details.
type Result struct {
	// Scenario is the kind ("encap4"); Name adds the scale
	// ("encap4/fdb=1M/flows=64k/64B").
	Scenario    string `json:"scenario"`
	Name        string `json:"name"`
	Description string `json:"description"`
	FrameBytes  int    `json:"frame_bytes"`
	FDBEntries  int    `json:"fdb_entries"`
	Flows       int    `json:"flows"`

	FwdMpps    float64 `json:"fwd_mpps"`
	FwdLoss    float64 `json:"fwd_loss"`
	FloorMpps  float64 `json:"floor_mpps"`
	FloorLoss  float64 `json:"floor_loss"`
	KernelMpps float64 `json:"kernel_mpps"`
	KernelLoss float64 `json:"kernel_loss"`
	// FwdVsKernel and FwdVsFloor are fwd's delivered rate over the
	// reference's: the median of the ratios of rounds that ran back to
	// back (0 when either was not measured).
	FwdVsKernel float64 `json:"fwd_vs_kernel"`
	FwdVsFloor  float64 `json:"fwd_vs_floor"`

	Fwd    *Measurement `json:"fwd,omitempty"`
	Floor  *Measurement `json:"floor,omitempty"`
	Kernel *Measurement `json:"kernel,omitempty"`
	// Errors holds what went wrong per system.
	Errors map[System]string `json:"errors,omitempty"`
}

func newResult(s Scenario) Result {
	return Result{Scenario: string(s.Kind), Name: s.Name(), Description: s.Kind.Description(),
		FrameBytes: s.FrameBytes, FDBEntries: s.FDB, Flows: s.Flows}
}

// Measurement returns the measurement of sys, or nil.
func (r *Result) Measurement(sys System) *Measurement {
	switch sys {
	case Fwd:
		return r.Fwd
	case Floor:
		return r.Floor
	case Kernel:
		return r.Kernel
	}
	return nil
}

// Spread is the largest Spread of the result's measurements.
func (r *Result) Spread() float64 {
	v := 0.0
	for _, m := range []*Measurement{r.Fwd, r.Floor, r.Kernel} {
		if m != nil {
			v = max(v, m.Spread)
		}
	}
	return v
}

func (r *Result) set(sys System, m *Measurement) {
	switch sys {
	case Fwd:
		r.Fwd, r.FwdMpps, r.FwdLoss = m, m.Mpps, m.Loss
	case Floor:
		r.Floor, r.FloorMpps, r.FloorLoss = m, m.Mpps, m.Loss
	case Kernel:
		r.Kernel, r.KernelMpps, r.KernelLoss = m, m.Mpps, m.Loss
	}
	r.FwdVsKernel = roundRatio(r.Fwd, r.Kernel)
	r.FwdVsFloor = roundRatio(r.Fwd, r.Floor)
}

// roundRatio is a's rate over b's: the median of the ratios of their
// rounds, round k of a against round k of b, which ran seconds apart, so
// that a slow stretch of the machine cancels out; or the ratio of their
// medians when the rounds do not pair up.
func roundRatio(a, b *Measurement) float64 {
	if a == nil || b == nil {
		return 0
	}
	if len(a.RoundsMpps) < 2 || len(a.RoundsMpps) != len(b.RoundsMpps) {
		return ratio(a.Mpps, b.Mpps)
	}
	rs := make([]float64, len(a.RoundsMpps))
	for i := range rs {
		if rs[i] = ratio(a.RoundsMpps[i], b.RoundsMpps[i]); rs[i] == 0 {
			return ratio(a.Mpps, b.Mpps)
		}
	}
	return median(rs)
}

func (r *Result) setErr(sys System, err error) {
	if r.Errors == nil {
		r.Errors = map[System]string{}
	}
	r.Errors[sys] = err.Error()
}

func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return a / b
}

// PacedResult is the no-loss check: a system offered a rate below its
// measured capacity.
type PacedResult struct {
	Scenario     string  `json:"scenario"`
	Name         string  `json:"name"`
	System       System  `json:"system"`
	CapacityMpps float64 `json:"capacity_mpps"`
	Fraction     float64 `json:"fraction"`
	// OfferedMpps is what the generator sent per second on average, in
	// bursts of Burst frames.
	OfferedMpps   float64 `json:"offered_mpps"`
	DeliveredMpps float64 `json:"delivered_mpps"`
	Loss          float64 `json:"loss"`
	Sent          uint64  `json:"sent"`
	Delivered     uint64  `json:"delivered"`
	Burst         uint64  `json:"burst"`
}

// FDBLoad is how long a system took to take a scenario group's FDB.
type FDBLoad struct {
	System    System  `json:"system"`
	Scenario  string  `json:"scenario"`
	Entries   int     `json:"entries"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	// Method says how: fwd's batch updates or the kernel's bridge -batch.
	Method string `json:"method"`
}

func newFDBLoad(sys System, g group, d time.Duration) FDBLoad {
	k := g.key
	var kinds []string
	for _, s := range g.scenarios {
		if !slices.Contains(kinds, string(s.Kind)) {
			kinds = append(kinds, string(s.Kind))
		}
	}
	l := FDBLoad{System: sys, Entries: k.fdb, Seconds: d.Seconds(), Scenario: strings.Join(kinds, ", ")}
	if d > 0 {
		l.PerSecond = float64(k.fdb) / d.Seconds()
	}
	switch {
	case sys == Fwd:
		l.Method = "Dataplane.SetFDBBatch"
	case k.path == pathEncap:
		l.Method = "bridge -batch: fdb replace MAC dev vxlan100 nhid G self master extern_learn"
	default:
		l.Method = "bridge -batch: fdb replace MAC dev a0 master static"
	}
	return l
}

// Machine describes where the numbers come from.
type Machine struct {
	Kernel   string `json:"kernel"`
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model,omitempty"`
	Go       string `json:"go"`
	// Revision is the VCS revision fwd was built from, "+dirty" when the
	// tree had changes (empty under go run, which does not stamp it).
	Revision string `json:"revision,omitempty"`
	// LoadStart and LoadEnd are the 1-minute load averages at the start
	// and at the end: other work on the machine shows here.
	LoadStart float64 `json:"load_start"`
	LoadEnd   float64 `json:"load_end"`
}

// Target is one of issue 3's targets, checked against the results.
type Target struct {
	Name   string  `json:"name"`
	Want   string  `json:"want"`
	Got    string  `json:"got"`
	Met    bool    `json:"met"`
	Value  float64 `json:"value"`
	Needed float64 `json:"needed"`
}

// Report is a whole run.
type Report struct {
	Results       []Result      `json:"results"`
	BelowCapacity []PacedResult `json:"below_capacity,omitempty"`
	FDBLoads      []FDBLoad     `json:"fdb_loads,omitempty"`
	Targets       []Target      `json:"targets,omitempty"`
	Warnings      []string      `json:"warnings,omitempty"`
	Machine       Machine       `json:"machine"`
	Started       time.Time     `json:"started"`
	// Seconds is the run's wall time; DurationSeconds the generator's time
	// per scenario and system (0 when a frame count was set instead).
	Seconds         float64  `json:"seconds"`
	DurationSeconds float64  `json:"duration_seconds"`
	FramesPerRun    uint64   `json:"frames_per_run,omitempty"`
	Rounds          int      `json:"rounds"`
	Systems         []System `json:"systems"`
	CPU             int      `json:"generator_cpu"`
}

func newReport(o *Options) *Report {
	r := &Report{Machine: machine(), Started: time.Now().UTC().Truncate(time.Second), Systems: o.Systems, CPU: o.CPU, Rounds: o.Rounds}
	if o.Frames > 0 {
		r.FramesPerRun = o.Frames
	} else {
		r.DurationSeconds = o.Duration.Seconds()
	}
	return r
}

func (r *Report) finish(start time.Time) {
	r.Seconds = time.Since(start).Seconds()
	r.Machine.LoadEnd = loadavg()
	r.Targets = r.CheckTargets()
}

// Errors lists every system error of every result, "scenario system: error".
func (r *Report) Errors() []string {
	var out []string
	for _, res := range r.Results {
		for _, sys := range Systems {
			if e, ok := res.Errors[sys]; ok {
				out = append(out, fmt.Sprintf("%s %s: %s", res.Name, sys, e))
			}
		}
	}
	return out
}

// CheckTargets checks issue 3's targets against what was measured: for the
// headline (encap4, 1M FDB, 1 flow, 64 B) fwd >= 10x kernel and >= 60% of
// the floor; with 64k flows >= 6x kernel and >= 35% of the floor; no
// scenario below 5x kernel; no loss below capacity. Targets whose
// scenarios did not run are left out.
func (r *Report) CheckTargets() []Target {
	var out []Target
	find := func(s Scenario) *Result {
		for i := range r.Results {
			if r.Results[i].Name == s.Name() {
				return &r.Results[i]
			}
		}
		return nil
	}
	ratioTarget := func(name string, got, need float64, unit string) {
		if got <= 0 {
			return
		}
		t := Target{Name: name, Value: got, Needed: need, Met: got >= need}
		if unit == "x" {
			t.Want, t.Got = fmt.Sprintf(">= %gx", need), fmt.Sprintf("%.1fx", got)
		} else {
			t.Want, t.Got = fmt.Sprintf(">= %.0f%%", 100*need), fmt.Sprintf("%.1f%%", 100*got)
		}
		out = append(out, t)
	}
	many := Headline
	many.Flows = ManyFlows
	for _, c := range []struct {
		s             Scenario
		kernel, floor float64
		label         string
	}{{Headline, 10, 0.6, "1 flow"}, {many, 6, 0.35, "64k flows"}} {
		if res := find(c.s); res != nil {
			ratioTarget(fmt.Sprintf("%s (%s): fwd vs kernel", c.s.Name(), c.label), res.FwdVsKernel, c.kernel, "x")
			ratioTarget(fmt.Sprintf("%s (%s): fwd vs floor", c.s.Name(), c.label), res.FwdVsFloor, c.floor, "%")
		}
	}
	worst, worstName := math.Inf(1), ""
	for _, res := range r.Results {
		if res.FwdVsKernel > 0 && res.FwdVsKernel < worst {
			worst, worstName = res.FwdVsKernel, res.Name
		}
	}
	if worstName != "" {
		out = append(out, Target{Name: "every scenario: fwd vs kernel (lowest: " + worstName + ")",
			Want: ">= 5x", Got: fmt.Sprintf("%.1fx", worst), Met: worst >= 5, Value: worst, Needed: 5})
	}
	for _, p := range r.BelowCapacity {
		if p.System != Fwd {
			continue
		}
		out = append(out, Target{Name: fmt.Sprintf("%s: fwd loss at %.0f%% of its capacity", p.Name, 100*p.Fraction),
			Want: "0", Got: fmt.Sprintf("%d of %d (%.4f%%)", p.Sent-min(p.Sent, p.Delivered), p.Sent, 100*p.Loss),
			Met: p.Delivered >= p.Sent, Value: p.Loss})
	}
	return out
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// humanCount writes v with three significant digits and a k or M suffix.
func humanCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}

func fmtMpps(m *Measurement) string {
	if m == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", m.Mpps)
}

func fmtLoss(m *Measurement) string {
	if m == nil {
		return "-"
	}
	if m.Loss == 0 {
		return "0"
	}
	if m.Loss < 0.001 {
		return fmt.Sprintf("%.3f%%", 100*m.Loss)
	}
	return fmt.Sprintf("%.1f%%", 100*m.Loss)
}

func fmtRatio(v float64, pct bool) string {
	switch {
	case v <= 0:
		return "-"
	case pct:
		return fmt.Sprintf("%.0f%%", 100*v)
	}
	return fmt.Sprintf("%.1fx", v)
}

// WriteTable writes the results as an aligned table, then the no-loss
// check, the FDB load times, the targets and any errors.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	spread := r.Rounds > 1
	head := "SCENARIO\tFRAME\tFDB\tFLOWS\tFWD Mpps\tLOSS\tFLOOR Mpps\tLOSS\tKERNEL Mpps\tLOSS\tFWD/KERNEL\tFWD/FLOOR\t"
	if spread {
		head += "SPREAD\t"
	}
	fmt.Fprintln(tw, head)
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%dB\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", res.Scenario, res.FrameBytes,
			Scale(res.FDBEntries), Scale(res.Flows), fmtMpps(res.Fwd), fmtLoss(res.Fwd), fmtMpps(res.Floor),
			fmtLoss(res.Floor), fmtMpps(res.Kernel), fmtLoss(res.Kernel), fmtRatio(res.FwdVsKernel, false),
			fmtRatio(res.FwdVsFloor, true))
		if spread {
			fmt.Fprintf(tw, "%.0f%%\t", 100*res.Spread())
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	kinds := map[string]string{}
	var order []string
	for _, res := range r.Results {
		if _, ok := kinds[res.Scenario]; !ok {
			kinds[res.Scenario] = res.Description
			order = append(order, res.Scenario)
		}
	}
	fmt.Fprintln(w)
	for _, k := range order {
		fmt.Fprintf(w, "  %-7s %s\n", k, kinds[k])
	}
	fmt.Fprintln(w, "  Mpps: frames delivered to the sink per second; loss: (sent - delivered) / sent.")
	if spread {
		fmt.Fprintln(w, "  SPREAD: (fastest - slowest round) / median, the largest of the three systems': other work on the machine.")
	}
	var perVTEP []string
	for _, res := range r.Results {
		var parts []string
		for _, sys := range []System{Fwd, Kernel} {
			if m := res.Measurement(sys); m != nil && len(m.VTEPs) > 1 && m.Delivered > 0 {
				keys := slices.Sorted(maps.Keys(m.VTEPs))
				var shares []string
				for _, k := range keys {
					shares = append(shares, fmt.Sprintf("%s %.0f%%", k, 100*float64(m.VTEPs[k])/float64(m.Delivered)))
				}
				parts = append(parts, fmt.Sprintf("%s %s", sys, strings.Join(shares, ", ")))
			}
		}
		if len(parts) > 0 {
			perVTEP = append(perVTEP, fmt.Sprintf("  %s: %s", res.Name, strings.Join(parts, "; ")))
		}
	}
	if len(perVTEP) > 0 {
		fmt.Fprintln(w, "\nFrames per remote VTEP of the group (by outer destination, as the sink saw them):")
		for _, l := range perVTEP {
			fmt.Fprintln(w, l)
		}
	}
	if len(r.BelowCapacity) > 0 {
		fmt.Fprintln(w, "\nNo loss below capacity (bursts at full rate, paced to the average offered):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  SCENARIO\tSYSTEM\tCAPACITY Mpps\tOFFERED Mpps\tDELIVERED Mpps\tSENT\tLOST\tLOSS")
		for _, p := range r.BelowCapacity {
			fmt.Fprintf(tw, "  %s\t%s\t%.2f\t%.2f\t%.2f\t%d\t%d\t%s\n", p.Name, p.System, p.CapacityMpps, p.OfferedMpps,
				p.DeliveredMpps, p.Sent, p.Sent-min(p.Sent, p.Delivered), fmtLoss(&Measurement{Loss: p.Loss}))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.FDBLoads) > 0 {
		fmt.Fprintln(w, "\nFDB loading:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, l := range r.FDBLoads {
			fmt.Fprintf(tw, "  %s\t%s\t%s entries\t%.2f s\t%s/s\t%s\n", l.System, l.Scenario, Scale(l.Entries), l.Seconds,
				humanCount(l.PerSecond), l.Method)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(w, "\nTargets (issue 3):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, t := range r.Targets {
			verdict := "met"
			if !t.Met {
				verdict = "MISSED"
			}
			fmt.Fprintf(tw, "  %s\twant %s\tgot %s\t%s\n", t.Name, t.Want, t.Got, verdict)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if errs := r.Errors(); len(errs) > 0 || len(r.Warnings) > 0 {
		fmt.Fprintln(w, "\nErrors:")
		for _, e := range append(errs, r.Warnings...) {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	m := r.Machine
	per := fmt.Sprintf("%.1f s per system and scenario", r.DurationSeconds)
	if r.FramesPerRun > 0 {
		per = fmt.Sprintf("%d frames per system and scenario", r.FramesPerRun)
	}
	if r.Rounds > 1 {
		per += fmt.Sprintf(" in %d rounds, the systems taking turns (Mpps: the median round)", r.Rounds)
	}
	_, err := fmt.Fprintf(w, "\n%s; generator on CPU %d; %d CPUs (%s), kernel %s, %s; load %.2f -> %.2f; %s in all.\n",
		per, r.CPU, m.CPUs, strings.TrimSpace(m.CPUModel), m.Kernel, m.Go, m.LoadStart, m.LoadEnd,
		time.Duration(r.Seconds*float64(time.Second)).Round(time.Second))
	return err
}
