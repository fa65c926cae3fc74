/* SPDX-License-Identifier: MIT */
/*
 * The x86 instruction emulator (hv/arch/x86/emulate_insn.c): runs one
 * decoded instruction against a register block and a memory interface,
 * for the accesses the CPU cannot run itself (memory with no RAM behind
 * it: the devices' MMIO ranges and the empty bus).  Pure C on top of the
 * decoder (x86_decode.h), no state, no allocation, no hypervisor calls:
 * it builds unchanged for the host, where tests/unit/test_emulate.c runs
 * every form against the host CPU's own results (flags included) and
 * tests/fuzz/fuzz_emulate.c feeds it arbitrary bytes.
 *
 * Memory goes through callbacks by segment and offset; the caller turns
 * them into linear addresses (segment checks), guest-physical addresses
 * (the guest's page tables) and then RAM or a device, and raises the
 * fault the CPU would (#GP, #SS, #PF, #AC) itself.  A read that is part
 * of a read-modify-write asks for write access too, so no device sees a
 * read whose write would have faulted.
 *
 * Scope (the memory forms of):
 *   MOV (88-8B, 8C store, A0-A3, C6, C7), MOVZX/MOVSX, MOVSXD, MOVNTI,
 *   MOVBE; the ALU (ADD OR ADC SBB AND SUB XOR CMP, 00-3F and 80-83),
 *   TEST, XCHG, INC/DEC, NOT/NEG, MUL/IMUL/DIV/IDIV, IMUL r,r/m[,imm],
 *   shifts and rotates (C0 C1 D0-D3), SHLD/SHRD, BT/BTS/BTR/BTC (with the
 *   register bit offset reaching beyond the operand), BSF/BSR, TZCNT/LZCNT,
 *   CMOVcc, SETcc, CMPXCHG, XADD, PUSH/POP r/m, PUSH/POP/CALL/RET with the
 *   stack in emulated memory, JMP/CALL through memory, the string
 *   instructions (MOVS CMPS STOS LODS SCAS, REP/REPE/REPNE), and the SSE
 *   and MMX moves (MOVUPS/UPD, MOVAPS/APD, MOVSS/SD, MOVLPS/LPD, MOVHPS/HPD,
 *   MOVNTPS/NTPD, MOVDQU/DQA, MOVNTDQ, MOVNTQ, MOVD/MOVQ), the system
 *   instructions with a memory operand (SMSW SGDT SIDT SLDT STR LGDT LIDT
 *   LLDT LTR), MOV and POP to segment registers, far JMP/CALL.
 * Memory callbacks get X86_EMU_WRITE on every write.  Exceptions carry the
 * architectural error code (#GP(0): 0; #DE, #UD: none).  In 64-bit mode the
 * segment passed is still the encoded one (ES, CS, SS, DS ignore their
 * base there, SS-relative accesses fault #SS): the caller applies the
 * mode's rules.
 * LOCK is honoured where the architecture allows it (the caller's memory
 * is one VM's, and devices are emulated one access at a time) and #UD
 * elsewhere.  Anything else is X86_EMU_UNHANDLED: the caller stops the
 * VM with the reason rather than guess.
 */
#ifndef PETREL_X86_EMULATE_H
#define PETREL_X86_EMULATE_H

#include <petrel/x86_decode.h>
#include <stdbool.h>
#include <stdint.h>

/* Memory access flags for the callbacks. */
#define X86_EMU_WRITE (1u << 0)  /* a write (or the read of a read-modify-write) */
#define X86_EMU_STACK (1u << 1)  /* an implicit stack access (PUSH, POP, CALL, RET) */

struct x86_emu {
	/* Registers in and out: the guest's, updated only when the
	 * instruction completes (X86_EMU_OK or X86_EMU_MORE) - and, as on
	 * the CPU, by the elements a REP string instruction finished before
	 * one of its accesses faulted. */
	uint64_t gpr[16];  /* encoding order: RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 */
	uint64_t rip;      /* the instruction's; on OK the next one's (or a branch target) */
	uint64_t rflags;
	bool canonical57;  /* 5-level paging: canonical addresses are 57 bits wide */
	uint8_t stack_size; /* the stack's address size, 2/4/8 (SS.B, or 64-bit
			     * mode); 0: the mode's default */
	bool tzcnt, lzcnt; /* the guest's CPUID offers BMI1, LZCNT: F3 0F BC/BD
			    * are TZCNT/LZCNT, else BSF/BSR as on older CPUs */
	bool intel;        /* the guest's CPU is Intel's (CPUID vendor): where the
			    * two vendors' CPUs differ, Intel's result */

	/* Reads or writes len bytes (1..16) at seg:off (seg 0..5 = ES CS SS
	 * DS FS GS; off already truncated to the address size).  0, or -1
	 * when the access faulted and the caller has queued the exception:
	 * the emulator then stops and changes nothing more. */
	int (*read)(void *opaque, int seg, uint64_t off, void *buf, unsigned len, unsigned flags);
	int (*write)(void *opaque, int seg, uint64_t off, const void *buf, unsigned len, unsigned flags);
	/* The guest's XMM and MMX registers (NULL: SSE/MMX forms are
	 * unhandled).  CR0.TS/EM and CR4.OSFXSR are the caller's to check
	 * through sse_usable (NULL: usable). */
	void (*get_xmm)(void *opaque, unsigned reg, uint8_t v[16]);
	void (*set_xmm)(void *opaque, unsigned reg, const uint8_t v[16]);
	void (*get_mmx)(void *opaque, unsigned reg, uint8_t v[8]);
	void (*set_mmx)(void *opaque, unsigned reg, const uint8_t v[8]);
	int (*sse_usable)(void *opaque, bool mmx); /* 0, or an exception vector (#UD 6, #NM 7) */
	void *opaque;

	/* A REP string instruction does at most this many elements per call
	 * (0: no limit), then returns X86_EMU_MORE with RIP unchanged. */
	uint32_t rep_chunk;

	/* The system instructions with a memory operand (0F 00, 0F 01):
	 * SMSW, SGDT, SIDT, SLDT and STR store these (#GP at CPL > 0 under
	 * CR4.UMIP); LGDT, LIDT, LLDT and LTR load through the callbacks
	 * (NULL: unhandled), which check and fault as the CPU does. */
	uint64_t cr0, cr4;
	uint8_t cpl;
	struct { uint64_t base; uint16_t limit; } gdtr, idtr;
	uint16_t ldtr, tr;
	uint16_t sel[6];  /* ES CS SS DS FS GS, for MOV r/m, Sreg */
	int (*load_dtr)(void *opaque, bool idt, uint64_t base, uint16_t limit);
	int (*load_sys_seg)(void *opaque, bool tr, uint16_t sel);
	/* Segment loads (MOV/POP Sreg: 0 ES, 2 SS, 3 DS, 4 FS, 5 GS) and a far
	 * JMP/CALL's CS (which may adjust *target to the new mode's width).
	 * Every system callback answers 0, -1 after the caller queued the
	 * fault, or -2 for what it does not run (a gate or a TSS), which
	 * makes the instruction X86_EMU_UNHANDLED.  NULL: unhandled. */
	int (*load_seg)(void *opaque, int seg, uint16_t sel);
	int (*load_far_cs)(void *opaque, uint16_t sel, uint64_t *target);

	/* X86_EMU_EXCEPTION: what the instruction raises itself. */
	uint8_t exc_vector;
	bool exc_has_error;
	uint32_t exc_error;
	const char *unhandled; /* X86_EMU_UNHANDLED: what it was */
};

enum x86_emu_result {
	X86_EMU_OK,        /* done: registers and RIP updated */
	X86_EMU_MORE,      /* a REP instruction with elements left: run it again */
	X86_EMU_FAULT,     /* a memory callback faulted (its exception is queued) */
	X86_EMU_EXCEPTION, /* the instruction raises exc_vector (#DE, #UD, #GP, #SS) */
	X86_EMU_UNHANDLED, /* not an instruction this emulator runs */
};

enum x86_emu_result x86_emulate(struct x86_emu *e, const struct x86_insn *in);

/* The arithmetic flags of RFLAGS. */
#define X86_FLAGS_ARITH 0x8d5ull /* CF PF AF ZF SF OF */

#endif
