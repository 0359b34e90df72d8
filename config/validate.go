package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/fwdplane/fwd/evpn"
)

// maxDFDelay bounds multihoming.df_delay: longer is a typo, not a policy.
const maxDFDelay = time.Hour

// builder turns the decoded file into a Config, collecting every problem.
type builder struct {
	c   *collector
	cfg *Config
	f   *fileConfig

	bds     map[uint32]int // VNI -> index in bridge_domains
	ifaces  map[string]int // name -> index in interfaces
	carries map[string]map[uint32]bool
}

// build validates f and returns the Config it describes; the problems are
// in c.
func build(c *collector, f *fileConfig) *Config {
	b := &builder{c: c, cfg: Default(), f: f,
		bds: map[uint32]int{}, ifaces: map[string]int{}, carries: map[string]map[uint32]bool{}}
	b.node()
	b.bridgeDomains()
	b.interfaces()
	b.staticMACs()
	b.ethernetSegments()
	b.multihoming()
	b.hooks()
	b.api()
	b.log()
	b.dataplane()
	if f.BGP.Kind != 0 && f.BGP.ShortTag() != "!!null" {
		bgp := f.BGP
		b.cfg.BGP = &bgp
	}
	return b.cfg
}

func (b *builder) node() {
	f, cfg := b.f, b.cfg
	if f.VTEP4 != nil {
		cfg.VTEP4 = b.vtep("vtep4", *f.VTEP4, true)
	}
	if f.VTEP6 != nil {
		cfg.VTEP6 = b.vtep("vtep6", *f.VTEP6, false)
	}
	if f.VTEP4 == nil && f.VTEP6 == nil && !b.c.skipped("vtep4") && !b.c.skipped("vtep6") {
		b.c.add("", "", "no VTEP address: set vtep4 (an IPv4 address) or vtep6 (an IPv6 address) or both, the addresses this node encapsulates from")
	}
	if f.RouterMAC != nil {
		if m, ok := b.mac("router_mac", *f.RouterMAC); ok {
			cfg.RouterMAC = m
		}
	}
}

// vtep parses one of this node's VTEP addresses.
func (b *builder) vtep(path, s string, v4 bool) netip.Addr {
	want, fam := "an IPv4 address such as 192.0.2.1", "IPv4"
	if !v4 {
		want, fam = "an IPv6 address such as 2001:db8::1", "IPv6"
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		b.c.add(path, quote(s), "not an IP address: want %s", want)
	case v4 && !a.Is4():
		b.c.add(path, quote(s), "not an IPv4 address: want %s (an IPv6 VTEP goes in vtep6)", want)
	case !v4 && (!a.Is6() || a.Is4In6()):
		b.c.add(path, quote(s), "not an IPv6 address: want %s (an IPv4 VTEP goes in vtep4)", want)
	case a.Zone() != "":
		b.c.add(path, quote(s), "has a zone: want a global %s address without %%zone", fam)
	case a.IsUnspecified() || a.IsMulticast() || a.IsLinkLocalUnicast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		b.c.add(path, quote(s), "not a unicast address a VTEP can use: want a routable %s address of this node", fam)
	default:
		return a
	}
	return netip.Addr{}
}

// mac parses a unicast MAC.
func (b *builder) mac(path, s string) (evpn.MAC, bool) {
	m, err := evpn.ParseMAC(s)
	switch {
	case err != nil:
		b.c.add(path, quote(s), "not a MAC address: want six hex bytes such as 44:38:39:ff:ff:01")
	case m.IsZero():
		b.c.add(path, quote(s), "the zero MAC: want a unicast MAC such as 44:38:39:ff:ff:01")
	case m.IsMulticast():
		b.c.add(path, quote(s), "a multicast MAC (low bit of the first byte set): want a unicast MAC such as 44:38:39:ff:ff:01")
	default:
		return m, true
	}
	return evpn.MAC{}, false
}

// number range-checks an integer; ok is false when it is missing or out
// of range (and the latter is reported).
func (b *builder) number(path string, v *int64, lo, hi int64, want string) (int64, bool) {
	if v == nil {
		return 0, false
	}
	if *v < lo || *v > hi {
		b.c.add(path, strconv.FormatInt(*v, 10), "want %s %d-%d", want, lo, hi)
		return 0, false
	}
	return *v, true
}

// vni checks a VNI field, missing included.
func (b *builder) vni(path string, v *int64) (uint32, bool) {
	if v == nil {
		b.c.add(path, "", "missing: want a VNI 1-%d", MaxVNI)
		return 0, false
	}
	n, ok := b.number(path, v, 1, MaxVNI, "a VNI")
	return uint32(n), ok
}

// declared checks that a VNI used at path is a bridge domain.
func (b *builder) declared(path string, vni uint32) bool {
	if _, ok := b.bds[vni]; ok {
		return true
	}
	b.c.add(path, strconv.FormatUint(uint64(vni), 10), "VNI %d is not a bridge domain: declare it under bridge_domains (have: %s) or fix the VNI", vni, b.vniList())
	return false
}

func (b *builder) vniList() string {
	if len(b.bds) == 0 {
		return "none"
	}
	vnis := make([]string, 0, len(b.bds))
	for _, bd := range b.cfg.BridgeDomains {
		vnis = append(vnis, strconv.FormatUint(uint64(bd.VNI), 10))
	}
	return strings.Join(vnis, ", ")
}

func (b *builder) ifaceList() string {
	if len(b.cfg.Interfaces) == 0 {
		return "none"
	}
	names := make([]string, 0, len(b.cfg.Interfaces))
	for _, it := range b.cfg.Interfaces {
		names = append(names, it.Name)
	}
	return strings.Join(names, ", ")
}

// ifname checks an interface name as the kernel would (dev_valid_name);
// "" when missing or invalid.
func (b *builder) ifname(path string, s *string) string {
	if s == nil {
		b.c.add(path, "", "missing: want an interface name such as eth1")
		return ""
	}
	if msg := ifnameProblem(*s); msg != "" {
		b.c.add(path, quote(*s), "%s", msg)
		return ""
	}
	return *s
}

func ifnameProblem(s string) string {
	switch {
	case s == "":
		return "empty: want an interface name such as eth1"
	case len(s) > maxIfNameLen:
		return fmt.Sprintf("%d bytes long: Linux interface names have at most %d", len(s), maxIfNameLen)
	case s == "." || s == "..":
		return "not an interface name: want a name such as eth1"
	}
	for _, r := range s {
		if r == '/' || r == ':' || r == 0 || unicode.IsSpace(r) {
			return fmt.Sprintf("contains %q: Linux interface names have no '/', ':' or white space", r)
		}
	}
	return ""
}

func (b *builder) bridgeDomains() {
	names := map[string]int{}
	for i, fb := range b.f.BridgeDomains {
		p := index("bridge_domains", i)
		bd := BridgeDomain{}
		if vni, ok := b.vni(field(p, "vni"), fb.VNI); ok {
			if j, dup := b.bds[vni]; dup {
				b.c.add(field(p, "vni"), strconv.FormatUint(uint64(vni), 10), "VNI %d is already declared at bridge_domains[%d]; declare each VNI once", vni, j)
			} else {
				b.bds[vni] = i
			}
			bd.VNI = vni
		}
		if fb.Name != nil {
			name := *fb.Name
			switch {
			case name == "":
				b.c.add(field(p, "name"), quote(name), "empty: leave name out, or give a label such as servers")
			case len(name) > maxBridgeDomainName || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
				b.c.add(field(p, "name"), quote(name), "want a label of at most %d printable characters", maxBridgeDomainName)
			default:
				if j, dup := names[name]; dup {
					b.c.add(field(p, "name"), quote(name), "name %q is already used by bridge_domains[%d]; names label one bridge domain each", name, j)
				}
				names[name] = i
				bd.Name = name
			}
		}
		b.cfg.BridgeDomains = append(b.cfg.BridgeDomains, bd)
	}
	if n := len(b.f.BridgeDomains); n > MaxBridgeDomains {
		b.c.add("bridge_domains", "", "%d bridge domains: the fast path holds at most %d", n, MaxBridgeDomains)
	}
}

func (b *builder) interfaces() {
	if len(b.f.Interfaces) == 0 {
		b.c.add("interfaces", "", "no interfaces: list the access ports and at least one uplink")
		return
	}
	uplinks := 0
	for i, fi := range b.f.Interfaces {
		p := index("interfaces", i)
		it := Interface{Name: b.ifname(field(p, "name"), fi.Name)}
		if it.Name != "" {
			if j, dup := b.ifaces[it.Name]; dup {
				b.c.add(field(p, "name"), quote(it.Name), "interface %s is already declared at interfaces[%d]; declare each interface once", it.Name, j)
			} else {
				b.ifaces[it.Name] = i
			}
		}
		switch {
		case fi.Role == nil:
			b.c.add(field(p, "role"), "", "missing: want access (hosts and Ethernet Segments) or uplink (the underlay)")
		case *fi.Role == "access":
			it.Role = RoleAccess
		case *fi.Role == "uplink":
			it.Role = RoleUplink
			uplinks++
		default:
			b.c.add(field(p, "role"), quote(*fi.Role), "want access (hosts and Ethernet Segments) or uplink (the underlay)")
		}
		switch it.Role {
		case RoleAccess:
			b.access(p, fi, &it)
		case RoleUplink:
			if fi.UntaggedVNI != nil {
				b.c.add(field(p, "untagged_vni"), strconv.FormatInt(*fi.UntaggedVNI, 10), "an uplink bridges no frames: remove untagged_vni, or set role: access")
			}
			if len(fi.VLANs) > 0 {
				b.c.add(field(p, "vlans"), "", "an uplink bridges no frames: remove vlans, or set role: access")
			}
			if fi.Learn != nil && *fi.Learn {
				b.c.add(field(p, "learn"), "true", "an uplink learns no MACs (remote MACs come from EVPN routes): remove learn, or set role: access")
			}
		}
		b.cfg.Interfaces = append(b.cfg.Interfaces, it)
	}
	if uplinks == 0 && !b.c.skipped("interfaces") {
		b.c.add("interfaces", "", "no uplink: give at least one interface role: uplink, the underlay port VXLAN leaves by")
	}
	if n := len(b.f.Interfaces); n > MaxInterfaces {
		b.c.add("interfaces", "", "%d interfaces: the fast path holds at most %d ports", n, MaxInterfaces)
	}
}

// access checks the bridging settings of an access port.
func (b *builder) access(p string, fi fileInterface, it *Interface) {
	it.Learn = fi.Learn == nil || *fi.Learn
	carried := map[uint32]string{} // VNI -> path that maps it on this port
	b.carries[it.Name] = map[uint32]bool{}
	carry := func(path string, vni uint32) {
		if prev, dup := carried[vni]; dup {
			b.c.add(path, strconv.FormatUint(uint64(vni), 10), "VNI %d is already carried on this port by %s; a port carries a VNI under one tag only (frames leaving in it need one tag)", vni, prev)
			return
		}
		carried[vni] = path
		b.carries[it.Name][vni] = true
	}
	if fi.UntaggedVNI != nil {
		path := field(p, "untagged_vni")
		if vni, ok := b.number(path, fi.UntaggedVNI, 1, MaxVNI, "a VNI"); ok && b.declared(path, uint32(vni)) {
			it.UntaggedVNI = uint32(vni)
			carry(path, uint32(vni))
		}
	}
	type tags struct{ outer, inner int64 }
	seen := map[tags]int{}
	for j, fv := range fi.VLANs {
		vp := index(field(p, "vlans"), j)
		v := VLAN{}
		okTags := true
		if fv.VLAN == nil {
			b.c.add(field(vp, "vlan"), "", "missing: want a VLAN ID 1-%d", MaxVLAN)
			okTags = false
		} else if n, ok := b.number(field(vp, "vlan"), fv.VLAN, 1, MaxVLAN, "a VLAN ID"); ok {
			v.VLAN = uint16(n)
		} else {
			okTags = false
		}
		if fv.InnerVLAN != nil {
			if n, ok := b.number(field(vp, "inner_vlan"), fv.InnerVLAN, 1, MaxVLAN, "an inner VLAN ID"); ok {
				v.InnerVLAN = uint16(n)
			} else {
				okTags = false
			}
		}
		if okTags {
			k := tags{int64(v.VLAN), int64(v.InnerVLAN)}
			if prev, dup := seen[k]; dup {
				b.c.add(field(vp, "vlan"), tagString(v.VLAN, v.InnerVLAN), "VLAN %s is already mapped at %s; map each VLAN once per port", tagString(v.VLAN, v.InnerVLAN), index(field(p, "vlans"), prev))
			} else {
				seen[k] = j
			}
		}
		if vni, ok := b.vni(field(vp, "vni"), fv.VNI); ok && b.declared(field(vp, "vni"), vni) {
			v.VNI = vni
			carry(field(vp, "vni"), vni)
		}
		it.VLANs = append(it.VLANs, v)
	}
	if fi.UntaggedVNI == nil && len(fi.VLANs) == 0 {
		b.c.add(p, "", "access port %s bridges nothing: set untagged_vni or vlans (or remove the port)", it.Name)
	}
}

func tagString(outer, inner uint16) string {
	if inner == 0 {
		return strconv.Itoa(int(outer))
	}
	return fmt.Sprintf("%d.%d", outer, inner)
}

func (b *builder) staticMACs() {
	for i, fb := range b.f.BridgeDomains {
		bd := &b.cfg.BridgeDomains[i]
		seen := map[evpn.MAC]int{}
		for j, fm := range fb.StaticMACs {
			p := index(field(index("bridge_domains", i), "static_macs"), j)
			sm := StaticMAC{}
			if fm.MAC == nil {
				b.c.add(field(p, "mac"), "", "missing: want a unicast MAC such as 00:00:5e:00:53:01")
			} else if m, ok := b.mac(field(p, "mac"), *fm.MAC); ok {
				if prev, dup := seen[m]; dup {
					b.c.add(field(p, "mac"), quote(*fm.MAC), "MAC %s is already pinned at static_macs[%d] of this bridge domain; pin each MAC once", m, prev)
				} else {
					seen[m] = j
				}
				sm.MAC = m
			}
			switch {
			case fm.Interface != nil && fm.VTEP != nil:
				b.c.add(p, "", "give either interface (a local MAC) or vtep (a remote one), not both")
			case fm.Interface != nil:
				sm.Interface = b.ifname(field(p, "interface"), fm.Interface)
				if sm.Interface != "" && bd.VNI != 0 {
					b.localPort(field(p, "interface"), sm.Interface, "a static MAC")
					if it, ok := b.cfg.Interface(sm.Interface); ok && it.Role == RoleAccess && !b.carries[sm.Interface][bd.VNI] {
						b.c.add(field(p, "interface"), quote(sm.Interface), "port %s does not carry VNI %d: map the VNI on it (untagged_vni or vlans) or pin the MAC elsewhere", sm.Interface, bd.VNI)
					}
				}
			case fm.VTEP != nil:
				sm.VTEP = b.remoteVTEP(field(p, "vtep"), *fm.VTEP)
			case b.c.skipped(field(p, "interface")) || b.c.skipped(field(p, "vtep")):
				// misspelled or of the wrong kind, and reported as such
			default:
				b.c.add(p, "", "no location: set interface (a local access port) or vtep (a remote VTEP's address)")
			}
			bd.StaticMACs = append(bd.StaticMACs, sm)
		}
	}
}

// localPort checks that name, used at path by what, is a declared access
// port.
func (b *builder) localPort(path, name, what string) bool {
	i, ok := b.ifaces[name]
	if !ok {
		b.c.add(path, quote(name), "no interface %s in interfaces: declare it with role: access (have: %s)", name, b.ifaceList())
		return false
	}
	if r := b.cfg.Interfaces[i].Role; r != RoleAccess {
		if r == RoleUplink {
			b.c.add(path, quote(name), "interface %s is an uplink: %s belongs on an access port", name, what)
		}
		return false
	}
	return true
}

func (b *builder) remoteVTEP(path, s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		b.c.add(path, quote(s), "not an IP address: want a remote VTEP's IPv4 or IPv6 address")
	case a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() || a.IsLinkLocalUnicast():
		b.c.add(path, quote(s), "not a unicast address a VTEP can have: want a remote VTEP's routable address")
	case a.Unmap() == b.cfg.VTEP4 || a == b.cfg.VTEP6:
		b.c.add(path, quote(s), "is this node's own VTEP: a local MAC is pinned with interface instead")
	default:
		return a.Unmap()
	}
	return netip.Addr{}
}

func (b *builder) ethernetSegments() {
	byESI := map[evpn.ESI]int{}
	byPort := map[string]int{}
	byName := map[string]int{}
	for i, fe := range b.f.EthernetSegments {
		p := index("ethernet_segments", i)
		es := EthernetSegment{DFAlg: DefaultDFAlg, DFPref: DefaultDFPref}
		es.Interface = b.ifname(field(p, "interface"), fe.Interface)
		portDup := false
		if es.Interface != "" && b.localPort(field(p, "interface"), es.Interface, "an ES") {
			if j, dup := byPort[es.Interface]; dup {
				portDup = true
				b.c.add(field(p, "interface"), quote(es.Interface), "port %s is already on ES %q (ethernet_segments[%d]); a port belongs to one ES", es.Interface, b.cfg.EthernetSegments[j].Name, j)
			} else {
				byPort[es.Interface] = i
			}
		}
		es.Name = es.Interface
		if fe.Name != nil {
			if *fe.Name == "" || len(*fe.Name) > maxBridgeDomainName || strings.IndexFunc(*fe.Name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
				b.c.add(field(p, "name"), quote(*fe.Name), "want a label of 1-%d printable characters, or leave name out to use the interface's", maxBridgeDomainName)
			} else {
				es.Name = *fe.Name
			}
		}
		if es.Name != "" && (fe.Name != nil || !portDup) {
			if j, dup := byName[es.Name]; dup {
				b.c.add(field(p, "name"), quote(es.Name), "ES name %q is already used by ethernet_segments[%d]; give each ES its own name", es.Name, j)
			} else {
				byName[es.Name] = i
			}
		}
		if esi, ok := b.esi(p, fe, &es); ok {
			if j, dup := byESI[esi]; dup {
				b.c.add(p, esi.String(), "ESI %s is already used by ES %q (ethernet_segments[%d]); every ES needs its own ESI", esi, b.cfg.EthernetSegments[j].Name, j)
			} else {
				byESI[esi] = i
			}
			es.ESI = esi
		}
		if fe.DFAlgorithm != nil {
			alg, err := evpn.ParseDFAlg(*fe.DFAlgorithm)
			if err != nil {
				b.c.add(field(p, "df_algorithm"), quote(*fe.DFAlgorithm), "want preference (FRR's, the default), modulo or hrw")
			} else {
				es.DFAlg = alg
			}
		}
		if fe.DFPreference != nil {
			path := field(p, "df_preference")
			if n, ok := b.number(path, fe.DFPreference, int64(evpn.MinDFPref), 0xFFFF, "a DF preference"); ok {
				es.DFPref = uint16(n)
				if es.DFAlg != evpn.DFAlgPreference {
					b.c.add(path, strconv.FormatInt(n, 10), "df_preference applies to df_algorithm preference only, not %s: remove it or set df_algorithm: preference", es.DFAlg)
				}
			}
		}
		b.cfg.EthernetSegments = append(b.cfg.EthernetSegments, es)
	}
	if n := len(b.f.EthernetSegments); n > MaxESes {
		b.c.add("ethernet_segments", "", "%d Ethernet Segments: the fast path holds at most %d", n, MaxESes)
	}
}

// esi returns the ES's ESI from either of its forms.
func (b *builder) esi(p string, fe fileEthernetSegment, es *EthernetSegment) (evpn.ESI, bool) {
	const forms = "set esi (ten bytes such as 00:11:22:33:44:55:66:77:88:99), or es_id and es_sys_mac (FRR's evpn mh es-id and es-sys-mac)"
	switch {
	case fe.ESI != nil && (fe.ESID != nil || fe.SysMAC != nil):
		b.c.add(p, "", "both esi and es_id/es_sys_mac: give one form only; %s", forms)
		return evpn.ESI{}, false
	case fe.ESI != nil:
		path := field(p, "esi")
		esi, err := evpn.ParseESI(*fe.ESI)
		switch {
		case err != nil:
			b.c.add(path, quote(*fe.ESI), "not an ESI: want ten hex bytes separated by colons, such as 00:11:22:33:44:55:66:77:88:99, or 20 hex digits")
		case esi.IsZero():
			b.c.add(path, quote(*fe.ESI), "the zero ESI is reserved (it means single-homed): want a non-zero ESI")
		case esi.IsMax():
			b.c.add(path, quote(*fe.ESI), "the all-ones ESI is reserved (MAX-ESI, RFC 7432): want another ESI")
		default:
			if mac, id, ok := esi.SysMAC(); ok {
				es.SysMAC, es.ESID = mac, id
			}
			return esi, true
		}
		return evpn.ESI{}, false
	case fe.ESID != nil || fe.SysMAC != nil:
		var mac evpn.MAC
		id, ok := b.number(field(p, "es_id"), fe.ESID, 1, evpn.MaxESID, "an es_id")
		if fe.ESID == nil {
			b.c.add(field(p, "es_id"), "", "missing: es_sys_mac needs es_id 1-%d (FRR's evpn mh es-id)", evpn.MaxESID)
		}
		if fe.SysMAC == nil {
			b.c.add(field(p, "es_sys_mac"), "", "missing: es_id needs es_sys_mac, a unicast MAC shared by the ES's PEs (FRR's evpn mh es-sys-mac)")
			ok = false
		} else if m, good := b.mac(field(p, "es_sys_mac"), *fe.SysMAC); good {
			mac = m
		} else {
			ok = false
		}
		if !ok {
			return evpn.ESI{}, false
		}
		esi, err := evpn.ESIFromSysMAC(mac, uint32(id))
		if err != nil { // unreachable after the checks above
			b.c.add(p, "", "%v", err)
			return evpn.ESI{}, false
		}
		es.ESID, es.SysMAC = uint32(id), mac
		return esi, true
	case b.c.skipped(field(p, "esi")) || b.c.skipped(field(p, "es_id")) || b.c.skipped(field(p, "es_sys_mac")):
		// misspelled or of the wrong kind, and reported as such
	default:
		b.c.add(p, "", "no ESI: %s", forms)
	}
	return evpn.ESI{}, false
}

func (b *builder) multihoming() {
	f := b.f.Multihoming
	if f == nil {
		return
	}
	mh := &b.cfg.Multihoming
	if f.DFDelay != nil {
		d, err := time.ParseDuration(*f.DFDelay)
		switch {
		case err != nil:
			b.c.add("multihoming.df_delay", quote(*f.DFDelay), "want a duration with a unit, such as 3s (FRR's) or 500ms")
		case d < 0 || d > maxDFDelay:
			b.c.add("multihoming.df_delay", quote(*f.DFDelay), "want a duration from 0s (no delay) to %s", maxDFDelay)
		default:
			mh.DFDelay = d
		}
	}
	if f.EADPerESOnly != nil {
		mh.EADPerESOnly = *f.EADPerESOnly
	}
}

// absPath checks an absolute path setting; "" allowed when optional.
func (b *builder) absPath(path string, s *string, optional bool, want string) (string, bool) {
	switch {
	case s == nil:
		return "", false
	case *s == "" && optional:
		return "", true
	case *s == "":
		b.c.add(path, quote(*s), "empty: want %s", want)
	case !filepath.IsAbs(*s):
		b.c.add(path, quote(*s), "a relative path: want %s", want)
	case strings.ContainsRune(*s, 0):
		b.c.add(path, quote(*s), "contains a NUL byte: want %s", want)
	default:
		return filepath.Clean(*s), true
	}
	return "", false
}

func (b *builder) hooks() {
	if f := b.f.Hooks; f != nil {
		if dir, ok := b.absPath("hooks.dir", f.Dir, true, "an absolute directory such as /etc/fwd/hooks, or \"\" for no hooks"); ok {
			b.cfg.Hooks.Dir = dir
		}
	}
}

func (b *builder) api() {
	f := b.f.API
	if f == nil {
		return
	}
	if sock, ok := b.absPath("api.socket", f.Socket, false, "an absolute path such as "+DefaultSocket); ok {
		if len(sock) > maxSocketPathLen {
			b.c.add("api.socket", quote(*f.Socket), "%d bytes long: a unix socket path has at most %d", len(sock), maxSocketPathLen)
		} else {
			b.cfg.API.Socket = sock
		}
	}
	if f.ReadGroup != nil {
		g := *f.ReadGroup
		bad := strings.IndexFunc(g, func(r rune) bool {
			return r >= unicode.MaxASCII || !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '.' && r != '$'
		})
		switch {
		case g == "":
			b.c.add("api.read_group", quote(g), "empty: want a group name such as %s (members may read; only root writes)", DefaultReadGroup)
		case len(g) > maxGroupNameLen || bad >= 0 || g[0] == '-':
			b.c.add("api.read_group", quote(g), "not a group name: want a name of at most %d letters, digits, '_', '-' or '.', or a numeric gid", maxGroupNameLen)
		default:
			b.cfg.API.ReadGroup = g
		}
	}
}

func (b *builder) log() {
	f := b.f.Log
	if f == nil {
		return
	}
	if f.Format != nil {
		switch LogFormat(strings.ToLower(*f.Format)) {
		case LogJSON:
			b.cfg.Log.Format = LogJSON
		case LogText:
			b.cfg.Log.Format = LogText
		default:
			b.c.add("log.format", quote(*f.Format), "want json (the default) or text")
		}
	}
	if f.Level != nil {
		if lvl, err := ParseLevel(*f.Level); err != nil {
			b.c.add("log.level", quote(*f.Level), "want debug, info, warn or error")
		} else {
			b.cfg.Log.Level = lvl
		}
	}
}

// ParseLevel parses a log level as the config and the API take it: debug,
// info, warn or error, in any case, optionally with an offset as slog
// writes it ("debug-4", "error+2").
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if s == "" {
		return 0, errors.New(`empty log level: want debug, info, warn or error`)
	}
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func (b *builder) dataplane() {
	f := b.f.Dataplane
	if f == nil {
		return
	}
	dp := &b.cfg.Dataplane
	if dir, ok := b.absPath("dataplane.pin_dir", f.PinDir, true, "an absolute directory on a bpffs such as "+DefaultPinDir+", or \"\" to pin nothing"); ok {
		dp.PinDir = dir
	}
	if n, ok := b.number("dataplane.fdb_size", f.FDBSize, 1, MaxFDBSize, "an FDB size (MACs)"); ok {
		dp.FDBSize = uint32(n)
	}
	if n, ok := b.number("dataplane.fdb_cache_sets", f.FDBCacheSets, 1, MaxFDBCacheSets, "a power of two"); ok {
		if n&(n-1) != 0 {
			b.c.add("dataplane.fdb_cache_sets", strconv.FormatInt(n, 10), "not a power of two: want a power of two 1-%d, such as %d", MaxFDBCacheSets, DefaultFDBCacheSets)
		} else {
			dp.FDBCacheSets = uint32(n)
		}
	}
	if f.KeepXDPOnStop != nil {
		dp.KeepXDPOnStop = *f.KeepXDPOnStop
	}
	if dp.KeepXDPOnStop && dp.PinDir == "" && f.PinDir != nil && *f.PinDir == "" {
		b.c.add("dataplane.keep_xdp_on_stop", strconv.FormatBool(dp.KeepXDPOnStop), "XDP stays attached after a stop only through links pinned in pin_dir: set a pin_dir, or keep_xdp_on_stop: false")
	}
	if n, ok := b.number("dataplane.vxlan_port", f.VXLANPort, 1, 0xFFFF, "a UDP port"); ok {
		dp.VXLANPort = uint16(n)
	}
	if n, ok := b.number("dataplane.ttl", f.TTL, 1, 0xFF, "a TTL"); ok {
		dp.TTL = uint8(n)
	}
	if n, ok := b.number("dataplane.learn_rate", f.LearnRate, 0, 1<<32-1, "learn events per second per CPU (0: off)"); ok {
		dp.LearnRate = uint32(n)
	}
	if n, ok := b.number("dataplane.learn_burst", f.LearnBurst, 1, 1<<32-1, "a learn burst"); ok {
		dp.LearnBurst = uint32(n)
	}
}
