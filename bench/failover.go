package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The failover benchmark (`fwd bench failover`): N MACs behind a remote
// Ethernet Segment of four VTEPs, and N more behind a local ES, with live
// traffic through fwd's fast path, driven by a real control.Controller over
// fwd's real dataplane. Three failures are injected, each through the
// controller call the daemon makes for it, and measured against the two
// other ways of doing the same job: FRR's (the kernel's `ip nexthop
// replace` of an fdb group that N `bridge fdb ... nhid` entries point at)
// and the naive one (rewrite every MAC's FDB entry). docs/FAILOVER.md
// describes the method.

// FailoverEvent names a failure the benchmark injects.
type FailoverEvent string

// The events, one per failover tier of the design (DESIGN.md section 3).
const (
	// FailoverEADWithdraw: one PE of the remote ES withdraws its
	// EAD-per-ES route (the mass withdraw); tier 2, one group write.
	FailoverEADWithdraw FailoverEvent = "ead-withdraw"
	// FailoverUnderlayLost: one PE of the remote ES becomes unreachable in
	// the underlay; tier 1, its nexthop's down bit.
	FailoverUnderlayLost FailoverEvent = "underlay-lost"
	// FailoverLocalPortDown: the access port of the local ES goes down;
	// tier 1, the ES's down bit sends its MACs to the ES peer.
	FailoverLocalPortDown FailoverEvent = "local-port-down"
)

// FailoverEvents lists the events in run order.
var FailoverEvents = []FailoverEvent{FailoverEADWithdraw, FailoverUnderlayLost, FailoverLocalPortDown}

func (e FailoverEvent) String() string { return string(e) }

// Tier returns the failover tier the event exercises (1: a down bit, no
// write; 2: one group write).
func (e FailoverEvent) Tier() int {
	if e == FailoverEADWithdraw {
		return 2
	}
	return 1
}

// FailoverDefaultMACs are the N of a full run; FailoverQuickMACs of --quick.
var (
	FailoverDefaultMACs = []int{1000, 10000, 100000, 1000000}
	FailoverQuickMACs   = []int{1000, 10000}
)

// FailoverOptions configure RunFailover. A nil *FailoverOptions means the
// defaults of a full run.
type FailoverOptions struct {
	// MACs are the N to run, each at most FailoverMaxMACs; nil means
	// FailoverDefaultMACs (FailoverQuickMACs with Quick).
	MACs []int
	// Quick makes a short run: fewer repetitions, shorter traffic windows.
	Quick bool
	// Reps is how many times each event is injected (and undone) per N
	// with the traffic watched around it, a window apart ("cold": the
	// event finds the control loop idle); the kernel's group replace is
	// timed as many times, a window apart. The report gives medians.
	// 0 means 11 (3 with Quick).
	Reps int
	// HotReps is how many times each event, and the kernel's replace, is
	// then timed back to back ("hot"); 0 means 25 (10 with Quick).
	HotReps int
	// Window is how long the traffic is watched before each event and
	// after it; 0 means 100 ms (50 ms with Quick).
	Window time.Duration
	// CPU is the generator's CPU; the rest of the process is kept off it
	// while traffic runs (on machines with more than one CPU). Default 0.
	CPU int
	// Progress, when not nil, is called at every step.
	Progress func(string)
	// Logger receives debug logs (commands run); nil discards.
	Logger *slog.Logger
}

// FailoverMaxMACs is the largest N: the fwd FDB holds 2N MACs (the remote
// and the local ES's).
const FailoverMaxMACs = 4 << 20

func (o *FailoverOptions) withDefaults() (*FailoverOptions, error) {
	c := *o
	if len(c.MACs) == 0 {
		c.MACs = FailoverDefaultMACs
		if c.Quick {
			c.MACs = FailoverQuickMACs
		}
	}
	c.MACs = slices.Clone(c.MACs)
	slices.Sort(c.MACs)
	c.MACs = slices.Compact(c.MACs)
	for _, n := range c.MACs {
		if n < 1 || n > FailoverMaxMACs {
			return nil, fmt.Errorf("%d MACs: want 1 to %d", n, FailoverMaxMACs)
		}
	}
	if c.Reps == 0 {
		c.Reps = 11
		if c.Quick {
			c.Reps = 3
		}
	}
	if c.HotReps == 0 {
		c.HotReps = 25
		if c.Quick {
			c.HotReps = 10
		}
	}
	if c.Reps < 1 || c.HotReps < 1 {
		return nil, fmt.Errorf("repetitions %d and %d: want at least 1", c.Reps, c.HotReps)
	}
	if c.Window == 0 {
		c.Window = 100 * time.Millisecond
		if c.Quick {
			c.Window = 50 * time.Millisecond
		}
	}
	if c.Window < 10*time.Millisecond {
		return nil, fmt.Errorf("window %s: want at least 10ms", c.Window)
	}
	if c.CPU < 0 || c.CPU >= runtime.NumCPU() {
		return nil, fmt.Errorf("CPU %d: this machine has CPUs 0-%d", c.CPU, runtime.NumCPU()-1)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = func(string) {}
	}
	return &c, nil
}

// ParseFailoverMACs parses a list of N like "1000,10k,1M" (k = 1000,
// M = 1000000).
func ParseFailoverMACs(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		mul := 1
		switch {
		case strings.HasSuffix(f, "k"), strings.HasSuffix(f, "K"):
			mul, f = 1000, f[:len(f)-1]
		case strings.HasSuffix(f, "M"), strings.HasSuffix(f, "m"):
			mul, f = 1000000, f[:len(f)-1]
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 || v*mul > FailoverMaxMACs {
			return nil, fmt.Errorf("MAC count %q: want a number from 1 to %d (k and M suffixes allowed)", f, FailoverMaxMACs)
		}
		out = append(out, v*mul)
	}
	if len(out) == 0 {
		return nil, errors.New("no MAC counts: give a list like 1000,10000,100000,1000000")
	}
	return out, nil
}

// RunFailover runs the failover benchmark: for every N, the kernel's
// reference (FRR's mechanism) in a namespace of its own, then fwd with live
// traffic and the three events. Everything it creates is removed before it
// returns, also when ctx is cancelled. On a failure it returns what was
// measured so far with the error.
func RunFailover(ctx context.Context, opts *FailoverOptions) (*FailoverReport, error) {
	if opts == nil {
		opts = &FailoverOptions{}
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	rep := &FailoverReport{Machine: machine(), Started: start.UTC().Truncate(time.Second),
		Reps: o.Reps, HotReps: o.HotReps, WindowMS: float64(o.Window) / float64(time.Millisecond),
		GeneratorCPU: o.CPU, KernelMethod: failoverKernelMethod}
	defer func() {
		rep.Seconds = time.Since(start).Seconds()
		rep.Machine.LoadEnd = loadavg()
		rep.Targets = rep.CheckTargets()
	}()
	for i, n := range o.MACs {
		step := func(s string) { o.Progress(fmt.Sprintf("[%d/%d] N=%s: %s", i+1, len(o.MACs), failoverScale(n), s)) }
		kr, err := failoverMeasureKernel(ctx, n, o, step)
		if err != nil {
			return rep, fmt.Errorf("kernel reference, %d MACs: %w", n, err)
		}
		res, load, err := failoverMeasureFwd(ctx, n, o, step)
		load.KernelLoadSeconds = kr.load.Seconds()
		load.KernelPerSecond = float64(n) / kr.load.Seconds()
		rep.Loads = append(rep.Loads, load)
		for j := range res {
			res[j].attachKernel(kr)
		}
		rep.Results = append(rep.Results, res...)
		if err != nil {
			return rep, fmt.Errorf("fwd, %d MACs: %w", n, err)
		}
	}
	return rep, nil
}

// failoverScale writes 1000 as 1k and 1000000 as 1M.
func failoverScale(n int) string {
	switch {
	case n >= 1000000 && n%1000000 == 0:
		return strconv.Itoa(n/1000000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// failoverCPU samples the CPU time (user + system, in clock ticks) of every
// other user-space process on the machine, by pid.
type failoverCPU struct {
	at    time.Time
	ticks map[int]uint64
}

func failoverCPUNow() failoverCPU {
	c := failoverCPU{at: time.Now(), ticks: map[int]uint64{}}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return c
	}
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command name, which ends with ')': state
		// is field 3, flags 9, utime 14, stime 15.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b)[i+1:])
		if len(f) < 13 {
			continue
		}
		flags, _ := strconv.ParseUint(f[6], 10, 64)
		if flags&0x00200000 != 0 { // PF_KTHREAD: the kernel's own threads
			continue
		}
		u, _ := strconv.ParseUint(f[11], 10, 64)
		st, _ := strconv.ParseUint(f[12], 10, 64)
		c.ticks[pid] = u + st
	}
	return c
}

// failoverOthers returns how many CPUs other user-space processes kept
// busy, on average, between two samples (a process that started in
// between counts from 0; one that ended is missed).
func failoverOthers(a, b failoverCPU) float64 {
	const tick = 100 // USER_HZ
	el := b.at.Sub(a.at).Seconds()
	if el <= 0 {
		return 0
	}
	var sum uint64
	for pid, t := range b.ticks {
		if t0 := a.ticks[pid]; t >= t0 {
			sum += t - t0
		}
	}
	return float64(sum) / tick / el
}

// failoverPinOthers keeps every thread of the process but the generator's
// (thread id gen) off cpu, where the generator and the whole frame path
// run, so that the control loop is not time-sliced with the generator. It
// returns the function that lets them back. It does nothing on a
// single-CPU machine.
func failoverPinOthers(cpu, gen int) func() {
	n := runtime.NumCPU()
	if n < 2 {
		return func() {}
	}
	var others, all unix.CPUSet
	for c := 0; c < n; c++ {
		all.Set(c)
		if c != cpu {
			others.Set(c)
		}
	}
	setAll := func(set *unix.CPUSet) {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return
		}
		for _, e := range ents {
			if tid, err := strconv.Atoi(e.Name()); err == nil && tid != gen {
				_ = unix.SchedSetaffinity(tid, set)
			}
		}
	}
	setAll(&others)
	return func() { setAll(&all) }
}

// failoverPinSelf pins the calling (locked) thread to cpu.
func failoverPinSelf(cpu int) {
	if cpu < 0 || runtime.NumCPU() <= cpu {
		return
	}
	var set unix.CPUSet
	set.Set(cpu)
	_ = unix.SchedSetaffinity(0, &set)
}

// failoverMedian returns the median of v (0 for none).
func failoverMedian(v []float64) float64 {
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

func failoverUS(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
