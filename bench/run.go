package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Options configure Run. A nil *Options means the defaults.
type Options struct {
	// Duration is how long the generator runs per scenario and system;
	// 0 means 2 s.
	Duration time.Duration
	// Rounds splits Duration (or Frames) into rounds, the systems taking
	// turns, so that other work on the machine hits them alike; a
	// system's rate is the median of its rounds', a ratio the median of
	// the ratios of rounds run back to back. 0 means 5.
	Rounds int
	// Frames, when > 0, sends exactly this many frames per scenario and
	// system (split over the rounds) instead of running for Duration.
	Frames uint64
	// Systems to run, in order; nil means all three (fwd, floor, kernel).
	Systems []System
	// CPU is the CPU the generator is pinned to (the frames' whole path
	// runs there, in softirq after each generator batch); default 0.
	CPU int
	// BelowCapacity is the fraction of its measured capacity offered to
	// fwd (and to the kernel path) in the no-loss check on the headline
	// scenario, or on the first scenario when the headline is not run.
	// 0 means 0.5; a negative value skips the check.
	BelowCapacity float64
	// Progress, when not nil, is called at every step.
	Progress func(Progress)
	// Logger receives debug logs (commands run); nil discards.
	Logger *slog.Logger
}

// Defaults: how long each system runs per scenario, in how many rounds.
const (
	DefaultDuration = 2 * time.Second
	DefaultRounds   = 5
)

func (o *Options) withDefaults() (*Options, error) {
	c := *o
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Duration < 0 {
		return nil, fmt.Errorf("duration %s: want > 0", c.Duration)
	}
	if c.Rounds == 0 {
		c.Rounds = DefaultRounds
	}
	if c.Rounds < 0 || (c.Frames > 0 && c.Frames < uint64(c.Rounds)) {
		return nil, fmt.Errorf("%d rounds of %d frames: want at least one frame per round", c.Rounds, c.Frames)
	}
	if len(c.Systems) == 0 {
		c.Systems = Systems
	}
	for _, s := range c.Systems {
		if s != Fwd && s != Floor && s != Kernel {
			return nil, fmt.Errorf("system %q: want fwd, floor or kernel", s)
		}
	}
	if c.BelowCapacity == 0 {
		c.BelowCapacity = 0.5
	}
	if c.BelowCapacity >= 1 {
		return nil, fmt.Errorf("below-capacity fraction %g: want less than 1", c.BelowCapacity)
	}
	if c.CPU < 0 || c.CPU >= runtime.NumCPU() {
		return nil, fmt.Errorf("CPU %d: this machine has CPUs 0-%d", c.CPU, runtime.NumCPU()-1)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = func(Progress) {}
	}
	return &c, nil
}

// Progress reports where a run is.
type Progress struct {
	// Done and Total count measurements (a scenario on one system, or a
	// no-loss check).
	Done, Total int
	// Scenario and System are what is being set up or measured.
	Scenario string
	System   System
	// Step says what is happening: "building the topology", "kernel FDB
	// 320k/1M (bridge -batch)", "measuring", ...
	Step string
}

func (p Progress) String() string {
	if p.Scenario == "" {
		return fmt.Sprintf("[%d/%d] %s", p.Done, p.Total, p.Step)
	}
	return fmt.Sprintf("[%d/%d] %s %s: %s", p.Done, p.Total, p.System, p.Scenario, p.Step)
}

// Run measures every scenario on every system of opts and returns the
// report. It builds one topology per group of scenarios and system and
// removes it before the next, also when ctx is cancelled or a step fails.
// A system that fails in a scenario leaves its error in the result and the
// run goes on; Run returns an error only for invalid input or when ctx is
// cancelled (with what was measured so far).
func Run(ctx context.Context, scenarios []Scenario, opts *Options) (*Report, error) {
	if opts == nil {
		opts = &Options{}
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(scenarios) == 0 {
		return nil, errors.New("no scenarios to run")
	}
	seen := map[string]bool{}
	for _, s := range scenarios {
		if err := s.validate(); err != nil {
			return nil, err
		}
		if seen[s.Name()] {
			return nil, fmt.Errorf("scenario %s given twice", s.Name())
		}
		seen[s.Name()] = true
	}
	rep := newReport(o)
	byName := map[string]*Result{}
	for _, s := range scenarios {
		rep.Results = append(rep.Results, newResult(s))
	}
	for i := range rep.Results {
		byName[rep.Results[i].Name] = &rep.Results[i]
	}
	paced := Headline
	if !seen[paced.Name()] {
		paced = scenarios[0]
	}
	h := &harness{o: o, rep: rep, byName: byName, paced: paced, total: len(scenarios) * len(o.Systems)}
	if o.BelowCapacity > 0 {
		for _, sys := range o.Systems {
			if sys != Floor {
				h.total++
			}
		}
	}
	start := time.Now()
	defer func() { rep.finish(start) }()
	for _, g := range groupScenarios(scenarios) {
		if err := h.runGroup(ctx, g); err != nil {
			return rep, err
		}
	}
	o.Progress(Progress{Done: h.done, Total: h.total, Step: "done"})
	return rep, nil
}

// harness is the state of a Run.
type harness struct {
	o      *Options
	rep    *Report
	byName map[string]*Result
	paced  Scenario
	done   int
	total  int
}

func (h *harness) progress(sys System, scenario, step string) {
	h.o.Progress(Progress{Done: h.done, Total: h.total, Scenario: scenario, System: sys, Step: step})
}

// runGroup builds a rig per system for the group's scenarios, runs every
// scenario on all of them, round by round in turn, and removes the rigs.
// It returns an error only when ctx is cancelled; failures are recorded in
// the results.
func (h *harness) runGroup(ctx context.Context, g group) (err error) {
	o := h.o
	var rigs []*rig
	defer func() {
		for _, r := range rigs {
			cerr := r.close()
			if cerr != nil && ctx.Err() == nil {
				o.Logger.Debug("clean-up failed", "system", r.sys, "err", cerr)
				h.rep.Warnings = append(h.rep.Warnings, fmt.Sprintf("%s %s: clean-up: %v", r.sys, g.scenarios[0].Name(), cerr))
			}
		}
	}()
	first := g.scenarios[0].Name()
	for _, sys := range o.Systems {
		r, err := newRig(ctx, g.key, sys, o, func(msg string) { h.progress(sys, first, msg) })
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			err = fmt.Errorf("set up: %w", err)
			o.Logger.Debug("set-up failed", "system", sys, "scenario", first, "err", err)
			for _, s := range g.scenarios {
				h.byName[s.Name()].setErr(sys, err)
				h.done++
			}
			continue
		}
		rigs = append(rigs, r)
		if r.fdbLoad > 0 {
			h.rep.FDBLoads = append(h.rep.FDBLoads, newFDBLoad(sys, g, r.fdbLoad))
		}
	}
	rounds := o.Rounds
	perRound, perRoundFrames := o.Duration/time.Duration(rounds), o.Frames/uint64(rounds)
	warm, warmFrames := min(perRound/4, 200*time.Millisecond), uint64(0)
	if o.Frames > 0 {
		warmFrames = max(perRoundFrames/4, 1)
	}
	for _, s := range g.scenarios {
		res := h.byName[s.Name()]
		runs := make([]*run, len(rigs))
		for i, r := range rigs {
			h.progress(r.sys, s.Name(), "warming up")
			ru, err := r.start(ctx, s, warmFrames, warm)
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if err != nil {
				res.setErr(r.sys, err)
				h.done++
				continue
			}
			runs[i] = ru
		}
		for k := range rounds {
			for i, r := range rigs {
				if runs[i] == nil {
					continue
				}
				h.progress(r.sys, s.Name(), fmt.Sprintf("round %d/%d", k+1, rounds))
				rd, err := r.round(ctx, runs[i], perRoundFrames, perRound, 0, 0)
				if cerr := ctx.Err(); cerr != nil {
					return cerr
				}
				if err != nil {
					res.setErr(r.sys, err)
					runs[i] = nil
					h.done++
					continue
				}
				h.progress(r.sys, s.Name(), fmt.Sprintf("round %d/%d: %.2f Mpps delivered", k+1, rounds,
					float64(rd.delivered)/rd.elapsed.Seconds()/1e6))
			}
		}
		for i, r := range rigs {
			if runs[i] == nil {
				continue
			}
			m := runs[i].measurement(r.sys)
			res.set(r.sys, m)
			h.done++
			if o.BelowCapacity > 0 && r.sys != Floor && s == h.paced {
				if err := h.belowCapacity(ctx, r, runs[i], m); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// pacePeriod is the period of the bursts of the no-loss check: long enough
// that a generator call's fixed cost fits in it many times over.
const pacePeriod = 40 * time.Millisecond

// belowCapacity offers a fraction of the capacity m measured on the rig:
// the generator sends a burst of pacePeriod's worth at its full rate, then
// waits, so that the average is the offered rate. It returns an error only
// when ctx is cancelled.
func (h *harness) belowCapacity(ctx context.Context, r *rig, ru *run, m *Measurement) error {
	o, s := h.o, ru.s
	h.progress(r.sys, s.Name(), fmt.Sprintf("no-loss check: offering %.0f%% of %.2f Mpps", 100*o.BelowCapacity, m.Mpps))
	defer func() { h.done++ }()
	if m.Mpps <= 0 {
		h.rep.Warnings = append(h.rep.Warnings, fmt.Sprintf("%s %s: no-loss check: nothing was delivered at full rate", r.sys, s.Name()))
		return nil
	}
	rate := o.BelowCapacity * m.Mpps * 1e6
	burst := uint64(max(genMinChunk, rate*pacePeriod.Seconds()))
	rd, err := r.round(ctx, ru, o.Frames, o.Duration, rate, burst)
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err != nil {
		h.rep.Warnings = append(h.rep.Warnings, fmt.Sprintf("%s %s: no-loss check: %v", r.sys, s.Name(), err))
		return nil
	}
	p := PacedResult{Scenario: string(s.Kind), Name: s.Name(), System: r.sys, CapacityMpps: m.Mpps,
		Fraction: o.BelowCapacity, Sent: rd.sent, Delivered: rd.delivered, Burst: burst}
	if sec := rd.elapsed.Seconds(); sec > 0 {
		p.OfferedMpps = float64(rd.sent) / sec / 1e6
		p.DeliveredMpps = float64(rd.delivered) / sec / 1e6
	}
	if rd.sent > rd.delivered {
		p.Loss = float64(rd.sent-rd.delivered) / float64(rd.sent)
	}
	h.rep.BelowCapacity = append(h.rep.BelowCapacity, p)
	return nil
}

// machine describes where the run happens.
func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		dirty := false
		for _, st := range bi.Settings {
			switch st.Key {
			case "vcs.revision":
				m.Revision = st.Value
			case "vcs.modified":
				dirty = st.Value == "true"
			}
		}
		if dirty && m.Revision != "" {
			m.Revision += "+dirty"
		}
	}
	m.LoadStart = loadavg()
	return m
}

// loadavg returns the 1-minute load average, or -1.
func loadavg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var l float64
	if _, err := fmt.Sscan(string(b), &l); err != nil {
		return -1
	}
	return l
}
