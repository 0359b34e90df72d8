package control

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/internal/prefetch"
	"github.com/fwdplane/fwd/vxlan"
)

// Controller serializes every change to the control plane's state. A
// caller runs its change itself, on its own goroutine, while it holds the
// loop's one token; the loop goroutine (Run) holds the same token for what
// is left after the answers (group bookkeeping, staging) and for timers,
// one small step at a time, and hands the token to a waiting caller between
// steps. So changes still apply one at a time and in order, as in one
// goroutine, but a call does not pay two goroutine wake-ups, and never
// waits for more than one staging step: see docs/FAILOVER.md for the
// measurement that made the loop work this way.
type Controller struct {
	core  *core
	token chan struct{} // holding it (a value in the buffer) is owning core
	// waiting counts callers queued for the token: the loop yields to
	// them between steps.
	waiting atomic.Int32
	kick    chan struct{} // a call left work for the loop
	wake    chan time.Time
	done    chan struct{}
	latency Latency // the calls' hold times, written while holding the token
}

// New builds a controller over dp. ul (may be nil: VTEPs then stay down until
// UnderlayUpdate says otherwise) resolves remote VTEPs; sink (may be nil)
// receives the routes this node originates. Call Run to start the loop.
func New(cfg Config, dp Dataplane, ul Underlay, sink RouteSink) (*Controller, error) {
	c := &Controller{
		token: make(chan struct{}, 1), kick: make(chan struct{}, 1), wake: make(chan time.Time, 16),
		done: make(chan struct{}),
	}
	core, err := newCore(cfg, dp, ul, sink)
	if err != nil {
		return nil, err
	}
	core.timer = func(t time.Time) {
		time.AfterFunc(time.Until(t), func() {
			select {
			case c.wake <- t:
			case <-c.done:
			}
		})
	}
	c.core = core
	core.originate()
	return c, nil
}

// Run runs the loop until ctx ends. Calls made before Run apply at once;
// the work left after their answers (staging, timers) waits for Run.
func (c *Controller) Run(ctx context.Context) error {
	defer func() {
		c.token <- struct{}{} // no call is running once Run returns
		close(c.done)
		<-c.token
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.kick:
		case <-c.wake:
			c.token <- struct{}{}
			c.core.runEarly()
			for _, e := range c.core.ess {
				if e.local != nil {
					c.core.dirtyES[e.esi] = struct{}{}
				}
			}
			c.core.flush()
			c.core.originate()
			<-c.token
		}
		c.background(ctx)
	}
}

// background does the work left after the answers, a step at a time,
// letting waiting callers in between steps.
func (c *Controller) background(ctx context.Context) {
	for more := true; more && ctx.Err() == nil; {
		if c.waiting.Load() > 0 {
			// Callers first: a spinning one gets the chance to take the
			// token; blocked ones are ahead of the loop in the token's
			// queue anyway.
			runtime.Gosched()
		}
		c.token <- struct{}{}
		c.core.runEarly()
		if c.core.pendingFlush {
			c.core.pendingFlush = false
			c.core.flush()
			c.core.originate()
		}
		c.core.settleGroups()
		more = c.core.stageOne()
		<-c.token
	}
}

// spinTries bounds how often a caller polls for the token before it
// sleeps: the loop's steps are a few microseconds, and a sleeping caller
// costs a wake-up of tens of microseconds on a busy machine.
const spinTries = 200

// acquire takes the token for a caller; false when ctx ended first.
func (c *Controller) acquire(ctx context.Context) bool {
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	for range spinTries {
		select {
		case c.token <- struct{}{}:
			return true
		default:
		}
		runtime.Gosched()
	}
	select {
	case c.token <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// do runs fn on the state, after every change before it.
func (c *Controller) do(ctx context.Context, fn func(*core) error) error {
	if !c.acquire(ctx) {
		return ctx.Err()
	}
	select {
	case <-c.done:
		<-c.token
		return ErrClosed
	default:
	}
	start := time.Now()
	k := c.core
	k.runEarly()
	err := fn(k)
	if k.deferFlush {
		// An early switch did the call's one write: the rest is
		// bookkeeping, done after the answer (background), or by the
		// next call first.
		k.deferFlush, k.pendingFlush = false, true
	} else {
		k.flush()
		k.originate()
		k.pendingFlush = false
	}
	left := k.pendingFlush || len(k.early) > 0 || len(k.deferred) > 0 || len(k.staging) > 0
	c.latency.observe(time.Since(start))
	<-c.token
	if left {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return err
}

// ApplyResult says what a batch of paths did.
type ApplyResult struct {
	Added, Withdrawn, Duplicates, UnknownWithdraws, Rejected int
	// Errors holds the first rejections, each naming the path.
	Errors  []string
	Elapsed time.Duration
}

const maxReportedErrors = 16

// Apply takes a batch of paths (announcements and withdrawals) in order and
// writes the result to the fast path once, at the end. A rejected path
// (invalid) is counted and reported; the rest of the batch still applies.
func (c *Controller) Apply(ctx context.Context, paths []evpn.Path) (ApplyResult, error) {
	return c.apply(ctx, len(paths), func(i int) evpn.Path { return paths[i] }, func(k *core) { k.reserve(paths) })
}

// ApplyMACs applies n type-2 routes that are tmpl but for their MAC,
// mac(i) for route i (announcements or, with tmpl.Withdraw, withdrawals):
// the API's generator. tmpl is checked once and no route is built.
func (c *Controller) ApplyMACs(ctx context.Context, n int, tmpl evpn.Path, mac func(i int) evpn.MAC) (ApplyResult, error) {
	r, ok := tmpl.Route.(evpn.MACIPRoute)
	if !ok {
		return ApplyResult{}, fmt.Errorf("a MAC batch takes a type-2 route, not %T", tmpl.Route)
	}
	if err := tmpl.Validate(); err != nil {
		return ApplyResult{}, err
	}
	grow := n
	if tmpl.Withdraw {
		grow = 0
	}
	var res ApplyResult
	start := time.Now()
	err := c.do(ctx, func(k *core) error {
		before := k.stats
		k.reserveN(0, grow)
		k.reserveDirty(n)
		// The MACs a few routes ahead, their table slots prefetched
		// (see macTable): ahead[i%len(ahead)] is route i's.
		var ahead [prefetch.Distance]evpn.MAC
		for i := range min(n, len(ahead)) {
			ahead[i] = mac(i)
			k.macs.prefetch(ahead[i])
		}
		for i := range n {
			r.MAC = ahead[i%len(ahead)]
			if j := i + len(ahead); j < n {
				ahead[i%len(ahead)] = mac(j)
				k.macs.prefetch(ahead[i%len(ahead)])
			}
			if r.MAC.IsZero() {
				res.Rejected++
				if len(res.Errors) < maxReportedErrors {
					res.Errors = append(res.Errors, fmt.Sprintf("route %d: MAC must not be zero", i))
				}
				continue
			}
			k.applyMAC(&tmpl, r)
		}
		res.count(k.stats, before)
		return nil
	})
	res.Elapsed = time.Since(start)
	return res, err
}

// count fills the result's counters from the loop's, now and before.
func (res *ApplyResult) count(now, before Stats) {
	res.Added = int(now.PathsAdded - before.PathsAdded)
	res.Withdrawn = int(now.PathsWithdrawn - before.PathsWithdrawn)
	res.Duplicates = int(now.Duplicates - before.Duplicates)
	res.UnknownWithdraws = int(now.UnknownWithdraws - before.UnknownWithdraws)
}

func (c *Controller) apply(ctx context.Context, n int, at func(int) evpn.Path, reserve func(*core)) (ApplyResult, error) {
	var res ApplyResult
	start := time.Now()
	err := c.do(ctx, func(k *core) error {
		before := k.stats
		if n == 1 && k.switchFirst(at(0)) {
			// Withdrawn, switched; the rest before the next change.
			res.Withdrawn, k.deferFlush = 1, true
			return nil
		}
		reserve(k)
		k.reserveDirty(n)
		for i := range n {
			if j := i + prefetch.Distance; j < n {
				if r, ok := at(j).Route.(evpn.MACIPRoute); ok {
					k.macs.prefetch(r.MAC)
				}
			}
			p := at(i)
			if err := k.apply(p); err != nil {
				res.Rejected++
				if len(res.Errors) < maxReportedErrors {
					res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", p, err))
				}
			}
		}
		res.count(k.stats, before)
		return nil
	})
	res.Elapsed = time.Since(start)
	return res, err
}

// PortState reports a local port (access or uplink) going up or down.
// The down bit flips in the call (tier 1); the rest (DF election, the
// ES's routes) follows after the answer, before the next change.
func (c *Controller) PortState(ctx context.Context, ifindex uint32, up bool) error {
	return c.do(ctx, func(k *core) error {
		k.portState(ifindex, up)
		k.deferFlush = true
		return nil
	})
}

// UnderlayUpdate applies a VTEP's new underlay resolution.
func (c *Controller) UnderlayUpdate(ctx context.Context, u vxlan.Underlay) error {
	return c.do(ctx, func(k *core) error { k.underlay(u); return nil })
}

// Learned installs a MAC the fast path saw on a local port.
func (c *Controller) Learned(ctx context.Context, vni uint32, mac evpn.MAC, ifindex uint32) error {
	return c.do(ctx, func(k *core) error { k.learned(vni, mac, ifindex); return nil })
}

// Stats returns the loop's counters.
func (c *Controller) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := c.do(ctx, func(k *core) error { s = k.stats; return nil })
	return s, err
}

// LatencyBounds are the upper bounds of Latency's buckets, in seconds.
var LatencyBounds = [...]float64{1e-6, 4e-6, 16e-6, 64e-6, 256e-6, 1e-3, 4e-3, 16e-3, 64e-3, 256e-3, 1}

// Latency is a histogram of how long calls held the loop: Counts[i] calls
// took at most LatencyBounds[i] (and more than the bound before), Inf
// longer than the last bound.
type Latency struct {
	Counts [len(LatencyBounds)]uint64
	Inf    uint64
	Sum    time.Duration
	Count  uint64
}

func (l *Latency) observe(d time.Duration) {
	l.Count++
	l.Sum += d
	s := d.Seconds()
	for i, b := range LatencyBounds {
		if s <= b {
			l.Counts[i]++
			return
		}
	}
	l.Inf++
}

// Latency returns the histogram of the calls' hold times so far.
func (c *Controller) Latency(ctx context.Context) (Latency, error) {
	var l Latency
	err := c.do(ctx, func(*core) error { l = c.latency; return nil })
	return l, err
}
