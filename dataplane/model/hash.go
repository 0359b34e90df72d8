package model

import (
	"encoding/binary"
	"math/bits"
)

// load32 is fwd_load32 on a little-endian machine: four raw bytes as a host
// word.
func load32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// The lane constants of fwd_flow_hash (bpf/parse.h).
const (
	hashK0 = 0x9e3779b97f4a7c15
	hashK1 = 0xc2b2ae3d27d4eb4f
	hashK2 = 0x165667b19e3779f9
	hashK3 = 0xd6e8feb86659fd93
	hashK4 = 0xa0761d6478bd642f
	hashK5 = 0xe7037ed1a0b428db
	hashK6 = 0x8ebc6af09c88c6e3
)

func lane(lo, hi uint32) uint64 { return uint64(hi)<<32 | uint64(lo) }

// hashFinal is murmur3's fmix64, truncated to 32 bits.
func hashFinal(h uint64) uint32 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return uint32(h)
}

// FlowHash is fwd_flow_hash: the hash of frame b whose innermost EtherType is
// proto (host value, e.g. 0x0800) and whose L3 header starts at l3off. It
// hashes the MACs and the EtherType, and for IPv4 and IPv6 the addresses and
// the protocol, and for TCP and UDP (not IPv4 fragments) the first four bytes
// of the L4 header. Words are the raw bytes loaded little-endian, as the
// program loads them on x86 and arm64; pairs of words form 64-bit lanes,
// each multiplied by its own odd constant and summed onto the seed, and
// murmur3's fmix64 finishes.
func FlowHash(b []byte, l3off uint32, proto uint16) uint32 {
	h := uint64(HashSeed)
	if len(b) < 12 {
		return 0
	}
	h += lane(load32(b[0:]), load32(b[4:])) * hashK0
	// The C hashes the __be16 as it sits in memory.
	h += lane(load32(b[8:]), uint32(bits.ReverseBytes16(proto))) * hashK1
	off := int(l3off & 0xff)
	switch proto {
	case EtherTypeIPv4:
		if off+20 > len(b) || b[off]&0xf < 5 {
			return hashFinal(h)
		}
		ip := b[off:]
		h += lane(load32(ip[12:]), load32(ip[16:])) * hashK2
		var ports uint32
		if binary.BigEndian.Uint16(ip[6:])&0x3fff == 0 && (ip[9] == ipProtoTCP || ip[9] == ipProtoUDP) {
			if ihl := int(ip[0]&0xf) * 4; off+ihl+4 <= len(b) {
				ports = load32(ip[ihl:])
			}
		}
		h += lane(uint32(ip[9]), ports) * hashK3
	case EtherTypeIPv6:
		if off+40 > len(b) {
			return hashFinal(h)
		}
		ip6 := b[off:]
		for i, k := range [4]uint64{hashK2, hashK3, hashK4, hashK5} {
			h += lane(load32(ip6[8+8*i:]), load32(ip6[12+8*i:])) * k
		}
		var ports uint32
		if (ip6[6] == ipProtoTCP || ip6[6] == ipProtoUDP) && off+44 <= len(b) {
			ports = load32(ip6[40:])
		}
		h += lane(uint32(ip6[6]), ports) * hashK6
	}
	return hashFinal(h)
}
