package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fwdplane/fwd/lab"
)

// RoutesDefault are the route counts `fwd bench routes` runs.
var RoutesDefault = []int{10_000, 100_000, 1_000_000}

// RoutesMax is the most routes one run may inject.
const RoutesMax = 4 << 20

// Targets of issue 5.
const (
	RoutesTargetRate  = 1e6 // routes per second into the maps
	RoutesTargetRatio = 10  // times the kernel's rate
)

// RouteInjector puts n type-2 routes into a running fwd (or withdraws
// them): MACs first+i in bridge domain vni, to the remote VTEP dst, in one
// API call; it returns the call's wall time and the time the daemon
// reports it took.
type RouteInjector interface {
	Inject(ctx context.Context, first [6]byte, n int, vni uint32, dst netip.Addr, withdraw bool) (wall, daemon time.Duration, err error)
}

// StartFwd starts an fwd daemon in ns with the given config (YAML) and
// returns an injector talking to its API and a function that stops it.
type StartFwd func(ctx context.Context, ns *lab.NS, config []byte) (RouteInjector, func() error, error)

// RoutesOptions configure RunRoutes.
type RoutesOptions struct {
	// Routes are the counts to run; nil means RoutesDefault.
	Routes []int
	// Start starts fwd (the CLI runs its own binary's daemon command).
	Start StartFwd
	// Progress, when set, hears a line per step.
	Progress func(string)
}

// RoutesResult is one route count. The headline figures are warm: the
// second injection of the same routes into the same daemon (and kernel),
// after the first was withdrawn, so that both run in memory the process
// (or the kernel) has touched before, as a daemon that has been running
// does. The first, cold injection is reported too: on this VM, memory a
// process touches for the first time costs about 15 us per 4 KiB page
// (docs/CONTROL.md), which dominates it.
type RoutesResult struct {
	Routes int `json:"routes"`
	// FwdRoutesPerS is Routes over the API call's wall time (the request
	// sent to the answer read: decode, control loop, map writes).
	FwdRoutesPerS float64 `json:"fwd_routes_per_s"`
	FwdSeconds    float64 `json:"fwd_seconds"`
	// FwdDaemonSeconds is the daemon's own measure of the batch.
	FwdDaemonSeconds float64 `json:"fwd_daemon_seconds"`
	// KernelRoutesPerS is the same entries programmed into the kernel
	// VTEP's FDB over netlink, batched (KernelFDBRate).
	KernelRoutesPerS float64 `json:"kernel_routes_per_s"`
	KernelSeconds    float64 `json:"kernel_seconds"`
	// Ratio is FwdRoutesPerS over KernelRoutesPerS.
	Ratio float64 `json:"ratio"`
	// ColdFwdRoutesPerS and ColdKernelRoutesPerS are the first injection's.
	ColdFwdRoutesPerS    float64 `json:"cold_fwd_routes_per_s"`
	ColdKernelRoutesPerS float64 `json:"cold_kernel_routes_per_s"`
}

// RoutesReport is a whole run.
type RoutesReport struct {
	Results []RoutesResult `json:"results"`
	Targets []Target       `json:"targets"`
	Machine Machine        `json:"machine"`
	Started time.Time      `json:"started"`
	Seconds float64        `json:"seconds"`
	// KernelMethod says how the kernel side was programmed.
	KernelMethod string `json:"kernel_method"`
}

const routesVNI = 100

var (
	routesLocal  = netip.MustParseAddr("192.0.2.1")
	routesRemote = netip.MustParseAddr("192.0.2.2")
)

// RunRoutes measures type-2 routes per second from fwd's API into its
// maps, beside the kernel FDB programmed over netlink, at each count. Each
// count gets a fresh daemon and a fresh kernel VTEP.
func RunRoutes(ctx context.Context, opts *RoutesOptions) (*RoutesReport, error) {
	if opts.Start == nil {
		return nil, errors.New("bench routes: no way to start fwd")
	}
	counts := opts.Routes
	if counts == nil {
		counts = RoutesDefault
	}
	for _, n := range counts {
		if n < 1 || n > RoutesMax {
			return nil, fmt.Errorf("%d routes: want 1 to %d", n, RoutesMax)
		}
	}
	step := opts.Progress
	if step == nil {
		step = func(string) {}
	}
	start := time.Now()
	rep := &RoutesReport{Machine: machine(), Started: start.UTC().Truncate(time.Second),
		KernelMethod: fmt.Sprintf("RTM_NEWNEIGH (NTF_SELF|NTF_EXT_LEARNED, NDA_DST) on a vxlan device enslaved to a bridge, %d messages per sendmsg, each acked", KernelFDBBatch)}
	for i, n := range counts {
		r, err := routesOnce(ctx, n, opts.Start, func(s string) { step(fmt.Sprintf("[%d/%d] %s routes: %s", i+1, len(counts), countName(n), s)) })
		if err != nil {
			return nil, err
		}
		rep.Results = append(rep.Results, r)
	}
	rep.Machine.LoadEnd = loadavg()
	rep.Seconds = time.Since(start).Seconds()
	rep.Targets = routesTargets(rep.Results)
	return rep, nil
}

func countName(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func routesOnce(ctx context.Context, n int, startFwd StartFwd, step func(string)) (res RoutesResult, err error) {
	res.Routes = n
	top := lab.New(nil)
	defer func() { err = errors.Join(err, top.Close()) }()
	step("building the topology")
	fns, err := top.AddNS(ctx, "fwd")
	if err != nil {
		return res, err
	}
	kns, err := top.AddNS(ctx, "kernel")
	if err != nil {
		return res, err
	}
	peer, err := top.AddNS(ctx, "peer")
	if err != nil {
		return res, err
	}
	if _, err := top.AddVeth(ctx, fns, "a0", peer, "h0", 1600); err != nil {
		return res, err
	}
	up, err := top.AddVeth(ctx, fns, "u0", peer, "s0", 1600)
	if err != nil {
		return res, err
	}
	if err := fns.AddAddr(ctx, "u0", netip.PrefixFrom(routesLocal, 24)); err != nil {
		return res, err
	}
	if err := fns.SetNeigh(ctx, "u0", routesRemote, up.B.MAC); err != nil {
		return res, err
	}
	first := [6]byte{0x02, 0xaa, 0, 0, 0, 0}

	// fwd: a daemon of its own, one API call for all n routes.
	step("starting the fwd daemon")
	pins := "/sys/fs/bpf/" + top.Prefix() + "-pins"
	cfg := fmt.Sprintf(`vtep4: %s
interfaces:
  - name: a0
    role: access
    untagged_vni: %d
    learn: false
  - name: u0
    role: uplink
bridge_domains:
  - vni: %d
api:
  socket: /run/%s.sock
log:
  format: text
  level: warn
dataplane:
  pin_dir: %s
  fdb_size: %d
  keep_xdp_on_stop: false
`, routesLocal, routesVNI, routesVNI, top.Prefix(), pins, max(2*n, 4096))
	inj, stop, err := startFwd(ctx, fns, []byte(cfg))
	if err != nil {
		return res, fmt.Errorf("start fwd: %w", err)
	}
	var wall, daemon time.Duration
	for pass, what := range []string{"cold", "withdraw", "warm"} {
		step(fmt.Sprintf("%s: %d type-2 routes in one API call", what, n))
		w, dm, err := inj.Inject(ctx, first, n, routesVNI, routesRemote, what == "withdraw")
		if err != nil {
			return res, errors.Join(err, stop())
		}
		switch pass {
		case 0:
			res.ColdFwdRoutesPerS = float64(n) / w.Seconds()
		case 2:
			wall, daemon = w, dm
		}
	}
	if err := stop(); err != nil {
		return res, err
	}
	res.FwdSeconds, res.FwdDaemonSeconds = wall.Seconds(), daemon.Seconds()
	res.FwdRoutesPerS = float64(n) / wall.Seconds()

	// The kernel: a vxlan device and bridge as FRR sets them up.
	step("building the kernel VTEP (bridge + vxlan)")
	if _, err := top.AddVeth(ctx, kns, "u1", peer, "s1", 1600); err != nil {
		return res, err
	}
	if err := kns.AddAddr(ctx, "u1", netip.PrefixFrom(routesLocal, 24)); err != nil {
		return res, err
	}
	kv, err := top.AddKernelVTEP(ctx, kns, lab.KernelVTEPConfig{VNI: routesVNI, Local: routesLocal})
	if err != nil {
		return res, err
	}
	var took time.Duration
	for pass, what := range []string{"cold", "delete", "warm"} {
		step(fmt.Sprintf("%s: %d kernel FDB entries over netlink", what, n))
		d, err := KernelFDBRate(ctx, kns, kv.VXLAN, first, n, routesRemote, what == "delete")
		if err != nil {
			return res, err
		}
		switch pass {
		case 0:
			res.ColdKernelRoutesPerS = float64(n) / d.Seconds()
		case 2:
			took = d
		}
	}
	res.KernelSeconds = took.Seconds()
	res.KernelRoutesPerS = float64(n) / took.Seconds()
	res.Ratio = res.FwdRoutesPerS / res.KernelRoutesPerS
	step(fmt.Sprintf("fwd %.0f routes/s, kernel %.0f routes/s", res.FwdRoutesPerS, res.KernelRoutesPerS))
	return res, nil
}

func routesTargets(rs []RoutesResult) []Target {
	var out []Target
	for _, r := range rs {
		name := fmt.Sprintf("%s routes", countName(r.Routes))
		out = append(out,
			Target{Name: name + ": fwd routes/s from the API into the maps", Want: ">= 1M/s",
				Got: fmt.Sprintf("%.0f/s", r.FwdRoutesPerS), Met: r.FwdRoutesPerS >= RoutesTargetRate,
				Value: r.FwdRoutesPerS, Needed: RoutesTargetRate},
			Target{Name: name + ": fwd vs the kernel FDB over netlink", Want: ">= 10x",
				Got: fmt.Sprintf("%.1fx", r.Ratio), Met: r.Ratio >= RoutesTargetRatio,
				Value: r.Ratio, Needed: RoutesTargetRatio})
	}
	return out
}

// WriteJSON writes the report as one JSON object.
func (r *RoutesReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as a table with the targets.
func (r *RoutesReport) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintln(&b, "fwd bench routes: type-2 routes from fwd's API into its BPF maps (one call with a")
	fmt.Fprintln(&b, "generator, a fresh daemon per count) beside the kernel FDB programmed over netlink")
	fmt.Fprintf(&b, "(kernel %s, %d CPUs, load %.2f -> %.2f)\n\n", r.Machine.Kernel, r.Machine.CPUs, r.Machine.LoadStart, r.Machine.LoadEnd)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ROUTES\tFWD routes/s\tFWD s\t(daemon s)\tKERNEL routes/s\tKERNEL s\tFWD/KERNEL\tcold: FWD\tKERNEL\t")
	for _, x := range r.Results {
		fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%.3f\t%.0f\t%.3f\t%.1fx\t%.0f\t%.0f\t\n", countName(x.Routes), x.FwdRoutesPerS, x.FwdSeconds,
			x.FwdDaemonSeconds, x.KernelRoutesPerS, x.KernelSeconds, x.Ratio, x.ColdFwdRoutesPerS, x.ColdKernelRoutesPerS)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nwarm (the headline): the second injection of the same routes, after the first was withdrawn;\ncold: the first, into memory the process or kernel had not touched yet\nkernel: %s\n\ntargets (issue 5):\n", r.KernelMethod)
	for _, t := range r.Targets {
		v := "MET   "
		if !t.Met {
			v = "MISSED"
		}
		fmt.Fprintf(&b, "  %s %s: want %s, got %s\n", v, t.Name, t.Want, t.Got)
	}
	fmt.Fprintf(&b, "\nrun took %.0f s\n", r.Seconds)
	_, err := io.WriteString(w, b.String())
	return err
}
