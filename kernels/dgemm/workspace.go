package dgemm

import (
	"sync"
	"unsafe"
)

// Packing buffers live outside the Go heap, carved from 2 MiB-aligned
// mappings that the kernel is asked to back with transparent huge pages
// (mapSlab), because where they lie decides how fast the micro-kernel
// runs. The block of A a call packs (MC x KC: 252 KiB for avx2) is read
// from L2 by every sliver of B. On 4 KiB pages it spans 63 pages, about
// as many as the first-level TLB holds, and its physical pages are
// whatever the process got (L2 is indexed by physical address, so pages
// that fall on the same sets crowd each other out). Go's heap is on 4 KiB
// pages wherever huge pages are only given on request
// (transparent_hugepage=madvise, the common default). On one core of a
// 2-vCPU Zen 1, kernels/matmul's 16 bands of n = 512 ran at 87-90% of the
// FMA peak with the buffers on the heap and 92-96% on a huge page, in
// each of four processes (TestMeasure's packed-bands16 heap and slab
// cells; n = 1024, which streams an 8 MiB B from beyond L2, did not
// change). And the cost differed between processes: in full sweeps,
// procpool's worker processes ran matmul 2-5% slower on a CPU than the
// measuring process did in most forks, identical work that the report
// flagged in 8 of 8 pairs. A huge page is physically contiguous and takes
// one TLB entry, so every process gets the same.

// workspace is one Gemm call's packing buffers.
type workspace struct {
	a    []float64    // mc x kc block of A in mr-row slivers
	b    [2][]float64 // two strips of B, kc x nr slivers: the one in use, the next
	tile []float64    // mr x nr, for partial tiles of C
}

// spares holds an impl's workspaces between calls. It is a plain list, not
// a sync.Pool: a pool drops its items at a garbage collection, and memory
// outside the heap that is dropped is lost.
type spares struct {
	mu   sync.Mutex
	free []*workspace
}

func (s *spares) put(ws *workspace) {
	s.mu.Lock()
	s.free = append(s.free, ws)
	s.mu.Unlock()
}

// workspace returns packing buffers for blocks of A of up to aLen
// elements and strips of B of the kernel's KC rows.
func (im *impl) workspace(aLen int) *workspace {
	aLen = max(aLen, im.block.mc*im.block.kc)
	bLen := im.strip * im.block.kc * im.nr
	s := &im.spare
	s.mu.Lock()
	for len(s.free) > 0 {
		ws := s.free[len(s.free)-1]
		s.free = s.free[:len(s.free)-1]
		if len(ws.a) >= aLen && len(ws.b[0]) >= bLen {
			s.mu.Unlock()
			return ws
		}
		// Made for other blocking (the tests change it): its memory
		// stays with its slab.
	}
	s.mu.Unlock()
	return im.newWorkspace(aLen, packFloats)
}

// newWorkspace makes buffers for blocks of A of aLen elements and the
// kernel's strips of B, each from alloc.
func (im *impl) newWorkspace(aLen int, alloc func(n int) []float64) *workspace {
	bLen := im.strip * im.block.kc * im.nr
	return &workspace{a: alloc(aLen), b: [2][]float64{alloc(bLen), alloc(bLen)}, tile: alloc(im.mr * im.nr)}
}

// cacheLine is what the packing buffers are aligned to.
const cacheLine = 64

// slabSize is the size of one huge page, and of the mappings packFloats
// carves buffers from (larger where one buffer needs more).
const slabSize = 2 << 20

// slab is the rest of the latest mapping.
var slab struct {
	sync.Mutex
	rest []float64
}

// packFloats returns n float64s starting on a cache line, carved from a
// slab (see the top of this file), or from the heap where no slab can be
// mapped. Slabs are never unmapped: workspaces are kept for reuse, and a
// process needs one per goroutine that multiplies at once.
func packFloats(n int) []float64 {
	lines := (n*8 + cacheLine - 1) / cacheLine
	slab.Lock()
	defer slab.Unlock()
	if len(slab.rest)*8 < lines*cacheLine {
		mem := mapSlab((lines*cacheLine + slabSize - 1) / slabSize * slabSize)
		if mem == nil {
			return heapFloats(n)
		}
		slab.rest = unsafe.Slice((*float64)(unsafe.Pointer(&mem[0])), len(mem)/8)
	}
	s := slab.rest[:n:n]
	slab.rest = slab.rest[lines*cacheLine/8:]
	return s
}

// heapFloats returns n float64s on the Go heap, starting on a cache line.
func heapFloats(n int) []float64 {
	s := make([]float64, n+cacheLine/8)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&s[0])) % cacheLine); r != 0 {
		off = (cacheLine - r) / 8
	}
	return s[off : off+n : off+n]
}
