package nhg

import (
	"errors"
	"net/netip"
	"testing"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// validGroup is the base every validation case breaks one rule of.
func validGroup() Group {
	return Group{
		ID:    12,
		Owner: EVPNL2,
		Members: []NextHop{
			{ID: 3, VTEP: addr("192.0.2.4"), Backups: []uint32{7}},
			{ID: 4, VTEP: addr("192.0.2.5"), Weight: 2},
		},
		Backups: []NextHop{{ID: 7, VTEP: addr("192.0.2.9")}},
	}
}

func TestValidateRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(g *Group)
		want   string
	}{
		{"unknown owner", func(g *Group) { g.Owner = 0 },
			"group 12: unknown owner 0 (want evpn-l2, evpn-l3, api, static)"},
		{"id of another owner", func(g *Group) { g.ID = 5000 },
			"group 5000: id is in evpn-l3's range 4096-6143, not evpn-l2's (1-4095)"},
		{"id beyond the fast path", func(g *Group) { g.ID = 9000 },
			"group 9000: id out of range 1-8191 (evpn-l2's ids are 1-4095)"},
		{"no members", func(g *Group) { g.Members = nil },
			"group 12: no members"},
		{"no members, new group", func(g *Group) { g.ID, g.Members = 0, nil },
			"new group: no members"},
		{"too many members", func(g *Group) { g.Members = manyMembers(129) },
			"group 12: 129 members: at most 128"},
		{"too many backup nexthops", func(g *Group) {
			g.Members[0].Backups = nil
			g.Backups = manyMembers(17)
			for i := range g.Backups {
				g.Backups[i].ID += 100
			}
		}, "group 12: 17 backup nexthops: at most 16"},
		{"member id 0", func(g *Group) { g.Members[1].ID = 0 },
			"group 12 member[1] (vtep 192.0.2.5): nexthop id 0 out of range 1-65535"},
		{"member id too high", func(g *Group) { g.Members[1].ID = 70000 },
			"group 12 member[1] (vtep 192.0.2.5): nexthop id 70000 out of range 1-65535"},
		{"no vtep", func(g *Group) { g.Members[1].VTEP = netip.Addr{} },
			"group 12 member 4 (no vtep): no vtep address"},
		{"unspecified vtep", func(g *Group) { g.Members[1].VTEP = addr("0.0.0.0") },
			"group 12 member 4 (vtep 0.0.0.0): vtep 0.0.0.0 is unspecified"},
		{"multicast vtep", func(g *Group) { g.Members[1].VTEP = addr("ff02::1") },
			"group 12 member 4 (vtep ff02::1): vtep ff02::1 is a multicast address; a vtep is unicast"},
		{"vni out of range", func(g *Group) { g.Members[1].VNI = 1 << 24 },
			"group 12 member 4 (vtep 192.0.2.5 vni 16777216): vni 16777216 out of range 0-16777215"},
		{"weight out of range", func(g *Group) { g.Members[1].Weight = 256 },
			"group 12 member 4 (vtep 192.0.2.5): weight 256 out of range 1-255 (0 means 1)"},
		{"member listed twice", func(g *Group) { g.Members[1].ID = 3 },
			"group 12 member 3 (vtep 192.0.2.5): nexthop 3 listed twice as a member"},
		{"same vtep twice", func(g *Group) { g.Members[1].VTEP = addr("::ffff:192.0.2.4") },
			"group 12 member 4 (vtep ::ffff:192.0.2.4): same vtep and vni as member 3; use one member with a higher weight"},
		{"member and backup differ", func(g *Group) {
			g.Backups = append(g.Backups, NextHop{ID: 4, VTEP: addr("192.0.2.99")})
		}, "group 12 member 4 (vtep 192.0.2.5): differs from backup nexthop 4 (vtep 192.0.2.99 vni 0 down false): one ID, one nexthop"},
		{"member and backup differ in state", func(g *Group) {
			g.Backups = append(g.Backups, NextHop{ID: 4, VTEP: addr("192.0.2.5"), Down: true})
		}, "group 12 member 4 (vtep 192.0.2.5): differs from backup nexthop 4 (vtep 192.0.2.5 vni 0 down true): one ID, one nexthop"},
		{"too many backups", func(g *Group) {
			g.Members[0].Backups = []uint32{7, 8, 9, 10, 11, 12, 13, 14, 15}
		}, "group 12 member 3 (vtep 192.0.2.4): 9 backups: at most 8"},
		{"self backup", func(g *Group) {
			g.Members[0].Backups = []uint32{7, 3}
			g.Backups = append(g.Backups, g.Members[0])
			g.Backups[1].Backups = nil
		}, "group 12 member 3 (vtep 192.0.2.4): backup 3 is the member itself"},
		{"self backup, not in the list", func(g *Group) { g.Members[0].Backups = []uint32{3} },
			"group 12 member 3 (vtep 192.0.2.4): backup 3 is the member itself"},
		{"backup listed twice", func(g *Group) { g.Members[0].Backups = []uint32{7, 7} },
			"group 12 member 3 (vtep 192.0.2.4): backup 7 listed twice"},
		{"backup not in the list", func(g *Group) { g.Members[1].Backups = []uint32{8} },
			"group 12 member 4 (vtep 192.0.2.5): backup 8 is not in the group's backup list (have: 7)"},
		{"no backup list", func(g *Group) { g.Backups = nil },
			"group 12 member 3 (vtep 192.0.2.4): backup 7 is not in the group's backup list (the group has no backup nexthops)"},
		{"backup nexthop twice", func(g *Group) {
			g.Backups = append(g.Backups, NextHop{ID: 7, VTEP: addr("192.0.2.10")})
		}, "group 12 backup 7 (vtep 192.0.2.10): nexthop 7 listed twice in the backup list"},
		{"backup chain", func(g *Group) { g.Backups[0].Backups = []uint32{4} },
			"group 12 backup 7 (vtep 192.0.2.9): lists backups [4]: a backup nexthop has no backups of its own; list them on the member, in order"},
		{"backup without vtep", func(g *Group) { g.Backups[0].VTEP = netip.Addr{} },
			"group 12 backup 7 (no vtep): no vtep address"},
		{"backup id 0", func(g *Group) { g.Backups[0].ID = 0 },
			"group 12 backup[0] (vtep 192.0.2.9): nexthop id 0 out of range 1-65535"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := validGroup()
			tc.break_(&g)
			err := g.Validate()
			if err == nil {
				t.Fatalf("valid, want %q", tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%v does not match ErrInvalid", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error = %q\nwant    %q", err, tc.want)
			}
			// The same error comes out of every entry point.
			if _, berr := g.Buckets(0, nil); berr == nil || berr.Error() != err.Error() {
				t.Errorf("Buckets: %v, want %v", berr, err)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(g *Group)
	}{
		{"as is", func(*Group) {}},
		{"id 0 (table picks)", func(g *Group) { g.ID = 0 }},
		{"weights 0 and 255", func(g *Group) { g.Members[0].Weight, g.Members[1].Weight = 0, 255 }},
		{"eight backups", func(g *Group) {
			g.Backups = nil
			g.Members[0].Backups = nil
			for id := uint32(100); id < 108; id++ {
				g.Backups = append(g.Backups, NextHop{ID: id, VTEP: netip.AddrFrom4([4]byte{198, 51, 100, byte(id)})})
				g.Members[0].Backups = append(g.Members[0].Backups, id)
			}
		}},
		{"members back each other up", func(g *Group) {
			g.Members[0].Backups = []uint32{4}
			g.Members[1].Backups = []uint32{3}
			a, b := g.Members[0], g.Members[1]
			a.Backups, b.Backups, a.Weight, b.Weight = nil, nil, 0, 0
			g.Backups = []NextHop{a, b}
		}},
		{"same vtep, other vni", func(g *Group) { g.Members[1].VTEP, g.Members[1].VNI = g.Members[0].VTEP, 5000 }},
		{"128 members, 16 backups", func(g *Group) {
			g.Members = manyMembers(128)
			g.Backups = nil
			for i := range 16 {
				id := uint32(1000 + i)
				g.Backups = append(g.Backups, NextHop{ID: id, VTEP: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})})
				g.Members[i].Backups = []uint32{id}
			}
		}},
		{"backup of another owner's nexthop id", func(g *Group) { g.Backups[0].ID = 40000; g.Members[0].Backups = []uint32{40000} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := validGroup()
			tc.edit(&g)
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValidateDoesNotAllocate(t *testing.T) {
	g := validGroup()
	g.Members = append(g.Members, manyMembers(32)[8:]...)
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = g.Validate() }); n != 0 {
		t.Errorf("Validate of a valid group: %v allocs, want 0", n)
	}
}

func TestClone(t *testing.T) {
	g := validGroup()
	c := g.Clone()
	c.Members[0].Backups[0] = 99
	c.Members[1].Weight = 9
	c.Backups[0].Down = true
	if g.Members[0].Backups[0] != 7 || g.Members[1].Weight != 2 || g.Backups[0].Down {
		t.Errorf("Clone shares memory with the original: %+v", g)
	}
}

// manyMembers returns k members with IDs 1..k, VTEPs 10.0.x.y, weight 1.
func manyMembers(k int) []NextHop {
	out := make([]NextHop, k)
	for i := range out {
		id := uint32(i + 1)
		out[i] = NextHop{ID: id, VTEP: netip.AddrFrom4([4]byte{10, 0, byte(id >> 8), byte(id)})}
	}
	return out
}
