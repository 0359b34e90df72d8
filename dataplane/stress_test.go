package dataplane

import (
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestAtomicGroupReplace forwards frames through a group on one CPU while
// the other CPU replaces the group as fast as it can. Version v of the group
// uses only the nexthop pair v%32 (nexthops 21-84, disjoint pairs). Every
// frame must leave through a member of a version that was active while it
// ran: the one published before it, or a later one up to the one published
// after it (plus the one being installed). A torn read or a slot reused too
// early shows up as a member of any other version; a missed lookup shows up
// as a drop.
func TestAtomicGroupReplace(t *testing.T) {
	f := newFixture(t)
	const pairs = 32
	for n := 21; n < 21+2*pairs; n++ {
		f.must(f.d.SetNextHop(uint32(n), NextHop{Src: localVTEP4, Dst: netip.AddrFrom4([4]byte{198, 51, 100, byte(n)}),
			Ifindex: f.up, SrcMAC: upMAC, DstMAC: routerMAC}))
	}
	version := func(v uint64) []Bucket {
		p := uint32(21 + 2*(v%pairs))
		b := make([]Bucket, GroupBuckets)
		for i := range b {
			b[i] = Bucket{Primary: p + uint32(i%2), Backup: p + uint32((i+1)%2)}
		}
		return b
	}
	_, err := f.d.ReplaceGroup(grpES, version(0))
	f.must(err)

	frames := make([][]byte, 64)
	for i := range frames {
		frames[i] = buildFrame(t, frameSpec{dst: hostS, src: hostA, sport: uint16(1000 + i)})
	}
	duration := 3 * time.Second
	if testing.Short() {
		duration = time.Second
	}
	var (
		published atomic.Uint64 // the last version whose ReplaceGroup returned
		stop      atomic.Bool
		wg        sync.WaitGroup
		replaced  uint64
		writeErr  error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		pinCPU(1)
		for v := uint64(1); !stop.Load(); v++ {
			if _, err := f.d.ReplaceGroup(grpES, version(v)); err != nil {
				writeErr = err
				return
			}
			published.Store(v)
			replaced++
		}
	}()

	before, err := f.d.Counters()
	f.must(err)
	var checked, unverifiable uint64
	deadline := time.Now().Add(duration)
	err = f.ns.Do(func() error {
		pinCPU(0)
		for i := 0; time.Now().Before(deadline); i++ {
			b := published.Load()
			res, err := f.d.Run(frames[i%len(frames)], f.acc1)
			a := published.Load()
			if err != nil {
				return err
			}
			if res.Action != ActionRedirect {
				t.Errorf("frame %d: action %s during replacement", i, res.Action)
				return nil
			}
			ip := [4]byte(res.Frame[30:34])
			nh := uint64(ip[3])
			if a+1-b >= pairs {
				unverifiable++
				continue
			}
			ok := false
			for v := b; v <= a+1; v++ {
				if p := uint64(21 + 2*(v%pairs)); nh == p || nh == p+1 {
					ok = true
				}
			}
			if !ok {
				t.Errorf("frame %d left by nexthop %d, not a member of versions %d-%d", i, nh, b, a+1)
				return nil
			}
			checked++
		}
		return nil
	})
	stop.Store(true)
	wg.Wait()
	f.must(err)
	f.must(writeErr)
	after, err := f.d.Counters()
	f.must(err)
	if d := after["drop_no_nhg"] - before["drop_no_nhg"]; d != 0 {
		t.Errorf("%d frames missed the group lookup", d)
	}
	if replaced < 100 || checked < 1000 {
		t.Errorf("too little work to prove anything: %d replacements, %d frames", replaced, checked)
	}
	st := f.d.GroupStats()
	t.Logf("%d group replacements, %d frames checked (%d unverifiable: >%d versions during one frame), %d grace periods",
		replaced, checked, unverifiable, pairs-2, st.GracePeriods)
}

// pinCPU pins the calling (locked) thread to cpu when the machine has it.
func pinCPU(cpu int) {
	if runtime.NumCPU() <= cpu {
		return
	}
	var set unix.CPUSet
	set.Set(cpu)
	_ = unix.SchedSetaffinity(0, &set)
}
