package dataplane

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/internal/prefetch"
)

// FDB layout constants, mirroring bpf/fwd.h.
const (
	fdbProbes  = 32
	fdbTomb    = ^uint64(0)
	fdbHashMul = 0x9e3779b97f4a7c15
	fdbSlot    = 16
	// MaxBDs is how many bridge domains the FDB keys can tell apart.
	MaxBDs = 16383
)

// fdbSlots returns the slot count for a capacity of max MACs: a power of
// two with the table at most half full, so that probe chains stay short.
func fdbSlots(max uint32) uint32 {
	n := uint32(1024)
	for n < 2*max {
		n <<= 1
	}
	return n
}

// fdbTable is the fast path's FDB: an open-addressing hash table in a
// BPF_F_MMAPABLE array mapped into this process (see struct fwd_fdb_slot in
// bpf/fwd.h). Every write is a single atomic 8-byte store and needs no
// syscall. Deleted slots become tombstones, reusable after a grace period.
type fdbTable struct {
	mem  []byte
	mask uint32
	g    *grace
	// gen is fwd_fdb_gen, bumped after every write so that the fast
	// path's per-CPU caches drop what they hold.
	gen *words

	mu    sync.Mutex
	count int
	// reusable has a bit per slot: a tombstone no reader can still be
	// looking at, free for a new entry. A bitmap (2M slots: 256 KiB)
	// rather than a map: a batch that refills a withdrawn table tests a
	// bit per entry, from memory that stays cached.
	reusable []uint64
}

func newFDBTable(m, gen *ebpf.Map, g *grace) (*fdbTable, error) {
	n := m.MaxEntries()
	if n&(n-1) != 0 || m.ValueSize() != fdbSlot {
		return nil, fmt.Errorf("fdb map: %d slots of %d bytes, want a power of two of %d", n, m.ValueSize(), fdbSlot)
	}
	mem, err := unix.Mmap(m.FD(), 0, int(n)*fdbSlot, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap fdb: %w", err)
	}
	t := &fdbTable{mem: mem, mask: n - 1, g: g, reusable: make([]uint64, (n+63)/64)}
	if t.gen, err = mmapWords(gen); err != nil {
		_ = unix.Munmap(mem)
		return nil, fmt.Errorf("map fdb generation: %w", err)
	}
	// Adopt a pinned table: count what is live, recycle what was deleted.
	var tombs []uint32
	for i := uint32(0); i < n; i++ {
		switch k := t.key(i).Load(); k {
		case 0:
		case fdbTomb:
			tombs = append(tombs, i)
		default:
			t.count++
		}
	}
	if len(tombs) > 0 {
		t.recycle(tombs)
	}
	return t, nil
}

func (t *fdbTable) key(i uint32) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&t.mem[uintptr(i)*fdbSlot]))
}

func (t *fdbTable) val(i uint32) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&t.mem[uintptr(i)*fdbSlot+8]))
}

func (t *fdbTable) close() error {
	if t.mem == nil {
		return nil
	}
	err := unix.Munmap(t.mem)
	t.mem = nil
	return errors.Join(err, t.gen.close())
}

// bump invalidates every cached FDB entry in the fast path: call it after
// the writes it covers (write the table first, then bump).
func (t *fdbTable) bump() { t.gen.add(0, 1) }

// prefetch starts loading the slot where a lookup of key begins: a batch
// prefetches the entries ahead of the one it writes, so that their cache
// misses overlap instead of following one another.
func (t *fdbTable) prefetch(key uint64) {
	prefetch.Line(unsafe.Pointer(&t.mem[uintptr(fdbIndex(key)&t.mask)*fdbSlot]))
}

func fdbIndex(key uint64) uint32 { return uint32((key * fdbHashMul) >> 32) }

func fdbMakeKey(idx uint16, mac [6]byte) uint64 {
	return uint64(idx)<<48 | uint64(mac[0])<<40 | uint64(mac[1])<<32 | uint64(mac[2])<<24 |
		uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5])
}

func fdbMakeVal(e FDBEntry) uint64 {
	return uint64(e.Ref&0xffff)<<16 | uint64(e.Flags)<<8 | uint64(e.Kind)
}

func fdbEntry(v uint64) FDBEntry {
	return FDBEntry{Kind: FDBKind(v), Flags: uint8(v >> 8), Ref: uint32(uint16(v >> 16))}
}

// errFDBFull reports a probe chain with no room.
var errFDBFull = fmt.Errorf("fdb: no free slot within %d probes (raise the FDB size): %w", fdbProbes, ErrInvalid)

// set inserts or replaces key. Call with t.mu held.
func (t *fdbTable) set(key, val uint64) error {
	h := fdbIndex(key)
	free := int64(-1)
	for i := uint32(0); i < fdbProbes; i++ {
		idx := (h + i) & t.mask
		k := t.key(idx).Load()
		if k == key {
			t.val(idx).Store(val) // one store: readers see old or new
			return nil
		}
		if k == 0 {
			if free < 0 {
				free = int64(idx)
			}
			break
		}
		if k == fdbTomb && free < 0 {
			if t.isReusable(idx) {
				free = int64(idx)
			}
		}
	}
	if free < 0 {
		return errFDBFull
	}
	idx := uint32(free)
	t.setReusable(idx, false)
	t.val(idx).Store(val) // value first, then the key that publishes it
	t.key(idx).Store(key)
	t.count++
	return nil
}

// lookup finds key. Call with t.mu held (or accept a racy read).
func (t *fdbTable) lookup(key uint64) (uint64, bool) {
	h := fdbIndex(key)
	for i := uint32(0); i < fdbProbes; i++ {
		idx := (h + i) & t.mask
		switch k := t.key(idx).Load(); k {
		case key:
			return t.val(idx).Load(), true
		case 0:
			return 0, false
		}
	}
	return 0, false
}

// del tombstones key. Call with t.mu held.
func (t *fdbTable) del(key uint64, gone *[]uint32) bool {
	h := fdbIndex(key)
	for i := uint32(0); i < fdbProbes; i++ {
		idx := (h + i) & t.mask
		switch k := t.key(idx).Load(); k {
		case key:
			t.key(idx).Store(fdbTomb)
			t.count--
			*gone = append(*gone, idx)
			return true
		case 0:
			return false
		}
	}
	return false
}

func (t *fdbTable) isReusable(i uint32) bool { return t.reusable[i/64]&(1<<(i%64)) != 0 }

// setReusable sets or clears slot i's reusable bit.
func (t *fdbTable) setReusable(i uint32, on bool) {
	if on {
		t.reusable[i/64] |= 1 << (i % 64)
	} else {
		t.reusable[i/64] &^= 1 << (i % 64)
	}
}

// reusableCount counts the reusable slots.
func (t *fdbTable) reusableCount() int {
	n := 0
	for _, w := range t.reusable {
		n += bits.OnesCount64(w)
	}
	return n
}

// recycle makes tombstoned slots reusable once no reader can hold them.
func (t *fdbTable) recycle(idx []uint32) {
	t.g.after(func() {
		t.mu.Lock()
		for _, i := range idx {
			if t.key(i).Load() == fdbTomb {
				t.setReusable(i, true)
			}
		}
		t.mu.Unlock()
	})
}

// bdIndex returns the FDB index of BD vni.
func (d *Dataplane) bdIndex(vni uint32) (uint16, error) {
	d.bdMu.Lock()
	defer d.bdMu.Unlock()
	idx, ok := d.bdIdx[vni]
	if !ok {
		return 0, fmt.Errorf("bridge domain %d is not declared (SetBD first): %w", vni, ErrInvalid)
	}
	return idx, nil
}

// SetFDB installs one FDB entry: one atomic store into the mapped table, no
// syscall.
func (d *Dataplane) SetFDB(k FDBKey, e FDBEntry) error {
	if err := validFDB(k, e); err != nil {
		return err
	}
	idx, err := d.bdIndex(k.BD)
	if err != nil {
		return err
	}
	d.fdb.mu.Lock()
	defer d.fdb.mu.Unlock()
	if err := d.fdb.set(fdbMakeKey(idx, k.MAC), fdbMakeVal(e)); err != nil {
		return fmt.Errorf("set fdb %d/%x: %w", k.BD, k.MAC, err)
	}
	d.fdb.bump()
	return nil
}

// FDB returns the entry for k.
func (d *Dataplane) FDB(k FDBKey) (FDBEntry, error) {
	idx, err := d.bdIndex(k.BD)
	if err != nil {
		return FDBEntry{}, err
	}
	d.fdb.mu.Lock()
	v, ok := d.fdb.lookup(fdbMakeKey(idx, k.MAC))
	d.fdb.mu.Unlock()
	if !ok {
		return FDBEntry{}, fmt.Errorf("fdb %d/%x: %w", k.BD, k.MAC, ErrNotFound)
	}
	return fdbEntry(v), nil
}

// DeleteFDB removes the entry for k.
func (d *Dataplane) DeleteFDB(k FDBKey) error {
	n, err := d.DeleteFDBBatch([]FDBKey{k})
	switch {
	case err != nil:
		return fmt.Errorf("delete fdb %d/%x: %w", k.BD, k.MAC, errors.Unwrap(err))
	case n == 0:
		return fmt.Errorf("delete fdb %d/%x: %w", k.BD, k.MAC, ErrNotFound)
	}
	return nil
}

// SetFDBBatch installs many entries. Every entry is checked first; on a
// later error (the table is full) the entries before the returned count are
// installed.
func (d *Dataplane) SetFDBBatch(keys []FDBKey, entries []FDBEntry) (int, error) {
	if len(keys) != len(entries) {
		return 0, fmt.Errorf("fdb batch: %d keys, %d entries: %w", len(keys), len(entries), ErrInvalid)
	}
	for i := range keys {
		if err := validFDB(keys[i], entries[i]); err != nil {
			return 0, fmt.Errorf("fdb batch entry %d: %w", i, err)
		}
	}
	key, err := d.fdbKeys(keys)
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	d.fdb.mu.Lock()
	defer d.fdb.mu.Unlock()
	defer d.fdb.bump() // also after a partial batch
	for i := range keys {
		if j := i + prefetch.Distance; j < len(keys) {
			d.fdb.prefetch(key(&keys[j]))
		}
		k := &keys[i]
		if err := d.fdb.set(key(k), fdbMakeVal(entries[i])); err != nil {
			return i, fmt.Errorf("fdb batch entry %d (%d/%x): %w", i, k.BD, k.MAC, err)
		}
	}
	return len(keys), nil
}

// DeleteFDBBatch removes many entries; missing ones are skipped. It returns
// how many were deleted. Every key's BD is checked first: on an error
// nothing is deleted. The deleted slots are recycled after one grace period
// for the whole batch.
func (d *Dataplane) DeleteFDBBatch(keys []FDBKey) (int, error) {
	key, err := d.fdbKeys(keys)
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	var gone []uint32
	d.fdb.mu.Lock()
	defer d.fdb.mu.Unlock()
	for i := range keys {
		if j := i + prefetch.Distance; j < len(keys) {
			d.fdb.prefetch(key(&keys[j]))
		}
		d.fdb.del(key(&keys[i]), &gone)
	}
	if len(gone) > 0 {
		d.fdb.bump()
		d.fdb.recycle(gone)
	}
	return len(gone), nil
}

// fdbKeys checks that every key's BD is declared and returns the function
// that makes a key's table key. Batches are mostly of one BD: it remembers
// the last one's index.
func (d *Dataplane) fdbKeys(keys []FDBKey) (func(*FDBKey) uint64, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	// The first BD's index in hand; a map only for a batch of several.
	firstBD := keys[0].BD
	firstIdx, err := d.bdIndex(firstBD)
	if err != nil {
		return nil, fmt.Errorf("fdb batch entry 0: %w", err)
	}
	var idx map[uint32]uint16
	for i := 1; i < len(keys); i++ {
		bd := keys[i].BD
		if bd == firstBD || bd == keys[i-1].BD {
			continue
		}
		if _, ok := idx[bd]; ok {
			continue
		}
		bi, err := d.bdIndex(bd)
		if err != nil {
			return nil, fmt.Errorf("fdb batch entry %d: %w", i, err)
		}
		if idx == nil {
			idx = map[uint32]uint16{firstBD: firstIdx}
		}
		idx[bd] = bi
	}
	lastBD, lastIdx := firstBD, firstIdx
	return func(k *FDBKey) uint64 {
		if k.BD != lastBD {
			lastBD, lastIdx = k.BD, idx[k.BD]
		}
		return fdbMakeKey(lastIdx, k.MAC)
	}, nil
}

// FDBCount returns the number of FDB entries.
func (d *Dataplane) FDBCount() int {
	d.fdb.mu.Lock()
	defer d.fdb.mu.Unlock()
	return d.fdb.count
}

// FDBEntries calls fn for every FDB entry until it returns false. It scans
// the whole table (the FDB's slot count), holding no lock across fn.
func (d *Dataplane) FDBEntries(fn func(FDBKey, FDBEntry) bool) error {
	d.bdMu.Lock()
	vni := make(map[uint16]uint32, len(d.bdIdx))
	for v, i := range d.bdIdx {
		vni[i] = v
	}
	d.bdMu.Unlock()
	for i := uint32(0); i <= d.fdb.mask; i++ {
		k := d.fdb.key(i).Load()
		if k == 0 || k == fdbTomb {
			continue
		}
		v := d.fdb.val(i).Load()
		var key FDBKey
		key.BD = vni[uint16(k>>48)]
		for j := 0; j < 6; j++ {
			key.MAC[j] = byte(k >> (40 - 8*j))
		}
		if !fn(key, fdbEntry(v)) {
			return nil
		}
	}
	return nil
}

// purgeBD tombstones every entry of BD index idx.
func (t *fdbTable) purgeBD(idx uint16) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone []uint32
	for i := uint32(0); i <= t.mask; i++ {
		k := t.key(i).Load()
		if k != 0 && k != fdbTomb && uint16(k>>48) == idx {
			t.key(i).Store(fdbTomb)
			t.count--
			gone = append(gone, i)
		}
	}
	if len(gone) > 0 {
		t.bump()
		t.recycle(gone)
	}
	return len(gone)
}
