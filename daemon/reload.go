package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/fwdplane/fwd/config"
	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
)

// ReloadResult says what a reload did.
type ReloadResult struct {
	// Applied lists the changes made live; Deferred the ones that take
	// effect at the next start (docs/CONFIG.md says which are which).
	Applied, Deferred []string
}

// Reload reads the config file again and applies the difference. A file
// that does not load or validate changes nothing: the error says why and
// the running config stays.
func (d *Daemon) Reload(ctx context.Context) (ReloadResult, error) {
	next, err := config.Load(d.opts.ConfigPath)
	if err != nil {
		d.log.Error("config reload refused: keeping the running config", "file", d.opts.ConfigPath, "err", err)
		d.events.publish("config", "reload refused, running config kept: "+firstLine(err.Error()), map[string]string{"file": d.opts.ConfigPath})
		return ReloadResult{}, err
	}
	return d.apply(ctx, next)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// apply moves the running daemon from its config to next.
func (d *Daemon) apply(ctx context.Context, next *config.Config) (ReloadResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	prev := d.cfg
	ch := config.Diff(prev, next)
	var res ReloadResult
	did := func(format string, args ...any) { res.Applied = append(res.Applied, fmt.Sprintf(format, args...)) }
	later := func(format string, args ...any) { res.Deferred = append(res.Deferred, fmt.Sprintf(format, args...)) }

	// New ports must exist before anything is written.
	added := map[string]int{}
	for _, it := range ch.Interfaces.Added {
		ifi, err := net.InterfaceByName(it.Name)
		if err != nil {
			return res, fmt.Errorf("reload refused, running config kept: interface %s: no such interface", it.Name)
		}
		added[it.Name] = ifi.Index
	}
	var errs []error
	fail := func(err error) { errs = append(errs, err) }

	if bdsChanged := len(ch.BridgeDomains.Added)+len(ch.BridgeDomains.Removed) > 0; bdsChanged {
		if err := d.ctrl.SetBridgeDomains(ctx, next.VNIs()); err != nil {
			fail(err)
		} else {
			for _, bd := range ch.BridgeDomains.Added {
				did("bridge domain %d added", bd.VNI)
			}
			for _, bd := range ch.BridgeDomains.Removed {
				did("bridge domain %d removed (its FDB entries deleted)", bd.VNI)
			}
		}
	}
	// The Ethernet Segments before the ports: the control loop moves the
	// MACs and routes and writes the ES entries, then each port's entry
	// below takes its ES's id.
	runES := next.EthernetSegments
	esIDs, err := d.reloadESes(ctx, ch, next, added, did)
	if err != nil {
		fail(err)
		runES = prev.EthernetSegments
		esIDs, _ = d.localESIDs(ctx)
	}
	esCfg := &config.Config{EthernetSegments: runES}
	for _, it := range ch.Interfaces.Removed {
		p := d.ports[it.Name]
		if p == nil {
			continue
		}
		if p.attach != "" {
			if err := d.dp.Detach(p.ifindex); err != nil {
				fail(fmt.Errorf("interface %s: %w", it.Name, err))
			}
		}
		if !p.gone {
			for tags, bd := range p.vlans {
				_ = d.dp.DeleteVLAN(uint32(p.ifindex), tags, bd)
			}
			if err := d.dp.DeletePort(uint32(p.ifindex)); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
				fail(fmt.Errorf("interface %s: %w", it.Name, err))
			}
		}
		delete(d.ports, it.Name)
		did("interface %s removed (program detached)", it.Name)
	}
	for _, it := range next.Interfaces {
		p := d.ports[it.Name]
		if p == nil {
			p = &port{cfg: it, ifindex: added[it.Name]}
			d.ports[it.Name] = p
			did("interface %s added (%s, program attached)", it.Name, it.Role)
		} else {
			p.cfg = it
		}
		p.es = esOn(esCfg, it.Name, esIDs)
		if err := d.program(p); err != nil {
			fail(err)
		}
	}
	if !slices.Equal(prev.Uplinks(), next.Uplinks()) {
		var ups []uint32
		// Their state read here, as reloadESes does: no syscall while
		// holding the control loop. A gone port is down.
		up := map[uint32]bool{}
		for _, name := range next.Uplinks() {
			if p := d.ports[name]; p != nil && p.ifindex != 0 {
				ups = append(ups, uint32(p.ifindex))
				up[uint32(p.ifindex)] = !p.gone && portUp(uint32(p.ifindex))
			}
		}
		if err := d.ctrl.SetUplinks(ctx, ups, func(ifindex uint32) bool { return up[ifindex] }); err != nil {
			fail(err)
		} else {
			did("uplinks: %s", strings.Join(next.Uplinks(), ", "))
		}
	}
	for _, v := range ch.VLANs.Added {
		did("%s: VLAN %d -> VNI %d", v.Interface, v.VLAN, v.VNI)
	}
	for _, v := range ch.VLANs.Changed {
		did("%s: VLAN %d -> VNI %d (was %d)", v.New.Interface, v.New.VLAN, v.New.VNI, v.Old.VNI)
	}
	for _, v := range ch.VLANs.Removed {
		did("%s: VLAN %d unmapped", v.Interface, v.VLAN)
	}
	if err := d.reloadStatic(ctx, ch); err != nil {
		fail(err)
	} else if n := len(ch.StaticMACs.Added) + len(ch.StaticMACs.Removed) + len(ch.StaticMACs.Changed); n > 0 {
		did("%d static MAC changes", n)
	}
	dpChanged := false
	for _, s := range ch.Settings {
		switch {
		case s.Path == "log.level":
			if d.opts.Level != nil {
				d.opts.Level.Set(next.Log.Level)
				did("log.level %s -> %s", s.Old, s.New)
			} else {
				later("log.level %s -> %s", s.Old, s.New)
			}
		case strings.HasPrefix(s.Path, "dataplane.") && s.Live:
			dpChanged = true
			did("%s %s -> %s", s.Path, s.Old, s.New)
		default:
			later("%s %s -> %s (at the next start)", s.Path, s.Old, s.New)
		}
	}
	if dpChanged {
		err := d.dp.SetConfig(dataplane.Config{VXLANPort: next.Dataplane.VXLANPort, TTL: next.Dataplane.TTL,
			LearnRate: next.Dataplane.LearnRate, LearnBurst: next.Dataplane.LearnBurst})
		if err != nil {
			fail(err)
		}
	}
	d.cfg = running(prev, next)
	d.cfg.EthernetSegments = runES
	d.cfgLoadedAt = time.Now()
	err = errors.Join(errs...)
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelError
	}
	d.log.Log(ctx, lvl, "config reloaded", "file", d.opts.ConfigPath, "applied", res.Applied, "deferred", res.Deferred, "err", err)
	d.events.publish("config", fmt.Sprintf("reloaded: %d changes applied, %d at the next start", len(res.Applied), len(res.Deferred)),
		map[string]string{"file": d.opts.ConfigPath})
	return res, err
}

// reloadStatic applies the static MAC changes.
func (d *Daemon) reloadStatic(ctx context.Context, ch *config.Changes) error {
	var add, del []config.BridgeMAC
	add = append(add, ch.StaticMACs.Added...)
	del = append(del, ch.StaticMACs.Removed...)
	for _, c := range ch.StaticMACs.Changed {
		del = append(del, c.Old)
		add = append(add, c.New)
	}
	var paths []evpn.Path
	for _, m := range del {
		if m.Interface == "" {
			paths = append(paths, staticPath(d.cfg, m.VNI, m.MAC, m.VTEP).Withdrawal())
		}
	}
	if len(paths) > 0 {
		if _, err := d.ctrl.Apply(ctx, paths); err != nil {
			return err
		}
	}
	tmp := &config.Config{VTEP4: d.cfg.VTEP4}
	for _, m := range add {
		tmp.BridgeDomains = append(tmp.BridgeDomains, config.BridgeDomain{VNI: m.VNI, StaticMACs: []config.StaticMAC{m.StaticMAC}})
	}
	return d.staticMACs(ctx, tmp)
}

// running is the config the daemon runs after a reload to next: next,
// with what applies only at the next start kept as it was (so that status
// shows what runs, and the next reload reports those changes again).
func running(prev, next *config.Config) *config.Config {
	r := *next
	r.VTEP4, r.VTEP6, r.RouterMAC = prev.VTEP4, prev.VTEP6, prev.RouterMAC
	r.Multihoming, r.API, r.Hooks, r.BGP = prev.Multihoming, prev.API, prev.Hooks, prev.BGP
	r.Log.Format = prev.Log.Format
	r.Dataplane.PinDir, r.Dataplane.FDBSize, r.Dataplane.FDBCacheSets = prev.Dataplane.PinDir, prev.Dataplane.FDBSize, prev.Dataplane.FDBCacheSets
	return &r
}

// reloadESes hands next's Ethernet Segments to the control loop when they
// changed, and returns every local ES's id. An ES's port is the ifindex
// the daemon runs it on (while a port is gone, the one it had: the loop
// sees it down), or the one added resolved for a port this reload adds.
// Call with d.mu held.
func (d *Daemon) reloadESes(ctx context.Context, ch *config.Changes, next *config.Config, added map[string]int,
	did func(string, ...any)) (map[evpn.ESI]uint32, error) {
	es := ch.EthernetSegments
	if es.Len() == 0 {
		return d.localESIDs(ctx)
	}
	ifindexOf := func(name string) int {
		if p := d.ports[name]; p != nil {
			return p.ifindex
		}
		return added[name]
	}
	want := localESes(next, ifindexOf)
	up := make(map[uint32]bool, len(want)) // read here: no syscall while holding the control loop
	for _, l := range want {
		up[l.Ifindex] = portUp(l.Ifindex)
	}
	ids, err := d.ctrl.SetLocalESes(ctx, want, func(ifindex uint32) bool { return up[ifindex] })
	if err != nil {
		return nil, fmt.Errorf("ethernet segments not changed: %w", err)
	}
	publish := func(e config.EthernetSegment, msg string) {
		d.events.publish("es", fmt.Sprintf("ES %s %s", e.ESI, msg), map[string]string{"esi": e.ESI.String(), "interface": e.Interface})
	}
	for _, e := range es.Removed {
		did("ethernet segment %s (%s) removed from %s: its routes withdrawn, its MACs local to the port", e.ESI, e.Name, e.Interface)
		publish(e, "removed from "+e.Interface)
	}
	for _, e := range es.Added {
		did("ethernet segment %s (%s) added on %s (id %d)", e.ESI, e.Name, e.Interface, ids[e.ESI])
		publish(e, "added on "+e.Interface)
	}
	for _, c := range es.Changed {
		did("ethernet segment %s changed: %s", c.New.ESI, esChange(c.Old, c.New))
		publish(c.New, "changed: "+esChange(c.Old, c.New))
	}
	return ids, nil
}

// esChange says what differs between two versions of an ES.
func esChange(o, n config.EthernetSegment) string {
	var parts []string
	if o.Name != n.Name {
		parts = append(parts, fmt.Sprintf("name %s -> %s", o.Name, n.Name))
	}
	if o.Interface != n.Interface {
		parts = append(parts, fmt.Sprintf("interface %s -> %s", o.Interface, n.Interface))
	}
	if o.DFAlg != n.DFAlg {
		parts = append(parts, fmt.Sprintf("df algorithm %s -> %s", o.DFAlg, n.DFAlg))
	}
	if o.DFPref != n.DFPref {
		parts = append(parts, fmt.Sprintf("df preference %d -> %d", o.DFPref, n.DFPref))
	}
	if o.ESID != n.ESID || o.SysMAC != n.SysMAC {
		parts = append(parts, "es-id/es-sys-mac spelling")
	}
	if len(parts) == 0 {
		return "no difference in effect"
	}
	return strings.Join(parts, ", ")
}
