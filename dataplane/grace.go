package dataplane

import (
	"fmt"
	"log/slog"
	"sync"

	"golang.org/x/sys/unix"
)

// grace runs functions after an RCU grace period, so that memory every
// reader has stopped looking at can be reused. One background goroutine
// takes one grace period (membarrier(MEMBARRIER_CMD_GLOBAL), which runs
// synchronize_rcu; every XDP program runs inside an RCU read-side section)
// for each batch of deferred functions.
type grace struct {
	log  *slog.Logger
	wait func() error

	mu      sync.Mutex
	pending []func()
	periods uint64
	closed  bool
	kick    chan struct{}
	done    chan struct{}
}

func newGrace(log *slog.Logger) *grace {
	g := &grace{log: log, wait: membarrierGlobal, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go g.loop()
	return g
}

// membarrierGlobal waits for an RCU grace period.
func membarrierGlobal() error {
	const cmdGlobal = 1 // MEMBARRIER_CMD_GLOBAL
	_, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, cmdGlobal, 0, 0)
	if errno != 0 {
		return fmt.Errorf("membarrier(GLOBAL): %w", errno)
	}
	return nil
}

// after runs fn on the grace goroutine once a grace period has passed.
func (g *grace) after(fn func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.pending = append(g.pending, fn)
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

func (g *grace) loop() {
	defer close(g.done)
	for range g.kick {
		g.mu.Lock()
		batch := g.pending
		g.pending = nil
		g.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		if err := g.wait(); err != nil {
			// Without a grace period nothing can be proven unused: keep
			// it out of circulation rather than risk a torn read.
			g.log.Error("memory not recycled: no grace period", "items", len(batch), "err", err)
			continue
		}
		for _, fn := range batch {
			fn()
		}
		g.mu.Lock()
		g.periods++
		g.mu.Unlock()
	}
}

func (g *grace) count() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.periods
}

func (g *grace) close() {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.closed = true
	close(g.kick)
	g.mu.Unlock()
	<-g.done
}
