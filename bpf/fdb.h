/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* fdb.h: source MAC checks and rate-limited learn events. */
#ifndef FWD_FDB_H
#define FWD_FDB_H

#include "parse.h"

/* fwd_fdb_make_key builds the FDB key of mac in the BD with index bd_idx. */
static __always_inline __u64 fwd_fdb_make_key(__u16 bd_idx, const __u8 *mac)
{
	return (__u64)bd_idx << 48 | (__u64)mac[0] << 40 | (__u64)mac[1] << 32 | (__u64)mac[2] << 24 |
	       (__u64)mac[3] << 16 | (__u64)mac[4] << 8 | (__u64)mac[5];
}

/* fwd_fdb_lookup finds key in the open-addressing FDB. Returns 1 and fills
 * out on a hit. */
static __always_inline int fwd_fdb_lookup(__u64 key, struct fwd_fdb_entry *out)
{
	__u32 idx = (__u32)((key * FWD_FDB_HASH_MUL) >> 32);

	for (int i = 0; i < FWD_FDB_PROBES; i++) {
		__u32 k = (idx + i) & fwd_fdb_mask;
		struct fwd_fdb_slot *s = bpf_map_lookup_elem(&fwd_fdb, &k);
		__u64 sk, v;

		if (!s)
			return 0;
		sk = READ_ONCE_U64(&s->key);
		if (sk == key) {
			v = READ_ONCE_U64(&s->val);
			out->kind = v;
			out->flags = v >> 8;
			out->ref = (__u16)(v >> 16);
			return 1;
		}
		if (!sk)
			return 0;
	}
	return 0;
}

/* fwd_fdb_get looks key up through this CPU's cache, filling it on a miss.
 * gen is fwd_fdb_gen as read once for this frame. */
static __always_inline int fwd_fdb_get(__u64 key, __u32 gen, struct fwd_fdb_entry *out)
{
	__u32 si = (__u32)((key * FWD_FDB_HASH_MUL) >> 40) & fwd_fdb_cache_mask;
	struct fwd_fdb_cache_set *set = bpf_map_lookup_elem(&fwd_fdb_cache, &si);
	__u32 v;

	if (set) {
#pragma unroll
		for (int w = 0; w < FWD_FDB_CACHE_WAYS; w++) {
			if (set->way[w].key == key && set->way[w].gen == gen) {
				v = set->way[w].val;
				goto hit;
			}
		}
	}
	if (!fwd_fdb_lookup(key, out))
		return 0;
	if (set) {
		/* The new entry goes first; the oldest fill drops out. */
#pragma unroll
		for (int w = FWD_FDB_CACHE_WAYS - 1; w > 0; w--)
			set->way[w] = set->way[w - 1];
		set->way[0].key = key;
		set->way[0].val = (__u32)out->ref << 16 | (__u32)out->flags << 8 | out->kind;
		set->way[0].gen = gen;
	}
	return 1;
hit:
	out->kind = v;
	out->flags = v >> 8;
	out->ref = v >> 16;
	return 1;
}

/* fwd_fdb_generation reads the FDB's write generation once per frame. */
static __always_inline __u32 fwd_fdb_generation(void)
{
	__u32 zero = 0;
	__u32 *g = bpf_map_lookup_elem(&fwd_fdb_gen, &zero);

	return g ? READ_ONCE_U32(g) : 0;
}

/* fwd_learn_allow takes a token from this CPU's learn bucket. */
static __always_inline int fwd_learn_allow(const struct fwd_cfg *cfg)
{
	__u32 zero = 0;
	struct fwd_learn_bucket *b = bpf_map_lookup_elem(&fwd_learn_rl, &zero);
	__u64 now, elapsed, cap;

	if (!b || !cfg->learn_rate)
		return 0;
	now = bpf_ktime_get_ns();
	elapsed = now - b->last_ns;
	if (elapsed > 1000000000ULL)
		elapsed = 1000000000ULL;
	cap = (__u64)cfg->learn_burst * 1000;
	b->tokens_milli += elapsed * cfg->learn_rate / 1000000;
	if (b->tokens_milli > cap)
		b->tokens_milli = cap;
	b->last_ns = now;
	if (b->tokens_milli < 1000)
		return 0;
	b->tokens_milli -= 1000;
	return 1;
}

/*
 * fwd_learn_check checks the source MAC of a frame that came in on an access port.
 * A MAC already known on this port (or on this port's ES) costs one lookup.
 * A new or moved MAC produces a learn event, within the rate limit. Returns
 * non-zero when the frame must be dropped (a sticky MAC seen elsewhere), with
 * fc->reason set.
 */
static __always_inline int fwd_learn_check(struct fwd_fc *fc, const struct fwd_cfg *cfg,
				     const struct fwd_port_info *port, __u32 ifindex,
				     const struct fwd_l2 *l2, const __u8 *smac)
{
	struct fwd_learn_event ev = {};
	struct fwd_fdb_entry e;

	if (fwd_fdb_get(fwd_fdb_make_key(fc->bd_idx, smac), fc->fdb_gen, &e)) {
		if (e.kind == FWD_FDB_LOCAL && e.ref == ifindex)
			return 0;
		if (e.kind == FWD_FDB_ES && port->es_id && e.ref == port->es_id)
			return 0;
		if (e.flags & FWD_FDB_STICKY) {
			fc->reason = FWD_CTR_DROP_STICKY;
			return -1;
		}
		ev.old_kind = e.kind;
		ev.old_ref = e.ref;
	}
	if (!(port->flags & FWD_PORT_LEARN))
		return 0;
	if (!fwd_learn_allow(cfg)) {
		fwd_count(FWD_CTR_LEARN_RATE_LIMITED);
		return 0;
	}
	ev.bd = fc->bd;
	ev.ifindex = ifindex;
	ev.es_id = port->es_id;
	ev.outer = l2->outer;
	ev.inner = l2->inner;
	__builtin_memcpy(ev.mac, smac, 6);
	if (bpf_ringbuf_output(&fwd_learn, &ev, sizeof(ev), 0))
		fwd_count(FWD_CTR_LEARN_RINGBUF_FULL);
	else
		fwd_count(FWD_CTR_LEARN_EVENT);
	return 0;
}

#endif /* FWD_FDB_H */
