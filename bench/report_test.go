package bench

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// fakeReport is a report as a full run makes it, with made-up numbers.
func fakeReport() *Report {
	o, _ := (&Options{}).withDefaults()
	r := newReport(o)
	for i, s := range Scenarios(false) {
		res := newResult(s)
		f := float64(i%5 + 1)
		mk := func(mpps float64, lost uint64) *Measurement {
			sent := uint64(mpps * 2e6)
			per := []uint64{sent - lost}
			return newMeasurement(sent, sent-lost, per, 2*time.Second, []float64{mpps * 0.9, mpps, mpps * 1.1, mpps, mpps})
		}
		res.set(Fwd, mk(6*f/5, 0))
		res.set(Floor, mk(12, 0))
		if i == 3 {
			res.setErr(Kernel, errors.New("set up: something broke"))
		} else {
			res.set(Kernel, mk(0.8, 1000))
		}
		r.Results = append(r.Results, res)
	}
	r.BelowCapacity = []PacedResult{{Scenario: "encap4", Name: Headline.Name(), System: Fwd, CapacityMpps: 7,
		Fraction: 0.5, OfferedMpps: 3.5, DeliveredMpps: 3.5, Sent: 7000000, Delivered: 7000000, Burst: 140000}}
	r.FDBLoads = []FDBLoad{newFDBLoad(Kernel, groupScenarios(Scenarios(false))[0], 40*time.Second)}
	r.finish(time.Now().Add(-time.Minute))
	return r
}

// TestWriteJSON: exactly one object, with a results array whose entries
// carry the fields issue 3 names, with their types.
func TestWriteJSON(t *testing.T) {
	rep := fakeReport()
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&buf)
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("more than one JSON value: %v", err)
	}
	results, ok := v["results"].([]any)
	if !ok || len(results) != len(rep.Results) {
		t.Fatalf("results: %T, %d entries, want %d", v["results"], len(results), len(rep.Results))
	}
	for i, r := range results {
		m := r.(map[string]any)
		if _, ok := m["scenario"].(string); !ok {
			t.Errorf("result %d: scenario %v", i, m["scenario"])
		}
		for _, k := range []string{"frame_bytes", "fdb_entries", "flows", "fwd_mpps", "fwd_loss", "floor_mpps", "kernel_mpps",
			"fwd_vs_kernel", "fwd_vs_floor"} {
			if _, ok := m[k].(float64); !ok {
				t.Errorf("result %d: %s = %v (%T), want a number", i, k, m[k], m[k])
			}
		}
	}
	first := results[0].(map[string]any)
	if first["scenario"] != "encap4" || first["fdb_entries"] != 1e6 || first["frame_bytes"] != 64.0 || first["flows"] != 1.0 {
		t.Errorf("first result: %v", first)
	}
	if v["targets"] == nil || v["machine"] == nil || v["below_capacity"] == nil {
		t.Errorf("report lacks targets, machine or below_capacity: %v", v)
	}
}

// TestWriteSVG: well-formed XML, one bar per measured system and scenario.
func TestWriteSVG(t *testing.T) {
	rep := fakeReport()
	var buf bytes.Buffer
	if err := rep.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	bars, root := 0, ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, buf.String())
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "rect" {
				for _, a := range se.Attr {
					if a.Name.Local == "fill" && a.Value != "white" {
						bars++
					}
				}
			}
		}
	}
	if root != "svg" {
		t.Errorf("root element %q", root)
	}
	want := 3*len(rep.Results) - 1 + 3 // one kernel error; three legend boxes
	if bars != want {
		t.Errorf("%d coloured rects, want %d", bars, want)
	}
	if !strings.Contains(buf.String(), "encap4 64B fdb=1M flows=64k") {
		t.Errorf("no scenario label")
	}
}

func TestWriteTable(t *testing.T) {
	rep := fakeReport()
	var buf bytes.Buffer
	if err := rep.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"FWD Mpps", "FWD/KERNEL", "decap4", "No loss below capacity", "FDB loading",
		"Targets (issue 3)", "MISSED", "something broke", "in 5 rounds"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n    encap4 "); n != 8 {
		t.Errorf("%d encap4 rows, want 8:\n%s", n, out)
	}
}

func TestTargets(t *testing.T) {
	rep := &Report{}
	mk := func(s Scenario, fwd, floor, kernel float64) {
		r := newResult(s)
		r.set(Fwd, &Measurement{Mpps: fwd})
		r.set(Floor, &Measurement{Mpps: floor})
		r.set(Kernel, &Measurement{Mpps: kernel})
		rep.Results = append(rep.Results, r)
	}
	many := Headline
	many.Flows = ManyFlows
	mk(Headline, 10, 14, 1)            // 10x, 71%: met
	mk(many, 5, 14, 1)                 // 5x (< 6x), 36%: one missed
	mk(Scenarios(true)[0], 4, 14, 1.0) // 4x: below 5x
	got := map[string]bool{}
	for _, tg := range rep.CheckTargets() {
		got[tg.Name] = tg.Met
	}
	want := map[string]bool{
		"encap4/fdb=1M/flows=1/64B (1 flow): fwd vs kernel":                 true,
		"encap4/fdb=1M/flows=1/64B (1 flow): fwd vs floor":                  true,
		"encap4/fdb=1M/flows=64k/64B (64k flows): fwd vs kernel":            false,
		"encap4/fdb=1M/flows=64k/64B (64k flows): fwd vs floor":             true,
		"every scenario: fwd vs kernel (lowest: encap4/fdb=1k/flows=1/64B)": false,
	}
	for k, v := range want {
		if m, ok := got[k]; !ok || m != v {
			t.Errorf("target %q: met %v (present %v), want %v; have %v", k, m, ok, v, got)
		}
	}
}

func TestScenarios(t *testing.T) {
	for _, quick := range []bool{false, true} {
		seen := map[string]bool{}
		for _, s := range Scenarios(quick) {
			if err := s.validate(); err != nil {
				t.Error(err)
			}
			if seen[s.Name()] {
				t.Errorf("%s twice", s.Name())
			}
			seen[s.Name()] = true
		}
	}
	full := Scenarios(false)
	for _, k := range []Kind{Encap4, Encap6, ES4, Decap4, Local} {
		if len(Filter(full, regexp.MustCompile("^"+string(k)+"/"))) == 0 {
			t.Errorf("no %s scenario", k)
		}
	}
	for _, want := range []string{"encap4/fdb=1M/flows=1/64B", "encap4/fdb=1M/flows=64k/64B", "encap4/fdb=1k/flows=64k/1518B"} {
		if len(Filter(full, regexp.MustCompile("^"+regexp.QuoteMeta(want)+"$"))) != 1 {
			t.Errorf("no scenario %s", want)
		}
	}
	if full[0] != Headline {
		t.Errorf("first scenario %s, want the headline %s", full[0], Headline)
	}
	for n, want := range map[int]string{1: "1", 1000: "1k", 65536: "64k", 1000000: "1M", 1 << 20: "1Mi", 4096: "4k"} {
		if got := Scale(n); got != want {
			t.Errorf("Scale(%d) = %q, want %q", n, got, want)
		}
	}
	// A group switches from single VTEPs to the ES group once.
	for _, g := range groupScenarios(full) {
		switches := 0
		for i := 1; i < len(g.scenarios); i++ {
			if g.scenarios[i].Kind.members() != g.scenarios[i-1].Kind.members() {
				switches++
			}
		}
		if switches > 1 {
			t.Errorf("group %+v switches groups %d times", g.key, switches)
		}
	}
}

// TestFrames: every scenario's template has room for what the generator
// stamps, its flows stay inside the installed FDB, and the sink finds the
// flow id in what each system delivers.
func TestFrames(t *testing.T) {
	for _, s := range append(Scenarios(false), Scenarios(true)...) {
		tmpl, err := s.template()
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		cfg := s.genConfig()
		if int(cfg.IDOffset)+4 > len(tmpl) || int(cfg.DstMACOffset)+6 > len(tmpl) || int(cfg.SrcPortOffset)+2 > len(tmpl) {
			t.Errorf("%s: offsets %+v beyond %d bytes", s, cfg, len(tmpl))
		}
		if cfg.IDOffset > 0x1ff || cfg.SrcPortOffset > 0x1ff || cfg.DstMACOffset > 0xff {
			t.Errorf("%s: offsets %+v beyond what the generator reaches", s, cfg)
		}
		if s.Flows > 1 && int(cfg.MACs-1)*int(cfg.MACStride) >= s.FDB {
			t.Errorf("%s: %d MACs with stride %d leave the FDB of %d", s, cfg.MACs, cfg.MACStride, s.FDB)
		}
		inner := len(tmpl)
		if s.Kind.path() == pathDecap {
			inner -= encap4Len
			if tmpl[outerUDPCsum] != 0 || tmpl[outerUDPCsum+1] != 0 {
				t.Errorf("%s: outer UDP checksum not 0", s)
			}
		}
		if inner != s.FrameBytes-4 {
			t.Errorf("%s: host frame of %d bytes, want %d", s, inner, s.FrameBytes-4)
		}
		for _, sys := range Systems {
			out := inner
			switch {
			case s.Kind.path() == pathEncap && sys != Floor && s.Kind.ipv6():
				out += encap6Len
			case s.Kind.path() == pathEncap && sys != Floor:
				out += encap4Len
			case s.Kind.path() == pathDecap && sys == Floor:
				out += encap4Len
			}
			if off := int(sinkIDOffset(s.rigKey(), sys)); off+4 > out || off > 0x1ff {
				t.Errorf("%s on %s: sink reads the id at %d of %d bytes", s, sys, off, out)
			}
		}
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{
		{Duration: -time.Second},
		{Systems: []System{"vpp"}},
		{BelowCapacity: 1.5},
		{CPU: 4096},
		{Rounds: 3, Frames: 2},
	} {
		if _, err := o.withDefaults(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if _, err := Run(t.Context(), nil, nil); err == nil {
		t.Error("no scenarios: no error")
	}
	bad := Headline
	bad.Flows = 1 << 20
	if _, err := Run(t.Context(), []Scenario{bad}, nil); err == nil || !strings.Contains(err.Error(), "flows") {
		t.Errorf("too many flows: %v", err)
	}
}

// TestPcap: the frames the harness writes decode as what each scenario
// sends, with the flows stamped as the generator stamps them.
func TestPcap(t *testing.T) {
	s := Scenario{Kind: Decap4, FDB: FDBSmall, Flows: ManyFlows, FrameBytes: 64}
	fr, err := s.Frames(3)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fr {
		p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
		vx, ok := p.Layer(layers.LayerTypeVXLAN).(*layers.VXLAN)
		if !ok || vx.VNI != VNI {
			t.Fatalf("frame %d: no VXLAN %d: %v", i, VNI, p)
		}
		inner := gopacket.NewPacket(vx.Payload, layers.LayerTypeEthernet, gopacket.Default)
		eth := inner.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if want := macAt(localBase, i); !bytes.Equal(eth.DstMAC, want[:]) {
			t.Errorf("frame %d: inner destination %s, want %x", i, eth.DstMAC, want)
		}
		udp := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if udp.SrcPort != layers.UDPPort(1024+i) || udp.Checksum != 0 {
			t.Errorf("frame %d: outer UDP %d, checksum %#x", i, udp.SrcPort, udp.Checksum)
		}
		if id := f[encap4Len+innerID+3]; int(id) != i {
			t.Errorf("frame %d: flow id %d", i, id)
		}
	}
	var buf bytes.Buffer
	if err := WritePcap(&buf, Scenarios(true), 4); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, _, err := r.ReadPacketData(); err != nil {
			break
		}
		n++
	}
	if want := 1 + 4*(len(Scenarios(true))-1); n != want {
		t.Errorf("%d frames in the pcap, want %d", n, want)
	}
}

// TestRoundRatio: a slow stretch that hits both systems' rounds cancels
// out of the ratio, where the ratio of the medians would not.
func TestRoundRatio(t *testing.T) {
	a := &Measurement{Mpps: 10, RoundsMpps: []float64{10, 10, 10, 5, 5}}
	b := &Measurement{Mpps: 0.5, RoundsMpps: []float64{1, 1, 0.5, 0.5, 0.5}}
	if got := roundRatio(a, b); got != 10 {
		t.Errorf("roundRatio = %g, want 10 (the ratio of the medians is 20)", got)
	}
	if got := roundRatio(a, &Measurement{Mpps: 2, RoundsMpps: []float64{2}}); got != 5 {
		t.Errorf("unpaired rounds: %g, want the ratio of the medians, 5", got)
	}
	if got := roundRatio(a, nil); got != 0 {
		t.Errorf("no reference: %g, want 0", got)
	}
}
