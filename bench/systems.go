package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/lab"
)

// fdbStep is how many FDB entries go in between two progress reports.
const fdbStep = 1 << 16

// fwdES and fwdGroup are the Ethernet Segment and group of fwd's remote ES
// scenario; fwd's nexthops 1-4 are the four remote VTEPs.
const (
	fwdES    = 1
	fwdGroup = 1
)

// setupFwd loads fwd's fast path with an FDB sized to the scenario,
// attaches it natively to the ingress and egress ports and installs the
// bridge domain, the VTEPs and the FDB.
func (r *rig) setupFwd(ctx context.Context) error {
	u := underlayOf(r.key.ipv6)
	r.step("loading fwd")
	f, err := r.top.AddFwdVTEP(ctx, r.sut, lab.FwdVTEPConfig{Local: u.local.Addr(), FDBMax: uint32(r.key.fdb + 16)})
	if err != nil {
		return err
	}
	r.fwd = f
	inRole, outRole := dataplane.RoleAccess, dataplane.RoleUplink
	switch r.key.path {
	case pathDecap:
		inRole, outRole = dataplane.RoleUplink, dataplane.RoleAccess
	case pathLocal:
		outRole = dataplane.RoleAccess
	}
	in, err := f.AddPort(ctx, devIngress, dataplane.Port{Role: inRole})
	if err != nil {
		return err
	}
	out, err := f.AddPort(ctx, r.egressDev, dataplane.Port{Role: outRole})
	if err != nil {
		return err
	}
	for _, dev := range []string{devIngress, r.egressDev} {
		if m := f.AttachMode(dev); m != dataplane.ModeNative {
			return fmt.Errorf("fwd on %s attached in %s mode, not native: the numbers would not be fwd's", dev, m)
		}
	}
	err = f.Do(func(d *dataplane.Dataplane) error {
		if err := d.SetBD(VNI); err != nil {
			return err
		}
		for _, p := range []struct {
			ifindex int
			role    dataplane.PortRole
		}{{in, inRole}, {out, outRole}} {
			if p.role == dataplane.RoleAccess {
				if err := d.SetVLAN(uint32(p.ifindex), dataplane.Tags{}, VNI); err != nil {
					return err
				}
			}
		}
		if inRole == dataplane.RoleAccess {
			// The sending host, as the control plane installs it once
			// learnt: known on its port, so no learn event per frame.
			if err := d.SetFDB(dataplane.FDBKey{BD: VNI, MAC: hostMAC}, dataplane.FDBEntry{Kind: dataplane.FDBLocal, Ref: uint32(in)}); err != nil {
				return err
			}
		}
		switch r.key.path {
		case pathEncap:
			buckets := make([]dataplane.Bucket, dataplane.GroupBuckets)
			for i := range buckets {
				buckets[i] = dataplane.Bucket{Primary: uint32(i%4) + 1, Backup: uint32((i+1)%4) + 1}
			}
			for i, vtep := range u.vteps {
				nh := dataplane.NextHop{Src: u.local.Addr(), Dst: vtep, Ifindex: uint32(out),
					SrcMAC: [6]byte(macEg), DstMAC: [6]byte(macSink)}
				if err := d.SetNextHop(uint32(i)+1, nh); err != nil {
					return err
				}
			}
			if _, err := d.ReplaceGroup(fwdGroup, buckets); err != nil {
				return err
			}
			return d.SetES(fwdES, dataplane.ES{Group: fwdGroup})
		case pathDecap:
			return d.SetVTEP(underlay4.vteps[0], dataplane.VTEPRemote)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("configure fwd: %w", err)
	}
	if r.key.path == pathEncap {
		return r.loadFwdRemote(1)
	}
	return r.loadFwd(localBase, dataplane.FDBEntry{Kind: dataplane.FDBLocal, Ref: uint32(out)})
}

// loadFwdRemote points the remote MACs at VTEP 1 (members == 1) or at the
// remote ES and its group.
func (r *rig) loadFwdRemote(members int) error {
	e := dataplane.FDBEntry{Kind: dataplane.FDBVTEP, Ref: 1}
	if members > 1 {
		e = dataplane.FDBEntry{Kind: dataplane.FDBES, Ref: fwdES}
	}
	return r.loadFwd(remoteBase, e)
}

// loadFwd installs the rig's FDB (base+0 .. base+fdb-1, all to e) with
// batch updates, reporting progress.
func (r *rig) loadFwd(base [6]byte, e dataplane.FDBEntry) error {
	d := r.fwd.Dataplane()
	n := r.key.fdb
	keys := make([]dataplane.FDBKey, 0, min(n, fdbStep))
	vals := make([]dataplane.FDBEntry, 0, min(n, fdbStep))
	start := time.Now()
	for done := 0; done < n; {
		keys, vals = keys[:0], vals[:0]
		for i := done; i < min(done+fdbStep, n); i++ {
			keys = append(keys, dataplane.FDBKey{BD: VNI, MAC: macAt(base, i)})
			vals = append(vals, e)
		}
		got, err := d.SetFDBBatch(keys, vals)
		done += got
		if err != nil {
			return fmt.Errorf("fwd FDB: %w", err)
		}
		r.step(fmt.Sprintf("fwd FDB %s/%s", Scale(done), Scale(n)))
	}
	r.fdbLoad = time.Since(start)
	return nil
}

// setupKernel builds the kernel path FRR programs: a bridge with the
// ingress (and for decap and local switching, the egress) port and a
// vxlan device; for encapsulation, the underlay address, a route to the
// remote VTEPs through a next hop with a permanent neighbour entry, four
// fdb nexthops, an fdb group and every remote MAC pointing at the group;
// for decap and local switching, the local MACs as static entries on the
// egress port. GRO on the ingress port gives it NAPI, so that the frames
// the generator sends into it reach the bridge. The kernel runs at its
// best on the same job: br_netfilter's hooks are switched off in the
// namespace, and the vxlan device sends UDP checksum 0, as fwd does (RFC
// 7348 for IPv4, RFC 6935 for IPv6), rather than computing it by default.
func (r *rig) setupKernel(ctx context.Context) error {
	u := underlayOf(r.key.ipv6)
	r.step("building the kernel bridge and vxlan device")
	cfg := lab.KernelVTEPConfig{VNI: VNI, Local: u.local.Addr(), ZeroUDPChecksum: true}
	upDev, nhMAC := devUplink, macSink
	switch r.key.path {
	case pathEncap:
		cfg.Ports = []string{devIngress}
	case pathDecap:
		cfg.Ports = []string{devAccess}
		upDev, nhMAC = devIngress, macG0
	case pathLocal:
		cfg.Ports = []string{devIngress, devAccess}
		upDev = ""
	}
	if upDev != "" {
		if err := r.sut.AddAddr(ctx, upDev, u.local); err != nil {
			return err
		}
		if err := r.sut.IP(ctx, "route", "add", u.remotes.String(), "via", u.gw.String(), "dev", upDev); err != nil {
			return err
		}
		if err := r.sut.SetNeigh(ctx, upDev, u.gw, nhMAC); err != nil {
			return err
		}
	}
	// The bridge at its best: where br_netfilter is loaded, new
	// namespaces pass every bridged frame through the netfilter hooks
	// (bridge-nf-call-* = 1), which an EVPN leaf does not need.
	for _, key := range []string{"iptables", "ip6tables", "arptables"} {
		if err := r.sut.Sysctl(ctx, "net.bridge.bridge-nf-call-"+key, "0"); err != nil {
			return err
		}
	}
	k, err := r.top.AddKernelVTEP(ctx, r.sut, cfg)
	if err != nil {
		return err
	}
	r.kernel = k
	if err := r.sut.SetGRO(ctx, devIngress, true); err != nil {
		return err
	}
	progress := func(done int) {
		r.step(fmt.Sprintf("kernel FDB %s/%s (bridge -batch)", Scale(done), Scale(r.key.fdb)))
	}
	start := time.Now()
	if r.key.path == pathEncap {
		ids := make([]uint32, len(u.vteps))
		for i, vtep := range u.vteps {
			ids[i] = kernelNH + uint32(i) + 1
			if err := k.AddFDBNextHop(ctx, ids[i], vtep); err != nil {
				return err
			}
		}
		if err := k.SetFDBGroup(ctx, kernelGroup, ids[:1]); err != nil {
			return err
		}
		start = time.Now()
		if _, err := k.LoadRemoteMACs(ctx, macSeq(remoteBase, r.key.fdb), kernelGroup, fdbStep/4, progress); err != nil {
			return err
		}
	} else if _, err := k.LoadLocalMACs(ctx, devAccess, macSeq(localBase, r.key.fdb), fdbStep/4, progress); err != nil {
		return err
	}
	r.fdbLoad = time.Since(start)
	return nil
}
