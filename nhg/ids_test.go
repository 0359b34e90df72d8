package nhg

import (
	"errors"
	"testing"
)

func TestAllocPerOwner(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func() *IDAllocator
		rng  func(Owner) Range
	}{
		{"group", NewGroupIDAllocator, Owner.GroupIDs},
		{"nexthop", NewNextHopIDAllocator, Owner.NextHopIDs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.new()
			for _, o := range Owners() {
				r := tc.rng(o)
				if a.Range(o) != r {
					t.Errorf("%s: Range = %s, want %s", o, a.Range(o), r)
				}
				for k := range uint32(3) {
					id, err := a.Alloc(o)
					if err != nil {
						t.Fatal(err)
					}
					if id != r.First+k {
						t.Errorf("%s: alloc %d = %d, want %d", o, k, id, r.First+k)
					}
					if !a.InUse(id) {
						t.Errorf("%s: %d not in use after Alloc", o, id)
					}
				}
				if a.Count(o) != 3 {
					t.Errorf("%s: Count = %d, want 3", o, a.Count(o))
				}
			}
		})
	}
}

func TestAllocExhaustion(t *testing.T) {
	a := NewGroupIDAllocator()
	r := API.GroupIDs()
	seen := make(map[uint32]bool)
	for range r.Len() {
		id, err := a.Alloc(API)
		if err != nil {
			t.Fatalf("after %d ids: %v", len(seen), err)
		}
		if !r.Contains(id) || seen[id] {
			t.Fatalf("alloc = %d: outside %s or handed out twice", id, r)
		}
		seen[id] = true
	}
	_, err := a.Alloc(API)
	if !errors.Is(err, ErrExhausted) {
		t.Fatalf("alloc from a full range: %v, want ErrExhausted", err)
	}
	if want := "api group ids 6144-7167: all 1024 in use (free some first): id range exhausted"; err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	// Other owners are not affected.
	if id, err := a.Alloc(Static); err != nil || id != Static.GroupIDs().First {
		t.Errorf("static alloc with api full = %d, %v", id, err)
	}
	// A freed ID is found again, wherever the cursor is.
	if err := a.Free(API, 6500); err != nil {
		t.Fatal(err)
	}
	if id, err := a.Alloc(API); err != nil || id != 6500 {
		t.Errorf("alloc after free = %d, %v; want 6500", id, err)
	}
}

func TestAllocNextFit(t *testing.T) {
	a := NewNextHopIDAllocator()
	r := EVPNL3.NextHopIDs()
	first, _ := a.Alloc(EVPNL3)
	second, _ := a.Alloc(EVPNL3)
	if err := a.Free(EVPNL3, first); err != nil {
		t.Fatal(err)
	}
	// The freed ID is not handed out again at once.
	if id, _ := a.Alloc(EVPNL3); id != second+1 {
		t.Errorf("alloc after free = %d, want %d (next fit)", id, second+1)
	}
	// At the end of the range the cursor wraps to the lowest free ID.
	if err := a.Reserve(EVPNL3, r.Last); err != nil {
		t.Fatal(err)
	}
	for id := second + 2; id < r.Last; id++ {
		if err := a.Reserve(EVPNL3, id); err != nil {
			t.Fatal(err)
		}
	}
	if id, err := a.Alloc(EVPNL3); err != nil || id != first {
		t.Errorf("alloc at the end of the range = %d, %v; want %d (wrapped)", id, err, first)
	}
}

func TestReserveFreeErrors(t *testing.T) {
	a := NewGroupIDAllocator()
	for _, tc := range []struct {
		name string
		err  error
		is   error
		want string
	}{
		{"other owner's id", a.Reserve(API, 5000), ErrInvalid,
			"group id 5000: in evpn-l3's range 4096-6143, not api's (6144-7167): invalid nexthop group"},
		{"out of space", a.Reserve(Static, 9000), ErrInvalid,
			"group id 9000: out of range (static's ids are 7168-8191): invalid nexthop group"},
		{"id 0", a.Reserve(EVPNL2, 0), ErrInvalid,
			"group id 0: out of range (evpn-l2's ids are 1-4095): invalid nexthop group"},
		{"unknown owner", a.Reserve(0, 10), ErrInvalid,
			"group id 10: unknown owner 0: invalid nexthop group"},
		{"free unallocated", a.Free(EVPNL2, 10), ErrNotFound,
			"free evpn-l2 group id 10: not allocated: not found"},
		{"free other owner's", a.Free(API, 10), ErrInvalid,
			"group id 10: in evpn-l2's range 1-4095, not api's (6144-7167): invalid nexthop group"},
	} {
		if !errors.Is(tc.err, tc.is) || tc.err.Error() != tc.want {
			t.Errorf("%s: %v\nwant %q (%v)", tc.name, tc.err, tc.want, tc.is)
		}
	}
	if err := a.Reserve(EVPNL2, 10); err != nil {
		t.Fatal(err)
	}
	if err := a.Reserve(EVPNL2, 10); !errors.Is(err, ErrInUse) || err.Error() != "evpn-l2 group id 10: id in use" {
		t.Errorf("second reserve: %v", err)
	}
	if _, err := a.Alloc(0); !errors.Is(err, ErrInvalid) {
		t.Errorf("alloc for owner 0: %v", err)
	}
	if a.InUse(1 << 20) {
		t.Error("InUse of an id beyond the space")
	}
}
