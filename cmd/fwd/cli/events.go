package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/api"
)

// eventTypes are the event types the daemon sends (api.Event.Type).
var eventTypes = []string{"route", "mac", "es", "port", "underlay", "config", "df"}

type eventsOptions struct {
	*rootOptions
	json  bool
	types []string
}

func newEventsCmd(root *rootOptions) *cobra.Command {
	opts := &eventsOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Follow the daemon's events (routes, MACs, ESes, ports, DF changes) as they happen",
		Long: `events follows the daemon's event stream (/v1/events) and prints one line per
event: the time, the type, what happened, and the details as key=value. It runs
until Ctrl-C, or fails when the daemon closes the stream (it stopped or
restarted). --json prints the stream's NDJSON, one event object per line.
--type keeps only events of the given types. --timeout does not apply.`,
		Example: `  fwd events
  fwd events --type es --type df
  fwd events --json | jq 'select(.type == "route")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, t := range opts.types {
				if !slices.Contains(eventTypes, t) {
					return fmt.Errorf("--type %q: want one of %s", t, strings.Join(eventTypes, ", "))
				}
			}
			return runEvents(cmd, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print each event as one JSON object per line (NDJSON)")
	cmd.Flags().StringSliceVar(&opts.types, "type", nil, "only events of this `TYPE` ("+strings.Join(eventTypes, ", ")+"); repeat or comma-separate for several")
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions(eventTypes, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runEvents(cmd *cobra.Command, opts *eventsOptions) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	out := cmd.OutOrStdout()
	err := opts.client().Events(ctx, func(ev api.Event) error {
		if len(opts.types) > 0 && !slices.Contains(opts.types, ev.Type) {
			return nil
		}
		if opts.json {
			return writeCompactJSON(out, ev)
		}
		_, err := io.WriteString(out, formatEvent(ev)+"\n")
		return err
	})
	switch {
	case ctx.Err() != nil && (err == nil || errors.Is(err, ctx.Err())):
		// Ctrl-C: the normal way to stop following.
		return nil
	case err != nil:
		return err
	}
	return errors.New("the daemon closed the event stream (it stopped or restarted)")
}

// formatEvent prints an event on one line: time, type, message, then the
// fields sorted by key, values quoted when they hold spaces.
func formatEvent(ev api.Event) string {
	var b strings.Builder
	b.WriteString(ev.Time.Format("2006-01-02T15:04:05.000Z07:00"))
	fmt.Fprintf(&b, "  %-8s %s", ev.Type, ev.Message)
	keys := make([]string, 0, len(ev.Fields))
	for k := range ev.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i == 0 {
			b.WriteString(" ")
		}
		v := ev.Fields[k]
		if v == "" || strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	return b.String()
}
