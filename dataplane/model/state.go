package model

import (
	"fmt"
	"net/netip"
)

// Sizes and constants of the fast path, as compiled into bpf/fwd.h.
const (
	MaxIfindex    = 65536 // fwd_port and fwd_tx are ARRAYs indexed by ifindex
	MaxES         = 4096  // fwd_es is an ARRAY of this many entries
	MaxNextHops   = 65536 // fwd_nh and fwd_nh_down
	MaxGroups     = 8192  // fwd_nhg_active
	GroupBuckets  = 128   // buckets per group version
	DefaultVXLAN  = 4789
	DefaultTTL    = 64
	Encap4Len     = 50 // Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8
	Encap6Len     = 70 // Ethernet 14 + IPv6 40 + UDP 8 + VXLAN 8
	UDPSourceMin  = 0xC000
	EthHeaderLen  = 14
	TPID8021Q     = 0x8100
	TPID8021AD    = 0x88A8
	EtherTypeIPv4 = 0x0800
	EtherTypeIPv6 = 0x86DD
	VXLANFlagI    = 0x08
	HashSeed      = 0x5bd1e995
	ipProtoTCP    = 6
	ipProtoUDP    = 17
	devHeaderLen  = 14 // dev->hard_header_len of Ethernet devices (veth, lo)
)

// Headroom is how far bpf_xdp_adjust_head may grow a frame that BPF_PROG_RUN
// hands the program: XDP_PACKET_HEADROOM (256) less struct xdp_frame (40).
const Headroom = 256 - 40

// Action is an XDP verdict, numbered as the kernel numbers them.
type Action uint32

// XDP verdicts the program returns.
const (
	ActionDrop     Action = 1
	ActionPass     Action = 2
	ActionRedirect Action = 4
)

func (a Action) String() string {
	switch a {
	case 0:
		return "aborted"
	case ActionDrop:
		return "drop"
	case ActionPass:
		return "pass"
	case 3:
		return "tx"
	case ActionRedirect:
		return "redirect"
	}
	return fmt.Sprintf("action(%d)", uint32(a))
}

// Role says how the program treats frames arriving on a port.
type Role uint8

// Port roles, mirroring enum fwd_port_role.
const (
	RoleNone   Role = 0
	RoleAccess Role = 1
	RoleUplink Role = 2
)

// BD is struct fwd_bd_info: a bridge domain as the program names it, its
// VNI and the index its FDB keys carry (1-16383; 0 means none).
type BD struct {
	VNI uint32
	Idx uint16
}

// Port is one entry of fwd_port (an ARRAY indexed by ifindex: Role 0 is no
// port, but the entry may still hold an untagged BD).
type Port struct {
	Role  Role
	Learn bool   // FWD_PORT_LEARN
	ES    uint32 // the local ES the port is on, 0 for none
	// Untagged is the BD of untagged frames; Idx 0 means none.
	Untagged BD
}

// Tags are VLAN ids; Outer 0 means untagged.
type Tags struct {
	Outer, Inner uint16
}

// VLANKey is a key of fwd_vlan_bd, for tagged frames: VLAN ids as parsed
// from the frame (Inner 0 = one tag).
type VLANKey struct {
	Ifindex      uint32
	Outer, Inner uint16
}

// PortBD is a key of fwd_port_bd: an egress and a BD's VNI.
type PortBD struct {
	Ifindex, BD uint32
}

// FDBKind mirrors enum fwd_fdb_kind.
type FDBKind uint8

// FDB kinds.
const (
	FDBNone  FDBKind = 0
	FDBLocal FDBKind = 1 // Ref: egress ifindex
	FDBVTEP  FDBKind = 2 // Ref: nexthop id
	FDBES    FDBKind = 3 // Ref: ES id
)

// FDB flags, mirroring enum fwd_fdb_flag.
const (
	FDBSticky uint8 = 1 << 0
	FDBSync   uint8 = 1 << 1
	FDBRouter uint8 = 1 << 2
	FDBStatic uint8 = 1 << 3
)

// FDBKey is a key of fwd_fdb: a BD's index and a MAC.
type FDBKey struct {
	BD  uint16
	MAC [6]byte
}

// FDBEntry is a value of fwd_fdb.
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

// ES is an entry of fwd_es.
type ES struct {
	ESI         [10]byte
	Flags       uint16
	Ifindex     uint32
	Group       uint32
	BackupGroup uint32
}

// NextHop is an entry of fwd_nh. Family 0 marks an unused slot; 6 encapsulates
// over IPv6 and any other non-zero value over IPv4 (the last four bytes of the
// addresses).
type NextHop struct {
	Family         uint8
	VNI            uint32 // 0: the BD's own
	Ifindex        uint32
	SrcMAC, DstMAC [6]byte
	Src, Dst       [16]byte
}

// Bucket is one bucket of a group version.
type Bucket struct {
	Primary, Backup uint32
}

// VTEP flags, mirroring enum fwd_vtep_flag.
const (
	VTEPRemote uint32 = 1 << 0
	VTEPLocal  uint32 = 1 << 1
)

// ESPeerKey is a key of fwd_es_peers.
type ESPeerKey struct {
	Addr [16]byte
	ES   uint32
}

// Config is the part of fwd_config the forwarding decisions read.
type Config struct {
	VXLANPort uint16 // 0: 4789
	TTL       uint8  // 0: 64
}

// State is everything the program reads, map by map. The zero value is not
// usable; start from NewState.
type State struct {
	Config Config
	// Ports is fwd_port; a missing ifindex reads as a zeroed entry.
	Ports map[uint32]Port
	// VLANs is fwd_vlan_bd: (ingress, outer, inner) -> BD, tagged frames.
	VLANs map[VLANKey]BD
	// EgressTags is fwd_port_bd: (egress, VNI) -> the tags frames leave with.
	EgressTags map[PortBD]Tags
	// BDs is fwd_bd: VNI -> BD, the VNIs that are ours.
	BDs map[uint32]BD
	// FDB is fwd_fdb, keyed by BD index and MAC. The program finds every
	// entry the dataplane managed to insert (within FWD_FDB_PROBES).
	FDB map[FDBKey]FDBEntry
	// ES is fwd_es (an ARRAY: a missing id below MaxES reads as zero).
	ES map[uint32]ES
	// NextHops is fwd_nh (an ARRAY).
	NextHops map[uint32]NextHop
	// Groups maps a group id to its active version's buckets (fwd_nhg_active
	// and fwd_nhg_slot); a missing or empty group has no version.
	Groups map[uint32][]Bucket
	// NextHopDown and ESDown are the down bits (fwd_nh_down, fwd_es_down).
	NextHopDown map[uint32]bool
	ESDown      map[uint32]bool
	// VTEPs is fwd_vtep: 16-byte addresses (IPv4-mapped) -> VTEP flags.
	VTEPs map[[16]byte]uint32
	// ESPeers is fwd_es_peers.
	ESPeers map[ESPeerKey]bool
	// TxPorts is fwd_tx: the ifindexes bpf_redirect_map accepts (below
	// MaxIfindex).
	TxPorts map[uint32]bool
	// MTU holds the devices of the network namespace the program runs in,
	// ifindex -> MTU: bpf_check_mtu looks the encap's egress up there, and
	// fails (drop_no_tx_port) for a device that is not.
	MTU map[uint32]int
	// LinearMax, when not 0, is the longest frame the program sees whole.
	// BPF_PROG_RUN hands a longer frame over as a multi-buffer xdp_buff: the
	// program (not frags-aware) sees only the first LinearMax bytes (a page
	// less XDP_PACKET_HEADROOM and the skb_shared_info tailroom, 3520 with 4
	// KiB pages) and the rest rides along unseen, appended to its output.
	LinearMax int
}

// NewState returns an empty state with every map allocated.
func NewState() *State {
	return &State{
		Ports:       make(map[uint32]Port),
		VLANs:       make(map[VLANKey]BD),
		EgressTags:  make(map[PortBD]Tags),
		BDs:         make(map[uint32]BD),
		FDB:         make(map[FDBKey]FDBEntry),
		ES:          make(map[uint32]ES),
		NextHops:    make(map[uint32]NextHop),
		Groups:      make(map[uint32][]Bucket),
		NextHopDown: make(map[uint32]bool),
		ESDown:      make(map[uint32]bool),
		VTEPs:       make(map[[16]byte]uint32),
		ESPeers:     make(map[ESPeerKey]bool),
		TxPorts:     make(map[uint32]bool),
		MTU:         make(map[uint32]int),
	}
}

// SetPort sets a port's role, learn flag and ES (keeping its untagged BD)
// and makes it a redirect target, as the dataplane's SetPort does.
func (s *State) SetPort(ifindex uint32, p Port) {
	p.Untagged = s.Ports[ifindex].Untagged
	s.Ports[ifindex] = p
	s.TxPorts[ifindex] = true
}

// SetBD declares a VNI with its FDB index.
func (s *State) SetBD(vni uint32, idx uint16) {
	s.BDs[vni] = BD{VNI: vni, Idx: idx}
}

// SetVLAN maps tags on ifindex (Tags{}: untagged frames) to the declared BD
// vni, and gives frames leaving ifindex in it the same tags, as the
// dataplane's SetVLAN does. It panics when vni is not declared.
func (s *State) SetVLAN(ifindex uint32, t Tags, vni uint32) {
	bd, ok := s.BDs[vni]
	if !ok {
		panic(fmt.Sprintf("model: SetVLAN to undeclared BD %d", vni))
	}
	if t.Outer == 0 {
		p := s.Ports[ifindex]
		p.Untagged = bd
		s.Ports[ifindex] = p
	} else {
		s.VLANs[VLANKey{Ifindex: ifindex, Outer: t.Outer, Inner: t.Inner}] = bd
	}
	s.EgressTags[PortBD{Ifindex: ifindex, BD: vni}] = t
}

// SetFDB installs an FDB entry in the declared BD vni. It panics when vni is
// not declared.
func (s *State) SetFDB(vni uint32, mac [6]byte, e FDBEntry) {
	bd, ok := s.BDs[vni]
	if !ok {
		panic(fmt.Sprintf("model: SetFDB in undeclared BD %d", vni))
	}
	s.FDB[FDBKey{BD: bd.Idx, MAC: mac}] = e
}

// SetNextHop installs a nexthop between two addresses of the same family.
func (s *State) SetNextHop(id uint32, src, dst netip.Addr, vni, ifindex uint32, smac, dmac [6]byte) {
	nh := NextHop{Family: 6, VNI: vni, Ifindex: ifindex, SrcMAC: smac, DstMAC: dmac, Src: src.As16(), Dst: dst.As16()}
	if src.Is4() {
		nh.Family = 4
	}
	s.NextHops[id] = nh
}

// Addr16 returns a as the fast path keys addresses: 16 bytes, IPv4-mapped.
func Addr16(a netip.Addr) [16]byte { return a.As16() }

// es reads fwd_es like the program: ok is false past the array's end.
func (s *State) es(id uint32) (ES, bool) {
	if id >= MaxES {
		return ES{}, false
	}
	return s.ES[id], true
}

func (s *State) nextHop(id uint32) (NextHop, bool) {
	if id >= MaxNextHops {
		return NextHop{}, false
	}
	return s.NextHops[id], true
}

// nhDown is fwd_bit_down on fwd_nh_down: an id past the map is down.
func (s *State) nhDown(id uint32) bool {
	if id>>5 >= MaxNextHops/32 {
		return true
	}
	return s.NextHopDown[id]
}

func (s *State) esDown(id uint32) bool {
	if id>>5 >= MaxES/32 {
		return true
	}
	return s.ESDown[id]
}
