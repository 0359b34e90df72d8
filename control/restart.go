package control

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/nhg"
)

// Pinned is the fast-path state a previous instance left pinned
// (dataplane.Inventory). A restart is make-before-break: the old entries
// keep forwarding while the loop builds its own state beside them, under
// IDs the old state does not use, and FDB entries switch over one atomic
// write at a time; then SweepFDB and ReleasePinned remove what is left of
// the old state. No frame meets a missing entry on the way.
type Pinned struct {
	NextHops, Groups, ESes []uint32
	VTEPs                  []netip.Addr
	ESPeers                []dataplane.ESPeer
}

// reservePinned keeps the pinned IDs out of the loop's allocators. IDs
// outside the loop's ranges need no reservation: it never hands them out.
func (c *core) reservePinned(p *Pinned) {
	c.pinned = p
	for _, id := range p.NextHops {
		if c.nhIDs.Range(nhg.EVPNL2).Contains(id) {
			_ = c.nhIDs.Reserve(nhg.EVPNL2, id)
		}
	}
	for _, id := range p.Groups {
		_ = c.groups.ReserveID(nhg.EVPNL2, id) // fails only outside the range
	}
	if len(p.ESes) > 0 {
		c.esIDs.ids = slices.DeleteFunc(c.esIDs.ids, func(id uint32) bool { return slices.Contains(p.ESes, id) })
	}
}

// SweepFDB deletes, of keys (the FDB entries the fast path holds, read
// after the routes came back), those the loop did not install: what the
// previous instance installed and nobody announced again. It returns how
// many it deleted.
func (c *Controller) SweepFDB(ctx context.Context, keys []dataplane.FDBKey) (int, error) {
	n := 0
	err := c.do(ctx, func(k *core) error {
		for _, key := range keys {
			if m := k.macOf(macKey{vni: key.BD, mac: key.MAC}); m != nil && m.installed != nil {
				continue
			}
			err := k.dp.DeleteFDB(key)
			k.write(err, &k.stats.FDBWrites)
			if err == nil {
				n++
			}
		}
		return nil
	})
	return n, err
}

// PinnedRelease says what ReleasePinned removed.
type PinnedRelease struct {
	ESes, Groups, NextHops, VTEPs, ESPeers int
}

func (r PinnedRelease) String() string {
	return fmt.Sprintf("%d ESes, %d groups, %d nexthops, %d VTEPs, %d ES peers", r.ESes, r.Groups, r.NextHops, r.VTEPs, r.ESPeers)
}

// ReleasePinned removes the previous instance's entries the loop does not
// use, from the top of the chain down (ES entries, then groups, then
// nexthops), calling sync (an RCU grace period: dataplane.Synchronize)
// between the levels so that no frame still holds a reference to what goes
// next; and gives their IDs back to the allocators. Call it after
// SweepFDB: then nothing points at the old ES entries any more.
func (c *Controller) ReleasePinned(ctx context.Context, sync func() error) (PinnedRelease, error) {
	var r PinnedRelease
	err := c.do(ctx, func(k *core) error {
		p := k.pinned
		if p == nil {
			return nil
		}
		k.pinned = nil
		local := map[netip.Addr]bool{k.cfg.VTEP4: true, k.cfg.VTEP6: true}
		for _, a := range p.VTEPs {
			if v := k.vteps[a]; v == nil && !local[a] {
				k.write(k.dp.DeleteVTEP(a), nil)
				r.VTEPs++
			}
		}
		peers := map[dataplane.ESPeer]bool{}
		for _, e := range k.ess {
			for a, on := range e.peers {
				if on {
					peers[dataplane.ESPeer{VTEP: a, ES: e.id}] = true
				}
			}
		}
		for _, pp := range p.ESPeers {
			if !peers[pp] {
				k.write(k.dp.DeleteESPeer(pp.VTEP, pp.ES), nil)
				r.ESPeers++
			}
		}
		for _, id := range p.ESes {
			k.write(k.dp.DeleteES(id), &k.stats.ESWrites)
			k.write(k.dp.SetESDown(id, false), nil)
			k.esIDs.free(id)
			r.ESes++
		}
		if err := sync(); err != nil {
			return fmt.Errorf("grace period: %w", err)
		}
		for _, id := range p.Groups {
			k.write(k.dp.DeleteGroup(id), &k.stats.GroupWrites)
			_ = k.groups.ReleaseID(nhg.EVPNL2, id)
			r.Groups++
		}
		if err := sync(); err != nil {
			return fmt.Errorf("grace period: %w", err)
		}
		for _, id := range p.NextHops {
			k.write(k.dp.DeleteNextHop(id), &k.stats.NextHopWrites)
			k.write(k.dp.SetNextHopDown(id, false), nil)
			if k.nhIDs.Range(nhg.EVPNL2).Contains(id) {
				_ = k.nhIDs.Free(nhg.EVPNL2, id)
			}
			r.NextHops++
		}
		return nil
	})
	return r, err
}
