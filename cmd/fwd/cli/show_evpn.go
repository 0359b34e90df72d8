package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/api"
	"github.com/fwdplane/fwd/evpn"
)

// The EVPN show commands: es, es-evi, mac, l2-nh, routes. Their columns,
// flags and keywords follow FRR's (zebra's show evpn ... and show bgp
// l2vpn evpn route type ...).

// parseESIArg parses an ESI the way FRR accepts it and returns it in the
// canonical form the daemon prints.
func parseESIArg(s string) (string, error) {
	e, err := evpn.ParseESI(s)
	if err != nil {
		return "", err
	}
	return e.String(), nil
}

// parseVNIArg parses a VNI: 1 to 16777215.
func parseVNIArg(what, s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v < 1 || v > evpn.MaxLabel {
		return 0, fmt.Errorf("%s %q: want a VNI, 1 to %d", what, s, evpn.MaxLabel)
	}
	return uint32(v), nil
}

// keywordArgs parses FRR-style "keyword value" pairs against the allowed
// keywords and returns the values by keyword.
func keywordArgs(args []string, allowed ...string) (map[string]string, error) {
	want := "want " + strings.Join(allowed, " ..., ") + " ..."
	kv := map[string]string{}
	for i := 0; i < len(args); i += 2 {
		k := args[i]
		if !slices.Contains(allowed, k) {
			return nil, fmt.Errorf("unknown keyword %q: %s", k, want)
		}
		if i+1 == len(args) {
			return nil, fmt.Errorf("%s needs a value: %s", k, want)
		}
		if _, dup := kv[k]; dup {
			return nil, fmt.Errorf("%s given twice", k)
		}
		kv[k] = args[i+1]
	}
	return kv, nil
}

// esTypeFlags returns FRR's Type column of show evpn es: L local, R remote
// (a remote PE is on the ES), N non-DF (a local ES this node does not
// forward BUM for). fwd has no LACP bypass, so never B.
func esTypeFlags(es api.ES) string {
	var f string
	if es.Type == "local" {
		f += "L"
	}
	if es.Type == "remote" || len(es.VTEPs) > 0 {
		f += "R"
	}
	if es.Type == "local" && !es.DF {
		f += "N"
	}
	return f
}

// esState is a local ES's state: admin-down while held down by fwd es
// down, else its port's state.
func esState(es api.ES) string {
	switch {
	case es.Type != "local":
		return "-"
	case !es.Admin:
		return "admin-down"
	}
	return upDown(es.Up)
}

func esVTEPs(es api.ES) []string {
	v := make([]string, len(es.VTEPs))
	for i, p := range es.VTEPs {
		v[i] = p.VTEP
	}
	return sortedAddrs(v)
}

func sortESes(ess []api.ES) {
	slices.SortFunc(ess, func(a, b api.ES) int { return strings.Compare(a.ESI, b.ESI) })
	for i := range ess {
		ess[i].VTEPs = slices.Clone(ess[i].VTEPs)
		slices.SortFunc(ess[i].VTEPs, func(a, b api.ESVTEP) int { return compareAddr(a.VTEP, b.VTEP) })
	}
}

func newShowESCmd(root *rootOptions) *cobra.Command {
	cmd := showCmd(root, &cobra.Command{
		Use:   "es [ESI] [detail]",
		Short: "Show Ethernet Segments (FRR: show evpn es [ESI|detail])",
		Long: `es lists the Ethernet Segments fwd knows: its local ones (an access port with an
ESI) and remote ones (learnt from EAD routes). The Type column is FRR's:
L local, R remote PEs on it, N this node is not the designated forwarder (B,
LACP bypass, does not exist in fwd). State is a local ES's: up, down (its
port), admin-down (held down with fwd es down).

With an ESI, or with detail, each ES is printed in full: DF status and
preference, its nexthop group (remote ES) or backup group (local ES), MAC
count, and every PE with what it advertised. A PE that sent no type-4 route
(GoBGP drops FRR's, see docs/CLI.md) takes part in the DF election at the
default preference 32767; detail says so.`,
		Example: `  fwd show evpn es
  fwd show evpn es detail
  fwd show evpn es 03:44:38:39:ff:ff:01:00:00:01 --json`,
		Args:              cobra.MaximumNArgs(2),
		ValidArgsFunction: completeESArgs(root, false, "detail"),
	}, func(ctx context.Context, cmd *cobra.Command, opts *showOptions, args []string) error {
		var esi string
		detail := false
		for _, a := range args {
			switch {
			case a == "detail":
				detail = true
			case esi == "":
				e, err := parseESIArg(a)
				if err != nil {
					return err
				}
				esi = e
			default:
				return fmt.Errorf("%q: want at most one ESI, and detail", a)
			}
		}
		ess, err := opts.client().ESes(ctx)
		if err != nil {
			return err
		}
		sortESes(ess)
		out := cmd.OutOrStdout()
		if esi != "" {
			i := slices.IndexFunc(ess, func(es api.ES) bool { return es.ESI == esi })
			if i < 0 {
				have := make([]string, len(ess))
				for j, es := range ess {
					have[j] = es.ESI
				}
				return fmt.Errorf("es %s: the daemon knows no such Ethernet Segment (have: %s)", esi, dash(strings.Join(have, ", ")))
			}
			if opts.json {
				return writeJSON(out, ess[i])
			}
			return printESDetail(out, ess[i])
		}
		if opts.json {
			return writeJSON(out, nonNil(ess))
		}
		if detail {
			for i, es := range ess {
				if i > 0 {
					fmt.Fprintln(out)
				}
				if err := printESDetail(out, es); err != nil {
					return err
				}
			}
			return nil
		}
		fmt.Fprintln(out, "Type: B bypass, L local, R remote, N non-DF")
		tw := newTable(out)
		fmt.Fprintln(tw, "ESI\tType\tES-IF\tState\tVTEPs")
		for _, es := range ess {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", es.ESI, esTypeFlags(es), dash(es.Interface), esState(es),
				dash(strings.Join(esVTEPs(es), ",")))
		}
		return tw.Flush()
	})
	return cmd
}

// printESDetail prints one ES as FRR's show evpn es detail does.
func printESDetail(w io.Writer, es api.ES) error {
	var types []string
	if es.Type == "local" {
		types = append(types, "Local")
	}
	if es.Type == "remote" || len(es.VTEPs) > 0 {
		types = append(types, "Remote")
	}
	fmt.Fprintf(w, "ESI: %s\n", es.ESI)
	fmt.Fprintf(w, " Type: %s\n", strings.Join(types, ","))
	if es.Type == "local" {
		fmt.Fprintf(w, " Interface: %s\n", dash(es.Interface))
		fmt.Fprintf(w, " State: %s\n", upDown(es.Up))
		if es.Admin {
			fmt.Fprintln(w, " Admin: up")
		} else {
			fmt.Fprintln(w, " Admin: down (held down for maintenance: fwd es up releases it)")
		}
		if es.DF {
			fmt.Fprintln(w, " DF status: df")
		} else {
			fmt.Fprintln(w, " DF status: non-df")
		}
		fmt.Fprintf(w, " DF algorithm: %s\n", dash(es.DFAlg))
		fmt.Fprintf(w, " DF preference: %d\n", es.DFPref)
	}
	fmt.Fprintf(w, " MAC Count: %d\n", es.MACs)
	if es.Group != 0 {
		fmt.Fprintf(w, " Nexthop group: %d\n", es.Group)
	}
	if es.BackupGroup != 0 {
		fmt.Fprintf(w, " Backup nexthop group: %d\n", es.BackupGroup)
	}
	if len(es.VTEPs) == 0 {
		fmt.Fprintln(w, " VTEPs: none")
		return nil
	}
	fmt.Fprintln(w, " VTEPs:")
	for _, v := range es.VTEPs {
		var attrs []string
		if v.Active {
			attrs = append(attrs, "active")
		} else {
			attrs = append(attrs, "inactive")
		}
		if v.EADPerES {
			attrs = append(attrs, "ead-per-es")
		}
		attrs = append(attrs, fmt.Sprintf("evis %d", v.EVIs))
		if v.DFAlg != "" {
			attrs = append(attrs, fmt.Sprintf("df_alg %s, df_pref %d", v.DFAlg, v.DFPref))
		} else if es.Type == "local" {
			attrs = append(attrs, "no type-4 route: df_pref 32767 assumed")
		}
		if v.DF {
			attrs = append(attrs, "df")
		}
		fmt.Fprintf(w, "     %s %s\n", v.VTEP, strings.Join(attrs, ", "))
	}
	return nil
}

func newShowESEVICmd(root *rootOptions) *cobra.Command {
	return showCmd(root, &cobra.Command{
		Use:   "es-evi [vni N]",
		Short: "Show Ethernet Segments per bridge domain (FRR: show evpn es-evi)",
		Long: `es-evi lists each Ethernet Segment in each bridge domain (VNI) it is present
in, with the Type column of show evpn es (L local, R remote PEs) and the
remote PEs that advertised it in that VNI (EAD-per-EVI).`,
		Args:              cobra.MaximumNArgs(2),
		ValidArgsFunction: completeKeywords("vni"),
	}, func(ctx context.Context, cmd *cobra.Command, opts *showOptions, args []string) error {
		kv, err := keywordArgs(args, "vni")
		if err != nil {
			return err
		}
		var vni uint32
		if s, ok := kv["vni"]; ok {
			if vni, err = parseVNIArg("vni", s); err != nil {
				return err
			}
		}
		evis, err := opts.client().ESEVIs(ctx)
		if err != nil {
			return err
		}
		if vni != 0 {
			evis = slices.DeleteFunc(evis, func(e api.ESEVI) bool { return e.VNI != vni })
		}
		slices.SortFunc(evis, func(a, b api.ESEVI) int {
			return cmp.Or(cmp.Compare(a.VNI, b.VNI), strings.Compare(a.ESI, b.ESI))
		})
		for i := range evis {
			evis[i].VTEPs = sortedAddrs(evis[i].VTEPs)
		}
		out := cmd.OutOrStdout()
		if opts.json {
			return writeJSON(out, nonNil(evis))
		}
		fmt.Fprintln(out, "Type: L local, R remote")
		tw := newTable(out)
		fmt.Fprintln(tw, "VNI\tESI\tType\tVTEPs")
		for _, e := range evis {
			var f string
			if e.Type == "local" {
				f += "L"
			}
			if e.Type == "remote" || len(e.VTEPs) > 0 {
				f += "R"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", e.VNI, e.ESI, f, dash(strings.Join(e.VTEPs, ",")))
		}
		return tw.Flush()
	})
}

func newShowMACCmd(root *rootOptions) *cobra.Command {
	return showCmd(root, &cobra.Command{
		Use:     "mac [vni N] [mac M] [es ESI]",
		Aliases: []string{"macs"},
		Short:   "Show the MAC table (FRR: show evpn mac vni N|all)",
		Long: `mac lists MACs per bridge domain: local ones (learnt on an access port), remote
ones (type-2 routes, behind a remote ES or a single VTEP) and sync ones (a
type-2 route from an ES peer for a MAC on a local ES, FRR's peer-active).
Filter with vni, mac and es; the daemon applies the filters.

Flags: P peer-active (sync: learnt from an ES peer), S sticky (a static MAC
that does not move), R router (the MAC of a gateway).`,
		Example: `  fwd show evpn mac
  fwd show evpn mac vni 1000
  fwd show evpn mac es 03:44:38:39:ff:ff:01:00:00:01 --json`,
		Args:              cobra.MaximumNArgs(6),
		ValidArgsFunction: completeKeywords("vni", "mac", "es"),
	}, func(ctx context.Context, cmd *cobra.Command, opts *showOptions, args []string) error {
		kv, err := keywordArgs(args, "vni", "mac", "es")
		if err != nil {
			return err
		}
		var f api.MACFilter
		if s, ok := kv["vni"]; ok {
			if f.VNI, err = parseVNIArg("vni", s); err != nil {
				return err
			}
		}
		if s, ok := kv["mac"]; ok {
			m, err := evpn.ParseMAC(s)
			if err != nil {
				return err
			}
			f.MAC = m.String()
		}
		if s, ok := kv["es"]; ok {
			if f.ESI, err = parseESIArg(s); err != nil {
				return err
			}
		}
		macs, err := opts.client().MACs(ctx, f)
		if err != nil {
			return err
		}
		slices.SortFunc(macs, func(a, b api.MAC) int {
			return cmp.Or(cmp.Compare(a.VNI, b.VNI), strings.Compare(a.MAC, b.MAC))
		})
		out := cmd.OutOrStdout()
		if opts.json {
			return writeJSON(out, nonNil(macs))
		}
		n := map[string]int{}
		for _, m := range macs {
			n[m.Type]++
		}
		fmt.Fprintf(out, "Number of MACs: %d (local %d, remote %d, sync %d)\n", len(macs), n["local"], n["remote"], n["sync"])
		fmt.Fprintln(out, "Flags: P=peer-active, S=sticky, R=router")
		tw := newTable(out)
		fmt.Fprintln(tw, "VNI\tMAC\tType\tFlags\tIntf/Remote ES/VTEP\tSeq")
		for _, m := range macs {
			var fl string
			if m.Type == "sync" {
				fl += "P"
			}
			if m.Sticky {
				fl += "S"
			}
			if m.Router {
				fl += "R"
			}
			where := m.Interface
			if where == "" {
				where = cmp.Or(m.ESI, m.VTEP)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\n", m.VNI, m.MAC, m.Type, fl, dash(where), m.Seq)
		}
		return tw.Flush()
	})
}

func newShowL2NHCmd(root *rootOptions) *cobra.Command {
	return showCmd(root, &cobra.Command{
		Use:   "l2-nh",
		Short: "Show remote VTEPs as L2 nexthops (FRR: show evpn l2-nh)",
		Long: `l2-nh lists the remote VTEPs the fast path can send to, as FRR's L2 nexthops:
the nexthop ID, how many Ethernet Segments the VTEP is a PE of (#ES), how
many routes use it, and whether the underlay reaches it (a route and a
neighbour) and by which port. An unreachable VTEP says why.`,
	}, func(ctx context.Context, cmd *cobra.Command, opts *showOptions, _ []string) error {
		c := opts.client()
		nhs, err := c.L2NextHops(ctx)
		if err != nil {
			return err
		}
		slices.SortFunc(nhs, func(a, b api.L2NextHop) int { return compareAddr(a.VTEP, b.VTEP) })
		out := cmd.OutOrStdout()
		if opts.json {
			return writeJSON(out, nonNil(nhs))
		}
		ess, err := c.ESes(ctx)
		if err != nil {
			return err
		}
		perVTEP := map[string]int{}
		for _, es := range ess {
			for _, v := range es.VTEPs {
				perVTEP[v.VTEP]++
			}
		}
		tw := newTable(out)
		fmt.Fprintln(tw, "VTEP\tNH id\t#ES\t#Routes\tUnderlay")
		for _, nh := range nhs {
			ul := "via " + dash(nh.Interface)
			if !nh.Reachable {
				ul = "unreachable"
				if nh.Reason != "" {
					ul += ": " + nh.Reason
				}
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", nh.VTEP, nh.ID, perVTEP[nh.VTEP], nh.Refs, ul)
		}
		return tw.Flush()
	})
}

func newShowRoutesCmd(root *rootOptions) *cobra.Command {
	return showCmd(root, &cobra.Command{
		Use:     "routes [type N]",
		Aliases: []string{"route"},
		Short:   "Show the EVPN paths in the RIB (FRR: show bgp l2vpn evpn route [type N])",
		Long: `routes lists every EVPN path the daemon holds, from BGP, the API (fwd route
add) or the config, one per line, in FRR's bracket notation. Filter by route
type with type N: 1-5 or FRR's names ead, macip, multicast, es, prefix.

Flags: S sticky, R router. The JSON form is what fwd route add --file reads
back, so fwd show evpn routes --json > r.json; fwd route del --file r.json
withdraws them (only routes with source api are the API's to withdraw).`,
		Args:              cobra.MaximumNArgs(2),
		ValidArgsFunction: completeRouteTypeArgs,
	}, func(ctx context.Context, cmd *cobra.Command, opts *showOptions, args []string) error {
		kv, err := keywordArgs(args, "type")
		if err != nil {
			return err
		}
		var f api.RouteFilter
		if s, ok := kv["type"]; ok {
			t, err := evpn.ParseRouteType(s)
			if err != nil {
				return err
			}
			f.Type = int(t)
		}
		rs, err := opts.client().Routes(ctx, f)
		if err != nil {
			return err
		}
		for i := range rs {
			if rs[i].Prefix == "" {
				rs[i].Prefix = routePrefix(rs[i])
			}
		}
		slices.SortFunc(rs, func(a, b api.Route) int {
			return cmp.Or(cmp.Compare(a.Type, b.Type), compareRD(a.RD, b.RD),
				strings.Compare(a.Prefix, b.Prefix), compareAddr(a.NextHop, b.NextHop),
				strings.Compare(a.Source, b.Source))
		})
		out := cmd.OutOrStdout()
		if opts.json {
			return writeJSON(out, nonNil(rs))
		}
		tw := newTable(out)
		fmt.Fprintln(tw, "Type\tRD\tPrefix\tVNI\tNextHop\tESI\tSeq\tFlags\tSource")
		for _, r := range rs {
			var fl string
			if r.Sticky {
				fl += "S"
			}
			if r.Router {
				fl += "R"
			}
			vni := "-"
			if r.VNI != 0 {
				vni = strconv.FormatUint(uint64(r.VNI), 10)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Type, dash(r.RD), r.Prefix, vni,
				dash(r.NextHop), dash(r.ESI), r.Seq, fl, dash(r.Source))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "\nDisplayed %d paths\n", len(rs))
		return err
	})
}

// routePrefix formats a route's NLRI in FRR's bracket notation, for a
// daemon that left Prefix empty.
func routePrefix(r api.Route) string {
	bits := func(ip string) int {
		if strings.Contains(ip, ":") {
			return 128
		}
		return 32
	}
	origin := cmp.Or(r.IP, r.NextHop)
	switch r.Type {
	case 1:
		return fmt.Sprintf("[1]:[%d]:[%s]", r.EthernetTag, r.ESI)
	case 2:
		s := fmt.Sprintf("[2]:[%d]:[48]:[%s]", r.EthernetTag, r.MAC)
		if r.IP != "" {
			s += fmt.Sprintf(":[%d]:[%s]", bits(r.IP), r.IP)
		}
		return s
	case 3:
		return fmt.Sprintf("[3]:[%d]:[%d]:[%s]", r.EthernetTag, bits(origin), origin)
	case 4:
		return fmt.Sprintf("[4]:[%s]:[%d]:[%s]", r.ESI, bits(origin), origin)
	case 5:
		addr, l, _ := strings.Cut(r.IPPrefix, "/")
		return fmt.Sprintf("[5]:[%d]:[%s]:[%s]", r.EthernetTag, l, addr)
	}
	return fmt.Sprintf("[%d]", r.Type)
}
