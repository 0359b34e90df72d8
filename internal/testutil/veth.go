package testutil

import (
	"errors"
	"testing"

	"github.com/vishvananda/netlink"
)

// maxIfName is the longest interface name the kernel takes (IFNAMSIZ - 1).
const maxIfName = 15

// VethPair creates a veth pair a <-> b with both ends inside ns, sets both up
// and returns their ifindexes (a's, then b's). mtu <= 0 keeps the kernel's
// default (1500). The pair goes when the test ends.
func VethPair(tb testing.TB, ns *NetNS, a, b string, mtu int) (int, int) {
	tb.Helper()
	return addVeth(tb, ns, a, ns, b, mtu)
}

// VethBetween creates a veth with end nameA inside nsA and end nameB inside
// nsB, sets both up and returns their ifindexes (nameA's in nsA, then nameB's
// in nsB). mtu <= 0 keeps the kernel's default (1500). The veth goes when the
// test ends.
func VethBetween(tb testing.TB, nsA *NetNS, nameA string, nsB *NetNS, nameB string, mtu int) (int, int) {
	tb.Helper()
	return addVeth(tb, nsA, nameA, nsB, nameB, mtu)
}

func addVeth(tb testing.TB, nsA *NetNS, nameA string, nsB *NetNS, nameB string, mtu int) (int, int) {
	tb.Helper()
	if nsA == nil || nsB == nil {
		tb.Fatalf("veth %s <-> %s: nil namespace; make one with NewNetNS", nameA, nameB)
	}
	for _, name := range []string{nameA, nameB} {
		if name == "" || len(name) > maxIfName {
			tb.Fatalf("veth %s <-> %s: interface name %q must be 1 to %d bytes", nameA, nameB, name, maxIfName)
		}
	}

	attrs := netlink.NewLinkAttrs()
	attrs.Name = nameA
	if mtu > 0 {
		attrs.MTU = mtu
	}
	veth := netlink.NewVeth(attrs)
	veth.PeerName = nameB
	if nsB != nsA {
		veth.PeerNamespace = netlink.NsFd(nsB.FD())
	}
	if err := nsA.Handle().LinkAdd(veth); err != nil {
		tb.Fatalf("add veth %s (netns %s) <-> %s (netns %s): %v", nameA, nsA, nameB, nsB, err)
	}
	// Deleting one end deletes both. The namespaces' own cleanup would do it
	// too, but later and asynchronously.
	tb.Cleanup(func() {
		link, err := nsA.Handle().LinkByName(nameA)
		if err != nil {
			return // gone already, or moved by the test
		}
		if err := nsA.Handle().LinkDel(link); err != nil && !errors.As(err, new(netlink.LinkNotFoundError)) {
			tb.Errorf("delete veth %s (netns %s): %v", nameA, nsA, err)
		}
	})

	return linkUp(tb, nsA, nameA), linkUp(tb, nsB, nameB)
}

// linkUp sets the named link in ns up and returns its ifindex.
func linkUp(tb testing.TB, ns *NetNS, name string) int {
	tb.Helper()
	link, err := ns.Handle().LinkByName(name)
	if err != nil {
		tb.Fatalf("find link %s in netns %s: %v", name, ns, err)
	}
	if err := ns.Handle().LinkSetUp(link); err != nil {
		tb.Fatalf("set link %s in netns %s up: %v", name, ns, err)
	}
	return link.Attrs().Index
}
