package dgemm

import (
	"errors"
	"fmt"
	"math"
)

// # B packed once, for many calls
//
// A caller that computes C in bands of rows calls Gemm once per band, and
// every call copies all of B into strips again: with 16 bands of 32 rows
// (n = 512) that is 16 passes over 2 MiB for 268 MFLOP, each strip row
// 4 KiB from the last (a new page, a new L1 set conflict), copied in a
// burst during the first of only 8 tiles that use it. PackB does that
// copy once, into a caller-owned area (shared memory, for worker
// processes), in the layout the micro-kernels read: blocks of kc rows, each
// a row of kc x nr slivers, contiguous, which the hardware prefetchers
// follow. GemmPacked then computes any band of rows from it with no copy
// of B at all.

// packedHeader is the number of float64s before the packed data: one cache
// line holding the layout (packedMagic, nr, kc, k, n), so that a process
// that maps the area can check that it was packed for its micro-kernel.
const packedHeader = 8

// packedMagic marks an area PackB wrote ("dgemmPB1").
const packedMagic = 0x64_67_65_6d_6d_50_42_31

// maxNR is the widest micro-kernel tile; every kernel's nr divides it, so
// that PackedSize does not depend on which kernel packs.
const maxNR = 24

// PackedSize returns how many float64s PackB needs for a k x n matrix B,
// whichever micro-kernel is active: the header, and k rows of n columns
// rounded up to whole slivers of the widest kernel.
func PackedSize(k, n int) int {
	return packedHeader + k*((n+maxNR-1)/maxNR*maxNR)
}

// Packed is a k x n matrix B that PackB packed for one micro-kernel width.
type Packed struct {
	k, n, nr, kc int
	j0, j1       int       // the columns this view multiplies by: [j0, j1)
	data         []float64 // the slivers, after the header
}

// K and N return the dimensions of the view: k rows, j1-j0 columns.
func (p Packed) K() int { return p.k }
func (p Packed) N() int { return p.j1 - p.j0 }

// NR returns the width of the slivers: Cols cuts B only at multiples of it.
func (p Packed) NR() int { return p.nr }

// Cols returns the view of columns [j0, j1) of p (relative to p's first
// column), for computing a tile of C rather than a band. j0 and j1 must be
// multiples of NR, or j1 p's last column.
func (p Packed) Cols(j0, j1 int) Packed {
	w := p.j1 - p.j0
	if j0 < 0 || j1 < j0 || j1 > w || j0%p.nr != 0 || (j1%p.nr != 0 && j1 != w) {
		panic(fmt.Sprintf("dgemm: columns [%d, %d) of a packed B of %d columns in slivers of %d", j0, j1, w, p.nr))
	}
	p.j0, p.j1 = p.j0+j0, p.j0+j1
	return p
}

// PackB packs the k x n row-major matrix B (B[p][j] at b[p*ldb+j]) into
// dst, PackedSize(k, n) float64s, for the active micro-kernel, and returns
// its view. The layout: rows of B in blocks of kc (the active kernel's KC,
// balanced over k as Gemm does), each block a row of slivers of nr columns,
// sliver q of the block at row pc holding B[pc+p][q*nr+j] at
// dst[header + pc*npad + q*kcb*nr + p*nr + j], npad being n rounded up to
// nr, the last sliver zero-padded. It panics if a slice is too short.
func PackB(k, n int, b []float64, ldb int, dst []float64) Packed {
	checkMatrix("B", k, n, b, ldb)
	if need := PackedSize(k, n); len(dst) < need {
		panic(fmt.Sprintf("dgemm: packed B (%d x %d) needs %d elements, has %d", k, n, need, len(dst)))
	}
	im := active.Load()
	p := Packed{k: k, n: n, nr: im.nr, kc: max(split(k, im.block.kc, 1), 1), j1: n}
	for i, v := range []uint64{packedMagic, uint64(p.nr), uint64(p.kc), uint64(k), uint64(n), 0, 0, 0} {
		dst[i] = math.Float64frombits(v)
	}
	p.data = dst[packedHeader:PackedSize(k, n)]
	nr, npad := p.nr, p.npad()
	for pc := 0; pc < k; pc += p.kc {
		kcb := min(p.kc, k-pc)
		for q := 0; q*nr < n; q++ {
			w := min(nr, n-q*nr)
			s := p.data[pc*npad+q*kcb*nr : pc*npad+(q+1)*kcb*nr]
			for r := range kcb {
				d := s[r*nr : r*nr+nr]
				copy(d, b[(pc+r)*ldb+q*nr:(pc+r)*ldb+q*nr+w])
				clear(d[w:])
			}
		}
	}
	return p
}

func (p Packed) npad() int { return (p.n + p.nr - 1) / p.nr * p.nr }

// ErrPackedMismatch is returned by LoadPacked for an area packed for a
// micro-kernel of another width than the active one, or not packed at all.
var ErrPackedMismatch = errors.New("dgemm: packed B does not match")

// LoadPacked returns the view of an area that PackB filled for a k x n
// matrix, in this process or another one (the area may be shared memory).
// It fails if the area holds another layout, other dimensions, or slivers
// of another width than the active micro-kernel's (SetKernel since the
// packing): GemmPacked never runs a kernel on slivers it cannot read.
func LoadPacked(k, n int, src []float64) (Packed, error) {
	if len(src) < PackedSize(k, n) {
		return Packed{}, fmt.Errorf("%w: area of %d elements for a %d x %d B, needs %d", ErrPackedMismatch, len(src), k, n, PackedSize(k, n))
	}
	var h [packedHeader]uint64
	for i := range h {
		h[i] = math.Float64bits(src[i])
	}
	im := active.Load()
	switch {
	case h[0] != packedMagic:
		return Packed{}, fmt.Errorf("%w: area was not packed by PackB", ErrPackedMismatch)
	case h[3] != uint64(k) || h[4] != uint64(n):
		return Packed{}, fmt.Errorf("%w: area holds a %d x %d B, want %d x %d", ErrPackedMismatch, h[3], h[4], k, n)
	case h[1] != uint64(im.nr):
		return Packed{}, fmt.Errorf("%w: slivers of %d columns, the active kernel %s reads %d", ErrPackedMismatch, h[1], im.name, im.nr)
	case h[2] < 1 || h[2] > uint64(max(k, 1)):
		return Packed{}, fmt.Errorf("%w: block of %d rows for k = %d", ErrPackedMismatch, h[2], k)
	}
	p := Packed{k: k, n: n, nr: im.nr, kc: int(h[2]), j1: n}
	p.data = src[packedHeader:PackedSize(k, n)]
	return p, nil
}

// GemmPacked computes C = A x B for an m x k row-major matrix A (A[i][p] at
// a[i*lda+p]) and a B that PackB packed, into the m x n matrix C
// (C[i][j] at c[i*ldc+j]), overwriting it; as Gemm, it runs on the calling
// goroutine only, may be called concurrently on disjoint Cs, and panics
// on short slices. It uses the active micro-kernel, which must read the
// slivers' width (LoadPacked checks).
func GemmPacked(m int, a []float64, lda int, b Packed, c []float64, ldc int) {
	k, n := b.k, b.N()
	checkMatrix("A", m, k, a, lda)
	checkMatrix("C", m, n, c, ldc)
	if trivial(m, n, k, c, ldc) {
		return
	}
	im := active.Load()
	if im.nr != b.nr {
		panic(fmt.Sprintf("dgemm: B packed in slivers of %d columns, kernel %s reads %d", b.nr, im.name, im.nr))
	}
	im.gemmPacked(m, a, lda, b, c, ldc)
}

// gemmPacked is the blocked product over a packed B, BLIS's loop order:
// NC columns (a kc x nc panel of B stays in L3 for every MC block of A),
// then KC rows (the packing's blocks), then MC rows of A packed into L2,
// then slivers of B, each reused from L1 by every mr-row tile of the block.
func (im *impl) gemmPacked(m int, a []float64, lda int, b Packed, c []float64, ldc int) {
	mr, nr := im.mr, im.nr
	k, kc, npad := b.k, b.kc, b.npad()
	j0, n := b.j0, b.j1 // columns of the packed B; C's column j-j0
	mcMax := split(m, im.block.mc, mr)
	ws := im.workspace(mcMax * kc)
	defer im.spare.put(ws)
	nc := max(im.block.nc/nr*nr, nr)
	for jc := j0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			acc := pc > 0
			for ic := 0; ic < m; ic += mcMax {
				mcb := min(mcMax, m-ic)
				packA(ws.a, a[ic*lda+pc:], lda, mcb, kcb, mr)
				full := mcb / mr
				for j := jc; j < jc+ncb; j += nr {
					w := min(nr, n-j)
					bq := b.data[pc*npad+j*kcb:]
					ct := c[ic*ldc+j-j0:]
					ir := 0
					if (w == nr || im.masked) && full > 0 {
						im.kernel(kcb, ws.a, bq, nr, ct, ldc, acc, copyJob{}, full, w)
						ir = full * mr
					}
					for ; ir < mcb; ir += mr {
						im.kernel(kcb, ws.a[ir*kcb:], bq, nr, ws.tile, nr, false, copyJob{}, 1, nr)
						addTile(ct[ir*ldc:], ldc, ws.tile, nr, min(mr, mcb-ir), w, acc)
					}
				}
			}
		}
	}
}
