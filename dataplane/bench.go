package dataplane

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// BenchMaxFlows is how many flows the generator and the sink tell apart.
const BenchMaxFlows = 65536

// GenConfig tells the generator how to stamp flows onto its template frame;
// see struct fwd_gen_cfg in bpf/bench.h.
type GenConfig struct {
	// Flows: frame n belongs to flow n % Flows (at most BenchMaxFlows).
	Flows uint32
	// MACs, MACStride and MACBase: the destination MAC's low three bytes
	// become MACBase + (flow % MACs) * MACStride. MACs <= 1 leaves the MAC.
	MACs, MACStride, MACBase uint32
	// DstMACOffset is where the destination MAC starts (0 for a plain frame).
	DstMACOffset uint16
	// SrcPortOffset is where the UDP source port is; 0 leaves it.
	SrcPortOffset uint16
	// IDOffset is where the 4-byte flow id is written; 0 writes none.
	IDOffset uint16
	// TxIfindex: 0 sends each frame back out of the ingress device (XDP_TX),
	// else the generator redirects it there.
	TxIfindex uint32
}

// Bench holds the benchmark harness's programs: the live-frame generator,
// the counting sink, the redirect-only floor and a pass program.
type Bench struct {
	objs  benchObjects
	links []link.Link
}

// LoadBench loads the harness programs. Minimum kernel: 5.18 (live frames).
func LoadBench() (*Bench, error) {
	b := &Bench{}
	if err := loadBenchObjects(&b.objs, nil); err != nil {
		return nil, fmt.Errorf("load bench programs: %w", err)
	}
	return b, nil
}

// Close detaches every program the harness attached and releases it.
func (b *Bench) Close() error {
	var errs []error
	for _, l := range b.links {
		errs = append(errs, l.Close())
	}
	b.links = nil
	errs = append(errs, b.objs.Close())
	return errors.Join(errs...)
}

func (b *Bench) attach(p *ebpf.Program, ifindex int) error {
	l, err := link.AttachXDP(link.XDPOptions{Program: p, Interface: ifindex, Flags: link.XDPDriverMode})
	if err != nil {
		return fmt.Errorf("attach %s to ifindex %d: %w", p, ifindex, err)
	}
	b.links = append(b.links, l)
	return nil
}

// AttachSink makes ifindex count and drop everything it receives; the flow
// id is read at idOffset (0: count totals only). Call it in ifindex's
// namespace.
func (b *Bench) AttachSink(ifindex int, idOffset uint16, flows uint32) error {
	return b.AttachSinkAddr(ifindex, idOffset, flows, 0)
}

// AttachSinkAddr is AttachSink that also counts frames by the last byte of
// the IPv4 address at addrOffset (30: an encapsulated frame's outer
// destination, i.e. which VTEP it went to); see SinkAddrCounts.
func (b *Bench) AttachSinkAddr(ifindex int, idOffset uint16, flows uint32, addrOffset uint16) error {
	cfg := benchFwdSinkCfg{IdOff: idOffset, Flows: flows, AddrOff: addrOffset}
	if err := b.objs.FwdSinkConfig.Update(uint32(0), &cfg, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("configure sink: %w", err)
	}
	return b.attach(b.objs.FwdSink, ifindex)
}

// AttachFloor makes ifindex redirect everything to tx: the reference path
// that does nothing but the redirect fwd would do. Call it in the namespace
// of both.
func (b *Bench) AttachFloor(ifindex, tx int) error {
	if err := b.objs.FwdFloorTx.Update(uint32(0), uint32(tx), ebpf.UpdateAny); err != nil {
		return fmt.Errorf("floor target ifindex %d: %w", tx, err)
	}
	return b.attach(b.objs.FwdFloor, ifindex)
}

// AttachPass attaches a program that passes everything: a veth with an XDP
// program has NAPI, which frames redirected into its peer need.
func (b *Bench) AttachPass(ifindex int) error {
	return b.attach(b.objs.FwdPass, ifindex)
}

// SinkCounts returns the frames the sink saw in total and per flow (summed
// over CPUs), for flows below n.
func (b *Bench) SinkCounts(n int) (total uint64, perFlow []uint64, err error) {
	var per []uint64
	if err := b.objs.FwdSinkCount.Lookup(uint32(BenchMaxFlows), &per); err != nil {
		return 0, nil, fmt.Errorf("read sink total: %w", err)
	}
	for _, v := range per {
		total += v
	}
	perFlow = make([]uint64, min(n, BenchMaxFlows))
	for i := range perFlow {
		if err := b.objs.FwdSinkCount.Lookup(uint32(i), &per); err != nil {
			return 0, nil, fmt.Errorf("read sink flow %d: %w", i, err)
		}
		for _, v := range per {
			perFlow[i] += v
		}
	}
	return total, perFlow, nil
}

// SinkAddrCounts returns the frames the sink saw per last address byte.
func (b *Bench) SinkAddrCounts() ([256]uint64, error) {
	var out [256]uint64
	var per []uint64
	for i := range out {
		if err := b.objs.FwdSinkAddr.Lookup(uint32(i), &per); err != nil {
			return out, fmt.Errorf("read sink address %d: %w", i, err)
		}
		for _, v := range per {
			out[i] += v
		}
	}
	return out, nil
}

// SinkTotal returns the frames the sink saw, summed over CPUs.
func (b *Bench) SinkTotal() (uint64, error) {
	total, _, err := b.SinkCounts(0)
	return total, err
}

// ResetSink zeroes the sink's counters.
func (b *Bench) ResetSink(n int) error {
	zero := make([]uint64, ebpfPossibleCPUs())
	for i := 0; i < min(n, BenchMaxFlows); i++ {
		if err := b.objs.FwdSinkCount.Update(uint32(i), zero, ebpf.UpdateAny); err != nil {
			return err
		}
	}
	return b.objs.FwdSinkCount.Update(uint32(BenchMaxFlows), zero, ebpf.UpdateAny)
}

func ebpfPossibleCPUs() int {
	n, err := ebpf.PossibleCPU()
	if err != nil {
		return 1
	}
	return n
}

// GenResult is what one generator run did.
type GenResult struct {
	Sent    uint64
	Elapsed time.Duration
}

// liveFrames is BPF_F_TEST_XDP_LIVE_FRAMES.
const liveFrames = 1 << 1

// Generate injects copies of template as if they arrived on ingress, count
// frames in all (or until d has passed, whichever comes first; d == 0 means
// no time limit), each stamped by the generator program and then sent on
// for real (XDP_TX or redirect). It runs on the calling thread's CPU; call
// it in ingress's namespace from a locked thread. Minimum kernel: 5.18.
func (b *Bench) Generate(template []byte, ingress uint32, cfg GenConfig, count uint64, d time.Duration) (GenResult, error) {
	if cfg.Flows == 0 {
		cfg.Flows = 1
	}
	if cfg.Flows > BenchMaxFlows {
		return GenResult{}, fmt.Errorf("%d flows: at most %d: %w", cfg.Flows, BenchMaxFlows, ErrInvalid)
	}
	c := benchFwdGenCfg{Flows: cfg.Flows, Macs: cfg.MACs, MacStride: cfg.MACStride, MacBase: cfg.MACBase,
		DmacOff: cfg.DstMACOffset, SportOff: cfg.SrcPortOffset, IdOff: cfg.IDOffset, TxIfindex: cfg.TxIfindex}
	if err := b.objs.FwdGenConfig.Update(uint32(0), &c, ebpf.UpdateAny); err != nil {
		return GenResult{}, fmt.Errorf("configure generator: %w", err)
	}
	const chunk = 1 << 20
	var res GenResult
	start := time.Now()
	for res.Sent < count {
		n := uint32(min(count-res.Sent, chunk))
		ctx := xdpMD{DataEnd: uint32(len(template)), IngressIfindex: ingress}
		opts := ebpf.RunOptions{Data: template, Context: &ctx, Repeat: n, Flags: liveFrames}
		if _, err := b.objs.FwdGen.Run(&opts); err != nil {
			return res, fmt.Errorf("live frames on ifindex %d: %w", ingress, err)
		}
		res.Sent += uint64(n)
		if d > 0 && time.Since(start) >= d {
			break
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}
