package bench

import (
	"runtime"
	"testing"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/corescale/corescale/kernels"
	"github.com/corescale/corescale/kernels/dgemm"
)

// BenchmarkReference times what the kernels are held to outside the suite,
// at GOMAXPROCS=1: impl=dgemm is one whole-matrix call of kernels/dgemm,
// the yardstick for the chunked matmul (chunking must not cost speed), and
// impl=gonum-dgemm gonum's Dgemm, which the kernel used before.
func BenchmarkReference(b *testing.B) {
	for _, impl := range []struct {
		name string
		gemm func(n int, a, bm, c []float64)
	}{
		{"dgemm", func(n int, a, bm, c []float64) { dgemm.Gemm(n, n, n, a, n, bm, n, c, n) }},
		{"gonum-dgemm", func(n int, a, bm, c []float64) {
			gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, bm, n, 0, c, n)
		}},
	} {
		b.Run("kernel=matmul/impl="+impl.name+"/workers=1", func(b *testing.B) {
			p, err := kernels.Defaults("matmul", *size)
			if err != nil {
				b.Fatal(err)
			}
			w := workload(b, p)
			n := p.Size
			// A then B (the packed copy after them is not read here). An
			// unchecked Fill into a short area once left A and B zero, and
			// gonum's Dgemm skips zeros: it "ran" at twice the FMA peak.
			ab := make([]float64, (w.Kernel.InputBytes()+7)/8)
			if err := w.Kernel.Fill(unsafe.Slice((*byte)(unsafe.Pointer(&ab[0])), w.Kernel.InputBytes())); err != nil {
				b.Fatal(err)
			}
			if ab[0] == 0 || ab[2*n*n-1] == 0 {
				b.Fatal("Fill left A or B zero")
			}
			c := make([]float64, n*n)
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			for b.Loop() {
				impl.gemm(n, ab[:n*n], ab[n*n:], c)
			}
			b.ReportMetric(w.Kernel.Work().Amount*float64(b.N)/b.Elapsed().Seconds(), "FLOP/s")
		})
	}
}
