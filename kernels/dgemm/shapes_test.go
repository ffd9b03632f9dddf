package dgemm

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// refKernel is the microKernel contract written as plain loops, for any
// mr x nr and strip: it lets the tests run Gemm's blocking and strip logic
// with the avx512 geometry (8 x 24, strips of one sliver) on CPUs that
// cannot run the avx512 assembly, and with the avx2 one everywhere. A
// kernel that is not masked refuses tiles narrower than nr.
func refKernel(mr, nr, strip int, masked bool) microKernel {
	return func(kc int, a, b []float64, ldb int, c []float64, ldc int, acc bool, cp copyJob, ntiles, w int) {
		if cp.rows*strip > kc {
			panic("copy longer than the call")
		}
		if w < 1 || w > nr || (w < nr && !masked) {
			panic("tile width out of the contract")
		}
		for r := range ntiles * mr {
			for j := range w {
				var s float64
				for p := range kc {
					s += a[(r/mr)*mr*kc+p*mr+r%mr] * b[p*ldb+j]
				}
				if acc {
					c[r*ldc+j] += s
				} else {
					c[r*ldc+j] = s
				}
			}
		}
		for r := range cp.rows {
			for q := range strip {
				copy(cp.dst[q*cp.stride+r*nr:q*cp.stride+r*nr+nr], cp.src[r*cp.lds+q*nr:r*cp.lds+q*nr+nr])
			}
		}
	}
}

// refCopier is the copier contract as plain loops.
func refCopier(nr, strip int) copier {
	return func(rows int, src []float64, lds int, dst []float64, kc int) {
		for r := range rows {
			for q := range strip {
				copy(dst[q*kc*nr+r*nr:q*kc*nr+r*nr+nr], src[r*lds+q*nr:r*lds+q*nr+nr])
			}
		}
	}
}

// withImpl makes a test-only micro-kernel available to SetKernel for the
// rest of the test.
func withImpl(t *testing.T, name string, mr, nr, strip int, masked bool, cp copier) {
	n := len(impls)
	register(&impl{name: name, mr: mr, nr: nr, strip: strip, masked: masked, shares: halves, kernel: refKernel(mr, nr, strip, masked), copy: cp})
	t.Cleanup(func() { impls = impls[:n] })
}

func TestGemmGeometries(t *testing.T) {
	// The drivers' logic for each assembly kernel's shape, with and without
	// a copier, on plain-Go kernels that follow the same contract; tiny
	// blocks so that every boundary is crossed.
	for _, g := range []struct {
		name               string
		mr, nr, strip      int
		masked, withCopier bool
		kc, mcSl, ncStr    int
	}{
		{"avx512-shape", 8, 24, 1, true, true, 7, 2, 2},
		{"avx512-shape-nocopier", 8, 24, 1, true, false, 7, 2, 2},
		{"avx512-shape-unmasked", 8, 24, 1, false, true, 7, 2, 2},
		{"avx2-shape", 4, 12, 2, false, true, 5, 3, 2},
		{"avx2-shape-nocopier", 4, 12, 2, false, false, 5, 3, 2},
	} {
		t.Run(g.name, func(t *testing.T) {
			var cp copier
			if g.withCopier {
				cp = refCopier(g.nr, g.strip)
			}
			withImpl(t, g.name, g.mr, g.nr, g.strip, g.masked, cp)
			restore, err := SetKernel(g.name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			rng := rand.New(rand.NewPCG(13, 14))
			for _, blocks := range []bool{false, true} {
				if blocks {
					im := active.Load()
					saved := im.block
					im.block = blocking{kc: g.kc, mc: g.mcSl * g.mr, nc: g.ncStr * g.strip * g.nr}
					defer func() { im.block = saved }()
				}
				for _, s := range []shape{{1, 1, 1}, {8, 24, 7}, {9, 25, 8}, {7, 65, 63}, {63, 127, 65}, {65, 50, 13}, {17, 100, 130}} {
					t.Run(s.String(), func(t *testing.T) { runShape(t, rng, s, 0); runShape(t, rng, s, 3) })
				}
			}
		})
	}
}

func TestDetectCaches(t *testing.T) {
	dir := t.TempDir()
	write := func(index, level, typ, size, shared string) {
		d := filepath.Join(dir, index)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"level": level, "type": typ, "size": size, "shared_cpu_list": shared} {
			if err := os.WriteFile(filepath.Join(d, name), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	saved := sysCacheDir
	defer func() { sysCacheDir = saved }()
	sysCacheDir = dir

	// Nothing reported: the defaults.
	if got, want := detectCaches(), (caches{defaultL1D, defaultL2, defaultL3}); got != want {
		t.Errorf("no sysfs: %+v, want %+v", got, want)
	}
	// This host: 32K L1d, 32K L1i (ignored), 512K L2, 32 MiB of L3 shared
	// by two CPUs: 16 MiB each, capped at 8 MiB.
	write("index0", "1", "Data", "32K", "0")
	write("index1", "1", "Instruction", "64K", "0")
	write("index2", "2", "Unified", "512K", "0")
	write("index3", "3", "Unified", "32768K", "0-1")
	if got, want := detectCaches(), (caches{32 << 10, 512 << 10, maxL3}); got != want {
		t.Errorf("this host's sysfs: %+v, want %+v", got, want)
	}
	// Nonsense is clamped.
	write("index0", "1", "Data", "1K", "0")
	write("index2", "2", "Unified", "1G", "0")
	write("index3", "3", "Unified", "2M", "0-3,8-11")
	if got, want := detectCaches(), (caches{minL1D, maxL2, minL3}); got != want {
		t.Errorf("odd sysfs: %+v, want %+v", got, want)
	}
	// The blocking this host gets for the avx2 kernel.
	if got, want := blockFor(caches{32 << 10, 512 << 10, 8 << 20}, 4, 12, halves), (blocking{kc: 168, mc: 192, nc: 3120}); got != want {
		t.Errorf("blockFor(this host, 4x12) = %+v, want %+v", got, want)
	}
	// An Emerald Rapids core (48 KiB L1d, 2 MiB L2) for the avx512 kernel:
	// B's sliver fills L1d, A's block is a quarter of L2.
	if got, want := blockFor(caches{48 << 10, 2 << 20, 8 << 20}, 8, 24, avx512Shares), (blocking{kc: 256, mc: 256, nc: 2040}); got != want {
		t.Errorf("blockFor(Emerald Rapids, 8x24) = %+v, want %+v", got, want)
	}
}

func TestParseHelpers(t *testing.T) {
	for s, want := range map[string]int{"32K": 32 << 10, "1M": 1 << 20, "4096": 4096, "x": 0, "": 0, "-1K": 0} {
		if got, _ := parseSize(s); got != want {
			t.Errorf("parseSize(%q) = %d, want %d", s, got, want)
		}
	}
	for s, want := range map[string]int{"0": 1, "0-1": 2, "0-3,8-11": 8, "3,5": 2, "": 0, "a": 0, "3-1": 0} {
		if got := countCPUs(s); got != want {
			t.Errorf("countCPUs(%q) = %d, want %d", s, got, want)
		}
	}
	for _, tt := range []struct{ total, max, unit, want int }{{512, 168, 1, 128}, {1024, 168, 1, 147}, {512, 192, 4, 172}, {10, 168, 1, 10}, {7, 192, 4, 8}} {
		if got := split(tt.total, tt.max, tt.unit); got != min(tt.want, tt.max) {
			t.Errorf("split(%d, %d, %d) = %d, want %d", tt.total, tt.max, tt.unit, got, tt.want)
		}
	}
}
