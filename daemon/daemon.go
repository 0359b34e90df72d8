package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/fwdplane/fwd/api"
	"github.com/fwdplane/fwd/config"
	"github.com/fwdplane/fwd/control"
	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/vxlan"
)

// DefaultRestartWindow is how long a restarted daemon waits for the routes
// to come back before it sweeps what the previous instance left and nobody
// announced again: BGP's default graceful-restart time (RFC 4724, 120 s).
const DefaultRestartWindow = 120 * time.Second

// Options configure a Daemon.
type Options struct {
	// ConfigPath is the file Reload reads again.
	ConfigPath string
	// Config is the validated configuration to run.
	Config *config.Config
	// Logger receives the daemon's logs; Level, when set, is the level
	// the log-level endpoint changes.
	Logger *slog.Logger
	Level  *slog.LevelVar
	// Version is reported by the status endpoint.
	Version string
	// RestartWindow: see DefaultRestartWindow; 0 means that.
	RestartWindow time.Duration
}

// Daemon is fwd running: the fast path loaded and attached, the control
// loop, the underlay resolver, link and learn watchers, and the API.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	started time.Time

	dp     *dataplane.Dataplane
	ctrl   *control.Controller
	res    *vxlan.Resolver
	srv    *api.Server
	events *bus

	// mu guards what Reload changes and what the API reads of it.
	mu          sync.Mutex
	cfg         *config.Config
	cfgLoadedAt time.Time
	ports       map[string]*port
	adopted     bool
	reconciled  []string
	pinned      bool // the previous instance's state waits for its sweep
}

// port is an interface the fast path runs on.
type port struct {
	cfg config.Interface
	// ifindex is the interface's index; while gone, the one it had (the
	// control loop keeps its ES and MACs there until it comes back).
	ifindex int
	attach  dataplane.AttachMode
	es      uint32 // the local ES's id in the fast path, 0 none
	vlans   map[dataplane.Tags]uint32
	// gone: the interface was deleted (or renamed away); the fast path
	// holds nothing for it until one of its name comes back (followLinks).
	gone bool
}

// New starts fwd: loads the fast path (adopting what a previous instance
// left pinned), programs the ports and attaches the program, starts the
// control loop's state and opens the API socket. Run serves it.
func New(ctx context.Context, opts Options) (*Daemon, error) {
	cfg := opts.Config
	if cfg == nil {
		return nil, errors.New("no config")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RestartWindow == 0 {
		opts.RestartWindow = DefaultRestartWindow
	}
	d := &Daemon{opts: opts, log: opts.Logger, started: time.Now(), cfg: cfg, cfgLoadedAt: time.Now(),
		ports: map[string]*port{}, events: newBus()}
	ok := false
	defer func() {
		if !ok {
			d.close(false)
		}
	}()

	ifindexes, err := resolvePorts(cfg)
	if err != nil {
		return nil, err
	}
	d.dp, err = dataplane.Load(&dataplane.Options{PinDir: cfg.Dataplane.PinDir, FDBMax: cfg.Dataplane.FDBSize,
		FDBCacheSets: cfg.Dataplane.FDBCacheSets, Logger: d.log})
	if errors.Is(err, dataplane.ErrPinIncompatible) {
		return nil, fmt.Errorf("%w\n  They come from another fwd build (an upgrade that changed a map's layout, or another dataplane.fdb_size): "+
			"this one cannot take them over without a gap. Stop the daemon that uses them, remove %s, and start again: "+
			"a cold start, and forwarding stops until the routes are back", err, cfg.Dataplane.PinDir)
	}
	if err != nil {
		return nil, err
	}
	inv, err := d.dp.Inventory()
	if err != nil {
		return nil, err
	}
	var pinned *control.Pinned
	if cfg.Dataplane.PinDir != "" && (len(inv.NextHops)+len(inv.Groups)+len(inv.ESes) > 0 || inv.FDB > 0) {
		d.adopted, d.pinned = true, true
		pinned = &control.Pinned{NextHops: inv.NextHops, Groups: inv.Groups, ESes: inv.ESes, VTEPs: inv.VTEPs, ESPeers: inv.ESPeers}
		d.log.Info("adopting the fast path a previous instance left pinned", "dir", cfg.Dataplane.PinDir,
			"fdb", inv.FDB, "nexthops", len(inv.NextHops), "groups", len(inv.Groups), "ess", len(inv.ESes), "sweep_in", opts.RestartWindow)
	}
	if err := d.dp.SetConfig(dataplane.Config{VXLANPort: cfg.Dataplane.VXLANPort, TTL: cfg.Dataplane.TTL,
		LearnRate: cfg.Dataplane.LearnRate, LearnBurst: cfg.Dataplane.LearnBurst}); err != nil {
		return nil, err
	}
	d.res, err = vxlan.NewResolver(&vxlan.ResolverOptions{Logger: d.log})
	if err != nil {
		return nil, err
	}
	ccfg := control.Config{VTEP4: cfg.VTEP4, VTEP6: cfg.VTEP6, BDs: cfg.VNIs(), DFDelay: cfg.Multihoming.DFDelay,
		EADPerESOnly: cfg.Multihoming.EADPerESOnly, Logger: d.log, Pinned: pinned,
		ESes: localESes(cfg, func(name string) int { return ifindexes[name] })}
	for _, name := range cfg.Uplinks() {
		ccfg.Uplinks = append(ccfg.Uplinks, uint32(ifindexes[name]))
	}
	d.ctrl, err = control.New(ccfg, d.dp, underlay{d.res}, nil)
	if err != nil {
		return nil, err
	}
	esIDs, err := d.localESIDs(ctx)
	if err != nil {
		return nil, err
	}
	for _, it := range cfg.Interfaces {
		p := &port{cfg: it, ifindex: ifindexes[it.Name], es: esOn(cfg, it.Name, esIDs)}
		if err := d.program(p); err != nil {
			return nil, err
		}
		d.ports[it.Name] = p
	}
	if err := d.staticMACs(ctx, cfg); err != nil {
		return nil, err
	}
	d.srv = api.NewServer(backend{d}, api.ServerOptions{Group: cfg.API.ReadGroup, Logger: d.log})
	if err := d.srv.Listen(cfg.API.Socket); err != nil {
		return nil, err
	}
	ok = true
	d.log.Info("fwd started", "ports", len(d.ports), "bridge_domains", len(cfg.BridgeDomains),
		"ethernet_segments", len(cfg.EthernetSegments), "socket", cfg.API.Socket, "adopted", d.adopted)
	return d, nil
}

// resolvePorts finds the config's interfaces in the kernel.
func resolvePorts(cfg *config.Config) (map[string]int, error) {
	out := map[string]int{}
	var errs []error
	for i, it := range cfg.Interfaces {
		ifi, err := net.InterfaceByName(it.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("interfaces[%d].name %q: no such interface: create it, or fix the name", i, it.Name))
			continue
		}
		if ifi.Index >= dataplane.MaxIfindex {
			errs = append(errs, fmt.Errorf("interfaces[%d].name %q: ifindex %d is above the fast path's limit %d", i, it.Name, ifi.Index, dataplane.MaxIfindex-1))
			continue
		}
		out[it.Name] = ifi.Index
	}
	return out, errors.Join(errs...)
}

// localESes is the control loop's view of cfg's Ethernet Segments, each
// on the ifindex ifindexOf gives its interface.
func localESes(cfg *config.Config, ifindexOf func(name string) int) []control.LocalES {
	out := make([]control.LocalES, 0, len(cfg.EthernetSegments))
	for _, e := range cfg.EthernetSegments {
		out = append(out, control.LocalES{ESI: e.ESI, Ifindex: uint32(ifindexOf(e.Interface)), DFAlg: e.DFAlg, DFPref: e.DFPref})
	}
	return out
}

// esOn is the fast-path id of the local ES on interface name (0: none),
// from ids (localESIDs).
func esOn(cfg *config.Config, name string, ids map[evpn.ESI]uint32) uint32 {
	if e, ok := cfg.ESOn(name); ok {
		return ids[e.ESI]
	}
	return 0
}

// localESIDs maps each local ES to the id the control loop gave it.
func (d *Daemon) localESIDs(ctx context.Context) (map[evpn.ESI]uint32, error) {
	ess, err := d.ctrl.ESes(ctx)
	if err != nil {
		return nil, err
	}
	out := map[evpn.ESI]uint32{}
	for _, e := range ess {
		if e.Local {
			out[e.ESI] = e.ID
		}
	}
	return out, nil
}

// program writes p's port entry and VLAN maps and attaches the program.
// Every write is idempotent: over an adopted fast path it rewrites what is
// already there, and frames keep flowing.
func (d *Daemon) program(p *port) error {
	if p.gone {
		return nil // followLinks programs it when it comes back
	}
	idx := uint32(p.ifindex)
	role := dataplane.RoleAccess
	if p.cfg.Role == config.RoleUplink {
		role = dataplane.RoleUplink
	}
	if err := d.dp.SetPort(idx, dataplane.Port{Role: role, Learn: p.cfg.Learn, ES: p.es}); err != nil {
		return fmt.Errorf("interface %s: %w", p.cfg.Name, err)
	}
	want := map[dataplane.Tags]uint32{}
	if p.cfg.UntaggedVNI != 0 {
		want[dataplane.Tags{}] = p.cfg.UntaggedVNI
	}
	for _, v := range p.cfg.VLANs {
		want[dataplane.Tags{Outer: v.VLAN, Inner: v.InnerVLAN}] = v.VNI
	}
	for tags, bd := range p.vlans {
		if want[tags] != bd {
			if err := d.dp.DeleteVLAN(idx, tags, bd); err != nil {
				return fmt.Errorf("interface %s: %w", p.cfg.Name, err)
			}
		}
	}
	for tags, bd := range want {
		if err := d.dp.SetVLAN(idx, tags, bd); err != nil {
			return fmt.Errorf("interface %s: %w", p.cfg.Name, err)
		}
	}
	p.vlans = want
	if p.attach == "" {
		mode, err := d.dp.Attach(p.ifindex)
		if err != nil {
			return fmt.Errorf("interface %s: %w", p.cfg.Name, err)
		}
		p.attach = mode
	}
	return nil
}

// staticMACs installs the config's static MACs: local ones as if learned
// on their port, remote ones as static type-2 routes.
func (d *Daemon) staticMACs(ctx context.Context, cfg *config.Config) error {
	var paths []evpn.Path
	for _, bd := range cfg.BridgeDomains {
		for _, m := range bd.StaticMACs {
			if m.Interface != "" {
				p := d.ports[m.Interface]
				if p == nil {
					return fmt.Errorf("static MAC %s: interface %s is not configured", m.MAC, m.Interface)
				}
				if err := d.ctrl.Learned(ctx, bd.VNI, m.MAC, uint32(p.ifindex)); err != nil {
					return err
				}
				continue
			}
			paths = append(paths, staticPath(cfg, bd.VNI, m.MAC, m.VTEP))
		}
	}
	if len(paths) == 0 {
		return nil
	}
	res, err := d.ctrl.Apply(ctx, paths)
	if err == nil && res.Rejected > 0 {
		err = fmt.Errorf("static MACs: %d rejected: %v", res.Rejected, res.Errors)
	}
	return err
}

// staticPath is the type-2 route of a remote static MAC: this node's RD
// for the VNI (its IPv4 VTEP, or 0.0.0.0, and the VNI's low 16 bits).
func staticPath(cfg *config.Config, vni uint32, mac evpn.MAC, vtep netip.Addr) evpn.Path {
	a := cfg.VTEP4
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	rd, _ := evpn.RDIPv4(a, uint16(vni)) // an IPv4 address: no error
	return evpn.MACPath(rd, evpn.ESI{}, mac, vni, vtep, evpn.SourceStatic)
}

// Run serves until ctx ends: the control loop, the link and learn
// watchers, the underlay's changes, the restart sweep and the API. Then it
// stops cleanly, leaving the program attached (and forwarding from the
// pinned maps) when the config's keep_xdp_on_stop says so.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	spawn := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	spawn("control loop", d.ctrl.Run)
	spawn("api", d.srv.Serve)
	spawn("links", d.followLinks)
	spawn("underlay", d.followUnderlay)
	spawn("learn", d.learn)
	if d.pinned {
		spawn("restart sweep", d.sweepAfterWindow)
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		d.log.Error("fwd stopping", "err", err)
	}
	cancel()
	wg.Wait()
	d.mu.Lock()
	keep, pins := d.cfg.Dataplane.KeepXDPOnStop, d.cfg.Dataplane.PinDir
	d.mu.Unlock()
	d.close(keep)
	if keep {
		d.log.Info("fwd stopped; the fast path keeps forwarding from the pinned maps (keep_xdp_on_stop)", "dir", pins)
	} else {
		d.log.Info("fwd stopped; the program is detached (keep_xdp_on_stop: false)")
	}
	return err
}

// followUnderlay hands the resolver's changes to the control loop.
func (d *Daemon) followUnderlay(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case u, ok := <-d.res.Updates():
			if !ok {
				return nil
			}
			if err := d.ctrl.UnderlayUpdate(ctx, u); err != nil {
				return err
			}
			d.events.publish("underlay", fmt.Sprintf("VTEP %s %s", u.VTEP, reachability(u)), map[string]string{"vtep": u.VTEP.String()})
		}
	}
}

func reachability(u vxlan.Underlay) string {
	if u.Reachable {
		return "reachable"
	}
	return "unreachable: " + u.Reason
}

// learn hands the fast path's learn events to the control loop.
func (d *Daemon) learn(ctx context.Context) error {
	lr, err := d.dp.LearnReader()
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); lr.Close() }()
	for {
		ev, err := lr.Read()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, os.ErrClosed) {
				return nil
			}
			d.log.Warn("learn event", "err", err)
			continue
		}
		var m evpn.MAC
		copy(m[:], ev.MAC)
		if err := d.ctrl.Learned(ctx, ev.BD, m, ev.Ifindex); err != nil {
			return err
		}
		d.events.publish("mac", fmt.Sprintf("learned %s in VNI %d on ifindex %d", m, ev.BD, ev.Ifindex),
			map[string]string{"mac": m.String(), "vni": fmt.Sprint(ev.BD)})
	}
}

// sweepAfterWindow ends a restart: after the window, what the previous
// instance left and no route brought back is removed.
func (d *Daemon) sweepAfterWindow(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(d.opts.RestartWindow):
	}
	return d.Sweep(ctx)
}

// Sweep removes the previous instance's leftovers now (the restart window
// ends early): FDB entries no route re-installed, then, a grace period
// after each level, its ES entries, groups and nexthops.
func (d *Daemon) Sweep(ctx context.Context) error {
	d.mu.Lock()
	if !d.pinned {
		d.mu.Unlock()
		return nil
	}
	d.pinned = false
	d.mu.Unlock()
	var keys []dataplane.FDBKey
	if err := d.dp.FDBEntries(func(k dataplane.FDBKey, _ dataplane.FDBEntry) bool { keys = append(keys, k); return true }); err != nil {
		return err
	}
	n, err := d.ctrl.SweepFDB(ctx, keys)
	if err != nil {
		return err
	}
	if err := d.dp.Synchronize(); err != nil {
		return err
	}
	rel, err := d.ctrl.ReleasePinned(ctx, d.dp.Synchronize)
	if err != nil {
		return err
	}
	msg := []string{fmt.Sprintf("kept %d FDB entries re-announced, removed %d stale", len(keys)-n, n),
		"removed the previous instance's " + rel.String()}
	d.mu.Lock()
	d.reconciled = append(d.reconciled, msg...)
	d.mu.Unlock()
	d.log.Info("restart reconciled", "fdb_kept", len(keys)-n, "fdb_removed", n, "released", rel.String())
	d.events.publish("restart", "reconciled: "+msg[0]+"; "+msg[1], nil)
	return nil
}

// close stops what New started; keep leaves the program attached.
func (d *Daemon) close(keep bool) {
	if d.srv != nil {
		_ = d.srv.Shutdown(context.Background())
	}
	if d.dp != nil && !keep {
		for _, p := range d.ports {
			if p.attach != "" {
				if err := d.dp.Detach(p.ifindex); err != nil {
					d.log.Warn("detach", "interface", p.cfg.Name, "err", err)
				}
			}
		}
	}
	if d.res != nil {
		_ = d.res.Close()
	}
	if d.dp != nil {
		_ = d.dp.Close()
	}
	d.events.close()
}

// underlay adapts vxlan.Resolver to control.Underlay.
type underlay struct{ r *vxlan.Resolver }

func (u underlay) Watch(a netip.Addr) (vxlan.Underlay, error) { return u.r.Watch(a) }
func (u underlay) Unwatch(a netip.Addr)                       { _ = u.r.Unwatch(a) }
