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

// FMA_ROW is one row of a step, for either width: broadcast A's element
// at off(AX) into t, then add its products with B's row (b0-b2) into the
// row's three accumulators (r0-r2).
#define FMA_ROW(off, t, b0, b1, b2, r0, r1, r2) \
	VBROADCASTSD off(AX), t;                 \
	VFMADD231PD  b0, t, r0;                  \
	VFMADD231PD  b1, t, r1;                  \
	VFMADD231PD  b2, t, r2

#define FMA_ROW_Y(off, r0, r1, r2) FMA_ROW(off, Y15, Y12, Y13, Y14, r0, r1, r2)

// STEP_4X12_AT is one step with A and B at byte offsets aoff and boff from
// AX and BX, for unrolling.
#define STEP_4X12_AT(aoff, boff) \
	VMOVUPD boff(BX), Y12;           \
	VMOVUPD boff+32(BX), Y13;        \
	VMOVUPD boff+64(BX), Y14;        \
	FMA_ROW_Y(aoff, Y0, Y1, Y2);     \
	FMA_ROW_Y(aoff+8, Y3, Y4, Y5);   \
	FMA_ROW_Y(aoff+16, Y6, Y7, Y8);  \
	FMA_ROW_Y(aoff+24, Y9, Y10, Y11)

#define STEP_4X12 STEP_4X12_AT(0, 0)

#define PF_A 256

#define ADD_ROW(base, r0, r1, r2) \
	VADDPD (base), r0, r0;      \
	VADDPD 32(base), r1, r1;    \
	VADDPD 64(base), r2, r2

#define STORE_ROW(base, r0, r1, r2) \
	VMOVUPD r0, (base);           \
	VMOVUPD r1, 32(base);         \
	VMOVUPD r2, 64(base)

// PF_ROWS is how many rows ahead the kernel prefetches B where it reads it
// straight from the row-major matrix: rows ld*8 bytes apart, often a page
// apart, where the hardware prefetchers do not follow. With ld a power of
// two (n = 512, 1024) every row maps to the same L1 sets, 8 ways: prefetch
// further than about 8 rows and the lines evict each other before use.
#define PF_ROWS 6
#define PF_B PREFETCHT0

// func kernelAVX2(kc int, a, b *float64, ldb int, c *float64, ldc int, acc int, src *float64, lds int, dst *float64, dstStride int, ncopy int, ntiles int)
//
// ntiles >= 1 tiles, one below the other: A's slivers follow each other
// (kc*4 doubles each), C's tiles are 4 rows apart, all use the same B; the
// copy is done during the first.
//
// C (+)= A x B over kc steps (see microKernel), and copy ncopy rows of a
// 24-column strip of B (two slivers) from src (rows lds apart) to dst:
// columns 0-11 of row r to dst[r*12:], columns 12-23 to
// dst[dstStride+r*12:]. One row of the strip (192 bytes, three whole cache
// lines when B's rows are 64-byte aligned) is copied every two steps, so
// 2*ncopy <= kc; the copy's loads feed no FMA and stay off the critical
// path.
TEXT ·kernelAVX2(SB), NOSPLIT, $0-104
	MOVQ kc+0(FP), SI
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ ldb+24(FP), R8
	SHLQ $3, R8
	MOVQ c+32(FP), CX
	MOVQ ldc+40(FP), DX
	SHLQ $3, DX
	MOVQ src+56(FP), R11
	MOVQ lds+64(FP), R12
	SHLQ $3, R12
	MOVQ dst+72(FP), DI
	MOVQ dstStride+80(FP), R13
	SHLQ $3, R13
	MOVQ ncopy+88(FP), R14
	LEAQ (DX)(DX*2), R10 // 3 rows of C

avx2_tile:
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

	TESTQ R14, R14
	JLE   avx2_steps
	MOVQ  R12, R9
	IMULQ $PF_ROWS, R9

avx2_copy_loop:
	// Two steps, and one row of the strip. Y12-Y14 are free again once
	// a step's FMAs have read them.
	PF_B (R11)(R9*1)
	PF_B 64(R11)(R9*1)
	PF_B 128(R11)(R9*1)
	PF_B 184(R11)(R9*1)
	STEP_4X12
	VMOVUPD (R11), Y12
	VMOVUPD 32(R11), Y13
	VMOVUPD 64(R11), Y14
	VMOVUPD Y12, (DI)
	VMOVUPD Y13, 32(DI)
	VMOVUPD Y14, 64(DI)
	ADDQ    $32, AX
	ADDQ    R8, BX
	STEP_4X12
	VMOVUPD 96(R11), Y12
	VMOVUPD 128(R11), Y13
	VMOVUPD 160(R11), Y14
	VMOVUPD Y12, (DI)(R13*1)
	VMOVUPD Y13, 32(DI)(R13*1)
	VMOVUPD Y14, 64(DI)(R13*1)
	ADDQ    $32, AX
	ADDQ    R8, BX
	ADDQ    R12, R11
	ADDQ    $96, DI
	SUBQ    $2, SI
	DECQ    R14
	JNE     avx2_copy_loop

avx2_steps:
	// The remaining SI steps, without copying.
	TESTQ SI, SI
	JLE   avx2_store
	CMPQ  R8, $96
	JEQ   avx2_packed

	// B read straight from a row-major matrix: prefetch it.
	MOVQ  R8, R9
	IMULQ $PF_ROWS, R9

avx2_direct:
	PF_B (BX)(R9*1)
	PF_B 88(BX)(R9*1)
	STEP_4X12
	ADDQ $32, AX
	ADDQ R8, BX
	DECQ SI
	JNE  avx2_direct
	JMP  avx2_store

avx2_packed:
	// B is a packed sliver (12 doubles a row, contiguous): the hardware
	// prefetchers follow it. Four steps a turn, A prefetched 8 steps ahead.
	CMPQ SI, $4
	JLT  avx2_packed_tail
	PREFETCHT0 PF_A(AX)
	STEP_4X12_AT(0, 0)
	STEP_4X12_AT(32, 96)
	PREFETCHT0 PF_A+64(AX)
	STEP_4X12_AT(64, 192)
	STEP_4X12_AT(96, 288)
	ADDQ $128, AX
	ADDQ $384, BX
	SUBQ $4, SI
	JMP  avx2_packed

avx2_packed_tail:
	TESTQ SI, SI
	JEQ   avx2_store
	STEP_4X12
	ADDQ  $32, AX
	ADDQ  $96, BX
	DECQ  SI
	JMP   avx2_packed_tail

avx2_store:
	LEAQ  (CX)(DX*1), R12
	LEAQ  (CX)(DX*2), R13
	LEAQ  (CX)(R10*1), R14
	MOVQ  acc+48(FP), R11
	TESTQ R11, R11
	JEQ   avx2_write
	ADD_ROW(CX, Y0, Y1, Y2)
	ADD_ROW(R12, Y3, Y4, Y5)
	ADD_ROW(R13, Y6, Y7, Y8)
	ADD_ROW(R14, Y9, Y10, Y11)

avx2_write:
	STORE_ROW(CX, Y0, Y1, Y2)
	STORE_ROW(R12, Y3, Y4, Y5)
	STORE_ROW(R13, Y6, Y7, Y8)
	STORE_ROW(R14, Y9, Y10, Y11)

	// Next tile: AX is already at its sliver of A.
	DECQ ntiles+96(FP)
	JLE  avx2_done
	LEAQ (CX)(DX*4), CX
	MOVQ b+16(FP), BX
	MOVQ kc+0(FP), SI
	XORQ R14, R14        // no copy
	JMP  avx2_tile

avx2_done:
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
// Only AVX-512F instructions are used (VPXORQ, not the AVX512DQ VXORPD;
// KMOVW, not KMOVB).

#define FMA_ROW_Z(off, r0, r1, r2) FMA_ROW(off, Z27, Z24, Z25, Z26, r0, r1, r2)

// STEP_8X24_AT is one step with A and B at byte offsets aoff and boff from
// AX and BX, for unrolling.
#define STEP_8X24_AT(aoff, boff) \
	VMOVUPD boff(BX), Z24;              \
	VMOVUPD boff+64(BX), Z25;           \
	VMOVUPD boff+128(BX), Z26;          \
	FMA_ROW_Z(aoff, Z0, Z1, Z2);        \
	FMA_ROW_Z(aoff+8, Z3, Z4, Z5);      \
	FMA_ROW_Z(aoff+16, Z6, Z7, Z8);     \
	FMA_ROW_Z(aoff+24, Z9, Z10, Z11);   \
	FMA_ROW_Z(aoff+32, Z12, Z13, Z14);  \
	FMA_ROW_Z(aoff+40, Z15, Z16, Z17);  \
	FMA_ROW_Z(aoff+48, Z18, Z19, Z20);  \
	FMA_ROW_Z(aoff+56, Z21, Z22, Z23)

#define STEP_8X24 STEP_8X24_AT(0, 0)

// How far ahead the packed loop prefetches A: the sliver streams from L2
// (the packed block of A), one line a step; 8 steps is about 100 cycles.
#define PF_A512 512

#define ADD_ROW_Z(base, r0, r1, r2) \
	VADDPD (base), r0, r0;        \
	VADDPD 64(base), r1, r1;      \
	VADDPD 128(base), r2, r2

#define STORE_ROW_Z(base, r0, r1, r2) \
	VMOVUPD r0, (base);             \
	VMOVUPD r1, 64(base);           \
	VMOVUPD r2, 128(base)

// The masked forms, for a tile narrower than 24 columns: K1-K3 select the
// columns of each register's 8. A masked-off element is neither read nor
// written (AVX-512 suppresses faults on it), so C may end right after the
// tile's last column.
#define ADD_ROW_ZM(base, r0, r1, r2) \
	VADDPD (base), r0, K1, r0;     \
	VADDPD 64(base), r1, K2, r1;   \
	VADDPD 128(base), r2, K3, r2

#define STORE_ROW_ZM(base, r0, r1, r2) \
	VMOVUPD r0, K1, (base);          \
	VMOVUPD r1, K2, 64(base);        \
	VMOVUPD r2, K3, 128(base)

#define PF_C_ROW(base) \
	PREFETCHT0 (base);   \
	PREFETCHT0 64(base); \
	PREFETCHT0 128(base); \
	PREFETCHT0 184(base)

// ROWS_Z applies a row macro to the eight rows of C: CX is row 0, R11 row
// 4, DX one row, R10 three; R12 is scratch.
#define ROWS_Z(op) \
	op(CX, Z0, Z1, Z2);         \
	LEAQ (CX)(DX*1), R12;       \
	op(R12, Z3, Z4, Z5);        \
	LEAQ (CX)(DX*2), R12;       \
	op(R12, Z6, Z7, Z8);        \
	LEAQ (CX)(R10*1), R12;      \
	op(R12, Z9, Z10, Z11);      \
	op(R11, Z12, Z13, Z14);     \
	LEAQ (R11)(DX*1), R12;      \
	op(R12, Z15, Z16, Z17);     \
	LEAQ (R11)(DX*2), R12;      \
	op(R12, Z18, Z19, Z20);     \
	LEAQ (R11)(R10*1), R12;     \
	op(R12, Z21, Z22, Z23)

// func kernelAVX512(kc int, a, b *float64, ldb int, c *float64, ldc int, acc int, src *float64, lds int, dst *float64, ncopy int, ntiles int, mask int)
//
// As kernelAVX2, for ntiles >= 1 tiles of 8 x 24, one below the other
// (A's slivers kc*8 doubles apart, C's tiles 8 rows apart, the same B).
// The strip it copies during the first tile is one sliver, 24 columns
// (192 bytes, three whole lines a row), one row a step, so ncopy <= kc.
// mask has bit j set for each column j of C to write: 0xffffff for whole
// tiles; a narrower tile's columns must be 0..w-1.
TEXT ·kernelAVX512(SB), NOSPLIT, $0-104
	MOVQ kc+0(FP), SI
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ ldb+24(FP), R8
	SHLQ $3, R8
	MOVQ c+32(FP), CX
	MOVQ ldc+40(FP), DX
	SHLQ $3, DX
	MOVQ src+56(FP), R13
	MOVQ lds+64(FP), R14
	SHLQ $3, R14
	MOVQ dst+72(FP), DI
	LEAQ (DX)(DX*2), R10 // 3 rows of C
	MOVQ mask+96(FP), R12
	KMOVW R12, K1
	SHRQ $8, R12
	KMOVW R12, K2
	SHRQ $8, R12
	KMOVW R12, K3

avx512_tile:
	// The C tile is needed only at the end: start fetching it now.
	LEAQ (CX)(DX*4), R11 // row 4 of C
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

	MOVQ  ncopy+80(FP), R12
	TESTQ R12, R12
	JLE   avx512_steps
	MOVQ  R14, R9
	IMULQ $PF_ROWS, R9

avx512_copy_loop:
	PF_B (R13)(R9*1)
	PF_B 64(R13)(R9*1)
	PF_B 128(R13)(R9*1)
	PF_B 184(R13)(R9*1)
	STEP_8X24
	VMOVUPD (R13), Z24
	VMOVUPD 64(R13), Z25
	VMOVUPD 128(R13), Z26
	VMOVUPD Z24, (DI)
	VMOVUPD Z25, 64(DI)
	VMOVUPD Z26, 128(DI)
	ADDQ    $64, AX
	ADDQ    R8, BX
	ADDQ    R14, R13
	ADDQ    $192, DI
	DECQ    SI
	DECQ    R12
	JNE     avx512_copy_loop

avx512_steps:
	TESTQ SI, SI
	JLE   avx512_store
	CMPQ  R8, $192
	JEQ   avx512_packed

	MOVQ  R8, R9
	IMULQ $PF_ROWS, R9

avx512_direct:
	PF_B (BX)(R9*1)
	PF_B 64(BX)(R9*1)
	PF_B 128(BX)(R9*1)
	PF_B 184(BX)(R9*1)
	STEP_8X24
	ADDQ $64, AX
	ADDQ R8, BX
	DECQ SI
	JNE  avx512_direct
	JMP  avx512_store

avx512_packed:
	// B is a packed sliver (24 doubles a row, contiguous): the hardware
	// prefetchers follow it. Four steps a turn, A prefetched ahead.
	CMPQ SI, $4
	JLT  avx512_packed_tail
	PREFETCHT0 PF_A512(AX)
	STEP_8X24_AT(0, 0)
	PREFETCHT0 PF_A512+64(AX)
	STEP_8X24_AT(64, 192)
	PREFETCHT0 PF_A512+128(AX)
	STEP_8X24_AT(128, 384)
	PREFETCHT0 PF_A512+192(AX)
	STEP_8X24_AT(192, 576)
	ADDQ $256, AX
	ADDQ $768, BX
	SUBQ $4, SI
	JMP  avx512_packed

avx512_packed_tail:
	TESTQ SI, SI
	JEQ   avx512_store
	STEP_8X24
	ADDQ  $64, AX
	ADDQ  $192, BX
	DECQ  SI
	JMP   avx512_packed_tail

avx512_store:
	CMPQ mask+96(FP), $0xffffff
	JNE  avx512_masked
	CMPQ acc+48(FP), $0
	JEQ  avx512_write
	ROWS_Z(ADD_ROW_Z)

avx512_write:
	ROWS_Z(STORE_ROW_Z)
	JMP avx512_next

avx512_masked:
	CMPQ acc+48(FP), $0
	JEQ  avx512_write_masked
	ROWS_Z(ADD_ROW_ZM)

avx512_write_masked:
	ROWS_Z(STORE_ROW_ZM)

avx512_next:
	// Next tile: AX is already at its sliver of A; no copy.
	DECQ ntiles+88(FP)
	JLE  avx512_done
	LEAQ (R11)(DX*4), CX
	MOVQ b+16(FP), BX
	MOVQ kc+0(FP), SI
	MOVQ $0, ncopy+80(FP)
	JMP  avx512_tile

avx512_done:
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

// func copyStrip24(rows int, src *float64, lds int, dst0, dst1 *float64, ldd int)
//
// Copies rows x 24 doubles: row r of src (src + r*lds) goes to
// dst0 + r*ldd (columns 0-11) and dst1 + r*ldd (columns 12-23). AVX only.
TEXT ·copyStrip24(SB), NOSPLIT, $0-48
	MOVQ rows+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R8
	SHLQ $3, R8
	MOVQ dst0+24(FP), DI
	MOVQ dst1+32(FP), DX
	MOVQ ldd+40(FP), R9
	SHLQ $3, R9
	MOVQ R8, R10
	IMULQ $PF_ROWS, R10
	TESTQ CX, CX
	JLE  copy24_done

copy24_loop:
	PF_B (SI)(R10*1)
	PF_B 64(SI)(R10*1)
	PF_B 128(SI)(R10*1)
	PF_B 184(SI)(R10*1)
	VMOVUPD (SI), Y0
	VMOVUPD 32(SI), Y1
	VMOVUPD 64(SI), Y2
	VMOVUPD 96(SI), Y3
	VMOVUPD 128(SI), Y4
	VMOVUPD 160(SI), Y5
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, (DX)
	VMOVUPD Y4, 32(DX)
	VMOVUPD Y5, 64(DX)
	ADDQ R8, SI
	ADDQ R9, DI
	ADDQ R9, DX
	DECQ CX
	JNE  copy24_loop

copy24_done:
	VZEROUPPER
	RET

// func packA4(kc int, a *float64, lda int, dst *float64, ldd int)
//
// Transposes 4 rows x kc columns of A (rows lda apart, kc a multiple of 4)
// into dst: column p's four elements to dst + p*ldd, contiguous. Four
// columns a turn, a 4x4 transpose in registers. AVX only.
TEXT ·packA4(SB), NOSPLIT, $0-40
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $3, R8
	MOVQ dst+24(FP), DI
	MOVQ ldd+32(FP), R9
	SHLQ $3, R9
	LEAQ (R8)(R8*2), R10 // 3 rows of A
	LEAQ (R9)(R9*2), R11 // 3 columns of dst
	SHRQ $2, CX
	JEQ  packa4_done

packa4_loop:
	VMOVUPD    (SI), Y0
	VMOVUPD    (SI)(R8*1), Y1
	VMOVUPD    (SI)(R8*2), Y2
	VMOVUPD    (SI)(R10*1), Y3
	VUNPCKLPD  Y1, Y0, Y4
	VUNPCKHPD  Y1, Y0, Y5
	VUNPCKLPD  Y3, Y2, Y6
	VUNPCKHPD  Y3, Y2, Y7
	VPERM2F128 $0x20, Y6, Y4, Y0
	VPERM2F128 $0x20, Y7, Y5, Y1
	VPERM2F128 $0x31, Y6, Y4, Y2
	VPERM2F128 $0x31, Y7, Y5, Y3
	VMOVUPD    Y0, (DI)
	VMOVUPD    Y1, (DI)(R9*1)
	VMOVUPD    Y2, (DI)(R9*2)
	VMOVUPD    Y3, (DI)(R11*1)
	ADDQ       $32, SI
	LEAQ       (DI)(R9*4), DI
	DECQ       CX
	JNE        packa4_loop

packa4_done:
	VZEROUPPER
	RET
