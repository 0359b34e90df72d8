package dataplane

import (
	"bytes"
	"encoding/binary"
	"maps"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/fwdplane/fwd/vxlan"
)

// expect is what one frame must do.
type expect struct {
	action Action
	reason string
	egress uint32 // 0: not checked
	extra  map[string]uint64
}

func (f *fixture) check(t *testing.T, frame []byte, ingress uint32, want expect) (Result, Trace) {
	t.Helper()
	res, tr, delta := f.run(frame, ingress)
	if res.Action != want.action || tr.Reason != want.reason {
		t.Fatalf("got %s/%s, want %s/%s (trace %+v)", res.Action, tr.Reason, want.action, want.reason, tr)
	}
	if want.egress != 0 && tr.Egress != want.egress {
		t.Fatalf("egress %d, want %d", tr.Egress, want.egress)
	}
	wantDelta := map[string]uint64{want.reason: 1}
	switch ingress {
	case f.acc1, f.acc2, f.esp:
		wantDelta["rx_access"] = 1
	case f.up:
		wantDelta["rx_uplink"] = 1
	default:
		wantDelta["rx_other"] = 1
	}
	for k, v := range want.extra {
		wantDelta[k] += v
	}
	if !maps.Equal(delta, wantDelta) {
		t.Fatalf("counter deltas %v, want %v", delta, wantDelta)
	}
	return res, tr
}

func decode(t *testing.T, b []byte) gopacket.Packet {
	t.Helper()
	p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("decode output: %v", el.Error())
	}
	return p
}

// untag returns frame without its VLAN tags.
func untag(frame []byte, ntags int) []byte {
	out := append([]byte(nil), frame[:12]...)
	return append(out, frame[12+4*ntags:]...)
}

// checkEncap decodes an encapsulated frame and compares every outer field.
func checkEncap(t *testing.T, out []byte, nh int, vni uint32, inner []byte, tr Trace) {
	t.Helper()
	p := decode(t, out)
	eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	if !bytes.Equal(eth.SrcMAC, upMAC[:]) || !bytes.Equal(eth.DstMAC, routerMAC[:]) {
		t.Fatalf("outer MACs %s -> %s", eth.SrcMAC, eth.DstMAC)
	}
	dst := vtep(nh)
	if dst.Is4() {
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if ip == nil {
			t.Fatalf("no outer IPv4 in %x", out)
		}
		if !ip.SrcIP.Equal(net.IP(localVTEP4.AsSlice())) || !ip.DstIP.Equal(net.IP(dst.AsSlice())) {
			t.Fatalf("outer IPv4 %s -> %s, want %s -> %s", ip.SrcIP, ip.DstIP, localVTEP4, dst)
		}
		if ip.TTL != 64 || ip.Flags != layers.IPv4DontFragment || ip.IHL != 5 || int(ip.Length) != len(out)-14 {
			t.Fatalf("outer IPv4 ttl %d flags %v ihl %d len %d", ip.TTL, ip.Flags, ip.IHL, ip.Length)
		}
		if !vxlan.VerifyIPv4Checksum(out[14:34]) {
			t.Fatalf("outer IPv4 checksum %#04x is wrong", ip.Checksum)
		}
	} else {
		ip, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		if ip == nil {
			t.Fatalf("no outer IPv6 in %x", out)
		}
		if !ip.SrcIP.Equal(net.IP(localVTEP6.AsSlice())) || !ip.DstIP.Equal(net.IP(dst.AsSlice())) {
			t.Fatalf("outer IPv6 %s -> %s", ip.SrcIP, ip.DstIP)
		}
		if ip.HopLimit != 64 || int(ip.Length) != len(out)-54 || ip.FlowLabel != tr.Hash&0xfffff {
			t.Fatalf("outer IPv6 hop %d len %d label %#x (hash %#x)", ip.HopLimit, ip.Length, ip.FlowLabel, tr.Hash)
		}
	}
	udp := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if udp.DstPort != 4789 || uint16(udp.SrcPort) != 0xC000|uint16(tr.Hash>>18) || udp.Checksum != 0 {
		t.Fatalf("outer UDP %d -> %d csum %#x (hash %#x)", udp.SrcPort, udp.DstPort, udp.Checksum, tr.Hash)
	}
	if int(udp.Length) != len(inner)+16 {
		t.Fatalf("UDP length %d, want %d", udp.Length, len(inner)+16)
	}
	vx := p.Layer(layers.LayerTypeVXLAN).(*layers.VXLAN)
	if !vx.ValidIDFlag || vx.VNI != vni {
		t.Fatalf("VXLAN flags %v VNI %d, want VNI %d", vx.ValidIDFlag, vx.VNI, vni)
	}
	outer := 50
	if !dst.Is4() {
		outer = 70
	}
	if !bytes.Equal(out[outer:], inner) {
		t.Fatalf("inner frame changed:\n got %x\nwant %x", out[outer:], inner)
	}
}

func TestAccessLocal(t *testing.T) {
	f := newFixture(t)
	t.Run("untagged to tagged", func(t *testing.T) {
		in := buildFrame(t, frameSpec{dst: hostB, src: hostA})
		res, _ := f.check(t, in, f.acc1, expect{action: ActionRedirect, reason: "tx_local", egress: f.acc2})
		p := decode(t, res.Frame)
		tag, _ := p.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q)
		if tag == nil || tag.VLANIdentifier != 10 {
			t.Fatalf("egress frame not tagged VLAN 10: %x", res.Frame)
		}
		if !bytes.Equal(untag(res.Frame, 1), in) {
			t.Fatalf("frame changed beyond its tag")
		}
	})
	t.Run("tagged to untagged", func(t *testing.T) {
		in := buildFrame(t, frameSpec{dst: hostA, src: hostB, vlans: []uint16{10}})
		res, _ := f.check(t, in, f.acc2, expect{action: ActionRedirect, reason: "tx_local", egress: f.acc1})
		if !bytes.Equal(res.Frame, untag(in, 1)) {
			t.Fatalf("got %x, want the frame untagged", res.Frame)
		}
	})
	t.Run("to local ES", func(t *testing.T) {
		in := buildFrame(t, frameSpec{dst: hostE, src: hostA})
		res, tr := f.check(t, in, f.acc1, expect{action: ActionRedirect, reason: "tx_es_local", egress: f.esp})
		if !bytes.Equal(res.Frame, in) || tr.ES != esLocal {
			t.Fatalf("frame or ES changed: es %d", tr.ES)
		}
	})
	t.Run("hairpin", func(t *testing.T) {
		in := buildFrame(t, frameSpec{dst: hostB, src: hostA, vlans: []uint16{10}})
		f.fdb(bdA, hostA, FDBLocal, f.acc1, 0)
		f.check(t, in, f.acc2, expect{action: ActionDrop, reason: "drop_hairpin",
			extra: map[string]uint64{"learn_event": 1}})
	})
}

func TestAccessEncap(t *testing.T) {
	f := newFixture(t)
	t.Run("IPv4 underlay", func(t *testing.T) {
		in := buildFrame(t, frameSpec{dst: hostR, src: hostA, sport: 1234})
		res, tr := f.check(t, in, f.acc1, expect{action: ActionRedirect, reason: "tx_encap4", egress: f.up})
		checkEncap(t, res.Frame, 1, bdA, in, tr)
	})
	t.Run("IPv6 underlay", func(t *testing.T) {
		in := buildFrame(t, frameSpec{dst: hostV, src: hostA, ipv6: true})
		res, tr := f.check(t, in, f.acc1, expect{action: ActionRedirect, reason: "tx_encap6", egress: f.up})
		checkEncap(t, res.Frame, 5, bdA, in, tr)
	})
	t.Run("tags stripped", func(t *testing.T) {
		in := buildFrame(t, frameSpec{dst: hostR, src: hostB, vlans: []uint16{10}})
		res, tr := f.check(t, in, f.acc2, expect{action: ActionRedirect, reason: "tx_encap4"})
		checkEncap(t, res.Frame, 1, bdA, untag(in, 1), tr)
	})
	t.Run("QinQ to its own VNI", func(t *testing.T) {
		f.fdb(bdB, hostR, FDBVTEP, 1, 0)
		f.fdb(bdB, hostB, FDBLocal, f.acc2, 0)
		in := buildFrame(t, frameSpec{dst: hostR, src: hostB, vlans: []uint16{20, 30}})
		res, tr := f.check(t, in, f.acc2, expect{action: ActionRedirect, reason: "tx_encap4"})
		checkEncap(t, res.Frame, 1, bdB, untag(in, 2), tr)
	})
	t.Run("downstream VNI", func(t *testing.T) {
		f.must(f.d.SetNextHop(3, NextHop{Src: localVTEP4, Dst: vtep(3), VNI: 5000, Ifindex: f.up, SrcMAC: upMAC, DstMAC: routerMAC}))
		f.fdb(bdA, mac(0x13), FDBVTEP, 3, 0)
		in := buildFrame(t, frameSpec{dst: mac(0x13), src: hostA})
		res, tr := f.check(t, in, f.acc1, expect{action: ActionRedirect, reason: "tx_encap4"})
		checkEncap(t, res.Frame, 3, 5000, in, tr)
	})
	t.Run("VTEP down", func(t *testing.T) {
		f.must(f.d.SetNextHopDown(5, true))
		defer func() { f.must(f.d.SetNextHopDown(5, false)) }()
		in := buildFrame(t, frameSpec{dst: hostV, src: hostA})
		f.check(t, in, f.acc1, expect{action: ActionDrop, reason: "drop_nh_down"})
	})
	t.Run("too big for the underlay", func(t *testing.T) {
		// 1500 + 50 - 14 = 1536 <= 1550 fits; 1515 + 36 = 1551 does not.
		ok := buildFrame(t, frameSpec{dst: hostR, src: hostA, size: 1514})
		f.check(t, ok, f.acc1, expect{action: ActionRedirect, reason: "tx_encap4"})
		big := buildFrame(t, frameSpec{dst: hostR, src: hostA, size: 1515})
		f.check(t, big, f.acc1, expect{action: ActionDrop, reason: "drop_too_big"})
		jumbo := buildFrame(t, frameSpec{dst: hostR, src: hostA, size: 9000})
		f.check(t, jumbo, f.acc1, expect{action: ActionDrop, reason: "drop_too_big"})
	})
	t.Run("missing nexthop", func(t *testing.T) {
		f.fdb(bdA, mac(0x40), FDBVTEP, 40, 0)
		in := buildFrame(t, frameSpec{dst: mac(0x40), src: hostA})
		f.check(t, in, f.acc1, expect{action: ActionDrop, reason: "drop_no_nh"})
	})
}

func TestRemoteES(t *testing.T) {
	f := newFixture(t)
	buckets, _, err := f.d.Group(grpES)
	f.must(err)
	for sport := uint16(1000); sport < 1064; sport++ {
		in := buildFrame(t, frameSpec{dst: hostS, src: hostA, sport: sport})
		res, tr := f.check(t, in, f.acc1, expect{action: ActionRedirect, reason: "tx_encap4"})
		b := buckets[tr.Hash&uint32(len(buckets)-1)]
		if tr.NextHop != b.Primary || tr.Group != grpES || tr.Backup {
			t.Fatalf("sport %d: nexthop %d group %d, want bucket primary %d", sport, tr.NextHop, tr.Group, b.Primary)
		}
		checkEncap(t, res.Frame, int(b.Primary), bdA, in, tr)
	}
	// Tier 1: the primary's down bit moves its flows to the bucket's backup.
	in := buildFrame(t, frameSpec{dst: hostS, src: hostA, sport: 7})
	_, tr, _ := f.run(in, f.acc1)
	b := buckets[tr.Hash&uint32(len(buckets)-1)]
	f.must(f.d.SetNextHopDown(b.Primary, true))
	res, tr2 := f.check(t, in, f.acc1, expect{action: ActionRedirect, reason: "tx_encap4", extra: map[string]uint64{"nh_backup": 1}})
	if tr2.NextHop != b.Backup || !tr2.Backup {
		t.Fatalf("with %d down: nexthop %d, want backup %d", b.Primary, tr2.NextHop, b.Backup)
	}
	checkEncap(t, res.Frame, int(b.Backup), bdA, in, tr2)
	f.must(f.d.SetNextHopDown(b.Backup, true))
	f.check(t, in, f.acc1, expect{action: ActionDrop, reason: "drop_nh_down"})
	f.must(f.d.SetNextHopDown(b.Primary, false))
	f.must(f.d.SetNextHopDown(b.Backup, false))

	// Tier 2: one group write moves every MAC behind the ES.
	f.must(f.d.SetES(esRem, ES{Group: grpES}))
	_, err = f.d.ReplaceGroup(grpES, []Bucket{{Primary: 2}})
	f.must(err)
	_, tr3 := f.check(t, in, f.acc1, expect{action: ActionRedirect, reason: "tx_encap4"})
	if tr3.NextHop != 2 {
		t.Fatalf("after replace: nexthop %d, want 2", tr3.NextHop)
	}
	f.must(f.d.DeleteGroup(grpES))
	f.check(t, in, f.acc1, expect{action: ActionDrop, reason: "drop_no_nhg"})
	f.fdb(bdA, mac(0x41), FDBES, 41, 0)
	f.check(t, buildFrame(t, frameSpec{dst: mac(0x41), src: hostA}), f.acc1, expect{action: ActionDrop, reason: "drop_no_es"})
}

func TestLocalESDown(t *testing.T) {
	f := newFixture(t)
	in := buildFrame(t, frameSpec{dst: hostE, src: hostA})
	f.must(f.d.SetESDown(esLocal, true))
	res, tr := f.check(t, in, f.acc1, expect{action: ActionRedirect, reason: "tx_encap4", egress: f.up})
	if tr.NextHop != 4 || tr.Group != grpPeer {
		t.Fatalf("nexthop %d group %d, want the ES peer 4 via group %d", tr.NextHop, tr.Group, grpPeer)
	}
	checkEncap(t, res.Frame, 4, bdA, in, tr)

	// From the overlay: re-encapsulated to the peer, unless the peer sent it.
	from1 := vxlanFrame(t, vtep(1), localVTEP4, bdA, in)
	res, tr = f.check(t, from1, f.up, expect{action: ActionRedirect, reason: "tx_decap_reencap"})
	checkEncap(t, res.Frame, 4, bdA, in, tr)
	from4 := vxlanFrame(t, vtep(4), localVTEP4, bdA, in)
	f.check(t, from4, f.up, expect{action: ActionDrop, reason: "drop_decap_loop"})

	f.must(f.d.SetESDown(esLocal, false))
	res, _ = f.check(t, from4, f.up, expect{action: ActionRedirect, reason: "tx_decap_es", egress: f.esp})
	if !bytes.Equal(res.Frame, in) {
		t.Fatalf("decap to ES changed the inner frame")
	}
}

func TestDecap(t *testing.T) {
	f := newFixture(t)
	for _, src := range []int{1, 5} {
		dst := localVTEP4
		if src == 5 {
			dst = localVTEP6
		}
		t.Run(vtep(src).String(), func(t *testing.T) {
			in := buildFrame(t, frameSpec{dst: hostA, src: hostR})
			res, _ := f.check(t, vxlanFrame(t, vtep(src), dst, bdA, in), f.up, expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc1})
			if !bytes.Equal(res.Frame, in) {
				t.Fatalf("decap: got %x, want %x", res.Frame, in)
			}
			res, _ = f.check(t, vxlanFrame(t, vtep(src), dst, bdA, buildFrame(t, frameSpec{dst: hostB, src: hostR})), f.up,
				expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc2})
			if tag, _ := decode(t, res.Frame).Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q); tag == nil || tag.VLANIdentifier != 10 {
				t.Fatalf("decap to acc2 not tagged VLAN 10")
			}
		})
	}
	t.Run("QinQ egress", func(t *testing.T) {
		in := buildFrame(t, frameSpec{dst: hostQ, src: hostR})
		res, _ := f.check(t, vxlanFrame(t, vtep(1), localVTEP4, bdB, in), f.up, expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc2})
		want := buildFrame(t, frameSpec{dst: hostQ, src: hostR, vlans: []uint16{20, 30}, size: len(in) + 8})
		if !bytes.Equal(res.Frame, want) {
			t.Fatalf("got %x\nwant %x", res.Frame, want)
		}
	})
	t.Run("IPv4 options", func(t *testing.T) {
		in := buildFrame(t, frameSpec{dst: hostA, src: hostR})
		vx := vxlanFrame(t, vtep(1), localVTEP4, bdA, in)
		// Insert 4 bytes of options (NOP x3, EOL) and fix IHL, length, checksum.
		opt := append(append(append([]byte(nil), vx[:34]...), 1, 1, 1, 0), vx[34:]...)
		opt[14] = 0x46
		binary.BigEndian.PutUint16(opt[16:], binary.BigEndian.Uint16(opt[16:])+4)
		opt[24], opt[25] = 0, 0
		binary.BigEndian.PutUint16(opt[24:], vxlan.IPv4Checksum(opt[14:38]))
		res, _ := f.check(t, opt, f.up, expect{action: ActionRedirect, reason: "tx_decap"})
		if !bytes.Equal(res.Frame, in) {
			t.Fatalf("decap with options: got %x", res.Frame)
		}
	})
	t.Run("larger than the access MTU", func(t *testing.T) {
		// 1514 bytes fit acc1's MTU of 1500 (tags do not count: acc2 gets
		// 1518); one byte more is dropped and counted, not lost silently.
		ok := buildFrame(t, frameSpec{dst: hostB, src: hostR, size: 1514})
		res, _ := f.check(t, vxlanFrame(t, vtep(1), localVTEP4, bdA, ok), f.up, expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc2})
		if len(res.Frame) != 1518 {
			t.Fatalf("tagged full-size frame is %d bytes", len(res.Frame))
		}
		big := buildFrame(t, frameSpec{dst: hostA, src: hostR, size: 1515})
		f.check(t, vxlanFrame(t, vtep(1), localVTEP4, bdA, big), f.up, expect{action: ActionDrop, reason: "drop_too_big", egress: f.acc1})
	})
	t.Run("overlay to overlay", func(t *testing.T) {
		f.check(t, vxlanFrame(t, vtep(1), localVTEP4, bdA, buildFrame(t, frameSpec{dst: hostV, src: hostR})), f.up,
			expect{action: ActionDrop, reason: "drop_decap_remote"})
		f.check(t, vxlanFrame(t, vtep(1), localVTEP4, bdA, buildFrame(t, frameSpec{dst: hostS, src: hostR})), f.up,
			expect{action: ActionDrop, reason: "drop_decap_remote"})
	})
}

// TestFDBCacheInvalidation: the per-CPU FDB cache never hides a write. Each
// frame runs twice (the second from the cache), then the entry changes.
func TestFDBCacheInvalidation(t *testing.T) {
	f := newFixture(t)
	in := buildFrame(t, frameSpec{dst: hostR, src: hostA})
	for _, step := range []struct {
		set    func()
		reason string
		nh     uint32
	}{
		{func() {}, "tx_encap4", 1},
		{func() { f.fdb(bdA, hostR, FDBVTEP, 2, 0) }, "tx_encap4", 2},
		{func() { f.fdb(bdA, hostR, FDBVTEP, 5, 0) }, "tx_encap6", 5},
		{func() { f.must(f.d.DeleteFDB(FDBKey{BD: bdA, MAC: hostR})) }, "pass_unknown_ucast", 0},
		{func() { f.fdb(bdA, hostR, FDBLocal, f.acc2, 0) }, "tx_local", 0},
	} {
		step.set()
		for i := 0; i < 2; i++ {
			_, tr, _ := f.run(in, f.acc1)
			if tr.Reason != step.reason || tr.NextHop != step.nh {
				t.Fatalf("run %d: %s via nexthop %d, want %s via %d", i, tr.Reason, tr.NextHop, step.reason, step.nh)
			}
		}
	}
	// A source MAC that moves is seen moving at once.
	f.fdb(bdA, hostA, FDBLocal, f.acc2, 0)
	_, _, delta := f.run(in, f.acc1)
	if delta["learn_event"] != 1 {
		t.Fatalf("a moved source MAC raised no learn event: %v", delta)
	}
}

// TestStagedGroup: a version staged ahead of need becomes the group's with
// one atomic store; a dropped one goes straight back to the free slots.
func TestStagedGroup(t *testing.T) {
	f := newFixture(t)
	st, err := f.d.StageGroup([]Bucket{{Primary: 3}})
	f.must(err)
	if b, _, _ := f.d.Group(grpES); len(b) != 16 {
		t.Fatalf("staging changed the active version: %d buckets", len(b))
	}
	_, err = f.d.ActivateGroup(grpES, st)
	f.must(err)
	for sport := uint16(1000); sport < 1032; sport++ {
		_, tr, _ := f.run(buildFrame(t, frameSpec{dst: hostS, src: hostA, sport: sport}), f.acc1)
		if tr.NextHop != 3 {
			t.Fatalf("after activation: nexthop %d, want 3", tr.NextHop)
		}
	}
	before := f.d.GroupStats()
	dropped, err := f.d.StageGroup([]Bucket{{Primary: 4}})
	f.must(err)
	f.d.DropStaged(dropped)
	if after := f.d.GroupStats(); after.FreeSlots+after.RetiredSlots != before.FreeSlots+before.RetiredSlots {
		t.Fatalf("a dropped version did not go back at once: %+v -> %+v", before, after)
	}
}
