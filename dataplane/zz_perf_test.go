package dataplane

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/fwdplane/fwd/internal/testutil"
)

var perfN = 1 << 20

func TestZZPerf(t *testing.T) {
	if v := os.Getenv("PERFN"); v != "" {
		perfN, _ = strconv.Atoi(v)
	}
	ns := testutil.NewNetNS(t)
	g0, g1 := testutil.VethPair(t, ns, "g0", "g1", 1500)
	u0, u1 := testutil.VethPair(t, ns, "u0", "u1", 1600)
	d, err := Load(&Options{FDBMax: 1<<20 + 64})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b, err := LoadBench()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ns.Do(func() error {
		must(d.SetPort(uint32(g1), Port{Role: RoleAccess}))
		must(d.SetPort(uint32(u0), Port{Role: RoleUplink}))
		must(b.AttachSink(u1, 0, 0))
		must(b.AttachPass(g0))
		return nil
	}))
	must(d.SetBD(100))
	must(d.SetVLAN(uint32(g1), Tags{}, 100))
	must(d.SetNextHop(1, NextHop{Src: localVTEP4, Dst: vtep(1), Ifindex: uint32(u0), SrcMAC: upMAC, DstMAC: routerMAC}))
	n := perfN
	keys := make([]FDBKey, n)
	vals := make([]FDBEntry, n)
	for i := range keys {
		keys[i] = FDBKey{BD: 100, MAC: [6]byte{2, 0xcc, 0, byte(i >> 16), byte(i >> 8), byte(i)}}
		vals[i] = FDBEntry{Kind: FDBVTEP, Ref: 1}
	}
	start := time.Now()
	_, err = d.SetFDBBatch(keys, vals)
	must(err)
	t.Logf("1M fdb in %s", time.Since(start))
	must(d.SetFDB(FDBKey{BD: 100, MAC: hostA}, FDBEntry{Kind: FDBLocal, Ref: uint32(g1)}))
	frame := buildFrame(t, frameSpec{dst: [6]byte{2, 0xcc, 0, 0, 0, 5}, src: hostA, size: 60})
	run := func(name string, flows uint32) {
		must(b.ResetSink(0))
		var res GenResult
		must(ns.Do(func() error {
			pinCPU(0)
			var err error
			res, err = b.Generate(frame, uint32(g0), GenConfig{Flows: flows, MACs: flows, MACStride: uint32(n) / flows, MACBase: 0, SrcPortOffset: 34}, 1<<40, 2*time.Second)
			return err
		}))
		tot, _ := b.SinkTotal()
		c, _ := d.Counters()
		t.Logf("%s flows=%d: sent %.2f Mpps delivered %.2f Mpps (%d/%d) encap=%d", name, flows, float64(res.Sent)/res.Elapsed.Seconds()/1e6, float64(tot)/res.Elapsed.Seconds()/1e6, tot, res.Sent, c["tx_encap4"])
	}
	must(ns.Do(func() error { _, err := d.Attach(g1); return err }))
	run("fwd", 1)
	run("fwd", 65536)
	must(d.Detach(g1))
	must(ns.Do(func() error { return b.AttachFloor(g1, u0) }))
	run("floor", 1)
}
