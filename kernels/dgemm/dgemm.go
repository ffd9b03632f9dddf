// Package dgemm multiplies dense row-major float64 matrices, C = A x B, in
// the style of GotoBLAS and BLIS: cache blocks of A are packed into mr-row
// slivers, B is read in nr-column slivers, and a register-blocked
// micro-kernel in assembly computes one mr x nr tile of C over one kc-long
// stretch of the inner dimension per call.
//
// Everything runs on the calling goroutine: Gemm starts no goroutines, so a
// caller that splits C into bands of rows and runs them on N goroutines or
// processes controls the parallelism completely.
//
// # Micro-kernels
//
// On amd64 the micro-kernel is chosen at start-up from the CPU's features
// (golang.org/x/sys/cpu): "avx512" (8 x 24, zmm) where AVX-512F is usable,
// else "avx2" (4 x 12, ymm, FMA3) where AVX2 and FMA are, else "generic", a
// plain Go 4 x 4 micro-kernel that is also the only one in builds with the
// purego tag and on other architectures. [Kernel] names the active one;
// [SetKernel] switches, for tests and benchmarks.
//
// # B without a packing pass
//
// Packing B (copying a kc x nc panel into nr-column slivers) is what lets
// BLIS read B contiguously, but it costs one pass over B per call, and a
// caller that computes C in bands of rows calls Gemm once per band: with 64
// bands of an n = 512 product, each band is 8 rows and packing B would copy
// 2 MiB to use it for 8 rows. So B is never packed in a separate pass: the
// micro-kernel reads a sliver of B straight from the row-major matrix (nr
// consecutive doubles of each row, the rows ldb apart, prefetched a few rows
// ahead) and, while it does, writes the sliver into a small contiguous
// buffer that the micro-kernel calls for the band's other mr-row slivers
// read instead: the sliver is loaded from memory once per MC block of rows
// and packed for free. Only slivers narrower than nr (the right edge of C)
// are packed by Go, zero-padded.
package dgemm

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// microKernel computes one mr x nr tile of C from kc columns of a packed
// sliver of A (a[p*mr+r] = A[r][p]) and kc rows of a sliver of B
// (b[p*ldb+j] = B[p][j], j < nr):
//
//	C[r][j] = sum_p A[r][p] B[p][j]          if !acc
//	C[r][j] += sum_p A[r][p] B[p][j]         if acc
//
// C[r][j] is c[r*ldc+j]. When bp is not nil the kernel also copies the B
// sliver into bp (bp[p*nr+j] = B[p][j]). The caller guarantees that every
// element named is inside its slice; kc >= 1.
type microKernel func(kc int, a, b []float64, ldb int, c []float64, ldc int, bp []float64, acc bool)

type impl struct {
	name   string
	mr, nr int
	kernel microKernel
	block  blocking
	pool   sync.Pool // *workspace
}

// workspace is one Gemm call's packing buffers.
type workspace struct {
	a    []float64 // mc x kc block of A in mr-row slivers
	b    []float64 // one kc x nr sliver of B
	tile []float64 // mr x nr, for partial tiles of C
}

// cacheLine is what the packing buffers are aligned to.
const cacheLine = 64

// alignedFloats returns n float64s starting on a cache line.
func alignedFloats(n int) []float64 {
	s := make([]float64, n+cacheLine/8)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&s[0])) % cacheLine); r != 0 {
		off = (cacheLine - r) / 8
	}
	return s[off : off+n : off+n]
}

func (im *impl) workspace() *workspace {
	if ws, ok := im.pool.Get().(*workspace); ok && len(ws.a) >= im.block.mc*im.block.kc && len(ws.b) >= im.block.kc*im.nr {
		return ws
	}
	return &workspace{
		a:    alignedFloats(im.block.mc * im.block.kc),
		b:    alignedFloats(im.block.kc * im.nr),
		tile: alignedFloats(im.mr * im.nr),
	}
}

var (
	impls  []*impl // every micro-kernel this CPU can run, best first
	active atomic.Pointer[impl]
)

func register(name string, mr, nr int, k microKernel) {
	impls = append(impls, &impl{name: name, mr: mr, nr: nr, kernel: k, block: blockFor(detectCaches(), mr, nr)})
}

func init() {
	registerAsm() // the best first
	register("generic", 4, 4, kernelGeneric)
	active.Store(impls[0])
}

// Kernel returns the name of the micro-kernel Gemm uses: "avx512", "avx2"
// or "generic".
func Kernel() string { return active.Load().name }

// Kernels returns the names of the micro-kernels this CPU and build can run,
// best first.
func Kernels() []string {
	names := make([]string, len(impls))
	for i, im := range impls {
		names[i] = im.name
	}
	return names
}

// Blocking describes the active micro-kernel and its cache blocking, e.g.
// "avx2 4x12 KC=168 MC=192 NC=3120".
func Blocking() string {
	im := active.Load()
	return fmt.Sprintf("%s %dx%d KC=%d MC=%d NC=%d", im.name, im.mr, im.nr, im.block.kc, im.block.mc, im.block.nc)
}

// SetKernel makes Gemm use the named micro-kernel and returns a function that
// restores the previous one. It is for tests and benchmarks: it fails for a
// kernel this CPU or build cannot run, and it must not be called while Gemm
// runs on another goroutine that is expected to use one particular kernel.
func SetKernel(name string) (restore func(), err error) {
	for _, im := range impls {
		if im.name == name {
			prev := active.Swap(im)
			return func() { active.Store(prev) }, nil
		}
	}
	return nil, fmt.Errorf("dgemm: kernel %q not available on this CPU/build (have %s)", name, strings.Join(Kernels(), ", "))
}

// Gemm computes C = A x B for an m x k matrix A, a k x n matrix B and an
// m x n matrix C, all row-major: A[i][p] is a[i*lda+p], B[p][j] is
// b[p*ldb+j], C[i][j] is c[i*ldc+j]. C is overwritten (its old contents
// are never read, so they may be anything, NaN included); the elements of c
// between rows (j >= n) are not touched. It panics if a slice is too short
// for its dimensions and leading dimension. Gemm runs on the calling
// goroutine only and may be called concurrently on disjoint Cs.
func Gemm(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	checkMatrix("A", m, k, a, lda)
	checkMatrix("B", k, n, b, ldb)
	checkMatrix("C", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	active.Load().gemm(m, n, k, a, lda, b, ldb, c, ldc)
}

func checkMatrix(name string, rows, cols int, s []float64, ld int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("dgemm: %s is %d x %d", name, rows, cols))
	}
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("dgemm: %s has %d columns but leading dimension %d", name, cols, ld))
	}
	if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("dgemm: %s (%d x %d, leading dimension %d) needs %d elements, has %d",
			name, rows, cols, ld, (rows-1)*ld+cols, len(s)))
	}
}

// split returns the block size that cuts total into the fewest blocks of at
// most max, as evenly as possible, rounded up to a multiple of unit (so that
// k = 512 with KC = 168 runs blocks of 128, not 168, 168, 168 and 8).
func split(total, max, unit int) int {
	blocks := (total + max - 1) / max
	size := (total + blocks - 1) / blocks
	size = (size + unit - 1) / unit * unit
	return min(size, max)
}

func (im *impl) gemm(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	ws := im.workspace()
	defer im.pool.Put(ws)
	mr, nr := im.mr, im.nr
	kcMax := split(k, im.block.kc, 1)
	mcMax := split(m, im.block.mc, mr)
	ncMax := split(n, im.block.nc, nr)
	for jc := 0; jc < n; jc += ncMax {
		nc := min(ncMax, n-jc)
		for pc := 0; pc < k; pc += kcMax {
			kc := min(kcMax, k-pc)
			acc := pc > 0
			for ic := 0; ic < m; ic += mcMax {
				mc := min(mcMax, m-ic)
				packA(ws.a, a[ic*lda+pc:], lda, mc, kc, mr)
				for jr := 0; jr < nc; jr += nr {
					j := jc + jr
					w := min(nr, nc-jr)
					bs, ldbs := b[pc*ldb+j:], ldb
					packing := mc > mr // the sliver is used more than once
					if w < nr {
						packB(ws.b, bs, ldb, kc, w, nr)
						bs, ldbs, packing = ws.b, nr, false
					}
					for ir := 0; ir < mc; ir += mr {
						h := min(mr, mc-ir)
						var bp []float64
						if packing && ir == 0 {
							bp = ws.b
						}
						ap := ws.a[ir*kc:]
						ct := c[(ic+ir)*ldc+j:]
						if h == mr && w == nr {
							im.kernel(kc, ap, bs, ldbs, ct, ldc, bp, acc)
						} else {
							im.kernel(kc, ap, bs, ldbs, ws.tile, nr, bp, false)
							addTile(ct, ldc, ws.tile, nr, h, w, acc)
						}
						if bp != nil {
							bs, ldbs = ws.b, nr
						}
					}
				}
			}
		}
	}
}

// packA copies the mc x kc block of A at a into dst as mr-row slivers, each
// kc columns of mr consecutive elements; rows past mc are zero.
func packA(dst, a []float64, lda, mc, kc, mr int) {
	for ir := 0; ir < mc; ir += mr {
		s := dst[ir*kc : ir*kc+mr*kc]
		h := min(mr, mc-ir)
		for r := range h {
			row := a[(ir+r)*lda : (ir+r)*lda+kc]
			for p, v := range row {
				s[p*mr+r] = v
			}
		}
		for r := h; r < mr; r++ {
			for p := range kc {
				s[p*mr+r] = 0
			}
		}
	}
}

// packB copies kc rows of w < nr columns of B into dst with row stride nr,
// zero-padded to nr columns.
func packB(dst, b []float64, ldb, kc, w, nr int) {
	for p := range kc {
		d := dst[p*nr : p*nr+nr]
		copy(d, b[p*ldb:p*ldb+w])
		clear(d[w:])
	}
}

// addTile writes (or adds, if acc) the h x w top-left part of tile to C.
func addTile(c []float64, ldc int, tile []float64, ldt, h, w int, acc bool) {
	for r := range h {
		dst := c[r*ldc : r*ldc+w]
		src := tile[r*ldt : r*ldt+w]
		if acc {
			for j, v := range src {
				dst[j] += v
			}
		} else {
			copy(dst, src)
		}
	}
}
