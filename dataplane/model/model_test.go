package model

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
)

// The test topology mirrors dataplane's fixture:
//
//	acc1 (2)  access, untagged          -> BD 100
//	acc2 (3)  access, VLAN 10 -> BD 100; VLAN 20.30 (QinQ) -> BD 200
//	esp  (4)  access, on local ES 1     -> BD 100, untagged
//	up   (5)  uplink, MTU 1550
//	peer (6)  a device that is no port
//
// Nexthops 1-4 are IPv4 VTEPs 192.0.2.11-14, nexthop 5 the IPv6 VTEP
// 2001:db8::15. Remote ES 2 is group 10 over nexthops 1-4; local ES 1 has
// backup group 11 (its ES peer, nexthop 4).
const (
	acc1, acc2, esp, up, peer = 2, 3, 4, 5, 6
	bdA, bdB                  = 100, 200
	esLocal, esRem            = 1, 2
	grpES, grpPeer            = 10, 11
)

var (
	localVTEP4 = netip.MustParseAddr("192.0.2.1")
	localVTEP6 = netip.MustParseAddr("2001:db8::1")
	upMAC      = [6]byte{0x02, 0, 0, 0, 0xee, 0x01}
	routerMAC  = [6]byte{0x02, 0, 0, 0, 0xee, 0x02}
	bcast      = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

	hostA = mac(0x0a)
	hostB = mac(0x0b)
	hostE = mac(0x0e)
	hostR = mac(0x11)
	hostS = mac(0x12)
	hostV = mac(0x15)
	hostQ = mac(0x20)
	gwMAC = mac(0xfe)
)

func mac(b byte) [6]byte { return [6]byte{0x02, 0xaa, 0, 0, 0, b} }

func vtep(n int) netip.Addr {
	if n == 5 {
		return netip.MustParseAddr("2001:db8::15")
	}
	return netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + n)})
}

func testState() *State {
	s := NewState()
	s.Config = Config{VXLANPort: 4789, TTL: 64}
	for _, i := range []uint32{1, acc1, acc2, esp, peer} {
		s.MTU[i] = 1500
	}
	s.MTU[1] = 65536
	s.MTU[up] = 1550
	s.SetPort(acc1, Port{Role: RoleAccess, Learn: true})
	s.SetPort(acc2, Port{Role: RoleAccess, Learn: true})
	s.SetPort(esp, Port{Role: RoleAccess, Learn: true, ES: esLocal})
	s.SetPort(up, Port{Role: RoleUplink})
	s.SetBD(bdA, 1)
	s.SetBD(bdB, 2)
	s.SetVLAN(acc1, Tags{}, bdA)
	s.SetVLAN(acc2, Tags{Outer: 10}, bdA)
	s.SetVLAN(acc2, Tags{Outer: 20, Inner: 30}, bdB)
	s.SetVLAN(esp, Tags{}, bdA)
	s.VTEPs[Addr16(localVTEP4)] = VTEPLocal
	s.VTEPs[Addr16(localVTEP6)] = VTEPLocal
	for n := 1; n <= 5; n++ {
		src := localVTEP4
		if n == 5 {
			src = localVTEP6
		}
		s.SetNextHop(uint32(n), src, vtep(n), 0, up, upMAC, routerMAC)
		s.VTEPs[Addr16(vtep(n))] = VTEPRemote
	}
	buckets := make([]Bucket, 16)
	for i := range buckets {
		buckets[i] = Bucket{Primary: uint32(1 + i%4), Backup: uint32(1 + (i+1)%4)}
	}
	s.Groups[grpES] = buckets
	s.Groups[grpPeer] = []Bucket{{Primary: 4}}
	s.ES[esLocal] = ES{Flags: ESLocal, Ifindex: esp, BackupGroup: grpPeer}
	s.ES[esRem] = ES{Group: grpES}
	s.ESPeers[ESPeerKey{Addr: Addr16(vtep(4)), ES: esLocal}] = true
	fdb := func(bd uint32, m [6]byte, kind FDBKind, ref uint32, flags uint8) {
		s.SetFDB(bd, m, FDBEntry{Kind: kind, Ref: ref, Flags: flags})
	}
	fdb(bdA, hostA, FDBLocal, acc1, 0)
	fdb(bdA, hostB, FDBLocal, acc2, 0)
	fdb(bdA, hostE, FDBES, esLocal, 0)
	fdb(bdA, hostR, FDBVTEP, 1, 0)
	fdb(bdA, hostS, FDBES, esRem, 0)
	fdb(bdA, hostV, FDBVTEP, 5, 0)
	fdb(bdA, gwMAC, FDBLocal, acc1, FDBRouter)
	fdb(bdB, hostQ, FDBLocal, acc2, 0)
	return s
}

// frame builds dst, src, VLAN tags (the outer one 0x88A8 when there are two),
// then IPv4 (or IPv6)/UDP from sport to 9, size bytes in all (0: 128).
type spec struct {
	dst, src [6]byte
	vlans    []uint16
	ipv6     bool
	sport    uint16
	size     int
}

func build(s spec) []byte {
	if s.size == 0 {
		s.size = 128
	}
	b := append(append([]byte(nil), s.dst[:]...), s.src[:]...)
	for i, v := range s.vlans {
		tpid := uint16(TPID8021Q)
		if i == 0 && len(s.vlans) > 1 {
			tpid = TPID8021AD
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, v)
	}
	l3 := len(b) + 2
	if s.ipv6 {
		b = binary.BigEndian.AppendUint16(b, EtherTypeIPv6)
		ip := make([]byte, 40)
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(max(s.size-l3-40, 8)))
		ip[6], ip[7] = ipProtoUDP, 64
		src, dst := netip.MustParseAddr("2001:db8:1::1").As16(), netip.MustParseAddr("2001:db8:1::2").As16()
		copy(ip[8:], src[:])
		copy(ip[24:], dst[:])
		b = append(b, ip...)
	} else {
		b = binary.BigEndian.AppendUint16(b, EtherTypeIPv4)
		ip := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, ipProtoUDP, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
		binary.BigEndian.PutUint16(ip[2:], uint16(max(s.size-l3, 28)))
		binary.BigEndian.PutUint16(ip[10:], checksum(ip))
		b = append(b, ip...)
	}
	b = binary.BigEndian.AppendUint16(b, s.sport)
	b = binary.BigEndian.AppendUint16(b, 9)
	b = binary.BigEndian.AppendUint16(b, uint16(max(s.size-len(b)+4, 8)))
	b = append(b, 0, 0)
	for i := 0; len(b) < s.size; i++ {
		b = append(b, byte(i))
	}
	return b
}

func checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// vxlan wraps inner as VTEP src would send it to dst.
func vxlan(src, dst netip.Addr, vni uint32, inner []byte) []byte {
	b := append(append([]byte(nil), upMAC[:]...), routerMAC[:]...)
	l4len := 16 + len(inner)
	if src.Is4() {
		b = binary.BigEndian.AppendUint16(b, EtherTypeIPv4)
		ip := []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, ipProtoUDP, 0, 0}
		binary.BigEndian.PutUint16(ip[2:], uint16(20+l4len))
		ip = append(append(ip, src.AsSlice()...), dst.AsSlice()...)
		binary.BigEndian.PutUint16(ip[10:], checksum(ip))
		b = append(b, ip...)
	} else {
		b = binary.BigEndian.AppendUint16(b, EtherTypeIPv6)
		ip := []byte{0x60, 0, 0, 0, 0, 0, ipProtoUDP, 64}
		binary.BigEndian.PutUint16(ip[4:], uint16(l4len))
		b = append(append(append(b, ip...), src.AsSlice()...), dst.AsSlice()...)
	}
	b = binary.BigEndian.AppendUint16(b, 50000)
	b = binary.BigEndian.AppendUint16(b, 4789)
	b = binary.BigEndian.AppendUint16(b, uint16(l4len))
	b = append(b, 0, 0, VXLANFlagI, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, vni<<8)
	return append(b, inner...)
}

func untag(frame []byte, n int) []byte {
	return append(append([]byte(nil), frame[:12]...), frame[12+4*n:]...)
}

type want struct {
	action Action
	reason string
	egress uint32
}

func check(t *testing.T, s *State, frame []byte, ingress uint32, w want) Result {
	t.Helper()
	orig := append([]byte(nil), frame...)
	r := s.Process(frame, ingress)
	if !bytes.Equal(frame, orig) {
		t.Fatalf("Process modified its input")
	}
	if r.Action != w.action || r.Reason != w.reason {
		t.Fatalf("got %s/%s, want %s/%s (%+v)", r.Action, r.Reason, w.action, w.reason, r)
	}
	if w.egress != 0 && r.Egress != w.egress {
		t.Fatalf("egress %d, want %d", r.Egress, w.egress)
	}
	if (r.Frame == nil) != (r.Action == ActionDrop) {
		t.Fatalf("frame %x with action %s", r.Frame, r.Action)
	}
	if r.Action == ActionPass && !bytes.Equal(r.Frame, frame) {
		t.Fatalf("a passed frame must be untouched")
	}
	return r
}

// checkEncap checks every outer field of an encapsulated frame.
func checkEncap(t *testing.T, s *State, out []byte, nhID uint32, vni uint32, inner []byte, r Result) {
	t.Helper()
	nh := s.NextHops[nhID]
	if !bytes.Equal(out[0:6], nh.DstMAC[:]) || !bytes.Equal(out[6:12], nh.SrcMAC[:]) {
		t.Fatalf("outer MACs % x", out[:12])
	}
	var udp []byte
	if nh.Family == 6 {
		if binary.BigEndian.Uint16(out[12:]) != EtherTypeIPv6 {
			t.Fatalf("EtherType %#x", binary.BigEndian.Uint16(out[12:]))
		}
		ip := out[14:54]
		if w := binary.BigEndian.Uint32(ip); w != 0x60000000|r.Hash&0xfffff {
			t.Fatalf("IPv6 word 0 %#x, hash %#x", w, r.Hash)
		}
		if int(binary.BigEndian.Uint16(ip[4:])) != len(out)-54 || ip[6] != ipProtoUDP || ip[7] != 64 {
			t.Fatalf("IPv6 header % x", ip)
		}
		if !bytes.Equal(ip[8:24], nh.Src[:]) || !bytes.Equal(ip[24:40], nh.Dst[:]) {
			t.Fatalf("IPv6 addresses % x", ip[8:40])
		}
		udp = out[54:]
	} else {
		if binary.BigEndian.Uint16(out[12:]) != EtherTypeIPv4 {
			t.Fatalf("EtherType %#x", binary.BigEndian.Uint16(out[12:]))
		}
		ip := out[14:34]
		if ip[0] != 0x45 || ip[1] != 0 || int(binary.BigEndian.Uint16(ip[2:])) != len(out)-14 ||
			binary.BigEndian.Uint16(ip[4:]) != 0 || binary.BigEndian.Uint16(ip[6:]) != 0x4000 ||
			ip[8] != 64 || ip[9] != ipProtoUDP || checksum(ip) != 0 {
			t.Fatalf("IPv4 header % x", ip)
		}
		if !bytes.Equal(ip[12:16], nh.Src[12:]) || !bytes.Equal(ip[16:20], nh.Dst[12:]) {
			t.Fatalf("IPv4 addresses % x", ip[12:20])
		}
		udp = out[34:]
	}
	if sp := binary.BigEndian.Uint16(udp); sp != uint16(0xC000|r.Hash>>18) || sp < 0xC000 {
		t.Fatalf("UDP source %d, hash %#x", sp, r.Hash)
	}
	if binary.BigEndian.Uint16(udp[2:]) != 4789 || int(binary.BigEndian.Uint16(udp[4:])) != len(inner)+16 ||
		binary.BigEndian.Uint16(udp[6:]) != 0 {
		t.Fatalf("UDP header % x", udp[:8])
	}
	if !bytes.Equal(udp[8:12], []byte{VXLANFlagI, 0, 0, 0}) || binary.BigEndian.Uint32(udp[12:]) != vni<<8 {
		t.Fatalf("VXLAN header % x, want VNI %d", udp[8:16], vni)
	}
	if !bytes.Equal(udp[16:], inner) {
		t.Fatalf("inner frame\n got % x\nwant % x", udp[16:], inner)
	}
}

func TestAccessLocal(t *testing.T) {
	s := testState()
	in := build(spec{dst: hostB, src: hostA})
	r := check(t, s, in, acc1, want{ActionRedirect, CtrTXLocal, acc2})
	if binary.BigEndian.Uint16(r.Frame[12:]) != TPID8021Q || binary.BigEndian.Uint16(r.Frame[14:]) != 10 ||
		!bytes.Equal(untag(r.Frame, 1), in) {
		t.Fatalf("untagged -> VLAN 10: % x", r.Frame[:20])
	}
	if r.Learn != LearnKnown || r.BD != bdA || r.FDBKind != FDBLocal {
		t.Fatalf("result %+v", r)
	}

	in = build(spec{dst: hostA, src: hostB, vlans: []uint16{10}})
	r = check(t, s, in, acc2, want{ActionRedirect, CtrTXLocal, acc1})
	if !bytes.Equal(r.Frame, untag(in, 1)) {
		t.Fatalf("VLAN 10 -> untagged: % x", r.Frame[:20])
	}

	in = build(spec{dst: hostE, src: hostA})
	r = check(t, s, in, acc1, want{ActionRedirect, CtrTXESLocal, esp})
	if !bytes.Equal(r.Frame, in) || r.ES != esLocal || r.Hash != 0 {
		t.Fatalf("to local ES: %+v", r)
	}
	check(t, s, build(spec{dst: hostB, src: hostA, vlans: []uint16{10}}), acc2, want{ActionDrop, CtrDropHairpin, acc2})
	r = check(t, s, build(spec{dst: hostE, src: hostA}), esp, want{ActionDrop, CtrDropHairpin, 0})
	if r.ES != esLocal || r.Egress != 0 {
		t.Fatalf("ES hairpin %+v", r)
	}
}

func TestTagRewrite(t *testing.T) {
	s := testState()
	s.SetFDB(bdB, hostA, FDBEntry{Kind: FDBLocal, Ref: acc1})
	s.SetVLAN(acc1, Tags{Outer: 5}, bdB)
	// Double-tagged in, single-tagged out: the PCP is not carried over and
	// the outer 0x88A8 becomes 0x8100.
	in := build(spec{dst: hostA, src: hostB, vlans: []uint16{0xe000 | 20, 30}})
	r := check(t, s, in, acc2, want{ActionRedirect, CtrTXLocal, acc1})
	wantHdr := []byte{0x81, 0x00, 0x00, 0x05}
	if !bytes.Equal(r.Frame[12:16], wantHdr) || !bytes.Equal(r.Frame[16:], in[20:]) {
		t.Fatalf("QinQ -> VLAN 5: % x", r.Frame[:24])
	}
	// And back: single in (0x88A8 as a lone tag is a tag too), double out.
	in = build(spec{dst: hostQ, src: hostA, vlans: []uint16{5}})
	binary.BigEndian.PutUint16(in[12:], TPID8021AD)
	r = check(t, s, in, acc1, want{ActionRedirect, CtrTXLocal, acc2})
	wantHdr = []byte{0x88, 0xa8, 0x00, 20, 0x81, 0x00, 0x00, 30}
	if !bytes.Equal(r.Frame[12:20], wantHdr) || !bytes.Equal(r.Frame[20:], in[16:]) {
		t.Fatalf("VLAN 5 -> QinQ: % x", r.Frame[:24])
	}
	// Same number of tags: rewritten in place.
	s.SetVLAN(acc1, Tags{Outer: 7, Inner: 8}, bdB)
	r = check(t, s, build(spec{dst: hostA, src: hostB, vlans: []uint16{20, 30}}), acc2, want{ActionRedirect, CtrTXLocal, acc1})
	if !bytes.Equal(r.Frame[12:20], []byte{0x88, 0xa8, 0, 7, 0x81, 0, 0, 8}) {
		t.Fatalf("QinQ -> QinQ: % x", r.Frame[:24])
	}
	// A priority tag (VID 0) is a tag: the frame is not untagged, and no
	// VLAN 0 can be mapped.
	in = build(spec{dst: hostB, src: hostA, vlans: []uint16{0x2000}})
	check(t, s, in, acc1, want{ActionPass, CtrPassNoBD, 0})
	// Two tags with inner VID 0 look up (outer, 0): the single-tag mapping.
	in = build(spec{dst: hostA, src: hostB, vlans: []uint16{10, 0}})
	r = check(t, s, in, acc2, want{ActionRedirect, CtrTXLocal, acc1})
	if !bytes.Equal(r.Frame, untag(in, 2)) {
		t.Fatalf("10.0 -> untagged: % x", r.Frame[:24])
	}
}

func TestEncap(t *testing.T) {
	s := testState()
	in := build(spec{dst: hostR, src: hostA, sport: 1234})
	r := check(t, s, in, acc1, want{ActionRedirect, CtrTXEncap4, up})
	checkEncap(t, s, r.Frame, 1, bdA, in, r)
	if r.Hash != FlowHash(in, 14, EtherTypeIPv4) || r.NextHop != 1 {
		t.Fatalf("result %+v", r)
	}

	in = build(spec{dst: hostV, src: hostA, ipv6: true})
	r = check(t, s, in, acc1, want{ActionRedirect, CtrTXEncap6, up})
	checkEncap(t, s, r.Frame, 5, bdA, in, r)

	in = build(spec{dst: hostR, src: hostB, vlans: []uint16{10}})
	r = check(t, s, in, acc2, want{ActionRedirect, CtrTXEncap4, up})
	checkEncap(t, s, r.Frame, 1, bdA, untag(in, 1), r)
	if r.Hash != FlowHash(in, 18, EtherTypeIPv4) {
		t.Fatalf("hash of a tagged frame skips the tag")
	}

	s.SetFDB(bdB, hostR, FDBEntry{Kind: FDBVTEP, Ref: 1})
	in = build(spec{dst: hostR, src: hostB, vlans: []uint16{20, 30}})
	r = check(t, s, in, acc2, want{ActionRedirect, CtrTXEncap4, up})
	checkEncap(t, s, r.Frame, 1, bdB, untag(in, 2), r)

	s.SetNextHop(3, localVTEP4, vtep(3), 5000, up, upMAC, routerMAC)
	s.SetFDB(bdA, mac(0x13), FDBEntry{Kind: FDBVTEP, Ref: 3})
	in = build(spec{dst: mac(0x13), src: hostA})
	r = check(t, s, in, acc1, want{ActionRedirect, CtrTXEncap4, up})
	checkEncap(t, s, r.Frame, 3, 5000, in, r)

	s.Config = Config{TTL: 9, VXLANPort: 8472}
	r = check(t, s, in, acc1, want{ActionRedirect, CtrTXEncap4, up})
	if r.Frame[22] != 9 || binary.BigEndian.Uint16(r.Frame[36:]) != 8472 || checksum(r.Frame[14:34]) != 0 {
		t.Fatalf("config not applied: % x", r.Frame[:50])
	}
}

func TestEncapMTU(t *testing.T) {
	s := testState()
	// 1514 + 36 = 1550 fits an MTU of 1550; one byte more does not.
	check(t, s, build(spec{dst: hostR, src: hostA, size: 1514}), acc1, want{ActionRedirect, CtrTXEncap4, up})
	check(t, s, build(spec{dst: hostR, src: hostA, size: 1515}), acc1, want{ActionDrop, CtrDropTooBig, up})
	// Tags do not count: they are stripped.
	check(t, s, build(spec{dst: hostR, src: hostB, vlans: []uint16{10}, size: 1518}), acc2, want{ActionRedirect, CtrTXEncap4, up})
	check(t, s, build(spec{dst: hostR, src: hostB, vlans: []uint16{10}, size: 1519}), acc2, want{ActionDrop, CtrDropTooBig, up})
	// IPv6: 56 bytes of growth.
	check(t, s, build(spec{dst: hostV, src: hostA, size: 1494}), acc1, want{ActionRedirect, CtrTXEncap6, up})
	check(t, s, build(spec{dst: hostV, src: hostA, size: 1495}), acc1, want{ActionDrop, CtrDropTooBig, up})
	// An underlay that is not a device of the namespace fails the MTU check;
	// one that is but is no port fails the redirect.
	s.SetNextHop(1, localVTEP4, vtep(1), 0, 99, upMAC, routerMAC)
	check(t, s, build(spec{dst: hostR, src: hostA}), acc1, want{ActionDrop, CtrDropNoTXPort, 99})
	s.SetNextHop(1, localVTEP4, vtep(1), 0, peer, upMAC, routerMAC)
	check(t, s, build(spec{dst: hostR, src: hostA}), acc1, want{ActionDrop, CtrDropNoTXPort, peer})
}

func TestRemoteES(t *testing.T) {
	s := testState()
	buckets := s.Groups[grpES]
	for sport := uint16(1); sport <= 64; sport++ {
		in := build(spec{dst: hostS, src: hostA, sport: sport})
		r := check(t, s, in, acc1, want{ActionRedirect, CtrTXEncap4, up})
		b := buckets[r.Hash&15]
		if r.NextHop != b.Primary || r.Group != grpES || r.Backup || r.ES != esRem {
			t.Fatalf("sport %d: %+v, want primary %d", sport, r, b.Primary)
		}
		checkEncap(t, s, r.Frame, b.Primary, bdA, in, r)
	}
	in := build(spec{dst: hostS, src: hostA, sport: 7})
	r := s.Process(in, acc1)
	b := buckets[r.Hash&15]
	s.NextHopDown[b.Primary] = true
	r = check(t, s, in, acc1, want{ActionRedirect, CtrTXEncap4, up})
	if r.NextHop != b.Backup || !r.Backup {
		t.Fatalf("primary down: %+v, want backup %d", r, b.Backup)
	}
	s.NextHopDown[b.Backup] = true
	r = check(t, s, in, acc1, want{ActionDrop, CtrDropNHDown, 0})
	if r.NextHop != 0 || r.Group != grpES {
		t.Fatalf("both down: %+v", r)
	}
	s.Groups[grpES] = nil
	check(t, s, in, acc1, want{ActionDrop, CtrDropNoNHG, 0})
	s.ES[esRem] = ES{Group: MaxGroups}
	check(t, s, in, acc1, want{ActionDrop, CtrDropNoNHG, 0})
	s.ES[esRem] = ES{Flags: ESNonDF}
	check(t, s, in, acc1, want{ActionDrop, CtrDropNoNHG, 0})
	s.ES[esRem] = ES{}
	check(t, s, in, acc1, want{ActionDrop, CtrDropNoES, 0})
	s.SetFDB(bdA, hostS, FDBEntry{Kind: FDBES, Ref: MaxES})
	check(t, s, in, acc1, want{ActionDrop, CtrDropNoES, 0})
	s.SetFDB(bdA, hostS, FDBEntry{Kind: FDBVTEP, Ref: 40})
	check(t, s, in, acc1, want{ActionDrop, CtrDropNoNH, 0})
	s.SetFDB(bdA, hostS, FDBEntry{Kind: FDBVTEP, Ref: MaxNextHops})
	r = check(t, s, in, acc1, want{ActionDrop, CtrDropNHDown, 0})
	if r.NextHop != MaxNextHops {
		t.Fatalf("nexthop past the bitmap: %+v", r)
	}
}

func TestLocalESDown(t *testing.T) {
	s := testState()
	in := build(spec{dst: hostE, src: hostA})
	s.ESDown[esLocal] = true
	r := check(t, s, in, acc1, want{ActionRedirect, CtrTXEncap4, up})
	if r.NextHop != 4 || r.Group != grpPeer || r.ES != esLocal {
		t.Fatalf("%+v", r)
	}
	checkEncap(t, s, r.Frame, 4, bdA, in, r)

	from1 := vxlan(vtep(1), localVTEP4, bdA, in)
	r = check(t, s, from1, up, want{ActionRedirect, CtrTXDecapReencap, up})
	checkEncap(t, s, r.Frame, 4, bdA, in, r)
	if r.Hash != FlowHash(in, 14, EtherTypeIPv4) {
		t.Fatalf("re-encap hashes the inner frame")
	}
	check(t, s, vxlan(vtep(4), localVTEP4, bdA, in), up, want{ActionDrop, CtrDropDecapLoop, 0})
	s.ESDown[esLocal] = false
	r = check(t, s, vxlan(vtep(4), localVTEP4, bdA, in), up, want{ActionRedirect, CtrTXDecapES, esp})
	if !bytes.Equal(r.Frame, in) {
		t.Fatalf("decap to ES: % x", r.Frame)
	}
}

func TestDecap(t *testing.T) {
	s := testState()
	for _, src := range []int{1, 5} {
		dst := localVTEP4
		if src == 5 {
			dst = localVTEP6
		}
		in := build(spec{dst: hostA, src: hostR})
		r := check(t, s, vxlan(vtep(src), dst, bdA, in), up, want{ActionRedirect, CtrTXDecap, acc1})
		if !bytes.Equal(r.Frame, in) {
			t.Fatalf("decap: % x", r.Frame)
		}
		r = check(t, s, vxlan(vtep(src), dst, bdA, build(spec{dst: hostB, src: hostR})), up, want{ActionRedirect, CtrTXDecap, acc2})
		if !bytes.Equal(r.Frame[12:16], []byte{0x81, 0, 0, 10}) {
			t.Fatalf("decap to acc2: % x", r.Frame[:20])
		}
	}
	in := build(spec{dst: hostQ, src: hostR})
	r := check(t, s, vxlan(vtep(1), localVTEP4, bdB, in), up, want{ActionRedirect, CtrTXDecap, acc2})
	if w := build(spec{dst: hostQ, src: hostR, vlans: []uint16{20, 30}, size: len(in) + 8}); !bytes.Equal(r.Frame, w) {
		t.Fatalf("QinQ egress\n got % x\nwant % x", r.Frame, w)
	}
	// IPv4 options move the VXLAN header.
	vx := vxlan(vtep(1), localVTEP4, bdA, build(spec{dst: hostA, src: hostR}))
	opt := append(append(append([]byte(nil), vx[:34]...), 1, 1, 1, 0), vx[34:]...)
	opt[14] = 0x46
	check(t, s, opt, up, want{ActionRedirect, CtrTXDecap, acc1})
	check(t, s, vxlan(vtep(1), localVTEP4, bdA, build(spec{dst: hostV, src: hostR})), up, want{ActionDrop, CtrDropDecapRemote, 0})
	check(t, s, vxlan(vtep(1), localVTEP4, bdA, build(spec{dst: hostS, src: hostR})), up, want{ActionDrop, CtrDropDecapRemote, 0})
	// An ES id with a zeroed entry is an unknown ES on decap too, as on
	// access ports; one without the local flag but with a group is remote.
	s.SetFDB(bdA, mac(0x41), FDBEntry{Kind: FDBES, Ref: 41})
	check(t, s, vxlan(vtep(1), localVTEP4, bdA, build(spec{dst: mac(0x41), src: hostR})), up, want{ActionDrop, CtrDropNoES, 0})
	s.ES[41] = ES{Flags: ESNonDF}
	check(t, s, vxlan(vtep(1), localVTEP4, bdA, build(spec{dst: mac(0x41), src: hostR})), up, want{ActionDrop, CtrDropDecapRemote, 0})
	s.SetFDB(bdA, mac(0x41), FDBEntry{Kind: FDBES, Ref: MaxES + 1})
	check(t, s, vxlan(vtep(1), localVTEP4, bdA, build(spec{dst: mac(0x41), src: hostR})), up, want{ActionDrop, CtrDropNoES, 0})
}

func TestPassAndDrop(t *testing.T) {
	s := testState()
	inner := build(spec{dst: hostA, src: hostR})
	frag := vxlan(vtep(1), localVTEP4, bdA, inner)
	binary.BigEndian.PutUint16(frag[20:], 0x2000)
	ext := vxlan(vtep(5), localVTEP6, bdA, inner)
	ext[20] = 0
	other := vxlan(vtep(1), localVTEP4, bdA, inner)
	binary.BigEndian.PutUint16(other[36:], 4790)
	flags := vxlan(vtep(1), localVTEP4, bdA, inner)
	flags[42] = 0
	s.SetFDB(bdA, mac(0x56), FDBEntry{Kind: FDBLocal, Ref: acc2, Flags: FDBSticky})
	cases := []struct {
		name    string
		frame   []byte
		ingress uint32
		action  Action
		reason  string
	}{
		{"broadcast", build(spec{dst: bcast, src: hostA}), acc1, ActionPass, CtrPassBUM},
		{"unknown unicast", build(spec{dst: mac(0x77), src: hostA}), acc1, ActionPass, CtrPassUnknownUcast},
		{"router MAC", build(spec{dst: gwMAC, src: hostA}), acc1, ActionPass, CtrPassRouterMAC},
		{"unmapped VLAN", build(spec{dst: hostB, src: hostA, vlans: []uint16{99}}), acc1, ActionPass, CtrPassNoBD},
		{"not a port", build(spec{dst: hostB, src: hostA}), peer, ActionPass, CtrPassNotPort},
		{"underlay traffic", build(spec{dst: upMAC, src: routerMAC}), up, ActionPass, CtrPassNotVXLAN},
		{"unknown VTEP", vxlan(netip.MustParseAddr("192.0.2.99"), localVTEP4, bdA, inner), up, ActionPass, CtrPassUnknownVTEP},
		{"not ours", vxlan(vtep(1), vtep(2), bdA, inner), up, ActionPass, CtrPassNotLocalVTEP},
		{"unknown VNI", vxlan(vtep(1), localVTEP4, 4242, inner), up, ActionPass, CtrPassUnknownVNI},
		{"inner broadcast", vxlan(vtep(1), localVTEP4, bdA, build(spec{dst: bcast, src: hostR})), up, ActionPass, CtrPassDecapBUM},
		{"inner unknown", vxlan(vtep(1), localVTEP4, bdA, build(spec{dst: mac(0x77), src: hostR})), up, ActionPass, CtrPassDecapUnknown},
		{"inner router", vxlan(vtep(1), localVTEP4, bdA, build(spec{dst: gwMAC, src: hostR})), up, ActionPass, CtrPassDecapRouter},
		{"fragment", frag, up, ActionPass, CtrPassFragment},
		{"IPv6 extension", ext, up, ActionPass, CtrPassIPv6Ext},
		{"other port", other, up, ActionPass, CtrPassNotVXLAN},
		{"runt", inner[:13], acc1, ActionDrop, CtrDropRunt},
		{"uplink runt", inner[:13], up, ActionDrop, CtrDropRunt},
		{"three tags", build(spec{dst: hostB, src: hostA, vlans: []uint16{10, 20, 30}}), acc2, ActionDrop, CtrDropVLANDepth},
		{"multicast source", build(spec{dst: hostB, src: [6]byte{1, 0, 0x5e, 0, 0, 9}}), acc1, ActionDrop, CtrDropSrcMcast},
		{"sticky", build(spec{dst: hostB, src: mac(0x56)}), acc1, ActionDrop, CtrDropSticky},
		{"VXLAN flags", flags, up, ActionDrop, CtrDropVXLANFlags},
		{"inner tagged", vxlan(vtep(1), localVTEP4, bdA, build(spec{dst: hostA, src: hostR, vlans: []uint16{10}})), up, ActionDrop, CtrDropInnerTagged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { check(t, s, c.frame, c.ingress, want{c.action, c.reason, 0}) })
	}
	s.Ports[peer] = Port{Role: RoleNone}
	r := check(t, s, build(spec{dst: hostB, src: hostA}), peer, want{ActionPass, CtrPassNotPort, 0})
	if r.RX != CtrRXOther {
		t.Fatalf("RX %s", r.RX)
	}
}

func TestNoEgress(t *testing.T) {
	s := testState()
	s.SetFDB(bdB, hostA, FDBEntry{Kind: FDBLocal, Ref: acc1})
	check(t, s, build(spec{dst: hostA, src: hostB, vlans: []uint16{20, 30}}), acc2, want{ActionDrop, CtrDropNoEgressTags, acc1})
	s.SetVLAN(peer, Tags{}, bdA)
	s.SetFDB(bdA, hostA, FDBEntry{Kind: FDBLocal, Ref: peer})
	check(t, s, build(spec{dst: hostA, src: hostB, vlans: []uint16{10}}), acc2, want{ActionDrop, CtrDropNoTXPort, peer})
}

func TestLearnDecision(t *testing.T) {
	s := testState()
	for _, c := range []struct {
		src     [6]byte
		ingress uint32
		want    Learn
	}{
		{hostA, acc1, LearnKnown},
		{hostE, esp, LearnKnown},
		{mac(0x55), acc1, LearnNew},
		{hostB, acc1, LearnMoved},
		{hostE, acc1, LearnMoved},
	} {
		if r := s.Process(build(spec{dst: hostQ, src: c.src}), c.ingress); r.Learn != c.want {
			t.Errorf("source %x on %d: %s, want %s", c.src, c.ingress, r.Learn, c.want)
		}
	}
	if r := s.Process(build(spec{dst: hostB, src: hostA}), up); r.Learn != LearnNotChecked {
		t.Errorf("uplink: %s", r.Learn)
	}
}

// TestTruncated cuts encapsulated frames at every length up to the end of the
// inner Ethernet header, as dataplane's TestTruncatedEverywhere does.
func TestTruncated(t *testing.T) {
	s := testState()
	inner := build(spec{dst: hostA, src: hostR})
	for _, v6 := range []bool{false, true} {
		src, dst, ip := vtep(1), localVTEP4, 20
		if v6 {
			src, dst, ip = vtep(5), localVTEP6, 40
		}
		full := vxlan(src, dst, bdA, inner)
		udpEnd := 14 + ip + 8
		for n := 0; n < udpEnd+8+14; n++ {
			w := want{ActionDrop, CtrDropTruncated, 0}
			switch {
			case n < 14:
				w.reason = CtrDropRunt
			case n < udpEnd:
				w = want{ActionPass, CtrPassTruncated, 0}
			}
			t.Run(fmt.Sprintf("v6=%v/len=%d", v6, n), func(t *testing.T) { check(t, s, full[:n], up, w) })
		}
	}
	s.SetFDB(bdB, hostA, FDBEntry{Kind: FDBLocal, Ref: acc1})
	s.SetVLAN(acc1, Tags{Outer: 5}, bdB)
	tagged := build(spec{dst: hostA, src: hostB, vlans: []uint16{20, 30}})
	for n := 0; n < 22; n++ {
		w := want{ActionDrop, CtrDropTruncated, 0}
		if n < 14 {
			w.reason = CtrDropRunt
		}
		check(t, s, tagged[:n], acc2, w)
	}
	r := check(t, s, tagged[:22], acc2, want{ActionRedirect, CtrTXLocal, acc1})
	if len(r.Frame) != 18 {
		t.Fatalf("cut frame out: % x", r.Frame)
	}
}

func TestFlowHash(t *testing.T) {
	base := spec{dst: hostR, src: hostA, sport: 1000}
	h := func(s spec, mod func([]byte)) uint32 {
		b := build(s)
		if mod != nil {
			mod(b)
		}
		return FlowHash(b, 14, binary.BigEndian.Uint16(b[12:]))
	}
	h0 := h(base, nil)
	if h(base, func(b []byte) { b[22] = 1 }) != h0 { // TTL
		t.Errorf("TTL is hashed")
	}
	if h(base, func(b []byte) { b[60] ^= 0xff }) != h0 { // payload
		t.Errorf("payload is hashed")
	}
	if h(base, func(b []byte) { b[35] ^= 1 }) == h0 { // source port
		t.Errorf("source port not hashed")
	}
	if h(base, func(b []byte) { b[26] ^= 1 }) == h0 { // source address
		t.Errorf("source address not hashed")
	}
	// A fragment's ports are not hashed; neither are an unknown protocol's.
	frag := func(b []byte) { b[20] = 0x20 }
	if h(base, frag) != h(base, func(b []byte) { frag(b); b[35] ^= 1 }) {
		t.Errorf("fragment ports hashed")
	}
	icmp := func(b []byte) { b[23] = 1 }
	if h(base, icmp) != h(base, func(b []byte) { icmp(b); b[35] ^= 1 }) {
		t.Errorf("ICMP 'ports' hashed")
	}
	// IPv4 options move the ports.
	opt := func(b []byte) { b[14] = 0x46 }
	if h(base, opt) != h(base, func(b []byte) { opt(b); b[34] ^= 1 }) || h(base, opt) == h(base, func(b []byte) { opt(b); b[38] ^= 1 }) {
		t.Errorf("IPv4 options: ports not found after the options")
	}
	v6 := spec{dst: hostR, src: hostA, sport: 1000, ipv6: true}
	if h(v6, func(b []byte) { b[15] = 0xff }) != h(v6, nil) { // flow label
		t.Errorf("IPv6 flow label is hashed")
	}
	if h(v6, func(b []byte) { b[55] ^= 1 }) == h(v6, nil) {
		t.Errorf("IPv6 source port not hashed")
	}
	// Cut short: fewer fields, no panic.
	b := build(base)
	for n := 0; n <= len(b); n++ {
		FlowHash(b[:n], 14, EtherTypeIPv4)
		FlowHash(b[:n], 14, EtherTypeIPv6)
		FlowHash(b[:n], 255, EtherTypeIPv4)
	}
	if FlowHash(b[:11], 14, EtherTypeIPv4) != 0 {
		t.Errorf("hash of a frame shorter than the MACs is not 0")
	}
}

func TestCounters(t *testing.T) {
	seen := make(map[string]bool)
	for _, c := range Counters {
		if seen[c] {
			t.Fatalf("counter %s twice", c)
		}
		seen[c] = true
	}
	if len(Counters) != 47 {
		t.Fatalf("%d counters", len(Counters))
	}
}

// FuzzProcess checks that the model never panics and keeps its invariants on
// any frame.
func FuzzProcess(f *testing.F) {
	s := testState()
	s.ESDown[esLocal] = true
	f.Add(build(spec{dst: hostR, src: hostA}), uint8(acc1))
	f.Add(vxlan(vtep(1), localVTEP4, bdA, build(spec{dst: hostE, src: hostR})), uint8(up))
	f.Add(build(spec{dst: hostQ, src: hostB, vlans: []uint16{20, 30}}), uint8(acc2))
	f.Fuzz(func(t *testing.T, frame []byte, in uint8) {
		r := s.Process(frame, uint32(in%8))
		if r.Reason == "" || r.RX == "" {
			t.Fatalf("no reason: %+v", r)
		}
		if (r.Frame == nil) != (r.Action == ActionDrop) {
			t.Fatalf("frame with %s", r.Action)
		}
		if r.Action == ActionPass && !bytes.Equal(r.Frame, frame) {
			t.Fatalf("pass changed the frame")
		}
	})
}

func TestPortsAndBDs(t *testing.T) {
	s := testState()
	// An entry without a role is no port, whatever BD it holds; neither is
	// an ifindex past the array.
	s.SetVLAN(peer, Tags{}, bdA)
	r := check(t, s, build(spec{dst: hostB, src: hostA}), peer, want{ActionPass, CtrPassNotPort, 0})
	if r.RX != CtrRXOther {
		t.Fatalf("RX %s", r.RX)
	}
	s.Ports[MaxIfindex] = Port{Role: RoleAccess, Untagged: s.BDs[bdA]}
	check(t, s, build(spec{dst: hostB, src: hostA}), MaxIfindex, want{ActionPass, CtrPassNotPort, 0})
	// A port without an untagged BD passes untagged frames.
	p := s.Ports[acc2]
	if p.Untagged.Idx != 0 {
		t.Fatalf("acc2 has an untagged BD")
	}
	check(t, s, build(spec{dst: hostA, src: hostB}), acc2, want{ActionPass, CtrPassNoBD, 0})
	// SetPort keeps the untagged BD.
	s.SetPort(acc1, Port{Role: RoleAccess})
	check(t, s, build(spec{dst: hostB, src: hostA}), acc1, want{ActionRedirect, CtrTXLocal, acc2})
	// A BD deleted under its VLAN mappings: frames still map to it, but its
	// FDB index finds nothing, and its VNI is not ours on decap.
	stale := s.BDs[bdB]
	delete(s.BDs, bdB)
	for k := range s.FDB {
		if k.BD == stale.Idx {
			delete(s.FDB, k)
		}
	}
	r = check(t, s, build(spec{dst: hostQ, src: hostB, vlans: []uint16{20, 30}}), acc2, want{ActionPass, CtrPassUnknownUcast, 0})
	if r.BD != bdB || r.Learn != LearnNew {
		t.Fatalf("stale BD: %+v", r)
	}
	check(t, s, vxlan(vtep(1), localVTEP4, bdB, build(spec{dst: hostQ, src: hostR})), up, want{ActionPass, CtrPassUnknownVNI, 0})
	// Two BDs share nothing but their index: the FDB is keyed by it.
	s.SetBD(777, s.BDs[bdA].Idx)
	s.SetVLAN(acc2, Tags{Outer: 77}, 777)
	r = check(t, s, build(spec{dst: hostA, src: hostB, vlans: []uint16{77}}), acc2, want{ActionDrop, CtrDropNoEgressTags, acc1})
	if r.BD != 777 || r.FDBKind != FDBLocal {
		t.Fatalf("shared index: %+v", r)
	}
}

func TestLinearMax(t *testing.T) {
	s := testState()
	s.LinearMax = 3520
	s.MTU[up] = 9000
	// The program sees 3520 bytes: lengths and the MTU check count those;
	// the rest of the frame rides along.
	in := build(spec{dst: hostR, src: hostA, size: 4000})
	r := check(t, s, in, acc1, want{ActionRedirect, CtrTXEncap4, up})
	if len(r.Frame) != 4050 || binary.BigEndian.Uint16(r.Frame[16:]) != 3520+36 || !bytes.Equal(r.Frame[50:], in) {
		t.Fatalf("multi-buffer encap: %d bytes, IPv4 length %d", len(r.Frame), binary.BigEndian.Uint16(r.Frame[16:]))
	}
	r = check(t, s, build(spec{dst: bcast, src: hostA, size: 4000}), acc1, want{ActionPass, CtrPassBUM, 0})
	if len(r.Frame) != 4000 {
		t.Fatalf("multi-buffer pass: %d bytes", len(r.Frame))
	}
}
