package nhg

import (
	"fmt"
	"net/netip"
	"strings"
)

// NextHop is a remote VTEP as a group member or a backup.
type NextHop struct {
	// ID is the nexthop's ID in the fast path (1-65535); the control plane
	// writes the nexthop entry (addresses, MACs, underlay port) under it.
	ID uint32
	// VTEP is the remote VTEP's underlay address.
	VTEP netip.Addr
	// VNI is the downstream VNI the frames carry; 0 keeps the bridge
	// domain's own.
	VNI uint32
	// Weight is the member's share of the buckets, 1-255; 0 means 1. A
	// backup's weight is not used.
	Weight uint16
	// Backups lists, in order of preference, the IDs of 1 to 8 nexthops from
	// the group's backup list that take over a member's flows when it is down.
	// Backup nexthops have no backups of their own (FRR's model).
	Backups []uint32
	// Down marks a nexthop the control plane knows is unreachable. A down
	// member gets no buckets while any member is up; a down backup is never
	// chosen as a bucket's backup.
	Down bool
}

// weight returns the member's weight with 0 read as 1.
func (nh *NextHop) weight() uint32 {
	if nh.Weight == 0 {
		return 1
	}
	return uint32(nh.Weight)
}

// label names a nexthop in errors: "3 (vtep 192.0.2.4)".
func (nh *NextHop) label(index int) string {
	var b strings.Builder
	if nh.ID == 0 || nh.ID > MaxNextHopID {
		fmt.Fprintf(&b, "[%d]", index)
	} else {
		fmt.Fprintf(&b, " %d", nh.ID)
	}
	if nh.VTEP.IsValid() {
		fmt.Fprintf(&b, " (vtep %s", nh.VTEP)
	} else {
		b.WriteString(" (no vtep")
	}
	if nh.VNI != 0 {
		fmt.Fprintf(&b, " vni %d", nh.VNI)
	}
	b.WriteString(")")
	return b.String()
}

// Group is a nexthop group: members that share the group's flows by weight,
// and FRR's list of backup nexthops that the members' Backups point into.
type Group struct {
	// ID is the group's ID, in its owner's range; 0 asks Table.Add to pick
	// one.
	ID uint32
	// Owner is the protocol that owns the group.
	Owner Owner
	// Members share the group's flows; 1 to 128.
	Members []NextHop
	// Backups is the group's backup list, up to 16 nexthops; a nexthop may
	// be both a member and a backup (same ID, same VTEP, VNI and Down).
	Backups []NextHop
}

// Clone returns a deep copy of g.
func (g Group) Clone() Group {
	c := g
	c.Members = cloneNextHops(g.Members)
	c.Backups = cloneNextHops(g.Backups)
	return c
}

func cloneNextHops(s []NextHop) []NextHop {
	if s == nil {
		return nil
	}
	out := make([]NextHop, len(s))
	for i, nh := range s {
		nh.Backups = append([]uint32(nil), nh.Backups...)
		out[i] = nh
	}
	return out
}

func (g *Group) name() string {
	if g.ID == 0 {
		return "new group"
	}
	return fmt.Sprintf("group %d", g.ID)
}

// member returns the index of member id, or -1.
func (g *Group) member(id uint32) int {
	for j := range g.Members {
		if g.Members[j].ID == id {
			return j
		}
	}
	return -1
}

// backup returns the backup list's entry for id, or nil.
func (g *Group) backup(id uint32) *NextHop {
	for j := range g.Backups {
		if g.Backups[j].ID == id {
			return &g.Backups[j]
		}
	}
	return nil
}

// Validate checks g against the rules in the package doc and returns the
// first rule broken, naming the group, the member and the reason, e.g.
//
//	group 12 member 3 (vtep 192.0.2.4): backup 3 is the member itself
//
// The error matches ErrInvalid. An ID of 0 is accepted (Table.Add picks one).
// Validate does not allocate when g is valid.
func (g *Group) Validate() error {
	if !g.Owner.Valid() {
		return invalidf("%s: unknown owner %d (want %s)", g.name(), uint8(g.Owner), strings.Join(ownerNames[EVPNL2:], ", "))
	}
	if r := g.Owner.GroupIDs(); g.ID != 0 && !r.Contains(g.ID) {
		if o, ok := GroupOwner(g.ID); ok {
			return invalidf("%s: id is in %s's range %s, not %s's (%s)", g.name(), o, o.GroupIDs(), g.Owner, r)
		}
		return invalidf("%s: id out of range 1-%d (%s's ids are %s)", g.name(), MaxGroupID, g.Owner, r)
	}
	switch {
	case len(g.Members) == 0:
		return invalidf("%s: no members", g.name())
	case len(g.Members) > MaxMembers:
		return invalidf("%s: %d members: at most %d", g.name(), len(g.Members), MaxMembers)
	case len(g.Backups) > MaxBackupNextHops:
		return invalidf("%s: %d backup nexthops: at most %d", g.name(), len(g.Backups), MaxBackupNextHops)
	}
	for i := range g.Backups {
		nh := &g.Backups[i]
		if err := g.checkNextHop("backup", i, nh); err != nil {
			return err
		}
		for k := range i {
			if g.Backups[k].ID == nh.ID {
				return g.invalid("backup", i, nh, "nexthop %d listed twice in the backup list", nh.ID)
			}
		}
		if len(nh.Backups) > 0 {
			return g.invalid("backup", i, nh, "lists backups %v: a backup nexthop has no backups of its own; list them on the member, in order", nh.Backups)
		}
	}
	for i := range g.Members {
		nh := &g.Members[i]
		if err := g.checkNextHop("member", i, nh); err != nil {
			return err
		}
		if nh.Weight > MaxWeight {
			return g.invalid("member", i, nh, "weight %d out of range 1-%d (0 means 1)", nh.Weight, MaxWeight)
		}
		for k := range i {
			o := &g.Members[k]
			if o.ID == nh.ID {
				return g.invalid("member", i, nh, "nexthop %d listed twice as a member", nh.ID)
			}
			if o.VTEP.Unmap() == nh.VTEP.Unmap() && o.VNI == nh.VNI {
				return g.invalid("member", i, nh, "same vtep and vni as member %d; use one member with a higher weight", o.ID)
			}
		}
		if b := g.backup(nh.ID); b != nil && (b.VTEP != nh.VTEP || b.VNI != nh.VNI || b.Down != nh.Down) {
			return g.invalid("member", i, nh, "differs from backup nexthop %d (vtep %s vni %d down %t): one ID, one nexthop", b.ID, b.VTEP, b.VNI, b.Down)
		}
		if len(nh.Backups) > MaxBackups {
			return g.invalid("member", i, nh, "%d backups: at most %d", len(nh.Backups), MaxBackups)
		}
		for k, id := range nh.Backups {
			if id == nh.ID {
				return g.invalid("member", i, nh, "backup %d is the member itself", id)
			}
			for _, prev := range nh.Backups[:k] {
				if prev == id {
					return g.invalid("member", i, nh, "backup %d listed twice", id)
				}
			}
			if g.backup(id) == nil {
				return g.invalid("member", i, nh, "backup %d is not in the group's backup list (%s)", id, g.backupIDs())
			}
		}
	}
	return nil
}

// checkNextHop checks what members and backups have in common.
func (g *Group) checkNextHop(role string, i int, nh *NextHop) error {
	switch {
	case nh.ID == 0 || nh.ID > MaxNextHopID:
		return g.invalid(role, i, nh, "nexthop id %d out of range 1-%d", nh.ID, MaxNextHopID)
	case !nh.VTEP.IsValid():
		return g.invalid(role, i, nh, "no vtep address")
	case nh.VTEP.IsUnspecified():
		return g.invalid(role, i, nh, "vtep %s is unspecified", nh.VTEP)
	case nh.VTEP.IsMulticast():
		return g.invalid(role, i, nh, "vtep %s is a multicast address; a vtep is unicast", nh.VTEP)
	case nh.VNI > MaxVNI:
		return g.invalid(role, i, nh, "vni %d out of range 0-%d", nh.VNI, MaxVNI)
	}
	return nil
}

func (g *Group) invalid(role string, i int, nh *NextHop, format string, args ...any) error {
	return invalidf("%s %s%s: %s", g.name(), role, nh.label(i), fmt.Sprintf(format, args...))
}

// backupIDs lists the backup list for errors: "have: 7, 8".
func (g *Group) backupIDs() string {
	if len(g.Backups) == 0 {
		return "the group has no backup nexthops"
	}
	var b strings.Builder
	b.WriteString("have: ")
	for i, nh := range g.Backups {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", nh.ID)
	}
	return b.String()
}
