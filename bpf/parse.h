/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* parse.h: Ethernet and VLAN parsing, the flow hash, per-frame bookkeeping. */
#ifndef FWD_PARSE_H
#define FWD_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "fwd.h"
#include "maps.h"

#define FWD_ETH_P_8021Q 0x8100
#define FWD_ETH_P_8021AD 0x88A8
#define FWD_HASH_SEED 0x5bd1e995u
#define READ_ONCE_U32(p) (*(volatile __u32 *)(p))
#define READ_ONCE_U64(p) (*(volatile __u64 *)(p))

/* fwd_fc: what one frame did; counted and traced once, at the end. */
struct fwd_fc {
	__u32 reason;
	__u32 bd;     /* the VNI */
	__u16 bd_idx; /* its index in FDB keys */
	__u32 fdb_gen; /* the FDB's write generation when the frame arrived */
	__u32 egress;
	__u32 nh;
	__u32 nhg;
	__u32 es_id;
	__u32 hash;
	__u8 fdb_kind;
	__u8 backup;
};

/* fwd_l2: a parsed Ethernet header with up to two VLAN tags. */
struct fwd_l2 {
	__u16 proto; /* the innermost EtherType, network order */
	__u16 outer; /* VLAN ids, 0 = absent */
	__u16 inner;
	__u16 ntags;
};

static __always_inline void fwd_count(__u32 ctr)
{
	__u64 *v = bpf_map_lookup_elem(&fwd_counters, &ctr);
	if (v)
		*v += 1;
}

static __always_inline int fwd_is_vlan(__u16 proto)
{
	return proto == bpf_htons(FWD_ETH_P_8021Q) || proto == bpf_htons(FWD_ETH_P_8021AD);
}

struct fwd_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* fwd_parse_l2 parses the frame at data. Returns 0, or the DROP_* reason. */
static __always_inline __u32 fwd_parse_l2(void *data, void *end, struct fwd_l2 *l2)
{
	struct ethhdr *eth = data;
	struct fwd_vlan_hdr *vh;

	if ((void *)(eth + 1) > end)
		return FWD_CTR_DROP_RUNT;
	l2->proto = eth->h_proto;
	l2->outer = 0;
	l2->inner = 0;
	l2->ntags = 0;
	if (!fwd_is_vlan(l2->proto))
		return 0;
	vh = (void *)(eth + 1);
	if ((void *)(vh + 1) > end)
		return FWD_CTR_DROP_TRUNCATED;
	l2->outer = bpf_ntohs(vh->tci) & 0x0fff;
	l2->proto = vh->proto;
	l2->ntags = 1;
	if (!fwd_is_vlan(l2->proto))
		return 0;
	vh++;
	if ((void *)(vh + 1) > end)
		return FWD_CTR_DROP_TRUNCATED;
	l2->inner = bpf_ntohs(vh->tci) & 0x0fff;
	l2->proto = vh->proto;
	l2->ntags = 2;
	if (fwd_is_vlan(l2->proto))
		return FWD_CTR_DROP_VLAN_DEPTH;
	return 0;
}

static __always_inline __u32 fwd_load32(const void *p)
{
	__u32 v;
	__builtin_memcpy(&v, p, 4);
	return v;
}

/*
 * The flow hash takes the frame's fields as 32-bit words, pairs them into
 * 64-bit lanes (lo | hi << 32), multiplies each lane by its own odd
 * constant, sums the products onto the seed and finishes with murmur3's
 * fmix64. The products are independent, so the CPU overlaps them: the
 * per-word xor-multiply-rotate chain this replaces was ~50 cycles of
 * dependent instructions. A lane times an odd constant is a bijection, so
 * two frames that differ in one lane never collide before the finaliser.
 */
#define FWD_HASH_K0 0x9e3779b97f4a7c15ULL
#define FWD_HASH_K1 0xc2b2ae3d27d4eb4fULL
#define FWD_HASH_K2 0x165667b19e3779f9ULL
#define FWD_HASH_K3 0xd6e8feb86659fd93ULL
#define FWD_HASH_K4 0xa0761d6478bd642fULL
#define FWD_HASH_K5 0xe7037ed1a0b428dbULL
#define FWD_HASH_K6 0x8ebc6af09c88c6e3ULL

static __always_inline __u64 fwd_lane(__u32 lo, __u32 hi)
{
	return (__u64)hi << 32 | lo;
}

static __always_inline __u32 fwd_hash_final(__u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (__u32)h;
}

/*
 * fwd_flow_hash hashes the frame at data whose innermost EtherType is proto
 * and whose L3 header starts at l3off: the MACs, the EtherType, and for IPv4
 * and IPv6 the addresses, the protocol and, for TCP and UDP (not IPv4
 * fragments), the ports. Words are loaded in host order from the raw bytes;
 * the Go model in dataplane/model mirrors this function exactly.
 *
 * Lanes: K0 (dst MAC 0-3, dst MAC 4-5 + src MAC 0-1), K1 (src MAC 2-5,
 * EtherType); IPv4: K2 (saddr, daddr), K3 (protocol, ports); IPv6: K2-K5
 * (saddr, daddr), K6 (next header, ports). Ports are 0 when not hashed.
 */
static __always_inline __u32 fwd_flow_hash(void *data, void *end, __u32 l3off, __u16 proto)
{
	__u64 h = FWD_HASH_SEED;

	if (data + 12 > end)
		return 0;
	h += fwd_lane(fwd_load32(data), fwd_load32(data + 4)) * FWD_HASH_K0;
	h += fwd_lane(fwd_load32(data + 8), proto) * FWD_HASH_K1;
	l3off &= 0xff;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + l3off;
		__u32 ihl, ports = 0;

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return fwd_hash_final(h);
		h += fwd_lane(ip->saddr, ip->daddr) * FWD_HASH_K2;
		if (!(ip->frag_off & bpf_htons(0x3fff)) &&
		    (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP)) {
			ihl = (ip->ihl & 0xf) * 4;
			if ((void *)ip + ihl + 4 <= end)
				ports = fwd_load32((void *)ip + ihl);
		}
		h += fwd_lane(ip->protocol, ports) * FWD_HASH_K3;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + l3off;
		__u32 *a, ports = 0;

		if ((void *)(ip6 + 1) > end)
			return fwd_hash_final(h);
		a = (__u32 *)&ip6->saddr;
		h += fwd_lane(fwd_load32(&a[0]), fwd_load32(&a[1])) * FWD_HASH_K2;
		h += fwd_lane(fwd_load32(&a[2]), fwd_load32(&a[3])) * FWD_HASH_K3;
		h += fwd_lane(fwd_load32(&a[4]), fwd_load32(&a[5])) * FWD_HASH_K4;
		h += fwd_lane(fwd_load32(&a[6]), fwd_load32(&a[7])) * FWD_HASH_K5;
		if ((ip6->nexthdr == IPPROTO_TCP || ip6->nexthdr == IPPROTO_UDP) && (void *)(ip6 + 1) + 4 <= end)
			ports = fwd_load32(ip6 + 1);
		h += fwd_lane(ip6->nexthdr, ports) * FWD_HASH_K6;
	}
	return fwd_hash_final(h);
}

#endif /* FWD_PARSE_H */
