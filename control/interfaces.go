package control

import (
	"net/netip"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/vxlan"
)

// Dataplane is what the control loop writes; *dataplane.Dataplane is one.
type Dataplane interface {
	SetBD(vni uint32) error
	SetFDB(k dataplane.FDBKey, e dataplane.FDBEntry) error
	// SetFDBBatch installs entries[i] under keys[i], in order. It
	// returns how many it installed; on an error the loop writes the rest
	// with SetFDB, one by one.
	SetFDBBatch(keys []dataplane.FDBKey, entries []dataplane.FDBEntry) (int, error)
	DeleteFDB(k dataplane.FDBKey) error
	// DeleteFDBBatch removes the entries of keys (missing ones are
	// skipped) and returns how many it removed. On an error the loop
	// deletes them with DeleteFDB, one by one.
	DeleteFDBBatch(keys []dataplane.FDBKey) (int, error)
	SetES(id uint32, es dataplane.ES) error
	DeleteES(id uint32) error
	SetNextHop(id uint32, nh dataplane.NextHop) error
	DeleteNextHop(id uint32) error
	SetNextHopDown(id uint32, down bool) error
	SetESDown(id uint32, down bool) error
	ReplaceGroup(id uint32, buckets []dataplane.Bucket) (uint32, error)
	StageGroup(buckets []dataplane.Bucket) (dataplane.StagedGroup, error)
	ActivateGroup(id uint32, s dataplane.StagedGroup) (uint32, error)
	DropStaged(s dataplane.StagedGroup)
	DeleteGroup(id uint32) error
	SetVTEP(addr netip.Addr, flags uint32) error
	DeleteVTEP(addr netip.Addr) error
	SetESPeer(addr netip.Addr, es uint32) error
	DeleteESPeer(addr netip.Addr, es uint32) error
}

// Underlay resolves remote VTEPs and reports their changes through
// Controller.UnderlayUpdate; *vxlan.Resolver is one.
type Underlay interface {
	Watch(vtep netip.Addr) (vxlan.Underlay, error)
	Unwatch(vtep netip.Addr)
}

// RouteSink receives the routes this node originates (to advertise them in
// BGP) and their withdrawals.
type RouteSink interface {
	Originate(paths []evpn.Path)
}
