package nhg

import (
	"fmt"
	"slices"
)

// Bucket is one slot of a group's bucket table: the flows whose hash lands
// here go to Primary, or to Backup while Primary's down bit is set. It has
// the fields of dataplane.Bucket; the control plane converts.
type Bucket struct {
	Primary uint32
	Backup  uint32 // 0: none
}

// Buckets builds g's bucket table of n buckets (a power of two from 1 to
// 128; 0 means DefaultBuckets). prev is the table the fast path holds now,
// or nil for a new group; see AppendBuckets for the rules.
func (g *Group) Buckets(n int, prev []Bucket) ([]Bucket, error) {
	return g.AppendBuckets(nil, n, prev)
}

// AppendBuckets builds g's bucket table of n buckets, as Buckets does, and
// appends it to dst. It does not allocate when dst has room for n more
// buckets.
//
// Primaries. The members that are up (all of them when every member is
// down) share the buckets in proportion to their weights: each gets its exact
// share rounded down or up, never a bucket more or less (so a member whose
// share is below one bucket may get none). When prev is given
// the table is resilient: a bucket keeps its member while that member is up
// and within its new share, so a change moves only the flows it must (those
// of members that left, went down or whose share shrank) and members that
// stay keep every bucket they had, up to their new share. When a share
// could round either way, the member that would otherwise give up a bucket
// keeps it. prev may have another size: when it is smaller, bucket i of the
// new table starts from prev[i mod len(prev)], which keeps every flow;
// when larger, from prev[i].
//
// Backups. Each bucket carries a precomputed backup: the member's first
// configured backup that is not down; or, when it has none, the member that
// would take the bucket if the primary left the group. That is the table a
// rebuild without the primary would build (tier 2 of failover moves no flow
// a second time), and it spreads a dead member's flows over all the
// survivors in proportion to their weights, never onto one. A backup is never
// the bucket's own primary; it is 0 when the member has no usable configured
// backup and no other member is up. (When every member is down, the members
// back each other up, so that the first to come back covers more flows.)
//
// The output depends only on g, n and prev.
func (g *Group) AppendBuckets(dst []Bucket, n int, prev []Bucket) ([]Bucket, error) {
	if n == 0 {
		n = DefaultBuckets
	}
	if n < 0 || n > MaxBuckets || n&(n-1) != 0 {
		return dst, invalidf("%s: %d buckets: want a power of two from 1 to %d", g.name(), n, MaxBuckets)
	}
	if m := len(prev); m > MaxBuckets || m&(m-1) != 0 {
		return dst, invalidf("%s: previous table of %d buckets: want a power of two up to %d", g.name(), m, MaxBuckets)
	}
	if err := g.Validate(); err != nil {
		return dst, err
	}
	var b builder
	b.build(g, n, prev)
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	for i := range n {
		out[i] = Bucket{Primary: g.Members[b.prim[i]].ID, Backup: b.backup[i]}
	}
	return dst[:len(dst)+n], nil
}

// builder holds the scratch state of one build; it lives on the stack.
type builder struct {
	n, m   int
	w      [MaxMembers]uint32 // weight of each eligible member, 0 for the others
	quota  [MaxMembers]int16
	kept   [MaxMembers]int16
	keys   [MaxMembers]uint64
	prev   [MaxBuckets]int16 // member index per bucket of the previous table, -1 none
	prim   [MaxBuckets]int16
	sim    [MaxBuckets]int16
	backup [MaxBuckets]uint32
}

func (b *builder) build(g *Group, n int, prev []Bucket) {
	b.n, b.m = n, len(g.Members)
	up := 0
	for j := range g.Members {
		if !g.Members[j].Down {
			b.w[j] = g.Members[j].weight()
			up++
		}
	}
	if up == 0 {
		for j := range g.Members {
			b.w[j] = g.Members[j].weight()
		}
	}
	m := len(prev)
	for i := range n {
		b.prev[i] = -1
		switch {
		case m == 0:
			continue
		case m <= n:
			b.prev[i] = int16(g.member(prev[i&(m-1)].Primary))
		default:
			b.prev[i] = int16(g.member(prev[i].Primary))
		}
	}
	b.assign(&b.prev, &b.prim, -1)
	held := b.kept // assign leaves each member's bucket count in kept

	for j := range g.Members {
		if held[j] == 0 {
			continue
		}
		backup := uint32(0)
		for _, id := range g.Members[j].Backups {
			if !g.backup(id).Down {
				backup = id
				break
			}
		}
		if backup == 0 && b.assign(&b.prim, &b.sim, j) {
			for i := range n {
				if int(b.prim[i]) == j {
					b.backup[i] = g.Members[b.sim[i]].ID
				}
			}
			continue
		}
		for i := range n {
			if int(b.prim[i]) == j {
				b.backup[i] = backup
			}
		}
	}
}

// assign fills out with a member index per bucket, starting from prev, for
// the eligible members other than excl (-1: none). It reports false when no
// member is left to assign.
func (b *builder) assign(prev, out *[MaxBuckets]int16, excl int) bool {
	n, m := b.n, b.m
	var total uint64
	for j := range m {
		if j != excl {
			total += uint64(b.w[j])
		}
	}
	if total == 0 {
		return false
	}
	var held [MaxMembers]int16
	for i := range n {
		if p := prev[i]; p >= 0 {
			held[p]++
		}
	}
	// Shares: each member's exact share rounded down, then the remaining
	// buckets, one each, to members whose share has a fraction: first those
	// that hold more than the rounded-down share (so they keep a bucket),
	// then by larger fraction, then by member order.
	rest, k := n, 0
	for j := range m {
		b.quota[j], b.kept[j] = 0, 0
		if j == excl || b.w[j] == 0 {
			continue
		}
		num := uint64(n) * uint64(b.w[j])
		q, frac := num/total, num%total
		b.quota[j] = int16(q)
		rest -= int(q)
		if frac > 0 {
			var holder uint64
			if uint64(held[j]) > q {
				holder = 1
			}
			b.keys[k] = holder<<40 | frac<<8 | uint64(MaxMembers-1-j)
			k++
		}
	}
	if rest > 0 {
		keys := b.keys[:k]
		slices.Sort(keys)
		for _, key := range keys[k-rest:] {
			b.quota[MaxMembers-1-int(key&0xff)]++
		}
	}
	// Keep what members hold, up to their share.
	for i := range n {
		if p := prev[i]; p >= 0 && int(p) != excl && b.kept[p] < b.quota[p] {
			out[i] = p
			b.kept[p]++
		} else {
			out[i] = -1
		}
	}
	// Hand the free buckets round robin to members below their share.
	c := 0
	for i := range n {
		if out[i] >= 0 {
			continue
		}
		for b.kept[c] >= b.quota[c] {
			if c++; c == m {
				c = 0
			}
		}
		out[i] = int16(c)
		b.kept[c]++
		if c++; c == m {
			c = 0
		}
	}
	return true
}

// String is for tests and debugging.
func (bk Bucket) String() string { return fmt.Sprintf("%d/%d", bk.Primary, bk.Backup) }
