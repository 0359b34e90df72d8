package cli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/api"
	"github.com/fwdplane/fwd/evpn"
)

// Frame sizes fwd trace accepts with --frame: an Ethernet header, up to a
// jumbo frame.
const (
	minTraceFrame = 14
	maxTraceFrame = 9216
)

type traceOptions struct {
	*rootOptions
	req  api.TraceRequest
	json bool
}

func newTraceCmd(root *rootOptions) *cobra.Command {
	opts := &traceOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "trace --in PORT [frame fields | --frame HEX]",
		Short: "Run a frame through the loaded XDP program and print every lookup it made",
		Long: `trace builds a frame from the flags (a 64-byte frame; IPv4 or IPv6 when
--src-ip/--dst-ip are given), or takes one whole with --frame, and runs it
through the loaded fast path as if it arrived on --in (BPF_PROG_RUN: nothing
is sent, counters and maps are not changed by the test run's verdict). It
prints the verdict, the counter the program bumped for it (the reason), the
port it would leave by, each lookup (what, key, result) and the frame as it
would leave.

With --vni, --outer-src and --outer-dst the frame is wrapped in VXLAN as if a
remote VTEP had sent it, for --in an uplink. Reading needs root or group fwd.`,
		Example: `  fwd trace --in swp1 --src-mac 00:00:5e:00:53:01 --dst-mac 00:00:5e:00:53:02
  fwd trace --in swp1 --vlan 10 --src-mac 00:00:5e:00:53:01 --dst-mac 00:00:5e:00:53:02 --src-ip 10.0.0.1 --dst-ip 10.0.0.2
  fwd trace --in uplink0 --vni 1000 --outer-src 192.0.2.2 --outer-dst 192.0.2.1 --src-mac 00:00:5e:00:53:02 --dst-mac 00:00:5e:00:53:01
  fwd trace --in swp1 --frame "$(xxd -p frame.bin | tr -d '\n')" --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := opts.request(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := opts.callContext(cmd)
			defer cancel()
			res, err := opts.client().Trace(ctx, req)
			if err != nil {
				return err
			}
			res.Steps = nonNil(res.Steps)
			if opts.json {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			return printTrace(cmd.OutOrStdout(), req, res)
		},
	}
	f := cmd.Flags()
	r := &opts.req
	f.StringVar(&r.Interface, "in", "", "the ingress `PORT` (required)")
	f.StringVar(&r.Frame, "frame", "", "the whole frame in `HEX` (spaces, colons and a 0x prefix are ignored); excludes the fields")
	f.StringVar(&r.SrcMAC, "src-mac", "", "source MAC of the frame")
	f.StringVar(&r.DstMAC, "dst-mac", "", "destination MAC of the frame")
	f.Uint16Var(&r.VLAN, "vlan", 0, "802.1Q VLAN tag, 1 to 4094 (default untagged)")
	f.StringVar(&r.SrcIP, "src-ip", "", "source IP of the inner packet")
	f.StringVar(&r.DstIP, "dst-ip", "", "destination IP of the inner packet")
	f.Uint32Var(&r.VNI, "vni", 0, "wrap the frame in VXLAN with this VNI (with --outer-src and --outer-dst)")
	f.StringVar(&r.OuterSrc, "outer-src", "", "VXLAN: the sending VTEP's address")
	f.StringVar(&r.OuterDst, "outer-dst", "", "VXLAN: the receiving VTEP's address (ours)")
	f.BoolVar(&opts.json, "json", false, "print the API's TraceResult as JSON")
	_ = cmd.MarkFlagRequired("in")
	_ = cmd.RegisterFlagCompletionFunc("in", completeInterfaces(root))
	for _, name := range []string{"frame", "src-mac", "dst-mac", "vlan", "src-ip", "dst-ip", "vni", "outer-src", "outer-dst"} {
		_ = cmd.RegisterFlagCompletionFunc(name, noFiles)
	}
	return cmd
}

// request checks the flags and returns the request with every field in
// canonical form.
func (o *traceOptions) request(cmd *cobra.Command) (api.TraceRequest, error) {
	r := o.req
	if strings.TrimSpace(r.Interface) == "" {
		return r, errors.New("--in: the ingress port is required")
	}
	if r.Frame != "" {
		var set []string
		for _, n := range []string{"src-mac", "dst-mac", "vlan", "src-ip", "dst-ip", "vni", "outer-src", "outer-dst"} {
			if cmd.Flags().Changed(n) {
				set = append(set, "--"+n)
			}
		}
		if len(set) > 0 {
			return r, fmt.Errorf("--frame gives the whole frame; drop %s", strings.Join(set, ", "))
		}
		h := strings.NewReplacer(" ", "", ":", "", "\n", "", "\t", "").Replace(strings.ToLower(r.Frame))
		h = strings.TrimPrefix(h, "0x")
		b, err := hex.DecodeString(h)
		if err != nil {
			return r, fmt.Errorf("--frame: not hex: %w", err)
		}
		if len(b) < minTraceFrame || len(b) > maxTraceFrame {
			return r, fmt.Errorf("--frame: %d bytes; want %d (an Ethernet header) to %d", len(b), minTraceFrame, maxTraceFrame)
		}
		r.Frame = hex.EncodeToString(b)
		return r, nil
	}
	for _, m := range []struct {
		flag string
		v    *string
	}{{"--src-mac", &r.SrcMAC}, {"--dst-mac", &r.DstMAC}} {
		if *m.v == "" {
			continue
		}
		mac, err := evpn.ParseMAC(*m.v)
		if err != nil {
			return r, fmt.Errorf("%s: %w", m.flag, err)
		}
		*m.v = mac.String()
	}
	if cmd.Flags().Changed("vlan") && (r.VLAN < 1 || r.VLAN > 4094) {
		return r, fmt.Errorf("--vlan %d: want 1 to 4094 (leave it out for an untagged frame)", r.VLAN)
	}
	src, err := parseOptAddr("--src-ip", r.SrcIP)
	if err != nil {
		return r, err
	}
	dst, err := parseOptAddr("--dst-ip", r.DstIP)
	if err != nil {
		return r, err
	}
	if src.IsValid() && dst.IsValid() && src.Is4() != dst.Is4() {
		return r, fmt.Errorf("--src-ip %s and --dst-ip %s: not of one family", src, dst)
	}
	r.SrcIP, r.DstIP = addrString(src), addrString(dst)
	if r.VNI != 0 || r.OuterSrc != "" || r.OuterDst != "" {
		if r.VNI == 0 || r.VNI > evpn.MaxLabel || r.OuterSrc == "" || r.OuterDst == "" {
			return r, fmt.Errorf("VXLAN needs --vni (1 to %d), --outer-src and --outer-dst together", evpn.MaxLabel)
		}
		osrc, err := parseOptAddr("--outer-src", r.OuterSrc)
		if err != nil {
			return r, err
		}
		od, err := parseOptAddr("--outer-dst", r.OuterDst)
		if err != nil {
			return r, err
		}
		if osrc.Is4() != od.Is4() {
			return r, fmt.Errorf("--outer-src %s and --outer-dst %s: not of one family", osrc, od)
		}
		r.OuterSrc, r.OuterDst = osrc.String(), od.String()
	}
	return r, nil
}

func parseOptAddr(flag, s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%s %q: not an IPv4 or IPv6 address", flag, s)
	}
	return a.Unmap(), nil
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func printTrace(w io.Writer, req api.TraceRequest, res api.TraceResult) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "Ingress:\t%s\n", req.Interface)
	fmt.Fprintf(tw, "Verdict:\t%s\n", dash(res.Action))
	fmt.Fprintf(tw, "Reason:\t%s", dash(res.Reason))
	if m := counterMeaning(res.Reason); m != "" {
		fmt.Fprintf(tw, " (%s)", m)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "Egress:\t%s\n", dash(res.Egress))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if len(res.Steps) == 0 {
		fmt.Fprintln(w, "No lookups.")
	} else {
		tw = newTable(w)
		fmt.Fprintln(tw, "#\tLookup\tKey\tResult")
		for i, s := range res.Steps {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", i+1, s.What, dash(s.Key), dash(s.Result))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if res.Frame != "" {
		b, err := hex.DecodeString(res.Frame)
		if err != nil {
			fmt.Fprintf(w, "\nFrame out: %s\n", res.Frame)
			return nil
		}
		fmt.Fprintf(w, "\nFrame out (%d bytes):\n", len(b))
		hexDump(w, b)
	}
	return nil
}

// hexDump prints b 16 bytes a line with offsets, like tcpdump -xx.
func hexDump(w io.Writer, b []byte) {
	for off := 0; off < len(b); off += 16 {
		line := b[off:min(off+16, len(b))]
		var sb strings.Builder
		for i := 0; i < len(line); i += 2 {
			sb.WriteString(" ")
			sb.WriteString(hex.EncodeToString(line[i:min(i+2, len(line))]))
		}
		fmt.Fprintf(w, "  0x%04x:%s\n", off, sb.String())
	}
}
