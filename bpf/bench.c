//go:build ignore
/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench.c: the benchmark harness's programs.
 *
 * fwd_gen runs under BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: the kernel
 * hands it the template frame again and again, and it stamps each copy with a
 * flow (destination MAC, UDP source port, flow id) before sending it on.
 *
 * fwd_sink sits on the far end of the path under test and counts what
 * arrives, in total and per flow, then drops it.
 *
 * fwd_floor is the reference: a program that only redirects to the place
 * fwd would send the frame, so that fwd's cost is measured against the
 * harness's own.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bench.h"

char __license[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_gen_cfg);
} fwd_gen_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fwd_gen_seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_sink_cfg);
} fwd_sink_config SEC(".maps");

/* Slot FWD_BENCH_MAX_FLOWS counts every frame; slots below it count flows. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_BENCH_MAX_FLOWS + 1);
	__type(key, __u32);
	__type(value, __u64);
} fwd_sink_count SEC(".maps");

/* Frames per last byte of the address at addr_off: which VTEP they went to. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} fwd_sink_addr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fwd_floor_tx SEC(".maps");

SEC("xdp")
int fwd_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 zero = 0, flow, m;
	struct fwd_gen_cfg *cfg = bpf_map_lookup_elem(&fwd_gen_config, &zero);
	__u64 *seq = bpf_map_lookup_elem(&fwd_gen_seq, &zero);
	__u8 *p;

	if (!cfg || !seq)
		return XDP_ABORTED;
	flow = cfg->flows > 1 ? (__u32)(*seq % cfg->flows) : 0;
	*seq += 1;
	if (cfg->macs > 1) {
		m = cfg->mac_base + (flow % cfg->macs) * cfg->mac_stride;
		p = data + (cfg->dmac_off & 0xff) + 3;
		if ((void *)(p + 3) > end)
			return XDP_ABORTED;
		p[0] = m >> 16;
		p[1] = m >> 8;
		p[2] = m;
	}
	if (cfg->sport_off) {
		__u16 sport = 1024 + flow % 60000;

		p = data + (cfg->sport_off & 0x1ff);
		if ((void *)(p + 2) > end)
			return XDP_ABORTED;
		p[0] = sport >> 8;
		p[1] = sport;
	}
	if (cfg->id_off) {
		p = data + (cfg->id_off & 0x1ff);
		if ((void *)(p + 4) > end)
			return XDP_ABORTED;
		p[0] = flow >> 24;
		p[1] = flow >> 16;
		p[2] = flow >> 8;
		p[3] = flow;
	}
	if (cfg->tx_ifindex)
		return bpf_redirect(cfg->tx_ifindex, 0);
	return XDP_TX;
}

static __always_inline void fwd_sink_inc(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&fwd_sink_count, &slot);

	if (v)
		*v += 1;
}

SEC("xdp")
int fwd_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct fwd_sink_cfg *cfg = bpf_map_lookup_elem(&fwd_sink_config, &zero);
	__u8 *p;

	fwd_sink_inc(FWD_BENCH_MAX_FLOWS);
	if (!cfg)
		return XDP_DROP;
	if (cfg->addr_off) {
		p = data + (cfg->addr_off & 0x1ff) + 3;
		if ((void *)(p + 1) <= end) {
			__u32 last = *p;
			__u64 *v = bpf_map_lookup_elem(&fwd_sink_addr, &last);

			if (v)
				*v += 1;
		}
	}
	if (!cfg->id_off)
		return XDP_DROP;
	p = data + (cfg->id_off & 0x1ff);
	if ((void *)(p + 4) > end)
		return XDP_DROP;
	{
		__u32 flow = (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];

		if (flow < cfg->flows && flow < FWD_BENCH_MAX_FLOWS)
			fwd_sink_inc(flow);
	}
	return XDP_DROP;
}

SEC("xdp")
int fwd_floor(struct xdp_md *ctx)
{
	return bpf_redirect_map(&fwd_floor_tx, 0, XDP_DROP);
}

/* fwd_pass lets the kernel have every frame: a veth peer with an XDP program
 * has NAPI, which redirected frames need. */
SEC("xdp")
int fwd_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
