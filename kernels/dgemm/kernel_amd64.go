//go:build !purego

package dgemm

import (
	"strconv"

	"golang.org/x/sys/cpu"
)

// The assembly micro-kernels; see kernel_amd64.s and microKernel. acc is 0
// or 1.

//go:noescape
func kernelAVX2(kc int, a, b *float64, ldb int, c *float64, ldc int, acc int, src *float64, lds int, dst *float64, dstStride int, ncopy int, ntiles int)

//go:noescape
func kernelAVX512(kc int, a, b *float64, ldb int, c *float64, ldc int, acc int, src *float64, lds int, dst *float64, ncopy int, ntiles int, mask int)

//go:noescape
func peakAVX2(iters int, x float64)

//go:noescape
func copyStrip24(rows int, src *float64, lds int, dst0, dst1 *float64, ldd int)

//go:noescape
func packA4(kc int, a *float64, lda int, dst *float64, ldd int)

//go:noescape
func peakAVX512(iters int, x float64)

// haveAVX2 and haveAVX512 are what the CPU and OS allow: the flags are set
// only when the OS saves the wider register state.
var (
	haveAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	haveAVX512 = cpu.X86.HasAVX512F
)

func registerAsm() {
	if haveAVX2 {
		transpose4 = func(kc int, a []float64, lda int, dst []float64, ldd int) {
			_ = a[3*lda+kc-1]
			_ = dst[(kc-1)*ldd+3]
			packA4(kc, &a[0], lda, &dst[0], ldd)
		}
	}
	if haveAVX512 {
		register(&impl{name: "avx512", mr: 8, nr: 24, strip: 1, masked: true, shares: avx512Shares,
			kernel: func(kc int, a, b []float64, ldb int, c []float64, ldc int, acc bool, cp copyJob, ntiles, w int) {
				p := operands(8, 24, 1, kc, a, b, ldb, c, ldc, acc, cp, ntiles, w)
				kernelAVX512(kc, p.a, p.b, ldb, p.c, ldc, p.acc, p.src, cp.lds, p.dst, cp.rows, ntiles, 1<<w-1)
			},
			copy: func(rows int, src []float64, lds int, dst []float64, kc int) {
				// One sliver of 24: columns 12-23 of a row follow 0-11.
				_ = src[(rows-1)*lds+23]
				_ = dst[rows*24-1]
				copyStrip24(rows, &src[0], lds, &dst[0], &dst[12], 24)
			}})
	}
	if haveAVX2 {
		register(&impl{name: "avx2", mr: 4, nr: 12, strip: 2, shares: halves,
			kernel: func(kc int, a, b []float64, ldb int, c []float64, ldc int, acc bool, cp copyJob, ntiles, w int) {
				if w != 12 {
					panic("dgemm: avx2 kernel asked for a tile of width " + strconv.Itoa(w))
				}
				p := operands(4, 12, 2, kc, a, b, ldb, c, ldc, acc, cp, ntiles, w)
				kernelAVX2(kc, p.a, p.b, ldb, p.c, ldc, p.acc, p.src, cp.lds, p.dst, cp.stride, cp.rows, ntiles)
			},
			copy: func(rows int, src []float64, lds int, dst []float64, kc int) {
				// Two slivers of 12, the second kc*12 after the first.
				_ = src[(rows-1)*lds+23]
				_ = dst[kc*12+rows*12-1]
				copyStrip24(rows, &src[0], lds, &dst[0], &dst[kc*12], 12)
			}})
	}
}

type asmOperands struct {
	a, b, c, src, dst *float64
	acc               int
}

// operands checks that every element an assembly micro-kernel call will
// touch lies inside its slice, so that a mistake in the blocking panics
// here instead of corrupting memory, and returns the pointers.
func operands(mr, nr, strip, kc int, a, b []float64, ldb int, c []float64, ldc int, acc bool, cp copyJob, ntiles, w int) asmOperands {
	if w < 1 || w > nr {
		panic("dgemm: tile width " + strconv.Itoa(w))
	}
	_ = a[ntiles*kc*mr-1]
	_ = b[(kc-1)*ldb+nr-1]
	_ = c[(ntiles*mr-1)*ldc+w-1]
	p := asmOperands{a: &a[0], b: &b[0], c: &c[0]}
	if cp.rows > 0 {
		if cp.rows*strip > kc {
			panic("dgemm: copy longer than the micro-kernel call")
		}
		_ = cp.src[(cp.rows-1)*cp.lds+strip*nr-1]
		_ = cp.dst[(strip-1)*cp.stride+cp.rows*nr-1]
		p.src, p.dst = &cp.src[0], &cp.dst[0]
	}
	if acc {
		p.acc = 1
	}
	return p
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
