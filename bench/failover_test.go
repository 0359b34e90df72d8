package bench

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseFailoverMACs(t *testing.T) {
	got, err := ParseFailoverMACs("1000, 10k,100000,1M")
	if err != nil || !slices.Equal(got, []int{1000, 10000, 100000, 1000000}) {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"", ",", "0", "-5", "x", "1.5k", "5M"} {
		if _, err := ParseFailoverMACs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFailoverOptionsDefaults(t *testing.T) {
	o, err := (&FailoverOptions{Quick: true}).withDefaults()
	if err != nil || !slices.Equal(o.MACs, FailoverQuickMACs) || o.Reps != 3 || o.HotReps != 10 {
		t.Fatalf("quick defaults %+v, %v", o, err)
	}
	o, err = (&FailoverOptions{MACs: []int{10000, 1000, 10000}}).withDefaults()
	if err != nil || !slices.Equal(o.MACs, []int{1000, 10000}) || o.Reps != 11 {
		t.Fatalf("defaults %+v, %v", o, err)
	}
	for _, bad := range []FailoverOptions{{MACs: []int{0}}, {Reps: -1}, {CPU: 4096}, {Window: 1}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestFailoverNexthopMsg checks the RTM_NEWNEXTHOP message against the
// layout of linux/netlink.h and linux/nexthop.h.
func TestFailoverNexthopMsg(t *testing.T) {
	ne := binary.NativeEndian
	b := failoverNexthopMsg(7, 0x20000001, []uint32{0x10000001, 0x10000003})
	want := 16 + 8 + 8 + (4 + 2*8) + 4
	if len(b) != want || int(ne.Uint32(b)) != want {
		t.Fatalf("length %d (header says %d), want %d", len(b), ne.Uint32(b), want)
	}
	if ne.Uint16(b[4:]) != unix.RTM_NEWNEXTHOP || ne.Uint32(b[8:]) != 7 {
		t.Fatalf("header % x", b[:16])
	}
	if f := ne.Uint16(b[6:]); f&unix.NLM_F_REPLACE == 0 || f&unix.NLM_F_ACK == 0 || f&unix.NLM_F_REQUEST == 0 {
		t.Fatalf("flags %#x", f)
	}
	if b[16] != unix.AF_UNSPEC {
		t.Fatalf("family %d", b[16])
	}
	attrs := map[uint16][]byte{}
	for a := b[24:]; len(a) >= 4; {
		l := int(ne.Uint16(a))
		attrs[ne.Uint16(a[2:])] = a[4:l]
		a = a[(l+3)&^3:]
	}
	if id := attrs[unix.NHA_ID]; len(id) != 4 || ne.Uint32(id) != 0x20000001 {
		t.Fatalf("NHA_ID % x", id)
	}
	grp := attrs[unix.NHA_GROUP]
	if len(grp) != 16 || ne.Uint32(grp) != 0x10000001 || ne.Uint32(grp[8:]) != 0x10000003 || grp[4] != 0 {
		t.Fatalf("NHA_GROUP % x", grp)
	}
	if fdb, ok := attrs[failoverNHAFDB]; !ok || len(fdb) != 0 {
		t.Fatalf("NHA_FDB %v %v", fdb, ok)
	}
}

func TestFailoverAck(t *testing.T) {
	ne := binary.NativeEndian
	msg := func(typ uint16, seq uint32, code int32) []byte {
		b := make([]byte, 36)
		ne.PutUint32(b, 36)
		ne.PutUint16(b[4:], typ)
		ne.PutUint32(b[8:], seq)
		ne.PutUint32(b[16:], uint32(code))
		return b
	}
	buf := append(msg(unix.RTM_NEWNEXTHOP, 3, 0), msg(unix.NLMSG_ERROR, 3, 0)...)
	if errno, ok, err := failoverAck(buf, 3); err != nil || !ok || errno != 0 {
		t.Fatalf("ack: %v %v %v", errno, ok, err)
	}
	if errno, ok, _ := failoverAck(msg(unix.NLMSG_ERROR, 4, -int32(unix.ENOENT)), 4); !ok || !errors.Is(errno, unix.ENOENT) {
		t.Fatalf("error: %v %v", errno, ok)
	}
	if _, ok, _ := failoverAck(msg(unix.NLMSG_ERROR, 5, 0), 6); ok {
		t.Fatal("another sequence number taken as the ack")
	}
	if _, _, err := failoverAck([]byte{200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1); err == nil {
		t.Fatal("malformed message accepted")
	}
}

func failoverSampleReport() *FailoverReport {
	k := func(v float64) *float64 { return &v }
	r := &FailoverReport{Reps: 7, HotReps: 25, WindowMS: 100, Machine: Machine{Kernel: "6.18", CPUs: 2}}
	for _, n := range []int{1000, 1000000} {
		r.Results = append(r.Results,
			FailoverResult{Event: FailoverEADWithdraw, Tier: 2, MACs: n, Writes: 1, GroupWrites: 1, SwitchUS: 20, SwitchUSHot: 10,
				KernelReplaceUS: k(25), KernelReplaceUSHot: k(10), KernelOverSwitch: k(1.25), KernelOverSwitchHot: k(1),
				NaiveUS: float64(n) / 10, NaiveOverSwitch: float64(n) / 200, KernelFDBUS: float64(n) * 10},
			FailoverResult{Event: FailoverUnderlayLost, Tier: 1, MACs: n, DownBitFlips: 1, SwitchUS: 5, SwitchUSHot: 1,
				KernelReplaceUS: k(25), KernelOverSwitch: k(5), NaiveUS: float64(n) / 10, NaiveOverSwitch: float64(n) / 50},
			FailoverResult{Event: FailoverLocalPortDown, Tier: 1, MACs: n, Writes: 2, GroupWrites: 1, ESWrites: 1, DownBitFlips: 1,
				SwitchUS: 50, SwitchUSHot: 12, FramesAfter: 3, NaiveUS: float64(n) / 10, NaiveOverSwitch: float64(n) / 500})
	}
	r.Targets = r.CheckTargets()
	return r
}

func TestFailoverTargets(t *testing.T) {
	r := failoverSampleReport()
	met := map[string]bool{}
	for _, x := range r.Targets {
		met[x.Name] = x.Met
	}
	for name, want := range map[string]bool{
		"ead-withdraw: one write whatever N":                                          true,
		"ead-withdraw: switch time at N=1M within 1.5x of N=1k":                       true,
		"underlay-lost (tier 1): no control-plane map write at all":                   true,
		"local-port-down (tier 1): no control-plane map write at all":                 false,
		"local-port-down (tier 1): no frame to the dead member after the flip":        false,
		"local-port-down (tier 1): no map write before the bit flips":                 true,
		"ead-withdraw at N=1M: >= 100x faster than the naive rewrite":                 true,
		"ead-withdraw at N=1M: no slower than the kernel's ip nexthop replace (cold)": true,
		"ead-withdraw at N=1M: no slower than the kernel's ip nexthop replace (hot)":  true,
	} {
		got, ok := met[name]
		if !ok {
			t.Errorf("target %q not checked (have %v)", name, met)
			continue
		}
		if got != want {
			t.Errorf("target %q: met %v, want %v", name, got, want)
		}
	}
}

func TestFailoverReportWriters(t *testing.T) {
	r := failoverSampleReport()
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var obj struct {
		Results []map[string]any `json:"results"`
	}
	dec := json.NewDecoder(&js)
	if err := dec.Decode(&obj); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Fatal("more than one JSON value")
	}
	if len(obj.Results) != 6 {
		t.Fatalf("%d results", len(obj.Results))
	}
	for _, res := range obj.Results {
		for _, k := range []string{"event", "macs", "writes", "switch_us", "frames_after", "kernel_replace_us", "naive_us"} {
			if _, ok := res[k]; !ok {
				t.Errorf("result lacks %q: %v", k, res)
			}
		}
		if res["event"] == "local-port-down" && res["kernel_replace_us"] != nil {
			t.Errorf("local-port-down has a kernel replace: %v", res["kernel_replace_us"])
		}
	}

	var tab bytes.Buffer
	if err := r.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ead-withdraw", "1 group + 1 es", "MISSED", "MET", "n/a"} {
		if !strings.Contains(tab.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tab.String())
		}
	}

	var svg bytes.Buffer
	if err := r.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(&svg)
	lines := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			lines++
		}
	}
	if lines != 6 {
		t.Errorf("%d polylines, want 6 (3 events, kernel, 2 naive)", lines)
	}
	// An empty report still draws.
	if err := (&FailoverReport{}).WriteSVG(io.Discard); err != nil {
		t.Fatal(err)
	}
}
