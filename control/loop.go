package control

import (
	"context"

	"fmt"
	"time"

	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/vxlan"
)

// Controller runs the control loop: one goroutine owns all state, and every
// method sends it a closure and waits for the result.
type Controller struct {
	core  *core
	ops   chan op
	wake  chan time.Time
	done  chan struct{}
	start chan struct{}
}

type op struct {
	fn   func(*core) error
	errc chan error
}

// New builds a controller over dp. ul (may be nil: VTEPs then stay down until
// UnderlayUpdate says otherwise) resolves remote VTEPs; sink (may be nil)
// receives the routes this node originates. Call Run to start the loop.
func New(cfg Config, dp Dataplane, ul Underlay, sink RouteSink) (*Controller, error) {
	c := &Controller{ops: make(chan op), wake: make(chan time.Time, 16), done: make(chan struct{}), start: make(chan struct{})}
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

// Run runs the loop until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	close(c.start)
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case o := <-c.ops:
			err := o.fn(c.core)
			c.core.flush()
			c.core.originate()
			o.errc <- err
			c.core.settle() // after the answer: staging and bookkeeping
		case <-c.wake:
			for _, e := range c.core.ess {
				if e.local != nil {
					c.core.dirtyES[e.esi] = struct{}{}
				}
			}
			c.core.flush()
			c.core.originate()
		}
	}
}

// do runs fn on the loop and waits for it.
func (c *Controller) do(ctx context.Context, fn func(*core) error) error {
	o := op{fn: fn, errc: make(chan error, 1)}
	select {
	case c.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrClosed
	}
	select {
	case err := <-o.errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
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
	var res ApplyResult
	start := time.Now()
	err := c.do(ctx, func(k *core) error {
		before := k.stats
		for _, p := range paths {
			if err := k.apply(p); err != nil {
				res.Rejected++
				if len(res.Errors) < maxReportedErrors {
					res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", p, err))
				}
			}
		}
		res.Added = int(k.stats.PathsAdded - before.PathsAdded)
		res.Withdrawn = int(k.stats.PathsWithdrawn - before.PathsWithdrawn)
		res.Duplicates = int(k.stats.Duplicates - before.Duplicates)
		res.UnknownWithdraws = int(k.stats.UnknownWithdraws - before.UnknownWithdraws)
		return nil
	})
	res.Elapsed = time.Since(start)
	return res, err
}

// PortState reports a local port (access or uplink) going up or down.
func (c *Controller) PortState(ctx context.Context, ifindex uint32, up bool) error {
	return c.do(ctx, func(k *core) error { k.portState(ifindex, up); return nil })
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
