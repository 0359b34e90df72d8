package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fwdplane/fwd/evpn"
)

// Defaults of the settings a file may leave out (docs/CONFIG.md).
const (
	DefaultSocket       = "/run/fwd/fwd.sock"
	DefaultReadGroup    = "fwd"
	DefaultPinDir       = "/sys/fs/bpf/fwd"
	DefaultFDBSize      = 1 << 20
	DefaultFDBCacheSets = 1 << 16
	DefaultVXLANPort    = 4789
	DefaultTTL          = 64
	DefaultLearnRate    = 10000
	DefaultLearnBurst   = 1000
	// DefaultDFDelay is FRR's: a local ES waits 3 s after coming up before
	// it may become the DF.
	DefaultDFDelay = 3 * time.Second
	// DefaultDFPref is FRR's default DF preference.
	DefaultDFPref = evpn.DefaultDFPref
	// DefaultDFAlg is FRR's (and its only) DF election algorithm.
	DefaultDFAlg = evpn.DFAlgPreference
)

// Limits of the fast path's tables that the config is checked against. They
// follow the sizes compiled into bpf/fwd.h (dataplane.MaxPorts, MaxBDs,
// MaxES, the FDB and cache limits of dataplane.Options); this package does
// not import dataplane, so they are repeated here.
const (
	MaxInterfaces       = 1024
	MaxBridgeDomains    = 16383
	MaxESes             = 4095 // ES id 0 means "none"
	MaxFDBSize          = 1 << 24
	MaxFDBCacheSets     = 1 << 20
	MaxVNI              = evpn.MaxLabel
	MaxVLAN             = 4094
	maxIfNameLen        = 15  // IFNAMSIZ - 1
	maxSocketPathLen    = 107 // sizeof(sun_path) - 1
	maxGroupNameLen     = 32
	maxBridgeDomainName = 64
)

// Config is a validated daemon configuration with every default applied.
// Slices keep the order of the file, so index i of Interfaces is
// interfaces[i] in error messages.
type Config struct {
	// VTEP4 and VTEP6 are this node's VTEP addresses, the outer source of
	// what it encapsulates; at least one is valid.
	VTEP4, VTEP6 netip.Addr
	// RouterMAC is the node's router MAC for symmetric IRB; zero when not
	// set (no routing).
	RouterMAC evpn.MAC
	// Interfaces are the ports fwd attaches to, by kernel name.
	Interfaces []Interface
	// BridgeDomains are the VNIs this node serves.
	BridgeDomains []BridgeDomain
	// EthernetSegments are the local (multihomed) Ethernet Segments.
	EthernetSegments []EthernetSegment
	// Multihoming holds the node-wide EVPN multihoming knobs.
	Multihoming Multihoming
	// Hooks configures the Lua hooks.
	Hooks Hooks
	// API configures the unix-socket API.
	API API
	// Log configures the daemon's logs.
	Log Log
	// Dataplane configures the XDP fast path.
	Dataplane Dataplane
	// BGP is the bgp section as written, reserved for the BGP issue: not
	// checked here. nil when the file has none (or "bgp: null").
	BGP *yaml.Node

	// source is the file name given to Load, for DecodeBGP's errors.
	source string
}

// Role is what an interface is for. The values match dataplane.PortRole.
type Role uint8

// Interface roles.
const (
	// RoleAccess ports face hosts and Ethernet Segments: their frames are
	// bridged into VNIs by VLAN.
	RoleAccess Role = 1
	// RoleUplink ports face the underlay: VXLAN leaves and arrives there.
	RoleUplink Role = 2
)

// String returns "access", "uplink" or "role(N)".
func (r Role) String() string {
	switch r {
	case RoleAccess:
		return "access"
	case RoleUplink:
		return "uplink"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Interface is one port fwd attaches its XDP program to.
type Interface struct {
	// Name is the kernel's interface name; the daemon resolves it to an
	// ifindex when it runs.
	Name string
	Role Role
	// UntaggedVNI is the bridge domain of untagged frames on an access
	// port; 0 means untagged frames are not bridged.
	UntaggedVNI uint32
	// VLANs map tagged frames of an access port to bridge domains.
	VLANs []VLAN
	// Learn makes the fast path report new and moved source MACs of an
	// access port (default true; always false on uplinks).
	Learn bool
}

// VLAN maps frames arriving on a port with these tags to a bridge domain,
// and gives frames leaving the port in that bridge domain the same tags.
type VLAN struct {
	// VLAN is the outer tag, 1-4094.
	VLAN uint16
	// InnerVLAN is the inner (customer) tag of a double-tagged frame, 0
	// for single-tagged.
	InnerVLAN uint16
	// VNI is the bridge domain.
	VNI uint32
}

// BridgeDomain is a layer-2 segment, identified by its VNI.
type BridgeDomain struct {
	VNI uint32
	// Name is an optional label shown by the CLI and in logs.
	Name string
	// StaticMACs are MACs installed from the config, never learned or aged.
	StaticMACs []StaticMAC
}

// StaticMAC is a MAC the config pins either to a local access port or to a
// remote VTEP.
type StaticMAC struct {
	MAC evpn.MAC
	// Interface is the local access port the MAC is behind ("" if remote).
	Interface string
	// VTEP is the remote VTEP the MAC is behind (invalid if local).
	VTEP netip.Addr
}

// EthernetSegment is a local Ethernet Segment: an access port this node
// shares with other PEs, all-active.
type EthernetSegment struct {
	// Name labels the ES in logs and the CLI; it defaults to Interface.
	Name string
	// Interface is the ES's access port on this node.
	Interface string
	// ESI is the segment's identifier, given in the file or built from
	// ESID and SysMAC as FRR builds a type-3 ESI.
	ESI evpn.ESI
	// ESID and SysMAC are FRR's "evpn mh es-id" and "evpn mh es-sys-mac"
	// when the ESI was given that way; 0 and zero otherwise.
	ESID   uint32
	SysMAC evpn.MAC
	// DFAlg is the DF election algorithm this node advertises (default
	// preference) and DFPref its preference (default 32767).
	DFAlg  evpn.DFAlg
	DFPref uint16
}

// Multihoming holds the node-wide multihoming knobs (FRR's "evpn mh ...").
type Multihoming struct {
	// DFDelay is how long a local ES waits after coming up before it may
	// become the DF (default 3 s; 0 means none).
	DFDelay time.Duration
	// EADPerESOnly makes a remote PE active for an ES on its EAD-per-ES
	// route alone; by default it also needs an EAD-per-EVI route (FRR).
	EADPerESOnly bool
}

// Hooks configures the Lua hooks.
type Hooks struct {
	// Dir is the directory of the hook scripts; "" disables hooks.
	Dir string
}

// API configures the unix-socket API.
type API struct {
	// Socket is the path of the API's unix socket.
	Socket string
	// ReadGroup is the group (name or numeric gid) whose members may read;
	// only root writes.
	ReadGroup string
}

// LogFormat is the log output format.
type LogFormat string

// Log formats.
const (
	LogJSON LogFormat = "json"
	LogText LogFormat = "text"
)

// Log configures the daemon's logs.
type Log struct {
	Format LogFormat
	Level  slog.Level
}

// Dataplane configures the XDP fast path.
type Dataplane struct {
	// PinDir is the bpffs directory where maps and links are pinned, so
	// that forwarding survives a restart; "" pins nothing.
	PinDir string
	// FDBSize is the FDB's capacity in MACs.
	FDBSize uint32
	// FDBCacheSets sizes the per-CPU FDB cache (a power of two).
	FDBCacheSets uint32
	// KeepXDPOnStop leaves the XDP program attached (and forwarding) when
	// the daemon stops cleanly; false detaches it. Needs PinDir.
	KeepXDPOnStop bool
	// VXLANPort is the UDP destination port of VXLAN.
	VXLANPort uint16
	// TTL is the outer IP TTL (hop limit) of encapsulated frames.
	TTL uint8
	// LearnRate is learn events per second per CPU (0 turns learning
	// reports off); LearnBurst is the burst above that rate.
	LearnRate, LearnBurst uint32
}

// Default returns the configuration of an empty file: no interfaces, no
// VTEP (so it does not validate) and every default.
func Default() *Config {
	return &Config{
		Multihoming: Multihoming{DFDelay: DefaultDFDelay},
		API:         API{Socket: DefaultSocket, ReadGroup: DefaultReadGroup},
		Log:         Log{Format: LogJSON, Level: slog.LevelInfo},
		Dataplane: Dataplane{
			PinDir:        DefaultPinDir,
			FDBSize:       DefaultFDBSize,
			FDBCacheSets:  DefaultFDBCacheSets,
			KeepXDPOnStop: true,
			VXLANPort:     DefaultVXLANPort,
			TTL:           DefaultTTL,
			LearnRate:     DefaultLearnRate,
			LearnBurst:    DefaultLearnBurst,
		},
	}
}

// Interface returns the interface called name.
func (c *Config) Interface(name string) (*Interface, bool) {
	for i := range c.Interfaces {
		if c.Interfaces[i].Name == name {
			return &c.Interfaces[i], true
		}
	}
	return nil, false
}

// Uplinks returns the names of the uplink interfaces, in file order.
func (c *Config) Uplinks() []string {
	var names []string
	for _, it := range c.Interfaces {
		if it.Role == RoleUplink {
			names = append(names, it.Name)
		}
	}
	return names
}

// ESOn returns the Ethernet Segment whose access port is the interface
// called name.
func (c *Config) ESOn(name string) (*EthernetSegment, bool) {
	for i := range c.EthernetSegments {
		if c.EthernetSegments[i].Interface == name {
			return &c.EthernetSegments[i], true
		}
	}
	return nil, false
}

// VNIs returns the bridge domains' VNIs, in file order.
func (c *Config) VNIs() []uint32 {
	vnis := make([]uint32, len(c.BridgeDomains))
	for i, bd := range c.BridgeDomains {
		vnis[i] = bd.VNI
	}
	return vnis
}

// DecodeBGP decodes the bgp section into v (a pointer) as strictly as
// [Parse] decodes the rest: an unknown key or a value of the wrong kind is an
// [Errors] list naming the path (bgp.neighbors[0].asn) and the line in the
// original file. It does nothing when the file has no bgp section.
func (c *Config) DecodeBGP(v any) error {
	if c.BGP == nil {
		return nil
	}
	return decodeNode(c.BGP, v, "bgp", c.source)
}
