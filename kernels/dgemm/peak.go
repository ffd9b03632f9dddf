package dgemm

import "math"

// PeakFMA runs a loop of independent fused multiply-adds on the widest
// vector unit this CPU has (AVX-512 zmm if usable, else AVX2 ymm with FMA3,
// else scalar math.FMA) and returns the number of floating-point operations
// it did (an FMA counts 2). Time it to get this core's FP64 peak in FLOP/s:
// the loop keeps enough accumulators in flight (24 zmm, 12 ymm) to cover
// the FMA latency times its throughput, and nothing else, no loads, so it
// runs at the FMA units' rate. One iteration is 384 FLOPs with AVX-512, 96
// with AVX2; iters of a few million make a call of a few milliseconds.
func PeakFMA(iters int) (flops float64) {
	f, _ := peak(iters)
	return f
}

// PeakUnit names the unit PeakFMA uses: "avx512", "avx2" or "generic". It
// is not affected by SetKernel.
func PeakUnit() string {
	_, u := peak(0)
	return u
}

// peakGeneric is eight chains of scalar math.FMA, 16 FLOPs per iteration.
func peakGeneric(iters int) float64 {
	x := 1.0
	var s0, s1, s2, s3, s4, s5, s6, s7 float64
	for range iters {
		s0 = math.FMA(x, x, s0)
		s1 = math.FMA(x, x, s1)
		s2 = math.FMA(x, x, s2)
		s3 = math.FMA(x, x, s3)
		s4 = math.FMA(x, x, s4)
		s5 = math.FMA(x, x, s5)
		s6 = math.FMA(x, x, s6)
		s7 = math.FMA(x, x, s7)
	}
	if s0+s1+s2+s3+s4+s5+s6+s7 < 0 { // never: keeps the loop's results alive
		return -1
	}
	return float64(iters) * 16
}
