package nhg

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestRangesTileTheSpaces(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ranges func(Owner) Range
		owner  func(uint32) (Owner, bool)
		max    uint32
	}{
		{"group", Owner.GroupIDs, GroupOwner, MaxGroupID},
		{"nexthop", Owner.NextHopIDs, NextHopOwner, MaxNextHopID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := uint32(1)
			for _, o := range Owners() {
				r := tc.ranges(o)
				if r.First != next {
					t.Fatalf("%s range %s starts at %d, want %d (ranges must tile the space)", o, r, r.First, next)
				}
				if r.Len() < 1024 {
					t.Errorf("%s range %s: %d ids, want at least 1024", o, r, r.Len())
				}
				for _, id := range []uint32{r.First, r.Last, (r.First + r.Last) / 2} {
					if got, ok := tc.owner(id); !ok || got != o {
						t.Errorf("owner of %s id %d = %v, %t; want %s", tc.name, id, got, ok, o)
					}
				}
				next = r.Last + 1
			}
			if next != tc.max+1 {
				t.Fatalf("ranges end at %d, want %d", next-1, tc.max)
			}
			for _, id := range []uint32{0, tc.max + 1} {
				if o, ok := tc.owner(id); ok {
					t.Errorf("owner of %s id %d = %s, want none", tc.name, id, o)
				}
			}
		})
	}
	if r := Owner(0).GroupIDs(); r.Len() != 0 || r.Contains(0) {
		t.Errorf("invalid owner's range = %s, want empty", r)
	}
}

func TestOwnerText(t *testing.T) {
	for _, o := range Owners() {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var back Owner
		if err := json.Unmarshal(b, &back); err != nil || back != o {
			t.Errorf("%s: round trip through %s = %v, %v", o, b, back, err)
		}
	}
	_, err := ParseOwner("bgp")
	if !errors.Is(err, ErrInvalid) || err.Error() != `owner "bgp": want one of evpn-l2, evpn-l3, api, static: invalid nexthop group` {
		t.Errorf("ParseOwner(bgp) = %v", err)
	}
	if s := Owner(9).String(); s != "owner(9)" {
		t.Errorf("Owner(9) = %q", s)
	}
	if _, err := Owner(0).MarshalText(); err == nil {
		t.Error("invalid owner marshalled")
	}
}
