package testutil_test

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/fwdplane/fwd/internal/testutil"
)

func TestNetNS(t *testing.T) {
	testutil.RequireRoot(t)

	var path string
	t.Run("inside", func(t *testing.T) {
		ns := testutil.NewNetNS(t)
		if !strings.HasPrefix(ns.Name(), testutil.NetNSPrefix) {
			t.Errorf("name %q lacks prefix %q", ns.Name(), testutil.NetNSPrefix)
		}
		path = filepath.Join("/run/netns", ns.Name())
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("namespace file: %v", err)
		}

		// Compare namespaces by device and inode, on a thread that stays put.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		host := mustNS(t, netns.Get)
		named := mustNS(t, func() (netns.NsHandle, error) { return netns.GetFromName(ns.Name()) })
		if host.Equal(named) {
			t.Fatalf("namespace %s is the test's own namespace", ns.Name())
		}

		var inside netns.NsHandle
		err := ns.Do(func() error {
			var err error
			inside, err = netns.Get()
			return err
		})
		if err != nil {
			t.Fatalf("Do: %v", err)
		}
		t.Cleanup(func() { inside.Close() })
		if !inside.Equal(named) {
			t.Errorf("Do ran in %s, want %s (%s)", inside.UniqueId(), named.UniqueId(), ns.Name())
		}
		if now := mustNS(t, netns.Get); !now.Equal(host) {
			t.Errorf("after Do the test runs in %s, want %s", now.UniqueId(), host.UniqueId())
		}

		errWant := errors.New("from fn")
		if err := ns.Do(func() error { return errWant }); !errors.Is(err, errWant) {
			t.Errorf("Do returned %v, want fn's error", err)
		}

		// A fresh namespace has only lo, seen by netlink, by Do and by ip.
		links, err := ns.Handle().LinkList()
		if err != nil {
			t.Fatalf("LinkList: %v", err)
		}
		if len(links) != 1 || links[0].Attrs().Name != "lo" {
			t.Errorf("links in fresh namespace: %v, want only lo", linkNames(links))
		}
		if err := ns.Do(func() error {
			_, err := netlink.LinkByName("lo")
			return err
		}); err != nil {
			t.Errorf("lo inside Do: %v", err)
		}

		testutil.RequireCommand(t, "ip")
		out, err := ns.Exec("ip", "-o", "link", "show")
		if err != nil {
			t.Fatalf("Exec: %v", err)
		}
		if got := strings.Count(strings.TrimSpace(string(out)), "\n") + 1; got != 1 || !strings.Contains(string(out), "lo:") {
			t.Errorf("ip link in %s shows %d links:\n%s", ns.Name(), got, out)
		}
		if _, err := ns.Exec("sh", "-c", "echo boom; exit 3"); err == nil || !strings.Contains(err.Error(), "boom") {
			t.Errorf("Exec of a failing command: err %v, want one quoting its output", err)
		}
	})

	// The subtest's cleanup deleted the namespace.
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("namespace file %s after the test: %v, want it gone", path, err)
	}
}

func TestNetNSUnique(t *testing.T) {
	testutil.RequireRoot(t)
	seen := map[string]bool{}
	for range 4 {
		name := testutil.NewNetNS(t).Name()
		if seen[name] {
			t.Fatalf("name %s given twice", name)
		}
		seen[name] = true
	}
}

func TestVethPair(t *testing.T) {
	testutil.RequireRoot(t)
	ns := testutil.NewNetNS(t)
	ia, ib := testutil.VethPair(t, ns, "fwdta", "fwdtb", 9000)

	for _, tc := range []struct {
		index, peer int
		name        string
	}{{ia, ib, "fwdta"}, {ib, ia, "fwdtb"}} {
		link, err := ns.Handle().LinkByIndex(tc.index)
		if err != nil {
			t.Fatalf("link %d: %v", tc.index, err)
		}
		a := link.Attrs()
		if a.Name != tc.name || link.Type() != "veth" || a.MTU != 9000 || a.Flags&net.FlagUp == 0 || a.ParentIndex != tc.peer {
			t.Errorf("link %d: name %s type %s mtu %d flags %v peer %d; want %s veth 9000 up peer %d",
				tc.index, a.Name, link.Type(), a.MTU, a.Flags, a.ParentIndex, tc.name, tc.peer)
		}
	}
	if _, err := netlink.LinkByName("fwdta"); err == nil {
		t.Errorf("fwdta is visible outside namespace %s", ns.Name())
	}
}

func TestVethBetween(t *testing.T) {
	testutil.RequireRoot(t)
	nsA, nsB := testutil.NewNetNS(t), testutil.NewNetNS(t)
	ia, ib := testutil.VethBetween(t, nsA, "fwdta", nsB, "fwdtb", 0)

	la, err := nsA.Handle().LinkByIndex(ia)
	if err != nil || la.Attrs().Name != "fwdta" {
		t.Fatalf("end a in %s: %v %v", nsA, la, err)
	}
	lb, err := nsB.Handle().LinkByIndex(ib)
	if err != nil || lb.Attrs().Name != "fwdtb" {
		t.Fatalf("end b in %s: %v %v", nsB, lb, err)
	}
	if _, err := nsA.Handle().LinkByName("fwdtb"); err == nil {
		t.Errorf("end b is in %s too", nsA)
	}
	if mtu := lb.Attrs().MTU; mtu != 1500 {
		t.Errorf("default mtu %d, want 1500", mtu)
	}

	// A datagram crosses from one namespace to the other: sockets made in Do
	// stay in the namespace they were made in.
	mustAddr(t, nsA, la, "192.0.2.1/30")
	mustAddr(t, nsB, lb, "192.0.2.2/30")
	var conn net.PacketConn
	if err := nsB.Do(func() error {
		conn, err = net.ListenPacket("udp4", "192.0.2.2:0")
		return err
	}); err != nil {
		t.Fatalf("listen in %s: %v", nsB, err)
	}
	defer conn.Close()
	if err := nsA.Do(func() error {
		c, err := net.Dial("udp4", conn.LocalAddr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("hello"))
		return err
	}); err != nil {
		t.Fatalf("send from %s: %v", nsA, err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	n, from, err := conn.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read in %s: %q from %v, %v", nsB, buf[:n], from, err)
	}
}

func mustNS(t *testing.T, get func() (netns.NsHandle, error)) netns.NsHandle {
	t.Helper()
	h, err := get()
	if err != nil {
		t.Fatalf("get namespace: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func mustAddr(t *testing.T, ns *testutil.NetNS, link netlink.Link, cidr string) {
	t.Helper()
	addr, err := netlink.ParseAddr(cidr)
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.Handle().AddrAdd(link, addr); err != nil {
		t.Fatalf("add %s to %s in %s: %v", cidr, link.Attrs().Name, ns, err)
	}
}

func linkNames(links []netlink.Link) []string {
	var names []string
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	return names
}
