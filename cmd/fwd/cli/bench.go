package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/bench"
)

func newBenchCmd(root *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure fwd against the references it must beat",
		Long: `bench measures fwd in throwaway network namespaces, side by side with the
references it is judged against, on the same harness and the same frames.
Every command prints a table, takes --json (one object with a "results"
array) and --quick, and shows its progress on stderr. Needs root.`,
	}
	cmd.AddCommand(newBenchXDPCmd(root), newBenchFailoverCmd(), newBenchRoutesCmd())
	return cmd
}

type benchXDPOptions struct {
	*rootOptions
	quick    bool
	json     bool
	list     bool
	svg      string
	pcap     string
	scenario string
	duration time.Duration
	rounds   int
	cpu      int
	// euid returns the effective user id (a seam for tests).
	euid func() int
}

func newBenchXDPCmd(root *rootOptions) *cobra.Command {
	return benchXDPCmd(&benchXDPOptions{rootOptions: root, euid: os.Geteuid})
}

func benchXDPCmd(opts *benchXDPOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "xdp",
		Short: "Throughput of fwd's XDP fast path vs the redirect floor and the kernel path",
		Long: `xdp measures delivered Mpps and loss per scenario for three systems on one
harness and one frame set:

  fwd     fwd's XDP program, attached natively, FDB sized to the scenario
  floor   a program that only redirects to the port fwd would send to
  kernel  the path FRR programs: Linux bridge + vxlan device + L2 nexthop
          group (ip nexthop ... fdb, bridge fdb ... nhid), permanent
          neighbour entries

A live-frame generator (BPF_PROG_RUN, BPF_F_TEST_XDP_LIVE_FRAMES) pinned to
one CPU injects frames into the system's ingress veth; an XDP sink behind its
egress counts what arrives, per flow. Scenarios: L2 to a remote VTEP over IPv4
and IPv6, to a remote ES through a 4-VTEP group, decapsulation to a local
port, local switching; FDBs of 1k and 1M entries; 1 and 64k flows; 64- and
1518-byte frames. The full run takes several minutes (loading 1M entries into
the kernel dominates); --quick takes seconds.

Every namespace it creates is removed at the end, also on Ctrl-C.`,
		Example: `  sudo fwd bench xdp --quick
  sudo fwd bench xdp --svg bench.svg
  sudo fwd bench xdp --scenario '^encap4/fdb=1M/' --json
  fwd bench xdp --list --pcap frames.pcap`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchXDP(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.quick, "quick", false, "a short run: fewer scenarios, small FDBs, 0.3 s per system")
	f.BoolVar(&opts.json, "json", false, "print one JSON object instead of the table")
	f.BoolVar(&opts.list, "list", false, "list the scenarios that would run, then exit (no root needed)")
	f.StringVar(&opts.svg, "svg", "", "also write a bar chart of delivered Mpps to `FILE` (SVG)")
	f.StringVar(&opts.pcap, "pcap", "", "write the first frames of each scenario, as the generator stamps them, to `FILE` (pcap, for Wireshark); works with --list, without root")
	f.StringVar(&opts.scenario, "scenario", "", "run only the scenarios whose name matches `REGEX` (names as --list shows them)")
	f.DurationVar(&opts.duration, "duration", 0, "generator time per scenario and system (default 2s, 300ms with --quick)")
	f.IntVar(&opts.rounds, "rounds", 0, "split each system's time into N rounds, the systems taking turns (default 5, 1 with --quick)")
	f.IntVar(&opts.cpu, "cpu", 0, "the CPU the generator (and the whole frame path) runs on")
	return cmd
}

func runBenchXDP(cmd *cobra.Command, opts *benchXDPOptions) error {
	var re *regexp.Regexp
	if opts.scenario != "" {
		var err error
		if re, err = regexp.Compile(opts.scenario); err != nil {
			return fmt.Errorf("--scenario %q: %w", opts.scenario, err)
		}
	}
	all := bench.Scenarios(opts.quick)
	scenarios := bench.Filter(all, re)
	if len(scenarios) == 0 {
		names := make([]string, len(all))
		for i, s := range all {
			names[i] = s.Name()
		}
		return fmt.Errorf("--scenario %q matches none of the scenarios:\n  %s", opts.scenario, strings.Join(names, "\n  "))
	}
	out := cmd.OutOrStdout()
	if opts.pcap != "" {
		if err := writeBenchPcap(opts.pcap, scenarios); err != nil {
			return fmt.Errorf("--pcap: %w", err)
		}
	}
	if opts.list {
		for _, s := range scenarios {
			fmt.Fprintf(out, "%-34s %s\n", s.Name(), s.Kind.Description())
		}
		return nil
	}
	if opts.duration < 0 {
		return fmt.Errorf("--duration %s: want a positive duration", opts.duration)
	}
	if opts.euid() != 0 {
		return errors.New("fwd bench xdp needs root (it creates network namespaces, loads XDP programs and injects frames with BPF_PROG_RUN): run it with sudo; fwd bench xdp --list shows the scenarios without root")
	}
	if opts.rounds < 0 {
		return fmt.Errorf("--rounds %d: want 1 or more", opts.rounds)
	}
	d, rounds := opts.duration, opts.rounds
	if opts.quick {
		if d == 0 {
			d = 300 * time.Millisecond
		}
		if rounds == 0 {
			rounds = 1
		}
	}
	var svgFile *os.File
	if opts.svg != "" {
		// Fail before a long run, not after it.
		var err error
		if svgFile, err = os.Create(opts.svg); err != nil {
			return fmt.Errorf("--svg: %w", err)
		}
		defer svgFile.Close()
	}
	prog := newProgressWriter(cmd.ErrOrStderr())
	rep, err := bench.Run(cmd.Context(), scenarios, &bench.Options{Duration: d, Rounds: rounds, CPU: opts.cpu,
		Progress: prog.update, Logger: opts.logger(cmd.ErrOrStderr())})
	prog.clear()
	if rep == nil {
		return err
	}
	if opts.json {
		if jerr := rep.WriteJSON(out); jerr != nil {
			return errors.Join(err, jerr)
		}
	} else if terr := rep.WriteTable(out); terr != nil {
		return errors.Join(err, terr)
	}
	if svgFile != nil {
		if serr := rep.WriteSVG(svgFile); serr != nil {
			return fmt.Errorf("--svg %s: %w", opts.svg, serr)
		}
		if serr := svgFile.Close(); serr != nil {
			return fmt.Errorf("--svg %s: %w", opts.svg, serr)
		}
	}
	if err != nil {
		if cmd.Context().Err() != nil {
			return errors.New("bench interrupted; every namespace it created was removed")
		}
		return fmt.Errorf("bench: %w", err)
	}
	if errs := rep.Errors(); len(errs) > 0 {
		return fmt.Errorf("bench: %d measurements failed: %s", len(errs), strings.Join(errs, "; "))
	}
	return nil
}

func writeBenchPcap(path string, scenarios []bench.Scenario) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := bench.WritePcap(f, scenarios, 4); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// progressWriter shows bench progress on stderr: one line rewritten in
// place on a terminal, plain lines otherwise (fewer of them: a step that
// only counts on is printed every few seconds).
type progressWriter struct {
	w     io.Writer
	tty   bool
	fd    int
	start time.Time

	mu       sync.Mutex
	lastKey  string
	lastTime time.Time
	shown    bool
}

func newProgressWriter(w io.Writer) *progressWriter {
	p := &progressWriter{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		p.fd = int(f.Fd())
		_, err := unix.IoctlGetTermios(p.fd, unix.TCGETS)
		p.tty = err == nil
	}
	return p
}

// stepKey is a step without its numbers: "kernel FDB 320k/1M" and "kernel
// FDB 384k/1M" are the same step.
func stepKey(p bench.Progress) string {
	return string(p.System) + " " + p.Scenario + " " + strings.TrimRightFunc(strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) || r == '.' || r == '/' || r == 'k' || r == 'M' {
			return -1
		}
		return r
	}, p.Step), unicode.IsSpace)
}

func (p *progressWriter) update(pr bench.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := time.Since(p.start).Round(time.Second)
	line := fmt.Sprintf("[%d/%d %s] %s", pr.Done, pr.Total, el, pr.Step)
	if pr.Scenario != "" {
		line = fmt.Sprintf("[%d/%d %s] %-6s %s: %s", pr.Done, pr.Total, el, pr.System, pr.Scenario, pr.Step)
	}
	if p.tty {
		// One line, never wrapped: \r only goes back to its start.
		if ws, err := unix.IoctlGetWinsize(p.fd, unix.TIOCGWINSZ); err == nil && ws.Col > 1 && len(line) >= int(ws.Col) {
			line = line[:int(ws.Col)-1]
		}
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.shown = true
		return
	}
	key := stepKey(pr)
	if key == p.lastKey && time.Since(p.lastTime) < 5*time.Second {
		return
	}
	p.lastKey, p.lastTime = key, time.Now()
	fmt.Fprintln(p.w, line)
}

// clear removes the progress line from a terminal.
func (p *progressWriter) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
