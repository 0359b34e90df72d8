package control

import (
	"math/bits"
	"unsafe"

	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/internal/prefetch"
)

// macTable finds a MAC address's state: the head of its chain of per-BD
// states (mac.next). It is an open-addressing hash table with linear
// probing, a power of two of slots at most half full, and backward-shift
// deletion (no tombstones: a table that is emptied and refilled, a BGP
// session reset, probes no further than a fresh one).
//
// It replaces a Go map because a batch of a million routes spends most of
// its time waiting for the table's memory: a batch loop can prefetch the
// slot of the route it will reach a few routes later (prefetchAt), so the
// cache misses of consecutive routes overlap. Measured at 1M routes
// (docs/CONTROL.md): the map's lookups were 60% of a warm batch.
type macTable struct {
	slots []macSlot
	shift uint // 64 - log2(len(slots))
	n     int
}

// macSlot is one slot: the address in the low 48 bits with macUsed set,
// or 0 when the slot is empty.
type macSlot struct {
	key uint64
	m   *mac
}

const (
	macUsed     = 1 << 63
	macHashMul  = 0x9e3779b97f4a7c15
	macMinSlots = 64
)

func macTableKey(a evpn.MAC) uint64 {
	return macUsed | uint64(a[0])<<40 | uint64(a[1])<<32 | uint64(a[2])<<24 |
		uint64(a[3])<<16 | uint64(a[4])<<8 | uint64(a[5])
}

// home is the slot where key's probe starts.
func (t *macTable) home(key uint64) uint64 { return (key * macHashMul) >> t.shift }

// len returns the number of addresses held.
func (t *macTable) len() int { return t.n }

// get returns the chain of address a, or nil.
func (t *macTable) get(a evpn.MAC) *mac {
	if t.n == 0 {
		return nil
	}
	key, mask := macTableKey(a), uint64(len(t.slots)-1)
	for i := t.home(key); ; i = (i + 1) & mask {
		switch s := &t.slots[i]; s.key {
		case key:
			return s.m
		case 0:
			return nil
		}
	}
}

// set makes m the chain of address a (m not nil).
func (t *macTable) set(a evpn.MAC, m *mac) {
	if 2*(t.n+1) > len(t.slots) {
		t.resize(2 * (t.n + 1))
	}
	key, mask := macTableKey(a), uint64(len(t.slots)-1)
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch s.key {
		case key:
			s.m = m
			return
		case 0:
			s.key, s.m = key, m
			t.n++
			return
		}
	}
}

// del forgets address a.
func (t *macTable) del(a evpn.MAC) {
	if t.n == 0 {
		return
	}
	key, mask := macTableKey(a), uint64(len(t.slots)-1)
	i := t.home(key)
	for ; t.slots[i].key != key; i = (i + 1) & mask {
		if t.slots[i].key == 0 {
			return
		}
	}
	// Backward shift: move later entries of the run into the hole when
	// their probe started at or before it, so that no probe crosses an
	// empty slot before its key.
	for j := (i + 1) & mask; t.slots[j].key != 0; j = (j + 1) & mask {
		if h := t.home(t.slots[j].key); (j-h)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = macSlot{}
	t.n--
}

// prefetch starts loading the slot where a lookup of a begins.
func (t *macTable) prefetch(a evpn.MAC) {
	if len(t.slots) > 0 {
		prefetch.Line(unsafe.Pointer(&t.slots[t.home(macTableKey(a))]))
	}
}

// reserve makes room for n more addresses without growing on the way.
func (t *macTable) reserve(n int) {
	if 2*(t.n+n) > len(t.slots) {
		t.resize(2 * (t.n + n))
	}
}

// resize rebuilds the table with at least min slots.
func (t *macTable) resize(min int) {
	size := max(macMinSlots, 1<<bits.Len(uint(min-1)))
	old := t.slots
	t.slots, t.shift, t.n = make([]macSlot, size), uint(64-bits.TrailingZeros(uint(size))), 0
	for _, s := range old {
		if s.key != 0 {
			t.set(evpn.MAC{byte(s.key >> 40), byte(s.key >> 32), byte(s.key >> 24), byte(s.key >> 16), byte(s.key >> 8), byte(s.key)}, s.m)
		}
	}
}

// each calls fn for the chain of every address, in no particular order.
// fn must not change the table.
func (t *macTable) each(fn func(*mac)) {
	for i := range t.slots {
		if t.slots[i].key != 0 {
			fn(t.slots[i].m)
		}
	}
}
