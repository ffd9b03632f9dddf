package bench

import (
	"runtime"
	"testing"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/corescale/corescale/kernels"
)

// BenchmarkReference times what the kernels are held to outside the suite.
// impl=gonum-dgemm is one whole-matrix Dgemm call at GOMAXPROCS=1, the
// yardstick for the chunked matmul: the chunking must not cost speed.
func BenchmarkReference(b *testing.B) {
	b.Run("kernel=matmul/impl=gonum-dgemm/workers=1", func(b *testing.B) {
		p, err := kernels.Defaults("matmul", *size)
		if err != nil {
			b.Fatal(err)
		}
		w := workload(b, p)
		n := p.Size
		ab := make([]float64, 2*n*n)
		w.Kernel.Fill(unsafe.Slice((*byte)(unsafe.Pointer(&ab[0])), 16*n*n))
		c := make([]float64, n*n)
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		for b.Loop() {
			gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, ab[:n*n], n, ab[n*n:], n, 0, c, n)
		}
		b.ReportMetric(w.Kernel.Work().Amount*float64(b.N)/b.Elapsed().Seconds(), "FLOP/s")
	})
}
