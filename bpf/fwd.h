/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fwd.h: the types shared by the XDP fast path and the Go dataplane package.
 *
 * This header is the single source of truth for every map layout: bpf2go
 * generates the Go structs from these definitions (-type), so change a layout
 * here and run `make generate`. Every struct is explicitly padded so that C and
 * Go agree byte for byte.
 */
#ifndef FWD_H
#define FWD_H

#include <linux/types.h>

/* Map sizes. The FDB size is a default; the loader may override it. */
#define FWD_MAX_PORTS 1024
#define FWD_MAX_IFINDEX 65536 /* ports and redirect targets are indexed by ifindex */
#define FWD_MAX_ES 4096
#define FWD_MAX_NH 65536
#define FWD_MAX_NHG 8192
#define FWD_MAX_SLOTS (2 * FWD_MAX_NHG)
#define FWD_NHG_BUCKETS 128
#define FWD_MAX_BD 16384
#define FWD_MAX_VTEPS 4096
#define FWD_FDB_SLOTS_DEFAULT (1 << 21) /* twice the default capacity of 1M MACs */
#define FWD_FDB_PROBES 32
#define FWD_COUNTER_SLOTS 128

/* Underlay and overlay constants. */
#define FWD_VXLAN_PORT 4789
#define FWD_VXLAN_FLAG_I 0x08
#define FWD_ENCAP4_LEN 50 /* Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8 */
#define FWD_ENCAP6_LEN 70 /* Ethernet 14 + IPv6 40 + UDP 8 + VXLAN 8 */
#define FWD_UDP_SPORT_MIN 0xC000 /* RFC 7348: 49152-65535 */

enum fwd_port_role {
	FWD_ROLE_NONE = 0,
	FWD_ROLE_ACCESS = 1, /* hosts and Ethernet Segments */
	FWD_ROLE_UPLINK = 2, /* the underlay: VXLAN in and out */
};

enum fwd_port_flag {
	FWD_PORT_LEARN = 1 << 0, /* emit learn events for source MACs */
};

/* A bridge domain as the fast path names it: its VNI, and the small index
 * that FDB keys carry (1-16383; 0 = none). */
struct fwd_bd_info {
	__u32 vni;
	__u16 idx;
	__u16 flags;
};

/* The VLAN tags a frame leaves a port with (outer 0: untagged). */
struct fwd_tags {
	__u16 outer;
	__u16 inner;
};

/* fwd_port: ifindex -> port (an ARRAY indexed by ifindex). role 0 = not a
 * port. untagged is the BD of untagged frames (idx 0: none). es_id is 0 when
 * the port is on no ES.
 *
 * egress_vni and egress_tags copy one entry of fwd_port_bd, (ifindex,
 * egress_vni) -> egress_tags, so that a frame leaving the port in that BD
 * (the one BD of most access ports) costs an inlined ARRAY load instead of a
 * hash lookup; egress_vni 0 caches nothing. User space keeps the copy equal
 * to fwd_port_bd: it writes the port entry after adding a mapping and before
 * deleting one. */
struct fwd_port_info {
	__u8 role;
	__u8 flags;
	__u16 _pad;
	__u32 es_id;
	struct fwd_bd_info untagged;
	__u32 egress_vni;
	struct fwd_tags egress_tags;
};

/* fwd_vlan_bd: (ifindex, outer VLAN, inner VLAN) -> BD, for tagged frames. */
struct fwd_vlan_key {
	__u32 ifindex;
	__u16 outer;
	__u16 inner;
};

/* fwd_port_bd: (ifindex, BD) -> the tags (struct fwd_tags) a frame leaves
 * that port with. */
struct fwd_port_bd_key {
	__u32 ifindex;
	__u32 bd;
};

/* fwd_bd: VNI -> BD (struct fwd_bd_info). A VNI is ours only when it is here. */

enum fwd_fdb_kind {
	FWD_FDB_NONE = 0,
	FWD_FDB_LOCAL = 1, /* ref: egress ifindex */
	FWD_FDB_VTEP = 2,  /* ref: nexthop id */
	FWD_FDB_ES = 3,    /* ref: ES id */
};

enum fwd_fdb_flag {
	FWD_FDB_STICKY = 1 << 0, /* never moves; a frame from elsewhere is dropped */
	FWD_FDB_SYNC = 1 << 1,   /* learned by an ES peer (type-2 with a local ESI) */
	FWD_FDB_ROUTER = 1 << 2, /* the router MAC: L3, handed to the kernel for now */
	FWD_FDB_STATIC = 1 << 3, /* configured, not learned */
};

/*
 * fwd_fdb: an open-addressing hash table in a BPF_F_MMAPABLE ARRAY of
 * 16-byte slots, written by user space with single atomic 8-byte stores.
 *
 *   key = bd_idx << 48 | MAC (48 bits, big endian); 0 = empty slot,
 *         FWD_FDB_TOMB = deleted (skipped by lookups, reused after a grace
 *         period);
 *   val = ref << 16 | flags << 8 | kind (ref < 65536: an ifindex, a
 *         nexthop or an ES id).
 *
 * A key's probe sequence starts at fwd_fdb_index(key) and runs linearly for
 * at most FWD_FDB_PROBES slots. One lookup is one or two cache lines: no
 * bucket array to chase, no helper call (ARRAY lookups are inlined), which is
 * what keeps 64k flows over 1M MACs fast.
 *
 * Writers store val before key when filling a slot, and only ever replace
 * val of a live key, so a reader sees a whole entry: the old one or the new.
 */
#define FWD_FDB_TOMB 0xffffffffffffffffULL
#define FWD_FDB_HASH_MUL 0x9e3779b97f4a7c15ULL

struct fwd_fdb_slot {
	__u64 key;
	__u64 val;
};

/*
 * fwd_fdb_cache: a per-CPU, four-way set-associative cache in front of the
 * FDB (by default 32k sets of one 64-byte cache line, 128k entries, 2 MiB
 * per CPU): with 64k flows over 64k MACs it took the program from 540 to
 * 238 ns a frame (see docs/DATAPLANE.md). A way is valid only while its gen
 * equals fwd_fdb_gen, which user space bumps after every FDB write: a write
 * can never be hidden by a stale cache entry. A fill goes into way 0 and
 * moves the others down, dropping way 3.
 */
#define FWD_FDB_CACHE_WAYS 4
#define FWD_FDB_CACHE_SETS 32768

struct fwd_fdb_cache_way {
	__u64 key;
	__u32 val;
	__u32 gen;
};

struct fwd_fdb_cache_set {
	struct fwd_fdb_cache_way way[FWD_FDB_CACHE_WAYS];
};

/* The decoded value of an FDB slot. */
struct fwd_fdb_entry {
	__u8 kind;
	__u8 flags;
	__u16 _pad;
	__u32 ref;
};

enum fwd_es_flag {
	FWD_ES_LOCAL = 1 << 0,  /* attached here through ifindex */
	FWD_ES_NON_DF = 1 << 1, /* we are not the DF (BUM filter, later) */
};

/* fwd_es: ES id -> ES. nhg: the ES's L2 group (remote ES). backup_nhg: the ES
 * peers, used when the local port is down. */
struct fwd_es_info {
	__u8 esi[10];
	__u16 flags;
	__u32 ifindex;
	__u32 nhg;
	__u32 backup_nhg;
};

/* fwd_nh: nexthop id -> a remote VTEP. Addresses are 16 bytes; IPv4 is stored
 * IPv4-mapped (::ffff:a.b.c.d). vni 0 means "the BD's own VNI". */
struct fwd_nh_info {
	__u8 family; /* 4 or 6; 0 = unused slot */
	__u8 flags;
	__u16 _pad;
	__u32 vni;
	__u32 ifindex; /* underlay egress */
	__u8 smac[6];
	__u8 dmac[6];
	__u8 saddr[16];
	__u8 daddr[16];
};

struct fwd_nhg_bucket {
	__u32 primary;
	__u32 backup; /* 0 = none */
};

/* fwd_nhg_slot: slot -> one immutable group version. nbuckets is a power of
 * two <= FWD_NHG_BUCKETS; 0 marks an empty slot. */
struct fwd_nhg {
	__u32 gen;
	__u16 nbuckets;
	__u16 _pad;
	struct fwd_nhg_bucket buckets[FWD_NHG_BUCKETS];
};

enum fwd_vtep_flag {
	FWD_VTEP_REMOTE = 1 << 0, /* a peer we accept VXLAN from */
	FWD_VTEP_LOCAL = 1 << 1,  /* one of our own VTEP addresses */
};

struct fwd_vtep_key {
	__u8 addr[16];
};

struct fwd_vtep_info {
	__u32 flags;
};

/*
 * fwd_tun_cache: a per-CPU, direct-mapped cache of what decapsulation
 * looks up in hash maps, (outer source, outer destination, VNI) -> BD: the
 * destination is one of our VTEPs, the source a remote VTEP, and fwd_bd has
 * the VNI. An entry is written only when all three lookups succeed, and
 * counts only while its gen equals fwd_tun_gen, which user space bumps after
 * every write to fwd_vtep or fwd_bd: a hit is exactly what the three lookups
 * would have found. bd.idx 0 marks an empty entry.
 */
#define FWD_TUN_CACHE_SETS 1024

struct fwd_tun_cache_entry {
	struct fwd_vtep_key src;
	struct fwd_vtep_key dst;
	__u32 vni;
	__u32 gen;
	struct fwd_bd_info bd;
};

/* fwd_es_peers: (VTEP, ES id) -> present. The VTEP shares the ES with us. */
struct fwd_es_peer_key {
	__u8 addr[16];
	__u32 es_id;
};

/* fwd_config: the runtime knobs, one entry. */
struct fwd_cfg {
	__u16 vxlan_port;
	__u8 ttl;
	__u8 trace; /* 1: record every decision in fwd_trace */
	__u32 learn_rate;  /* learn events per second per CPU */
	__u32 learn_burst; /* bucket depth */
	__u32 _pad;
};

/* fwd_learn: a source MAC not yet known on the port it arrived on. */
struct fwd_learn_event {
	__u32 bd;
	__u32 ifindex;
	__u32 es_id;
	__u16 outer;
	__u16 inner;
	__u8 mac[6];
	__u8 old_kind; /* enum fwd_fdb_kind of the entry it moves from, 0 if new */
	__u8 _pad;
	__u32 old_ref;
};

struct fwd_learn_bucket {
	__u64 last_ns;
	__u64 tokens_milli;
};



/*
 * Counters. Every frame increments one RX counter and exactly one outcome
 * counter (TX_*, PASS_*, DROP_*). LEARN_* count side events.
 */
enum fwd_counter {
	FWD_CTR_RX_ACCESS = 0,
	FWD_CTR_RX_UPLINK,
	FWD_CTR_RX_OTHER, /* an ifindex fwd does not manage */

	FWD_CTR_TX_LOCAL,      /* access -> local port */
	FWD_CTR_TX_ES_LOCAL,   /* access -> local ES port */
	FWD_CTR_TX_ENCAP4,     /* access -> VXLAN over IPv4 */
	FWD_CTR_TX_ENCAP6,     /* access -> VXLAN over IPv6 */
	FWD_CTR_TX_DECAP,      /* uplink -> local port */
	FWD_CTR_TX_DECAP_ES,   /* uplink -> local ES port */
	FWD_CTR_TX_DECAP_REENCAP, /* uplink -> local ES down -> ES peers */

	FWD_CTR_PASS_NOT_PORT,     /* ingress ifindex not managed */
	FWD_CTR_PASS_NO_BD,        /* VLAN not mapped to a BD */
	FWD_CTR_PASS_BUM,          /* broadcast/multicast: kernel until BUM lands */
	FWD_CTR_PASS_UNKNOWN_UCAST, /* FDB miss */
	FWD_CTR_PASS_ROUTER_MAC,   /* L3: kernel until symmetric IRB lands */
	FWD_CTR_PASS_NOT_VXLAN,    /* uplink: not UDP to the VXLAN port */
	FWD_CTR_PASS_TRUNCATED,    /* uplink: outer headers incomplete */
	FWD_CTR_PASS_FRAGMENT,     /* uplink: outer IPv4 fragment */
	FWD_CTR_PASS_IPV6_EXT,     /* uplink: IPv6 extension headers */
	FWD_CTR_PASS_NOT_LOCAL_VTEP, /* VXLAN to an address that is not ours */
	FWD_CTR_PASS_UNKNOWN_VTEP, /* VXLAN from an unknown VTEP */
	FWD_CTR_PASS_UNKNOWN_VNI,  /* VXLAN with a VNI we do not serve */
	FWD_CTR_PASS_DECAP_BUM,    /* inner broadcast/multicast */
	FWD_CTR_PASS_DECAP_UNKNOWN, /* inner FDB miss */
	FWD_CTR_PASS_DECAP_ROUTER, /* inner dst is the router MAC */

	FWD_CTR_DROP_RUNT,          /* shorter than an Ethernet header */
	FWD_CTR_DROP_TRUNCATED,     /* a VLAN tag or the VXLAN/inner header cut */
	FWD_CTR_DROP_VLAN_DEPTH,    /* more than two VLAN tags */
	FWD_CTR_DROP_SRC_MCAST,     /* multicast source MAC */
	FWD_CTR_DROP_HAIRPIN,       /* destination is where it came from */
	FWD_CTR_DROP_STICKY,        /* a sticky MAC seen on another port */
	FWD_CTR_DROP_NO_ES,         /* FDB points at an unknown ES */
	FWD_CTR_DROP_NO_NHG,        /* group missing or empty */
	FWD_CTR_DROP_NO_NH,         /* nexthop missing */
	FWD_CTR_DROP_NH_DOWN,       /* primary and backup both down */
	FWD_CTR_DROP_NO_EGRESS_TAGS, /* port has no tags for the BD */
	FWD_CTR_DROP_TOO_BIG,       /* encapsulated frame exceeds the uplink MTU */
	FWD_CTR_DROP_NO_TX_PORT,    /* egress not in fwd_tx */
	FWD_CTR_DROP_ADJUST,        /* bpf_xdp_adjust_head refused */
	FWD_CTR_DROP_VXLAN_FLAGS,   /* VXLAN I flag clear */
	FWD_CTR_DROP_INNER_TAGGED,  /* inner frame carries a VLAN tag */
	FWD_CTR_DROP_DECAP_REMOTE,  /* overlay -> overlay (split horizon) */
	FWD_CTR_DROP_DECAP_LOOP,    /* local ES down and the sender is an ES peer */

	FWD_CTR_LEARN_EVENT,        /* learn event written */
	FWD_CTR_LEARN_RATE_LIMITED, /* learn event suppressed by the rate limit */
	FWD_CTR_LEARN_RINGBUF_FULL, /* learn event lost: ring buffer full */
	FWD_CTR_NH_BACKUP,          /* bucket's backup used, primary down */

	FWD_CTR__LEN,
};

/* fwd_trace: with config.trace set, the last decision on each CPU. */
struct fwd_trace_rec {
	__u64 seq;
	__u32 action;
	enum fwd_counter reason; /* the outcome */
	__u32 bd;
	__u32 egress; /* ifindex redirected to */
	__u32 nh;
	__u32 nhg;
	__u32 es_id;
	__u32 hash;
	enum fwd_fdb_kind fdb_kind;
	__u32 backup; /* 1 when the bucket's backup was used */
};

#endif /* FWD_H */
