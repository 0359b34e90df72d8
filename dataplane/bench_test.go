package dataplane

import (
	"testing"

	"github.com/fwdplane/fwd/internal/testutil"
)

// TestLiveFrames: the generator's frames cross a veth for real and the sink
// counts every one of them, per flow.
func TestLiveFrames(t *testing.T) {
	testutil.RequireRoot(t)
	ns := testutil.NewNetNS(t)
	g0, g1 := testutil.VethPair(t, ns, "g0", "g1", 1500)
	b, err := LoadBench()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	frame := buildFrame(t, frameSpec{dst: hostB, src: hostA, size: 64})
	const flows, count = 16, 100000
	var res GenResult
	err = ns.Do(func() error {
		if err := b.AttachSink(g1, 14+20+8, flows); err != nil {
			return err
		}
		if err := b.AttachPass(g0); err != nil {
			return err
		}
		res, err = b.Generate(frame, uint32(g0), GenConfig{Flows: flows, MACs: 4, MACStride: 1, MACBase: 0x100,
			SrcPortOffset: 14 + 20, IDOffset: 14 + 20 + 8}, count, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	total, per, err := b.SinkCounts(flows)
	if err != nil {
		t.Fatal(err)
	}
	// The total may include the kernel's own frames on the new link (IPv6
	// router solicitations, MLD); the flows are exact.
	if res.Sent != count || total < count || total > count+10 {
		t.Fatalf("sent %d, sink saw %d, want %d", res.Sent, total, count)
	}
	// Each flow got exactly its share; a kernel frame whose bytes at the
	// id offset read as a flow id adds to that flow, never more than the
	// extra frames the sink saw.
	var excess uint64
	for f, n := range per {
		if n < count/flows {
			t.Fatalf("flow %d: %d frames, want %d", f, n, count/flows)
		}
		excess += n - count/flows
	}
	if excess > total-count {
		t.Fatalf("flows got %d frames more than their share, the sink saw only %d frames beyond the generator's", excess, total-count)
	}
	t.Logf("%d frames in %s: %.2f Mpps through one veth", res.Sent, res.Elapsed, float64(res.Sent)/res.Elapsed.Seconds()/1e6)
}
