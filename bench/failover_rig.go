package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/bench/pktgen"
	"github.com/fwdplane/fwd/control"
	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
	"github.com/fwdplane/fwd/internal/dpwrites"
	"github.com/fwdplane/fwd/lab"
	"github.com/fwdplane/fwd/vxlan"
)

// The failover rig:
//
//	gen: g0 ──── g1 ┐ fwd (XDP on g1, u0, a0; control.Controller)
//	                ├ u0 ──── s0 ┐ sink: XDP counting sink on s0 and p0,
//	                └ a0 ──── p0 ┘       per last byte of the IPv4 address
//	                                     at offset 30
//
// g1 is an access port where the generator's frames come in; u0 the uplink,
// behind which the five remote VTEPs sit (every VTEP resolves to u0 with
// s0's MAC); a0 the access port of the local ES. An encapsulated frame's
// offset 30 is its outer destination, so s0 counts frames per VTEP; a plain
// frame's is its inner destination, 198.18.0.250, so p0's frames count
// under 250: frames to the local port.

// The rig's addresses.
var (
	failoverLocal = netip.MustParseAddr("10.0.0.1")
	// failoverPEs are the remote ES's four PEs; failoverPeer is the local
	// ES's peer, which takes its traffic when its port is down.
	failoverPEs = [4]netip.Addr{netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3"),
		netip.MustParseAddr("192.0.2.4"), netip.MustParseAddr("192.0.2.5")}
	failoverPeer = netip.MustParseAddr("192.0.2.6")

	failoverRemoteESI = evpn.ESI{0x03, 0x44, 0x38, 0x39, 0xff, 0xff, 0x02, 0x00, 0x00, 0x01}
	failoverLocalESI  = evpn.ESI{0x03, 0x44, 0x38, 0x39, 0xff, 0xff, 0x01, 0x00, 0x00, 0x01}

	failoverHostMAC = [6]byte{0x02, 0xaa, 0, 0, 0, 0x01} // the sending host, behind g1
	// failoverMACBase: remote-ES MAC i is base+i, local-ES MAC i base+N+i.
	failoverMACBase  = [6]byte{0x02, 0xcc, 0, 0, 0, 0}
	failoverInnerSrc = netip.MustParseAddr("198.18.0.1")
	failoverInnerDst = netip.MustParseAddr("198.18.0.250")
)

const (
	failoverVNI = 100
	// failoverDead is the PE that fails in the remote events.
	failoverDead = 1
	// failoverPortKey is where the sink counts frames to the local port.
	failoverPortKey = 250
	// failoverAddrOffset is where the sink reads the address it counts by.
	failoverAddrOffset = 30
	failoverMTU        = 1600
	// failoverBatch is how many paths go in one Controller.Apply.
	failoverBatch = 1 << 16
	// failoverSettle is how long the sink is watched right after an event
	// returns, for frames encapsulated before the switch that are still
	// in the veth rings (with the generator saturating its CPU, the sink's
	// NAPI runs in ksoftirqd there and a ring can wait milliseconds);
	// failoverSettleRestore how long after an undo.
	failoverSettle        = 20 * time.Millisecond
	failoverSettleRestore = 20 * time.Millisecond
)

func failoverKey(a netip.Addr) int { return int(a.As4()[3]) }

func failoverMAC(i int) evpn.MAC { return evpn.MAC(pktgen.AddMAC(failoverMACBase, uint32(i))) }

func failoverRD(a netip.Addr, n uint16) evpn.RD {
	rd, err := evpn.RDIPv4(a, n)
	if err != nil {
		panic(err) // the rig's addresses are IPv4
	}
	return rd
}

func failoverEADES(pe netip.Addr, esi evpn.ESI) evpn.Path {
	return evpn.EADPerESPath(failoverRD(pe, 0), esi, pe, evpn.SourceAPI)
}

func failoverEADEVI(pe netip.Addr, esi evpn.ESI) evpn.Path {
	return evpn.EADPerEVIPath(failoverRD(pe, failoverVNI), esi, failoverVNI, pe, evpn.SourceAPI)
}

func failoverType2(pe netip.Addr, m evpn.MAC, esi evpn.ESI) evpn.Path {
	return evpn.MACPath(failoverRD(pe, failoverVNI), esi, m, failoverVNI, pe, evpn.SourceAPI)
}

func failoverWithdraw(p evpn.Path) evpn.Path { return p.Withdrawal() }

// failoverRig is fwd with its controller, the generator and the sinks, for
// one N.
type failoverRig struct {
	n    int
	o    *FailoverOptions
	step func(string)

	top             *lab.Topology
	gen, sut, sinkN *lab.NS
	fwd             *lab.FwdVTEP
	dp              *dpwrites.Recorder
	bench           *dataplane.Bench
	ul              *vxlan.StaticResolver
	ctrl            *control.Controller
	stopCtrl        context.CancelFunc
	ctrlDone        chan error

	g0, g1, u0, a0 int

	genStop atomic.Bool
	genDone chan error
	genSent atomic.Uint64
	unpin   func()
}

// newFailoverRig builds the topology, loads fwd with an FDB for 2N MACs and
// starts the controller over it; applyRoutes gives it its state.
func newFailoverRig(ctx context.Context, n int, o *FailoverOptions, step func(string)) (r *failoverRig, err error) {
	r = &failoverRig{n: n, o: o, step: step}
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
	if r.sut, err = r.top.AddNS(ctx, "fwd"); err != nil {
		return r, err
	}
	if r.sinkN, err = r.top.AddNS(ctx, "sink"); err != nil {
		return r, err
	}
	in, err := r.top.AddVeth(ctx, r.gen, "g0", r.sut, "g1", failoverMTU)
	if err != nil {
		return r, err
	}
	up, err := r.top.AddVeth(ctx, r.sut, "u0", r.sinkN, "s0", failoverMTU)
	if err != nil {
		return r, err
	}
	port, err := r.top.AddVeth(ctx, r.sut, "a0", r.sinkN, "p0", failoverMTU)
	if err != nil {
		return r, err
	}
	r.g0 = in.A.Ifindex
	if r.bench, err = dataplane.LoadBench(); err != nil {
		return r, err
	}
	if err := r.gen.Do(func() error { return r.bench.AttachPass(r.g0) }); err != nil {
		return r, err
	}
	err = r.sinkN.Do(func() error {
		for _, ifindex := range []int{up.B.Ifindex, port.B.Ifindex} {
			if err := r.bench.AttachSinkAddr(ifindex, 0, 0, failoverAddrOffset); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return r, err
	}

	step("loading fwd")
	if r.fwd, err = r.top.AddFwdVTEP(ctx, r.sut, lab.FwdVTEPConfig{Local: failoverLocal, FDBMax: uint32(2*n + 1024)}); err != nil {
		return r, err
	}
	for _, p := range []struct {
		dev  string
		role dataplane.PortRole
		out  *int
	}{{"g1", dataplane.RoleAccess, &r.g1}, {"u0", dataplane.RoleUplink, &r.u0}, {"a0", dataplane.RoleAccess, &r.a0}} {
		if *p.out, err = r.fwd.AddPort(ctx, p.dev, dataplane.Port{Role: p.role}); err != nil {
			return r, err
		}
		if m := r.fwd.AttachMode(p.dev); m != dataplane.ModeNative {
			return r, fmt.Errorf("fwd on %s attached in %s mode, not native: the numbers would not be fwd's", p.dev, m)
		}
	}
	r.dp = dpwrites.New(r.fwd.Dataplane())
	r.ul = &vxlan.StaticResolver{Ifindex: r.u0, SrcMAC: [6]byte(up.A.MAC), DstMAC: [6]byte(up.B.MAC), Src: failoverLocal}
	cfg := control.Config{VTEP4: failoverLocal, BDs: []uint32{failoverVNI}, Uplinks: []uint32{uint32(r.u0)},
		ESes:   []control.LocalES{{ESI: failoverLocalESI, Ifindex: uint32(r.a0), DFAlg: evpn.DFAlgPreference}},
		Logger: o.Logger}
	if r.ctrl, err = control.New(cfg, r.dp, r.ul, nil); err != nil {
		return r, err
	}
	cctx, cancel := context.WithCancel(context.Background())
	r.stopCtrl, r.ctrlDone = cancel, make(chan error, 1)
	go func() { r.ctrlDone <- r.ctrl.Run(cctx) }()
	for _, ifindex := range []int{r.g1, r.a0} {
		if err := r.dp.SetVLAN(uint32(ifindex), dataplane.Tags{}, failoverVNI); err != nil {
			return r, err
		}
	}
	return r, nil
}

// FailoverLoad is the set-up of one N: how fast the routes went in, and the
// traffic during the events.
type FailoverLoad struct {
	MACs   int `json:"macs"`
	Routes int `json:"routes"`
	// ApplySeconds is how long Controller.Apply took for every route (in
	// batches of 64k), PerSecond the rate.
	ApplySeconds float64 `json:"apply_seconds"`
	PerSecond    float64 `json:"routes_per_second"`
	// KernelLoadSeconds is how long the kernel took N `bridge fdb add
	// ... nhid` entries through one `bridge -batch` (KernelPerSecond).
	KernelLoadSeconds float64 `json:"kernel_fdb_seconds"`
	KernelPerSecond   float64 `json:"kernel_fdb_per_second"`
	// FramesPerSecond is the traffic fwd delivered while the events ran.
	FramesPerSecond float64 `json:"delivered_fps"`
	// OtherCPUs is how many CPUs other user-space processes kept busy, on
	// average, while the events ran (their user and system time from
	// /proc): other work on the machine shows here, and makes that N's
	// times slower.
	OtherCPUs float64 `json:"other_cpus"`
}

// applyRoutes announces the ES routes (EAD-per-ES and EAD-per-EVI from the
// remote ES's four PEs and from the local ES's peer), then N type-2 routes
// behind the remote ES (spread over its PEs) and N SYNC type-2 routes from
// the peer behind the local ES.
func (r *failoverRig) applyRoutes(ctx context.Context) (FailoverLoad, error) {
	load := FailoverLoad{MACs: r.n}
	var batch []evpn.Path
	start := time.Now()
	total := 2*r.n + 2*len(failoverPEs) + 2
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := r.ctrl.Apply(ctx, batch)
		if err != nil {
			return err
		}
		if res.Rejected > 0 {
			return fmt.Errorf("controller rejected %d routes: %v", res.Rejected, res.Errors)
		}
		load.Routes += len(batch)
		batch = batch[:0]
		el := time.Since(start)
		r.step(fmt.Sprintf("routes %s/%s through Controller.Apply (%.0f/s)", failoverScale(load.Routes),
			failoverScale(total), float64(load.Routes)/el.Seconds()))
		return nil
	}
	for _, pe := range failoverPEs {
		batch = append(batch, failoverEADES(pe, failoverRemoteESI), failoverEADEVI(pe, failoverRemoteESI))
	}
	batch = append(batch, failoverEADES(failoverPeer, failoverLocalESI), failoverEADEVI(failoverPeer, failoverLocalESI))
	for i := 0; i < 2*r.n; i++ {
		if i < r.n {
			batch = append(batch, failoverType2(failoverPEs[i%len(failoverPEs)], failoverMAC(i), failoverRemoteESI))
		} else {
			batch = append(batch, failoverType2(failoverPeer, failoverMAC(i), failoverLocalESI))
		}
		if len(batch) >= failoverBatch {
			if err := flush(); err != nil {
				return load, err
			}
		}
	}
	if err := flush(); err != nil {
		return load, err
	}
	load.ApplySeconds = time.Since(start).Seconds()
	load.PerSecond = float64(load.Routes) / load.ApplySeconds
	if got := r.dp.FDBCount(); got != 2*r.n {
		return load, fmt.Errorf("fwd FDB holds %d entries after the routes, want %d", got, 2*r.n)
	}
	st, err := r.ctrl.Stats(ctx)
	if err != nil {
		return load, err
	}
	if st.WriteErrors > 0 {
		return load, fmt.Errorf("the controller's dataplane writes failed %d times (run with --verbose for its log)", st.WriteErrors)
	}
	return load, nil
}

// template and genConfig: frames from the host behind g1, destination MACs
// spread evenly over all 2N MACs (the remote ES's and the local ES's), one
// UDP source port per flow so that flows spread over the group's buckets.
func (r *failoverRig) template() ([]byte, dataplane.GenConfig, error) {
	spec := pktgen.Spec{Flow: pktgen.Flow{SrcMAC: failoverHostMAC, DstMAC: failoverMACBase, Src: failoverInnerSrc,
		Dst: failoverInnerDst, SrcPort: 1024, DstPort: 9}, Size: 64}
	tmpl, err := pktgen.Build(spec)
	if err != nil {
		return nil, dataplane.GenConfig{}, err
	}
	macs := min(2*r.n, dataplane.BenchMaxFlows)
	cfg := dataplane.GenConfig{Flows: dataplane.BenchMaxFlows, MACs: uint32(macs), MACStride: uint32(2 * r.n / macs),
		MACBase:      uint32(failoverMACBase[3])<<16 | uint32(failoverMACBase[4])<<8 | uint32(failoverMACBase[5]),
		DstMACOffset: 0, SrcPortOffset: uint16(spec.Offsets().SrcPort)}
	return tmpl, cfg, nil
}

// startTraffic starts the generator in a goroutine on the rig's CPU, and
// keeps the rest of the process off that CPU until stopTraffic.
func (r *failoverRig) startTraffic() error {
	tmpl, cfg, err := r.template()
	if err != nil {
		return err
	}
	r.genDone = make(chan error, 1)
	r.genStop.Store(false)
	cpu := r.o.CPU
	tid := make(chan int, 1)
	go func() {
		r.genDone <- r.gen.Do(func() error {
			failoverPinSelf(cpu)
			tid <- unix.Gettid()
			for !r.genStop.Load() {
				res, err := r.bench.Generate(tmpl, uint32(r.g0), cfg, 1<<15, 0)
				r.genSent.Add(res.Sent)
				if err != nil {
					return err
				}
			}
			return nil
		})
	}()
	// The generator's thread pins itself; every other thread leaves its
	// CPU. (Threads created later inherit the affinity of their creator.)
	select {
	case t := <-tid:
		r.unpin = failoverPinOthers(cpu, t)
		return nil
	case err := <-r.genDone:
		r.genDone = nil
		return fmt.Errorf("generator: %w", err)
	}
}

func (r *failoverRig) stopTraffic() error {
	if r.genDone == nil {
		return nil
	}
	r.genStop.Store(true)
	err := <-r.genDone
	r.genDone = nil
	if r.unpin != nil {
		r.unpin()
		r.unpin = nil
	}
	return err
}

// counts reads the sink's frames per last address byte.
func (r *failoverRig) counts() ([256]uint64, error) { return r.bench.SinkAddrCounts() }

func (r *failoverRig) close() error {
	var errs []error
	errs = append(errs, r.stopTraffic())
	if r.stopCtrl != nil {
		r.stopCtrl()
		if err := <-r.ctrlDone; err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	if r.bench != nil {
		errs = append(errs, r.bench.Close())
	}
	errs = append(errs, r.top.Close())
	return errors.Join(errs...)
}
