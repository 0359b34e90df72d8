package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Daemon is a process started in a namespace by StartDaemon (an `fwd
// daemon`, for the lab tests and `fwd bench routes`). It is known by its
// PID: Signal, Stop and Kill act on that process only.
type Daemon struct {
	cmd    *exec.Cmd
	log    syncBuffer
	exited chan struct{} // closed when it has exited; then err is its end
	err    error
}

// StartDaemon runs argv in ns, with env added to this process's
// environment, its output kept (Log), and waits until ready returns nil
// (called every 50 ms with a 1 s deadline, for at most timeout). It enters
// the namespace with nsenter, not `ip netns exec`: that one mounts a fresh
// /sys, without the bpffs where the daemon pins its maps. When the process
// exits or is not ready in time, the error says so with its output, and
// the process is gone.
func StartDaemon(ctx context.Context, ns *NS, argv, env []string, ready func(context.Context) error, timeout time.Duration) (*Daemon, error) {
	if len(argv) == 0 {
		return nil, errors.New("start daemon: no command")
	}
	d := &Daemon{exited: make(chan struct{})}
	d.cmd = exec.Command("nsenter", append([]string{"--net=/run/netns/" + ns.Full}, argv...)...)
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = &d.log, &d.log
	// A child that keeps the output pipe open must not hold Wait forever.
	d.cmd.WaitDelay = 5 * time.Second
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s in %s: %w", argv[0], ns.Name, err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	deadline := time.Now().Add(timeout)
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		err := ready(rctx)
		cancel()
		// Exited first: a ready answer from another process (a stale
		// daemon on the same socket) is not this one being ready.
		select {
		case <-d.exited:
			return nil, fmt.Errorf("%s exited (%v) before it was ready:\n%s", argv[0], d.err, d.Log())
		default:
		}
		if err == nil {
			return d, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			d.Kill()
			return nil, fmt.Errorf("%s not ready after %v: %v\n%s", argv[0], timeout, err, d.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// PID is the process's id.
func (d *Daemon) PID() int { return d.cmd.Process.Pid }

// Signal sends sig to the process.
func (d *Daemon) Signal(sig os.Signal) error { return d.cmd.Process.Signal(sig) }

// Exited is closed when the process has exited; Err is then its end.
func (d *Daemon) Exited() <-chan struct{} { return d.exited }

// Err is how the process ended (nil: exit status 0), once Exited is closed.
func (d *Daemon) Err() error {
	select {
	case <-d.exited:
		return d.err
	default:
		return nil
	}
}

// Log returns what the process has written so far.
func (d *Daemon) Log() string { return d.log.String() }

// Stop asks the process to end (SIGTERM) and waits for it, killing it
// after timeout. The error carries its output when it did not end cleanly.
func (d *Daemon) Stop(timeout time.Duration) error {
	_ = d.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
		if d.err != nil {
			return fmt.Errorf("daemon %d: %w\n%s", d.PID(), d.err, d.Log())
		}
		return nil
	case <-time.After(timeout):
		d.Kill()
		return fmt.Errorf("daemon %d did not stop in %v\n%s", d.PID(), timeout, d.Log())
	}
}

// Kill ends the process (SIGKILL), if it still runs, and waits for it.
func (d *Daemon) Kill() {
	select {
	case <-d.exited:
	default:
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
}

// syncBuffer is a bytes.Buffer the process's output goroutine writes while
// others read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
