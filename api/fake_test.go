package api

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// call is one Backend call the fake saw.
type call struct {
	Method string
	Arg    any
}

// fakeBackend answers with fixed data, records every call, and returns the
// error set for a method instead when there is one.
type fakeBackend struct {
	mu    sync.Mutex
	calls []call
	errs  map[string]error
	level string

	// events feeds subscribers; closing it ends their streams.
	events chan Event
	// subscribed receives the context of each Subscribe call.
	subscribed chan context.Context
}

func newFake() *fakeBackend {
	return &fakeBackend{
		errs:       map[string]error{},
		level:      "info",
		events:     make(chan Event),
		subscribed: make(chan context.Context, 4),
	}
}

func (f *fakeBackend) record(method string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{method, arg})
	return f.errs[method]
}

func (f *fakeBackend) setErr(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[method] = err
}

// Calls returns the calls so far.
func (f *fakeBackend) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeBackend) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

var (
	t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	fakeStatus = Status{
		Version: "test", PID: 42, StartedAt: t0, ConfigFile: "/etc/fwd/fwd.yaml", ConfigLoadedAt: t0,
		VTEP4: "192.0.2.1", Interfaces: 3, BDs: 2, ESes: 1, MACs: 10, Groups: 2, Routes: 12,
		Loop: Loop{Calls: 7, LatencyP50US: 1.5, LatencyP99US: 9},
	}
	fakeInterfaces = []Interface{
		{Name: "swp1", Ifindex: 4, Role: "access", Up: true, Attach: "native", MTU: 1500,
			ESI: "03:44:38:39:ff:ff:01:00:00:01", VLANs: []VLANMap{{VLAN: 10, VNI: 100}}},
		{Name: "uplink0", Ifindex: 5, Role: "uplink", Up: true, Attach: "generic", MTU: 9000},
	}
	fakeBDs    = []BridgeDomain{{VNI: 100, Ports: []BDPort{{Interface: "swp1", VLAN: 10}}, Flood: []string{"192.0.2.2"}, MACs: 4}}
	fakeMACs   = []MAC{{VNI: 100, MAC: "aa:bb:cc:00:00:01", Type: "remote", VTEP: "192.0.2.2", Seq: 3}}
	fakeESes   = []ES{{ESI: "03:44:38:39:ff:ff:01:00:00:01", Type: "local", Interface: "swp1", Up: true, Admin: true, DF: true, VTEPs: []ESVTEP{{VTEP: "192.0.2.2", Active: true, EADPerES: true, EVIs: 1}}, MACs: 2, BackupGroup: 9}}
	fakeESEVIs = []ESEVI{{ESI: "03:44:38:39:ff:ff:01:00:00:01", VNI: 100, Type: "local", VTEPs: []string{"192.0.2.2"}}}
	fakeL2NHs  = []L2NextHop{{VTEP: "192.0.2.2", ID: 0x10000001, Reachable: true, Interface: "uplink0", Refs: 3}}
	fakeGroups = []NexthopGroup{
		{ID: 7, Owner: "es", State: "installed", Members: []GroupMember{{ID: 1, VTEP: "192.0.2.2", Weight: 1, Backups: []uint32{2}, Buckets: 64}}, Buckets: 64, Refs: 1},
		{ID: 9, Owner: "backup", State: "pending", Members: []GroupMember{}},
	}
	fakeRoutes   = []Route{{Type: 2, Prefix: "[2]:[0]:[48]:[aa:bb:cc:00:00:01]", RD: "192.0.2.2:100", MAC: "aa:bb:cc:00:00:01", VNI: 100, NextHop: "192.0.2.2", Source: "bgp"}}
	fakeCounters = Counters{Counters: []Counter{{Name: "fwd_encap", Value: 10}, {Name: "drop_no_bd", Value: 2}}}
	fakeMetrics  = Metrics{
		Counters:    fakeCounters.Counters,
		Maps:        []MapUsage{{Name: "fdb", Entries: 10, Max: 1 << 20}},
		Groups:      map[string]int{"installed": 1, "pending": 1},
		ESes:        map[string]int{"df": 1},
		Routes:      map[int]int{2: 10, 3: 2},
		LoopLatency: Histogram{Bounds: []float64{0.001}, Counts: []uint64{3}, Inf: 1, Sum: 0.02, Count: 4},
		LoopWrites:  map[string]uint64{"fdb": 10},
	}
	fakeRouteResult = RouteResult{Added: 2, Rejected: 1, Errors: []string{"route 3: no vni"}, ElapsedUS: 12.5, RoutesPerSecond: 160000}
	fakeTrace       = TraceResult{Action: "redirect", Reason: "fwd_encap", Egress: "uplink0", Steps: []TraceStep{{What: "fdb", Key: "100 aa:bb:cc:00:00:01", Result: "es 03:44:38:39:ff:ff:01:00:00:01"}}}
)

func (f *fakeBackend) Status(context.Context) (Status, error) {
	return fakeStatus, f.record("Status", nil)
}

func (f *fakeBackend) Interfaces(context.Context) ([]Interface, error) {
	return fakeInterfaces, f.record("Interfaces", nil)
}

func (f *fakeBackend) BridgeDomains(context.Context) ([]BridgeDomain, error) {
	return fakeBDs, f.record("BridgeDomains", nil)
}

func (f *fakeBackend) MACs(_ context.Context, flt MACFilter) ([]MAC, error) {
	return fakeMACs, f.record("MACs", flt)
}

func (f *fakeBackend) ESes(context.Context) ([]ES, error) {
	return fakeESes, f.record("ESes", nil)
}

func (f *fakeBackend) ESEVIs(context.Context) ([]ESEVI, error) {
	return fakeESEVIs, f.record("ESEVIs", nil)
}

func (f *fakeBackend) L2NextHops(context.Context) ([]L2NextHop, error) {
	return fakeL2NHs, f.record("L2NextHops", nil)
}

func (f *fakeBackend) NexthopGroups(context.Context) ([]NexthopGroup, error) {
	return fakeGroups, f.record("NexthopGroups", nil)
}

func (f *fakeBackend) Routes(_ context.Context, flt RouteFilter) ([]Route, error) {
	return fakeRoutes, f.record("Routes", flt)
}

func (f *fakeBackend) Counters(context.Context) (Counters, error) {
	return fakeCounters, f.record("Counters", nil)
}

func (f *fakeBackend) Metrics(context.Context) (Metrics, error) {
	return fakeMetrics, f.record("Metrics", nil)
}

func (f *fakeBackend) LogLevel() string {
	_ = f.record("LogLevel", nil)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.level
}

func (f *fakeBackend) SetLogLevel(level string) error {
	if err := f.record("SetLogLevel", level); err != nil {
		return err
	}
	switch level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log level %q: want debug, info, warn or error: %w", level, ErrInvalid)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.level = level
	return nil
}

func (f *fakeBackend) AddRoutes(_ context.Context, b RouteBatch) (RouteResult, error) {
	return fakeRouteResult, f.record("AddRoutes", b)
}

func (f *fakeBackend) WithdrawRoutes(_ context.Context, b RouteBatch) (RouteResult, error) {
	return RouteResult{Withdrawn: len(b.Routes)}, f.record("WithdrawRoutes", b)
}

func (f *fakeBackend) SetESAdmin(_ context.Context, esi string, up bool) error {
	return f.record("SetESAdmin", [2]any{esi, up})
}

func (f *fakeBackend) Trace(_ context.Context, r TraceRequest) (TraceResult, error) {
	return fakeTrace, f.record("Trace", r)
}

// Subscribe relays f.events until ctx ends or f.events is closed.
func (f *fakeBackend) Subscribe(ctx context.Context) <-chan Event {
	_ = f.record("Subscribe", nil)
	out := make(chan Event)
	f.subscribed <- ctx
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-f.events:
				if !ok {
					return
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
