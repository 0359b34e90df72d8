package nhg

import (
	"fmt"
	"net/netip"
)

// The example lives in package nhg, not nhg_test: the leaf rule in
// .golangci.yml lets nothing under nhg/ import fwd's packages, itself
// included.

// The control loop's side of a group's life: add it, write each Change to
// the dataplane, report the write, and let failover rebuild it.
func Example() {
	tbl, err := NewTable(&Config{Buckets: 8})
	if err != nil {
		panic(err)
	}
	tbl.Notify(EVPNL2, func(r InstallResult) {
		fmt.Printf("evpn-l2: group %d %s\n", r.GroupID, r.Status)
	})
	// write stands for dataplane.ReplaceGroup / DeleteGroup.
	write := func(ch Change) {
		fmt.Println(ch.Op, ch.ID, ch.Buckets)
		if ch.Op != OpNone {
			if err := tbl.ReportInstall(ch.ID, nil); err != nil {
				panic(err)
			}
		}
	}

	ch, err := tbl.Add(Group{Owner: EVPNL2, Members: []NextHop{
		{ID: 1, VTEP: netip.MustParseAddr("192.0.2.1")},
		{ID: 2, VTEP: netip.MustParseAddr("192.0.2.2")},
		{ID: 3, VTEP: netip.MustParseAddr("192.0.2.3"), Weight: 2},
	}})
	if err != nil {
		panic(err)
	}
	write(ch)

	// VTEP 3 dies: the fast path already uses each bucket's backup (one bit
	// flip); the rebuild moves its flows exactly there.
	for _, ch := range tbl.SetNextHopDown(3, true) {
		write(ch)
	}

	ch, err = tbl.Delete(ch.ID)
	if err != nil {
		panic(err)
	}
	write(ch)
	// Output:
	// replace 1 [1/2 2/1 3/1 1/3 2/3 3/2 3/1 3/2]
	// evpn-l2: group 1 installed
	// replace 1 [1/2 2/1 1/2 1/2 2/1 2/1 1/2 2/1]
	// evpn-l2: group 1 installed
	// remove 1 []
	// evpn-l2: group 1 removed
}
