package dataplane

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/internal/testutil"
)

// The fixture's topology, all inside a fresh network namespace:
//
//	acc1  access, untagged          -> BD 100
//	acc2  access, VLAN 10           -> BD 100; VLAN 20.30 (QinQ) -> BD 200
//	esp   access, on local ES 1     -> BD 100, untagged
//	up    uplink, underlay MTU 1550
//
// Remote side: nexthops 1-4 are IPv4 VTEPs 192.0.2.11-14 and nexthop 5 the
// IPv6 VTEP 2001:db8::15, all through up. Remote ES 2 is group 10 over
// nexthops 1-4; local ES 1 has backup group 11 (its ES peer, nexthop 4).
const (
	bdA     = 100
	bdB     = 200
	esLocal = 1
	esRem   = 2
	grpES   = 10
	grpPeer = 11
)

var (
	localVTEP4 = netip.MustParseAddr("192.0.2.1")
	localVTEP6 = netip.MustParseAddr("2001:db8::1")
	upMAC      = [6]byte{0x02, 0, 0, 0, 0xee, 0x01}
	routerMAC  = [6]byte{0x02, 0, 0, 0, 0xee, 0x02} // the underlay next hop

	hostA = mac(0x0a) // behind acc1
	hostB = mac(0x0b) // behind acc2
	hostE = mac(0x0e) // behind the local ES
	hostR = mac(0x11) // behind VTEP 1
	hostS = mac(0x12) // behind remote ES 2
	hostV = mac(0x15) // behind the IPv6 VTEP
	hostQ = mac(0x20) // behind acc2 in BD 200
	gwMAC = mac(0xfe) // the router MAC
)

func mac(b byte) [6]byte { return [6]byte{0x02, 0xaa, 0, 0, 0, b} }

func vtep(n int) netip.Addr {
	if n == 5 {
		return netip.MustParseAddr("2001:db8::15")
	}
	return netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + n)})
}

type fixture struct {
	tb                  testing.TB
	d                   *Dataplane
	ns                  *testutil.NetNS
	acc1, acc2, esp, up uint32
	peer                uint32 // the far end of up, for redirect targets
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	testutil.RequireRoot(tb)
	ns := testutil.NewNetNS(tb)
	f := &fixture{tb: tb, ns: ns}
	a1, _ := testutil.VethPair(tb, ns, "acc1", "acc1p", 1500)
	a2, _ := testutil.VethPair(tb, ns, "acc2", "acc2p", 1500)
	e1, _ := testutil.VethPair(tb, ns, "esp", "espp", 1500)
	u1, u1p := testutil.VethPair(tb, ns, "up", "upp", 1550)
	f.acc1, f.acc2, f.esp, f.up, f.peer = uint32(a1), uint32(a2), uint32(e1), uint32(u1), uint32(u1p)

	f.d = mustLoad(tb)
	f.must(f.d.SetConfig(Config{VXLANPort: 4789, TTL: 64, Trace: true, LearnRate: 1000, LearnBurst: 100}))
	// The redirect map resolves ifindexes in the caller's namespace.
	f.must(ns.Do(func() error {
		return errors.Join(
			f.d.SetPort(f.acc1, Port{Role: RoleAccess, Learn: true}),
			f.d.SetPort(f.acc2, Port{Role: RoleAccess, Learn: true}),
			f.d.SetPort(f.esp, Port{Role: RoleAccess, Learn: true, ES: esLocal}),
			f.d.SetPort(f.up, Port{Role: RoleUplink}))
	}))
	f.must(f.d.SetBD(bdA))
	f.must(f.d.SetBD(bdB))
	f.must(f.d.SetVLAN(f.acc1, Tags{}, bdA))
	f.must(f.d.SetVLAN(f.acc2, Tags{Outer: 10}, bdA))
	f.must(f.d.SetVLAN(f.acc2, Tags{Outer: 20, Inner: 30}, bdB))
	f.must(f.d.SetVLAN(f.esp, Tags{}, bdA))
	f.must(f.d.SetVTEP(localVTEP4, VTEPLocal))
	f.must(f.d.SetVTEP(localVTEP6, VTEPLocal))
	for n := 1; n <= 5; n++ {
		src := localVTEP4
		if n == 5 {
			src = localVTEP6
		}
		f.must(f.d.SetNextHop(uint32(n), NextHop{Src: src, Dst: vtep(n), Ifindex: f.up, SrcMAC: upMAC, DstMAC: routerMAC}))
		f.must(f.d.SetVTEP(vtep(n), VTEPRemote))
	}
	buckets := make([]Bucket, 16)
	for i := range buckets {
		buckets[i] = Bucket{Primary: uint32(1 + i%4), Backup: uint32(1 + (i+1)%4)}
	}
	_, err := f.d.ReplaceGroup(grpES, buckets)
	f.must(err)
	_, err = f.d.ReplaceGroup(grpPeer, []Bucket{{Primary: 4}})
	f.must(err)
	f.must(f.d.SetES(esLocal, ES{Flags: ESLocal, Ifindex: f.esp, BackupGroup: grpPeer}))
	f.must(f.d.SetES(esRem, ES{Group: grpES}))
	f.must(f.d.SetESPeer(vtep(4), esLocal))

	f.fdb(bdA, hostA, FDBLocal, f.acc1, 0)
	f.fdb(bdA, hostB, FDBLocal, f.acc2, 0)
	f.fdb(bdA, hostE, FDBES, esLocal, 0)
	f.fdb(bdA, hostR, FDBVTEP, 1, 0)
	f.fdb(bdA, hostS, FDBES, esRem, 0)
	f.fdb(bdA, hostV, FDBVTEP, 5, 0)
	f.fdb(bdA, gwMAC, FDBLocal, f.acc1, FDBRouter)
	f.fdb(bdB, hostQ, FDBLocal, f.acc2, 0)
	return f
}

func (f *fixture) must(err error) {
	f.tb.Helper()
	if err != nil {
		f.tb.Fatal(err)
	}
}

func (f *fixture) fdb(bd uint32, m [6]byte, kind FDBKind, ref uint32, flags uint8) {
	f.tb.Helper()
	f.must(f.d.SetFDB(FDBKey{BD: bd, MAC: m}, FDBEntry{Kind: kind, Ref: ref, Flags: flags}))
}

// run runs frame through the program inside the fixture's namespace and
// returns the result, the recorded decision and the counter deltas.
func (f *fixture) run(frame []byte, ingress uint32) (Result, Trace, map[string]uint64) {
	f.tb.Helper()
	before, err := f.d.Counters()
	f.must(err)
	var res Result
	var tr Trace
	f.must(f.ns.Do(func() error {
		// One CPU for every frame, so that a frame finds what the one
		// before it left in the per-CPU caches.
		defer onCPU(0)()
		var err error
		res, tr, err = f.d.RunTrace(frame, ingress)
		return err
	}))
	after, err := f.d.Counters()
	f.must(err)
	delta := make(map[string]uint64)
	for k, v := range after {
		if v != before[k] {
			delta[k] = v - before[k]
		}
	}
	return res, tr, delta
}

// onCPU pins the calling (locked) thread to cpu and returns what restores
// its affinity; on a machine without cpu it does nothing.
func onCPU(cpu int) func() {
	var old, set unix.CPUSet
	if cpu >= runtime.NumCPU() || unix.SchedGetaffinity(0, &old) != nil {
		return func() {}
	}
	set.Set(cpu)
	if unix.SchedSetaffinity(0, &set) != nil {
		return func() {}
	}
	return func() { _ = unix.SchedSetaffinity(0, &old) }
}

// frame builds an Ethernet frame: dst, src, VLAN tags (outer first), then an
// IPv4/UDP payload of size bytes in all.
type frameSpec struct {
	dst, src [6]byte
	vlans    []uint16
	ipv6     bool
	sport    uint16
	size     int // whole frame; 0 = 128
}

func buildFrame(tb testing.TB, s frameSpec) []byte {
	tb.Helper()
	if s.size == 0 {
		s.size = 128
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr(s.src[:]), DstMAC: net.HardwareAddr(s.dst[:]), EthernetType: layers.EthernetTypeIPv4}
	ls := []gopacket.SerializableLayer{eth}
	proto := layers.EthernetTypeIPv4
	if s.ipv6 {
		proto = layers.EthernetTypeIPv6
	}
	for i, v := range s.vlans {
		tpid := layers.EthernetTypeDot1Q
		if i == 0 && len(s.vlans) > 1 {
			tpid = layers.EthernetTypeQinQ
		}
		if i == 0 {
			eth.EthernetType = tpid
		}
		next := proto
		if i+1 < len(s.vlans) {
			next = layers.EthernetTypeDot1Q
		}
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: v, Type: next})
	}
	if len(s.vlans) == 0 {
		eth.EthernetType = proto
	}
	udp := &layers.UDP{SrcPort: layers.UDPPort(s.sport), DstPort: 9}
	var hdr int
	if s.ipv6 {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
			SrcIP: net.ParseIP("2001:db8:1::1"), DstIP: net.ParseIP("2001:db8:1::2")}
		_ = udp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, ip, udp)
		hdr = 14 + 4*len(s.vlans) + 40 + 8
	} else {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP,
			SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
		_ = udp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, ip, udp)
		hdr = 14 + 4*len(s.vlans) + 20 + 8
	}
	payload := make([]byte, max(0, s.size-hdr))
	for i := range payload {
		payload[i] = byte(i)
	}
	ls = append(ls, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		tb.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// vxlanFrame wraps inner in VXLAN from VTEP src to dst with vni, as a remote
// VTEP would send it.
func vxlanFrame(tb testing.TB, src, dst netip.Addr, vni uint32, inner []byte) []byte {
	tb.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr(routerMAC[:]), DstMAC: net.HardwareAddr(upMAC[:])}
	udp := &layers.UDP{SrcPort: 50000, DstPort: 4789}
	var ls []gopacket.SerializableLayer
	if src.Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, Flags: layers.IPv4DontFragment,
			SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		_ = udp.SetNetworkLayerForChecksum(ip)
		ls = []gopacket.SerializableLayer{eth, ip, udp}
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
			SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		_ = udp.SetNetworkLayerForChecksum(ip)
		ls = []gopacket.SerializableLayer{eth, ip, udp}
	}
	vx := &layers.VXLAN{ValidIDFlag: true, VNI: vni}
	ls = append(ls, vx, gopacket.Payload(inner))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		tb.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}
