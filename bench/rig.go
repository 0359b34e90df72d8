package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/lab"
)

// System is a forwarding path under test.
type System string

// The systems every scenario runs on.
const (
	// Fwd is fwd's XDP fast path, attached in native mode.
	Fwd System = "fwd"
	// Floor is a program that only redirects each frame to the port fwd
	// would send it to: the harness's own cost.
	Floor System = "floor"
	// Kernel is the Linux bridge + vxlan device + L2 nexthop group path
	// that FRR programs, with permanent neighbour entries.
	Kernel System = "kernel"
)

// Systems lists every system in run order.
var Systems = []System{Fwd, Floor, Kernel}

// Interface names inside a rig.
const (
	devGen     = "g0" // generator namespace
	devIngress = "g1" // system under test, from the generator
	devUplink  = "u0" // system under test, egress of encapsulation
	devAccess  = "a0" // system under test, egress of decap and local switching
	devSink    = "s0" // sink namespace, peer of the egress
	vethMTU    = 1600 // room for 1518-byte frames in VXLAN over IPv6
)

// Kernel L2 nexthop ids, in FRR's ranges (ANCHORS.md): fdb nexthops
// 0x10000000|n, fdb groups 0x20000000|n.
const (
	kernelNH    = 0x10000000
	kernelGroup = 0x20000001
)

// rig is one system under test in a fresh topology, with the generator
// and the sink around it.
type rig struct {
	key  rigKey
	sys  System
	log  *slog.Logger
	cpu  int
	step func(string) // progress of the set-up

	top                *lab.Topology
	gen, sut, sink     *lab.NS
	g0, egress, sinkIf int // ifindexes: g0 in gen, the egress in sut, the sink's
	egressDev          string
	bench              *dataplane.Bench
	fwd                *lab.FwdVTEP
	kernel             *lab.KernelVTEP
	members            int
	addrOff            uint16 // where the sink reads the outer destination (0: it does not)

	// fdbLoad is how long loading the FDB took (0 when there was none).
	fdbLoad time.Duration
}

// newRig builds the topology and sets up sys in it for scenarios of key.
func newRig(ctx context.Context, key rigKey, sys System, o *Options, step func(string)) (r *rig, err error) {
	r = &rig{key: key, sys: sys, log: o.Logger, cpu: o.CPU, step: step, members: 1}
	r.top = lab.New(&lab.Options{Logger: o.Logger})
	defer func() {
		if err != nil {
			err = errors.Join(err, r.close())
			r = nil
		}
	}()
	step("building the topology")
	if r.gen, err = r.top.AddNS(ctx, "gen"); err != nil {
		return r, err
	}
	if r.sut, err = r.top.AddNS(ctx, string(sys)); err != nil {
		return r, err
	}
	if r.sink, err = r.top.AddNS(ctx, "sink"); err != nil {
		return r, err
	}
	r.egressDev = devUplink
	if key.path != pathEncap {
		r.egressDev = devAccess
	}
	in, err := r.top.AddVeth(ctx, r.gen, devGen, r.sut, devIngress, vethMTU)
	if err != nil {
		return r, err
	}
	out, err := r.top.AddVeth(ctx, r.sut, r.egressDev, r.sink, devSink, vethMTU)
	if err != nil {
		return r, err
	}
	r.g0, r.egress, r.sinkIf = in.A.Ifindex, out.A.Ifindex, out.B.Ifindex
	for _, m := range []struct {
		ns  *lab.NS
		dev string
		mac net.HardwareAddr
	}{{r.gen, devGen, macG0}, {r.sut, devIngress, macG1}, {r.sut, r.egressDev, macEg}, {r.sink, devSink, macSink}} {
		if err := m.ns.SetMAC(ctx, m.dev, m.mac); err != nil {
			return r, err
		}
	}
	if r.bench, err = dataplane.LoadBench(); err != nil {
		return r, err
	}
	if err := r.gen.Do(func() error { return r.bench.AttachPass(r.g0) }); err != nil {
		return r, err
	}
	r.addrOff = sinkAddrOffset(key)
	if err := r.sink.Do(func() error {
		return r.bench.AttachSinkAddr(r.sinkIf, sinkIDOffset(key, sys), maxFlows, r.addrOff)
	}); err != nil {
		return r, err
	}
	switch sys {
	case Fwd:
		err = r.setupFwd(ctx)
	case Floor:
		step("attaching the floor")
		err = r.sut.Do(func() error { return r.bench.AttachFloor(in.B.Ifindex, r.egress) })
	case Kernel:
		err = r.setupKernel(ctx)
	default:
		err = fmt.Errorf("unknown system %q (have fwd, floor, kernel)", sys)
	}
	return r, err
}

// close removes everything the rig made. A kernel VTEP's devices go first,
// so that a large FDB is flushed before close returns rather than by a
// kernel worker during the next measurement.
func (r *rig) close() error {
	var errs []error
	if r.kernel != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		start := time.Now()
		r.step("deleting the kernel bridge and vxlan device")
		errs = append(errs, r.kernel.Delete(ctx))
		cancel()
		r.log.Debug("kernel VTEP deleted", "took", time.Since(start))
	}
	if r.bench != nil {
		errs = append(errs, r.bench.Close())
	}
	errs = append(errs, r.top.Close())
	return errors.Join(errs...)
}

// setMembers points the scenario MACs at a group of n remote VTEPs (n = 1:
// at VTEP 1 directly for fwd, through a one-member group for the kernel, as
// FRR does). Only encapsulation rigs have groups.
func (r *rig) setMembers(ctx context.Context, n int) error {
	if r.members == n || r.key.path != pathEncap {
		return nil
	}
	switch r.sys {
	case Fwd:
		if err := r.loadFwdRemote(n); err != nil {
			return err
		}
	case Kernel:
		ids := make([]uint32, n)
		for i := range ids {
			ids[i] = kernelNH + uint32(i) + 1
		}
		if err := r.kernel.SetFDBGroup(ctx, kernelGroup, ids); err != nil {
			return err
		}
	}
	r.members = n
	return nil
}

// pinCPU pins the calling (locked) thread to cpu when the machine has it.
func pinCPU(cpu int) {
	if cpu < 0 || runtime.NumCPU() <= cpu {
		return
	}
	var set unix.CPUSet
	set.Set(cpu)
	_ = unix.SchedSetaffinity(0, &set)
}

// Generator call sizes. One BPF_PROG_RUN call in live-frame mode costs
// 1.5 ms of CPU and, on a busy machine, several ms of wall time to set up
// and tear down, whatever its frame count: calls are sized to last about
// callTime each, so that this overhead stays a few percent of the run.
const (
	genProbe    = 1 << 16
	genMinChunk = 1 << 12
	genMaxChunk = 1 << 24
	callTime    = 200 * time.Millisecond
)

// generate sends frames from the generator namespace, pinned to the rig's
// CPU: count frames, or when count is 0 as many as fit in d. With rate > 0
// it paces itself to rate frames per second on average, in bursts of burst
// frames at the generator's full speed.
func (r *rig) generate(ctx context.Context, tmpl []byte, cfg dataplane.GenConfig, count uint64, d time.Duration, rate float64, burst uint64) (sent uint64, elapsed time.Duration, err error) {
	chunk, target := uint64(genProbe), min(callTime, max(d/4, 20*time.Millisecond))
	if rate > 0 && burst > 0 {
		chunk = burst
	}
	err = r.gen.Do(func() error {
		pinCPU(r.cpu)
		start := time.Now()
		defer func() { elapsed = time.Since(start) }()
		perSec := 0.0 // the generator's rate so far
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := chunk
			if count > 0 {
				if sent >= count {
					return nil
				}
				n = min(n, count-sent)
			} else {
				left := d - time.Since(start)
				if left <= 0 {
					return nil
				}
				if rate == 0 && perSec > 0 {
					n = min(n, max(uint64(perSec*left.Seconds()), genMinChunk))
				}
			}
			t0 := time.Now()
			res, err := r.bench.Generate(tmpl, uint32(r.g0), cfg, n, 0)
			took := time.Since(t0)
			sent += res.Sent
			if err != nil {
				return err
			}
			if rate > 0 {
				waitUntil(start.Add(time.Duration(float64(sent) / rate * float64(time.Second))))
				continue
			}
			if took > 0 && res.Sent > 0 {
				perSec = float64(res.Sent) / took.Seconds()
				chunk = min(max(uint64(perSec*target.Seconds()), genMinChunk), genMaxChunk)
			}
		}
	})
	return sent, elapsed, err
}

// waitUntil returns at t: it sleeps while t is more than 2 ms away and
// spins for the rest, since a sleep of a locked thread overshoots a gap of
// a fraction of a millisecond by more than the gap.
func waitUntil(t time.Time) {
	for {
		wait := time.Until(t)
		switch {
		case wait <= 0:
			return
		case wait > 2*time.Millisecond:
			time.Sleep(wait - time.Millisecond)
		}
	}
}

// drain is how long the sink is given to count what is still in flight
// after the generator stops (veth rings, the kernel's backlog).
const drain = 50 * time.Millisecond

// run is a scenario under way on a rig: its frames and the sink's last
// counts, so that a round costs one read of the sink.
type run struct {
	s      Scenario
	tmpl   []byte
	cfg    dataplane.GenConfig
	total  uint64
	per    []uint64
	addrs  [256]uint64
	rounds []round
}

// round is one stretch of generator time.
type round struct {
	sent, delivered, total uint64
	per                    []uint64
	addrs                  [256]uint64 // by the outer destination's last byte
	elapsed                time.Duration
}

// readSink reads the sink's counters: total, per flow, per outer
// destination.
func (r *rig) readSink(flows int) (total uint64, per []uint64, addrs [256]uint64, err error) {
	if total, per, err = r.bench.SinkCounts(flows); err != nil {
		return
	}
	if r.addrOff != 0 {
		addrs, err = r.bench.SinkAddrCounts()
	}
	return
}

// start points the rig at s: the group it needs, a warm-up (caches, the
// bridge's learning of the source MAC, the kernel's route and neighbour
// caches) and a first read of the sink.
func (r *rig) start(ctx context.Context, s Scenario, warmFrames uint64, warm time.Duration) (*run, error) {
	if err := r.setMembers(ctx, s.Kind.members()); err != nil {
		return nil, err
	}
	tmpl, err := s.template()
	if err != nil {
		return nil, err
	}
	ru := &run{s: s, tmpl: tmpl, cfg: s.genConfig()}
	if _, _, err := r.generate(ctx, ru.tmpl, ru.cfg, warmFrames, warm, 0, 0); err != nil {
		return nil, fmt.Errorf("warm up: %w", err)
	}
	time.Sleep(drain)
	if ru.total, ru.per, ru.addrs, err = r.readSink(s.Flows); err != nil {
		return nil, err
	}
	return ru, nil
}

// round sends count frames (or runs for d), at rate when > 0, and records
// what the sink counted.
func (r *rig) round(ctx context.Context, ru *run, count uint64, d time.Duration, rate float64, burst uint64) (*round, error) {
	sent, elapsed, err := r.generate(ctx, ru.tmpl, ru.cfg, count, d, rate, burst)
	if err != nil {
		return nil, err
	}
	time.Sleep(drain)
	total, per, addrs, err := r.readSink(ru.s.Flows)
	if err != nil {
		return nil, err
	}
	rd := &round{sent: sent, total: total - ru.total, per: make([]uint64, len(per)), elapsed: elapsed}
	for i := range per {
		rd.per[i] = per[i] - ru.per[i]
		rd.delivered += rd.per[i]
	}
	for i := range addrs {
		rd.addrs[i] = addrs[i] - ru.addrs[i]
	}
	ru.total, ru.per, ru.addrs = total, per, addrs
	ru.rounds = append(ru.rounds, *rd)
	return rd, nil
}

// measurement sums the run's rounds. For an encapsulating system it
// counts frames per remote VTEP (by the outer destination).
func (ru *run) measurement(sys System) *Measurement {
	var sent, total uint64
	var elapsed time.Duration
	var addrs [256]uint64
	per := make([]uint64, ru.s.Flows)
	rates := make([]float64, 0, len(ru.rounds))
	for _, rd := range ru.rounds {
		sent += rd.sent
		total += rd.total
		elapsed += rd.elapsed
		for i, n := range rd.per {
			per[i] += n
		}
		for i, n := range rd.addrs {
			addrs[i] += n
		}
		if rd.elapsed > 0 {
			rates = append(rates, float64(rd.delivered)/rd.elapsed.Seconds()/1e6)
		}
	}
	m := newMeasurement(sent, total, per, elapsed, rates)
	if ru.s.Kind.path() == pathEncap && sys != Floor {
		u := underlayOf(ru.s.Kind.ipv6())
		for b, n := range addrs {
			if n == 0 {
				continue
			}
			name := fmt.Sprintf("other (last byte %d)", b)
			for _, v := range u.vteps {
				if last := v.As16()[15]; int(last) == b {
					name = v.String()
				}
			}
			if m.VTEPs == nil {
				m.VTEPs = map[string]uint64{}
			}
			m.VTEPs[name] += n
		}
	}
	return m
}
