package dgemm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// packMatrix packs b (with NaN around the packed area, so that a read
// outside it shows) and returns the view.
func packMatrix(t *testing.T, b matrix) Packed {
	t.Helper()
	need := PackedSize(b.rows, b.cols)
	area := make([]float64, need+16)
	for i := range area {
		area[i] = math.NaN()
	}
	p := PackB(b.rows, b.cols, b.data, b.ld, area[:need])
	for i, v := range area[need:] {
		if !math.IsNaN(v) {
			t.Fatalf("PackB wrote past its area, at %d", need+i)
		}
	}
	return p
}

// runPacked multiplies a by the packed b into a sentinel-filled C, in the
// given bands of rows and column cuts (tiles), and checks it.
func runPacked(t *testing.T, a, b matrix, pb Packed, rowCuts, colCuts []int, pad int) {
	t.Helper()
	want, bound := naive(a, b)
	m, n, k := a.rows, b.cols, a.cols
	ldc := n + pad
	sentinel := math.Float64frombits(0x7ff8dead0000beef)
	c := make([]float64, max(0, (m-1)*ldc+n))
	for i := range c {
		c[i] = sentinel // GemmPacked must not read C
	}
	for r := 0; r+1 < len(rowCuts); r++ {
		for q := 0; q+1 < len(colCuts); q++ {
			lo, hi, j0, j1 := rowCuts[r], rowCuts[r+1], colCuts[q], colCuts[q+1]
			GemmPacked(hi-lo, a.data[lo*a.ld:], a.ld, pb.Cols(j0, j1), c[lo*ldc+j0:], ldc)
		}
	}
	check(t, c, ldc, m, n, k, want, bound, sentinel)
}

// colCuts cuts n columns into about parts tiles at multiples of nr.
func colCuts(n, nr, parts int) []int {
	slivers := (n + nr - 1) / nr
	cuts := []int{0}
	for q := 1; q <= parts; q++ {
		if j := min(n, q*slivers/parts*nr); j > cuts[len(cuts)-1] {
			cuts = append(cuts, j)
		}
	}
	if cuts[len(cuts)-1] != n {
		cuts = append(cuts, n)
	}
	return cuts
}

func TestGemmPackedAwkwardSizes(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for i, s := range awkwardShapes(testing.Short()) {
			t.Run(s.String(), func(t *testing.T) {
				pad := i % 2 * 3 // every other shape with padding between rows
				a := newMatrix(rng, s.m, s.k, pad)
				b := newMatrix(rng, s.k, s.n, 2*pad)
				pb := packMatrix(t, b)
				runPacked(t, a, b, pb, []int{0, s.m}, []int{0, s.n}, 3*pad)
			})
		}
	})
}

func TestGemmPackedBandsAndTiles(t *testing.T) {
	// Bands that do not line up with MR and tiles of whole slivers, as
	// kernels/matmul may cut C, must match the whole product; so must
	// several blocks of every kind (tiny blocks below).
	check := func(t *testing.T) {
		rng := rand.New(rand.NewPCG(23, 24))
		for _, s := range []shape{{127, 65, 63}, {200, 130, 127}, {513, 40, 30}, {33, 513, 65}} {
			a := newMatrix(rng, s.m, s.k, 1)
			b := newMatrix(rng, s.k, s.n, 2)
			pb := packMatrix(t, b)
			nr := pb.NR()
			for _, rows := range [][]int{{0, s.m}, {0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, s.m}, append(randomCuts(rng, s.m-1), s.m)} {
				rows = slices.DeleteFunc(rows, func(x int) bool { return x > s.m })
				rows = slices.Compact(rows)
				for _, parts := range []int{1, 2, 3, 7} {
					t.Run(fmt.Sprintf("%v/bands=%d/cols=%d", s, len(rows)-1, parts), func(t *testing.T) {
						runPacked(t, a, b, pb, rows, colCuts(s.n, nr, parts), 2)
					})
				}
			}
		}
	}
	forEachKernel(t, check)
	t.Run("small-blocks", func(t *testing.T) {
		withBlocking(t, 5, 2, 3)
		forEachKernel(t, check)
	})
}

func TestGemmPackedGeometries(t *testing.T) {
	// The packed driver with each assembly kernel's shape on plain-Go
	// kernels, so that the avx512 geometry (8 x 24) runs on any CPU.
	for _, g := range []struct {
		name   string
		mr, nr int
		masked bool
	}{{"avx512-shape", 8, 24, true}, {"avx512-shape-unmasked", 8, 24, false}, {"avx2-shape", 4, 12, false}} {
		t.Run(g.name, func(t *testing.T) {
			withImpl(t, g.name, g.mr, g.nr, 1, g.masked, nil)
			restore, err := SetKernel(g.name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			rng := rand.New(rand.NewPCG(25, 26))
			for _, blocks := range []bool{false, true} {
				if blocks {
					im := active.Load()
					saved := im.block
					im.block = blocking{kc: 7, mc: 2 * g.mr, nc: 2 * g.nr}
					defer func() { im.block = saved }()
				}
				for _, s := range []shape{{1, 1, 1}, {8, 24, 7}, {9, 25, 8}, {63, 127, 65}, {17, 100, 130}} {
					t.Run(fmt.Sprintf("%v/blocks=%v", s, blocks), func(t *testing.T) {
						a := newMatrix(rng, s.m, s.k, 1)
						b := newMatrix(rng, s.k, s.n, 0)
						pb := packMatrix(t, b)
						runPacked(t, a, b, pb, []int{0, s.m / 3, s.m}, colCuts(s.n, g.nr, 3), 1)
					})
				}
			}
		})
	}
}

func TestLoadPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	a := newMatrix(rng, 20, 70, 0)
	b := newMatrix(rng, 70, 50, 0)
	area := make([]float64, PackedSize(70, 50))
	PackB(70, 50, b.data, b.ld, area)

	// Another process maps the same area: the same product.
	pb, err := LoadPacked(70, 50, slices.Clone(area))
	if err != nil {
		t.Fatal(err)
	}
	if pb.K() != 70 || pb.N() != 50 {
		t.Errorf("LoadPacked: %d x %d, want 70 x 50", pb.K(), pb.N())
	}
	runPacked(t, a, b, pb, []int{0, 20}, []int{0, 50}, 0)

	garbage := make([]float64, len(area))
	for _, tt := range []struct {
		name string
		k, n int
		area []float64
		want string
	}{
		{"not packed", 70, 50, garbage, "not packed by PackB"},
		{"other dimensions", 50, 70, area, "holds a 70 x 50 B"},
		{"short area", 70, 50, area[:len(area)-1], "needs"},
	} {
		if _, err := LoadPacked(tt.k, tt.n, tt.area); !errors.Is(err, ErrPackedMismatch) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want ErrPackedMismatch naming %q", tt.name, err, tt.want)
		}
	}
	// Packed for one kernel width, loaded under another: refused, never
	// run with the wrong slivers.
	if Kernel() != "generic" {
		restore, err := SetKernel("generic")
		if err != nil {
			t.Fatal(err)
		}
		defer restore()
		if _, err := LoadPacked(70, 50, area); !errors.Is(err, ErrPackedMismatch) || !strings.Contains(err.Error(), "generic") {
			t.Errorf("packed for %d-column slivers, loaded for generic: err = %v", pb.NR(), err)
		}
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.Contains(r, "slivers") {
					t.Errorf("GemmPacked with the wrong kernel: panic %q, want one about slivers", r)
				}
			}()
			GemmPacked(20, a.data, a.ld, pb, make([]float64, 20*50), 50)
		}()
	}
}

func TestPackedColsRefusesCutsInsideSlivers(t *testing.T) {
	b := make([]float64, 30*50)
	pb := PackB(30, 50, b, 50, make([]float64, PackedSize(30, 50)))
	nr := pb.NR()
	for _, cut := range [][2]int{{1, 50}, {0, nr + 1}, {0, 51}, {-nr, 50}, {2 * nr, nr}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Cols(%d, %d) with slivers of %d did not panic", cut[0], cut[1], nr)
				}
			}()
			pb.Cols(cut[0], cut[1])
		}()
	}
	if got := pb.Cols(nr, 50).Cols(0, nr).N(); got != nr {
		t.Errorf("a view of a view: %d columns, want %d", got, nr)
	}
}

func TestGemmPackedAllocatesNothingOnceWarm(t *testing.T) {
	n := 64
	a, b, c := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
	forEachKernel(t, func(t *testing.T) {
		pb := PackB(n, n, b, n, make([]float64, PackedSize(n, n)))
		if allocs := testing.AllocsPerRun(20, func() { GemmPacked(n/2, a, n, pb, c, n) }); allocs > 0.5 {
			t.Errorf("GemmPacked allocates %.1f times per call", allocs)
		}
	})
}
