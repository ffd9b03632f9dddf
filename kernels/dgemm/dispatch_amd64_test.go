//go:build !purego

package dgemm

import (
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestDispatchMatchesCPU keeps the choice of micro-kernel honest: a kernel
// is registered exactly when the CPU and OS can run it (x/sys/cpu sets
// HasAVX512F only when the OS saves the zmm and mask registers), the best
// one is the default, and so forEachKernel skips the avx512 tests only on
// CPUs without AVX-512F. On a host that has it (some CI runners do),
// every test here runs the avx512 assembly for real.
func TestDispatchMatchesCPU(t *testing.T) {
	names := Kernels()
	want := []string{}
	if cpu.X86.HasAVX512F {
		want = append(want, "avx512")
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		want = append(want, "avx2")
	}
	want = append(want, "generic")
	if !slices.Equal(names, want) {
		t.Fatalf("Kernels() = %v on a CPU with AVX-512F %v, AVX2 %v, FMA %v: want %v",
			names, cpu.X86.HasAVX512F, cpu.X86.HasAVX2, cpu.X86.HasFMA, want)
	}
	if Kernel() != want[0] {
		t.Errorf("default kernel %q, want the best this CPU runs, %q", Kernel(), want[0])
	}
	t.Logf("this CPU runs %v; tests force each in turn", names)
}
