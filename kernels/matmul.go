package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

func init() {
	register(&definition{
		Info: Info{
			Name:        "matmul",
			Shapes:      []string{"square"},
			Sizes:       map[string]int{"small": 128, "default": 512, "large": 1024},
			SizeMeaning: "n: C = A x B for n x n float64 matrices",
			Unit:        "FLOP",
			WorkGrowth:  3,
		},
		build: newMatmul,
	})
}

// gemmBlock is the edge of the blocks each chunk hands to gonum's Dgemm. Dgemm
// runs on the calling goroutine only while
// ceil(m/64) * ceil(n/64) < 4 (blas/gonum: blockSize 64, minParBlock 4); above
// that it starts a goroutine per 64 x 64 block of C, whatever the caller
// intended. Calls of at most gemmBlock x gemmBlock x gemmBlock stay serial and
// follow the order of Dgemm's own blocked loop, so a chunked product costs
// what one whole-matrix call costs.
const gemmBlock = 64

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

// gemmRows computes rows [lo, hi) of C = A x B, in blocks small enough that
// gonum's Dgemm never goes parallel.
func gemmRows(n, lo, hi int, a, b, c []float64) {
	var impl gonum.Implementation
	clear(c[lo*n : hi*n])
	for i := lo; i < hi; i += gemmBlock {
		mi := min(gemmBlock, hi-i)
		for j := 0; j < n; j += gemmBlock {
			nj := min(gemmBlock, n-j)
			for k := 0; k < n; k += gemmBlock {
				nk := min(gemmBlock, n-k)
				impl.Dgemm(blas.NoTrans, blas.NoTrans, mi, nj, nk,
					1, a[i*n+k:], n, b[k*n+j:], n, 1, c[i*n+j:], n)
			}
		}
	}
}

// Reference is the textbook triple loop (i, k, j order so that the inner loop
// is unit-stride), sharing no code with gonum.
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
// Numerical Algorithms, eq. 3.5), whatever the summation order and whether
// or not multiply-adds are fused. Bounding the sum by n*max|A|*max|B| gives
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
