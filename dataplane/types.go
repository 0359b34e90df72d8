package dataplane

import (
	"fmt"
	"net"
	"net/netip"
)

// Sizes of the fast path's tables, as compiled into bpf/fwd.h.
const (
	MaxPorts      = 1024
	MaxIfindex    = 65536
	MaxES         = 4096
	MaxNextHops   = 65536
	MaxGroups     = 8192
	MaxSlots      = 2 * MaxGroups
	GroupBuckets  = 128
	DefaultFDBMax = 1 << 20 // MACs; the table has twice as many slots
	// DefaultFDBCacheSets: 64k pairs, 128k cached entries, 2 MiB per CPU.
	DefaultFDBCacheSets = 1 << 16
	// fdbCachePairsPerSet: a four-way set of the FDB cache (one cache line)
	// holds two of Options.FDBCacheSets' pairs.
	fdbCachePairsPerSet = 2
	counterSlots        = 128
)

// PortRole says how the fast path treats frames arriving on a port.
type PortRole uint8

// Port roles, mirroring enum fwd_port_role.
const (
	RoleAccess PortRole = 1 // hosts and Ethernet Segments
	RoleUplink PortRole = 2 // the underlay: VXLAN in and out
)

func (r PortRole) String() string {
	switch r {
	case RoleAccess:
		return "access"
	case RoleUplink:
		return "uplink"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Port is the fast path's view of one interface.
type Port struct {
	Role PortRole
	// Learn makes the fast path report new and moved source MACs.
	Learn bool
	// ES is the local Ethernet Segment the port attaches to, 0 for none.
	ES uint32
}

// Tags are the VLAN tags of a frame: Outer 0 means untagged; Inner is the
// second (customer) tag of a double-tagged frame.
type Tags struct {
	Outer, Inner uint16
}

// FDBKind says where a MAC lives.
type FDBKind uint8

// FDB kinds, mirroring enum fwd_fdb_kind.
const (
	FDBLocal FDBKind = 1 // Ref is the egress ifindex
	FDBVTEP  FDBKind = 2 // Ref is a nexthop id
	FDBES    FDBKind = 3 // Ref is an ES id
)

func (k FDBKind) String() string {
	switch k {
	case FDBLocal:
		return "local"
	case FDBVTEP:
		return "vtep"
	case FDBES:
		return "es"
	case 0:
		return "none"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// FDB entry flags, mirroring enum fwd_fdb_flag.
const (
	FDBSticky uint8 = 1 << 0
	FDBSync   uint8 = 1 << 1
	FDBRouter uint8 = 1 << 2
	FDBStatic uint8 = 1 << 3
)

// FDBKey names a MAC in a bridge domain (the BD is its VNI).
type FDBKey struct {
	BD  uint32
	MAC [6]byte
}

// FDBEntry is where frames to a MAC go.
type FDBEntry struct {
	Kind  FDBKind
	Flags uint8
	Ref   uint32
}

// ES flags, mirroring enum fwd_es_flag.
const (
	ESLocal uint16 = 1 << 0
	ESNonDF uint16 = 1 << 1
)

// ES is an Ethernet Segment in the fast path.
type ES struct {
	ESI   [10]byte
	Flags uint16
	// Ifindex is the local port on the ES (ESLocal).
	Ifindex uint32
	// Group is the ES's L2 nexthop group: its remote VTEPs.
	Group uint32
	// BackupGroup holds the ES peers, used while the local port is down.
	BackupGroup uint32
}

// NextHop is a remote VTEP as the encapsulation needs it.
type NextHop struct {
	// Src and Dst are the outer IP addresses, both IPv4 or both IPv6.
	Src, Dst netip.Addr
	// VNI overrides the BD's VNI (downstream VNI); 0 keeps the BD's.
	VNI uint32
	// Ifindex is the underlay port, SrcMAC and DstMAC the outer MACs.
	Ifindex        uint32
	SrcMAC, DstMAC [6]byte
}

// Bucket is one slot of a group's resilient bucket table.
type Bucket struct {
	Primary uint32
	Backup  uint32 // 0: none
}

// VTEP flags, mirroring enum fwd_vtep_flag.
const (
	VTEPRemote uint32 = 1 << 0
	VTEPLocal  uint32 = 1 << 1
)

// Config holds the fast path's runtime knobs.
type Config struct {
	VXLANPort uint16 // 0: 4789
	TTL       uint8  // 0: 64
	// Trace records every decision in the per-CPU trace map (tests, fwd trace).
	Trace bool
	// LearnRate is learn events per second per CPU; 0 disables learn events.
	LearnRate  uint32
	LearnBurst uint32
}

// LearnEvent reports a source MAC that is new or moved on an access port.
type LearnEvent struct {
	BD      uint32
	Ifindex uint32
	ES      uint32
	Tags    Tags
	MAC     net.HardwareAddr
	OldKind FDBKind // 0 when the MAC was unknown
	OldRef  uint32
}

// Trace is one decision of the fast path, recorded when Config.Trace is set.
type Trace struct {
	Action  Action
	Reason  string
	BD      uint32
	Egress  uint32
	NextHop uint32
	Group   uint32
	ES      uint32
	Hash    uint32
	FDBKind FDBKind
	Backup  bool
}

// Action is an XDP verdict.
type Action uint32

// XDP verdicts.
const (
	ActionAborted  Action = 0
	ActionDrop     Action = 1
	ActionPass     Action = 2
	ActionTX       Action = 3
	ActionRedirect Action = 4
)

func (a Action) String() string {
	switch a {
	case ActionAborted:
		return "aborted"
	case ActionDrop:
		return "drop"
	case ActionPass:
		return "pass"
	case ActionTX:
		return "tx"
	case ActionRedirect:
		return "redirect"
	}
	return fmt.Sprintf("action(%d)", uint32(a))
}

// addr16 returns a as 16 bytes, IPv4 as IPv4-mapped, as the fast path keys it.
func addr16(a netip.Addr) [16]byte {
	return a.As16()
}
