package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/api"
)

// logLevels are the daemon's levels (log/slog's), least verbose last.
var logLevels = []string{"debug", "info", "warn", "error"}

type logLevelOptions struct {
	*rootOptions
	json bool
}

func newLogLevelCmd(root *rootOptions) *cobra.Command {
	opts := &logLevelOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "log-level [debug|info|warn|error]",
		Short: "Print the daemon's log level, or set it (no restart)",
		Long: `log-level prints the daemon's log level; with a level it sets it at once,
without a restart or reload (the config's level returns on the next
restart). Reading needs root or group fwd, setting needs root.`,
		Example: `  fwd log-level
  sudo fwd log-level debug`,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: logLevels,
		RunE: func(cmd *cobra.Command, args []string) error {
			var want string
			if len(args) == 1 {
				want = strings.ToLower(args[0])
				if want == "warning" {
					want = "warn"
				}
				if !slices.Contains(logLevels, want) {
					return fmt.Errorf("log level %q: want one of %s", args[0], strings.Join(logLevels, ", "))
				}
			}
			ctx, cancel := opts.callContext(cmd)
			defer cancel()
			c := opts.client()
			var (
				level string
				err   error
			)
			if want == "" {
				level, err = c.LogLevel(ctx)
			} else {
				level, err = c.SetLogLevel(ctx, want)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if opts.json {
				return writeJSON(out, api.LogLevel{Level: level})
			}
			if want != "" {
				_, err = fmt.Fprintf(out, "log level set to %s\n", level)
				return err
			}
			_, err = fmt.Fprintln(out, level)
			return err
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the API's JSON")
	return cmd
}
