package lab_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/api"
	"github.com/fwdplane/fwd/bench/pktgen"
	"github.com/fwdplane/fwd/cmd/fwd/cli"
	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/internal/testutil"
	"github.com/fwdplane/fwd/lab"
)

// daemonArgsEnv makes the test binary run `fwd` with these arguments
// instead of the tests: the daemon tests start real daemon processes (in
// a namespace, with `ip netns exec`) so that they can kill -9 them.
const daemonArgsEnv = "FWD_LAB_DAEMON_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(daemonArgsEnv); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := cli.Run(ctx, strings.Fields(args))
		stop()
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "fwd:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const (
	dmnVNI    = 100
	dmnMACs   = 1000
	dmnStale  = 10
	dmnWindow = 2 * time.Second
)

var (
	dmnLocal  = netip.MustParseAddr("192.0.2.1")
	dmnRemote = netip.MustParseAddr("192.0.2.2")
	dmnMAC0   = [6]byte{0x02, 0xaa, 0, 0, 0, 0}
)

// daemonLab is a node running the fwd daemon (a separate process) with an
// access port fed by a live-frame generator and an uplink whose far end
// counts the VXLAN frames per outer destination.
type daemonLab struct {
	t      *testing.T
	top    *lab.Topology
	sut    *lab.NS
	gen    *lab.NS
	bench  *dataplane.Bench
	dir    string
	cfg    string
	pins   string
	sock   string
	client *api.Client
	g0     int
	// static and tail extend the config writeConfig writes: lines under
	// bridge domain dmnVNI (its static_macs), and top-level sections.
	static, tail string
}

func newDaemonLab(t *testing.T) *daemonLab {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "ip")
	ctx := context.Background()
	l := &daemonLab{t: t, top: lab.New(nil), dir: t.TempDir()}
	l.pins = filepath.Join("/sys/fs/bpf", l.top.Prefix()+"-pins")
	t.Cleanup(func() {
		if l.bench != nil {
			_ = l.bench.Close()
		}
		// The links are pinned: removing the pins detaches the program.
		_ = os.RemoveAll(l.pins)
		if err := l.top.Close(); err != nil {
			t.Errorf("close topology: %v", err)
		}
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	l.gen, err = l.top.AddNS(ctx, "gen")
	must(err)
	l.sut, err = l.top.AddNS(ctx, "fwd")
	must(err)
	sink, err := l.top.AddNS(ctx, "sink")
	must(err)
	in, err := l.top.AddVeth(ctx, l.gen, "g0", l.sut, "g1", 1600)
	must(err)
	up, err := l.top.AddVeth(ctx, l.sut, "u0", sink, "s0", 1600)
	must(err)
	l.g0 = in.A.Ifindex
	must(l.sut.AddAddr(ctx, "u0", netip.PrefixFrom(dmnLocal, 24)))
	must(l.sut.SetNeigh(ctx, "u0", dmnRemote, up.B.MAC))
	l.bench, err = dataplane.LoadBench()
	must(err)
	must(l.gen.Do(func() error { return l.bench.AttachPass(in.A.Ifindex) }))
	must(sink.Do(func() error { return l.bench.AttachSinkAddr(up.B.Ifindex, 0, 0, 30) }))

	l.sock = filepath.Join(l.dir, "fwd.sock")
	l.cfg = filepath.Join(l.dir, "fwd.yaml")
	l.writeConfig("")
	l.client = api.NewClient(l.sock)
	return l
}

// writeConfig writes the node's config, with extra appended to the
// access port's entry.
func (l *daemonLab) writeConfig(extra string) { l.writeConfigKeep(extra, true) }

// writeConfigKeep is writeConfig with keep_xdp_on_stop set to keep.
func (l *daemonLab) writeConfigKeep(extra string, keep bool) {
	l.t.Helper()
	cfg := fmt.Sprintf(`vtep4: %s
interfaces:
  - name: g1
    role: access
    untagged_vni: %d
    learn: false
%s  - name: u0
    role: uplink
bridge_domains:
  - vni: %d
%s  - vni: 200
api:
  socket: %s
log:
  format: text
  level: info
dataplane:
  pin_dir: %s
  fdb_size: 4096
  keep_xdp_on_stop: %v
%s`, dmnLocal, dmnVNI, extra, dmnVNI, l.static, l.sock, l.pins, keep, l.tail)
	if err := os.WriteFile(l.cfg, []byte(cfg), 0o600); err != nil {
		l.t.Fatal(err)
	}
}

// start runs `fwd daemon` in the node's namespace and waits for its API.
func (l *daemonLab) start() *lab.Daemon {
	l.t.Helper()
	self, err := os.Executable()
	if err != nil {
		l.t.Fatal(err)
	}
	env := []string{daemonArgsEnv + "=daemon --config " + l.cfg + " --restart-window " + dmnWindow.String()}
	ready := func(ctx context.Context) error { _, err := l.client.Status(ctx); return err }
	d, err := lab.StartDaemon(context.Background(), l.sut, []string{self}, env, ready, 20*time.Second)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() {
		d.Kill()
		if l.t.Failed() {
			l.t.Logf("daemon %d log:\n%s", d.PID(), d.Log())
		}
	})
	return d
}

// traffic sends frames to the dmnMACs MACs at a paced rate until stop is
// set, and returns the number it sent.
func (l *daemonLab) traffic(stop *atomic.Bool) <-chan uint64 {
	l.t.Helper()
	spec := pktgen.Spec{Flow: pktgen.Flow{SrcMAC: [6]byte{0x02, 0xcc, 0, 0, 0, 1}, DstMAC: dmnMAC0,
		Src: netip.MustParseAddr("198.18.0.1"), Dst: netip.MustParseAddr("198.18.0.2"), SrcPort: 1024, DstPort: 9}}
	tmpl, err := pktgen.Build(spec)
	if err != nil {
		l.t.Fatal(err)
	}
	cfg := dataplane.GenConfig{Flows: dmnMACs, MACs: dmnMACs, MACStride: 1, SrcPortOffset: uint16(spec.Offsets().SrcPort)}
	out := make(chan uint64, 1)
	go func() {
		var sent uint64
		err := l.gen.Do(func() error {
			var set unix.CPUSet
			set.Set(0)
			_ = unix.SchedSetaffinity(0, &set)
			for !stop.Load() {
				// 256 frames every 2 ms: about 128k frames/s, far below
				// what the path carries, so that any loss is the
				// restart's.
				r, err := l.bench.Generate(tmpl, uint32(l.g0), cfg, 256, 0)
				sent += r.Sent
				if err != nil {
					return err
				}
				time.Sleep(2 * time.Millisecond)
			}
			return nil
		})
		if err != nil {
			l.t.Errorf("generator: %v", err)
		}
		out <- sent
	}()
	return out
}

func (l *daemonLab) delivered() uint64 {
	l.t.Helper()
	c, err := l.bench.SinkAddrCounts()
	if err != nil {
		l.t.Fatal(err)
	}
	return c[dmnRemote.As4()[3]]
}

func (l *daemonLab) addMACs(start string, n int) {
	l.t.Helper()
	res, err := l.client.AddRoutes(context.Background(), api.RouteBatch{Generate: &api.Generator{Count: n, StartMAC: start, VNI: dmnVNI, NextHop: dmnRemote.String()}})
	if err != nil || res.Added != n || res.Rejected != 0 {
		l.t.Fatalf("inject %d routes: %+v %v", n, res, err)
	}
}

// events opens the daemon's event stream; the function it returns waits
// (5 s at most) for an event of type typ whose message contains contains.
func (l *daemonLab) events(ctx context.Context) func(typ, contains string) api.Event {
	l.t.Helper()
	events := make(chan api.Event, 256)
	go func() {
		_ = l.client.Events(ctx, func(ev api.Event) error {
			select {
			case events <- ev:
			case <-ctx.Done():
			}
			return nil
		})
	}()
	time.Sleep(100 * time.Millisecond) // the stream is open
	return func(typ, contains string) api.Event {
		l.t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case ev := <-events:
				if ev.Type == typ && strings.Contains(ev.Message, contains) {
					return ev
				}
			case <-timeout:
				l.t.Fatalf("no %s event saying %q", typ, contains)
			}
		}
	}
}

// TestDaemonRestartUnderTraffic: kill -9 of the daemon under live traffic
// loses no frame; the restarted daemon adopts the pinned fast path, takes
// the routes again, sweeps the ones nobody re-announced and says so; a
// clean stop leaves the program forwarding (keep_xdp_on_stop).
func TestDaemonRestartUnderTraffic(t *testing.T) {
	l := newDaemonLab(t)
	ctx := context.Background()
	d1 := l.start()
	l.addMACs("02:aa:00:00:00:00", dmnMACs)
	l.addMACs("02:bb:00:00:00:00", dmnStale) // not announced again after the restart
	if st, err := l.client.Status(ctx); err != nil || st.MACs != dmnMACs+dmnStale || st.Adopted {
		t.Fatalf("first daemon: %+v %v", st, err)
	}

	var stop atomic.Bool
	sentc := l.traffic(&stop)
	time.Sleep(300 * time.Millisecond)
	before := l.delivered()
	if before == 0 {
		t.Fatal("no traffic reaches the remote VTEP through the first daemon")
	}

	// kill -9, by PID: the pinned program and maps keep forwarding.
	if err := d1.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d1.Exited()
	dead := l.delivered()
	time.Sleep(300 * time.Millisecond)
	if l.delivered() == dead {
		t.Fatal("no traffic forwarded while no daemon runs")
	}
	d2 := l.start()
	st, err := l.client.Status(ctx)
	if err != nil || !st.Adopted {
		t.Fatalf("second daemon did not adopt the pinned state: %+v %v", st, err)
	}
	l.addMACs("02:aa:00:00:00:00", dmnMACs)
	deadline := time.Now().Add(dmnWindow + 10*time.Second)
	for len(st.Reconciled) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the restart sweep did not happen")
		}
		time.Sleep(100 * time.Millisecond)
		if st, err = l.client.Status(ctx); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	sent := <-sentc
	time.Sleep(100 * time.Millisecond) // the rings drain
	got := l.delivered()
	t.Logf("sent %d frames across kill -9 and restart, %d delivered; reconciled: %v", sent, got, st.Reconciled)
	if got != sent {
		t.Errorf("%d frames sent, %d delivered: %d lost", sent, got, int64(sent)-int64(got))
	}
	want := fmt.Sprintf("kept %d FDB entries re-announced, removed %d stale", dmnMACs, dmnStale)
	if !strings.Contains(strings.Join(st.Reconciled, "; "), want) {
		t.Errorf("reconciled %q, want %q", st.Reconciled, want)
	}
	if macs, err := l.client.MACs(ctx, api.MACFilter{}); err != nil || len(macs) != dmnMACs {
		t.Errorf("%d MACs after the sweep, want %d: %v", len(macs), dmnMACs, err)
	}
	if groups, err := l.client.L2NextHops(ctx); err != nil || len(groups) != 1 || !groups[0].Reachable {
		t.Errorf("l2 nexthops %+v: %v", groups, err)
	}

	// A clean stop keeps the program attached and forwarding.
	if err := d2.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-d2.Exited()
	if d2.Err() != nil {
		t.Fatalf("clean stop: %v\n%s", d2.Err(), d2.Log())
	}
	stop.Store(false)
	sentc = l.traffic(&stop)
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	<-sentc
	time.Sleep(50 * time.Millisecond)
	if l.delivered() == got {
		t.Error("nothing forwarded after a clean stop with keep_xdp_on_stop: true")
	}
}

// TestDaemonReload: SIGHUP with a bad file keeps the running config and
// says why on the event stream; with a good one it applies the difference
// (a VLAN map added to a port) and the API shows it.
func TestDaemonReload(t *testing.T) {
	l := newDaemonLab(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := l.start()
	st0, err := l.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent := l.events(ctx)

	good, err := os.ReadFile(l.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.cfg, []byte(strings.Replace(string(good), "vtep4: 192.0.2.1", "vtep4: 192.0.2.300", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent("config", "reload refused")
	if !strings.Contains(ev.Message, "vtep4") {
		t.Errorf("the refusal does not name the field: %q", ev.Message)
	}
	st, err := l.client.Status(ctx)
	if err != nil || !st.ConfigLoadedAt.Equal(st0.ConfigLoadedAt) || st.VTEP4 != dmnLocal.String() {
		t.Fatalf("after a bad reload: %+v %v", st, err)
	}

	// The fast path itself: a frame tagged 200 on g1 finds no bridge
	// domain before the reload, VNI 200 after.
	bd200 := func() bool {
		t.Helper()
		tr, err := l.client.Trace(ctx, api.TraceRequest{Interface: "g1", VLAN: 200, DstMAC: "02:dd:00:00:00:01"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tr.Steps {
			if s.What == "bridge domain" && s.Result == "vni 200" {
				return true
			}
		}
		return false
	}
	if bd200() {
		t.Fatal("VLAN 200 is bridged before it is configured")
	}
	l.writeConfig("    vlans:\n      - vlan: 200\n        vni: 200\n")
	if err := d.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitEvent("config", "reloaded")
	ifs, err := l.client.Interfaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var vlans []api.VLANMap
	for _, it := range ifs {
		if it.Name == "g1" {
			vlans = it.VLANs
		}
	}
	if len(vlans) != 1 || vlans[0] != (api.VLANMap{VLAN: 200, VNI: 200}) {
		t.Fatalf("g1's VLAN maps after the reload: %+v", vlans)
	}
	if !bd200() {
		t.Fatal("the fast path does not bridge VLAN 200 into VNI 200 after the reload")
	}
	if st, err := l.client.Status(ctx); err != nil || !st.ConfigLoadedAt.After(st0.ConfigLoadedAt) {
		t.Fatalf("after a good reload: %+v %v", st, err)
	}
	select {
	case <-d.Exited():
		t.Fatalf("the daemon exited: %v\n%s", d.Err(), d.Log())
	default:
	}
}

// TestDaemonStopDetaches: with keep_xdp_on_stop: false a clean stop
// detaches the program: the access port's frames stop reaching the remote
// VTEP.
func TestDaemonStopDetaches(t *testing.T) {
	l := newDaemonLab(t)
	l.writeConfigKeep("", false)
	d := l.start()
	l.addMACs("02:aa:00:00:00:00", dmnMACs)
	var stop atomic.Bool
	sentc := l.traffic(&stop)
	defer func() { stop.Store(true); <-sentc }()
	time.Sleep(200 * time.Millisecond)
	if l.delivered() == 0 {
		t.Fatal("no traffic through the daemon")
	}
	if err := d.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-d.Exited()
	if d.Err() != nil {
		t.Fatalf("clean stop: %v\n%s", d.Err(), d.Log())
	}
	time.Sleep(50 * time.Millisecond)
	before := l.delivered()
	time.Sleep(200 * time.Millisecond)
	if got := l.delivered(); got != before {
		t.Fatalf("%d frames forwarded after a clean stop with keep_xdp_on_stop: false", got-before)
	}
	if !strings.Contains(d.Log(), "the program is detached") {
		t.Errorf("the daemon did not say it detached:\n%s", d.Log())
	}
}

const (
	dmnESI       = "03:44:38:39:ff:ff:01:00:00:01"
	dmnStaticMAC = "02:ee:00:00:00:01"
	// dmnES puts g1 on an Ethernet Segment (ESI dmnESI).
	dmnES = `ethernet_segments:
  - name: host1
    interface: g1
    es_id: 1
    es_sys_mac: 44:38:39:ff:ff:01
    df_preference: 50000
`
	// dmnMH makes a local ES the DF as soon as it is up (no DF delay):
	// multihoming applies at a start, so it is in every config of a test.
	dmnMH = "multihoming:\n  df_delay: 0s\n"
)

// traceSteps runs a frame to dst through the loaded program, from iface
// (VXLAN from the remote VTEP when iface is the uplink), and returns its
// steps (what -> result, and what+" key" -> key) and the verdict's reason.
func (l *daemonLab) traceSteps(ctx context.Context, iface, dst string) (map[string]string, string) {
	l.t.Helper()
	r := api.TraceRequest{Interface: iface, DstMAC: dst}
	if iface == "u0" {
		r.VNI, r.OuterSrc, r.OuterDst = dmnVNI, dmnRemote.String(), dmnLocal.String()
	}
	tr, err := l.client.Trace(ctx, r)
	if err != nil {
		l.t.Fatalf("trace from %s: %v", iface, err)
	}
	steps := map[string]string{}
	for _, s := range tr.Steps {
		steps[s.What], steps[s.What+" key"] = s.Result, s.Key
	}
	return steps, tr.Reason
}

// localES is the daemon's local ES dmnESI, if it has it.
func (l *daemonLab) localES(ctx context.Context) (api.ES, bool) {
	l.t.Helper()
	ess, err := l.client.ESes(ctx)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, e := range ess {
		if e.ESI == dmnESI && e.Type == "local" {
			return e, true
		}
	}
	return api.ES{}, false
}

func (l *daemonLab) staticMAC(ctx context.Context) api.MAC {
	l.t.Helper()
	macs, err := l.client.MACs(ctx, api.MACFilter{MAC: dmnStaticMAC})
	if err != nil || len(macs) != 1 {
		l.t.Fatalf("static MAC %s: %+v %v", dmnStaticMAC, macs, err)
	}
	return macs[0]
}

func (l *daemonLab) iface(ctx context.Context, name string) api.Interface {
	l.t.Helper()
	ifs, err := l.client.Interfaces(ctx)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, it := range ifs {
		if it.Name == name {
			return it
		}
	}
	l.t.Fatalf("no interface %s in %+v", name, ifs)
	return api.Interface{}
}

// TestDaemonReloadES: a reload that adds an Ethernet Segment on a port
// applies it live (the API lists it, the static MAC on the port moves onto
// it, the fast path sends that MAC's frames to the ES and the port's entry
// carries it: a frame from the port to it is a hairpin), and a reload that
// removes it undoes all of it.
func TestDaemonReloadES(t *testing.T) {
	l := newDaemonLab(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.static = "    static_macs:\n      - mac: " + dmnStaticMAC + "\n        interface: g1\n"
	l.tail = dmnMH
	l.writeConfig("")
	d := l.start()
	waitEvent := l.events(ctx)
	l.addMACs("02:aa:00:00:00:00", 1) // the remote VTEP becomes known: its VXLAN is decapsulated

	noES := func(when string) {
		t.Helper()
		if e, ok := l.localES(ctx); ok {
			t.Fatalf("%s: a local ES is listed: %+v", when, e)
		}
		if m := l.staticMAC(ctx); m.Type != "local" || m.Interface != "g1" || m.ESI != "" {
			t.Fatalf("%s: static MAC %+v, want local on g1 without an ESI", when, m)
		}
		if steps, _ := l.traceSteps(ctx, "u0", dmnStaticMAC); steps["fdb"] != "local" || steps["ethernet segment key"] != "" {
			t.Fatalf("%s: VXLAN to the static MAC: %v, want the local port", when, steps)
		}
		if steps, _ := l.traceSteps(ctx, "g1", dmnStaticMAC); steps["fdb"] != "local" || steps["ethernet segment key"] != "" {
			t.Fatalf("%s: a frame from g1 to the static MAC: %v, want the local port", when, steps)
		}
		if it := l.iface(ctx, "g1"); it.ESI != "" {
			t.Fatalf("%s: g1 shows ESI %s", when, it.ESI)
		}
	}
	noES("before")

	l.tail = dmnMH + dmnES
	l.writeConfig("")
	if err := d.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent("config", "reloaded")
	if !strings.Contains(ev.Message, " 0 at the next start") {
		t.Errorf("the ES reload deferred something: %q", ev.Message)
	}
	e, ok := l.localES(ctx)
	if !ok || e.Interface != "g1" || !e.Up || !e.DF || e.DFPref != 50000 || e.MACs != 1 {
		t.Fatalf("after adding: local ES %+v (listed %v), want on g1, up, DF (no peers), preference 50000, the static MAC", e, ok)
	}
	if m := l.staticMAC(ctx); m.Type != "local" || m.ESI != dmnESI {
		t.Errorf("after adding: static MAC %+v, want on ES %s", m, dmnESI)
	}
	steps, _ := l.traceSteps(ctx, "u0", dmnStaticMAC)
	if steps["fdb"] != "es" || steps["ethernet segment key"] == "" {
		t.Errorf("after adding: VXLAN to the static MAC: %v, want its ES", steps)
	}
	// An ES entry in the FDB and a hairpin drop: the port's entry carries
	// the ES (without it, the frame would be sent to the ES's port).
	if steps, reason := l.traceSteps(ctx, "g1", dmnStaticMAC); steps["fdb"] != "es" || !strings.Contains(reason, "hairpin") {
		t.Errorf("after adding: a frame from g1 to a MAC on g1's ES: %v %q, want a hairpin drop on the ES", steps, reason)
	}
	if it := l.iface(ctx, "g1"); it.ESI != dmnESI {
		t.Errorf("after adding: g1 shows ESI %q", it.ESI)
	}

	// A change in place: the DF preference.
	l.tail = dmnMH + strings.Replace(dmnES, "50000", "100", 1)
	l.writeConfig("")
	if err := d.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitEvent("es", "df preference 50000 -> 100")
	if e, ok := l.localES(ctx); !ok || e.DFPref != 100 || e.Interface != "g1" {
		t.Errorf("after changing the preference: %+v", e)
	}

	l.tail = dmnMH
	l.writeConfig("")
	if err := d.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitEvent("es", "removed from g1")
	waitEvent("config", "reloaded")
	noES("after removing")
	select {
	case <-d.Exited():
		t.Fatalf("the daemon exited: %v\n%s", d.Err(), d.Log())
	default:
	}
}

// TestDaemonInterfaceRecreated: the access port deleted and created again
// (a new ifindex) under traffic: the daemon marks it down while it is
// gone, then re-attaches the program, writes the port entry for the new
// ifindex, moves the port's ES and static MAC there, and forwards again.
func TestDaemonInterfaceRecreated(t *testing.T) {
	l := newDaemonLab(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.static = "    static_macs:\n      - mac: " + dmnStaticMAC + "\n        interface: g1\n"
	l.tail = dmnMH + dmnES
	l.writeConfig("")
	d := l.start()
	waitEvent := l.events(ctx)
	l.addMACs("02:aa:00:00:00:00", dmnMACs)
	old := l.iface(ctx, "g1")

	forwards := func(when string) {
		t.Helper()
		var stop atomic.Bool
		before := l.delivered()
		sentc := l.traffic(&stop)
		time.Sleep(200 * time.Millisecond)
		stop.Store(true)
		sent := <-sentc
		time.Sleep(50 * time.Millisecond)
		if got := l.delivered() - before; sent == 0 || got != sent {
			t.Fatalf("%s: %d frames sent through g1, %d reached the remote VTEP", when, sent, got)
		}
	}
	forwards("before")

	if err := l.gen.IP(ctx, "link", "del", "g0"); err != nil { // and its peer g1
		t.Fatal(err)
	}
	waitEvent("interface", "g1 (ifindex "+fmt.Sprint(old.Ifindex)+") deleted")
	if it := l.iface(ctx, "g1"); it.Ifindex != 0 || it.Up || it.Attach != "" {
		t.Errorf("while deleted: g1 %+v, want no ifindex, down, nothing attached", it)
	}
	if e, ok := l.localES(ctx); !ok || e.Up {
		t.Errorf("while deleted: its ES %+v should be down", e)
	}

	v, err := l.top.AddVeth(ctx, l.gen, "g0", l.sut, "g1", 1600)
	if err != nil {
		t.Fatal(err)
	}
	if v.B.Ifindex == old.Ifindex {
		t.Fatalf("g1 came back with the same ifindex %d: the test proves nothing", old.Ifindex)
	}
	l.g0 = v.A.Ifindex
	if err := l.gen.Do(func() error { return l.bench.AttachPass(v.A.Ifindex) }); err != nil {
		t.Fatal(err)
	}
	waitEvent("interface", fmt.Sprintf("g1 is back as ifindex %d", v.B.Ifindex))
	deadline := time.Now().Add(5 * time.Second)
	for {
		it := l.iface(ctx, "g1")
		e, _ := l.localES(ctx)
		if it.Ifindex == v.B.Ifindex && it.Attach != "" && it.Up && e.Up {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after re-creation: g1 %+v, ES %+v: want ifindex %d, attached, both up", it, e, v.B.Ifindex)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if e, _ := l.localES(ctx); e.Interface != "g1" {
		t.Errorf("the ES's port is %q, want g1 (its new ifindex)", e.Interface)
	}
	if m := l.staticMAC(ctx); m.Interface != "g1" || m.ESI != dmnESI {
		t.Errorf("the static MAC %+v should be on g1's new ifindex, on the ES", m)
	}
	if steps, reason := l.traceSteps(ctx, "g1", dmnStaticMAC); steps["fdb"] != "es" || !strings.Contains(reason, "hairpin") {
		t.Errorf("a frame from the new g1 to a MAC on its ES: %v %q, want a hairpin drop on the ES (the new port entry carries it)", steps, reason)
	}
	forwards("after re-creation")
	select {
	case <-d.Exited():
		t.Fatalf("the daemon exited: %v\n%s", d.Err(), d.Log())
	default:
	}
}
