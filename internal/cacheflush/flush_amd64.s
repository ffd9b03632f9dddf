#include "textflag.h"

// func clflush(p *byte, n int)
TEXT ·clflush(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ SI, DX
	ANDQ $~63, SI           // the first line's start
	ADDQ DX, CX             // the end of the range
loop:
	CMPQ SI, CX
	JAE  done
	CLFLUSH (SI)
	ADDQ $64, SI
	JMP  loop
done:
	MFENCE
	RET

// func clflushopt(p *byte, n int)
TEXT ·clflushopt(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ SI, DX
	ANDQ $~63, SI
	ADDQ DX, CX
loopopt:
	CMPQ SI, CX
	JAE  doneopt
	CLFLUSHOPT (SI)
	ADDQ $64, SI
	JMP  loopopt
doneopt:
	MFENCE                  // orders the flushes before what follows
	RET

// func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL subleaf+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET
