package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of the package.
var (
	// ErrSpec reports a topology description that cannot be built; the
	// message says which part and why.
	ErrSpec = errors.New("invalid topology")
	// ErrClosed reports use of a closed Topology.
	ErrClosed = errors.New("topology closed")
)

// Options configure New and Build. A nil *Options means the defaults.
type Options struct {
	// Logger receives a debug line for every command run; nil discards.
	Logger *slog.Logger
	// Pin pins fwd's maps and XDP links under /sys/fs/bpf/<prefix>/<vtep>,
	// so that fwd keeps forwarding after the process exits: for topologies
	// left in place for inspection. Close removes the pins.
	Pin bool
}

// seq numbers the topologies of this process.
var seq atomic.Uint32

// closeTimeout bounds Close, which runs even when the build's context was
// cancelled.
const closeTimeout = 30 * time.Second

// Topology is a set of namespaces and what runs in them. Its methods are
// not safe for concurrent use: to stop a build half way (on a signal, say),
// cancel its context, then Close.
type Topology struct {
	prefix string
	log    *slog.Logger
	run    *runner
	pin    bool

	ns     []*NS
	byName map[string]*NS
	veths  []*Veth

	fwd    map[string]*FwdVTEP
	kernel map[string]*KernelVTEP
	hosts  map[string]*Host
	order  []string // hosts in Spec order
	vteps  []*VTEPInfo
	spec   Spec

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
}

// New starts an empty topology named "fwdlab-<pid>-<n>".
func New(opts *Options) *Topology {
	if opts == nil {
		opts = &Options{}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Topology{
		prefix: Prefix + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(int(seq.Add(1))),
		log:    log,
		run:    &runner{log: log},
		pin:    opts.Pin,
		byName: make(map[string]*NS),
		fwd:    make(map[string]*FwdVTEP),
		kernel: make(map[string]*KernelVTEP),
		hosts:  make(map[string]*Host),
	}
}

// Prefix returns the topology's name, the prefix of its namespaces.
func (t *Topology) Prefix() string { return t.prefix }

// Namespaces lists the topology's namespaces in creation order.
func (t *Topology) Namespaces() []*NS { return append([]*NS(nil), t.ns...) }

// NS returns the namespace called name, or nil.
func (t *Topology) NS(name string) *NS { return t.byName[name] }

// AddNS creates namespace name (as <prefix>-<name>) with lo up.
func (t *Topology) AddNS(ctx context.Context, name string) (*NS, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	if name == "" || t.byName[name] != nil {
		return nil, fmt.Errorf("namespace %q: empty or already taken: %w", name, ErrSpec)
	}
	n, err := createNS(ctx, t.run, name, t.prefix+"-"+name)
	if n != nil {
		// Registered even when half made, so that Close deletes it.
		t.ns = append(t.ns, n)
		t.byName[name] = n
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}

// End is one end of a veth pair.
type End struct {
	NS      *NS
	Name    string
	Ifindex int
	MAC     net.HardwareAddr
}

// Veth is a veth pair between two namespaces.
type Veth struct {
	A, B End
	MTU  int
}

// Peer returns the other end of the pair that has dev in ns, or false.
func (t *Topology) Peer(ns *NS, dev string) (End, bool) {
	for _, v := range t.veths {
		switch {
		case v.A.NS == ns && v.A.Name == dev:
			return v.B, true
		case v.B.NS == ns && v.B.Name == dev:
			return v.A, true
		}
	}
	return End{}, false
}

// AddVeth creates a veth pair, aName in a and bName in b, both with the
// given MTU (0: 1500), brings both ends up and reads back their indexes and
// MACs. Each end is created directly in its namespace, so names only need
// to be unique per namespace.
func (t *Topology) AddVeth(ctx context.Context, a *NS, aName string, b *NS, bName string, mtu int) (*Veth, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	if mtu == 0 {
		mtu = 1500
	}
	m := strconv.Itoa(mtu)
	if _, err := t.run.run(ctx, "ip", "link", "add", aName, "netns", a.Full, "mtu", m, "type", "veth",
		"peer", "name", bName, "netns", b.Full, "mtu", m); err != nil {
		return nil, err
	}
	v := &Veth{MTU: mtu, A: End{NS: a, Name: aName}, B: End{NS: b, Name: bName}}
	for _, e := range []*End{&v.A, &v.B} {
		// Static addresses only: no link-local address, router
		// solicitations or MLD reports cluttering fwd's counters.
		// (Two steps: in one, the kernel brings the link up first.)
		if err := e.NS.IP(ctx, "link", "set", e.Name, "addrgenmode", "none"); err != nil {
			return nil, err
		}
		if err := e.NS.IP(ctx, "link", "set", e.Name, "up"); err != nil {
			return nil, err
		}
		l, err := e.NS.link(e.Name)
		if err != nil {
			return nil, err
		}
		e.Ifindex, e.MAC = l.Attrs().Index, l.Attrs().HardwareAddr
	}
	t.veths = append(t.veths, v)
	return v, nil
}

// pinDir is where fwd VTEP name pins, or "" without Options.Pin.
func (t *Topology) pinDir(name string) string {
	if !t.pin {
		return ""
	}
	return filepath.Join(bpffsDir, t.prefix, name)
}

// Close removes everything the topology created: it stops the user-space
// hosts, closes every fwd dataplane (detaching its program and removing
// its pins) and deletes every namespace, which deletes the links in them.
// It gathers every error. Calling it again returns the first result.
func (t *Topology) Close() error {
	t.closeOnce.Do(func() {
		t.closed.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		var errs []error
		for _, h := range t.hosts {
			if h.tagged != nil {
				errs = append(errs, h.tagged.close())
			}
		}
		for name, f := range t.fwd {
			if err := f.close(); err != nil {
				errs = append(errs, fmt.Errorf("close fwd VTEP %s: %w", name, err))
			}
		}
		if t.pin {
			if err := os.RemoveAll(filepath.Join(bpffsDir, t.prefix)); err != nil {
				errs = append(errs, err)
			}
		}
		for i := len(t.ns) - 1; i >= 0; i-- {
			errs = append(errs, t.ns[i].delete(ctx))
		}
		t.closeErr = errors.Join(errs...)
	})
	return t.closeErr
}

// Release forgets the topology without deleting it: the namespaces (and,
// with Options.Pin, fwd's pinned programs) stay for inspection after the
// process exits; remove them with `ip netns del` or RemoveStale. The
// user-space hosts stop and unpinned fwd links detach.
func (t *Topology) Release() error {
	var errs []error
	t.closeOnce.Do(func() {
		t.closed.Store(true)
		for _, h := range t.hosts {
			if h.tagged != nil {
				errs = append(errs, h.tagged.close())
			}
		}
		for _, f := range t.fwd {
			errs = append(errs, f.release())
		}
		for _, n := range t.ns {
			n.release()
		}
	})
	return errors.Join(errs...)
}
