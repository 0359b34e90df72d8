package dataplane

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
)

func TestLoad(t *testing.T) {
	d := mustLoad(t)
	names := d.CounterNames()
	if len(names) == 0 || names[0] != "rx_access" {
		t.Fatalf("counter names %v", names)
	}
	if len(names) > counterSlots {
		t.Fatalf("%d counters, map has %d slots", len(names), counterSlots)
	}
	if got := d.objs.FwdCounters.MaxEntries(); int(got) < len(names) {
		t.Fatalf("counter map has %d entries for %d counters", got, len(names))
	}
}

func mustLoad(tb testing.TB) *Dataplane {
	tb.Helper()
	d, err := Load(&Options{FDBMax: 4096})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			tb.Fatalf("verifier: %+v", ve)
		}
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}
