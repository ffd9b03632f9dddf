package dgemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchChunks is kernels.DefaultChunks: kernels/matmul computes C in this
// many bands of rows, one Gemm call each.
const benchChunks = 64

func benchInputs(n int) (a, b, c []float64) {
	rng := rand.New(rand.NewPCG(1, 1))
	a, b, c = make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
	for i := range a {
		a[i], b[i] = 2*rng.Float64()-1, 2*rng.Float64()-1
	}
	return a, b, c
}

// BenchmarkGemm times C = A x B for n x n matrices on the calling goroutine:
// impl=whole is one Gemm call, impl=bands is 64 calls on bands of rows
// (kernels/matmul's chunks before B was packed once), impl=packed-whole
// and impl=packed-bands16 are one GemmPacked call and kernels/matmul's
// 16 bands on a B packed beforehand, impl=gonum is the former path (gonum's Dgemm on
// 64 x 64 x 64 blocks, which never go parallel), impl=tiles is the 64
// chunks as an 8 x 8 grid of tiles of C, for comparison with bands. Run it
// with -cpu 1 and taskset for one core.
func BenchmarkGemm(b *testing.B) {
	for _, n := range []int{512, 1024} {
		a, bm, c := benchInputs(n)
		pb := PackB(n, n, bm, n, heapFloats(PackedSize(n, n)))
		flops := 2 * float64(n) * float64(n) * float64(n)
		impls := []struct {
			name string
			run  func()
		}{
			{"whole", func() { Gemm(n, n, n, a, n, bm, n, c, n) }},
			{"bands", func() {
				for i := range benchChunks {
					lo, hi := i*n/benchChunks, (i+1)*n/benchChunks
					Gemm(hi-lo, n, n, a[lo*n:], n, bm, n, c[lo*n:], n)
				}
			}},
			{"tiles", func() {
				// The 64 chunks as an 8 x 8 grid of tiles instead of
				// bands: each reads n/8 rows of A and n/8 columns of B.
				const g = 8
				for i := range benchChunks {
					r, q := i/g, i%g
					lo, hi := r*n/g, (r+1)*n/g
					jlo, jhi := q*n/g, (q+1)*n/g
					Gemm(hi-lo, jhi-jlo, n, a[lo*n:], n, bm[jlo:], n, c[lo*n+jlo:], n)
				}
			}},
			{"gonum", func() { gonumBlocked(n, a, bm, c) }},
			// B packed once (outside the timing, as kernels/matmul's Fill
			// does), then C as one band or as kernels/matmul's 16 bands.
			{"packed-whole", func() { GemmPacked(n, a, n, pb, c, n) }},
			{"packed-bands16", func() { packedBands(n, 16, a, pb, c) }},
		}
		for _, im := range impls {
			b.Run(fmt.Sprintf("n=%d/impl=%s/kernel=%s", n, im.name, Kernel()), func(b *testing.B) {
				for b.Loop() {
					im.run()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds(), "FLOP/s")
			})
		}
	}
}

// packedBands computes C in bands of rows from a packed B, as
// kernels/matmul's chunks do.
func packedBands(n, chunks int, a []float64, pb Packed, c []float64) {
	for i := range chunks {
		lo, hi := i*n/chunks, (i+1)*n/chunks
		GemmPacked(hi-lo, a[lo*n:], n, pb, c[lo*n:], n)
	}
}

// gonumBlocked is what kernels/matmul did before this package: gonum's
// Dgemm on blocks small enough that it never starts goroutines.
func gonumBlocked(n int, a, b, c []float64) {
	const bs = 64
	var impl gonum.Implementation
	clear(c)
	for i := 0; i < n; i += bs {
		for j := 0; j < n; j += bs {
			for k := 0; k < n; k += bs {
				impl.Dgemm(blas.NoTrans, blas.NoTrans, min(bs, n-i), min(bs, n-j), min(bs, n-k),
					1, a[i*n+k:], n, b[k*n+j:], n, 1, c[i*n+j:], n)
			}
		}
	}
}

// BenchmarkPeakFMA times PeakFMA: FLOP/s is this core's FP64 FMA peak on
// the widest unit it has.
func BenchmarkPeakFMA(b *testing.B) {
	b.Run("unit="+PeakUnit(), func(b *testing.B) {
		const iters = 1 << 20
		var flops float64
		for b.Loop() {
			flops += PeakFMA(iters)
		}
		b.ReportMetric(flops/b.Elapsed().Seconds(), "FLOP/s")
	})
}

// BenchmarkMicroKernel times the active micro-kernel alone on operands in
// L1 (packed B, stride nr): the ceiling of the whole.
func BenchmarkMicroKernel(b *testing.B) {
	im := active.Load()
	for _, kc := range []int{64, im.block.kc, 256} {
		b.Run(fmt.Sprintf("kernel=%s/kc=%d", im.name, kc), func(b *testing.B) {
			a := make([]float64, kc*im.mr)
			bb := make([]float64, kc*im.nr)
			c := make([]float64, im.mr*im.nr)
			for i := range a {
				a[i] = 1e-3
			}
			for i := range bb {
				bb[i] = 1e-3
			}
			for b.Loop() {
				im.kernel(kc, a, bb, im.nr, c, im.nr, true, copyJob{}, 1, im.nr)
			}
			b.ReportMetric(2*float64(kc*im.mr*im.nr)*float64(b.N)/b.Elapsed().Seconds(), "FLOP/s")
		})
	}
}

func BenchmarkPackA(b *testing.B) {
	for _, n := range []int{512, 1024} {
		a, _, _ := benchInputs(n)
		im := active.Load()
		kc, mc := split(n, im.block.kc, 1), split(n, im.block.mc, im.mr)
		dst := make([]float64, mc*kc)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				for pc := 0; pc < n; pc += kc {
					for ic := 0; ic < n; ic += mc {
						packA(dst, a[ic*n+pc:], n, min(mc, n-ic), min(kc, n-pc), im.mr)
					}
				}
			}
			b.ReportMetric(float64(n*n)*float64(b.N)/b.Elapsed().Seconds(), "elems/s")
		})
	}
}

// BenchmarkDirectB times the active micro-kernel on B in an n x n
// row-major matrix, strip after strip as a band of rows of C goes through
// it: read straight from the matrix (copy=false), or from a packed strip
// while the calls copy the next one (copy=true), as Gemm does.
func BenchmarkDirectB(b *testing.B) {
	im := active.Load()
	for _, ldb := range []int{512, 520, 1024} {
		for _, cp := range []bool{false, true} {
			kc := 128
			b.Run(fmt.Sprintf("kernel=%s/ldb=%d/copy=%v", im.name, ldb, cp), func(b *testing.B) {
				a := make([]float64, kc*im.mr)
				bb := make([]float64, ldb*ldb)
				sw := im.strip * im.nr
				bp := [2][]float64{make([]float64, sw*kc), make([]float64, sw*kc)}
				c := make([]float64, im.mr*im.nr)
				calls, strips := 0, 0
				for b.Loop() {
					for pc := 0; pc+kc <= ldb; pc += kc {
						for js := 0; js+2*sw <= ldb; js += sw {
							for q := range im.strip {
								if cp {
									rows := kc / im.strip
									job := copyJob{src: bb[(pc+q*rows)*ldb+js+sw:], lds: ldb, dst: bp[(strips+1)%2][q*rows*im.nr:], stride: kc * im.nr, rows: rows}
									im.kernel(kc, a, bp[strips%2][q*kc*im.nr:], im.nr, c, im.nr, true, job, 1, im.nr)
								} else {
									im.kernel(kc, a, bb[pc*ldb+js+q*im.nr:], ldb, c, im.nr, true, copyJob{}, 1, im.nr)
								}
								calls++
							}
							strips++
						}
					}
				}
				b.ReportMetric(2*float64(kc*im.mr*im.nr)*float64(calls)/b.Elapsed().Seconds(), "FLOP/s")
			})
		}
	}
}
