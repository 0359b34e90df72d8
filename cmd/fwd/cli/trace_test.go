package cli

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/api"
)

var fixTrace = api.TraceResult{
	Action: "redirect", Reason: "tx_encap4", Egress: "uplink0",
	Steps: []api.TraceStep{
		{What: "port", Key: "ifindex 3", Result: "swp1: access, ES " + esi1},
		{What: "vlan", Key: "swp1 vlan 10", Result: "vni 1010"},
		{What: "fdb", Key: "vni 1010 02:00:00:00:00:06", Result: "remote VTEP 192.0.2.2 (nh 268435457)"},
		{What: "nexthop", Key: "268435457", Result: "192.0.2.2 via uplink0, dmac 02:00:00:00:01:01"},
	},
	Frame: "020000000101020000000001080045000064000000004011f7c4c0000201c0000202",
}

func TestTrace(t *testing.T) {
	f := newFakeDaemon(t)
	f.on("POST", "/v1/trace", 0, fixTrace)
	out, _, err := runFwd(t, f.socket, "", "trace", "--in", "swp1", "--vlan", "10", "--src-mac", "02-00-00-00-00-01",
		"--dst-mac", "0200.0000.0006", "--src-ip", "10.0.0.1", "--dst-ip", "::ffff:10.0.0.6")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "trace.golden", out)
	out, _, err = runFwd(t, f.socket, "", "trace", "--in", "uplink0", "--vni", "1010", "--outer-src", "192.0.2.2",
		"--outer-dst", "192.0.2.1", "--dst-mac", "02:00:00:00:00:01", "--json")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "trace.json.golden", out)
	_, _, err = runFwd(t, f.socket, "", "trace", "--in", "swp1", "--frame", "0x02:00:00:00:00:06 02 00 00 00 00 01 08 00")
	if err != nil {
		t.Fatal(err)
	}
	var got []api.TraceRequest
	for _, r := range f.requests() {
		var q api.TraceRequest
		dec := json.NewDecoder(strings.NewReader(string(r.Body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			t.Fatal(err)
		}
		got = append(got, q)
	}
	want := []api.TraceRequest{
		{Interface: "swp1", VLAN: 10, SrcMAC: "02:00:00:00:00:01", DstMAC: "02:00:00:00:00:06", SrcIP: "10.0.0.1", DstIP: "10.0.0.6"},
		{Interface: "uplink0", VNI: 1010, OuterSrc: "192.0.2.2", OuterDst: "192.0.2.1", DstMAC: "02:00:00:00:00:01"},
		{Interface: "swp1", Frame: "0200000000060200000000010800"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sent\n  %+v\nwant\n  %+v", got, want)
	}
}

func TestTraceErrors(t *testing.T) {
	f := newFakeDaemon(t)
	f.on("POST", "/v1/trace", http.StatusBadRequest, api.Error{Error: `unknown interface "swp9" (have: swp1, swp2, uplink0)`})
	for _, tc := range []struct {
		args string
		want string
	}{
		{"--src-mac 02:00:00:00:00:01", `required flag(s) "in" not set`},
		{"--in swp1 --src-mac 02:00", `--src-mac: mac "02:00"`},
		{"--in swp1 --vlan 4095", "--vlan 4095: want 1 to 4094"},
		{"--in swp1 --src-ip 10.0.0.1 --dst-ip 2001:db8::1", "not of one family"},
		{"--in swp1 --dst-ip 10.0.0.300", `--dst-ip "10.0.0.300": not an IPv4 or IPv6 address`},
		{"--in swp1 --vni 10", "VXLAN needs --vni (1 to 16777215), --outer-src and --outer-dst together"},
		{"--in swp1 --vni 10 --outer-src 192.0.2.2 --outer-dst 2001:db8::1", "--outer-src 192.0.2.2 and --outer-dst 2001:db8::1: not of one family"},
		{"--in swp1 --frame 0200 --src-mac 02:00:00:00:00:01", "--frame gives the whole frame; drop --src-mac"},
		{"--in swp1 --frame zz", "--frame: not hex"},
		{"--in swp1 --frame 020000", "--frame: 3 bytes; want 14"},
	} {
		args := append([]string{"trace"}, strings.Fields(tc.args)...)
		_, _, err := runFwd(t, f.socket, "", args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("fwd %s: %v; want an error with %q", strings.Join(args, " "), err, tc.want)
		}
	}
	if reqs := f.requests(); len(reqs) != 0 {
		t.Errorf("bad flags reached the daemon: %+v", reqs)
	}
	_, _, err := runFwd(t, f.socket, "", "trace", "--in", "swp9")
	if err == nil || !strings.Contains(err.Error(), `unknown interface "swp9" (have: swp1, swp2, uplink0)`) {
		t.Errorf("the daemon's refusal: %v", err)
	}
}
