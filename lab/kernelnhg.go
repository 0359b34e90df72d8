package lab

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"iter"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
)

// The kernel's L2 nexthop groups, as FRR programs them for EVPN
// multihoming: one fdb nexthop per remote VTEP, one fdb group per Ethernet
// Segment (FRR makes a group even for a single VTEP), and FDB entries that
// point at the group by id, so that a failover is one group replace.

// AddFDBNextHop creates (or replaces) fdb nexthop id towards VTEP vtep:
// `ip nexthop replace id ID via VTEP fdb`.
func (k *KernelVTEP) AddFDBNextHop(ctx context.Context, id uint32, vtep netip.Addr) error {
	return k.NS.IP(ctx, "nexthop", "replace", "id", strconv.FormatUint(uint64(id), 10), "via", vtep.String(), "fdb")
}

// SetFDBGroup creates group id of fdb nexthops, or replaces its members in
// place (every FDB entry using it follows): `ip nexthop replace id ID group
// A/B/.. fdb`.
func (k *KernelVTEP) SetFDBGroup(ctx context.Context, id uint32, members []uint32) error {
	if len(members) == 0 {
		return fmt.Errorf("fdb group %d: no members: %w", id, ErrSpec)
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = strconv.FormatUint(uint64(m), 10)
	}
	return k.NS.IP(ctx, "nexthop", "replace", "id", strconv.FormatUint(uint64(id), 10),
		"group", strings.Join(ids, "/"), "fdb")
}

// LoadRemoteMACs points every MAC of macs at fdb group nhg, as FRR installs
// a type-2 route of a remote ES: one netlink message per MAC with
// NTF_SELF|NTF_MASTER and NTF_EXT_LEARNED, which programs both the vxlan
// device's entry (`nhid`) and the bridge's (`bridge fdb replace MAC dev
// vxlanN nhid G self master extern_learn`). The entries go through one
// `bridge -batch` process; progress, when not nil, is called with the
// number of MACs handed over so far, every step MACs and at the end.
func (k *KernelVTEP) LoadRemoteMACs(ctx context.Context, macs iter.Seq[net.HardwareAddr], nhg uint32, step int, progress func(int)) (int, error) {
	suffix := " dev " + k.VXLAN + " nhid " + strconv.FormatUint(uint64(nhg), 10) + " self master extern_learn\n"
	return k.NS.bridgeBatch(ctx, macs, suffix, step, progress)
}

// LoadLocalMACs installs every MAC of macs as a static bridge entry on port
// dev (`bridge fdb replace MAC dev DEV master static`), what the bridge
// would learn from hosts behind dev. Like LoadRemoteMACs, it runs one
// `bridge -batch` process.
func (k *KernelVTEP) LoadLocalMACs(ctx context.Context, dev string, macs iter.Seq[net.HardwareAddr], step int, progress func(int)) (int, error) {
	return k.NS.bridgeBatch(ctx, macs, " dev "+dev+" master static\n", step, progress)
}

// Delete removes the VTEP's vxlan device and bridge. Deleting the devices
// flushes their FDBs before the call returns, where deleting the namespace
// would leave a large FDB to a kernel worker that runs on after Close.
func (k *KernelVTEP) Delete(ctx context.Context) error {
	if err := k.NS.IP(ctx, "link", "del", k.VXLAN); err != nil {
		return err
	}
	return k.NS.IP(ctx, "link", "del", k.Bridge)
}

// bridgeBatch writes "fdb replace MAC<suffix>" for every MAC to `bridge -n
// NS -batch -` and returns how many it handed over.
func (n *NS) bridgeBatch(ctx context.Context, macs iter.Seq[net.HardwareAddr], suffix string, step int, progress func(int)) (int, error) {
	if step <= 0 {
		step = 10000
	}
	cmd := exec.CommandContext(ctx, "bridge", "-n", n.Full, "-batch", "-")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 0, err
	}
	n.run.log.Debug("exec", "cmd", strings.Join(cmd.Args, " "), "suffix", strings.TrimSpace(suffix))
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("bridge -batch in %s: %w", n.Full, err)
	}
	w := bufio.NewWriterSize(stdin, 64<<10)
	done := 0
	var werr error
	for mac := range macs {
		if _, werr = io.WriteString(w, "fdb replace "+mac.String()+suffix); werr != nil {
			break
		}
		done++
		if progress != nil && done%step == 0 {
			progress(done)
		}
	}
	if werr == nil {
		werr = w.Flush()
	}
	cerr := stdin.Close()
	if err := cmd.Wait(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		return done, fmt.Errorf("bridge -batch in %s after %d entries: %w: %s", n.Full, done, err, msg)
	}
	if werr != nil {
		return done, fmt.Errorf("bridge -batch in %s: %w", n.Full, werr)
	}
	if cerr != nil {
		return done, cerr
	}
	if progress != nil {
		progress(done)
	}
	return done, nil
}

// SetMAC sets dev's hardware address.
func (n *NS) SetMAC(ctx context.Context, dev string, mac net.HardwareAddr) error {
	return n.IP(ctx, "link", "set", dev, "address", mac.String())
}
