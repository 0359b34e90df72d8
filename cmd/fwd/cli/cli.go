package cli

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Run runs the fwd command with args (without the program name). ctx is
// cancelled on SIGINT and SIGTERM; commands stop and clean up when it is.
func Run(ctx context.Context, args []string) error {
	return run(ctx, args, os.Stdout, os.Stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRootCmd(&rootOptions{})
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

// rootOptions are the flags every command sees.
type rootOptions struct {
	verbose bool
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
	cmd.AddCommand(newVersionCmd(opts), newLabCmd(opts), newBenchCmd(opts))
	return cmd
}
