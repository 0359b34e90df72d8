package daemon

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fwdplane/fwd/api"
	"github.com/fwdplane/fwd/config"
	"github.com/fwdplane/fwd/control"
	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/nhg"
	"github.com/fwdplane/fwd/vxlan"
)

// backend serves the API from the daemon: each method reads one view of
// the control loop or the fast path and converts it to the wire types.
type backend struct{ d *Daemon }

var _ api.Backend = backend{}

func (b backend) Status(ctx context.Context) (api.Status, error) {
	d := b.d
	n, err := d.ctrl.Counts(ctx)
	if err != nil {
		return api.Status{}, unavailable(err)
	}
	st, err := d.ctrl.Stats(ctx)
	if err != nil {
		return api.Status{}, unavailable(err)
	}
	lat, err := d.ctrl.Latency(ctx)
	if err != nil {
		return api.Status{}, unavailable(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := api.Status{
		Version: d.opts.Version, PID: os.Getpid(), StartedAt: d.started, ConfigFile: d.opts.ConfigPath,
		ConfigLoadedAt: d.cfgLoadedAt, Adopted: d.adopted, Reconciled: slices.Clone(d.reconciled),
		Interfaces: len(d.ports), BDs: len(d.cfg.BridgeDomains), ESes: n.ESes, MACs: n.MACs, Groups: n.Groups, Routes: n.Routes,
		Loop: api.Loop{Calls: lat.Count, LatencyP50US: quantileUS(lat, 0.5), LatencyP99US: quantileUS(lat, 0.99),
			PathsAdded: st.PathsAdded, PathsGone: st.PathsWithdrawn, FDBWrites: st.FDBWrites, GroupWrites: st.GroupWrites, WriteErrors: st.WriteErrors},
	}
	if d.cfg.VTEP4.IsValid() {
		s.VTEP4 = d.cfg.VTEP4.String()
	}
	if d.cfg.VTEP6.IsValid() {
		s.VTEP6 = d.cfg.VTEP6.String()
	}
	if d.cfg.RouterMAC != (evpn.MAC{}) {
		s.RouterMAC = d.cfg.RouterMAC.String()
	}
	return s, nil
}

// quantileUS estimates a quantile of the histogram: the upper bound of the
// bucket it falls in, in microseconds.
func quantileUS(l control.Latency, q float64) float64 {
	if l.Count == 0 {
		return 0
	}
	want := uint64(q*float64(l.Count) + 0.5)
	var n uint64
	for i, c := range l.Counts {
		n += c
		if n >= want {
			return control.LatencyBounds[i] * 1e6
		}
	}
	return control.LatencyBounds[len(control.LatencyBounds)-1] * 1e6
}

func unavailable(err error) error {
	if errors.Is(err, control.ErrClosed) {
		return fmt.Errorf("%w: %v", api.ErrUnavailable, err)
	}
	return err
}

func (b backend) Interfaces(ctx context.Context) ([]api.Interface, error) {
	d := b.d
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []api.Interface
	for _, p := range d.ports {
		it := api.Interface{Name: p.cfg.Name, Ifindex: p.ifindex, Role: p.cfg.Role.String(), Attach: string(p.attach),
			UntaggedVNI: p.cfg.UntaggedVNI}
		if p.gone {
			it.Ifindex = 0 // deleted: down, nothing attached, until it comes back
		} else if ifi, err := net.InterfaceByIndex(p.ifindex); err == nil {
			it.Up = ifi.Flags&net.FlagRunning != 0 && ifi.Flags&net.FlagUp != 0
			it.MTU = ifi.MTU
		}
		if e, ok := d.cfg.ESOn(p.cfg.Name); ok {
			it.ESI = e.ESI.String()
		}
		for _, v := range p.cfg.VLANs {
			it.VLANs = append(it.VLANs, api.VLANMap{VLAN: v.VLAN, VNI: v.VNI})
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b api.Interface) int { return a.Ifindex - b.Ifindex })
	return out, nil
}

func (b backend) BridgeDomains(ctx context.Context) ([]api.BridgeDomain, error) {
	d := b.d
	flood, err := d.ctrl.Flood(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	macs, err := d.ctrl.MACs(ctx, control.MACFilter{})
	if err != nil {
		return nil, unavailable(err)
	}
	perBD := map[uint32]int{}
	for _, m := range macs {
		perBD[m.VNI]++
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []api.BridgeDomain
	for _, bd := range d.cfg.BridgeDomains {
		v := api.BridgeDomain{VNI: bd.VNI, MACs: perBD[bd.VNI], Flood: []string{}, Ports: []api.BDPort{}}
		for _, a := range flood[bd.VNI] {
			v.Flood = append(v.Flood, a.String())
		}
		for _, it := range d.cfg.Interfaces {
			if it.UntaggedVNI == bd.VNI {
				v.Ports = append(v.Ports, api.BDPort{Interface: it.Name})
			}
			for _, vl := range it.VLANs {
				if vl.VNI == bd.VNI {
					v.Ports = append(v.Ports, api.BDPort{Interface: it.Name, VLAN: vl.VLAN})
				}
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// ifname names an ifindex by the config's ports, else by the kernel.
func (d *Daemon) ifname(idx uint32) string {
	for _, p := range d.ports {
		if p.ifindex == int(idx) {
			return p.cfg.Name
		}
	}
	if ifi, err := net.InterfaceByIndex(int(idx)); err == nil {
		return ifi.Name
	}
	return "ifindex " + strconv.Itoa(int(idx))
}

func (b backend) MACs(ctx context.Context, f api.MACFilter) ([]api.MAC, error) {
	cf := control.MACFilter{VNI: f.VNI}
	if f.MAC != "" {
		m, err := evpn.ParseMAC(f.MAC)
		if err != nil {
			return nil, fmt.Errorf("%w: mac: %v", api.ErrInvalid, err)
		}
		cf.MAC = &m
	}
	if f.ESI != "" {
		e, err := evpn.ParseESI(f.ESI)
		if err != nil {
			return nil, fmt.Errorf("%w: esi: %v", api.ErrInvalid, err)
		}
		cf.ESI = &e
	}
	views, err := b.d.ctrl.MACs(ctx, cf)
	if err != nil {
		return nil, unavailable(err)
	}
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	out := make([]api.MAC, 0, len(views))
	for _, v := range views {
		m := api.MAC{VNI: v.VNI, MAC: v.MAC.String(), Seq: v.Seq, Sticky: v.Sticky, Router: v.Router}
		switch {
		case v.Local:
			m.Type, m.Interface = "local", b.d.ifname(v.Ifindex)
		case v.Sync:
			m.Type, m.Interface = "sync", b.d.ifname(v.Ifindex)
		default:
			m.Type = "remote"
		}
		if !v.ESI.IsZero() {
			m.ESI = v.ESI.String()
		}
		if v.VTEP.IsValid() && !v.Local {
			m.VTEP = v.VTEP.String()
		}
		out = append(out, m)
	}
	return out, nil
}

func (b backend) ESes(ctx context.Context) ([]api.ES, error) {
	views, err := b.d.ctrl.ESes(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	out := make([]api.ES, 0, len(views))
	for _, v := range views {
		out = append(out, b.d.esOf(v))
	}
	return out, nil
}

func (d *Daemon) esOf(v control.ESView) api.ES {
	e := api.ES{ESI: v.ESI.String(), Type: "remote", Up: true, Admin: true, MACs: v.MACs, Group: v.Group,
		BackupGroup: v.BackupGroup, VTEPs: []api.ESVTEP{}}
	if v.Local {
		e.Type, e.Interface, e.Up, e.Admin, e.DF = "local", d.ifname(v.Ifindex), v.Up, !v.AdminDown, v.DF
		e.DFAlg, e.DFPref = v.DFAlg.String(), v.DFPref
	}
	for _, p := range v.Peers {
		e.VTEPs = append(e.VTEPs, api.ESVTEP{VTEP: p.VTEP.String(), Active: p.Active, EADPerES: p.EADPerES, EVIs: p.EVIs,
			DFAlg: p.Candidate.Alg.String(), DFPref: p.Candidate.Pref})
	}
	return e
}

func (b backend) ESEVIs(ctx context.Context) ([]api.ESEVI, error) {
	d := b.d
	ess, err := d.ctrl.ESes(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	ead, err := d.ctrl.Routes(ctx, evpn.RouteTypeEAD)
	if err != nil {
		return nil, unavailable(err)
	}
	type key struct {
		esi evpn.ESI
		vni uint32
	}
	vteps := map[key][]string{}
	for _, p := range ead {
		r := p.Route.(evpn.EADRoute)
		if r.PerES() {
			continue
		}
		k := key{r.ESI, r.Label}
		vteps[k] = append(vteps[k], p.Attrs.NextHop.String())
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []api.ESEVI
	seen := map[key]bool{}
	for _, e := range ess {
		var vnis []uint32
		if e.Local {
			for _, it := range d.cfg.Interfaces {
				if uint32(d.ports[it.Name].ifindex) != e.Ifindex {
					continue
				}
				if it.UntaggedVNI != 0 {
					vnis = append(vnis, it.UntaggedVNI)
				}
				for _, vl := range it.VLANs {
					vnis = append(vnis, vl.VNI)
				}
			}
		}
		for k := range vteps {
			if k.esi == e.ESI {
				vnis = append(vnis, k.vni)
			}
		}
		slices.Sort(vnis)
		for _, vni := range slices.Compact(vnis) {
			k := key{e.ESI, vni}
			if seen[k] {
				continue
			}
			seen[k] = true
			typ := "R"
			if e.Local {
				typ = "L"
			}
			out = append(out, api.ESEVI{ESI: e.ESI.String(), VNI: vni, Type: typ, VTEPs: append([]string{}, vteps[k]...)})
		}
	}
	return out, nil
}

func (b backend) L2NextHops(ctx context.Context) ([]api.L2NextHop, error) {
	views, err := b.d.ctrl.VTEPs(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	out := make([]api.L2NextHop, 0, len(views))
	for _, v := range views {
		nh := api.L2NextHop{VTEP: v.Addr.String(), ID: v.NextHop, Reachable: v.Underlay.Reachable, Reason: v.Underlay.Reason, Refs: v.Refs}
		if v.Underlay.Ifindex != 0 {
			nh.Interface = b.d.ifname(uint32(v.Underlay.Ifindex))
		}
		out = append(out, nh)
	}
	return out, nil
}

func (b backend) NexthopGroups(ctx context.Context) ([]api.NexthopGroup, error) {
	entries, err := b.d.ctrl.Groups(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]api.NexthopGroup, 0, len(entries))
	for _, e := range entries {
		out = append(out, groupOf(e))
	}
	return out, nil
}

func groupOf(e nhg.Entry) api.NexthopGroup {
	g := api.NexthopGroup{ID: e.Group.ID, Owner: e.Group.Owner.String(), State: strings.ToLower(e.Status.String()),
		Buckets: len(e.Buckets), Refs: e.Refs, Members: []api.GroupMember{}}
	held := map[uint32]int{}
	for _, bk := range e.Buckets {
		held[bk.Primary]++
	}
	for _, m := range e.Group.Members {
		w := uint32(m.Weight)
		if w == 0 {
			w = 1
		}
		g.Members = append(g.Members, api.GroupMember{ID: m.ID, VTEP: m.VTEP.String(), Weight: w, Down: m.Down,
			Backups: slices.Clone(m.Backups), Buckets: held[m.ID]})
	}
	return g
}

func (b backend) Routes(ctx context.Context, f api.RouteFilter) ([]api.Route, error) {
	if f.Type < 0 || f.Type > 5 {
		return nil, fmt.Errorf("%w: route type %d: want 1-5", api.ErrInvalid, f.Type)
	}
	paths, err := b.d.ctrl.Routes(ctx, evpn.RouteType(f.Type))
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]api.Route, 0, len(paths))
	for _, p := range paths {
		out = append(out, routeOf(p))
	}
	return out, nil
}

// routeOf converts a RIB path to the wire.
func routeOf(p evpn.Path) api.Route {
	r := api.Route{Type: int(p.Route.Type()), Prefix: p.Route.String(), Source: p.Source.String(),
		Seq: p.Attrs.MACMobility.Seq, Sticky: p.Attrs.MACMobility.Sticky, Router: p.Attrs.Router}
	if p.Attrs.NextHop.IsValid() {
		r.NextHop = p.Attrs.NextHop.String()
	}
	switch x := p.Route.(type) {
	case evpn.EADRoute:
		r.RD, r.ESI, r.EthernetTag, r.VNI = x.RD.String(), x.ESI.String(), x.EthernetTag, x.Label
	case evpn.MACIPRoute:
		r.RD, r.EthernetTag, r.MAC, r.VNI = x.RD.String(), x.EthernetTag, x.MAC.String(), x.Label1
		if !x.ESI.IsZero() {
			r.ESI = x.ESI.String()
		}
		if x.IP.IsValid() {
			r.IP = x.IP.String()
		}
	case evpn.IMETRoute:
		r.RD, r.EthernetTag, r.IP = x.RD.String(), x.EthernetTag, x.OriginatorIP.String()
	case evpn.ESRoute:
		r.RD, r.ESI, r.IP = x.RD.String(), x.ESI.String(), x.OriginatorIP.String()
		r.DFAlg, r.DFPref = p.Attrs.DFElection.Alg.String(), p.Attrs.DFElection.Pref
	case evpn.IPPrefixRoute:
		r.RD, r.EthernetTag, r.IPPrefix, r.VNI = x.RD.String(), x.EthernetTag, x.Prefix.String(), x.Label
		if !x.ESI.IsZero() {
			r.ESI = x.ESI.String()
		}
		if x.GatewayIP.IsValid() {
			r.IP = x.GatewayIP.String()
		}
	}
	return r
}

func (b backend) Counters(ctx context.Context) (api.Counters, error) {
	m, err := b.d.dp.Counters()
	if err != nil {
		return api.Counters{}, err
	}
	var out api.Counters
	for _, name := range b.d.dp.CounterNames() {
		out.Counters = append(out.Counters, api.Counter{Name: name, Value: m[name]})
	}
	return out, nil
}

func (b backend) Metrics(ctx context.Context) (api.Metrics, error) {
	d := b.d
	var m api.Metrics
	c, err := b.Counters(ctx)
	if err != nil {
		return m, err
	}
	m.Counters = c.Counters
	n, err := d.ctrl.Counts(ctx)
	if err != nil {
		return m, unavailable(err)
	}
	d.mu.Lock()
	fdbMax := int(d.cfg.Dataplane.FDBSize)
	d.mu.Unlock()
	m.Maps = []api.MapUsage{
		{Name: "fdb", Entries: d.dp.FDBCount(), Max: fdbMax},
		{Name: "nexthop_groups", Entries: n.Groups, Max: dataplane.MaxGroups - 1},
		{Name: "ethernet_segments", Entries: n.ESes, Max: dataplane.MaxES - 1},
		{Name: "nexthops", Entries: n.VTEPs, Max: dataplane.MaxNextHops - 1},
	}
	groups, err := d.ctrl.Groups(ctx)
	if err != nil {
		return m, unavailable(err)
	}
	m.Groups = map[string]int{}
	for _, g := range groups {
		m.Groups[strings.ToLower(g.Status.String())]++
	}
	ess, err := d.ctrl.ESes(ctx)
	if err != nil {
		return m, unavailable(err)
	}
	m.ESes = map[string]int{}
	for _, e := range ess {
		switch {
		case !e.Local:
			m.ESes["remote"]++
		case !e.Up:
			m.ESes["down"]++
		case e.DF:
			m.ESes["df"]++
		default:
			m.ESes["non-df"]++
		}
	}
	rc, err := d.ctrl.RouteCounts(ctx)
	if err != nil {
		return m, unavailable(err)
	}
	m.Routes = map[int]int{}
	for t, k := range rc {
		m.Routes[int(t)] = k
	}
	lat, err := d.ctrl.Latency(ctx)
	if err != nil {
		return m, unavailable(err)
	}
	m.LoopLatency = api.Histogram{Bounds: control.LatencyBounds[:], Counts: lat.Counts[:], Inf: lat.Inf, Sum: lat.Sum.Seconds(), Count: lat.Count}
	st, err := d.ctrl.Stats(ctx)
	if err != nil {
		return m, unavailable(err)
	}
	m.LoopWrites = map[string]uint64{"fdb": st.FDBWrites, "group": st.GroupWrites, "es": st.ESWrites, "nexthop": st.NextHopWrites,
		"down_bit": st.DownBitFlips, "error": st.WriteErrors}
	return m, nil
}

func (b backend) LogLevel() string {
	if b.d.opts.Level == nil {
		return "info"
	}
	return strings.ToLower(b.d.opts.Level.Level().String())
}

func (b backend) SetLogLevel(level string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("%w: log level %q: want debug, info, warn or error", api.ErrInvalid, level)
	}
	if b.d.opts.Level == nil {
		return fmt.Errorf("%w: the log level is fixed in this daemon", api.ErrUnavailable)
	}
	b.d.opts.Level.Set(l)
	b.d.log.Info("log level changed", "level", l)
	return nil
}

func (b backend) AddRoutes(ctx context.Context, batch api.RouteBatch) (api.RouteResult, error) {
	return b.d.routes(ctx, batch, false)
}

func (b backend) WithdrawRoutes(ctx context.Context, batch api.RouteBatch) (api.RouteResult, error) {
	return b.d.routes(ctx, batch, true)
}

// maxGenerate bounds one generator: the FDB cannot hold more.
const maxGenerate = 1 << 24

// routes applies a batch from the API: invalid routes are rejected and
// named, the rest applied in one controller call.
func (d *Daemon) routes(ctx context.Context, batch api.RouteBatch, withdraw bool) (api.RouteResult, error) {
	start := time.Now()
	var res api.RouteResult
	reject := func(what string, err error) {
		res.Rejected++
		if len(res.Errors) < 16 {
			res.Errors = append(res.Errors, what+": "+err.Error())
		}
	}
	paths := make([]evpn.Path, 0, len(batch.Routes))
	for i, r := range batch.Routes {
		p, err := d.pathOf(r)
		if err != nil {
			reject(fmt.Sprintf("routes[%d]", i), err)
			continue
		}
		paths = append(paths, p)
	}
	var (
		tmpl evpn.Path
		gen  func(int) evpn.MAC
	)
	n := 0
	if g := batch.Generate; g != nil {
		var err error
		if tmpl, gen, err = d.generator(*g, withdraw); err != nil {
			return res, fmt.Errorf("%w: generate: %v", api.ErrInvalid, err)
		}
		n = g.Count
	}
	if withdraw {
		for i := range paths {
			paths[i] = paths[i].Withdrawal()
		}
	}
	add := func(cr control.ApplyResult) {
		res.Added += cr.Added
		res.Withdrawn += cr.Withdrawn
		res.Duplicates += cr.Duplicates
		res.UnknownWithdraws += cr.UnknownWithdraws
		res.Rejected += cr.Rejected
		for _, e := range cr.Errors {
			if len(res.Errors) < 16 {
				res.Errors = append(res.Errors, e)
			}
		}
	}
	if len(paths) > 0 || gen == nil {
		cr, err := d.ctrl.Apply(ctx, paths)
		if err != nil {
			return res, unavailable(err)
		}
		add(cr)
	}
	if gen != nil {
		cr, err := d.ctrl.ApplyMACs(ctx, n, tmpl, gen)
		if err != nil {
			return res, unavailable(err)
		}
		add(cr)
	}
	el := time.Since(start)
	res.ElapsedUS = float64(el.Nanoseconds()) / 1e3
	if n := len(batch.Routes) + genCount(batch.Generate); el > 0 && n > 0 {
		res.RoutesPerSecond = float64(n) / el.Seconds()
	}
	verb := "announced"
	if withdraw {
		verb = "withdrew"
	}
	d.events.publish("route", fmt.Sprintf("API %s %d routes (%d rejected)", verb, len(paths)+n, res.Rejected), nil)
	return res, nil
}

func genCount(g *api.Generator) int {
	if g == nil {
		return 0
	}
	return g.Count
}

// pathOf converts an injected route into a path from the API.
func (d *Daemon) pathOf(r api.Route) (evpn.Path, error) {
	if err := routeFields(r); err != nil {
		return evpn.Path{}, err
	}
	nh, err := netip.ParseAddr(r.NextHop)
	if err != nil {
		return evpn.Path{}, fmt.Errorf("nexthop %q: want an IPv4 or IPv6 address", r.NextHop)
	}
	var rd evpn.RD
	if r.RD != "" {
		if rd, err = evpn.ParseRD(r.RD); err != nil {
			return evpn.Path{}, fmt.Errorf("rd: %w", err)
		}
	} else if nh.Is4() {
		rd, _ = evpn.RDIPv4(nh, uint16(r.VNI))
	} else if rd, err = evpn.RDIPv4(netip.IPv4Unspecified(), uint16(r.VNI)); err != nil {
		return evpn.Path{}, err
	}
	var esi evpn.ESI
	if r.ESI != "" {
		if esi, err = evpn.ParseESI(r.ESI); err != nil {
			return evpn.Path{}, fmt.Errorf("esi: %w", err)
		}
	}
	var p evpn.Path
	switch r.Type {
	case 1:
		if r.EthernetTag == evpn.MaxET || r.VNI == 0 {
			p = evpn.EADPerESPath(rd, esi, nh, evpn.SourceAPI)
		} else {
			p = evpn.EADPerEVIPath(rd, esi, r.VNI, nh, evpn.SourceAPI)
		}
	case 2:
		if r.VNI == 0 || r.VNI > evpn.MaxLabel {
			return evpn.Path{}, fmt.Errorf("vni %d: want the bridge domain, 1-%d", r.VNI, evpn.MaxLabel)
		}
		m, err := evpn.ParseMAC(r.MAC)
		if err != nil {
			return evpn.Path{}, fmt.Errorf("mac: %w", err)
		}
		p = evpn.MACPath(rd, esi, m, r.VNI, nh, evpn.SourceAPI)
		if r.EthernetTag != 0 {
			x := p.Route.(evpn.MACIPRoute)
			x.EthernetTag = r.EthernetTag
			p.Route = x
		}
		if r.IP != "" {
			ip, err := netip.ParseAddr(r.IP)
			if err != nil {
				return evpn.Path{}, fmt.Errorf("ip %q: not an address", r.IP)
			}
			x := p.Route.(evpn.MACIPRoute)
			x.IP = ip
			p.Route = x
		}
		p.Attrs.MACMobility = evpn.MACMobility{Seq: r.Seq, Sticky: r.Sticky}
		p.Attrs.Router = r.Router
	case 3, 4:
		orig := nh
		if r.IP != "" {
			if orig, err = netip.ParseAddr(r.IP); err != nil {
				return evpn.Path{}, fmt.Errorf("ip %q: the originator's address", r.IP)
			}
		}
		if r.Type == 3 {
			tag := r.VNI
			if tag == 0 {
				tag = r.EthernetTag
			}
			p = evpn.Path{Route: evpn.IMETRoute{RD: rd, EthernetTag: tag, OriginatorIP: orig}, Attrs: evpn.Attrs{NextHop: nh}, Source: evpn.SourceAPI}
		} else {
			df := evpn.DFElection{Alg: evpn.DFAlgPreference, Pref: evpn.DefaultDFPref}
			if r.DFAlg != "" {
				if df.Alg, err = evpn.ParseDFAlg(r.DFAlg); err != nil {
					return evpn.Path{}, fmt.Errorf("df_alg: %w", err)
				}
			}
			if r.DFPref != 0 {
				df.Pref = r.DFPref
			}
			p = evpn.Path{Route: evpn.ESRoute{RD: rd, ESI: esi, OriginatorIP: orig}, Attrs: evpn.Attrs{NextHop: nh, DFElection: df}, Source: evpn.SourceAPI}
		}
	case 5:
		pfx, err := netip.ParsePrefix(r.IPPrefix)
		if err != nil {
			return evpn.Path{}, fmt.Errorf("ip_prefix %q: want a CIDR prefix", r.IPPrefix)
		}
		x := evpn.IPPrefixRoute{RD: rd, ESI: esi, EthernetTag: r.EthernetTag, Prefix: pfx.Masked(), Label: r.VNI}
		if r.IP != "" {
			if x.GatewayIP, err = netip.ParseAddr(r.IP); err != nil {
				return evpn.Path{}, fmt.Errorf("ip %q: the gateway address", r.IP)
			}
		}
		p = evpn.Path{Route: x, Attrs: evpn.Attrs{NextHop: nh}, Source: evpn.SourceAPI}
	default:
		return evpn.Path{}, fmt.Errorf("type %d: want 1-5", r.Type)
	}
	if err := p.Validate(); err != nil {
		return evpn.Path{}, err
	}
	return p, nil
}

// routeFields refuses fields that mean nothing for the route's type, and
// the output-only ones, instead of ignoring them.
func routeFields(r api.Route) error {
	var bad []string
	if r.Prefix != "" {
		bad = append(bad, "prefix (output only)")
	}
	if r.Source != "" {
		bad = append(bad, "source (output only: injected routes are from the API)")
	}
	if r.Type != 2 {
		for name, set := range map[string]bool{"mac": r.MAC != "", "seq": r.Seq != 0, "sticky": r.Sticky, "router": r.Router} {
			if set {
				bad = append(bad, name+" (type 2 only)")
			}
		}
	}
	if r.Type != 4 && (r.DFAlg != "" || r.DFPref != 0) {
		bad = append(bad, "df_alg/df_pref (type 4 only)")
	}
	if r.Type != 5 && r.IPPrefix != "" {
		bad = append(bad, "ip_prefix (type 5 only)")
	}
	if (r.Type == 3) && r.ESI != "" {
		bad = append(bad, "esi (not in a type-3 route)")
	}
	if r.Type == 4 && (r.VNI != 0 || r.EthernetTag != 0) {
		bad = append(bad, "vni/ethernet_tag (not in a type-4 route)")
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("type %d route: fields that do not apply: %s", r.Type, strings.Join(bad, ", "))
	}
	return nil
}

// generator is the SHARP-like generator: Count type-2 routes, the route
// tmpl (a withdrawal when withdraw) with MACs counting up from StartMAC,
// mac(i) for route i.
func (d *Daemon) generator(g api.Generator, withdraw bool) (tmpl evpn.Path, mac func(int) evpn.MAC, err error) {
	if g.Count < 1 || g.Count > maxGenerate {
		return tmpl, nil, fmt.Errorf("count %d: want 1-%d", g.Count, maxGenerate)
	}
	start, err := evpn.ParseMAC(g.StartMAC)
	if err != nil {
		return tmpl, nil, fmt.Errorf("start_mac: %w", err)
	}
	if tmpl, err = d.pathOf(api.Route{Type: 2, MAC: g.StartMAC, VNI: g.VNI, NextHop: g.NextHop, ESI: g.ESI, RD: g.RD}); err != nil {
		return tmpl, nil, err
	}
	if withdraw {
		tmpl = tmpl.Withdrawal()
	}
	base := uint64(start[0])<<40 | uint64(start[1])<<32 | uint64(binary.BigEndian.Uint32(start[2:]))
	if base+uint64(g.Count) > 1<<48 {
		return tmpl, nil, fmt.Errorf("start_mac %s + %d runs past ff:ff:ff:ff:ff:ff", start, g.Count)
	}
	return tmpl, func(i int) evpn.MAC {
		v := base + uint64(i)
		var m evpn.MAC
		m[0], m[1] = byte(v>>40), byte(v>>32)
		binary.BigEndian.PutUint32(m[2:], uint32(v))
		return m
	}, nil
}

func (b backend) SetESAdmin(ctx context.Context, s string, up bool) error {
	esi, err := evpn.ParseESI(s)
	if err != nil {
		return fmt.Errorf("%w: esi: %v", api.ErrInvalid, err)
	}
	if err := b.d.ctrl.SetESAdmin(ctx, esi, up); err != nil {
		if errors.Is(err, control.ErrUnknownES) {
			return fmt.Errorf("%w: %v", api.ErrNotFound, err)
		}
		return unavailable(err)
	}
	state := "released (follows its port)"
	if !up {
		state = "held down"
	}
	b.d.log.Info("ES admin state", "esi", esi, "up", up)
	b.d.events.publish("es", fmt.Sprintf("ES %s %s by an operator", esi, state), map[string]string{"esi": esi.String()})
	return nil
}

func (b backend) Trace(ctx context.Context, r api.TraceRequest) (api.TraceResult, error) {
	d := b.d
	d.mu.Lock()
	p := d.ports[r.Interface]
	var ifindex int
	gone := false
	if p != nil {
		ifindex, gone = p.ifindex, p.gone
	}
	d.mu.Unlock()
	if p == nil {
		return api.TraceResult{}, fmt.Errorf("%w: interface %q is not one of fwd's ports", api.ErrInvalid, r.Interface)
	}
	if gone {
		return api.TraceResult{}, fmt.Errorf("%w: interface %q is gone from the kernel: fwd programs it again when it comes back", api.ErrInvalid, r.Interface)
	}
	frame, err := traceFrame(r)
	if err != nil {
		return api.TraceResult{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	res, tr, err := d.dp.RunTrace(frame, uint32(ifindex))
	if err != nil {
		return api.TraceResult{}, err
	}
	out := api.TraceResult{Action: res.Action.String(), Reason: tr.Reason}
	if res.Frame != nil {
		out.Frame = hex.EncodeToString(res.Frame)
	}
	if tr.Egress != 0 {
		out.Egress = d.ifname(tr.Egress)
	}
	step := func(what, key, result string) {
		out.Steps = append(out.Steps, api.TraceStep{What: what, Key: key, Result: result})
	}
	step("port", r.Interface, p.cfg.Role.String())
	d.mu.Lock()
	port := d.cfg.Dataplane.VXLANPort
	d.mu.Unlock()
	switch {
	case p.cfg.Role != config.RoleUplink:
		port = 0 // VXLAN arrives on uplinks only: an access port's UDP is a host's
	case port == 0:
		port = config.DefaultVXLANPort
	}
	bdKey, dst := traceKeys(frame, port)
	if tr.BD != 0 {
		step("bridge domain", bdKey, fmt.Sprintf("vni %d", tr.BD))
	}
	if tr.FDBKind != 0 {
		step("fdb", fmt.Sprintf("vni %d %s", tr.BD, dst), tr.FDBKind.String())
	}
	if tr.ES != 0 {
		step("ethernet segment", fmt.Sprint(tr.ES), "")
	}
	if tr.Group != 0 {
		step("nexthop group", fmt.Sprint(tr.Group), fmt.Sprintf("bucket of hash %#08x", tr.Hash))
	}
	if tr.NextHop != 0 {
		res := fmt.Sprintf("nexthop %d", tr.NextHop)
		if vteps, err := d.ctrl.VTEPs(ctx); err == nil {
			for _, v := range vteps {
				if v.NextHop == tr.NextHop {
					res = "VTEP " + v.Addr.String()
				}
			}
		}
		if tr.Backup {
			res += " (backup: primary down)"
		}
		step("nexthop", fmt.Sprint(tr.NextHop), res)
	}
	step("verdict", out.Action, tr.Reason)
	return out, nil
}

// traceKeys reads, from the frame a trace ran, what the fast path looked
// its bridge domain and FDB entry up by: the VLAN tags ("vlan 10",
// "vlan 100.10" for 802.1ad over 802.1Q, "untagged") or, for VXLAN, the
// VNI (UDP to vxlanPort; 0 for a port where no VXLAN is decapsulated);
// and the destination MAC (the inner one for VXLAN). A frame too short to
// say gives "?".
func traceKeys(f []byte, vxlanPort uint16) (bd, dst string) {
	bd, dst = "?", "?"
	if len(f) < 14 {
		return bd, dst
	}
	dst = net.HardwareAddr(f[:6]).String()
	off, etype := 12, binary.BigEndian.Uint16(f[12:])
	var tags []string
	for (etype == 0x8100 || etype == 0x88a8) && len(tags) < 2 && len(f) >= off+6 {
		tags = append(tags, fmt.Sprint(binary.BigEndian.Uint16(f[off+2:])&0x0fff))
		off += 4
		etype = binary.BigEndian.Uint16(f[off:])
	}
	l3 := off + 2
	udp := -1
	switch {
	case etype == 0x0800 && len(f) >= l3+20 && f[l3+9] == 17:
		udp = l3 + int(f[l3]&0x0f)*4
	case etype == 0x86dd && len(f) >= l3+40 && f[l3+6] == 17:
		udp = l3 + 40
	}
	if udp > 0 && len(f) >= udp+8+8+14 && binary.BigEndian.Uint16(f[udp+2:]) == vxlanPort && f[udp+8]&0x08 != 0 {
		vx := udp + 8
		vni := uint32(f[vx+4])<<16 | uint32(f[vx+5])<<8 | uint32(f[vx+6])
		return fmt.Sprintf("vni %d", vni), net.HardwareAddr(f[vx+8 : vx+14]).String()
	}
	switch len(tags) {
	case 0:
		bd = "untagged"
	default:
		bd = "vlan " + strings.Join(tags, ".")
	}
	return bd, dst
}

// traceFrame builds the frame a trace request describes: a 64-byte
// Ethernet (802.1Q when VLAN is set) IPv4/UDP frame, VXLAN-wrapped when VNI
// is set; or the given hex.
func traceFrame(r api.TraceRequest) ([]byte, error) {
	if r.Frame != "" {
		b, err := hex.DecodeString(strings.ReplaceAll(r.Frame, " ", ""))
		if err != nil || len(b) < 14 {
			return nil, fmt.Errorf("frame: want at least 14 bytes of hex")
		}
		return b, nil
	}
	mac := func(s, name string, def evpn.MAC) (evpn.MAC, error) {
		if s == "" {
			return def, nil
		}
		m, err := evpn.ParseMAC(s)
		if err != nil {
			return m, fmt.Errorf("%s: %w", name, err)
		}
		return m, nil
	}
	dst, err := mac(r.DstMAC, "dst_mac", evpn.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	if err != nil {
		return nil, err
	}
	src, err := mac(r.SrcMAC, "src_mac", evpn.MAC{0x02, 0, 0, 0, 0, 1})
	if err != nil {
		return nil, err
	}
	ip := func(s, name, def string) ([4]byte, error) {
		if s == "" {
			s = def
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return [4]byte{}, fmt.Errorf("%s %q: want an IPv4 address", name, s)
		}
		return a.As4(), nil
	}
	sip, err := ip(r.SrcIP, "src_ip", "10.0.0.1")
	if err != nil {
		return nil, err
	}
	dip, err := ip(r.DstIP, "dst_ip", "10.0.0.2")
	if err != nil {
		return nil, err
	}
	if r.VLAN > config.MaxVLAN {
		return nil, fmt.Errorf("vlan %d: want 1-%d", r.VLAN, config.MaxVLAN)
	}
	f := append([]byte{}, dst[:]...)
	f = append(f, src[:]...)
	if r.VLAN != 0 {
		f = binary.BigEndian.AppendUint16(f, 0x8100)
		f = binary.BigEndian.AppendUint16(f, r.VLAN)
	}
	f = binary.BigEndian.AppendUint16(f, 0x0800)
	iph := []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0}
	iph = append(iph, sip[:]...)
	iph = append(iph, dip[:]...)
	payload := 64 - 4 - len(f) - len(iph) // to a 64-byte frame with its FCS
	binary.BigEndian.PutUint16(iph[2:], uint16(len(iph)+payload))
	binary.BigEndian.PutUint16(iph[10:], vxlan.IPv4Checksum(iph))
	f = append(f, iph...)
	udp := make([]byte, payload)
	binary.BigEndian.PutUint16(udp[0:], 12345)
	binary.BigEndian.PutUint16(udp[2:], 80)
	binary.BigEndian.PutUint16(udp[4:], uint16(payload))
	f = append(f, udp...)
	if r.VNI == 0 {
		return f, nil
	}
	o := vxlan.Outer{SrcMAC: [6]byte{0x02, 0, 0, 0, 0, 0xfe}, DstMAC: [6]byte{0x02, 0, 0, 0, 0, 0xff},
		SrcPort: vxlan.FlowSrcPort(1), DstPort: vxlan.Port, VNI: r.VNI}
	if o.Src, err = netip.ParseAddr(r.OuterSrc); err != nil {
		return nil, fmt.Errorf("outer_src %q: want the remote VTEP's address", r.OuterSrc)
	}
	if o.Dst, err = netip.ParseAddr(r.OuterDst); err != nil {
		return nil, fmt.Errorf("outer_dst %q: want this node's VTEP address", r.OuterDst)
	}
	return vxlan.Encap(nil, &o, f)
}

func (b backend) Subscribe(ctx context.Context) <-chan api.Event { return b.d.events.subscribe(ctx) }
