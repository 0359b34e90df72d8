package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/config"
	"github.com/fwdplane/fwd/daemon"
)

type daemonOptions struct {
	*rootOptions
	config        string
	checkOnly     bool
	restartWindow time.Duration
	cpuProfile    string
}

func newDaemonCmd(root *rootOptions) *cobra.Command {
	opts := &daemonOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "daemon --config FILE",
		Short: "Run the fwd daemon: the fast path, the control loop and the API",
		Long: `daemon loads fwd's XDP fast path on the config's interfaces, runs the control
loop (EVPN routes from the API, underlay reachability, link state, learned
MACs) and serves the API on a unix socket for the fwd command.

Signals: SIGHUP reloads the config file (a bad file is reported and the
running config kept; docs/CONFIG.md says which settings apply live); SIGINT
and SIGTERM stop it cleanly.

Restarts are hitless: the maps and links are pinned (dataplane.pin_dir), so
the fast path keeps forwarding while no daemon runs, and a new daemon adopts
the pinned state, rebuilds its own beside it as the routes come back, and
removes what is left of the old one after --restart-window. With
dataplane.keep_xdp_on_stop false, a clean stop detaches the program.`,
		Example: `  sudo fwd daemon --config /etc/fwd/fwd.yaml
  fwd daemon --config fwd.yaml --check-config`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDaemon(cmd, opts) },
	}
	f := cmd.Flags()
	f.StringVarP(&opts.config, "config", "c", "/etc/fwd/fwd.yaml", "the config `FILE` (YAML; docs/CONFIG.md)")
	f.BoolVar(&opts.checkOnly, "check-config", false, "validate the config file and exit: every error names the field, the value and the fix")
	f.DurationVar(&opts.restartWindow, "restart-window", daemon.DefaultRestartWindow,
		"after a restart, how long the routes have to come back before the previous instance's leftovers are swept")
	f.StringVar(&opts.cpuProfile, "cpuprofile", "", "write a CPU profile of the daemon's whole run to `FILE` (go tool pprof)")
	_ = f.MarkHidden("cpuprofile")
	return cmd
}

func runDaemon(cmd *cobra.Command, opts *daemonOptions) error {
	cfg, err := config.Load(opts.config)
	if err != nil {
		return err
	}
	if opts.checkOnly {
		fmt.Fprintf(cmd.OutOrStdout(), "%s: OK: %d interfaces, %d bridge domains, %d ethernet segments\n",
			opts.config, len(cfg.Interfaces), len(cfg.BridgeDomains), len(cfg.EthernetSegments))
		return nil
	}
	if os.Geteuid() != 0 {
		return errors.New("the daemon loads BPF programs and needs root (or CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN): run it with sudo or from the systemd unit")
	}
	level := new(slog.LevelVar)
	level.Set(cfg.Log.Level)
	log := newLogger(cmd.ErrOrStderr(), cfg.Log.Format, level)
	ctx := cmd.Context()
	d, err := daemon.New(ctx, daemon.Options{ConfigPath: opts.config, Config: cfg, Logger: log, Level: level,
		Version: buildVersion().Version, RestartWindow: opts.restartWindow})
	if err != nil {
		return err
	}
	if opts.cpuProfile != "" {
		f, err := os.Create(opts.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_, _ = d.Reload(ctx) // it logs what it did, or why it kept the running config
			}
		}
	}()
	return d.Run(ctx)
}

func newLogger(w io.Writer, format config.LogFormat, level *slog.LevelVar) *slog.Logger {
	hopts := &slog.HandlerOptions{Level: level}
	if format == config.LogText {
		return slog.New(slog.NewTextHandler(w, hopts))
	}
	return slog.New(slog.NewJSONHandler(w, hopts))
}
