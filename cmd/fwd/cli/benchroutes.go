package cli

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/api"
	"github.com/fwdplane/fwd/bench"
	"github.com/fwdplane/fwd/config"
	"github.com/fwdplane/fwd/lab"
)

type benchRoutesOptions struct {
	json   bool
	routes string
}

// newBenchRoutesCmd builds `fwd bench routes`.
func newBenchRoutesCmd() *cobra.Command {
	opts := &benchRoutesOptions{}
	cmd := &cobra.Command{
		Use:   "routes",
		Short: "Route injection: type-2 routes per second from the API into the maps, vs the kernel FDB",
		Long: `routes starts an fwd daemon in a namespace of its own (this binary's daemon
command), injects N type-2 routes through its API in one call (the SHARP-like
generator: N MACs to one remote VTEP) and times the call, from the request to
the answer, with every entry written to the fast path's FDB. Beside it, on the
same N, the same entries go into a kernel VTEP's FDB (a vxlan device enslaved to
a bridge, as FRR sets it up) over netlink, the way zebra programs them, in
batches of 512 messages per sendmsg.

Every namespace, daemon and pinned map it creates is removed at the end, also
on Ctrl-C. Needs root.`,
		Example: `  sudo fwd bench routes
  sudo fwd bench routes --routes 10k,100k,1M --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBenchRoutes(cmd, opts) },
	}
	f := cmd.Flags()
	f.BoolVar(&opts.json, "json", false, "print one JSON object instead of the table")
	f.StringVar(&opts.routes, "routes", "10k,100k,1M", "the route counts to run, a comma-separated `LIST` (k and M suffixes allowed)")
	return cmd
}

func runBenchRoutes(cmd *cobra.Command, opts *benchRoutesOptions) error {
	counts, err := bench.ParseFailoverMACs(opts.routes)
	if err != nil {
		return fmt.Errorf("--routes: %w", err)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("bench routes makes namespaces and loads BPF programs: run it as root")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	rep, err := bench.RunRoutes(cmd.Context(), &bench.RoutesOptions{
		Routes:   counts,
		Start:    daemonStarter(self, nil),
		Progress: func(s string) { fmt.Fprintln(stderr, s) },
	})
	if err != nil {
		return err
	}
	if opts.json {
		return rep.WriteJSON(cmd.OutOrStdout())
	}
	return rep.WriteTable(cmd.OutOrStdout())
}

// daemonStarter runs `exe daemon` (exe: this binary; env: extra
// environment, for tests that re-execute themselves) inside a namespace,
// with nsenter so that the bpffs stays visible.
func daemonStarter(exe string, env []string) bench.StartFwd {
	return func(ctx context.Context, ns *lab.NS, cfgYAML []byte) (bench.RouteInjector, func() error, error) {
		cfg, err := config.Parse(cfgYAML)
		if err != nil {
			return nil, nil, fmt.Errorf("bench config: %w", err)
		}
		dir, err := os.MkdirTemp("", "fwd-bench-")
		if err != nil {
			return nil, nil, err
		}
		path := filepath.Join(dir, "fwd.yaml")
		if err := os.WriteFile(path, cfgYAML, 0o600); err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		client := api.NewClient(cfg.API.Socket)
		ready := func(ctx context.Context) error { _, err := client.Status(ctx); return err }
		argv := append([]string{exe, "daemon", "--config", path}, strings.Fields(os.Getenv("FWD_BENCH_DAEMON_FLAGS"))...)
		d, err := lab.StartDaemon(ctx, ns, argv, env, ready, 30*time.Second)
		if err != nil {
			os.RemoveAll(dir)
			os.RemoveAll(cfg.Dataplane.PinDir)
			return nil, nil, fmt.Errorf("fwd daemon: %w", err)
		}
		stop := func() error {
			defer os.RemoveAll(dir)
			defer os.RemoveAll(cfg.Dataplane.PinDir)
			return d.Stop(30 * time.Second)
		}
		return apiInjector{client}, stop, nil
	}
}

// apiInjector injects routes with the API's generator.
type apiInjector struct{ c *api.Client }

func (a apiInjector) Inject(ctx context.Context, first [6]byte, n int, vni uint32, dst netip.Addr, withdraw bool) (time.Duration, time.Duration, error) {
	mac := strings.ToLower(fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", first[0], first[1], first[2], first[3], first[4], first[5]))
	batch := api.RouteBatch{Generate: &api.Generator{Count: n, StartMAC: mac, VNI: vni, NextHop: dst.String()}}
	call, done := a.c.AddRoutes, func(r api.RouteResult) int { return r.Added }
	if withdraw {
		call, done = a.c.WithdrawRoutes, func(r api.RouteResult) int { return r.Withdrawn }
	}
	start := time.Now()
	res, err := call(ctx, batch)
	wall := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	if done(res) != n || res.Rejected != 0 {
		return 0, 0, fmt.Errorf("%d routes (withdraw %v): %d done, %d rejected %v", n, withdraw, done(res), res.Rejected, res.Errors)
	}
	return wall, time.Duration(res.ElapsedUS * 1e3), nil
}
