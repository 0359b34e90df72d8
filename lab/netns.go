package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Prefix starts the name of every namespace and pin directory the package
// creates: "fwdlab-<pid>-<n>-<name>".
const Prefix = "fwdlab-"

const (
	netnsDir = "/run/netns"
	bpffsDir = "/sys/fs/bpf"
)

// runner runs the ip, bridge and ethtool commands that build a topology.
type runner struct {
	log *slog.Logger
}

func (r *runner) run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r.log.Debug("exec", "cmd", strings.Join(cmd.Args, " "))
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if msg != "" {
			return "", fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, msg)
		}
		return "", fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	return stdout.String(), nil
}

// NS is a network namespace of a topology.
type NS struct {
	// Name is the namespace's name in the topology ("h1", "vtep1").
	Name string
	// Full is its name under /run/netns ("fwdlab-4242-1-h1"), the one that
	// `ip netns exec` takes.
	Full string

	run    *runner
	handle netns.NsHandle
	nl     *netlink.Handle
}

func createNS(ctx context.Context, r *runner, name, full string) (*NS, error) {
	if _, err := r.run(ctx, "ip", "netns", "add", full); err != nil {
		return nil, err
	}
	n := &NS{Name: name, Full: full, run: r, handle: -1}
	var err error
	if n.handle, err = netns.GetFromName(full); err != nil {
		n.handle = -1
		return n, fmt.Errorf("open netns %s: %w", full, err)
	}
	if n.nl, err = netlink.NewHandleAt(n.handle); err != nil {
		return n, fmt.Errorf("netlink in netns %s: %w", full, err)
	}
	if err := n.IP(ctx, "link", "set", "lo", "up"); err != nil {
		return n, err
	}
	return n, nil
}

// release closes the package's own references to the namespace, which
// would keep it alive after `ip netns del`.
func (n *NS) release() {
	if n.nl != nil {
		n.nl.Close()
		n.nl = nil
	}
	if n.handle >= 0 {
		n.handle.Close()
		n.handle = -1
	}
}

func (n *NS) delete(ctx context.Context) error {
	n.release()
	_, err := n.run.run(ctx, "ip", "netns", "del", n.Full)
	return err
}

func (n *NS) String() string { return n.Full }

// Do runs fn on an OS thread inside the namespace. Sockets fn opens stay in
// the namespace after it returns; so do XDP attachments and the devmap
// entries the dataplane writes (the kernel resolves their ifindexes in the
// caller's namespace). The thread is discarded afterwards, never reused.
func (n *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the goroutine's exit ends the thread, so no
		// other goroutine ever runs in the namespace by accident.
		runtime.LockOSThread()
		if err := netns.Set(n.handle); err != nil {
			errc <- fmt.Errorf("enter netns %s: %w", n.Full, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// IP runs `ip -n NS args...`.
func (n *NS) IP(ctx context.Context, args ...string) error {
	_, err := n.run.run(ctx, "ip", append([]string{"-n", n.Full}, args...)...)
	return err
}

// Exec runs a command inside the namespace (`ip netns exec`) and returns
// its standard output.
func (n *NS) Exec(ctx context.Context, name string, args ...string) (string, error) {
	return n.run.run(ctx, "ip", append([]string{"netns", "exec", n.Full, name}, args...)...)
}

func (n *NS) link(dev string) (netlink.Link, error) {
	l, err := n.nl.LinkByName(dev)
	if err != nil {
		return nil, fmt.Errorf("netns %s: link %s: %w", n.Name, dev, err)
	}
	return l, nil
}

// Ifindex returns the index of dev inside the namespace.
func (n *NS) Ifindex(dev string) (int, error) {
	l, err := n.link(dev)
	if err != nil {
		return 0, err
	}
	return l.Attrs().Index, nil
}

// MAC returns the hardware address of dev.
func (n *NS) MAC(dev string) (net.HardwareAddr, error) {
	l, err := n.link(dev)
	if err != nil {
		return nil, err
	}
	return l.Attrs().HardwareAddr, nil
}

// AddAddr adds an address to dev; IPv6 addresses skip duplicate address
// detection, so they work at once.
func (n *NS) AddAddr(ctx context.Context, dev string, p netip.Prefix) error {
	args := []string{"addr", "add", p.String(), "dev", dev}
	if p.Addr().Is6() {
		args = append(args, "nodad")
	}
	return n.IP(ctx, args...)
}

// SetNeigh installs a permanent neighbour entry: ip on dev is at mac.
func (n *NS) SetNeigh(ctx context.Context, dev string, ip netip.Addr, mac net.HardwareAddr) error {
	return n.IP(ctx, "neigh", "replace", ip.String(), "lladdr", mac.String(), "dev", dev, "nud", "permanent")
}

// SetGRO switches GRO on dev on or off. GRO gives a veth NAPI, without
// which frames XDP-redirected into its peer are dropped.
func (n *NS) SetGRO(ctx context.Context, dev string, on bool) error {
	v := "off"
	if on {
		v = "on"
	}
	_, err := n.Exec(ctx, "ethtool", "-K", dev, "gro", v)
	return err
}

// RemoveStale deletes the namespaces and bpffs pin directories that
// topologies of dead processes left behind (a run that was killed, or one
// kept with Options.Pin whose process has exited). With all, it deletes
// those of live processes too, this one's included. It returns the names it
// removed.
func RemoveStale(ctx context.Context, all bool) ([]string, error) {
	stale := func(name string) bool {
		rest, ok := strings.CutPrefix(name, Prefix)
		if !ok {
			return false
		}
		if all {
			return true
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 {
			return false
		}
		return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	}
	r := &runner{log: slog.New(slog.DiscardHandler)}
	var removed []string
	var errs []error
	if ents, err := os.ReadDir(netnsDir); err == nil {
		for _, e := range ents {
			if stale(e.Name()) {
				if _, err := r.run(ctx, "ip", "netns", "del", e.Name()); err != nil {
					errs = append(errs, err)
					continue
				}
				removed = append(removed, e.Name())
			}
		}
	}
	if ents, err := os.ReadDir(bpffsDir); err == nil {
		for _, e := range ents {
			if e.IsDir() && stale(e.Name()) {
				if err := os.RemoveAll(filepath.Join(bpffsDir, e.Name())); err != nil {
					errs = append(errs, err)
					continue
				}
				removed = append(removed, filepath.Join(bpffsDir, e.Name()))
			}
		}
	}
	return removed, errors.Join(errs...)
}
