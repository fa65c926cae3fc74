/* SPDX-License-Identifier: MIT */
/* x86 instruction decoder: lengths for every exit the hypervisor must skip,
 * and the decoded fields and memory operand the instruction emulator
 * (x86_emulate.h) runs on.
 *
 * Under AMD SVM on QEMU TCG there is no nRIP save and no decode assist
 * (AMD APM vol. 2 §15.7.1, §15.33), so after an intercepted CPUID, RDMSR,
 * HLT, VMMCALL, IN/OUT... the hypervisor computes the next RIP itself, and a
 * nested page fault on LAPIC/IOAPIC space reports only the guest-physical
 * address: the access's direction, width and register come from decoding the
 * faulting instruction.  Pure C, no state, no allocation; also built for the
 * host unit tests and a libFuzzer harness.
 *
 * Scope.  The full one-byte and 0F maps, 0F 38 / 0F 3A (ModRM; 0F 3A imm8),
 * 3DNow! (0F 0F ModRM imm8), and the lengths of VEX (C4/C5), EVEX (62) and
 * AMD XOP (8F) instructions.  Intel SDM vol. 2 ch. 2 and the opcode maps of
 * its appendix A; AMD APM vol. 3 ch. 1 and appendix A.
 * Choices a reader should know:
 *  - Lengths are those of the instruction as the CPU would fetch it; an
 *    opcode the CPU would #UD on is INVALID only where the maps leave it
 *    undefined (e.g. FE /2, 0F 04, PUSH ES in 64-bit mode).  Undefined
 *    opcodes inside 0F 38 / 0F 3A and the VEX/EVEX maps, and reserved ModRM
 *    forms of 0F 01, are length-decoded, not rejected: the CPU raises #UD on
 *    them before any intercept can fire, so no exit is ever decoded for them.
 *  - Near branches (E8, E9, Jcc, ...) with a 66 prefix in 64-bit mode take a
 *    16-bit displacement, as on AMD (and QEMU, and objdump); Intel ignores
 *    the 66 there.  No intercepted instruction is a branch.
 *  - In 16/32-bit modes C4/C5/62 are VEX/EVEX only when the next byte has
 *    mod = 11 (otherwise LES/LDS/BOUND); in real mode the CPU would #UD the
 *    VEX forms, X86_MODE_16 does not tell real mode apart, and the length
 *    is reported anyway.  8F is XOP when the next byte's map field is >= 8.
 *  - APX (REX2 D5, EVEX map 4) is not decoded: D5 is INVALID in 64-bit mode.
 *  - Never reads bytes[avail] or beyond, and never more than 15 bytes. */
#ifndef PETREL_X86_DECODE_H
#define PETREL_X86_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The default operand and address size of the code segment: real mode,
 * virtual-8086 and 16-bit protected mode; 32-bit protected mode (and
 * compatibility mode, CS.L = 0, CS.D = 1); 64-bit mode (CS.L = 1). */
enum x86_mode { X86_MODE_16, X86_MODE_32, X86_MODE_64 };

enum {
	X86_DECODE_OK = 0,
	X86_DECODE_TRUNCATED = -1, /* `avail` ends before the instruction does */
	X86_DECODE_INVALID = -2,   /* undefined encoding, or longer than 15 bytes */
};

#define X86_MAX_INSN_LEN 15

struct x86_insn {
	uint8_t len;      /* total bytes, 1..15 */
	uint8_t mode;     /* the enum x86_mode it was decoded for */
	uint8_t opsize;   /* operand-size attribute in bytes, 2/4/8: mode, 66,
			   * REX.W, and the 64-bit default of PUSH/POP/branches.
			   * Byte forms (88, C6, ...) still report it; for
			   * VEX/EVEX/XOP it ignores their W bit. */
	uint8_t addrsize; /* address size in bytes, 2/4/8: mode and 67 */
	uint8_t rep;      /* last of F2/F3 seen, else 0 */
	int8_t seg;       /* last segment override, 0..5 = ES CS SS DS FS GS, else -1;
			   * as encoded (64-bit mode ignores ES/CS/SS/DS) */
	bool lock;        /* F0 */
	bool p66;         /* a 66 prefix is present (also a mandatory prefix) */
	uint8_t rex;      /* the REX byte that took effect, else 0 */
	uint8_t vex;      /* 0, or the escape: 0xC4, 0xC5 (VEX), 0x62 (EVEX), 0x8F (XOP) */
	uint8_t vex_p[3]; /* the VEX/EVEX/XOP payload bytes after the escape, raw */
	uint8_t opmap;    /* 0 one-byte map, 1 = 0F, 2 = 0F 38, 3 = 0F 3A; for VEX/EVEX
			   * the map number (1..3, EVEX 5/6), for XOP 8..10 */
	uint8_t opcode;   /* the opcode byte within opmap (0F 0F: the imm8 suffix
			   * selects the 3DNow! operation) */
	bool has_modrm;
	bool has_sib;
	uint8_t modrm, sib;
	uint8_t disp_size; /* 0, 1, 2, 4, or for A0-A3 moffs the address size */
	uint8_t imm_size;  /* bytes of imm, 0..8 */
	uint8_t imm2_size; /* bytes of imm2, 0..2 */
	uint16_t imm2;     /* second immediate: ENTER's ib, a far pointer's selector,
			    * EXTRQ/INSERTQ's second ib */
	int64_t disp;      /* sign-extended; moffs is zero-extended */
	uint64_t imm;      /* raw little-endian value, zero-extended */
};

#define X86_MODRM_MOD(m) ((uint8_t)(m) >> 6)
#define X86_MODRM_REG(m) (((uint8_t)(m) >> 3) & 7)
#define X86_MODRM_RM(m)  ((uint8_t)(m) & 7)

/* Decodes one instruction from bytes[0..avail).  Returns X86_DECODE_OK with
 * *out filled, X86_DECODE_TRUNCATED when the instruction needs bytes past
 * `avail` (fetch more and retry: with more bytes the answer is either the
 * same TRUNCATED or the final one), or X86_DECODE_INVALID.  *out is
 * meaningful only on success. */
int x86_decode(const uint8_t *bytes, size_t avail, enum x86_mode mode, struct x86_insn *out);

/* The memory operand of a ModRM instruction (or A0-A3's moffs): its offset
 * within the segment, computed from the registers (gpr in encoding order)
 * and truncated to the address size, and the segment it goes through
 * (0..5 = ES CS SS DS FS GS: the override, else SS for rSP/rBP bases, else
 * DS).  rip_next is the next instruction's address, for RIP-relative forms.
 * -1 for a register operand, no ModRM, or VEX/EVEX/XOP forms. */
int x86_mem_operand(const struct x86_insn *in, const uint64_t gpr[16], uint64_t rip_next,
		    uint64_t *offset, int *seg);

#endif
