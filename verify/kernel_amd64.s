//go:build !purego

#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func dotBlocksAVX2(codes, qabs, qsign *int8, groups, nblocks int, out *int32)
//
// For each block of 8 rows, Y0 accumulates eight int32 dot products. Per group of four
// components (32 bytes: 8 rows x 4 codes):
//   Y1 = codes * sign(qsign)          VPSIGNB
//   Y2 = maddubs(|q|, Y1)             16 int16, each q[k]x[k] + q[k+1]x[k+1], |.| <= 32258
//   Y2 = maddwd(Y2, ones)             8 int32, one per row
//   Y0 += Y2
// Two blocks go through the group loop together so the probe's vectors are loaded once
// for both.
TEXT ·dotBlocksAVX2(SB), NOSPLIT, $0-48
	MOVQ codes+0(FP), SI
	MOVQ qabs+8(FP), R8
	MOVQ qsign+16(FP), R9
	MOVQ groups+24(FP), CX
	MOVQ nblocks+32(FP), DX
	MOVQ out+40(FP), DI

	MOVL $0x00010001, AX
	MOVL AX, X15
	VPBROADCASTD X15, Y15           // sixteen int16 ones
	MOVQ CX, R12
	SHLQ $5, R12                    // R12 = bytes per block = groups*32

pairs:
	CMPQ DX, $2
	JLT  single
	VPXOR Y0, Y0, Y0
	VPXOR Y4, Y4, Y4
	MOVQ SI, R13                    // block 0
	LEAQ (SI)(R12*1), R14           // block 1
	XORQ R10, R10                   // byte offset into the probe vectors
	MOVQ CX, BX

pairloop:
	VMOVDQU (R8)(R10*1), Y3         // |q| of this group
	VMOVDQU (R9)(R10*1), Y5         // q of this group
	VMOVDQU (R13)(R10*1), Y1
	VMOVDQU (R14)(R10*1), Y6
	VPSIGNB Y5, Y1, Y1
	VPSIGNB Y5, Y6, Y6
	VPMADDUBSW Y1, Y3, Y2
	VPMADDUBSW Y6, Y3, Y7
	VPMADDWD Y15, Y2, Y2
	VPMADDWD Y15, Y7, Y7
	VPADDD Y2, Y0, Y0
	VPADDD Y7, Y4, Y4
	ADDQ $32, R10
	DECQ BX
	JNZ  pairloop

	VMOVDQU Y0, (DI)
	VMOVDQU Y4, 32(DI)
	ADDQ $64, DI
	LEAQ (SI)(R12*2), SI
	SUBQ $2, DX
	JMP  pairs

single:
	TESTQ DX, DX
	JZ    done
	VPXOR Y0, Y0, Y0
	XORQ R10, R10
	MOVQ CX, BX

singleloop:
	VMOVDQU (R8)(R10*1), Y3
	VMOVDQU (SI)(R10*1), Y1
	VPSIGNB (R9)(R10*1), Y1, Y1
	VPMADDUBSW Y1, Y3, Y2
	VPMADDWD Y15, Y2, Y2
	VPADDD Y2, Y0, Y0
	ADDQ $32, R10
	DECQ BX
	JNZ  singleloop
	VMOVDQU Y0, (DI)

done:
	VZEROUPPER
	RET
