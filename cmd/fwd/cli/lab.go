package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/lab"
)

func newLabCmd(root *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Build EVPN/VXLAN topologies in network namespaces and run fwd in them",
		Long: `lab builds throwaway EVPN/VXLAN topologies in network namespaces: hosts, an fwd
VTEP running the XDP fast path, and the Linux kernel's own VTEP (vxlan device +
bridge, as FRR programs it) to talk to. Nothing touches the host's own network.
Every namespace is named fwdlab-<pid>-<n>-<name>. Needs root.`,
	}
	cmd.AddCommand(newLabDemoCmd(root), newLabCleanCmd(root))
	return cmd
}

func (o *rootOptions) logger(w io.Writer) *slog.Logger {
	if !o.verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func requireRoot(what string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s needs root (it creates network namespaces and loads XDP programs): run it with sudo", what)
	}
	return nil
}

type labDemoOptions struct {
	*rootOptions
	keep  bool
	json  bool
	ipv6  bool
	count int
}

func newLabDemoCmd(root *rootOptions) *cobra.Command {
	opts := &labDemoOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Build a two-VTEP lab (fwd and the Linux kernel), send traffic, show what fwd did",
		Long: `demo builds a small EVPN/VXLAN fabric in network namespaces: VTEP 1 is fwd,
VTEP 2 is the Linux kernel path (vxlan + bridge with static FDB entries, as FRR
programs it). Hosts h1 and h2 (VLAN 10) hang off fwd, hE off fwd's local
Ethernet Segment 1, h3 off the kernel VTEP. It pings h1->h3, h3->h1, h1->h2
and h3->hE, prints what arrived and fwd's counters, and removes everything it
created, also on Ctrl-C or an error. It takes a few seconds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireRoot("fwd lab demo"); err != nil {
				return err
			}
			if opts.count < 1 || opts.count > 1000 {
				return fmt.Errorf("--count %d: want 1 to 1000", opts.count)
			}
			return runDemo(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.keep, "keep", false, "leave the topology in place, fwd still forwarding, for inspection (remove it with: fwd lab clean)")
	f.BoolVar(&opts.json, "json", false, "print one JSON object instead of tables")
	f.BoolVar(&opts.ipv6, "ipv6", false, "run the underlay over IPv6 instead of IPv4")
	f.IntVar(&opts.count, "count", 5, "echo requests per pair")
	return cmd
}

func runDemo(cmd *cobra.Command, opts *labDemoOptions) error {
	out := cmd.OutOrStdout()
	family := lab.IPv4
	if opts.ipv6 {
		family = lab.IPv6
	}
	if !opts.json {
		printDemoIntro(out, family)
	}
	rep, err := lab.Demo(cmd.Context(), lab.DemoOptions{Underlay: family, Count: opts.count, Keep: opts.keep,
		Logger: opts.logger(cmd.ErrOrStderr())})
	if opts.json {
		v := struct {
			*lab.DemoReport
			OK    bool   `json:"ok"`
			Error string `json:"error,omitempty"`
		}{DemoReport: rep, OK: err == nil && rep.OK()}
		if err != nil {
			v.Error = err.Error()
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if jerr := enc.Encode(v); jerr != nil {
			return errors.Join(err, jerr)
		}
	} else {
		printDemoReport(out, rep, err == nil)
	}
	if err != nil {
		if cmd.Context().Err() != nil {
			return errors.New("demo interrupted; everything it created was removed")
		}
		return fmt.Errorf("demo: %w (everything it created was removed)", err)
	}
	if !rep.OK() {
		return errors.New("demo: some echo requests had no reply (see the table above)")
	}
	return nil
}

func printDemoIntro(w io.Writer, family lab.Family) {
	fmt.Fprintf(w, `fwd lab demo: fwd and the Linux kernel as two VXLAN tunnel endpoints (VTEPs)

This builds a small EVPN/VXLAN network in network namespaces (nothing touches
your own network), pings across it and shows what fwd did. Hosts h1, h2, h3
and hE share one Ethernet segment, VNI 100, stretched over an %s underlay:

   h1 ───┐
   h2 ───┤ vtep1 ═══ VXLAN over %s ═══ vtep2 ─── h3
   hE ───┘ fwd                           Linux kernel
           (XDP on every port)           (vxlan100 + bridge br100)

  vtep1  runs fwd: its XDP program switches frames between its ports, wraps
         frames for vtep2 in VXLAN and unwraps vtep2's.
  vtep2  is what FRR programs on Linux today: a vxlan device in a bridge,
         with static FDB entries.
  h2's port carries VLAN 10; hE sits on fwd's Ethernet Segment 1, backed up by
  vtep2. Each host and VTEP is a namespace, each line a veth pair. Hosts know
  each other's MACs (static neighbours), so no ARP is needed.

`, family, family)
}

// counterMeaning explains a counter in a few words (bpf/fwd.h has the
// authoritative comments).
func counterMeaning(name string) string {
	switch name {
	case "rx_access":
		return "frames in on access ports"
	case "rx_uplink":
		return "frames in on the uplink"
	case "rx_other":
		return "frames in on ports fwd does not manage"
	case "tx_local":
		return "switched from one access port to another"
	case "tx_es_local":
		return "switched into a local Ethernet Segment"
	case "tx_encap4":
		return "wrapped in VXLAN over IPv4, sent to a remote VTEP"
	case "tx_encap6":
		return "wrapped in VXLAN over IPv6, sent to a remote VTEP"
	case "tx_decap":
		return "unwrapped from VXLAN, delivered to an access port"
	case "tx_decap_es":
		return "unwrapped from VXLAN, delivered into a local ES"
	case "tx_decap_reencap":
		return "unwrapped, local ES down: sent on to an ES peer"
	case "pass_bum":
		return "broadcast/multicast, left to the kernel (no BUM yet)"
	case "pass_unknown_ucast":
		return "unknown destination MAC, left to the kernel"
	case "pass_not_vxlan":
		return "underlay traffic that is not VXLAN, left to the kernel"
	case "pass_decap_bum":
		return "VXLAN carrying broadcast/multicast (here the kernel bridge's IGMP/MLD), left to the kernel"
	case "pass_decap_unknown":
		return "VXLAN for an unknown MAC, left to the kernel"
	case "pass_not_local_vtep":
		return "VXLAN not addressed to us, left to the kernel"
	case "pass_unknown_vtep":
		return "VXLAN from an unknown VTEP, left to the kernel"
	case "pass_unknown_vni":
		return "VXLAN with a VNI we do not serve, left to the kernel"
	case "pass_no_bd":
		return "VLAN not mapped to a bridge domain, left to the kernel"
	case "learn_event":
		return "new or moved source MAC reported"
	case "learn_rate_limited":
		return "learn report suppressed by the rate limit"
	case "drop_hairpin":
		return "dropped: destination is where it came from"
	case "drop_too_big":
		return "dropped: too big for the uplink once encapsulated"
	case "drop_no_tx_port":
		return "dropped: egress port not in fwd's redirect map"
	case "drop_no_egress_tags":
		return "dropped: egress port has no tags for the domain"
	case "drop_nh_down":
		return "dropped: nexthop and its backup down"
	case "drop_decap_remote":
		return "dropped: overlay to overlay (split horizon)"
	case "nh_backup":
		return "bucket's backup nexthop used"
	case "pass_not_port":
		return "frames on ports fwd does not manage, left to the kernel"
	case "pass_router_mac":
		return "for the router MAC, left to the kernel (no L3 yet)"
	case "drop_inner_tagged":
		return "dropped: VXLAN payload carries a VLAN tag"
	case "learn_ringbuf_full":
		return "learn report lost: ring buffer full"
	case "drop_decap_loop":
		return "dropped: local ES down and the sender is an ES peer"
	case "pass_decap_router":
		return "VXLAN for the router MAC, left to the kernel"
	case "drop_src_mcast":
		return "dropped: multicast source MAC"
	case "drop_sticky":
		return "dropped: sticky MAC seen on another port"
	case "drop_no_es":
		return "dropped: FDB points at an unknown ES"
	case "drop_no_nhg":
		return "dropped: nexthop group missing or empty"
	case "drop_no_nh":
		return "dropped: nexthop missing"
	case "drop_adjust":
		return "dropped: the kernel refused to grow or shrink the frame"
	case "drop_vxlan_flags":
		return "dropped: VXLAN I flag clear"
	case "drop_runt":
		return "dropped: shorter than an Ethernet header"
	case "drop_truncated":
		return "dropped: header cut short"
	case "drop_vlan_depth":
		return "dropped: more than two VLAN tags"
	case "pass_truncated":
		return "underlay headers incomplete, left to the kernel"
	case "pass_fragment":
		return "underlay IPv4 fragment, left to the kernel"
	case "pass_ipv6_ext":
		return "underlay IPv6 extension headers, left to the kernel"
	}
	return ""
}

func printDemoReport(w io.Writer, rep *lab.DemoReport, finished bool) {
	if rep == nil {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(rep.VTEPs) > 0 {
		fmt.Fprintln(tw, "VTEP\tKIND\tUNDERLAY ADDRESS\tNAMESPACE")
		for _, v := range rep.VTEPs {
			kind := "Linux kernel: vxlan device + bridge"
			if v.Kind == "fwd" {
				kind = "fwd: XDP program (" + v.Attach + " mode)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Name, kind, v.Addr, v.Namespace)
		}
		fmt.Fprintln(tw)
	}
	if len(rep.Hosts) > 0 {
		fmt.Fprintln(tw, "HOST\tADDRESS\tMAC\tVTEP\tATTACHED AS")
		for _, h := range rep.Hosts {
			att := "access port, untagged"
			switch {
			case h.ES != 0:
				att = fmt.Sprintf("Ethernet Segment %d (ESI %s), backup: %s", h.ES, h.ESI, strings.Join(h.ESBackup, ", "))
			case h.VLAN != 0:
				att = fmt.Sprintf("access port, VLAN %d (a user-space 802.1Q host)", h.VLAN)
			case isKernel(rep, h.VTEP):
				att = "bridge port"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Name, h.IP, h.MAC, h.VTEP, att)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if len(rep.Pings) > 0 {
		fmt.Fprintln(w, "Traffic: ICMP echo, requests and replies both through the path shown.")
		fmt.Fprintln(tw, "FROM\tTO\tPATH (requests; replies the other way)\tSENT\tREPLIES\tAVG RTT")
		for _, p := range rep.Pings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.2f ms\n", p.From, p.To, p.Path, p.Sent, p.Received, float64(p.AvgRTTus)/1000)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(rep.Counters) > 0 {
		fmt.Fprintf(w, "fwd's counters (non-zero; every frame counts once in, once for its outcome):\n")
		fmt.Fprintln(tw, "VTEP\tCOUNTER\tFRAMES\tMEANING")
		for _, c := range rep.Counters {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", c.VTEP, c.Name, c.Value, counterMeaning(c.Name))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if !finished {
		return
	}
	sent, got := 0, 0
	for _, p := range rep.Pings {
		sent += p.Sent
		got += p.Received
	}
	if rep.OK() {
		fmt.Fprintf(w, "OK: %d of %d echo requests answered. Built in %s, %s in all.\n", got, sent, rep.BuildTime, rep.Elapsed)
	} else {
		fmt.Fprintf(w, "FAILED: %d of %d echo requests answered. Built in %s, %s in all.\n", got, sent, rep.BuildTime, rep.Elapsed)
	}
	if rep.Kept {
		fmt.Fprintf(w, "Kept for inspection (fwd stays attached; h2's user-space stack has stopped):\n")
		for _, n := range rep.Namespaces {
			fmt.Fprintf(w, "  %s\n", n)
		}
		fmt.Fprintf(w, "Look around with e.g.: ip netns exec %s-vtep2 bridge fdb show\n", rep.Prefix)
		fmt.Fprintf(w, "Remove with: fwd lab clean\n")
	} else {
		fmt.Fprintf(w, "Topology %s removed.\n", rep.Prefix)
	}
}

func isKernel(rep *lab.DemoReport, vtep string) bool {
	for _, v := range rep.VTEPs {
		if v.Name == vtep {
			return v.Kind == "kernel"
		}
	}
	return false
}

type labCleanOptions struct {
	*rootOptions
	all bool
}

func newLabCleanCmd(root *rootOptions) *cobra.Command {
	opts := &labCleanOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove lab topologies left behind (kept with --keep, or of a killed run)",
		Long: `clean deletes the fwdlab-* network namespaces and /sys/fs/bpf/fwdlab-* pins
whose process has exited: topologies kept with --keep and leftovers of a run
that was killed. With --all it also deletes those of running processes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireRoot("fwd lab clean"); err != nil {
				return err
			}
			removed, err := lab.RemoveStale(cmd.Context(), opts.all)
			for _, r := range removed {
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", r)
			}
			if len(removed) == 0 && err == nil {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to remove")
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&opts.all, "all", false, "also remove topologies of running processes")
	return cmd
}
