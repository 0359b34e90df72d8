package control

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/nhg"
	"github.com/fwdplane/fwd/vxlan"
)

// ErrUnknownES reports an ESI that is not a local Ethernet Segment.
var ErrUnknownES = errors.New("no such local ethernet segment")

// up reports whether a local ES's port is up and no operator holds it down.
func (e *es) up() bool { return e.portUp && !e.adminDown }

// SetESAdmin holds a local ES down for maintenance (up false), as if its
// port were down: its down bit sends its traffic to the ES peers, and its
// routes are withdrawn. up true lets it follow its port again (and the DF
// delay runs as after a port coming up).
func (c *Controller) SetESAdmin(ctx context.Context, esi evpn.ESI, up bool) error {
	return c.do(ctx, func(k *core) error {
		e := k.ess[esi]
		if e == nil || e.local == nil {
			return fmt.Errorf("%s: %w", esi, ErrUnknownES)
		}
		if e.adminDown == !up {
			return nil
		}
		e.adminDown = !up
		if up {
			e.upSince = k.now()
		}
		k.localESState(e)
		return nil
	})
}

// ESView is an Ethernet Segment as the loop sees it.
type ESView struct {
	ESI evpn.ESI
	// ID is its index in the fast path's ES table.
	ID    uint32
	Local bool
	// Local ES: its port, the port's state, whether an operator holds it
	// down, whether it is up (port up, not held, uplinks up), and whether
	// this node is its DF.
	Ifindex   uint32
	PortUp    bool
	AdminDown bool
	Up        bool
	DF        bool
	DFAlg     evpn.DFAlg
	DFPref    uint16
	// Peers are the remote PEs on the ES, by address.
	Peers []ESPeerView
	// MACs counts the MACs behind it.
	MACs int
	// Group is a remote ES's group of active PEs; BackupGroup a local ES's
	// group of active peers.
	Group, BackupGroup uint32
	// Members are the PEs the group was built for.
	Members []netip.Addr
}

// ESPeerView is what one remote PE advertised for an ES.
type ESPeerView struct {
	VTEP     netip.Addr
	Active   bool
	EADPerES bool
	EVIs     int
	// Candidate is its DF candidacy (from its type-4 route; FRR's
	// defaults when it sent none).
	Candidate evpn.Candidate
	HasES     bool
}

// ESes returns every Ethernet Segment, local first, each by ESI.
func (c *Controller) ESes(ctx context.Context) ([]ESView, error) {
	var out []ESView
	err := c.do(ctx, func(k *core) error {
		for _, e := range k.ess {
			out = append(out, k.esView(e))
		}
		return nil
	})
	slices.SortFunc(out, func(a, b ESView) int {
		if a.Local != b.Local {
			if a.Local {
				return -1
			}
			return 1
		}
		return slices.Compare(a.ESI[:], b.ESI[:])
	})
	return out, err
}

func (k *core) esView(e *es) ESView {
	v := ESView{
		ESI: e.esi, ID: e.id, Local: e.local != nil, MACs: len(e.macs),
		Group: e.group, BackupGroup: e.backup, Members: slices.Clone(e.members),
	}
	if e.local != nil {
		v.Ifindex = e.local.Ifindex
		v.PortUp, v.AdminDown = e.portUp, e.adminDown
		v.Up = e.up() && k.uplinksUp()
		v.DF = e.df
		v.DFAlg, v.DFPref = e.local.DFAlg, e.local.DFPref
		if v.DFPref == 0 {
			v.DFPref = evpn.DefaultDFPref
		}
	}
	for a, pe := range k.peers(e) {
		pv := ESPeerView{VTEP: a, Active: k.active(pe), EADPerES: pe.eadES, EVIs: pe.evis, HasES: pe.hasES4,
			Candidate: evpn.Candidate{VTEP: a, Alg: evpn.DFAlgPreference, Pref: evpn.DefaultDFPref}}
		if pe.df != nil {
			pv.Candidate = *pe.df
		}
		v.Peers = append(v.Peers, pv)
	}
	slices.SortFunc(v.Peers, func(a, b ESPeerView) int { return a.VTEP.Compare(b.VTEP) })
	return v
}

// MACView is one MAC and where the fast path sends it.
type MACView struct {
	VNI uint32
	MAC evpn.MAC
	// Local: learned on a local port (Ifindex) and winning over any route.
	Local   bool
	Ifindex uint32
	// Sync: a remote route for it names one of our local ESes (the ES
	// peer learned it on the shared segment).
	Sync bool
	// ESI is the ES it is behind, if any; VTEP the remote VTEP of its
	// best route (remote MACs).
	ESI    evpn.ESI
	VTEP   netip.Addr
	Seq    uint32
	Sticky bool
	Router bool
	// Installed is the fast path's entry, nil when there is none (its
	// bridge domain is not served, or its VTEP has no nexthop yet).
	Installed *dataplane.FDBEntry
	// Paths counts its type-2 routes in the RIB.
	Paths int
}

// MACFilter selects MACs; zero fields match all.
type MACFilter struct {
	VNI uint32
	MAC *evpn.MAC
	ESI *evpn.ESI
}

// MACs returns the MACs f selects, by VNI and MAC.
func (c *Controller) MACs(ctx context.Context, f MACFilter) ([]MACView, error) {
	var out []MACView
	err := c.do(ctx, func(k *core) error {
		k.eachMAC(func(m *mac) {
			mk := m.key
			if f.VNI != 0 && mk.vni != f.VNI || f.MAC != nil && mk.mac != *f.MAC {
				return
			}
			v := k.macView(mk, m)
			if f.ESI != nil && v.ESI != *f.ESI {
				return
			}
			out = append(out, v)
		})
		return nil
	})
	slices.SortFunc(out, func(a, b MACView) int { return compareMACKey(macKey{a.VNI, a.MAC}, macKey{b.VNI, b.MAC}) })
	return out, err
}

func (k *core) macView(mk macKey, m *mac) MACView {
	v := MACView{VNI: mk.vni, MAC: mk.mac, Paths: len(m.paths)}
	if m.installed != nil {
		e := *m.installed
		v.Installed = &e
	}
	best, ok := k.bestPath(m)
	if m.local != nil && (!ok || m.local.seq >= best.Attrs.MACMobility.Seq && !best.Attrs.MACMobility.Sticky) {
		v.Local, v.Ifindex, v.Seq = true, m.local.ifindex, m.local.seq
		if m.local.es != nil {
			v.ESI = m.local.es.esi
		}
		return v
	}
	if !ok {
		return v
	}
	r := best.Route.(evpn.MACIPRoute)
	v.ESI, v.VTEP = r.ESI, best.Attrs.NextHop
	v.Seq, v.Sticky, v.Router = best.Attrs.MACMobility.Seq, best.Attrs.MACMobility.Sticky, best.Attrs.Router
	if e := k.ess[r.ESI]; !r.ESI.IsZero() && e != nil && e.local != nil {
		v.Sync, v.Ifindex = true, e.local.Ifindex
	}
	return v
}

// VTEPView is a remote VTEP some route points at: an L2 nexthop.
type VTEPView struct {
	Addr netip.Addr
	// NextHop is its nexthop ID in the fast path (0: none yet).
	NextHop  uint32
	Refs     int
	Underlay vxlan.Underlay
	// ESes counts the remote ESes whose group has it as a member.
	ESes int
}

// VTEPs returns the remote VTEPs, by address.
func (c *Controller) VTEPs(ctx context.Context) ([]VTEPView, error) {
	var out []VTEPView
	err := c.do(ctx, func(k *core) error {
		for a, v := range k.vteps {
			vv := VTEPView{Addr: a, NextHop: v.nh, Refs: v.refs, Underlay: v.ul}
			for _, e := range k.ess {
				if slices.Contains(e.members, a) {
					vv.ESes++
				}
			}
			out = append(out, vv)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b VTEPView) int { return a.Addr.Compare(b.Addr) })
	return out, err
}

// Groups returns the nexthop groups the loop owns, by ID. An entry's Refs
// counts, as FRR's RefCnt, the users of the group: the MACs whose routes
// carry the ESI of the ES whose group it is (a remote ES's group, or a
// local ES's backup group); a MAC whose entry points at one VTEP instead
// (its ES not yet resolved) still counts.
func (c *Controller) Groups(ctx context.Context) ([]nhg.Entry, error) {
	var out []nhg.Entry
	err := c.do(ctx, func(k *core) error {
		out = k.groups.Entries()
		users := make(map[uint32]int, len(k.ess))
		for _, e := range k.ess {
			for _, id := range []uint32{e.group, e.backup} {
				if id != 0 {
					users[id] += len(e.macs)
				}
			}
		}
		for i := range out {
			out[i].Refs += users[out[i].Group.ID]
		}
		return nil
	})
	slices.SortFunc(out, func(a, b nhg.Entry) int { return int(a.Group.ID) - int(b.Group.ID) })
	return out, err
}

// Routes returns the RIB's paths of type t (0: all), sorted by route key.
func (c *Controller) Routes(ctx context.Context, t evpn.RouteType) ([]evpn.Path, error) {
	var out []evpn.Path
	err := c.do(ctx, func(k *core) error {
		for _, p := range k.rib {
			if t == 0 || p.Route.Type() == t {
				out = append(out, p)
			}
		}
		if t == 0 || t == evpn.RouteTypeMACIP {
			k.eachMAC(func(m *mac) {
				for i := range m.paths {
					out = append(out, m.path(i))
				}
			})
		}
		return nil
	})
	keys := make(map[evpn.RouteKey]string, len(out))
	for _, p := range out {
		keys[p.Route.Key()] = p.Route.String()
	}
	slices.SortFunc(out, func(a, b evpn.Path) int {
		if a.Route.Type() != b.Route.Type() {
			return int(a.Route.Type()) - int(b.Route.Type())
		}
		ka, kb := keys[a.Route.Key()], keys[b.Route.Key()]
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	return out, err
}

// RouteCounts counts the RIB's paths by route type.
func (c *Controller) RouteCounts(ctx context.Context) (map[evpn.RouteType]int, error) {
	out := map[evpn.RouteType]int{}
	err := c.do(ctx, func(k *core) error {
		for _, p := range k.rib {
			out[p.Route.Type()]++
		}
		if k.nMACPaths > 0 {
			out[evpn.RouteTypeMACIP] = k.nMACPaths
		}
		return nil
	})
	return out, err
}

// Flood returns each bridge domain's flood list: the remote VTEPs that
// sent a type-3 route for it.
func (c *Controller) Flood(ctx context.Context) (map[uint32][]netip.Addr, error) {
	out := map[uint32][]netip.Addr{}
	err := c.do(ctx, func(k *core) error {
		for bd := range k.bds {
			var l []netip.Addr
			for a := range k.flood[bd] {
				l = append(l, a)
			}
			slices.SortFunc(l, func(a, b netip.Addr) int { return a.Compare(b) })
			out[bd] = l
		}
		return nil
	})
	return out, err
}

// Counts is the size of the loop's state.
type Counts struct {
	Routes, MACs, ESes, VTEPs, Groups int
}

// Counts returns the size of the loop's state.
func (c *Controller) Counts(ctx context.Context) (Counts, error) {
	var n Counts
	err := c.do(ctx, func(k *core) error {
		n = Counts{Routes: len(k.rib) + k.nMACPaths, MACs: k.nMACs, ESes: len(k.ess), VTEPs: len(k.vteps), Groups: k.groups.Len()}
		return nil
	})
	return n, err
}
