package dgemm

import "strconv"

// kernelGeneric is the portable 4 x 4 micro-kernel. Sixteen accumulators in
// locals: the Go compiler keeps most of them in registers, and it is the
// same blocked algorithm as the assembly kernels, so the packing and edge
// logic is tested by every build.
func kernelGeneric(kc int, a, b []float64, ldb int, c []float64, ldc int, acc bool, cp copyJob, ntiles, w int) {
	if w != 4 {
		panic("dgemm: generic kernel asked for a tile of width " + strconv.Itoa(w))
	}
	for t := range ntiles {
		tileGeneric(kc, a[t*4*kc:], b, ldb, c[t*4*ldc:], ldc, acc, cp)
		cp = copyJob{}
	}
}

func tileGeneric(kc int, a, b []float64, ldb int, c []float64, ldc int, acc bool, cp copyJob) {
	const mr, nr = 4, 4
	var c00, c01, c02, c03 float64
	var c10, c11, c12, c13 float64
	var c20, c21, c22, c23 float64
	var c30, c31, c32, c33 float64
	a = a[:kc*mr]
	for p := range kc {
		bq := b[p*ldb : p*ldb+nr : p*ldb+nr]
		b0, b1, b2, b3 := bq[0], bq[1], bq[2], bq[3]
		if p < cp.rows {
			copy(cp.dst[p*nr:p*nr+nr], cp.src[p*cp.lds:p*cp.lds+nr])
		}
		aq := a[p*mr : p*mr+mr : p*mr+mr]
		a0, a1, a2, a3 := aq[0], aq[1], aq[2], aq[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	store := func(row []float64, v0, v1, v2, v3 float64) {
		row = row[:nr:nr]
		if acc {
			row[0] += v0
			row[1] += v1
			row[2] += v2
			row[3] += v3
		} else {
			row[0], row[1], row[2], row[3] = v0, v1, v2, v3
		}
	}
	store(c[0:], c00, c01, c02, c03)
	store(c[ldc:], c10, c11, c12, c13)
	store(c[2*ldc:], c20, c21, c22, c23)
	store(c[3*ldc:], c30, c31, c32, c33)
}
