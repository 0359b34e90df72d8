package testutil

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// NetNSPrefix starts the name of every namespace NewNetNS makes, so a
// namespace a crashed test left behind is easy to find and remove:
//
//	ip -all netns list | grep ^fwdt- | xargs -rn1 ip netns del
const NetNSPrefix = "fwdt-"

// NetNS is a named network namespace that belongs to one test. NewNetNS makes
// it; the test's cleanup closes the netlink handle and deletes it, and with it
// every link still inside.
type NetNS struct {
	name string
	ns   netns.NsHandle
	nl   *netlink.Handle
}

// NewNetNS creates a fresh named network namespace ("fwdt-" and a random
// suffix, under /run/netns so `ip netns exec` sees it) and registers its
// deletion with tb.Cleanup. It needs root; see RequireRoot.
func NewNetNS(tb testing.TB) *NetNS {
	tb.Helper()
	RequireRoot(tb)

	var (
		name string
		h    netns.NsHandle
		err  error
	)
	for range 5 {
		name = NetNSPrefix + randomSuffix()
		h, err = newNamed(name)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		tb.Fatalf("create network namespace %s: %v", name, err)
	}
	n := &NetNS{name: name, ns: h}
	tb.Cleanup(func() {
		if err := n.close(); err != nil {
			tb.Errorf("delete network namespace %s: %v", name, err)
		}
	})

	n.nl, err = netlink.NewHandleAt(h)
	if err != nil {
		tb.Fatalf("netlink handle in namespace %s: %v", name, err)
	}
	return n
}

// close releases the handles and deletes the named namespace; the kernel
// destroys it once nothing else holds it.
func (n *NetNS) close() error {
	if n.nl != nil {
		n.nl.Close()
	}
	return errors.Join(n.ns.Close(), netns.DeleteNamed(n.name))
}

// Name returns the namespace's name, as `ip netns` shows it.
func (n *NetNS) Name() string { return n.name }

// String returns the name.
func (n *NetNS) String() string { return n.name }

// FD returns a file descriptor of the namespace, valid until the test ends,
// for APIs that take one (netlink.NsFd, netlink.LinkSetNsFd, setns).
func (n *NetNS) FD() int { return int(n.ns) }

// Handle returns a netlink handle whose requests act inside the namespace.
// The test's cleanup closes it; do not close it yourself.
func (n *NetNS) Handle() *netlink.Handle { return n.nl }

// Do runs fn on an OS thread switched into the namespace and returns its
// error. Sockets fn opens, links it creates and BPF programs it attaches on
// that thread belong to the namespace; they stay there after fn returns.
//
// fn runs on a goroutine of its own, so it must not call tb.Fatal, tb.Skip or
// tb.FailNow (return an error instead), and goroutines it starts run in the
// test's original namespace, not in this one. Afterwards the thread switches
// back; if it cannot, it is left locked and dies with its goroutine, so no
// other goroutine ever runs in the wrong namespace.
func (n *NetNS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("get current network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(n.ns); err != nil {
			// setns failed, the thread is where it was.
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter network namespace %s: %w", n.name, err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			// Stay locked: the runtime ends this thread with the goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("return from network namespace %s: %w", n.name, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Exec runs a command inside the namespace with `ip netns exec` and returns
// its combined output. The error, when the command fails, quotes the command
// and its output.
func (n *NetNS) Exec(args ...string) ([]byte, error) {
	if len(args) == 0 {
		return nil, errors.New("exec in network namespace: no command")
	}
	out, err := n.Command(context.Background(), args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s (in netns %s): %w: %s",
			strings.Join(args, " "), n.name, err, bytes.TrimSpace(out))
	}
	return out, nil
}

// Command returns an exec.Cmd that runs name with args inside the namespace
// through `ip netns exec`, for commands that run alongside the test (gobgpd,
// tcpdump). The caller starts it and waits for it; ctx kills it.
func (n *NetNS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.name, name}, args...)...)
}

// newNamed creates the named namespace on a locked thread of its own and
// switches that thread back, so the caller's thread never changes namespace.
func newNamed(name string) (netns.NsHandle, error) {
	type result struct {
		h   netns.NsHandle
		err error
	}
	c := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			c <- result{netns.None(), fmt.Errorf("get current network namespace: %w", err)}
			return
		}
		defer orig.Close()
		h, err := netns.NewNamed(name)
		if rerr := netns.Set(orig); rerr != nil {
			// Stay locked: the runtime ends this thread with the goroutine.
			if err == nil {
				err = errors.Join(h.Close(), netns.DeleteNamed(name))
			}
			c <- result{netns.None(), errors.Join(err, fmt.Errorf("return to original network namespace: %w", rerr))}
			return
		}
		runtime.UnlockOSThread()
		c <- result{h, err}
	}()
	r := <-c
	return r.h, r.err
}

// randomSuffix returns 8 random hex digits.
func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
