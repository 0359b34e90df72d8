package bench

import (
	"iter"
	"net"
	"net/netip"

	"github.com/fwdplane/fwd/bench/pktgen"
	"github.com/fwdplane/fwd/dataplane"
)

// maxFlows is how many flows the generator and the sink tell apart.
const maxFlows = dataplane.BenchMaxFlows

// The harness's addresses: the same for every system, so that every system
// gets byte-identical frames.
var (
	// Fixed MACs of the veths (the kernel's random ones would change the
	// frames from run to run).
	macG0   = net.HardwareAddr{0x02, 0xfe, 0, 0, 0, 0x01} // generator
	macG1   = net.HardwareAddr{0x02, 0xfe, 0, 0, 0, 0x02} // ingress of the system under test
	macEg   = net.HardwareAddr{0x02, 0xfe, 0, 0, 0, 0x03} // its egress (u0 or a0)
	macSink = net.HardwareAddr{0x02, 0xfe, 0, 0, 0, 0x04} // the sink; the underlay next hop

	hostMAC       = [6]byte{0x02, 0xaa, 0, 0, 0, 0x01} // the sending host, behind g1
	remoteHostMAC = [6]byte{0x02, 0xdd, 0, 0, 0, 0x01} // the sending host of decap frames
	remoteBase    = [6]byte{0x02, 0xcc, 0, 0, 0, 0}    // MACs behind remote VTEPs: base + i
	localBase     = [6]byte{0x02, 0xbb, 0, 0, 0, 0}    // MACs behind the egress access port

	innerSrc = netip.MustParseAddr("198.18.0.1")
	innerDst = netip.MustParseAddr("198.18.0.2")
)

// VNI is the one bridge domain of the harness.
const VNI = 100

// underlay is one address family's underlay: our VTEP address on the
// uplink, the next hop (whose MAC is the sink's) and four remote VTEPs
// behind it.
type underlay struct {
	local   netip.Prefix
	gw      netip.Addr
	remotes netip.Prefix
	vteps   [4]netip.Addr
}

var (
	underlay4 = underlay{
		local:   netip.MustParsePrefix("10.0.0.1/24"),
		gw:      netip.MustParseAddr("10.0.0.254"),
		remotes: netip.MustParsePrefix("192.0.2.0/24"),
		vteps: [4]netip.Addr{netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3"),
			netip.MustParseAddr("192.0.2.4"), netip.MustParseAddr("192.0.2.5")},
	}
	underlay6 = underlay{
		local:   netip.MustParsePrefix("2001:db8::1/64"),
		gw:      netip.MustParseAddr("2001:db8::fe"),
		remotes: netip.MustParsePrefix("2001:db8:2::/64"),
		vteps: [4]netip.Addr{netip.MustParseAddr("2001:db8:2::2"), netip.MustParseAddr("2001:db8:2::3"),
			netip.MustParseAddr("2001:db8:2::4"), netip.MustParseAddr("2001:db8:2::5")},
	}
)

func underlayOf(ipv6 bool) underlay {
	if ipv6 {
		return underlay6
	}
	return underlay4
}

// Header lengths the offsets depend on.
const (
	encap4Len = 14 + 20 + 8 + 8
	encap6Len = 14 + 40 + 8 + 8
	// innerID is where the flow id sits in the host's frame: the first
	// payload byte after Ethernet, IPv4 and UDP.
	innerID    = 14 + 20 + 8
	innerSport = 14 + 20
	// outerUDPCsum is the outer UDP checksum of a VXLAN-over-IPv4 frame.
	outerUDPCsum = 14 + 20 + 6
)

// macAt returns base with i added to its low three bytes.
func macAt(base [6]byte, i int) [6]byte { return pktgen.AddMAC(base, uint32(i)) }

// macSeq yields base+0 .. base+n-1.
func macSeq(base [6]byte, n int) iter.Seq[net.HardwareAddr] {
	return func(yield func(net.HardwareAddr) bool) {
		for i := 0; i < n; i++ {
			m := macAt(base, i)
			if !yield(net.HardwareAddr(m[:])) {
				return
			}
		}
	}
}

// dstBase is the range of MACs the scenario's frames are sent to.
func (s Scenario) dstBase() [6]byte {
	if s.Kind.path() == pathEncap {
		return remoteBase
	}
	return localBase
}

// template builds the frame the generator sends for s (before it stamps
// flows): the host's frame, or for decapsulation the host's frame in VXLAN
// from remote VTEP 1 as the kernel sends it, with UDP checksum 0 (the
// generator rewrites the outer source port, and a checksum it did not fix
// would make the kernel drop the frame).
func (s Scenario) template() ([]byte, error) {
	dst := macAt(s.dstBase(), s.FDB/2) // one flow: a MAC from the middle of the FDB
	src := hostMAC
	if s.Kind.path() == pathDecap {
		src = remoteHostMAC
	}
	inner, err := pktgen.Build(pktgen.Spec{Flow: pktgen.Flow{SrcMAC: src, DstMAC: dst, Src: innerSrc, Dst: innerDst,
		SrcPort: 1024, DstPort: 9}, Size: s.FrameBytes})
	if err != nil {
		return nil, err
	}
	if s.Kind.path() != pathDecap {
		return inner, nil
	}
	outer, err := pktgen.Encap(pktgen.VXLAN{SrcMAC: [6]byte(macG0), DstMAC: [6]byte(macG1),
		Src: underlay4.vteps[0], Dst: underlay4.local.Addr(), VNI: VNI}, inner)
	if err != nil {
		return nil, err
	}
	outer[outerUDPCsum], outer[outerUDPCsum+1] = 0, 0
	return outer, nil
}

// genConfig tells the generator how to stamp s's flows onto the template:
// flow f goes to MAC number (f % macs) * stride of the FDB, so that many
// flows spread over the whole installed range, with UDP source port 1024 +
// f (the outer one for decapsulation: a remote VTEP's entropy) and flow id
// f in the host frame's first payload bytes.
func (s Scenario) genConfig() dataplane.GenConfig {
	off := uint16(0)
	if s.Kind.path() == pathDecap {
		off = encap4Len
	}
	cfg := dataplane.GenConfig{Flows: uint32(s.Flows), DstMACOffset: off, SrcPortOffset: innerSport,
		IDOffset: off + innerID}
	if s.Flows > 1 {
		macs := min(s.Flows, s.FDB)
		base := s.dstBase()
		cfg.MACs = uint32(macs)
		cfg.MACStride = uint32(s.FDB / macs)
		cfg.MACBase = uint32(base[3])<<16 | uint32(base[4])<<8 | uint32(base[5])
	}
	return cfg
}

// sinkAddrOffset is where the sink finds an encapsulated frame's outer
// destination address, minus 3 (it reads the byte at offset + 3: the
// address's last byte), or 0 when the rig does not encapsulate. The floor
// reads the same bytes of its frames, so that the sink costs every system
// the same.
func sinkAddrOffset(k rigKey) uint16 {
	switch {
	case k.path != pathEncap:
		return 0
	case k.ipv6:
		return 14 + 24 + 16 - 4 // IPv6 destination: bytes 24-39 of the header
	}
	return 14 + 16 // IPv4 destination: bytes 16-19
}

// sinkIDOffset is where the flow id is in what reaches the sink: behind
// the outer headers when the system encapsulates, or when the floor
// forwards a VXLAN frame as it is.
func sinkIDOffset(k rigKey, sys System) uint16 {
	switch {
	case k.path == pathEncap && sys != Floor && k.ipv6:
		return encap6Len + innerID
	case k.path == pathEncap && sys != Floor:
		return encap4Len + innerID
	case k.path == pathDecap && sys == Floor:
		return encap4Len + innerID
	}
	return innerID
}
