package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/internal/dpwrites"
	"github.com/fwdplane/fwd/vxlan"
)

// failoverMeasureFwd builds fwd's rig for n MACs, applies the routes,
// starts the traffic and measures every event, then the naive rewrite.
func failoverMeasureFwd(ctx context.Context, n int, o *FailoverOptions, step func(string)) (res []FailoverResult, load FailoverLoad, err error) {
	load.MACs = n
	r, err := newFailoverRig(ctx, n, o, step)
	if err != nil {
		return nil, load, err
	}
	defer func() {
		step("removing fwd's namespaces")
		err = errors.Join(err, r.close())
	}()
	if load, err = r.applyRoutes(ctx); err != nil {
		return nil, load, err
	}
	// The routes are in: collect now, and not again while the events run.
	// The controller makes a few KB of garbage per event, but the
	// harness's own sink polling makes far more, and with a small heap
	// (N=1k) it would set off collections in the middle of the calls
	// being timed. A memory limit keeps the heap bounded all the same.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(ms.HeapAlloc) + 1<<30))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	step("starting the traffic")
	if err := r.startTraffic(); err != nil {
		return nil, load, err
	}
	if err := r.checkTraffic(); err != nil {
		return nil, load, err
	}
	first, err := r.counts()
	if err != nil {
		return nil, load, err
	}
	start, cpu0 := time.Now(), failoverCPUNow()
	for _, ev := range FailoverEvents {
		acc := &failoverAcc{ev: ev}
		for rep := 0; rep < o.Reps; rep++ {
			if err := ctx.Err(); err != nil {
				return res, load, err
			}
			step(fmt.Sprintf("%s %d/%d", ev, rep+1, o.Reps))
			if err := r.once(ctx, ev, acc); err != nil {
				return res, load, fmt.Errorf("%s: %w", ev, err)
			}
		}
		step(fmt.Sprintf("%s x%d back to back", ev, o.HotReps))
		if acc.hotUS, acc.hotAtUS, acc.hotWriteUS, err = r.hot(ctx, ev, o.HotReps); err != nil {
			return res, load, fmt.Errorf("%s: %w", ev, err)
		}
		time.Sleep(failoverSettleRestore)
		res = append(res, acc.result(n))
	}
	last, err := r.counts()
	if err != nil {
		return res, load, err
	}
	var delivered uint64
	for i := range last {
		delivered += last[i] - first[i]
	}
	load.FramesPerSecond = float64(delivered) / time.Since(start).Seconds()
	load.OtherCPUs = failoverOthers(cpu0, failoverCPUNow())
	step("timing the naive rewrite (Dataplane.SetFDBBatch of every MAC)")
	remote, local, err := r.naive(min(o.Reps, 5))
	if err != nil {
		return res, load, err
	}
	for i := range res {
		res[i].NaiveUS = remote
		if res[i].Event == FailoverLocalPortDown {
			res[i].NaiveUS = local
		}
		if res[i].SwitchUS > 0 {
			res[i].NaiveOverSwitch = res[i].NaiveUS / res[i].SwitchUS
		}
	}
	if err := r.stopTraffic(); err != nil {
		return res, load, fmt.Errorf("generator: %w", err)
	}
	return res, load, nil
}

// checkTraffic makes sure frames reach every member before any event:
// each remote PE and the local port.
func (r *failoverRig) checkTraffic() error {
	// The generator first: on a loaded machine (N=1M, right after 2M
	// routes) its first runs can take longer than a window, and a window
	// of a few thousand frames does not reach every member.
	for deadline := time.Now().Add(10 * time.Second); r.genSent.Load() < 4<<15 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(r.o.Window)
	c0, err := r.counts()
	if err != nil {
		return err
	}
	time.Sleep(r.o.Window)
	c1, err := r.counts()
	if err != nil {
		return err
	}
	var missing []string
	for _, pe := range failoverPEs {
		if c1[failoverKey(pe)] == c0[failoverKey(pe)] {
			missing = append(missing, "VTEP "+pe.String())
		}
	}
	if c1[failoverPortKey] == c0[failoverPortKey] {
		missing = append(missing, "the local ES port")
	}
	if len(missing) == 0 {
		return nil
	}
	ctrs, _ := r.dp.Counters()
	return fmt.Errorf("no traffic reaches %v (generator sent %d frames; fwd counters %v)", missing, r.genSent.Load(), ctrs)
}

// failoverMember says, for an event, which sink slot is the dead member and
// which are the ones that must take its traffic.
func failoverMember(ev FailoverEvent) (dead int, survivors []int) {
	if ev == FailoverLocalPortDown {
		return failoverPortKey, []int{failoverKey(failoverPeer)}
	}
	for i, pe := range failoverPEs {
		if i == failoverDead {
			dead = failoverKey(pe)
		} else {
			survivors = append(survivors, failoverKey(pe))
		}
	}
	return dead, survivors
}

// do injects ev through the controller call the daemon makes for it; undo
// reverses it.
func (r *failoverRig) do(ctx context.Context, ev FailoverEvent) error {
	pe := failoverPEs[failoverDead]
	switch ev {
	case FailoverEADWithdraw:
		_, err := r.ctrl.Apply(ctx, []evpn.Path{failoverWithdraw(failoverEADES(pe, failoverRemoteESI))})
		return err
	case FailoverUnderlayLost:
		return r.ctrl.UnderlayUpdate(ctx, vxlan.Underlay{VTEP: pe, Reachable: false, Reason: "bench: route lost"})
	case FailoverLocalPortDown:
		return r.ctrl.PortState(ctx, uint32(r.a0), false)
	}
	return fmt.Errorf("unknown event %q", ev)
}

func (r *failoverRig) undo(ctx context.Context, ev FailoverEvent) error {
	pe := failoverPEs[failoverDead]
	switch ev {
	case FailoverEADWithdraw:
		_, err := r.ctrl.Apply(ctx, []evpn.Path{failoverEADES(pe, failoverRemoteESI)})
		return err
	case FailoverUnderlayLost:
		return r.ctrl.UnderlayUpdate(ctx, r.ul.Resolve(pe))
	case FailoverLocalPortDown:
		return r.ctrl.PortState(ctx, uint32(r.a0), true)
	}
	return fmt.Errorf("unknown event %q", ev)
}

// hot times the event's controller call reps times, each undone at once:
// the call's duration and when its switching write returned.
func (r *failoverRig) hot(ctx context.Context, ev FailoverEvent, reps int) (call, switched, write []float64, err error) {
	for range reps {
		r.dp.Start()
		t0 := time.Now()
		err := r.do(ctx, ev)
		d := time.Since(t0)
		ops := r.dp.Stop()
		if err != nil {
			return nil, nil, nil, err
		}
		if err := r.undo(ctx, ev); err != nil {
			return nil, nil, nil, fmt.Errorf("undo: %w", err)
		}
		call = append(call, failoverUS(d))
		if i := slices.IndexFunc(ops, dpwrites.Write.Switches); i >= 0 {
			switched = append(switched, failoverUS(ops[i].At.Sub(t0)))
			write = append(write, failoverUS(ops[i].At.Sub(ops[i].Start)))
		}
	}
	return call, switched, write, nil
}

// failoverAcc gathers the repetitions of one event at one N.
type failoverAcc struct {
	ev                               FailoverEvent
	switchUS, writeAtUS, writeUS     []float64
	hotUS, hotAtUS, hotWriteUS       []float64
	fdb, group, es, nh, bits, before []uint64
	order                            []string
	framesAfter, inFlight            uint64
	drainUS                          float64
	deadBefore, survivorsAfter       uint64
	reps                             int
}

// once injects the event once with the traffic running, and undoes it:
//
//  1. the sink's counts over one window before the event: the dead member
//     must be getting frames;
//  2. the controller call, timed (switch_us), with the dataplane writes it
//     made and when the one that switches traffic completed;
//  3. the sink polled for failoverSettle after the call returned: frames
//     fwd encapsulated before the switch that were still in the veth
//     rings (in_flight), and the last time the dead member's count grew;
//  4. one window more: frames to the dead member there are frames fwd
//     sent it after the switch (frames_after, must be 0), and the
//     survivors' frames show the traffic moved;
//  5. the event undone, and the traffic given time to settle.
func (r *failoverRig) once(ctx context.Context, ev FailoverEvent, a *failoverAcc) error {
	dead, survivors := failoverMember(ev)
	c0, err := r.counts()
	if err != nil {
		return err
	}
	time.Sleep(r.o.Window)
	c1, err := r.counts()
	if err != nil {
		return err
	}
	if c1[dead] == c0[dead] {
		return fmt.Errorf("no frames reach the member that is to fail (sink slot %d) before the event", dead)
	}
	st0, err := r.ctrl.Stats(ctx)
	if err != nil {
		return err
	}

	r.dp.Start()
	t0 := time.Now()
	err = r.do(ctx, ev)
	t1 := time.Now()
	ops := r.dp.Stop()
	if err != nil {
		return err
	}
	cRet, err := r.counts()
	if err != nil {
		return err
	}
	cSet, lastGrow := cRet, time.Duration(0)
	for time.Since(t1) < failoverSettle {
		c, err := r.counts()
		if err != nil {
			return err
		}
		if c[dead] != cSet[dead] {
			lastGrow = time.Since(t1)
		}
		cSet = c
	}
	time.Sleep(r.o.Window)
	cEnd, err := r.counts()
	if err != nil {
		return err
	}
	st1, err := r.ctrl.Stats(ctx)
	if err != nil {
		return err
	}
	if err := r.undo(ctx, ev); err != nil {
		return fmt.Errorf("undo: %w", err)
	}
	time.Sleep(failoverSettleRestore)

	a.reps++
	a.switchUS = append(a.switchUS, failoverUS(t1.Sub(t0)))
	a.fdb = append(a.fdb, st1.FDBWrites-st0.FDBWrites)
	a.group = append(a.group, st1.GroupWrites-st0.GroupWrites)
	a.es = append(a.es, st1.ESWrites-st0.ESWrites)
	a.nh = append(a.nh, st1.NextHopWrites-st0.NextHopWrites)
	a.bits = append(a.bits, st1.DownBitFlips-st0.DownBitFlips)
	var before uint64
	switched := false
	var order []string
	for _, op := range ops {
		order = append(order, op.What)
		switch {
		case switched:
		case op.Switches():
			switched = true
			a.writeAtUS = append(a.writeAtUS, failoverUS(op.At.Sub(t0)))
			a.writeUS = append(a.writeUS, failoverUS(op.At.Sub(op.Start)))
		default:
			before++
		}
	}
	if !switched {
		return fmt.Errorf("the controller call made no switching write (writes: %v)", order)
	}
	a.before = append(a.before, before)
	if a.order == nil {
		a.order = order
	}
	a.framesAfter += cEnd[dead] - cSet[dead]
	a.inFlight = max(a.inFlight, cSet[dead]-cRet[dead])
	a.drainUS = max(a.drainUS, failoverUS(lastGrow))
	a.deadBefore += c1[dead] - c0[dead]
	for _, s := range survivors {
		a.survivorsAfter += cEnd[s] - cSet[s]
	}
	return nil
}

func (a *failoverAcc) result(n int) FailoverResult {
	maxOf := func(v []uint64) uint64 {
		if len(v) == 0 {
			return 0
		}
		return slices.Max(v)
	}
	res := FailoverResult{Event: a.ev, Tier: a.ev.Tier(), MACs: n, Reps: a.reps,
		FDBWrites: maxOf(a.fdb), GroupWrites: maxOf(a.group), ESWrites: maxOf(a.es), NextHopWrites: maxOf(a.nh),
		DownBitFlips: maxOf(a.bits), WritesBeforeSwitch: maxOf(a.before), WriteOrder: a.order,
		SwitchUS: failoverMedian(a.switchUS), SwitchUSHot: failoverMedian(a.hotUS),
		SwitchWriteUSHot: failoverMedian(a.hotAtUS), WriteUSHot: failoverMedian(a.hotWriteUS), SwitchWriteUS: failoverMedian(a.writeAtUS), WriteUS: failoverMedian(a.writeUS),
		FramesAfter: a.framesAfter, InFlight: a.inFlight, DrainUS: a.drainUS}
	res.Writes = res.FDBWrites + res.GroupWrites + res.ESWrites + res.NextHopWrites
	if len(a.switchUS) > 0 {
		res.SwitchUSMin, res.SwitchUSMax = slices.Min(a.switchUS), slices.Max(a.switchUS)
	}
	if a.reps > 0 {
		res.DeadBefore = a.deadBefore / uint64(a.reps)
		res.SurvivorsAfter = a.survivorsAfter / uint64(a.reps)
	}
	// Every repetition must have written the same: say so when not.
	for _, v := range [][]uint64{a.fdb, a.group, a.es, a.nh, a.bits} {
		if len(v) > 0 && slices.Min(v) != slices.Max(v) {
			res.Note = "the repetitions did not all write the same; the largest count is shown"
		}
	}
	return res
}

// naive times rewriting every MAC's FDB entry in one Dataplane.SetFDBBatch
// call: the N remote-ES MACs, and the N local-ES MACs. It writes the entries
// the MACs already have, so the traffic is undisturbed; each entry costs
// what a new one would (a probe and one atomic store into the mapped
// table). It returns the medians in microseconds.
func (r *failoverRig) naive(reps int) (remote, local float64, err error) {
	for half, out := range []*float64{&remote, &local} {
		keys := make([]dataplane.FDBKey, r.n)
		for i := range keys {
			keys[i] = dataplane.FDBKey{BD: failoverVNI, MAC: failoverMAC(half*r.n + i)}
		}
		e, err := r.dp.FDB(keys[0])
		if err != nil {
			return 0, 0, err
		}
		vals := make([]dataplane.FDBEntry, r.n)
		for i := range vals {
			vals[i] = e
		}
		var us []float64
		for range reps {
			t0 := time.Now()
			got, err := r.dp.SetFDBBatch(keys, vals)
			d := time.Since(t0)
			if err != nil || got != r.n {
				return 0, 0, fmt.Errorf("naive rewrite: %d of %d entries: %w", got, r.n, err)
			}
			us = append(us, failoverUS(d))
		}
		*out = failoverMedian(us)
	}
	return remote, local, nil
}
