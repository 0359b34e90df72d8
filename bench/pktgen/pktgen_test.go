package pktgen

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

var base = Flow{
	SrcMAC: [6]byte{2, 0, 0, 0, 0, 1}, DstMAC: [6]byte{2, 0, 0, 0, 0, 2},
	Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
	SrcPort: 1000, DstPort: 9,
}

func TestBuildSizes(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		for _, proto := range []layers.IPProtocol{UDP, TCP} {
			for _, vlans := range [][]uint16{nil, {10}, {20, 30}} {
				for _, size := range []int{64, 128, 512, 1518, 9018} {
					f := base
					f.VLANs, f.Proto = vlans, proto
					if v6 {
						f.Src, f.Dst = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
					}
					if spec := (Spec{Flow: f, Size: size}); spec.headerLen() > size-FCSLen {
						if _, err := Build(spec); !errors.Is(err, ErrSpec) {
							t.Fatalf("headers larger than the frame: %v, want ErrSpec", err)
						}
						continue
					}
					b, err := Build(Spec{Flow: f, Size: size})
					if err != nil {
						t.Fatalf("v6=%v %s vlans=%v size=%d: %v", v6, proto, vlans, size, err)
					}
					if len(b) != size-FCSLen {
						t.Fatalf("size %d built %d bytes", size, len(b))
					}
					p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
					if el := p.ErrorLayer(); el != nil {
						t.Fatal(el.Error())
					}
					if n := len(p.Layers()); n < 3+len(vlans) {
						t.Fatalf("decoded %d layers", n)
					}
					if p.Layer(layers.LayerTypeDot1Q) == nil != (len(vlans) == 0) {
						t.Fatal("VLAN tags not as asked")
					}
					o := Spec{Flow: f, Size: size}.Offsets()
					if got := uint16(b[o.SrcPort])<<8 | uint16(b[o.SrcPort+1]); got != f.SrcPort {
						t.Fatalf("source port at offset %d is %d", o.SrcPort, got)
					}
				}
			}
		}
	}
}

func TestBuildErrors(t *testing.T) {
	bad := []Spec{
		{Flow: Flow{Src: base.Src, Dst: netip.MustParseAddr("2001:db8::1")}},
		{Flow: Flow{Src: base.Src, Dst: base.Dst, VLANs: []uint16{1, 2, 3}}},
		{Flow: Flow{Src: base.Src, Dst: base.Dst, VLANs: []uint16{4095}}},
		{Flow: base, Size: 63},
		{Flow: base, Size: 9019},
		{Flow: Flow{Src: base.Src, Dst: base.Dst, Proto: layers.IPProtocolICMPv4}},
	}
	for i, s := range bad {
		if _, err := Build(s); !errors.Is(err, ErrSpec) {
			t.Errorf("spec %d: %v, want ErrSpec", i, err)
		}
	}
}

func TestEncap(t *testing.T) {
	inner, err := Build(Spec{Flow: base, Size: 128})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"192.0.2.1", "2001:db8::1"} {
		dst := "192.0.2.2"
		if src[0] == '2' {
			dst = "2001:db8::2"
		}
		b, err := Encap(VXLAN{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), VNI: 100}, inner)
		if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
		vx, _ := p.Layer(layers.LayerTypeVXLAN).(*layers.VXLAN)
		if vx == nil || vx.VNI != 100 || !bytes.Equal(vx.Payload, inner) {
			t.Fatalf("%s: VXLAN layer %+v", src, vx)
		}
	}
}

func TestFlows(t *testing.T) {
	fl := Flows(base, 1000, 10)
	macs := map[[6]byte]bool{}
	tuples := map[uint16]bool{}
	for _, f := range fl {
		macs[f.DstMAC] = true
		tuples[f.SrcPort] = true
	}
	if len(macs) != 10 || len(tuples) != 1000 {
		t.Fatalf("%d MACs, %d 5-tuples", len(macs), len(tuples))
	}
	if got := AddMAC([6]byte{0, 0, 0, 0, 0xff, 0xff}, 1); got != [6]byte{0, 0, 0, 1, 0, 0} {
		t.Fatalf("AddMAC carry: %x", got)
	}
}

func TestWritePcap(t *testing.T) {
	var frames [][]byte
	for _, f := range Flows(base, 3, 3) {
		b, err := Build(Spec{Flow: f})
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, b)
	}
	var buf bytes.Buffer
	if err := WritePcap(&buf, time.Unix(0, 0), frames); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		data, _, err := r.ReadPacketData()
		if err != nil || !bytes.Equal(data, frames[i]) {
			t.Fatalf("frame %d read back %x, %v", i, data, err)
		}
	}
}
