package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/internal/testutil"
)

// BenchmarkProgramCost measures what the fast path's program itself costs a
// frame, against the floor (a program that only redirects), from the
// kernel's own accounting (kernel.bpf_stats_enabled: run_time_ns / run_cnt)
// while the live-frame generator drives frames through veths, as `fwd bench
// xdp` does: generator -> g0 -> g1 (the program under test) -> e0 -> e1 (the
// sink). Each iteration is one round: the program, then the floor, on the
// same topology and frames; the metrics are the medians over rounds:
//
//	fwd_ns/frame    fwd's program, run_time_ns / run_cnt
//	floor_ns/frame  the floor's, the same way (mostly the accounting itself)
//	cost_ns/frame   the difference: what fwd adds to the frame's path
//	cost_min_ns/frame  the same from each program's fastest round
//
// run_time_ns includes the clock reads of the accounting, the same for both
// programs, so only the difference means anything; the rates of a run with
// the accounting on are lower than `fwd bench xdp` reports. As root:
//
//	go test -run NONE -bench ProgramCost -benchtime 7x ./dataplane/
func BenchmarkProgramCost(b *testing.B) {
	testutil.RequireRoot(b)
	for _, c := range []costCase{
		{"encap4", 1_000_000, 1}, {"encap4", 1_000_000, 65536},
		{"encap6", 1_000_000, 1}, {"encap6", 1_000_000, 65536},
		{"es4", 1_000_000, 1}, {"es4", 1_000_000, 65536},
		{"decap4", 1000, 1}, {"decap4", 1000, 65536},
		{"local", 1000, 1}, {"local", 1000, 65536},
	} {
		b.Run(c.String(), func(b *testing.B) { c.run(b) })
	}
}

// costCase is one scenario of BenchmarkProgramCost: kind as in `fwd bench
// xdp` (encap4, encap6, es4, decap4, local), fdb entries, flows spread over
// them, 64-byte frames.
type costCase struct {
	kind  string
	fdb   int
	flows int
}

func (c costCase) String() string {
	scale := func(n int) string {
		switch {
		case n >= 1_000_000:
			return fmt.Sprintf("%dM", n/1_000_000)
		case n >= 65536:
			return fmt.Sprintf("%dk", n/1024)
		case n >= 1000:
			return fmt.Sprintf("%dk", n/1000)
		}
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%s/fdb=%s/flows=%s", c.kind, scale(c.fdb), scale(c.flows))
}

func (c costCase) run(b *testing.B) {
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		testutil.RequireKernel(b, "BPF_ENABLE_STATS", err)
	}
	b.Cleanup(func() { stats.Close() })
	ns := testutil.NewNetNS(b)
	g0, g1 := testutil.VethPair(b, ns, "g0", "g1", 1600)
	e0, e1 := testutil.VethPair(b, ns, "e0", "e1", 1600)
	d, err := Load(&Options{FDBMax: uint32(c.fdb + 16)})
	must(err)
	b.Cleanup(func() { d.Close() })
	bench, err := LoadBench()
	must(err)
	b.Cleanup(func() { bench.Close() })

	inRole, outRole := RoleAccess, RoleUplink
	switch c.kind {
	case "decap4":
		inRole, outRole = RoleUplink, RoleAccess
	case "local":
		outRole = RoleAccess
	}
	must(ns.Do(func() error {
		if err := d.SetPort(uint32(g1), Port{Role: inRole}); err != nil {
			return err
		}
		if err := d.SetPort(uint32(e0), Port{Role: outRole}); err != nil {
			return err
		}
		if err := bench.AttachSink(e1, 0, 0); err != nil {
			return err
		}
		return bench.AttachPass(g0)
	}))
	const vni = 100
	must(d.SetBD(vni))
	for _, p := range []struct {
		ifindex int
		role    PortRole
	}{{g1, inRole}, {e0, outRole}} {
		if p.role == RoleAccess {
			must(d.SetVLAN(uint32(p.ifindex), Tags{}, vni))
		}
	}
	host := [6]byte{2, 0xaa, 0, 0, 0, 1}
	if inRole == RoleAccess {
		// The sending host, known on its port: no learn event per frame.
		must(d.SetFDB(FDBKey{BD: vni, MAC: host}, FDBEntry{Kind: FDBLocal, Ref: uint32(g1)}))
	}
	local4, local6 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")
	must(d.SetVTEP(local4, VTEPLocal))
	remote := func(i int, v6 bool) netip.Addr {
		if v6 {
			return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 15: byte(2 + i)})
		}
		return netip.AddrFrom4([4]byte{192, 0, 2, byte(2 + i)})
	}
	v6 := c.kind == "encap6"
	for i := range 4 {
		src := local4
		if v6 {
			src = local6
		}
		must(d.SetNextHop(uint32(i+1), NextHop{Src: src, Dst: remote(i, v6), Ifindex: uint32(e0),
			SrcMAC: [6]byte{2, 0xfe, 0, 0, 0, 3}, DstMAC: [6]byte{2, 0xfe, 0, 0, 0, 4}}))
	}
	must(d.SetVTEP(remote(0, false), VTEPRemote))
	buckets := make([]Bucket, GroupBuckets)
	for i := range buckets {
		buckets[i] = Bucket{Primary: uint32(i%4) + 1, Backup: uint32((i+1)%4) + 1}
	}
	_, err = d.ReplaceGroup(1, buckets)
	must(err)
	must(d.SetES(1, ES{Group: 1}))

	base, entry := [6]byte{2, 0xcc, 0, 0, 0, 0}, FDBEntry{Kind: FDBVTEP, Ref: 1}
	switch c.kind {
	case "es4":
		entry = FDBEntry{Kind: FDBES, Ref: 1}
	case "decap4", "local":
		base, entry = [6]byte{2, 0xbb, 0, 0, 0, 0}, FDBEntry{Kind: FDBLocal, Ref: uint32(e0)}
	}
	at := func(i int) [6]byte {
		m := base
		m[3], m[4], m[5] = byte(i>>16), byte(i>>8), byte(i)
		return m
	}
	keys, vals := make([]FDBKey, c.fdb), make([]FDBEntry, c.fdb)
	for i := range keys {
		keys[i], vals[i] = FDBKey{BD: vni, MAC: at(i)}, entry
	}
	_, err = d.SetFDBBatch(keys, vals)
	must(err)

	frame := buildFrame(b, frameSpec{dst: at(c.fdb / 2), src: host, size: 60, sport: 1024})
	gen := GenConfig{Flows: uint32(c.flows), SrcPortOffset: 14 + 20}
	if c.kind == "decap4" {
		inner := buildFrame(b, frameSpec{dst: at(c.fdb / 2), src: [6]byte{2, 0xdd, 0, 0, 0, 1}, size: 60, sport: 1024})
		frame = vxlanFrame(b, remote(0, false), local4, vni, inner)
		frame[14+20+6], frame[14+20+7] = 0, 0 // outer UDP checksum: the generator rewrites the port
		gen.DstMACOffset = 14 + 20 + 8 + 8
	}
	if c.flows > 1 {
		macs := min(c.flows, c.fdb)
		gen.MACs, gen.MACStride = uint32(macs), uint32(c.fdb/macs)
		gen.MACBase = uint32(base[3])<<16 | uint32(base[4])<<8 | uint32(base[5])
	}

	// measure runs the generator for one round and returns prog's ns per
	// run over it.
	measure := func(prog *ebpf.Program) float64 {
		before, err := prog.Stats()
		must(err)
		must(ns.Do(func() error {
			defer onCPU(0)()
			_, err := bench.Generate(frame, uint32(g0), gen, 1<<40, 250*time.Millisecond)
			return err
		}))
		after, err := prog.Stats()
		must(err)
		runs := after.RunCount - before.RunCount
		if runs == 0 {
			b.Fatalf("%s did not run", prog)
		}
		return float64(after.Runtime-before.Runtime) / float64(runs)
	}
	var fwdNS, floorNS []float64
	for b.Loop() {
		must(ns.Do(func() error {
			if _, err := d.Attach(g1); err != nil {
				return err
			}
			_, err := d.Attach(e0)
			return err
		}))
		fwdNS = append(fwdNS, measure(d.Program()))
		must(errors.Join(d.Detach(g1), d.Detach(e0)))
		must(ns.Do(func() error { return bench.AttachFloor(g1, e0) }))
		floorNS = append(floorNS, measure(bench.objs.FwdFloor))
		must(bench.detachLast())
	}
	c.checkForwarded(b, d)
	fwd, floor := median(fwdNS), median(floorNS)
	b.ReportMetric(fwd, "fwd_ns/frame")
	b.ReportMetric(floor, "floor_ns/frame")
	b.ReportMetric(fwd-floor, "cost_ns/frame")
	// On a shared machine other work only ever adds time: the fastest
	// rounds are the steadier figure.
	b.ReportMetric(slices.Min(fwdNS)-slices.Min(floorNS), "cost_min_ns/frame")
}

// checkForwarded fails the benchmark when fwd did not forward the frames
// the scenario is about: a cost measured on the wrong path means nothing.
func (c costCase) checkForwarded(b *testing.B, d *Dataplane) {
	b.Helper()
	want := map[string]string{"encap4": "tx_encap4", "encap6": "tx_encap6", "es4": "tx_encap4",
		"decap4": "tx_decap", "local": "tx_local"}[c.kind]
	ctr, err := d.Counters()
	if err != nil {
		b.Fatal(err)
	}
	var rx uint64
	for _, k := range []string{"rx_access", "rx_uplink"} {
		rx += ctr[k]
	}
	if ctr[want] == 0 || ctr[want] < rx*99/100 {
		b.Fatalf("%s: %d of %d frames counted %s: %v", c, ctr[want], rx, want, ctr)
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// detachLast detaches the program the harness attached last.
func (b *Bench) detachLast() error {
	l := b.links[len(b.links)-1]
	b.links = b.links[:len(b.links)-1]
	return l.Close()
}
