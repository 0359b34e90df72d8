package api

import (
	"time"
)

// DefaultSocket is where the daemon listens unless its config says
// otherwise.
const DefaultSocket = "/run/fwd/fwd.sock"

// MaxBody is the largest request body the server reads; larger ones are
// refused with 413 and change nothing. A batch of routes larger than this
// goes in several requests, or as a Generate spec.
const MaxBody = 64 << 20

// Error is the body of every error response.
type Error struct {
	// Error says what went wrong, in words a person can act on.
	Error string `json:"error"`
	// Hint, when there is one, says what to do about it.
	Hint string `json:"hint,omitempty"`
}

// Status is GET /v1/status.
type Status struct {
	Version    string    `json:"version"`
	PID        int       `json:"pid"`
	StartedAt  time.Time `json:"started_at"`
	ConfigFile string    `json:"config_file"`
	// ConfigLoadedAt is when the running config was loaded (start or the
	// last good reload).
	ConfigLoadedAt time.Time `json:"config_loaded_at"`
	VTEP4          string    `json:"vtep4,omitempty"`
	VTEP6          string    `json:"vtep6,omitempty"`
	RouterMAC      string    `json:"router_mac,omitempty"`
	// Adopted says the daemon started from the fast path a previous run
	// left pinned (hitless restart); Reconciled says what it changed then.
	Adopted    bool     `json:"adopted"`
	Reconciled []string `json:"reconciled,omitempty"`
	Interfaces int      `json:"interfaces"`
	BDs        int      `json:"bridge_domains"`
	ESes       int      `json:"ethernet_segments"`
	MACs       int      `json:"macs"`
	Groups     int      `json:"nexthop_groups"`
	Routes     int      `json:"routes"`
	Loop       Loop     `json:"loop"`
}

// Loop is the control loop's activity.
type Loop struct {
	Calls uint64 `json:"calls"`
	// LatencyP50US and LatencyP99US are over the last calls (a window of
	// the most recent 1024): the time a call held the loop.
	LatencyP50US float64 `json:"latency_p50_us"`
	LatencyP99US float64 `json:"latency_p99_us"`
	PathsAdded   uint64  `json:"paths_added"`
	PathsGone    uint64  `json:"paths_withdrawn"`
	FDBWrites    uint64  `json:"fdb_writes"`
	GroupWrites  uint64  `json:"group_writes"`
	WriteErrors  uint64  `json:"write_errors"`
}

// Interface is one port of the fast path (GET /v1/interfaces).
type Interface struct {
	Name    string `json:"name"`
	Ifindex int    `json:"ifindex"`
	// Role is "access" or "uplink".
	Role string `json:"role"`
	Up   bool   `json:"up"`
	// Attach is how the XDP program runs there: "native" or "generic".
	Attach string `json:"attach"`
	MTU    int    `json:"mtu"`
	// ESI is the Ethernet Segment on this access port, if any.
	ESI string `json:"esi,omitempty"`
	// UntaggedVNI is the bridge domain of untagged frames (0: dropped).
	UntaggedVNI uint32    `json:"untagged_vni,omitempty"`
	VLANs       []VLANMap `json:"vlans,omitempty"`
}

// VLANMap maps a VLAN on a port to a bridge domain.
type VLANMap struct {
	VLAN uint16 `json:"vlan"`
	VNI  uint32 `json:"vni"`
}

// BridgeDomain is GET /v1/bridge-domains.
type BridgeDomain struct {
	VNI   uint32   `json:"vni"`
	Ports []BDPort `json:"ports"`
	// Flood is the BD's remote VTEPs (type-3 routes): ingress
	// replication.
	Flood []string `json:"flood"`
	MACs  int      `json:"macs"`
}

// BDPort is a port's membership in a bridge domain.
type BDPort struct {
	Interface string `json:"interface"`
	VLAN      uint16 `json:"vlan,omitempty"` // 0: untagged
}

// MAC is one entry of GET /v1/macs (FRR: show evpn mac vni all).
type MAC struct {
	VNI uint32 `json:"vni"`
	MAC string `json:"mac"`
	// Type is "local", "remote" or "sync" (remote route on a local ES).
	Type string `json:"type"`
	// Interface is the local port (local and sync MACs).
	Interface string `json:"interface,omitempty"`
	ESI       string `json:"esi,omitempty"`
	// VTEP is the remote VTEP (remote MACs with no ES).
	VTEP   string `json:"vtep,omitempty"`
	Seq    uint32 `json:"seq"`
	Sticky bool   `json:"sticky,omitempty"`
	Router bool   `json:"router,omitempty"`
}

// MACFilter selects MACs; zero fields match all.
type MACFilter struct {
	VNI uint32
	MAC string
	ESI string
}

// ES is one Ethernet Segment (GET /v1/es; FRR: show evpn es detail).
type ES struct {
	ESI string `json:"esi"`
	// Type is "local" or "remote".
	Type string `json:"type"`
	// Local ES: its port, whether it is up, and whether this node is the
	// designated forwarder.
	Interface string `json:"interface,omitempty"`
	Up        bool   `json:"up"`
	// Admin is false while an operator holds it down (fwd es down).
	Admin  bool   `json:"admin"`
	DF     bool   `json:"df"`
	DFAlg  string `json:"df_alg,omitempty"`
	DFPref uint16 `json:"df_pref,omitempty"`
	// VTEPs are the remote PEs on the ES with what they advertised.
	VTEPs []ESVTEP `json:"vteps"`
	MACs  int      `json:"macs"`
	// Group is a remote ES's L2 nexthop group; BackupGroup a local ES's
	// group of peers that takes its traffic while its port is down.
	Group       uint32 `json:"group,omitempty"`
	BackupGroup uint32 `json:"backup_group,omitempty"`
}

// ESVTEP is one PE on an ES.
type ESVTEP struct {
	VTEP string `json:"vtep"`
	// Active: the PE has what makes it a member (EAD-per-ES, and by
	// default an EAD-per-EVI).
	Active   bool   `json:"active"`
	EADPerES bool   `json:"ead_per_es"`
	EVIs     int    `json:"evis"`
	DFAlg    string `json:"df_alg,omitempty"`
	DFPref   uint16 `json:"df_pref,omitempty"`
	// DF marks the PE that won the election (local ES only).
	DF bool `json:"df,omitempty"`
}

// ESEVI is an ES in one bridge domain (FRR: show evpn es-evi).
type ESEVI struct {
	ESI   string   `json:"esi"`
	VNI   uint32   `json:"vni"`
	Type  string   `json:"type"`
	VTEPs []string `json:"vteps"`
}

// L2NextHop is a remote VTEP as a nexthop (FRR: show evpn l2-nh).
type L2NextHop struct {
	VTEP string `json:"vtep"`
	ID   uint32 `json:"id"`
	// Reachable: the underlay has a route and a neighbour for it.
	Reachable bool   `json:"reachable"`
	Interface string `json:"interface,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Refs counts the routes that use it.
	Refs int `json:"refs"`
}

// NexthopGroup is GET /v1/nexthop-groups (FRR: show nexthop-group rib).
type NexthopGroup struct {
	ID    uint32 `json:"id"`
	Owner string `json:"owner"`
	// State is "installed", "failed" or "pending".
	State   string        `json:"state"`
	Members []GroupMember `json:"members"`
	Buckets int           `json:"buckets"`
	Refs    int           `json:"refs"`
}

// GroupMember is a nexthop in a group.
type GroupMember struct {
	ID      uint32   `json:"id"`
	VTEP    string   `json:"vtep"`
	Weight  uint32   `json:"weight"`
	Down    bool     `json:"down"`
	Backups []uint32 `json:"backups,omitempty"`
	// Buckets is how many of the group's buckets it holds.
	Buckets int `json:"buckets"`
}

// Route is one EVPN path in the RIB (GET /v1/routes), and the unit of
// route injection (POST /v1/routes).
type Route struct {
	// Type is the EVPN route type, 1 to 5.
	Type int `json:"type"`
	// Prefix is the route printed as FRR does ("[2]:[0]:[48]:[aa:...]").
	// Output only.
	Prefix      string `json:"prefix,omitempty"`
	RD          string `json:"rd,omitempty"`
	ESI         string `json:"esi,omitempty"`
	EthernetTag uint32 `json:"ethernet_tag,omitempty"`
	MAC         string `json:"mac,omitempty"`
	IP          string `json:"ip,omitempty"`
	// Prefix of a type-5 route, as CIDR.
	IPPrefix string `json:"ip_prefix,omitempty"`
	VNI      uint32 `json:"vni,omitempty"`
	NextHop  string `json:"nexthop"`
	Seq      uint32 `json:"seq,omitempty"`
	Sticky   bool   `json:"sticky,omitempty"`
	Router   bool   `json:"router,omitempty"`
	// DFAlg and DFPref are a type-4 route's DF election candidacy
	// ("preference", "modulo" or "hrw"; FRR's default, preference 32767,
	// when left out).
	DFAlg  string `json:"df_alg,omitempty"`
	DFPref uint16 `json:"df_pref,omitempty"`
	// Source is where the path came from: "bgp", "api" or "static".
	// Output only: injected routes are "api".
	Source string `json:"source,omitempty"`
}

// RouteFilter selects routes; zero fields match all.
type RouteFilter struct {
	Type int
}

// RouteBatch is the body of POST /v1/routes (announce) and POST
// /v1/routes/withdraw: explicit routes, or a generator (the SHARP-like
// source: `sharp install routes` in FRR), or both (routes first).
type RouteBatch struct {
	Routes   []Route    `json:"routes,omitempty"`
	Generate *Generator `json:"generate,omitempty"`
}

// Generator describes Count type-2 routes: MACs counting up from StartMAC
// in bridge domain VNI, all to NextHop (or behind ESI).
type Generator struct {
	Count    int    `json:"count"`
	StartMAC string `json:"start_mac"`
	VNI      uint32 `json:"vni"`
	NextHop  string `json:"nexthop"`
	ESI      string `json:"esi,omitempty"`
	RD       string `json:"rd,omitempty"`
}

// RouteResult is the answer to a batch.
type RouteResult struct {
	Added            int      `json:"added"`
	Withdrawn        int      `json:"withdrawn"`
	Duplicates       int      `json:"duplicates"`
	UnknownWithdraws int      `json:"unknown_withdraws"`
	Rejected         int      `json:"rejected"`
	Errors           []string `json:"errors,omitempty"`
	// ElapsedUS is the time the batch took in the daemon, from the
	// request decoded to the fast path written; RoutesPerSecond is the
	// batch's size over it.
	ElapsedUS       float64 `json:"elapsed_us"`
	RoutesPerSecond float64 `json:"routes_per_second"`
}

// Counter is one fast-path counter, summed over CPUs.
type Counter struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

// Counters is GET /v1/counters.
type Counters struct {
	Counters []Counter `json:"counters"`
}

// LogLevel is GET and PUT /v1/log-level: "debug", "info", "warn", "error".
type LogLevel struct {
	Level string `json:"level"`
}

// ESAdmin is POST /v1/es/{esi}/admin: Up false holds a local ES down for
// maintenance (its port's traffic goes to the ES peers and its routes are
// withdrawn), as if its port were down; true lets it follow the port again.
type ESAdmin struct {
	Up bool `json:"up"`
}

// TraceRequest is POST /v1/trace: a frame to run through the loaded
// program, described by fields (a 64-byte frame is built from them) or
// given whole as hex.
type TraceRequest struct {
	// Interface is the ingress port.
	Interface string `json:"interface"`
	// Frame is the whole frame in hex; when set the fields below are
	// ignored.
	Frame  string `json:"frame,omitempty"`
	SrcMAC string `json:"src_mac,omitempty"`
	DstMAC string `json:"dst_mac,omitempty"`
	VLAN   uint16 `json:"vlan,omitempty"`
	SrcIP  string `json:"src_ip,omitempty"`
	DstIP  string `json:"dst_ip,omitempty"`
	// VNI, with OuterSrc and OuterDst, wraps the frame in VXLAN as if it
	// came from a remote VTEP.
	VNI      uint32 `json:"vni,omitempty"`
	OuterSrc string `json:"outer_src,omitempty"`
	OuterDst string `json:"outer_dst,omitempty"`
}

// TraceResult is what the program did with the frame.
type TraceResult struct {
	// Action is the XDP verdict: "pass", "drop", "tx", "redirect".
	Action string `json:"action"`
	// Reason is the counter the program bumped for it.
	Reason string `json:"reason"`
	// Egress is the port it left by, if redirected.
	Egress string      `json:"egress,omitempty"`
	Steps  []TraceStep `json:"steps"`
	// Frame is the frame as it left, in hex.
	Frame string `json:"frame,omitempty"`
}

// TraceStep is one lookup the program made.
type TraceStep struct {
	What   string `json:"what"`
	Key    string `json:"key"`
	Result string `json:"result"`
}

// Event is one line of GET /v1/events (NDJSON).
type Event struct {
	Time time.Time `json:"time"`
	// Type: "route", "mac", "es", "port", "underlay", "config", "df".
	Type string `json:"type"`
	// Message says what happened in words; Fields carry the details.
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// Metrics is what GET /metrics exposes, in Prometheus text.
type Metrics struct {
	// Counters are the fast path's, by reason (fwd_packets_total{reason}).
	Counters []Counter
	// Maps is each BPF map's occupancy.
	Maps []MapUsage
	// Groups counts nexthop groups by state.
	Groups map[string]int
	// ESes counts Ethernet Segments by state ("df", "non-df", "down",
	// "remote").
	ESes map[string]int
	// Routes counts RIB paths by EVPN route type.
	Routes map[int]int
	// LoopLatency is the time calls held the control loop.
	LoopLatency Histogram
	// Loop counts the loop's writes and errors by kind.
	LoopWrites map[string]uint64
}

// MapUsage is a map's entries against its capacity.
type MapUsage struct {
	Name    string
	Entries int
	Max     int
}

// Histogram is a Prometheus histogram: Counts[i] observations <= Bounds[i]
// (not cumulative), Inf those above the last bound. Bounds are finite and
// increasing, one per count; Count, when not zero, is the total of Counts
// and Inf (GET /metrics answers 500 otherwise).
type Histogram struct {
	Bounds []float64 // seconds
	Counts []uint64
	Inf    uint64
	Sum    float64 // seconds
	Count  uint64
}
