package pktgen

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Frame size limits, FCS included.
const (
	FCSLen       = 4
	MinFrameSize = 64
	MaxFrameSize = 1518 // untagged, 1500-byte MTU
	JumboSize    = 9018 // 9000-byte MTU
)

// L4 protocols a flow can carry.
const (
	UDP = layers.IPProtocolUDP
	TCP = layers.IPProtocolTCP
)

var (
	// ErrSpec reports a frame description that cannot be built.
	ErrSpec = errors.New("invalid frame spec")
)

// Flow is one conversation: its MACs, VLAN tags, addresses and ports.
type Flow struct {
	SrcMAC, DstMAC   [6]byte
	VLANs            []uint16 // outer first; at most two
	Src, Dst         netip.Addr
	Proto            layers.IPProtocol // UDP (default) or TCP
	SrcPort, DstPort uint16
}

// Spec is one frame to build: a flow at a size.
type Spec struct {
	Flow
	// Size is the frame's size on the wire with FCS (64-9018); 0 means 64.
	// The frame in memory is Size-4 bytes.
	Size int
}

// Offsets say where a built frame's variable fields are, so that a
// generator program can stamp many flows onto one template.
type Offsets struct {
	DstMAC  int // the destination MAC
	SrcPort int // the L4 source port
	Payload int // the first payload byte
}

func (s *Spec) validate() error {
	if len(s.VLANs) > 2 {
		return fmt.Errorf("%d VLAN tags, at most 2: %w", len(s.VLANs), ErrSpec)
	}
	for _, v := range s.VLANs {
		if v == 0 || v > 4094 {
			return fmt.Errorf("VLAN %d out of 1-4094: %w", v, ErrSpec)
		}
	}
	if !s.Src.IsValid() || !s.Dst.IsValid() || s.Src.Is4() != s.Dst.Is4() {
		return fmt.Errorf("addresses %s -> %s: want both IPv4 or both IPv6: %w", s.Src, s.Dst, ErrSpec)
	}
	if s.Proto != 0 && s.Proto != UDP && s.Proto != TCP {
		return fmt.Errorf("protocol %s: want UDP or TCP: %w", s.Proto, ErrSpec)
	}
	size := s.Size
	if size == 0 {
		size = MinFrameSize
	}
	if size < MinFrameSize || size > JumboSize {
		return fmt.Errorf("size %d: want %d-%d bytes: %w", size, MinFrameSize, JumboSize, ErrSpec)
	}
	if size-FCSLen < s.headerLen() {
		return fmt.Errorf("size %d: headers alone take %d bytes: %w", size, s.headerLen()+FCSLen, ErrSpec)
	}
	return nil
}

func (s *Spec) l3Off() int { return 14 + 4*len(s.VLANs) }

func (s *Spec) l4Off() int {
	if s.Src.Is4() {
		return s.l3Off() + 20
	}
	return s.l3Off() + 40
}

func (s *Spec) headerLen() int {
	if s.Proto == TCP {
		return s.l4Off() + 20
	}
	return s.l4Off() + 8
}

// Offsets returns where the spec's variable fields land in the built frame.
func (s Spec) Offsets() Offsets {
	return Offsets{DstMAC: 0, SrcPort: s.l4Off(), Payload: s.headerLen()}
}

// Build returns the frame, checksums and lengths filled in. The payload is
// a counting byte pattern.
func Build(s Spec) ([]byte, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	size := s.Size
	if size == 0 {
		size = MinFrameSize
	}
	ipType := layers.EthernetTypeIPv4
	if s.Src.Is6() {
		ipType = layers.EthernetTypeIPv6
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr(s.SrcMAC[:]), DstMAC: net.HardwareAddr(s.DstMAC[:]), EthernetType: ipType}
	ls := []gopacket.SerializableLayer{eth}
	for i, v := range s.VLANs {
		tpid, next := layers.EthernetTypeDot1Q, ipType
		if i == 0 && len(s.VLANs) == 2 {
			tpid = layers.EthernetTypeQinQ
		}
		if i+1 < len(s.VLANs) {
			next = layers.EthernetTypeDot1Q
		}
		if i == 0 {
			eth.EthernetType = tpid
		}
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: v, Type: next})
	}
	proto := s.Proto
	if proto == 0 {
		proto = UDP
	}
	var netLayer gopacket.NetworkLayer
	if s.Src.Is4() {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, Flags: layers.IPv4DontFragment,
			SrcIP: net.IP(s.Src.AsSlice()), DstIP: net.IP(s.Dst.AsSlice())}
		netLayer = ip
		ls = append(ls, ip)
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto,
			SrcIP: net.IP(s.Src.AsSlice()), DstIP: net.IP(s.Dst.AsSlice())}
		netLayer = ip
		ls = append(ls, ip)
	}
	if proto == TCP {
		tcp := &layers.TCP{SrcPort: layers.TCPPort(s.SrcPort), DstPort: layers.TCPPort(s.DstPort), Seq: 1, ACK: true, Ack: 1, Window: 65535, DataOffset: 5}
		if err := tcp.SetNetworkLayerForChecksum(netLayer); err != nil {
			return nil, err
		}
		ls = append(ls, tcp)
	} else {
		udp := &layers.UDP{SrcPort: layers.UDPPort(s.SrcPort), DstPort: layers.UDPPort(s.DstPort)}
		if err := udp.SetNetworkLayerForChecksum(netLayer); err != nil {
			return nil, err
		}
		ls = append(ls, udp)
	}
	payload := make([]byte, size-FCSLen-s.headerLen())
	for i := range payload {
		payload[i] = byte(i)
	}
	ls = append(ls, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBufferExpectedSize(size, 0)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return nil, fmt.Errorf("serialize: %w", err)
	}
	return buf.Bytes(), nil
}

// VXLAN describes the outer headers of an encapsulated frame.
type VXLAN struct {
	SrcMAC, DstMAC [6]byte
	Src, Dst       netip.Addr
	SrcPort        uint16 // 0: 49152
	VNI            uint32
}

// Encap wraps inner (a frame without FCS) in VXLAN as a remote VTEP sends it:
// IPv4 with DF and a header checksum, or IPv6 with a UDP checksum.
func Encap(v VXLAN, inner []byte) ([]byte, error) {
	if !v.Src.IsValid() || !v.Dst.IsValid() || v.Src.Is4() != v.Dst.Is4() {
		return nil, fmt.Errorf("VTEPs %s -> %s: want both IPv4 or both IPv6: %w", v.Src, v.Dst, ErrSpec)
	}
	if v.VNI > 1<<24-1 {
		return nil, fmt.Errorf("VNI %d out of range: %w", v.VNI, ErrSpec)
	}
	sport := v.SrcPort
	if sport == 0 {
		sport = 49152
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr(v.SrcMAC[:]), DstMAC: net.HardwareAddr(v.DstMAC[:])}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: 4789}
	var ip gopacket.SerializableLayer
	if v.Src.Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, Flags: layers.IPv4DontFragment,
			SrcIP: net.IP(v.Src.AsSlice()), DstIP: net.IP(v.Dst.AsSlice())}
		if err := udp.SetNetworkLayerForChecksum(ip4); err != nil {
			return nil, err
		}
		ip = ip4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
			SrcIP: net.IP(v.Src.AsSlice()), DstIP: net.IP(v.Dst.AsSlice())}
		if err := udp.SetNetworkLayerForChecksum(ip6); err != nil {
			return nil, err
		}
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, udp, &layers.VXLAN{ValidIDFlag: true, VNI: v.VNI}, gopacket.Payload(inner))
	if err != nil {
		return nil, fmt.Errorf("serialize: %w", err)
	}
	return buf.Bytes(), nil
}

// Flows returns n flows derived from base: flow i gets destination MAC
// number i % macs (the base MAC's low three bytes plus that number) and
// source port base.SrcPort + i (wrapping within 1024-65535), so that n flows
// spread over macs MACs and n 5-tuples.
func Flows(base Flow, n, macs int) []Flow {
	if macs <= 0 {
		macs = 1
	}
	out := make([]Flow, n)
	for i := range out {
		f := base
		f.DstMAC = AddMAC(base.DstMAC, uint32(i%macs))
		f.SrcPort = uint16(1024 + (int(base.SrcPort)+i)%(65536-1024))
		f.VLANs = append([]uint16(nil), base.VLANs...)
		out[i] = f
	}
	return out
}

// AddMAC returns m with n added to its low three bytes.
func AddMAC(m [6]byte, n uint32) [6]byte {
	v := uint32(m[3])<<16 | uint32(m[4])<<8 | uint32(m[5])
	v += n
	m[3], m[4], m[5] = byte(v>>16), byte(v>>8), byte(v)
	return m
}

// WritePcap writes frames to w as a pcap file (Ethernet link type), one
// millisecond apart from start.
func WritePcap(w io.Writer, start time.Time, frames [][]byte) error {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(JumboSize, layers.LinkTypeEthernet); err != nil {
		return fmt.Errorf("pcap header: %w", err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: start.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := pw.WritePacket(ci, f); err != nil {
			return fmt.Errorf("pcap frame %d: %w", i, err)
		}
	}
	return nil
}
