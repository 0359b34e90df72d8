// Package prefetch asks the CPU to start loading memory a program will read
// soon. Tables of a million entries (the FDB, the controller's MACs) are
// far larger than the caches: a batch that touches them at random waits on
// memory for each entry in turn, about 100 ns here, unless the loads of
// later entries are started while earlier ones are processed.
//
// Line issues the CPU's prefetch instruction (PREFETCHT0 on amd64, PRFM
// PLDL1KEEP on arm64; nothing elsewhere). It never faults: an address that
// is not mapped is ignored by the CPU, so a hint may point anywhere.
package prefetch

import "unsafe"

// Distance is how many entries ahead of the one being processed a batch
// loop prefetches: enough to cover a memory access while the entries in
// between are processed, few enough that the lines are still cached.
const Distance = 16

// Line hints that the cache line holding p will be read soon.
func Line(p unsafe.Pointer) { line(p) }
