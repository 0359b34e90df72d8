//go:build ignore
/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fwd_xdp.c: the L2 fast path. One program on every access port and uplink.
 *
 * Access port in: Ethernet + up to two VLAN tags -> BD; source MAC check and
 * learn event; destination MAC -> FDB -> local port, remote VTEP, or ES; an ES
 * -> its local port when attached and up, else its group -> bucket by flow
 * hash -> primary or precomputed backup -> VXLAN encap -> uplink.
 *
 * Uplink in: only UDP to the VXLAN port, from a known VTEP, to one of our VTEP
 * addresses, is ours; everything else goes to the kernel untouched. Decap,
 * VNI -> BD, inner FDB -> local port or local ES port; a local ES whose port
 * is down -> re-encap to the ES peers unless the sender is one of them.
 *
 * Broadcast, multicast and unknown unicast are counted and passed to the
 * kernel until BUM replication lands.
 */
#include "fwd.h"
#include "maps.h"
#include "parse.h"
#include "nhg.h"
#include "vxlan.h"
#include "fdb.h"

char __license[] SEC("license") = "Dual BSD/GPL";

/* Static checks on the layouts Go reads. */
_Static_assert(FWD_CTR__LEN <= FWD_COUNTER_SLOTS, "counter map too small");
_Static_assert(sizeof(struct fwd_nhg) == 8 + 8 * FWD_NHG_BUCKETS, "fwd_nhg layout");
_Static_assert(sizeof(struct fwd_nh_info) == 56, "fwd_nh layout");
_Static_assert(sizeof(struct fwd_es_info) == 24, "fwd_es layout");
_Static_assert(sizeof(struct fwd_tun_cache_entry) == 48, "fwd_tun_cache layout");
_Static_assert(sizeof(struct fwd_fdb_cache_set) == 64, "an FDB cache set is one cache line");

/* Keep the learn event's type in BTF for bpf2go; the ring buffer has none. */
const struct fwd_learn_event *fwd_unused_learn_event __attribute__((unused));

static const struct fwd_cfg fwd_default_config = {
	.vxlan_port = FWD_VXLAN_PORT,
	.ttl = 64,
};

static __always_inline int fwd_is_mcast(const __u8 *mac)
{
	return mac[0] & 1;
}

/* fwd_finish counts the outcome and, when tracing, records the decision. */
static __always_inline int fwd_finish(const struct fwd_cfg *cfg, struct fwd_fc *fc, int action)
{
	fwd_count(fc->reason);
	if (cfg->trace) {
		__u32 zero = 0;
		struct fwd_trace_rec *t = bpf_map_lookup_elem(&fwd_trace, &zero);

		if (t) {
			t->seq++;
			t->action = action;
			t->reason = fc->reason;
			t->bd = fc->bd;
			t->egress = fc->egress;
			t->nh = fc->nh;
			t->nhg = fc->nhg;
			t->es_id = fc->es_id;
			t->hash = fc->hash;
			t->fdb_kind = fc->fdb_kind;
			t->backup = fc->backup;
		}
	}
	return action;
}

/* fwd_to_es sends a frame (MACs at 0, tin tags) towards ES es_id. */
static __always_inline int fwd_to_es(struct xdp_md *ctx, struct fwd_fc *fc, const struct fwd_cfg *cfg,
				     __u32 es_id, __u32 tin, __u32 l3off, __u16 proto)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct fwd_es_info *es;
	__u32 nhg, nh;

	fc->es_id = es_id;
	es = bpf_map_lookup_elem(&fwd_es, &es_id);
	if (!es || (!es->flags && !es->nhg)) {
		fc->reason = FWD_CTR_DROP_NO_ES;
		return XDP_DROP;
	}
	if (es->flags & FWD_ES_LOCAL) {
		if (!fwd_bit_down(&fwd_es_down, es_id))
			return fwd_deliver(ctx, fc, 0, tin, es->ifindex, FWD_CTR_TX_ES_LOCAL);
		nhg = es->backup_nhg;
	} else {
		nhg = es->nhg;
	}
	fc->hash = fwd_flow_hash(data, end, l3off, proto);
	nh = fwd_nhg_select(fc, nhg, fc->hash);
	if (!nh)
		return XDP_DROP;
	return fwd_encap(ctx, fc, cfg, tin, nh);
}

static __always_inline int fwd_access(struct xdp_md *ctx, struct fwd_fc *fc, const struct fwd_cfg *cfg,
				      const struct fwd_port_info *port, __u32 ifindex)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct fwd_vlan_key vk = { .ifindex = ifindex };
	const struct fwd_bd_info *bd;
	struct fwd_fdb_entry fe, *e = &fe;
	struct ethhdr *eth = data;
	struct fwd_l2 l2;
	__u32 l3off, reason;

	fwd_count(FWD_CTR_RX_ACCESS);
	fc->fdb_gen = fwd_fdb_generation();
	reason = fwd_parse_l2(data, end, &l2);
	if (reason) {
		fc->reason = reason;
		return XDP_DROP;
	}
	if ((void *)(eth + 1) > end) {
		fc->reason = FWD_CTR_DROP_RUNT;
		return XDP_DROP;
	}
	l3off = 14 + 4 * (l2.ntags & 3);
	if (l2.ntags) {
		vk.outer = l2.outer;
		vk.inner = l2.inner;
		bd = bpf_map_lookup_elem(&fwd_vlan_bd, &vk);
	} else {
		bd = &port->untagged;
	}
	if (!bd || !bd->idx) {
		fc->reason = FWD_CTR_PASS_NO_BD;
		return XDP_PASS;
	}
	fc->bd = bd->vni;
	fc->bd_idx = bd->idx;
	if (fwd_is_mcast(eth->h_source)) {
		fc->reason = FWD_CTR_DROP_SRC_MCAST;
		return XDP_DROP;
	}
	if (fwd_learn_check(fc, cfg, port, ifindex, &l2, eth->h_source))
		return XDP_DROP;
	if (fwd_is_mcast(eth->h_dest)) {
		fc->reason = FWD_CTR_PASS_BUM;
		return XDP_PASS;
	}
	if (!fwd_fdb_get(fwd_fdb_make_key(fc->bd_idx, eth->h_dest), fc->fdb_gen, &fe)) {
		fc->reason = FWD_CTR_PASS_UNKNOWN_UCAST;
		return XDP_PASS;
	}
	fc->fdb_kind = e->kind;
	if (e->flags & FWD_FDB_ROUTER) {
		fc->reason = FWD_CTR_PASS_ROUTER_MAC;
		return XDP_PASS;
	}
	switch (e->kind) {
	case FWD_FDB_LOCAL:
		if (e->ref == ifindex) {
			fc->egress = ifindex;
			fc->reason = FWD_CTR_DROP_HAIRPIN;
			return XDP_DROP;
		}
		return fwd_deliver(ctx, fc, 0, l2.ntags, e->ref, FWD_CTR_TX_LOCAL);
	case FWD_FDB_VTEP:
		if (fwd_bit_down(&fwd_nh_down, e->ref)) {
			fc->nh = e->ref;
			fc->reason = FWD_CTR_DROP_NH_DOWN;
			return XDP_DROP;
		}
		fc->hash = fwd_flow_hash(data, end, l3off, l2.proto);
		return fwd_encap(ctx, fc, cfg, l2.ntags, e->ref);
	case FWD_FDB_ES:
		if (port->es_id && port->es_id == e->ref) {
			fc->es_id = e->ref;
			fc->reason = FWD_CTR_DROP_HAIRPIN;
			return XDP_DROP;
		}
		return fwd_to_es(ctx, fc, cfg, e->ref, l2.ntags, l3off, l2.proto);
	}
	fc->reason = FWD_CTR_PASS_UNKNOWN_UCAST;
	return XDP_PASS;
}

/*
 * fwd_outer parses the underlay headers. Returns 0, the VXLAN header's
 * offset and the outer addresses (IPv4 as IPv4-mapped) when the frame is UDP
 * to the VXLAN port; otherwise the PASS_* reason (DROP_RUNT for a runt).
 */
static __always_inline __u32 fwd_outer(void *data, void *end, const struct fwd_cfg *cfg, __u32 *vxoff,
				       struct fwd_vtep_key *src, struct fwd_vtep_key *dst)
{
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u16 port = cfg->vxlan_port ? cfg->vxlan_port : FWD_VXLAN_PORT;

	if ((void *)(eth + 1) > end)
		return FWD_CTR_DROP_RUNT;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			return FWD_CTR_PASS_TRUNCATED;
		if (ip->version != 4 || ip->ihl < 5)
			return FWD_CTR_PASS_NOT_VXLAN;
		if (ip->protocol != IPPROTO_UDP)
			return FWD_CTR_PASS_NOT_VXLAN;
		if (ip->frag_off & bpf_htons(0x3fff))
			return FWD_CTR_PASS_FRAGMENT;
		ihl = (ip->ihl & 0xf) * 4;
		udp = (void *)ip + ihl;
		if ((void *)(udp + 1) > end)
			return FWD_CTR_PASS_TRUNCATED;
		if (udp->dest != bpf_htons(port))
			return FWD_CTR_PASS_NOT_VXLAN;
		src->addr[10] = 0xff;
		src->addr[11] = 0xff;
		__builtin_memcpy(&src->addr[12], &ip->saddr, 4);
		dst->addr[10] = 0xff;
		dst->addr[11] = 0xff;
		__builtin_memcpy(&dst->addr[12], &ip->daddr, 4);
		*vxoff = 14 + ihl + 8;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return FWD_CTR_PASS_TRUNCATED;
		if (ip6->version != 6)
			return FWD_CTR_PASS_NOT_VXLAN;
		if (ip6->nexthdr != IPPROTO_UDP) {
			switch (ip6->nexthdr) {
			case 0:  /* hop-by-hop */
			case 43: /* routing */
			case 44: /* fragment */
			case 60: /* destination options */
				return FWD_CTR_PASS_IPV6_EXT;
			}
			return FWD_CTR_PASS_NOT_VXLAN;
		}
		udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > end)
			return FWD_CTR_PASS_TRUNCATED;
		if (udp->dest != bpf_htons(port))
			return FWD_CTR_PASS_NOT_VXLAN;
		__builtin_memcpy(src->addr, &ip6->saddr, 16);
		__builtin_memcpy(dst->addr, &ip6->daddr, 16);
		*vxoff = 14 + 40 + 8;
	} else {
		return FWD_CTR_PASS_NOT_VXLAN;
	}
	return 0;
}

/* fwd_vtep_check: 0 when dst is one of our VTEPs and src a remote VTEP;
 * otherwise the PASS_* reason. */
static __always_inline __u32 fwd_vtep_check(const struct fwd_vtep_key *src, const struct fwd_vtep_key *dst)
{
	struct fwd_vtep_info *v = bpf_map_lookup_elem(&fwd_vtep, dst);

	if (!v || !(v->flags & FWD_VTEP_LOCAL))
		return FWD_CTR_PASS_NOT_LOCAL_VTEP;
	v = bpf_map_lookup_elem(&fwd_vtep, src);
	if (!v || !(v->flags & FWD_VTEP_REMOTE))
		return FWD_CTR_PASS_UNKNOWN_VTEP;
	return 0;
}

static __always_inline int fwd_key_eq(const struct fwd_vtep_key *a, const struct fwd_vtep_key *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]));
}

/* fwd_tun_slot returns this CPU's cache entry for (src, dst, vni). */
static __always_inline struct fwd_tun_cache_entry *fwd_tun_slot(const struct fwd_vtep_key *src,
								const struct fwd_vtep_key *dst, __u32 vni)
{
	__u32 h = (fwd_load32(&src->addr[12]) * 0x9e3779b1u) ^ fwd_load32(&dst->addr[12]) ^ (vni * 0x85ebca6bu);
	__u32 i = (h ^ (h >> 16)) & (FWD_TUN_CACHE_SETS - 1);

	return bpf_map_lookup_elem(&fwd_tun_cache, &i);
}

/* fwd_tun_get: the cached BD of a tunnel, or NULL. gen is fwd_tun_gen as
 * read once for this frame. */
static __always_inline const struct fwd_bd_info *fwd_tun_get(struct fwd_tun_cache_entry *c,
							     const struct fwd_vtep_key *src,
							     const struct fwd_vtep_key *dst, __u32 vni, __u32 gen)
{
	if (!c || !c->bd.idx || c->vni != vni || c->gen != gen || !fwd_key_eq(&c->src, src) ||
	    !fwd_key_eq(&c->dst, dst))
		return NULL;
	return &c->bd;
}

static __always_inline __u32 fwd_tun_generation(void)
{
	__u32 zero = 0;
	__u32 *g = bpf_map_lookup_elem(&fwd_tun_gen, &zero);

	return g ? READ_ONCE_U32(g) : 0;
}

static __always_inline int fwd_uplink(struct xdp_md *ctx, struct fwd_fc *fc, const struct fwd_cfg *cfg)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct fwd_vtep_key src __attribute__((aligned(8))) = {};
	struct fwd_vtep_key dst __attribute__((aligned(8))) = {};
	struct fwd_tun_cache_entry *tc = NULL;
	struct fwd_fdb_entry fe, *e = &fe;
	const struct fwd_bd_info *bd = NULL;
	struct fwd_vxlan_hdr *vx;
	struct ethhdr *ieth;
	struct fwd_es_info *es;
	__u32 vxoff = 0, moff, reason, vni = 0, tun_gen = 0;

	fwd_count(FWD_CTR_RX_UPLINK);
	fc->fdb_gen = fwd_fdb_generation();
	reason = fwd_outer(data, end, cfg, &vxoff, &src, &dst);
	if (reason) {
		fc->reason = reason;
		return reason == FWD_CTR_DROP_RUNT ? XDP_DROP : XDP_PASS;
	}
	vxoff &= 0xff;
	vx = data + vxoff;
	/* A tunnel seen before skips the VTEP and VNI hash lookups; the
	 * outcomes and their order are those of the lookups. */
	if ((void *)(vx + 1) <= end) {
		vni = bpf_ntohl(vx->vni) >> 8;
		tun_gen = fwd_tun_generation();
		tc = fwd_tun_slot(&src, &dst, vni);
		bd = fwd_tun_get(tc, &src, &dst, vni, tun_gen);
	}
	if (!bd) {
		reason = fwd_vtep_check(&src, &dst);
		if (reason) {
			fc->reason = reason;
			return XDP_PASS;
		}
	}
	if ((void *)(vx + 1) > end) {
		fc->reason = FWD_CTR_DROP_TRUNCATED;
		return XDP_DROP;
	}
	if (!(vx->flags & FWD_VXLAN_FLAG_I)) {
		fc->reason = FWD_CTR_DROP_VXLAN_FLAGS;
		return XDP_DROP;
	}
	if (!bd) {
		bd = bpf_map_lookup_elem(&fwd_bd, &vni);
		if (!bd) {
			fc->reason = FWD_CTR_PASS_UNKNOWN_VNI;
			return XDP_PASS;
		}
		if (tc && bd->idx) {
			tc->src = src;
			tc->dst = dst;
			tc->vni = vni;
			tc->gen = tun_gen;
			tc->bd = *bd;
		}
	}
	fc->bd = vni;
	fc->bd_idx = bd->idx;
	moff = vxoff + sizeof(*vx);
	ieth = data + moff;
	if ((void *)(ieth + 1) > end) {
		fc->reason = FWD_CTR_DROP_TRUNCATED;
		return XDP_DROP;
	}
	if (fwd_is_vlan(ieth->h_proto)) {
		fc->reason = FWD_CTR_DROP_INNER_TAGGED;
		return XDP_DROP;
	}
	if (fwd_is_mcast(ieth->h_dest)) {
		fc->reason = FWD_CTR_PASS_DECAP_BUM;
		return XDP_PASS;
	}
	if (!fwd_fdb_get(fwd_fdb_make_key(fc->bd_idx, ieth->h_dest), fc->fdb_gen, &fe)) {
		fc->reason = FWD_CTR_PASS_DECAP_UNKNOWN;
		return XDP_PASS;
	}
	fc->fdb_kind = e->kind;
	if (e->flags & FWD_FDB_ROUTER) {
		fc->reason = FWD_CTR_PASS_DECAP_ROUTER;
		return XDP_PASS;
	}
	if (e->kind == FWD_FDB_LOCAL)
		return fwd_deliver(ctx, fc, moff, 0, e->ref, FWD_CTR_TX_DECAP);
	if (e->kind != FWD_FDB_ES) {
		fc->reason = FWD_CTR_DROP_DECAP_REMOTE;
		return XDP_DROP;
	}
	fc->es_id = e->ref;
	es = bpf_map_lookup_elem(&fwd_es, &fe.ref);
	if (!es || (!es->flags && !es->nhg)) {
		fc->reason = FWD_CTR_DROP_NO_ES;
		return XDP_DROP;
	}
	if (!(es->flags & FWD_ES_LOCAL)) {
		fc->reason = FWD_CTR_DROP_DECAP_REMOTE;
		return XDP_DROP;
	}
	if (!fwd_bit_down(&fwd_es_down, e->ref))
		return fwd_deliver(ctx, fc, moff, 0, es->ifindex, FWD_CTR_TX_DECAP_ES);

	/* Our port on the ES is down: hand the frame to an ES peer, unless it
	 * came from one (it would come straight back). */
	{
		struct fwd_es_peer_key pk = { .es_id = e->ref };
		struct fwd_tags none = {};
		__u32 nhg = es->backup_nhg, nh;
		int ret;

		__builtin_memcpy(pk.addr, src.addr, 16);
		if (bpf_map_lookup_elem(&fwd_es_peers, &pk)) {
			fc->reason = FWD_CTR_DROP_DECAP_LOOP;
			return XDP_DROP;
		}
		if (fwd_rewrite_l2(ctx, moff, 0, &none)) {
			fc->reason = FWD_CTR_DROP_ADJUST;
			return XDP_DROP;
		}
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		if (data + 14 > end) {
			fc->reason = FWD_CTR_DROP_TRUNCATED;
			return XDP_DROP;
		}
		fc->hash = fwd_flow_hash(data, end, 14, ((struct ethhdr *)data)->h_proto);
		nh = fwd_nhg_select(fc, nhg, fc->hash);
		if (!nh)
			return XDP_DROP;
		ret = fwd_encap(ctx, fc, cfg, 0, nh);
		if (ret == XDP_REDIRECT)
			fc->reason = FWD_CTR_TX_DECAP_REENCAP;
		return ret;
	}
}

SEC("xdp")
int fwd_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0, ifindex = ctx->ingress_ifindex;
	const struct fwd_cfg *cfg = bpf_map_lookup_elem(&fwd_config, &zero);
	struct fwd_fc fc = {};
	struct fwd_port_info *port;

	if (!cfg)
		cfg = &fwd_default_config;
	port = bpf_map_lookup_elem(&fwd_port, &ifindex);
	if (!port || !port->role) {
		fwd_count(FWD_CTR_RX_OTHER);
		fc.reason = FWD_CTR_PASS_NOT_PORT;
		return fwd_finish(cfg, &fc, XDP_PASS);
	}
	if (port->role == FWD_ROLE_UPLINK)
		return fwd_finish(cfg, &fc, fwd_uplink(ctx, &fc, cfg));
	if (port->role == FWD_ROLE_ACCESS)
		return fwd_finish(cfg, &fc, fwd_access(ctx, &fc, cfg, port, ifindex));
	fwd_count(FWD_CTR_RX_OTHER);
	fc.reason = FWD_CTR_PASS_NOT_PORT;
	return fwd_finish(cfg, &fc, XDP_PASS);
}
