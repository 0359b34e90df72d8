package daemon

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fwdplane/fwd/api"
)

// subscriberBuffer is how many events a slow subscriber may lag behind
// before it loses some (and is told how many).
const subscriberBuffer = 1024

// bus fans the daemon's events out to the API's subscribers. Publishing
// never blocks: a subscriber that does not keep up loses events, and the
// next one it gets says how many.
type bus struct {
	mu     sync.Mutex
	subs   map[*sub]struct{}
	closed bool
}

type sub struct {
	ch      chan api.Event
	dropped int
}

func newBus() *bus { return &bus{subs: map[*sub]struct{}{}} }

func (b *bus) publish(typ, msg string, fields map[string]string) {
	ev := api.Event{Time: time.Now().UTC(), Type: typ, Message: msg, Fields: fields}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.dropped > 0 {
			lost := api.Event{Time: ev.Time, Type: "lost", Message: fmt.Sprintf("%d events lost: this subscriber did not keep up", s.dropped)}
			select {
			case s.ch <- lost:
				s.dropped = 0
			default:
				s.dropped++
				continue
			}
		}
		select {
		case s.ch <- ev:
		default:
			s.dropped++
		}
	}
}

// subscribe streams events until ctx ends.
func (b *bus) subscribe(ctx context.Context) <-chan api.Event {
	s := &sub{ch: make(chan api.Event, subscriberBuffer)}
	b.mu.Lock()
	if b.closed {
		close(s.ch)
		b.mu.Unlock()
		return s.ch
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[s]; ok {
			delete(b.subs, s)
			close(s.ch)
		}
	}()
	return s.ch
}

func (b *bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.ch)
	}
}
