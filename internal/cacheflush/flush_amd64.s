#include "textflag.h"

// func flush(p *byte, n int)
TEXT ·flush(SB), NOSPLIT, $0-16
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
