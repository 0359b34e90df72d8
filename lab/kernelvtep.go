package lab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// VXLANPort is the UDP port every VTEP of a lab uses (IANA's).
const VXLANPort = 4789

// KernelVTEPConfig describes a kernel VTEP.
type KernelVTEPConfig struct {
	// VNI is the one bridge domain it serves.
	VNI uint32
	// Local is its underlay address, which must be (or become) an address
	// of the namespace.
	Local netip.Addr
	// Ports are the host-facing links to enslave to the bridge.
	Ports []string
	// ZeroUDPChecksum makes the vxlan device send UDP checksum 0
	// (`noudpcsum` over IPv4, `udp6zerocsumtx` over IPv6), as fwd does,
	// instead of the kernel's default of computing it.
	ZeroUDPChecksum bool
}

// KernelVTEP is the Linux kernel's VTEP as FRR programs it: a vxlan device
// without learning, enslaved to a bridge with the host ports, and static
// FDB entries on the vxlan device.
type KernelVTEP struct {
	NS    *NS
	VNI   uint32
	Local netip.Addr
	// VXLAN and Bridge are the names of its devices ("vxlan100", "br100").
	VXLAN, Bridge string
}

// AddKernelVTEP creates a kernel VTEP in ns: `ip link add vxlanN type vxlan
// id N local ADDR dstport 4789 nolearning` (plus udp6zerocsumrx over IPv6,
// since fwd sends UDP checksum 0 there, as RFC 6935 allows), bridge brN,
// both up, with cfg.Ports enslaved.
func (t *Topology) AddKernelVTEP(ctx context.Context, ns *NS, cfg KernelVTEPConfig) (*KernelVTEP, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	if cfg.VNI == 0 || cfg.VNI > 1<<24-1 || !cfg.Local.IsValid() {
		return nil, fmt.Errorf("kernel VTEP in %s: VNI %d, local %s: want a VNI 1-16777215 and an address: %w",
			ns.Name, cfg.VNI, cfg.Local, ErrSpec)
	}
	vni := strconv.FormatUint(uint64(cfg.VNI), 10)
	k := &KernelVTEP{NS: ns, VNI: cfg.VNI, Local: cfg.Local, VXLAN: "vxlan" + vni, Bridge: "br" + vni}
	args := []string{"link", "add", k.VXLAN, "type", "vxlan", "id", vni, "local", cfg.Local.String(),
		"dstport", strconv.Itoa(VXLANPort), "nolearning"}
	switch {
	case cfg.Local.Is6() && cfg.ZeroUDPChecksum:
		args = append(args, "udp6zerocsumrx", "udp6zerocsumtx")
	case cfg.Local.Is6():
		args = append(args, "udp6zerocsumrx")
	case cfg.ZeroUDPChecksum:
		args = append(args, "noudpcsum")
	}
	steps := [][]string{
		args,
		{"link", "add", k.Bridge, "type", "bridge"},
		{"link", "set", k.Bridge, "addrgenmode", "none"},
		{"link", "set", k.VXLAN, "addrgenmode", "none"},
		{"link", "set", k.Bridge, "up"},
		{"link", "set", k.VXLAN, "master", k.Bridge, "up"},
	}
	for _, s := range steps {
		if err := ns.IP(ctx, s...); err != nil {
			return nil, err
		}
	}
	for _, p := range cfg.Ports {
		if err := k.AddPort(ctx, p); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// AddPort enslaves dev to the VTEP's bridge.
func (k *KernelVTEP) AddPort(ctx context.Context, dev string) error {
	return k.NS.IP(ctx, "link", "set", dev, "master", k.Bridge, "up")
}

// AddRemoteMAC sends frames for mac to VTEP vtep: `bridge fdb add MAC dev
// vxlanN dst VTEP self permanent`, what FRR installs for a type-2 route.
func (k *KernelVTEP) AddRemoteMAC(ctx context.Context, mac net.HardwareAddr, vtep netip.Addr) error {
	_, err := k.NS.run.run(ctx, "bridge", "-n", k.NS.Full, "fdb", "add", mac.String(), "dev", k.VXLAN,
		"dst", vtep.String(), "self", "permanent")
	return err
}

// AddFlood adds vtep to the VNI's flood list: `bridge fdb append
// 00:00:00:00:00:00 dev vxlanN dst VTEP self permanent`, what FRR installs
// for a type-3 route.
func (k *KernelVTEP) AddFlood(ctx context.Context, vtep netip.Addr) error {
	_, err := k.NS.run.run(ctx, "bridge", "-n", k.NS.Full, "fdb", "append", "00:00:00:00:00:00", "dev", k.VXLAN,
		"dst", vtep.String(), "self", "permanent")
	return err
}
