//go:build !purego

#include "textflag.h"

// ---------------------------------------------------------------------------
// AVX2 + FMA3 micro-kernel, 4 x 12.
//
// C (4 rows x 12 columns) lives in Y0-Y11: row r, columns 4q..4q+3 in
// Y(3r+q). Per step p of the inner dimension: three loads of B's row p
// (Y12-Y14), four broadcasts of A's column p (Y15, one at a time) and twelve
// FMAs. Twelve independent accumulators cover the FMA latency (4 cycles on
// Zen 3 and Skylake) times its throughput (2 per cycle) with room to spare,
// and 7 loads per 12 FMAs stay within two loads per cycle.

#define FMA_ROW(off, r0, r1, r2) \
	VBROADCASTSD off(AX), Y15;     \
	VFMADD231PD  Y12, Y15, r0;     \
	VFMADD231PD  Y13, Y15, r1;     \
	VFMADD231PD  Y14, Y15, r2

#define STEP_4X12 \
	VMOVUPD (BX), Y12;                \
	VMOVUPD 32(BX), Y13;              \
	VMOVUPD 64(BX), Y14;              \
	FMA_ROW(0, Y0, Y1, Y2);           \
	FMA_ROW(8, Y3, Y4, Y5);           \
	FMA_ROW(16, Y6, Y7, Y8);          \
	FMA_ROW(24, Y9, Y10, Y11)

#define ADD_ROW(base, r0, r1, r2) \
	VADDPD (base), r0, r0;      \
	VADDPD 32(base), r1, r1;    \
	VADDPD 64(base), r2, r2

#define STORE_ROW(base, r0, r1, r2) \
	VMOVUPD r0, (base);           \
	VMOVUPD r1, 32(base);         \
	VMOVUPD r2, 64(base)

// PF_ROWS is how many rows of B ahead the kernel prefetches: B is read
// straight from the row-major matrix, one row (96 bytes) per step and the
// rows ldb*8 bytes apart, often a page apart, where the hardware prefetchers
// do not follow.
#define PF_ROWS 8

// func kernelAVX2(kc int, a, b *float64, ldb int, c *float64, ldc int, bp *float64, acc int)
TEXT ·kernelAVX2(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), SI
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ ldb+24(FP), R8
	SHLQ $3, R8
	MOVQ c+32(FP), CX
	MOVQ ldc+40(FP), DX
	SHLQ $3, DX
	MOVQ bp+48(FP), DI
	LEAQ (DX)(DX*2), R10 // 3 rows of C
	MOVQ R8, R9
	SHLQ $3, R9          // PF_ROWS rows of B

	// The C tile is needed only at the end: start fetching it now.
	PREFETCHT0 (CX)
	PREFETCHT0 88(CX)
	PREFETCHT0 (CX)(DX*1)
	PREFETCHT0 88(CX)(DX*1)
	PREFETCHT0 (CX)(DX*2)
	PREFETCHT0 88(CX)(DX*2)
	PREFETCHT0 (CX)(R10*1)
	PREFETCHT0 88(CX)(R10*1)

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11

	TESTQ SI, SI
	JLE   avx2_store
	TESTQ DI, DI
	JNE   avx2_pack

avx2_loop:
	PREFETCHT0 (BX)(R9*1)
	PREFETCHT0 88(BX)(R9*1)
	STEP_4X12
	ADDQ $32, AX
	ADDQ R8, BX
	DECQ SI
	JNE  avx2_loop
	JMP  avx2_store

avx2_pack:
	// Same, and copy the sliver of B to bp (12 doubles a row).
	PREFETCHT0 (BX)(R9*1)
	PREFETCHT0 88(BX)(R9*1)
	STEP_4X12
	VMOVUPD Y12, (DI)
	VMOVUPD Y13, 32(DI)
	VMOVUPD Y14, 64(DI)
	ADDQ $96, DI
	ADDQ $32, AX
	ADDQ R8, BX
	DECQ SI
	JNE  avx2_pack

avx2_store:
	MOVQ  acc+56(FP), R11
	TESTQ R11, R11
	JEQ   avx2_write
	LEAQ  (CX)(DX*1), R12
	LEAQ  (CX)(DX*2), R13
	LEAQ  (CX)(R10*1), R14
	ADD_ROW(CX, Y0, Y1, Y2)
	ADD_ROW(R12, Y3, Y4, Y5)
	ADD_ROW(R13, Y6, Y7, Y8)
	ADD_ROW(R14, Y9, Y10, Y11)

avx2_write:
	LEAQ (CX)(DX*1), R12
	LEAQ (CX)(DX*2), R13
	LEAQ (CX)(R10*1), R14
	STORE_ROW(CX, Y0, Y1, Y2)
	STORE_ROW(R12, Y3, Y4, Y5)
	STORE_ROW(R13, Y6, Y7, Y8)
	STORE_ROW(R14, Y9, Y10, Y11)
	VZEROUPPER
	RET

// func peakAVX2(iters int, x float64)
//
// iters x 12 independent chains of VFMADD231PD on ymm: 12 x 4 x 2 = 96
// FLOPs per iteration.
TEXT ·peakAVX2(SB), NOSPLIT, $0-16
	MOVQ         iters+0(FP), CX
	VBROADCASTSD x+8(FP), Y12
	VMOVAPD      Y12, Y13
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y2, Y2, Y2
	VXORPD       Y3, Y3, Y3
	VXORPD       Y4, Y4, Y4
	VXORPD       Y5, Y5, Y5
	VXORPD       Y6, Y6, Y6
	VXORPD       Y7, Y7, Y7
	VXORPD       Y8, Y8, Y8
	VXORPD       Y9, Y9, Y9
	VXORPD       Y10, Y10, Y10
	VXORPD       Y11, Y11, Y11
	TESTQ        CX, CX
	JLE          peak2_done

peak2_loop:
	VFMADD231PD Y12, Y13, Y0
	VFMADD231PD Y12, Y13, Y1
	VFMADD231PD Y12, Y13, Y2
	VFMADD231PD Y12, Y13, Y3
	VFMADD231PD Y12, Y13, Y4
	VFMADD231PD Y12, Y13, Y5
	VFMADD231PD Y12, Y13, Y6
	VFMADD231PD Y12, Y13, Y7
	VFMADD231PD Y12, Y13, Y8
	VFMADD231PD Y12, Y13, Y9
	VFMADD231PD Y12, Y13, Y10
	VFMADD231PD Y12, Y13, Y11
	DECQ        CX
	JNE         peak2_loop

peak2_done:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// AVX-512F micro-kernel, 8 x 24.
//
// C (8 rows x 24 columns) lives in Z0-Z23: row r, columns 8q..8q+7 in
// Z(3r+q). Per step: three loads of B's row p (Z24-Z26), eight broadcasts of
// A's column p (Z27) and 24 FMAs: 24 accumulators cover FMA latency (4) x
// throughput (2 per cycle on two-FMA-unit parts) three times over, and 11
// loads per 24 FMAs leave the load ports idle half the time. MR = 8 also
// divides the 8- and 16-row bands that 64 chunks give at n = 512 and 1024.
// Only AVX-512F instructions are used (VPXORQ, not the AVX512DQ VXORPD).

#define FMA_ROW_Z(off, r0, r1, r2) \
	VBROADCASTSD off(AX), Z27;     \
	VFMADD231PD  Z24, Z27, r0;     \
	VFMADD231PD  Z25, Z27, r1;     \
	VFMADD231PD  Z26, Z27, r2

#define STEP_8X24 \
	VMOVUPD (BX), Z24;                \
	VMOVUPD 64(BX), Z25;              \
	VMOVUPD 128(BX), Z26;             \
	FMA_ROW_Z(0, Z0, Z1, Z2);         \
	FMA_ROW_Z(8, Z3, Z4, Z5);         \
	FMA_ROW_Z(16, Z6, Z7, Z8);        \
	FMA_ROW_Z(24, Z9, Z10, Z11);      \
	FMA_ROW_Z(32, Z12, Z13, Z14);     \
	FMA_ROW_Z(40, Z15, Z16, Z17);     \
	FMA_ROW_Z(48, Z18, Z19, Z20);     \
	FMA_ROW_Z(56, Z21, Z22, Z23)

#define ADD_ROW_Z(base, r0, r1, r2) \
	VADDPD (base), r0, r0;        \
	VADDPD 64(base), r1, r1;      \
	VADDPD 128(base), r2, r2

#define STORE_ROW_Z(base, r0, r1, r2) \
	VMOVUPD r0, (base);             \
	VMOVUPD r1, 64(base);           \
	VMOVUPD r2, 128(base)

#define PF_C_ROW(base) \
	PREFETCHT0 (base);   \
	PREFETCHT0 64(base); \
	PREFETCHT0 128(base); \
	PREFETCHT0 184(base)

// func kernelAVX512(kc int, a, b *float64, ldb int, c *float64, ldc int, bp *float64, acc int)
TEXT ·kernelAVX512(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), SI
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ ldb+24(FP), R8
	SHLQ $3, R8
	MOVQ c+32(FP), CX
	MOVQ ldc+40(FP), DX
	SHLQ $3, DX
	MOVQ bp+48(FP), DI
	LEAQ (DX)(DX*2), R10 // 3 rows of C
	LEAQ (CX)(DX*4), R11 // row 4 of C
	MOVQ R8, R9
	SHLQ $3, R9          // PF_ROWS rows of B

	PF_C_ROW(CX)
	LEAQ (CX)(DX*1), R12
	PF_C_ROW(R12)
	LEAQ (CX)(DX*2), R12
	PF_C_ROW(R12)
	LEAQ (CX)(R10*1), R12
	PF_C_ROW(R12)
	PF_C_ROW(R11)
	LEAQ (R11)(DX*1), R12
	PF_C_ROW(R12)
	LEAQ (R11)(DX*2), R12
	PF_C_ROW(R12)
	LEAQ (R11)(R10*1), R12
	PF_C_ROW(R12)

	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	VPXORQ Z15, Z15, Z15
	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	VPXORQ Z18, Z18, Z18
	VPXORQ Z19, Z19, Z19
	VPXORQ Z20, Z20, Z20
	VPXORQ Z21, Z21, Z21
	VPXORQ Z22, Z22, Z22
	VPXORQ Z23, Z23, Z23

	TESTQ SI, SI
	JLE   avx512_store
	TESTQ DI, DI
	JNE   avx512_pack

avx512_loop:
	PREFETCHT0 (BX)(R9*1)
	PREFETCHT0 64(BX)(R9*1)
	PREFETCHT0 128(BX)(R9*1)
	PREFETCHT0 184(BX)(R9*1)
	STEP_8X24
	ADDQ $64, AX
	ADDQ R8, BX
	DECQ SI
	JNE  avx512_loop
	JMP  avx512_store

avx512_pack:
	PREFETCHT0 (BX)(R9*1)
	PREFETCHT0 64(BX)(R9*1)
	PREFETCHT0 128(BX)(R9*1)
	PREFETCHT0 184(BX)(R9*1)
	STEP_8X24
	VMOVUPD Z24, (DI)
	VMOVUPD Z25, 64(DI)
	VMOVUPD Z26, 128(DI)
	ADDQ $192, DI
	ADDQ $64, AX
	ADDQ R8, BX
	DECQ SI
	JNE  avx512_pack

avx512_store:
	MOVQ  acc+56(FP), R13
	TESTQ R13, R13
	JEQ   avx512_write
	ADD_ROW_Z(CX, Z0, Z1, Z2)
	LEAQ  (CX)(DX*1), R12
	ADD_ROW_Z(R12, Z3, Z4, Z5)
	LEAQ  (CX)(DX*2), R12
	ADD_ROW_Z(R12, Z6, Z7, Z8)
	LEAQ  (CX)(R10*1), R12
	ADD_ROW_Z(R12, Z9, Z10, Z11)
	ADD_ROW_Z(R11, Z12, Z13, Z14)
	LEAQ  (R11)(DX*1), R12
	ADD_ROW_Z(R12, Z15, Z16, Z17)
	LEAQ  (R11)(DX*2), R12
	ADD_ROW_Z(R12, Z18, Z19, Z20)
	LEAQ  (R11)(R10*1), R12
	ADD_ROW_Z(R12, Z21, Z22, Z23)

avx512_write:
	STORE_ROW_Z(CX, Z0, Z1, Z2)
	LEAQ (CX)(DX*1), R12
	STORE_ROW_Z(R12, Z3, Z4, Z5)
	LEAQ (CX)(DX*2), R12
	STORE_ROW_Z(R12, Z6, Z7, Z8)
	LEAQ (CX)(R10*1), R12
	STORE_ROW_Z(R12, Z9, Z10, Z11)
	STORE_ROW_Z(R11, Z12, Z13, Z14)
	LEAQ (R11)(DX*1), R12
	STORE_ROW_Z(R12, Z15, Z16, Z17)
	LEAQ (R11)(DX*2), R12
	STORE_ROW_Z(R12, Z18, Z19, Z20)
	LEAQ (R11)(R10*1), R12
	STORE_ROW_Z(R12, Z21, Z22, Z23)
	VZEROUPPER
	RET

// func peakAVX512(iters int, x float64)
//
// iters x 24 independent chains of VFMADD231PD on zmm: 24 x 8 x 2 = 384
// FLOPs per iteration.
TEXT ·peakAVX512(SB), NOSPLIT, $0-16
	MOVQ         iters+0(FP), CX
	VBROADCASTSD x+8(FP), Z24
	VMOVAPD      Z24, Z25
	VPXORQ       Z0, Z0, Z0
	VPXORQ       Z1, Z1, Z1
	VPXORQ       Z2, Z2, Z2
	VPXORQ       Z3, Z3, Z3
	VPXORQ       Z4, Z4, Z4
	VPXORQ       Z5, Z5, Z5
	VPXORQ       Z6, Z6, Z6
	VPXORQ       Z7, Z7, Z7
	VPXORQ       Z8, Z8, Z8
	VPXORQ       Z9, Z9, Z9
	VPXORQ       Z10, Z10, Z10
	VPXORQ       Z11, Z11, Z11
	VPXORQ       Z12, Z12, Z12
	VPXORQ       Z13, Z13, Z13
	VPXORQ       Z14, Z14, Z14
	VPXORQ       Z15, Z15, Z15
	VPXORQ       Z16, Z16, Z16
	VPXORQ       Z17, Z17, Z17
	VPXORQ       Z18, Z18, Z18
	VPXORQ       Z19, Z19, Z19
	VPXORQ       Z20, Z20, Z20
	VPXORQ       Z21, Z21, Z21
	VPXORQ       Z22, Z22, Z22
	VPXORQ       Z23, Z23, Z23
	TESTQ        CX, CX
	JLE          peak512_done

peak512_loop:
	VFMADD231PD Z24, Z25, Z0
	VFMADD231PD Z24, Z25, Z1
	VFMADD231PD Z24, Z25, Z2
	VFMADD231PD Z24, Z25, Z3
	VFMADD231PD Z24, Z25, Z4
	VFMADD231PD Z24, Z25, Z5
	VFMADD231PD Z24, Z25, Z6
	VFMADD231PD Z24, Z25, Z7
	VFMADD231PD Z24, Z25, Z8
	VFMADD231PD Z24, Z25, Z9
	VFMADD231PD Z24, Z25, Z10
	VFMADD231PD Z24, Z25, Z11
	VFMADD231PD Z24, Z25, Z12
	VFMADD231PD Z24, Z25, Z13
	VFMADD231PD Z24, Z25, Z14
	VFMADD231PD Z24, Z25, Z15
	VFMADD231PD Z24, Z25, Z16
	VFMADD231PD Z24, Z25, Z17
	VFMADD231PD Z24, Z25, Z18
	VFMADD231PD Z24, Z25, Z19
	VFMADD231PD Z24, Z25, Z20
	VFMADD231PD Z24, Z25, Z21
	VFMADD231PD Z24, Z25, Z22
	VFMADD231PD Z24, Z25, Z23
	DECQ        CX
	JNE         peak512_loop

peak512_done:
	VZEROUPPER
	RET
