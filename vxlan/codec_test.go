package vxlan_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/fwdplane/fwd/vxlan"
)

func outer4() vxlan.Outer {
	return vxlan.Outer{
		SrcMAC:       [6]byte{0x02, 0, 0, 0, 0, 0x01},
		DstMAC:       [6]byte{0x02, 0, 0, 0, 0, 0x02},
		Src:          netip.MustParseAddr("192.0.2.1"),
		Dst:          netip.MustParseAddr("198.51.100.7"),
		SrcPort:      vxlan.FlowSrcPort(0xDEADBEEF),
		DstPort:      vxlan.Port,
		VNI:          0xABCDEF,
		TTL:          17,
		TOS:          0xB8,
		DontFragment: true,
	}
}

func outer6() vxlan.Outer {
	return vxlan.Outer{
		SrcMAC:    [6]byte{0x02, 0, 0, 0, 0, 0x03},
		DstMAC:    [6]byte{0x02, 0, 0, 0, 0, 0x04},
		Src:       netip.MustParseAddr("2001:db8::1"),
		Dst:       netip.MustParseAddr("2001:db8:ffff::2"),
		SrcPort:   vxlan.FlowSrcPort(0x12345678),
		DstPort:   vxlan.Port,
		VNI:       100,
		TTL:       255,
		TOS:       0x2E,
		FlowLabel: vxlan.FlowLabel(0x12345678),
	}
}

// innerFrame returns an Ethernet frame of n >= 14 bytes with a local
// experimental EtherType.
func innerFrame(n int) []byte {
	b := make([]byte, n)
	copy(b, []byte{0x02, 0, 0, 0, 0xAA, 0xAA, 0x02, 0, 0, 0, 0xBB, 0xBB, 0x88, 0xB5})
	for i := 14; i < n; i++ {
		b[i] = byte(i)
	}
	return b
}

// mustEncap returns o's headers followed by inner.
func mustEncap(tb testing.TB, o vxlan.Outer, inner []byte) []byte {
	tb.Helper()
	frame, err := vxlan.Encap(nil, &o, inner)
	if err != nil {
		tb.Fatalf("encap %+v: %v", o, err)
	}
	return frame
}

// mustDecode decodes frame and returns its outer headers and inner frame.
func mustDecode(tb testing.TB, frame []byte) (vxlan.Outer, []byte) {
	tb.Helper()
	var o vxlan.Outer
	inner, err := vxlan.Decode(frame, &o)
	if err != nil {
		tb.Fatalf("decode % x: %v", frame, err)
	}
	return o, inner
}

// normalized returns o as it reads back after encoding: TTL 0 becomes 64 and
// each family drops the other's fields.
func normalized(o vxlan.Outer) vxlan.Outer {
	if o.TTL == 0 {
		o.TTL = 64
	}
	if o.Src.Is6() {
		o.DontFragment = false
	} else {
		o.FlowLabel = 0
	}
	return o
}

func TestRoundTrip(t *testing.T) {
	mapped := outer6()
	mapped.Src = netip.MustParseAddr("::ffff:192.0.2.1")
	mapped.Dst = netip.MustParseAddr("::ffff:192.0.2.2")
	defaults4 := outer4()
	defaults4.TTL, defaults4.TOS, defaults4.DontFragment = 0, 0, false
	defaults4.FlowLabel = 0xFFFFF // ignored for IPv4
	defaults6 := outer6()
	defaults6.TTL, defaults6.TOS, defaults6.FlowLabel = 0, 0, 0
	defaults6.DontFragment = true // ignored for IPv6
	maxVNI := outer4()
	maxVNI.VNI = vxlan.MaxVNI
	zeroVNI := outer6()
	zeroVNI.VNI = 0

	for _, tc := range []struct {
		name  string
		o     vxlan.Outer
		inner int
		len   int
	}{
		{"IPv4", outer4(), 64, vxlan.EncapLenIPv4},
		{"IPv6", outer6(), 1500, vxlan.EncapLenIPv6},
		{"IPv4/defaults", defaults4, 14, vxlan.EncapLenIPv4},
		{"IPv6/defaults", defaults6, 14, vxlan.EncapLenIPv6},
		{"IPv6/v4-mapped", mapped, 60, vxlan.EncapLenIPv6},
		{"IPv4/max-vni", maxVNI, 9000, vxlan.EncapLenIPv4},
		{"IPv6/zero-vni", zeroVNI, 0, vxlan.EncapLenIPv6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.o.Len(); got != tc.len {
				t.Fatalf("Len() = %d, want %d", got, tc.len)
			}
			inner := innerFrame(max(tc.inner, 14))[:tc.inner]
			frame := mustEncap(t, tc.o, inner)
			if len(frame) != tc.len+tc.inner {
				t.Fatalf("frame is %d bytes, want %d", len(frame), tc.len+tc.inner)
			}
			got, gotInner := mustDecode(t, frame)
			if want := normalized(tc.o); got != want {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
			}
			if !bytes.Equal(gotInner, inner) {
				t.Errorf("inner frame differs")
			}
			if !canonical(frame, &got, gotInner) {
				t.Errorf("canonical() = false for a frame Encap wrote")
			}
			if cap(gotInner) != len(gotInner) {
				t.Errorf("inner frame has capacity %d beyond its length %d", cap(gotInner), len(gotInner))
			}

			// Encode into a larger buffer writes exactly Len() bytes.
			buf := bytes.Repeat([]byte{0xEE}, tc.len+10)
			n, err := tc.o.Encode(buf, tc.inner)
			if err != nil || n != tc.len {
				t.Fatalf("Encode = %d, %v, want %d", n, err, tc.len)
			}
			if !bytes.Equal(buf[:n], frame[:n]) {
				t.Errorf("Encode and Encap headers differ")
			}
			if !bytes.Equal(buf[n:], bytes.Repeat([]byte{0xEE}, 10)) {
				t.Errorf("Encode wrote past Len()")
			}
		})
	}
}

func TestEncodeShortBuffer(t *testing.T) {
	for _, o := range []vxlan.Outer{outer4(), outer6()} {
		n, err := o.Encode(make([]byte, o.Len()-1), 0)
		if !errors.Is(err, vxlan.ErrShort) || n != 0 {
			t.Errorf("%v: Encode into %d bytes = %d, %v, want ErrShort", o.Src, o.Len()-1, n, err)
		}
	}
}

func TestValidate(t *testing.T) {
	mod := func(base vxlan.Outer, f func(*vxlan.Outer)) vxlan.Outer {
		f(&base)
		return base
	}
	for _, tc := range []struct {
		name string
		o    vxlan.Outer
		want error
	}{
		{"IPv4", outer4(), nil},
		{"IPv6", outer6(), nil},
		{"vni", mod(outer4(), func(o *vxlan.Outer) { o.VNI = vxlan.MaxVNI + 1 }), vxlan.ErrVNI},
		{"no-src", mod(outer4(), func(o *vxlan.Outer) { o.Src = netip.Addr{} }), vxlan.ErrFamily},
		{"no-dst", mod(outer6(), func(o *vxlan.Outer) { o.Dst = netip.Addr{} }), vxlan.ErrFamily},
		{"mixed-4-6", mod(outer4(), func(o *vxlan.Outer) { o.Dst = netip.MustParseAddr("2001:db8::1") }), vxlan.ErrFamily},
		{"mixed-6-4", mod(outer6(), func(o *vxlan.Outer) { o.Dst = netip.MustParseAddr("192.0.2.1") }), vxlan.ErrFamily},
		{"zone", mod(outer6(), func(o *vxlan.Outer) { o.Src = netip.MustParseAddr("fe80::1%eth0") }), vxlan.ErrFamily},
		{"src-port", mod(outer4(), func(o *vxlan.Outer) { o.SrcPort = 0 }), vxlan.ErrPort},
		{"dst-port", mod(outer6(), func(o *vxlan.Outer) { o.DstPort = 0 }), vxlan.ErrPort},
		{"flow-label", mod(outer6(), func(o *vxlan.Outer) { o.FlowLabel = 1 << 20 }), vxlan.ErrFlowLabel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Validate() = %v, want %v", err, tc.want)
			}
			if tc.want == nil {
				return
			}
			if n, err := tc.o.Encode(make([]byte, 128), 14); !errors.Is(err, tc.want) || n != 0 {
				t.Errorf("Encode = %d, %v, want %v", n, err, tc.want)
			}
			dst := []byte{1, 2, 3}
			out, err := vxlan.Encap(dst, &tc.o, innerFrame(14))
			if !errors.Is(err, tc.want) || !bytes.Equal(out, dst) {
				t.Errorf("Encap = % x, %v, want dst unchanged and %v", out, err, tc.want)
			}
		})
	}
}

func TestInnerLength(t *testing.T) {
	for _, tc := range []struct {
		o   vxlan.Outer
		max int // the largest inner frame the 16-bit length fields allow
	}{
		{outer4(), 0xFFFF - 20 - 8 - 8},
		{outer6(), 0xFFFF - 8 - 8},
	} {
		buf := make([]byte, tc.o.Len())
		if _, err := tc.o.Encode(buf, tc.max); err != nil {
			t.Errorf("%v: Encode(%d) = %v", tc.o.Src, tc.max, err)
		}
		for _, n := range []int{-1, tc.max + 1} {
			if _, err := tc.o.Encode(buf, n); !errors.Is(err, vxlan.ErrLength) {
				t.Errorf("%v: Encode(%d) = %v, want ErrLength", tc.o.Src, n, err)
			}
		}
		frame := mustEncap(t, tc.o, innerFrame(tc.max))
		if _, inner := mustDecode(t, frame); len(inner) != tc.max {
			t.Errorf("%v: decoded %d inner bytes, want %d", tc.o.Src, len(inner), tc.max)
		}
	}
}

func TestEncapAppends(t *testing.T) {
	o := outer4()
	inner := innerFrame(60)
	prefix := []byte("prefix")

	// Without spare capacity Encap grows a copy and keeps the prefix.
	dst := prefix[:len(prefix):len(prefix)]
	out, err := vxlan.Encap(dst, &o, inner)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out[:len(prefix)], prefix) || !bytes.Equal(out[len(prefix):], mustEncap(t, o, inner)) {
		t.Errorf("Encap(prefix) = % x", out)
	}

	// With spare capacity Encap writes in place.
	dst = make([]byte, 3, 3+o.Len()+len(inner))
	out, err = vxlan.Encap(dst, &o, inner)
	if err != nil {
		t.Fatal(err)
	}
	if &out[0] != &dst[0] {
		t.Errorf("Encap reallocated although dst had the capacity")
	}
}

// TestGopacketDecodes checks the frames Encode writes field by field against
// gopacket's decoders.
func TestGopacketDecodes(t *testing.T) {
	for _, o := range []vxlan.Outer{outer4(), outer6()} {
		t.Run(fmt.Sprint(o.Src), func(t *testing.T) {
			inner := innerFrame(100)
			frame := mustEncap(t, o, inner)
			p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
			// gopacket fails only on the inner frame's experimental
			// EtherType, after the last layer this test looks at.
			if el := p.ErrorLayer(); el != nil && p.Layer(layers.LayerTypeVXLAN) == nil {
				t.Fatalf("gopacket: %v", el.Error())
			}

			eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
			if eth == nil {
				t.Fatalf("no Ethernet layer in %v", p)
			}
			if !bytes.Equal(eth.SrcMAC, o.SrcMAC[:]) || !bytes.Equal(eth.DstMAC, o.DstMAC[:]) {
				t.Errorf("MACs %v -> %v, want %x -> %x", eth.SrcMAC, eth.DstMAC, o.SrcMAC, o.DstMAC)
			}

			if o.Src.Is4() {
				if eth.EthernetType != layers.EthernetTypeIPv4 {
					t.Errorf("EtherType %v, want IPv4", eth.EthernetType)
				}
				ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				if ip == nil {
					t.Fatalf("no IPv4 layer in %v", p)
				}
				checkIPv4(t, ip, o, len(inner))
			} else {
				if eth.EthernetType != layers.EthernetTypeIPv6 {
					t.Errorf("EtherType %v, want IPv6", eth.EthernetType)
				}
				ip, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
				if ip == nil {
					t.Fatalf("no IPv6 layer in %v", p)
				}
				checkIPv6(t, ip, o, len(inner))
			}

			udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if udp == nil {
				t.Fatalf("no UDP layer in %v", p)
			}
			if uint16(udp.SrcPort) != o.SrcPort || uint16(udp.DstPort) != o.DstPort {
				t.Errorf("UDP ports %d -> %d, want %d -> %d", udp.SrcPort, udp.DstPort, o.SrcPort, o.DstPort)
			}
			if want := 8 + 8 + len(inner); int(udp.Length) != want {
				t.Errorf("UDP length %d, want %d", udp.Length, want)
			}
			if udp.Checksum != 0 {
				t.Errorf("UDP checksum %#04x, want 0", udp.Checksum)
			}

			vx, _ := p.Layer(layers.LayerTypeVXLAN).(*layers.VXLAN)
			if vx == nil {
				t.Fatalf("no VXLAN layer in %v", p)
			}
			if !vx.ValidIDFlag || vx.GBPExtension || vx.GBPDontLearn || vx.GBPApplied || vx.GBPGroupPolicyID != 0 {
				t.Errorf("VXLAN flags %+v, want only I", vx)
			}
			if vx.VNI != o.VNI {
				t.Errorf("VNI %d, want %d", vx.VNI, o.VNI)
			}
			if !bytes.Equal(vx.Payload, inner) {
				t.Errorf("VXLAN payload differs from the inner frame")
			}
		})
	}
}

func checkIPv4(t *testing.T, ip *layers.IPv4, o vxlan.Outer, innerLen int) {
	t.Helper()
	if ip.Version != 4 || ip.IHL != 5 || len(ip.Options) != 0 {
		t.Errorf("version %d IHL %d options %v, want 4, 5, none", ip.Version, ip.IHL, ip.Options)
	}
	if ip.TOS != o.TOS {
		t.Errorf("TOS %#x, want %#x", ip.TOS, o.TOS)
	}
	if want := 20 + 8 + 8 + innerLen; int(ip.Length) != want {
		t.Errorf("total length %d, want %d", ip.Length, want)
	}
	if ip.Id != 0 {
		t.Errorf("ID %d, want 0", ip.Id)
	}
	wantFlags := layers.IPv4Flag(0)
	if o.DontFragment {
		wantFlags = layers.IPv4DontFragment
	}
	if ip.Flags != wantFlags || ip.FragOffset != 0 {
		t.Errorf("flags %v offset %d, want %v, 0", ip.Flags, ip.FragOffset, wantFlags)
	}
	if ip.TTL != o.TTL {
		t.Errorf("TTL %d, want %d", ip.TTL, o.TTL)
	}
	if ip.Protocol != layers.IPProtocolUDP {
		t.Errorf("protocol %v, want UDP", ip.Protocol)
	}
	if !ip.SrcIP.Equal(net.IP(o.Src.AsSlice())) || !ip.DstIP.Equal(net.IP(o.Dst.AsSlice())) {
		t.Errorf("addresses %v -> %v, want %v -> %v", ip.SrcIP, ip.DstIP, o.Src, o.Dst)
	}

	// Let gopacket compute the checksum of the same header.
	re := *ip
	buf := gopacket.NewSerializeBuffer()
	if err := re.SerializeTo(buf, gopacket.SerializeOptions{ComputeChecksums: true}); err != nil {
		t.Fatalf("gopacket serialize: %v", err)
	}
	hdr := buf.Bytes()
	if want := binary.BigEndian.Uint16(hdr[10:12]); ip.Checksum != want {
		t.Errorf("checksum %#04x, gopacket computes %#04x", ip.Checksum, want)
	}
	if !bytes.Equal(hdr, ip.Contents) {
		t.Errorf("gopacket re-serializes the header as % x, have % x", hdr, ip.Contents)
	}
	if !vxlan.VerifyIPv4Checksum(ip.Contents) {
		t.Errorf("VerifyIPv4Checksum(% x) = false", ip.Contents)
	}
}

func checkIPv6(t *testing.T, ip *layers.IPv6, o vxlan.Outer, innerLen int) {
	t.Helper()
	if ip.Version != 6 {
		t.Errorf("version %d, want 6", ip.Version)
	}
	if ip.TrafficClass != o.TOS {
		t.Errorf("traffic class %#x, want %#x", ip.TrafficClass, o.TOS)
	}
	if ip.FlowLabel != o.FlowLabel {
		t.Errorf("flow label %#x, want %#x", ip.FlowLabel, o.FlowLabel)
	}
	if want := 8 + 8 + innerLen; int(ip.Length) != want {
		t.Errorf("payload length %d, want %d", ip.Length, want)
	}
	if ip.NextHeader != layers.IPProtocolUDP {
		t.Errorf("next header %v, want UDP", ip.NextHeader)
	}
	if ip.HopLimit != o.TTL {
		t.Errorf("hop limit %d, want %d", ip.HopLimit, o.TTL)
	}
	if !ip.SrcIP.Equal(net.IP(o.Src.AsSlice())) || !ip.DstIP.Equal(net.IP(o.Dst.AsSlice())) {
		t.Errorf("addresses %v -> %v, want %v -> %v", ip.SrcIP, ip.DstIP, o.Src, o.Dst)
	}
}

// serialize builds a frame with gopacket: eth, then ip (IPv4 or IPv6), UDP
// from sport to dport, VXLAN with vni, and inner.
func serialize(tb testing.TB, eth *layers.Ethernet, ip gopacket.SerializableLayer, sport, dport uint16, vx *layers.VXLAN, inner []byte) []byte {
	tb.Helper()
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := udp.SetNetworkLayerForChecksum(ip.(gopacket.NetworkLayer)); err != nil {
		tb.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, udp, vx, gopacket.Payload(inner)); err != nil {
		tb.Fatalf("gopacket serialize: %v", err)
	}
	return buf.Bytes()
}

// TestDecodesGopacket decodes frames that gopacket builds, including IPv4
// options, non-zero IDs, UDP checksums and VXLAN group policy bits.
func TestDecodesGopacket(t *testing.T) {
	inner := innerFrame(80)
	smac, dmac := net.HardwareAddr{2, 0, 0, 0, 1, 1}, net.HardwareAddr{2, 0, 0, 0, 2, 2}
	eth4 := &layers.Ethernet{SrcMAC: smac, DstMAC: dmac, EthernetType: layers.EthernetTypeIPv4}
	eth6 := &layers.Ethernet{SrcMAC: smac, DstMAC: dmac, EthernetType: layers.EthernetTypeIPv6}
	src4, dst4 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	src6, dst6 := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
	want := vxlan.Outer{
		SrcMAC:  [6]byte(smac),
		DstMAC:  [6]byte(dmac),
		SrcPort: 0xC123,
		DstPort: vxlan.Port,
		VNI:     4242,
	}

	for _, tc := range []struct {
		name string
		eth  *layers.Ethernet
		ip   gopacket.SerializableLayer
		vx   *layers.VXLAN
		want func(o *vxlan.Outer)
	}{
		{
			name: "IPv4",
			eth:  eth4,
			ip: &layers.IPv4{Version: 4, TOS: 0x10, Id: 0x1234, Flags: layers.IPv4DontFragment, TTL: 9,
				Protocol: layers.IPProtocolUDP, SrcIP: src4.AsSlice(), DstIP: dst4.AsSlice()},
			vx: &layers.VXLAN{ValidIDFlag: true, VNI: 4242},
			want: func(o *vxlan.Outer) {
				o.Src, o.Dst, o.TOS, o.TTL, o.DontFragment = src4, dst4, 0x10, 9, true
			},
		},
		{
			name: "IPv4/options",
			eth:  eth4,
			ip: &layers.IPv4{Version: 4, TTL: 1, Protocol: layers.IPProtocolUDP,
				SrcIP: src4.AsSlice(), DstIP: dst4.AsSlice(),
				Options: []layers.IPv4Option{
					{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}},        // router alert
					{OptionType: 1, OptionLength: 1},                                    // NOP
					{OptionType: 7, OptionLength: 7, OptionData: []byte{4, 0, 0, 0, 0}}, // record route
				}},
			vx: &layers.VXLAN{ValidIDFlag: true, VNI: 4242},
			want: func(o *vxlan.Outer) {
				o.Src, o.Dst, o.TTL = src4, dst4, 1
			},
		},
		{
			name: "IPv6/group-policy",
			eth:  eth6,
			ip: &layers.IPv6{Version: 6, TrafficClass: 0xFC, FlowLabel: 0xABCDE, NextHeader: layers.IPProtocolUDP,
				HopLimit: 2, SrcIP: src6.AsSlice(), DstIP: dst6.AsSlice()},
			vx: &layers.VXLAN{ValidIDFlag: true, VNI: 4242, GBPExtension: true, GBPApplied: true, GBPGroupPolicyID: 77},
			want: func(o *vxlan.Outer) {
				o.Src, o.Dst, o.TOS, o.FlowLabel, o.TTL = src6, dst6, 0xFC, 0xABCDE, 2
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame := serialize(t, tc.eth, tc.ip, want.SrcPort, want.DstPort, tc.vx, inner)
			got, gotInner := mustDecode(t, frame)
			w := want
			tc.want(&w)
			if got != w {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, w)
			}
			if !bytes.Equal(gotInner, inner) {
				t.Errorf("inner frame differs")
			}
			if ip4, ok := tc.ip.(*layers.IPv4); ok {
				hl := int(frame[14]&0x0F) * 4
				if hl != 4*int(ip4.IHL) || !vxlan.VerifyIPv4Checksum(frame[14:14+hl]) {
					t.Errorf("IHL %d (gopacket %d): checksum valid %v", hl/4, ip4.IHL, vxlan.VerifyIPv4Checksum(frame[14:14+hl]))
				}
			}
		})
	}
}

// withOptions returns the IPv4 frame with opts (a multiple of 4 bytes) inserted
// after the fixed IPv4 header, lengths and checksum fixed.
func withOptions(frame, opts []byte) []byte {
	out := make([]byte, 0, len(frame)+len(opts))
	out = append(out, frame[:34]...)
	out = append(out, opts...)
	out = append(out, frame[34:]...)
	ip := out[14:]
	hl := 20 + len(opts)
	ip[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(ip[2:4], binary.BigEndian.Uint16(ip[2:4])+uint16(len(opts)))
	binary.BigEndian.PutUint16(ip[10:12], vxlan.IPv4Checksum(ip[:hl]))
	return out
}

func TestIPv4Options(t *testing.T) {
	o := outer4()
	inner := innerFrame(70)
	frame := mustEncap(t, o, inner)
	for _, n := range []int{4, 8, 40} {
		opts := bytes.Repeat([]byte{1}, n) // NOPs
		f := withOptions(frame, opts)
		if !vxlan.VerifyIPv4Checksum(f[14 : 34+n]) {
			t.Fatalf("options %d: bad test checksum", n)
		}
		got, gotInner := mustDecode(t, f)
		if got != o || !bytes.Equal(gotInner, inner) {
			t.Errorf("options %d: decoded %+v, inner equal %v", n, got, bytes.Equal(gotInner, inner))
		}
		for i := range len(f) {
			if _, err := vxlan.Decode(f[:i], new(vxlan.Outer)); !errors.Is(err, vxlan.ErrShort) {
				t.Errorf("options %d: Decode(%d of %d bytes) = %v, want ErrShort", n, i, len(f), err)
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	v4 := mustEncap(t, outer4(), innerFrame(64))
	v6 := mustEncap(t, outer6(), innerFrame(64))
	mod := func(frame []byte, f func(b []byte)) []byte {
		b := bytes.Clone(frame)
		f(b)
		return b
	}
	put16 := func(off int, v uint16) func([]byte) {
		return func(b []byte) { binary.BigEndian.PutUint16(b[off:], v) }
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		want  error
	}{
		{"empty", nil, vxlan.ErrShort},
		{"ethertype-arp", mod(v4, put16(12, 0x0806)), vxlan.ErrNotVXLAN},
		{"ethertype-vlan", mod(v4, put16(12, 0x8100)), vxlan.ErrNotVXLAN},
		{"ipv4/version-6", mod(v4, func(b []byte) { b[14] = 0x65 }), vxlan.ErrIPVersion},
		{"ipv4/ihl-4", mod(v4, func(b []byte) { b[14] = 0x44 }), vxlan.ErrIPHeader},
		{"ipv4/ihl-0", mod(v4, func(b []byte) { b[14] = 0x40 }), vxlan.ErrIPHeader},
		{"ipv4/ihl-past-total", mod(v4, func(b []byte) { b[14] = 0x4F; binary.BigEndian.PutUint16(b[16:], 40) }), vxlan.ErrIPHeader},
		{"ipv4/ihl-past-frame", mod(v4, func(b []byte) { b[14] = 0x4F })[:14+50], vxlan.ErrShort},
		{"ipv4/total-below-header", mod(v4, put16(16, 19)), vxlan.ErrIPHeader},
		{"ipv4/total-past-frame", mod(v4, put16(16, uint16(len(v4)-14+1))), vxlan.ErrShort},
		{"ipv4/tcp", mod(v4, func(b []byte) { b[23] = 6 }), vxlan.ErrNotVXLAN},
		{"ipv4/more-fragments", mod(v4, put16(20, 0x2000)), vxlan.ErrFragment},
		{"ipv4/offset", mod(v4, put16(20, 0x0001)), vxlan.ErrFragment},
		{"ipv4/df-offset", mod(v4, put16(20, 0x4000|0x1FFF)), vxlan.ErrFragment},
		{"ipv4/udp-length-7", mod(v4, put16(38, 7)), vxlan.ErrLength},
		{"ipv4/udp-length-8", mod(v4, put16(38, 8)), vxlan.ErrShort},
		{"ipv4/udp-length-15", mod(v4, put16(38, 15)), vxlan.ErrShort},
		{"ipv4/udp-past-ip", mod(v4, put16(38, uint16(len(v4)-34+1))), vxlan.ErrShort},
		{"ipv4/no-i-flag", mod(v4, func(b []byte) { b[42] = 0 }), vxlan.ErrFlags},
		{"ipv4/only-other-flags", mod(v4, func(b []byte) { b[42] = 0xF7 }), vxlan.ErrFlags},
		{"ipv6/version-4", mod(v6, func(b []byte) { b[14] = 0x40 }), vxlan.ErrIPVersion},
		{"ipv6/hop-by-hop", mod(v6, func(b []byte) { b[20] = 0 }), vxlan.ErrNotVXLAN},
		{"ipv6/fragment-header", mod(v6, func(b []byte) { b[20] = 44 }), vxlan.ErrNotVXLAN},
		{"ipv6/payload-past-frame", mod(v6, put16(18, uint16(len(v6)-54+1))), vxlan.ErrShort},
		{"ipv6/payload-0", mod(v6, put16(18, 0)), vxlan.ErrShort},
		{"ipv6/udp-length-0", mod(v6, put16(58, 0)), vxlan.ErrLength},
		{"ipv6/no-i-flag", mod(v6, func(b []byte) { b[62] = 0x80 }), vxlan.ErrFlags},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := outer6()
			before := o
			inner, err := vxlan.Decode(tc.frame, &o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v, want %v", err, tc.want)
			}
			if inner != nil || o != before {
				t.Errorf("Decode returned %d inner bytes and changed o on error", len(inner))
			}
		})
	}
}

// TestDecodeLenient checks what Decode accepts and ignores.
func TestDecodeLenient(t *testing.T) {
	o := outer4()
	inner := innerFrame(64)
	v4 := mustEncap(t, o, inner)

	// Ethernet padding after the IP packet.
	padded := append(bytes.Clone(v4), 0, 0, 0, 0)
	if got, gotInner := mustDecode(t, padded); got != o || !bytes.Equal(gotInner, inner) || cap(gotInner) != len(gotInner) {
		t.Errorf("padded frame: decoded %+v, inner %d bytes (cap %d)", got, len(gotInner), cap(gotInner))
	}

	// A UDP datagram shorter than the IP payload bounds the inner frame.
	short := bytes.Clone(v4)
	binary.BigEndian.PutUint16(short[38:], 8+8+20)
	if _, gotInner := mustDecode(t, short); !bytes.Equal(gotInner, inner[:20]) {
		t.Errorf("short UDP length: inner %d bytes, want 20", len(gotInner))
	}

	// Other VXLAN flags, reserved bits, the IP ID, a bad IPv4 checksum, a UDP
	// checksum and a non-VXLAN port are not Decode's business.
	odd := bytes.Clone(v4)
	odd[42] = 0xFF
	odd[43], odd[44], odd[45], odd[49] = 1, 2, 3, 4
	odd[18], odd[19] = 0xAB, 0xCD
	odd[24] ^= 0xFF
	odd[40], odd[41] = 0x12, 0x34
	binary.BigEndian.PutUint16(odd[36:], 8472)
	got, gotInner := mustDecode(t, odd)
	want := o
	want.DstPort = 8472
	if got != want || !bytes.Equal(gotInner, inner) {
		t.Errorf("decoded %+v, want %+v", got, want)
	}
	if vxlan.VerifyIPv4Checksum(odd[14:34]) {
		t.Errorf("VerifyIPv4Checksum accepted a corrupted header")
	}
}

func TestTruncation(t *testing.T) {
	for _, o := range []vxlan.Outer{outer4(), outer6()} {
		frame := mustEncap(t, o, innerFrame(20))
		for n := range len(frame) {
			var got vxlan.Outer
			inner, err := vxlan.Decode(frame[:n], &got)
			if !errors.Is(err, vxlan.ErrShort) || inner != nil || got != (vxlan.Outer{}) {
				t.Errorf("%v: Decode(%d of %d bytes) = %d bytes, %v, want ErrShort", o.Src, n, len(frame), len(inner), err)
			}
		}
	}
}

func TestIPv4Checksum(t *testing.T) {
	// The worked example from RFC 1071's usual illustration (Wikipedia).
	hdr := []byte{
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	}
	if got := vxlan.IPv4Checksum(hdr); got != 0xb861 {
		t.Errorf("IPv4Checksum = %#04x, want 0xb861", got)
	}
	if !vxlan.VerifyIPv4Checksum(hdr) {
		t.Errorf("VerifyIPv4Checksum = false, want true")
	}
	for i := range hdr {
		bad := bytes.Clone(hdr)
		bad[i] ^= 0x01
		if vxlan.VerifyIPv4Checksum(bad) {
			t.Errorf("VerifyIPv4Checksum accepts a flipped bit in byte %d", i)
		}
		if i != 10 && i != 11 && vxlan.IPv4Checksum(bad) == 0xb861 {
			t.Errorf("IPv4Checksum ignores byte %d", i)
		}
	}
	if vxlan.VerifyIPv4Checksum(hdr[:19]) || vxlan.VerifyIPv4Checksum(nil) {
		t.Errorf("VerifyIPv4Checksum accepts a short header")
	}

	// Headers with options (and odd lengths, which IPv4 never has) against a
	// word-at-a-time reference.
	ref := func(b []byte) uint16 {
		var sum uint32
		for i := 0; i < len(b); i += 2 {
			w := uint32(b[i]) << 8
			if i+1 < len(b) {
				w |= uint32(b[i+1])
			}
			if i != 10 {
				sum += w
			}
		}
		for sum > 0xFFFF {
			sum = sum&0xFFFF + sum>>16
		}
		return ^uint16(sum)
	}
	b := make([]byte, 60)
	x := uint32(1)
	for n := 20; n <= 60; n++ {
		for i := range b[:n] {
			x = x*1664525 + 1013904223
			b[i] = byte(x >> 24)
		}
		want := ref(b[:n])
		if got := vxlan.IPv4Checksum(b[:n]); got != want {
			t.Errorf("IPv4Checksum(% x) = %#04x, want %#04x", b[:n], got, want)
		}
		binary.BigEndian.PutUint16(b[10:], want)
		if n%2 == 0 && !vxlan.VerifyIPv4Checksum(b[:n]) {
			t.Errorf("VerifyIPv4Checksum(% x) = false", b[:n])
		}
	}
}

func TestFlowHash(t *testing.T) {
	for _, tc := range []struct {
		hash  uint32
		port  uint16
		label uint32
	}{
		{0, 0xC000, 0},
		{0xFFFFFFFF, 0xFFFF, 0xFFFFF},
		{1 << 18, 0xC001, 1 << 18},
		{1<<18 - 1, 0xC000, 1<<18 - 1},
		{0x12345678, 0xC000 | 0x12345678>>18, 0x45678},
	} {
		if got := vxlan.FlowSrcPort(tc.hash); got != tc.port {
			t.Errorf("FlowSrcPort(%#x) = %#x, want %#x", tc.hash, got, tc.port)
		}
		if got := vxlan.FlowLabel(tc.hash); got != tc.label {
			t.Errorf("FlowLabel(%#x) = %#x, want %#x", tc.hash, got, tc.label)
		}
	}
	for h := uint32(0); h < 1<<32-1<<24; h += 1<<24 - 7 {
		if p := vxlan.FlowSrcPort(h); p < vxlan.UDPSrcPortMin || p != 0xC000|uint16(h>>18) {
			t.Fatalf("FlowSrcPort(%#x) = %#x", h, p)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocation counts")
	}
	for _, o := range []vxlan.Outer{outer4(), outer6()} {
		t.Run(fmt.Sprint(o.Src), func(t *testing.T) {
			inner := innerFrame(1500)
			hdr := make([]byte, o.Len())
			dst := make([]byte, 0, o.Len()+len(inner))
			frame := mustEncap(t, o, inner)
			var got vxlan.Outer
			for _, tc := range []struct {
				name string
				f    func()
			}{
				{"Encode", func() {
					if _, err := o.Encode(hdr, len(inner)); err != nil {
						t.Fatal(err)
					}
				}},
				{"Encap", func() {
					if _, err := vxlan.Encap(dst[:0], &o, inner); err != nil {
						t.Fatal(err)
					}
				}},
				{"Decode", func() {
					if _, err := vxlan.Decode(frame, &got); err != nil {
						t.Fatal(err)
					}
				}},
			} {
				if n := testing.AllocsPerRun(1000, tc.f); n != 0 {
					t.Errorf("%s: %v allocations per run, want 0", tc.name, n)
				}
			}
		})
	}
}

// canonical reports whether frame is exactly what Encode writes for o and
// inner: no padding or IPv4 options, consistent lengths, and zero in every
// field Encode zeroes.
func canonical(frame []byte, o *vxlan.Outer, inner []byte) bool {
	if o.TTL == 0 || len(frame) != o.Len()+len(inner) {
		return false
	}
	l4 := 14 + 40
	if o.Src.Is4() {
		ip := frame[14:34]
		// IHL 5, ID 0, the reserved flag clear, a valid checksum.
		if ip[0] != 0x45 || ip[4] != 0 || ip[5] != 0 || ip[6]&0x80 != 0 || !vxlan.VerifyIPv4Checksum(ip) {
			return false
		}
		// Encode never writes 0xFFFF, the other form of a zero sum.
		if ip[10] == 0xFF && ip[11] == 0xFF {
			return false
		}
		l4 = 14 + 20
	}
	udp := frame[l4:]
	return udp[6] == 0 && udp[7] == 0 && // no UDP checksum
		udp[8] == vxlan.FlagI && udp[9] == 0 && udp[10] == 0 && udp[11] == 0 && udp[15] == 0
}

func FuzzDecode(f *testing.F) {
	o4, o6 := outer4(), outer6()
	v4 := mustEncap(f, o4, innerFrame(60))
	f.Add(v4)
	f.Add(mustEncap(f, o6, innerFrame(14)))
	f.Add(withOptions(v4, []byte{148, 4, 0, 0}))
	f.Add(v4[:40])
	frag := bytes.Clone(v4)
	frag[20] |= 0x20
	f.Add(frag)
	noFlag := bytes.Clone(v4)
	noFlag[42] = 0
	f.Add(noFlag)

	f.Fuzz(func(t *testing.T, frame []byte) {
		var o vxlan.Outer
		inner, err := vxlan.Decode(frame, &o)
		if err != nil {
			if inner != nil || o != (vxlan.Outer{}) {
				t.Fatalf("Decode failed (%v) but returned %d bytes or filled %+v", err, len(inner), o)
			}
			return
		}
		if o.VNI > vxlan.MaxVNI || o.FlowLabel > 0xFFFFF || (o.Src.Is4() != o.Dst.Is4()) {
			t.Fatalf("Decode returned an impossible %+v", o)
		}
		if o.Len()+len(inner) > len(frame) || (len(inner) > 0 && &inner[len(inner)-1] != &frame[o.Len()+len(inner)-1+optLen(frame)]) {
			t.Fatalf("inner frame is not where the headers end")
		}
		if o.Validate() != nil {
			return // zero ports: decodable, not encodable
		}

		// Re-encoding always decodes back to the same thing.
		re, err := vxlan.Encap(nil, &o, inner)
		if err != nil {
			t.Fatalf("Encap of decoded %+v: %v", o, err)
		}
		o2, inner2 := mustDecode(t, re)
		if o2 != normalized(o) || !bytes.Equal(inner2, inner) {
			t.Fatalf("re-encoded frame decodes to %+v, want %+v", o2, normalized(o))
		}

		// Canonical input is reproduced byte for byte.
		if canonical(frame, &o, inner) && !bytes.Equal(re, frame) {
			t.Fatalf("canonical frame\n% x\nre-encodes as\n% x", frame, re)
		}
	})
}

// optLen returns the length of the IPv4 options in a decoded frame.
func optLen(frame []byte) int {
	if binary.BigEndian.Uint16(frame[12:14]) != 0x0800 {
		return 0
	}
	return int(frame[14]&0x0F)*4 - 20
}

func BenchmarkEncode(b *testing.B) {
	for _, o := range []vxlan.Outer{outer4(), outer6()} {
		b.Run(family(o), func(b *testing.B) {
			hdr := make([]byte, o.Len())
			b.ReportAllocs()
			b.SetBytes(int64(len(hdr)))
			n := 0
			for b.Loop() {
				if _, err := o.Encode(hdr, 1500); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, o := range []vxlan.Outer{outer4(), outer6()} {
		b.Run(family(o), func(b *testing.B) {
			frame := mustEncap(b, o, innerFrame(1500))
			var got vxlan.Outer
			b.ReportAllocs()
			b.SetBytes(int64(o.Len()))
			n := 0
			for b.Loop() {
				if _, err := vxlan.Decode(frame, &got); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}

func family(o vxlan.Outer) string {
	if o.Src.Is6() {
		return "IPv6"
	}
	return "IPv4"
}

func ExampleEncap() {
	o := vxlan.Outer{
		Src:     netip.MustParseAddr("192.0.2.1"),
		Dst:     netip.MustParseAddr("192.0.2.2"),
		SrcPort: vxlan.FlowSrcPort(0x9E3779B9),
		DstPort: vxlan.Port,
		VNI:     10100,
	}
	inner := make([]byte, 60) // an inner Ethernet frame
	buf := make([]byte, 0, 2048)
	frame, err := vxlan.Encap(buf, &o, inner)
	if err != nil {
		panic(err)
	}

	var got vxlan.Outer
	payload, err := vxlan.Decode(frame, &got)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(frame), got.Src, got.Dst, got.SrcPort, got.DstPort, got.VNI, got.TTL, len(payload))
	// Output: 110 192.0.2.1 192.0.2.2 59277 4789 10100 64 60
}
