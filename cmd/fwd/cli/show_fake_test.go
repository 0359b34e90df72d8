package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fwdplane/fwd/api"
)

// fakeDaemon serves canned api values on a real unix socket, the way the
// daemon's API does, and records every request. It knows nothing of the
// real server: each test says what each path answers.
type fakeDaemon struct {
	socket string

	mu      sync.Mutex
	replies map[string]fakeReply
	reqs    []fakeRequest
}

// fakeReply is the answer to one "METHOD /path[?query]".
type fakeReply struct {
	code    int // 0: 200
	body    any // encoded as JSON
	handler http.HandlerFunc
}

// fakeRequest is a request the fake received.
type fakeRequest struct {
	Method, Path, Query string
	Body                []byte
}

// newFakeDaemon listens on a unix socket in a temporary directory and
// serves until the test ends.
func newFakeDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	dir := t.TempDir()
	if len(dir) > 90 { // sun_path holds 108 bytes
		var err error
		if dir, err = os.MkdirTemp("", "fwdcli"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	f := &fakeDaemon{socket: filepath.Join(dir, "fwd.sock"), replies: map[string]fakeReply{}}
	ln, err := net.Listen("unix", f.socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return f
}

// on sets the answer to method and path (with its query, if the request
// has one: "/v1/macs?vni=1000").
func (f *fakeDaemon) on(method, path string, code int, body any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[method+" "+path] = fakeReply{code: code, body: body}
}

func (f *fakeDaemon) onFunc(method, path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[method+" "+path] = fakeReply{handler: h}
}

// requests returns the requests received so far and forgets them.
func (f *fakeDaemon) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.reqs
	f.reqs = nil
	return r
}

func (f *fakeDaemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		key += "?" + r.URL.RawQuery
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, fakeRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body})
	rep, ok := f.replies[key]
	f.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(api.Error{Error: "the fake has no answer for " + key})
		return
	}
	if rep.handler != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		rep.handler(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if rep.code != 0 {
		w.WriteHeader(rep.code)
	}
	_ = json.NewEncoder(w).Encode(rep.body)
}

// testNow is the clock of the CLI under test: 2h3m4s after the fixture's
// daemon started.
var testNow = time.Date(2026, 3, 1, 12, 3, 4, 0, time.UTC)

// runFwd runs fwd in-process against socket, with stdin, at testNow.
func runFwd(t *testing.T, socket string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCmd(&rootOptions{now: func() time.Time { return testNow }})
	root.SetArgs(append(append([]string{}, args...), "--socket", socket))
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := explainAPIError(root.ExecuteContext(context.Background()))
	return stdout.String(), stderr.String(), err
}

// Canned state of a small fabric: this node is VTEP 192.0.2.1 with two
// access ports on local ESes and a single-homed one; PEs 192.0.2.2 and
// 192.0.2.3 share ES 1, 192.0.2.4 has a remote ES. Lists are deliberately
// out of order: the CLI sorts.
var (
	esi1 = "03:44:38:39:ff:ff:01:00:00:01"
	esi2 = "03:44:38:39:ff:ff:01:00:00:02"
	esi9 = "00:11:22:33:44:55:66:77:88:99"

	fixStatus = api.Status{
		Version: "v0.4.0", PID: 4242,
		StartedAt:      time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		ConfigFile:     "/etc/fwd/fwd.yaml",
		ConfigLoadedAt: time.Date(2026, 3, 1, 11, 30, 0, 0, time.UTC),
		VTEP4:          "192.0.2.1", VTEP6: "2001:db8::1", RouterMAC: "02:00:00:00:00:fe",
		Adopted:    true,
		Reconciled: []string{"removed stale FDB entry vni 1000 02:00:00:00:00:99", "rewrote group 536870913 (member 192.0.2.5 gone)"},
		Interfaces: 4, BDs: 2, ESes: 3, MACs: 6, Groups: 2, Routes: 9,
		Loop: api.Loop{Calls: 1234, LatencyP50US: 12.34, LatencyP99US: 456.7, PathsAdded: 10, PathsGone: 2,
			FDBWrites: 100, GroupWrites: 12},
	}
	fixInterfaces = []api.Interface{
		{Name: "uplink0", Ifindex: 2, Role: "uplink", Up: true, Attach: "native", MTU: 9000},
		{Name: "swp2", Ifindex: 4, Role: "access", Up: false, Attach: "native", MTU: 1500, ESI: esi2,
			VLANs: []api.VLANMap{{VLAN: 20, VNI: 1020}, {VLAN: 10, VNI: 1010}}},
		{Name: "swp1", Ifindex: 3, Role: "access", Up: true, Attach: "generic", MTU: 1500, ESI: esi1, UntaggedVNI: 1000},
		{Name: "swp3", Ifindex: 5, Role: "access", Up: true, Attach: "native", MTU: 1500, UntaggedVNI: 1000},
	}
	fixBDs = []api.BridgeDomain{
		{VNI: 1010, Ports: []api.BDPort{{Interface: "swp2", VLAN: 10}}, MACs: 0},
		{VNI: 1000, Ports: []api.BDPort{{Interface: "swp3"}, {Interface: "swp1"}},
			Flood: []string{"192.0.2.10", "192.0.2.3", "192.0.2.2"}, MACs: 5},
	}
	fixESes = []api.ES{
		{ESI: esi9, Type: "remote", VTEPs: []api.ESVTEP{
			{VTEP: "192.0.2.4", Active: true, EADPerES: true, EVIs: 1}}, MACs: 1, Group: 536870914},
		{ESI: esi2, Type: "local", Interface: "swp2", Up: false, Admin: false, DF: false, DFAlg: "preference", DFPref: 32767,
			VTEPs: []api.ESVTEP{}, BackupGroup: 0},
		{ESI: esi1, Type: "local", Interface: "swp1", Up: true, Admin: true, DF: true, DFAlg: "preference", DFPref: 50000,
			VTEPs: []api.ESVTEP{
				{VTEP: "192.0.2.3", Active: true, EADPerES: true, EVIs: 1},
				{VTEP: "192.0.2.2", Active: true, EADPerES: true, EVIs: 2, DFAlg: "preference", DFPref: 32767},
			}, MACs: 3, BackupGroup: 536870913},
	}
	fixESEVIs = []api.ESEVI{
		{ESI: esi9, VNI: 1000, Type: "remote", VTEPs: []string{"192.0.2.4"}},
		{ESI: esi2, VNI: 1010, Type: "local", VTEPs: []string{}},
		{ESI: esi1, VNI: 1000, Type: "local", VTEPs: []string{"192.0.2.3", "192.0.2.2"}},
	}
	fixMACs = []api.MAC{
		{VNI: 1000, MAC: "02:00:00:00:00:05", Type: "remote", ESI: esi9, Seq: 0},
		{VNI: 1000, MAC: "02:00:00:00:00:01", Type: "local", Interface: "swp1", ESI: esi1, Seq: 1},
		{VNI: 1000, MAC: "02:00:00:00:00:04", Type: "remote", VTEP: "192.0.2.10", Seq: 3, Sticky: true},
		{VNI: 1000, MAC: "02:00:00:00:00:02", Type: "sync", Interface: "swp1", ESI: esi1, Seq: 1},
		{VNI: 1000, MAC: "02:00:00:00:00:03", Type: "local", Interface: "swp3", Router: true},
		{VNI: 1010, MAC: "02:00:00:00:00:06", Type: "remote", VTEP: "192.0.2.2"},
	}
	fixL2NHs = []api.L2NextHop{
		{VTEP: "192.0.2.10", ID: 268435459, Reachable: false, Reason: "no neighbour entry for 192.0.2.10", Refs: 1},
		{VTEP: "192.0.2.3", ID: 268435458, Reachable: true, Interface: "uplink0", Refs: 1},
		{VTEP: "192.0.2.2", ID: 268435457, Reachable: true, Interface: "uplink0", Refs: 2},
		{VTEP: "192.0.2.4", ID: 268435460, Reachable: true, Interface: "uplink0", Refs: 1},
	}
	fixGroups = []api.NexthopGroup{
		{ID: 536870914, Owner: "evpn", State: "installed", Refs: 1, Members: []api.GroupMember{
			{ID: 268435460, VTEP: "192.0.2.4", Weight: 1}}},
		{ID: 536870913, Owner: "es-backup", State: "pending", Buckets: 128, Refs: 2, Members: []api.GroupMember{
			{ID: 268435458, VTEP: "192.0.2.3", Weight: 1, Down: true, Backups: []uint32{268435457}, Buckets: 0},
			{ID: 268435457, VTEP: "192.0.2.2", Weight: 1, Buckets: 128},
		}},
	}
	fixRoutes = []api.Route{
		{Type: 2, Prefix: "[2]:[0]:[48]:[02:00:00:00:00:04]", RD: "192.0.2.10:2", MAC: "02:00:00:00:00:04", VNI: 1000,
			NextHop: "192.0.2.10", Seq: 3, Sticky: true, Source: "bgp"},
		{Type: 4, RD: "192.0.2.2:1", ESI: esi1, NextHop: "192.0.2.2", Source: "bgp"},
		{Type: 1, Prefix: "[1]:[4294967295]:[" + esi1 + "]", RD: "192.0.2.2:1", ESI: esi1, EthernetTag: 4294967295,
			NextHop: "192.0.2.2", Source: "bgp"},
		{Type: 3, Prefix: "[3]:[0]:[32]:[192.0.2.2]", RD: "192.0.2.2:2", VNI: 1000, NextHop: "192.0.2.2", Source: "bgp"},
		{Type: 2, RD: "192.0.2.2:2", MAC: "02:00:00:00:00:02", IP: "10.0.0.2", ESI: esi1, VNI: 1000,
			NextHop: "192.0.2.2", Seq: 1, Source: "bgp"},
		{Type: 5, RD: "192.0.2.2:3", IPPrefix: "10.9.0.0/16", VNI: 5000, NextHop: "192.0.2.2", Source: "api"},
		{Type: 2, Prefix: "[2]:[0]:[48]:[02:00:00:00:00:06]", RD: "192.0.2.2:3", MAC: "02:00:00:00:00:06", VNI: 1010,
			NextHop: "192.0.2.2", Router: true, Source: "api"},
	}
	fixCounters = api.Counters{Counters: []api.Counter{
		{Name: "rx_access", Value: 1500}, {Name: "rx_uplink", Value: 900}, {Name: "tx_local", Value: 0},
		{Name: "tx_encap4", Value: 1400}, {Name: "tx_decap", Value: 880}, {Name: "pass_bum", Value: 20},
		{Name: "drop_hairpin", Value: 0}, {Name: "x_new_reason", Value: 7},
	}}
)

// macFilterQuery is what fwd show evpn mac vni 1000 mac M es ESI asks.
var macFilterQuery = url.Values{"vni": {"1000"}, "mac": {"02:00:00:00:00:02"}, "esi": {esi1}}.Encode()

// withFixture answers every read endpoint with the canned state.
func withFixture(f *fakeDaemon) *fakeDaemon {
	routesOf := func(typ int) []api.Route {
		var rs []api.Route
		for _, r := range fixRoutes {
			if r.Type == typ {
				rs = append(rs, r)
			}
		}
		return rs
	}
	macsOf := func(keep func(api.MAC) bool) []api.MAC {
		var ms []api.MAC
		for _, m := range fixMACs {
			if keep(m) {
				ms = append(ms, m)
			}
		}
		return ms
	}
	f.on("GET", "/v1/status", 0, fixStatus)
	f.on("GET", "/v1/interfaces", 0, fixInterfaces)
	f.on("GET", "/v1/bridge-domains", 0, fixBDs)
	f.on("GET", "/v1/es", 0, fixESes)
	f.on("GET", "/v1/es-evi", 0, fixESEVIs)
	f.on("GET", "/v1/macs", 0, fixMACs)
	f.on("GET", "/v1/macs?vni=1000", 0, macsOf(func(m api.MAC) bool { return m.VNI == 1000 }))
	f.on("GET", "/v1/macs?"+macFilterQuery, 0,
		macsOf(func(m api.MAC) bool { return m.VNI == 1000 && m.ESI == esi1 && m.MAC == "02:00:00:00:00:02" }))
	f.on("GET", "/v1/l2-nh", 0, fixL2NHs)
	f.on("GET", "/v1/nexthop-groups", 0, fixGroups)
	f.on("GET", "/v1/nexthop-groups/536870913", 0, fixGroups[1])
	f.on("GET", "/v1/nexthop-groups/7", http.StatusNotFound, api.Error{Error: "no nexthop group 7"})
	f.on("GET", "/v1/routes", 0, fixRoutes)
	f.on("GET", "/v1/routes?type=2", 0, routesOf(2))
	f.on("GET", "/v1/counters", 0, fixCounters)
	return f
}

// errorAs is errors.As for tests.
func errorAs[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}

// listenUnixNoUnlink listens on path and leaves the socket file behind
// when closed: a daemon that died.
func listenUnixNoUnlink(path string) (*net.UnixListener, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(false)
	return ln, nil
}
