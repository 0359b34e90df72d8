package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"

	"github.com/fwdplane/fwd/dataplane"
)

// DefaultFDBMax is the FDB size of a lab's fwd VTEP: labs hold a handful of
// MACs, and a small map loads fast.
const DefaultFDBMax = 4096

// FwdVTEPConfig describes an fwd VTEP.
type FwdVTEPConfig struct {
	// Local is its underlay address: VXLAN to it is decapsulated.
	Local netip.Addr
	// FDBMax is the FDB's capacity; 0 means DefaultFDBMax.
	FDBMax uint32
}

// FwdVTEP is a namespace whose ports run fwd's XDP program.
type FwdVTEP struct {
	NS    *NS
	Local netip.Addr

	t     *Topology
	dp    *dataplane.Dataplane
	ports map[string]int
	modes map[string]dataplane.AttachMode
}

// AddFwdVTEP loads fwd's fast path for a VTEP in ns and declares its local
// address. Ports are attached with AddPort.
func (t *Topology) AddFwdVTEP(ctx context.Context, ns *NS, cfg FwdVTEPConfig) (*FwdVTEP, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	if !cfg.Local.IsValid() {
		return nil, fmt.Errorf("fwd VTEP in %s: no local address: %w", ns.Name, ErrSpec)
	}
	if t.fwd[ns.Name] != nil {
		return nil, fmt.Errorf("fwd VTEP in %s: already there: %w", ns.Name, ErrSpec)
	}
	if cfg.FDBMax == 0 {
		cfg.FDBMax = DefaultFDBMax
	}
	dp, err := dataplane.Load(&dataplane.Options{FDBMax: cfg.FDBMax, PinDir: t.pinDir(ns.Name), Logger: t.log})
	if err != nil {
		return nil, fmt.Errorf("fwd VTEP in %s: %w", ns.Name, err)
	}
	f := &FwdVTEP{NS: ns, Local: cfg.Local, t: t, dp: dp, ports: make(map[string]int), modes: make(map[string]dataplane.AttachMode)}
	t.fwd[ns.Name] = f
	if err := dp.SetVTEP(cfg.Local, dataplane.VTEPLocal); err != nil {
		return nil, err
	}
	return f, nil
}

// Dataplane returns the VTEP's loaded fast path. Calls that resolve an
// ifindex (Attach, SetPort, Run) must run inside the namespace: use Do.
func (f *FwdVTEP) Dataplane() *dataplane.Dataplane { return f.dp }

// Do runs fn with the dataplane on a thread inside the VTEP's namespace.
func (f *FwdVTEP) Do(fn func(d *dataplane.Dataplane) error) error {
	return f.NS.Do(func() error { return fn(f.dp) })
}

// AddPort makes dev a port of the fast path: it switches GRO on at the
// veth's peer (when the topology made the veth), so that frames redirected
// into dev are not dropped, attaches the program to dev and writes the port
// entry. It returns dev's ifindex.
func (f *FwdVTEP) AddPort(ctx context.Context, dev string, p dataplane.Port) (int, error) {
	ifindex, err := f.NS.Ifindex(dev)
	if err != nil {
		return 0, err
	}
	if peer, ok := f.t.Peer(f.NS, dev); ok {
		if err := peer.NS.SetGRO(ctx, peer.Name, true); err != nil {
			return 0, err
		}
	}
	var mode dataplane.AttachMode
	err = f.Do(func(d *dataplane.Dataplane) error {
		var err error
		if mode, err = d.Attach(ifindex); err != nil {
			return err
		}
		return d.SetPort(uint32(ifindex), p)
	})
	if err != nil {
		return 0, fmt.Errorf("fwd port %s/%s: %w", f.NS.Name, dev, err)
	}
	f.ports[dev] = ifindex
	f.modes[dev] = mode
	return ifindex, nil
}

// Port returns the ifindex of port dev, 0 if dev is not a port.
func (f *FwdVTEP) Port(dev string) int { return f.ports[dev] }

// Ports lists the port names, sorted.
func (f *FwdVTEP) Ports() []string {
	names := make([]string, 0, len(f.ports))
	for n := range f.ports {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AttachMode returns how the program runs on port dev (native or generic).
func (f *FwdVTEP) AttachMode(dev string) dataplane.AttachMode { return f.modes[dev] }

// Counters returns the fast path's counters, summed over CPUs.
func (f *FwdVTEP) Counters() (map[string]uint64, error) { return f.dp.Counters() }

// close detaches the program and removes the pins.
func (f *FwdVTEP) close() error {
	return errors.Join(f.dp.Unpin(), f.dp.Close())
}

// release closes the dataplane; pinned links keep forwarding.
func (f *FwdVTEP) release() error { return f.dp.Close() }

// Delta returns after - before for every counter that changed.
func Delta(before, after map[string]uint64) map[string]uint64 {
	d := make(map[string]uint64)
	for k, v := range after {
		if v != before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}
