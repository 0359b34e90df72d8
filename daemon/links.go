package daemon

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/dataplane"
)

// linkResubscribe is how long followLinks waits before it subscribes again
// after its subscription broke (the socket overflowed, say).
const linkResubscribe = 100 * time.Millisecond

// followLinks follows the configured ports in the kernel, by name, until
// ctx ends:
//
//   - a port's carrier or admin state changes: the control loop is told
//     (an access port on a local ES going down flips its ES's down bit at
//     once; all uplinks down hold every local ES down);
//   - a port is deleted (or renamed away): the program's link on it and
//     its fast-path entries go, the control loop sees it down, and the
//     daemon logs it and publishes an "interface" event;
//   - an interface of a configured name appears with another ifindex (the
//     port deleted and created again): the control loop moves the port's
//     ES, uplink state and MACs to the new ifindex, the port's entry and
//     VLAN maps are written for it and the program attached, as a reload
//     does for an added interface; then its state is reported.
//
// The current state of every link is read first, and again after a broken
// subscription, so that nothing missed in between stays unseen.
func (d *Daemon) followLinks(ctx context.Context) error {
	for {
		err := d.watchLinks(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var fatal *linkError
		if errors.As(err, &fatal) {
			return fatal.err
		}
		d.log.Warn("link subscription broken: subscribing again", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(linkResubscribe):
		}
	}
}

// linkError is an error followLinks cannot recover from by subscribing
// again (the control loop stopped).
type linkError struct{ err error }

func (e *linkError) Error() string { return e.err.Error() }

// watchLinks is one subscription of followLinks.
func (d *Daemon) watchLinks(ctx context.Context) error {
	updates := make(chan netlink.LinkUpdate, 256)
	done := make(chan struct{})
	broken := make(chan error, 1)
	opts := netlink.LinkSubscribeOptions{ListExisting: true, ErrorCallback: func(err error) {
		select {
		case broken <- err:
		default:
		}
	}}
	if err := netlink.LinkSubscribeWithOptions(updates, done, opts); err != nil {
		return fmt.Errorf("subscribe to link changes: %w", err)
	}
	defer func() {
		close(done)
		for range updates { // until the subscription's goroutine has ended
		}
	}()
	last := map[int]bool{} // ifindex -> up, as last reported
	for {
		select {
		case <-ctx.Done():
			return nil
		case u, ok := <-updates:
			if !ok {
				select {
				case err := <-broken:
					return err
				default:
					return errors.New("link subscription closed")
				}
			}
			if err := d.linkUpdate(ctx, u, last); err != nil {
				return &linkError{err}
			}
		}
	}
}

// linkUpdate applies one link message. Only the control loop's errors are
// returned: a port that cannot be programmed is logged and published, and
// the next message about it tries again.
func (d *Daemon) linkUpdate(ctx context.Context, u netlink.LinkUpdate, last map[int]bool) error {
	a := u.Attrs()
	idx, name := a.Index, a.Name
	deleted := u.Header.Type == unix.RTM_DELLINK
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.ports {
		if p.gone || p.ifindex != idx {
			continue
		}
		switch {
		case deleted:
			if err := d.portGone(ctx, p, "deleted"); err != nil {
				return err
			}
		case name != p.cfg.Name:
			if err := d.portGone(ctx, p, "renamed to "+name); err != nil {
				return err
			}
		}
	}
	if deleted {
		delete(last, idx)
		return nil
	}
	p := d.ports[name]
	if p == nil {
		return nil
	}
	if !p.gone && p.ifindex != idx {
		// Its old self's deletion was missed (a broken subscription).
		if err := d.portGone(ctx, p, "replaced by ifindex "+strconv.Itoa(idx)); err != nil {
			return err
		}
	}
	if p.gone {
		if err := d.portBack(ctx, p, idx); err != nil {
			if errors.Is(err, errLoop) {
				return err
			}
			d.log.Error("interface back, but not programmed: the next change of it tries again", "interface", name, "ifindex", idx, "err", err)
			d.events.publish("interface", fmt.Sprintf("%s is back (ifindex %d) but not programmed: %v", name, idx, err),
				map[string]string{"interface": name, "ifindex": strconv.Itoa(idx)})
			return nil
		}
		delete(last, idx)
	}
	up := linkUp(u.Link)
	if was, seen := last[idx]; seen && was == up {
		return nil
	}
	last[idx] = up
	return d.ctrl.PortState(ctx, uint32(idx), up)
}

// errLoop marks an error of the control loop in portBack.
var errLoop = errors.New("control loop")

// portGone forgets p's interface, which the kernel deleted: the program's
// link and the port's entries under its ifindex go, and the control loop
// sees the port down (its ES down bit, its routes withdrawn). The loop
// keeps the port's ES and MACs under the old ifindex until it comes back.
// Call with d.mu held.
func (d *Daemon) portGone(ctx context.Context, p *port, why string) error {
	old := uint32(p.ifindex)
	p.gone = true
	if p.attach != "" {
		if err := d.dp.Detach(p.ifindex); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
			d.log.Warn("detach from a deleted interface", "interface", p.cfg.Name, "ifindex", old, "err", err)
		}
		p.attach = ""
	}
	for tags, bd := range p.vlans {
		if err := d.dp.DeleteVLAN(old, tags, bd); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
			d.log.Warn("delete the VLAN map of a deleted interface", "interface", p.cfg.Name, "ifindex", old, "err", err)
		}
	}
	p.vlans = nil
	if err := d.dp.DeletePort(old); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
		d.log.Warn("delete the port entry of a deleted interface", "interface", p.cfg.Name, "ifindex", old, "err", err)
	}
	d.log.Warn("interface gone: marked down; fwd follows it when it comes back", "interface", p.cfg.Name, "ifindex", old, "why", why)
	d.events.publish("interface", fmt.Sprintf("%s (ifindex %d) %s: down until it comes back", p.cfg.Name, old, why),
		map[string]string{"interface": p.cfg.Name, "ifindex": strconv.Itoa(int(old))})
	return d.ctrl.PortState(ctx, old, false)
}

// portBack takes p's interface back under its new ifindex idx: the control
// loop moves what it keeps under the old one, then the port is programmed
// (entry, VLAN maps, program attached) as a reload programs an added
// interface. Call with d.mu held.
func (d *Daemon) portBack(ctx context.Context, p *port, idx int) error {
	if idx >= dataplane.MaxIfindex {
		return fmt.Errorf("ifindex %d is above the fast path's limit %d", idx, dataplane.MaxIfindex-1)
	}
	old := p.ifindex
	if err := d.ctrl.RenumberPort(ctx, uint32(old), uint32(idx)); err != nil {
		return fmt.Errorf("%w: %w", errLoop, err)
	}
	p.ifindex, p.gone = idx, false
	if err := d.program(p); err != nil {
		// Gone again for the fast path: the next message retries.
		d.unprogram(p)
		p.gone = true
		return err
	}
	d.log.Info("interface back: port entry rewritten, program attached", "interface", p.cfg.Name, "ifindex", idx,
		"was", old, "attach", p.attach, "es", p.es)
	d.events.publish("interface", fmt.Sprintf("%s is back as ifindex %d (was %d): program attached (%s)", p.cfg.Name, idx, old, p.attach),
		map[string]string{"interface": p.cfg.Name, "ifindex": strconv.Itoa(idx)})
	return nil
}

// unprogram undoes what a failed program wrote for p.
func (d *Daemon) unprogram(p *port) {
	if p.attach != "" {
		_ = d.dp.Detach(p.ifindex)
		p.attach = ""
	}
	for tags, bd := range p.vlans {
		_ = d.dp.DeleteVLAN(uint32(p.ifindex), tags, bd)
	}
	p.vlans = nil
	_ = d.dp.DeletePort(uint32(p.ifindex))
}

// linkUp: administratively up and with carrier (operstate up, or unknown
// for devices that do not report it), as control.WatchLinks decides.
func linkUp(l netlink.Link) bool {
	a := l.Attrs()
	if a.Flags&1 == 0 { // IFF_UP
		return false
	}
	return a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown
}

// portUp reads a port's state from the kernel (false when it is gone).
func portUp(ifindex uint32) bool {
	l, err := netlink.LinkByIndex(int(ifindex))
	return err == nil && linkUp(l)
}
