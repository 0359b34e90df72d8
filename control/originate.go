package control

import (
	"net/netip"
	"slices"

	"github.com/fwdplane/fwd/evpn"
)

// The routes this node advertises:
//   - type-3 (IMET) for every BD, for ingress replication;
//   - for every local ES whose port and uplinks are up: EAD-per-ES,
//     EAD-per-EVI for every BD, and type-4 with our DF candidacy;
//   - type-2 for every MAC learned locally, with its mobility sequence
//     number and, on an ES, the ESI.
//
// They are recomputed per object, only for the objects an event touched
// (origES, origMAC), so that an event costs the same with 1k or 1M MACs.

func (c *core) nextHop() netip.Addr {
	if c.cfg.VTEP4.IsValid() {
		return c.cfg.VTEP4
	}
	return c.cfg.VTEP6
}

func (c *core) localRD(n uint32) evpn.RD {
	nh := c.nextHop()
	if nh.Is4() {
		if r, err := evpn.RDIPv4(nh, uint16(n)); err == nil {
			return r
		}
	}
	a := nh.As16()
	return evpn.RDAS4(uint32(a[15])<<8|uint32(a[14]), uint16(n))
}

func (c *core) localPath(r evpn.Route, a evpn.Attrs) evpn.Path {
	a.NextHop = c.nextHop()
	return evpn.Path{Route: r, Attrs: a, Source: evpn.SourceLocal}
}

func (c *core) sortedBDs() []uint32 {
	bds := make([]uint32, 0, len(c.bds))
	for bd := range c.bds {
		bds = append(bds, bd)
	}
	slices.Sort(bds)
	return bds
}

func (c *core) bdRoutes() []evpn.Path {
	var out []evpn.Path
	for _, bd := range c.sortedBDs() {
		out = append(out, c.localPath(evpn.IMETRoute{RD: c.localRD(bd), EthernetTag: bd, OriginatorIP: c.nextHop()}, evpn.Attrs{}))
	}
	return out
}

func (c *core) esRoutes(e *es) []evpn.Path {
	if e.local == nil || !e.up() || !c.uplinksUp() {
		return nil
	}
	out := []evpn.Path{c.localPath(evpn.EADRoute{RD: c.localRD(0), ESI: e.esi, EthernetTag: evpn.MaxET}, evpn.Attrs{})}
	for _, bd := range c.sortedBDs() {
		out = append(out, c.localPath(evpn.EADRoute{RD: c.localRD(bd), ESI: e.esi, Label: bd}, evpn.Attrs{}))
	}
	pref := e.local.DFPref
	if pref == 0 {
		pref = evpn.DefaultDFPref
	}
	return append(out, c.localPath(evpn.ESRoute{RD: c.localRD(0), ESI: e.esi, OriginatorIP: c.nextHop()},
		evpn.Attrs{DFElection: evpn.DFElection{Alg: e.local.DFAlg, Pref: pref}}))
}

func (c *core) macRoutes(mk macKey) []evpn.Path {
	m := c.macOf(mk)
	if m == nil || m.local == nil {
		return nil
	}
	r := evpn.MACIPRoute{RD: c.localRD(mk.vni), MAC: mk.mac, Label1: mk.vni}
	if m.local.es != nil {
		r.ESI = m.local.es.esi
	}
	return []evpn.Path{c.localPath(r, evpn.Attrs{MACMobility: evpn.MACMobility{Seq: m.local.seq}})}
}

// originate sends the sink what changed in the routes of the objects
// touched since the last call.
func (c *core) originate() {
	if c.sink == nil {
		clear(c.origES)
		clear(c.origMAC)
		c.origBDs = false
		return
	}
	var diff []evpn.Path
	update := func(old []evpn.RouteKey, now []evpn.Path) []evpn.RouteKey {
		keys := make([]evpn.RouteKey, 0, len(now))
		for _, p := range now {
			k := p.Route.Key()
			keys = append(keys, k)
			if prev, ok := c.advertised[k]; !ok || !prev.Attrs.Equal(p.Attrs) || prev.Route != p.Route {
				c.advertised[k] = p
				diff = append(diff, p)
			}
		}
		for _, k := range old {
			if !slices.Contains(keys, k) {
				diff = append(diff, c.advertised[k].Withdrawal())
				delete(c.advertised, k)
			}
		}
		return keys
	}
	if c.origBDs {
		c.advBD = update(c.advBD, c.bdRoutes())
		c.origBDs = false
	}
	for esi := range c.origES {
		var now []evpn.Path
		if e := c.ess[esi]; e != nil {
			now = c.esRoutes(e)
		}
		c.advES[esi] = update(c.advES[esi], now)
	}
	clear(c.origES)
	for mk := range c.origMAC {
		c.advMAC[mk] = update(c.advMAC[mk], c.macRoutes(mk))
	}
	clear(c.origMAC)
	if len(diff) > 0 {
		slices.SortFunc(diff, func(a, b evpn.Path) int { return compareKeys(a.Route.Key(), b.Route.Key()) })
		c.sink.Originate(diff)
	}
}

func compareKeys(a, b evpn.RouteKey) int {
	if a.Type != b.Type {
		return int(a.Type) - int(b.Type)
	}
	if c := slices.Compare(a.RD[:], b.RD[:]); c != 0 {
		return c
	}
	if c := slices.Compare(a.ESI[:], b.ESI[:]); c != 0 {
		return c
	}
	if a.EthernetTag != b.EthernetTag {
		if a.EthernetTag < b.EthernetTag {
			return -1
		}
		return 1
	}
	if c := slices.Compare(a.MAC[:], b.MAC[:]); c != 0 {
		return c
	}
	return a.IP.Compare(b.IP)
}
