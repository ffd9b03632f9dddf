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
// bands of an n = 512 product, each band is 8 rows, and a separate pass
// would copy all of B (2 MiB) to use it for 8 rows. So B is never packed in
// a pass of its own. It goes through two small strip buffers, a strip being
// kc rows of 24 columns (two avx2 slivers, one avx512 sliver; 192 bytes a
// row, three whole cache lines): while the micro-kernel works through the
// strip in one buffer, its calls for the block's first mr rows copy the next
// strip from the row-major matrix into the other, one row every step or
// two. The copy's loads feed no FMA, so they wait off the critical path.
// Reading slivers straight from B instead was slower: with a power-of-two
// leading dimension (n = 512, 1024) all of a sliver's rows fall in the same
// few L1 sets, so prefetched lines evict each other, and adjacent 12-column
// slivers fetch the lines they share twice.
//
// # Bands of few rows
//
// However B is read, a band of h rows uses each element of B for 2h FLOPs:
// with h = 8 (n = 512 in 64 chunks) that is 2 MiB of B per 4.2 MFLOP, and
// at this host's one-core L3 bandwidth (about 37 GB/s) streaming it takes
// about half as long as the FMAs do. A band therefore runs well below a
// whole-matrix call unless the stream hides completely behind the FMAs,
// which it does not quite; OpenBLAS's dgemm shows the same drop.
package dgemm

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// microKernel computes one mr x nr tile of C from kc columns of a packed
// sliver of A (a[p*mr+r] = A[r][p]) and kc rows of a sliver of B
// (b[p*ldb+j] = B[p][j], j < nr):
//
//	C[r][j] = sum_p A[r][p] B[p][j]          if !acc
//	C[r][j] += sum_p A[r][p] B[p][j]         if acc
//
// C[r][j] is c[r*ldc+j]. It does so for ntiles >= 1 tiles one below the
// other: tile t uses a[t*mr*kc:] and c[t*mr*ldc:] and the same B. On the
// way, during the first tile, it does cp, part of packing the next strip of
// B. It writes columns j < w of C only: w is nr, or less for a kernel
// registered as masked (the avx512 one writes narrow tiles at C's right
// edge in place, where the others go through a tile buffer). The caller
// guarantees that every element named is inside its slice; kc >= 1.
type microKernel func(kc int, a, b []float64, ldb int, c []float64, ldc int, acc bool, cp copyJob, ntiles, w int)

// copyJob asks a micro-kernel call to copy rows of a strip of B, the
// strip slivers of nr columns side by side, from row-major src to packed
// slivers: row r, sliver q (columns q*nr to q*nr+nr-1 of src's row r*lds)
// goes to dst[q*stride+r*nr:]. The call copies one row every strip steps, so
// rows*strip <= kc.
type copyJob struct {
	src    []float64
	lds    int
	dst    []float64
	stride int
	rows   int
}

type impl struct {
	name   string
	mr, nr int
	strip  int  // slivers of B per strip: nr*strip*8 bytes a row, whole cache lines
	masked bool // kernel writes tiles narrower than nr (w < nr) in place
	shares shares
	kernel microKernel
	copy   copier // nil: packStrip copies in Go
	block  blocking
	spare  spares // workspaces between calls
}

var (
	impls  []*impl // every micro-kernel this CPU can run, best first
	active atomic.Pointer[impl]
)

// copier copies rows whole rows of a strip of B (strip*nr columns) from
// row-major src into a strip buffer of kc-row slivers, dst being the
// buffer's position of the first row (see copyJob for the layout).
type copier func(rows int, src []float64, lds int, dst []float64, kc int)

// machineCaches is read once, at init, for every micro-kernel: reading
// /sys costs a few hundred microseconds, and every worker process of a
// pool pays this package's init before it is ready.
var machineCaches caches

// register adds a micro-kernel, with the blocking its shape and shares get
// from this machine's caches.
func register(im *impl) {
	im.block = blockFor(machineCaches, im.mr, im.nr, im.shares)
	impls = append(impls, im)
}

func init() {
	machineCaches = detectCaches()
	registerAsm() // the best first
	register(&impl{name: "generic", mr: 4, nr: 4, strip: 1, shares: halves, kernel: kernelGeneric})
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
	if trivial(m, n, k, c, ldc) {
		return
	}
	active.Load().gemm(m, n, k, a, lda, b, ldb, c, ldc)
}

// trivial computes a product with nothing to multiply, and reports whether
// it was one: an empty C, or C = 0 when k is 0.
func trivial(m, n, k int, c []float64, ldc int) bool {
	if m == 0 || n == 0 {
		return true
	}
	if k == 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
		return true
	}
	return false
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

// block is one cache block of the computation: columns [jc, jc+nc) of C
// and B, rows [pc, pc+kc) of B (columns of A), rows [ic, ic+mc) of C and A.
type block struct {
	jc, nc, pc, kc, ic, mc int
}

// geometry is the blocking of one Gemm call; its blocks are visited jc
// outermost, then pc, then ic.
type geometry struct {
	m, n, k          int
	mcMax, kcMax, nc int
}

func (g *geometry) first() block {
	return block{jc: 0, nc: min(g.nc, g.n), pc: 0, kc: min(g.kcMax, g.k), ic: 0, mc: min(g.mcMax, g.m)}
}

func (g *geometry) next(b block) (block, bool) {
	if b.ic += b.mc; b.ic < g.m {
		b.mc = min(g.mcMax, g.m-b.ic)
		return b, true
	}
	b.ic, b.mc = 0, min(g.mcMax, g.m)
	if b.pc += b.kc; b.pc < g.k {
		b.kc = min(g.kcMax, g.k-b.pc)
		return b, true
	}
	b.pc, b.kc = 0, min(g.kcMax, g.k)
	if b.jc += b.nc; b.jc < g.n {
		b.nc = min(g.nc, g.n-b.jc)
		return b, true
	}
	return b, false
}

// gemm is the blocked product. B is consumed in strips of im.strip slivers
// (24 columns for avx2 and avx512, 192 bytes a row) from two buffers: while
// the micro-kernel works through the strip in one buffer, the calls for its
// first mr rows copy the next strip (the next in this block or the first of
// the next block) into the other, each a share of its rows. The strip at
// the very start, the rows the calls cannot take (kc not a multiple of the
// strip) and strips at the right edge, narrower than the strip, zero-padded,
// are copied by Go.
func (im *impl) gemm(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	ws := im.workspace(0)
	defer im.spare.put(ws)
	mr, nr, S := im.mr, im.nr, im.strip
	sw := S * nr // strip width
	g := geometry{m: m, n: n, k: k,
		mcMax: split(m, im.block.mc, mr),
		kcMax: split(k, im.block.kc, 1),
		nc:    split(n, im.block.nc, sw),
	}
	cur := g.first()
	buf := 0
	im.packStrip(ws.b[buf], b[cur.pc*ldb+cur.jc:], ldb, cur.kc, 0, min(sw, cur.nc))
	for {
		packA(ws.a, a[cur.ic*lda+cur.pc:], lda, cur.mc, cur.kc, mr)
		acc := cur.pc > 0
		for js := 0; js < cur.nc; js += sw {
			// The strip after this one: the calls copy the rows of it
			// whose whole width lies inside b (all of them but at the
			// right edge of the last rows; past the block's columns they
			// copy columns of no use, which only partial tiles of C see).
			nb, njs, more := cur, js+sw, true
			if njs >= cur.nc {
				nb, more = g.next(cur)
				njs = 0
			}
			next := ws.b[1-buf]
			var nsrc []float64
			inside := 0 // rows of the next strip the calls may copy
			if more {
				nsrc = b[nb.pc*ldb+nb.jc+njs:]
				if len(nsrc) >= sw {
					inside = min(nb.kc, (len(nsrc)-sw)/ldb+1)
				}
			}
			copied := 0
			strip := ws.b[buf]
			for q := 0; q < S && js+q*nr < cur.nc; q++ {
				j := cur.jc + js + q*nr
				w := min(nr, cur.nc-js-q*nr)
				bq := strip[q*cur.kc*nr:]
				// The full tiles in one call, then the partial one.
				full := cur.mc / mr
				if w < nr && !im.masked {
					full = 0
				}
				for ir := 0; ir < cur.mc; {
					var job copyJob
					if ir == 0 {
						if rows := min(cur.kc/S, inside-copied); rows > 0 {
							job = copyJob{src: nsrc[copied*ldb:], lds: ldb, dst: next[copied*nr:], stride: nb.kc * nr, rows: rows}
							copied += rows
						}
					}
					ap := ws.a[ir*cur.kc:]
					ct := c[(cur.ic+ir)*ldc+j:]
					if ir == 0 && full > 0 {
						im.kernel(cur.kc, ap, bq, nr, ct, ldc, acc, job, full, w)
						ir += full * mr
						continue
					}
					im.kernel(cur.kc, ap, bq, nr, ws.tile, nr, false, job, 1, nr)
					addTile(ct, ldc, ws.tile, nr, min(mr, cur.mc-ir), w, acc)
					ir += mr
				}
			}
			if more && copied < nb.kc {
				im.packStrip(next, nsrc, ldb, nb.kc, copied, min(sw, nb.nc-njs))
			}
			buf = 1 - buf
		}
		var ok bool
		if cur, ok = g.next(cur); !ok {
			return
		}
	}
}

// packStrip copies rows [from, kc) of a strip of w columns of B into
// slivers of nr columns, sliver q at dst[q*kc*nr:], rows nr apart. The
// assembly copier takes the rows whose whole strip width lies inside b;
// Go copies the others, zero-padding the last sliver to nr columns.
func (im *impl) packStrip(dst, b []float64, ldb, kc, from, w int) {
	nr, sw := im.nr, im.strip*im.nr
	if im.copy != nil && len(b) >= sw {
		if to := min(kc, (len(b)-sw)/ldb+1); to > from {
			im.copy(to-from, b[from*ldb:], ldb, dst[from*nr:], kc)
			from = to
		}
	}
	for q := 0; q*nr < w; q++ {
		wq := min(nr, w-q*nr)
		s := dst[q*kc*nr : (q+1)*kc*nr]
		for p := from; p < kc; p++ {
			d := s[p*nr : p*nr+nr]
			copy(d, b[p*ldb+q*nr:p*ldb+q*nr+wq])
			clear(d[wq:])
		}
	}
}

// transpose4, where the CPU has it, copies 4 rows x kc columns of A (kc a
// multiple of 4) to dst, column p's four elements at dst[p*ldd:].
var transpose4 func(kc int, a []float64, lda int, dst []float64, ldd int)

// packA copies the mc x kc block of A at a into dst as mr-row slivers, each
// kc columns of mr consecutive elements; rows past mc are zero. Full groups
// of four rows go through transpose4 where there is one.
func packA(dst, a []float64, lda, mc, kc, mr int) {
	kc4 := kc &^ 3
	for ir := 0; ir < mc; ir += mr {
		s := dst[ir*kc : ir*kc+mr*kc]
		h := min(mr, mc-ir)
		r := 0
		if transpose4 != nil && mr%4 == 0 && kc4 > 0 {
			for ; r+4 <= h; r += 4 {
				transpose4(kc4, a[(ir+r)*lda:], lda, s[r:], mr)
				for i := range 4 {
					row := a[(ir+r+i)*lda : (ir+r+i)*lda+kc]
					for p := kc4; p < kc; p++ {
						s[p*mr+r+i] = row[p]
					}
				}
			}
		}
		for ; r < h; r++ {
			row := a[(ir+r)*lda : (ir+r)*lda+kc]
			for p, v := range row {
				s[p*mr+r] = v
			}
		}
		for ; r < mr; r++ {
			for p := range kc {
				s[p*mr+r] = 0
			}
		}
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
