package model

import (
	"encoding/binary"
	"testing"
)

// TestFlowHashSpread: flows that differ in one field only (the UDP source
// port, or the low bytes of the destination MAC, as the benchmark's flows
// do) spread evenly over a group's 128 buckets (hash & 127), over the
// underlay's UDP source ports (hash >> 18) and over IPv6 flow labels
// (hash & 0xfffff).
func TestFlowHashSpread(t *testing.T) {
	const flows = 1 << 16
	for _, c := range []struct {
		name string
		vary func(b []byte, i int)
		ipv6 bool
	}{
		{"IPv4 source port", func(b []byte, i int) { binary.BigEndian.PutUint16(b[34:], uint16(i)) }, false},
		{"IPv6 source port", func(b []byte, i int) { binary.BigEndian.PutUint16(b[54:], uint16(i)) }, true},
		{"destination MAC", func(b []byte, i int) { b[4], b[5] = byte(i>>8), byte(i) }, false},
	} {
		var buckets [128]int
		sports := make(map[uint32]bool)
		labels := make(map[uint32]bool)
		b := build(spec{dst: hostR, src: hostA, sport: 1000, ipv6: c.ipv6})
		proto := binary.BigEndian.Uint16(b[12:])
		for i := 0; i < flows; i++ {
			c.vary(b, i)
			h := FlowHash(b, 14, proto)
			buckets[h&127]++
			sports[h>>18] = true
			labels[h&0xfffff] = true
		}
		// Binomial(65536, 1/128): mean 512, sd ~22.5; 6 sd either way.
		for i, n := range buckets {
			if n < 512-135 || n > 512+135 {
				t.Errorf("%s: bucket %d holds %d of %d flows, want 512 +- 135", c.name, i, n, flows)
			}
		}
		// 65536 flows over 16384 ports: ~98% of them used at random.
		if len(sports) < 15800 {
			t.Errorf("%s: %d distinct UDP source ports of 16384", c.name, len(sports))
		}
		// Over 2^20 labels, birthday collisions leave ~63,500 distinct.
		if len(labels) < 63000 {
			t.Errorf("%s: %d distinct flow labels of %d flows", c.name, len(labels), flows)
		}
	}
}
