package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer for a logger written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testServer struct {
	s    *Server
	fake *fakeBackend
	sock string
	c    *Client
	log  *syncBuffer
	// stop shuts the server down and returns what Serve returned.
	stop func() error
}

// mustSocketDir makes a directory any uid can reach (t.TempDir is 0700 and
// its path may be too long for a socket).
func mustSocketDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "fwdapi-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// mustServe starts a server of a fresh fake on a socket in its own
// directory. Unless the options name a group, the read group is this
// process's gid; and unless admin is false the test's own uid counts as
// root, so that the endpoint tests run unprivileged too (the credential
// tests, which need root, keep uid 0 as the admin).
func mustServe(tb testing.TB, opts ServerOptions, admin bool) *testServer {
	tb.Helper()
	ts := &testServer{fake: newFake(), log: &syncBuffer{}}
	ts.sock = filepath.Join(mustSocketDir(tb), "fwd.sock")
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(ts.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.GID == 0 && opts.Group == "" {
		opts.GID = testGID()
	}
	ts.s = NewServer(ts.fake, opts)
	if err := ts.s.Listen(ts.sock); err != nil {
		tb.Fatalf("Listen: %v", err)
	}
	if admin {
		ts.s.pol.admin = uint32(os.Geteuid())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.s.Serve(ctx) }()
	var once sync.Once
	var serveErr error
	ts.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-done:
			case <-time.After(10 * time.Second):
				serveErr = errors.New("Serve did not return 10 s after its context ended")
			}
		})
		return serveErr
	}
	tb.Cleanup(func() {
		if err := ts.stop(); err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	ts.c = NewClient(ts.sock)
	return ts
}

// testGID is a read group the test may give the socket to: its own gid,
// or nogroup (65534) for root, whose gid 0 means "no GID" in the options.
func testGID() int {
	if g := os.Getgid(); g != 0 {
		return g
	}
	return 65534
}

// raw sends a request as is and returns the status, the decoded Error (for
// an error status) and the body.
func (ts *testServer) raw(tb testing.TB, method, path string, body io.Reader) (*http.Response, Error, []byte) {
	tb.Helper()
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", ts.sock)
		},
	}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequest(method, "http://fwd"+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	var e Error
	if resp.StatusCode >= 300 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			tb.Errorf("%s %s: %d with Content-Type %q, want application/json", method, path, resp.StatusCode, ct)
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
			tb.Errorf("%s %s: %d body %q is not an Error: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp, e, b
}

func wantCalls(tb testing.TB, f *fakeBackend, want ...call) {
	tb.Helper()
	got := f.Calls()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("backend calls:\n got %+v\nwant %+v", got, want)
	}
	f.reset()
}

func wantEqual[T any](tb testing.TB, what string, got, want T) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// TestEndpoints runs every endpoint's happy path through the Client over
// the socket, checking what came back and what the backend was asked.
func TestEndpoints(t *testing.T) {
	ts := mustServe(t, ServerOptions{}, true)
	ctx := context.Background()
	c, f := ts.c, ts.fake
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	st, err := c.Status(ctx)
	must(err)
	wantEqual(t, "status", st, fakeStatus)
	wantCalls(t, f, call{"Status", nil})

	ifs, err := c.Interfaces(ctx)
	must(err)
	wantEqual(t, "interfaces", ifs, fakeInterfaces)
	wantCalls(t, f, call{"Interfaces", nil})

	bds, err := c.BridgeDomains(ctx)
	must(err)
	wantEqual(t, "bridge domains", bds, fakeBDs)
	wantCalls(t, f, call{"BridgeDomains", nil})

	macs, err := c.MACs(ctx, MACFilter{})
	must(err)
	wantEqual(t, "macs", macs, fakeMACs)
	wantCalls(t, f, call{"MACs", MACFilter{}})
	// The filter arrives validated and in canonical form.
	_, err = c.MACs(ctx, MACFilter{VNI: 16777215, MAC: "AA-BB-CC-00-00-01", ESI: "0344383939ffff010000"})
	must(err)
	wantCalls(t, f, call{"MACs", MACFilter{VNI: 16777215, MAC: "aa:bb:cc:00:00:01", ESI: "03:44:38:39:39:ff:ff:01:00:00"}})
	var se *StatusError
	if _, err = c.MACs(ctx, MACFilter{ESI: "03:44"}); !errors.As(err, &se) || se.Code != 400 {
		t.Errorf("MACs with a two-byte ESI: %v, want 400", err)
	}
	wantCalls(t, f)

	ess, err := c.ESes(ctx)
	must(err)
	wantEqual(t, "es", ess, fakeESes)
	wantCalls(t, f, call{"ESes", nil})

	evis, err := c.ESEVIs(ctx)
	must(err)
	wantEqual(t, "es-evi", evis, fakeESEVIs)
	wantCalls(t, f, call{"ESEVIs", nil})

	nhs, err := c.L2NextHops(ctx)
	must(err)
	wantEqual(t, "l2-nh", nhs, fakeL2NHs)
	wantCalls(t, f, call{"L2NextHops", nil})

	groups, err := c.NexthopGroups(ctx)
	must(err)
	wantEqual(t, "nexthop groups", groups, fakeGroups)
	wantCalls(t, f, call{"NexthopGroups", nil})

	g, err := c.NexthopGroup(ctx, 9)
	must(err)
	wantEqual(t, "nexthop group 9", g, fakeGroups[1])
	wantCalls(t, f, call{"NexthopGroups", nil})

	routes, err := c.Routes(ctx, RouteFilter{})
	must(err)
	wantEqual(t, "routes", routes, fakeRoutes)
	wantCalls(t, f, call{"Routes", RouteFilter{}})
	_, err = c.Routes(ctx, RouteFilter{Type: 5})
	must(err)
	wantCalls(t, f, call{"Routes", RouteFilter{Type: 5}})

	cnt, err := c.Counters(ctx)
	must(err)
	wantEqual(t, "counters", cnt, fakeCounters)
	wantCalls(t, f, call{"Counters", nil})

	lvl, err := c.LogLevel(ctx)
	must(err)
	wantEqual(t, "log level", lvl, "info")
	wantCalls(t, f, call{"LogLevel", nil})
	lvl, err = c.SetLogLevel(ctx, "debug")
	must(err)
	wantEqual(t, "log level after PUT", lvl, "debug")
	wantCalls(t, f, call{"SetLogLevel", "debug"}, call{"LogLevel", nil})

	batch := RouteBatch{
		Routes:   []Route{{Type: 2, MAC: "aa:bb:cc:00:00:02", VNI: 100, NextHop: "192.0.2.3", RD: "192.0.2.3:100"}},
		Generate: &Generator{Count: 1000000, StartMAC: "02:00:00:00:00:00", VNI: 100, NextHop: "192.0.2.3"},
	}
	res, err := c.AddRoutes(ctx, batch)
	must(err)
	wantEqual(t, "route result", res, fakeRouteResult)
	wantCalls(t, f, call{"AddRoutes", batch})
	res, err = c.WithdrawRoutes(ctx, batch)
	must(err)
	wantEqual(t, "withdraw result", res, RouteResult{Withdrawn: 1})
	wantCalls(t, f, call{"WithdrawRoutes", batch})

	// The ESI is canonicalised, and the ES comes back as the list has it.
	es, err := c.SetESAdmin(ctx, "03:44:38:39:FF:FF:01:00:00:01", false)
	must(err)
	wantEqual(t, "es after admin", es, fakeESes[0])
	wantCalls(t, f, call{"SetESAdmin", [2]any{"03:44:38:39:ff:ff:01:00:00:01", false}}, call{"ESes", nil})

	tr := TraceRequest{Interface: "swp1", SrcMAC: "aa:bb:cc:00:00:09", DstMAC: "aa:bb:cc:00:00:01", VLAN: 10}
	trace, err := c.Trace(ctx, tr)
	must(err)
	wantEqual(t, "trace", trace, fakeTrace)
	wantCalls(t, f, call{"Trace", tr})

	var metrics bytes.Buffer
	must(c.Metrics(ctx, &metrics))
	if !strings.Contains(metrics.String(), "\nfwd_loop_call_seconds_count 4\n") {
		t.Errorf("metrics:\n%s\nhave no fwd_loop_call_seconds_count 4", metrics.String())
	}
	wantCalls(t, f, call{"Metrics", nil})

	resp, _, body := ts.raw(t, "GET", "/metrics", nil)
	if ct := resp.Header.Get("Content-Type"); ct != metricsContentType {
		t.Errorf("metrics Content-Type %q, want %q", ct, metricsContentType)
	}
	if !bytes.Equal(body, metrics.Bytes()) {
		t.Errorf("metrics differ between two scrapes of the same data")
	}
	f.reset()
}

// TestEmptyListsAreArrays: a backend's nil slice is [] on the wire, so
// that clients in other languages need not special-case null.
func TestEmptyListsAreArrays(t *testing.T) {
	ts := mustServe(t, ServerOptions{}, true)
	ts.fake.setErr("none", nil)
	// Routes with a filter the fake answers; Interfaces through a
	// backend that returns nil.
	nb := &nilBackend{fakeBackend: ts.fake}
	ts.s.b = nb
	for _, path := range []string{"/v1/interfaces", "/v1/bridge-domains", "/v1/macs", "/v1/es", "/v1/es-evi", "/v1/l2-nh", "/v1/nexthop-groups", "/v1/routes"} {
		resp, _, body := ts.raw(t, "GET", path, nil)
		if resp.StatusCode != 200 || string(body) != "[]\n" {
			t.Errorf("GET %s: %d %q, want 200 \"[]\\n\"", path, resp.StatusCode, body)
		}
	}
	_, _, body := ts.raw(t, "GET", "/v1/counters", nil)
	if string(body) != `{"counters":[]}`+"\n" {
		t.Errorf("GET /v1/counters: %q", body)
	}
}

// nilBackend answers every list with nil.
type nilBackend struct{ *fakeBackend }

func (nilBackend) Interfaces(context.Context) ([]Interface, error)       { return nil, nil }
func (nilBackend) BridgeDomains(context.Context) ([]BridgeDomain, error) { return nil, nil }
func (nilBackend) MACs(context.Context, MACFilter) ([]MAC, error)        { return nil, nil }
func (nilBackend) ESes(context.Context) ([]ES, error)                    { return nil, nil }
func (nilBackend) ESEVIs(context.Context) ([]ESEVI, error)               { return nil, nil }
func (nilBackend) L2NextHops(context.Context) ([]L2NextHop, error)       { return nil, nil }
func (nilBackend) NexthopGroups(context.Context) ([]NexthopGroup, error) { return nil, nil }
func (nilBackend) Routes(context.Context, RouteFilter) ([]Route, error)  { return nil, nil }
func (nilBackend) Counters(context.Context) (Counters, error)            { return Counters{}, nil }

// TestMalformedRequests: every request the server refuses is refused
// before the backend hears of it.
func TestMalformedRequests(t *testing.T) {
	ts := mustServe(t, ServerOptions{}, true)
	const esi = "03:44:38:39:ff:ff:01:00:00:01"
	cases := []struct {
		name, method, path, body string
		code                     int
		want                     string // in the Error
		allow                    string // the Allow header of a 405
	}{
		{"truncated JSON", "POST", "/v1/routes", `{"routes":[{"type":2,`, 400, "ends in the middle", ""},
		{"syntax error", "POST", "/v1/routes", `{"routes":[}`, 400, "not valid JSON at byte 12", ""},
		{"unknown field", "POST", "/v1/routes", `{"routes":[],"bogus":1}`, 400, `unknown field "bogus"`, ""},
		{"unknown nested field", "POST", "/v1/routes/withdraw", `{"routes":[{"type":2,"colour":"red"}]}`, 400, `unknown field "colour"`, ""},
		{"unknown generator field", "POST", "/v1/routes", `{"generate":{"count":1,"speed":9}}`, 400, `unknown field "speed"`, ""},
		{"two values", "POST", "/v1/routes", `{"routes":[]} {"routes":[]}`, 400, "more after the JSON value that ends at byte 13", ""},
		{"trailing garbage", "POST", "/v1/routes", `{"routes":[]}x`, 400, "more after the JSON value", ""},
		{"wrong type", "POST", "/v1/routes", `{"routes":[{"type":"two"}]}`, 400, "field routes.type", ""},
		{"negative vni", "POST", "/v1/routes", `{"routes":[{"type":2,"vni":-1}]}`, 400, "field routes.vni", ""},
		{"empty body", "POST", "/v1/routes", ``, 400, "empty", ""},
		{"array body", "POST", "/v1/routes", `[]`, 400, "want object", ""},
		{"log level not an object", "PUT", "/v1/log-level", `"debug"`, 400, "JSON string", ""},
		{"es admin bad type", "POST", "/v1/es/" + esi + "/admin", `{"up":"no"}`, 400, "field up", ""},
		{"es admin unknown field", "POST", "/v1/es/" + esi + "/admin", `{"up":true,"force":true}`, 400, `unknown field "force"`, ""},
		{"es admin bad esi", "POST", "/v1/es/03:44:zz/admin", `{"up":true}`, 400, `esi "03:44:zz"`, ""},
		{"trace unknown field", "POST", "/v1/trace", `{"interface":"swp1","ttl":3}`, 400, `unknown field "ttl"`, ""},
		{"vni 0", "GET", "/v1/macs?vni=0", "", 400, "vni=\"0\": want a number from 1 to 16777215", ""},
		{"vni too big", "GET", "/v1/macs?vni=16777216", "", 400, "from 1 to 16777215", ""},
		{"vni not a number", "GET", "/v1/macs?vni=abc", "", 400, "vni=\"abc\"", ""},
		{"vni empty", "GET", "/v1/macs?vni=", "", 400, "vni=\"\"", ""},
		{"vni twice", "GET", "/v1/macs?vni=1&vni=2", "", 400, "given 2 times", ""},
		{"bad mac", "GET", "/v1/macs?mac=aa:bb", "", 400, `query parameter mac: mac "aa:bb"`, ""},
		{"bad esi", "GET", "/v1/macs?esi=1:2:3", "", 400, `query parameter esi: esi "1:2:3"`, ""},
		{"unknown parameter", "GET", "/v1/macs?colour=red", "", 400, `"colour" is not taken`, ""},
		{"bad query string", "GET", "/v1/macs?vni=%zz", "", 400, "query string", ""},
		{"type 0", "GET", "/v1/routes?type=0", "", 400, "from 1 to 5", ""},
		{"type 6", "GET", "/v1/routes?type=6", "", 400, "from 1 to 5", ""},
		{"parameter on a bare endpoint", "GET", "/v1/status?verbose=1", "", 400, `"verbose" is not taken by GET /v1/status`, ""},
		{"group id 0", "GET", "/v1/nexthop-groups/0", "", 400, `id "0"`, ""},
		{"group id not a number", "GET", "/v1/nexthop-groups/seven", "", 400, `id "seven"`, ""},
		{"group id too big", "GET", "/v1/nexthop-groups/4294967296", "", 400, `id "4294967296"`, ""},
		{"DELETE routes", "DELETE", "/v1/routes", "", 405, "method DELETE is not allowed on /v1/routes", "GET, POST"},
		{"GET withdraw", "GET", "/v1/routes/withdraw", "", 405, "not allowed", "POST"},
		{"POST status", "POST", "/v1/status", `{}`, 405, "not allowed", "GET"},
		{"PATCH log level", "PATCH", "/v1/log-level", `{"level":"debug"}`, 405, "not allowed", "GET, PUT"},
		{"GET es admin", "GET", "/v1/es/" + esi + "/admin", "", 405, "not allowed", "POST"},
		{"unknown path", "GET", "/v1/nope", "", 404, "no endpoint /v1/nope", ""},
		{"root", "GET", "/", "", 404, "no endpoint /", ""},
		{"below a leaf", "GET", "/v1/status/extra", "", 404, "no endpoint", ""},
		{"unversioned", "GET", "/status", "", 404, "no endpoint", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			resp, e, _ := ts.raw(t, tc.method, tc.path, body)
			if resp.StatusCode != tc.code || !strings.Contains(e.Error, tc.want) {
				t.Errorf("%s %s %q: %d %q, want %d with %q", tc.method, tc.path, tc.body, resp.StatusCode, e.Error, tc.code, tc.want)
			}
			if got := resp.Header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow: %q, want %q", got, tc.allow)
			}
			wantCalls(t, ts.fake)
		})
	}
}

// TestOversizedBody: a body over MaxBody is a 413 and nothing is applied,
// whether its length is announced or it comes chunked.
func TestOversizedBody(t *testing.T) {
	ts := mustServe(t, ServerOptions{}, true)
	big := func() io.Reader {
		// A syntactically fine start, then a string that never ends
		// before the limit.
		return io.MultiReader(strings.NewReader(`{"routes":[{"type":2,"rd":"`), &repeatReader{b: 'a', n: MaxBody})
	}
	t.Run("content-length", func(t *testing.T) {
		r := big()
		b, _ := io.ReadAll(r)
		resp, e, _ := ts.raw(t, "POST", "/v1/routes", bytes.NewReader(b))
		if resp.StatusCode != 413 || !strings.Contains(e.Error, "larger than the limit") {
			t.Errorf("%d %q, want 413", resp.StatusCode, e.Error)
		}
		wantCalls(t, ts.fake)
	})
	t.Run("chunked", func(t *testing.T) {
		resp, e, _ := ts.raw(t, "POST", "/v1/routes", struct{ io.Reader }{big()})
		if resp.StatusCode != 413 || !strings.Contains(e.Error, "nothing was applied") {
			t.Errorf("%d %q, want 413", resp.StatusCode, e.Error)
		}
		wantCalls(t, ts.fake)
	})
	t.Run("trailing space past the limit", func(t *testing.T) {
		body := io.MultiReader(strings.NewReader(`{"routes":[]}`), &repeatReader{b: ' ', n: MaxBody})
		resp, _, _ := ts.raw(t, "POST", "/v1/routes", struct{ io.Reader }{body})
		if resp.StatusCode != 413 {
			t.Errorf("%d, want 413", resp.StatusCode)
		}
		wantCalls(t, ts.fake)
	})
	t.Run("just under the limit", func(t *testing.T) {
		prefix := `{"routes":[{"type":2,"rd":"`
		body := io.MultiReader(strings.NewReader(prefix), &repeatReader{b: 'a', n: MaxBody - len(prefix) - 5}, strings.NewReader(`"}]}`))
		resp, e, _ := ts.raw(t, "POST", "/v1/routes", struct{ io.Reader }{body})
		if resp.StatusCode != 200 {
			t.Errorf("%d %q, want 200", resp.StatusCode, e.Error)
		}
		if calls := ts.fake.Calls(); len(calls) != 1 || calls[0].Method != "AddRoutes" {
			t.Errorf("calls %v, want one AddRoutes", len(calls))
		}
		ts.fake.reset()
	})
}

type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = r.b
	}
	r.n -= n
	return n, nil
}

// TestBackendErrors maps the Backend's errors to statuses; an unexpected
// error is logged and answered without its text.
func TestBackendErrors(t *testing.T) {
	ts := mustServe(t, ServerOptions{}, true)
	ctx := context.Background()
	cases := []struct {
		err  error
		code int
		want string
	}{
		{errWrap("es 03:00:00:00:00:00:00:00:00:09", ErrNotFound), 404, "es 03:00:00:00:00:00:00:00:00:09: not found"},
		{errWrap("route 1: vni 0", ErrInvalid), 400, "route 1: vni 0: invalid request"},
		{errWrap("dataplane not loaded", ErrUnavailable), 503, "dataplane not loaded: unavailable"},
		{errors.New("map fdb: secret detail"), 500, "internal error (request "},
		{context.DeadlineExceeded, 500, "internal error"},
	}
	for _, tc := range cases {
		ts.fake.setErr("AddRoutes", tc.err)
		_, err := ts.c.AddRoutes(ctx, RouteBatch{})
		var se *StatusError
		if !errors.As(err, &se) || se.Code != tc.code || !strings.Contains(se.Body.Error, tc.want) {
			t.Errorf("backend error %v: client got %v, want %d with %q", tc.err, err, tc.code, tc.want)
			continue
		}
		if tc.code == 500 {
			if strings.Contains(se.Body.Error+se.Body.Hint, "secret") {
				t.Errorf("500 body %+v carries the internal error", se.Body)
			}
			if !strings.Contains(ts.log.String(), tc.err.Error()) {
				t.Errorf("log has no %q:\n%s", tc.err, ts.log.String())
			}
		}
	}
	ts.fake.setErr("AddRoutes", nil)

	_, err := ts.c.SetLogLevel(ctx, "loud")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 400 || !strings.Contains(se.Body.Error, `log level "loud"`) {
		t.Errorf("SetLogLevel(loud): %v, want 400", err)
	}
	_, err = ts.c.NexthopGroup(ctx, 99)
	if !errors.As(err, &se) || se.Code != 404 || se.Body.Error != "nexthop group 99 not found" {
		t.Errorf("NexthopGroup(99): %v, want 404", err)
	}
	ts.fake.setErr("SetESAdmin", errWrap("es 03:00:00:00:00:00:00:00:00:09 is remote", ErrInvalid))
	_, err = ts.c.SetESAdmin(ctx, "03:00:00:00:00:00:00:00:00:09", false)
	if !errors.As(err, &se) || se.Code != 400 {
		t.Errorf("SetESAdmin on a remote ES: %v, want 400", err)
	}
	for _, c := range ts.fake.Calls() {
		if c.Method == "ESes" {
			t.Errorf("a failed SetESAdmin listed the ESes")
		}
	}
}

func errWrap(msg string, sentinel error) error {
	return &wrapped{msg: msg, err: sentinel}
}

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg + ": " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

// TestEvents: events arrive one line each, flushed as they happen; the
// stream ends when the client goes, when the backend closes it, and when
// the server shuts down.
func TestEvents(t *testing.T) {
	ev := func(i int) Event {
		return Event{Time: t0.Add(time.Duration(i) * time.Second), Type: "mac", Message: "mac learned", Fields: map[string]string{"n": string(rune('a' + i))}}
	}
	start := func(ts *testServer, ctx context.Context) (chan Event, chan error, context.Context) {
		got := make(chan Event)
		errc := make(chan error, 1)
		go func() {
			errc <- ts.c.Events(ctx, func(e Event) error { got <- e; return nil })
		}()
		select {
		case bctx := <-ts.fake.subscribed:
			return got, errc, bctx
		case err := <-errc:
			t.Fatalf("Events: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("the backend was not subscribed")
		}
		return nil, nil, nil
	}
	recv := func(got chan Event, want Event) {
		t.Helper()
		select {
		case e := <-got:
			wantEqual(t, "event", e, want)
		case <-time.After(5 * time.Second):
			t.Fatalf("event %q did not arrive: not flushed?", want.Fields["n"])
		}
	}
	ended := func(errc chan error, want error) {
		t.Helper()
		select {
		case err := <-errc:
			if !errors.Is(err, want) && err != want {
				t.Errorf("Events returned %v, want %v", err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the stream did not end")
		}
	}

	t.Run("outlives the read timeout", func(t *testing.T) {
		ts := mustServe(t, ServerOptions{ReadTimeout: 100 * time.Millisecond}, true)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got, _, _ := start(ts, ctx)
		time.Sleep(300 * time.Millisecond)
		ts.fake.events <- ev(0)
		recv(got, ev(0))
	})
	t.Run("client goes", func(t *testing.T) {
		ts := mustServe(t, ServerOptions{}, true)
		ctx, cancel := context.WithCancel(context.Background())
		got, errc, bctx := start(ts, ctx)
		for i := range 3 {
			// Each event is sent only once the previous one has
			// arrived: the server flushes every line.
			ts.fake.events <- ev(i)
			recv(got, ev(i))
		}
		cancel()
		ended(errc, context.Canceled)
		select {
		case <-bctx.Done():
		case <-time.After(5 * time.Second):
			t.Error("the backend's subscription did not end when the client went")
		}
	})
	t.Run("backend closes", func(t *testing.T) {
		ts := mustServe(t, ServerOptions{}, true)
		got, errc, _ := start(ts, context.Background())
		ts.fake.events <- ev(1)
		recv(got, ev(1))
		close(ts.fake.events)
		ended(errc, nil)
	})
	t.Run("server shuts down", func(t *testing.T) {
		ts := mustServe(t, ServerOptions{ShutdownTimeout: 3 * time.Second}, true)
		got, errc, _ := start(ts, context.Background())
		ts.fake.events <- ev(2)
		recv(got, ev(2))
		began := time.Now()
		if err := ts.stop(); err != nil {
			t.Errorf("shutdown with a stream open: %v", err)
		}
		if d := time.Since(began); d > 2*time.Second {
			t.Errorf("shutdown took %v: it waited for the stream", d)
		}
		ended(errc, nil)
	})
	t.Run("content type", func(t *testing.T) {
		ts := mustServe(t, ServerOptions{}, true)
		close(ts.fake.events)
		resp, _, body := ts.raw(t, "GET", "/v1/events", nil)
		if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" || len(body) != 0 {
			t.Errorf("Content-Type %q body %q", ct, body)
		}
	})
}

// TestListen: the socket's mode and group; a live daemon's socket is left
// alone, a stale one replaced, a non-socket refused; Shutdown removes it.
func TestListen(t *testing.T) {
	t.Run("mode and group", func(t *testing.T) {
		ts := mustServe(t, ServerOptions{}, true)
		fi, err := os.Lstat(ts.sock)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o660 || int(st.Gid) != testGID() {
			t.Errorf("socket %v gid %d, want socket 0660 gid %d", fi.Mode(), st.Gid, testGID())
		}
		if _, err := ts.c.Status(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := ts.stop(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(ts.sock); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("socket after Shutdown: %v, want it removed", err)
		}
		_, err = ts.c.Status(context.Background())
		if !errors.Is(err, ErrNotRunning) {
			t.Errorf("client after Shutdown: %v, want ErrNotRunning", err)
		}
	})
	t.Run("live daemon", func(t *testing.T) {
		ts := mustServe(t, ServerOptions{}, true)
		s2 := NewServer(newFake(), ServerOptions{GID: testGID(), Logger: slog.New(slog.DiscardHandler)})
		err := s2.Listen(ts.sock)
		if err == nil || !strings.Contains(err.Error(), "another daemon is serving on it") {
			t.Fatalf("second Listen: %v, want refused", err)
		}
		if _, err := ts.c.Status(context.Background()); err != nil {
			t.Errorf("first daemon after the refused second: %v", err)
		}
	})
	t.Run("stale socket", func(t *testing.T) {
		path := filepath.Join(mustSocketDir(t), "fwd.sock")
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		ln.SetUnlinkOnClose(false)
		ln.Close() // a daemon killed with -9 leaves this
		s := NewServer(newFake(), ServerOptions{GID: testGID(), Logger: slog.New(slog.DiscardHandler)})
		if err := s.Listen(path); err != nil {
			t.Fatalf("Listen over a stale socket: %v", err)
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("not a socket", func(t *testing.T) {
		path := filepath.Join(mustSocketDir(t), "fwd.sock")
		if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		s := NewServer(newFake(), ServerOptions{GID: testGID(), Logger: slog.New(slog.DiscardHandler)})
		err := s.Listen(path)
		if err == nil || !strings.Contains(err.Error(), "is not a socket") {
			t.Fatalf("Listen over a file: %v, want refused", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "keep me" {
			t.Errorf("the file was changed: %q", b)
		}
	})
	t.Run("missing directory is made", func(t *testing.T) {
		path := filepath.Join(mustSocketDir(t), "run", "fwd", "fwd.sock")
		s := NewServer(newFake(), ServerOptions{GID: testGID(), Logger: slog.New(slog.DiscardHandler)})
		if err := s.Listen(path); err != nil {
			t.Fatal(err)
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		for _, o := range []ServerOptions{{GID: -1}, {SocketMode: fs.ModeSetuid | 0o660}, {ShutdownTimeout: -time.Second}} {
			s := NewServer(newFake(), o)
			if err := s.Listen(filepath.Join(mustSocketDir(t), "fwd.sock")); err == nil {
				t.Errorf("Listen with %+v: no error", o)
			}
		}
	})
	t.Run("serve before listen", func(t *testing.T) {
		if err := NewServer(newFake(), ServerOptions{}).Serve(context.Background()); err == nil {
			t.Error("no error")
		}
	})
}

// TestMissingGroup: with no read group the socket is root-only and the
// refusal says how to fix it.
func TestMissingGroup(t *testing.T) {
	name := "fwdt-absent-" + strings.ReplaceAll(t.Name(), "/", "-")
	ts := mustServe(t, ServerOptions{Group: name}, true)
	fi, err := os.Lstat(ts.sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 without a read group", fi.Mode().Perm())
	}
	if !strings.Contains(ts.log.String(), "api read group does not exist") {
		t.Errorf("no warning in the log:\n%s", ts.log.String())
	}
	a, e := ts.s.pol.grant(peer{uid: 4321, gid: 4321})
	if a != accessNone || !strings.Contains(e.Error, "uid 4321 is not root, and the read group "+name+" does not exist") ||
		!strings.Contains(e.Hint, "groupadd "+name) {
		t.Errorf("grant: %v %+v", a, e)
	}
}

func TestPolicy(t *testing.T) {
	pol := policy{readGID: 500, hasGroup: true, groupName: "fwd"}
	cases := []struct {
		p    peer
		want access
		msg  string
	}{
		{peer{uid: 0, gid: 0}, accessWrite, ""},
		{peer{uid: 4321, gid: 500}, accessRead, ""},
		{peer{uid: 4321, gid: 4321, groups: []uint32{27, 500}}, accessRead, ""},
		{peer{uid: 4321, gid: 4321, groups: []uint32{27}}, accessNone, "uid 4321 is not root and not in group fwd"},
		{peer{uid: 0, err: errors.New("no creds")}, accessNone, "cannot tell who the caller is: no creds"},
	}
	for _, tc := range cases {
		a, e := pol.grant(tc.p)
		if a != tc.want {
			t.Errorf("grant(%+v) = %v, want %v", tc.p, a, tc.want)
		}
		if (e == nil) != (tc.msg == "") || (e != nil && !strings.Contains(e.Error, tc.msg)) {
			t.Errorf("grant(%+v) reason %+v, want %q", tc.p, e, tc.msg)
		}
	}
}

// TestNoCredentials: a connection that is not a unix socket has no
// credentials and gets nothing.
func TestNoCredentials(t *testing.T) {
	f := newFake()
	s := NewServer(f, ServerOptions{Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.hs.Serve(ln) }()
	defer func() { _ = s.Shutdown(context.Background()) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e Error
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != 403 || !strings.Contains(e.Error, "cannot tell who the caller is") {
		t.Errorf("%d %+v, want 403", resp.StatusCode, e)
	}
	wantCalls(t, f)
}

func TestDuplicateRegistrationPanics(t *testing.T) {
	before := len(handlers)
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "duplicate handler registration: GET /v1/status") {
			t.Errorf("recover() = %v, want the duplicate panic", r)
		}
		if len(handlers) != before {
			t.Errorf("the table changed")
		}
	}()
	register("GET /v1/status", accessRead, (*Server).getStatus)
}

// TestTableMatchesDoc: every endpoint in the table is in the package doc
// with its method, and the other way round.
func TestTableMatchesDoc(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(src), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "//"))
		if len(f) >= 2 && strings.HasPrefix(f[1], "/") && strings.ToUpper(f[0]) == f[0] {
			documented[f[0]+" "+strings.SplitN(f[1], "?", 2)[0]] = true
		}
	}
	for p := range handlers {
		if !documented[p] {
			t.Errorf("%s is served but not in doc.go", p)
		}
	}
	for p := range documented {
		if _, ok := handlers[p]; !ok {
			t.Errorf("%s is in doc.go but not served", p)
		}
	}
}
