package nhg

import (
	"fmt"
	"math/bits"
)

// IDAllocator hands out and takes back the IDs of one ID space (groups or
// nexthops), each owner from its own slice. It allocates next-fit, as zebra
// does: each owner's cursor moves on past the last ID it handed out and wraps
// at the end of the slice, so a freed ID is reused as late as possible and a
// stale reference to it is unlikely to find a new group.
//
// An IDAllocator is not safe for concurrent use; the control loop owns it.
type IDAllocator struct {
	what   string // "group" or "nexthop", for errors
	ranges *[ownerLen]Range
	used   []uint64 // one bit per ID
	next   [ownerLen]uint32
	count  [ownerLen]int
}

// NewGroupIDAllocator returns an allocator of group IDs (1-8191).
func NewGroupIDAllocator() *IDAllocator {
	return newIDAllocator("group", &groupRanges, MaxGroupID)
}

// NewNextHopIDAllocator returns an allocator of nexthop IDs (1-65535).
func NewNextHopIDAllocator() *IDAllocator {
	return newIDAllocator("nexthop", &nextHopRanges, MaxNextHopID)
}

func newIDAllocator(what string, ranges *[ownerLen]Range, max uint32) *IDAllocator {
	a := &IDAllocator{what: what, ranges: ranges, used: make([]uint64, max/64+1)}
	for o := EVPNL2; o < ownerLen; o++ {
		a.next[o] = ranges[o].First
	}
	return a
}

// Range returns o's slice of this allocator's ID space.
func (a *IDAllocator) Range(o Owner) Range {
	if !o.Valid() {
		return Range{}
	}
	return a.ranges[o]
}

// Alloc returns a free ID from o's range and marks it used. It fails with
// ErrExhausted when every ID of the range is in use.
func (a *IDAllocator) Alloc(o Owner) (uint32, error) {
	if !o.Valid() {
		return 0, fmt.Errorf("allocate %s id: unknown owner %d: %w", a.what, uint8(o), ErrInvalid)
	}
	r := a.ranges[o]
	if a.count[o] >= r.Len() {
		return 0, fmt.Errorf("%s %s ids %s: all %d in use (free some first): %w", o, a.what, r, r.Len(), ErrExhausted)
	}
	start := a.next[o]
	id := a.scan(start, r.Last)
	if id == 0 {
		id = a.scan(r.First, start-1)
	}
	if id == 0 { // unreachable while count is right
		return 0, fmt.Errorf("%s %s ids %s: none free: %w", o, a.what, r, ErrExhausted)
	}
	a.set(id)
	a.count[o]++
	a.next[o] = id + 1
	if a.next[o] > r.Last {
		a.next[o] = r.First
	}
	return id, nil
}

// Reserve marks id used for o: for IDs an owner chooses itself, and for
// adopting the IDs of state a previous instance left pinned. id must be in
// o's range and free.
func (a *IDAllocator) Reserve(o Owner, id uint32) error {
	if err := a.check(o, id); err != nil {
		return err
	}
	if a.isSet(id) {
		return fmt.Errorf("%s %s id %d: %w", o, a.what, id, ErrInUse)
	}
	a.set(id)
	a.count[o]++
	return nil
}

// Free returns id to o's range.
func (a *IDAllocator) Free(o Owner, id uint32) error {
	if err := a.check(o, id); err != nil {
		return err
	}
	if !a.isSet(id) {
		return fmt.Errorf("free %s %s id %d: not allocated: %w", o, a.what, id, ErrNotFound)
	}
	a.used[id/64] &^= 1 << (id % 64)
	a.count[o]--
	return nil
}

// InUse reports whether id is allocated.
func (a *IDAllocator) InUse(id uint32) bool {
	return int(id/64) < len(a.used) && a.isSet(id)
}

// Count returns how many of o's IDs are in use.
func (a *IDAllocator) Count(o Owner) int {
	if !o.Valid() {
		return 0
	}
	return a.count[o]
}

// check says what is wrong with id as one of o's IDs.
func (a *IDAllocator) check(o Owner, id uint32) error {
	if !o.Valid() {
		return fmt.Errorf("%s id %d: unknown owner %d: %w", a.what, id, uint8(o), ErrInvalid)
	}
	r := a.ranges[o]
	if r.Contains(id) {
		return nil
	}
	if other, ok := ownerOf(a.ranges, id); ok {
		return fmt.Errorf("%s id %d: in %s's range %s, not %s's (%s): %w", a.what, id, other, a.ranges[other], o, r, ErrInvalid)
	}
	return fmt.Errorf("%s id %d: out of range (%s's ids are %s): %w", a.what, id, o, r, ErrInvalid)
}

func (a *IDAllocator) isSet(id uint32) bool { return a.used[id/64]&(1<<(id%64)) != 0 }

func (a *IDAllocator) set(id uint32) { a.used[id/64] |= 1 << (id % 64) }

// scan returns the lowest free ID in [from, to], or 0.
func (a *IDAllocator) scan(from, to uint32) uint32 {
	for id := from; id <= to && id != 0; {
		w := a.used[id/64] | (1<<(id%64) - 1) // IDs below id count as used
		if free := ^w; free != 0 {
			if c := id&^63 + uint32(bits.TrailingZeros64(free)); c <= to {
				return c
			}
			return 0
		}
		id = id&^63 + 64
	}
	return 0
}
