package dataplane

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/fwdplane/fwd/internal/testutil"
)

// TestInventory: what an instance wrote is what the next one, adopting the
// pinned maps, finds listed.
func TestInventory(t *testing.T) {
	testutil.RequireRoot(t)
	dir := tempPinDir(t)
	d1, err := Load(&Options{PinDir: dir, FDBMax: 4096})
	if err != nil {
		t.Fatal(err)
	}
	local, remote := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::2")
	steps := []error{
		d1.SetBD(100),
		d1.SetFDB(FDBKey{BD: 100, MAC: mac(1)}, FDBEntry{Kind: FDBVTEP, Ref: 7}),
		d1.SetFDB(FDBKey{BD: 100, MAC: mac(2)}, FDBEntry{Kind: FDBES, Ref: 3}),
		d1.SetNextHop(7, NextHop{Src: local, Dst: netip.MustParseAddr("192.0.2.7"), Ifindex: 1}),
		d1.SetNextHop(9, NextHop{Src: local, Dst: netip.MustParseAddr("192.0.2.9"), Ifindex: 1}),
		d1.SetES(3, ES{Group: 5}),
		d1.SetVTEP(local, VTEPLocal),
		d1.SetVTEP(remote, VTEPRemote),
		d1.SetESPeer(remote, 3),
	}
	_, gerr := d1.ReplaceGroup(5, []Bucket{{Primary: 7, Backup: 9}, {Primary: 9, Backup: 7}})
	steps = append(steps, gerr)
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if err := d1.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Load(&Options{PinDir: dir, FDBMax: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	inv, err := d2.Inventory()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inv.NextHops, []uint32{7, 9}) || !slices.Equal(inv.Groups, []uint32{5}) || !slices.Equal(inv.ESes, []uint32{3}) || inv.FDB != 2 {
		t.Errorf("inventory %+v", inv)
	}
	if !slices.Equal(inv.VTEPs, []netip.Addr{local, remote}) || !slices.Equal(inv.ESPeers, []ESPeer{{VTEP: remote, ES: 3}}) {
		t.Errorf("inventory VTEPs %v, peers %v", inv.VTEPs, inv.ESPeers)
	}
	if err := d2.Synchronize(); err != nil {
		t.Fatal(err)
	}
}
