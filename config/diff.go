package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fwdplane/fwd/evpn"
)

// Changes is what differs between two configs, as [Diff] finds it, for
// the daemon's reload to apply. Every object appears once, in the set of
// its kind:
//
//   - Interfaces by name; changed when the role or learn differ.
//   - VLANs by (interface, tags), the untagged map included as VLAN 0;
//     changed when the VNI differs. The maps of added and removed
//     interfaces are listed here too, so applying VLANs covers them.
//   - BridgeDomains by VNI; changed when the name differs.
//   - StaticMACs by (VNI, MAC); changed when the location differs. Those of
//     added and removed bridge domains are listed too.
//   - EthernetSegments by ESI (an ES whose ESI changes is removed and
//     added); changed when the name, interface or DF candidacy differ.
//   - Settings: the single values (log.level, vtep4, ...).
//
// Added and changed objects are in the new file's order, removed ones in
// the old file's.
type Changes struct {
	Interfaces       Set[Interface]
	VLANs            Set[PortVLAN]
	BridgeDomains    Set[BridgeDomain]
	StaticMACs       Set[BridgeMAC]
	EthernetSegments Set[EthernetSegment]
	Settings         []Setting
}

// Set is what was added, removed and changed among objects of one kind.
type Set[T any] struct {
	Added   []T
	Removed []T
	Changed []Change[T]
}

// Len returns the number of objects added, removed or changed.
func (s Set[T]) Len() int { return len(s.Added) + len(s.Removed) + len(s.Changed) }

// Change is one object's old and new version.
type Change[T any] struct {
	Old, New T
}

// PortVLAN is one VLAN map of an access port: frames with these tags
// belong to VNI. VLAN 0 is the port's untagged VNI.
type PortVLAN struct {
	Interface       string
	VLAN, InnerVLAN uint16
	VNI             uint32
}

// BridgeMAC is a static MAC in its bridge domain.
type BridgeMAC struct {
	VNI uint32
	StaticMAC
}

// Setting is a single value that changed.
type Setting struct {
	// Path is the setting's path in the file, such as "log.level".
	Path string
	// Old and New are the values as the file would write them.
	Old, New string
	// Live says whether the daemon applies the new value on reload; the
	// others take effect at the next start (docs/CONFIG.md).
	Live bool
}

// Diff returns what changed from old to new. Both are configs Parse or Load
// returned.
func Diff(old, new *Config) *Changes {
	d := &Changes{}
	d.Interfaces = diffSet(old.Interfaces, new.Interfaces,
		func(it Interface) string { return it.Name },
		func(a, b Interface) bool { return a.Role == b.Role && a.Learn == b.Learn })
	d.VLANs = diffSet(portVLANs(old), portVLANs(new),
		func(v PortVLAN) PortVLAN { v.VNI = 0; return v },
		func(a, b PortVLAN) bool { return a == b })
	d.BridgeDomains = diffSet(old.BridgeDomains, new.BridgeDomains,
		func(bd BridgeDomain) uint32 { return bd.VNI },
		func(a, b BridgeDomain) bool { return a.Name == b.Name })
	d.StaticMACs = diffSet(bridgeMACs(old), bridgeMACs(new),
		func(m BridgeMAC) [2]uint64 { return [2]uint64{uint64(m.VNI), macKey(m.MAC)} },
		func(a, b BridgeMAC) bool { return a == b })
	d.EthernetSegments = diffSet(old.EthernetSegments, new.EthernetSegments,
		func(es EthernetSegment) evpn.ESI { return es.ESI },
		func(a, b EthernetSegment) bool { return a == b })
	d.Settings = diffSettings(old, new)
	return d
}

// diffSet compares two lists of objects identified by key.
func diffSet[T any, K comparable](old, new []T, key func(T) K, equal func(a, b T) bool) Set[T] {
	var s Set[T]
	before := make(map[K]T, len(old))
	for _, o := range old {
		before[key(o)] = o
	}
	after := make(map[K]bool, len(new))
	for _, n := range new {
		k := key(n)
		after[k] = true
		switch o, ok := before[k]; {
		case !ok:
			s.Added = append(s.Added, n)
		case !equal(o, n):
			s.Changed = append(s.Changed, Change[T]{Old: o, New: n})
		}
	}
	for _, o := range old {
		if !after[key(o)] {
			s.Removed = append(s.Removed, o)
		}
	}
	return s
}

func portVLANs(c *Config) []PortVLAN {
	var vs []PortVLAN
	for _, it := range c.Interfaces {
		if it.UntaggedVNI != 0 {
			vs = append(vs, PortVLAN{Interface: it.Name, VNI: it.UntaggedVNI})
		}
		for _, v := range it.VLANs {
			vs = append(vs, PortVLAN{Interface: it.Name, VLAN: v.VLAN, InnerVLAN: v.InnerVLAN, VNI: v.VNI})
		}
	}
	return vs
}

func bridgeMACs(c *Config) []BridgeMAC {
	var ms []BridgeMAC
	for _, bd := range c.BridgeDomains {
		for _, m := range bd.StaticMACs {
			ms = append(ms, BridgeMAC{VNI: bd.VNI, StaticMAC: m})
		}
	}
	return ms
}

func macKey(m evpn.MAC) uint64 {
	var k uint64
	for _, b := range m {
		k = k<<8 | uint64(b)
	}
	return k
}

// setting describes one single value for diffSettings.
type setting struct {
	path string
	live bool
	get  func(*Config) string
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func macString(m evpn.MAC) string {
	if m.IsZero() {
		return ""
	}
	return m.String()
}

func uintString[T ~uint8 | ~uint16 | ~uint32](v T) string { return strconv.FormatUint(uint64(v), 10) }

// settings lists every single value and whether a reload applies it.
var settings = []setting{
	{"vtep4", false, func(c *Config) string { return addrString(c.VTEP4) }},
	{"vtep6", false, func(c *Config) string { return addrString(c.VTEP6) }},
	{"router_mac", false, func(c *Config) string { return macString(c.RouterMAC) }},
	{"multihoming.df_delay", false, func(c *Config) string { return c.Multihoming.DFDelay.String() }},
	{"multihoming.ead_per_es_only", false, func(c *Config) string { return strconv.FormatBool(c.Multihoming.EADPerESOnly) }},
	{"hooks.dir", true, func(c *Config) string { return c.Hooks.Dir }},
	{"api.socket", false, func(c *Config) string { return c.API.Socket }},
	{"api.read_group", true, func(c *Config) string { return c.API.ReadGroup }},
	{"log.format", false, func(c *Config) string { return string(c.Log.Format) }},
	{"log.level", true, func(c *Config) string { return strings.ToLower(c.Log.Level.String()) }},
	{"dataplane.pin_dir", false, func(c *Config) string { return c.Dataplane.PinDir }},
	{"dataplane.fdb_size", false, func(c *Config) string { return uintString(c.Dataplane.FDBSize) }},
	{"dataplane.fdb_cache_sets", false, func(c *Config) string { return uintString(c.Dataplane.FDBCacheSets) }},
	{"dataplane.keep_xdp_on_stop", true, func(c *Config) string { return strconv.FormatBool(c.Dataplane.KeepXDPOnStop) }},
	{"dataplane.vxlan_port", true, func(c *Config) string { return uintString(c.Dataplane.VXLANPort) }},
	{"dataplane.ttl", true, func(c *Config) string { return uintString(c.Dataplane.TTL) }},
	{"dataplane.learn_rate", true, func(c *Config) string { return uintString(c.Dataplane.LearnRate) }},
	{"dataplane.learn_burst", true, func(c *Config) string { return uintString(c.Dataplane.LearnBurst) }},
}

func diffSettings(old, new *Config) []Setting {
	var out []Setting
	for _, s := range settings {
		if o, n := s.get(old), s.get(new); o != n {
			out = append(out, Setting{Path: s.path, Old: o, New: n, Live: s.live})
		}
	}
	budget := maxNodes
	if !nodeEqual(old.BGP, new.BGP, 0, &budget) {
		out = append(out, Setting{Path: "bgp", Old: nodeSummary(old.BGP), New: nodeSummary(new.BGP)})
	}
	return out
}

// nodeEqual compares two YAML trees by content: kinds, tags and values,
// aliases followed; comments, styles and lines do not count.
// Past maxDepth or after budget nodes it gives up and says "changed".
func nodeEqual(a, b *yaml.Node, depth int, budget *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	if *budget--; depth > maxDepth || *budget < 0 {
		return false
	}
	if a.Kind == yaml.AliasNode && a.Alias != nil {
		return nodeEqual(a.Alias, b, depth+1, budget)
	}
	if b.Kind == yaml.AliasNode && b.Alias != nil {
		return nodeEqual(a, b.Alias, depth+1, budget)
	}
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || a.Value != b.Value || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !nodeEqual(a.Content[i], b.Content[i], depth+1, budget) {
			return false
		}
	}
	return true
}

// nodeSummary renders a section on one line, in flow style, shortened to
// 80 characters.
func nodeSummary(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	budget := maxNodes
	out, err := yaml.Marshal(flow(n, 0, &budget))
	if err != nil {
		return fmt.Sprintf("(section at line %d)", n.Line)
	}
	s := strings.Join(strings.Fields(string(out)), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// flow returns a copy of n in flow style, without comments.
func flow(n *yaml.Node, depth int, budget *int) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	c := &yaml.Node{Kind: n.Kind, Tag: n.Tag, Value: n.Value}
	if n.Kind == yaml.ScalarNode {
		c.Style = n.Style &^ (yaml.LiteralStyle | yaml.FoldedStyle)
	} else {
		c.Style = yaml.FlowStyle
	}
	if *budget--; depth > maxDepth || *budget < 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: "..."}
	}
	for _, k := range n.Content {
		c.Content = append(c.Content, flow(k, depth+1, budget))
	}
	return c
}

// Empty reports whether nothing changed.
func (d *Changes) Empty() bool {
	return d.Interfaces.Len()+d.VLANs.Len()+d.BridgeDomains.Len()+d.StaticMACs.Len()+
		d.EthernetSegments.Len()+len(d.Settings) == 0
}

// Restart returns the changed settings a reload does not apply; they take
// effect when the daemon next starts.
func (d *Changes) Restart() []Setting {
	var out []Setting
	for _, s := range d.Settings {
		if !s.Live {
			out = append(out, s)
		}
	}
	return out
}

// Lines describes every change, one a line: "+" added, "-" removed, "~"
// changed, in the order a reload applies them (docs/CONFIG.md).
func (d *Changes) Lines() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, v := range d.VLANs.Removed {
		add("- vlan map %s", v)
	}
	for _, m := range d.StaticMACs.Removed {
		add("- static_mac %s", m)
	}
	for _, es := range d.EthernetSegments.Removed {
		add("- ethernet_segment %s", es)
	}
	for _, it := range d.Interfaces.Removed {
		add("- interface %s (%s)", it.Name, it.Role)
	}
	for _, bd := range d.BridgeDomains.Removed {
		add("- bridge_domain %s", bd)
	}
	for _, bd := range d.BridgeDomains.Added {
		add("+ bridge_domain %s", bd)
	}
	for _, c := range d.BridgeDomains.Changed {
		add("~ bridge_domain %d: name %q -> %q", c.New.VNI, c.Old.Name, c.New.Name)
	}
	for _, it := range d.Interfaces.Added {
		add("+ interface %s (%s)", it.Name, it.Role)
	}
	for _, c := range d.Interfaces.Changed {
		add("~ interface %s: %s", c.New.Name, interfaceChange(c.Old, c.New))
	}
	for _, es := range d.EthernetSegments.Added {
		add("+ ethernet_segment %s", es)
	}
	for _, c := range d.EthernetSegments.Changed {
		add("~ ethernet_segment %s: %s", c.New.ESI, esChange(c.Old, c.New))
	}
	for _, v := range d.VLANs.Added {
		add("+ vlan map %s", v)
	}
	for _, c := range d.VLANs.Changed {
		add("~ vlan map %s %s: VNI %d -> %d", c.New.Interface, c.New.tags(), c.Old.VNI, c.New.VNI)
	}
	for _, m := range d.StaticMACs.Added {
		add("+ static_mac %s", m)
	}
	for _, c := range d.StaticMACs.Changed {
		add("~ static_mac VNI %d %s: %s -> %s", c.New.VNI, c.New.MAC, c.Old.where(), c.New.where())
	}
	for _, s := range d.Settings {
		when := "live"
		if !s.Live {
			when = "at the next start"
		}
		add("~ %s: %q -> %q (%s)", s.Path, s.Old, s.New, when)
	}
	return out
}

// String returns Lines joined by newlines, or "no changes".
func (d *Changes) String() string {
	if d.Empty() {
		return "no changes"
	}
	return strings.Join(d.Lines(), "\n")
}

// String formats the map as "swp1 vlan 10.20 -> VNI 100" ("untagged" for
// VLAN 0).
func (v PortVLAN) String() string {
	return fmt.Sprintf("%s %s -> VNI %d", v.Interface, v.tags(), v.VNI)
}

func (v PortVLAN) tags() string {
	if v.VLAN == 0 {
		return "untagged"
	}
	return "vlan " + tagString(v.VLAN, v.InnerVLAN)
}

func (m StaticMAC) where() string {
	if m.Interface != "" {
		return "on " + m.Interface
	}
	return "behind VTEP " + m.VTEP.String()
}

// String formats the MAC as "VNI 100 00:00:5e:00:53:01 on swp1".
func (m BridgeMAC) String() string {
	return fmt.Sprintf("VNI %d %s %s", m.VNI, m.MAC, m.where())
}

// String formats the bridge domain as "100" or "100 (servers)".
func (bd BridgeDomain) String() string {
	if bd.Name == "" {
		return strconv.FormatUint(uint64(bd.VNI), 10)
	}
	return fmt.Sprintf("%d (%s)", bd.VNI, bd.Name)
}

// String formats the ES as "03:44:38:39:ff:ff:01:00:00:01 (name) on swp1,
// df preference 32767".
func (es EthernetSegment) String() string {
	s := es.ESI.String()
	if es.Name != "" && es.Name != es.Interface {
		s += " (" + es.Name + ")"
	}
	s += " on " + es.Interface + ", df " + es.DFAlg.String()
	if es.DFAlg == evpn.DFAlgPreference {
		s += " " + strconv.Itoa(int(es.DFPref))
	}
	return s
}

func interfaceChange(o, n Interface) string {
	var parts []string
	if o.Role != n.Role {
		parts = append(parts, fmt.Sprintf("role %s -> %s", o.Role, n.Role))
	}
	if o.Learn != n.Learn {
		parts = append(parts, fmt.Sprintf("learn %t -> %t", o.Learn, n.Learn))
	}
	return strings.Join(parts, ", ")
}

func esChange(o, n EthernetSegment) string {
	var parts []string
	diff := func(what string, a, b string) {
		if a != b {
			parts = append(parts, fmt.Sprintf("%s %s -> %s", what, a, b))
		}
	}
	diff("name", strconv.Quote(o.Name), strconv.Quote(n.Name))
	diff("interface", o.Interface, n.Interface)
	diff("df_algorithm", o.DFAlg.String(), n.DFAlg.String())
	diff("df_preference", strconv.Itoa(int(o.DFPref)), strconv.Itoa(int(n.DFPref)))
	return strings.Join(parts, ", ")
}
