package bench

import (
	"encoding/binary"
	"io"
	"time"

	"github.com/fwdplane/fwd/bench/pktgen"
)

// Frames returns the first n frames the generator sends for s, stamped as
// the generator program (bpf/bench.c) stamps them: frame i belongs to flow
// i % Flows, which sets the destination MAC's low three bytes, the UDP
// source port and the flow id.
func (s Scenario) Frames(n int) ([][]byte, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	tmpl, err := s.template()
	if err != nil {
		return nil, err
	}
	cfg := s.genConfig()
	out := make([][]byte, n)
	for i := range out {
		f := append([]byte(nil), tmpl...)
		flow := uint32(i) % max(cfg.Flows, 1)
		if cfg.MACs > 1 {
			m := cfg.MACBase + (flow%cfg.MACs)*cfg.MACStride
			p := f[cfg.DstMACOffset+3:]
			p[0], p[1], p[2] = byte(m>>16), byte(m>>8), byte(m)
		}
		if cfg.SrcPortOffset != 0 {
			binary.BigEndian.PutUint16(f[cfg.SrcPortOffset:], uint16(1024+flow%60000))
		}
		if cfg.IDOffset != 0 {
			binary.BigEndian.PutUint32(f[cfg.IDOffset:], flow)
		}
		out[i] = f
	}
	return out, nil
}

// WritePcap writes the first frames of each scenario (up to perScenario,
// and no more than its flow count) to w as a pcap file that Wireshark
// opens: the exact bytes the generator injects.
func WritePcap(w io.Writer, scenarios []Scenario, perScenario int) error {
	var all [][]byte
	for _, s := range scenarios {
		fr, err := s.Frames(min(perScenario, s.Flows))
		if err != nil {
			return err
		}
		all = append(all, fr...)
	}
	return pktgen.WritePcap(w, time.Now(), all)
}
