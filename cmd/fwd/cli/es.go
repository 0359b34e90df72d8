package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/api"
)

type esAdminOptions struct {
	*rootOptions
	up   bool
	json bool
}

func newESCmd(root *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "es",
		Short: "Take a local Ethernet Segment out of service for maintenance, and back",
		Long: `es down holds a local Ethernet Segment down as if its port had failed: fwd
withdraws its routes (so remote PEs stop sending to it) and the fast path sends
what arrives for it to the ES peers through its backup group. es up releases it:
it follows its port's state again and its routes are advertised anew. The hold
lasts until es up or a daemon restart. Needs root.`,
	}
	cmd.AddCommand(newESAdminCmd(root, false), newESAdminCmd(root, true))
	return cmd
}

func newESAdminCmd(root *rootOptions, up bool) *cobra.Command {
	opts := &esAdminOptions{rootOptions: root, up: up}
	use, short := "down ESI", "Hold a local ES down for maintenance: withdraw its routes, send its traffic to the ES peers"
	if up {
		use, short = "up ESI", "Release a local ES held down: it follows its port again"
	}
	cmd := &cobra.Command{
		Use:               use,
		Short:             short,
		Example:           "  sudo fwd es " + strings.Fields(use)[0] + " 03:44:38:39:ff:ff:01:00:00:01",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeESArgs(root, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			esi, err := parseESIArg(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := opts.callContext(cmd)
			defer cancel()
			es, err := opts.client().SetESAdmin(ctx, esi, opts.up)
			if err != nil {
				return err
			}
			sorted := []api.ES{es}
			sortESes(sorted)
			es = sorted[0]
			out := cmd.OutOrStdout()
			if opts.json {
				return writeJSON(out, es)
			}
			printESAdmin(out, es, opts.up)
			fmt.Fprintln(out)
			return printESDetail(out, es)
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the ES as the daemon returns it, in JSON")
	return cmd
}

// printESAdmin says in one line what the change means for traffic.
func printESAdmin(w io.Writer, es api.ES, up bool) {
	port := dash(es.Interface)
	if !up {
		peers := strings.Join(esVTEPs(es), ", ")
		if peers == "" {
			fmt.Fprintf(w, "ES %s is held down: its routes are withdrawn; it has no ES peers, so traffic for %s has nowhere to go\n", es.ESI, port)
			return
		}
		fmt.Fprintf(w, "ES %s is held down: its routes are withdrawn and traffic for %s goes to the ES peers (%s)\n", es.ESI, port, peers)
		return
	}
	fmt.Fprintf(w, "ES %s is released: it follows %s again, which is %s\n", es.ESI, port, upDown(es.Up))
}
