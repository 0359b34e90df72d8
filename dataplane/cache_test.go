package dataplane

import (
	"slices"
	"testing"

	"github.com/google/gopacket/layers"
)

// TestTunnelCache: the per-CPU cache of decapsulation's VTEP and VNI
// lookups never hides a write to fwd_vtep or fwd_bd. Every step runs its
// frame three times on one CPU (the later runs from the cache when the first
// filled it); each write must show on the next frame.
func TestTunnelCache(t *testing.T) {
	f := newFixture(t)
	toA := vxlanFrame(t, vtep(1), localVTEP4, bdA, buildFrame(t, frameSpec{dst: hostA, src: hostR}))
	toQ := vxlanFrame(t, vtep(1), localVTEP4, bdB, buildFrame(t, frameSpec{dst: hostQ, src: hostR}))
	toA6 := vxlanFrame(t, vtep(5), localVTEP6, bdA, buildFrame(t, frameSpec{dst: hostA, src: hostV}))
	noI := append([]byte(nil), toA...)
	noI[14+20+8] = 0 // VXLAN flags: I clear
	steps := []struct {
		name   string
		set    func()
		frame  []byte
		want   expect
		cached bool // the frame leaves a valid cache entry
	}{
		{"known tunnel", func() {}, toA, expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc1}, true},
		{"I flag clear, tunnel cached", func() {}, noI, expect{action: ActionDrop, reason: "drop_vxlan_flags"}, true},
		{"IPv6 tunnel", func() {}, toA6, expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc1}, true},
		{"source VTEP deleted", func() { f.must(f.d.DeleteVTEP(vtep(1))) }, toA,
			expect{action: ActionPass, reason: "pass_unknown_vtep"}, false},
		{"source VTEP back", func() { f.must(f.d.SetVTEP(vtep(1), VTEPRemote)) }, toA,
			expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc1}, true},
		{"source VTEP no longer remote", func() { f.must(f.d.SetVTEP(vtep(1), VTEPLocal)) }, toA,
			expect{action: ActionPass, reason: "pass_unknown_vtep"}, false},
		{"source VTEP remote again", func() { f.must(f.d.SetVTEP(vtep(1), VTEPRemote)) }, toA,
			expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc1}, true},
		{"our VTEP no longer local", func() { f.must(f.d.SetVTEP(localVTEP4, VTEPRemote)) }, toA,
			expect{action: ActionPass, reason: "pass_not_local_vtep"}, false},
		{"our VTEP local again", func() { f.must(f.d.SetVTEP(localVTEP4, VTEPLocal)) }, toA,
			expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc1}, true},
		{"second VNI", func() {}, toQ, expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc2}, true},
		{"BD deleted", func() { f.must(f.d.DeleteBD(bdB)) }, toQ, expect{action: ActionPass, reason: "pass_unknown_vni"}, false},
		{"other BD untouched", func() {}, toA, expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc1}, true},
	}
	for _, step := range steps {
		step.set()
		for i := 0; i < 3; i++ {
			if _, tr := f.check(t, step.frame, f.up, step.want); t.Failed() {
				t.Fatalf("%s, run %d: %+v", step.name, i, tr)
			}
		}
		if got := f.tunCached(step.frame); got != step.cached {
			t.Fatalf("%s: valid cache entry %v, want %v", step.name, got, step.cached)
		}
	}
}

// tunCached reports whether CPU 0's tunnel cache holds a valid entry for
// the outer addresses and VNI of the VXLAN frame vx (an IPv4 or IPv6
// underlay, no IPv4 options).
func (f *fixture) tunCached(vx []byte) bool {
	f.tb.Helper()
	var src, dst [16]byte
	var vxoff int
	if vx[12] == 0x08 {
		src[10], src[11], dst[10], dst[11] = 0xff, 0xff, 0xff, 0xff
		copy(src[12:], vx[26:30])
		copy(dst[12:], vx[30:34])
		vxoff = 14 + 20 + 8
	} else {
		copy(src[:], vx[22:38])
		copy(dst[:], vx[38:54])
		vxoff = 14 + 40 + 8
	}
	vni := uint32(vx[vxoff+4])<<16 | uint32(vx[vxoff+5])<<8 | uint32(vx[vxoff+6])
	var per []bpfFwdTunCacheEntry
	gen := f.d.tunGen.load(0)
	for i := uint32(0); i < f.d.objs.FwdTunCache.MaxEntries(); i++ {
		f.must(f.d.objs.FwdTunCache.Lookup(i, &per))
		e := per[0]
		if e.Bd.Idx != 0 && e.Gen == gen && e.Vni == vni && e.Src.Addr == src && e.Dst.Addr == dst {
			return true
		}
	}
	return false
}

// TestEgressTagsCopy: the egress tags a port entry carries for one BD are
// those of fwd_port_bd at every step, and frames leave with them, whether
// their BD is the cached one or not.
func TestEgressTagsCopy(t *testing.T) {
	f := newFixture(t)
	// acc2: VLAN 10 -> bdA, then 20.30 -> bdB (cached: the last mapped).
	toB := vxlanFrame(t, vtep(1), localVTEP4, bdA, buildFrame(t, frameSpec{dst: hostB, src: hostR}))
	toQ := vxlanFrame(t, vtep(1), localVTEP4, bdB, buildFrame(t, frameSpec{dst: hostQ, src: hostR}))
	tags := func(frame []byte) []uint16 {
		var out []uint16
		for _, l := range decode(t, frame).Layers() {
			if q, ok := l.(*layers.Dot1Q); ok {
				out = append(out, q.VLANIdentifier)
			}
		}
		return out
	}
	type leave struct {
		frame []byte
		want  []uint16 // nil: dropped for want of egress tags
	}
	for _, step := range []struct {
		name   string
		set    func()
		cached uint32 // the BD the acc2 entry caches
		frames []leave
	}{
		{"as set up", func() {}, bdB, []leave{{toB, []uint16{10}}, {toQ, []uint16{20, 30}}}},
		{"bdA re-tagged", func() { f.must(f.d.SetVLAN(f.acc2, Tags{Outer: 11}, bdA)) }, bdA,
			[]leave{{toB, []uint16{11}}, {toQ, []uint16{20, 30}}}},
		{"bdB mapping deleted", func() { f.must(f.d.DeleteVLAN(f.acc2, Tags{Outer: 20, Inner: 30}, bdB)) }, bdA,
			[]leave{{toB, []uint16{11}}, {toQ, nil}}},
		{"bdA mapping deleted", func() { f.must(f.d.DeleteVLAN(f.acc2, Tags{Outer: 11}, bdA)) }, 0,
			[]leave{{toB, nil}, {toQ, nil}}},
		{"bdA untagged", func() { f.must(f.d.SetVLAN(f.acc2, Tags{}, bdA)) }, bdA,
			[]leave{{toB, []uint16{}}, {toQ, nil}}},
		{"port deleted and back", func() {
			f.must(f.ns.Do(func() error { return f.d.DeletePort(f.acc2) }))
			f.must(f.ns.Do(func() error { return f.d.SetPort(f.acc2, Port{Role: RoleAccess}) }))
		}, 0, []leave{{toB, []uint16{}}, {toQ, nil}}},
	} {
		step.set()
		v, err := f.d.port(f.acc2)
		f.must(err)
		if v.EgressVni != step.cached {
			t.Fatalf("%s: port caches BD %d, want %d", step.name, v.EgressVni, step.cached)
		}
		if v.EgressVni != 0 {
			var pt bpfFwdTags
			f.must(f.d.objs.FwdPortBd.Lookup(&bpfFwdPortBdKey{Ifindex: f.acc2, Bd: v.EgressVni}, &pt))
			if pt != v.EgressTags {
				t.Fatalf("%s: port entry has tags %+v for BD %d, fwd_port_bd %+v", step.name, v.EgressTags, v.EgressVni, pt)
			}
		}
		for _, l := range step.frames {
			if l.want == nil {
				f.check(t, l.frame, f.up, expect{action: ActionDrop, reason: "drop_no_egress_tags", egress: f.acc2})
				continue
			}
			res, _ := f.check(t, l.frame, f.up, expect{action: ActionRedirect, reason: "tx_decap", egress: f.acc2})
			if got := tags(res.Frame); len(got) != len(l.want) || (len(got) > 0 && got[0] != l.want[0]) ||
				(len(got) > 1 && got[1] != l.want[1]) {
				t.Fatalf("%s: frame left with tags %v, want %v", step.name, got, l.want)
			}
		}
	}
}

// TestFDBCacheWays: the FDB cache's sets hold four entries, the most recent
// fill first; a fifth MAC of the same set drops the oldest fill.
func TestFDBCacheWays(t *testing.T) {
	f := newFixture(t)
	idx, err := f.d.bdIndex(bdA)
	f.must(err)
	mask := uint64(f.d.objs.FwdFdbCache.MaxEntries() - 1)
	key := func(m [6]byte) uint64 {
		return uint64(idx)<<48 | uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 |
			uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
	}
	setOf := func(k uint64) uint64 { return (k * 0x9e3779b97f4a7c15 >> 40) & mask }
	// Five remote MACs that share a set with each other and not with the
	// sending host (whose source check fills its own set).
	var macs [][6]byte
	set := ^uint64(0)
	for i := 1; len(macs) < 5; i++ {
		m := [6]byte{0x02, 0xcc, 0, byte(i >> 16), byte(i >> 8), byte(i)}
		s := setOf(key(m))
		if s == setOf(key(hostA)) || (set != ^uint64(0) && s != set) {
			continue
		}
		set = s
		macs = append(macs, m)
	}
	for _, m := range macs {
		f.fdb(bdA, m, FDBVTEP, 1, 0)
	}
	ways := func() []uint64 {
		var per []bpfFwdFdbCacheSet
		f.must(f.d.objs.FwdFdbCache.Lookup(uint32(set), &per))
		gen := f.d.fdb.gen.load(0)
		var keys []uint64
		for _, w := range per[0].Way { // CPU 0: fixture.run pins frames there
			if w.Gen == gen && w.Key != 0 {
				keys = append(keys, w.Key)
			}
		}
		return keys
	}
	send := func(m [6]byte) {
		t.Helper()
		f.check(t, buildFrame(t, frameSpec{dst: m, src: hostA}), f.acc1, expect{action: ActionRedirect, reason: "tx_encap4"})
	}
	for _, step := range []struct {
		send []int // indexes into macs
		want []int // the set's ways afterwards, way 0 first
	}{
		{[]int{0, 1, 2, 3}, []int{3, 2, 1, 0}},
		{[]int{3, 0}, []int{3, 2, 1, 0}}, // hits move nothing
		{[]int{4}, []int{4, 3, 2, 1}},    // the oldest fill drops out
		{[]int{0}, []int{0, 4, 3, 2}},
	} {
		for _, i := range step.send {
			send(macs[i])
		}
		var want []uint64
		for _, i := range step.want {
			want = append(want, key(macs[i]))
		}
		if got := ways(); !slices.Equal(got, want) {
			t.Fatalf("after sending %v: set %d holds %x, want %x", step.send, set, got, want)
		}
	}
}
