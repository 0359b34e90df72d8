package model

import (
	"encoding/binary"
	"math/bits"
)

// load32 is fwd_load32 on a little-endian machine: four raw bytes as a host
// word.
func load32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

func hashWord(h, w uint32) uint32 {
	h ^= w
	h *= 0x9e3779b1
	return bits.RotateLeft32(h, 13)
}

func hashFinal(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// FlowHash is fwd_flow_hash: the hash of frame b whose innermost EtherType is
// proto (host value, e.g. 0x0800) and whose L3 header starts at l3off. It
// hashes the MACs and the EtherType, and for IPv4 and IPv6 the addresses and
// the protocol, and for TCP and UDP (not IPv4 fragments) the first four bytes
// of the L4 header. Words are the raw bytes loaded little-endian, as the
// program loads them on x86 and arm64.
func FlowHash(b []byte, l3off uint32, proto uint16) uint32 {
	h := uint32(HashSeed)
	if len(b) < 12 {
		return 0
	}
	h = hashWord(h, load32(b[0:]))
	h = hashWord(h, load32(b[4:]))
	h = hashWord(h, load32(b[8:]))
	// The C hashes the __be16 as it sits in memory.
	h = hashWord(h, uint32(bits.ReverseBytes16(proto)))
	off := int(l3off & 0xff)
	switch proto {
	case EtherTypeIPv4:
		if off+20 > len(b) || b[off]&0xf < 5 {
			return hashFinal(h)
		}
		ip := b[off:]
		h = hashWord(h, load32(ip[12:]))
		h = hashWord(h, load32(ip[16:]))
		h = hashWord(h, uint32(ip[9]))
		if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			return hashFinal(h)
		}
		if ip[9] != ipProtoTCP && ip[9] != ipProtoUDP {
			return hashFinal(h)
		}
		ihl := int(ip[0]&0xf) * 4
		if off+ihl+4 > len(b) {
			return hashFinal(h)
		}
		h = hashWord(h, load32(ip[ihl:]))
	case EtherTypeIPv6:
		if off+40 > len(b) {
			return hashFinal(h)
		}
		ip6 := b[off:]
		for i := 0; i < 8; i++ {
			h = hashWord(h, load32(ip6[8+4*i:]))
		}
		h = hashWord(h, uint32(ip6[6]))
		if ip6[6] != ipProtoTCP && ip6[6] != ipProtoUDP {
			return hashFinal(h)
		}
		if off+44 > len(b) {
			return hashFinal(h)
		}
		h = hashWord(h, load32(ip6[40:]))
	}
	return hashFinal(h)
}
