package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// wholeGemm is C = A x B in one Dgemm call: the yardstick the chunked
// product is held to.
func wholeGemm(n int, a, b, c []float64) {
	gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, b, n, 0, c, n)
}
