package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// DemoSpec is the demo's topology: VTEP 1 is fwd, VTEP 2 the Linux kernel
// path (vxlan + bridge, as FRR programs it). h1 and h2 hang off fwd (h2 on
// VLAN 10), hE off fwd's local Ethernet Segment 1 (backed up by VTEP 2), h3
// off the kernel VTEP.
func DemoSpec(underlay Family) Spec {
	return Spec{
		Underlay: underlay,
		VNI:      defaultVNI,
		VTEPs: []VTEPSpec{
			{Name: "vtep1", Kind: Fwd, FDBMax: 1024},
			{Name: "vtep2", Kind: Kernel},
		},
		Hosts: []HostSpec{
			{Name: "h1", VTEP: "vtep1"},
			{Name: "h2", VTEP: "vtep1", VLAN: 10},
			{Name: "h3", VTEP: "vtep2"},
			{Name: "hE", VTEP: "vtep1", ES: 1, ESBackup: []string{"vtep2"}},
		},
	}
}

// DemoPairs are the demo's echo runs, from -> to.
var DemoPairs = [][2]string{{"h1", "h3"}, {"h3", "h1"}, {"h1", "h2"}, {"h3", "hE"}}

// DemoOptions shape Demo.
type DemoOptions struct {
	// Underlay is the underlay family; zero means IPv4.
	Underlay Family
	// Count is the echo requests per pair; 0 means 5.
	Count int
	// Keep leaves the topology in place, fwd pinned and forwarding, for
	// inspection; RemoveStale removes it.
	Keep bool
	// Logger receives a debug line per command; nil discards.
	Logger *slog.Logger
}

// DemoReport is what the demo built and saw.
type DemoReport struct {
	Prefix   string        `json:"prefix"`
	Underlay string        `json:"underlay"`
	VNI      uint32        `json:"vni"`
	VTEPs    []DemoVTEP    `json:"vteps"`
	Hosts    []DemoHost    `json:"hosts"`
	Pings    []DemoPing    `json:"pings"`
	Counters []DemoCounter `json:"counters"`
	// Kept is true when the topology was left in place; Namespaces then
	// lists it.
	Kept       bool     `json:"kept"`
	Namespaces []string `json:"namespaces,omitempty"`
	BuildTime  string   `json:"build_time"`
	Elapsed    string   `json:"elapsed"`
}

// OK reports whether every echo request was answered.
func (r *DemoReport) OK() bool {
	for _, p := range r.Pings {
		if p.Received != p.Sent || p.Sent == 0 {
			return false
		}
	}
	return len(r.Pings) > 0
}

// DemoVTEP is a VTEP of the demo.
type DemoVTEP struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Addr      string `json:"addr"`
	MAC       string `json:"mac"`
	Namespace string `json:"namespace"`
	// Attach is how fwd's program runs on the VTEP's ports.
	Attach string `json:"attach,omitempty"`
}

// DemoHost is a host of the demo.
type DemoHost struct {
	Name string `json:"name"`
	IP   string `json:"ip"`
	MAC  string `json:"mac"`
	VTEP string `json:"vtep"`
	Port string `json:"port"`
	VLAN uint16 `json:"vlan,omitempty"`
	ES   uint32 `json:"es,omitempty"`
	ESI  string `json:"esi,omitempty"`
	// ESBackup names the VTEPs that back the ES up.
	ESBackup  []string `json:"es_backup,omitempty"`
	Namespace string   `json:"namespace"`
}

// DemoPing is one echo run.
type DemoPing struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Path     string `json:"path"`
	Sent     int    `json:"sent"`
	Received int    `json:"received"`
	AvgRTTus int64  `json:"avg_rtt_us"`
}

// DemoCounter is one non-zero fwd counter.
type DemoCounter struct {
	VTEP  string `json:"vtep"`
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

// Demo builds DemoSpec, runs DemoPairs over it, reads fwd's counters and
// removes the topology (unless o.Keep). The report is filled as far as the
// demo got, also on error.
func Demo(ctx context.Context, o DemoOptions) (rep *DemoReport, err error) {
	start := time.Now()
	spec := DemoSpec(o.Underlay)
	spec.defaults()
	rep = &DemoReport{Underlay: spec.Underlay.String(), VNI: spec.VNI}
	t, err := Build(ctx, spec, &Options{Logger: o.Logger, Pin: o.Keep})
	if err != nil {
		return rep, err
	}
	rep.Prefix = t.Prefix()
	rep.BuildTime = time.Since(start).Round(time.Millisecond).String()
	defer func() {
		if o.Keep && err == nil {
			rep.Kept = true
			for _, n := range t.Namespaces() {
				rep.Namespaces = append(rep.Namespaces, n.Full)
			}
			err = t.Release()
		} else {
			err = errors.Join(err, t.Close())
		}
		rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	}()
	rep.fill(t)

	for _, p := range DemoPairs {
		r, err := t.Ping(ctx, p[0], p[1], PingOptions{Count: o.Count})
		if err != nil {
			return rep, err
		}
		rep.Pings = append(rep.Pings, DemoPing{From: p[0], To: p[1], Path: t.PathDescription(p[0], p[1]),
			Sent: r.Sent, Received: r.Received, AvgRTTus: r.AvgRTT.Microseconds()})
	}
	for _, v := range t.VTEPs() {
		f := t.Fwd(v.Name)
		if f == nil {
			continue
		}
		c, err := f.Counters()
		if err != nil {
			return rep, err
		}
		for _, name := range f.dp.CounterNames() {
			if c[name] != 0 {
				rep.Counters = append(rep.Counters, DemoCounter{VTEP: v.Name, Name: name, Value: c[name]})
			}
		}
	}
	return rep, nil
}

func (rep *DemoReport) fill(t *Topology) {
	for _, v := range t.VTEPs() {
		dv := DemoVTEP{Name: v.Name, Kind: v.Kind.String(), Addr: v.Addr.String(), MAC: v.MAC.String(), Namespace: v.NS.Full}
		if f := t.Fwd(v.Name); f != nil {
			if ports := f.Ports(); len(ports) > 0 {
				dv.Attach = string(f.AttachMode(ports[0]))
			}
		}
		rep.VTEPs = append(rep.VTEPs, dv)
	}
	for _, h := range t.Hosts() {
		dh := DemoHost{Name: h.Name, IP: h.Prefix.String(), MAC: h.MAC.String(), VTEP: h.VTEP, Port: h.Port,
			VLAN: h.VLAN, ES: h.ES, Namespace: h.NS.Full}
		for _, hs := range t.spec.Hosts {
			if hs.Name == h.Name {
				dh.ESBackup = hs.ESBackup
			}
		}
		if h.ES != 0 {
			esi := ESI(h.ES)
			dh.ESI = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x",
				esi[0], esi[1], esi[2], esi[3], esi[4], esi[5], esi[6], esi[7], esi[8], esi[9])
		}
		rep.Hosts = append(rep.Hosts, dh)
	}
}

// PathDescription says in a few words how frames between hosts from and to
// travel, requests first.
func (t *Topology) PathDescription(from, to string) string {
	a, b := t.hosts[from], t.hosts[to]
	if a == nil || b == nil {
		return ""
	}
	kind := func(h *Host) VTEPKind {
		if t.fwd[h.VTEP] != nil {
			return Fwd
		}
		return Kernel
	}
	into := func(h *Host) string {
		switch {
		case h.ES != 0:
			return fmt.Sprintf(" into ES %d", h.ES)
		case h.VLAN != 0:
			return fmt.Sprintf(", tags VLAN %d", h.VLAN)
		}
		return ""
	}
	ka, kb := kind(a), kind(b)
	switch {
	case a.VTEP == b.VTEP && ka == Fwd:
		return "fwd switches locally" + into(b)
	case a.VTEP == b.VTEP:
		return "kernel bridge"
	case ka == Fwd && kb == Kernel:
		return "fwd encap -> kernel decap"
	case ka == Kernel && kb == Fwd:
		return "kernel encap -> fwd decap" + into(b)
	}
	return "fwd encap -> fwd decap" + into(b)
}
