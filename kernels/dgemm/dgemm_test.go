package dgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
)

// allKernels are the micro-kernels the tests force in turn, with why one may
// be missing.
var allKernels = []struct{ name, missing string }{
	{"avx512", "needs AVX-512F (cpu.X86.HasAVX512F) on amd64 and a build without the purego tag"},
	{"avx2", "needs AVX2 and FMA on amd64 and a build without the purego tag"},
	{"generic", "always available"},
}

// forEachKernel runs f as a subtest with each micro-kernel forced, skipping
// those this CPU or build cannot run, with the reason.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	for _, k := range allKernels {
		t.Run("kernel="+k.name, func(t *testing.T) {
			restore, err := SetKernel(k.name)
			if err != nil {
				t.Skipf("%v: %s", err, k.missing)
			}
			defer restore()
			f(t)
		})
	}
}

// matrix is a row-major rows x cols matrix with leading dimension ld >= cols.
type matrix struct {
	rows, cols, ld int
	data           []float64
}

// newMatrix draws a matrix from [-1, 1), with NaN in the padding between
// rows so that any read of it shows in the result.
func newMatrix(rng *rand.Rand, rows, cols, pad int) matrix {
	ld := cols + pad
	m := matrix{rows: rows, cols: cols, ld: ld, data: make([]float64, max(0, (rows-1)*ld+cols))}
	for i := range m.data {
		if i%ld < cols {
			m.data[i] = 2*rng.Float64() - 1
		} else {
			m.data[i] = math.NaN()
		}
	}
	return m
}

// naive returns C = A x B by the triple loop, and for each element the
// bound sum_p |a_ip||b_pj| that its rounding error is measured against.
// It is left out of the race detector's and checkptr's instrumentation: it
// runs on one goroutine over its own slices, and instrumented it took most
// of the package's two minutes under go test -race on a 2-vCPU Zen 1.
//
//go:norace
//go:nocheckptr
func naive(a, b matrix) (c, bound []float64) {
	m, n, k := a.rows, b.cols, a.cols
	c = make([]float64, m*n)
	bound = make([]float64, m*n)
	for i := range m {
		for p := range k {
			aip := a.data[i*a.ld+p]
			for j := range n {
				bpj := b.data[p*b.ld+j]
				c[i*n+j] += aip * bpj
				bound[i*n+j] += math.Abs(aip * bpj)
			}
		}
	}
	return c, bound
}

// tolerance is the forward error bound for two length-k dot products
// computed in different orders, with or without fused multiply-adds:
// each is within gamma(k) sum|a||b| of the exact value (Higham, Accuracy and
// Stability of Numerical Algorithms, eq. 3.5; an FMA rounds once where a
// multiply and an add round twice, so the bound still holds), and so they
// are within twice that of each other.
func tolerance(k int, bound float64) float64 {
	const u = 0x1p-53
	ku := float64(k) * u
	return 2 * ku / (1 - ku) * bound
}

// check compares the m x n matrix C (leading dimension ldc) with want and
// that the padding between its rows still holds sentinel.
func check(t *testing.T, c []float64, ldc, m, n, k int, want, bound []float64, sentinel float64) {
	t.Helper()
	bad := 0
	for i := range m {
		for j := range ldc {
			idx := i*ldc + j
			if idx >= len(c) {
				break
			}
			got := c[idx]
			if j >= n {
				if math.Float64bits(got) != math.Float64bits(sentinel) {
					t.Errorf("padding C[%d][%d] = %g was written", i, j, got)
					bad++
				}
				continue
			}
			w := want[i*n+j]
			if d := math.Abs(got - w); !(d <= tolerance(k, bound[i*n+j])) {
				t.Errorf("C[%d][%d] = %g, want %g (off by %.3g, tolerance %.3g)", i, j, got, w, d, tolerance(k, bound[i*n+j]))
				bad++
			}
			if bad > 5 {
				t.Fatal("too many errors")
			}
		}
	}
}

type shape struct{ m, n, k int }

func (s shape) String() string { return fmt.Sprintf("m=%d/n=%d/k=%d", s.m, s.n, s.k) }

// awkward are the sizes the issue asks for: 1, 7, 63, 65, 127, 513, none a
// multiple of any micro-kernel's MR or NR and each side of 64.
var awkward = []int{1, 7, 63, 65, 127, 513}

func awkwardShapes(short bool) []shape {
	var shapes []shape
	small := awkward[:5]
	for _, m := range small {
		for _, n := range small {
			for _, k := range small {
				shapes = append(shapes, shape{m, n, k})
			}
		}
	}
	// 513 against everything in each dimension, and all three at once:
	// more than one KC block, more than one MC block.
	for _, s := range []int{1, 7, 65} {
		shapes = append(shapes, shape{513, s, 63}, shape{s, 513, 63}, shape{7, 65, 513}, shape{s, 127, 513})
	}
	shapes = append(shapes, shape{513, 65, 513}, shape{65, 513, 513})
	if !short {
		shapes = append(shapes, shape{513, 513, 513})
	}
	return shapes
}

func runShape(t *testing.T, rng *rand.Rand, s shape, pad int) {
	t.Helper()
	a := newMatrix(rng, s.m, s.k, pad)
	b := newMatrix(rng, s.k, s.n, 2*pad)
	want, bound := naive(a, b)
	ldc := s.n + 3*pad
	sentinel := math.Float64frombits(0x7ff8dead0000beef) // a NaN with a payload
	c := make([]float64, max(0, (s.m-1)*ldc+s.n))
	for i := range c {
		c[i] = sentinel // also checks that Gemm does not read C
	}
	Gemm(s.m, s.n, s.k, a.data, a.ld, b.data, b.ld, c, ldc)
	check(t, c, ldc, s.m, s.n, s.k, want, bound, sentinel)
}

func TestGemmAwkwardSizes(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, s := range awkwardShapes(testing.Short()) {
			t.Run(s.String(), func(t *testing.T) { runShape(t, rng, s, 0) })
		}
	})
}

func TestGemmStrided(t *testing.T) {
	// Leading dimensions larger than the rows, different for A, B and C,
	// with NaN in A's and B's padding and a sentinel in C's.
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, s := range []shape{{7, 13, 5}, {63, 65, 127}, {130, 100, 200}, {9, 250, 513}} {
			for _, pad := range []int{1, 5, 64} {
				t.Run(fmt.Sprintf("%v/pad=%d", s, pad), func(t *testing.T) { runShape(t, rng, s, pad) })
			}
		}
	})
}

// withBlocking makes every micro-kernel use tiny cache blocks, so that small
// matrices cross every block boundary (several NC, KC and MC blocks and
// partial ones), and restores the derived blocking afterwards.
func withBlocking(t *testing.T, kc, mcSlivers, ncSlivers int) {
	saved := make([]blocking, len(impls))
	for i, im := range impls {
		saved[i] = im.block
		im.block = blocking{kc: kc, mc: mcSlivers * im.mr, nc: ncSlivers * im.nr}
	}
	t.Cleanup(func() {
		for i, im := range impls {
			im.block = saved[i]
		}
	})
}

func TestGemmSmallBlocks(t *testing.T) {
	withBlocking(t, 5, 2, 3)
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, s := range []shape{{1, 1, 1}, {7, 65, 63}, {65, 127, 7}, {127, 63, 65}, {33, 200, 31}} {
			t.Run(s.String(), func(t *testing.T) { runShape(t, rng, s, 1) })
		}
	})
}

func TestGemmBands(t *testing.T) {
	// C computed in bands of rows [lo, hi) that do not line up with MR,
	// as kernels/matmul does, must match the whole product.
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, s := range []shape{{127, 65, 63}, {200, 130, 127}, {513, 40, 30}} {
			a := newMatrix(rng, s.m, s.k, 0)
			b := newMatrix(rng, s.k, s.n, 0)
			want, bound := naive(a, b)
			for _, cuts := range [][]int{{0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89}, {0, 3, 10, 17, 100}, randomCuts(rng, s.m)} {
				t.Run(fmt.Sprintf("%v/bands=%d", s, len(cuts)), func(t *testing.T) {
					c := make([]float64, s.m*s.n)
					for i := range c {
						c[i] = math.NaN()
					}
					cuts := append(slices.DeleteFunc(slices.Clone(cuts), func(x int) bool { return x >= s.m }), s.m)
					for i := 0; i+1 < len(cuts); i++ {
						lo, hi := cuts[i], cuts[i+1]
						Gemm(hi-lo, s.n, s.k, a.data[lo*a.ld:], a.ld, b.data, b.ld, c[lo*s.n:], s.n)
					}
					check(t, c, s.n, s.m, s.n, s.k, want, bound, 0)
				})
			}
		}
	})
}

func randomCuts(rng *rand.Rand, m int) []int {
	cuts := []int{0}
	for x := 0; x < m; {
		x += 1 + rng.IntN(20)
		cuts = append(cuts, x)
	}
	return cuts
}

func TestGemmDegenerate(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		// k = 0: C = 0, padding untouched.
		c := []float64{1, 2, 9, 3, 4}
		Gemm(2, 2, 0, nil, 1, nil, 2, c, 3)
		if want := []float64{0, 0, 9, 0, 0}; !slices.Equal(c, want) {
			t.Errorf("k=0: C = %v, want %v", c, want)
		}
		// m = 0 or n = 0: nothing to do, nothing touched.
		Gemm(0, 3, 3, nil, 3, make([]float64, 9), 3, nil, 3)
		Gemm(3, 0, 3, make([]float64, 9), 3, nil, 1, nil, 1)
		// Special values propagate: Inf times 0 is NaN.
		a := []float64{math.Inf(1), 1}
		b := []float64{0, 1}
		c = []float64{7}
		Gemm(1, 1, 2, a, 2, b, 1, c, 1)
		if !math.IsNaN(c[0]) {
			t.Errorf("Inf*0 + 1*1 = %g, want NaN", c[0])
		}
	})
}

func TestGemmPanicsOnShortSlices(t *testing.T) {
	tests := []struct {
		name string
		call func()
		want string
	}{
		{"short A", func() { Gemm(2, 2, 2, make([]float64, 3), 2, make([]float64, 4), 2, make([]float64, 4), 2) }, "A (2 x 2"},
		{"short B", func() { Gemm(2, 2, 2, make([]float64, 4), 2, make([]float64, 3), 2, make([]float64, 4), 2) }, "B (2 x 2"},
		{"short C", func() { Gemm(2, 2, 2, make([]float64, 4), 2, make([]float64, 4), 2, make([]float64, 3), 2) }, "C (2 x 2"},
		{"small ldc", func() { Gemm(2, 2, 2, make([]float64, 4), 2, make([]float64, 4), 2, make([]float64, 4), 1) }, "leading dimension 1"},
		{"negative m", func() { Gemm(-1, 2, 2, nil, 2, make([]float64, 4), 2, nil, 2) }, "-1 x 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tt.want) {
					t.Errorf("panic %v, want one naming %q", r, tt.want)
				}
			}()
			tt.call()
		})
	}
}

// TestGemmDetectsWrongResults checks that the comparison used above can
// fail: one spoiled element of a correct product must be reported.
func TestGemmDetectsWrongResults(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	a := newMatrix(rng, 65, 127, 0)
	b := newMatrix(rng, 127, 63, 0)
	want, bound := naive(a, b)
	c := make([]float64, 65*63)
	Gemm(65, 63, 127, a.data, a.ld, b.data, b.ld, c, 63)
	c[1000] += 1e-9
	ft := &fakeT{}
	func() {
		defer func() { _ = recover() }()
		checkInto(ft, c, 63, 65, 63, 127, want, bound)
	}()
	if !ft.failed {
		t.Error("a product off by 1e-9 in one element passed the check")
	}
	if tol := tolerance(127, 127); tol > 1e-10 {
		t.Errorf("tolerance for k=127 with |a|,|b| <= 1 is %g: too loose to catch that", tol)
	}
}

type fakeT struct{ failed bool }

func (f *fakeT) Errorf(string, ...any) { f.failed = true }

func checkInto(t interface{ Errorf(string, ...any) }, c []float64, ldc, m, n, k int, want, bound []float64) {
	for i := range m {
		for j := range n {
			if d := math.Abs(c[i*ldc+j] - want[i*n+j]); !(d <= tolerance(k, bound[i*n+j])) {
				t.Errorf("C[%d][%d] off by %g", i, j, d)
			}
		}
	}
}

func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestGemmStartsNoGoroutines(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		n := 300
		a, b, c := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
		before := goroutinesCreated()
		Gemm(n, n, n, a, n, b, n, c, n)
		if d := goroutinesCreated() - before; d != 0 {
			t.Errorf("Gemm started %d goroutines", d)
		}
	})
}

func TestGemmConcurrentBands(t *testing.T) {
	// Bands computed at once on many goroutines share nothing but A and B
	// (run with -race).
	rng := rand.New(rand.NewPCG(11, 12))
	s := shape{96, 70, 50}
	a := newMatrix(rng, s.m, s.k, 0)
	b := newMatrix(rng, s.k, s.n, 0)
	want, bound := naive(a, b)
	c := make([]float64, s.m*s.n)
	done := make(chan struct{})
	for lo := 0; lo < s.m; lo += 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			Gemm(8, s.n, s.k, a.data[lo*s.k:], s.k, b.data, s.n, c[lo*s.n:], s.n)
		}()
	}
	for lo := 0; lo < s.m; lo += 8 {
		<-done
	}
	check(t, c, s.n, s.m, s.n, s.k, want, bound, 0)
}

func TestGemmAllocatesNothingOnceWarm(t *testing.T) {
	n := 64
	a, b, c := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
	forEachKernel(t, func(t *testing.T) {
		if allocs := testing.AllocsPerRun(20, func() { Gemm(n, n, n, a, n, b, n, c, n) }); allocs > 0.5 {
			t.Errorf("Gemm allocates %.1f times per call", allocs)
		}
	})
}

func TestSetKernel(t *testing.T) {
	if _, err := SetKernel("sse1"); err == nil || !strings.Contains(err.Error(), `"sse1"`) {
		t.Errorf("SetKernel(sse1): err = %v, want one naming it", err)
	}
	names := Kernels()
	if len(names) == 0 || names[len(names)-1] != "generic" {
		t.Fatalf("Kernels() = %v, want a list ending in generic", names)
	}
	if Kernel() != names[0] {
		t.Errorf("Kernel() = %q, want the best available, %q", Kernel(), names[0])
	}
	restore, err := SetKernel("generic")
	if err != nil {
		t.Fatal(err)
	}
	if Kernel() != "generic" {
		t.Errorf("after SetKernel(generic), Kernel() = %q", Kernel())
	}
	restore()
	if Kernel() != names[0] {
		t.Errorf("after restore, Kernel() = %q, want %q", Kernel(), names[0])
	}
	t.Logf("kernels %v; active: %s; peak unit %s", names, Blocking(), PeakUnit())
}

func TestPeakFMA(t *testing.T) {
	if f := PeakFMA(0); f != 0 {
		t.Errorf("PeakFMA(0) = %g FLOPs", f)
	}
	perIter := map[string]float64{"avx512": 384, "avx2": 96, "generic": 16}[PeakUnit()]
	if f := PeakFMA(1000); f != 1000*perIter {
		t.Errorf("PeakFMA(1000) on %s = %g FLOPs, want %g", PeakUnit(), f, 1000*perIter)
	}
}
