//go:build !purego

package dgemm

import "golang.org/x/sys/cpu"

// The assembly micro-kernels; see kernel_amd64.s and microKernel. acc is 0
// or 1. The Go wrappers below check that every element the kernel touches
// lies inside the slices, so a mistake in the blocking panics instead of
// corrupting memory.

//go:noescape
func kernelAVX2(kc int, a, b *float64, ldb int, c *float64, ldc int, bp *float64, acc int)

//go:noescape
func kernelAVX512(kc int, a, b *float64, ldb int, c *float64, ldc int, bp *float64, acc int)

//go:noescape
func peakAVX2(iters int, x float64)

//go:noescape
func peakAVX512(iters int, x float64)

// haveAVX2 and haveAVX512 are what the CPU and OS allow: the flags are set
// only when the OS saves the wider register state.
var (
	haveAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	haveAVX512 = cpu.X86.HasAVX512F
)

func registerAsm() {
	if haveAVX512 {
		register("avx512", 8, 24, asmKernel(8, 24, kernelAVX512))
	}
	if haveAVX2 {
		register("avx2", 4, 12, asmKernel(4, 12, kernelAVX2))
	}
}

func asmKernel(mr, nr int, k func(kc int, a, b *float64, ldb int, c *float64, ldc int, bp *float64, acc int)) microKernel {
	return func(kc int, a, b []float64, ldb int, c []float64, ldc int, bp []float64, acc bool) {
		// Bounds: touching the last element of each operand panics here
		// if the assembly would read or write outside it.
		_ = a[kc*mr-1]
		_ = b[(kc-1)*ldb+nr-1]
		_ = c[(mr-1)*ldc+nr-1]
		var bpp *float64
		if bp != nil {
			_ = bp[kc*nr-1]
			bpp = &bp[0]
		}
		flag := 0
		if acc {
			flag = 1
		}
		k(kc, &a[0], &b[0], ldb, &c[0], ldc, bpp, flag)
	}
}

// peak runs the FMA loop of the widest unit this CPU has.
func peak(iters int) (flops float64, unit string) {
	switch {
	case haveAVX512:
		peakAVX512(iters, 1)
		return float64(iters) * 24 * 8 * 2, "avx512"
	case haveAVX2:
		peakAVX2(iters, 1)
		return float64(iters) * 12 * 4 * 2, "avx2"
	}
	return peakGeneric(iters), "generic"
}
