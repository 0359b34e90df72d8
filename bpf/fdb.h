/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* fdb.h: source MAC checks and rate-limited learn events. */
#ifndef FWD_FDB_H
#define FWD_FDB_H

#include "parse.h"

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
	struct fwd_fdb_key k = { .bd = fc->bd };
	struct fwd_learn_event ev = {};
	struct fwd_fdb_entry *e;

	__builtin_memcpy(k.mac, smac, 6);
	e = bpf_map_lookup_elem(&fwd_fdb, &k);
	if (e) {
		if (e->kind == FWD_FDB_LOCAL && e->ref == ifindex)
			return 0;
		if (e->kind == FWD_FDB_ES && port->es_id && e->ref == port->es_id)
			return 0;
		if (e->flags & FWD_FDB_STICKY) {
			fc->reason = FWD_CTR_DROP_STICKY;
			return -1;
		}
		ev.old_kind = e->kind;
		ev.old_ref = e->ref;
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
