package dataplane

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// words is a BPF_F_MMAPABLE array of u32 values mapped into this process:
// loads and stores are single atomic instructions that the XDP program sees
// at once, with no syscall.
//
// An array map lays its values out every round_up(value_size, 8) bytes, so
// element i of a u32 array sits at offset 8*i.
type words struct {
	mem    []byte
	n      uint32
	stride uint32
}

func mmapWords(m *ebpf.Map) (*words, error) {
	if m.ValueSize() != 4 {
		return nil, fmt.Errorf("map %s: value size %d, want 4", m, m.ValueSize())
	}
	stride := uint32(8)
	size := int(m.MaxEntries() * stride)
	page := os.Getpagesize()
	size = (size + page - 1) / page * page
	mem, err := unix.Mmap(m.FD(), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap map %s: %w", m, err)
	}
	return &words{mem: mem, n: m.MaxEntries(), stride: stride}, nil
}

func (w *words) ptr(i uint32) *uint32 {
	return (*uint32)(unsafe.Pointer(&w.mem[i*w.stride]))
}

func (w *words) load(i uint32) uint32 { return atomic.LoadUint32(w.ptr(i)) }

func (w *words) swap(i, v uint32) uint32 { return atomic.SwapUint32(w.ptr(i), v) }

func (w *words) add(i, v uint32) uint32 { return atomic.AddUint32(w.ptr(i), v) }

// setBit sets or clears bit id of the bitmap with one atomic instruction.
func (w *words) setBit(id uint32, on bool) {
	p, mask := w.ptr(id>>5), uint32(1)<<(id&31)
	if on {
		atomic.OrUint32(p, mask)
	} else {
		atomic.AndUint32(p, ^mask)
	}
}

func (w *words) bit(id uint32) bool {
	return w.load(id>>5)&(1<<(id&31)) != 0
}

func (w *words) close() error {
	if w.mem == nil {
		return nil
	}
	err := unix.Munmap(w.mem)
	w.mem = nil
	return err
}
