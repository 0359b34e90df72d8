package control

import (
	"errors"
	"testing"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
)

// refusingDP is the fake with FDB keys it cannot take (a full probe chain
// in the real table): SetFDB fails for them and SetFDBBatch stops at the
// first, as the dataplane's does, reporting how many it installed.
type refusingDP struct {
	*fakeDP
	refuse map[dataplane.FDBKey]bool
}

var errRefused = errors.New("refused")

func (d *refusingDP) SetFDB(k dataplane.FDBKey, e dataplane.FDBEntry) error {
	if d.refuse[k] {
		return errRefused
	}
	return d.fakeDP.SetFDB(k, e)
}

func (d *refusingDP) SetFDBBatch(keys []dataplane.FDBKey, entries []dataplane.FDBEntry) (int, error) {
	for i, k := range keys {
		if d.refuse[k] {
			if _, err := d.fakeDP.SetFDBBatch(keys[:i], entries[:i]); err != nil {
				return 0, err
			}
			return i, errRefused
		}
	}
	return d.fakeDP.SetFDBBatch(keys, entries)
}

// TestFDBBatchPartial: when a batch stops at an entry, that entry alone
// fails (counted, not marked installed) and every other one is installed,
// as if each had been written alone; the failed one is written by the next
// flush that touches its MAC.
func TestFDBBatchPartial(t *testing.T) {
	dp := &refusingDP{fakeDP: newFakeDP(), refuse: map[dataplane.FDBKey]bool{}}
	c, err := newCore(baseConfig(), dp, &fakeUnderlay{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3*fdbBatchMax + 17 // several batches and a partial one
	bad := []int{5, fdbBatchMax + 1, n - 1}
	for _, i := range bad {
		dp.refuse[dataplane.FDBKey{BD: vni, MAC: macN(i)}] = true
	}
	paths := make([]evpn.Path, n)
	for i := range paths {
		paths[i] = type2(pe(1+i%4), macN(i), evpn.ESI{}, 0)
	}
	before := c.stats
	c.applyAll(t, paths...)
	if got := c.stats.FDBWrites - before.FDBWrites; got != uint64(n-len(bad)) {
		t.Errorf("%d FDB writes, want %d", got, n-len(bad))
	}
	if got := c.stats.WriteErrors - before.WriteErrors; got != uint64(len(bad)) {
		t.Errorf("%d write errors, want %d", got, len(bad))
	}
	if len(dp.fdb) != n-len(bad) {
		t.Errorf("fake FDB holds %d entries, want %d", len(dp.fdb), n-len(bad))
	}
	for _, i := range bad {
		m := c.macOf(macKey{vni: vni, mac: macN(i)})
		if m == nil || m.installed != nil {
			t.Fatalf("refused MAC %d: state %+v, want known and not installed", i, m)
		}
	}
	if dp.batches == 0 {
		t.Error("no batch write")
	}
	// The table has room again: the next change to those MACs lands.
	clear(dp.refuse)
	for _, i := range bad {
		c.applyAll(t, type2(pe(1+i%4), macN(i), evpn.ESI{}, 1))
		if e, ok := fdbOf(dp.fakeDP, macN(i)); !ok || e.Kind != dataplane.FDBVTEP {
			t.Fatalf("MAC %d after the retry: %+v, %v", i, e, ok)
		}
		if m := c.macOf(macKey{vni: vni, mac: macN(i)}); m.installed == nil || *m.installed != dp.fdb[dataplane.FDBKey{BD: vni, MAC: macN(i)}] {
			t.Fatalf("MAC %d: installed %v", i, m.installed)
		}
	}
}

// TestMACRouteRelabelled: a type-2 route replaced by one with the same key
// but another label (another BD) leaves the first BD's MAC: its entry
// goes, and the MAC is forgotten there.
func TestMACRouteRelabelled(t *testing.T) {
	const other = vni + 1
	cfg := baseConfig()
	cfg.BDs = append(cfg.BDs, other)
	c, dp := mustCore(t, cfg)
	p := type2(pe(1), macN(1), evpn.ESI{}, 0)
	c.applyAll(t, p)
	if _, ok := fdbOf(dp, macN(1)); !ok {
		t.Fatal("no entry for the route")
	}
	q := p
	r := q.Route.(evpn.MACIPRoute)
	r.Label1 = other
	q.Route = r
	c.applyAll(t, q)
	if e, ok := fdbOf(dp, macN(1)); ok {
		t.Errorf("BD %d still has the MAC: %+v", vni, e)
	}
	if _, ok := dp.fdb[dataplane.FDBKey{BD: other, MAC: macN(1)}]; !ok {
		t.Errorf("BD %d lacks the MAC", other)
	}
	if m := c.macOf(macKey{vni: vni, mac: macN(1)}); m != nil {
		t.Errorf("BD %d keeps the MAC's state: %d paths", vni, len(m.paths))
	}
	c.applyAll(t, withdraw(q))
	if len(dp.fdb) != 0 || c.nMACs != 0 {
		t.Errorf("after the withdrawal: %d entries, %d MACs", len(dp.fdb), c.nMACs)
	}
}

// TestMACLeavesES: a MAC whose route moves from a remote ES to a plain
// VTEP drops its back reference, and the ES nobody mentions any more goes;
// with many ESes, only the MAC's own ES is touched.
func TestMACLeavesES(t *testing.T) {
	c, dp := mustCore(t, baseConfig())
	var paths []evpn.Path
	for i := 1; i <= 2; i++ {
		paths = append(paths, eadES(pe(i), esiRem), eadEVI(pe(i), esiRem))
	}
	paths = append(paths, type2(pe(1), macN(1), esiRem, 0))
	c.applyAll(t, paths...)
	e := c.ess[esiRem]
	if e == nil || len(e.macs) != 1 {
		t.Fatalf("remote ES: %+v", e)
	}
	if got, _ := fdbOf(dp, macN(1)); got.Kind != dataplane.FDBES || got.Ref != e.id {
		t.Fatalf("MAC behind the ES: %+v", got)
	}
	c.applyAll(t, type2(pe(1), macN(1), evpn.ESI{}, 0)) // same key, no ESI now
	if len(e.macs) != 0 {
		t.Errorf("ES still lists %d MACs", len(e.macs))
	}
	if m := c.macOf(macKey{vni: vni, mac: macN(1)}); len(m.esis) != 0 {
		t.Errorf("MAC still refers to ESes %v", m.esis)
	}
	if got, _ := fdbOf(dp, macN(1)); got.Kind != dataplane.FDBVTEP {
		t.Errorf("MAC off the ES: %+v", got)
	}
	var w []evpn.Path
	for _, p := range paths[:4] {
		w = append(w, withdraw(p))
	}
	c.applyAll(t, w...)
	if c.ess[esiRem] != nil {
		t.Error("the remote ES outlived its last route")
	}
}

// TestFDBBatchDeleteCounts: a batch of removals counts a write per entry
// it removed; a key the fast path no longer holds is skipped, not counted
// as written.
func TestFDBBatchDeleteCounts(t *testing.T) {
	c, dp := mustCore(t, baseConfig())
	p1, p2 := type2(pe(1), macN(1), evpn.ESI{}, 0), type2(pe(1), macN(2), evpn.ESI{}, 0)
	c.applyAll(t, p1, p2)
	if len(dp.fdb) != 2 {
		t.Fatalf("%d entries, want 2", len(dp.fdb))
	}
	delete(dp.fdb, dataplane.FDBKey{BD: vni, MAC: macN(2)}) // gone behind the loop's back
	before := c.stats
	c.applyAll(t, withdraw(p1), withdraw(p2))
	if got := c.stats.FDBWrites - before.FDBWrites; got != 1 {
		t.Errorf("%d FDB writes counted, want 1 (one entry removed)", got)
	}
	if len(dp.fdb) != 0 || c.nMACs != 0 {
		t.Errorf("after the withdrawals: %d entries, %d MACs", len(dp.fdb), c.nMACs)
	}
}
