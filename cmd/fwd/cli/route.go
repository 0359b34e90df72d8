package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/api"
	"github.com/fwdplane/fwd/evpn"
)

// defaultRouteBatch is how many routes from a file go in one request: about
// 20 MB of JSON, well under api.MaxBody.
const defaultRouteBatch = 100_000

// maxListedErrors is how many invalid routes of a file are named before
// the rest are only counted.
const maxListedErrors = 10

type routeOptions struct {
	*rootOptions
	withdraw bool
	json     bool

	// One route from flags.
	route api.Route
	perES bool

	// Routes from a file.
	file  string
	batch int

	// The generator.
	count    int
	startMAC string
}

func newRouteCmd(root *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "route",
		Short: "Inject or withdraw EVPN routes through the API (the SHARP-like source)",
		Long: `route adds EVPN routes to the daemon's RIB, or withdraws them, as if a BGP peer
had sent them (their source is "api"): one route from flags, many from a file,
or many type-2 routes from a generator that runs in the daemon (FRR's sharp
install routes). Each prints what the daemon did with the batch and how long
it took. Needs root.`,
	}
	cmd.AddCommand(newRouteActionCmd(root, false), newRouteActionCmd(root, true))
	return cmd
}

func newRouteActionCmd(root *rootOptions, withdraw bool) *cobra.Command {
	opts := &routeOptions{rootOptions: root, withdraw: withdraw}
	use, short, verb := "add", "Add EVPN routes: one from flags, many from --file or --count", "adds"
	if withdraw {
		use, short, verb = "del", "Withdraw EVPN routes: one from flags, many from --file or --count", "withdraws"
	}
	cmd := &cobra.Command{
		Use:     use,
		Aliases: map[bool][]string{false: {"announce"}, true: {"delete", "withdraw"}}[withdraw],
		Short:   short,
		Long: use + ` ` + verb + ` EVPN routes in one of three ways:

  flags      one route: --type (default 2) and the fields of that type
             type 1 (EAD):       --esi --nexthop, --vni (per EVI) or --per-es
             type 2 (MAC/IP):    --mac --vni --nexthop [--ip --esi --seq --sticky --router]
             type 3 (multicast): --vni --nexthop [--ip originator]
             type 4 (ES):        --esi --nexthop [--ip originator]
             type 5 (prefix):    --ip-prefix --vni --nexthop [--ip gateway --esi]
             all types take --rd; types 1, 2, 3 and 5 --ethernet-tag
  --file F   a JSON array of routes or one route per line (NDJSON), each as
             fwd show evpn routes --json prints them ('-' reads stdin); sent
             in requests of --batch routes
  --count N  the generator: N type-2 routes for MACs counting up from
             --start-mac in --vni, all to --nexthop (or behind --esi)

Every route is checked before anything is sent; an invalid one is named with
what is wrong. The daemon answers with counts (added, withdrawn, duplicates,
unknown withdraws, rejected with the reasons), the time it took from the
request decoded to the fast path written, and the rate. The command fails when
the daemon rejected any route.`,
		Example: map[bool]string{false: `  sudo fwd route add --mac 00:00:5e:00:53:01 --vni 1000 --nexthop 192.0.2.2
  sudo fwd route add --mac 00:00:5e:00:53:02 --vni 1000 --nexthop 192.0.2.2 --esi 03:44:38:39:ff:ff:01:00:00:01
  sudo fwd route add --type 3 --vni 1000 --nexthop 192.0.2.2
  sudo fwd route add --type 1 --per-es --esi 03:44:38:39:ff:ff:01:00:00:01 --nexthop 192.0.2.2
  sudo fwd route add --file routes.json
  sudo fwd route add --count 1000000 --start-mac 02:00:00:00:00:01 --vni 1000 --nexthop 192.0.2.2`,
			true: `  sudo fwd route del --mac 00:00:5e:00:53:01 --vni 1000 --nexthop 192.0.2.2
  fwd show evpn routes --json | sudo fwd route del --file -
  sudo fwd route del --count 1000000 --start-mac 02:00:00:00:00:01 --vni 1000 --nexthop 192.0.2.2`}[withdraw],
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			batches, total, err := opts.batches(cmd)
			if err != nil {
				return err
			}
			return runRoutes(cmd, opts, batches, total)
		},
	}
	f := cmd.Flags()
	r := &opts.route
	f.IntVar(&r.Type, "type", 2, "EVPN route `type`, 1 to 5")
	f.StringVar(&r.RD, "rd", "", "route distinguisher, ASN:nn or IPv4:nn (default: the daemon's)")
	f.StringVar(&r.ESI, "esi", "", "Ethernet Segment Identifier, ten hex bytes (03:44:38:39:ff:ff:01:00:00:01)")
	f.Uint32Var(&r.EthernetTag, "ethernet-tag", 0, "Ethernet tag")
	f.BoolVar(&opts.perES, "per-es", false, "type 1: an EAD per ES (Ethernet tag MAX-ET) instead of per EVI")
	f.StringVar(&r.MAC, "mac", "", "type 2: the MAC address")
	f.StringVar(&r.IP, "ip", "", "type 2: the host's IP; types 3 and 4: the originator (default: --nexthop); type 5: the gateway IP")
	f.StringVar(&r.IPPrefix, "ip-prefix", "", "type 5: the prefix, as CIDR")
	f.Uint32Var(&r.VNI, "vni", 0, "the VNI (bridge domain; type 5: the L3 VNI)")
	f.StringVar(&r.NextHop, "nexthop", "", "the advertising VTEP's address")
	f.Uint32Var(&r.Seq, "seq", 0, "type 2: MAC mobility sequence number")
	f.BoolVar(&r.Sticky, "sticky", false, "type 2: a static (sticky) MAC")
	f.BoolVar(&r.Router, "router", false, "type 2: the MAC is a router's")
	f.StringVar(&opts.file, "file", "", "read the routes from `FILE`: a JSON array or NDJSON, '-' for stdin")
	f.IntVar(&opts.batch, "batch", defaultRouteBatch, "with --file: routes per request")
	f.IntVar(&opts.count, "count", 0, "the generator: how many type-2 routes")
	f.StringVar(&opts.startMAC, "start-mac", "", "the generator: the first MAC; the others count up from it")
	f.BoolVar(&opts.json, "json", false, "print the daemon's RouteResult as JSON")
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions(routeTypeCompletions, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("esi", func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return daemonESIs(cmd, root, false), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("file", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []string{"json", "ndjson"}, cobra.ShellCompDirectiveFilterFileExt
	})
	for _, name := range []string{"rd", "mac", "ip", "ip-prefix", "vni", "nexthop", "seq", "ethernet-tag", "batch", "count", "start-mac"} {
		_ = cmd.RegisterFlagCompletionFunc(name, noFiles)
	}
	return cmd
}

// routeFieldFlags are the flags that describe one route, in the order
// errors list them.
var routeFieldFlags = []string{"type", "rd", "esi", "ethernet-tag", "per-es", "mac", "ip", "ip-prefix", "vni", "nexthop", "seq", "sticky", "router"}

// batches turns the flags into the requests to send and the number of
// routes they carry, or says what is wrong with the flags.
func (o *routeOptions) batches(cmd *cobra.Command) ([]api.RouteBatch, int, error) {
	changed := func(names ...string) []string {
		var set []string
		for _, n := range names {
			if cmd.Flags().Changed(n) {
				set = append(set, "--"+n)
			}
		}
		return set
	}
	generator := cmd.Flags().Changed("count") || cmd.Flags().Changed("start-mac")
	switch {
	case o.file != "":
		if set := changed(append(slices.Clone(routeFieldFlags), "count", "start-mac")...); len(set) > 0 {
			return nil, 0, fmt.Errorf("--file takes every route from %s; drop %s", o.file, strings.Join(set, ", "))
		}
		if o.batch < 1 {
			return nil, 0, fmt.Errorf("--batch %d: want at least 1 route per request", o.batch)
		}
		routes, err := readRoutes(o.file, cmd.InOrStdin())
		if err != nil {
			return nil, 0, err
		}
		var bs []api.RouteBatch
		for c := range slices.Chunk(routes, o.batch) {
			bs = append(bs, api.RouteBatch{Routes: c})
		}
		return bs, len(routes), nil
	case generator:
		if o.route.Type != 2 {
			return nil, 0, fmt.Errorf("--type %d: the generator (--count) makes type-2 routes only", o.route.Type)
		}
		if set := changed("ethernet-tag", "per-es", "mac", "ip", "ip-prefix", "seq", "sticky", "router", "batch"); len(set) > 0 {
			return nil, 0, fmt.Errorf("%s: not for the generator (--count), which takes --start-mac --vni --nexthop [--esi --rd]", strings.Join(set, ", "))
		}
		g, err := o.generator()
		if err != nil {
			return nil, 0, err
		}
		return []api.RouteBatch{{Generate: &g}}, g.Count, nil
	}
	if cmd.Flags().Changed("batch") {
		return nil, 0, errors.New("--batch is for --file")
	}
	r := o.route
	if o.perES {
		if r.Type != 1 {
			return nil, 0, fmt.Errorf("--per-es is for type-1 routes, not type %d", r.Type)
		}
		if cmd.Flags().Changed("ethernet-tag") {
			return nil, 0, errors.New("--per-es sets the Ethernet tag (MAX-ET); drop --ethernet-tag")
		}
		r.EthernetTag = evpn.MaxET
	}
	if len(changed(routeFieldFlags...)) == 0 {
		return nil, 0, errors.New("no route given: describe one with flags (--mac --vni --nexthop), or use --file or --count (see --help)")
	}
	if err := checkRoute(&r, flagName); err != nil {
		return nil, 0, err
	}
	return []api.RouteBatch{{Routes: []api.Route{r}}}, 1, nil
}

// generator checks the generator flags.
func (o *routeOptions) generator() (api.Generator, error) {
	g := api.Generator{Count: o.count, VNI: o.route.VNI, RD: o.route.RD}
	if o.count < 1 {
		return g, fmt.Errorf("--count %d: want at least 1 route", o.count)
	}
	if o.startMAC == "" {
		return g, errors.New("--start-mac: the generator needs the first MAC")
	}
	start, err := evpn.ParseMAC(o.startMAC)
	if err != nil {
		return g, fmt.Errorf("--start-mac: %w", err)
	}
	if start.IsMulticast() || start.IsZero() {
		return g, fmt.Errorf("--start-mac %s: not a unicast MAC (the low bit of the first byte must be 0, and not all zero)", start)
	}
	// Counting up must not leave the first byte: the next first byte is
	// odd, a multicast MAC.
	if last := macUint(start) + uint64(o.count-1); last>>40 != macUint(start)>>40 {
		room := (macUint(start)>>40+1)<<40 - macUint(start)
		return g, fmt.Errorf("--count %d from --start-mac %s leaves the unicast MACs %02x:xx:xx:xx:xx:xx after %d; start lower or count fewer", o.count, start, start[0], room)
	}
	g.StartMAC = start.String()
	if g.VNI == 0 || g.VNI > evpn.MaxLabel {
		return g, fmt.Errorf("--vni %d: want the bridge domain's VNI, 1 to %d", g.VNI, evpn.MaxLabel)
	}
	if g.NextHop, err = parseRouteAddr("--nexthop", o.route.NextHop); err != nil {
		return g, err
	}
	if o.route.ESI != "" {
		e, err := evpn.ParseESI(o.route.ESI)
		if err != nil {
			return g, fmt.Errorf("--esi: %w", err)
		}
		if e.IsZero() || e.IsMax() {
			return g, fmt.Errorf("--esi %s: not an Ethernet Segment (zero and MAX-ESI are reserved)", e)
		}
		g.ESI = e.String()
	}
	if g.RD != "" {
		rd, err := evpn.ParseRD(g.RD)
		if err != nil {
			return g, fmt.Errorf("--rd: %w", err)
		}
		g.RD = rd.String()
	}
	return g, nil
}

// macUint returns m as a 48-bit number.
func macUint(m evpn.MAC) uint64 {
	var v uint64
	for _, b := range m {
		v = v<<8 | uint64(b)
	}
	return v
}

// Field names: flagName names a route field by its flag (one route from
// flags), jsonName by its JSON key (routes from a file).
func flagName(field string) string {
	return "--" + strings.ReplaceAll(field, "_", "-")
}

func jsonName(field string) string { return field }

// routeFields lists, per route type, the fields fwd reads from a route
// besides type and nexthop.
var routeFields = map[int][]string{
	1: {"rd", "esi", "ethernet_tag", "vni"},
	2: {"rd", "esi", "ethernet_tag", "mac", "ip", "vni", "seq", "sticky", "router"},
	3: {"rd", "ethernet_tag", "ip", "vni"},
	4: {"rd", "esi", "ip"},
	5: {"rd", "esi", "ethernet_tag", "ip", "ip_prefix", "vni"},
}

var routeTypeNames = map[int]string{1: "EAD", 2: "MAC/IP", 3: "multicast", 4: "ES", 5: "IP prefix"}

// setFields returns the fields of r that are set, by JSON name.
func setFields(r *api.Route) []string {
	var set []string
	add := func(name string, isSet bool) {
		if isSet {
			set = append(set, name)
		}
	}
	add("rd", r.RD != "")
	add("esi", r.ESI != "")
	add("ethernet_tag", r.EthernetTag != 0)
	add("mac", r.MAC != "")
	add("ip", r.IP != "")
	add("ip_prefix", r.IPPrefix != "")
	add("vni", r.VNI != 0)
	add("seq", r.Seq != 0)
	add("sticky", r.Sticky)
	add("router", r.Router)
	return set
}

// checkRoute checks r as the daemon will (the fields its type needs and
// no others, each well formed, the RFCs' rules) and rewrites its fields in
// canonical form. name names a field in errors.
func checkRoute(r *api.Route, name func(string) string) error {
	fields, ok := routeFields[r.Type]
	if !ok {
		return fmt.Errorf("%s %d: want an EVPN route type, 1 to 5", name("type"), r.Type)
	}
	what := fmt.Sprintf("type-%d (%s) route", r.Type, routeTypeNames[r.Type])
	for _, f := range setFields(r) {
		if !slices.Contains(fields, f) {
			valid := make([]string, len(fields))
			for i, v := range fields {
				valid[i] = name(v)
			}
			return fmt.Errorf("%s does not apply to a %s; it takes %s, %s", name(f), what, name("nexthop"), strings.Join(valid, ", "))
		}
	}
	need := func(field string, isSet bool) error {
		if !isSet {
			return fmt.Errorf("a %s needs %s", what, name(field))
		}
		return nil
	}
	var err error
	var ev evpn.Route
	var rd evpn.RD
	if r.RD != "" {
		if rd, err = evpn.ParseRD(r.RD); err != nil {
			return fmt.Errorf("%s: %w", name("rd"), err)
		}
		r.RD = rd.String()
	}
	var esi evpn.ESI
	if r.ESI != "" {
		if esi, err = evpn.ParseESI(r.ESI); err != nil {
			return fmt.Errorf("%s: %w", name("esi"), err)
		}
		r.ESI = esi.String()
	}
	if r.NextHop, err = parseRouteAddr(name("nexthop"), r.NextHop); err != nil {
		return err
	}
	if r.VNI > evpn.MaxLabel {
		return fmt.Errorf("%s %d: wider than 24 bits (max %d)", name("vni"), r.VNI, evpn.MaxLabel)
	}
	var ip netip.Addr
	if r.IP != "" {
		if ip, err = netip.ParseAddr(r.IP); err != nil {
			return fmt.Errorf("%s %q: not an IPv4 or IPv6 address", name("ip"), r.IP)
		}
		r.IP = ip.String()
	}
	switch r.Type {
	case 1:
		if err := need("esi", r.ESI != ""); err != nil {
			return err
		}
		if r.EthernetTag == evpn.MaxET {
			if r.VNI != 0 {
				return fmt.Errorf("an EAD per ES (Ethernet tag MAX-ET) has no %s", name("vni"))
			}
		} else if r.VNI == 0 {
			return fmt.Errorf("a type-1 (EAD) route per EVI needs %s (or is an EAD per ES: Ethernet tag %d)", name("vni"), evpn.MaxET)
		}
		ev = evpn.EADRoute{RD: rd, ESI: esi, EthernetTag: r.EthernetTag, Label: r.VNI}
	case 2:
		if err := errors.Join(need("mac", r.MAC != ""), need("vni", r.VNI != 0)); err != nil {
			return firstLine(err)
		}
		mac, err := evpn.ParseMAC(r.MAC)
		if err != nil {
			return fmt.Errorf("%s: %w", name("mac"), err)
		}
		if mac.IsMulticast() {
			return fmt.Errorf("%s %s: a multicast MAC; a MAC route is for a unicast one", name("mac"), mac)
		}
		r.MAC = mac.String()
		ev = evpn.MACIPRoute{RD: rd, ESI: esi, EthernetTag: r.EthernetTag, MAC: mac, IP: ip, Label1: r.VNI}
	case 3:
		if r.VNI == 0 && r.EthernetTag != 0 && r.EthernetTag != evpn.MaxET && r.EthernetTag <= evpn.MaxLabel {
			// fwd show evpn routes prints a type-3 route's VNI as its
			// Ethernet tag (VLAN-aware bundle style); read it back so.
			r.VNI = r.EthernetTag
		}
		if err := need("vni", r.VNI != 0); err != nil {
			return err
		}
		orig := ip
		if !orig.IsValid() {
			orig = netip.MustParseAddr(r.NextHop)
		}
		ev = evpn.IMETRoute{RD: rd, EthernetTag: r.EthernetTag, OriginatorIP: orig}
	case 4:
		if err := need("esi", r.ESI != ""); err != nil {
			return err
		}
		orig := ip
		if !orig.IsValid() {
			orig = netip.MustParseAddr(r.NextHop)
		}
		ev = evpn.ESRoute{RD: rd, ESI: esi, OriginatorIP: orig}
	case 5:
		if err := errors.Join(need("ip_prefix", r.IPPrefix != ""), need("vni", r.VNI != 0)); err != nil {
			return firstLine(err)
		}
		p, err := netip.ParsePrefix(r.IPPrefix)
		if err != nil {
			return fmt.Errorf("%s %q: not a prefix in CIDR form (10.1.0.0/16, 2001:db8::/32)", name("ip_prefix"), r.IPPrefix)
		}
		if p != p.Masked() {
			return fmt.Errorf("%s %s: has bits set beyond its length (want %s)", name("ip_prefix"), p, p.Masked())
		}
		r.IPPrefix = p.String()
		ev = evpn.IPPrefixRoute{RD: rd, ESI: esi, EthernetTag: r.EthernetTag, Prefix: p, GatewayIP: ip, Label: r.VNI}
	}
	if err := evpn.ValidateRoute(ev); err != nil {
		return err
	}
	return nil
}

// firstLine keeps the first of joined errors: the one to fix first.
func firstLine(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()[0]
	}
	return err
}

// parseRouteAddr checks a nexthop: set, an IP address, not unspecified,
// not multicast; it returns it in canonical form.
func parseRouteAddr(flag, s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%s: the VTEP that advertises the route is required", flag)
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return "", fmt.Errorf("%s %q: not an IPv4 or IPv6 address", flag, s)
	case a.Zone() != "":
		return "", fmt.Errorf("%s %s: a VTEP address has no zone", flag, a)
	case a.IsUnspecified() || a.IsMulticast():
		return "", fmt.Errorf("%s %s: a VTEP address is unicast and specified", flag, a)
	}
	return a.Unmap().String(), nil
}

// readRoutes reads routes from a file ('-': stdin): a JSON array or one
// route per line. Unknown fields are errors; the output-only fields
// (prefix, source) are dropped, so what fwd show evpn routes --json prints
// reads back. Every route is checked; nothing is returned if any is
// invalid.
func readRoutes(path string, stdin io.Reader) ([]api.Route, error) {
	var (
		data []byte
		err  error
	)
	if path == "-" {
		data, err = io.ReadAll(stdin)
		path = "stdin"
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	// Each route is decoded on its own, so that an error names its line
	// and the routes before it are still checked.
	type item struct {
		raw  []byte
		line int // where it starts in the file
	}
	lineAt := func(off int64) int { return bytes.Count(data[:min(off, int64(len(data)))], []byte("\n")) + 1 }
	var items []item
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		dec := json.NewDecoder(bytes.NewReader(data))
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of routes: %s", path, jsonErr(data, 1, err))
		}
		for dec.More() {
			var raw json.RawMessage
			off := dec.InputOffset()
			if err := dec.Decode(&raw); err != nil {
				return nil, fmt.Errorf("%s: not a JSON array of routes: %s", path, jsonErr(data, 1, err))
			}
			// Skip the separator and space between the previous value
			// and this one.
			for off < int64(len(data)) && bytes.IndexByte([]byte(", \t\r\n"), data[off]) >= 0 {
				off++
			}
			items = append(items, item{raw: raw, line: lineAt(off)})
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of routes: %s", path, jsonErr(data, 1, err))
		}
		end := dec.InputOffset()
		if rest := bytes.TrimLeft(data[end:], " \t\r\n"); len(rest) > 0 {
			return nil, fmt.Errorf("%s:%d: data after the array of routes", path, lineAt(int64(len(data)-len(rest))))
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for line := 1; sc.Scan(); line++ {
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			items = append(items, item{raw: bytes.Clone(b), line: line})
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: no routes in it", path)
	}
	routes := make([]api.Route, len(items))
	var bad []string
	for i, it := range items {
		dec := json.NewDecoder(bytes.NewReader(it.raw))
		dec.DisallowUnknownFields()
		err := dec.Decode(&routes[i])
		if err == nil && dec.More() {
			err = errors.New("more than one JSON value on the line")
		}
		if err != nil {
			err = fmt.Errorf("not a route: %s", jsonErr(it.raw, it.line, err))
		} else {
			routes[i].Prefix, routes[i].Source = "", ""
			err = checkRoute(&routes[i], jsonName)
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s:%d: route %d: %v", path, it.line, i+1, err))
		}
	}
	if len(bad) > 0 {
		msg := fmt.Sprintf("%s: %d of %d routes are invalid, nothing was sent:", path, len(bad), len(routes))
		for i, b := range bad {
			if i == maxListedErrors {
				msg += fmt.Sprintf("\n  ... and %d more", len(bad)-maxListedErrors)
				break
			}
			msg += "\n  " + b
		}
		return nil, errors.New(msg)
	}
	return routes, nil
}

// jsonErr describes a JSON decoding error of data, which starts on line
// first of its file, with the line it is on when the error says where.
func jsonErr(data []byte, first int, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if off < 0 {
		return msg
	}
	line := first + bytes.Count(data[:min(off, int64(len(data)))], []byte("\n"))
	return fmt.Sprintf("%s (line %d)", msg, line)
}

// runRoutes sends the batches in order and prints the sum of the answers.
func runRoutes(cmd *cobra.Command, opts *routeOptions, batches []api.RouteBatch, total int) error {
	ctx, cancel := opts.callContext(cmd)
	defer cancel()
	c := opts.client()
	var sum api.RouteResult
	sent := 0
	for i, b := range batches {
		var res api.RouteResult
		var err error
		if opts.withdraw {
			res, err = c.WithdrawRoutes(ctx, b)
		} else {
			res, err = c.AddRoutes(ctx, b)
		}
		if err != nil {
			if i > 0 {
				return fmt.Errorf("request %d of %d: %w (the %d routes of the requests before it were applied)", i+1, len(batches), err, sent)
			}
			return err
		}
		if len(batches) == 1 {
			sum = res
		} else {
			sum.Added += res.Added
			sum.Withdrawn += res.Withdrawn
			sum.Duplicates += res.Duplicates
			sum.UnknownWithdraws += res.UnknownWithdraws
			sum.Rejected += res.Rejected
			sum.Errors = append(sum.Errors, res.Errors...)
			sum.ElapsedUS += res.ElapsedUS
		}
		sent += len(b.Routes)
		if b.Generate != nil {
			sent += b.Generate.Count
		}
	}
	if len(batches) > 1 && sum.ElapsedUS > 0 {
		sum.RoutesPerSecond = float64(total) / (sum.ElapsedUS / 1e6)
	}
	out := cmd.OutOrStdout()
	if opts.json {
		if err := writeJSON(out, sum); err != nil {
			return err
		}
	} else {
		printRouteResult(out, sum, len(batches))
	}
	if sum.Rejected > 0 {
		return fmt.Errorf("the daemon rejected %d of %d routes (%s)", sum.Rejected, total, map[bool]string{false: "see Errors above", true: "see errors in the JSON"}[opts.json])
	}
	return nil
}

func printRouteResult(w io.Writer, r api.RouteResult, requests int) {
	tw := newTable(w)
	fmt.Fprintf(tw, "Added:\t%d\n", r.Added)
	fmt.Fprintf(tw, "Withdrawn:\t%d\n", r.Withdrawn)
	fmt.Fprintf(tw, "Duplicates:\t%d\n", r.Duplicates)
	fmt.Fprintf(tw, "Unknown withdraws:\t%d\n", r.UnknownWithdraws)
	fmt.Fprintf(tw, "Rejected:\t%d\n", r.Rejected)
	el := time.Duration(r.ElapsedUS * float64(time.Microsecond)).Round(time.Microsecond)
	if requests > 1 {
		fmt.Fprintf(tw, "Elapsed:\t%s in the daemon, over %d requests\n", el, requests)
	} else {
		fmt.Fprintf(tw, "Elapsed:\t%s in the daemon\n", el)
	}
	fmt.Fprintf(tw, "Rate:\t%.0f routes/s\n", r.RoutesPerSecond)
	_ = tw.Flush()
	if len(r.Errors) > 0 {
		fmt.Fprintln(w, "Errors:")
		for _, e := range r.Errors {
			fmt.Fprintln(w, "  "+e)
		}
	}
}
