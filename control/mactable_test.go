package control

import (
	"math/rand/v2"
	"testing"

	"github.com/fwdplane/fwd/evpn"
)

// TestMACTable runs random sets and deletes against a Go map as the model:
// after every step each address the model holds is found with its value,
// and the table's size agrees. A small address space makes long probe runs
// and deletes inside them (the backward shift) common; a table that loses
// an entry on a shift, or finds a deleted one, fails here.
func TestMACTable(t *testing.T) {
	for _, space := range []int{8, 200, 5000} {
		rng := rand.New(rand.NewPCG(1, uint64(space)))
		var tab macTable
		model := map[evpn.MAC]*mac{}
		addr := func() evpn.MAC {
			v := rng.IntN(space)
			// Clustered addresses, as one vendor's or one generator's.
			return evpn.MAC{0x02, 0, 0, byte(v >> 16), byte(v >> 8), byte(v)}
		}
		for step := range 20000 {
			a := addr()
			switch rng.IntN(3) {
			case 0, 1:
				m := &mac{}
				tab.set(a, m)
				model[a] = m
			case 2:
				tab.del(a)
				delete(model, a)
			}
			if step%97 == 0 || space <= 200 {
				if tab.len() != len(model) {
					t.Fatalf("space %d step %d: table holds %d, model %d", space, step, tab.len(), len(model))
				}
				for a, m := range model {
					if got := tab.get(a); got != m {
						t.Fatalf("space %d step %d: %s: got %p, want %p", space, step, a, got, m)
					}
				}
			}
			if tab.get(a) != model[a] {
				t.Fatalf("space %d step %d: %s: got %p, want %p", space, step, a, tab.get(a), model[a])
			}
		}
		seen := 0
		tab.each(func(m *mac) { seen++ })
		if seen != len(model) {
			t.Fatalf("space %d: each visited %d, model holds %d", space, seen, len(model))
		}
		if 2*tab.len() > len(tab.slots) {
			t.Fatalf("space %d: %d addresses in %d slots: more than half full", space, tab.len(), len(tab.slots))
		}
	}
}

// TestMACTableReserve checks that reserve sizes the table once: the sets
// that follow do not grow it.
func TestMACTableReserve(t *testing.T) {
	var tab macTable
	tab.reserve(100000)
	slots := len(tab.slots)
	for i := range 100000 {
		tab.set(evpn.MAC{0x02, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}, &mac{})
	}
	if len(tab.slots) != slots || tab.len() != 100000 {
		t.Fatalf("after reserve(100000) and 100000 sets: %d slots (reserved %d), %d held", len(tab.slots), slots, tab.len())
	}
	for i := range 100000 {
		tab.del(evpn.MAC{0x02, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)})
	}
	if tab.len() != 0 {
		t.Fatalf("%d held after deleting all", tab.len())
	}
	for i := range tab.slots {
		if tab.slots[i].key != 0 {
			t.Fatalf("slot %d not empty after deleting all", i)
		}
	}
}

// BenchmarkMACTable compares the table with a Go map on what a batch does:
// a lookup of a million addresses in order, the slot of the address
// prefetch.Distance ahead prefetched (the table) or not (the map).
func BenchmarkMACTable(b *testing.B) {
	const n = 1 << 20
	addrs := make([]evpn.MAC, n)
	for i := range addrs {
		addrs[i] = evpn.MAC{0x02, 0xcc, 0, byte(i >> 16), byte(i >> 8), byte(i)}
	}
	var tab macTable
	gomap := make(map[evpn.MAC]*mac, n)
	for _, a := range addrs {
		m := &mac{}
		tab.set(a, m)
		gomap[a] = m
	}
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			for i, a := range addrs {
				if j := i + 16; j < n {
					tab.prefetch(addrs[j])
				}
				if tab.get(a) == nil {
					b.Fatal("missing")
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/lookup")
	})
	b.Run("gomap", func(b *testing.B) {
		for b.Loop() {
			for _, a := range addrs {
				if gomap[a] == nil {
					b.Fatal("missing")
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/lookup")
	})
}
