package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BenchmarkPageWalk measures a dependent random load from a table of the
// given size on 4 KiB pages (as BPF maps are) and on 2 MiB pages: the cost
// of a cache-hostile FDB lookup on this machine, and why fwd keeps a per-CPU
// FDB cache (docs/DATAPLANE.md).
func BenchmarkPageWalk(b *testing.B) {
	for _, mb := range []int{1, 4, 32} {
		for _, huge := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%dMiB/huge=%v", mb, huge), func(b *testing.B) {
				size := mb << 20
				mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = unix.Munmap(mem) }()
				advice := unix.MADV_NOHUGEPAGE
				if huge {
					advice = unix.MADV_HUGEPAGE
				}
				_ = unix.Madvise(mem, advice)
				// One slot per cache line, linked in a random cycle.
				n := size / 64
				a := unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), size/8)
				perm := rand.Perm(n)
				for i := range n {
					a[perm[i]*8] = uint64(perm[(i+1)%n] * 8)
				}
				idx := uint64(perm[0] * 8)
				for b.Loop() {
					idx = a[idx]
				}
				_ = idx
			})
		}
	}
}
