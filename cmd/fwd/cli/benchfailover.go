package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/bench"
)

type benchFailoverOptions struct {
	quick bool
	json  bool
	svg   string
	macs  string
	reps  int
	cpu   int
}

// newBenchFailoverCmd builds `fwd bench failover`.
func newBenchFailoverCmd() *cobra.Command {
	opts := &benchFailoverOptions{}
	cmd := &cobra.Command{
		Use:   "failover",
		Short: "Failover: writes and time to move N MACs off a failed VTEP or port, vs the kernel and the naive way",
		Long: `failover puts N MACs behind a remote Ethernet Segment of 4 VTEPs and N behind a
local ES, sends live traffic to all of them through fwd's XDP fast path (a
live-frame generator pinned to one CPU, an XDP sink counting frames per VTEP
and on the local port), and injects three failures through fwd's real control
loop, each several times:

  ead-withdraw     a PE withdraws its EAD-per-ES route (tier 2: one group write)
  underlay-lost    a PE becomes unreachable in the underlay (tier 1: a down bit)
  local-port-down  the local ES's port goes down (tier 1: a down bit; its
                   traffic moves to the ES peer)

Per event and N it reports the dataplane writes, the switch time (the control
call's duration), the frames still sent to the dead VTEP or port afterwards,
and beside them, on the same N: FRR's mechanism (the kernel's ip nexthop
replace of an fdb group that N bridge fdb ... nhid entries use, timed as one
netlink message) and the naive one (rewriting every MAC's FDB entry).

A full run takes a few minutes: 2M routes through the control loop and 1M
kernel FDB entries at N=1M dominate. Every namespace it creates is removed at
the end, also on Ctrl-C. Needs root. docs/FAILOVER.md explains the method.`,
		Example: `  sudo fwd bench failover --quick
  sudo fwd bench failover --svg failover.svg
  sudo fwd bench failover --macs 1k,1M --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchFailover(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.quick, "quick", false, "a short run: N = 1000,10000, fewer injections, shorter windows")
	f.BoolVar(&opts.json, "json", false, "print one JSON object instead of the table")
	f.StringVar(&opts.svg, "svg", "", "also write the switch time against N (log scale) to `FILE` (SVG)")
	f.StringVar(&opts.macs, "macs", "1000,10000,100000,1000000", "the N to run: MACs behind each ES, a comma-separated `LIST` (k and M suffixes allowed)")
	f.IntVar(&opts.reps, "reps", 0, "injections per event and N with the traffic watched (default 11, 3 with --quick)")
	f.IntVar(&opts.cpu, "cpu", 0, "the CPU the traffic generator is pinned to")
	return cmd
}

func runBenchFailover(cmd *cobra.Command, opts *benchFailoverOptions) error {
	fo := &bench.FailoverOptions{Quick: opts.quick, Reps: opts.reps, CPU: opts.cpu}
	if !opts.quick || cmd.Flags().Changed("macs") {
		macs, err := bench.ParseFailoverMACs(opts.macs)
		if err != nil {
			return fmt.Errorf("--macs: %w", err)
		}
		fo.MACs = macs
	}
	if opts.reps < 0 {
		return fmt.Errorf("--reps %d: want at least 1", opts.reps)
	}
	if err := requireRoot("fwd bench failover"); err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	if v := cmd.Flags().Lookup("verbose"); v != nil && v.Value.String() == "true" {
		fo.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p := newFailoverProgress(stderr)
	fo.Progress = p.show
	rep, err := bench.RunFailover(cmd.Context(), fo)
	p.done()
	if rep != nil && len(rep.Results) > 0 {
		out := cmd.OutOrStdout()
		var werr error
		if opts.json {
			werr = rep.WriteJSON(out)
		} else {
			werr = rep.WriteTable(out)
		}
		if opts.svg != "" {
			werr = errors.Join(werr, writeFailoverSVG(opts.svg, rep))
		}
		err = errors.Join(err, werr)
	}
	if err != nil {
		if cmd.Context().Err() != nil {
			return errors.New("bench failover interrupted; everything it created was removed")
		}
		return fmt.Errorf("bench failover: %w (everything it created was removed)", err)
	}
	return nil
}

func writeFailoverSVG(path string, rep *bench.FailoverReport) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--svg: %w", err)
	}
	return errors.Join(rep.WriteSVG(f), f.Close())
}

// failoverProgress shows progress on stderr: one line rewritten in place on
// a terminal, one line per step otherwise.
type failoverProgress struct {
	w    io.Writer
	tty  bool
	last int
}

func newFailoverProgress(w io.Writer) *failoverProgress {
	p := &failoverProgress{w: w}
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		p.tty = err == nil
	}
	return p
}

func (p *failoverProgress) show(msg string) {
	if !p.tty {
		fmt.Fprintln(p.w, msg)
		return
	}
	pad := ""
	if n := p.last - len(msg); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.w, "\r%s%s", msg, pad)
	p.last = len(msg)
}

func (p *failoverProgress) done() {
	if p.tty && p.last > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.last))
		p.last = 0
	}
}
