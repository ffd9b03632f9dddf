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
// impl=whole is one Gemm call, impl=bands is 64 calls on bands of rows as
// kernels/matmul makes them, impl=gonum is the former path (gonum's Dgemm on
// 64 x 64 x 64 blocks, which never go parallel). Run it with -cpu 1 and
// taskset for one core.
func BenchmarkGemm(b *testing.B) {
	for _, n := range []int{512, 1024} {
		a, bm, c := benchInputs(n)
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
			{"gonum", func() { gonumBlocked(n, a, bm, c) }},
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
