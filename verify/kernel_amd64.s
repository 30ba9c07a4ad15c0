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

// func dotBlocksAVX2Asm(codes *uint8, qabs, qsign *int8, groups, nblocks int, out *int32)
//
// For each block of 8 rows, an accumulator holds eight int32 dot products. Per group of four
// components (32 bytes: 8 rows x 4 codes):
//   x  = codes XOR 0x80               back to signed codes
//   x  = x * sign(q)                  VPSIGNB
//   p  = maddubs(|q|, x)              16 int16, q[k]x[k] + q[k+1]x[k+1], |p| <= 32258
//   p  = maddwd(p, ones)              8 int32, one per row
//   acc += p
// Two blocks go through the group loop together so the probe's vectors are loaded once
// for both.
TEXT ·dotBlocksAVX2Asm(SB), NOSPLIT, $0-48
	MOVQ codes+0(FP), SI
	MOVQ qabs+8(FP), R8
	MOVQ qsign+16(FP), R9
	MOVQ groups+24(FP), CX
	MOVQ nblocks+32(FP), DX
	MOVQ out+40(FP), DI

	MOVL $0x00010001, AX
	MOVL AX, X15
	VPBROADCASTD X15, Y15 // sixteen int16 ones
	MOVL $0x80808080, AX
	MOVL AX, X14
	VPBROADCASTD X14, Y14 // the code offset
	MOVQ CX, R12
	SHLQ $5, R12          // bytes per block = groups*32

avx2pairs:
	CMPQ DX, $2
	JLT  avx2single
	VPXOR Y0, Y0, Y0
	VPXOR Y4, Y4, Y4
	LEAQ (SI)(R12*1), R13 // second block
	XORQ R10, R10         // byte offset of the group
	MOVQ CX, BX

avx2pairloop:
	VMOVDQU    (R8)(R10*1), Y3 // |q|
	VMOVDQU    (R9)(R10*1), Y5 // q
	VPXOR      (SI)(R10*1), Y14, Y1
	VPXOR      (R13)(R10*1), Y14, Y6
	VPSIGNB    Y5, Y1, Y1
	VPSIGNB    Y5, Y6, Y6
	VPMADDUBSW Y1, Y3, Y2
	VPMADDUBSW Y6, Y3, Y7
	VPMADDWD   Y15, Y2, Y2
	VPMADDWD   Y15, Y7, Y7
	VPADDD     Y2, Y0, Y0
	VPADDD     Y7, Y4, Y4
	ADDQ       $32, R10
	DECQ       BX
	JNZ        avx2pairloop

	VMOVDQU Y0, (DI)
	VMOVDQU Y4, 32(DI)
	ADDQ    $64, DI
	LEAQ    (SI)(R12*2), SI
	SUBQ    $2, DX
	JMP     avx2pairs

avx2single:
	TESTQ DX, DX
	JZ    avx2done
	VPXOR Y0, Y0, Y0
	XORQ  R10, R10
	MOVQ  CX, BX

avx2singleloop:
	VMOVDQU    (R8)(R10*1), Y3
	VPXOR      (SI)(R10*1), Y14, Y1
	VPSIGNB    (R9)(R10*1), Y1, Y1
	VPMADDUBSW Y1, Y3, Y2
	VPMADDWD   Y15, Y2, Y2
	VPADDD     Y2, Y0, Y0
	ADDQ       $32, R10
	DECQ       BX
	JNZ        avx2singleloop
	VMOVDQU    Y0, (DI)

avx2done:
	VZEROUPPER
	RET

// func dotBlocksVNNIAsm(codes *uint8, qsign *int8, groups, nblocks int, bias int32, out *int32)
//
// VPDPBUSD acc, codes, q: acc += Σ4 codes(unsigned) * q(signed) per 32-bit lane, exactly.
// Four blocks share each broadcast of the probe's four codes; bias removes the code offset.
TEXT ·dotBlocksVNNIAsm(SB), NOSPLIT, $0-48
	MOVQ         codes+0(FP), SI
	MOVQ         qsign+8(FP), R9
	MOVQ         groups+16(FP), CX
	MOVQ         nblocks+24(FP), DX
	MOVL         bias+32(FP), AX
	MOVL         AX, X15
	VPBROADCASTD X15, Y15
	MOVQ         out+40(FP), DI
	MOVQ         CX, R12
	SHLQ         $5, R12 // bytes per block

vnniquads:
	CMPQ DX, $4
	JLT  vnnisingle
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	LEAQ  (SI)(R12*1), R13
	LEAQ  (SI)(R12*2), R14
	LEAQ  (R13)(R12*2), R11
	XORQ  R10, R10
	MOVQ  CX, BX

vnniquadloop:
	VPBROADCASTD (R9)(R10*1), Y5
	VMOVDQU      (SI)(R10*1), Y6
	VMOVDQU      (R13)(R10*1), Y7
	VMOVDQU      (R14)(R10*1), Y8
	VMOVDQU      (R11)(R10*1), Y9
	VPDPBUSD     Y5, Y6, Y0
	VPDPBUSD     Y5, Y7, Y1
	VPDPBUSD     Y5, Y8, Y2
	VPDPBUSD     Y5, Y9, Y3
	ADDQ         $32, R10
	DECQ         BX
	JNZ          vnniquadloop

	VPSUBD  Y15, Y0, Y0
	VPSUBD  Y15, Y1, Y1
	VPSUBD  Y15, Y2, Y2
	VPSUBD  Y15, Y3, Y3
	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	ADDQ    $128, DI
	LEAQ    (SI)(R12*4), SI
	SUBQ    $4, DX
	JMP     vnniquads

vnnisingle:
	TESTQ DX, DX
	JZ    vnnidone
	VPXOR Y0, Y0, Y0
	XORQ  R10, R10
	MOVQ  CX, BX

vnnisingleloop:
	VMOVDQU            (SI)(R10*1), Y6
	VPDPBUSD.BCST      (R9)(R10*1), Y6, Y0
	ADDQ               $32, R10
	DECQ               BX
	JNZ                vnnisingleloop
	VPSUBD             Y15, Y0, Y0
	VMOVDQU            Y0, (DI)
	ADDQ               $32, DI
	ADDQ               R12, SI
	DECQ               DX
	JMP                vnnisingle

vnnidone:
	VZEROUPPER
	RET
