package model

// Counter names, in the order of enum fwd_counter (bpf/fwd.h), spelled as the
// dataplane names them: the enum name without FWD_CTR_, in lower case. Every
// frame bumps one RX counter and exactly one outcome (TX_*, PASS_*, DROP_*);
// LEARN_* and NH_BACKUP count side events.
const (
	CtrRXAccess         = "rx_access"
	CtrRXUplink         = "rx_uplink"
	CtrRXOther          = "rx_other"
	CtrTXLocal          = "tx_local"
	CtrTXESLocal        = "tx_es_local"
	CtrTXEncap4         = "tx_encap4"
	CtrTXEncap6         = "tx_encap6"
	CtrTXDecap          = "tx_decap"
	CtrTXDecapES        = "tx_decap_es"
	CtrTXDecapReencap   = "tx_decap_reencap"
	CtrPassNotPort      = "pass_not_port"
	CtrPassNoBD         = "pass_no_bd"
	CtrPassBUM          = "pass_bum"
	CtrPassUnknownUcast = "pass_unknown_ucast"
	CtrPassRouterMAC    = "pass_router_mac"
	CtrPassNotVXLAN     = "pass_not_vxlan"
	CtrPassTruncated    = "pass_truncated"
	CtrPassFragment     = "pass_fragment"
	CtrPassIPv6Ext      = "pass_ipv6_ext"
	CtrPassNotLocalVTEP = "pass_not_local_vtep"
	CtrPassUnknownVTEP  = "pass_unknown_vtep"
	CtrPassUnknownVNI   = "pass_unknown_vni"
	CtrPassDecapBUM     = "pass_decap_bum"
	CtrPassDecapUnknown = "pass_decap_unknown"
	CtrPassDecapRouter  = "pass_decap_router"
	CtrDropRunt         = "drop_runt"
	CtrDropTruncated    = "drop_truncated"
	CtrDropVLANDepth    = "drop_vlan_depth"
	CtrDropSrcMcast     = "drop_src_mcast"
	CtrDropHairpin      = "drop_hairpin"
	CtrDropSticky       = "drop_sticky"
	CtrDropNoES         = "drop_no_es"
	CtrDropNoNHG        = "drop_no_nhg"
	CtrDropNoNH         = "drop_no_nh"
	CtrDropNHDown       = "drop_nh_down"
	CtrDropNoEgressTags = "drop_no_egress_tags"
	CtrDropTooBig       = "drop_too_big"
	CtrDropNoTXPort     = "drop_no_tx_port"
	CtrDropAdjust       = "drop_adjust"
	CtrDropVXLANFlags   = "drop_vxlan_flags"
	CtrDropInnerTagged  = "drop_inner_tagged"
	CtrDropDecapRemote  = "drop_decap_remote"
	CtrDropDecapLoop    = "drop_decap_loop"
	CtrLearnEvent       = "learn_event"
	CtrLearnRateLimited = "learn_rate_limited"
	CtrLearnRingbufFull = "learn_ringbuf_full"
	CtrNHBackup         = "nh_backup"
)

// Counters lists every counter in enum order.
var Counters = []string{
	CtrRXAccess, CtrRXUplink, CtrRXOther, CtrTXLocal,
	CtrTXESLocal, CtrTXEncap4, CtrTXEncap6, CtrTXDecap,
	CtrTXDecapES, CtrTXDecapReencap, CtrPassNotPort, CtrPassNoBD,
	CtrPassBUM, CtrPassUnknownUcast, CtrPassRouterMAC, CtrPassNotVXLAN,
	CtrPassTruncated, CtrPassFragment, CtrPassIPv6Ext, CtrPassNotLocalVTEP,
	CtrPassUnknownVTEP, CtrPassUnknownVNI, CtrPassDecapBUM, CtrPassDecapUnknown,
	CtrPassDecapRouter, CtrDropRunt, CtrDropTruncated, CtrDropVLANDepth,
	CtrDropSrcMcast, CtrDropHairpin, CtrDropSticky, CtrDropNoES,
	CtrDropNoNHG, CtrDropNoNH, CtrDropNHDown, CtrDropNoEgressTags,
	CtrDropTooBig, CtrDropNoTXPort, CtrDropAdjust, CtrDropVXLANFlags,
	CtrDropInnerTagged, CtrDropDecapRemote, CtrDropDecapLoop, CtrLearnEvent,
	CtrLearnRateLimited, CtrLearnRingbufFull, CtrNHBackup,
}
