package dataplane

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

func TestPassToKernel(t *testing.T) {
	f := newFixture(t)
	bcast := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	inner := buildFrame(t, frameSpec{dst: hostA, src: hostR})
	cases := []struct {
		name    string
		frame   []byte
		ingress uint32
		reason  string
	}{
		{"broadcast", buildFrame(t, frameSpec{dst: bcast, src: hostA}), f.acc1, "pass_bum"},
		{"multicast", buildFrame(t, frameSpec{dst: [6]byte{0x01, 0, 0x5e, 0, 0, 1}, src: hostA}), f.acc1, "pass_bum"},
		{"unknown unicast", buildFrame(t, frameSpec{dst: mac(0x77), src: hostA}), f.acc1, "pass_unknown_ucast"},
		{"router MAC", buildFrame(t, frameSpec{dst: gwMAC, src: hostA}), f.acc1, "pass_router_mac"},
		{"unmapped VLAN", buildFrame(t, frameSpec{dst: hostB, src: hostA, vlans: []uint16{99}}), f.acc1, "pass_no_bd"},
		{"not a port", buildFrame(t, frameSpec{dst: hostB, src: hostA}), f.peer, "pass_not_port"},
		{"underlay IP traffic", buildFrame(t, frameSpec{dst: upMAC, src: routerMAC}), f.up, "pass_not_vxlan"},
		{"unknown VTEP", vxlanFrame(t, netip.MustParseAddr("192.0.2.99"), localVTEP4, bdA, inner), f.up, "pass_unknown_vtep"},
		{"not our address", vxlanFrame(t, vtep(1), netip.MustParseAddr("192.0.2.98"), bdA, inner), f.up, "pass_not_local_vtep"},
		{"unknown VNI", vxlanFrame(t, vtep(1), localVTEP4, 4242, inner), f.up, "pass_unknown_vni"},
		{"inner broadcast", vxlanFrame(t, vtep(1), localVTEP4, bdA, buildFrame(t, frameSpec{dst: bcast, src: hostR})), f.up, "pass_decap_bum"},
		{"inner unknown", vxlanFrame(t, vtep(1), localVTEP4, bdA, buildFrame(t, frameSpec{dst: mac(0x77), src: hostR})), f.up, "pass_decap_unknown"},
		{"inner router MAC", vxlanFrame(t, vtep(1), localVTEP4, bdA, buildFrame(t, frameSpec{dst: gwMAC, src: hostR})), f.up, "pass_decap_router"},
	}
	frag := vxlanFrame(t, vtep(1), localVTEP4, bdA, inner)
	binary.BigEndian.PutUint16(frag[20:], 0x2000) // MF
	cases = append(cases, struct {
		name    string
		frame   []byte
		ingress uint32
		reason  string
	}{"outer fragment", frag, f.up, "pass_fragment"})
	ext := vxlanFrame(t, vtep(5), localVTEP6, bdA, inner)
	ext[20] = 0 // hop-by-hop: fwd does not walk extension headers
	cases = append(cases, struct {
		name    string
		frame   []byte
		ingress uint32
		reason  string
	}{"IPv6 extension header", ext, f.up, "pass_ipv6_ext"})
	port := vxlanFrame(t, vtep(1), localVTEP4, bdA, inner)
	binary.BigEndian.PutUint16(port[36:], 4790)
	cases = append(cases, struct {
		name    string
		frame   []byte
		ingress uint32
		reason  string
	}{"other UDP port", port, f.up, "pass_not_vxlan"})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, _ := f.check(t, c.frame, c.ingress, expect{action: ActionPass, reason: c.reason})
			if string(res.Frame) != string(c.frame) {
				t.Fatalf("a passed frame must reach the kernel untouched")
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	f := newFixture(t)
	good := buildFrame(t, frameSpec{dst: hostB, src: hostA})
	cases := []struct {
		name    string
		frame   []byte
		ingress uint32
		reason  string
		extra   map[string]uint64
	}{
		{"bare headers", good[:14], f.acc1, "tx_local", nil},
		{"cut VLAN tag", buildFrame(t, frameSpec{dst: hostB, src: hostA, vlans: []uint16{10}})[:16], f.acc2, "drop_truncated", nil},
		{"cut inner VLAN tag", buildFrame(t, frameSpec{dst: hostB, src: hostA, vlans: []uint16{20, 30}})[:20], f.acc2, "drop_truncated", nil},
		{"three tags", buildFrame(t, frameSpec{dst: hostB, src: hostA, vlans: []uint16{10, 20, 30}}), f.acc2, "drop_vlan_depth", nil},
		{"multicast source", buildFrame(t, frameSpec{dst: hostB, src: [6]byte{0x01, 0, 0x5e, 0, 0, 9}}), f.acc1, "drop_src_mcast", nil},
	}
	badFlags := vxlanFrame(t, vtep(1), localVTEP4, bdA, buildFrame(t, frameSpec{dst: hostA, src: hostR}))
	badFlags[42] = 0x00
	cases = append(cases, struct {
		name    string
		frame   []byte
		ingress uint32
		reason  string
		extra   map[string]uint64
	}{"VXLAN I flag clear", badFlags, f.up, "drop_vxlan_flags", nil})
	tagged := vxlanFrame(t, vtep(1), localVTEP4, bdA, buildFrame(t, frameSpec{dst: hostA, src: hostR, vlans: []uint16{10}}))
	cases = append(cases, struct {
		name    string
		frame   []byte
		ingress uint32
		reason  string
		extra   map[string]uint64
	}{"tagged inner frame", tagged, f.up, "drop_inner_tagged", nil})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := expect{action: ActionDrop, reason: c.reason, extra: c.extra}
			if c.reason == "tx_local" {
				want.action = ActionRedirect
			}
			f.check(t, c.frame, c.ingress, want)
		})
	}
	// Shorter than an Ethernet header: no driver hands XDP such a frame and
	// BPF_PROG_RUN refuses it; the program would drop it (drop_runt).
	f.must(f.ns.Do(func() error {
		for n := 0; n < 14; n++ {
			if _, err := f.d.Run(good[:n], f.acc1); err == nil {
				return fmt.Errorf("BPF_PROG_RUN took a %d-byte frame", n)
			}
		}
		return nil
	}))
}

// TestTruncatedEverywhere cuts encapsulated frames at every length up to the
// end of the inner Ethernet header: each cut gets the documented action, and
// no cut is ever forwarded.
func TestTruncatedEverywhere(t *testing.T) {
	f := newFixture(t)
	inner := buildFrame(t, frameSpec{dst: hostA, src: hostR})
	for _, v6 := range []bool{false, true} {
		src, dst, ip := vtep(1), localVTEP4, 20
		if v6 {
			src, dst, ip = vtep(5), localVTEP6, 40
		}
		full := vxlanFrame(t, src, dst, bdA, inner)
		udpEnd := 14 + ip + 8
		for n := 14; n < udpEnd+8+14; n++ {
			var want expect
			switch {
			case n < udpEnd:
				want = expect{action: ActionPass, reason: "pass_truncated"}
			default:
				want = expect{action: ActionDrop, reason: "drop_truncated"}
			}
			t.Run(fmt.Sprintf("v6=%v/len=%d", v6, n), func(t *testing.T) {
				f.check(t, full[:n], f.up, want)
			})
		}
	}
	// Access side: a cut frame that still has its MACs and tags forwards as
	// L2 (the payload is not ours to judge); shorter cuts are dropped.
	tagged := buildFrame(t, frameSpec{dst: hostA, src: hostB, vlans: []uint16{20, 30}})
	f.fdb(bdB, hostA, FDBLocal, f.acc1, 0)
	f.must(f.d.SetVLAN(f.acc1, Tags{Outer: 5}, bdB))
	f.fdb(bdB, hostB, FDBLocal, f.acc2, 0)
	for n := 14; n < 22; n++ {
		f.check(t, tagged[:n], f.acc2, expect{action: ActionDrop, reason: "drop_truncated"})
	}
	f.check(t, tagged[:22], f.acc2, expect{action: ActionRedirect, reason: "tx_local", egress: f.acc1})
}

func TestLearn(t *testing.T) {
	f := newFixture(t)
	lr, err := f.d.LearnReader()
	f.must(err)
	defer lr.Close()
	read := func() LearnEvent {
		t.Helper()
		lr.SetDeadline(time.Now().Add(2 * time.Second))
		ev, err := lr.Read()
		f.must(err)
		return ev
	}

	newMAC := mac(0x55)
	f.check(t, buildFrame(t, frameSpec{dst: hostB, src: newMAC}), f.acc1,
		expect{action: ActionRedirect, reason: "tx_local", extra: map[string]uint64{"learn_event": 1}})
	ev := read()
	if ev.BD != bdA || ev.Ifindex != f.acc1 || [6]byte(ev.MAC) != newMAC || ev.OldKind != 0 {
		t.Fatalf("new MAC event %+v", ev)
	}

	// hostB moves from acc2 to acc1 (tagged arrival on acc2 becomes untagged on acc1).
	f.check(t, buildFrame(t, frameSpec{dst: hostA, src: hostB}), f.acc1,
		expect{action: ActionDrop, reason: "drop_hairpin", extra: map[string]uint64{"learn_event": 1}})
	ev = read()
	if ev.OldKind != FDBLocal || ev.OldRef != f.acc2 || [6]byte(ev.MAC) != hostB {
		t.Fatalf("moved MAC event %+v", ev)
	}

	// On the ES port a MAC already on the ES is known: no event.
	f.check(t, buildFrame(t, frameSpec{dst: hostA, src: hostE}), f.esp, expect{action: ActionRedirect, reason: "tx_local"})

	// A sticky MAC never moves: frames claiming it elsewhere are dropped.
	f.fdb(bdA, mac(0x56), FDBLocal, f.acc2, FDBSticky)
	f.check(t, buildFrame(t, frameSpec{dst: hostB, src: mac(0x56)}), f.acc1, expect{action: ActionDrop, reason: "drop_sticky"})

	// The rate limit: burst 100 per CPU; 300 new MACs give at most 100 events
	// plus what refills meanwhile, and the rest are counted.
	before, err := f.d.Counters()
	f.must(err)
	f.must(f.ns.Do(func() error {
		for i := 0; i < 300; i++ {
			m := [6]byte{0x02, 0xbb, 0, 0, byte(i >> 8), byte(i)}
			if _, err := f.d.Run(buildFrame(t, frameSpec{dst: hostB, src: m}), f.acc1); err != nil {
				return err
			}
		}
		return nil
	}))
	after, err := f.d.Counters()
	f.must(err)
	events := after["learn_event"] - before["learn_event"]
	limited := after["learn_rate_limited"] - before["learn_rate_limited"]
	if events+limited != 300 || limited == 0 || events > 200 {
		t.Fatalf("300 new MACs: %d events, %d rate limited", events, limited)
	}
	t.Logf("300 new MACs: %d events, %d rate limited", events, limited)
	for i := uint64(0); i < events; i++ {
		read()
	}
	lr.SetDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := lr.Read(); !errors.Is(err, ErrTimeout) {
		t.Fatalf("more events than counted: %v", err)
	}
}

func TestMisconfigured(t *testing.T) {
	f := newFixture(t)
	// A local entry on a port that has no tags for the BD.
	f.fdb(bdB, hostA, FDBLocal, f.esp, 0)
	f.fdb(bdB, hostB, FDBLocal, f.acc2, 0)
	f.check(t, buildFrame(t, frameSpec{dst: hostA, src: hostB, vlans: []uint16{20, 30}}), f.acc2,
		expect{action: ActionDrop, reason: "drop_no_egress_tags"})
	// A local entry on an interface that is not a fwd port.
	f.fdb(bdA, mac(0x60), FDBLocal, f.peer, 0)
	f.must(f.d.SetVLAN(f.peer, Tags{}, bdA))
	f.check(t, buildFrame(t, frameSpec{dst: mac(0x60), src: hostA}), f.acc1,
		expect{action: ActionDrop, reason: "drop_no_tx_port"})
}

// TestLearnRingFull fills the learn ring without reading it: the events that
// do not fit are counted, and forwarding goes on.
func TestLearnRingFull(t *testing.T) {
	f := newFixture(t)
	f.must(f.d.SetConfig(Config{VXLANPort: 4789, TTL: 64, LearnRate: 1 << 30, LearnBurst: 1 << 20}))
	// To the ES port, untagged: the program leaves the buffer as it was, so
	// every repeat sees the same frame.
	frame := buildFrame(t, frameSpec{dst: hostE, src: mac(0x61)})
	const runs = 40000 // 1 MiB ring / 40-byte records holds about 26k
	before, err := f.d.Counters()
	f.must(err)
	f.must(f.ns.Do(func() error {
		ctx := xdpMD{DataEnd: uint32(len(frame)), IngressIfindex: f.acc1}
		_, err := f.d.objs.FwdXdp.Run(&ebpf.RunOptions{Data: frame, Context: &ctx, Repeat: runs})
		return err
	}))
	after, err := f.d.Counters()
	f.must(err)
	ev, full := after["learn_event"]-before["learn_event"], after["learn_ringbuf_full"]-before["learn_ringbuf_full"]
	if ev+full != runs || full == 0 || after["tx_es_local"]-before["tx_es_local"] != runs {
		t.Fatalf("%d runs: %d events, %d lost to a full ring, %d forwarded", runs, ev, full, after["tx_es_local"]-before["tx_es_local"])
	}
	t.Logf("%d runs: %d events, %d counted as ring full", runs, ev, full)
}
