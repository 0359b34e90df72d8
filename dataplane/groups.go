package dataplane

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// slotTable manages the immutable group versions in fwd_nhg_slot and the
// active-slot words in fwd_nhg_active.
//
// A replacement writes the new version into a free slot (one ARRAY update,
// a few microseconds), then flips the group's active word with one atomic
// store. The old slot is retired and returns to the free list only after a
// grace period (see grace), so no reader ever sees a slot change under it.
type slotTable struct {
	// slots is fwd_nhg_slot mapped into this process: a version is
	// written straight into a free slot, with no syscall.
	slots  []byte
	active *words
	grace  *grace

	mu      sync.Mutex
	cond    *sync.Cond
	free    []uint32
	retired int // slots waiting for a grace period
	gen     uint32
	closed  bool
}

// slotSize is the stride of fwd_nhg_slot: sizeof(struct fwd_nhg), a
// multiple of 8.
const slotSize = 8 + 8*GroupBuckets

func newSlotTable(m *ebpf.Map, active *words, g *grace) (*slotTable, error) {
	if m.ValueSize() != slotSize || m.MaxEntries() != MaxSlots {
		return nil, fmt.Errorf("group slot map: %d slots of %d bytes, want %d of %d", m.MaxEntries(), m.ValueSize(), MaxSlots, slotSize)
	}
	size := (MaxSlots*slotSize + os.Getpagesize() - 1) / os.Getpagesize() * os.Getpagesize()
	mem, err := unix.Mmap(m.FD(), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap group slots: %w", err)
	}
	t := &slotTable{slots: mem, active: active, grace: g, gen: uint32(time.Now().UnixNano())}
	t.cond = sync.NewCond(&t.mu)
	// Adopt what a previous instance left in pinned maps: slots that are
	// active stay taken; every other slot is free (slot 0 means "none").
	used := make(map[uint32]bool)
	for id := uint32(1); id < active.n; id++ {
		if s := active.load(id); s != 0 {
			used[s] = true
		}
	}
	for s := uint32(MaxSlots - 1); s >= 1; s-- {
		if !used[s] {
			t.free = append(t.free, s)
		}
	}
	return t, nil
}

func (t *slotTable) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	t.cond.Broadcast()
	if t.slots == nil {
		return nil
	}
	err := unix.Munmap(t.slots)
	t.slots = nil
	return err
}

// alloc takes a free slot, waiting for a grace period when every slot not
// in use is retired.
func (t *slotTable) alloc() (uint32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.free) == 0 {
		if t.closed {
			return 0, ErrClosed
		}
		if t.retired == 0 {
			return 0, fmt.Errorf("all %d group slots in use: %w", MaxSlots-1, ErrInvalid)
		}
		t.cond.Wait()
	}
	s := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	return s, nil
}

func (t *slotTable) retire(s uint32) {
	t.mu.Lock()
	t.retired++
	t.mu.Unlock()
	t.grace.after(func() {
		t.mu.Lock()
		t.retired--
		t.free = append(t.free, s)
		t.cond.Broadcast()
		t.mu.Unlock()
	})
}

// write fills a free slot with a version and returns its generation.
func (t *slotTable) write(buckets []Bucket) (slot, gen uint32, err error) {
	slot, err = t.alloc()
	if err != nil {
		return 0, 0, err
	}
	t.mu.Lock()
	t.gen++
	gen = t.gen
	t.mu.Unlock()
	// Nobody reads this slot: it is free, and free since a grace period.
	v := t.slots[uintptr(slot)*slotSize : uintptr(slot+1)*slotSize]
	le := binary.LittleEndian
	le.PutUint32(v[0:], gen)
	le.PutUint16(v[4:], uint16(len(buckets)))
	le.PutUint16(v[6:], 0)
	for i, b := range buckets {
		le.PutUint32(v[8+8*i:], b.Primary)
		le.PutUint32(v[12+8*i:], b.Backup)
	}
	return slot, gen, nil
}

// activate makes slot group id's version. The swap is a full barrier: the
// version is complete before any reader can find it.
func (t *slotTable) activate(id, slot uint32) {
	if old := t.active.swap(id, slot); old != 0 {
		t.retire(old)
	}
}

func (t *slotTable) replace(id uint32, buckets []Bucket) (uint32, error) {
	slot, gen, err := t.write(buckets)
	if err != nil {
		return 0, err
	}
	t.activate(id, slot)
	return gen, nil
}

// drop returns a slot that was written but never made active: no reader
// can have seen it, so it is free at once.
func (t *slotTable) drop(slot uint32) {
	t.mu.Lock()
	t.free = append(t.free, slot)
	t.cond.Broadcast()
	t.mu.Unlock()
}

func (t *slotTable) remove(id uint32) {
	if old := t.active.swap(id, 0); old != 0 {
		t.retire(old)
	}
}

func (t *slotTable) read(id uint32) ([]Bucket, uint32, error) {
	slot := t.active.load(id)
	if slot == 0 {
		return nil, 0, fmt.Errorf("group %d: %w", id, ErrNotFound)
	}
	v := t.slots[uintptr(slot)*slotSize : uintptr(slot+1)*slotSize]
	le := binary.LittleEndian
	out := make([]Bucket, min(int(le.Uint16(v[4:])), GroupBuckets))
	for i := range out {
		out[i] = Bucket{Primary: le.Uint32(v[8+8*i:]), Backup: le.Uint32(v[12+8*i:])}
	}
	return out, le.Uint32(v[0:]), nil
}

// StagedGroup is a group version written into a free slot but not active:
// see StageGroup.
type StagedGroup struct {
	// Slot and Gen say where the version was written; treat them as opaque.
	Slot, Gen uint32
}

// StageGroup writes a group version ahead of need, without making it any
// group's: ActivateGroup later makes it active with one atomic store and no
// other work, which is how a precomputed failover switches (the version
// without a member that may fail). DropStaged releases one not used.
func (d *Dataplane) StageGroup(buckets []Bucket) (StagedGroup, error) {
	if err := validateGroup(1, buckets); err != nil {
		return StagedGroup{}, err
	}
	slot, gen, err := d.groups.write(buckets)
	if err != nil {
		return StagedGroup{}, fmt.Errorf("stage group: %w", err)
	}
	return StagedGroup{Slot: slot, Gen: gen}, nil
}

// ActivateGroup makes a staged version group id's current one: one atomic
// store. The staged version is consumed.
func (d *Dataplane) ActivateGroup(id uint32, s StagedGroup) (uint32, error) {
	if id == 0 || id >= MaxGroups || s.Slot == 0 || s.Slot >= MaxSlots {
		return 0, fmt.Errorf("activate group %d: %w", id, ErrInvalid)
	}
	d.groups.activate(id, s.Slot)
	return s.Gen, nil
}

// DropStaged releases a staged version that will not be activated.
func (d *Dataplane) DropStaged(s StagedGroup) {
	if s.Slot != 0 && s.Slot < MaxSlots {
		d.groups.drop(s.Slot)
	}
}

// GroupStats reports the slot table's state.
type GroupStats struct {
	FreeSlots, RetiredSlots int
	GracePeriods            uint64
}

func (t *slotTable) stats() GroupStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return GroupStats{FreeSlots: len(t.free), RetiredSlots: t.retired, GracePeriods: t.grace.count()}
}

func validateGroup(id uint32, buckets []Bucket) error {
	if id == 0 || id >= MaxGroups {
		return fmt.Errorf("group id %d: out of range 1-%d: %w", id, MaxGroups-1, ErrInvalid)
	}
	n := len(buckets)
	if n == 0 || n > GroupBuckets || n&(n-1) != 0 {
		return fmt.Errorf("group %d: %d buckets: want a power of two from 1 to %d: %w", id, n, GroupBuckets, ErrInvalid)
	}
	for i, b := range buckets {
		if b.Primary == 0 || b.Primary >= MaxNextHops {
			return fmt.Errorf("group %d bucket %d: primary nexthop %d out of range 1-%d: %w", id, i, b.Primary, MaxNextHops-1, ErrInvalid)
		}
		if b.Backup >= MaxNextHops {
			return fmt.Errorf("group %d bucket %d: backup nexthop %d out of range: %w", id, i, b.Backup, ErrInvalid)
		}
		if b.Backup == b.Primary {
			return fmt.Errorf("group %d bucket %d: nexthop %d is its own backup: %w", id, i, b.Primary, ErrInvalid)
		}
	}
	return nil
}

// ReplaceGroup installs a new version of group id with the given bucket
// table, atomically: a frame sees either the old version or the new one,
// never a mix. It is one slot write and one atomic store; it returns the
// version's generation. Minimum kernel: 6.1.
func (d *Dataplane) ReplaceGroup(id uint32, buckets []Bucket) (uint32, error) {
	if err := validateGroup(id, buckets); err != nil {
		return 0, err
	}
	gen, err := d.groups.replace(id, buckets)
	if err != nil {
		return 0, fmt.Errorf("replace group %d: %w", id, err)
	}
	return gen, nil
}

// DeleteGroup removes group id; frames that still reach it are dropped and
// counted (drop_no_nhg).
func (d *Dataplane) DeleteGroup(id uint32) error {
	if id == 0 || id >= MaxGroups {
		return fmt.Errorf("group id %d: out of range: %w", id, ErrInvalid)
	}
	d.groups.remove(id)
	return nil
}

// Group returns the active version of group id and its generation.
func (d *Dataplane) Group(id uint32) ([]Bucket, uint32, error) {
	if id == 0 || id >= MaxGroups {
		return nil, 0, fmt.Errorf("group id %d: out of range: %w", id, ErrInvalid)
	}
	return d.groups.read(id)
}

// GroupStats reports free and retired slots and the grace periods taken.
func (d *Dataplane) GroupStats() GroupStats { return d.groups.stats() }

// SetNextHopDown flips nexthop id's down bit with one atomic store: buckets
// whose primary is id switch to their backup at once.
func (d *Dataplane) SetNextHopDown(id uint32, down bool) error {
	if id == 0 || id >= MaxNextHops {
		return fmt.Errorf("nexthop id %d: out of range: %w", id, ErrInvalid)
	}
	d.nhDown.setBit(id, down)
	return nil
}

// NextHopDown reports nexthop id's down bit.
func (d *Dataplane) NextHopDown(id uint32) bool {
	return id < MaxNextHops && d.nhDown.bit(id)
}

// SetESDown flips the down bit of the local port of ES id: frames for the ES
// go to its backup group (the ES peers) at once.
func (d *Dataplane) SetESDown(id uint32, down bool) error {
	if id == 0 || id >= MaxES {
		return fmt.Errorf("ES id %d: out of range: %w", id, ErrInvalid)
	}
	d.esDown.setBit(id, down)
	return nil
}
