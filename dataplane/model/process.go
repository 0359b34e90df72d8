package model

import (
	"encoding/binary"
)

// Learn is the source-MAC decision on an access port (fdb.h
// fwd_learn_check). Whether an event is written for LearnNew and LearnMoved
// depends on the port's learn flag and a time-based rate limiter, which the
// model leaves out.
type Learn uint8

// Learn decisions.
const (
	LearnNotChecked Learn = iota // not an access frame, or it stopped before the check
	LearnKnown                   // known on this port or on the port's ES
	LearnNew                     // not in the FDB: an event
	LearnMoved                   // known elsewhere: an event
	LearnSticky                  // sticky and known elsewhere: the frame is dropped
)

func (l Learn) String() string {
	switch l {
	case LearnNotChecked:
		return "not-checked"
	case LearnKnown:
		return "known"
	case LearnNew:
		return "new"
	case LearnMoved:
		return "moved"
	case LearnSticky:
		return "sticky"
	}
	return "learn(?)"
}

// Result is what the program does with one frame: its verdict, the outcome
// counter (Reason) and the fields it records in fwd_trace.
type Result struct {
	Action Action
	// Reason is the outcome counter, e.g. "tx_encap4" (see Counters).
	Reason string
	// RX is the receive counter: rx_access, rx_uplink or rx_other.
	RX      string
	BD      uint32
	Egress  uint32
	NextHop uint32
	Group   uint32
	ES      uint32
	Hash    uint32
	FDBKind FDBKind
	// Backup is set when a bucket's backup was chosen (nh_backup counted).
	Backup bool
	// Learn is the source-MAC decision on access ports.
	Learn Learn
	// Frame is the frame as the program leaves it, for pass and redirect;
	// nil for drop.
	Frame []byte
}

// proc is one frame in flight: the buffer with bpf_xdp_adjust_head's view of
// it, and the decision so far (struct fwd_fc).
type proc struct {
	s        *State
	ingress  uint32
	buf      []byte
	headroom int
	bdIdx    uint16 // fc->bd_idx
	r        Result
}

// Process runs frame, arrived on ingress, through the fast path. frame is not
// modified.
func (s *State) Process(frame []byte, ingress uint32) Result {
	var frags []byte
	if s.LinearMax > 0 && len(frame) > s.LinearMax {
		frame, frags = frame[:s.LinearMax], frame[s.LinearMax:]
	}
	p := &proc{s: s, ingress: ingress, buf: append([]byte(nil), frame...), headroom: Headroom}
	port := s.Ports[ingress]
	if ingress >= MaxIfindex {
		port = Port{}
	}
	var act Action
	switch port.Role {
	case RoleUplink:
		p.r.RX = CtrRXUplink
		act = p.uplink()
	case RoleAccess:
		p.r.RX = CtrRXAccess
		act = p.access(port)
	default:
		p.r.RX = CtrRXOther
		p.r.Reason = CtrPassNotPort
		act = ActionPass
	}
	p.r.Action = act
	if act != ActionDrop {
		p.r.Frame = append(append(make([]byte, 0, len(p.buf)+len(frags)), p.buf...), frags...)
	}
	return p.r
}

func (p *proc) drop(reason string) Action {
	p.r.Reason = reason
	return ActionDrop
}

func (p *proc) pass(reason string) Action {
	p.r.Reason = reason
	return ActionPass
}

func isMcast(mac []byte) bool { return mac[0]&1 != 0 }

func isVLAN(proto uint16) bool { return proto == TPID8021Q || proto == TPID8021AD }

// l2 is struct fwd_l2, with proto as a host value.
type l2 struct {
	proto        uint16
	outer, inner uint16
	ntags        uint32
}

// parseL2 is fwd_parse_l2: "" or the drop reason.
func parseL2(b []byte) (l2, string) {
	var l l2
	if len(b) < 14 {
		return l, CtrDropRunt
	}
	l.proto = binary.BigEndian.Uint16(b[12:])
	if !isVLAN(l.proto) {
		return l, ""
	}
	if len(b) < 18 {
		return l, CtrDropTruncated
	}
	l.outer = binary.BigEndian.Uint16(b[14:]) & 0x0fff
	l.proto = binary.BigEndian.Uint16(b[16:])
	l.ntags = 1
	if !isVLAN(l.proto) {
		return l, ""
	}
	if len(b) < 22 {
		return l, CtrDropTruncated
	}
	l.inner = binary.BigEndian.Uint16(b[18:]) & 0x0fff
	l.proto = binary.BigEndian.Uint16(b[20:])
	l.ntags = 2
	if isVLAN(l.proto) {
		return l, CtrDropVLANDepth
	}
	return l, ""
}

// adjustHead is bpf_xdp_adjust_head: positive delta shrinks the frame from
// the front, negative grows it into the headroom. The kernel refuses to go
// past the headroom or to leave less than an Ethernet header.
func (p *proc) adjustHead(delta int) bool {
	if p.headroom+delta < 0 || len(p.buf)-delta < EthHeaderLen {
		return false
	}
	if delta > 0 {
		p.buf = p.buf[delta:]
	} else {
		p.buf = append(make([]byte, -delta, len(p.buf)-delta), p.buf...)
	}
	p.headroom += delta
	return true
}

func ntags(t Tags) uint32 {
	switch {
	case t.Outer == 0:
		return 0
	case t.Inner == 0:
		return 1
	}
	return 2
}

// rewriteL2 is fwd_rewrite_l2: the MACs at moff followed by tin tags become
// the MACs at 0 followed by the tags in out.
func (p *proc) rewriteL2(moff, tin uint32, out Tags) bool {
	tout := ntags(out)
	moff &= 0xff
	tin &= 3
	if moff == 0 && tin == 0 && tout == 0 {
		return true
	}
	if int(moff)+12 > len(p.buf) {
		return false
	}
	var macs [12]byte
	copy(macs[:], p.buf[moff:])
	delta := int(moff+4*tin) - int(4*tout)
	if delta != 0 && !p.adjustHead(delta) {
		return false
	}
	if 12+4*int(tout)+2 > len(p.buf) {
		return false
	}
	copy(p.buf, macs[:])
	if tout >= 1 {
		tpid := uint16(TPID8021Q)
		if tout == 2 {
			tpid = TPID8021AD
		}
		binary.BigEndian.PutUint16(p.buf[12:], tpid)
		binary.BigEndian.PutUint16(p.buf[14:], out.Outer&0x0fff)
	}
	if tout == 2 {
		binary.BigEndian.PutUint16(p.buf[16:], TPID8021Q)
		binary.BigEndian.PutUint16(p.buf[18:], out.Inner&0x0fff)
	}
	return true
}

// redirect is fwd_redirect.
func (p *proc) redirect(ifindex uint32, reason string) Action {
	p.r.Egress = ifindex
	if ifindex >= MaxIfindex || !p.s.TxPorts[ifindex] {
		return p.drop(CtrDropNoTXPort)
	}
	p.r.Reason = reason
	return ActionRedirect
}

// deliver is fwd_deliver.
func (p *proc) deliver(moff, tin, ifindex uint32, reason string) Action {
	out, ok := p.s.EgressTags[PortBD{Ifindex: ifindex, BD: p.r.BD}]
	p.r.Egress = ifindex
	if !ok {
		return p.drop(CtrDropNoEgressTags)
	}
	// bpf_check_mtu with the frame's length less the outer headers and
	// the incoming tags: the port's MTU bounds the frame without tags.
	mtu, ok := p.deviceMTU(ifindex)
	if !ok {
		return p.drop(CtrDropNoTXPort)
	}
	if len(p.buf)-int(moff&0xff)-4*int(tin&3) > mtu+devHeaderLen {
		return p.drop(CtrDropTooBig)
	}
	if !p.rewriteL2(moff, tin, out) {
		return p.drop(CtrDropAdjust)
	}
	return p.redirect(ifindex, reason)
}

// nhgSelect is fwd_nhg_select: the nexthop, or 0 with the reason set.
func (p *proc) nhgSelect(nhg, hash uint32) uint32 {
	p.r.Group = nhg
	if nhg >= MaxGroups {
		p.r.Reason = CtrDropNoNHG
		return 0
	}
	g := p.s.Groups[nhg]
	if len(g) == 0 {
		p.r.Reason = CtrDropNoNHG
		return 0
	}
	idx := hash & uint32(len(g)-1) & (GroupBuckets - 1)
	if int(idx) >= len(g) {
		// Unreachable for power-of-two groups; the C reads a zero bucket.
		p.r.Reason = CtrDropNHDown
		return 0
	}
	b := g[idx]
	if b.Primary != 0 && !p.s.nhDown(b.Primary) {
		return b.Primary
	}
	if b.Backup != 0 && !p.s.nhDown(b.Backup) {
		p.r.Backup = true
		return b.Backup
	}
	p.r.Reason = CtrDropNHDown
	return 0
}

// deviceMTU is the device lookup of bpf_check_mtu: ifindex 0 is the ingress
// device.
func (p *proc) deviceMTU(ifindex uint32) (int, bool) {
	if ifindex == 0 {
		ifindex = p.ingress
	}
	mtu, ok := p.s.MTU[ifindex]
	return mtu, ok
}

func csumFold(sum uint32) uint16 {
	sum = sum&0xffff + sum>>16
	sum = sum&0xffff + sum>>16
	return ^uint16(sum)
}

// encap is fwd_encap: the frame (MACs at 0, tin tags) in VXLAN to nexthop
// nhID, redirected to the nexthop's underlay port.
func (p *proc) encap(tin, nhID uint32) Action {
	p.r.NextHop = nhID
	nh, ok := p.s.nextHop(nhID)
	if !ok || nh.Family == 0 {
		return p.drop(CtrDropNoNH)
	}
	p.r.Egress = nh.Ifindex
	tin &= 3
	outer := Encap4Len
	if nh.Family == 6 {
		outer = Encap6Len
	}
	if len(p.buf) < 12 {
		return p.drop(CtrDropRunt)
	}
	innerLen := len(p.buf) - 4*int(tin)
	delta := outer - 4*int(tin)
	mtu, ok := p.deviceMTU(nh.Ifindex)
	if !ok {
		return p.drop(CtrDropNoTXPort)
	}
	if len(p.buf)+delta > mtu+devHeaderLen {
		return p.drop(CtrDropTooBig)
	}
	var macs [12]byte
	copy(macs[:], p.buf)
	if !p.adjustHead(-delta) {
		return p.drop(CtrDropAdjust)
	}
	b := p.buf
	if len(b) < Encap4Len+12 {
		return p.drop(CtrDropAdjust)
	}
	vni := nh.VNI
	if vni == 0 {
		vni = p.r.BD
	}
	ttl := p.s.Config.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	copy(b[0:6], nh.DstMAC[:])
	copy(b[6:12], nh.SrcMAC[:])
	var udp []byte
	reason := CtrTXEncap4
	if nh.Family == 6 {
		if len(b) < 14+40+16+12 {
			return p.drop(CtrDropAdjust)
		}
		binary.BigEndian.PutUint16(b[12:], EtherTypeIPv6)
		ip6 := b[14:54]
		binary.BigEndian.PutUint32(ip6[0:], 0x60000000|p.r.Hash&0xfffff)
		binary.BigEndian.PutUint16(ip6[4:], uint16(innerLen+16))
		ip6[6] = ipProtoUDP
		ip6[7] = ttl
		copy(ip6[8:24], nh.Src[:])
		copy(ip6[24:40], nh.Dst[:])
		udp = b[54:]
		reason = CtrTXEncap6
	} else {
		if len(b) < 14+20+16+12 {
			return p.drop(CtrDropAdjust)
		}
		binary.BigEndian.PutUint16(b[12:], EtherTypeIPv4)
		ip := b[14:34]
		ip[0] = 0x45
		ip[1] = 0
		binary.BigEndian.PutUint16(ip[2:], uint16(innerLen+36))
		binary.BigEndian.PutUint16(ip[4:], 0)
		binary.BigEndian.PutUint16(ip[6:], 0x4000)
		ip[8] = ttl
		ip[9] = ipProtoUDP
		binary.BigEndian.PutUint16(ip[10:], 0)
		copy(ip[12:16], nh.Src[12:])
		copy(ip[16:20], nh.Dst[12:])
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		binary.BigEndian.PutUint16(ip[10:], csumFold(sum))
		udp = b[34:]
	}
	port := p.s.Config.VXLANPort
	if port == 0 {
		port = DefaultVXLAN
	}
	binary.BigEndian.PutUint16(udp[0:], uint16(UDPSourceMin|p.r.Hash>>18))
	binary.BigEndian.PutUint16(udp[2:], port)
	binary.BigEndian.PutUint16(udp[4:], uint16(innerLen+16))
	binary.BigEndian.PutUint16(udp[6:], 0)
	vx := udp[8:]
	vx[0] = VXLANFlagI
	vx[1], vx[2], vx[3] = 0, 0, 0
	binary.BigEndian.PutUint32(vx[4:], vni<<8)
	copy(vx[8:20], macs[:])
	return p.redirect(nh.Ifindex, reason)
}

// toES is fwd_to_es.
func (p *proc) toES(esID, tin, l3off uint32, proto uint16) Action {
	p.r.ES = esID
	es, ok := p.s.es(esID)
	if !ok || (es.Flags == 0 && es.Group == 0) {
		return p.drop(CtrDropNoES)
	}
	var nhg uint32
	if es.Flags&ESLocal != 0 {
		if !p.s.esDown(esID) {
			return p.deliver(0, tin, es.Ifindex, CtrTXESLocal)
		}
		nhg = es.BackupGroup
	} else {
		nhg = es.Group
	}
	p.r.Hash = FlowHash(p.buf, l3off, proto)
	nh := p.nhgSelect(nhg, p.r.Hash)
	if nh == 0 {
		return ActionDrop
	}
	return p.encap(tin, nh)
}

// learnCheck is fwd_learn_check without the event: false drops the frame.
func (p *proc) learnCheck(port Port, smac []byte) bool {
	k := FDBKey{BD: p.bdIdx, MAC: [6]byte(smac)}
	e, ok := p.s.FDB[k]
	if !ok {
		p.r.Learn = LearnNew
		return true
	}
	if e.Kind == FDBLocal && e.Ref == p.ingress {
		p.r.Learn = LearnKnown
		return true
	}
	if e.Kind == FDBES && port.ES != 0 && e.Ref == port.ES {
		p.r.Learn = LearnKnown
		return true
	}
	if e.Flags&FDBSticky != 0 {
		p.r.Learn = LearnSticky
		p.r.Reason = CtrDropSticky
		return false
	}
	p.r.Learn = LearnMoved
	return true
}

// access is fwd_access.
func (p *proc) access(port Port) Action {
	l, reason := parseL2(p.buf)
	if reason != "" {
		return p.drop(reason)
	}
	l3off := 14 + 4*(l.ntags&3)
	bd, ok := port.Untagged, true
	if l.ntags != 0 {
		bd, ok = p.s.VLANs[VLANKey{Ifindex: p.ingress, Outer: l.outer, Inner: l.inner}]
	}
	if !ok || bd.Idx == 0 {
		return p.pass(CtrPassNoBD)
	}
	p.r.BD = bd.VNI
	p.bdIdx = bd.Idx
	dmac, smac := p.buf[0:6], p.buf[6:12]
	if isMcast(smac) {
		return p.drop(CtrDropSrcMcast)
	}
	if !p.learnCheck(port, smac) {
		return ActionDrop
	}
	if isMcast(dmac) {
		return p.pass(CtrPassBUM)
	}
	e, ok := p.s.FDB[FDBKey{BD: p.bdIdx, MAC: [6]byte(dmac)}]
	if !ok {
		return p.pass(CtrPassUnknownUcast)
	}
	p.r.FDBKind = e.Kind
	if e.Flags&FDBRouter != 0 {
		return p.pass(CtrPassRouterMAC)
	}
	switch e.Kind {
	case FDBLocal:
		if e.Ref == p.ingress {
			p.r.Egress = p.ingress
			return p.drop(CtrDropHairpin)
		}
		return p.deliver(0, l.ntags, e.Ref, CtrTXLocal)
	case FDBVTEP:
		if p.s.nhDown(e.Ref) {
			p.r.NextHop = e.Ref
			return p.drop(CtrDropNHDown)
		}
		p.r.Hash = FlowHash(p.buf, l3off, l.proto)
		return p.encap(l.ntags, e.Ref)
	case FDBES:
		if port.ES != 0 && port.ES == e.Ref {
			p.r.ES = e.Ref
			return p.drop(CtrDropHairpin)
		}
		return p.toES(e.Ref, l.ntags, l3off, l.proto)
	}
	return p.pass(CtrPassUnknownUcast)
}

// outer is fwd_outer: "" and the VXLAN header's offset and the source VTEP
// when the frame is VXLAN to us from a known VTEP, else the reason.
func (p *proc) outer() (string, uint32, [16]byte) {
	var src, dst [16]byte
	b := p.buf
	if len(b) < 14 {
		return CtrDropRunt, 0, src
	}
	port := p.s.Config.VXLANPort
	if port == 0 {
		port = DefaultVXLAN
	}
	var vxoff uint32
	switch binary.BigEndian.Uint16(b[12:]) {
	case EtherTypeIPv4:
		if len(b) < 14+20 {
			return CtrPassTruncated, 0, src
		}
		ip := b[14:]
		if ip[0]>>4 != 4 || ip[0]&0xf < 5 {
			return CtrPassNotVXLAN, 0, src
		}
		if ip[9] != ipProtoUDP {
			return CtrPassNotVXLAN, 0, src
		}
		if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			return CtrPassFragment, 0, src
		}
		ihl := uint32(ip[0]&0xf) * 4
		if 14+int(ihl)+8 > len(b) {
			return CtrPassTruncated, 0, src
		}
		udp := b[14+ihl:]
		if binary.BigEndian.Uint16(udp[2:]) != port {
			return CtrPassNotVXLAN, 0, src
		}
		src[10], src[11] = 0xff, 0xff
		copy(src[12:], ip[12:16])
		dst[10], dst[11] = 0xff, 0xff
		copy(dst[12:], ip[16:20])
		vxoff = 14 + ihl + 8
	case EtherTypeIPv6:
		if len(b) < 14+40 {
			return CtrPassTruncated, 0, src
		}
		ip6 := b[14:]
		if ip6[0]>>4 != 6 {
			return CtrPassNotVXLAN, 0, src
		}
		if ip6[6] != ipProtoUDP {
			switch ip6[6] {
			case 0, 43, 44, 60:
				return CtrPassIPv6Ext, 0, src
			}
			return CtrPassNotVXLAN, 0, src
		}
		if len(b) < 14+40+8 {
			return CtrPassTruncated, 0, src
		}
		if binary.BigEndian.Uint16(b[54+2:]) != port {
			return CtrPassNotVXLAN, 0, src
		}
		copy(src[:], ip6[8:24])
		copy(dst[:], ip6[24:40])
		vxoff = 14 + 40 + 8
	default:
		return CtrPassNotVXLAN, 0, src
	}
	if f, ok := p.s.VTEPs[dst]; !ok || f&VTEPLocal == 0 {
		return CtrPassNotLocalVTEP, 0, src
	}
	if f, ok := p.s.VTEPs[src]; !ok || f&VTEPRemote == 0 {
		return CtrPassUnknownVTEP, 0, src
	}
	return "", vxoff, src
}

// uplink is fwd_uplink.
func (p *proc) uplink() Action {
	reason, vxoff, src := p.outer()
	if reason == CtrDropRunt {
		return p.drop(reason)
	}
	if reason != "" {
		return p.pass(reason)
	}
	vxoff &= 0xff
	b := p.buf
	if int(vxoff)+8 > len(b) {
		return p.drop(CtrDropTruncated)
	}
	vx := b[vxoff:]
	if vx[0]&VXLANFlagI == 0 {
		return p.drop(CtrDropVXLANFlags)
	}
	vni := binary.BigEndian.Uint32(vx[4:]) >> 8
	bd, ok := p.s.BDs[vni]
	if !ok {
		return p.pass(CtrPassUnknownVNI)
	}
	p.r.BD = vni
	p.bdIdx = bd.Idx
	moff := vxoff + 8
	if int(moff)+14 > len(b) {
		return p.drop(CtrDropTruncated)
	}
	ieth := b[moff:]
	if isVLAN(binary.BigEndian.Uint16(ieth[12:])) {
		return p.drop(CtrDropInnerTagged)
	}
	if isMcast(ieth[0:6]) {
		return p.pass(CtrPassDecapBUM)
	}
	e, ok := p.s.FDB[FDBKey{BD: p.bdIdx, MAC: [6]byte(ieth[0:6])}]
	if !ok {
		return p.pass(CtrPassDecapUnknown)
	}
	p.r.FDBKind = e.Kind
	if e.Flags&FDBRouter != 0 {
		return p.pass(CtrPassDecapRouter)
	}
	if e.Kind == FDBLocal {
		return p.deliver(moff, 0, e.Ref, CtrTXDecap)
	}
	if e.Kind != FDBES {
		return p.drop(CtrDropDecapRemote)
	}
	p.r.ES = e.Ref
	es, ok := p.s.es(e.Ref)
	// An empty slot is an unknown ES, as in fwd_to_es (drop_no_es).
	if !ok || (es.Flags == 0 && es.Group == 0) {
		return p.drop(CtrDropNoES)
	}
	if es.Flags&ESLocal == 0 {
		return p.drop(CtrDropDecapRemote)
	}
	if !p.s.esDown(e.Ref) {
		return p.deliver(moff, 0, es.Ifindex, CtrTXDecapES)
	}
	// The local port on the ES is down: re-encapsulate to the ES peers,
	// unless the frame came from one.
	if p.s.ESPeers[ESPeerKey{Addr: src, ES: e.Ref}] {
		return p.drop(CtrDropDecapLoop)
	}
	if !p.rewriteL2(moff, 0, Tags{}) {
		return p.drop(CtrDropAdjust)
	}
	if len(p.buf) < 14 {
		return p.drop(CtrDropTruncated)
	}
	p.r.Hash = FlowHash(p.buf, 14, binary.BigEndian.Uint16(p.buf[12:]))
	nh := p.nhgSelect(es.BackupGroup, p.r.Hash)
	if nh == 0 {
		return ActionDrop
	}
	act := p.encap(0, nh)
	if act == ActionRedirect {
		p.r.Reason = CtrTXDecapReencap
	}
	return act
}
