package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/corescale/corescale/kernels/dgemm"
)

func init() {
	register(&definition{
		Info: Info{
			Name:   "matmul",
			Shapes: []string{"square"},
			Sizes:  map[string]int{"small": 128, "default": 512, "large": 1536},
			// 1536^3 x 2 FLOPs take about 0.25 s on one core near the
			// FMA peak: 2 ms for each of 128 workers.
			BigSize:     "large",
			SizeMeaning: "n: C = A x B for n x n float64 matrices",
			Unit:        "FLOP",
			WorkGrowth:  3,
			// Bands of C: a band reads all of B, so thin bands are bound
			// by moving B, not by the FMAs (see gemmRows). 16 bands of
			// 32 rows at n = 512 run near a whole-matrix call, and still
			// give 8 chunks per worker at 2 workers.
			Chunks: 16,
			Items:  func(n int) int { return n },
		},
		build: newMatmul,
	})
}

// matmul computes C = A x B. Input: A then B, n x n row-major float64 each;
// output: C. Chunk i computes a band of rows of C.
type matmul struct {
	p Params
	n int
}

func newMatmul(p Params) (Kernel, error) {
	n := float64(p.Size)
	if err := checkFootprint(p, 2*n*n*8, n*n*8); err != nil {
		return nil, err
	}
	return &matmul{p: p, n: p.Size}, nil
}

func (m *matmul) Params() Params   { return m.p }
func (m *matmul) InputBytes() int  { return 2 * m.n * m.n * 8 }
func (m *matmul) OutputBytes() int { return m.n * m.n * 8 }

func (m *matmul) Work() Work {
	n := float64(m.n)
	return Work{Amount: 2 * n * n * n, Unit: "FLOP", Bytes: int64(m.InputBytes())}
}

// Fill draws A and B uniformly from [-1, 1).
func (m *matmul) Fill(in []byte) error {
	ab, err := m.inputs(in)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(m.p.Seed, 0x6d61746d756c))
	for i := range ab {
		ab[i] = 2*rng.Float64() - 1
	}
	return nil
}

func (m *matmul) inputs(in []byte) ([]float64, error) {
	if err := checkArea(in, m.InputBytes(), "matmul input"); err != nil {
		return nil, err
	}
	return view[float64](in, "matmul input")
}

func (m *matmul) views(in, out []byte) (a, b, c []float64, err error) {
	ab, err := m.inputs(in)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkArea(out, m.OutputBytes(), "matmul output"); err != nil {
		return nil, nil, nil, err
	}
	c, err = view[float64](out, "matmul output")
	if err != nil {
		return nil, nil, nil, err
	}
	nn := m.n * m.n
	return ab[:nn:nn], ab[nn:], c, nil
}

func (m *matmul) Bind(in, out []byte) (func(chunk int), error) {
	a, b, c, err := m.views(in, out)
	if err != nil {
		return nil, err
	}
	n, chunks := m.n, m.p.Chunks
	return func(chunk int) {
		lo, hi := chunkRange(chunk, chunks, n)
		gemmRows(n, lo, hi, a, b, c)
	}, nil
}

// gemmRows computes rows [lo, hi) of C = A x B with one call of
// kernels/dgemm, which runs on the calling goroutine only. A band reads all
// of B to use each element for 2*(hi-lo) FLOPs, so thin bands are bound by
// the memory system, not the FMAs: with 64 chunks, n = 512 gives 8-row
// bands that run at about 60% of a whole-matrix call, 16 chunks 32-row
// bands near it (kernels/dgemm's TestMeasure times bands of 64, 32 and 16
// chunks side by side); matmul's default is 16.
func gemmRows(n, lo, hi int, a, b, c []float64) {
	if lo == hi {
		return
	}
	dgemm.Gemm(hi-lo, n, n, a[lo*n:], n, b, n, c[lo*n:], n)
}

// Reference is the textbook triple loop (i, k, j order so that the inner loop
// is unit-stride), sharing no code with kernels/dgemm.
func (m *matmul) Reference(in, want []byte) error {
	a, b, c, err := m.views(in, want)
	if err != nil {
		return err
	}
	n := m.n
	for i := range n {
		row := c[i*n : (i+1)*n]
		clear(row)
		for k := range n {
			aik := a[i*n+k]
			for j, bkj := range b[k*n : (k+1)*n] {
				row[j] += aik * bkj
			}
		}
	}
	return nil
}

// Verify accepts got when every element is within the forward error bound of
// two dot products of length n computed in different orders. Each computed
// element satisfies |fl(c) - c| <= gamma(n) * sum_k |a_ik||b_kj| with
// gamma(n) = n*u / (1 - n*u), u = 2^-53 (Higham, Accuracy and Stability of
// Numerical Algorithms, eq. 3.5), whatever the summation order. The bound
// holds with fused multiply-adds too: its proof gives each product and each
// addition a factor (1 + delta), |delta| <= u, n of them along any path of
// the summation tree, and an FMA computes a*b + s with a single rounding, one
// factor where the unfused pair has two, so a fused sum has at most as many
// factors and gamma(n) still covers them. kernels/dgemm's micro-kernels fuse
// every step (VFMADD231PD) and sum in blocks of KC; Reference rounds
// products and sums separately, in order; both are within gamma(n) of the
// exact product. Bounding the sum by n*max|A|*max|B| gives
// |got - want| <= 2 * gamma(n) * n * max|A| * max|B|: loose, but a real bug
// (a missing block, a wrong row) is off by O(1), many orders above it.
func (m *matmul) Verify(in, want, got []byte) error {
	a, b, w, err := m.views(in, want)
	if err != nil {
		return err
	}
	_, _, g, err := m.views(in, got)
	if err != nil {
		return err
	}
	tol := matmulTolerance(m.n, maxAbs(a), maxAbs(b))
	for i := range w {
		if d := math.Abs(g[i] - w[i]); !(d <= tol) { // !(<=) also catches NaN
			return fmt.Errorf("kernels: matmul C[%d][%d] = %g, want %g (off by %.3g, tolerance %.3g)",
				i/m.n, i%m.n, g[i], w[i], d, tol)
		}
	}
	return nil
}

func matmulTolerance(n int, maxA, maxB float64) float64 {
	const u = 0x1p-53
	nu := float64(n) * u
	gamma := nu / (1 - nu)
	return 2 * gamma * float64(n) * maxA * maxB
}

func maxAbs(x []float64) float64 {
	var mx float64
	for _, v := range x {
		mx = max(mx, math.Abs(v))
	}
	return mx
}
