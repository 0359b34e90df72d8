package dataplane

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/cilium/ebpf/ringbuf"
)

// LearnReader reads learn events from the fast path's ring buffer.
type LearnReader struct {
	r   *ringbuf.Reader
	rec ringbuf.Record
}

// LearnReader opens the learn-event ring. Close it when done; Close makes a
// blocked Read return. Minimum kernel: 5.8.
func (d *Dataplane) LearnReader() (*LearnReader, error) {
	r, err := ringbuf.NewReader(d.objs.FwdLearn)
	if err != nil {
		return nil, fmt.Errorf("open learn ring: %w", err)
	}
	return &LearnReader{r: r}, nil
}

// ErrTimeout is returned by Read when the deadline passed with no event.
var ErrTimeout = os.ErrDeadlineExceeded

// SetDeadline makes Read return ErrTimeout after t; the zero time blocks.
func (lr *LearnReader) SetDeadline(t time.Time) { lr.r.SetDeadline(t) }

// Read blocks until the next event.
func (lr *LearnReader) Read() (LearnEvent, error) {
	if err := lr.r.ReadInto(&lr.rec); err != nil {
		if errors.Is(err, ringbuf.ErrClosed) {
			return LearnEvent{}, ErrClosed
		}
		return LearnEvent{}, err
	}
	return decodeLearn(lr.rec.RawSample)
}

func decodeLearn(b []byte) (LearnEvent, error) {
	const size = 28
	if len(b) < size {
		return LearnEvent{}, fmt.Errorf("learn event of %d bytes, want %d: %w", len(b), size, ErrInvalid)
	}
	le := binary.LittleEndian
	return LearnEvent{
		BD:      le.Uint32(b[0:]),
		Ifindex: le.Uint32(b[4:]),
		ES:      le.Uint32(b[8:]),
		Tags:    Tags{Outer: le.Uint16(b[12:]), Inner: le.Uint16(b[14:])},
		MAC:     net.HardwareAddr(append([]byte(nil), b[16:22]...)),
		OldKind: FDBKind(b[22]),
		OldRef:  le.Uint32(b[24:]),
	}, nil
}

// Close closes the ring reader.
func (lr *LearnReader) Close() error { return lr.r.Close() }
