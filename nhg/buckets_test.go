package nhg

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// mustBuckets builds g's table or fails the test.
func mustBuckets(tb testing.TB, g *Group, n int, prev []Bucket) []Bucket {
	tb.Helper()
	tbl, err := g.Buckets(n, prev)
	if err != nil {
		tb.Fatal(err)
	}
	return tbl
}

// eligible returns the weights of the members that share the buckets: the
// up ones, or all of them when every member is down.
func eligible(g *Group) map[uint32]uint64 {
	w := make(map[uint32]uint64)
	for _, nh := range g.Members {
		if !nh.Down {
			w[nh.ID] = uint64(nh.weight())
		}
	}
	if len(w) == 0 {
		for _, nh := range g.Members {
			w[nh.ID] = uint64(nh.weight())
		}
	}
	return w
}

func countPrimaries(tbl []Bucket) map[uint32]int {
	c := make(map[uint32]int)
	for _, b := range tbl {
		c[b.Primary]++
	}
	return c
}

// checkTable checks what holds for every table: size, shares within one
// bucket of the weights, and backups.
func checkTable(tb testing.TB, g *Group, n int, tbl []Bucket) {
	tb.Helper()
	if len(tbl) != n {
		tb.Fatalf("%d buckets, want %d", len(tbl), n)
	}
	w := eligible(g)
	var total uint64
	for _, x := range w {
		total += x
	}
	counts := countPrimaries(tbl)
	for id, c := range counts {
		if _, ok := w[id]; !ok {
			tb.Fatalf("nexthop %d holds %d buckets but is not an eligible member: %v", id, c, tbl)
		}
	}
	for id, x := range w {
		// |count - n*w/total| < 1
		exact := uint64(n) * x
		got := uint64(counts[id]) * total
		if got+total <= exact || got >= exact+total {
			tb.Errorf("member %d (weight %d of %d) holds %d of %d buckets: not within one bucket of its share %.2f",
				id, x, total, counts[id], n, float64(exact)/float64(total))
		}
	}
	allDown := true
	for _, nh := range g.Members {
		allDown = allDown && nh.Down
	}
	for i, b := range tbl {
		if b.Backup == b.Primary {
			tb.Fatalf("bucket %d: backup %d is its primary", i, b.Backup)
		}
		m := &g.Members[g.member(b.Primary)]
		var want uint32
		for _, id := range m.Backups {
			if !g.backup(id).Down {
				want = id
				break
			}
		}
		if want != 0 {
			if b.Backup != want {
				tb.Fatalf("bucket %d (member %d): backup %d, want its first usable configured backup %d", i, b.Primary, b.Backup, want)
			}
			continue
		}
		// Otherwise another eligible member: one that is up, or any when
		// every member is down (the first to come back then covers more).
		others := 0
		for id := range w {
			if id != b.Primary && (allDown || !g.Members[g.member(id)].Down) {
				others++
			}
		}
		switch {
		case others == 0 && b.Backup != 0:
			tb.Fatalf("bucket %d (member %d): backup %d, want 0 (no other member is up)", i, b.Primary, b.Backup)
		case others > 0:
			if _, ok := w[b.Backup]; !ok || (!allDown && g.Members[g.member(b.Backup)].Down) {
				tb.Fatalf("bucket %d (member %d): backup %d is not a member that is up", i, b.Primary, b.Backup)
			}
		}
	}
}

// checkMoves checks that going from prev to tbl moved the fewest buckets
// the new shares allow, and that no member lost a bucket it could keep.
func checkMoves(tb testing.TB, g *Group, prev, tbl []Bucket) (moved int) {
	tb.Helper()
	n := len(tbl)
	w := eligible(g)
	var total uint64
	for _, x := range w {
		total += x
	}
	held := make(map[uint32]int)
	for i := range n {
		held[prev[i%len(prev)].Primary]++
	}
	// The best any table within one bucket of the shares can do: every
	// member keeps min(held, floor), and the buckets left after rounding
	// down go first to members that hold more than their floor.
	best, rest, extra := 0, n, 0
	for id, x := range w {
		floor := int(uint64(n) * x / total)
		frac := uint64(n) * x % total
		rest -= floor
		best += min(held[id], floor)
		if frac > 0 && held[id] > floor {
			extra++
		}
	}
	best += min(rest, extra)
	newCount := countPrimaries(tbl)
	kept := make(map[uint32]int)
	for i := range n {
		if p := prev[i%len(prev)].Primary; tbl[i].Primary == p {
			kept[p]++
		} else {
			moved++
		}
	}
	if moved != n-best {
		tb.Errorf("moved %d of %d buckets, want the minimum %d", moved, n, n-best)
	}
	for id := range w {
		if want := min(held[id], newCount[id]); kept[id] != want {
			tb.Errorf("member %d kept %d of its %d buckets with %d now, want %d", id, kept[id], held[id], newCount[id], want)
		}
	}
	return moved
}

func TestBucketsWeights(t *testing.T) {
	for _, weights := range [][]uint16{
		{1}, {1, 1}, {1, 1, 1}, {1, 2}, {1, 2, 3}, {0, 255}, {3, 5, 7, 11, 13}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{255, 1, 1, 1},
	} {
		for _, n := range []int{1, 2, 4, 16, 64, 128} {
			g := Group{ID: 1, Owner: EVPNL2, Members: manyMembers(len(weights))}
			for i, w := range weights {
				g.Members[i].Weight = w
			}
			t.Run(fmt.Sprintf("%v/%d", weights, n), func(t *testing.T) {
				checkTable(t, &g, n, mustBuckets(t, &g, n, nil))
			})
		}
	}
	// 128 members in 128 buckets: one each.
	g := Group{ID: 1, Owner: EVPNL2, Members: manyMembers(128)}
	tbl := mustBuckets(t, &g, 128, nil)
	checkTable(t, &g, 128, tbl)
	for id, c := range countPrimaries(tbl) {
		if c != 1 {
			t.Errorf("member %d: %d buckets, want 1", id, c)
		}
	}
}

func TestBucketsDefaultSize(t *testing.T) {
	g := validGroup()
	if tbl := mustBuckets(t, &g, 0, nil); len(tbl) != DefaultBuckets {
		t.Errorf("%d buckets, want %d", len(tbl), DefaultBuckets)
	}
	for _, n := range []int{-1, 3, 96, 256} {
		_, err := g.Buckets(n, nil)
		want := fmt.Sprintf("group 12: %d buckets: want a power of two from 1 to 128", n)
		if !errors.Is(err, ErrInvalid) || err.Error() != want {
			t.Errorf("Buckets(%d) = %v, want %q", n, err, want)
		}
	}
	_, err := g.Buckets(8, make([]Bucket, 3))
	if want := "group 12: previous table of 3 buckets: want a power of two up to 128"; err == nil || err.Error() != want {
		t.Errorf("Buckets with a 3-bucket prev = %v, want %q", err, want)
	}
}

// mutation is one random change to a group, as the property test makes.
type mutation struct {
	what string
	id   uint32 // the member that left or went down, for the tier-2 check
}

func mutate(rng *rand.Rand, g *Group, nextID *uint32) mutation {
	backupSets := [][]uint32{nil, nil, {1000}, {1001, 1000}}
	for {
		switch rng.IntN(6) {
		case 0:
			if len(g.Members) >= 12 {
				continue
			}
			*nextID++
			id := *nextID
			g.Members = append(g.Members, NextHop{
				ID:      id,
				VTEP:    netip.AddrFrom4([4]byte{10, 1, byte(id >> 8), byte(id)}),
				Weight:  uint16(rng.IntN(5)),
				Backups: backupSets[rng.IntN(len(backupSets))],
			})
			return mutation{what: fmt.Sprintf("add %d", id)}
		case 1:
			if len(g.Members) < 2 {
				continue
			}
			i := rng.IntN(len(g.Members))
			id := g.Members[i].ID
			g.Members = slices.Delete(g.Members, i, i+1)
			return mutation{what: fmt.Sprintf("remove %d", id), id: id}
		case 2:
			i := rng.IntN(len(g.Members))
			g.Members[i].Weight = uint16(1 + rng.IntN(6))
			return mutation{what: fmt.Sprintf("weight %d = %d", g.Members[i].ID, g.Members[i].Weight)}
		case 3, 4:
			m := &g.Members[rng.IntN(len(g.Members))]
			m.Down = !m.Down
			if m.Down {
				return mutation{what: fmt.Sprintf("down %d", m.ID), id: m.ID}
			}
			return mutation{what: fmt.Sprintf("up %d", m.ID)}
		case 5:
			b := &g.Backups[rng.IntN(len(g.Backups))]
			b.Down = !b.Down
			return mutation{what: fmt.Sprintf("backup %d down %t", b.ID, b.Down)}
		}
	}
}

// TestBucketsResilience is the property test: random members come, go,
// change weight and go down and up; every rebuild moves exactly the fewest
// buckets the new shares allow, and the buckets of a member that left or
// went down go where their precomputed backups pointed.
func TestBucketsResilience(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 42))
	for _, n := range []int{1, 2, 8, 64, 128} {
		totalMoved, totalSteps := 0, 0
		for seq := range 40 {
			nextID := uint32(0)
			g := Group{ID: 1, Owner: EVPNL2, Backups: []NextHop{
				{ID: 1000, VTEP: addr("198.51.100.1")},
				{ID: 1001, VTEP: addr("198.51.100.2")},
			}}
			nextID++
			g.Members = append(g.Members, NextHop{ID: nextID, VTEP: netip.AddrFrom4([4]byte{10, 1, 0, byte(nextID)})})
			for range rng.IntN(8) {
				mutate(rng, &g, &nextID)
			}
			prev := mustBuckets(t, &g, n, nil)
			checkTable(t, &g, n, prev)
			var history []string
			for range 60 {
				before := g.Clone()
				mu := mutate(rng, &g, &nextID)
				history = append(history, mu.what)
				tbl := mustBuckets(t, &g, n, prev)
				checkTable(t, &g, n, tbl)
				totalMoved += checkMoves(t, &g, prev, tbl)
				totalSteps++
				checkTier2(t, &before, &g, mu, prev, tbl)
				if t.Failed() {
					t.Fatalf("n=%d sequence %d after %v\nprev %v\nnow  %v", n, seq, history, prev, tbl)
				}
				prev = tbl
			}
		}
		t.Logf("%d buckets: %d rebuilds moved %.2f buckets each on average", n, totalSteps, float64(totalMoved)/float64(totalSteps))
	}
}

// checkTier2 checks that when a member leaves or goes down, each of its
// buckets goes to the backup that was precomputed for it, unless the member
// had a configured backup (which is not a member) or no member is left up.
func checkTier2(tb testing.TB, before, g *Group, mu mutation, prev, tbl []Bucket) {
	tb.Helper()
	if mu.id == 0 {
		return
	}
	j := before.member(mu.id)
	if before.Members[j].Down {
		return // it held no buckets
	}
	for _, id := range before.Members[j].Backups {
		if !before.backup(id).Down {
			return // flows go to the configured backup
		}
	}
	up := false
	for _, nh := range g.Members {
		up = up || !nh.Down
	}
	if !up {
		return
	}
	for i := range prev {
		if prev[i].Primary == mu.id && tbl[i].Primary != prev[i].Backup {
			tb.Errorf("bucket %d of member %d: rebuilt onto %d, but its precomputed backup was %d", i, mu.id, tbl[i].Primary, prev[i].Backup)
		}
	}
}

func TestBucketsKeepUnchangedMembers(t *testing.T) {
	// Four equal members; one more joins: each of the four gives up only
	// what the newcomer needs, and no bucket moves between the four.
	g := Group{ID: 1, Owner: EVPNL2, Members: manyMembers(4)}
	prev := mustBuckets(t, &g, 128, nil)
	g.Members = append(g.Members, NextHop{ID: 5, VTEP: addr("10.0.0.5")})
	tbl := mustBuckets(t, &g, 128, prev)
	if moved := checkMoves(t, &g, prev, tbl); moved != 25 && moved != 26 {
		t.Errorf("moved %d buckets, want 25 or 26 (the newcomer's share of 128/5)", moved)
	}
	for i := range tbl {
		if tbl[i].Primary != prev[i].Primary && tbl[i].Primary != 5 {
			t.Errorf("bucket %d moved from %d to %d, not to the newcomer", i, prev[i].Primary, tbl[i].Primary)
		}
	}
	// Rebuilding with nothing changed moves nothing.
	again := mustBuckets(t, &g, 128, tbl)
	if !slices.Equal(again, tbl) {
		t.Errorf("rebuild of an unchanged group changed the table")
	}
}

func TestBucketsBackupSpread(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights []uint16
	}{
		{"equal", []uint16{1, 1, 1, 1}},
		{"weighted", []uint16{1, 1, 2}},
		{"many", []uint16{1, 1, 1, 1, 1, 1, 1, 1}},
		{"uneven", []uint16{5, 3, 1, 7, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := Group{ID: 1, Owner: EVPNL2, Members: manyMembers(len(tc.weights))}
			for i, w := range tc.weights {
				g.Members[i].Weight = w
			}
			tbl := mustBuckets(t, &g, 128, nil)
			checkTable(t, &g, 128, tbl)
			for _, dead := range g.Members {
				// The dead member's buckets' backups, per survivor...
				got := make(map[uint32]int)
				lost := 0
				for _, b := range tbl {
					if b.Primary == dead.ID {
						got[b.Backup]++
						lost++
					}
				}
				// ...are spread over all of them, by weight, within one bucket.
				var total uint64
				for _, s := range g.Members {
					if s.ID != dead.ID {
						total += uint64(s.weight())
					}
				}
				for _, s := range g.Members {
					if s.ID == dead.ID {
						continue
					}
					share := float64(lost) * float64(s.weight()) / float64(total)
					if d := float64(got[s.ID]) - share; d <= -1.5 || d >= 1.5 {
						t.Errorf("member %d down: survivor %d (weight %d) backs up %d of its %d buckets, want about %.1f",
							dead.ID, s.ID, s.weight(), got[s.ID], lost, share)
					}
				}
				if len(got) != len(g.Members)-1 && lost >= len(g.Members)-1 {
					t.Errorf("member %d down: its %d buckets back up to %v, not to every survivor", dead.ID, lost, got)
				}
				// The rebuild without it moves its flows to those backups and
				// nothing else beyond what the new shares need.
				without := g.Clone()
				without.Members = slices.DeleteFunc(without.Members, func(nh NextHop) bool { return nh.ID == dead.ID })
				next := mustBuckets(t, &without, 128, tbl)
				checkMoves(t, &without, tbl, next)
				for i := range tbl {
					if tbl[i].Primary == dead.ID && next[i].Primary != tbl[i].Backup {
						t.Errorf("member %d removed: bucket %d went to %d, its backup was %d", dead.ID, i, next[i].Primary, tbl[i].Backup)
					}
				}
			}
		})
	}
}

func TestBucketsConfiguredBackups(t *testing.T) {
	g := Group{
		ID: API.GroupIDs().First, Owner: API,
		Members: []NextHop{
			{ID: 1, VTEP: addr("192.0.2.1"), Backups: []uint32{9, 10}},
			{ID: 2, VTEP: addr("192.0.2.2")},
			{ID: 3, VTEP: addr("192.0.2.3"), Backups: []uint32{2}},
		},
		Backups: []NextHop{
			{ID: 9, VTEP: addr("198.51.100.9")},
			{ID: 10, VTEP: addr("198.51.100.10")},
			{ID: 2, VTEP: addr("192.0.2.2")},
		},
	}
	backupsOf := func(tbl []Bucket, id uint32) map[uint32]int {
		got := make(map[uint32]int)
		for _, b := range tbl {
			if b.Primary == id {
				got[b.Backup]++
			}
		}
		return got
	}
	tbl := mustBuckets(t, &g, 64, nil)
	checkTable(t, &g, 64, tbl)
	if got := backupsOf(tbl, 1); len(got) != 1 || got[9] == 0 {
		t.Errorf("member 1's buckets back up to %v, want all to 9", got)
	}
	if got := backupsOf(tbl, 3); len(got) != 1 || got[2] == 0 {
		t.Errorf("member 3's buckets back up to %v, want all to member 2", got)
	}
	// 9 is down: the next configured backup.
	g.Backups[0].Down = true
	tbl = mustBuckets(t, &g, 64, tbl)
	checkTable(t, &g, 64, tbl)
	if got := backupsOf(tbl, 1); len(got) != 1 || got[10] == 0 {
		t.Errorf("9 down: member 1's buckets back up to %v, want all to 10", got)
	}
	// All its configured backups down: spread over the other members.
	g.Backups[1].Down = true
	tbl = mustBuckets(t, &g, 64, tbl)
	checkTable(t, &g, 64, tbl)
	if got := backupsOf(tbl, 1); len(got) != 2 || got[2] == 0 || got[3] == 0 {
		t.Errorf("9 and 10 down: member 1's buckets back up to %v, want members 2 and 3", got)
	}
}

func TestBucketsSmallGroups(t *testing.T) {
	one := Group{ID: 1, Owner: EVPNL2, Members: manyMembers(1)}
	for _, b := range mustBuckets(t, &one, 128, nil) {
		if b != (Bucket{Primary: 1}) {
			t.Fatalf("one member: bucket %v, want 1/0", b)
		}
	}
	one.Members[0].Backups = []uint32{50}
	one.Backups = []NextHop{{ID: 50, VTEP: addr("192.0.2.50")}}
	for _, b := range mustBuckets(t, &one, 8, nil) {
		if b != (Bucket{Primary: 1, Backup: 50}) {
			t.Fatalf("one member with a backup: bucket %v, want 1/50", b)
		}
	}

	two := Group{ID: 1, Owner: EVPNL2, Members: manyMembers(2)}
	tbl := mustBuckets(t, &two, 128, nil)
	for _, b := range tbl {
		if b.Backup != 3-b.Primary {
			t.Fatalf("two members: bucket %v, want each backing up the other", b)
		}
	}
	// One of two down: the other takes every bucket, with no backup.
	two.Members[0].Down = true
	tbl = mustBuckets(t, &two, 128, tbl)
	for _, b := range tbl {
		if b != (Bucket{Primary: 2}) {
			t.Fatalf("member 1 down: bucket %v, want 2/0", b)
		}
	}
	// Both down: the buckets are shared as if both were up (the fast path's
	// down bits decide), and each backs up the other.
	two.Members[1].Down = true
	tbl = mustBuckets(t, &two, 128, tbl)
	checkTable(t, &two, 128, tbl)
	if c := countPrimaries(tbl); c[1] != 64 || c[2] != 64 {
		t.Errorf("both down: shares %v, want 64 each", c)
	}
	for _, b := range tbl {
		if b.Backup != 3-b.Primary {
			t.Fatalf("both down: bucket %v, want each backing up the other", b)
		}
	}
}

func TestBucketsResize(t *testing.T) {
	g := Group{ID: 1, Owner: EVPNL2, Members: manyMembers(4)}
	small := mustBuckets(t, &g, 32, nil)
	// Growing keeps every flow: bucket i starts from small[i mod 32].
	big := mustBuckets(t, &g, 128, small)
	for i := range big {
		if big[i].Primary != small[i%32].Primary {
			t.Fatalf("grow: bucket %d moved from %d to %d", i, small[i%32].Primary, big[i].Primary)
		}
	}
	checkMoves(t, &g, small, big)
	// Shrinking keeps bucket i's member where the shares allow.
	back := mustBuckets(t, &g, 32, big)
	checkMoves(t, &g, big[:32], back)
	// Three members do not divide 128: growing moves the fewest buckets.
	g.Members = g.Members[:3]
	small = mustBuckets(t, &g, 64, nil)
	big = mustBuckets(t, &g, 128, small)
	checkTable(t, &g, 128, big)
	checkMoves(t, &g, small, big)
}

func TestBucketsDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		g := Group{ID: 1, Owner: EVPNL2, Members: manyMembers(1 + rng.IntN(20))}
		for i := range g.Members {
			g.Members[i].Weight = uint16(rng.IntN(10))
			g.Members[i].Down = rng.IntN(5) == 0
		}
		prev := make([]Bucket, 128)
		for i := range prev {
			prev[i].Primary = uint32(1 + rng.IntN(25))
		}
		a := mustBuckets(t, &g, 128, prev)
		c := g.Clone()
		b := mustBuckets(t, &c, 128, slices.Clone(prev))
		if !slices.Equal(a, b) {
			t.Fatalf("same input, different tables:\n%v\n%v", a, b)
		}
		checkTable(t, &g, 128, a)
		checkMoves(t, &g, prev, a)
	}
}

func TestAppendBucketsDoesNotAllocate(t *testing.T) {
	g := Group{ID: 1, Owner: EVPNL2, Members: manyMembers(8)}
	for i := range g.Members {
		g.Members[i].Weight = uint16(i + 1)
	}
	prev := mustBuckets(t, &g, 128, nil)
	g.Members[3].Down = true
	dst := make([]Bucket, 0, 128)
	n := testing.AllocsPerRun(100, func() {
		var err error
		dst, err = g.AppendBuckets(dst[:0], 128, prev)
		if err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("AppendBuckets into a slice with room: %v allocs, want 0", n)
	}
	// Appending keeps what dst held.
	out, err := g.AppendBuckets([]Bucket{{Primary: 99}}, 4, nil)
	if err != nil || len(out) != 5 || out[0].Primary != 99 {
		t.Errorf("AppendBuckets onto one bucket = %v, %v", out, err)
	}
}

func BenchmarkBuckets(b *testing.B) {
	for _, members := range []int{2, 8, 32, 128} {
		g := Group{ID: 1, Owner: EVPNL2, Members: manyMembers(members)}
		for i := range g.Members {
			g.Members[i].Weight = uint16(1 + i%7)
		}
		prev, err := g.Buckets(128, nil)
		if err != nil {
			b.Fatal(err)
		}
		// Each rebuild takes one member down: the failover rebuild.
		g.Members[members/2].Down = true
		b.Run(fmt.Sprintf("members/%d/buckets/128", members), func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]Bucket, 0, 128)
			for b.Loop() {
				dst, err = g.AppendBuckets(dst[:0], 128, prev)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tables/s")
		})
	}
}
