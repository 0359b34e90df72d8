package dataplane

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"
)

func notFound(err error) error {
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return ErrNotFound
	}
	return err
}

func validIfindex(ifindex uint32) error {
	if ifindex == 0 || ifindex >= MaxIfindex {
		return fmt.Errorf("ifindex %d: the fast path indexes ports by ifindex, 1-%d: %w", ifindex, MaxIfindex-1, ErrInvalid)
	}
	return nil
}

func (d *Dataplane) port(ifindex uint32) (bpfFwdPortInfo, error) {
	var v bpfFwdPortInfo
	if err := d.objs.FwdPort.Lookup(ifindex, &v); err != nil {
		return v, fmt.Errorf("read port %d: %w", ifindex, err)
	}
	return v, nil
}

// SetPort makes ifindex a port of the fast path and a redirect target. The
// kernel resolves ifindex in the calling thread's network namespace: call it
// from the namespace the port lives in. The port's VLAN mappings stay.
func (d *Dataplane) SetPort(ifindex uint32, p Port) error {
	if err := validIfindex(ifindex); err != nil {
		return err
	}
	if p.Role != RoleAccess && p.Role != RoleUplink {
		return fmt.Errorf("port %d: role %s: %w", ifindex, p.Role, ErrInvalid)
	}
	if p.ES >= MaxES {
		return fmt.Errorf("port %d: ES id %d out of range: %w", ifindex, p.ES, ErrInvalid)
	}
	d.portMu.Lock()
	defer d.portMu.Unlock()
	v, err := d.port(ifindex)
	if err != nil {
		return err
	}
	if err := d.objs.FwdTx.Update(ifindex, &bpfBpfDevmapVal{Ifindex: ifindex}, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("set tx port %d: %w", ifindex, err)
	}
	v.Role, v.EsId, v.Flags = uint8(p.Role), p.ES, 0
	if p.Learn {
		v.Flags |= 1
	}
	if err := d.objs.FwdPort.Update(ifindex, &v, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("set port %d: %w", ifindex, err)
	}
	return nil
}

// DeletePort removes ifindex from the fast path; its frames go to the kernel.
func (d *Dataplane) DeletePort(ifindex uint32) error {
	if err := validIfindex(ifindex); err != nil {
		return err
	}
	d.portMu.Lock()
	defer d.portMu.Unlock()
	err1 := d.objs.FwdPort.Update(ifindex, &bpfFwdPortInfo{}, ebpf.UpdateAny)
	err2 := notFound(d.objs.FwdTx.Delete(ifindex))
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("delete port %d: %w", ifindex, err)
	}
	return nil
}

// Port returns the port entry of ifindex.
func (d *Dataplane) Port(ifindex uint32) (Port, error) {
	if err := validIfindex(ifindex); err != nil {
		return Port{}, err
	}
	v, err := d.port(ifindex)
	if err != nil {
		return Port{}, err
	}
	if v.Role == 0 {
		return Port{}, fmt.Errorf("port %d: %w", ifindex, ErrNotFound)
	}
	return Port{Role: PortRole(v.Role), Learn: v.Flags&1 != 0, ES: v.EsId}, nil
}

func validTags(t Tags) error {
	if t.Outer > 4094 || t.Inner > 4094 || (t.Outer == 0 && t.Inner != 0) {
		return fmt.Errorf("VLAN tags %d.%d: want 1-4094, inner only with outer: %w", t.Outer, t.Inner, ErrInvalid)
	}
	return nil
}

func validBD(bd uint32) error {
	if bd == 0 || bd > 1<<24-1 {
		return fmt.Errorf("bridge domain (VNI) %d: want 1-16777215: %w", bd, ErrInvalid)
	}
	return nil
}

// SetVLAN maps frames arriving on ifindex with tags to bridge domain bd
// (Tags{} means untagged), and frames leaving ifindex in bd get the same
// tags. bd must be declared with SetBD first.
func (d *Dataplane) SetVLAN(ifindex uint32, tags Tags, bd uint32) error {
	if err := errors.Join(validIfindex(ifindex), validTags(tags), validBD(bd)); err != nil {
		return fmt.Errorf("port %d: %w", ifindex, err)
	}
	idx, err := d.bdIndex(bd)
	if err != nil {
		return fmt.Errorf("port %d: %w", ifindex, err)
	}
	ref := bpfFwdBdInfo{Vni: bd, Idx: idx}
	if tags.Outer != 0 {
		k := bpfFwdVlanKey{Ifindex: ifindex, Outer: tags.Outer, Inner: tags.Inner}
		if err := d.objs.FwdVlanBd.Update(&k, &ref, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("map port %d VLAN %d.%d to BD %d: %w", ifindex, tags.Outer, tags.Inner, bd, err)
		}
	}
	pk := bpfFwdPortBdKey{Ifindex: ifindex, Bd: bd}
	pv := bpfFwdTags{Outer: tags.Outer, Inner: tags.Inner}
	if err := d.objs.FwdPortBd.Update(&pk, &pv, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("set egress tags of port %d in BD %d: %w", ifindex, bd, err)
	}
	// The port entry caches the egress tags of the BD mapped last, written
	// after fwd_port_bd so that the copy never runs ahead of it.
	d.portMu.Lock()
	defer d.portMu.Unlock()
	v, err := d.port(ifindex)
	if err != nil {
		return err
	}
	if tags.Outer == 0 {
		v.Untagged = ref
	}
	v.EgressVni, v.EgressTags = bd, pv
	if err := d.objs.FwdPort.Update(ifindex, &v, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("map port %d VLAN %d.%d to BD %d: %w", ifindex, tags.Outer, tags.Inner, bd, err)
	}
	return nil
}

// DeleteVLAN removes the mapping of tags on ifindex to bd.
func (d *Dataplane) DeleteVLAN(ifindex uint32, tags Tags, bd uint32) error {
	if err := validIfindex(ifindex); err != nil {
		return err
	}
	// The port entry first: its copy of the egress tags goes before the
	// fwd_port_bd entry it copies.
	d.portMu.Lock()
	v, err := d.port(ifindex)
	if err == nil && (tags.Outer == 0 || v.EgressVni == bd) {
		if tags.Outer == 0 {
			v.Untagged = bpfFwdBdInfo{}
		}
		if v.EgressVni == bd {
			v.EgressVni, v.EgressTags = 0, bpfFwdTags{}
		}
		err = d.objs.FwdPort.Update(ifindex, &v, ebpf.UpdateAny)
	}
	d.portMu.Unlock()
	err1 := err
	if tags.Outer != 0 {
		k := bpfFwdVlanKey{Ifindex: ifindex, Outer: tags.Outer, Inner: tags.Inner}
		err1 = errors.Join(err1, notFound(d.objs.FwdVlanBd.Delete(&k)))
	}
	pk := bpfFwdPortBdKey{Ifindex: ifindex, Bd: bd}
	if err := errors.Join(err1, notFound(d.objs.FwdPortBd.Delete(&pk))); err != nil {
		return fmt.Errorf("delete port %d VLAN %d.%d: %w", ifindex, tags.Outer, tags.Inner, err)
	}
	return nil
}

// SetBD declares bridge domain bd (its VNI): VXLAN frames with this VNI are
// decapsulated, and FDB entries and VLANs may use it.
func (d *Dataplane) SetBD(bd uint32) error {
	if err := validBD(bd); err != nil {
		return err
	}
	d.bdMu.Lock()
	defer d.bdMu.Unlock()
	if _, ok := d.bdIdx[bd]; ok {
		return nil
	}
	if len(d.bdFree) == 0 {
		return fmt.Errorf("set BD %d: all %d bridge domains in use: %w", bd, MaxBDs, ErrInvalid)
	}
	idx := d.bdFree[len(d.bdFree)-1]
	err := d.objs.FwdBd.Update(bd, &bpfFwdBdInfo{Vni: bd, Idx: idx}, ebpf.UpdateAny)
	d.tunWritten()
	if err != nil {
		return fmt.Errorf("set BD %d: %w", bd, err)
	}
	d.bdFree = d.bdFree[:len(d.bdFree)-1]
	d.bdIdx[bd] = idx
	return nil
}

// DeleteBD removes bridge domain bd and every FDB entry in it. Remove its
// VLAN mappings first.
func (d *Dataplane) DeleteBD(bd uint32) error {
	d.bdMu.Lock()
	defer d.bdMu.Unlock()
	idx, ok := d.bdIdx[bd]
	if !ok {
		return fmt.Errorf("delete BD %d: %w", bd, ErrNotFound)
	}
	err := notFound(d.objs.FwdBd.Delete(bd))
	d.tunWritten()
	if err != nil {
		return fmt.Errorf("delete BD %d: %w", bd, err)
	}
	delete(d.bdIdx, bd)
	d.fdb.purgeBD(idx)
	// The index is reused only when no reader can still hold it.
	d.grace.after(func() {
		d.bdMu.Lock()
		d.bdFree = append(d.bdFree, idx)
		d.bdMu.Unlock()
	})
	return nil
}

func validFDB(k FDBKey, e FDBEntry) error {
	if e.Kind < FDBLocal || e.Kind > FDBES {
		return fmt.Errorf("fdb %d/%x: kind %s: %w", k.BD, k.MAC, e.Kind, ErrInvalid)
	}
	switch {
	case e.Kind == FDBVTEP && (e.Ref == 0 || e.Ref >= MaxNextHops):
		return fmt.Errorf("fdb %d/%x: nexthop %d out of range: %w", k.BD, k.MAC, e.Ref, ErrInvalid)
	case e.Kind == FDBES && (e.Ref == 0 || e.Ref >= MaxES):
		return fmt.Errorf("fdb %d/%x: ES %d out of range: %w", k.BD, k.MAC, e.Ref, ErrInvalid)
	case e.Kind == FDBLocal && (e.Ref == 0 || e.Ref >= MaxIfindex):
		return fmt.Errorf("fdb %d/%x: local entry on ifindex %d (want 1-%d): %w", k.BD, k.MAC, e.Ref, MaxIfindex-1, ErrInvalid)
	}
	return nil
}

// SetES installs Ethernet Segment id.
func (d *Dataplane) SetES(id uint32, es ES) error {
	if id == 0 || id >= MaxES {
		return fmt.Errorf("ES id %d: out of range 1-%d: %w", id, MaxES-1, ErrInvalid)
	}
	if es.Group >= MaxGroups || es.BackupGroup >= MaxGroups {
		return fmt.Errorf("ES %d: group %d/%d out of range: %w", id, es.Group, es.BackupGroup, ErrInvalid)
	}
	if es.Flags&ESLocal != 0 && es.Ifindex == 0 {
		return fmt.Errorf("ES %d: local without a port: %w", id, ErrInvalid)
	}
	v := bpfFwdEsInfo{Esi: es.ESI, Flags: es.Flags, Ifindex: es.Ifindex, Nhg: es.Group, BackupNhg: es.BackupGroup}
	if err := d.objs.FwdEs.Update(id, &v, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("set ES %d: %w", id, err)
	}
	return nil
}

// DeleteES clears Ethernet Segment id; frames for it are dropped (drop_no_es).
func (d *Dataplane) DeleteES(id uint32) error {
	if id == 0 || id >= MaxES {
		return fmt.Errorf("ES id %d: out of range: %w", id, ErrInvalid)
	}
	if err := d.objs.FwdEs.Update(id, &bpfFwdEsInfo{}, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("delete ES %d: %w", id, err)
	}
	return nil
}

// SetNextHop installs nexthop id.
func (d *Dataplane) SetNextHop(id uint32, nh NextHop) error {
	if id == 0 || id >= MaxNextHops {
		return fmt.Errorf("nexthop id %d: out of range 1-%d: %w", id, MaxNextHops-1, ErrInvalid)
	}
	if !nh.Src.IsValid() || !nh.Dst.IsValid() || nh.Src.Is4() != nh.Dst.Is4() {
		return fmt.Errorf("nexthop %d: addresses %s -> %s: want both IPv4 or both IPv6: %w", id, nh.Src, nh.Dst, ErrInvalid)
	}
	if nh.VNI > 1<<24-1 {
		return fmt.Errorf("nexthop %d: VNI %d out of range: %w", id, nh.VNI, ErrInvalid)
	}
	if nh.Ifindex == 0 {
		return fmt.Errorf("nexthop %d: no underlay port: %w", id, ErrInvalid)
	}
	v := bpfFwdNhInfo{Family: 6, Vni: nh.VNI, Ifindex: nh.Ifindex, Smac: nh.SrcMAC, Dmac: nh.DstMAC,
		Saddr: addr16(nh.Src), Daddr: addr16(nh.Dst)}
	if nh.Src.Is4() {
		v.Family = 4
	}
	if err := d.objs.FwdNh.Update(id, &v, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("set nexthop %d: %w", id, err)
	}
	return nil
}

// DeleteNextHop clears nexthop id; frames that reach it are dropped (drop_no_nh).
func (d *Dataplane) DeleteNextHop(id uint32) error {
	if id == 0 || id >= MaxNextHops {
		return fmt.Errorf("nexthop id %d: out of range: %w", id, ErrInvalid)
	}
	if err := d.objs.FwdNh.Update(id, &bpfFwdNhInfo{}, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("delete nexthop %d: %w", id, err)
	}
	return nil
}

// SetVTEP declares addr a remote VTEP (VTEPRemote: accept VXLAN from it), one
// of ours (VTEPLocal: accept VXLAN to it), or both.
func (d *Dataplane) SetVTEP(addr netip.Addr, flags uint32) error {
	if !addr.IsValid() || flags == 0 {
		return fmt.Errorf("VTEP %s flags %#x: %w", addr, flags, ErrInvalid)
	}
	k := bpfFwdVtepKey{Addr: addr16(addr)}
	err := d.objs.FwdVtep.Update(&k, &bpfFwdVtepInfo{Flags: flags}, ebpf.UpdateAny)
	d.tunWritten()
	if err != nil {
		return fmt.Errorf("set VTEP %s: %w", addr, err)
	}
	return nil
}

// DeleteVTEP forgets addr.
func (d *Dataplane) DeleteVTEP(addr netip.Addr) error {
	k := bpfFwdVtepKey{Addr: addr16(addr)}
	err := notFound(d.objs.FwdVtep.Delete(&k))
	d.tunWritten()
	if err != nil {
		return fmt.Errorf("delete VTEP %s: %w", addr, err)
	}
	return nil
}

// tunWritten bumps fwd_tun_gen after a write to fwd_vtep or fwd_bd: every
// CPU's tunnel cache entry filled before it stops counting, so that no
// frame that starts after the write sees what it replaced.
func (d *Dataplane) tunWritten() { d.tunGen.add(0, 1) }

// SetESPeer records that VTEP addr shares ES id with us.
func (d *Dataplane) SetESPeer(addr netip.Addr, es uint32) error {
	k := bpfFwdEsPeerKey{Addr: addr16(addr), EsId: es}
	if err := d.objs.FwdEsPeers.Update(&k, uint8(1), ebpf.UpdateAny); err != nil {
		return fmt.Errorf("set ES %d peer %s: %w", es, addr, err)
	}
	return nil
}

// DeleteESPeer removes the record.
func (d *Dataplane) DeleteESPeer(addr netip.Addr, es uint32) error {
	k := bpfFwdEsPeerKey{Addr: addr16(addr), EsId: es}
	if err := notFound(d.objs.FwdEsPeers.Delete(&k)); err != nil {
		return fmt.Errorf("delete ES %d peer %s: %w", es, addr, err)
	}
	return nil
}

// SetConfig writes the runtime knobs.
func (d *Dataplane) SetConfig(c Config) error {
	v := bpfFwdCfg{VxlanPort: c.VXLANPort, Ttl: c.TTL, LearnRate: c.LearnRate, LearnBurst: c.LearnBurst}
	if c.Trace {
		v.Trace = 1
	}
	if err := d.objs.FwdConfig.Update(uint32(0), &v, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("set config: %w", err)
	}
	return nil
}

// Config reads the runtime knobs.
func (d *Dataplane) Config() (Config, error) {
	var v bpfFwdCfg
	if err := d.objs.FwdConfig.Lookup(uint32(0), &v); err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return Config{VXLANPort: v.VxlanPort, TTL: v.Ttl, Trace: v.Trace != 0, LearnRate: v.LearnRate, LearnBurst: v.LearnBurst}, nil
}

// CounterNames lists the fast path's counters in enum order.
func (d *Dataplane) CounterNames() []string { return append([]string(nil), d.counterNames...) }

// Counters returns every counter summed over CPUs, by name.
func (d *Dataplane) Counters() (map[string]uint64, error) {
	out := make(map[string]uint64, len(d.counterNames))
	var per []uint64
	for i, name := range d.counterNames {
		if err := d.objs.FwdCounters.Lookup(uint32(i), &per); err != nil {
			return nil, fmt.Errorf("read counter %s: %w", name, err)
		}
		var sum uint64
		for _, v := range per {
			sum += v
		}
		out[name] = sum
	}
	return out, nil
}
