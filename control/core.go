package control

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/nhg"
	"github.com/fwdplane/fwd/vxlan"
)

// macKey names a MAC in a bridge domain.
type macKey struct {
	vni uint32
	mac evpn.MAC
}

// vtep is a remote VTEP some route points at.
type vtep struct {
	addr  netip.Addr
	nh    uint32
	refs  int
	ul    vxlan.Underlay
	ready bool // its nexthop entry is written
}

// esPeer is what one remote PE advertised for an ES.
type esPeer struct {
	eadES  bool
	evis   int
	df     *evpn.Candidate // from its type-4 route
	hasES4 bool
}

// es is an Ethernet Segment: local (configured) or remote (seen in routes).
type es struct {
	esi   evpn.ESI
	id    uint32
	local *LocalES
	paths map[evpn.RouteKey]struct{} // type-1 and type-4 paths with this ESI
	macs  map[macKey]struct{}        // MACs whose routes carry this ESI
	group uint32                     // remote ES: its L2 group of active PEs
	// members are the PEs the group was built for; staged holds, per
	// member, the group's version without it, written ahead in a spare
	// slot: that PE's EAD-per-ES withdraw is then one atomic store.
	members []netip.Addr
	staged  map[netip.Addr]stagedGroup
	backup  uint32              // local ES: its group of ES peers
	peers   map[netip.Addr]bool // es_peers entries written

	portUp     bool
	adminDown  bool // held down by an operator (fwd es down)
	upSince    time.Time
	df         bool
	dfCheckAt  time.Time
	written    dataplane.ES
	hasWritten bool
}

// stagedGroup is a group version waiting in a spare slot.
type stagedGroup struct {
	h       dataplane.StagedGroup
	buckets []nhg.Bucket
}

// mac is the state of one MAC in one BD.
type mac struct {
	paths     []macPath // its type-2 paths (their RIB: core.rib holds the other types): one, or a few while it moves
	local     *localMAC
	installed *dataplane.FDBEntry // nil, or &entry

	key   macKey
	dirty bool // queued in core.dirtyMAC
	// next is the same address's state in another BD: core.macs is
	// keyed by the address, so that a type-2 route is found by its
	// NLRI (RD, tag, MAC, IP) in whatever BD its label put it.
	next *mac
	// esis are the ESes whose macs set holds this MAC (flushMAC drops
	// those it no longer uses).
	esis []evpn.ESI

	// path0 and entry hold the common MAC's one path and its entry in
	// place, so that such a MAC is one small allocation.
	path0 [1]macPath
	entry dataplane.FDBEntry
}

// macPath is one of a MAC's type-2 paths: its RIB key (less the MAC) and
// what choosing and installing the MAC's entry needs of it, so that a
// flush reads no RIB.
type macPath struct {
	rd      evpn.RD
	tag     uint32
	ip      netip.Addr
	nextHop netip.Addr
	esi     evpn.ESI
	seq     uint32
	sticky  bool
	router  bool
	// label1 and label2 are the route's labels, src its source: with the
	// fields above, all of the path that forwarding and the views use.
	// (Type-2 paths are kept here only, not in core.rib.)
	label1, label2 uint32
	src            evpn.Source
}

func newMACPath(r evpn.MACIPRoute, a *evpn.Attrs, src evpn.Source) macPath {
	return macPath{rd: r.RD, tag: r.EthernetTag, ip: r.IP,
		nextHop: a.NextHop, esi: r.ESI, seq: a.MACMobility.Seq, sticky: a.MACMobility.Sticky, router: a.Router,
		label1: r.Label1, label2: r.Label2, src: src}
}

// path is m's i-th path as an evpn.Path.
func (m *mac) path(i int) evpn.Path {
	p := &m.paths[i]
	return evpn.Path{
		Route:  evpn.MACIPRoute{RD: p.rd, ESI: p.esi, EthernetTag: p.tag, MAC: m.key.mac, IP: p.ip, Label1: p.label1, Label2: p.label2},
		Attrs:  evpn.Attrs{NextHop: p.nextHop, MACMobility: evpn.MACMobility{Seq: p.seq, Sticky: p.sticky}, Router: p.router},
		Source: p.src,
	}
}

// is reports whether p is the path with RIB key k.
func (p *macPath) is(k *evpn.RouteKey) bool {
	return p.rd == k.RD && p.tag == k.EthernetTag && p.ip == k.IP
}

// routeKey is p's key in the RIB; m is the MAC it is about.
func (p *macPath) routeKey(m evpn.MAC) evpn.RouteKey {
	return evpn.RouteKey{Type: evpn.RouteTypeMACIP, RD: p.rd, EthernetTag: p.tag, MAC: m, IP: p.ip}
}

// pathIndex is the index in m.paths of the path with key k, or -1.
func (m *mac) pathIndex(k *evpn.RouteKey) int {
	for i := range m.paths {
		if m.paths[i].is(k) {
			return i
		}
	}
	return -1
}

// macOf is the state of MAC mk, or nil.
func (c *core) macOf(mk macKey) *mac {
	m := c.macs.get(mk.mac)
	for m != nil && m.key.vni != mk.vni {
		m = m.next
	}
	return m
}

// newMAC adds the state of MAC mk.
func (c *core) newMAC(mk macKey) *mac {
	var m *mac
	if n := len(c.freeMACs); n > 0 {
		m, c.freeMACs = c.freeMACs[n-1], c.freeMACs[:n-1]
		m.key, m.next = mk, c.macs.get(mk.mac)
	} else {
		m = &mac{key: mk, next: c.macs.get(mk.mac)}
	}
	m.paths = m.path0[:0]
	c.macs.set(mk.mac, m)
	c.nMACs++
	return m
}

// dropMAC forgets m.
func (c *core) dropMAC(m *mac) {
	if head := c.macs.get(m.key.mac); head == m {
		if m.next == nil {
			c.macs.del(m.key.mac)
		} else {
			c.macs.set(m.key.mac, m.next)
		}
	} else {
		for p := head; p != nil; p = p.next {
			if p.next == m {
				p.next = m.next
				break
			}
		}
	}
	m.next = nil
	c.nMACs--
	// Keep it for reuse: a mass withdraw followed by the same routes again
	// (a BGP session reset) then allocates nothing, and the MACs in use
	// and kept never outnumber the most there have been.
	*m = mac{}
	c.freeMACs = append(c.freeMACs, m)
}

// eachMAC calls fn for every MAC, in no particular order.
func (c *core) eachMAC(fn func(*mac)) {
	// From a list of the chains: fn may drop the MAC it is given (a
	// flush), which moves entries of the table and unlinks m.next.
	heads := make([]*mac, 0, c.macs.len())
	c.macs.each(func(m *mac) { heads = append(heads, m) })
	for _, m := range heads {
		for m != nil {
			next := m.next
			fn(m)
			m = next
		}
	}
}

// markMAC queues m for the next flush.
func (c *core) markMAC(m *mac) {
	if !m.dirty {
		m.dirty = true
		c.dirtyMAC = append(c.dirtyMAC, m)
	}
}

// addMACToES records that MAC m uses ES e.
func (c *core) addMACToES(m *mac, e *es) {
	e.macs[m.key] = struct{}{}
	if !slices.Contains(m.esis, e.esi) {
		m.esis = append(m.esis, e.esi)
	}
}

// localMAC is a MAC learned on a local port.
type localMAC struct {
	ifindex uint32
	es      *es
	seq     uint32
}

// Stats count what the loop did.
type Stats struct {
	PathsAdded, PathsWithdrawn, Duplicates, UnknownWithdraws, Ignored uint64
	FDBWrites, GroupWrites, ESWrites, NextHopWrites, DownBitFlips     uint64
	WriteErrors                                                       uint64
	// StagedSwitches counts mass withdraws done by activating a staged
	// version; SettleRewrites counts those the group table then disagreed
	// with (it should stay 0).
	StagedSwitches, SettleRewrites uint64
}

// core is the loop's state. It is not safe for concurrent use: only the
// loop goroutine (or a test) touches it.
type core struct {
	cfg  Config
	dp   Dataplane
	ul   Underlay
	sink RouteSink
	log  *slog.Logger
	now  func() time.Time
	// timer asks for a flush at t (the DF delay); the loop implements it.
	timer func(t time.Time)

	bds map[uint32]bool
	// rib holds the paths of every type but 2 (see applyMAC).
	rib    map[evpn.RouteKey]evpn.Path
	vteps  map[netip.Addr]*vtep
	nhIDs  *nhg.IDAllocator
	groups *nhg.Table
	// heldGroups is the bucket table each group has in the fast path.
	heldGroups map[uint32][]nhg.Bucket
	esIDs      idPool
	ess        map[evpn.ESI]*es
	byPort     map[uint32]*es
	macs       macTable // by address; see mac.next
	nMACs      int      // MACs in all BDs
	freeMACs   []*mac   // dropped MACs kept for reuse (dropMAC): at most the peak of nMACs
	nMACPaths  int      // type-2 paths (kept in their MACs, not in rib)
	flood      map[uint32]map[netip.Addr]int
	uplinks    map[uint32]bool

	// What the sink was told, and per object which keys: see originate.
	advertised map[evpn.RouteKey]evpn.Path
	advBD      []evpn.RouteKey
	advES      map[evpn.ESI][]evpn.RouteKey
	advMAC     map[macKey][]evpn.RouteKey
	origBDs    bool
	origES     map[evpn.ESI]struct{}
	origMAC    map[macKey]struct{}

	// deferred is the group bookkeeping of staged switches: it runs after
	// the caller has its answer, and before the next change (flush).
	deferred []func()
	// staging lists the remote ESes whose versions without each PE wait
	// to be staged, oldest first (stagingSet dedupes). Staging is done a
	// version at a time while nobody waits (stageOne), and only ever
	// speeds up a later switch: an ES that is not fully staged when one
	// of its PEs goes takes the ordinary path (one group write all the
	// same).
	staging    []evpn.ESI
	stagingSet map[evpn.ESI]struct{}

	dirtyES map[evpn.ESI]struct{}
	// dirtyMAC lists the MACs to recompute (each once: mac.dirty).
	dirtyMAC []*mac
	// fdbBatch gathers a flush's FDB entries for one dataplane call.
	fdbBatch fdbBatch
	stats    Stats
	// pinned is what a previous instance left, until ReleasePinned.
	pinned *Pinned
	// early is what switchFirst left for before the next change;
	// deferFlush says the call's flush waits too.
	early      []func()
	deferFlush bool
	// pendingFlush: a flush waits for the loop (see Controller.do).
	pendingFlush bool
	// ribRoom: see grown.
	ribRoom int
}

func newCore(cfg Config, dp Dataplane, ul Underlay, sink RouteSink) (*core, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	groups, err := nhg.NewTable(nil)
	if err != nil {
		return nil, err
	}
	c := &core{
		cfg: cfg, dp: dp, ul: ul, sink: sink, log: cfg.Logger, now: time.Now, timer: func(time.Time) {},
		bds: map[uint32]bool{}, rib: map[evpn.RouteKey]evpn.Path{}, vteps: map[netip.Addr]*vtep{},
		nhIDs: nhg.NewNextHopIDAllocator(), groups: groups, esIDs: newIDPool(1, dataplane.MaxES-1),
		ess: map[evpn.ESI]*es{}, byPort: map[uint32]*es{},
		flood: map[uint32]map[netip.Addr]int{}, uplinks: map[uint32]bool{},
		dirtyES: map[evpn.ESI]struct{}{}, stagingSet: map[evpn.ESI]struct{}{},
		heldGroups: map[uint32][]nhg.Bucket{},
		advertised: map[evpn.RouteKey]evpn.Path{}, advES: map[evpn.ESI][]evpn.RouteKey{}, advMAC: map[macKey][]evpn.RouteKey{},
		origBDs: true, origES: map[evpn.ESI]struct{}{}, origMAC: map[macKey]struct{}{},
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if cfg.Pinned != nil {
		c.reservePinned(cfg.Pinned)
	}
	for _, bd := range cfg.BDs {
		c.bds[bd] = true
		if err := dp.SetBD(bd); err != nil {
			return nil, fmt.Errorf("bridge domain %d: %w", bd, err)
		}
	}
	for _, u := range cfg.Uplinks {
		c.uplinks[u] = true
	}
	for _, a := range []netip.Addr{cfg.VTEP4, cfg.VTEP6} {
		if a.IsValid() {
			if err := dp.SetVTEP(a, dataplane.VTEPLocal); err != nil {
				return nil, fmt.Errorf("local VTEP %s: %w", a, err)
			}
		}
	}
	for i := range cfg.ESes {
		l := cfg.ESes[i]
		e := c.es(l.ESI)
		e.local = &l
		e.portUp = true
		e.upSince = c.now()
		c.byPort[l.Ifindex] = e
		c.dirtyES[l.ESI] = struct{}{}
		c.origES[l.ESI] = struct{}{}
	}
	c.flush()
	return c, nil
}

// es returns the ES for esi, creating it with a fresh id.
func (c *core) es(esi evpn.ESI) *es {
	if e := c.ess[esi]; e != nil {
		return e
	}
	e := &es{esi: esi, paths: map[evpn.RouteKey]struct{}{}, macs: map[macKey]struct{}{}, peers: map[netip.Addr]bool{},
		staged: map[netip.Addr]stagedGroup{}}
	c.ess[esi] = e
	return e
}

// reserveMin is the smallest batch reserve sizes the tables for.
const reserveMin = 1024

// reserve makes room in the RIB and the MAC table for a batch about to be
// applied, so that a mass injection grows each table once instead of
// doubling its way up (every doubling rehashes and copies what the table
// holds, and leaves the old table to the garbage collector). A table is
// rebuilt only when the batch would at least half fill it again: then the
// copy costs less than the growth it saves.
func (c *core) reserve(paths []evpn.Path) {
	if len(paths) < reserveMin {
		return
	}
	routes, macs := 0, 0
	for i := range paths {
		if paths[i].Withdraw {
			continue
		}
		if _, ok := paths[i].Route.(evpn.MACIPRoute); ok {
			macs++
		} else {
			routes++
		}
	}
	c.reserveN(routes, macs)
}

// reserveDirty makes room in the dirty list for a batch of n paths, each
// of which may mark a MAC: the list then does not double its way up.
func (c *core) reserveDirty(n int) {
	if n >= reserveMin {
		c.dirtyMAC = slices.Grow(c.dirtyMAC, n)
	}
}

// reserveN makes room for routes more RIB entries and macs more MACs.
func (c *core) reserveN(routes, macs int) {
	c.rib = grown(c.rib, routes, &c.ribRoom)
	if macs >= reserveMin {
		c.macs.reserve(macs)
	}
}

// grown returns m, or a copy of it with room for n more entries when n is
// large against what it holds. room remembers the most entries m has had
// room for: Go's maps never shrink, so a table that held that many (a
// batch withdrawn and announced again) is not rebuilt.
func grown[K comparable, V any](m map[K]V, n int, room *int) map[K]V {
	*room = max(*room, len(m))
	if n < reserveMin || n < len(m)/2 || len(m)+n <= *room {
		return m
	}
	g := make(map[K]V, len(m)+n)
	for k, v := range m {
		g[k] = v
	}
	*room = len(m) + n
	return g
}

// apply takes one path into the RIB and marks what it touches.
func (c *core) apply(p evpn.Path) error {
	if err := p.Validate(); err != nil {
		c.stats.Ignored++
		return err
	}
	if r, ok := p.Route.(evpn.MACIPRoute); ok {
		c.applyMAC(&p, r)
		return nil
	}
	key := p.Route.Key()
	old, had := c.rib[key]
	if p.Withdraw {
		if !had {
			c.stats.UnknownWithdraws++
			return nil
		}
		delete(c.rib, key)
		c.stats.PathsWithdrawn++
		c.unindex(key, old)
		return nil
	}
	if had && old.Attrs.Equal(p.Attrs) && old.Route == p.Route {
		c.stats.Duplicates++
		return nil
	}
	c.rib[key] = p
	c.stats.PathsAdded++
	c.index(key, p)
	if had {
		c.unindex(key, old)
	}
	return nil
}

// switchFirst is the mass withdraw done before anything else, for a call
// whose one path p is an EAD-per-ES withdraw that takes a remote ES's
// member away while the group's version without it is staged: it
// activates that version (one atomic store) and leaves the rest (the
// path's own application, the group table's bookkeeping, restaging, the
// flush) in c.early, which runs before the next change or while nobody
// waits. It reports whether it switched; if not, p takes the ordinary way.
func (c *core) switchFirst(p evpn.Path) bool {
	r, ok := p.Route.(evpn.EADRoute)
	if !ok || !p.Withdraw || !r.PerES() || p.Validate() != nil {
		return false
	}
	key := r.Key()
	old, ok := c.rib[key]
	e := c.ess[r.ESI]
	if !ok || e == nil || e.local != nil || e.group == 0 {
		return false
	}
	pe := old.Attrs.NextHop
	if _, ok := e.staged[pe]; !ok || !slices.Contains(e.members, pe) {
		return false
	}
	for k := range e.paths { // another EAD-per-ES route keeps it active
		if k != key && k.Type == evpn.RouteTypeEAD && k.EthernetTag == evpn.MaxET && c.rib[k].Attrs.NextHop == pe {
			return false
		}
	}
	active := slices.DeleteFunc(slices.Clone(e.members), func(a netip.Addr) bool { return a == pe })
	st, ok := c.activateStaged(e, pe, active)
	if !ok {
		return false
	}
	c.early = append(c.early, func() {
		c.afterSwitch(e, active, st)
		_ = c.apply(p) // the RIB and indexes follow; the flush finds the group as it wants it
	})
	return true
}

// runEarly does what switchFirst left, in order.
func (c *core) runEarly() {
	for len(c.early) > 0 {
		jobs := c.early
		c.early = nil
		for _, j := range jobs {
			j()
		}
	}
}

// applyMAC takes a type-2 path. Its RIB is its MAC: the path is found by
// its NLRI among the address's MACs in every BD (a route whose label moved
// it to another BD replaces its old self there), so a type-2 route costs
// one lookup by address, not a RIB entry of its own.
func (c *core) applyMAC(p *evpn.Path, r evpn.MACIPRoute) {
	key := r.Key()
	var om *mac
	oi := -1
	for m := c.macs.get(r.MAC); m != nil && oi < 0; m = m.next {
		if oi = m.pathIndex(&key); oi >= 0 {
			om = m
		}
	}
	if p.Withdraw {
		if om == nil {
			c.stats.UnknownWithdraws++
			return
		}
		c.dropPath(om, oi)
		c.stats.PathsWithdrawn++
		return
	}
	np := newMACPath(r, &p.Attrs, p.Source)
	mk := macKey{vni: macVNI(r), mac: r.MAC}
	if om != nil && om.key == mk && om.paths[oi] == np {
		c.stats.Duplicates++
		return
	}
	c.stats.PathsAdded++
	c.ref(np.nextHop) // before the old path's unref: the VTEP may stay
	if om != nil && om.key == mk {
		old := om.paths[oi]
		om.paths[oi] = np
		c.unrefPath(om, &old)
	} else {
		if om != nil {
			c.dropPath(om, oi)
		}
		m := c.macOf(mk)
		if m == nil {
			m = c.newMAC(mk)
		}
		m.paths = append(m.paths, np)
		c.nMACPaths++
		om = m
	}
	if !r.ESI.IsZero() {
		c.addMACToES(om, c.es(r.ESI))
	}
	c.markMAC(om)
}

// dropPath removes m's i-th path.
func (c *core) dropPath(m *mac, i int) {
	old := m.paths[i]
	m.paths = slices.Delete(m.paths, i, i+1)
	c.nMACPaths--
	c.unrefPath(m, &old)
}

// unrefPath undoes what path p of m held: its VTEP, and the flush of m
// and of the ES it named (which may have lost its last user).
func (c *core) unrefPath(m *mac, p *macPath) {
	c.markMAC(m)
	if !p.esi.IsZero() {
		if e := c.ess[p.esi]; e != nil {
			c.dirtyES[p.esi] = struct{}{}
		}
	}
	c.unref(p.nextHop)
}

// index records p (any type but 2: see applyMAC) under the objects it
// affects and references its VTEP.
func (c *core) index(key evpn.RouteKey, p evpn.Path) {
	c.ref(p.Attrs.NextHop)
	switch r := p.Route.(type) {
	case evpn.EADRoute:
		e := c.es(r.ESI)
		e.paths[key] = struct{}{}
		c.dirtyES[r.ESI] = struct{}{}
	case evpn.ESRoute:
		e := c.es(r.ESI)
		e.paths[key] = struct{}{}
		c.dirtyES[r.ESI] = struct{}{}
	case evpn.IMETRoute:
		vni := r.EthernetTag
		if c.flood[vni] == nil {
			c.flood[vni] = map[netip.Addr]int{}
		}
		c.flood[vni][p.Attrs.NextHop]++
	}
}

// unindex undoes index for a path that left the RIB (or was replaced).
func (c *core) unindex(key evpn.RouteKey, p evpn.Path) {
	switch r := p.Route.(type) {
	case evpn.EADRoute, evpn.ESRoute:
		esi := routeESI(r)
		if _, still := c.rib[key]; !still {
			delete(c.ess[esi].paths, key)
		}
		c.dirtyES[esi] = struct{}{}
	case evpn.IMETRoute:
		if f := c.flood[r.EthernetTag]; f != nil {
			if f[p.Attrs.NextHop]--; f[p.Attrs.NextHop] <= 0 {
				delete(f, p.Attrs.NextHop)
			}
		}
	}
	c.unref(p.Attrs.NextHop)
}

func routeESI(r evpn.Route) evpn.ESI {
	switch r := r.(type) {
	case evpn.EADRoute:
		return r.ESI
	case evpn.ESRoute:
		return r.ESI
	case evpn.MACIPRoute:
		return r.ESI
	}
	return evpn.ESI{}
}

// macVNI is the BD a type-2 route belongs to: its L2 VNI label (GoBGP and
// FRR carry the VNI as the label), or its Ethernet tag when the label is 0.
func macVNI(r evpn.MACIPRoute) uint32 {
	if r.Label1 != 0 {
		return r.Label1
	}
	return r.EthernetTag
}

// ref counts one more route through VTEP a, creating its nexthop.
func (c *core) ref(a netip.Addr) {
	if !a.IsValid() || c.isLocal(a) {
		return
	}
	if v := c.vteps[a]; v != nil {
		v.refs++
		return
	}
	v := &vtep{addr: a, refs: 1}
	c.vteps[a] = v
	id, err := c.nhIDs.Alloc(nhg.EVPNL2)
	if err != nil {
		c.log.Error("no nexthop id for VTEP", "vtep", a, "err", err)
		return
	}
	v.nh = id
	// Down until the underlay says how to reach it.
	c.write(c.dp.SetNextHopDown(id, true), &c.stats.DownBitFlips)
	c.write(c.dp.SetVTEP(a, dataplane.VTEPRemote), nil)
	if c.ul != nil {
		u, err := c.ul.Watch(a)
		if err != nil {
			c.log.Warn("VTEP underlay not watched", "vtep", a, "err", err)
			return
		}
		c.underlay(u)
	}
}

func (c *core) unref(a netip.Addr) {
	v := c.vteps[a]
	if v == nil {
		return
	}
	v.refs--
	// The nexthop goes when the flush is done with it (see releaseVTEPs).
}

func (c *core) isLocal(a netip.Addr) bool {
	a = a.Unmap()
	return a == c.cfg.VTEP4 || a == c.cfg.VTEP6
}

// underlay applies a resolution result for a VTEP.
func (c *core) underlay(u vxlan.Underlay) {
	v := c.vteps[u.VTEP]
	if v == nil || v.nh == 0 {
		return
	}
	v.ul = u
	if !u.Reachable {
		// Tier 1: one bit; buckets move to their backups at once.
		c.write(c.dp.SetNextHopDown(v.nh, true), &c.stats.DownBitFlips)
		return
	}
	nh := dataplane.NextHop{Src: c.cfg.localVTEP(u.VTEP), Dst: u.VTEP, Ifindex: uint32(u.Ifindex), SrcMAC: u.SrcMAC, DstMAC: u.DstMAC}
	if err := c.dp.SetNextHop(v.nh, nh); err != nil {
		c.write(err, nil)
		return
	}
	c.stats.NextHopWrites++
	v.ready = true
	c.write(c.dp.SetNextHopDown(v.nh, false), &c.stats.DownBitFlips)
}

// write counts a dataplane write and logs its error.
func (c *core) write(err error, ctr *uint64) {
	if err != nil {
		c.stats.WriteErrors++
		c.log.Error("dataplane write", "err", err)
		return
	}
	if ctr != nil {
		*ctr++
	}
}

// flush recomputes what the applied paths and events touched: ESes first
// (MACs point at them), then MACs, then VTEPs no route uses any more.
func (c *core) flush() {
	c.settleGroups() // what an earlier call left for after its answer
	for _, esi := range sortedKeys(c.dirtyES, func(a, b evpn.ESI) int { return slices.Compare(a[:], b[:]) }) {
		delete(c.dirtyES, esi)
		c.flushES(esi)
	}
	// MACs in the order they were touched: each one's writes depend only
	// on its own state and on the ESes flushed above. The new entries go
	// to the fast path in batches, all of them before the ESes below lose
	// their last users.
	dirty := c.dirtyMAC
	c.dirtyMAC = nil
	for i, m := range dirty {
		dirty[i] = nil
		m.dirty = false
		c.flushMAC(m)
	}
	c.writeFDBBatch()
	if c.dirtyMAC == nil && cap(dirty) <= maxKeptDirty {
		c.dirtyMAC = dirty[:0]
	}
	// ESes that lost their last user after the MACs moved off them.
	for _, esi := range sortedKeys(c.dirtyES, func(a, b evpn.ESI) int { return slices.Compare(a[:], b[:]) }) {
		delete(c.dirtyES, esi)
		c.flushES(esi)
	}
	c.releaseVTEPs()
}

func compareMACKey(a, b macKey) int {
	if a.vni != b.vni {
		return cmp.Compare(a.vni, b.vni)
	}
	return slices.Compare(a.mac[:], b.mac[:])
}

func sortedKeys[K comparable](m map[K]struct{}, less func(a, b K) int) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, less)
	return ks
}

func (c *core) releaseVTEPs() {
	for a, v := range c.vteps {
		if v.refs > 0 {
			continue
		}
		delete(c.vteps, a)
		if c.ul != nil {
			c.ul.Unwatch(a)
		}
		c.write(c.dp.DeleteVTEP(a), nil)
		if v.nh != 0 {
			c.write(c.dp.DeleteNextHop(v.nh), nil)
			c.write(c.dp.SetNextHopDown(v.nh, false), nil)
			_ = c.nhIDs.Free(nhg.EVPNL2, v.nh)
		}
	}
}

// peers computes what each remote PE advertised for e.
func (c *core) peers(e *es) map[netip.Addr]*esPeer {
	out := map[netip.Addr]*esPeer{}
	for key := range e.paths {
		p := c.rib[key]
		a := p.Attrs.NextHop
		if c.isLocal(a) {
			continue
		}
		pe := out[a]
		if pe == nil {
			pe = &esPeer{}
			out[a] = pe
		}
		switch r := p.Route.(type) {
		case evpn.EADRoute:
			if r.PerES() {
				pe.eadES = true
			} else {
				pe.evis++
			}
		case evpn.ESRoute:
			cand := p.Attrs.DFElection.Candidate(a)
			pe.df = &cand
			pe.hasES4 = true
		}
	}
	return out
}

func (c *core) active(pe *esPeer) bool {
	return pe.eadES && (pe.evis > 0 || c.cfg.EADPerESOnly)
}

// groupOf builds, replaces or removes the group with members, returning its id.
func (c *core) groupOf(id uint32, members []netip.Addr) uint32 {
	if len(members) == 0 {
		if id != 0 {
			ch, err := c.groups.Delete(id)
			if err == nil && ch.Op == nhg.OpRemove {
				delete(c.heldGroups, id)
				err = c.dp.DeleteGroup(id)
				_ = c.groups.ReportInstall(id, err)
				c.write(err, &c.stats.GroupWrites)
			}
		}
		return 0
	}
	g := nhg.Group{ID: id, Owner: nhg.EVPNL2}
	for _, a := range members {
		v := c.vteps[a]
		if v == nil || v.nh == 0 {
			continue
		}
		g.Members = append(g.Members, nhg.NextHop{ID: v.nh, VTEP: a})
	}
	if len(g.Members) == 0 {
		return c.groupOf(id, nil)
	}
	ch, err := c.groups.Add(g)
	if err != nil {
		c.log.Error("build group", "group", id, "err", err)
		c.stats.WriteErrors++
		return id
	}
	if ch.Op == nhg.OpReplace && slices.Equal(ch.Buckets, c.heldGroups[ch.ID]) {
		// The fast path holds this table already: no write.
		_ = c.groups.ReportInstall(ch.ID, nil)
		return ch.ID
	}
	if ch.Op == nhg.OpReplace {
		b := make([]dataplane.Bucket, len(ch.Buckets))
		for i, x := range ch.Buckets {
			b[i] = dataplane.Bucket{Primary: x.Primary, Backup: x.Backup}
		}
		_, err = c.dp.ReplaceGroup(ch.ID, b)
		_ = c.groups.ReportInstall(ch.ID, err)
		c.write(err, &c.stats.GroupWrites)
		if err == nil {
			c.heldGroups[ch.ID] = ch.Buckets
		} else {
			delete(c.heldGroups, ch.ID)
		}
	}
	return ch.ID
}

// flushES recomputes an ES: its groups, its DF state and its fast-path entry.
func (c *core) flushES(esi evpn.ESI) {
	e := c.ess[esi]
	if e == nil {
		return
	}
	peers := c.peers(e)
	var active []netip.Addr
	for a, pe := range peers {
		if c.active(pe) {
			active = append(active, a)
		}
	}
	slices.SortFunc(active, func(a, b netip.Addr) int { return a.Compare(b) })

	if e.local == nil && len(e.paths) == 0 && len(e.macs) == 0 {
		// A remote ES nobody mentions any more.
		c.dropStaged(e)
		e.group = c.groupOf(e.group, nil)
		if e.id != 0 {
			c.write(c.dp.DeleteES(e.id), &c.stats.ESWrites)
			c.esIDs.free(e.id)
		}
		delete(c.ess, esi)
		return
	}
	if e.id == 0 {
		id, ok := c.esIDs.alloc()
		if !ok {
			c.log.Error("no ES id left", "esi", esi)
			return
		}
		e.id = id
	}
	var want dataplane.ES
	want.ESI = esi
	if e.local == nil {
		prev := e.group
		if !c.switchStaged(e, active) && !slices.Equal(active, e.members) {
			was := e.members
			e.group = c.groupOf(e.group, active)
			e.members = active
			c.restage(e)
			// A PE that comes back is the likeliest to go again (a
			// flap): its version is staged now, the others after the
			// answer.
			for _, a := range active {
				if e.group != 0 && len(active) >= 2 && !slices.Contains(was, a) {
					if err := c.stageMember(e, a); err != nil {
						c.log.Warn("group version not staged", "group", e.group, "without", a, "err", err)
					}
				}
			}
		}
		want.Group = e.group
		if (prev == 0) != (e.group == 0) {
			// MACs behind the ES switch between the ES and their own VTEP.
			for mk := range e.macs {
				if m := c.macOf(mk); m != nil {
					c.markMAC(m)
				}
			}
		}
	} else {
		e.backup = c.groupOf(e.backup, active)
		want.Flags = dataplane.ESLocal
		want.Ifindex = e.local.Ifindex
		want.BackupGroup = e.backup
		c.syncPeers(e, active)
		nonDF := !c.electDF(e, peers)
		if e.hasWritten && (!e.up() || !c.uplinksUp()) {
			// While the port is down its down bit already sends
			// everything to the ES peers: the fast path's DF flag is
			// moot until the port is back (then the DF delay makes it
			// non-DF anyway), so a port-down event writes nothing
			// beyond its bit.
			nonDF = e.written.Flags&dataplane.ESNonDF != 0
		}
		if nonDF {
			want.Flags |= dataplane.ESNonDF
		}
	}
	if !e.hasWritten || e.written != want {
		// The new ES entry first, then the old groups' removal is safe.
		c.write(c.dp.SetES(e.id, want), &c.stats.ESWrites)
		e.written, e.hasWritten = want, true
	}
}

// syncPeers keeps the fast path's es_peers entries (split horizon and the
// re-encap loop guard) equal to the ES's active peers.
func (c *core) syncPeers(e *es, active []netip.Addr) {
	want := map[netip.Addr]bool{}
	for _, a := range active {
		want[a] = true
		if !e.peers[a] {
			c.write(c.dp.SetESPeer(a, e.id), nil)
			e.peers[a] = true
		}
	}
	for a := range e.peers {
		if !want[a] {
			c.write(c.dp.DeleteESPeer(a, e.id), nil)
			delete(e.peers, a)
		}
	}
}

// electDF runs the DF election for a local ES and reports whether this node
// is the DF. A PE without a type-4 route (GoBGP drops FRR's, see ANCHORS.md)
// counts as a candidate from its EAD-per-ES route at the default preference.
func (c *core) electDF(e *es, peers map[netip.Addr]*esPeer) bool {
	if !e.up() || !c.uplinksUp() {
		e.df = false
		return false
	}
	if ready := e.upSince.Add(c.cfg.DFDelay); c.now().Before(ready) {
		e.df = false
		e.dfCheckAt = ready
		c.timer(ready)
		return false
	}
	us := c.cfg.localVTEP(netip.IPv4Unspecified())
	if !us.IsValid() {
		us = c.cfg.VTEP6
	}
	alg, pref := e.local.DFAlg, e.local.DFPref
	if pref == 0 {
		pref = evpn.DefaultDFPref
	}
	cands := []evpn.Candidate{{VTEP: us, Alg: alg, Pref: pref}}
	for a, pe := range peers {
		switch {
		case pe.df != nil:
			cands = append(cands, *pe.df)
		case pe.eadES:
			cands = append(cands, evpn.Candidate{VTEP: a, Alg: evpn.DFAlgPreference, Pref: evpn.DefaultDFPref})
		}
	}
	winner, err := evpn.Election{Alg: alg, ESI: e.esi}.Elect(cands, 0)
	e.df = err == nil && winner == us
	return e.df
}

func (c *core) uplinksUp() bool {
	if len(c.uplinks) == 0 {
		return true
	}
	for _, up := range c.uplinks {
		if up {
			return true
		}
	}
	return false
}

// bestPath picks a MAC's route: a sticky route first, then the highest MAC
// mobility sequence number, then the lowest VTEP address (RFC 7432 15).
func (c *core) bestPath(m *mac) (evpn.Path, bool) {
	i := c.best(m)
	if i < 0 {
		return evpn.Path{}, false
	}
	return m.path(i), true
}

// best is the index in m.paths of m's best route (see bestPath); -1 when
// no route from a remote VTEP is left.
func (c *core) best(m *mac) int {
	if len(m.paths) == 1 { // the common MAC: nothing to choose
		if c.isLocal(m.paths[0].nextHop) {
			return -1
		}
		return 0
	}
	best := -1
	for i := range m.paths {
		if c.isLocal(m.paths[i].nextHop) {
			continue
		}
		if best < 0 || better(&m.paths[i], &m.paths[best], m.key.mac) {
			best = i
		}
	}
	return best
}

func better(a, b *macPath, m evpn.MAC) bool {
	if a.sticky != b.sticky {
		return a.sticky
	}
	if a.seq != b.seq {
		return a.seq > b.seq
	}
	if c := a.nextHop.Compare(b.nextHop); c != 0 {
		return c < 0
	}
	return a.routeKey(m).String() < b.routeKey(m).String()
}

// flushMAC writes a MAC's FDB entry from its best route, or removes it.
// A new or changed entry, or a removal, joins the flush's batch (see
// writeFDBBatch).
func (c *core) flushMAC(m *mac) {
	mk := m.key
	var want dataplane.FDBEntry
	ok := false
	if c.bds[mk.vni] {
		want, ok = c.macEntry(m)
	}
	switch {
	case !ok && m.installed != nil:
		if c.fdbBatch.del(dataplane.FDBKey{BD: mk.vni, MAC: mk.mac}) {
			c.writeFDBBatch()
		}
		m.installed = nil
	case ok && (m.installed == nil || *m.installed != want):
		if c.fdbBatch.add(m, want) {
			c.writeFDBBatch()
		}
	}
	if !ok && len(m.paths) == 0 && m.local == nil && m.installed == nil {
		c.dropMAC(m)
	}
	// Forget ES back references this MAC no longer has.
	for i := 0; i < len(m.esis); {
		esi := m.esis[i]
		if c.macUsesES(m, esi) {
			i++
			continue
		}
		m.esis = slices.Delete(m.esis, i, i+1)
		if e := c.ess[esi]; e != nil {
			if _, ok := e.macs[mk]; ok {
				delete(e.macs, mk)
				c.dirtyES[esi] = struct{}{}
			}
		}
	}
}

func (c *core) macUsesES(m *mac, esi evpn.ESI) bool {
	for i := range m.paths {
		if m.paths[i].esi == esi {
			return true
		}
	}
	return m.local != nil && m.local.es != nil && m.local.es.esi == esi
}

// macEntry is the FDB entry m should have; false when it should have none.
func (c *core) macEntry(m *mac) (dataplane.FDBEntry, bool) {
	var best *macPath
	if i := c.best(m); i >= 0 {
		best = &m.paths[i]
	}
	if m.local != nil && (best == nil || m.local.seq >= best.seq && !best.sticky) {
		if m.local.es != nil {
			return dataplane.FDBEntry{Kind: dataplane.FDBES, Ref: m.local.es.id}, true
		}
		return dataplane.FDBEntry{Kind: dataplane.FDBLocal, Ref: m.local.ifindex}, true
	}
	if best == nil {
		return dataplane.FDBEntry{}, false
	}
	var flags uint8
	if best.sticky {
		flags |= dataplane.FDBSticky
	}
	if best.router {
		flags |= dataplane.FDBRouter
	}
	if !best.esi.IsZero() {
		if e := c.ess[best.esi]; e != nil && e.id != 0 {
			if e.local != nil {
				// SYNC: the ES peer learned it on our shared ES.
				return dataplane.FDBEntry{Kind: dataplane.FDBES, Ref: e.id, Flags: flags | dataplane.FDBSync}, true
			}
			if e.group != 0 {
				return dataplane.FDBEntry{Kind: dataplane.FDBES, Ref: e.id, Flags: flags}, true
			}
		}
	}
	v := c.vteps[best.nextHop]
	if v == nil || v.nh == 0 {
		return dataplane.FDBEntry{}, false
	}
	return dataplane.FDBEntry{Kind: dataplane.FDBVTEP, Ref: v.nh, Flags: flags}, true
}

// fdbBatchMax bounds a flush's FDB batch: large enough that the
// dataplane's cost per call vanishes, small enough to stay in cache.
const fdbBatchMax = 4096

// maxKeptDirty bounds the dirty list a flush keeps for the next one; a
// larger one (a mass injection) is let go.
const maxKeptDirty = 1 << 16

// fdbBatch is a flush's pending FDB writes, for one Dataplane.SetFDBBatch,
// and its removals, for one Dataplane.DeleteFDBBatch. A flush touches each
// MAC once, so no key is both written and removed in one batch.
type fdbBatch struct {
	keys    []dataplane.FDBKey
	entries []dataplane.FDBEntry
	macs    []*mac
	dels    []dataplane.FDBKey
}

// del queues the removal of k's entry and reports whether the batch is
// full. The key, not the MAC: a MAC with no entry left is dropped (and
// reused) before the batch is written.
func (b *fdbBatch) del(k dataplane.FDBKey) bool {
	if b.dels == nil {
		b.dels = make([]dataplane.FDBKey, 0, fdbBatchMax)
	}
	b.dels = append(b.dels, k)
	return len(b.dels) >= fdbBatchMax
}

// add queues m's new entry e and reports whether the batch is full.
func (b *fdbBatch) add(m *mac, e dataplane.FDBEntry) bool {
	if b.keys == nil {
		b.keys = make([]dataplane.FDBKey, 0, fdbBatchMax)
		b.entries = make([]dataplane.FDBEntry, 0, fdbBatchMax)
		b.macs = make([]*mac, 0, fdbBatchMax)
	}
	b.keys = append(b.keys, dataplane.FDBKey{BD: m.key.vni, MAC: m.key.mac})
	b.entries = append(b.entries, e)
	b.macs = append(b.macs, m)
	return len(b.keys) >= fdbBatchMax
}

// writeFDBBatch writes the pending FDB entries in one call. When the
// batch stops at an entry, the entries it did not install are written one
// by one, so that each gets its own outcome, as if the batch were not.
func (c *core) writeFDBBatch() {
	b := &c.fdbBatch
	if len(b.dels) > 0 {
		if n, err := c.dp.DeleteFDBBatch(b.dels); err == nil {
			c.stats.FDBWrites += uint64(max(0, n)) // the missing ones skipped: not written
		} else {
			for _, k := range b.dels {
				c.write(c.dp.DeleteFDB(k), &c.stats.FDBWrites)
			}
		}
		b.dels = b.dels[:0]
	}
	if len(b.keys) == 0 {
		return
	}
	n, err := c.dp.SetFDBBatch(b.keys, b.entries)
	if err == nil {
		n = len(b.keys)
	}
	n = max(0, min(n, len(b.keys)))
	for i, m := range b.macs {
		if i >= n {
			if werr := c.dp.SetFDB(b.keys[i], b.entries[i]); werr != nil {
				c.write(werr, nil)
				continue
			}
		}
		c.stats.FDBWrites++
		m.entry = b.entries[i]
		m.installed = &m.entry
	}
	clear(b.macs)
	b.keys, b.entries, b.macs = b.keys[:0], b.entries[:0], b.macs[:0]
}

// portState handles a local port going up or down.
func (c *core) portState(ifindex uint32, up bool) {
	if _, ok := c.uplinks[ifindex]; ok {
		c.uplinks[ifindex] = up
		for _, e := range c.byPort {
			c.localESState(e)
		}
		return
	}
	e := c.byPort[ifindex]
	if e == nil || e.portUp == up {
		return
	}
	e.portUp = up
	if up {
		e.upSince = c.now()
	}
	c.localESState(e)
}

// localESState applies a local ES's port and uplink state: the down bit
// first (tier 1), then the DF election and the routes.
func (c *core) localESState(e *es) {
	down := !e.up() || !c.uplinksUp()
	c.write(c.dp.SetESDown(e.id, down), &c.stats.DownBitFlips)
	c.dirtyES[e.esi] = struct{}{}
	c.origES[e.esi] = struct{}{}
}

// learned installs a MAC learned on a local port.
func (c *core) learned(vni uint32, m evpn.MAC, ifindex uint32) {
	if !c.bds[vni] {
		c.stats.Ignored++
		return
	}
	mk := macKey{vni: vni, mac: m}
	st := c.macOf(mk)
	if st == nil {
		st = c.newMAC(mk)
	}
	seq := uint32(0)
	if i := c.best(st); i >= 0 {
		seq = st.paths[i].seq + 1 // MAC mobility: it moved here
	}
	st.local = &localMAC{ifindex: ifindex, es: c.byPort[ifindex], seq: seq}
	if st.local.es != nil {
		c.addMACToES(st, st.local.es)
	}
	c.markMAC(st)
	c.origMAC[mk] = struct{}{}
}

// switchStaged handles a remote ES that lost exactly one PE whose version
// without it is staged: one atomic store switches the fast path; the
// group table's bookkeeping and the next staging run after the caller has
// its answer. It reports whether it switched.
func (c *core) switchStaged(e *es, active []netip.Addr) bool {
	if e.group == 0 || len(active) != len(e.members)-1 {
		return false
	}
	var gone netip.Addr
	for _, a := range e.members {
		if !slices.Contains(active, a) {
			if gone.IsValid() {
				return false
			}
			gone = a
		}
	}
	st, ok := c.activateStaged(e, gone, active)
	if ok {
		c.afterSwitch(e, active, st)
	}
	return ok
}

// activateStaged switches e's group to its staged version without member
// gone: one atomic store. active are the members left.
func (c *core) activateStaged(e *es, gone netip.Addr, active []netip.Addr) (stagedGroup, bool) {
	st, ok := e.staged[gone]
	if !ok {
		return st, false
	}
	delete(e.staged, gone)
	_, err := c.dp.ActivateGroup(e.group, st.h)
	c.write(err, &c.stats.GroupWrites)
	if err != nil {
		c.dp.DropStaged(st.h)
		return st, false
	}
	c.stats.StagedSwitches++
	c.heldGroups[e.group] = st.buckets
	e.members = active
	return st, true
}

// afterSwitch is a staged switch's bookkeeping: the group table follows
// after the answer, and e's versions are staged again.
func (c *core) afterSwitch(e *es, active []netip.Addr, st stagedGroup) {
	g := c.groupFor(e.group, active)
	c.deferred = append(c.deferred, func() { c.settleGroup(g, st.buckets) })
	c.restage(e)
}

// groupFor is the nhg group of id over members.
func (c *core) groupFor(id uint32, members []netip.Addr) nhg.Group {
	g := nhg.Group{ID: id, Owner: nhg.EVPNL2}
	for _, a := range members {
		if v := c.vteps[a]; v != nil && v.nh != 0 {
			g.Members = append(g.Members, nhg.NextHop{ID: v.nh, VTEP: a})
		}
	}
	return g
}

// settleGroup brings the group table up to a version switched in from a
// staged slot. The table computes the same version (the staged one was
// built by the same code from the same held table); if it ever did not,
// its version is written.
func (c *core) settleGroup(g nhg.Group, held []nhg.Bucket) {
	ch, err := c.groups.Add(g)
	if err != nil {
		c.log.Error("settle group", "group", g.ID, "err", err)
		return
	}
	if ch.Op != nhg.OpReplace {
		return
	}
	if slices.Equal(ch.Buckets, held) {
		_ = c.groups.ReportInstall(ch.ID, nil)
		return
	}
	c.stats.SettleRewrites++
	b := make([]dataplane.Bucket, len(ch.Buckets))
	for i, x := range ch.Buckets {
		b[i] = dataplane.Bucket{Primary: x.Primary, Backup: x.Backup}
	}
	_, err = c.dp.ReplaceGroup(ch.ID, b)
	_ = c.groups.ReportInstall(ch.ID, err)
	c.write(err, &c.stats.GroupWrites)
	if err == nil {
		c.heldGroups[ch.ID] = ch.Buckets
	}
}

// restage drops e's staged versions and queues the ES for staging: one
// version per member, the group without it (see stageOne).
func (c *core) restage(e *es) {
	c.dropStaged(e)
	if _, ok := c.stagingSet[e.esi]; !ok {
		c.stagingSet[e.esi] = struct{}{}
		c.staging = append(c.staging, e.esi)
	}
}

// stageOne stages one version of the oldest ES waiting for it (see
// stageMember). It reports whether staging work is left. A version is
// always built from the ES's state when it runs, so a queue entry never
// goes stale.
func (c *core) stageOne() bool {
	for len(c.staging) > 0 {
		e := c.ess[c.staging[0]]
		var x netip.Addr
		if e != nil && e.local == nil && e.group != 0 && len(e.members) >= 2 {
			for _, a := range e.members {
				if _, ok := e.staged[a]; !ok {
					x = a
					break
				}
			}
		}
		if !x.IsValid() {
			delete(c.stagingSet, c.staging[0])
			c.staging = c.staging[1:]
			continue
		}
		if err := c.stageMember(e, x); err != nil {
			// The ES's switches take the ordinary path until the next
			// restage.
			c.log.Warn("group versions not staged", "group", e.group, "without", x, "err", err)
			delete(c.stagingSet, e.esi)
			c.staging = c.staging[1:]
			continue
		}
		return true
	}
	c.staging = nil // let the backing array go
	return false
}

// stageMember stages the version of e's group without member x, built
// from the table the fast path holds, so that switching to it moves only
// x's flows.
func (c *core) stageMember(e *es, x netip.Addr) error {
	rest := slices.DeleteFunc(slices.Clone(e.members), func(a netip.Addr) bool { return a == x })
	g := c.groupFor(e.group, rest)
	if len(g.Members) == 0 {
		return errors.New("no member left")
	}
	buckets, err := g.Buckets(nhg.DefaultBuckets, c.heldGroups[e.group])
	if err != nil {
		return err
	}
	b := make([]dataplane.Bucket, len(buckets))
	for i, x := range buckets {
		b[i] = dataplane.Bucket{Primary: x.Primary, Backup: x.Backup}
	}
	h, err := c.dp.StageGroup(b)
	if err != nil {
		return err
	}
	e.staged[x] = stagedGroup{h: h, buckets: buckets}
	return nil
}

func (c *core) dropStaged(e *es) {
	for a, st := range e.staged {
		c.dp.DropStaged(st.h)
		delete(e.staged, a)
	}
}

// settle runs all the work left for after the answers: the deferred
// bookkeeping, then the staging.
func (c *core) settle() {
	c.settleGroups()
	for c.stageOne() {
	}
}

// settleGroups runs the deferred group bookkeeping.
func (c *core) settleGroups() {
	for len(c.deferred) > 0 {
		jobs := c.deferred
		c.deferred = nil
		for _, j := range jobs {
			j()
		}
	}
}

// idPool hands out small ids.
type idPool struct {
	ids []uint32
}

func newIDPool(first, last uint32) idPool {
	p := idPool{}
	for id := last; id >= first; id-- {
		p.ids = append(p.ids, id)
	}
	return p
}

func (p *idPool) alloc() (uint32, bool) {
	if len(p.ids) == 0 {
		return 0, false
	}
	id := p.ids[len(p.ids)-1]
	p.ids = p.ids[:len(p.ids)-1]
	return id, true
}

func (p *idPool) free(id uint32) { p.ids = append(p.ids, id) }
