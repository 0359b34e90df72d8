/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* maps.h: every map of the fast path. Layouts live in fwd.h. */
#ifndef FWD_MAPS_H
#define FWD_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "fwd.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FWD_MAX_IFINDEX);
	__type(key, __u32);
	__type(value, struct fwd_port_info);
} fwd_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_PORTS * 64);
	__type(key, struct fwd_vlan_key);
	__type(value, struct fwd_bd_info);
} fwd_vlan_bd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_PORTS * 64);
	__type(key, struct fwd_port_bd_key);
	__type(value, struct fwd_tags);
} fwd_port_bd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_BD);
	__type(key, __u32);
	__type(value, struct fwd_bd_info);
} fwd_bd SEC(".maps");

/* The loader sizes it (a power of two) and sets fwd_fdb_mask to match. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, FWD_FDB_SLOTS_DEFAULT);
	__type(key, __u32);
	__type(value, struct fwd_fdb_slot);
} fwd_fdb SEC(".maps");

const volatile __u32 fwd_fdb_mask = FWD_FDB_SLOTS_DEFAULT - 1;

/* The loader may size it (a power of two) and sets fwd_fdb_cache_mask. */
const volatile __u32 fwd_fdb_cache_mask = FWD_FDB_CACHE_SETS - 1;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_FDB_CACHE_SETS);
	__type(key, __u32);
	__type(value, struct fwd_fdb_cache_set);
} fwd_fdb_cache SEC(".maps");

/* The FDB's write generation: bumped by user space after every write. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fwd_fdb_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FWD_MAX_ES);
	__type(key, __u32);
	__type(value, struct fwd_es_info);
} fwd_es SEC(".maps");

/* One bit per ES: its local port is down. Flipped with one atomic store. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, FWD_MAX_ES / 32);
	__type(key, __u32);
	__type(value, __u32);
} fwd_es_down SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FWD_MAX_NH);
	__type(key, __u32);
	__type(value, struct fwd_nh_info);
} fwd_nh SEC(".maps");

/* One bit per nexthop: it is down. Flipped with one atomic store. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, FWD_MAX_NH / 32);
	__type(key, __u32);
	__type(value, __u32);
} fwd_nh_down SEC(".maps");

/* Group id -> the slot of its current version. One aligned u32, replaced
 * with one atomic store from user space; 0 = no group. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, FWD_MAX_NHG);
	__type(key, __u32);
	__type(value, __u32);
} fwd_nhg_active SEC(".maps");

/* Immutable group versions. A slot is written (by user space, through its
 * mapping: no syscall) only while no group points at it and no reader can
 * still hold it (a grace period after its retirement). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, FWD_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct fwd_nhg);
} fwd_nhg_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_VTEPS);
	__type(key, struct fwd_vtep_key);
	__type(value, struct fwd_vtep_info);
} fwd_vtep SEC(".maps");

/* The write generation of fwd_vtep and fwd_bd, for fwd_tun_cache: bumped
 * by user space after every write to either. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fwd_tun_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_TUN_CACHE_SETS);
	__type(key, __u32);
	__type(value, struct fwd_tun_cache_entry);
} fwd_tun_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FWD_MAX_VTEPS * 8);
	__type(key, struct fwd_es_peer_key);
	__type(value, __u8);
} fwd_es_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, FWD_MAX_IFINDEX);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} fwd_tx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_cfg);
} fwd_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} fwd_learn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_learn_bucket);
} fwd_learn_rl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} fwd_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_trace_rec);
} fwd_trace SEC(".maps");

#endif /* FWD_MAPS_H */
