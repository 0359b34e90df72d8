package control

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/vxlan"
)

// fakeDP is a Dataplane in memory that counts writes.
type fakeDP struct {
	bds    map[uint32]bool
	fdb    map[dataplane.FDBKey]dataplane.FDBEntry
	es     map[uint32]dataplane.ES
	nh     map[uint32]dataplane.NextHop
	nhDown map[uint32]bool
	esDown map[uint32]bool
	groups map[uint32][]dataplane.Bucket
	vteps  map[netip.Addr]uint32
	peers  map[string]bool
	writes map[string]int

	staged    map[uint32][]dataplane.Bucket
	nextStage uint32
	batches   int // SetFDBBatch calls
}

func newFakeDP() *fakeDP {
	return &fakeDP{bds: map[uint32]bool{}, fdb: map[dataplane.FDBKey]dataplane.FDBEntry{}, es: map[uint32]dataplane.ES{},
		nh: map[uint32]dataplane.NextHop{}, nhDown: map[uint32]bool{}, esDown: map[uint32]bool{},
		groups: map[uint32][]dataplane.Bucket{}, vteps: map[netip.Addr]uint32{}, peers: map[string]bool{}, writes: map[string]int{},
		staged: map[uint32][]dataplane.Bucket{}}
}

func (f *fakeDP) SetBD(vni uint32) error { f.bds[vni] = true; return nil }
func (f *fakeDP) SetFDB(k dataplane.FDBKey, e dataplane.FDBEntry) error {
	if !f.bds[k.BD] {
		return fmt.Errorf("BD %d not declared", k.BD)
	}
	f.writes["fdb"]++
	f.fdb[k] = e
	return nil
}

// SetFDBBatch checks every entry first, as the dataplane does: a batch
// with an undeclared BD installs nothing.
func (f *fakeDP) SetFDBBatch(keys []dataplane.FDBKey, entries []dataplane.FDBEntry) (int, error) {
	if len(keys) != len(entries) {
		return 0, fmt.Errorf("%d keys, %d entries", len(keys), len(entries))
	}
	for i, k := range keys {
		if !f.bds[k.BD] {
			return 0, fmt.Errorf("fdb batch entry %d: BD %d not declared", i, k.BD)
		}
	}
	f.writes["fdb"] += len(keys)
	f.batches++
	for i, k := range keys {
		f.fdb[k] = entries[i]
	}
	return len(keys), nil
}

// DeleteFDBBatch checks every key's BD first, as the dataplane does.
func (f *fakeDP) DeleteFDBBatch(keys []dataplane.FDBKey) (int, error) {
	for i, k := range keys {
		if !f.bds[k.BD] {
			return 0, fmt.Errorf("fdb batch entry %d: BD %d not declared", i, k.BD)
		}
	}
	n := 0
	for _, k := range keys {
		f.writes["fdb"]++
		if _, ok := f.fdb[k]; ok {
			delete(f.fdb, k)
			n++
		}
	}
	f.batches++
	return n, nil
}

func (f *fakeDP) DeleteFDB(k dataplane.FDBKey) error {
	f.writes["fdb"]++
	if _, ok := f.fdb[k]; !ok {
		return dataplane.ErrNotFound
	}
	delete(f.fdb, k)
	return nil
}
func (f *fakeDP) SetES(id uint32, e dataplane.ES) error { f.writes["es"]++; f.es[id] = e; return nil }
func (f *fakeDP) DeleteES(id uint32) error              { f.writes["es"]++; delete(f.es, id); return nil }
func (f *fakeDP) SetNextHop(id uint32, nh dataplane.NextHop) error {
	f.writes["nh"]++
	f.nh[id] = nh
	return nil
}
func (f *fakeDP) DeleteNextHop(id uint32) error { f.writes["nh"]++; delete(f.nh, id); return nil }
func (f *fakeDP) SetNextHopDown(id uint32, down bool) error {
	f.writes["bit"]++
	if down {
		f.nhDown[id] = true
	} else {
		delete(f.nhDown, id)
	}
	return nil
}
func (f *fakeDP) SetESDown(id uint32, down bool) error {
	f.writes["bit"]++
	if down {
		f.esDown[id] = true
	} else {
		delete(f.esDown, id)
	}
	return nil
}
func (f *fakeDP) ReplaceGroup(id uint32, b []dataplane.Bucket) (uint32, error) {
	f.writes["group"]++
	f.groups[id] = slices.Clone(b)
	return 1, nil
}
func (f *fakeDP) StageGroup(b []dataplane.Bucket) (dataplane.StagedGroup, error) {
	f.nextStage++
	f.staged[f.nextStage] = slices.Clone(b)
	return dataplane.StagedGroup{Slot: f.nextStage}, nil
}
func (f *fakeDP) ActivateGroup(id uint32, s dataplane.StagedGroup) (uint32, error) {
	b, ok := f.staged[s.Slot]
	if !ok {
		return 0, fmt.Errorf("no staged version %d", s.Slot)
	}
	f.writes["group"]++
	f.groups[id] = b
	delete(f.staged, s.Slot)
	return 1, nil
}
func (f *fakeDP) DropStaged(s dataplane.StagedGroup) { delete(f.staged, s.Slot) }
func (f *fakeDP) DeleteGroup(id uint32) error {
	f.writes["group"]++
	delete(f.groups, id)
	return nil
}
func (f *fakeDP) SetVTEP(a netip.Addr, flags uint32) error { f.vteps[a] = flags; return nil }
func (f *fakeDP) DeleteVTEP(a netip.Addr) error            { delete(f.vteps, a); return nil }
func (f *fakeDP) SetESPeer(a netip.Addr, es uint32) error {
	f.peers[fmt.Sprint(a, "/", es)] = true
	return nil
}
func (f *fakeDP) DeleteESPeer(a netip.Addr, es uint32) error {
	delete(f.peers, fmt.Sprint(a, "/", es))
	return nil
}

// canonical renders the fake's state with ids replaced by what they name
// (VTEP addresses, ESIs), so that two runs that allocated ids in another
// order compare equal.
func (f *fakeDP) canonical() string {
	nhName := func(id uint32) string {
		nh, ok := f.nh[id]
		if !ok {
			return "unresolved-nh"
		}
		s := nh.Dst.String()
		if f.nhDown[id] {
			s += "(down)"
		}
		return s
	}
	groupName := func(id uint32) string {
		if id == 0 {
			return "none"
		}
		set := map[string]bool{}
		for _, b := range f.groups[id] {
			set[nhName(b.Primary)] = true
		}
		var names []string
		for n := range set {
			names = append(names, n)
		}
		slices.Sort(names)
		return "{" + strings.Join(names, ",") + "}"
	}
	esName := func(id uint32) string {
		e, ok := f.es[id]
		if !ok {
			return "missing-es"
		}
		s := fmt.Sprintf("es %s flags %d port %d group %s backup %s", evpn.ESI(e.ESI), e.Flags, e.Ifindex, groupName(e.Group), groupName(e.BackupGroup))
		if f.esDown[id] {
			s += " down"
		}
		return s
	}
	var lines []string
	for k, e := range f.fdb {
		var to string
		switch e.Kind {
		case dataplane.FDBVTEP:
			to = "vtep " + nhName(e.Ref)
		case dataplane.FDBES:
			to = esName(e.Ref)
		case dataplane.FDBLocal:
			to = fmt.Sprintf("port %d", e.Ref)
		}
		lines = append(lines, fmt.Sprintf("fdb %d %x -> %s flags %d", k.BD, k.MAC, to, e.Flags))
	}
	for id := range f.es {
		lines = append(lines, esName(id))
	}
	for a, fl := range f.vteps {
		lines = append(lines, fmt.Sprintf("vtep %s flags %d", a, fl))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// fakeUnderlay resolves every VTEP at once to a fixed port.
type fakeUnderlay struct{ watched map[netip.Addr]bool }

func (u *fakeUnderlay) Watch(a netip.Addr) (vxlan.Underlay, error) {
	if u.watched == nil {
		u.watched = map[netip.Addr]bool{}
	}
	u.watched[a] = true
	return vxlan.Underlay{VTEP: a, Ifindex: 9, Reachable: true, SrcMAC: [6]byte{2, 0, 0, 0, 0, 9}, DstMAC: [6]byte{2, 0, 0, 0, 0, 0xa}}, nil
}
func (u *fakeUnderlay) Unwatch(a netip.Addr) { delete(u.watched, a) }

type sinkRec struct{ paths []evpn.Path }

func (s *sinkRec) Originate(p []evpn.Path) { s.paths = append(s.paths, p...) }

func mustCore(tb testing.TB, cfg Config) (*core, *fakeDP) {
	tb.Helper()
	dp := newFakeDP()
	c, err := newCore(cfg, dp, &fakeUnderlay{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c, dp
}

func sortStrings(s []string) { slices.Sort(s) }
