package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fwdplane/fwd/internal/testutil"
)

// The credential tests run requests from a child process (this test binary
// again, running TestHelperProcess) under another uid and groups, so the
// server sees real SO_PEERCRED credentials.

const (
	helperEnv   = "FWD_API_HELPER"
	helperSock  = "FWD_API_SOCKET"
	helperReqs  = "FWD_API_REQUESTS"
	helperMark  = "FWD-API-HELPER-RESULT "
	nobodyUID   = 65534
	nogroupGID  = 65534
	helperLimit = 30 * time.Second
)

type helperRequest struct {
	Method, Path, Body string
}

type helperResult struct {
	Code  int
	Error string // the daemon's Error, or the client's error
	Hint  string
}

// TestHelperProcess is not a test: the credential tests run it as another
// user. It sends the requests in $FWD_API_REQUESTS to $FWD_API_SOCKET with
// the Client and prints what came back.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	var reqs []helperRequest
	if err := json.Unmarshal([]byte(os.Getenv(helperReqs)), &reqs); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	c := NewClient(os.Getenv(helperSock))
	ctx, cancel := context.WithTimeout(context.Background(), helperLimit)
	defer cancel()
	var out []helperResult
	for _, rq := range reqs {
		var body io.Reader
		if rq.Body != "" {
			body = strings.NewReader(rq.Body)
		}
		var res helperResult
		resp, err := c.send(ctx, rq.Method, rq.Path, body)
		var se *StatusError
		switch {
		case errors.As(err, &se):
			res = helperResult{Code: se.Code, Error: se.Body.Error, Hint: se.Body.Hint}
		case err != nil:
			res.Error = err.Error()
		default:
			res.Code = resp.StatusCode
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		out = append(out, res)
	}
	b, _ := json.Marshal(out)
	fmt.Println(helperMark + string(b))
	os.Exit(0)
}

// runAs runs the requests from a child process with the credentials and
// returns one result per request.
func runAs(t *testing.T, cred *syscall.Credential, sock string, reqs ...helperRequest) []helperResult {
	t.Helper()
	// The test binary sits in a 0700 build directory: copy it where the
	// child's uid can run it.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(filepath.Dir(sock), "api.test")
	if _, err := os.Stat(bin); err != nil {
		b, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rq, _ := json.Marshal(reqs)
	ctx, cancel := context.WithTimeout(context.Background(), helperLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.run=^TestHelperProcess$")
	cmd.Env = []string{helperEnv + "=1", helperSock + "=" + sock, helperReqs + "=" + string(rq), "PATH=/usr/bin:/bin"}
	cmd.Dir = filepath.Dir(sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("helper as uid %d: %v\n%s%s", cred.Uid, err, out, ee.Stderr)
		}
		t.Fatalf("helper as uid %d: %v", cred.Uid, err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), helperMark); ok {
			var res []helperResult
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				t.Fatal(err)
			}
			if len(res) != len(reqs) {
				t.Fatalf("helper answered %d requests of %d", len(res), len(reqs))
			}
			return res
		}
	}
	t.Fatalf("helper printed no result:\n%s", out)
	return nil
}

// mustGroup creates a group with a unique name for the test and deletes it
// after; it returns the name and gid.
func mustGroup(t *testing.T) (string, uint32) {
	t.Helper()
	groupadd := testutil.RequireCommand(t, "groupadd")
	groupdel := testutil.RequireCommand(t, "groupdel")
	name := fmt.Sprintf("fwdt-api-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	if out, err := exec.Command(groupadd, "--system", name).CombinedOutput(); err != nil {
		t.Fatalf("groupadd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(groupdel, name).CombinedOutput(); err != nil {
			t.Errorf("groupdel %s: %v: %s", name, err, out)
		}
	})
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	gid, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return name, uint32(gid)
}

var (
	reqStatus   = helperRequest{Method: "GET", Path: "/v1/status"}
	reqMetrics  = helperRequest{Method: "GET", Path: "/metrics"}
	reqTrace    = helperRequest{Method: "POST", Path: "/v1/trace", Body: `{"interface":"swp1"}`}
	reqAdd      = helperRequest{Method: "POST", Path: "/v1/routes", Body: `{"routes":[{"type":2,"mac":"aa:bb:cc:00:00:01","vni":100,"nexthop":"192.0.2.9"}]}`}
	reqLogLevel = helperRequest{Method: "PUT", Path: "/v1/log-level", Body: `{"level":"debug"}`}
	reqESDown   = helperRequest{Method: "POST", Path: "/v1/es/03:44:38:39:ff:ff:01:00:00:01/admin", Body: `{"up":false}`}
)

// TestRefusedOutsideGroup: a uid that is neither root nor in the read
// group gets 403 with who it is and what to do, for reads and writes, and
// the backend hears nothing.
func TestRefusedOutsideGroup(t *testing.T) {
	testutil.RequireRoot(t)
	name, _ := mustGroup(t)
	// 0666 lets nobody connect, to see the 403 rather than EACCES.
	ts := mustServe(t, ServerOptions{Group: name, SocketMode: 0o666}, false)
	res := runAs(t, &syscall.Credential{Uid: nobodyUID, Gid: nogroupGID, Groups: []uint32{}}, ts.sock,
		reqStatus, reqMetrics, reqTrace, reqAdd, reqLogLevel)
	who := "uid 65534"
	if u, err := user.LookupId("65534"); err == nil {
		who += " (" + u.Username + ")"
	}
	for i, r := range res {
		want := who + " is not root and not in group " + name
		if r.Code != 403 || r.Error != want || !strings.Contains(r.Hint, "run as root or add the user to group "+name) {
			t.Errorf("request %d: %d %q (hint %q), want 403 %q", i, r.Code, r.Error, r.Hint, want)
		}
	}
	wantCalls(t, ts.fake)
	if !strings.Contains(ts.log.String(), "api request refused") {
		t.Errorf("refusals not logged:\n%s", ts.log.String())
	}
}

// TestSocketModeKeepsOthersOut: with the default mode 0660 a uid outside
// the group cannot even connect, and the client says what to do.
func TestSocketModeKeepsOthersOut(t *testing.T) {
	testutil.RequireRoot(t)
	name, _ := mustGroup(t)
	ts := mustServe(t, ServerOptions{Group: name}, false)
	res := runAs(t, &syscall.Credential{Uid: nobodyUID, Gid: nogroupGID, Groups: []uint32{}}, ts.sock, reqStatus)
	if res[0].Code != 0 || !strings.Contains(res[0].Error, "permission denied: run as root or as a member of the fwd group") {
		t.Errorf("%+v, want the client's permission-denied error", res[0])
	}
	wantCalls(t, ts.fake)
}

// TestGroupMemberReadsOnly: a member of the read group, by a
// supplementary or by its primary group, connects through the 0660 socket,
// reads (GET, /metrics, POST /v1/trace) and is refused every write.
func TestGroupMemberReadsOnly(t *testing.T) {
	testutil.RequireRoot(t)
	name, gid := mustGroup(t)
	ts := mustServe(t, ServerOptions{Group: name}, false)
	for _, tc := range []struct {
		how  string
		cred *syscall.Credential
	}{
		{"supplementary", &syscall.Credential{Uid: nobodyUID, Gid: nogroupGID, Groups: []uint32{gid}}},
		{"primary", &syscall.Credential{Uid: nobodyUID, Gid: gid, Groups: []uint32{}}},
	} {
		t.Run(tc.how, func(t *testing.T) {
			res := runAs(t, tc.cred, ts.sock, reqStatus, reqMetrics, reqTrace, reqAdd, reqLogLevel, reqESDown)
			for i, r := range res[:3] {
				if r.Code != 200 {
					t.Errorf("read %d: %+v, want 200", i, r)
				}
			}
			for i, r := range res[3:] {
				if r.Code != 403 || !strings.Contains(r.Error, "changes the daemon's state and needs root") ||
					!strings.Contains(r.Error, "may only read (group "+name+")") || !strings.Contains(r.Hint, "writes need root") {
					t.Errorf("write %d: %+v, want 403 saying writes need root", i, r)
				}
			}
			wantCalls(t, ts.fake, call{"Status", nil}, call{"Metrics", nil}, call{"Trace", TraceRequest{Interface: "swp1"}})
		})
	}
	// Root, for contrast, writes.
	res := runAs(t, &syscall.Credential{Uid: 0, Gid: 0}, ts.sock, reqLogLevel)
	if res[0].Code != 200 {
		t.Errorf("root PUT /v1/log-level: %+v", res[0])
	}
	wantCalls(t, ts.fake, call{"SetLogLevel", "debug"}, call{"LogLevel", nil})
}

// TestReadGroupByGID: ServerOptions.GID names the read group by number; a
// gid with no name in /etc/group is printed as a number.
func TestReadGroupByGID(t *testing.T) {
	testutil.RequireRoot(t)
	const gid = 4242424
	if _, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		t.Skipf("gid %d exists here", gid)
	}
	ts := mustServe(t, ServerOptions{GID: gid}, false)
	fi, err := os.Lstat(ts.sock)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Gid != gid {
		t.Errorf("socket gid %d, want %d", st.Gid, gid)
	}
	res := runAs(t, &syscall.Credential{Uid: nobodyUID, Gid: nogroupGID, Groups: []uint32{gid}}, ts.sock, reqStatus, reqAdd)
	if res[0].Code != 200 || res[1].Code != 403 || !strings.Contains(res[1].Error, "(group 4242424)") {
		t.Errorf("%+v", res)
	}
}

// TestIdentifySelf: identify reads this process's own credentials over a
// real socket pair.
func TestIdentifySelf(t *testing.T) {
	path := filepath.Join(mustSocketDir(t), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	p := identify(sc)
	if p.err != nil {
		t.Fatal(p.err)
	}
	groups, _ := os.Getgroups()
	got := make([]int, len(p.groups))
	for i, g := range p.groups {
		got[i] = int(g)
	}
	slices.Sort(got)
	slices.Sort(groups)
	if int(p.uid) != os.Geteuid() || int(p.gid) != os.Getegid() || int(p.pid) != os.Getpid() || !slices.Equal(got, groups) {
		t.Errorf("identify = %+v, want uid %d gid %d pid %d groups %v", p, os.Geteuid(), os.Getegid(), os.Getpid(), groups)
	}
	if p := identify(&net.TCPConn{}); p.err == nil {
		t.Error("identify of a TCP conn: no error")
	}
}

// TestProcGroups: the /proc fallback reads Groups only while the pid is
// still the caller's.
func TestProcGroups(t *testing.T) {
	groups, err := procGroups("/proc", int32(os.Getpid()), uint32(os.Getuid()))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.Getgroups()
	got := make([]int, len(groups))
	for i, g := range groups {
		got[i] = int(g)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("own groups %v, want %v", got, want)
	}
	if _, err := procGroups("/proc", int32(os.Getpid()), uint32(os.Getuid())+1); err == nil || !strings.Contains(err.Error(), "the caller has gone") {
		t.Errorf("pid of another uid: %v", err)
	}
	dir := t.TempDir()
	if _, err := procGroups(dir, 12345, 0); err == nil {
		t.Error("a gone pid: no error")
	}
	if _, err := procGroups("/proc", 0, 0); err == nil {
		t.Error("pid 0: no error")
	}
	for name, status := range map[string]string{
		"no groups line": "Name:\tx\nUid:\t1000\t1000\t1000\t1000\n",
		"bad group":      "Uid:\t1000\t1000\t1000\t1000\nGroups:\t4 x\n",
		"bad uid":        "Uid:\tx\nGroups:\t4\n",
	} {
		if _, err := parseProcStatus(strings.NewReader(status), 1, 1000); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	g, err := parseProcStatus(strings.NewReader("Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\nGroups:\t4 24 27 \n"), 1, 1000)
	if err != nil || !slices.Equal(g, []uint32{4, 24, 27}) {
		t.Errorf("parse: %v %v", g, err)
	}
}
