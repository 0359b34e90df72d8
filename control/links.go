package control

import (
	"context"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// WatchLinks follows the operational state of the given ports in network
// namespace ns (netns.None() for the caller's) and reports every change to
// the controller: an access port on a local ES going down flips its ES's
// down bit at once (tier 1); all uplinks down holds every local ES down.
// The current state of each port is reported first. It returns when ctx
// ends, or with the subscription's error.
func (c *Controller) WatchLinks(ctx context.Context, ns netns.NsHandle, ports []uint32) error {
	updates := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	opts := netlink.LinkSubscribeOptions{ListExisting: true, ErrorCallback: func(error) {}}
	if ns.IsOpen() {
		opts.Namespace = &ns
	}
	if err := netlink.LinkSubscribeWithOptions(updates, done, opts); err != nil {
		return fmt.Errorf("subscribe to link changes: %w", err)
	}
	want := make(map[uint32]bool, len(ports))
	for _, p := range ports {
		want[p] = true
	}
	last := make(map[uint32]bool)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case u, ok := <-updates:
			if !ok {
				return fmt.Errorf("link subscription closed")
			}
			idx := uint32(u.Attrs().Index)
			if !want[idx] {
				continue
			}
			up := linkUp(u.Link)
			if was, seen := last[idx]; seen && was == up {
				continue
			}
			last[idx] = up
			if err := c.PortState(ctx, idx, up); err != nil {
				return err
			}
		}
	}
}

// linkUp: administratively up and with carrier (operstate up, or unknown
// for devices that do not report it).
func linkUp(l netlink.Link) bool {
	a := l.Attrs()
	if a.Flags&1 == 0 { // IFF_UP
		return false
	}
	return a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown
}
