package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// PingOptions shape an ICMP echo run. Zero fields take the defaults.
type PingOptions struct {
	// Count is the number of echo requests; 0 means 5.
	Count int
	// Interval separates the requests; 0 means 200 ms.
	Interval time.Duration
	// Timeout is how long to wait for replies after the last request; 0
	// means 1 s.
	Timeout time.Duration
	// Size is the ICMP payload in bytes; 0 means 56 (ping's default). 1472
	// fills a 1500-byte MTU.
	Size int
}

func (o *PingOptions) defaults() {
	if o.Count <= 0 {
		o.Count = 5
	}
	if o.Interval <= 0 {
		o.Interval = 200 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.Size <= 0 {
		o.Size = 56
	}
}

// PingResult is what an echo run saw.
type PingResult struct {
	From, To string
	Dst      netip.Addr
	Sent     int
	Received int
	// MinRTT, AvgRTT and MaxRTT are over the replies; zero without any.
	MinRTT, AvgRTT, MaxRTT time.Duration
}

// Lost is the number of requests that had no reply.
func (r PingResult) Lost() int { return r.Sent - r.Received }

// pingIDs makes echo identifiers unique within the process.
var pingIDs atomic.Uint32

func nextPingID() uint16 {
	return uint16(pingIDs.Add(1)) ^ uint16(time.Now().UnixNano()>>10)
}

// echo builds an ICMP echo message (typ 8: request, 0: reply).
func echo(typ byte, id, seq uint16, payload []byte) []byte {
	b := make([]byte, 8+len(payload))
	b[0] = typ
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	copy(b[8:], payload)
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var s uint32
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func pingPayload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

// pingLoop sends o.Count requests through send and counts the sequence
// numbers that come back on replies.
func pingLoop(ctx context.Context, o PingOptions, send func(seq uint16) error, replies <-chan uint16) (PingResult, error) {
	var r PingResult
	sentAt := make(map[uint16]time.Time, o.Count)
	got := make(map[uint16]bool, o.Count)
	var total time.Duration
	take := func(seq uint16) {
		at, ok := sentAt[seq]
		if !ok || got[seq] {
			return
		}
		got[seq] = true
		rtt := time.Since(at)
		total += rtt
		if r.Received == 0 || rtt < r.MinRTT {
			r.MinRTT = rtt
		}
		r.MaxRTT = max(r.MaxRTT, rtt)
		r.Received++
	}
	wait := func(until time.Time) error {
		timer := time.NewTimer(time.Until(until))
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case seq := <-replies:
				take(seq)
				if r.Received == o.Count {
					return nil
				}
			case <-timer.C:
				return nil
			}
		}
	}
	for i := 0; i < o.Count; i++ {
		seq := uint16(i + 1)
		sentAt[seq] = time.Now()
		if err := send(seq); err != nil {
			return r, fmt.Errorf("send echo request %d: %w", seq, err)
		}
		r.Sent++
		until := time.Now().Add(o.Interval)
		if i == o.Count-1 {
			until = time.Now().Add(o.Timeout)
		}
		if err := wait(until); err != nil {
			return r, err
		}
	}
	if r.Received > 0 {
		r.AvgRTT = total / time.Duration(r.Received)
	}
	return r, nil
}

// Ping sends ICMP echo requests from the namespace's own IP stack to dst
// through a raw socket, and counts the replies.
func (n *NS) Ping(ctx context.Context, dst netip.Addr, o PingOptions) (PingResult, error) {
	o.defaults()
	if !dst.Is4() {
		return PingResult{}, fmt.Errorf("ping %s: only IPv4 hosts: %w", dst, ErrSpec)
	}
	var conn net.PacketConn
	err := n.Do(func() error {
		var err error
		conn, err = net.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	})
	if err != nil {
		return PingResult{}, fmt.Errorf("ping from %s: %w", n.Name, err)
	}
	defer conn.Close()
	id := nextPingID()
	replies := make(chan uint16, o.Count)
	done := make(chan struct{})
	defer close(done)
	go func() {
		buf := make([]byte, 65536)
		for {
			m, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			b := buf[:m]
			ip, ok := from.(*net.IPAddr)
			if m < 8 || b[0] != 0 || !ok || !ip.IP.Equal(net.IP(dst.AsSlice())) || binary.BigEndian.Uint16(b[4:]) != id {
				continue
			}
			select {
			case replies <- binary.BigEndian.Uint16(b[6:]):
			case <-done:
				return
			}
		}
	}()
	payload := pingPayload(o.Size)
	to := &net.IPAddr{IP: net.IP(dst.AsSlice())}
	r, err := pingLoop(ctx, o, func(seq uint16) error {
		_, err := conn.WriteTo(echo(8, id, seq, payload), to)
		return err
	}, replies)
	r.From, r.Dst = n.Name, dst
	return r, err
}

// Ping sends ICMP echo requests from host from to host to and counts the
// replies. A tagged host pings from its user-space stack.
func (t *Topology) Ping(ctx context.Context, from, to string, o PingOptions) (PingResult, error) {
	src, dst := t.hosts[from], t.hosts[to]
	if src == nil || dst == nil {
		return PingResult{}, fmt.Errorf("ping %s -> %s: unknown host (have: %v): %w", from, to, t.order, ErrSpec)
	}
	var r PingResult
	var err error
	if src.tagged != nil {
		r, err = src.tagged.ping(ctx, dst.IP, o)
	} else {
		r, err = src.NS.Ping(ctx, dst.IP, o)
	}
	r.From, r.To = from, to
	if err != nil && !errors.Is(err, context.Canceled) {
		err = fmt.Errorf("ping %s -> %s: %w", from, to, err)
	}
	return r, err
}
