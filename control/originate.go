package control

import (
	"slices"

	"github.com/fwdplane/fwd/evpn"
)

// originated computes the routes this node advertises now:
//   - type-3 (IMET) for every BD, for ingress replication;
//   - for every local ES whose port and uplinks are up: EAD-per-ES,
//     EAD-per-EVI for every BD, and type-4 with our DF candidacy;
//   - type-2 for every MAC learned locally, with its mobility sequence
//     number and, on an ES, the ESI.
func (c *core) originated() map[evpn.RouteKey]evpn.Path {
	out := map[evpn.RouteKey]evpn.Path{}
	nh := c.cfg.VTEP4
	if !nh.IsValid() {
		nh = c.cfg.VTEP6
	}
	rd := func(n uint32) evpn.RD {
		if nh.Is4() {
			r, err := evpn.RDIPv4(nh, uint16(n))
			if err == nil {
				return r
			}
		}
		return evpn.RDAS4(uint32(nh.As16()[15])<<8|uint32(nh.As16()[14]), uint16(n))
	}
	add := func(r evpn.Route, a evpn.Attrs) {
		a.NextHop = nh
		out[r.Key()] = evpn.Path{Route: r, Attrs: a, Source: evpn.SourceLocal}
	}
	bds := make([]uint32, 0, len(c.bds))
	for bd := range c.bds {
		bds = append(bds, bd)
	}
	slices.Sort(bds)
	for _, bd := range bds {
		add(evpn.IMETRoute{RD: rd(bd), EthernetTag: bd, OriginatorIP: nh}, evpn.Attrs{})
	}
	for _, e := range c.byPort {
		if !e.portUp || !c.uplinksUp() {
			continue
		}
		add(evpn.EADRoute{RD: rd(0), ESI: e.esi, EthernetTag: evpn.MaxET}, evpn.Attrs{})
		for _, bd := range bds {
			add(evpn.EADRoute{RD: rd(bd), ESI: e.esi, Label: bd}, evpn.Attrs{})
		}
		pref := e.local.DFPref
		if pref == 0 {
			pref = evpn.DefaultDFPref
		}
		add(evpn.ESRoute{RD: rd(0), ESI: e.esi, OriginatorIP: nh},
			evpn.Attrs{DFElection: evpn.DFElection{Alg: e.local.DFAlg, Pref: pref}})
	}
	for mk, m := range c.macs {
		if m.local == nil {
			continue
		}
		r := evpn.MACIPRoute{RD: rd(mk.vni), MAC: mk.mac, Label1: mk.vni}
		if m.local.es != nil {
			r.ESI = m.local.es.esi
		}
		add(r, evpn.Attrs{MACMobility: evpn.MACMobility{Seq: m.local.seq}})
	}
	return out
}

// originate sends the sink the difference since the last call.
func (c *core) originate() {
	if c.sink == nil {
		return
	}
	now := c.originated()
	var diff []evpn.Path
	for k, p := range now {
		if old, ok := c.advertised[k]; !ok || !old.Attrs.Equal(p.Attrs) || old.Route != p.Route {
			diff = append(diff, p)
		}
	}
	for k, p := range c.advertised {
		if _, ok := now[k]; !ok {
			diff = append(diff, evpn.Path{Route: p.Route, Source: evpn.SourceLocal, Withdraw: true})
		}
	}
	c.advertised = now
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
