package vxlan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// Header sizes, flags and ranges. They match the FWD_* definitions in
// bpf/fwd.h.
const (
	// Port is the IANA UDP destination port for VXLAN.
	Port = 4789
	// HeaderLen is the length of the VXLAN header proper.
	HeaderLen = 8
	// FlagI is the "VNI is valid" flag, the only flag RFC 7348 defines.
	FlagI = 0x08
	// EncapLenIPv4 is the outer header length over IPv4:
	// Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8.
	EncapLenIPv4 = ethLen + ipv4Len + udpLen + HeaderLen
	// EncapLenIPv6 is the outer header length over IPv6:
	// Ethernet 14 + IPv6 40 + UDP 8 + VXLAN 8.
	EncapLenIPv6 = ethLen + ipv6Len + udpLen + HeaderLen
	// MaxVNI is the largest VXLAN Network Identifier (24 bits).
	MaxVNI = 1<<24 - 1
	// UDPSrcPortMin is the lowest UDP source port [FlowSrcPort] returns: the
	// start of the dynamic range RFC 7348 recommends (49152).
	UDPSrcPortMin = 0xC000
)

const (
	ethLen  = 14
	ipv4Len = 20
	ipv6Len = 40
	udpLen  = 8

	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86DD
	protoUDP      = 17

	defaultTTL   = 64
	maxFlowLabel = 1<<20 - 1

	ipv4FlagDF     = 0x4000
	ipv4FlagMF     = 0x2000
	ipv4FragOffset = 0x1FFF

	// The largest inner frames whose lengths fit the 16-bit IPv4 total
	// length and IPv6 payload length fields.
	maxInnerIPv4 = 0xFFFF - ipv4Len - udpLen - HeaderLen
	maxInnerIPv6 = 0xFFFF - udpLen - HeaderLen
)

// Errors returned by the codec, always wrapped with context; match them with
// errors.Is.
var (
	// ErrShort means a buffer or frame ends before a header does, or before
	// the length an IP or UDP header declares.
	ErrShort = errors.New("too short")
	// ErrLength means an inner frame is too long for the IP and UDP length
	// fields, or a UDP length field is smaller than the UDP header.
	ErrLength = errors.New("bad length")
	// ErrVNI means a VNI is larger than MaxVNI.
	ErrVNI = errors.New("vni out of range")
	// ErrFamily means an outer address is missing or zoned, or the source and
	// destination are not both IPv4 or both IPv6.
	ErrFamily = errors.New("bad address family")
	// ErrPort means a UDP port is zero.
	ErrPort = errors.New("zero udp port")
	// ErrFlowLabel means an IPv6 flow label does not fit in 20 bits.
	ErrFlowLabel = errors.New("flow label out of range")
	// ErrNotVXLAN means a frame is not untagged Ethernet carrying UDP directly
	// over IPv4 or IPv6.
	ErrNotVXLAN = errors.New("not a vxlan frame")
	// ErrFlags means a VXLAN header lacks the I flag.
	ErrFlags = errors.New("vxlan I flag not set")
	// ErrIPVersion means the IP version field disagrees with the EtherType.
	ErrIPVersion = errors.New("bad ip version")
	// ErrIPHeader means an IPv4 header length is below 5 words or its total
	// length is shorter than its header.
	ErrIPHeader = errors.New("bad ipv4 header")
	// ErrFragment means an IPv4 packet is a fragment (MF set or a non-zero
	// fragment offset).
	ErrFragment = errors.New("ipv4 fragment")
)

// Outer describes the headers in front of a VXLAN-encapsulated frame.
type Outer struct {
	// SrcMAC and DstMAC are the underlay Ethernet addresses.
	SrcMAC, DstMAC [6]byte
	// Src and Dst are the VTEP addresses, both IPv4 or both IPv6, unzoned.
	Src, Dst netip.Addr
	// SrcPort is the UDP source port, usually FlowSrcPort(hash); DstPort is
	// usually Port. Neither may be zero.
	SrcPort, DstPort uint16
	// VNI is the VXLAN Network Identifier, at most MaxVNI.
	VNI uint32
	// TTL is the IPv4 TTL or IPv6 hop limit; Encode writes 64 for 0.
	TTL uint8
	// TOS is the IPv4 type of service or IPv6 traffic class.
	TOS uint8
	// FlowLabel is the IPv6 flow label (20 bits), usually FlowLabel(hash).
	// IPv4 ignores it.
	FlowLabel uint32
	// DontFragment sets the IPv4 DF flag. IPv6 ignores it.
	DontFragment bool
}

// Len returns the length of the outer headers: EncapLenIPv6 when Src is an
// IPv6 address, EncapLenIPv4 otherwise.
func (o *Outer) Len() int {
	if o.Src.Is6() {
		return EncapLenIPv6
	}
	return EncapLenIPv4
}

// Validate reports whether o can be encoded.
func (o *Outer) Validate() error {
	if o.VNI > MaxVNI {
		return fmt.Errorf("vni %d (max %d): %w", o.VNI, MaxVNI, ErrVNI)
	}
	if !o.Src.IsValid() || !o.Dst.IsValid() {
		return fmt.Errorf("outer addresses %v -> %v: both must be set: %w", o.Src, o.Dst, ErrFamily)
	}
	if o.Src.Is4() != o.Dst.Is4() {
		return fmt.Errorf("outer addresses %v -> %v: both must be IPv4 or both IPv6: %w", o.Src, o.Dst, ErrFamily)
	}
	if o.Src.Zone() != "" || o.Dst.Zone() != "" {
		return fmt.Errorf("outer addresses %v -> %v: zones are not allowed: %w", o.Src, o.Dst, ErrFamily)
	}
	if o.SrcPort == 0 || o.DstPort == 0 {
		return fmt.Errorf("udp ports %d -> %d: %w", o.SrcPort, o.DstPort, ErrPort)
	}
	if o.FlowLabel > maxFlowLabel {
		return fmt.Errorf("flow label %#x (max %#x): %w", o.FlowLabel, maxFlowLabel, ErrFlowLabel)
	}
	return nil
}

// check validates o for an inner frame of innerLen bytes.
func (o *Outer) check(innerLen int) error {
	if err := o.Validate(); err != nil {
		return err
	}
	limit := maxInnerIPv4
	if o.Src.Is6() {
		limit = maxInnerIPv6
	}
	if innerLen < 0 || innerLen > limit {
		return fmt.Errorf("inner frame of %d bytes (max %d): %w", innerLen, limit, ErrLength)
	}
	return nil
}

// Encode writes the outer headers for an inner frame of innerLen bytes into
// b[:o.Len()] and returns o.Len(). The caller places the inner frame right
// after them. The headers are untagged Ethernet; IPv4 with ID 0, no options and
// a valid header checksum, or IPv6 with no extension headers; UDP with
// checksum 0; and VXLAN with the I flag. Encode does not allocate.
func (o *Outer) Encode(b []byte, innerLen int) (int, error) {
	if err := o.check(innerLen); err != nil {
		return 0, err
	}
	n := o.Len()
	if len(b) < n {
		return 0, fmt.Errorf("encode into %d bytes (need %d): %w", len(b), n, ErrShort)
	}
	o.put(b[:n], innerLen)
	return n, nil
}

// Encap appends the outer headers and inner to dst and returns the extended
// slice. It allocates only when dst lacks the capacity. On error dst is
// returned unchanged.
func Encap(dst []byte, o *Outer, inner []byte) ([]byte, error) {
	if err := o.check(len(inner)); err != nil {
		return dst, err
	}
	n := o.Len()
	start := len(dst)
	out := slices.Grow(dst, n+len(inner))[:start+n+len(inner)]
	o.put(out[start:start+n], len(inner))
	copy(out[start+n:], inner)
	return out, nil
}

// put writes the headers for a checked o into b, which is exactly o.Len()
// bytes long.
func (o *Outer) put(b []byte, innerLen int) {
	ttl := o.TTL
	if ttl == 0 {
		ttl = defaultTTL
	}
	copy(b[0:6], o.DstMAC[:])
	copy(b[6:12], o.SrcMAC[:])
	var l4 []byte
	if o.Src.Is6() {
		binary.BigEndian.PutUint16(b[12:14], etherTypeIPv6)
		ip := b[ethLen : ethLen+ipv6Len]
		binary.BigEndian.PutUint32(ip[0:4], 6<<28|uint32(o.TOS)<<20|o.FlowLabel)
		binary.BigEndian.PutUint16(ip[4:6], uint16(udpLen+HeaderLen+innerLen))
		ip[6] = protoUDP
		ip[7] = ttl
		src, dst := o.Src.As16(), o.Dst.As16()
		copy(ip[8:24], src[:])
		copy(ip[24:40], dst[:])
		l4 = b[ethLen+ipv6Len:]
	} else {
		binary.BigEndian.PutUint16(b[12:14], etherTypeIPv4)
		ip := b[ethLen : ethLen+ipv4Len]
		ip[0] = 4<<4 | ipv4Len/4
		ip[1] = o.TOS
		binary.BigEndian.PutUint16(ip[2:4], uint16(ipv4Len+udpLen+HeaderLen+innerLen))
		binary.BigEndian.PutUint16(ip[4:6], 0) // ID
		var frag uint16
		if o.DontFragment {
			frag = ipv4FlagDF
		}
		binary.BigEndian.PutUint16(ip[6:8], frag)
		ip[8] = ttl
		ip[9] = protoUDP
		src, dst := o.Src.As4(), o.Dst.As4()
		copy(ip[12:16], src[:])
		copy(ip[16:20], dst[:])
		binary.BigEndian.PutUint16(ip[10:12], IPv4Checksum(ip))
		l4 = b[ethLen+ipv4Len:]
	}
	binary.BigEndian.PutUint16(l4[0:2], o.SrcPort)
	binary.BigEndian.PutUint16(l4[2:4], o.DstPort)
	binary.BigEndian.PutUint16(l4[4:6], uint16(udpLen+HeaderLen+innerLen))
	binary.BigEndian.PutUint16(l4[6:8], 0) // no UDP checksum
	vx := l4[udpLen : udpLen+HeaderLen]
	binary.BigEndian.PutUint32(vx[0:4], FlagI<<24)
	binary.BigEndian.PutUint32(vx[4:8], o.VNI<<8)
}

// Decode parses the outer headers of frame into o and returns the inner
// Ethernet frame, a subslice of frame whose capacity ends with it. It accepts
// untagged Ethernet; IPv4 with or without options, but not fragments; IPv6
// whose next header is UDP; any UDP ports (DstPort tells the caller whether
// the frame was sent to Port); and a VXLAN header with the I flag. Bytes after
// the IP packet are ignored as padding. Decode checks neither the IPv4 header
// checksum (see VerifyIPv4Checksum) nor the UDP checksum, and ignores the
// IPv4 ID, the VXLAN reserved bits and the flags other than I. On error o is
// left unchanged. Decode does not allocate.
func Decode(frame []byte, o *Outer) (inner []byte, err error) {
	if len(frame) < ethLen {
		return nil, fmt.Errorf("ethernet header: %d bytes: %w", len(frame), ErrShort)
	}
	var out Outer
	copy(out.DstMAC[:], frame[0:6])
	copy(out.SrcMAC[:], frame[6:12])
	var l4 []byte
	switch et := binary.BigEndian.Uint16(frame[12:14]); et {
	case etherTypeIPv4:
		ip := frame[ethLen:]
		if len(ip) < ipv4Len {
			return nil, fmt.Errorf("ipv4 header: %d bytes: %w", len(ip), ErrShort)
		}
		if v := ip[0] >> 4; v != 4 {
			return nil, fmt.Errorf("ipv4 header: version %d: %w", v, ErrIPVersion)
		}
		hl := int(ip[0]&0x0F) * 4
		if hl < ipv4Len {
			return nil, fmt.Errorf("ipv4 header: length %d: %w", hl, ErrIPHeader)
		}
		frag := binary.BigEndian.Uint16(ip[6:8])
		if frag&(ipv4FlagMF|ipv4FragOffset) != 0 {
			return nil, fmt.Errorf("ipv4 header: flags and offset %#04x: %w", frag, ErrFragment)
		}
		if ip[9] != protoUDP {
			return nil, fmt.Errorf("ipv4 protocol %d: %w", ip[9], ErrNotVXLAN)
		}
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		if total < hl {
			return nil, fmt.Errorf("ipv4 header: total length %d below header length %d: %w", total, hl, ErrIPHeader)
		}
		if total > len(ip) {
			return nil, fmt.Errorf("ipv4 packet: %d of %d bytes: %w", len(ip), total, ErrShort)
		}
		out.TOS = ip[1]
		out.TTL = ip[8]
		out.DontFragment = frag&ipv4FlagDF != 0
		out.Src = netip.AddrFrom4([4]byte(ip[12:16]))
		out.Dst = netip.AddrFrom4([4]byte(ip[16:20]))
		l4 = ip[hl:total]
	case etherTypeIPv6:
		ip := frame[ethLen:]
		if len(ip) < ipv6Len {
			return nil, fmt.Errorf("ipv6 header: %d bytes: %w", len(ip), ErrShort)
		}
		w := binary.BigEndian.Uint32(ip[0:4])
		if v := w >> 28; v != 6 {
			return nil, fmt.Errorf("ipv6 header: version %d: %w", v, ErrIPVersion)
		}
		if ip[6] != protoUDP {
			return nil, fmt.Errorf("ipv6 next header %d: %w", ip[6], ErrNotVXLAN)
		}
		payload := int(binary.BigEndian.Uint16(ip[4:6]))
		if payload > len(ip)-ipv6Len {
			return nil, fmt.Errorf("ipv6 payload: %d of %d bytes: %w", len(ip)-ipv6Len, payload, ErrShort)
		}
		out.TOS = uint8(w >> 20)
		out.FlowLabel = w & maxFlowLabel
		out.TTL = ip[7]
		out.Src = netip.AddrFrom16([16]byte(ip[8:24]))
		out.Dst = netip.AddrFrom16([16]byte(ip[24:40]))
		l4 = ip[ipv6Len : ipv6Len+payload]
	default:
		return nil, fmt.Errorf("ethertype %#04x: %w", et, ErrNotVXLAN)
	}

	if len(l4) < udpLen {
		return nil, fmt.Errorf("udp header: %d bytes: %w", len(l4), ErrShort)
	}
	ulen := int(binary.BigEndian.Uint16(l4[4:6]))
	if ulen < udpLen {
		return nil, fmt.Errorf("udp length %d: %w", ulen, ErrLength)
	}
	if ulen > len(l4) {
		return nil, fmt.Errorf("udp datagram: %d of %d bytes: %w", len(l4), ulen, ErrShort)
	}
	if ulen < udpLen+HeaderLen {
		return nil, fmt.Errorf("vxlan header: %d bytes: %w", ulen-udpLen, ErrShort)
	}
	out.SrcPort = binary.BigEndian.Uint16(l4[0:2])
	out.DstPort = binary.BigEndian.Uint16(l4[2:4])
	vx := l4[udpLen : udpLen+HeaderLen]
	if vx[0]&FlagI == 0 {
		return nil, fmt.Errorf("vxlan flags %#02x: %w", vx[0], ErrFlags)
	}
	out.VNI = binary.BigEndian.Uint32(vx[4:8]) >> 8
	*o = out
	return l4[udpLen+HeaderLen : ulen : ulen], nil
}

// IPv4Checksum returns the header checksum for the IPv4 header hdr (IHL*4
// bytes), treating its checksum field (bytes 10 and 11) as zero.
func IPv4Checksum(hdr []byte) uint16 {
	sum := sum16(hdr)
	if len(hdr) >= 12 {
		sum -= uint64(binary.BigEndian.Uint16(hdr[10:12]))
	}
	return ^fold(sum)
}

// VerifyIPv4Checksum reports whether the IPv4 header hdr (IHL*4 bytes) has a
// valid checksum. It returns false for a header shorter than 20 bytes.
func VerifyIPv4Checksum(hdr []byte) bool {
	return len(hdr) >= ipv4Len && fold(sum16(hdr)) == 0xFFFF
}

// sum16 adds up b as big-endian 16-bit words, padding an odd tail with zero.
// The result is not folded: one's complement addition is ordinary addition
// followed by fold.
func sum16(b []byte) uint64 {
	var sum uint64
	for len(b) >= 4 {
		v := binary.BigEndian.Uint32(b)
		sum += uint64(v>>16) + uint64(v&0xFFFF)
		b = b[4:]
	}
	if len(b) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	return sum
}

// fold folds a one's complement sum into 16 bits.
func fold(sum uint64) uint16 {
	for sum > 0xFFFF {
		sum = sum&0xFFFF + sum>>16
	}
	return uint16(sum)
}

// FlowSrcPort returns the UDP source port for a flow hash, in
// [UDPSrcPortMin, 0xFFFF]. It matches the XDP program exactly:
// FWD_UDP_SPORT_MIN | (hash >> 18).
func FlowSrcPort(hash uint32) uint16 { return UDPSrcPortMin | uint16(hash>>18) }

// FlowLabel returns the IPv6 flow label for a flow hash: its low 20 bits, as
// the XDP program writes it.
func FlowLabel(hash uint32) uint32 { return hash & maxFlowLabel }
