package nhg

import (
	"fmt"
	"strings"
)

// Limits of the fast path (dataplane's MaxGroups, MaxNextHops and
// GroupBuckets, as compiled into bpf/fwd.h) and of FRR's backup model.
const (
	// MaxGroupID is the highest group ID the fast path holds (ids 1-8191).
	MaxGroupID = 8191
	// MaxNextHopID is the highest nexthop ID the fast path holds (ids 1-65535).
	MaxNextHopID = 65535
	// MaxBuckets is the largest bucket table; tables are powers of two from
	// 1 to MaxBuckets.
	MaxBuckets = 128
	// DefaultBuckets is the bucket table size when none is given. The fast
	// path's group slots are fixed-size, so the largest table costs nothing
	// more and gives the finest weights.
	DefaultBuckets = MaxBuckets
	// MaxMembers is the most members a group can have: one bucket each.
	MaxMembers = MaxBuckets
	// MaxBackups is the most backups one nexthop may list (FRR's limit).
	MaxBackups = 8
	// MaxBackupNextHops is the longest backup list a group may have (FRR caps
	// a route's backups at its multipath limit, 16 by default).
	MaxBackupNextHops = 16
	// MaxWeight is the highest member weight; 0 means 1.
	MaxWeight = 255
	// MaxVNI is the highest VXLAN network identifier (24 bits).
	MaxVNI = 1<<24 - 1
)

// Owner is the protocol that owns a group or a nexthop ID. As in zebra, each
// owner has its own slice of each ID space, so owners never collide and an
// ID says who owns it.
type Owner uint8

// Owners. The zero Owner is invalid, so that a forgotten owner is caught.
const (
	EVPNL2 Owner = iota + 1 // EVPN L2: remote ES groups, local ES backup groups
	EVPNL3                  // EVPN L3: symmetric IRB groups per ES and VRF
	API                     // the local API (batch injection, SHARP-style tests)
	Static                  // the static configuration
	ownerLen
)

var ownerNames = [ownerLen]string{
	EVPNL2: "evpn-l2",
	EVPNL3: "evpn-l3",
	API:    "api",
	Static: "static",
}

// Owners returns every valid owner, in ID-range order.
func Owners() []Owner { return []Owner{EVPNL2, EVPNL3, API, Static} }

// Valid reports whether o is one of the defined owners.
func (o Owner) Valid() bool { return o >= EVPNL2 && o < ownerLen }

func (o Owner) String() string {
	if o.Valid() {
		return ownerNames[o]
	}
	return fmt.Sprintf("owner(%d)", uint8(o))
}

// ParseOwner parses an owner's name as String writes it.
func ParseOwner(s string) (Owner, error) {
	for _, o := range Owners() {
		if s == ownerNames[o] {
			return o, nil
		}
	}
	return 0, fmt.Errorf("owner %q: want one of %s: %w", s, strings.Join(ownerNames[EVPNL2:], ", "), ErrInvalid)
}

// MarshalText implements encoding.TextMarshaler.
func (o Owner) MarshalText() ([]byte, error) {
	if !o.Valid() {
		return nil, fmt.Errorf("owner %d: %w", uint8(o), ErrInvalid)
	}
	return []byte(ownerNames[o]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *Owner) UnmarshalText(b []byte) error {
	v, err := ParseOwner(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// Range is an inclusive range of IDs.
type Range struct {
	First, Last uint32
}

// Contains reports whether id is in r.
func (r Range) Contains(id uint32) bool { return id >= r.First && id <= r.Last && id != 0 }

// Len is the number of IDs in r.
func (r Range) Len() int {
	if r.First == 0 || r.Last < r.First {
		return 0
	}
	return int(r.Last-r.First) + 1
}

func (r Range) String() string { return fmt.Sprintf("%d-%d", r.First, r.Last) }

// The owners' slices of the two ID spaces; the package doc explains them.
var (
	groupRanges = [ownerLen]Range{
		EVPNL2: {1, 4095},
		EVPNL3: {4096, 6143},
		API:    {6144, 7167},
		Static: {7168, MaxGroupID},
	}
	nextHopRanges = [ownerLen]Range{
		EVPNL2: {1, 16383},
		EVPNL3: {16384, 32767},
		API:    {32768, 49151},
		Static: {49152, MaxNextHopID},
	}
)

// GroupIDs returns o's slice of the group ID space (the zero Range for an
// invalid owner).
func (o Owner) GroupIDs() Range {
	if !o.Valid() {
		return Range{}
	}
	return groupRanges[o]
}

// NextHopIDs returns o's slice of the nexthop ID space (the zero Range for an
// invalid owner).
func (o Owner) NextHopIDs() Range {
	if !o.Valid() {
		return Range{}
	}
	return nextHopRanges[o]
}

// GroupOwner returns the owner whose range holds group ID id; false when id
// is 0 or above MaxGroupID.
func GroupOwner(id uint32) (Owner, bool) { return ownerOf(&groupRanges, id) }

// NextHopOwner returns the owner whose range holds nexthop ID id; false when
// id is 0 or above MaxNextHopID.
func NextHopOwner(id uint32) (Owner, bool) { return ownerOf(&nextHopRanges, id) }

func ownerOf(ranges *[ownerLen]Range, id uint32) (Owner, bool) {
	for o := EVPNL2; o < ownerLen; o++ {
		if ranges[o].Contains(id) {
			return o, true
		}
	}
	return 0, false
}
