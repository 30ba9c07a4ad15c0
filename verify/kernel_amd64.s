//go:build !purego

#include "textflag.h"

// The kernels walk the codes strictly in order, one block (8 rows) after the other: a single
// sequential stream is what the hardware prefetchers keep up with best (interleaving four
// blocks 1 KB apart ran at two thirds of the memory bandwidth). Independent accumulators for
// successive groups hide the multiply-add latency; they are summed per block.

// func dotBlocksAVX2Asm(codes *uint8, qabs, qsign *int8, groups, nblocks int, out *int32)
//
// Per group of four components (32 bytes: 8 rows x 4 codes):
//   x  = codes XOR 0x80               back to signed codes
//   x  = x * sign(q)                  VPSIGNB
//   p  = maddubs(|q|, x)              16 int16, q[k]x[k] + q[k+1]x[k+1], |p| <= 32258
//   p  = maddwd(p, ones)              8 int32, one per row
//   acc += p
TEXT ·dotBlocksAVX2Asm(SB), NOSPLIT, $0-48
	MOVQ codes+0(FP), SI
	MOVQ qabs+8(FP), R8
	MOVQ qsign+16(FP), R9
	MOVQ groups+24(FP), CX
	MOVQ nblocks+32(FP), DX
	MOVQ out+40(FP), DI

	MOVL         $0x00010001, AX
	MOVL         AX, X15
	VPBROADCASTD X15, Y15 // sixteen int16 ones
	MOVL         $0x80808080, AX
	MOVL         AX, X14
	VPBROADCASTD X14, Y14 // the code offset

avx2block:
	TESTQ DX, DX
	JZ    avx2done
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	XORQ  R10, R10 // byte offset of the group in the probe vectors
	MOVQ  CX, BX

avx2pair:
	CMPQ       BX, $2
	JLT        avx2rest
	VPXOR      (SI), Y14, Y2
	VPXOR      32(SI), Y14, Y3
	VPSIGNB    (R9)(R10*1), Y2, Y2
	VPSIGNB    32(R9)(R10*1), Y3, Y3
	VMOVDQU    (R8)(R10*1), Y4
	VMOVDQU    32(R8)(R10*1), Y5
	VPMADDUBSW Y2, Y4, Y2
	VPMADDUBSW Y3, Y5, Y3
	VPMADDWD   Y15, Y2, Y2
	VPMADDWD   Y15, Y3, Y3
	VPADDD     Y2, Y0, Y0
	VPADDD     Y3, Y1, Y1
	ADDQ       $64, SI
	ADDQ       $64, R10
	SUBQ       $2, BX
	JMP        avx2pair

avx2rest:
	TESTQ      BX, BX
	JZ         avx2sum
	VPXOR      (SI), Y14, Y2
	VPSIGNB    (R9)(R10*1), Y2, Y2
	VMOVDQU    (R8)(R10*1), Y4
	VPMADDUBSW Y2, Y4, Y2
	VPMADDWD   Y15, Y2, Y2
	VPADDD     Y2, Y0, Y0
	ADDQ       $32, SI

avx2sum:
	VPADDD  Y1, Y0, Y0
	VMOVDQU Y0, (DI)
	ADDQ    $32, DI
	DECQ    DX
	JMP     avx2block

avx2done:
	VZEROUPPER
	RET

// func dotBlocksVNNIAsm(codes *uint8, qsign *int8, groups, nblocks int, bias int32, out *int32)
//
// VPDPBUSD acc, codes, q: acc += Σ4 codes(unsigned) * q(signed) per 32-bit lane, exactly; the
// probe's four codes of a group are broadcast from memory. bias removes the code offset.
TEXT ·dotBlocksVNNIAsm(SB), NOSPLIT, $0-48
	MOVQ         codes+0(FP), SI
	MOVQ         qsign+8(FP), R9
	MOVQ         groups+16(FP), CX
	MOVQ         nblocks+24(FP), DX
	MOVL         bias+32(FP), AX
	MOVL         AX, X15
	VPBROADCASTD X15, Y15
	MOVQ         out+40(FP), DI

vnniblock:
	TESTQ DX, DX
	JZ    vnnidone
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	XORQ  R10, R10
	MOVQ  CX, BX

vnniquad:
	CMPQ          BX, $4
	JLT           vnnirest
	VMOVDQU       (SI), Y4
	VMOVDQU       32(SI), Y5
	VMOVDQU       64(SI), Y6
	VMOVDQU       96(SI), Y7
	VPDPBUSD.BCST (R9)(R10*1), Y4, Y0
	VPDPBUSD.BCST 32(R9)(R10*1), Y5, Y1
	VPDPBUSD.BCST 64(R9)(R10*1), Y6, Y2
	VPDPBUSD.BCST 96(R9)(R10*1), Y7, Y3
	ADDQ          $128, SI
	ADDQ          $128, R10
	SUBQ          $4, BX
	JMP           vnniquad

vnnirest:
	TESTQ         BX, BX
	JZ            vnnisum
	VMOVDQU       (SI), Y4
	VPDPBUSD.BCST (R9)(R10*1), Y4, Y0
	ADDQ          $32, SI
	ADDQ          $32, R10
	DECQ          BX
	JMP           vnnirest

vnnisum:
	VPADDD  Y1, Y0, Y0
	VPADDD  Y3, Y2, Y2
	VPADDD  Y2, Y0, Y0
	VPSUBD  Y15, Y0, Y0
	VMOVDQU Y0, (DI)
	ADDQ    $32, DI
	DECQ    DX
	JMP     vnniblock

vnnidone:
	VZEROUPPER
	RET
