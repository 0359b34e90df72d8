// Package dpwrites records the writes the control loop makes to the fast
// path: a control.Dataplane over the real one that notes each write, what
// it was, when it was called and when it returned. The failover tests
// check which writes an event makes and in what order; `fwd bench
// failover` times the one that switches the traffic.
package dpwrites

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fwdplane/fwd/control"
	"github.com/fwdplane/fwd/dataplane"
)

// What a write was. The first three are the ones that move traffic.
const (
	NHBit   = "nexthop down bit"
	ESBit   = "ES down bit"
	Group   = "group"
	FDB     = "fdb"
	ES      = "es"
	NextHop = "nexthop"
	VTEP    = "vtep"
	ESPeer  = "es peer"
	BD      = "bd"
)

// Write is one recorded write. A batch of FDB entries is one Write per
// entry (each is one store into the table), all at the batch's end.
type Write struct {
	What      string
	Start, At time.Time // called, returned
}

// Switches reports whether w moves traffic by itself: a down bit or a
// group's version.
func (w Write) Switches() bool { return w.What == NHBit || w.What == ESBit || w.What == Group }

// Recorder is the real dataplane, recording writes while on (Start).
type Recorder struct {
	*dataplane.Dataplane

	on     atomic.Bool
	mu     sync.Mutex
	writes []Write
}

var _ control.Dataplane = (*Recorder)(nil)

// New wraps dp; recording is off until Start.
func New(dp *dataplane.Dataplane) *Recorder { return &Recorder{Dataplane: dp} }

// Start forgets what was recorded and records from now on.
func (r *Recorder) Start() {
	r.mu.Lock()
	r.writes = r.writes[:0]
	r.mu.Unlock()
	r.on.Store(true)
}

// Stop stops recording and returns what was recorded since Start.
func (r *Recorder) Stop() []Write {
	r.on.Store(false)
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Write(nil), r.writes...)
}

// Mark returns how many writes have been recorded, for Since.
func (r *Recorder) Mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.writes)
}

// Since returns what the writes from mark i on were, in order.
func (r *Recorder) Since(i int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.writes)-i)
	for _, w := range r.writes[i:] {
		out = append(out, w.What)
	}
	return out
}

func (r *Recorder) note(what string, start time.Time, n int) {
	at := time.Now()
	r.mu.Lock()
	for range n {
		r.writes = append(r.writes, Write{what, start, at})
	}
	r.mu.Unlock()
}

// timed runs one write, recording it while on.
func (r *Recorder) timed(what string, write func() error) error {
	if !r.on.Load() { // a route load: millions of calls
		return write()
	}
	start := time.Now()
	err := write()
	r.note(what, start, 1)
	return err
}

// batch runs a batch of FDB writes, recording one per entry written.
func (r *Recorder) batch(write func() (int, error)) (int, error) {
	if !r.on.Load() {
		return write()
	}
	start := time.Now()
	n, err := write()
	r.note(FDB, start, n)
	return n, err
}

func (r *Recorder) SetBD(vni uint32) error {
	return r.timed(BD, func() error { return r.Dataplane.SetBD(vni) })
}

func (r *Recorder) SetFDB(k dataplane.FDBKey, e dataplane.FDBEntry) error {
	return r.timed(FDB, func() error { return r.Dataplane.SetFDB(k, e) })
}

func (r *Recorder) DeleteFDB(k dataplane.FDBKey) error {
	return r.timed(FDB, func() error { return r.Dataplane.DeleteFDB(k) })
}

func (r *Recorder) SetFDBBatch(keys []dataplane.FDBKey, entries []dataplane.FDBEntry) (int, error) {
	return r.batch(func() (int, error) { return r.Dataplane.SetFDBBatch(keys, entries) })
}

func (r *Recorder) DeleteFDBBatch(keys []dataplane.FDBKey) (int, error) {
	return r.batch(func() (int, error) { return r.Dataplane.DeleteFDBBatch(keys) })
}

func (r *Recorder) SetES(id uint32, es dataplane.ES) error {
	return r.timed(ES, func() error { return r.Dataplane.SetES(id, es) })
}

func (r *Recorder) DeleteES(id uint32) error {
	return r.timed(ES, func() error { return r.Dataplane.DeleteES(id) })
}

func (r *Recorder) SetNextHop(id uint32, nh dataplane.NextHop) error {
	return r.timed(NextHop, func() error { return r.Dataplane.SetNextHop(id, nh) })
}

func (r *Recorder) DeleteNextHop(id uint32) error {
	return r.timed(NextHop, func() error { return r.Dataplane.DeleteNextHop(id) })
}

func (r *Recorder) SetNextHopDown(id uint32, down bool) error {
	return r.timed(NHBit, func() error { return r.Dataplane.SetNextHopDown(id, down) })
}

func (r *Recorder) SetESDown(id uint32, down bool) error {
	return r.timed(ESBit, func() error { return r.Dataplane.SetESDown(id, down) })
}

func (r *Recorder) ReplaceGroup(id uint32, b []dataplane.Bucket) (gen uint32, err error) {
	err = r.timed(Group, func() error {
		gen, err = r.Dataplane.ReplaceGroup(id, b)
		return err
	})
	return gen, err
}

// ActivateGroup is a mass withdraw's switch when the loop staged the
// version ahead: one atomic store.
func (r *Recorder) ActivateGroup(id uint32, st dataplane.StagedGroup) (gen uint32, err error) {
	err = r.timed(Group, func() error {
		gen, err = r.Dataplane.ActivateGroup(id, st)
		return err
	})
	return gen, err
}

func (r *Recorder) DeleteGroup(id uint32) error {
	return r.timed(Group, func() error { return r.Dataplane.DeleteGroup(id) })
}

func (r *Recorder) SetVTEP(a netip.Addr, flags uint32) error {
	return r.timed(VTEP, func() error { return r.Dataplane.SetVTEP(a, flags) })
}

func (r *Recorder) DeleteVTEP(a netip.Addr) error {
	return r.timed(VTEP, func() error { return r.Dataplane.DeleteVTEP(a) })
}

func (r *Recorder) SetESPeer(a netip.Addr, es uint32) error {
	return r.timed(ESPeer, func() error { return r.Dataplane.SetESPeer(a, es) })
}

func (r *Recorder) DeleteESPeer(a netip.Addr, es uint32) error {
	return r.timed(ESPeer, func() error { return r.Dataplane.DeleteESPeer(a, es) })
}
