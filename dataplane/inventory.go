package dataplane

import (
	"fmt"
	"net/netip"
	"slices"
)

// Inventory is what the fast path's maps hold: after a restart, the state a
// previous instance left pinned, which keeps forwarding until the new
// instance has rebuilt its own and sweeps the rest (see Synchronize).
type Inventory struct {
	// NextHops, Groups and ESes are the IDs with an entry, ascending.
	NextHops, Groups, ESes []uint32
	// VTEPs are the addresses in the VTEP table (local and remote).
	VTEPs []netip.Addr
	// ESPeers are the (VTEP, ES) pairs of the split-horizon table.
	ESPeers []ESPeer
	// FDB counts the FDB's live entries (FDBEntries lists them).
	FDB int
}

// ESPeer is one entry of the split-horizon table.
type ESPeer struct {
	VTEP netip.Addr
	ES   uint32
}

// Inventory lists what the maps hold. It reads every table once: a few
// milliseconds, for restarts and audits, not for the hot path.
func (d *Dataplane) Inventory() (Inventory, error) {
	var inv Inventory
	var (
		id uint32
		nh bpfFwdNhInfo
	)
	it := d.objs.FwdNh.Iterate()
	for it.Next(&id, &nh) {
		if id != 0 && nh.Family != 0 {
			inv.NextHops = append(inv.NextHops, id)
		}
	}
	if err := it.Err(); err != nil {
		return inv, fmt.Errorf("read nexthops: %w", err)
	}
	var es bpfFwdEsInfo
	it = d.objs.FwdEs.Iterate()
	for it.Next(&id, &es) {
		if id != 0 && es != (bpfFwdEsInfo{}) {
			inv.ESes = append(inv.ESes, id)
		}
	}
	if err := it.Err(); err != nil {
		return inv, fmt.Errorf("read ESes: %w", err)
	}
	for g := uint32(1); g < MaxGroups; g++ {
		if d.nhActive.load(g) != 0 {
			inv.Groups = append(inv.Groups, g)
		}
	}
	var (
		vk bpfFwdVtepKey
		vv bpfFwdVtepInfo
	)
	it = d.objs.FwdVtep.Iterate()
	for it.Next(&vk, &vv) {
		inv.VTEPs = append(inv.VTEPs, netip.AddrFrom16(vk.Addr).Unmap())
	}
	if err := it.Err(); err != nil {
		return inv, fmt.Errorf("read VTEPs: %w", err)
	}
	var (
		pk bpfFwdEsPeerKey
		pv uint8
	)
	it = d.objs.FwdEsPeers.Iterate()
	for it.Next(&pk, &pv) {
		inv.ESPeers = append(inv.ESPeers, ESPeer{VTEP: netip.AddrFrom16(pk.Addr).Unmap(), ES: pk.EsId})
	}
	if err := it.Err(); err != nil {
		return inv, fmt.Errorf("read ES peers: %w", err)
	}
	slices.Sort(inv.NextHops)
	slices.Sort(inv.ESes)
	slices.SortFunc(inv.VTEPs, netip.Addr.Compare)
	slices.SortFunc(inv.ESPeers, func(a, b ESPeer) int {
		if c := a.VTEP.Compare(b.VTEP); c != 0 {
			return c
		}
		return int(a.ES) - int(b.ES)
	})
	inv.FDB = d.FDBCount()
	return inv, nil
}

// Synchronize waits until every run of the program that started before the
// call has ended (an RCU grace period): after it, no frame can still be
// using an entry that was unlinked before it, and that entry may go.
func (d *Dataplane) Synchronize() error { return membarrierGlobal() }
