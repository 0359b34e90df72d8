package cli

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/api"
)

// Run runs the fwd command with args (without the program name). ctx is
// cancelled on SIGINT and SIGTERM; commands stop and clean up when it is.
func Run(ctx context.Context, args []string) error {
	return run(ctx, args, os.Stdout, os.Stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRootCmd(&rootOptions{now: time.Now})
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return explainAPIError(root.ExecuteContext(ctx))
}

// rootOptions are the flags every command sees.
type rootOptions struct {
	verbose bool
	// socket is the daemon's API socket (--socket, FWD_SOCKET).
	socket string
	// timeout bounds each call to the daemon (--timeout; 0: none).
	timeout time.Duration
	// now is time.Now (a seam for tests: `fwd show status` prints uptime).
	now func() time.Time
}

func newRootCmd(opts *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fwd",
		Short: "fwd: an EVPN/VXLAN forwarding plane on XDP",
		Long: `fwd is an EVPN/VXLAN forwarding plane for Linux hosts: an XDP program does the
per-packet work (MAC -> Ethernet Segment -> nexthop group -> VTEP, VXLAN encap
and decap) and a Go daemon owns the state.

Try it without touching your network: sudo fwd lab demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.PersistentFlags().BoolVarP(&opts.verbose, "verbose", "v", false, "log every step (commands run, kernel objects made) to stderr")
	socket := api.DefaultSocket
	if s := os.Getenv("FWD_SOCKET"); s != "" {
		socket = s
	}
	cmd.PersistentFlags().StringVar(&opts.socket, "socket", socket, "the daemon's API `socket` (env FWD_SOCKET)")
	cmd.PersistentFlags().DurationVar(&opts.timeout, "timeout", time.Minute, "give up on a call to the daemon after this long (0: wait forever; fwd events is never cut short)")
	cmd.AddCommand(newVersionCmd(opts), newLabCmd(opts), newBenchCmd(opts),
		newShowCmd(opts), newRouteCmd(opts), newESCmd(opts), newTraceCmd(opts),
		newLogLevelCmd(opts), newEventsCmd(opts), newDaemonCmd(opts))
	return cmd
}
