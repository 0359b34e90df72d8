package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/fwdplane/fwd/dataplane"
)

// Family is an IP address family.
type Family int

// Underlay families.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

func (f Family) String() string {
	if f == IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

// UnderlayMTU is the MTU of the underlay veths: a 1500-byte host frame plus
// VXLAN's 50 (IPv4) or 70 (IPv6) bytes of outer headers.
func (f Family) UnderlayMTU() int {
	if f == IPv6 {
		return 1570
	}
	return 1550
}

// VTEPKind says what implements a VTEP.
type VTEPKind int

// VTEP kinds.
const (
	// Fwd is fwd's XDP fast path.
	Fwd VTEPKind = iota + 1
	// Kernel is the Linux vxlan device and bridge, as FRR programs them.
	Kernel
)

func (k VTEPKind) String() string {
	switch k {
	case Fwd:
		return "fwd"
	case Kernel:
		return "kernel"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Spec describes a topology for Build: VTEPs on one underlay segment, one
// bridge domain, and hosts hanging off the VTEPs.
type Spec struct {
	// Underlay is the underlay's family; zero means IPv4.
	Underlay Family
	// VNI is the bridge domain's VNI; zero means 100.
	VNI uint32
	// VTEPs, each in a namespace of its own. With two VTEPs the underlay
	// is one veth between their "uplink" ports; with more, every uplink
	// goes to a bridge in a namespace called "fabric".
	VTEPs []VTEPSpec
	// Hosts, each in a namespace of its own with one link, eth0, to its
	// VTEP; the VTEP's end has the host's name.
	Hosts []HostSpec
}

// VTEPSpec describes one VTEP.
type VTEPSpec struct {
	Name string
	Kind VTEPKind
	// FDBMax is an fwd VTEP's FDB size; 0 means DefaultFDBMax.
	FDBMax uint32
}

// HostSpec describes one host.
type HostSpec struct {
	Name string
	// VTEP is the name of the VTEP the host hangs off.
	VTEP string
	// VLAN tags the host's frames on an fwd port with this VLAN (0:
	// untagged). The host is then a user-space 802.1Q stack that answers
	// and sends ICMP echo.
	VLAN uint16
	// ES puts the host's port on the fwd VTEP's local Ethernet Segment
	// with this id (0: none).
	ES uint32
	// ESBackup names the VTEPs that back the ES up: the ES peers, used
	// while the local port is down.
	ESBackup []string
}

// Host is a host of a built topology.
type Host struct {
	Name string
	NS   *NS
	// VTEP names the VTEP, Port the host's port on it.
	VTEP, Port string
	IP         netip.Addr
	Prefix     netip.Prefix
	MAC        net.HardwareAddr
	VLAN       uint16
	ES         uint32

	tagged *taggedHost
}

// VTEPInfo is a VTEP of a built topology.
type VTEPInfo struct {
	Name  string
	Kind  VTEPKind
	NS    *NS
	Addr  netip.Addr
	MAC   net.HardwareAddr // the uplink's
	Index int              // position in the Spec; nexthop id Index+1
}

const (
	defaultVNI = 100
	uplink     = "uplink"
	hostDev    = "eth0"
)

// vtepAddr is the underlay address of the i-th VTEP.
func vtepAddr(f Family, i int) netip.Prefix {
	if f == IPv6 {
		a := netip.MustParseAddr("2001:db8::").As16()
		a[15] = byte(i + 1)
		return netip.PrefixFrom(netip.AddrFrom16(a), 64)
	}
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}), 24)
}

// hostAddr and hostMAC are those of the i-th host.
func hostAddr(i int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), 24)
}

func hostMAC(i int) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, 0, byte(i + 1)} }

// ESI returns the type-3 ESI FRR builds from `evpn mh es-id id` and `evpn mh
// es-sys-mac 44:38:39:ff:ff:01`, the one a lab gives ES id.
func ESI(id uint32) [10]byte {
	return [10]byte{0x03, 0x44, 0x38, 0x39, 0xff, 0xff, 0x01, byte(id >> 16), byte(id >> 8), byte(id)}
}

func (s *Spec) defaults() {
	if s.Underlay == 0 {
		s.Underlay = IPv4
	}
	if s.VNI == 0 {
		s.VNI = defaultVNI
	}
}

func (s *Spec) validate() error {
	if s.Underlay != IPv4 && s.Underlay != IPv6 {
		return fmt.Errorf("underlay family %d: want 4 or 6: %w", s.Underlay, ErrSpec)
	}
	if s.VNI > 1<<24-1 {
		return fmt.Errorf("VNI %d: want 1-16777215: %w", s.VNI, ErrSpec)
	}
	if len(s.VTEPs) < 1 || len(s.VTEPs) > 200 {
		return fmt.Errorf("%d VTEPs: want 1 to 200: %w", len(s.VTEPs), ErrSpec)
	}
	if len(s.Hosts) > 200 {
		return fmt.Errorf("%d hosts: want at most 200: %w", len(s.Hosts), ErrSpec)
	}
	// Names become namespaces and links: these would clash with the links
	// a lab makes itself.
	names := map[string]bool{"fabric": true, uplink: true, "lo": true,
		fmt.Sprint("vxlan", s.VNI): true, fmt.Sprint("br", s.VNI): true}
	esIDs := make(map[string]bool)
	kinds := make(map[string]VTEPKind)
	var vtepNames []string
	for _, v := range s.VTEPs {
		if v.Kind != Fwd && v.Kind != Kernel {
			return fmt.Errorf("VTEP %q: kind %s: want lab.Fwd or lab.Kernel: %w", v.Name, v.Kind, ErrSpec)
		}
		if v.Name == "" || names[v.Name] || len(v.Name) > 15 {
			return fmt.Errorf("VTEP %q: name empty, reserved, taken or longer than an interface name: %w", v.Name, ErrSpec)
		}
		names[v.Name] = true
		kinds[v.Name] = v.Kind
		vtepNames = append(vtepNames, v.Name)
	}
	for _, h := range s.Hosts {
		if h.Name == "" || names[h.Name] || len(h.Name) > 15 {
			return fmt.Errorf("host %q: name empty, reserved, taken or longer than an interface name: %w", h.Name, ErrSpec)
		}
		names[h.Name] = true
		kind, ok := kinds[h.VTEP]
		if !ok {
			return fmt.Errorf("host %s: unknown VTEP %q (have: %v): %w", h.Name, h.VTEP, vtepNames, ErrSpec)
		}
		if kind != Fwd && (h.VLAN != 0 || h.ES != 0) {
			return fmt.Errorf("host %s: VLAN and ES need an fwd VTEP, %s is a kernel VTEP: %w", h.Name, h.VTEP, ErrSpec)
		}
		if h.VLAN > 4094 {
			return fmt.Errorf("host %s: VLAN %d: want 1-4094: %w", h.Name, h.VLAN, ErrSpec)
		}
		if h.ES >= dataplane.MaxES {
			return fmt.Errorf("host %s: ES id %d: want 1-%d: %w", h.Name, h.ES, dataplane.MaxES-1, ErrSpec)
		}
		esKey := fmt.Sprint(h.VTEP, "/", h.ES)
		if h.ES != 0 && esIDs[esKey] {
			return fmt.Errorf("host %s: ES %d of %s already has a host (one port per ES): %w", h.Name, h.ES, h.VTEP, ErrSpec)
		}
		esIDs[esKey] = true
		if h.ES == 0 && len(h.ESBackup) > 0 {
			return fmt.Errorf("host %s: ES backup without an ES: %w", h.Name, ErrSpec)
		}
		for _, b := range h.ESBackup {
			if _, ok := kinds[b]; !ok || b == h.VTEP {
				return fmt.Errorf("host %s: ES backup %q: not another VTEP (have: %v): %w", h.Name, b, vtepNames, ErrSpec)
			}
		}
	}
	return nil
}

// Build makes the topology spec describes and configures both kinds of VTEP
// with every host's MAC. On error it removes what it made. The caller must
// Close the result.
func Build(ctx context.Context, spec Spec, opts *Options) (t *Topology, err error) {
	spec.defaults()
	if err := spec.validate(); err != nil {
		return nil, err
	}
	t = New(opts)
	t.spec = spec
	defer func() {
		if err != nil {
			err = errors.Join(err, t.Close())
			t = nil
		}
	}()
	if err := t.build(ctx); err != nil {
		return t, err
	}
	return t, nil
}

func (t *Topology) build(ctx context.Context) error {
	s := &t.spec
	vteps := make([]*VTEPInfo, len(s.VTEPs))
	byName := make(map[string]*VTEPInfo)
	for i, v := range s.VTEPs {
		ns, err := t.AddNS(ctx, v.Name)
		if err != nil {
			return err
		}
		vteps[i] = &VTEPInfo{Name: v.Name, Kind: v.Kind, NS: ns, Addr: vtepAddr(s.Underlay, i).Addr(), Index: i}
		byName[v.Name] = vteps[i]
	}

	// The underlay: one veth, or a bridge in "fabric".
	mtu := s.Underlay.UnderlayMTU()
	switch {
	case len(vteps) == 2:
		if _, err := t.AddVeth(ctx, vteps[0].NS, uplink, vteps[1].NS, uplink, mtu); err != nil {
			return err
		}
	case len(vteps) > 2:
		fab, err := t.AddNS(ctx, "fabric")
		if err != nil {
			return err
		}
		if err := fab.IP(ctx, "link", "add", "fabric", "type", "bridge"); err != nil {
			return err
		}
		if err := fab.IP(ctx, "link", "set", "fabric", "mtu", fmt.Sprint(mtu), "addrgenmode", "none"); err != nil {
			return err
		}
		if err := fab.IP(ctx, "link", "set", "fabric", "up"); err != nil {
			return err
		}
		for _, v := range vteps {
			if _, err := t.AddVeth(ctx, v.NS, uplink, fab, v.Name, mtu); err != nil {
				return err
			}
			if err := fab.IP(ctx, "link", "set", v.Name, "master", "fabric", "up"); err != nil {
				return err
			}
		}
	}
	if len(vteps) > 1 {
		for i, v := range vteps {
			if err := v.NS.AddAddr(ctx, uplink, vtepAddr(s.Underlay, i)); err != nil {
				return err
			}
			var err error
			if v.MAC, err = v.NS.MAC(uplink); err != nil {
				return err
			}
		}
		// Permanent neighbours: the underlay never resolves anything.
		for _, v := range vteps {
			for _, o := range vteps {
				if o != v {
					if err := v.NS.SetNeigh(ctx, uplink, o.Addr, o.MAC); err != nil {
						return err
					}
				}
			}
		}
	}

	// Hosts.
	for i, hs := range s.Hosts {
		ns, err := t.AddNS(ctx, hs.Name)
		if err != nil {
			return err
		}
		h := &Host{Name: hs.Name, NS: ns, VTEP: hs.VTEP, Port: hs.Name, Prefix: hostAddr(i), MAC: hostMAC(i),
			VLAN: hs.VLAN, ES: hs.ES}
		h.IP = h.Prefix.Addr()
		t.hosts[h.Name] = h
		t.order = append(t.order, h.Name)
		if _, err := t.AddVeth(ctx, ns, hostDev, byName[hs.VTEP].NS, hs.Name, 1500); err != nil {
			return err
		}
		if err := ns.IP(ctx, "link", "set", hostDev, "address", h.MAC.String()); err != nil {
			return err
		}
		if hs.VLAN == 0 {
			if err := ns.AddAddr(ctx, hostDev, h.Prefix); err != nil {
				return err
			}
		}
	}
	// Every host knows every other host's MAC: no ARP through fwd, which
	// hands broadcast to the kernel until BUM replication lands.
	for _, h := range t.hosts {
		if h.VLAN != 0 {
			continue
		}
		for _, o := range t.hosts {
			if o != h {
				if err := h.NS.SetNeigh(ctx, hostDev, o.IP, o.MAC); err != nil {
					return err
				}
			}
		}
	}

	for _, v := range vteps {
		var err error
		if v.Kind == Kernel {
			err = t.buildKernel(ctx, v, vteps)
		} else {
			err = t.buildFwd(ctx, v, vteps, byName)
		}
		if err != nil {
			return fmt.Errorf("VTEP %s: %w", v.Name, err)
		}
	}

	// User-space hosts start last, on links that are ready.
	for _, name := range t.order {
		h := t.hosts[name]
		if h.VLAN == 0 {
			continue
		}
		neigh := make(map[netip.Addr]net.HardwareAddr)
		for _, o := range t.hosts {
			if o != h {
				neigh[o.IP] = o.MAC
			}
		}
		var err error
		if h.tagged, err = startTaggedHost(h, neigh); err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	t.vteps = vteps
	return nil
}

func (t *Topology) buildKernel(ctx context.Context, v *VTEPInfo, vteps []*VTEPInfo) error {
	var ports []string
	for _, name := range t.order {
		if h := t.hosts[name]; h.VTEP == v.Name {
			ports = append(ports, h.Port)
		}
	}
	k, err := t.AddKernelVTEP(ctx, v.NS, KernelVTEPConfig{VNI: t.spec.VNI, Local: v.Addr, Ports: ports})
	if err != nil {
		return err
	}
	t.kernel[v.Name] = k
	for _, o := range vteps {
		if o != v {
			if err := k.AddFlood(ctx, o.Addr); err != nil {
				return err
			}
		}
	}
	for _, name := range t.order {
		h := t.hosts[name]
		if h.VTEP == v.Name {
			continue
		}
		var dst netip.Addr
		for _, o := range vteps {
			if o.Name == h.VTEP {
				dst = o.Addr
			}
		}
		if err := k.AddRemoteMAC(ctx, h.MAC, dst); err != nil {
			return err
		}
	}
	return nil
}

func (t *Topology) buildFwd(ctx context.Context, v *VTEPInfo, vteps []*VTEPInfo, byName map[string]*VTEPInfo) error {
	var fdbMax uint32
	for _, vs := range t.spec.VTEPs {
		if vs.Name == v.Name {
			fdbMax = vs.FDBMax
		}
	}
	f, err := t.AddFwdVTEP(ctx, v.NS, FwdVTEPConfig{Local: v.Addr, FDBMax: fdbMax})
	if err != nil {
		return err
	}
	vni := t.spec.VNI
	d := f.dp
	if err := d.SetBD(vni); err != nil {
		return err
	}
	if len(vteps) > 1 {
		if _, err := f.AddPort(ctx, uplink, dataplane.Port{Role: dataplane.RoleUplink}); err != nil {
			return err
		}
	}
	upIndex := uint32(f.Port(uplink))
	for _, o := range vteps {
		if o == v {
			continue
		}
		if err := d.SetVTEP(o.Addr, dataplane.VTEPRemote); err != nil {
			return err
		}
		nh := dataplane.NextHop{Src: v.Addr, Dst: o.Addr, Ifindex: upIndex,
			SrcMAC: [6]byte(v.MAC), DstMAC: [6]byte(o.MAC)}
		if err := d.SetNextHop(uint32(o.Index+1), nh); err != nil {
			return err
		}
	}
	static := dataplane.FDBStatic
	for _, name := range t.order {
		h := t.hosts[name]
		key := dataplane.FDBKey{BD: vni, MAC: [6]byte(h.MAC)}
		if h.VTEP != v.Name {
			e := dataplane.FDBEntry{Kind: dataplane.FDBVTEP, Ref: uint32(byName[h.VTEP].Index + 1), Flags: static}
			if err := d.SetFDB(key, e); err != nil {
				return err
			}
			continue
		}
		ifindex, err := f.AddPort(ctx, h.Port, dataplane.Port{Role: dataplane.RoleAccess, ES: h.ES})
		if err != nil {
			return err
		}
		if err := d.SetVLAN(uint32(ifindex), dataplane.Tags{Outer: h.VLAN}, vni); err != nil {
			return err
		}
		e := dataplane.FDBEntry{Kind: dataplane.FDBLocal, Ref: uint32(ifindex), Flags: static}
		if h.ES != 0 {
			e = dataplane.FDBEntry{Kind: dataplane.FDBES, Ref: h.ES, Flags: static}
			if err := t.setES(f, h, byName); err != nil {
				return err
			}
		}
		if err := d.SetFDB(key, e); err != nil {
			return err
		}
	}
	return nil
}

// setES installs host h's local ES: its backup group (the ES peers' nexthops,
// group id = ES id) and the ES peer records for split horizon.
func (t *Topology) setES(f *FwdVTEP, h *Host, byName map[string]*VTEPInfo) error {
	var hs HostSpec
	for _, s := range t.spec.Hosts {
		if s.Name == h.Name {
			hs = s
		}
	}
	es := dataplane.ES{ESI: ESI(h.ES), Flags: dataplane.ESLocal, Ifindex: uint32(f.Port(h.Port))}
	if len(hs.ESBackup) > 0 {
		var nhs []uint32
		for _, b := range hs.ESBackup {
			peer := byName[b]
			nhs = append(nhs, uint32(peer.Index+1))
			if err := f.dp.SetESPeer(peer.Addr, h.ES); err != nil {
				return err
			}
		}
		if _, err := f.dp.ReplaceGroup(h.ES, spread(nhs)); err != nil {
			return err
		}
		es.BackupGroup = h.ES
	}
	return f.dp.SetES(h.ES, es)
}

// spread lays nexthops over a power-of-two bucket table, each bucket backed
// up by the next nexthop.
func spread(nhs []uint32) []dataplane.Bucket {
	n := 1
	for n < len(nhs) {
		n *= 2
	}
	b := make([]dataplane.Bucket, n)
	for i := range b {
		b[i].Primary = nhs[i%len(nhs)]
		if len(nhs) > 1 {
			b[i].Backup = nhs[(i+1)%len(nhs)]
		}
	}
	return b
}

// Spec returns the spec the topology was built from, with defaults filled.
func (t *Topology) Spec() Spec { return t.spec }

// Host returns host name, or nil.
func (t *Topology) Host(name string) *Host { return t.hosts[name] }

// Hosts lists the hosts in Spec order.
func (t *Topology) Hosts() []*Host {
	out := make([]*Host, 0, len(t.order))
	for _, n := range t.order {
		out = append(out, t.hosts[n])
	}
	return out
}

// VTEPs lists the VTEPs in Spec order.
func (t *Topology) VTEPs() []*VTEPInfo { return append([]*VTEPInfo(nil), t.vteps...) }

// Fwd returns fwd VTEP name, or nil.
func (t *Topology) Fwd(name string) *FwdVTEP { return t.fwd[name] }

// Kernel returns kernel VTEP name, or nil.
func (t *Topology) Kernel(name string) *KernelVTEP { return t.kernel[name] }
