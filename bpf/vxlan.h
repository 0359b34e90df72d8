/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* vxlan.h: L2 rewrites, VXLAN encapsulation, redirect. */
#ifndef FWD_VXLAN_H
#define FWD_VXLAN_H

#include <linux/udp.h>
#include "nhg.h"

struct fwd_vxlan_hdr {
	__u8 flags;
	__u8 _rsvd1[3];
	__be32 vni; /* VNI in the top 24 bits */
};

static __always_inline __u32 fwd_ntags(const struct fwd_tags *t)
{
	return t->outer ? (t->inner ? 2 : 1) : 0;
}

/*
 * fwd_rewrite_l2 turns the frame whose MACs sit at moff, followed by tin VLAN
 * tags, into one that starts with the MACs at offset 0 followed by the tags in
 * out: it strips outer headers (decap) and pops or pushes tags in one
 * bpf_xdp_adjust_head. The EtherType and payload do not move.
 */
static __always_inline int fwd_rewrite_l2(struct xdp_md *ctx, __u32 moff, __u32 tin,
					  const struct fwd_tags *out)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 tout = fwd_ntags(out);
	__u8 macs[12];
	int delta;

	moff &= 0xff;
	tin &= 3;
	if (moff == 0 && tin == 0 && tout == 0)
		return 0;
	if (data + moff + 12 > end)
		return -1;
	__builtin_memcpy(macs, data + moff, 12);
	delta = (int)(moff + 4 * tin) - (int)(4 * tout);
	if (delta && bpf_xdp_adjust_head(ctx, delta))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + 12 + 4 * tout + 2 > end)
		return -1;
	__builtin_memcpy(data, macs, 12);
	if (tout >= 1) {
		__be16 *p = data + 12;

		if ((void *)(p + 2) > end)
			return -1;
		p[0] = bpf_htons(tout == 2 ? FWD_ETH_P_8021AD : FWD_ETH_P_8021Q);
		p[1] = bpf_htons(out->outer & 0x0fff);
	}
	if (tout == 2) {
		__be16 *p = data + 16;

		if ((void *)(p + 2) > end)
			return -1;
		p[0] = bpf_htons(FWD_ETH_P_8021Q);
		p[1] = bpf_htons(out->inner & 0x0fff);
	}
	return 0;
}

/* fwd_redirect sends the frame out of ifindex through fwd_tx. */
static __always_inline int fwd_redirect(struct fwd_fc *fc, __u32 ifindex, __u32 reason)
{
	long ret = bpf_redirect_map(&fwd_tx, ifindex, XDP_DROP);

	fc->egress = ifindex;
	if (ret != XDP_REDIRECT) {
		fc->reason = FWD_CTR_DROP_NO_TX_PORT;
		return XDP_DROP;
	}
	fc->reason = reason;
	return XDP_REDIRECT;
}

/* fwd_mtu_ok checks that the frame, grown by len_diff, fits ifindex's MTU
 * (bpf_check_mtu); otherwise it sets the drop reason and returns 0. */
static __always_inline int fwd_mtu_ok(struct xdp_md *ctx, struct fwd_fc *fc, __u32 ifindex, int len_diff)
{
	__u32 mtu = 0;
	long ret = bpf_check_mtu(ctx, ifindex, &mtu, len_diff, 0);

	if (ret < 0) {
		fc->reason = FWD_CTR_DROP_NO_TX_PORT;
		return 0;
	}
	if (ret) {
		fc->reason = FWD_CTR_DROP_TOO_BIG;
		return 0;
	}
	return 1;
}

/* fwd_deliver sends the frame (MACs at moff, tin tags) to a local port in bd. */
static __always_inline int fwd_deliver(struct xdp_md *ctx, struct fwd_fc *fc, __u32 moff, __u32 tin,
				       __u32 ifindex, __u32 reason)
{
	struct fwd_port_bd_key k = { .ifindex = ifindex, .bd = fc->bd };
	struct fwd_port_info *port = bpf_map_lookup_elem(&fwd_port, &ifindex);
	const struct fwd_tags *out;

	/* The port entry's copy of its fwd_port_bd entry saves a hash lookup. */
	if (port && port->egress_vni && port->egress_vni == fc->bd)
		out = &port->egress_tags;
	else
		out = bpf_map_lookup_elem(&fwd_port_bd, &k);
	fc->egress = ifindex;
	if (!out) {
		fc->reason = FWD_CTR_DROP_NO_EGRESS_TAGS;
		return XDP_DROP;
	}
	/* The port's MTU bounds the frame without its VLAN tags (802.1Q): a
	 * decapsulated jumbo frame is dropped here and counted, not silently
	 * by the device. */
	if (!fwd_mtu_ok(ctx, fc, ifindex, -(int)((moff & 0xff) + 4 * (tin & 3))))
		return XDP_DROP;
	if (fwd_rewrite_l2(ctx, moff, tin, out)) {
		fc->reason = FWD_CTR_DROP_ADJUST;
		return XDP_DROP;
	}
	return fwd_redirect(fc, ifindex, reason);
}

static __always_inline __u16 fwd_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * fwd_encap wraps the frame (MACs at 0, tin tags, stripped here) in VXLAN to
 * nexthop nh_id and redirects it to the nexthop's underlay port.
 */
static __always_inline int fwd_encap(struct xdp_md *ctx, struct fwd_fc *fc, const struct fwd_cfg *cfg,
				     __u32 tin, __u32 nh_id)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct fwd_nh_info *nh;
	struct ethhdr *eth;
	struct udphdr *udp;
	struct fwd_vxlan_hdr *vx;
	__u32 outer, inner_len, vni;
	__u8 macs[12];
	int delta;

	fc->nh = nh_id;
	nh = bpf_map_lookup_elem(&fwd_nh, &nh_id);
	if (!nh || !nh->family) {
		fc->reason = FWD_CTR_DROP_NO_NH;
		return XDP_DROP;
	}
	fc->egress = nh->ifindex;
	tin &= 3;
	outer = nh->family == 6 ? FWD_ENCAP6_LEN : FWD_ENCAP4_LEN;
	if (data + 12 > end) {
		fc->reason = FWD_CTR_DROP_RUNT;
		return XDP_DROP;
	}
	inner_len = (__u32)(end - data) - 4 * tin;
	delta = (int)outer - (int)(4 * tin);
	if (!fwd_mtu_ok(ctx, fc, nh->ifindex, delta))
		return XDP_DROP;
	__builtin_memcpy(macs, data, 12);
	if (bpf_xdp_adjust_head(ctx, -delta)) {
		fc->reason = FWD_CTR_DROP_ADJUST;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + FWD_ENCAP4_LEN + 12 > end) {
		fc->reason = FWD_CTR_DROP_ADJUST;
		return XDP_DROP;
	}
	vni = nh->vni ? nh->vni : fc->bd;
	eth = data;
	__builtin_memcpy(eth->h_dest, nh->dmac, 6);
	__builtin_memcpy(eth->h_source, nh->smac, 6);
	if (nh->family == 6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) + 16 + 12 > end) {
			fc->reason = FWD_CTR_DROP_ADJUST;
			return XDP_DROP;
		}
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		*(__be32 *)ip6 = bpf_htonl(0x60000000 | (fc->hash & 0xfffff));
		ip6->payload_len = bpf_htons(inner_len + 16);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = cfg->ttl ? cfg->ttl : 64;
		__builtin_memcpy(&ip6->saddr, nh->saddr, 16);
		__builtin_memcpy(&ip6->daddr, nh->daddr, 16);
		udp = (void *)(ip6 + 1);
		fc->reason = FWD_CTR_TX_ENCAP6;
	} else {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 saddr = fwd_load32(nh->saddr + 12), daddr = fwd_load32(nh->daddr + 12);
		__u16 tot_len = bpf_htons(inner_len + 36);
		__u16 ttl_proto = bpf_htons((cfg->ttl ? cfg->ttl : 64) << 8 | IPPROTO_UDP);
		__u32 sum;

		if ((void *)(ip + 1) + 16 + 12 > end) {
			fc->reason = FWD_CTR_DROP_ADJUST;
			return XDP_DROP;
		}
		/* The header checksum from the values, not read back from the
		 * bytes just written: 16-bit words as they sit in memory. */
		sum = bpf_htons(0x4500) + tot_len + bpf_htons(0x4000) + ttl_proto + (saddr & 0xffff) + (saddr >> 16) +
		      (daddr & 0xffff) + (daddr >> 16);
		eth->h_proto = bpf_htons(ETH_P_IP);
		*(__be16 *)ip = bpf_htons(0x4500); /* version 4, IHL 5, TOS 0 */
		ip->tot_len = tot_len;
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000); /* DF */
		*(__u16 *)&ip->ttl = ttl_proto;
		ip->check = fwd_csum_fold(sum);
		ip->saddr = saddr;
		ip->daddr = daddr;
		udp = (void *)(ip + 1);
		fc->reason = FWD_CTR_TX_ENCAP4;
	}
	udp->source = bpf_htons(FWD_UDP_SPORT_MIN | (fc->hash >> 18));
	udp->dest = bpf_htons(cfg->vxlan_port ? cfg->vxlan_port : FWD_VXLAN_PORT);
	udp->len = bpf_htons(inner_len + 16);
	udp->check = 0;
	vx = (void *)(udp + 1);
	vx->flags = FWD_VXLAN_FLAG_I;
	vx->_rsvd1[0] = 0;
	vx->_rsvd1[1] = 0;
	vx->_rsvd1[2] = 0;
	vx->vni = bpf_htonl(vni << 8);
	__builtin_memcpy((void *)(vx + 1), macs, 12);
	return fwd_redirect(fc, nh->ifindex, fc->reason);
}

#endif /* FWD_VXLAN_H */
