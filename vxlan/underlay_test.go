//go:build linux

package vxlan

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/internal/testutil"
)

// waitTimeout bounds every wait for an update; no test waits longer.
const waitTimeout = 5 * time.Second

func TestValidVTEP(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
		want string // in the error
	}{
		{"192.0.2.1", true, ""},
		{"2001:db8::1", true, ""},
		{"", false, "no address"},
		{"0.0.0.0", false, "unspecified"},
		{"::", false, "unspecified"},
		{"127.0.0.1", false, "loopback"},
		{"::1", false, "loopback"},
		{"224.0.0.5", false, "multicast"},
		{"ff02::1", false, "multicast"},
		{"169.254.1.1", false, "link-local"},
		{"fe80::1", false, "link-local"},
		{"fe80::1%eth0", false, "zoned"},
		{"::ffff:192.0.2.1", false, "give it as 192.0.2.1"},
		{"255.255.255.255", false, "broadcast"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			var a netip.Addr
			if tc.addr != "" {
				a = netip.MustParseAddr(tc.addr)
			}
			err := validVTEP(a)
			if tc.ok {
				if err != nil {
					t.Fatalf("validVTEP(%s) = %v, want nil", tc.addr, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidVTEP) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("validVTEP(%s) = %v, want ErrInvalidVTEP saying %q", tc.addr, err, tc.want)
			}
		})
	}
}

func TestUnderlayString(t *testing.T) {
	u := Underlay{VTEP: netip.MustParseAddr("192.0.2.9"), Reason: ReasonNoRoute}
	if got, want := u.String(), "192.0.2.9 unreachable (no route)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	u = Underlay{
		VTEP: netip.MustParseAddr("198.51.100.7"), Ifindex: 3, Reachable: true,
		Src: netip.MustParseAddr("192.0.2.1"), Gateway: netip.MustParseAddr("192.0.2.254"),
		SrcMAC: [6]byte{2, 0, 0, 0, 0, 1}, DstMAC: [6]byte{2, 0, 0, 0, 0, 0xfe},
	}
	want := "198.51.100.7 via 192.0.2.254 ifindex 3 src 192.0.2.1 02:00:00:00:00:01 -> 02:00:00:00:00:fe"
	if got := u.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if nh := u.NextHop(); nh != u.Gateway {
		t.Errorf("NextHop() = %s, want the gateway", nh)
	}
}

// lab is two namespaces joined by a veth: the resolver's side a (link
// "up0") and the peer b (link "up1").
type lab struct {
	a, b       *testutil.NetNS
	ia, ib     int
	macA, macB [6]byte
}

func newLab(t *testing.T) *lab {
	t.Helper()
	testutil.RequireRoot(t)
	l := &lab{a: testutil.NewNetNS(t), b: testutil.NewNetNS(t)}
	l.ia, l.ib = testutil.VethBetween(t, l.a, "up0", l.b, "up1", 0)
	l.macA = linkMAC(t, l.a, l.ia)
	l.macB = linkMAC(t, l.b, l.ib)
	return l
}

func linkMAC(t *testing.T, ns *testutil.NetNS, ifindex int) [6]byte {
	t.Helper()
	link, err := ns.Handle().LinkByIndex(ifindex)
	if err != nil {
		t.Fatalf("link %d in %s: %v", ifindex, ns, err)
	}
	var mac [6]byte
	copy(mac[:], link.Attrs().HardwareAddr)
	return mac
}

func mustAddr(t *testing.T, ns *testutil.NetNS, ifindex int, cidr string) {
	t.Helper()
	addr, err := netlink.ParseAddr(cidr)
	if err != nil {
		t.Fatal(err)
	}
	if addr.IP.To4() == nil {
		addr.Flags = unix.IFA_F_NODAD // usable at once
	}
	link, err := ns.Handle().LinkByIndex(ifindex)
	if err != nil {
		t.Fatalf("link %d in %s: %v", ifindex, ns, err)
	}
	if err := ns.Handle().AddrAdd(link, addr); err != nil {
		t.Fatalf("add %s to %s in %s: %v", cidr, link.Attrs().Name, ns, err)
	}
}

func mustNeigh(t *testing.T, ns *testutil.NetNS, ifindex int, ip string, mac [6]byte) {
	t.Helper()
	a := netip.MustParseAddr(ip)
	family := unix.AF_INET6
	if a.Is4() {
		family = unix.AF_INET
	}
	n := &netlink.Neigh{
		LinkIndex: ifindex, Family: family, State: netlink.NUD_PERMANENT,
		IP: a.AsSlice(), HardwareAddr: net.HardwareAddr(mac[:]),
	}
	if err := ns.Handle().NeighSet(n); err != nil {
		t.Fatalf("neighbour %s %s in %s: %v", ip, n.HardwareAddr, ns, err)
	}
}

func gwRoute(ifindex int, dst, gw string) *netlink.Route {
	_, prefix, err := net.ParseCIDR(dst)
	if err != nil {
		panic(err)
	}
	return &netlink.Route{LinkIndex: ifindex, Dst: prefix, Gw: netip.MustParseAddr(gw).AsSlice()}
}

func mustRoute(t *testing.T, ns *testutil.NetNS, rt *netlink.Route) {
	t.Helper()
	if err := ns.Handle().RouteReplace(rt); err != nil {
		t.Fatalf("route %s in %s: %v", rt, ns, err)
	}
}

func mustResolver(t *testing.T, ns *testutil.NetNS) *Resolver {
	t.Helper()
	r, err := NewResolver(&ResolverOptions{
		Netns:         netns.NsHandle(ns.FD()),
		Logger:        slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		RetryInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("NewResolver in %s: %v", ns, err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

func mustWatch(t *testing.T, r *Resolver, vtep string) Underlay {
	t.Helper()
	u, err := r.Watch(netip.MustParseAddr(vtep))
	if err != nil {
		t.Fatalf("Watch(%s): %v", vtep, err)
	}
	return u
}

// waitFor reads updates until one for vtep satisfies ok and returns it with
// the time it took; it fails the test after waitTimeout.
func waitFor(t *testing.T, r *Resolver, vtep string, what string, ok func(Underlay) bool) (Underlay, time.Duration) {
	t.Helper()
	want := netip.MustParseAddr(vtep)
	start := time.Now()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	var seen []string
	for {
		select {
		case u, open := <-r.Updates():
			if !open {
				t.Fatalf("%s: updates closed", what)
			}
			seen = append(seen, u.String())
			if u.VTEP == want && ok(u) {
				return u, time.Since(start)
			}
		case <-timer.C:
			t.Fatalf("%s: no update for %s within %v; saw %q", what, vtep, waitTimeout, seen)
		}
	}
}

func reachable(u Underlay) bool { return u.Reachable }

func reason(want string) func(Underlay) bool {
	return func(u Underlay) bool { return !u.Reachable && u.Reason == want }
}

func checkUnderlay(t *testing.T, got, want Underlay) {
	t.Helper()
	if got != want {
		t.Errorf("underlay\n got  %s %+v\n want %s %+v", got, got, want, want)
	}
}

func TestResolverOnLinkPermanent(t *testing.T) {
	l := newLab(t)
	mustAddr(t, l.a, l.ia, "192.0.2.1/24")
	peer := [6]byte{0x02, 0, 0, 0, 0, 0x02}
	mustNeigh(t, l.a, l.ia, "192.0.2.2", peer)
	r := mustResolver(t, l.a)

	want := Underlay{
		VTEP: netip.MustParseAddr("192.0.2.2"), Ifindex: l.ia,
		SrcMAC: l.macA, DstMAC: peer, Src: netip.MustParseAddr("192.0.2.1"), Reachable: true,
	}
	checkUnderlay(t, mustWatch(t, r, "192.0.2.2"), want)
	u, err := r.Resolve(want.VTEP)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	checkUnderlay(t, u, want)

	// Our own address is no VTEP to encapsulate to.
	u, err = r.Resolve(netip.MustParseAddr("192.0.2.1"))
	if err != nil || u.Reachable || u.Reason != ReasonLocal {
		t.Errorf("Resolve(own address) = %s, %v; want unreachable (%s)", u, err, ReasonLocal)
	}
}

func TestResolverGateway(t *testing.T) {
	l := newLab(t)
	mustAddr(t, l.a, l.ia, "192.0.2.1/24")
	gw := [6]byte{0x02, 0, 0, 0, 0, 0xfe}
	mustNeigh(t, l.a, l.ia, "192.0.2.254", gw)
	mustRoute(t, l.a, gwRoute(l.ia, "198.51.100.0/24", "192.0.2.254"))
	r := mustResolver(t, l.a)

	checkUnderlay(t, mustWatch(t, r, "198.51.100.7"), Underlay{
		VTEP: netip.MustParseAddr("198.51.100.7"), Ifindex: l.ia,
		SrcMAC: l.macA, DstMAC: gw, Src: netip.MustParseAddr("192.0.2.1"),
		Gateway: netip.MustParseAddr("192.0.2.254"), Reachable: true,
	})
}

func TestResolverNeighbourLearned(t *testing.T) {
	l := newLab(t)
	mustAddr(t, l.a, l.ia, "192.0.2.1/24")
	mustAddr(t, l.b, l.ib, "192.0.2.2/24") // b answers ARP for it
	r := mustResolver(t, l.a)

	start := time.Now()
	u := mustWatch(t, r, "192.0.2.2")
	if u.Reachable || u.Reason != ReasonNeighIncomplete || u.Ifindex != l.ia || u.SrcMAC != l.macA {
		t.Fatalf("before ARP: %s %+v; want unreachable (%s) on ifindex %d", u, u, ReasonNeighIncomplete, l.ia)
	}
	u, _ = waitFor(t, r, "192.0.2.2", "ARP answer", reachable)
	t.Logf("watch -> kick -> ARP answer -> reachable update: %v", time.Since(start))
	checkUnderlay(t, u, Underlay{
		VTEP: netip.MustParseAddr("192.0.2.2"), Ifindex: l.ia,
		SrcMAC: l.macA, DstMAC: l.macB, Src: netip.MustParseAddr("192.0.2.1"), Reachable: true,
	})

	// The kernel's own entry, which the kick made, says the same.
	if n := kernelNeigh(t, l.a, l.ia, "192.0.2.2"); n == nil || !bytes.Equal(n.HardwareAddr, l.macB[:]) {
		t.Errorf("kernel neighbour entry for 192.0.2.2: %v, want %s", n, net.HardwareAddr(l.macB[:]))
	}
}

// kernelNeigh returns the kernel's neighbour entry for ip on the link, or nil.
func kernelNeigh(t *testing.T, ns *testutil.NetNS, ifindex int, ip string) *netlink.Neigh {
	t.Helper()
	neighs, err := ns.Handle().NeighList(ifindex, unix.AF_UNSPEC)
	if err != nil {
		t.Fatalf("neighbours in %s: %v", ns, err)
	}
	for _, n := range neighs {
		if n.IP.Equal(net.ParseIP(ip)) {
			return &n
		}
	}
	return nil
}

func TestResolverNeighbourFailed(t *testing.T) {
	l := newLab(t)
	mustAddr(t, l.a, l.ia, "192.0.2.1/24")
	// One probe, 100 ms apart: the kernel gives up quickly.
	if err := l.a.Do(func() error {
		return errors.Join(
			os.WriteFile("/proc/sys/net/ipv4/neigh/up0/mcast_solicit", []byte("1"), 0),
			os.WriteFile("/proc/sys/net/ipv4/neigh/up0/retrans_time_ms", []byte("100"), 0),
		)
	}); err != nil {
		t.Fatalf("neighbour sysctls in %s: %v", l.a, err)
	}
	r := mustResolver(t, l.a)

	if u := mustWatch(t, r, "192.0.2.3"); u.Reason != ReasonNeighIncomplete {
		t.Fatalf("nobody at 192.0.2.3: %s; want unreachable (%s)", u, ReasonNeighIncomplete)
	}
	_, took := waitFor(t, r, "192.0.2.3", "neighbour failure", reason(ReasonNeighFailed))
	t.Logf("neighbour failed after %v", took)

	// Re-probing a dead next hop (every 200 ms here) sends no updates.
	quiet := time.After(time.Second)
	for done := false; !done; {
		select {
		case u := <-r.Updates():
			t.Errorf("update while the next hop stays dead: %s", u)
		case <-quiet:
			done = true
		}
	}
	if n := kernelNeigh(t, l.a, l.ia, "192.0.2.3"); n == nil {
		t.Errorf("no kernel neighbour entry for 192.0.2.3: the resolver stopped asking")
	}

	// The resolver keeps asking; once someone answers, the VTEP comes up.
	mustAddr(t, l.b, l.ib, "192.0.2.3/24")
	u, took := waitFor(t, r, "192.0.2.3", "late ARP answer", reachable)
	t.Logf("late answer learned after %v", took)
	if u.DstMAC != l.macB {
		t.Errorf("DstMAC %s, want %s", net.HardwareAddr(u.DstMAC[:]), net.HardwareAddr(l.macB[:]))
	}
}

func TestResolverIPv6(t *testing.T) {
	l := newLab(t)
	mustAddr(t, l.a, l.ia, "2001:db8::1/64")
	mustAddr(t, l.b, l.ib, "2001:db8::2/64")
	mustAddr(t, l.a, l.ia, "192.0.2.1/24")
	// Explicit link-local addresses, without DAD, for the RFC 5549 route.
	mustAddr(t, l.a, l.ia, "fe80::1/64")
	mustAddr(t, l.b, l.ib, "fe80::2/64")
	mustRoute(t, l.a, gwRoute(l.ia, "2001:db8:99::/64", "2001:db8::2"))
	r := mustResolver(t, l.a)

	t.Run("on-link", func(t *testing.T) {
		u := mustWatch(t, r, "2001:db8::2")
		if !u.Reachable {
			u, _ = waitFor(t, r, "2001:db8::2", "neighbour advertisement", reachable)
		}
		checkUnderlay(t, u, Underlay{
			VTEP: netip.MustParseAddr("2001:db8::2"), Ifindex: l.ia,
			SrcMAC: l.macA, DstMAC: l.macB, Src: netip.MustParseAddr("2001:db8::1"), Reachable: true,
		})
	})
	t.Run("gateway", func(t *testing.T) {
		u := mustWatch(t, r, "2001:db8:99::7")
		if !u.Reachable {
			u, _ = waitFor(t, r, "2001:db8:99::7", "gateway resolution", reachable)
		}
		checkUnderlay(t, u, Underlay{
			VTEP: netip.MustParseAddr("2001:db8:99::7"), Ifindex: l.ia,
			SrcMAC: l.macA, DstMAC: l.macB, Src: netip.MustParseAddr("2001:db8::1"),
			Gateway: netip.MustParseAddr("2001:db8::2"), Reachable: true,
		})
	})
	t.Run("ipv4-via-ipv6", func(t *testing.T) {
		// BGP unnumbered: an IPv4 route via the peer's IPv6 link-local.
		_, dst, _ := net.ParseCIDR("203.0.113.0/24")
		mustRoute(t, l.a, &netlink.Route{
			LinkIndex: l.ia, Dst: dst,
			Via: &netlink.Via{AddrFamily: unix.AF_INET6, Addr: net.ParseIP("fe80::2")},
		})
		u := mustWatch(t, r, "203.0.113.5")
		if !u.Reachable {
			u, _ = waitFor(t, r, "203.0.113.5", "link-local gateway resolution", reachable)
		}
		checkUnderlay(t, u, Underlay{
			VTEP: netip.MustParseAddr("203.0.113.5"), Ifindex: l.ia,
			SrcMAC: l.macA, DstMAC: l.macB, Src: netip.MustParseAddr("192.0.2.1"),
			Gateway: netip.MustParseAddr("fe80::2"), Reachable: true,
		})
	})
}

func TestResolverRouteChanges(t *testing.T) {
	l := newLab(t)
	mustAddr(t, l.a, l.ia, "192.0.2.1/24")
	gw1 := [6]byte{0x02, 0, 0, 0, 0, 0xfe}
	gw2 := [6]byte{0x02, 0, 0, 0, 0, 0xfd}
	mustNeigh(t, l.a, l.ia, "192.0.2.254", gw1)
	mustNeigh(t, l.a, l.ia, "192.0.2.253", gw2)
	rt := gwRoute(l.ia, "198.51.100.0/24", "192.0.2.254")
	mustRoute(t, l.a, rt)
	r := mustResolver(t, l.a)
	const vtep = "198.51.100.7"
	if u := mustWatch(t, r, vtep); !u.Reachable || u.DstMAC != gw1 {
		t.Fatalf("start: %s, want reachable via gw1", u)
	}

	start := time.Now()
	if err := l.a.Handle().RouteDel(rt); err != nil {
		t.Fatalf("delete route: %v", err)
	}
	u, _ := waitFor(t, r, vtep, "route deleted", reason(ReasonNoRoute))
	took := time.Since(start)
	t.Logf("route deleted -> unreachable update: %v", took)
	if took > time.Second {
		t.Errorf("route deletion took %v to report, want under 1s", took)
	}
	if u.Ifindex != 0 || u.Gateway.IsValid() {
		t.Errorf("without a route: %+v, want no link or gateway", u)
	}

	start = time.Now()
	mustRoute(t, l.a, rt)
	u, _ = waitFor(t, r, vtep, "route re-added", reachable)
	t.Logf("route re-added -> reachable update: %v", time.Since(start))
	if u.DstMAC != gw1 {
		t.Errorf("after re-add: %s, want DstMAC %s", u, net.HardwareAddr(gw1[:]))
	}

	// A more specific route through another gateway takes over.
	start = time.Now()
	mustRoute(t, l.a, gwRoute(l.ia, "198.51.100.0/28", "192.0.2.253"))
	u, _ = waitFor(t, r, vtep, "more specific route", func(u Underlay) bool { return u.Reachable && u.DstMAC == gw2 })
	t.Logf("more specific route -> new gateway: %v", time.Since(start))
	if u.Gateway != netip.MustParseAddr("192.0.2.253") {
		t.Errorf("gateway %s, want 192.0.2.253", u.Gateway)
	}

	// The gateway's MAC changes.
	gw3 := [6]byte{0x02, 0, 0, 0, 0, 0xfc}
	mustNeigh(t, l.a, l.ia, "192.0.2.253", gw3)
	waitFor(t, r, vtep, "gateway MAC change", func(u Underlay) bool { return u.Reachable && u.DstMAC == gw3 })

	// Routes that drop instead of forwarding.
	for _, tc := range []struct {
		typ  int
		want string
	}{
		{unix.RTN_BLACKHOLE, ReasonBlackholeRoute},
		{unix.RTN_UNREACHABLE, ReasonUnreachableRoute},
		{unix.RTN_PROHIBIT, ReasonProhibitRoute},
	} {
		_, dst, _ := net.ParseCIDR("198.51.100.0/29")
		start = time.Now()
		mustRoute(t, l.a, &netlink.Route{Dst: dst, Type: tc.typ})
		waitFor(t, r, vtep, tc.want, reason(tc.want))
		t.Logf("%s -> update: %v", tc.want, time.Since(start))
	}
	_, dst, _ := net.ParseCIDR("198.51.100.0/29")
	if err := l.a.Handle().RouteDel(&netlink.Route{Dst: dst, Type: unix.RTN_PROHIBIT}); err != nil {
		t.Fatalf("delete prohibit route: %v", err)
	}
	waitFor(t, r, vtep, "drop route removed", func(u Underlay) bool { return u.Reachable && u.DstMAC == gw3 })
}

func TestResolverLinkDown(t *testing.T) {
	l := newLab(t)
	mustAddr(t, l.a, l.ia, "192.0.2.1/24")
	gw := [6]byte{0x02, 0, 0, 0, 0, 0xfe}
	mustNeigh(t, l.a, l.ia, "192.0.2.254", gw)
	mustRoute(t, l.a, gwRoute(l.ia, "198.51.100.0/24", "192.0.2.254"))
	r := mustResolver(t, l.a)
	const vtep = "198.51.100.7"
	if u := mustWatch(t, r, vtep); !u.Reachable {
		t.Fatalf("start: %s, want reachable", u)
	}
	peer, err := l.b.Handle().LinkByIndex(l.ib)
	if err != nil {
		t.Fatal(err)
	}
	own, err := l.a.Handle().LinkByIndex(l.ia)
	if err != nil {
		t.Fatal(err)
	}

	// Carrier loss: the peer goes down, the kernel keeps the route (linkdown).
	start := time.Now()
	if err := l.b.Handle().LinkSetDown(peer); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, vtep, "carrier lost", reason(ReasonLinkDown))
	t.Logf("carrier lost -> unreachable update: %v", time.Since(start))

	start = time.Now()
	if err := l.b.Handle().LinkSetUp(peer); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, vtep, "carrier back", reachable)
	t.Logf("carrier back -> reachable update: %v", time.Since(start))

	// Administratively down: IPv4 routes through the link go, silently.
	start = time.Now()
	if err := l.a.Handle().LinkSetDown(own); err != nil {
		t.Fatal(err)
	}
	u, _ := waitFor(t, r, vtep, "link set down", func(u Underlay) bool { return !u.Reachable })
	t.Logf("link set down -> unreachable (%s) update: %v", u.Reason, time.Since(start))
}

func TestResolverUnwatch(t *testing.T) {
	l := newLab(t)
	mustAddr(t, l.a, l.ia, "192.0.2.1/24")
	gw := [6]byte{0x02, 0, 0, 0, 0, 0xfe}
	mustNeigh(t, l.a, l.ia, "192.0.2.254", gw)
	mustNeigh(t, l.a, l.ia, "192.0.2.2", [6]byte{0x02, 0, 0, 0, 0, 0x02})
	rt := gwRoute(l.ia, "198.51.100.0/24", "192.0.2.254")
	mustRoute(t, l.a, rt)
	r := mustResolver(t, l.a)
	mustWatch(t, r, "198.51.100.7")
	mustWatch(t, r, "192.0.2.2")

	if err := r.Unwatch(netip.MustParseAddr("198.51.100.7")); err != nil {
		t.Fatalf("Unwatch: %v", err)
	}
	if err := r.Unwatch(netip.MustParseAddr("198.51.100.8")); err != nil {
		t.Errorf("Unwatch of a VTEP never watched: %v", err)
	}
	if err := l.a.Handle().RouteDel(rt); err != nil {
		t.Fatal(err)
	}
	// Then a change for the VTEP still watched: once it arrives, any update
	// for the other would have been queued before it.
	newMAC := [6]byte{0x02, 0, 0, 0, 0, 0x22}
	mustNeigh(t, l.a, l.ia, "192.0.2.2", newMAC)
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	settle := time.After(24 * time.Hour)
	for got := false; ; {
		select {
		case u := <-r.Updates():
			if u.VTEP == netip.MustParseAddr("198.51.100.7") {
				t.Fatalf("update after Unwatch: %s", u)
			}
			if u.DstMAC == newMAC && !got {
				got = true
				settle = time.After(300 * time.Millisecond)
			}
		case <-settle:
			return
		case <-timer.C:
			t.Fatalf("no update for the watched VTEP 192.0.2.2 within %v", waitTimeout)
		}
	}
}

func TestResolverBadInput(t *testing.T) {
	testutil.RequireRoot(t)
	if _, err := NewResolver(&ResolverOptions{RetryInterval: -time.Second}); err == nil || !strings.Contains(err.Error(), "retry interval") {
		t.Errorf("NewResolver with a negative retry interval: %v, want an error naming it", err)
	}
	ns := testutil.NewNetNS(t)
	r := mustResolver(t, ns)

	for _, a := range []netip.Addr{{}, netip.MustParseAddr("224.0.0.1"), netip.MustParseAddr("fe80::1%up0")} {
		if _, err := r.Watch(a); !errors.Is(err, ErrInvalidVTEP) {
			t.Errorf("Watch(%v) = %v, want ErrInvalidVTEP", a, err)
		}
		if _, err := r.Resolve(a); !errors.Is(err, ErrInvalidVTEP) {
			t.Errorf("Resolve(%v) = %v, want ErrInvalidVTEP", a, err)
		}
	}
	if _, err := r.Watch(netip.Addr{}); err == nil || err.Error() != "watch: invalid vtep address: no address given" {
		t.Errorf("Watch(zero) error %q is not the one documented", err)
	}

	// A namespace with only lo has no route anywhere: not an error.
	u, err := r.Resolve(netip.MustParseAddr("192.0.2.1"))
	if err != nil || u.Reachable || u.Reason != ReasonNoRoute {
		t.Errorf("Resolve in an empty namespace = %s, %v; want unreachable (%s)", u, err, ReasonNoRoute)
	}

	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Watch(netip.MustParseAddr("192.0.2.1")); !errors.Is(err, ErrClosed) {
		t.Errorf("Watch after Close = %v, want ErrClosed", err)
	}
	if err := r.Unwatch(netip.MustParseAddr("192.0.2.1")); !errors.Is(err, ErrClosed) {
		t.Errorf("Unwatch after Close = %v, want ErrClosed", err)
	}
	if _, open := <-r.Updates(); open {
		t.Errorf("Updates open after Close")
	}
}

func TestResolverCurrentNamespace(t *testing.T) {
	// Netns 0 means the caller's namespace: run it from a thread inside one.
	l := newLab(t)
	mustAddr(t, l.a, l.ia, "192.0.2.1/24")
	mustNeigh(t, l.a, l.ia, "192.0.2.2", [6]byte{2, 0, 0, 0, 0, 2})
	var r *Resolver
	if err := l.a.Do(func() error {
		var err error
		r, err = NewResolver(nil)
		return err
	}); err != nil {
		t.Fatalf("NewResolver(nil) in %s: %v", l.a, err)
	}
	defer r.Close()
	u, err := r.Watch(netip.MustParseAddr("192.0.2.2"))
	if err != nil || !u.Reachable || u.Ifindex != l.ia {
		t.Errorf("Watch from the namespace NewResolver ran in: %s, %v", u, err)
	}
}

func TestResolverResubscribe(t *testing.T) {
	l := newLab(t)
	mustAddr(t, l.a, l.ia, "192.0.2.1/24")
	mustNeigh(t, l.a, l.ia, "192.0.2.254", [6]byte{2, 0, 0, 0, 0, 0xfe})
	rt := gwRoute(l.ia, "198.51.100.0/24", "192.0.2.254")
	mustRoute(t, l.a, rt)
	r := mustResolver(t, l.a)
	mustWatch(t, r, "198.51.100.7")

	// As if a subscription socket had overflowed (ENOBUFS): the loop drops
	// every subscription, subscribes again and resolves every VTEP.
	if _, err := r.call(func() (Underlay, error) { r.lost("test"); return Underlay{}, nil }); err != nil {
		t.Fatal(err)
	}
	if err := l.a.Handle().RouteDel(rt); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, "198.51.100.7", "route deleted after resubscribing", reason(ReasonNoRoute))
}

func TestResolverNoGoroutineLeak(t *testing.T) {
	l := newLab(t)
	mustAddr(t, l.a, l.ia, "192.0.2.1/24")
	mustAddr(t, l.b, l.ib, "192.0.2.2/24")
	before := runtime.NumGoroutine()

	r, err := NewResolver(&ResolverOptions{Netns: netns.NsHandle(l.a.FD()), RetryInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mustWatch(t, r, "192.0.2.2")
	mustWatch(t, r, "192.0.2.77") // nobody: kicked again and again
	// Leave an update undelivered, so Close must not wait for a reader.
	time.Sleep(300 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ExampleResolver shows the resolver feeding a fast path's nexthop table.
func ExampleResolver() {
	r, err := NewResolver(nil) // the current namespace
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	u, err := r.Watch(netip.MustParseAddr("192.0.2.10"))
	if err != nil {
		fmt.Println(err)
		return
	}
	program := func(u Underlay) { /* write the nh entry, set or clear its down bit */ }
	program(u)
	for u := range r.Updates() { // until Close
		program(u)
	}
}
