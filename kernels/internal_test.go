package kernels

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// wholeGemm is C = A x B in one Dgemm call: the yardstick the chunked
// product is held to.
func wholeGemm(n int, a, b, c []float64) {
	gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, b, n, 0, c, n)
}

func TestMaxAbs(t *testing.T) {
	nan := math.NaN()
	for _, tt := range []struct {
		x    []float64
		want float64
	}{
		{nil, 0},
		{[]float64{0.5, -0.75, 0.25}, 0.75},
		{[]float64{-1, 1}, 1},
		{[]float64{0.5, nan, 2}, nan},
		{[]float64{3, nan}, nan}, // after the largest: still NaN
	} {
		got := maxAbs(tt.x)
		if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
			t.Errorf("maxAbs(%v) = %v, want %v", tt.x, got, tt.want)
		}
	}
}
