package dataplane

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fwdplane/fwd/dataplane/model"
	"github.com/fwdplane/fwd/internal/testutil"
)

// The differential tests run the real program (BPF_PROG_RUN) and the Go
// reference model (dataplane/model) over the same randomised state and the
// same frames, and compare everything the program reports: the verdict, the
// outcome counter, every field of the trace record, the frame it leaves
// behind and, in aggregate, the counters.

var (
	diffSeed       = flag.Uint64("diff.seed", 0xf0d5eed, "seed of TestDifferential's state and frames")
	diffFrames     = flag.Int("diff.frames", 50000, "frames TestDifferential compares")
	diffWriteSeeds = flag.Bool("diff.writeseeds", false, "rewrite the FuzzDifferential seed corpus under testdata/fuzz")
)

// fuzzSeed fixes FuzzDifferential's state, so that its corpus stays
// meaningful: a corpus entry names its ingress by position in the sorted
// device list, and its MACs and addresses come from this state.
const fuzzSeed = 0xfeed

// BPF_PROG_RUN refuses frames shorter than an Ethernet header and longer
// than its page fragments hold, and hands frames longer than a page less
// XDP_PACKET_HEADROOM and the skb_shared_info tailroom to the program as
// multi-buffer (the model's LinearMax).
const (
	minRunFrame = 14
	maxRunFrame = 16 << 10 // well within MAX_SKB_FRAGS pages
	runTailroom = 320
)

func linearMax() int { return os.Getpagesize() - headroom - runTailroom }

// diffEnv is a namespace of veths, a loaded program and a model.State
// applied to both.
type diffEnv struct {
	d  *Dataplane
	ns *testutil.NetNS
	s  *model.State

	access, uplinks []uint32
	devices         []uint32             // every device in the namespace, sorted
	bds             []uint32             // BDs of VLAN maps and frames; not all declared
	fdbMACs         map[uint32][][6]byte // per VNI, from allMACs
	bulkMACs        map[uint32][][6]byte // per VNI, random
	allMACs         [][6]byte
	vlans           map[uint32][]model.VLANKey // ingress -> its VLAN keys
	local4, local6  []netip.Addr               // our VTEP addresses
	remote4         []netip.Addr               // VTEPs we accept VXLAN from
	remote6         []netip.Addr
	stranger4       []netip.Addr // in no map, or without the flag that matters
	stranger6       []netip.Addr
	port            uint16 // the VXLAN port
}

func newDiffEnv(tb testing.TB, seed uint64) *diffEnv {
	tb.Helper()
	testutil.RequireRoot(tb)
	ns := testutil.NewNetNS(tb)
	e := &diffEnv{ns: ns}
	for i, mtu := range []int{1500, 1500, 1500, 1500, 9000} {
		a, _ := testutil.VethPair(tb, ns, fmt.Sprintf("acc%d", i), fmt.Sprintf("acc%dp", i), mtu)
		e.access = append(e.access, uint32(a))
	}
	for i, mtu := range []int{1550, 1600} {
		u, _ := testutil.VethPair(tb, ns, fmt.Sprintf("up%d", i), fmt.Sprintf("up%dp", i), mtu)
		e.uplinks = append(e.uplinks, uint32(u))
	}
	e.d = mustLoad(tb)
	mtus := make(map[uint32]int)
	if err := ns.Do(func() error {
		ifs, err := net.Interfaces()
		for _, ifc := range ifs {
			mtus[uint32(ifc.Index)] = ifc.MTU
		}
		return err
	}); err != nil {
		tb.Fatalf("list devices: %v", err)
	}
	e.devices = slices.Sorted(maps.Keys(mtus))
	e.s = e.generate(rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), mtus)
	if err := ns.Do(func() error { return applyModel(e.d, e.s) }); err != nil {
		tb.Fatalf("apply the model's state to the dataplane: %v", err)
	}
	if err := e.churnFDB(rand.New(rand.NewPCG(seed, 3))); err != nil {
		tb.Fatalf("churn the FDB: %v", err)
	}
	return e
}

// churnFDB leaves tombstones in the FDB's probe chains and entries written
// into recycled slots, without changing what it holds: filler entries are
// written and deleted, and once their slots are reusable, a third of the
// model's entries are deleted and written again.
func (e *diffEnv) churnFDB(r *rand.Rand) error {
	var fill []FDBKey
	var vals []FDBEntry
	for range numFillerMACs {
		m := randMAC(r)
		m[1] = 0xcc
		fill = append(fill, FDBKey{BD: pick(r, diffBDs[:4]), MAC: m})
		vals = append(vals, FDBEntry{Kind: FDBVTEP, Ref: 1})
	}
	if _, err := e.d.SetFDBBatch(fill, vals); err != nil {
		return err
	}
	if _, err := e.d.DeleteFDBBatch(fill); err != nil {
		return err
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		e.d.fdb.mu.Lock()
		n := e.d.fdb.reusableCount()
		e.d.fdb.mu.Unlock()
		if n >= len(fill) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d tombstones reusable after 5s", n, len(fill))
		}
	}
	vniOf := make(map[uint16]uint32)
	for vni, bd := range e.s.BDs {
		vniOf[bd.Idx] = vni
	}
	var keys []FDBKey
	vals = vals[:0]
	for k, v := range e.s.FDB {
		if r.IntN(3) == 0 {
			keys = append(keys, FDBKey{BD: vniOf[k.BD], MAC: k.MAC})
			vals = append(vals, FDBEntry{Kind: FDBKind(v.Kind), Flags: v.Flags, Ref: v.Ref})
		}
	}
	if n, err := e.d.DeleteFDBBatch(keys); err != nil || n != len(keys) {
		return fmt.Errorf("deleted %d of %d: %w", n, len(keys), err)
	}
	_, err := e.d.SetFDBBatch(keys, vals)
	return err
}

// applyModel writes s into a freshly loaded dataplane through its exported
// methods, with tracing on. Call it inside the namespace of s's devices (the
// redirect map resolves ifindexes there).
//
// BD indexes are the dataplane's to choose: applyModel declares the BDs in
// VNI order and renumbers s's BD indexes (in BDs, VLANs, ports' untagged BDs
// and FDB keys) to the ones the dataplane assigned. A BD that VLAN mappings
// name but s.BDs does not is declared, mapped and deleted again, leaving the
// stale mappings DeleteBD leaves. applyModel fails on a state the methods
// cannot express: egress tags that are not what SetVLAN leaves (SetVLAN is
// applied in key order, untagged first), tx ports that are not exactly the
// ports, FDB entries in a BD that is not declared.
func applyModel(d *Dataplane, s *model.State) error {
	if err := d.SetConfig(Config{VXLANPort: s.Config.VXLANPort, TTL: s.Config.TTL, Trace: true, LearnRate: 1000, LearnBurst: 100}); err != nil {
		return err
	}
	ports := make(map[uint32]bool)
	for ifindex, p := range s.Ports {
		if p.Role != model.RoleNone {
			ports[ifindex] = true
		}
	}
	if !maps.Equal(s.TxPorts, ports) {
		return fmt.Errorf("tx ports %v are not the ports %v: %w", slices.Sorted(maps.Keys(s.TxPorts)), slices.Sorted(maps.Keys(ports)), ErrInvalid)
	}

	// Every BD a VLAN mapping names, and every declared one: VNI -> index.
	type mapping struct {
		k  model.VLANKey // Outer 0: untagged
		bd model.BD
	}
	var mappings []mapping
	for ifindex, p := range s.Ports {
		if p.Untagged.Idx != 0 {
			mappings = append(mappings, mapping{model.VLANKey{Ifindex: ifindex}, p.Untagged})
		}
	}
	for k, bd := range s.VLANs {
		mappings = append(mappings, mapping{k, bd})
	}
	slices.SortFunc(mappings, func(a, b mapping) int { return cmpVLANKey(a.k, b.k) })
	idxOf := make(map[uint32]uint16)
	for vni, bd := range s.BDs {
		if bd.VNI != vni || bd.Idx == 0 {
			return fmt.Errorf("BD %d: entry %+v: %w", vni, bd, ErrInvalid)
		}
		idxOf[vni] = bd.Idx
	}
	var stale []uint32
	for _, m := range mappings {
		idx, ok := idxOf[m.bd.VNI]
		if !ok {
			idxOf[m.bd.VNI] = m.bd.Idx
			stale = append(stale, m.bd.VNI)
		} else if idx != m.bd.Idx {
			return fmt.Errorf("BD %d has index %d and %d: %w", m.bd.VNI, idx, m.bd.Idx, ErrInvalid)
		}
	}
	renumber := make(map[uint16]uint16)
	vniOf := make(map[uint16]uint32)
	for _, vni := range slices.Sorted(maps.Keys(idxOf)) {
		if err := d.SetBD(vni); err != nil {
			return err
		}
		idx, err := d.bdIndex(vni)
		if err != nil {
			return err
		}
		if _, dup := renumber[idxOf[vni]]; dup {
			return fmt.Errorf("BD index %d used twice: %w", idxOf[vni], ErrInvalid)
		}
		renumber[idxOf[vni]] = idx
		vniOf[idx] = vni
	}
	for vni, bd := range s.BDs {
		s.BDs[vni] = model.BD{VNI: vni, Idx: renumber[bd.Idx]}
	}
	for k, bd := range s.VLANs {
		s.VLANs[k] = model.BD{VNI: bd.VNI, Idx: renumber[bd.Idx]}
	}
	for ifindex, p := range s.Ports {
		if p.Untagged.Idx != 0 {
			p.Untagged.Idx = renumber[p.Untagged.Idx]
			s.Ports[ifindex] = p
		}
	}
	fdb := make(map[model.FDBKey]model.FDBEntry, len(s.FDB))
	for k, v := range s.FDB {
		idx, ok := renumber[k.BD]
		if !ok || slices.Contains(stale, vniOf[idx]) {
			return fmt.Errorf("fdb entry %+v in a BD that is not declared: %w", k, ErrInvalid)
		}
		fdb[model.FDBKey{BD: idx, MAC: k.MAC}] = v
	}
	s.FDB = fdb

	for _, ifindex := range slices.Sorted(maps.Keys(ports)) {
		p := s.Ports[ifindex]
		if err := d.SetPort(ifindex, Port{Role: PortRole(p.Role), Learn: p.Learn, ES: p.ES}); err != nil {
			return err
		}
	}
	egress := make(map[model.PortBD]model.Tags)
	for _, m := range mappings {
		tags := model.Tags{Outer: m.k.Outer, Inner: m.k.Inner}
		if err := d.SetVLAN(m.k.Ifindex, Tags(tags), m.bd.VNI); err != nil {
			return err
		}
		egress[model.PortBD{Ifindex: m.k.Ifindex, BD: m.bd.VNI}] = tags
	}
	if !maps.Equal(egress, s.EgressTags) {
		return fmt.Errorf("egress tags %v: SetVLAN in key order leaves %v: %w", s.EgressTags, egress, ErrInvalid)
	}
	for _, vni := range stale {
		if err := d.DeleteBD(vni); err != nil {
			return err
		}
	}
	var keys []FDBKey
	var entries []FDBEntry
	for k, v := range s.FDB {
		keys = append(keys, FDBKey{BD: vniOf[k.BD], MAC: k.MAC})
		entries = append(entries, FDBEntry{Kind: FDBKind(v.Kind), Flags: v.Flags, Ref: v.Ref})
	}
	if _, err := d.SetFDBBatch(keys, entries); err != nil {
		return err
	}
	for id, es := range s.ES {
		if err := d.SetES(id, ES{ESI: es.ESI, Flags: es.Flags, Ifindex: es.Ifindex, Group: es.Group, BackupGroup: es.BackupGroup}); err != nil {
			return err
		}
	}
	for id, nh := range s.NextHops {
		src, dst := netip.AddrFrom16(nh.Src), netip.AddrFrom16(nh.Dst)
		switch nh.Family {
		case 4:
			src, dst = src.Unmap(), dst.Unmap()
			if !src.Is4() || !dst.Is4() {
				return fmt.Errorf("nexthop %d: family 4 with addresses %s -> %s: %w", id, src, dst, ErrInvalid)
			}
		case 6:
		default:
			return fmt.Errorf("nexthop %d: family %d: %w", id, nh.Family, ErrInvalid)
		}
		if err := d.SetNextHop(id, NextHop{Src: src, Dst: dst, VNI: nh.VNI, Ifindex: nh.Ifindex, SrcMAC: nh.SrcMAC, DstMAC: nh.DstMAC}); err != nil {
			return err
		}
	}
	for id, g := range s.Groups {
		if len(g) == 0 {
			continue
		}
		buckets := make([]Bucket, len(g))
		for i, b := range g {
			buckets[i] = Bucket{Primary: b.Primary, Backup: b.Backup}
		}
		if _, err := d.ReplaceGroup(id, buckets); err != nil {
			return err
		}
	}
	for id, down := range s.NextHopDown {
		if err := d.SetNextHopDown(id, down); err != nil {
			return err
		}
	}
	for id, down := range s.ESDown {
		if err := d.SetESDown(id, down); err != nil {
			return err
		}
	}
	for addr, flags := range s.VTEPs {
		if err := d.SetVTEP(netip.AddrFrom16(addr), flags); err != nil {
			return err
		}
	}
	for k, ok := range s.ESPeers {
		if ok {
			if err := d.SetESPeer(netip.AddrFrom16(k.Addr), k.ES); err != nil {
				return err
			}
		}
	}
	return nil
}

func cmpVLANKey(a, b model.VLANKey) int {
	return cmp.Or(cmp.Compare(a.Ifindex, b.Ifindex), cmp.Compare(a.Outer, b.Outer), cmp.Compare(a.Inner, b.Inner))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func chance(r *rand.Rand, percent int) bool { return r.IntN(100) < percent }

func randMAC(r *rand.Rand) [6]byte {
	var m [6]byte
	for i := range m {
		m[i] = byte(r.IntN(256))
	}
	m[0] = m[0]&^1 | 2 // unicast, locally administered
	return m
}

// Identifiers of the generated state.
var (
	diffBDs       = []uint32{100, 200, 300, 0xabcdef, 4242} // 4242 is deleted after its VLANs are mapped
	diffTags      = []uint16{10, 20, 30, 100, 4094}
	localES       = []uint32{1, 2, 3, 4, 5}
	remoteES      = []uint32{10, 11, 12, 13, 14, 15}
	oddES         = []uint32{16, 17, 20, 4000} // non-DF without a group, zeroed, never set
	maxNH         = uint32(24)                 // 1-20 set, 21-24 not
	maxGroup      = uint32(10)                 // 1-8 set, 9 and 10 not
	numBulkMACs   = 1500                       // random FDB entries besides the pool
	numFillerMACs = 2000                       // written and deleted before the test
	nowhere       = uint32(999)                // an ifindex no device has
	diffVNIs      = []uint32{0, 0, 0, 5000, 0xabcdef}
	strangerAddr  = []netip.Addr{netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("2001:db8:dead::1")}
)

// generate builds a random but valid state over e's devices.
func (e *diffEnv) generate(r *rand.Rand, mtus map[uint32]int) *model.State {
	s := model.NewState()
	s.MTU = mtus
	s.LinearMax = linearMax()
	s.Config = model.Config{VXLANPort: pick(r, []uint16{0, 4789, 4789, 8472}), TTL: pick(r, []uint8{0, 64, 17})}
	e.port = cmp.Or(s.Config.VXLANPort, 4789)
	e.bds = diffBDs
	for i, bd := range diffBDs {
		s.SetBD(bd, uint16(i+1))
	}

	// Ports: access ports, some on local ESes; two uplinks.
	esOf := map[uint32]uint32{}
	for i, ifindex := range e.access {
		p := model.Port{Role: model.RoleAccess, Learn: chance(r, 50)}
		if i < 3 {
			p.ES = localES[i]
			esOf[p.ES] = ifindex
		}
		s.SetPort(ifindex, p)
	}
	for _, ifindex := range e.uplinks {
		s.SetPort(ifindex, model.Port{Role: model.RoleUplink})
	}
	nonPorts := []uint32{}
	for _, ifindex := range e.devices {
		if _, ok := s.Ports[ifindex]; !ok {
			nonPorts = append(nonPorts, ifindex)
		}
	}

	// VLANs, applied in key order as applyModel does.
	vlans := map[model.VLANKey]uint32{}
	e.vlans = map[uint32][]model.VLANKey{}
	for _, ifindex := range e.access {
		keys := []model.VLANKey{}
		if chance(r, 75) {
			keys = append(keys, model.VLANKey{Ifindex: ifindex})
		}
		for range 1 + r.IntN(2) {
			keys = append(keys, model.VLANKey{Ifindex: ifindex, Outer: pick(r, diffTags)})
		}
		if chance(r, 70) {
			keys = append(keys, model.VLANKey{Ifindex: ifindex, Outer: pick(r, diffTags), Inner: pick(r, diffTags)})
		}
		for _, k := range keys {
			vlans[k] = pick(r, diffBDs)
			e.vlans[ifindex] = append(e.vlans[ifindex], k)
		}
	}
	// The port of local ES 2 (an anchor, always up) is in the first BD; an
	// uplink and a device that is no port carry a BD too: local FDB entries
	// may point at them.
	if _, ok := vlans[model.VLANKey{Ifindex: e.access[1]}]; !ok {
		e.vlans[e.access[1]] = append(e.vlans[e.access[1]], model.VLANKey{Ifindex: e.access[1]})
	}
	vlans[model.VLANKey{Ifindex: e.access[1]}] = diffBDs[0]
	vlans[model.VLANKey{Ifindex: e.uplinks[0]}] = diffBDs[0]
	vlans[model.VLANKey{Ifindex: nonPorts[len(nonPorts)-1]}] = diffBDs[0]
	for _, k := range slices.SortedFunc(maps.Keys(vlans), cmpVLANKey) {
		s.SetVLAN(k.Ifindex, model.Tags{Outer: k.Outer, Inner: k.Inner}, vlans[k])
	}
	// The last BD was deleted after its VLANs were mapped: they stay, stale.
	delete(s.BDs, diffBDs[4])

	// VTEP addresses.
	e.local4 = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")}
	e.local6 = []netip.Addr{netip.MustParseAddr("2001:db8::1")}
	for _, a := range append(slices.Clone(e.local4), e.local6...) {
		s.VTEPs[a.As16()] = model.VTEPLocal
	}
	s.VTEPs[e.local4[1].As16()] |= model.VTEPRemote // both ours and a peer's
	e.remote4 = append(e.remote4, e.local4[1])
	localOnly := netip.MustParseAddr("192.0.2.3") // ours only: not a source we accept
	s.VTEPs[localOnly.As16()] = model.VTEPLocal
	e.stranger4 = []netip.Addr{strangerAddr[0], localOnly}
	e.stranger6 = []netip.Addr{strangerAddr[1]}

	// Nexthops 1-20 over IPv4 and IPv6; mostly through an uplink.
	for id := uint32(1); id <= 20; id++ {
		v6 := chance(r, 35)
		src, dst := pick(r, e.local4), netip.AddrFrom4([4]byte{198, 51, 100, byte(id)})
		if v6 {
			src, dst = e.local6[0], netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 15: byte(id)})
		}
		ifindex := pick(r, e.uplinks)
		switch x := r.IntN(100); {
		case id <= 4: // anchors: up, through an uplink
		case id == 18 || x < 4:
			ifindex = pick(r, e.access)
		case id == 19 || x < 8:
			ifindex = pick(r, nonPorts)
		case id == 20 || x < 11:
			ifindex = nowhere
		}
		s.SetNextHop(id, src, dst, pick(r, diffVNIs), ifindex, randMAC(r), randMAC(r))
		if chance(r, 90) {
			s.VTEPs[dst.As16()] |= model.VTEPRemote
			if v6 {
				e.remote6 = append(e.remote6, dst)
			} else {
				e.remote4 = append(e.remote4, dst)
			}
		} else if v6 {
			e.stranger6 = append(e.stranger6, dst)
		} else {
			e.stranger4 = append(e.stranger4, dst)
		}
		if id == 17 || (id > 4 && id < 18) && chance(r, 20) {
			s.NextHopDown[id] = true
		}
	}
	nhRef := func() uint32 {
		if chance(r, 8) {
			return 21 + r.Uint32N(maxNH-20)
		}
		return 1 + r.Uint32N(20)
	}

	// Groups 1-8 of power-of-two sizes with backups.
	for id := uint32(1); id <= 8; id++ {
		n := 1 << r.IntN(8)
		g := make([]model.Bucket, n)
		for i := range g {
			g[i].Primary = nhRef()
			if id == 1 { // an anchor: every primary up
				g[i].Primary = 1 + r.Uint32N(4)
			}
			if chance(r, 70) {
				for g[i].Backup = nhRef(); g[i].Backup == g[i].Primary; g[i].Backup = nhRef() {
				}
			}
		}
		s.Groups[id] = g
	}
	groupRef := func() uint32 { return 1 + r.Uint32N(maxGroup) }

	// Ethernet Segments: local (on the ports above, one on a port that does
	// not claim it, one on a device that is no port), remote, and odd.
	esOf[localES[3]] = e.access[3]
	esOf[localES[4]] = nonPorts[len(nonPorts)-1]
	for _, id := range localES {
		es := model.ES{Flags: model.ESLocal, Ifindex: esOf[id], BackupGroup: groupRef()}
		if id == localES[0] { // an anchor for the re-encap: down, with a good backup group
			es.BackupGroup = 1
		}
		if chance(r, 30) {
			es.Flags |= model.ESNonDF
		}
		for i := range es.ESI {
			es.ESI[i] = byte(r.IntN(256))
		}
		s.ES[id] = es
		switch {
		case id == localES[0]:
			s.ESDown[id] = true
		case id != localES[1] && chance(r, 40):
			s.ESDown[id] = true
		}
	}
	for _, id := range remoteES {
		es := model.ES{Group: groupRef()}
		if chance(r, 30) {
			es.Flags |= model.ESNonDF
		}
		s.ES[id] = es
	}
	s.ES[oddES[0]] = model.ES{Flags: model.ESNonDF}
	s.ES[oddES[1]] = model.ES{}
	// ES peers: VTEPs that share a local ES with us.
	for _, id := range localES {
		for _, a := range append(slices.Clone(e.remote4), e.remote6...) {
			if chance(r, 25) {
				s.ESPeers[model.ESPeerKey{Addr: a.As16(), ES: id}] = true
			}
		}
	}

	// The FDB: a pool of MACs, each BD holding a random part of it.
	for i := range 48 {
		e.allMACs = append(e.allMACs, [6]byte{0x02, 0xdf, 0, 0, byte(i >> 8), byte(i)})
	}
	e.fdbMACs = map[uint32][][6]byte{}
	esRefs := slices.Concat(localES, remoteES, oddES)
	entry := func() model.FDBEntry {
		var v model.FDBEntry
		switch x := r.IntN(100); {
		case x < 35:
			v = model.FDBEntry{Kind: model.FDBLocal, Ref: pick(r, e.access)}
			switch y := r.IntN(100); {
			case y < 5:
				v.Ref = pick(r, e.uplinks)
			case y < 12:
				v.Ref = pick(r, nonPorts)
			case y < 15:
				v.Ref = nowhere
			}
		case x < 65:
			v = model.FDBEntry{Kind: model.FDBVTEP, Ref: nhRef()}
			if chance(r, 3) {
				v.Ref = 60000
			}
		default:
			v = model.FDBEntry{Kind: model.FDBES, Ref: pick(r, esRefs)}
		}
		for _, f := range []struct {
			flag    uint8
			percent int
		}{{model.FDBSticky, 12}, {model.FDBRouter, 5}, {model.FDBSync, 10}, {model.FDBStatic, 10}} {
			if chance(r, f.percent) {
				v.Flags |= f.flag
			}
		}
		return v
	}
	for _, bd := range diffBDs[:4] {
		for _, m := range e.allMACs {
			if chance(r, 40) {
				s.SetFDB(bd, m, entry())
				e.fdbMACs[bd] = append(e.fdbMACs[bd], m)
			}
		}
	}
	// Bulk: many more MACs, so that the FDB's probe chains grow long.
	e.bulkMACs = map[uint32][][6]byte{}
	for range numBulkMACs {
		bd, m := pick(r, diffBDs[:4]), randMAC(r)
		m[1] = 0xbb
		s.SetFDB(bd, m, entry())
		e.bulkMACs[bd] = append(e.bulkMACs[bd], m)
	}
	// Anchors, so that every seed reaches every outcome: in each declared
	// BD, the router MAC, a missing nexthop, a good one, one through no
	// port, one that is down, the ES that is down, one without a group, one
	// never set, a device that is no port.
	anchors := []model.FDBEntry{
		{Kind: model.FDBLocal, Ref: e.access[4], Flags: model.FDBRouter},
		{Kind: model.FDBVTEP, Ref: 21},
		{Kind: model.FDBVTEP, Ref: 1},
		{Kind: model.FDBVTEP, Ref: 19},
		{Kind: model.FDBVTEP, Ref: 17},
		{Kind: model.FDBES, Ref: localES[0]},
		{Kind: model.FDBES, Ref: localES[1]},
		{Kind: model.FDBES, Ref: oddES[0]},
		{Kind: model.FDBES, Ref: oddES[2]},
		{Kind: model.FDBLocal, Ref: nonPorts[len(nonPorts)-1]},
	}
	for _, bd := range diffBDs[:4] {
		for i, v := range anchors {
			m := e.allMACs[i]
			if _, ok := s.FDB[model.FDBKey{BD: s.BDs[bd].Idx, MAC: m}]; !ok {
				e.fdbMACs[bd] = append(e.fdbMACs[bd], m)
			}
			s.SetFDB(bd, m, v)
		}
	}
	s.ESPeers[model.ESPeerKey{Addr: e.remote4[0].As16(), ES: localES[0]}] = true
	return s
}

// Frame builders. Checksums are left 0: nothing on the path checks them.

func ethHeader(dst, src [6]byte) []byte {
	return append(append(make([]byte, 0, 128), dst[:]...), src[:]...)
}

// l3 appends an EtherType and a payload of the chosen kind, up to size bytes
// in all (the payload may make it longer).
func l3(r *rand.Rand, b []byte, size int) []byte {
	l3start := len(b) + 2
	switch x := r.IntN(100); {
	case x < 45: // IPv4
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		ihl := 5
		if chance(r, 10) {
			ihl = 6 + r.IntN(10)
		}
		proto := pick(r, []byte{6, 17, 17, 6, 1, 47})
		ip := make([]byte, 4*ihl)
		ip[0] = 0x40 | byte(ihl)
		binary.BigEndian.PutUint16(ip[2:], uint16(max(size-l3start, 4*ihl+8)))
		binary.BigEndian.PutUint16(ip[4:], uint16(r.IntN(65536)))
		if chance(r, 8) {
			binary.BigEndian.PutUint16(ip[6:], pick(r, []uint16{0x2000, 0x0001, 0x20b9, 0x8000}))
		} else {
			binary.BigEndian.PutUint16(ip[6:], pick(r, []uint16{0, 0x4000}))
		}
		ip[8], ip[9] = 64, proto
		binary.BigEndian.PutUint32(ip[12:], 0x0a000000|uint32(r.IntN(8)))
		binary.BigEndian.PutUint32(ip[16:], 0x0a000100|uint32(r.IntN(8)))
		b = append(b, ip...)
		b = l4(r, b)
	case x < 75: // IPv6
		b = binary.BigEndian.AppendUint16(b, 0x86dd)
		next := pick(r, []byte{6, 17, 17, 6, 58, 0, 44})
		ip := make([]byte, 40)
		binary.BigEndian.PutUint32(ip, 0x60000000|uint32(r.IntN(1<<20)))
		binary.BigEndian.PutUint16(ip[4:], uint16(max(size-l3start-40, 8)))
		ip[6], ip[7] = next, 64
		ip[8], ip[9], ip[23] = 0x20, 0x01, byte(r.IntN(8))
		ip[24], ip[25], ip[39] = 0x20, 0x01, byte(r.IntN(8))
		b = append(b, ip...)
		b = l4(r, b)
	case x < 85: // ARP
		b = binary.BigEndian.AppendUint16(b, 0x0806)
		b = append(b, 0, 1, 8, 0, 6, 4, 0, 1)
		for range 20 {
			b = append(b, byte(r.IntN(256)))
		}
	default:
		b = binary.BigEndian.AppendUint16(b, pick(r, []uint16{0x88cc, 0x9000, 0x0842, 0x22f0}))
	}
	for len(b) < size {
		b = append(b, byte(len(b)))
	}
	return b
}

func l4(r *rand.Rand, b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(r.IntN(65536)))
	b = binary.BigEndian.AppendUint16(b, pick(r, []uint16{80, 443, 53, 4789, 179}))
	return append(b, 0, 8, 0, 0)
}

// frameSize draws a frame length: mostly small, some around the uplinks'
// MTU limits, some jumbo (past one page: multi-buffer in BPF_PROG_RUN).
func frameSize(r *rand.Rand) int {
	switch x := r.IntN(100); {
	case x < 55:
		return 60 + r.IntN(200)
	case x < 80:
		return 60 + r.IntN(1500)
	case x < 95:
		return pick(r, []int{1550, 1600, 9000}) - 40 - r.IntN(40)
	case x < 98:
		return 1500 + r.IntN(2100)
	}
	return linearMax() - 8 + r.IntN(600)
}

// diffFrame is one generated frame and where it arrives.
type diffFrame struct {
	data    []byte
	ingress uint32
}

// accessFrame builds a frame as a host on ingress would send it.
func (e *diffEnv) accessFrame(r *rand.Rand, ingress uint32, size int) []byte {
	var k model.VLANKey
	if keys := e.vlans[ingress]; len(keys) > 0 && chance(r, 85) {
		k = pick(r, keys)
	} else if chance(r, 50) {
		k.Outer = pick(r, diffTags)
		if chance(r, 40) {
			k.Inner = pick(r, diffTags)
		}
	}
	bd := pick(r, e.bds)
	if k.Outer == 0 && e.s.Ports[ingress].Untagged.Idx != 0 {
		bd = e.s.Ports[ingress].Untagged.VNI
	} else if v, ok := e.s.VLANs[model.VLANKey{Ifindex: ingress, Outer: k.Outer, Inner: k.Inner}]; ok && k.Outer != 0 {
		bd = v.VNI
	}
	b := ethHeader(e.dstMAC(r, bd), e.srcMAC(r, bd))
	var tags []uint16
	switch {
	case k.Inner != 0:
		tags = []uint16{k.Outer, k.Inner}
	case k.Outer != 0:
		tags = []uint16{k.Outer}
	case chance(r, 3): // a priority tag
		tags = []uint16{0}
	}
	if chance(r, 4) {
		tags = append(tags, pick(r, diffTags)) // one too many
	}
	for i, v := range tags {
		tpid := uint16(0x8100)
		if (i == 0 && len(tags) > 1 && chance(r, 70)) || chance(r, 10) {
			tpid = 0x88a8
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, uint16(r.IntN(16))<<12|v)
	}
	return l3(r, b, size)
}

func (e *diffEnv) dstMAC(r *rand.Rand, bd uint32) [6]byte {
	switch x := r.IntN(100); {
	case x < 55 && len(e.fdbMACs[bd]) > 0:
		return pick(r, e.fdbMACs[bd])
	case x < 65 && len(e.bulkMACs[bd]) > 0:
		return pick(r, e.bulkMACs[bd])
	case x < 75:
		return pick(r, e.allMACs)
	case x < 80:
		return [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	case x < 85:
		return [6]byte{0x33, 0x33, 0, 0, 0, byte(r.IntN(256))}
	}
	return randMAC(r)
}

func (e *diffEnv) srcMAC(r *rand.Rand, bd uint32) [6]byte {
	switch x := r.IntN(100); {
	case x < 35 && len(e.fdbMACs[bd]) > 0:
		return pick(r, e.fdbMACs[bd])
	case x < 38:
		return [6]byte{0x01, 0, 0x5e, 0, 0, byte(r.IntN(256))}
	}
	return randMAC(r)
}

// vxlanFrame builds a VXLAN frame as a VTEP (known or not) would send it.
func (e *diffEnv) vxlanFrame(r *rand.Rand, size int) []byte {
	bd := pick(r, e.bds)
	if chance(r, 4) {
		bd = uint32(r.IntN(1 << 24))
	}
	innerEth := ethHeader(e.dstMAC(r, bd), e.srcMAC(r, bd))
	if chance(r, 4) {
		innerEth = binary.BigEndian.AppendUint16(innerEth, pick(r, []uint16{0x8100, 0x88a8}))
		innerEth = binary.BigEndian.AppendUint16(innerEth, pick(r, diffTags))
	}
	v6 := chance(r, 40)
	var src, dst netip.Addr
	if v6 {
		src, dst = pick(r, e.remote6), pick(r, e.local6)
		if chance(r, 10) {
			src = pick(r, e.stranger6)
		}
		if chance(r, 8) {
			dst = pick(r, append(slices.Clone(e.stranger6), e.remote6...))
		}
	} else {
		src, dst = pick(r, e.remote4), pick(r, e.local4)
		if chance(r, 10) {
			src = pick(r, e.stranger4)
		}
		if chance(r, 8) {
			dst = pick(r, append(slices.Clone(e.stranger4), e.remote4...))
		}
	}
	outerLen := 50
	if v6 {
		outerLen = 70
	}
	inner := l3(r, innerEth, max(size-outerLen, 14))
	b := ethHeader(randMAC(r), randMAC(r))
	port := e.port
	if chance(r, 5) {
		port = pick(r, []uint16{4789, 8472, 53})
	}
	if v6 {
		b = binary.BigEndian.AppendUint16(b, 0x86dd)
		ip := make([]byte, 40)
		binary.BigEndian.PutUint32(ip, 0x60000000|uint32(r.IntN(1<<20)))
		binary.BigEndian.PutUint16(ip[4:], uint16(16+len(inner)))
		ip[6], ip[7] = 17, 64
		if chance(r, 6) {
			ip[6] = pick(r, []byte{0, 43, 44, 60, 6, 58})
		}
		copy(ip[8:], src.AsSlice())
		copy(ip[24:], dst.AsSlice())
		b = append(b, ip...)
	} else {
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		ihl := 5
		if chance(r, 8) {
			ihl = 6 + r.IntN(10)
		}
		ip := make([]byte, 4*ihl)
		ip[0] = 0x40 | byte(ihl)
		binary.BigEndian.PutUint16(ip[2:], uint16(4*ihl+16+len(inner)))
		binary.BigEndian.PutUint16(ip[6:], 0x4000)
		if chance(r, 5) {
			binary.BigEndian.PutUint16(ip[6:], pick(r, []uint16{0x2000, 0x0010, 0x6001}))
		}
		ip[8], ip[9] = 64, 17
		if chance(r, 4) {
			ip[9] = pick(r, []byte{6, 1, 47})
		}
		if chance(r, 2) {
			ip[0] = pick(r, []byte{0x65, 0x44, 0x03})
		}
		copy(ip[12:], src.AsSlice())
		copy(ip[16:], dst.AsSlice())
		b = append(b, ip...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(r.IntN(65536)))
	b = binary.BigEndian.AppendUint16(b, port)
	b = binary.BigEndian.AppendUint16(b, uint16(16+len(inner)))
	b = append(b, 0, 0)
	flags := byte(0x08)
	if chance(r, 5) {
		flags = byte(r.IntN(256))
	}
	b = append(b, flags, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, bd<<8)
	return append(b, inner...)
}

// frame generates one frame: access traffic, VXLAN, underlay traffic, or
// garbage, on a fitting ingress most of the time; then cut or corrupted now
// and then.
func (e *diffEnv) frame(r *rand.Rand) diffFrame {
	var f diffFrame
	size := frameSize(r)
	switch x := r.IntN(100); {
	case x < 45:
		f.ingress = pick(r, e.access)
		f.data = e.accessFrame(r, f.ingress, size)
	case x < 85:
		f.ingress = pick(r, e.uplinks)
		if chance(r, 5) {
			f.ingress = pick(r, e.access)
		}
		f.data = e.vxlanFrame(r, size)
	case x < 92: // the underlay's own traffic
		f.ingress = pick(r, e.uplinks)
		f.data = l3(r, ethHeader(randMAC(r), randMAC(r)), size)
	case x < 97:
		f.ingress = pick(r, e.devices)
		f.data = e.accessFrame(r, f.ingress, size)
	default:
		f.ingress = pick(r, e.devices)
		f.data = make([]byte, 14+r.IntN(200))
		for i := range f.data {
			f.data[i] = byte(r.IntN(256))
		}
	}
	if chance(r, 10) {
		// Cut: mostly within the headers.
		n := minRunFrame + r.IntN(min(len(f.data), 140)-minRunFrame+1)
		f.data = f.data[:n]
	}
	if chance(r, 8) {
		for range 1 + r.IntN(4) {
			i := r.IntN(min(len(f.data), 120))
			f.data[i] ^= byte(1 + r.IntN(255))
		}
	}
	return f
}

// compareRun returns how the program's result differs from the model's, or
// "" when it does not.
func compareRun(want model.Result, res Result, tr Trace) string {
	var d []string
	diff := func(name string, got, want any) {
		if got != want {
			d = append(d, fmt.Sprintf("%s %v, model %v", name, got, want))
		}
	}
	diff("action", uint32(res.Action), uint32(want.Action))
	diff("trace action", uint32(tr.Action), uint32(res.Action))
	diff("reason", tr.Reason, want.Reason)
	diff("bd", tr.BD, want.BD)
	diff("egress", tr.Egress, want.Egress)
	diff("nexthop", tr.NextHop, want.NextHop)
	diff("group", tr.Group, want.Group)
	diff("es", tr.ES, want.ES)
	diff("hash", fmt.Sprintf("%#08x", tr.Hash), fmt.Sprintf("%#08x", want.Hash))
	diff("fdb kind", uint8(tr.FDBKind), uint8(want.FDBKind))
	diff("backup", tr.Backup, want.Backup)
	if !bytes.Equal(res.Frame, want.Frame) {
		at := 0
		for at < min(len(res.Frame), len(want.Frame)) && res.Frame[at] == want.Frame[at] {
			at++
		}
		d = append(d, fmt.Sprintf("frame differs at byte %d (len %d, model %d):\n  prog  % x\n  model % x",
			at, len(res.Frame), len(want.Frame), window(res.Frame, at), window(want.Frame, at)))
	}
	return strings.Join(d, "; ")
}

func window(b []byte, at int) []byte {
	return b[max(0, at-8):min(len(b), at+24)]
}

// corpusEntry renders a frame as a FuzzDifferential corpus file.
func corpusEntry(frame []byte, sel byte) string {
	return fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbyte(%q)\n", frame, sel)
}

func (e *diffEnv) selector(ingress uint32) byte {
	return byte(slices.Index(e.devices, ingress))
}

// reachable lists the outcomes BPF_PROG_RUN can produce; drop_runt needs a
// frame shorter than BPF_PROG_RUN takes, and drop_adjust a bpf_xdp_adjust_head
// that cannot fail on the lengths the program has checked before.
func reachable() []string {
	var out []string
	for _, c := range model.Counters {
		if strings.HasPrefix(c, "rx_") || strings.HasPrefix(c, "learn_") || c == model.CtrNHBackup ||
			c == model.CtrDropRunt || c == model.CtrDropAdjust {
			continue
		}
		out = append(out, c)
	}
	return out
}

// TestDifferential compares program and model on thousands of generated
// frames over one randomised state.
func TestDifferential(t *testing.T) {
	e := newDiffEnv(t, *diffSeed)
	if got := e.d.CounterNames(); !slices.Equal(got, model.Counters) {
		t.Fatalf("counters: program %v, model %v", got, model.Counters)
	}
	r := rand.New(rand.NewPCG(*diffSeed, 1))
	frames := make([]diffFrame, *diffFrames)
	for i := range frames {
		frames[i] = e.frame(r)
	}
	type run struct {
		res Result
		tr  Trace
	}
	runs := make([]run, len(frames))
	before, err := e.d.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ns.Do(func() error {
		for i, f := range frames {
			res, tr, err := e.d.RunTrace(f.data, f.ingress)
			if err != nil {
				return fmt.Errorf("frame %d (%d bytes on %d): %w", i, len(f.data), f.ingress, err)
			}
			runs[i] = run{res, tr}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	after, err := e.d.Counters()
	if err != nil {
		t.Fatal(err)
	}

	coverage := map[string]int{}
	wantCounters := map[string]uint64{}
	mismatches := map[string]int{}
	shown := 0
	for i, f := range frames {
		want := e.s.Process(f.data, f.ingress)
		coverage[want.Reason]++
		wantCounters[want.RX]++
		wantCounters[want.Reason]++
		if want.Backup {
			wantCounters[model.CtrNHBackup]++
		}
		d := compareRun(want, runs[i].res, runs[i].tr)
		if d == "" {
			continue
		}
		// One example of each kind of difference, up to ten, with the frame
		// as a FuzzDifferential corpus entry to replay it.
		kind := want.Reason + " -> " + runs[i].tr.Reason
		if mismatches[kind] == 0 && shown < 10 {
			shown++
			t.Errorf("frame %d, %d bytes on ifindex %d (model %s): %s\nas a corpus entry:\n%s",
				i, len(f.data), f.ingress, want.Reason, d, corpusEntry(f.data, e.selector(f.ingress)))
		}
		mismatches[kind]++
	}
	for _, k := range slices.Sorted(maps.Keys(mismatches)) {
		t.Errorf("differences (model -> program) %s: %d frames", k, mismatches[k])
	}
	for _, name := range model.Counters {
		if strings.HasPrefix(name, "learn_") {
			continue // time-based rate limit: not modelled
		}
		if got := after[name] - before[name]; got != wantCounters[name] {
			t.Errorf("counter %s: program counted %d, model %d", name, got, wantCounters[name])
		}
	}

	t.Logf("%d frames compared (seed %#x), %d differ", len(frames), *diffSeed, sum(mismatches))
	var missing []string
	for _, c := range reachable() {
		if coverage[c] == 0 {
			missing = append(missing, c)
		}
	}
	for _, c := range model.Counters {
		if coverage[c] > 0 {
			t.Logf("  %-22s %6d", c, coverage[c])
		}
	}
	if len(missing) > 0 {
		t.Errorf("outcomes never reached: %v", missing)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// FuzzDifferential runs fuzzed frames through program and model on a fixed
// randomised state and fails on any difference. The selector byte picks the
// ingress device (by position in the namespace's sorted device list).
func FuzzDifferential(f *testing.F) {
	testutil.RequireRoot(f)
	e := newDiffEnv(f, fuzzSeed)
	f.Fuzz(func(t *testing.T, frame []byte, sel byte) {
		if len(frame) < minRunFrame || len(frame) > maxRunFrame {
			return // BPF_PROG_RUN refuses it
		}
		ingress := e.devices[int(sel)%len(e.devices)]
		want := e.s.Process(frame, ingress)
		var res Result
		var tr Trace
		if err := e.ns.Do(func() error {
			var err error
			res, tr, err = e.d.RunTrace(frame, ingress)
			return err
		}); err != nil {
			t.Fatalf("%d bytes on ifindex %d: %v", len(frame), ingress, err)
		}
		if d := compareRun(want, res, tr); d != "" {
			t.Fatalf("%d bytes on ifindex %d (%s): %s\nframe % x", len(frame), ingress, want.Reason, d, frame)
		}
	})
}

// TestWriteFuzzSeeds rewrites FuzzDifferential's seed corpus with
// -diff.writeseeds: one generated frame per outcome, on the fuzz state.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*diffWriteSeeds {
		t.Skip("run with -diff.writeseeds to rewrite testdata/fuzz/FuzzDifferential")
	}
	e := newDiffEnv(t, fuzzSeed)
	dir := filepath.Join("testdata", "fuzz", "FuzzDifferential")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(fuzzSeed, 2))
	// One seed per outcome, one through a bucket's backup, one longer than
	// the linear part BPF_PROG_RUN gives the program, and the drops that the
	// uplink path reaches on its own code (decapsulated frames).
	uplinkDrops := []string{model.CtrDropNoES, model.CtrDropTruncated, model.CtrDropTooBig, model.CtrDropNoNHG, model.CtrDropNHDown}
	seen := map[string]bool{}
	for i := 0; i < 200000 && len(seen) < len(reachable())+2+len(uplinkDrops); i++ {
		f := e.frame(r)
		want := e.s.Process(f.data, f.ingress)
		name := want.Reason
		if want.RX == model.CtrRXUplink && slices.Contains(uplinkDrops, name) {
			name = "uplink_" + name
		}
		switch {
		case want.Backup && !seen["nh_backup"]:
			name = "nh_backup"
		case len(f.data) > linearMax() && !seen["multi_buffer"]:
			name = "multi_buffer"
		case seen[name] || len(f.data) > 1200 && name != model.CtrDropTooBig:
			continue
		}
		seen[name] = true
		name = filepath.Join(dir, name)
		if err := os.WriteFile(name, []byte(corpusEntry(f.data, e.selector(f.ingress))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d seeds: %v", len(seen), slices.Sorted(maps.Keys(seen)))
}
