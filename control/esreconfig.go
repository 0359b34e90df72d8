package control

import (
	"context"
	"fmt"
	"slices"

	"github.com/fwdplane/fwd/evpn"
)

// SetLocalESes makes want the local Ethernet Segments (a config reload)
// and returns the fast path's id of each. portUp (nil: every port up)
// gives the state of a port that gets an ES: the link watcher reports
// only changes, so a new ES must start from the port's real state.
//
//   - An ES that is no longer wanted stops being local: its routes are
//     withdrawn, the MACs learned on its port go back to plain local MACs
//     on that port (their entries are rewritten before the ES entry
//     changes, so no frame meets a half-changed ES), its backup group, its
//     es_peers entries and its down bit go. If remote PEs still advertise
//     the ESI it lives on as a remote ES (its MACs behind it then follow
//     its PEs' group, as on a node not attached to it); otherwise it is
//     deleted.
//   - A new ES (or one that moved to another port: removed, then added)
//     takes its port's state, its down bit, its routes and the DF election
//     (after the DF delay, as at a start). A remote ES with the same ESI
//     becomes local in place: its MACs become SYNC entries on our port,
//     and its remote group goes once the ES entry no longer uses it. The
//     MACs already learned on the port join the ES.
//   - An ES whose DF algorithm or preference changed keeps its state; its
//     type-4 route and the election follow.
//
// want is validated as Config.ESes is; a refused set changes nothing.
func (c *Controller) SetLocalESes(ctx context.Context, want []LocalES, portUp func(ifindex uint32) bool) (map[evpn.ESI]uint32, error) {
	want = slices.Clone(want)
	ids := map[evpn.ESI]uint32{}
	err := c.do(ctx, func(k *core) error {
		cfg := k.cfg
		cfg.ESes = want
		if err := cfg.validate(); err != nil {
			return err
		}
		byESI := make(map[evpn.ESI]LocalES, len(want))
		for _, l := range want {
			byESI[l.ESI] = l
		}
		// Ids first: a set that cannot get them changes nothing.
		need := 0
		for _, l := range want {
			if e := k.ess[l.ESI]; e == nil || e.id == 0 {
				need++
			}
		}
		if need > len(k.esIDs.ids) {
			return fmt.Errorf("%d new ESes, %d ES ids left: %w", need, len(k.esIDs.ids), ErrConfig)
		}
		var gone []*es
		for _, e := range k.ess {
			if e.local == nil {
				continue
			}
			if l, ok := byESI[e.esi]; !ok || l.Ifindex != e.local.Ifindex {
				gone = append(gone, e)
			}
		}
		slices.SortFunc(gone, func(a, b *es) int { return slices.Compare(a.esi[:], b.esi[:]) })
		for _, e := range gone {
			k.unsetLocal(e)
		}
		for _, l := range want {
			e := k.ess[l.ESI]
			if e != nil && e.local != nil {
				if *e.local != l { // same port: the DF candidacy changed
					nl := l
					e.local = &nl
					k.dirtyES[e.esi] = struct{}{}
					k.origES[e.esi] = struct{}{}
				}
				continue
			}
			up := portUp == nil || portUp(l.Ifindex)
			if err := k.setLocal(l, up); err != nil {
				return err
			}
		}
		k.cfg.ESes = want
		k.flush()
		for _, l := range want {
			ids[l.ESI] = k.ess[l.ESI].id
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// setLocal makes l a local ES: a new one, or a remote ES with its ESI.
func (k *core) setLocal(l LocalES, up bool) error {
	e := k.es(l.ESI)
	if e.id == 0 {
		id, ok := k.esIDs.alloc()
		if !ok { // SetLocalESes counted them: not reached
			return fmt.Errorf("es %s: no ES id left: %w", l.ESI, ErrConfig)
		}
		e.id = id
	}
	// A remote ES's group: it goes once the local ES entry has replaced
	// the one that used it (the flush below writes that entry first).
	oldGroup := e.group
	k.dropStaged(e)
	e.group, e.members = 0, nil
	e.local = &l
	e.portUp, e.adminDown, e.df = up, false, false
	e.upSince = k.now()
	k.byPort[l.Ifindex] = e
	// Its MACs from remote routes become SYNC entries on our port.
	for mk := range e.macs {
		if m := k.macOf(mk); m != nil {
			k.markMAC(m)
		}
	}
	// The MACs already learned on the port join it.
	k.eachMAC(func(m *mac) {
		if m.local != nil && m.local.ifindex == l.Ifindex && m.local.es != e {
			m.local.es = e
			k.addMACToES(m, e)
			k.markMAC(m)
			k.origMAC[m.key] = struct{}{}
		}
	})
	k.localESState(e) // the down bit before the ES entry turns local
	k.flush()
	if oldGroup != 0 {
		k.groupOf(oldGroup, nil)
	}
	return nil
}

// unsetLocal makes local ES e stop being local (see SetLocalESes).
func (k *core) unsetLocal(e *es) {
	id, backup := e.id, e.backup
	// The MACs learned on its port leave it first: their entries point at
	// the port again before the ES entry changes.
	k.eachMAC(func(m *mac) {
		if m.local != nil && m.local.es == e {
			m.local.es = nil
			k.flushMAC(m)
			k.origMAC[m.key] = struct{}{}
		}
	})
	k.writeFDBBatch()
	if k.byPort[e.local.Ifindex] == e {
		delete(k.byPort, e.local.Ifindex)
	}
	e.local = nil
	e.backup = 0
	e.portUp, e.adminDown, e.df = false, false, false
	k.dirtyES[e.esi] = struct{}{}
	k.origES[e.esi] = struct{}{}
	// SYNC MACs (remote routes naming the ESI) follow its remote PEs now.
	for mk := range e.macs {
		if m := k.macOf(mk); m != nil {
			k.markMAC(m)
		}
	}
	// The ES entry is rewritten as a remote ES (or deleted) here; then
	// nothing points at what only a local ES has.
	k.flush()
	k.groupOf(backup, nil)
	k.syncPeers(e, nil)
	k.write(k.dp.SetESDown(id, false), &k.stats.DownBitFlips)
}

// RenumberPort moves what the loop keeps under port ifindex from to
// ifindex to: an interface deleted and created again under the same name
// comes back with a new ifindex. Its local ES (the ES entry's port), its
// uplink state and the MACs learned on it (static ones included) follow;
// the FDB entries of those MACs are rewritten.
func (c *Controller) RenumberPort(ctx context.Context, from, to uint32) error {
	if from == 0 || to == 0 {
		return fmt.Errorf("renumber port %d -> %d: ifindex 0: %w", from, to, ErrConfig)
	}
	if from == to {
		return nil
	}
	return c.do(ctx, func(k *core) error {
		if e := k.byPort[to]; e != nil {
			return fmt.Errorf("renumber port %d -> %d: port %d is already on ES %s: %w", from, to, to, e.esi, ErrConfig)
		}
		if e := k.byPort[from]; e != nil {
			delete(k.byPort, from)
			l := *e.local
			l.Ifindex = to
			e.local = &l
			k.byPort[to] = e
			k.dirtyES[e.esi] = struct{}{}
			k.cfg.ESes = slices.Clone(k.cfg.ESes) // the caller's slice stays as it was
			for i := range k.cfg.ESes {
				if k.cfg.ESes[i].ESI == e.esi {
					k.cfg.ESes[i].Ifindex = to
				}
			}
		}
		if up, ok := k.uplinks[from]; ok {
			delete(k.uplinks, from)
			k.uplinks[to] = up
			k.cfg.Uplinks = slices.Clone(k.cfg.Uplinks)
			for i, u := range k.cfg.Uplinks {
				if u == from {
					k.cfg.Uplinks[i] = to
				}
			}
		}
		k.eachMAC(func(m *mac) {
			if m.local != nil && m.local.ifindex == from {
				m.local.ifindex = to
				k.markMAC(m)
			}
		})
		return nil
	})
}

// SetUplinks makes ifindexes the underlay ports (a config reload): an
// uplink kept keeps its state, a new one starts from up(ifindex) (nil:
// up), a removed one no longer counts. When that changes whether any
// uplink is up, every local ES follows at once, as when the last uplink
// goes down or the first comes back (a removed uplink that was down no
// longer holds the ESes down).
func (c *Controller) SetUplinks(ctx context.Context, ifindexes []uint32, up func(ifindex uint32) bool) error {
	ifindexes = slices.Clone(ifindexes)
	return c.do(ctx, func(k *core) error {
		before := k.uplinksUp()
		next := make(map[uint32]bool, len(ifindexes))
		for _, u := range ifindexes {
			state, ok := k.uplinks[u]
			if !ok {
				state = up == nil || up(u)
			}
			next[u] = state
		}
		k.uplinks = next
		k.cfg.Uplinks = ifindexes
		if k.uplinksUp() != before {
			for _, e := range k.byPort {
				k.localESState(e)
			}
			k.flush()
		}
		return nil
	})
}
