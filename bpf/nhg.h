/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* nhg.h: nexthop groups: active slot -> immutable version -> bucket. */
#ifndef FWD_NHG_H
#define FWD_NHG_H

#include "parse.h"

/* fwd_bit_down reports whether bit id of a down bitmap is set. */
static __always_inline int fwd_bit_down(void *map, __u32 id)
{
	__u32 word = id >> 5;
	__u32 *w = bpf_map_lookup_elem(map, &word);

	if (!w)
		return 1; /* out of range: never usable */
	return (READ_ONCE_U32(w) >> (id & 31)) & 1;
}

/*
 * fwd_nhg_select picks the nexthop of group nhg for a flow hash: the bucket's
 * primary, or its precomputed backup when the primary's down bit is set.
 * Returns the nexthop id, or 0 with fc->reason set.
 */
static __always_inline __u32 fwd_nhg_select(struct fwd_fc *fc, __u32 nhg, __u32 hash)
{
	struct fwd_nhg *g;
	struct fwd_nhg_bucket *b;
	__u32 *active, slot, idx;

	fc->nhg = nhg;
	active = bpf_map_lookup_elem(&fwd_nhg_active, &nhg);
	if (!active) {
		fc->reason = FWD_CTR_DROP_NO_NHG;
		return 0;
	}
	/* One load: the writer flips this word atomically. */
	slot = READ_ONCE_U32(active);
	if (!slot) {
		fc->reason = FWD_CTR_DROP_NO_NHG;
		return 0;
	}
	g = bpf_map_lookup_elem(&fwd_nhg_slot, &slot);
	if (!g || !g->nbuckets) {
		fc->reason = FWD_CTR_DROP_NO_NHG;
		return 0;
	}
	idx = hash & (g->nbuckets - 1) & (FWD_NHG_BUCKETS - 1);
	b = &g->buckets[idx];
	if (b->primary && !fwd_bit_down(&fwd_nh_down, b->primary))
		return b->primary;
	if (b->backup && !fwd_bit_down(&fwd_nh_down, b->backup)) {
		fc->backup = 1;
		fwd_count(FWD_CTR_NH_BACKUP);
		return b->backup;
	}
	fc->reason = FWD_CTR_DROP_NH_DOWN;
	return 0;
}

#endif /* FWD_NHG_H */
