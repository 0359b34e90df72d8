package nhg

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

// mustTable returns a Table whose install results are collected in *results.
func mustTable(tb testing.TB, cfg *Config) (*Table, *[]InstallResult) {
	tb.Helper()
	t, err := NewTable(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var results []InstallResult
	for _, o := range Owners() {
		t.Notify(o, func(r InstallResult) { results = append(results, r) })
	}
	tb.Cleanup(func() {
		for _, e := range t.Entries() {
			if e.Status == Pending {
				tb.Logf("group %d: a write was never reported", e.Group.ID)
			}
		}
	})
	return t, &results
}

func mustAdd(tb testing.TB, t *Table, g Group) Change {
	tb.Helper()
	ch, err := t.Add(g)
	if err != nil {
		tb.Fatal(err)
	}
	if ch.Op != OpReplace || len(ch.Buckets) == 0 {
		tb.Fatalf("Add: change %v, want a replace with buckets", ch)
	}
	return ch
}

func isRemove(ch Change, id uint32, o Owner) bool {
	return ch.Op == OpRemove && ch.ID == id && ch.Owner == o && ch.Buckets == nil
}

func mustReport(tb testing.TB, t *Table, id uint32, err error) {
	tb.Helper()
	if rerr := t.ReportInstall(id, err); rerr != nil {
		tb.Fatal(rerr)
	}
}

func TestTableAddAllocatesPerOwner(t *testing.T) {
	tbl, _ := mustTable(t, nil)
	for _, o := range Owners() {
		for k := range uint32(2) {
			g := validGroup()
			g.ID, g.Owner = 0, o
			ch := mustAdd(t, tbl, g)
			if want := o.GroupIDs().First + k; ch.ID != want || ch.Owner != o {
				t.Errorf("%s add %d: change for group %d of %s, want %d", o, k, ch.ID, ch.Owner, want)
			}
			if len(ch.Buckets) != DefaultBuckets {
				t.Errorf("%d buckets, want %d", len(ch.Buckets), DefaultBuckets)
			}
			mustReport(t, tbl, ch.ID, nil)
		}
		if tbl.Count(o) != 2 {
			t.Errorf("%s: Count = %d, want 2", o, tbl.Count(o))
		}
	}
	if tbl.Len() != 8 {
		t.Errorf("Len = %d, want 8", tbl.Len())
	}
	// An ID in another owner's range is refused.
	g := validGroup()
	g.ID, g.Owner = 6200, EVPNL3
	if _, err := tbl.Add(g); !errors.Is(err, ErrInvalid) || err.Error() != "group 6200: id is in api's range 6144-7167, not evpn-l3's (4096-6143)" {
		t.Errorf("add into another owner's range: %v", err)
	}
}

func TestTableExhaustion(t *testing.T) {
	tbl, _ := mustTable(t, &Config{Buckets: 1})
	g := validGroup()
	g.Owner = Static
	for range Static.GroupIDs().Len() {
		g.ID = 0
		ch := mustAdd(t, tbl, g)
		mustReport(t, tbl, ch.ID, nil)
	}
	g.ID = 0
	_, err := tbl.Add(g)
	if !errors.Is(err, ErrExhausted) || err.Error() != "add group: static group ids 7168-8191: all 1024 in use (free some first): id range exhausted" {
		t.Errorf("add past the end of the range: %v", err)
	}
}

func TestTableReplaceInPlace(t *testing.T) {
	tbl, results := mustTable(t, nil)
	g := Group{ID: 12, Owner: EVPNL2, Members: manyMembers(4)}
	first := mustAdd(t, tbl, g)
	mustReport(t, tbl, 12, nil)

	// Adding the same ID again replaces the group: one write, built from
	// the table the fast path holds, so only the newcomer's share moves.
	g.Members = append(g.Members, NextHop{ID: 5, VTEP: addr("10.0.0.5")})
	second := mustAdd(t, tbl, g)
	if second.ID != 12 || tbl.Len() != 1 {
		t.Fatalf("replace: change for %d, %d groups", second.ID, tbl.Len())
	}
	if moved := checkMoves(t, &g, first.Buckets, second.Buckets); moved > 26 {
		t.Errorf("replace moved %d buckets", moved)
	}
	mustReport(t, tbl, 12, nil)
	want := []InstallResult{
		{GroupID: 12, Owner: EVPNL2, Status: Installed},
		{GroupID: 12, Owner: EVPNL2, Status: Installed},
	}
	if !slices.Equal(*results, want) {
		t.Errorf("results %v, want %v", *results, want)
	}
	e, ok := tbl.Get(12)
	if !ok || e.Status != Installed || len(e.Group.Members) != 5 || !slices.Equal(e.Buckets, second.Buckets) {
		t.Errorf("Get(12) = %+v, %t", e, ok)
	}

	// Replace wants an existing group.
	g.ID = 13
	if _, err := tbl.Replace(g); !errors.Is(err, ErrNotFound) || err.Error() != "replace group 13: not found" {
		t.Errorf("Replace of a missing group: %v", err)
	}
	g.ID = 12
	g.Members = g.Members[1:]
	if ch, err := tbl.Replace(g); err != nil || ch.Op != OpReplace {
		t.Errorf("Replace of group 12: %v, %v", ch, err)
	}
	mustReport(t, tbl, 12, nil)
}

func TestTableOwnsItsCopies(t *testing.T) {
	tbl, _ := mustTable(t, nil)
	g := validGroup()
	ch := mustAdd(t, tbl, g)
	mustReport(t, tbl, ch.ID, nil)
	g.Members[0].Backups[0] = 99 // the caller's slices are not the Table's
	ch.Buckets[0] = Bucket{Primary: 77}
	e, _ := tbl.Get(12)
	if e.Group.Members[0].Backups[0] != 7 || e.Buckets[0].Primary == 77 {
		t.Errorf("the Table shares memory with its caller: %+v", e)
	}
	e.Buckets[1] = Bucket{Primary: 77}
	if e2, _ := tbl.Get(12); e2.Buckets[1].Primary == 77 {
		t.Error("Get shares memory with the Table")
	}
}

func TestTableFailedInstall(t *testing.T) {
	tbl, results := mustTable(t, nil)
	g := Group{ID: 12, Owner: EVPNL2, Members: manyMembers(3)}
	installed := mustAdd(t, tbl, g).Buckets
	mustReport(t, tbl, 12, nil)

	g.Members[0].Weight = 5
	mustAdd(t, tbl, g)
	boom := errors.New("slot write: no space")
	mustReport(t, tbl, 12, boom)
	if r := (*results)[1]; r.Status != Failed || r.Err != boom || r.GroupID != 12 || r.Owner != EVPNL2 {
		t.Errorf("result %+v, want failed with the write's error", r)
	}
	e, _ := tbl.Get(12)
	if e.Status != Failed || e.Err != boom || !slices.Equal(e.Buckets, installed) {
		t.Errorf("after a failed write: %+v, want the installed table", e)
	}
	// The next table is built from what the fast path still holds.
	g.Members[1].Weight = 3
	ch := mustAdd(t, tbl, g)
	want := mustBuckets(t, &g, DefaultBuckets, installed)
	if !slices.Equal(ch.Buckets, want) {
		t.Errorf("after a failed write, the table is not built from the installed one")
	}
	mustReport(t, tbl, 12, nil)
}

func TestTableDelete(t *testing.T) {
	tbl, results := mustTable(t, nil)
	g := validGroup()
	g.ID = 0
	id := mustAdd(t, tbl, g).ID
	mustReport(t, tbl, id, nil)

	ch, err := tbl.Delete(id)
	if err != nil || !isRemove(ch, id, EVPNL2) {
		t.Fatalf("Delete = %+v, %v; want a removal", ch, err)
	}
	// A second delete while the first is out asks for nothing.
	if ch, err := tbl.Delete(id); err != nil || ch.Op != OpNone {
		t.Errorf("second Delete = %+v, %v", ch, err)
	}
	if tbl.Count(EVPNL2) != 1 {
		t.Error("ID freed before the removal was reported")
	}
	mustReport(t, tbl, id, nil)
	if _, ok := tbl.Get(id); ok || tbl.Len() != 0 || tbl.Count(EVPNL2) != 0 {
		t.Errorf("group %d still there after its removal", id)
	}
	if last := (*results)[len(*results)-1]; last != (InstallResult{GroupID: id, Owner: EVPNL2, Status: Removed}) {
		t.Errorf("last result %+v, want removed", last)
	}
	if _, err := tbl.Delete(id); !errors.Is(err, ErrNotFound) || err.Error() != "delete group 1: not found" {
		t.Errorf("Delete of a removed group: %v", err)
	}
	if err := tbl.ReportInstall(id, nil); !errors.Is(err, ErrNotFound) || err.Error() != "report install of group 1: no write awaits a result: not found" {
		t.Errorf("ReportInstall with nothing out: %v", err)
	}
}

func TestTableRemoveFailed(t *testing.T) {
	tbl, results := mustTable(t, nil)
	id := mustAdd(t, tbl, validGroup()).ID
	mustReport(t, tbl, id, nil)
	if ch, _ := tbl.Delete(id); ch.Op != OpRemove {
		t.Fatalf("Delete = %v", ch)
	}
	boom := errors.New("bpf: permission denied")
	mustReport(t, tbl, id, boom)
	if r := (*results)[len(*results)-1]; r.Status != RemoveFailed || r.Err != boom {
		t.Errorf("result %+v, want remove-failed", r)
	}
	if e, ok := tbl.Get(id); !ok || e.Status != RemoveFailed {
		t.Errorf("group after a failed removal: %+v, %t", e, ok)
	}
	// Deleting again hands the removal out again.
	if ch, err := tbl.Delete(id); err != nil || ch.Op != OpRemove {
		t.Fatalf("retry Delete = %+v, %v", ch, err)
	}
	mustReport(t, tbl, id, nil)
	if tbl.Len() != 0 {
		t.Error("group still there")
	}
}

func TestTableDeferredDelete(t *testing.T) {
	tbl, results := mustTable(t, nil)
	id := mustAdd(t, tbl, validGroup()).ID
	mustReport(t, tbl, id, nil)
	for range 2 {
		if err := tbl.Ref(id); err != nil {
			t.Fatal(err)
		}
	}
	// Deleting a group with users defers the removal.
	ch, err := tbl.Delete(id)
	if err != nil || ch.Op != OpNone {
		t.Fatalf("Delete with 2 users = %+v, %v; want nothing to write", ch, err)
	}
	e, _ := tbl.Get(id)
	if !e.Deleting || e.Refs != 2 || e.Status != Installed {
		t.Errorf("deleted group with users: %+v", e)
	}
	// It takes no new users.
	err = tbl.Ref(id)
	if !errors.Is(err, ErrDeleting) || err.Error() != "reference group 12: deleted by evpn-l2, waiting for 2 users to leave: group is being deleted" {
		t.Errorf("Ref of a deleted group: %v", err)
	}
	if ch, err := tbl.Unref(id); err != nil || ch.Op != OpNone {
		t.Errorf("first Unref = %+v, %v", ch, err)
	}
	// The last user's Unref is the removal.
	ch, err = tbl.Unref(id)
	if err != nil || !isRemove(ch, id, EVPNL2) {
		t.Fatalf("last Unref = %+v, %v; want the removal", ch, err)
	}
	mustReport(t, tbl, id, nil)
	if tbl.Len() != 0 || (*results)[len(*results)-1].Status != Removed {
		t.Errorf("group not removed: %v", *results)
	}
	if _, err := tbl.Unref(id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Unref of a removed group: %v", err)
	}
}

func TestTableAddRevivesDeleted(t *testing.T) {
	tbl, _ := mustTable(t, nil)
	g := validGroup()
	mustAdd(t, tbl, g)
	mustReport(t, tbl, 12, nil)
	if err := tbl.Ref(12); err != nil {
		t.Fatal(err)
	}
	if ch, _ := tbl.Delete(12); ch.Op != OpNone {
		t.Fatalf("deferred Delete = %v", ch)
	}
	// The owner adds it back before the last user leaves: delete cancelled.
	mustAdd(t, tbl, g)
	mustReport(t, tbl, 12, nil)
	if err := tbl.Ref(12); err != nil {
		t.Errorf("Ref after the group came back: %v", err)
	}
	for range 2 {
		if ch, err := tbl.Unref(12); err != nil || ch.Op != OpNone {
			t.Errorf("Unref of a live group = %+v, %v", ch, err)
		}
	}
	if _, err := tbl.Unref(12); !errors.Is(err, ErrInvalid) || err.Error() != "unreference group 12: it has no users: invalid nexthop group" {
		t.Errorf("Unref below zero: %v", err)
	}

	// Added back while its removal is out: both writes are reported in
	// order and the group stays.
	if ch, _ := tbl.Delete(12); ch.Op != OpRemove {
		t.Fatalf("Delete = %v", ch)
	}
	mustAdd(t, tbl, g)
	mustReport(t, tbl, 12, nil)
	mustReport(t, tbl, 12, nil)
	if e, ok := tbl.Get(12); !ok || e.Status != Installed || e.Deleting {
		t.Errorf("group after remove then add: %+v, %t", e, ok)
	}
	if err := tbl.Ref(99); !errors.Is(err, ErrNotFound) || err.Error() != "reference group 99: not found" {
		t.Errorf("Ref of a missing group: %v", err)
	}
}

func TestTableSetNextHopDown(t *testing.T) {
	tbl, _ := mustTable(t, nil)
	// Group 12: nexthop 2 is a member. Group 4100: nexthop 2 is a backup.
	a := Group{ID: 12, Owner: EVPNL2, Members: manyMembers(4)}
	b := Group{ID: 4100, Owner: EVPNL3, Members: manyMembers(4)[2:], Backups: manyMembers(2)}
	b.Members[0].Backups = []uint32{2, 1}
	c := Group{ID: 13, Owner: EVPNL2, Members: manyMembers(4)[2:]} // no nexthop 2
	before := make(map[uint32][]Bucket)
	for _, g := range []Group{a, b, c} {
		before[g.ID] = mustAdd(t, tbl, g).Buckets
		mustReport(t, tbl, g.ID, nil)
	}

	changes := tbl.SetNextHopDown(2, true)
	if len(changes) != 2 || changes[0].ID != 12 || changes[1].ID != 4100 {
		t.Fatalf("changes for groups %v, want 12 and 4100", changes)
	}
	// Group 12: member 2's buckets go where their backups pointed, no other moves.
	for i, bk := range changes[0].Buckets {
		old := before[12][i]
		switch {
		case old.Primary == 2 && bk.Primary != old.Backup:
			t.Errorf("group 12 bucket %d: member 2's flows went to %d, backup was %d", i, bk.Primary, old.Backup)
		case old.Primary != 2 && bk.Primary != old.Primary:
			t.Errorf("group 12 bucket %d: moved from %d to %d", i, old.Primary, bk.Primary)
		case bk.Primary == 2 || bk.Backup == 2:
			t.Errorf("group 12 bucket %d: %v uses the down nexthop", i, bk)
		}
	}
	// Group 4100: member 3's backup falls to its next configured one.
	for _, bk := range changes[1].Buckets {
		if bk.Primary == 3 && bk.Backup != 1 {
			t.Errorf("group 4100: member 3's bucket backs up to %d, want 1", bk.Backup)
		}
	}
	for _, ch := range changes {
		mustReport(t, tbl, ch.ID, nil)
	}
	if e, _ := tbl.Get(12); !e.Group.Members[1].Down {
		t.Error("group 12 does not record nexthop 2 down")
	}
	// Saying it again changes nothing.
	if again := tbl.SetNextHopDown(2, true); len(again) != 0 {
		t.Errorf("second down: %v", again)
	}
	// Back up: it takes its share back, moving only that.
	up := tbl.SetNextHopDown(2, false)
	if len(up) != 2 {
		t.Fatalf("up: %d changes, want 2", len(up))
	}
	e, _ := tbl.Get(12)
	down := changes[0].Buckets
	if moved := checkMoves(t, &e.Group, down, up[0].Buckets); moved != 32 {
		t.Errorf("coming back moved %d buckets, want 32", moved)
	}
	for _, ch := range up {
		mustReport(t, tbl, ch.ID, nil)
	}
	// A nexthop whose state changes no table asks for no write: group
	// 4100's second backup, never chosen while the first is up.
	if ch := tbl.SetNextHopDown(1, true); len(ch) != 1 || ch[0].ID != 12 {
		t.Errorf("backup 1 down: changes %v, want group 12 only", ch)
	} else {
		mustReport(t, tbl, 12, nil)
	}
	if e, _ := tbl.Get(4100); !e.Group.Backups[0].Down {
		t.Error("group 4100 does not record nexthop 1 down")
	}
}

func TestTableConfig(t *testing.T) {
	for _, n := range []int{-1, 3, 256} {
		if _, err := NewTable(&Config{Buckets: n}); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewTable with %d buckets: %v", n, err)
		}
	}
	tbl, _ := mustTable(t, &Config{Buckets: 16})
	ch := mustAdd(t, tbl, validGroup())
	if len(ch.Buckets) != 16 {
		t.Errorf("%d buckets, want 16", len(ch.Buckets))
	}
	mustReport(t, tbl, ch.ID, nil)
	// Without a Notify function results are dropped.
	tbl.Notify(EVPNL2, nil)
	mustAdd(t, tbl, validGroup())
	mustReport(t, tbl, 12, nil)
}

func TestStatusAndOpStrings(t *testing.T) {
	for s, want := range map[Status]string{Pending: "pending", Installed: "installed", Failed: "failed", Removed: "removed", RemoveFailed: "remove-failed", 9: "status(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", uint8(s), s, want)
		}
	}
	for o, want := range map[Op]string{OpNone: "none", OpReplace: "replace", OpRemove: "remove", 7: "op(7)"} {
		if o.String() != want {
			t.Errorf("%d: %q, want %q", uint8(o), o, want)
		}
	}
}

func TestReserveID(t *testing.T) {
	tbl, err := NewTable(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := NewGroupIDAllocator().Range(EVPNL2)
	if err := tbl.ReserveID(EVPNL2, r.First); err != nil {
		t.Fatal(err)
	}
	if err := tbl.ReserveID(EVPNL2, r.First); !errors.Is(err, ErrInUse) {
		t.Fatalf("second reservation: %v", err)
	}
	ch, err := tbl.Add(Group{Owner: EVPNL2, Members: []NextHop{{ID: 1, VTEP: netip.MustParseAddr("192.0.2.1")}}})
	if err != nil || ch.ID == r.First {
		t.Fatalf("add took id %d (reserved %d): %v", ch.ID, r.First, err)
	}
	if err := tbl.ReleaseID(EVPNL2, ch.ID); !errors.Is(err, ErrInUse) {
		t.Fatalf("releasing a used id: %v", err)
	}
	if err := tbl.ReleaseID(EVPNL2, r.First); err != nil {
		t.Fatal(err)
	}
	if err := tbl.ReserveID(EVPNL2, r.Last+1); err == nil {
		t.Fatal("reserved an id outside the owner's range")
	}
}
