package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/api"
)

// routeDaemon answers route batches as the daemon would, from what they
// carry: every route added (or withdrawn), except routes to nexthop
// 192.0.2.99, which it rejects; 2 us per route.
func routeDaemon(t *testing.T) *fakeDaemon {
	f := newFakeDaemon(t)
	h := func(withdraw bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var b api.RouteBatch
			dec := json.NewDecoder(r.Body)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&b); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(api.Error{Error: err.Error()})
				return
			}
			var res api.RouteResult
			n := len(b.Routes)
			if b.Generate != nil {
				n += b.Generate.Count
			}
			ok := n
			for i, rt := range b.Routes {
				if rt.NextHop == "192.0.2.99" {
					res.Rejected++
					res.Errors = append(res.Errors, fmt.Sprintf("route %d: nexthop 192.0.2.99 is this node's own VTEP", i+1))
					ok--
				}
			}
			if withdraw {
				res.Withdrawn = ok
			} else {
				res.Added = ok
			}
			res.ElapsedUS = 2 * float64(n)
			res.RoutesPerSecond = float64(n) / (res.ElapsedUS / 1e6)
			_ = json.NewEncoder(w).Encode(res)
		}
	}
	f.onFunc("POST", "/v1/routes", h(false))
	f.onFunc("POST", "/v1/routes/withdraw", h(true))
	return f
}

// sentBatches decodes, strictly, the route batches the fake received.
func sentBatches(t *testing.T, f *fakeDaemon) (paths []string, batches []api.RouteBatch) {
	t.Helper()
	for _, r := range f.requests() {
		if r.Method != "POST" {
			t.Errorf("%s %s: want POST", r.Method, r.Path)
		}
		var b api.RouteBatch
		dec := json.NewDecoder(strings.NewReader(string(r.Body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			t.Fatalf("body of %s: %v\n%s", r.Path, err, r.Body)
		}
		paths = append(paths, r.Path)
		batches = append(batches, b)
	}
	return paths, batches
}

const esiS = "03:44:38:39:ff:ff:01:00:00:01"

func TestRouteFromFlags(t *testing.T) {
	f := routeDaemon(t)
	for _, tc := range []struct {
		args []string
		want api.Route
	}{
		{[]string{"--mac", "02-00-00-00-00-0A", "--vni", "1000", "--nexthop", "192.0.2.2"},
			api.Route{Type: 2, MAC: "02:00:00:00:00:0a", VNI: 1000, NextHop: "192.0.2.2"}},
		{[]string{"--type", "2", "--mac", "0200.0000.000b", "--ip", "2001:DB8::b", "--vni", "1000", "--nexthop", "::ffff:192.0.2.2",
			"--esi", "3:44:38:39:FF:FF:1:0:0:1", "--seq", "4", "--sticky", "--router", "--rd", "192.0.2.2:7", "--ethernet-tag", "10"},
			api.Route{Type: 2, MAC: "02:00:00:00:00:0b", IP: "2001:db8::b", VNI: 1000, NextHop: "192.0.2.2", ESI: esiS,
				Seq: 4, Sticky: true, Router: true, RD: "192.0.2.2:7", EthernetTag: 10}},
		{[]string{"--type", "1", "--per-es", "--esi", esiS, "--nexthop", "192.0.2.2"},
			api.Route{Type: 1, ESI: esiS, EthernetTag: 0xFFFFFFFF, NextHop: "192.0.2.2"}},
		{[]string{"--type", "1", "--esi", esiS, "--vni", "1000", "--nexthop", "192.0.2.2"},
			api.Route{Type: 1, ESI: esiS, VNI: 1000, NextHop: "192.0.2.2"}},
		{[]string{"--type", "3", "--vni", "1000", "--nexthop", "2001:db8::2"},
			api.Route{Type: 3, VNI: 1000, NextHop: "2001:db8::2"}},
		{[]string{"--type", "3", "--ethernet-tag", "1000", "--nexthop", "192.0.2.2"},
			api.Route{Type: 3, VNI: 1000, EthernetTag: 1000, NextHop: "192.0.2.2"}},
		{[]string{"--type", "4", "--esi", esiS, "--nexthop", "192.0.2.2", "--rd", "65000:1"},
			api.Route{Type: 4, ESI: esiS, NextHop: "192.0.2.2", RD: "65000:1"}},
		{[]string{"--type", "5", "--ip-prefix", "10.9.0.0/16", "--ip", "10.0.0.1", "--vni", "5000", "--nexthop", "192.0.2.2"},
			api.Route{Type: 5, IPPrefix: "10.9.0.0/16", IP: "10.0.0.1", VNI: 5000, NextHop: "192.0.2.2"}},
	} {
		for _, verb := range []string{"add", "del"} {
			args := append([]string{"route", verb}, tc.args...)
			out, _, err := runFwd(t, f.socket, "", args...)
			if err != nil {
				t.Errorf("fwd %s: %v", strings.Join(args, " "), err)
				continue
			}
			paths, batches := sentBatches(t, f)
			wantPath := map[string]string{"add": "/v1/routes", "del": "/v1/routes/withdraw"}[verb]
			want := []api.RouteBatch{{Routes: []api.Route{tc.want}}}
			if !reflect.DeepEqual(paths, []string{wantPath}) || !reflect.DeepEqual(batches, want) {
				t.Errorf("fwd %s sent %v %+v, want %s %+v", strings.Join(args, " "), paths, batches, wantPath, want)
			}
			field := map[string]string{"add": "Added:", "del": "Withdrawn:"}[verb]
			if !strings.Contains(out, field+"              1") && !strings.Contains(out, field+"          1") {
				t.Errorf("fwd %s printed:\n%s", strings.Join(args, " "), out)
			}
		}
	}
}

func TestRouteResultGolden(t *testing.T) {
	f := routeDaemon(t)
	out, _, err := runFwd(t, f.socket, "", "route", "add", "--mac", "02:00:00:00:00:01", "--vni", "1000", "--nexthop", "192.0.2.2")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "route_add.golden", out)
	out, _, err = runFwd(t, f.socket, "", "route", "add", "--mac", "02:00:00:00:00:01", "--vni", "1000", "--nexthop", "192.0.2.2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "route_add.json.golden", out)
}

func TestRouteFromFile(t *testing.T) {
	f := routeDaemon(t)
	dir := t.TempDir()
	want := []api.Route{
		{Type: 2, MAC: "02:00:00:00:00:01", VNI: 1000, NextHop: "192.0.2.2"},
		{Type: 2, MAC: "02:00:00:00:00:02", VNI: 1000, NextHop: "192.0.2.3", ESI: esiS},
		{Type: 3, VNI: 1000, NextHop: "192.0.2.2"},
	}
	array := filepath.Join(dir, "routes.json")
	if err := os.WriteFile(array, []byte(`[
  {"type": 2, "mac": "02:00:00:00:00:01", "vni": 1000, "nexthop": "192.0.2.2"},
  {"type": 2, "mac": "02-00-00-00-00-02", "vni": 1000, "nexthop": "192.0.2.3", "esi": "03:44:38:39:FF:FF:01:00:00:01"},
  {"type": 3, "vni": 1000, "nexthop": "192.0.2.2"}
]`), 0o644); err != nil {
		t.Fatal(err)
	}
	ndjson := `{"type": 2, "mac": "02:00:00:00:00:01", "vni": 1000, "nexthop": "192.0.2.2"}

{"type": 2, "mac": "02:00:00:00:00:02", "vni": 1000, "nexthop": "192.0.2.3", "esi": "03443839ffff01000001"}
{"type": 3, "vni": 1000, "nexthop": "192.0.2.2"}
`
	// One request with every route, from a file and from stdin.
	for _, args := range [][]string{{"--file", array}, {"--file", "-"}} {
		if _, _, err := runFwd(t, f.socket, ndjson, append([]string{"route", "add"}, args...)...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		paths, batches := sentBatches(t, f)
		if !reflect.DeepEqual(paths, []string{"/v1/routes"}) || !reflect.DeepEqual(batches, []api.RouteBatch{{Routes: want}}) {
			t.Errorf("%v: sent %v %+v, want one batch %+v", args, paths, batches, want)
		}
	}
	// --batch 2 splits into requests of at most 2 routes, in order, and
	// sums the answers.
	out, _, err := runFwd(t, f.socket, ndjson, "route", "del", "--file", "-", "--batch", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	paths, batches := sentBatches(t, f)
	wantBatches := []api.RouteBatch{{Routes: want[:2]}, {Routes: want[2:]}}
	if !reflect.DeepEqual(paths, []string{"/v1/routes/withdraw", "/v1/routes/withdraw"}) || !reflect.DeepEqual(batches, wantBatches) {
		t.Errorf("--batch 2: sent %v %+v, want %+v", paths, batches, wantBatches)
	}
	var res api.RouteResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Withdrawn != 3 || res.ElapsedUS != 6 || res.RoutesPerSecond != 500000 {
		t.Errorf("summed result %+v: want 3 withdrawn in 6us, 500000 routes/s", res)
	}
}

// TestRouteFileFromShow: what fwd show evpn routes --json prints reads
// back as routes (its output-only fields dropped).
func TestRouteFileFromShow(t *testing.T) {
	f := routeDaemon(t)
	if _, _, err := runFwd(t, f.socket, "", "route", "del", "--file", "testdata/show_evpn_routes.json.golden"); err != nil {
		t.Fatal(err)
	}
	_, batches := sentBatches(t, f)
	if len(batches) != 1 || len(batches[0].Routes) != len(fixRoutes) {
		t.Fatalf("sent %+v, want one batch of %d routes", batches, len(fixRoutes))
	}
	for _, r := range batches[0].Routes {
		if r.Prefix != "" || r.Source != "" {
			t.Errorf("output-only fields sent: %+v", r)
		}
	}
}

func TestRouteGenerator(t *testing.T) {
	f := routeDaemon(t)
	out, _, err := runFwd(t, f.socket, "", "route", "add", "--count", "1000000", "--start-mac", "02:00:00:00:00:01",
		"--vni", "1000", "--nexthop", "192.0.2.2", "--esi", esiS, "--rd", "192.0.2.2:1")
	if err != nil {
		t.Fatal(err)
	}
	paths, batches := sentBatches(t, f)
	want := api.RouteBatch{Generate: &api.Generator{Count: 1000000, StartMAC: "02:00:00:00:00:01", VNI: 1000,
		NextHop: "192.0.2.2", ESI: esiS, RD: "192.0.2.2:1"}}
	if !reflect.DeepEqual(paths, []string{"/v1/routes"}) || len(batches) != 1 || !reflect.DeepEqual(batches[0], want) {
		t.Errorf("sent %v %+v, want %+v", paths, batches, want)
	}
	for _, line := range []string{"Added:              1000000", "Elapsed:            2s in the daemon", "Rate:               500000 routes/s"} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
}

func TestRouteRejected(t *testing.T) {
	f := routeDaemon(t)
	in := `{"type": 2, "mac": "02:00:00:00:00:01", "vni": 1000, "nexthop": "192.0.2.2"}
{"type": 2, "mac": "02:00:00:00:00:02", "vni": 1000, "nexthop": "192.0.2.99"}`
	out, _, err := runFwd(t, f.socket, in, "route", "add", "--file", "-")
	if err == nil || !strings.Contains(err.Error(), "rejected 1 of 2 routes") {
		t.Errorf("error %v: want the rejection counted", err)
	}
	for _, want := range []string{"Added:              1", "Rejected:           1", "Errors:\n  route 2: nexthop 192.0.2.99 is this node's own VTEP"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRouteErrors(t *testing.T) {
	f := routeDaemon(t)
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := "--mac 02:00:00:00:00:01 --vni 1000 --nexthop 192.0.2.2"
	many := ""
	for i := range 12 {
		many += fmt.Sprintf(`{"type": 2, "mac": "02:00:00:00:00:%02x", "vni": 1000}`+"\n", i+1)
	}
	for _, tc := range []struct {
		args string
		want string
	}{
		{"", "no route given"},
		{"--mac 02:00:00:00:00:01 --vni 1000", "--nexthop: the VTEP that advertises the route is required"},
		{"--mac 02:00:00:00:00:01 --nexthop 192.0.2.2", "a type-2 (MAC/IP) route needs --vni"},
		{"--vni 1000 --nexthop 192.0.2.2", "a type-2 (MAC/IP) route needs --mac"},
		{"--mac 01:00:5e:00:00:01 --vni 1000 --nexthop 192.0.2.2", "--mac 01:00:5e:00:00:01: a multicast MAC"},
		{"--mac 02:00:00:00:00 --vni 1000 --nexthop 192.0.2.2", `--mac: mac "02:00:00:00:00": not a mac address`},
		{"--mac 00:00:00:00:00:00 --vni 1000 --nexthop 192.0.2.2", "MAC must not be zero"},
		{"--mac 02:00:00:00:00:01 --vni 16777216 --nexthop 192.0.2.2", "--vni 16777216: wider than 24 bits"},
		{"--mac 02:00:00:00:00:01 --vni 1000 --nexthop 0.0.0.0", "--nexthop 0.0.0.0: a VTEP address is unicast"},
		{"--mac 02:00:00:00:00:01 --vni 1000 --nexthop vtep2", `--nexthop "vtep2": not an IPv4 or IPv6 address`},
		{good + " --esi ff:ff:ff:ff:ff:ff:ff:ff:ff:ff", "MAX-ESI"},
		{good + " --esi 03:44", `--esi: esi "03:44"`},
		{good + " --rd nonsense", "--rd: rd"},
		{good + " --ip-prefix 10.0.0.0/8", "--ip-prefix does not apply to a type-2 (MAC/IP) route"},
		{"--type 6 --vni 1 --nexthop 192.0.2.2", "--type 6: want an EVPN route type, 1 to 5"},
		{"--type 3 --mac 02:00:00:00:00:01 --vni 1000 --nexthop 192.0.2.2", "--mac does not apply to a type-3 (multicast) route; it takes --nexthop, --rd, --ethernet-tag, --ip, --vni"},
		{"--type 3 --nexthop 192.0.2.2", "a type-3 (multicast) route needs --vni"},
		{"--type 3 --vni 1000 --nexthop 192.0.2.2 --ethernet-tag 4294967295", "must not be MAX-ET"},
		{"--type 1 --esi " + esiS + " --nexthop 192.0.2.2", "a type-1 (EAD) route per EVI needs --vni"},
		{"--type 1 --per-es --esi " + esiS + " --nexthop 192.0.2.2 --vni 10", "an EAD per ES (Ethernet tag MAX-ET) has no --vni"},
		{"--type 1 --vni 10 --nexthop 192.0.2.2", "a type-1 (EAD) route needs --esi"},
		{"--type 1 --vni 10 --esi 00:00:00:00:00:00:00:00:00:00 --nexthop 192.0.2.2", "ESI must not be zero"},
		{"--type 2 --per-es " + good, "--per-es is for type-1 routes"},
		{"--type 5 --ip-prefix 10.9.1.0/16 --vni 5000 --nexthop 192.0.2.2", "--ip-prefix 10.9.1.0/16: has bits set beyond its length (want 10.9.0.0/16)"},
		{"--type 5 --ip-prefix 10.9.0.0/16 --vni 5000 --nexthop 192.0.2.2 --ip 2001:db8::1", "not of the family"},
		{"--type 5 --vni 5000 --nexthop 192.0.2.2", "a type-5 (IP prefix) route needs --ip-prefix"},
		{"--file x.json --mac 02:00:00:00:00:01", "--file takes every route from x.json; drop --mac"},
		{"--file " + filepath.Join(dir, "none.json"), "no such file"},
		{"--file " + write("empty.json", "\n\n"), "no routes in it"},
		{"--file " + write("bad.json", "[\n{\"type\": 2,\n \"mac\": 7}\n]"), `bad.json:2: route 1: not a route: cannot unmarshal number into Go struct field Route.mac of type string (line 3)`},
		{"--file " + write("unknown.ndjson", `{"type": 2, "mac": "02:00:00:00:00:01", "vni": 1000, "nexthop": "192.0.2.2", "colour": "red"}`), `unknown.ndjson:1: route 1: not a route: unknown field "colour"`},
		{"--file " + write("two.ndjson", `{"type": 2} {"type": 3}`), "more than one JSON value"},
		{"--file " + write("many.ndjson", many), "12 of 12 routes are invalid, nothing was sent:\n  " + filepath.Join(dir, "many.ndjson") + ":1: route 1: nexthop: the VTEP that advertises the route is required"},
		{"--file " + write("broken.json", "[\n{\"type\": 2},\n{\"type\": 2,,}\n]"), "broken.json: not a JSON array of routes: invalid character ',' looking for beginning of object key string (line 3)"},
		{"--file " + write("trailing.json", "[]\n]"), "trailing.json:2: data after the array of routes"},
		{"--file " + write("ok.json", `[]`) + " --batch 0", "--batch 0: want at least 1"},
		{good + " --batch 5", "--batch is for --file"},
		{"--count 0 --start-mac 02:00:00:00:00:01 --vni 1000 --nexthop 192.0.2.2", "--count 0: want at least 1 route"},
		{"--count 10 --vni 1000 --nexthop 192.0.2.2", "--start-mac: the generator needs the first MAC"},
		{"--count 10 --start-mac 03:00:00:00:00:01 --vni 1000 --nexthop 192.0.2.2", "not a unicast MAC"},
		{"--count 10 --start-mac 02:ff:ff:ff:ff:fa --vni 1000 --nexthop 192.0.2.2", "leaves the unicast MACs 02:xx:xx:xx:xx:xx after 6"},
		{"--count 10 --start-mac 02:00:00:00:00:01 --nexthop 192.0.2.2", "--vni 0: want the bridge domain's VNI"},
		{"--count 10 --start-mac 02:00:00:00:00:01 --vni 1000", "--nexthop: the VTEP"},
		{"--count 10 --start-mac 02:00:00:00:00:01 --vni 1000 --nexthop 192.0.2.2 --mac 02:00:00:00:00:01", "--mac: not for the generator"},
		{"--count 10 --start-mac 02:00:00:00:00:01 --vni 1000 --nexthop 192.0.2.2 --type 3", "--type 3: the generator (--count) makes type-2 routes only"},
	} {
		args := append([]string{"route", "add"}, strings.Fields(tc.args)...)
		_, _, err := runFwd(t, f.socket, "", args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("fwd %s:\n  got  %v\n  want an error with %q", strings.Join(args, " "), err, tc.want)
		}
	}
	if reqs := f.requests(); len(reqs) != 0 {
		t.Errorf("invalid input reached the daemon: %d requests, first %s %s", len(reqs), reqs[0].Path, reqs[0].Body)
	}
}
