/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bench.h: the types the benchmark programs share with Go. */
#ifndef FWD_BENCH_H
#define FWD_BENCH_H

#include <linux/types.h>

#define FWD_BENCH_MAX_FLOWS 65536

/*
 * fwd_gen_cfg: how the generator turns its one template frame into many
 * flows. Frame n of the run belongs to flow n % flows. For flow f it writes:
 * the destination MAC's low three bytes = mac_base + (f % macs) * mac_stride,
 * the UDP source port = 1024 + f % 60000, and the flow id (big endian) at
 * id_off, where the sink reads it back.
 */
struct fwd_gen_cfg {
	__u32 flows;
	__u32 macs;
	__u32 mac_stride;
	__u32 mac_base;
	__u16 dmac_off;  /* offset of the destination MAC (0, or inner) */
	__u16 sport_off; /* offset of the UDP source port, 0 = leave */
	__u16 id_off;    /* offset of the 4-byte flow id */
	__u16 _pad;
	__u32 tx_ifindex; /* 0: XDP_TX; else redirect there */
};

/* fwd_sink_cfg: where the sink finds the flow id in what arrives. */
struct fwd_sink_cfg {
	__u16 id_off;
	__u16 addr_off; /* offset of an IPv4 address whose last byte is counted, 0 = off */
	__u32 flows;
};

#endif /* FWD_BENCH_H */
