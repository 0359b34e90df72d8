package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/api"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with what the commands print now")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/fwd/cli -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// showCases are the show commands the golden files cover, each printed
// as a table and as JSON; want is the type the JSON must decode into and
// paths the requests the table form makes.
var showCases = []struct {
	name  string
	args  []string
	want  any
	paths []string
}{
	{"status", []string{"show", "status"}, api.Status{}, []string{"/v1/status"}},
	{"interfaces", []string{"show", "interfaces"}, []api.Interface{}, []string{"/v1/interfaces"}},
	{"bridge_domains", []string{"show", "bridge-domains"}, []api.BridgeDomain{}, []string{"/v1/bridge-domains"}},
	{"evpn_es", []string{"show", "evpn", "es"}, []api.ES{}, []string{"/v1/es"}},
	{"evpn_es_detail", []string{"show", "evpn", "es", "detail"}, []api.ES{}, []string{"/v1/es"}},
	{"evpn_es_esi", []string{"show", "evpn", "es", "3:44:38:39:FF:FF:1:0:0:1"}, api.ES{}, []string{"/v1/es"}},
	{"evpn_es_evi", []string{"show", "evpn", "es-evi"}, []api.ESEVI{}, []string{"/v1/es-evi"}},
	{"evpn_es_evi_vni", []string{"show", "evpn", "es-evi", "vni", "1000"}, []api.ESEVI{}, []string{"/v1/es-evi"}},
	{"evpn_mac", []string{"show", "evpn", "mac"}, []api.MAC{}, []string{"/v1/macs"}},
	{"evpn_mac_vni", []string{"show", "evpn", "mac", "vni", "1000"}, []api.MAC{}, []string{"/v1/macs?vni=1000"}},
	{"evpn_mac_filters", []string{"show", "evpn", "mac", "es", "03443839ffff01000001", "mac", "0200.0000.0002", "vni", "1000"},
		[]api.MAC{}, []string{"/v1/macs?" + macFilterQuery}},
	{"evpn_l2nh", []string{"show", "evpn", "l2-nh"}, []api.L2NextHop{}, []string{"/v1/l2-nh", "/v1/es"}},
	{"evpn_routes", []string{"show", "evpn", "routes"}, []api.Route{}, []string{"/v1/routes"}},
	{"evpn_routes_type2", []string{"show", "evpn", "routes", "type", "macip"}, []api.Route{}, []string{"/v1/routes?type=2"}},
	{"nhg", []string{"show", "nexthop-group"}, []api.NexthopGroup{}, []string{"/v1/nexthop-groups"}},
	{"nhg_id", []string{"show", "nexthop-group", "0x20000001"}, api.NexthopGroup{}, []string{"/v1/nexthop-groups/536870913"}},
	{"counters", []string{"show", "counters"}, api.Counters{}, []string{"/v1/counters"}},
	{"counters_nonzero", []string{"show", "counters", "--nonzero"}, api.Counters{}, []string{"/v1/counters"}},
}

func TestShowGolden(t *testing.T) {
	f := withFixture(newFakeDaemon(t))
	for _, tc := range showCases {
		t.Run(tc.name, func(t *testing.T) {
			f.requests()
			out, stderr, err := runFwd(t, f.socket, "", tc.args...)
			if err != nil {
				t.Fatalf("fwd %s: %v\n%s", strings.Join(tc.args, " "), err, stderr)
			}
			golden(t, "show_"+tc.name+".golden", out)
			var paths []string
			for _, r := range f.requests() {
				p := r.Path
				if r.Query != "" {
					p += "?" + r.Query
				}
				if r.Method != "GET" {
					t.Errorf("%s %s: show must only read", r.Method, p)
				}
				paths = append(paths, p)
			}
			if !reflect.DeepEqual(paths, tc.paths) {
				t.Errorf("requests %q, want %q", paths, tc.paths)
			}

			js, stderr, err := runFwd(t, f.socket, "", append(tc.args, "--json")...)
			if err != nil {
				t.Fatalf("fwd %s --json: %v\n%s", strings.Join(tc.args, " "), err, stderr)
			}
			golden(t, "show_"+tc.name+".json.golden", js)
			// The JSON is the API's: it decodes strictly into the API type.
			v := reflect.New(reflect.TypeOf(tc.want))
			dec := json.NewDecoder(strings.NewReader(js))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v.Interface()); err != nil {
				t.Errorf("--json output does not decode into %T: %v", tc.want, err)
			}
			if dec.More() {
				t.Errorf("--json output has more than one value")
			}
		})
	}
}

// TestShowSorted checks what the golden files show by eye: rows come out
// in a stable order whatever order the daemon sends them in.
func TestShowSorted(t *testing.T) {
	f := withFixture(newFakeDaemon(t))
	out, _, err := runFwd(t, f.socket, "", "show", "evpn", "mac", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var macs []api.MAC
	if err := json.Unmarshal([]byte(out), &macs); err != nil {
		t.Fatal(err)
	}
	if len(macs) != len(fixMACs) {
		t.Fatalf("%d MACs, want %d", len(macs), len(fixMACs))
	}
	for i := 1; i < len(macs); i++ {
		a, b := macs[i-1], macs[i]
		if a.VNI > b.VNI || a.VNI == b.VNI && a.MAC >= b.MAC {
			t.Errorf("MACs out of order: %v before %v", a, b)
		}
	}
	out, _, err = runFwd(t, f.socket, "", "show", "evpn", "l2-nh")
	if err != nil {
		t.Fatal(err)
	}
	// 192.0.2.10 sorts after 192.0.2.4 as an address, not as text.
	if i, j := strings.Index(out, "192.0.2.4 "), strings.Index(out, "192.0.2.10 "); i < 0 || j < 0 || i > j {
		t.Errorf("VTEPs not in address order:\n%s", out)
	}
}

func TestShowEmpty(t *testing.T) {
	f := newFakeDaemon(t)
	f.on("GET", "/v1/es", 0, nil)
	f.on("GET", "/v1/nexthop-groups", 0, []api.NexthopGroup{})
	out, _, err := runFwd(t, f.socket, "", "show", "evpn", "es", "--json")
	if err != nil || out != "[]\n" {
		t.Errorf("no ESes as JSON: %q, %v; want []", out, err)
	}
	out, _, err = runFwd(t, f.socket, "", "show", "evpn", "es")
	if err != nil || strings.Count(out, "\n") != 2 {
		t.Errorf("no ESes as a table: %q, %v; want the legend and the header", out, err)
	}
	out, _, err = runFwd(t, f.socket, "", "show", "nexthop-group")
	if err != nil || out != "" {
		t.Errorf("no groups: %q, %v", out, err)
	}
}

func TestShowArgErrors(t *testing.T) {
	f := withFixture(newFakeDaemon(t))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"show", "evpn", "es", "03:44"}, `esi "03:44": has 2 bytes`},
		{[]string{"show", "evpn", "es", esi1, esi2}, "want at most one ESI"},
		{[]string{"show", "evpn", "es", esi2[:len(esi2)-1] + "7"}, "knows no such Ethernet Segment (have: " + esi9 + ", " + esi1 + ", " + esi2 + ")"},
		{[]string{"show", "evpn", "mac", "vni"}, "vni needs a value"},
		{[]string{"show", "evpn", "mac", "vni", "0"}, `vni "0": want a VNI, 1 to 16777215`},
		{[]string{"show", "evpn", "mac", "vni", "1", "vni", "2"}, "vni given twice"},
		{[]string{"show", "evpn", "mac", "port", "swp1"}, `unknown keyword "port"`},
		{[]string{"show", "evpn", "mac", "mac", "02:00"}, `mac "02:00": not a mac address`},
		{[]string{"show", "evpn", "routes", "type", "7"}, `route type "7": unknown`},
		{[]string{"show", "nexthop-group", "abc"}, `nexthop group "abc": want an ID`},
		{[]string{"show", "nexthop-group", "7"}, "daemon: no nexthop group 7 (HTTP 404)"},
		{[]string{"show", "status", "extra"}, `unknown command "extra"`},
	} {
		_, _, err := runFwd(t, f.socket, "", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("fwd %s: %v; want an error with %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	// Local checks send nothing.
	for _, r := range f.requests() {
		if r.Path != "/v1/es" && r.Path != "/v1/nexthop-groups/7" {
			t.Errorf("a bad argument still reached the daemon: %s %s?%s", r.Method, r.Path, r.Query)
		}
	}
}

// TestDaemonNotRunning: a socket path with nothing behind it, and a socket
// file nobody listens on, both say the daemon is not running and how to
// start it or point the CLI elsewhere.
func TestDaemonNotRunning(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.sock")
	stale := filepath.Join(dir, "stale.sock")
	ln, err := listenUnixNoUnlink(stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("the stale socket file is gone: %v", err)
	}
	for _, sock := range []string{missing, stale} {
		for _, args := range [][]string{
			{"show", "status"},
			{"show", "evpn", "es", "--json"},
			{"route", "add", "--mac", "02:00:00:00:00:01", "--vni", "1000", "--nexthop", "192.0.2.2"},
			{"events"},
			{"log-level"},
		} {
			out, _, err := runFwd(t, sock, "", args...)
			if err == nil {
				t.Fatalf("fwd %s on %s: no error", strings.Join(args, " "), sock)
			}
			msg := err.Error()
			for _, want := range []string{"fwd daemon is not running", sock, "systemctl start fwd", "fwd daemon --config", "--socket", "FWD_SOCKET"} {
				if !strings.Contains(msg, want) {
					t.Errorf("fwd %s: %q lacks %q", strings.Join(args, " "), msg, want)
				}
			}
			if out != "" || strings.Contains(msg, "goroutine") || strings.Contains(msg, "Usage:") {
				t.Errorf("fwd %s: printed %q, error %q", strings.Join(args, " "), out, msg)
			}
		}
	}
}

// TestForbidden: a 403 says the daemon refused, why, and what access
// each kind of command needs.
func TestForbidden(t *testing.T) {
	f := newFakeDaemon(t)
	refusal := api.Error{Error: "uid 1000 (alice) may not change the daemon: writes need root", Hint: "run it with sudo"}
	f.on("POST", "/v1/routes", 403, refusal)
	f.on("GET", "/v1/status", 403, api.Error{Error: "uid 1001 is neither root nor in group fwd"})
	out, stderr, err := runFwd(t, f.socket, "", "route", "add", "--mac", "02:00:00:00:00:01", "--vni", "1000", "--nexthop", "192.0.2.2")
	if err == nil {
		t.Fatal("no error")
	}
	se, ok := errorAs[*api.StatusError](err)
	if !ok || se.Code != 403 {
		t.Errorf("error %v does not wrap the 403", err)
	}
	for _, want := range []string{"permission denied by the daemon", refusal.Error, refusal.Hint} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if out != "" || stderr != "" {
		t.Errorf("printed %q / %q besides the error", out, stderr)
	}
	_, _, err = runFwd(t, f.socket, "", "show", "status")
	if err == nil || !strings.Contains(err.Error(), "neither root nor in group fwd") || !strings.Contains(err.Error(), "usermod -aG fwd") {
		t.Errorf("read refused: %v", err)
	}
}

// TestRunErrorExplained: the top-level run (what main calls) explains the
// errors too, and prints no usage for a runtime error.
func TestRunErrorExplained(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"show", "status", "--socket", sock}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "FWD_SOCKET") {
		t.Errorf("run: %v", err)
	}
	if stdout.Len()+stderr.Len() != 0 {
		t.Errorf("run printed %q %q", stdout.String(), stderr.String())
	}
}

func TestSocketFromEnv(t *testing.T) {
	f := withFixture(newFakeDaemon(t))
	t.Setenv("FWD_SOCKET", f.socket)
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"show", "counters", "--json"}, &stdout, &stderr); err != nil {
		t.Fatalf("FWD_SOCKET=%s fwd show counters: %v", f.socket, err)
	}
	if !strings.Contains(stdout.String(), "rx_access") {
		t.Errorf("output: %s", stdout.String())
	}
}

// TestDaemonHangsUp: a daemon that drops the connection without an answer
// is reported as such, not as a Go HTTP error.
func TestDaemonHangsUp(t *testing.T) {
	f := newFakeDaemon(t)
	f.onFunc("GET", "/v1/counters", func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	_, _, err := runFwd(t, f.socket, "", "show", "counters")
	if err == nil || err.Error() != "GET /v1/counters: the daemon closed the connection without answering (its log may say why)" {
		t.Errorf("hang-up: %v", err)
	}
}
