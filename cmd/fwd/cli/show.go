package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/api"
)

// This file holds what every client command shares (the API client, the
// call context, JSON and table output, error explanations) and the show
// commands that are not EVPN-specific: status, interfaces, bridge-domains,
// counters.

// client returns a client of the daemon on --socket.
func (o *rootOptions) client() *api.Client { return api.NewClient(o.socket) }

// callContext is the context of one call to the daemon: the command's,
// bounded by --timeout.
func (o *rootOptions) callContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if o.timeout > 0 {
		return context.WithTimeout(ctx, o.timeout)
	}
	return context.WithCancel(ctx)
}

// explainAPIError turns the daemon's refusals into messages that say what
// to do. Every other error goes through unchanged.
func explainAPIError(err error) error {
	if err == nil {
		return nil
	}
	var se *api.StatusError
	switch {
	case errors.Is(err, api.ErrNotRunning):
		return &explainedError{err: err, msg: err.Error() + "; if it listens on another socket, pass --socket PATH or set FWD_SOCKET"}
	case errors.As(err, &se) && se.Code == http.StatusForbidden:
		msg := "permission denied by the daemon: " + se.Body.Error
		if se.Body.Hint != "" {
			msg += ": " + se.Body.Hint
		} else {
			msg += ": reading needs root or membership of group fwd (sudo usermod -aG fwd $USER, then log in again), changing anything needs root (sudo fwd ...)"
		}
		return &explainedError{err: err, msg: msg}
	case errors.Is(err, context.DeadlineExceeded):
		return &explainedError{err: err, msg: "the daemon did not answer in time (--timeout): " + err.Error()}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		what := strings.ToUpper(ue.Op) + " " + strings.TrimPrefix(ue.URL, "http://fwd")
		if errors.Is(ue.Err, io.EOF) || errors.Is(ue.Err, io.ErrUnexpectedEOF) {
			return &explainedError{err: err, msg: what + ": the daemon closed the connection without answering (its log may say why)"}
		}
		return &explainedError{err: err, msg: what + ": " + ue.Err.Error()}
	}
	return err
}

// explainedError is an error with a message for a person; errors.Is and
// errors.As still see the original.
type explainedError struct {
	err error
	msg string
}

func (e *explainedError) Error() string { return e.msg }
func (e *explainedError) Unwrap() error { return e.err }

// writeJSON prints v as indented JSON, the form --json prints everywhere.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeCompactJSON prints v as one line of JSON (NDJSON streams).
func writeCompactJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// newTable returns the tab writer every table is printed with; the caller
// flushes it.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// dash prints "-" for an empty cell, so columns stay readable.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func upDown(b bool) string {
	if b {
		return "up"
	}
	return "down"
}

// compareAddr orders IP address strings numerically (IPv4 first), and
// anything that does not parse after them, by text.
func compareAddr(a, b string) int {
	pa, ea := netip.ParseAddr(a)
	pb, eb := netip.ParseAddr(b)
	switch {
	case ea == nil && eb == nil:
		return pa.Compare(pb)
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// compareRD orders route distinguishers ("192.0.2.2:3", "65000:7") by
// their administrator (as an address or a number), then their number.
func compareRD(a, b string) int {
	adminA, numA, _ := cutLast(a, ":")
	adminB, numB, _ := cutLast(b, ":")
	return cmp.Or(compareNumeric(adminA, adminB), compareNumeric(numA, numB))
}

func cutLast(s, sep string) (string, string, bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// compareNumeric orders addresses as addresses, numbers as numbers, and
// anything else as text.
func compareNumeric(a, b string) int {
	na, ea := strconv.ParseUint(a, 10, 64)
	nb, eb := strconv.ParseUint(b, 10, 64)
	if ea == nil && eb == nil {
		return cmp.Compare(na, nb)
	}
	return compareAddr(a, b)
}

// sortedAddrs returns the addresses sorted with compareAddr, as a new
// slice.
func sortedAddrs(addrs []string) []string {
	s := slices.Clone(addrs)
	slices.SortFunc(s, compareAddr)
	return s
}

// showOptions are the flags every show command has.
type showOptions struct {
	*rootOptions
	json bool
}

func newShowCmd(root *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show the daemon's state: status, ports, EVPN, nexthop groups, counters",
		Long: `show asks the running daemon (over --socket) for its state and prints it as
tables whose columns follow FRR's commands of the same name (show evpn es,
show evpn mac, show nexthop-group rib, ...). Every show command takes --json to
print the API's JSON instead. Reading needs root or membership of group fwd.`,
	}
	evpn := &cobra.Command{
		Use:   "evpn",
		Short: "Show EVPN state: Ethernet Segments, MACs, L2 nexthops, routes",
	}
	evpn.AddCommand(newShowESCmd(root), newShowESEVICmd(root), newShowMACCmd(root),
		newShowL2NHCmd(root), newShowRoutesCmd(root))
	cmd.AddCommand(newShowStatusCmd(root), newShowInterfacesCmd(root),
		newShowBridgeDomainsCmd(root), newShowCountersCmd(root),
		newShowNexthopGroupCmd(root), evpn)
	return cmd
}

// showCmd builds a show command whose body is run with the call's context
// and the client; it adds --json.
func showCmd(root *rootOptions, c *cobra.Command, run func(ctx context.Context, cmd *cobra.Command, opts *showOptions, args []string) error) *cobra.Command {
	opts := &showOptions{rootOptions: root}
	if c.Args == nil {
		c.Args = cobra.NoArgs
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cancel := root.callContext(cmd)
		defer cancel()
		return run(ctx, cmd, opts, args)
	}
	c.Flags().BoolVar(&opts.json, "json", false, "print the API's JSON instead of a table")
	return c
}

func newShowStatusCmd(root *rootOptions) *cobra.Command {
	return showCmd(root, &cobra.Command{
		Use:   "status",
		Short: "Show the daemon: version, uptime, config, VTEPs, object counts, control-loop activity",
	}, func(ctx context.Context, cmd *cobra.Command, opts *showOptions, _ []string) error {
		st, err := opts.client().Status(ctx)
		if err != nil {
			return err
		}
		if opts.json {
			return writeJSON(cmd.OutOrStdout(), st)
		}
		return printStatus(cmd.OutOrStdout(), st, opts.now())
	})
}

func printStatus(w io.Writer, st api.Status, now time.Time) error {
	tw := newTable(w)
	row := func(k, format string, a ...any) {
		if k != "" {
			k += ":"
		}
		fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...)
	}
	row("Version", "%s", st.Version)
	row("PID", "%d", st.PID)
	if !st.StartedAt.IsZero() {
		row("Started", "%s (up %s)", st.StartedAt.Format(time.RFC3339), now.Sub(st.StartedAt).Round(time.Second))
	}
	cfg := dash(st.ConfigFile)
	if !st.ConfigLoadedAt.IsZero() {
		cfg += ", loaded " + st.ConfigLoadedAt.Format(time.RFC3339)
	}
	row("Config", "%s", cfg)
	var vteps []string
	if st.VTEP4 != "" {
		vteps = append(vteps, st.VTEP4)
	}
	if st.VTEP6 != "" {
		vteps = append(vteps, st.VTEP6)
	}
	row("VTEP", "%s", dash(strings.Join(vteps, ", ")))
	row("Router MAC", "%s", dash(st.RouterMAC))
	if st.Adopted {
		row("Restart", "adopted the pinned fast path, %d change(s) to reconcile it", len(st.Reconciled))
		for _, r := range st.Reconciled {
			row("", "  %s", r)
		}
	} else {
		row("Restart", "cold start (no pinned fast path adopted)")
	}
	row("Interfaces", "%d", st.Interfaces)
	row("Bridge domains", "%d", st.BDs)
	row("Ethernet segments", "%d", st.ESes)
	row("MACs", "%d", st.MACs)
	row("Nexthop groups", "%d", st.Groups)
	row("Routes", "%d", st.Routes)
	l := st.Loop
	row("Control loop", "%d calls, held p50 %.1fus, p99 %.1fus", l.Calls, l.LatencyP50US, l.LatencyP99US)
	row("  paths", "%d added, %d withdrawn", l.PathsAdded, l.PathsGone)
	row("  writes", "%d FDB, %d group, %d errors", l.FDBWrites, l.GroupWrites, l.WriteErrors)
	return tw.Flush()
}

func newShowInterfacesCmd(root *rootOptions) *cobra.Command {
	return showCmd(root, &cobra.Command{
		Use:     "interfaces",
		Aliases: []string{"interface", "ports"},
		Short:   "Show the fast path's ports: role, state, XDP attach mode, ES, VLAN to VNI maps",
	}, func(ctx context.Context, cmd *cobra.Command, opts *showOptions, _ []string) error {
		ifs, err := opts.client().Interfaces(ctx)
		if err != nil {
			return err
		}
		slices.SortFunc(ifs, func(a, b api.Interface) int { return strings.Compare(a.Name, b.Name) })
		if opts.json {
			return writeJSON(cmd.OutOrStdout(), nonNil(ifs))
		}
		tw := newTable(cmd.OutOrStdout())
		fmt.Fprintln(tw, "Interface\tIfindex\tRole\tState\tXDP\tMTU\tES\tVLAN:VNI")
		for _, i := range ifs {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\n", i.Name, i.Ifindex, i.Role, upDown(i.Up),
				dash(i.Attach), i.MTU, dash(i.ESI), dash(vlanMaps(i)))
		}
		return tw.Flush()
	})
}

// vlanMaps formats a port's VLAN to VNI maps: "untagged:100 10:1010".
func vlanMaps(i api.Interface) string {
	var parts []string
	if i.UntaggedVNI != 0 {
		parts = append(parts, fmt.Sprintf("untagged:%d", i.UntaggedVNI))
	}
	vl := slices.Clone(i.VLANs)
	slices.SortFunc(vl, func(a, b api.VLANMap) int { return cmp.Compare(a.VLAN, b.VLAN) })
	for _, v := range vl {
		parts = append(parts, fmt.Sprintf("%d:%d", v.VLAN, v.VNI))
	}
	return strings.Join(parts, " ")
}

func newShowBridgeDomainsCmd(root *rootOptions) *cobra.Command {
	return showCmd(root, &cobra.Command{
		Use:     "bridge-domains",
		Aliases: []string{"bd", "bds"},
		Short:   "Show the bridge domains: their ports, flood list (remote VTEPs) and MAC count",
	}, func(ctx context.Context, cmd *cobra.Command, opts *showOptions, _ []string) error {
		bds, err := opts.client().BridgeDomains(ctx)
		if err != nil {
			return err
		}
		slices.SortFunc(bds, func(a, b api.BridgeDomain) int { return cmp.Compare(a.VNI, b.VNI) })
		if opts.json {
			return writeJSON(cmd.OutOrStdout(), nonNil(bds))
		}
		tw := newTable(cmd.OutOrStdout())
		fmt.Fprintln(tw, "VNI\tPorts\tFlood VTEPs\tMACs")
		for _, bd := range bds {
			ports := slices.Clone(bd.Ports)
			slices.SortFunc(ports, func(a, b api.BDPort) int {
				return cmp.Or(strings.Compare(a.Interface, b.Interface), cmp.Compare(a.VLAN, b.VLAN))
			})
			var ps []string
			for _, p := range ports {
				if p.VLAN == 0 {
					ps = append(ps, p.Interface)
				} else {
					ps = append(ps, fmt.Sprintf("%s.%d", p.Interface, p.VLAN))
				}
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\n", bd.VNI, dash(strings.Join(ps, ",")),
				dash(strings.Join(sortedAddrs(bd.Flood), ",")), bd.MACs)
		}
		return tw.Flush()
	})
}

type showCountersOptions struct {
	nonzero bool
}

func newShowCountersCmd(root *rootOptions) *cobra.Command {
	copts := &showCountersOptions{}
	cmd := showCmd(root, &cobra.Command{
		Use:   "counters",
		Short: "Show the fast path's counters (summed over CPUs), one per outcome",
		Long: `counters prints the XDP program's counters, summed over CPUs, in the
program's own order: frames in per port role, then each way a frame can
leave (tx_*), be left to the kernel (pass_*) or be dropped (drop_*).
docs/DATAPLANE.md says which step bumps which counter.`,
	}, func(ctx context.Context, cmd *cobra.Command, opts *showOptions, _ []string) error {
		cs, err := opts.client().Counters(ctx)
		if err != nil {
			return err
		}
		cs.Counters = nonNil(cs.Counters)
		if copts.nonzero {
			cs.Counters = slices.DeleteFunc(cs.Counters, func(c api.Counter) bool { return c.Value == 0 })
		}
		if opts.json {
			return writeJSON(cmd.OutOrStdout(), cs)
		}
		tw := newTable(cmd.OutOrStdout())
		fmt.Fprintln(tw, "Counter\tValue\tMeaning")
		for _, c := range cs.Counters {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", c.Name, c.Value, dash(counterMeaning(c.Name)))
		}
		return tw.Flush()
	})
	cmd.Flags().BoolVar(&copts.nonzero, "nonzero", false, "leave out counters that are zero")
	return cmd
}
