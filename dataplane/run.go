package dataplane

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// xdpMD is struct xdp_md, the context BPF_PROG_RUN takes for XDP.
type xdpMD struct {
	Data, DataEnd, DataMeta uint32
	IngressIfindex          uint32
	RxQueueIndex            uint32
	EgressIfindex           uint32
}

// Result is what the program did with one frame.
type Result struct {
	Action Action
	// Frame is the frame as the program left it (after encap, decap or tag
	// rewrites); nil for drops.
	Frame []byte
}

// headroom is how much a frame may grow in the program (the IPv6 encap).
const headroom = 256

// Run runs the program once over frame as if it had arrived on ingress
// (BPF_PROG_RUN; nothing is transmitted: a redirect is only reported). The
// ingress ifindex must exist in the caller's network namespace. Minimum
// kernel: 5.15.
func (d *Dataplane) Run(frame []byte, ingress uint32) (Result, error) {
	out := make([]byte, len(frame)+headroom)
	ctx := xdpMD{DataEnd: uint32(len(frame)), IngressIfindex: ingress}
	opts := ebpf.RunOptions{Data: frame, DataOut: out, Context: &ctx}
	ret, err := d.objs.FwdXdp.Run(&opts)
	if err != nil {
		return Result{}, fmt.Errorf("run program on ifindex %d: %w", ingress, err)
	}
	r := Result{Action: Action(ret)}
	if r.Action != ActionDrop && r.Action != ActionAborted {
		r.Frame = opts.DataOut
	}
	return r, nil
}

// RunTrace runs frame like Run and returns the decision the program recorded.
// It turns tracing on for the call's duration if it was off.
func (d *Dataplane) RunTrace(frame []byte, ingress uint32) (_ Result, _ Trace, err error) {
	before, err := d.traceRecords()
	if err != nil {
		return Result{}, Trace{}, err
	}
	cfg, err := d.Config()
	if err != nil {
		return Result{}, Trace{}, err
	}
	if !cfg.Trace {
		on := cfg
		on.Trace = true
		if err := d.SetConfig(on); err != nil {
			return Result{}, Trace{}, err
		}
		defer func() {
			if rerr := d.SetConfig(cfg); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	res, err := d.Run(frame, ingress)
	if err != nil {
		return Result{}, Trace{}, err
	}
	after, err := d.traceRecords()
	if err != nil {
		return Result{}, Trace{}, err
	}
	for cpu := range after {
		if cpu < len(before) && after[cpu].Seq == before[cpu].Seq {
			continue
		}
		t := after[cpu]
		return res, Trace{
			Action:  Action(t.Action),
			Reason:  d.counterName(uint32(t.Reason)),
			BD:      t.Bd,
			Egress:  t.Egress,
			NextHop: t.Nh,
			Group:   t.Nhg,
			ES:      t.EsId,
			Hash:    t.Hash,
			FDBKind: FDBKind(t.FdbKind),
			Backup:  t.Backup != 0,
		}, nil
	}
	return res, Trace{}, fmt.Errorf("trace: no record written: %w", ErrNotFound)
}

func (d *Dataplane) traceRecords() ([]bpfFwdTraceRec, error) {
	var recs []bpfFwdTraceRec
	if err := d.objs.FwdTrace.Lookup(uint32(0), &recs); err != nil {
		return nil, fmt.Errorf("read trace: %w", err)
	}
	return recs, nil
}

func (d *Dataplane) counterName(i uint32) string {
	if int(i) < len(d.counterNames) {
		return d.counterNames[i]
	}
	return fmt.Sprintf("counter(%d)", i)
}
