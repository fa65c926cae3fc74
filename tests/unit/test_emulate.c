/* SPDX-License-Identifier: MIT */
/* hv/arch/x86/emulate_insn.c on the host, against the host CPU.
 *
 * Every form below is written once, as Intel-syntax assembly (or .byte
 * where the assembler has no spelling for it), in its own snippet in the
 * section .text.emutest.  The same bytes serve both sides:
 *  - natively, emt_run() loads a register block (16 GPRs, RFLAGS, XMM0-15,
 *    MM0-7), jumps to the snippet, and after the instruction saves the
 *    block again;
 *  - for the emulator, the snippet's bytes go through x86_decode (its
 *    length must be the snippet's) and x86_emulate, with RIP set to the
 *    snippet's own address, so RIP-relative operands, CALL's return
 *    address and branch targets are the same numbers on both sides.
 * Memory operands are in host memory the test owns: a 4 KiB page (the
 * fake MMIO page, operand at offset 0x800, pointed to by RBX), a 4 KiB
 * stack (RSP at its middle), and for the moffs32 and 67-prefixed forms a
 * page mapped below 4 GiB.  The emulator sees the same addresses as
 * offsets; its callbacks map them onto shadow copies of those pages, and
 * any access elsewhere fails the test.  After each case the pages, all 16
 * GPRs, XMM0-15, MM0-7, RIP and the arithmetic flags must match, except for the
 * flags the SDM leaves undefined for that instruction (each such mask says
 * where it comes from) and, for BSF/BSR with a zero source, the
 * destination.  Non-arithmetic RFLAGS bits must come back unchanged.
 *
 * Each form is its own cmocka test, named after the form
 * (add_m32_r32: ADD r/m32, r32 with a memory destination; _i8, _i32:
 * immediates; m8_ah: a high-byte register), and runs a few hundred cases:
 * every pair of a table of boundary values for the memory operand and the
 * register, with CF in 0 and 1, then pseudo-random values (xorshift,
 * seeded by the form's name, so a failure repeats).  A form the emulator
 * returns X86_EMU_UNHANDLED for fails: the list of failures is the list of
 * what is missing. */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_FIXED_NOREPLACE */
#include <cpuid.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <petrel/x86_decode.h>
#include <petrel/x86_emulate.h>

#define TEST(name) static void name(void **state __attribute__((unused)))
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define STR(x) #x
#define XSTR(x) STR(x)

#define FL_CF 0x001u
#define FL_PF 0x004u
#define FL_AF 0x010u
#define FL_ZF 0x040u
#define FL_SF 0x080u
#define FL_DF 0x400u
#define FL_OF 0x800u
#define FL_ALL ((uint16_t)X86_FLAGS_ARITH)
#define SZAP (FL_SF | FL_ZF | FL_AF | FL_PF)

#define PAGE 4096u
#define OPND 0x800u /* the memory operand's offset in its page */
/* The page below 4 GiB for moffs32 and 32-bit addressing: a literal,
 * because the snippets spell it.  Below ASan's shadow (0x7fff8000), above
 * anything a PIE process maps there. */
#define LOW_VA 0x5e000000
#define LOW_OP XSTR(LOW_VA) "+0x800"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
static const char *const gpr_name[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
};

/* ---- The native side ---------------------------------------------------- */

struct cpu {
	uint64_t gpr[16]; /* encoding order, as in struct x86_emu */
	uint64_t rflags;
	uint64_t pad;
	uint8_t xmm[16][16];
	uint8_t mm[8][8];
};
_Static_assert(offsetof(struct cpu, rflags) == 128, "emt_run's offsets");
_Static_assert(offsetof(struct cpu, xmm) == 144, "emt_run's offsets");
_Static_assert(offsetof(struct cpu, mm) == 400, "emt_run's offsets");

/* The memory the instructions touch; global so that the snippets can name
 * emt_page RIP-relatively. */
uint8_t emt_page[PAGE] __attribute__((aligned(PAGE)));
uint8_t emt_stack[PAGE] __attribute__((aligned(64)));

/* emt_run(st, insn): runs the snippet at insn with the registers of *st and
 * writes them back.  The snippet ends in a jump to emt_back (or is a branch
 * that lands there).  RSP is the snippet's own during it, so emt_back
 * saves it to memory before taking the host stack back, and clears DF,
 * which the C code after it assumes (SysV ABI); EMMS gives the x87 stack
 * back after the MMX registers were loaded. */
#define XMM_IN(n, off) "\tmovdqu " #off "(%rdi), %xmm" #n "\n"
#define XMM_OUT(n, off) "\tmovdqu %xmm" #n ", " #off "(%rdi)\n"
#define MM_IN(n) "\tmovq " #n "*8+400(%rdi), %mm" #n "\n"
#define MM_OUT(n) "\tmovq %mm" #n ", " #n "*8+400(%rdi)\n"
__asm__(".pushsection .text.emutest,\"ax\"\n"
	"emt_run:\n"
	"\tpush %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n"
	"\tmov %rdi, emt_state(%rip)\n"
	"\tmov %rsi, emt_target(%rip)\n"
	"\tmov %rsp, emt_host_rsp(%rip)\n"
	XMM_IN(0, 144) XMM_IN(1, 160) XMM_IN(2, 176) XMM_IN(3, 192)
	XMM_IN(4, 208) XMM_IN(5, 224) XMM_IN(6, 240) XMM_IN(7, 256)
	XMM_IN(8, 272) XMM_IN(9, 288) XMM_IN(10, 304) XMM_IN(11, 320)
	XMM_IN(12, 336) XMM_IN(13, 352) XMM_IN(14, 368) XMM_IN(15, 384)
	MM_IN(0) MM_IN(1) MM_IN(2) MM_IN(3) MM_IN(4) MM_IN(5) MM_IN(6) MM_IN(7)
	"\tpushq 128(%rdi)\n\tpopfq\n"
	"\tmov 0(%rdi), %rax\n\tmov 8(%rdi), %rcx\n\tmov 16(%rdi), %rdx\n\tmov 24(%rdi), %rbx\n"
	"\tmov 40(%rdi), %rbp\n\tmov 48(%rdi), %rsi\n"
	"\tmov 64(%rdi), %r8\n\tmov 72(%rdi), %r9\n\tmov 80(%rdi), %r10\n\tmov 88(%rdi), %r11\n"
	"\tmov 96(%rdi), %r12\n\tmov 104(%rdi), %r13\n\tmov 112(%rdi), %r14\n\tmov 120(%rdi), %r15\n"
	"\tmov 32(%rdi), %rsp\n"
	"\tmov 56(%rdi), %rdi\n"
	"\tjmp *emt_target(%rip)\n"
	"emt_back:\n"
	"\tmov %rsp, emt_guest_rsp(%rip)\n"
	"\tmov emt_host_rsp(%rip), %rsp\n"
	"\tpushfq\n"
	"\tcld\n"
	"\tpush %rdi\n"
	"\tmov emt_state(%rip), %rdi\n"
	"\tmov %rax, 0(%rdi)\n\tmov %rcx, 8(%rdi)\n\tmov %rdx, 16(%rdi)\n\tmov %rbx, 24(%rdi)\n"
	"\tmov %rbp, 40(%rdi)\n\tmov %rsi, 48(%rdi)\n"
	"\tmov %r8, 64(%rdi)\n\tmov %r9, 72(%rdi)\n\tmov %r10, 80(%rdi)\n\tmov %r11, 88(%rdi)\n"
	"\tmov %r12, 96(%rdi)\n\tmov %r13, 104(%rdi)\n\tmov %r14, 112(%rdi)\n\tmov %r15, 120(%rdi)\n"
	"\tpop %rax\n\tmov %rax, 56(%rdi)\n"
	"\tmov emt_guest_rsp(%rip), %rax\n\tmov %rax, 32(%rdi)\n"
	"\tpop %rax\n\tmov %rax, 128(%rdi)\n"
	XMM_OUT(0, 144) XMM_OUT(1, 160) XMM_OUT(2, 176) XMM_OUT(3, 192)
	XMM_OUT(4, 208) XMM_OUT(5, 224) XMM_OUT(6, 240) XMM_OUT(7, 256)
	XMM_OUT(8, 272) XMM_OUT(9, 288) XMM_OUT(10, 304) XMM_OUT(11, 320)
	XMM_OUT(12, 336) XMM_OUT(13, 352) XMM_OUT(14, 368) XMM_OUT(15, 384)
	MM_OUT(0) MM_OUT(1) MM_OUT(2) MM_OUT(3) MM_OUT(4) MM_OUT(5) MM_OUT(6) MM_OUT(7)
	"\temms\n"
	"\tpop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n"
	"\tret\n"
	".popsection\n"
	".pushsection .bss\n"
	".balign 8\n"
	"emt_state: .zero 8\n"
	"emt_target: .zero 8\n"
	"emt_host_rsp: .zero 8\n"
	"emt_guest_rsp: .zero 8\n"
	".popsection\n");
void emt_run(struct cpu *st, const void *insn);
extern const uint8_t emt_back[];

/* ---- The forms ------------------------------------------------------------ */

/* How a form's cases are made and checked. */
enum kind {
	GEN,    /* values from the table in memory and rAX rCX rDX, flags random */
	SHIFT,  /* C0 C1 D0-D3: a count in CL, undefined flags from the count */
	SHXD,   /* SHLD/SHRD: the same, source in rDX */
	BTREG,  /* BT* with the bit offset in rCX, reaching beyond the operand */
	BITSCAN,/* BSF/BSR: the destination is compared for a non-zero source only */
	DIV,    /* DIV/IDIV: #DE expected (and the CPU not run) where it faults */
	CC,     /* CMOVcc/SETcc: every combination of CF PF ZF SF OF */
	STRING, /* MOVS CMPS STOS LODS SCAS: RSI/RDI/RCX/DF, also with rep_chunk 3 */
	BRANCH, /* JMP/CALL through memory, RET: land on emt_back */
	SSE_A,  /* SSE move that requires 16-byte alignment (operand aligned) */
	SSE_U,  /* SSE/MMX move without an alignment check (operand misaligned too) */
	KIND = 0x1f,
	LOW = 0x20,         /* the operand is in the page below 4 GiB (moffs, 32-bit addressing) */
	NEED_MOVBE = 0x40,  /* the host must have CPUID.1:ECX.MOVBE[bit 22] */
	NEED_BMI1 = 0x80,   /* TZCNT: CPUID.(7,0):EBX.BMI1[bit 3], else it runs as BSF */
	NEED_LZCNT = 0x100, /* LZCNT: CPUID.80000001H:ECX.LZCNT[bit 5], else BSR */
};

struct form {
	const char *name;
	uint16_t op;     /* the opcode the snippet must decode to: 0x00xx one-byte
			  * map, 0x0fxx the 0F map, 0x38xx 0F 38 */
	uint16_t kind;   /* enum kind, with LOW and NEED_* */
	uint8_t size;    /* the memory operand in bytes (string element size) */
	uint16_t undef;  /* arithmetic flags the SDM leaves undefined (fixed ones;
			  * SHIFT, SHXD and DIV work theirs out per case) */
	const uint8_t *start, *end;
};

/* Emits a form's snippet and its descriptor F_name. */
#define EMIT(name, op, kind, size, undef, text)                                              \
	__asm__(".pushsection .text.emutest,\"ax\"\n"                                        \
		".intel_syntax noprefix\n"                                                   \
		"emt_" #name ":\n\t" text "\n"                                               \
		"emt_" #name "_end:\n\tjmp emt_back\n"                                       \
		".att_syntax prefix\n"                                                       \
		".popsection\n");                                                            \
	extern const uint8_t emt_##name[], emt_##name##_end[];                               \
	static struct form F_##name = { #name, op, kind, size, undef, emt_##name, emt_##name##_end };

/* The SDM's undefined flags, by instruction (Intel SDM vol. 2, each
 * instruction's "Flags Affected"). */
#define U_LOGIC FL_AF                           /* AND OR XOR TEST: AF undefined */
#define U_MUL SZAP                              /* MUL IMUL: SF ZF AF PF undefined */
#define U_BT (FL_OF | FL_SF | FL_AF | FL_PF)    /* BT*: only CF defined, ZF kept */
#define U_BSF (FL_CF | FL_OF | FL_SF | FL_AF | FL_PF) /* BSF BSR: only ZF defined */
#define U_TZCNT (FL_OF | FL_SF | FL_AF | FL_PF) /* TZCNT LZCNT: CF and ZF defined */

#define MOV_FORMS(X)                                                                         \
	X(mov_m8_r8, 0x88, GEN, 1, 0, "mov byte ptr [rbx], cl")                              \
	X(mov_m8_ah, 0x88, GEN, 1, 0, "mov byte ptr [rbx], ah")                              \
	X(mov_m8_sil, 0x88, GEN, 1, 0, "mov byte ptr [rbx], sil")                            \
	X(mov_m16_r16, 0x89, GEN, 2, 0, "mov word ptr [rbx], cx")                            \
	X(mov_m32_r32, 0x89, GEN, 4, 0, "mov dword ptr [rbx], ecx")                          \
	X(mov_m64_r64, 0x89, GEN, 8, 0, "mov qword ptr [rbx], rcx")                          \
	X(mov_m64_r9, 0x89, GEN, 8, 0, "mov qword ptr [rbx], r9")                            \
	X(mov_r8_m8, 0x8a, GEN, 1, 0, "mov cl, byte ptr [rbx]")                              \
	X(mov_ch_m8, 0x8a, GEN, 1, 0, "mov ch, byte ptr [rbx]")                              \
	X(mov_r10b_m8, 0x8a, GEN, 1, 0, "mov r10b, byte ptr [rbx]")                          \
	X(mov_r16_m16, 0x8b, GEN, 2, 0, "mov cx, word ptr [rbx]")                            \
	X(mov_r32_m32, 0x8b, GEN, 4, 0, "mov ecx, dword ptr [rbx]")                          \
	X(mov_r11d_m32, 0x8b, GEN, 4, 0, "mov r11d, dword ptr [rbx]")                        \
	X(mov_r64_m64, 0x8b, GEN, 8, 0, "mov rcx, qword ptr [rbx]")                          \
	X(mov_m8_i8, 0xc6, GEN, 1, 0, "mov byte ptr [rbx], 0x80")                            \
	X(mov_m16_i16, 0xc7, GEN, 2, 0, "mov word ptr [rbx], 0x8001")                        \
	X(mov_m32_i32, 0xc7, GEN, 4, 0, "mov dword ptr [rbx], 0x80000001")                   \
	X(mov_m64_i32_neg, 0xc7, GEN, 8, 0, "mov qword ptr [rbx], -2")                       \
	X(mov_m64_i32_pos, 0xc7, GEN, 8, 0, "mov qword ptr [rbx], 0x7fffffff")               \
	X(mov_r32_m32_sib, 0x8b, GEN, 4, 0, "mov ecx, dword ptr [rbx + rsi*4 - 0x10]")       \
	X(mov_r32_m32_r13, 0x8b, GEN, 4, 0, "mov ecx, dword ptr [r13 + 0x10]")               \
	X(mov_r64_m64_r12_r15, 0x8b, GEN, 8, 0, "mov rcx, qword ptr [r12 + r15*8 + 0x100]")  \
	X(mov_r32_m32_rip, 0x8b, GEN, 4, 0, "mov ecx, dword ptr [rip + emt_page + 0x800]")   \
	X(mov_m32_r32_rip, 0x89, GEN, 4, 0, "mov dword ptr [rip + emt_page + 0x7f0], ecx")   \
	X(movnti_m32_r32, 0x0fc3, GEN, 4, 0, "movnti dword ptr [rbx], ecx")                  \
	X(movnti_m64_r64, 0x0fc3, GEN, 8, 0, "movnti qword ptr [rbx], rcx")                  \
	X(movzx_r16_m8, 0x0fb6, GEN, 1, 0, "movzx cx, byte ptr [rbx]")                       \
	X(movzx_r32_m8, 0x0fb6, GEN, 1, 0, "movzx ecx, byte ptr [rbx]")                      \
	X(movzx_r64_m8, 0x0fb6, GEN, 1, 0, "movzx rcx, byte ptr [rbx]")                      \
	X(movzx_r32_m16, 0x0fb7, GEN, 2, 0, "movzx ecx, word ptr [rbx]")                     \
	X(movzx_r64_m16, 0x0fb7, GEN, 2, 0, "movzx rcx, word ptr [rbx]")                     \
	X(movsx_r16_m8, 0x0fbe, GEN, 1, 0, "movsx cx, byte ptr [rbx]")                       \
	X(movsx_r32_m8, 0x0fbe, GEN, 1, 0, "movsx ecx, byte ptr [rbx]")                      \
	X(movsx_r64_m8, 0x0fbe, GEN, 1, 0, "movsx rcx, byte ptr [rbx]")                      \
	X(movsx_r32_m16, 0x0fbf, GEN, 2, 0, "movsx ecx, word ptr [rbx]")                     \
	X(movsx_r64_m16, 0x0fbf, GEN, 2, 0, "movsx rcx, word ptr [rbx]")                     \
	X(movsxd_r64_m32, 0x63, GEN, 4, 0, "movsxd rcx, dword ptr [rbx]")

/* A0-A3 take a 64-bit moffs in 64-bit mode (8 bytes), or a 32-bit one with
 * 67; the assembler would pick other encodings, hence the bytes. */
#define LOW_FORMS(X)                                                                         \
	X(mov_al_moffs64, 0xa0, GEN | LOW, 1, 0, ".byte 0xa0; .quad " LOW_OP)                \
	X(mov_ax_moffs64, 0xa1, GEN | LOW, 2, 0, ".byte 0x66, 0xa1; .quad " LOW_OP)          \
	X(mov_eax_moffs64, 0xa1, GEN | LOW, 4, 0, ".byte 0xa1; .quad " LOW_OP)               \
	X(mov_rax_moffs64, 0xa1, GEN | LOW, 8, 0, ".byte 0x48, 0xa1; .quad " LOW_OP)         \
	X(mov_moffs64_al, 0xa2, GEN | LOW, 1, 0, ".byte 0xa2; .quad " LOW_OP)                \
	X(mov_moffs64_ax, 0xa3, GEN | LOW, 2, 0, ".byte 0x66, 0xa3; .quad " LOW_OP)          \
	X(mov_moffs64_eax, 0xa3, GEN | LOW, 4, 0, ".byte 0xa3; .quad " LOW_OP)               \
	X(mov_moffs64_rax, 0xa3, GEN | LOW, 8, 0, ".byte 0x48, 0xa3; .quad " LOW_OP)         \
	X(mov_eax_moffs32, 0xa1, GEN | LOW, 4, 0, ".byte 0x67, 0xa1; .long " LOW_OP)         \
	X(mov_rax_moffs32, 0xa1, GEN | LOW, 8, 0, ".byte 0x67, 0x48, 0xa1; .long " LOW_OP)   \
	X(mov_moffs32_al, 0xa2, GEN | LOW, 1, 0, ".byte 0x67, 0xa2; .long " LOW_OP)          \
	X(mov_r32_abs32, 0x8b, GEN | LOW, 4, 0, "mov ecx, dword ptr ds:" LOW_OP)             \
	X(mov_m32_r32_addr32, 0x89, GEN | LOW, 4, 0, "mov dword ptr [ebx], ecx")             \
	X(add_m32_r32_addr32, 0x01, GEN | LOW, 4, 0, "add dword ptr [ebx], ecx")             \
	X(mov_r32_m32_addr32_wrap, 0x8b, GEN | LOW, 4, 0, "mov ecx, dword ptr [ebx + esi]")  \
	X(movsb_a32, 0xa4, STRING | LOW, 1, 0, ".byte 0x67, 0xa4")                           \
	X(rep_movsd_a32, 0xa5, STRING | LOW, 4, 0, ".byte 0x67, 0xf3, 0xa5")                 \
	X(repe_cmpsb_a32, 0xa6, STRING | LOW, 1, 0, ".byte 0x67, 0xf3, 0xa6")                \
	X(rep_stosq_a32, 0xab, STRING | LOW, 8, 0, ".byte 0x67, 0xf3, 0x48, 0xab")           \
	X(lodsw_a32, 0xad, STRING | LOW, 2, 0, ".byte 0x67, 0x66, 0xad")                     \
	X(repne_scasb_a32, 0xae, STRING | LOW, 1, 0, ".byte 0x67, 0xf2, 0xae")

/* ADD OR ADC SBB AND SUB XOR CMP: r/m,r (base+0/1), r,r/m (base+2/3), and
 * the immediate groups 80 (ib), 81 (iw/id, not representable as a signed
 * byte, so the assembler keeps 81) and 83 (ib sign-extended). */
#define ALU(X, op, b, u)                                                                     \
	X(op##_m8_r8, (b) + 0, GEN, 1, u, #op " byte ptr [rbx], cl")                         \
	X(op##_m16_r16, (b) + 1, GEN, 2, u, #op " word ptr [rbx], cx")                       \
	X(op##_m32_r32, (b) + 1, GEN, 4, u, #op " dword ptr [rbx], ecx")                     \
	X(op##_m64_r64, (b) + 1, GEN, 8, u, #op " qword ptr [rbx], rcx")                     \
	X(op##_r8_m8, (b) + 2, GEN, 1, u, #op " cl, byte ptr [rbx]")                         \
	X(op##_r16_m16, (b) + 3, GEN, 2, u, #op " cx, word ptr [rbx]")                       \
	X(op##_r32_m32, (b) + 3, GEN, 4, u, #op " ecx, dword ptr [rbx]")                     \
	X(op##_r64_m64, (b) + 3, GEN, 8, u, #op " rcx, qword ptr [rbx]")                     \
	X(op##_m8_i8, 0x80, GEN, 1, u, #op " byte ptr [rbx], 0x80")                          \
	X(op##_m16_i16, 0x81, GEN, 2, u, #op " word ptr [rbx], 0x8001")                      \
	X(op##_m32_i32, 0x81, GEN, 4, u, #op " dword ptr [rbx], 0x80000001")                 \
	X(op##_m64_i32, 0x81, GEN, 8, u, #op " qword ptr [rbx], -0x7ffffff0")                \
	X(op##_m16_i8, 0x83, GEN, 2, u, #op " word ptr [rbx], -2")                           \
	X(op##_m32_i8, 0x83, GEN, 4, u, #op " dword ptr [rbx], 0x7f")                        \
	X(op##_m64_i8, 0x83, GEN, 8, u, #op " qword ptr [rbx], -0x80")
#define ALU_FORMS(X)                                                                         \
	ALU(X, add, 0x00, 0) ALU(X, or, 0x08, U_LOGIC) ALU(X, adc, 0x10, 0)                  \
	ALU(X, sbb, 0x18, 0) ALU(X, and, 0x20, U_LOGIC) ALU(X, sub, 0x28, 0)                 \
	ALU(X, xor, 0x30, U_LOGIC) ALU(X, cmp, 0x38, 0)                                      \
	X(add_m8_ah, 0x00, GEN, 1, 0, "add byte ptr [rbx], ah")                              \
	X(sub_dh_m8, 0x2a, GEN, 1, 0, "sub dh, byte ptr [rbx]")                              \
	X(adc_sil_m8, 0x12, GEN, 1, 0, "adc sil, byte ptr [rbx]")                            \
	X(or_r14_m64, 0x0b, GEN, 8, U_LOGIC, "or r14, qword ptr [rbx]")                      \
	X(xor_m32_r11d, 0x31, GEN, 4, U_LOGIC, "xor dword ptr [rbx], r11d")                  \
	X(cmp_r9w_m16, 0x3b, GEN, 2, 0, "cmp r9w, word ptr [rbx]")

/* One-operand groups: INC/DEC (FE/FF /0 /1; all flags defined, CF kept),
 * NOT (no flags), NEG, MUL/IMUL (F6/F7 /4 /5), DIV/IDIV (/6 /7). */
#define ONE(X, op, kind, u)                                                                  \
	X(op##_m8, 0, kind, 1, u, #op " byte ptr [rbx]")                                     \
	X(op##_m16, 0, kind, 2, u, #op " word ptr [rbx]")                                    \
	X(op##_m32, 0, kind, 4, u, #op " dword ptr [rbx]")                                   \
	X(op##_m64, 0, kind, 8, u, #op " qword ptr [rbx]")
/* The opcode of these differs between m8 and the rest: ONE leaves it 0
 * and run_form checks FE/FF or F6/F7 from the size. */
#define ONE_FORMS(X)                                                                         \
	ONE(X, inc, GEN, 0) ONE(X, dec, GEN, 0) ONE(X, not, GEN, 0) ONE(X, neg, GEN, 0)      \
	ONE(X, mul, GEN, U_MUL) ONE(X, imul, GEN, U_MUL)                                     \
	ONE(X, div, DIV, FL_ALL) ONE(X, idiv, DIV, FL_ALL) /* DIV/IDIV: all undefined */

#define MISC_FORMS(X)                                                                        \
	X(test_m8_r8, 0x84, GEN, 1, U_LOGIC, "test byte ptr [rbx], cl")                      \
	X(test_m16_r16, 0x85, GEN, 2, U_LOGIC, "test word ptr [rbx], cx")                    \
	X(test_m32_r32, 0x85, GEN, 4, U_LOGIC, "test dword ptr [rbx], ecx")                  \
	X(test_m64_r64, 0x85, GEN, 8, U_LOGIC, "test qword ptr [rbx], rcx")                  \
	X(test_m8_i8, 0xf6, GEN, 1, U_LOGIC, "test byte ptr [rbx], 0x81")                    \
	X(test_m16_i16, 0xf7, GEN, 2, U_LOGIC, "test word ptr [rbx], 0x8001")                \
	X(test_m32_i32, 0xf7, GEN, 4, U_LOGIC, "test dword ptr [rbx], 0x80000001")           \
	X(test_m64_i32, 0xf7, GEN, 8, U_LOGIC, "test qword ptr [rbx], -0x7ffffff0")          \
	X(xchg_m8_r8, 0x86, GEN, 1, 0, "xchg byte ptr [rbx], cl")                            \
	X(xchg_m8_ah, 0x86, GEN, 1, 0, "xchg byte ptr [rbx], ah")                            \
	X(xchg_m16_r16, 0x87, GEN, 2, 0, "xchg word ptr [rbx], cx")                          \
	X(xchg_m32_r32, 0x87, GEN, 4, 0, "xchg dword ptr [rbx], ecx")                        \
	X(xchg_m64_r64, 0x87, GEN, 8, 0, "xchg qword ptr [rbx], rcx")                        \
	X(imul_r16_m16, 0x0faf, GEN, 2, U_MUL, "imul cx, word ptr [rbx]")                    \
	X(imul_r32_m32, 0x0faf, GEN, 4, U_MUL, "imul ecx, dword ptr [rbx]")                  \
	X(imul_r64_m64, 0x0faf, GEN, 8, U_MUL, "imul rcx, qword ptr [rbx]")                  \
	X(imul_r16_m16_i16, 0x69, GEN, 2, U_MUL, "imul cx, word ptr [rbx], 0x1234")          \
	X(imul_r32_m32_i32, 0x69, GEN, 4, U_MUL, "imul ecx, dword ptr [rbx], 0x12345678")    \
	X(imul_r64_m64_i32, 0x69, GEN, 8, U_MUL, "imul rcx, qword ptr [rbx], -0x12345678")   \
	X(imul_r16_m16_i8, 0x6b, GEN, 2, U_MUL, "imul cx, word ptr [rbx], -3")               \
	X(imul_r32_m32_i8, 0x6b, GEN, 4, U_MUL, "imul ecx, dword ptr [rbx], 0x7f")           \
	X(imul_r64_m64_i8, 0x6b, GEN, 8, U_MUL, "imul rcx, qword ptr [rbx], -0x80")          \
	X(cmpxchg_m8_r8, 0x0fb0, GEN, 1, 0, "cmpxchg byte ptr [rbx], cl")                    \
	X(cmpxchg_m16_r16, 0x0fb1, GEN, 2, 0, "cmpxchg word ptr [rbx], cx")                  \
	X(cmpxchg_m32_r32, 0x0fb1, GEN, 4, 0, "cmpxchg dword ptr [rbx], ecx")                \
	X(cmpxchg_m64_r64, 0x0fb1, GEN, 8, 0, "cmpxchg qword ptr [rbx], rcx")                \
	X(xadd_m8_r8, 0x0fc0, GEN, 1, 0, "xadd byte ptr [rbx], cl")                          \
	X(xadd_m16_r16, 0x0fc1, GEN, 2, 0, "xadd word ptr [rbx], cx")                        \
	X(xadd_m32_r32, 0x0fc1, GEN, 4, 0, "xadd dword ptr [rbx], ecx")                      \
	X(xadd_m64_r64, 0x0fc1, GEN, 8, 0, "xadd qword ptr [rbx], rcx")                      \
	X(movbe_r16_m16, 0x38f0, GEN | NEED_MOVBE, 2, 0, "movbe cx, word ptr [rbx]")              \
	X(movbe_r32_m32, 0x38f0, GEN | NEED_MOVBE, 4, 0, "movbe ecx, dword ptr [rbx]")            \
	X(movbe_r64_m64, 0x38f0, GEN | NEED_MOVBE, 8, 0, "movbe rcx, qword ptr [rbx]")            \
	X(movbe_m16_r16, 0x38f1, GEN | NEED_MOVBE, 2, 0, "movbe word ptr [rbx], cx")              \
	X(movbe_m32_r32, 0x38f1, GEN | NEED_MOVBE, 4, 0, "movbe dword ptr [rbx], ecx")            \
	X(movbe_m64_r64, 0x38f1, GEN | NEED_MOVBE, 8, 0, "movbe qword ptr [rbx], rcx")            \
	X(bsf_r16_m16, 0x0fbc, BITSCAN, 2, U_BSF, "bsf cx, word ptr [rbx]")                  \
	X(bsf_r32_m32, 0x0fbc, BITSCAN, 4, U_BSF, "bsf ecx, dword ptr [rbx]")                \
	X(bsf_r64_m64, 0x0fbc, BITSCAN, 8, U_BSF, "bsf rcx, qword ptr [rbx]")                \
	X(bsr_r16_m16, 0x0fbd, BITSCAN, 2, U_BSF, "bsr cx, word ptr [rbx]")                  \
	X(bsr_r32_m32, 0x0fbd, BITSCAN, 4, U_BSF, "bsr ecx, dword ptr [rbx]")                \
	X(bsr_r64_m64, 0x0fbd, BITSCAN, 8, U_BSF, "bsr rcx, qword ptr [rbx]")

/* Shifts and rotates, /0../7 of C0 C1 D0-D3 (/6 is the undocumented alias
 * of SHL, "sal6"; the assembler has no spelling for it).  _1: D0/D1,
 * count 1; _cl: D2/D3; _iN: C0/C1 with imm8 N (i1 is not D1; i33 is
 * masked to 1 for 8/16/32-bit operands).  ModRM m = /r with [rbx]. */
#define SHIFT(X, op, m)                                                                      \
	X(op##_m8_1, 0xd0, SHIFT, 1, 0, ".byte 0xd0, " #m)                                   \
	X(op##_m8_cl, 0xd2, SHIFT, 1, 0, ".byte 0xd2, " #m)                                  \
	X(op##_m8_i1, 0xc0, SHIFT, 1, 0, ".byte 0xc0, " #m ", 1")                            \
	X(op##_m8_i5, 0xc0, SHIFT, 1, 0, ".byte 0xc0, " #m ", 5")                            \
	X(op##_m8_i33, 0xc0, SHIFT, 1, 0, ".byte 0xc0, " #m ", 33")                          \
	X(op##_m16_1, 0xd1, SHIFT, 2, 0, ".byte 0x66, 0xd1, " #m)                            \
	X(op##_m16_cl, 0xd3, SHIFT, 2, 0, ".byte 0x66, 0xd3, " #m)                           \
	X(op##_m16_i1, 0xc1, SHIFT, 2, 0, ".byte 0x66, 0xc1, " #m ", 1")                     \
	X(op##_m16_i5, 0xc1, SHIFT, 2, 0, ".byte 0x66, 0xc1, " #m ", 5")                     \
	X(op##_m16_i33, 0xc1, SHIFT, 2, 0, ".byte 0x66, 0xc1, " #m ", 33")                   \
	X(op##_m32_1, 0xd1, SHIFT, 4, 0, ".byte 0xd1, " #m)                                  \
	X(op##_m32_cl, 0xd3, SHIFT, 4, 0, ".byte 0xd3, " #m)                                 \
	X(op##_m32_i1, 0xc1, SHIFT, 4, 0, ".byte 0xc1, " #m ", 1")                           \
	X(op##_m32_i5, 0xc1, SHIFT, 4, 0, ".byte 0xc1, " #m ", 5")                           \
	X(op##_m32_i33, 0xc1, SHIFT, 4, 0, ".byte 0xc1, " #m ", 33")                         \
	X(op##_m64_1, 0xd1, SHIFT, 8, 0, ".byte 0x48, 0xd1, " #m)                            \
	X(op##_m64_cl, 0xd3, SHIFT, 8, 0, ".byte 0x48, 0xd3, " #m)                           \
	X(op##_m64_i1, 0xc1, SHIFT, 8, 0, ".byte 0x48, 0xc1, " #m ", 1")                     \
	X(op##_m64_i5, 0xc1, SHIFT, 8, 0, ".byte 0x48, 0xc1, " #m ", 5")                     \
	X(op##_m64_i33, 0xc1, SHIFT, 8, 0, ".byte 0x48, 0xc1, " #m ", 33")
#define SHIFT_FORMS(X)                                                                       \
	SHIFT(X, rol, 0x03) SHIFT(X, ror, 0x0b) SHIFT(X, rcl, 0x13) SHIFT(X, rcr, 0x1b)      \
	SHIFT(X, shl, 0x23) SHIFT(X, shr, 0x2b) SHIFT(X, sal6, 0x33) SHIFT(X, sar, 0x3b)

#define SHXD(X, op, o)                                                                       \
	X(op##_m16_r16_i1, (o), SHXD, 2, 0, #op " word ptr [rbx], dx, 1")                    \
	X(op##_m16_r16_i7, (o), SHXD, 2, 0, #op " word ptr [rbx], dx, 7")                    \
	X(op##_m16_r16_i33, (o), SHXD, 2, 0, #op " word ptr [rbx], dx, 33")                  \
	X(op##_m16_r16_cl, (o) + 1, SHXD, 2, 0, #op " word ptr [rbx], dx, cl")               \
	X(op##_m32_r32_i1, (o), SHXD, 4, 0, #op " dword ptr [rbx], edx, 1")                  \
	X(op##_m32_r32_i7, (o), SHXD, 4, 0, #op " dword ptr [rbx], edx, 7")                  \
	X(op##_m32_r32_i33, (o), SHXD, 4, 0, #op " dword ptr [rbx], edx, 33")                \
	X(op##_m32_r32_cl, (o) + 1, SHXD, 4, 0, #op " dword ptr [rbx], edx, cl")             \
	X(op##_m64_r64_i1, (o), SHXD, 8, 0, #op " qword ptr [rbx], rdx, 1")                  \
	X(op##_m64_r64_i7, (o), SHXD, 8, 0, #op " qword ptr [rbx], rdx, 7")                  \
	X(op##_m64_r64_i33, (o), SHXD, 8, 0, #op " qword ptr [rbx], rdx, 33")                \
	X(op##_m64_r64_cl, (o) + 1, SHXD, 8, 0, #op " qword ptr [rbx], rdx, cl")

/* BT BTS BTR BTC: register offset (0F A3 AB B3 BB) and imm8 (0F BA /4-7;
 * the immediate is taken modulo the operand size, so 100 is bit 4/4/36). */
#define BT(X, op, o)                                                                         \
	X(op##_m16_r16, (o), BTREG, 2, U_BT, #op " word ptr [rbx], cx")                      \
	X(op##_m32_r32, (o), BTREG, 4, U_BT, #op " dword ptr [rbx], ecx")                    \
	X(op##_m64_r64, (o), BTREG, 8, U_BT, #op " qword ptr [rbx], rcx")                    \
	X(op##_m16_i8_5, 0x0fba, GEN, 2, U_BT, #op " word ptr [rbx], 5")                     \
	X(op##_m16_i8_100, 0x0fba, GEN, 2, U_BT, #op " word ptr [rbx], 100")                 \
	X(op##_m32_i8_31, 0x0fba, GEN, 4, U_BT, #op " dword ptr [rbx], 31")                  \
	X(op##_m32_i8_100, 0x0fba, GEN, 4, U_BT, #op " dword ptr [rbx], 100")                \
	X(op##_m64_i8_63, 0x0fba, GEN, 8, U_BT, #op " qword ptr [rbx], 63")                  \
	X(op##_m64_i8_100, 0x0fba, GEN, 8, U_BT, #op " qword ptr [rbx], 100")
#define BIT_FORMS(X)                                                                         \
	SHXD(X, shld, 0x0fa4) SHXD(X, shrd, 0x0fac)                                          \
	BT(X, bt, 0x0fa3) BT(X, bts, 0x0fab) BT(X, btr, 0x0fb3) BT(X, btc, 0x0fbb)

/* CMOVcc r, m (no flags) and SETcc m8, for the 16 conditions. */
#define CMOV(X, cc, n)                                                                       \
	X(cmov##cc##_r16_m16, 0x0f40 + (n), CC, 2, 0, "cmov" #cc " cx, word ptr [rbx]")      \
	X(cmov##cc##_r32_m32, 0x0f40 + (n), CC, 4, 0, "cmov" #cc " ecx, dword ptr [rbx]")    \
	X(cmov##cc##_r64_m64, 0x0f40 + (n), CC, 8, 0, "cmov" #cc " rcx, qword ptr [rbx]")    \
	X(set##cc##_m8, 0x0f90 + (n), CC, 1, 0, "set" #cc " byte ptr [rbx]")
#define CC_FORMS(X)                                                                          \
	CMOV(X, o, 0) CMOV(X, no, 1) CMOV(X, b, 2) CMOV(X, ae, 3)                            \
	CMOV(X, e, 4) CMOV(X, ne, 5) CMOV(X, be, 6) CMOV(X, a, 7)                            \
	CMOV(X, s, 8) CMOV(X, ns, 9) CMOV(X, p, 10) CMOV(X, np, 11)                          \
	CMOV(X, l, 12) CMOV(X, ge, 13) CMOV(X, le, 14) CMOV(X, g, 15)

/* The stack forms, RSP in emt_stack: PUSH/POP r/m (FF /6, 8F /0; with RSP
 * as base PUSH computes the address before the decrement, POP after the
 * increment, SDM "POP"), PUSH/POP r, PUSH imm, and the branches through
 * memory and the stack, which land on emt_back. */
#define STACK_FORMS(X)                                                                       \
	X(push_m64, 0xff, GEN, 8, 0, "push qword ptr [rbx]")                                 \
	X(push_m16, 0xff, GEN, 2, 0, "push word ptr [rbx]")                                  \
	X(pop_m64, 0x8f, GEN, 8, 0, "pop qword ptr [rbx]")                                   \
	X(pop_m16, 0x8f, GEN, 2, 0, "pop word ptr [rbx]")                                    \
	X(push_m64_rsp, 0xff, GEN, 8, 0, "push qword ptr [rsp]")                             \
	X(push_m64_rsp8, 0xff, GEN, 8, 0, "push qword ptr [rsp + 8]")                        \
	X(pop_m64_rsp, 0x8f, GEN, 8, 0, "pop qword ptr [rsp]")                               \
	X(pop_m64_rsp8, 0x8f, GEN, 8, 0, "pop qword ptr [rsp + 8]")                          \
	X(pop_m64_rsp_minus8, 0x8f, GEN, 8, 0, "pop qword ptr [rsp - 8]")                    \
	X(push_r64, 0x51, GEN, 8, 0, "push rcx")                                             \
	X(push_r15, 0x57, GEN, 8, 0, "push r15")                                             \
	X(push_rsp, 0x54, GEN, 8, 0, "push rsp")                                             \
	X(push_r16, 0x51, GEN, 2, 0, "push cx")                                              \
	X(push_i8, 0x6a, GEN, 8, 0, "push -2")                                               \
	X(push_i32, 0x68, GEN, 8, 0, "push -0x12345678")                                     \
	X(pop_r64, 0x59, GEN, 8, 0, "pop rcx")                                               \
	X(pop_r15, 0x5f, GEN, 8, 0, "pop r15")                                               \
	X(pop_rsp, 0x5c, GEN, 8, 0, "pop rsp")                                               \
	X(pop_r16, 0x59, GEN, 2, 0, "pop cx")                                                \
	X(jmp_m64, 0xff, BRANCH, 8, 0, "jmp qword ptr [rbx]")                                \
	X(call_m64, 0xff, BRANCH, 8, 0, "call qword ptr [rbx]")                              \
	X(ret, 0xc3, BRANCH, 8, 0, "ret")                                                    \
	X(ret_i16, 0xc2, BRANCH, 8, 0, "ret 0x10")

/* The rest of the header's scope the host can run: MOV m16, Sreg (the
 * selectors the emulator is given are the host's), PUSH FS/GS, CALL rel32,
 * ENTER/LEAVE (RBP in emt_stack), TZCNT/LZCNT. */
#define SYS_FORMS(X)                                                                         \
	X(mov_m16_es, 0x8c, GEN, 2, 0, "mov word ptr [rbx], es")                             \
	X(mov_m16_cs, 0x8c, GEN, 2, 0, "mov word ptr [rbx], cs")                             \
	X(mov_m16_ss, 0x8c, GEN, 2, 0, "mov word ptr [rbx], ss")                             \
	X(mov_m16_ds, 0x8c, GEN, 2, 0, "mov word ptr [rbx], ds")                             \
	X(mov_m16_fs, 0x8c, GEN, 2, 0, "mov word ptr [rbx], fs")                             \
	X(mov_m16_gs, 0x8c, GEN, 2, 0, "mov word ptr [rbx], gs")                             \
	X(push_fs, 0x0fa0, GEN, 8, 0, "push fs")                                             \
	X(push_gs, 0x0fa8, GEN, 8, 0, "push gs")                                             \
	X(call_rel32, 0xe8, BRANCH, 8, 0, "call emt_back")                                   \
	X(leave, 0xc9, GEN, 8, 0, "leave")                                                   \
	X(enter_16_0, 0xc8, GEN, 8, 0, "enter 0x10, 0")                                      \
	X(enter_8_1, 0xc8, GEN, 8, 0, "enter 8, 1")                                          \
	X(enter_8_3, 0xc8, GEN, 8, 0, "enter 8, 3")                                          \
	X(tzcnt_r16_m16, 0x0fbc, GEN | NEED_BMI1, 2, U_TZCNT, "tzcnt cx, word ptr [rbx]")    \
	X(tzcnt_r32_m32, 0x0fbc, GEN | NEED_BMI1, 4, U_TZCNT, "tzcnt ecx, dword ptr [rbx]")  \
	X(tzcnt_r64_m64, 0x0fbc, GEN | NEED_BMI1, 8, U_TZCNT, "tzcnt rcx, qword ptr [rbx]")  \
	X(lzcnt_r16_m16, 0x0fbd, GEN | NEED_LZCNT, 2, U_TZCNT, "lzcnt cx, word ptr [rbx]")   \
	X(lzcnt_r32_m32, 0x0fbd, GEN | NEED_LZCNT, 4, U_TZCNT, "lzcnt ecx, dword ptr [rbx]") \
	X(lzcnt_r64_m64, 0x0fbd, GEN | NEED_LZCNT, 8, U_TZCNT, "lzcnt rcx, qword ptr [rbx]")

#define STRINGS(X, s, n, w)                                                                  \
	X(movs##s, 0xa4 + (w), STRING, n, 0, "movs" #s)                                      \
	X(rep_movs##s, 0xa4 + (w), STRING, n, 0, "rep movs" #s)                              \
	X(cmps##s, 0xa6 + (w), STRING, n, 0, "cmps" #s)                                      \
	X(repe_cmps##s, 0xa6 + (w), STRING, n, 0, "repe cmps" #s)                            \
	X(repne_cmps##s, 0xa6 + (w), STRING, n, 0, "repne cmps" #s)                          \
	X(stos##s, 0xaa + (w), STRING, n, 0, "stos" #s)                                      \
	X(rep_stos##s, 0xaa + (w), STRING, n, 0, "rep stos" #s)                              \
	X(lods##s, 0xac + (w), STRING, n, 0, "lods" #s)                                      \
	X(rep_lods##s, 0xac + (w), STRING, n, 0, "rep lods" #s)                              \
	X(scas##s, 0xae + (w), STRING, n, 0, "scas" #s)                                      \
	X(repe_scas##s, 0xae + (w), STRING, n, 0, "repe scas" #s)                            \
	X(repne_scas##s, 0xae + (w), STRING, n, 0, "repne scas" #s)
#define STRING_FORMS(X)                                                                      \
	STRINGS(X, b, 1, 0) STRINGS(X, w, 2, 1) STRINGS(X, d, 4, 1) STRINGS(X, q, 8, 1)

/* SSE moves between XMM registers and memory; MOVQ/MOVD load zero the
 * rest of the register.  The _rexw forms are 66 REX.W 0F 6E/7E. */
#define SSE_FORMS(X)                                                                         \
	X(movups_xmm0_m128, 0x0f10, SSE_U, 16, 0, "movups xmm0, xmmword ptr [rbx]")          \
	X(movups_m128_xmm1, 0x0f11, SSE_U, 16, 0, "movups xmmword ptr [rbx], xmm1")          \
	X(movaps_xmm0_m128, 0x0f28, SSE_A, 16, 0, "movaps xmm0, xmmword ptr [rbx]")          \
	X(movaps_m128_xmm1, 0x0f29, SSE_A, 16, 0, "movaps xmmword ptr [rbx], xmm1")          \
	X(movdqu_xmm0_m128, 0x0f6f, SSE_U, 16, 0, "movdqu xmm0, xmmword ptr [rbx]")          \
	X(movdqu_m128_xmm1, 0x0f7f, SSE_U, 16, 0, "movdqu xmmword ptr [rbx], xmm1")          \
	X(movdqu_xmm9_m128, 0x0f6f, SSE_U, 16, 0, "movdqu xmm9, xmmword ptr [rbx]")          \
	X(movdqa_xmm0_m128, 0x0f6f, SSE_A, 16, 0, "movdqa xmm0, xmmword ptr [rbx]")          \
	X(movdqa_m128_xmm1, 0x0f7f, SSE_A, 16, 0, "movdqa xmmword ptr [rbx], xmm1")          \
	X(movdqa_m128_xmm12, 0x0f7f, SSE_A, 16, 0, "movdqa xmmword ptr [rbx], xmm12")        \
	X(movq_xmm0_m64, 0x0f7e, SSE_U, 8, 0, "movq xmm0, qword ptr [rbx]")                  \
	X(movq_m64_xmm1, 0x0fd6, SSE_U, 8, 0, "movq qword ptr [rbx], xmm1")                  \
	X(movq_xmm0_m64_rexw, 0x0f6e, SSE_U, 8, 0, ".byte 0x66, 0x48, 0x0f, 0x6e, 0x03")     \
	X(movq_m64_xmm1_rexw, 0x0f7e, SSE_U, 8, 0, ".byte 0x66, 0x48, 0x0f, 0x7e, 0x0b")     \
	X(movd_xmm0_m32, 0x0f6e, SSE_U, 4, 0, "movd xmm0, dword ptr [rbx]")                  \
	X(movd_m32_xmm1, 0x0f7e, SSE_U, 4, 0, "movd dword ptr [rbx], xmm1")                  \
	SSE_KIN_FORMS(X) MMX_FORMS(X)

/* "And kin" (the header): the other SSE moves to and from memory.  MOVSS
 * and MOVSD loads zero the rest of the register, MOVLPS/MOVHPS keep it;
 * the non-temporal stores require alignment. */
#define SSE_KIN_FORMS(X)                                                                     \
	X(movupd_xmm0_m128, 0x0f10, SSE_U, 16, 0, "movupd xmm0, xmmword ptr [rbx]")          \
	X(movupd_m128_xmm1, 0x0f11, SSE_U, 16, 0, "movupd xmmword ptr [rbx], xmm1")          \
	X(movapd_xmm0_m128, 0x0f28, SSE_A, 16, 0, "movapd xmm0, xmmword ptr [rbx]")          \
	X(movapd_m128_xmm1, 0x0f29, SSE_A, 16, 0, "movapd xmmword ptr [rbx], xmm1")          \
	X(movss_xmm0_m32, 0x0f10, SSE_U, 4, 0, "movss xmm0, dword ptr [rbx]")                \
	X(movss_m32_xmm1, 0x0f11, SSE_U, 4, 0, "movss dword ptr [rbx], xmm1")                \
	X(movsd_xmm0_m64, 0x0f10, SSE_U, 8, 0, "movsd xmm0, qword ptr [rbx]")                \
	X(movsd_m64_xmm1, 0x0f11, SSE_U, 8, 0, "movsd qword ptr [rbx], xmm1")                \
	X(movlps_xmm0_m64, 0x0f12, SSE_U, 8, 0, "movlps xmm0, qword ptr [rbx]")              \
	X(movlps_m64_xmm1, 0x0f13, SSE_U, 8, 0, "movlps qword ptr [rbx], xmm1")              \
	X(movhps_xmm0_m64, 0x0f16, SSE_U, 8, 0, "movhps xmm0, qword ptr [rbx]")              \
	X(movhps_m64_xmm1, 0x0f17, SSE_U, 8, 0, "movhps qword ptr [rbx], xmm1")              \
	X(movlpd_xmm0_m64, 0x0f12, SSE_U, 8, 0, "movlpd xmm0, qword ptr [rbx]")              \
	X(movhpd_m64_xmm1, 0x0f17, SSE_U, 8, 0, "movhpd qword ptr [rbx], xmm1")              \
	X(movntps_m128_xmm1, 0x0f2b, SSE_A, 16, 0, "movntps xmmword ptr [rbx], xmm1")        \
	X(movntpd_m128_xmm1, 0x0f2b, SSE_A, 16, 0, "movntpd xmmword ptr [rbx], xmm1")        \
	X(movntdq_m128_xmm1, 0x0fe7, SSE_A, 16, 0, "movntdq xmmword ptr [rbx], xmm1")

/* The MMX moves (0F 6E 6F 7E 7F E7 without 66). */
#define MMX_FORMS(X)                                                                         \
	X(movq_mm0_m64, 0x0f6f, SSE_U, 8, 0, "movq mm0, qword ptr [rbx]")                    \
	X(movq_m64_mm1, 0x0f7f, SSE_U, 8, 0, "movq qword ptr [rbx], mm1")                    \
	X(movd_mm0_m32, 0x0f6e, SSE_U, 4, 0, "movd mm0, dword ptr [rbx]")                    \
	X(movd_m32_mm1, 0x0f7e, SSE_U, 4, 0, "movd dword ptr [rbx], mm1")                    \
	X(movq_mm0_m64_rexw, 0x0f6e, SSE_U, 8, 0, ".byte 0x48, 0x0f, 0x6e, 0x03")            \
	X(movq_m64_mm1_rexw, 0x0f7e, SSE_U, 8, 0, ".byte 0x48, 0x0f, 0x7e, 0x0b")            \
	X(movntq_m64_mm1, 0x0fe7, SSE_U, 8, 0, "movntq qword ptr [rbx], mm1")

/* LOCK on the forms that allow it (SDM "LOCK"): run natively, the same
 * result as without. */
#define LOCK_FORMS(X)                                                                        \
	X(lock_add_m32_r32, 0x01, GEN, 4, 0, "lock add dword ptr [rbx], ecx")                \
	X(lock_or_m8_r8, 0x08, GEN, 1, U_LOGIC, "lock or byte ptr [rbx], cl")                \
	X(lock_adc_m16_r16, 0x11, GEN, 2, 0, "lock adc word ptr [rbx], cx")                  \
	X(lock_sbb_m64_r64, 0x19, GEN, 8, 0, "lock sbb qword ptr [rbx], rcx")                \
	X(lock_and_m32_i8, 0x83, GEN, 4, U_LOGIC, "lock and dword ptr [rbx], -0x10")         \
	X(lock_sub_m32_i32, 0x81, GEN, 4, 0, "lock sub dword ptr [rbx], 0x12345678")         \
	X(lock_xor_m64_r64, 0x31, GEN, 8, U_LOGIC, "lock xor qword ptr [rbx], rcx")          \
	X(lock_inc_m32, 0xff, GEN, 4, 0, "lock inc dword ptr [rbx]")                         \
	X(lock_dec_m8, 0xfe, GEN, 1, 0, "lock dec byte ptr [rbx]")                           \
	X(lock_not_m16, 0xf7, GEN, 2, 0, "lock not word ptr [rbx]")                          \
	X(lock_neg_m64, 0xf7, GEN, 8, 0, "lock neg qword ptr [rbx]")                         \
	X(lock_xchg_m32_r32, 0x87, GEN, 4, 0, "lock xchg dword ptr [rbx], ecx")              \
	X(lock_xadd_m32_r32, 0x0fc1, GEN, 4, 0, "lock xadd dword ptr [rbx], ecx")            \
	X(lock_cmpxchg_m8_r8, 0x0fb0, GEN, 1, 0, "lock cmpxchg byte ptr [rbx], cl")          \
	X(lock_cmpxchg_m64_r64, 0x0fb1, GEN, 8, 0, "lock cmpxchg qword ptr [rbx], rcx")      \
	X(lock_bts_m32_r32, 0x0fab, BTREG, 4, U_BT, "lock bts dword ptr [rbx], ecx")         \
	X(lock_btr_m64_i8, 0x0fba, GEN, 8, U_BT, "lock btr qword ptr [rbx], 40")             \
	X(lock_btc_m16_r16, 0x0fbb, BTREG, 2, U_BT, "lock btc word ptr [rbx], cx")

#define ALL_FORMS(X)                                                                         \
	MOV_FORMS(X) LOW_FORMS(X) ALU_FORMS(X) ONE_FORMS(X) MISC_FORMS(X) SHIFT_FORMS(X)     \
	BIT_FORMS(X) CC_FORMS(X) STACK_FORMS(X) SYS_FORMS(X) STRING_FORMS(X) SSE_FORMS(X)    \
	LOCK_FORMS(X)

ALL_FORMS(EMIT)
/* For the harness's own check. */
EMIT(harness_nop, 0x90, GEN, 0, 0, "nop")

/* ---- The emulator's side: memory, XMM, MMX -------------------------------- */

struct region {
	uint64_t base;        /* the address the instructions use */
	uint8_t *native;      /* the CPU's bytes; NULL when not mapped */
	uint8_t init[PAGE];   /* before the instruction */
	uint8_t shadow[PAGE]; /* the emulator's */
};
enum { R_PAGE, R_STACK, R_LOW, N_REGIONS };
static struct region regions[N_REGIONS];

struct access {
	bool write;
	int seg;
	uint64_t off;
	unsigned len, flags;
};

static struct {
	struct access log[64];
	unsigned n;     /* accesses so far, also past the log's end */
	int fault_at;   /* this access (index) returns -1; -1: none */
	bool faulted;
	char error[200]; /* the first thing the callbacks found wrong */
} mem;

static uint8_t emu_xmm[16][16];
static uint8_t emu_mm[8][8];
static uint16_t host_sel[6]; /* ES CS SS DS FS GS, read in group_setup */

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	if (mem.error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(mem.error, sizeof(mem.error), fmt, ap);
	va_end(ap);
}

static uint8_t *shadow_at(uint64_t off, unsigned len)
{
	for (unsigned r = 0; r < N_REGIONS; r++) {
		struct region *g = &regions[r];

		if (g->native && off >= g->base && off - g->base <= PAGE - len)
			return g->shadow + (off - g->base);
	}
	return NULL;
}

static int mem_access(bool write, int seg, uint64_t off, void *buf, unsigned len, unsigned flags)
{
	unsigned k = mem.n++;
	uint8_t *p;

	if (k < N_ELEMS(mem.log))
		mem.log[k] = (struct access){ write, seg, off, len, flags };
	if (mem.faulted)
		note("access %u after the one that faulted", k);
	if ((int)k == mem.fault_at) {
		mem.faulted = true;
		return -1;
	}
	if (len < 1 || len > 16 || seg < 0 || seg > 5 || (flags & ~(X86_EMU_WRITE | X86_EMU_STACK))) {
		note("bad callback arguments: seg %d len %u flags %#x", seg, len, flags);
		return -1;
	}
	p = shadow_at(off, len);
	if (!p) {
		note("%s of %u bytes at seg %d offset %#llx: outside the test's memory",
		     write ? "write" : "read", len, seg, (unsigned long long)off);
		return -1;
	}
	if (write)
		memcpy(p, buf, len);
	else
		memcpy(buf, p, len);
	return 0;
}

static int cb_read(void *opaque, int seg, uint64_t off, void *buf, unsigned len, unsigned flags)
{
	(void)opaque;
	return mem_access(false, seg, off, buf, len, flags);
}

static int cb_write(void *opaque, int seg, uint64_t off, const void *buf, unsigned len, unsigned flags)
{
	uint8_t tmp[16];

	(void)opaque;
	memcpy(tmp, buf, len <= 16 ? len : 16);
	return mem_access(true, seg, off, tmp, len, flags);
}

static void cb_get_xmm(void *opaque, unsigned reg, uint8_t v[16])
{
	(void)opaque;
	if (reg >= 16) {
		note("get_xmm(%u)", reg);
		return;
	}
	memcpy(v, emu_xmm[reg], 16);
}

static void cb_set_xmm(void *opaque, unsigned reg, const uint8_t v[16])
{
	(void)opaque;
	if (reg >= 16) {
		note("set_xmm(%u)", reg);
		return;
	}
	memcpy(emu_xmm[reg], v, 16);
}

static void cb_get_mmx(void *opaque, unsigned reg, uint8_t v[8])
{
	(void)opaque;
	if (reg >= 8) {
		note("get_mmx(%u)", reg);
		return;
	}
	memcpy(v, emu_mm[reg], 8);
}

static void cb_set_mmx(void *opaque, unsigned reg, const uint8_t v[8])
{
	(void)opaque;
	if (reg >= 8) {
		note("set_mmx(%u)", reg);
		return;
	}
	memcpy(emu_mm[reg], v, 8);
}

/* The native pages as they are now become the starting point of both sides. */
static void snapshot(void)
{
	for (unsigned r = 0; r < N_REGIONS; r++)
		if (regions[r].native)
			memcpy(regions[r].init, regions[r].native, PAGE);
}

static void mem_reset(void)
{
	for (unsigned r = 0; r < N_REGIONS; r++)
		if (regions[r].native)
			memcpy(regions[r].shadow, regions[r].init, PAGE);
	mem.n = 0;
	mem.fault_at = -1;
	mem.faulted = false;
	mem.error[0] = 0;
}

static bool host_has(unsigned need);

/* The host CPU's vendor: the emulator gives that vendor's result where
 * Intel's and AMD's differ. */
static bool host_is_intel(void)
{
	unsigned a, b, c, d;

	__cpuid(0, a, b, c, d);
	return b == 0x756e6547u; /* "Genu" */
}

static void emu_init(struct x86_emu *e, const struct cpu *st, uint64_t rip, uint32_t chunk)
{
	*e = (struct x86_emu){
		.rip = rip,
		.rflags = st->rflags,
		.read = cb_read,
		.write = cb_write,
		.get_xmm = cb_get_xmm,
		.set_xmm = cb_set_xmm,
		.get_mmx = cb_get_mmx,
		.set_mmx = cb_set_mmx,
		.opaque = &mem,
		.rep_chunk = chunk,
		.tzcnt = host_has(NEED_BMI1),
		.lzcnt = host_has(NEED_LZCNT),
		.intel = host_is_intel(),
	};
	memcpy(e->gpr, st->gpr, sizeof(e->gpr));
	memcpy(e->sel, host_sel, sizeof(e->sel));
	memcpy(emu_xmm, st->xmm, sizeof(emu_xmm));
	memcpy(emu_mm, st->mm, sizeof(emu_mm));
}

static const char *result_name(enum x86_emu_result r)
{
	switch (r) {
	case X86_EMU_OK: return "OK";
	case X86_EMU_MORE: return "MORE";
	case X86_EMU_FAULT: return "FAULT";
	case X86_EMU_EXCEPTION: return "EXCEPTION";
	case X86_EMU_UNHANDLED: return "UNHANDLED";
	}
	return "(not a result)";
}

/* ---- Values --------------------------------------------------------------- */

static const uint64_t interesting[] = {
	0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
	0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull,
};
#define N_VALS N_ELEMS(interesting)
#define N_PAIRS (N_VALS * N_VALS)

/* One form's running state. */
struct ctx {
	const struct form *f;
	struct x86_insn insn;
	uint64_t rng;
	unsigned i;          /* the case */
	uint64_t op_addr;    /* where the memory operand was put */
	uint64_t mem_in;     /* and its value (low 8 bytes) */
	unsigned n_de_zero, n_de_ovf, n_ok; /* DIV: the kinds of case seen */
	unsigned n_true, n_false;           /* CC: conditions seen */
};

static uint64_t rnd(struct ctx *c)
{
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t mask_of(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* A pseudo-random value shaped like the ones that find bugs: boundaries,
 * small numbers, sign-extended narrow ones, powers of two and neighbours. */
static uint64_t pick(struct ctx *c)
{
	uint64_t r = rnd(c), v = rnd(c);
	unsigned s = (unsigned)(r >> 8) % 64;

	switch (r % 5) {
	case 0: return interesting[(r >> 16) % N_VALS];
	case 1: return v;
	case 2: return v & 0xff;
	case 3: return (uint64_t)((int64_t)(v << s) >> s);
	default: return (1ull << s) + (r >> 20) % 3 - 1;
	}
}

/* The value of operand k (0: memory, 1: rCX): first every pair from the
 * table (twice: CF 0 then 1), then pick().  The register keeps random bits
 * above the operand size, so that their preservation (8/16-bit) and
 * clearing (32-bit destinations) are checked too. */
static uint64_t value(struct ctx *c, unsigned k)
{
	unsigned p = c->i % N_PAIRS;
	uint64_t v, m = mask_of(c->f->size);

	if (c->i >= 2 * N_PAIRS || k > 1)
		return pick(c);
	v = interesting[k == 0 ? p % N_VALS : p / N_VALS];
	return k == 0 ? v : (v & m) | (rnd(c) & ~m);
}

static void put(uint64_t addr, unsigned len, uint64_t v)
{
	memcpy((void *)(uintptr_t)addr, &v, len);
}

static void fill_random(struct ctx *c, uint8_t *p, size_t n)
{
	for (size_t k = 0; k < n; k += 8) {
		uint64_t v = rnd(c);
		memcpy(p + k, &v, n - k < 8 ? n - k : 8);
	}
}

/* ---- Comparison ----------------------------------------------------------- */

static const char *describe(const struct ctx *c, const struct cpu *in)
{
	static char buf[256];

	snprintf(buf, sizeof(buf),
		 "case %u: mem %#llx rax %#llx rcx %#llx rdx %#llx rsi %#llx rdi %#llx rflags %#llx",
		 c->i, (unsigned long long)c->mem_in, (unsigned long long)in->gpr[RAX],
		 (unsigned long long)in->gpr[RCX], (unsigned long long)in->gpr[RDX],
		 (unsigned long long)in->gpr[RSI], (unsigned long long)in->gpr[RDI],
		 (unsigned long long)in->rflags);
	return buf;
}

static void compare_memory(const struct ctx *c, const struct cpu *in)
{
	static const char *const what[N_REGIONS] = { "page", "stack", "low page" };

	for (unsigned r = 0; r < N_REGIONS; r++) {
		const struct region *g = &regions[r];

		if (!g->native)
			continue;
		for (unsigned k = 0; k < PAGE; k++)
			if (g->shadow[k] != g->native[k])
				fail_msg("%s (%s): %s byte %#x is %#x, CPU %#x (was %#x)", c->f->name,
					 describe(c, in), what[r], k, g->shadow[k], g->native[k], g->init[k]);
	}
}

struct expect {
	uint16_t undef;    /* arithmetic flags not compared */
	uint16_t skip_gpr; /* GPRs not compared */
	uint64_t rip;      /* where the instruction leaves RIP */
	int exc;           /* -1, or the vector the emulator must raise (CPU not run) */
	bool chunked;      /* also run with rep_chunk 3 */
	bool skip;         /* an undefined result: no case */
};

static void compare(const struct ctx *c, const struct cpu *in, const struct cpu *cpu,
		    const struct x86_emu *e, const struct expect *x)
{
	const char *n = c->f->name;
	uint64_t arith = X86_FLAGS_ARITH & ~(uint64_t)x->undef;

	for (unsigned r = 0; r < 16; r++)
		if (!(x->skip_gpr & (1u << r)) && e->gpr[r] != cpu->gpr[r])
			fail_msg("%s (%s): %s = %#llx, CPU %#llx", n, describe(c, in), gpr_name[r],
				 (unsigned long long)e->gpr[r], (unsigned long long)cpu->gpr[r]);
	if ((e->rflags ^ cpu->rflags) & arith)
		fail_msg("%s (%s): rflags %#llx, CPU %#llx (compared: %#llx)", n, describe(c, in),
			 (unsigned long long)e->rflags, (unsigned long long)cpu->rflags,
			 (unsigned long long)arith);
	if ((e->rflags ^ in->rflags) & ~(uint64_t)X86_FLAGS_ARITH)
		fail_msg("%s (%s): non-arithmetic rflags changed to %#llx", n, describe(c, in),
			 (unsigned long long)e->rflags);
	if (e->rip != x->rip)
		fail_msg("%s (%s): rip %#llx, want %#llx (insn at %p, len %u)", n, describe(c, in),
			 (unsigned long long)e->rip, (unsigned long long)x->rip, (const void *)c->f->start,
			 c->insn.len);
	for (unsigned r = 0; r < 16; r++)
		if (memcmp(emu_xmm[r], cpu->xmm[r], 16))
			fail_msg("%s (%s): xmm%u differs from the CPU's", n, describe(c, in), r);
	for (unsigned r = 0; r < 8; r++)
		if (memcmp(emu_mm[r], cpu->mm[r], 8))
			fail_msg("%s (%s): mm%u differs from the CPU's", n, describe(c, in), r);
	compare_memory(c, in);
}

/* ---- Running one case ------------------------------------------------------ */

/* Runs the emulator to completion from *in: loops on X86_EMU_MORE, which
 * must keep RIP, do between 1 and rep_chunk elements, and only happen with
 * a chunk. */
static enum x86_emu_result emulate(const struct ctx *c, const struct cpu *in, uint32_t chunk,
				   struct x86_emu *e)
{
	uint64_t start = (uintptr_t)c->f->start;
	uint64_t cmask = mask_of(c->insn.addrsize);

	emu_init(e, in, start, chunk);
	mem_reset();
	for (unsigned calls = 1;; calls++) {
		uint64_t before = e->gpr[RCX] & cmask, done;
		enum x86_emu_result r = x86_emulate(e, &c->insn);

		if (mem.error[0])
			fail_msg("%s (%s): %s", c->f->name, describe(c, in), mem.error);
		done = (before - (e->gpr[RCX] & cmask)) & cmask;
		if (r == X86_EMU_OK && chunk && c->insn.rep && done > chunk)
			fail_msg("%s (%s): the last call did %llu elements, rep_chunk %u", c->f->name,
				 describe(c, in), (unsigned long long)done, chunk);
		if (r != X86_EMU_MORE)
			return r;
		if (!chunk)
			fail_msg("%s (%s): MORE with rep_chunk 0", c->f->name, describe(c, in));
		if (e->rip != start)
			fail_msg("%s (%s): MORE moved rip to %#llx", c->f->name, describe(c, in),
				 (unsigned long long)e->rip);
		if (done == 0 || done > chunk)
			fail_msg("%s (%s): MORE after %llu elements, rep_chunk %u", c->f->name,
				 describe(c, in), (unsigned long long)done, chunk);
		if (calls > 64)
			fail_msg("%s (%s): MORE for ever", c->f->name, describe(c, in));
	}
}

static bool has_error_code(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

/* An instruction that raises an exception changes nothing: registers,
 * RIP, RFLAGS, XMM and memory are as they were, and nothing was written. */
static void check_unchanged(const char *name, const char *what, const struct cpu *in, uint64_t rip,
			    const struct x86_emu *e)
{
	for (unsigned r = 0; r < 16; r++)
		if (e->gpr[r] != in->gpr[r])
			fail_msg("%s (%s): %s changed to %#llx", name, what, gpr_name[r],
				 (unsigned long long)e->gpr[r]);
	if (e->rip != rip || e->rflags != in->rflags)
		fail_msg("%s (%s): rip %#llx rflags %#llx, want %#llx %#llx", name, what,
			 (unsigned long long)e->rip, (unsigned long long)e->rflags,
			 (unsigned long long)rip, (unsigned long long)in->rflags);
	if (memcmp(emu_xmm, in->xmm, sizeof(emu_xmm)) || memcmp(emu_mm, in->mm, sizeof(emu_mm)))
		fail_msg("%s (%s): an XMM or MMX register changed", name, what);
	for (unsigned r = 0; r < N_REGIONS; r++)
		if (regions[r].native && memcmp(regions[r].shadow, regions[r].init, PAGE))
			fail_msg("%s (%s): memory changed", name, what);
}

static void check_exception(const char *name, const char *what, const struct cpu *in, uint64_t rip,
			    const struct x86_emu *e, enum x86_emu_result r, unsigned vector)
{
	if (r != X86_EMU_EXCEPTION)
		fail_msg("%s (%s): %s (%s), want EXCEPTION %u", name, what, result_name(r),
			 r == X86_EMU_UNHANDLED && e->unhandled ? e->unhandled : "", vector);
	if (e->exc_vector != vector)
		fail_msg("%s (%s): exception %u, want %u", name, what, e->exc_vector, vector);
	if (e->exc_has_error != has_error_code(vector) || (e->exc_has_error && e->exc_error != 0))
		fail_msg("%s (%s): exception %u with error code %d/%#x, want %s", name, what, vector,
			 e->exc_has_error, e->exc_error, has_error_code(vector) ? "0" : "none");
	for (unsigned k = 0; k < mem.n && k < N_ELEMS(mem.log); k++)
		if (mem.log[k].write)
			fail_msg("%s (%s): wrote memory before raising %u", name, what, vector);
	check_unchanged(name, what, in, rip, e);
}

static bool is_cmov(const struct x86_insn *in)
{
	return in->opmap == 1 && (in->opcode & 0xf0) == 0x40;
}

/* CMOVcc reads its source whatever the condition (SDM "CMOVcc": "the
 * source operand is read" even when false), and writes no memory.  A
 * device must see that read either way. */
static void check_cmov_read(const struct ctx *c, const struct cpu *in)
{
	unsigned bytes = 0;

	for (unsigned k = 0; k < mem.n && k < N_ELEMS(mem.log); k++) {
		if (mem.log[k].write)
			fail_msg("%s (%s): CMOV wrote memory", c->f->name, describe(c, in));
		bytes += mem.log[k].len;
	}
	if (bytes != c->f->size)
		fail_msg("%s (%s): CMOV read %u bytes, want %u whatever the condition", c->f->name,
			 describe(c, in), bytes, c->f->size);
}

static void run_case(struct ctx *c, const struct cpu *in, const struct expect *x)
{
	static const uint32_t chunks[2] = { 0, 3 };
	struct cpu cpu = *in;
	struct x86_emu e;

	snapshot();
	if (x->exc < 0)
		emt_run(&cpu, c->f->start);
	for (unsigned k = 0; k < (x->chunked ? 2u : 1u); k++) {
		enum x86_emu_result r = emulate(c, in, chunks[k], &e);

		if (x->exc >= 0) {
			check_exception(c->f->name, describe(c, in), in, (uintptr_t)c->f->start, &e, r,
					(unsigned)x->exc);
			continue;
		}
		if (r != X86_EMU_OK)
			fail_msg("%s (%s, rep_chunk %u): %s%s%s vector %u", c->f->name, describe(c, in),
				 chunks[k], result_name(r), e.unhandled ? ": " : "",
				 e.unhandled ? e.unhandled : "", e.exc_vector);
		compare(c, in, &cpu, &e, x);
		if (is_cmov(&c->insn))
			check_cmov_read(c, in);
	}
}

/* ---- Making the cases ------------------------------------------------------ */

static unsigned shift_count(const struct ctx *c, const struct cpu *in)
{
	uint8_t op = c->insn.opcode;

	if (op == 0xd0 || op == 0xd1)
		return 1;
	if (op == 0xd2 || op == 0xd3 || op == 0xa5 || op == 0xad)
		return in->gpr[RCX] & 0xff;
	return (unsigned)c->insn.imm & 0xff;
}

/* Undefined flags of a shift or rotate by `count` (SDM "SAL/SAR/SHL/SHR",
 * "RCL/RCR/ROL/ROR"): the count is masked to 5 bits (6 for 64-bit); a
 * masked count of 0 changes no flag; OF is defined for a count of 1 only;
 * the shifts leave AF undefined, and SHL/SHR also CF when the count is at
 * least the operand width.  Rotates touch only CF and OF, so SF ZF AF PF
 * must come back unchanged. */
static uint16_t shift_undef(unsigned op, unsigned bits, unsigned count)
{
	unsigned n = count & (bits == 64 ? 63 : 31);
	uint16_t u;

	if (n == 0)
		return 0;
	u = n == 1 ? 0 : FL_OF;
	if (op >= 4) {
		u |= FL_AF;
		if (op != 7 && n >= bits)
			u |= FL_CF;
	}
	return u;
}

/* SHLD/SHRD (SDM "SHLD", "SHRD"): masked count 0 changes nothing; AF is
 * undefined, OF beyond a count of 1; a count above the operand width (only
 * possible for 16 bits) leaves the result and every flag undefined. */
static bool shxd_undef(unsigned bits, unsigned count, uint16_t *u)
{
	unsigned n = count & (bits == 64 ? 63 : 31);

	if (bits == 16 && n > 16)
		return false;
	*u = n == 0 ? 0 : n == 1 ? FL_AF : FL_AF | FL_OF;
	return true;
}

/* Whether DIV/IDIV of the dividend in rDX:rAX (AX for bytes) by d raises
 * #DE: d = 0, or a quotient that does not fit (SDM "DIV", "IDIV"). */
static bool div_faults(unsigned size, bool sign, uint64_t rax, uint64_t rdx, uint64_t d, bool *zero)
{
	unsigned bits = 8 * size;
	uint64_t m = mask_of(size);
	unsigned __int128 n;

	d &= m;
	*zero = d == 0;
	if (d == 0)
		return true;
	if (size == 1)
		n = rax & 0xffff;
	else
		n = ((unsigned __int128)(rdx & m) << bits) | (rax & m);
	if (!sign)
		return n / d > m;

	__int128 sn, sd = (int64_t)(d << (64 - bits)) >> (64 - bits), q;
	__int128 lo = -((__int128)1 << (bits - 1)), hi = ((__int128)1 << (bits - 1)) - 1;

	sn = bits == 64 ? (__int128)n : (__int128)(n << (128 - 2 * bits)) >> (128 - 2 * bits);
	if (bits == 64 && sd == -1 && n == (unsigned __int128)1 << 127)
		return true; /* the one quotient C cannot compute either */
	q = sn / sd;
	return q < lo || q > hi;
}

/* Dividends that give a quotient often enough, as well as ones that do not. */
static void div_setup(struct ctx *c, struct cpu *in, struct expect *x)
{
	const struct form *f = c->f;
	uint64_t m = mask_of(f->size), d = c->mem_in & m;
	bool sign = c->insn.modrm >> 3 & 1, zero; /* /7 IDIV, /6 DIV */

	switch (c->i % 4) {
	case 0: /* high half zero */
		if (f->size == 1)
			in->gpr[RAX] &= ~0xff00ull;
		else
			in->gpr[RDX] &= ~m;
		break;
	case 1: /* high half the sign of the low half */
		if (f->size == 1)
			in->gpr[RAX] = (in->gpr[RAX] & ~0xff00ull) | (in->gpr[RAX] & 0x80 ? 0xff00 : 0);
		else
			in->gpr[RDX] = (in->gpr[RDX] & ~m) |
				       (in->gpr[RAX] & (1ull << (8 * f->size - 1)) ? m : 0);
		break;
	case 2: /* high half below the divisor */
		if (!d)
			break;
		if (f->size == 1)
			in->gpr[RAX] = (in->gpr[RAX] & ~0xff00ull) | (rnd(c) % d) << 8;
		else
			in->gpr[RDX] = (in->gpr[RDX] & ~m) | rnd(c) % d;
		break;
	}
	if (div_faults(f->size, sign, in->gpr[RAX], in->gpr[RDX], d, &zero)) {
		x->exc = 0;
		zero ? c->n_de_zero++ : c->n_de_ovf++;
	} else {
		c->n_ok++;
	}
}

static bool cc_true(unsigned cc, uint64_t fl)
{
	bool cf = fl & FL_CF, zf = fl & FL_ZF, sf = fl & FL_SF, of = fl & FL_OF, pf = fl & FL_PF;
	bool r;

	switch (cc >> 1) {
	case 0: r = of; break;
	case 1: r = cf; break;
	case 2: r = zf; break;
	case 3: r = cf || zf; break;
	case 4: r = sf; break;
	case 5: r = pf; break;
	case 6: r = sf != of; break;
	default: r = zf || sf != of; break;
	}
	return (cc & 1) ? !r : r;
}

/* Strings: random 0/1 bytes around RSI and RDI, often the same at both (so
 * REPE CMPS runs on) or the element in rAX repeated (REPE SCAS). */
static void string_setup(struct ctx *c, struct cpu *in, struct expect *x)
{
	static const uint8_t counts[8] = { 0, 1, 2, 3, 4, 5, 7, 10 };
	uint64_t base = (c->f->kind & LOW) ? LOW_VA : (uintptr_t)emt_page;
	uint8_t *p = (uint8_t *)(uintptr_t)base;
	unsigned size = c->f->size, si = 0x600 + (rnd(c) & 0x3f), di = 0xa00 + (rnd(c) & 0x3f);
	uint8_t op = c->insn.opcode;

	for (unsigned k = 0x500; k < 0xb00; k += 64) {
		uint64_t bits = rnd(c);
		for (unsigned b = 0; b < 64; b++)
			p[k + b] = bits >> b & 1;
	}
	switch (c->i % 3) {
	case 0: in->gpr[RAX] = 0; break;
	case 1: in->gpr[RAX] = rnd(c) & 0x0101010101010101ull; break;
	}
	if (c->i % 4 && (op == 0xa6 || op == 0xa7)) {
		memcpy(p + di - 0x80, p + si - 0x80, 0x100);
	} else if (c->i % 4 && (op == 0xae || op == 0xaf)) {
		for (unsigned k = 0; k < 0x100; k += size)
			memcpy(p + di - 0x80 + k, &in->gpr[RAX], size);
	}
	if (c->i % 8 >= 4) /* and one element different */
		p[di - 0x80 + rnd(c) % 0x100] ^= 1;

	in->gpr[RSI] = base + si;
	in->gpr[RDI] = base + di;
	if (c->insn.rep)
		in->gpr[RCX] = counts[(c->i / 2) % 8];
	if (c->insn.addrsize == 4) { /* ESI EDI ECX: the upper halves are not addresses */
		in->gpr[RSI] |= rnd(c) << 32;
		in->gpr[RDI] |= rnd(c) << 32;
		if (c->insn.rep)
			in->gpr[RCX] |= rnd(c) << 32;
	}
	in->rflags = (in->rflags & ~(uint64_t)FL_DF) | ((c->i & 1) ? FL_DF : 0);
	x->chunked = c->insn.rep != 0;
}

static void btreg_setup(struct ctx *c, struct cpu *in)
{
	static const int16_t offs[] = {
		0, 1, 3, 7, 8, 15, 16, 31, 32, 63, 64, 100, 127, 200, 1000,
		-1, -3, -8, -16, -17, -32, -33, -64, -65, -100, -1000,
	};
	uint64_t m = mask_of(c->f->size);
	int64_t o = c->i < 4 * N_ELEMS(offs) ? offs[c->i % N_ELEMS(offs)]
					     : (int64_t)(rnd(c) % 4001) - 2000;

	in->gpr[RCX] = (rnd(c) & ~m) | ((uint64_t)o & m);
}

static void setup_case(struct ctx *c, struct cpu *in, struct expect *x)
{
	static const uint8_t counts[21] = {
		0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 18, 31, 32, 33, 63, 64, 65, 0x80, 0xff,
	};
	const struct form *f = c->f;
	unsigned kind = f->kind & KIND, bits = 8 * f->size;
	bool low = f->kind & LOW;
	uint64_t base = low ? LOW_VA : (uintptr_t)emt_page, m = mask_of(f->size);

	*x = (struct expect){ .undef = f->undef, .rip = (uintptr_t)f->end, .exc = -1 };
	for (unsigned r = 0; r < 16; r++)
		in->gpr[r] = rnd(c);
	fill_random(c, &in->xmm[0][0], sizeof(in->xmm));
	fill_random(c, &in->mm[0][0], sizeof(in->mm));
	in->gpr[RSP] = (uintptr_t)emt_stack + OPND;
	in->gpr[RBP] = (uintptr_t)emt_stack + 0x900 + (rnd(c) & 0x78); /* LEAVE, ENTER */
	in->gpr[RSI] = rnd(c) & 15; /* an index for the SIB forms */
	in->gpr[R12] = (uintptr_t)emt_page + 0x400;
	in->gpr[R13] = (uintptr_t)emt_page + 0x600;
	in->gpr[R15] = rnd(c) & 31;
	c->op_addr = base + OPND;
	if ((kind == GEN || kind == SSE_U) && !low && c->i % 4 == 3)
		c->op_addr += rnd(c) & 15; /* misaligned: fine without #AC (AC is clear) */
	in->gpr[RBX] = c->op_addr;
	if (low) { /* [ebx], [ebx + esi] (which wraps to ebx - k): bits 63:32 ignored */
		in->gpr[RBX] |= rnd(c) << 32;
		in->gpr[RSI] = (rnd(c) << 32) | (uint32_t)(0u - (rnd(c) & 0x3f));
	}
	c->mem_in = value(c, 0);
	put(c->op_addr, f->size < 8 ? f->size : 8, c->mem_in);
	if (f->size == 16)
		put(c->op_addr + 8, 8, pick(c));
	in->gpr[RCX] = value(c, 1);
	in->gpr[RAX] = value(c, 2);
	in->gpr[RDX] = value(c, 3);
	if (c->i % 3 == 2) /* rAX equal to the operand: CMPXCHG's other path */
		in->gpr[RAX] = (in->gpr[RAX] & ~m) | (c->mem_in & m);
	in->rflags = 0x202 | (rnd(c) & X86_FLAGS_ARITH & ~(uint64_t)FL_CF) |
		     (c->i < 2 * N_PAIRS ? c->i / N_PAIRS : rnd(c) & 1);

	switch (kind) {
	case SHIFT:
	case SHXD:
		in->gpr[RCX] = (in->gpr[RCX] & ~0xffull) |
			       (c->i < 2 * N_PAIRS ? counts[c->i % N_ELEMS(counts)] : rnd(c) & 0xff);
		if (kind == SHIFT)
			x->undef = shift_undef(X86_MODRM_REG(c->insn.modrm), bits, shift_count(c, in));
		else
			x->skip = !shxd_undef(bits, shift_count(c, in), &x->undef);
		break;
	case BTREG:
		btreg_setup(c, in);
		break;
	case BITSCAN:
		/* With a zero source Intel documents the destination as
		 * undefined and AMD as unchanged (both CPUs leave it as it was
		 * in practice, but a 32-bit one may or may not have its upper
		 * half cleared), so it is compared only for a non-zero source;
		 * ZF is compared always. */
		if (!(c->mem_in & m))
			x->skip_gpr = 1u << RCX;
		break;
	case DIV:
		div_setup(c, in, x);
		break;
	case CC: {
		unsigned k = c->i % 32;
		in->rflags = 0x202 | (rnd(c) & FL_AF) | (k & 1 ? FL_CF : 0) | (k & 2 ? FL_PF : 0) |
			     (k & 4 ? FL_ZF : 0) | (k & 8 ? FL_SF : 0) | (k & 16 ? FL_OF : 0);
		cc_true(c->insn.opcode & 15, in->rflags) ? c->n_true++ : c->n_false++;
		break;
	}
	case STRING:
		string_setup(c, in, x);
		break;
	case GEN:
		/* PUSH FS/GS with a 64-bit operand size may store the selector
		 * zero-extended (AMD) or with a 16-bit move that leaves the rest
		 * of the slot (recent Intel cores, SDM "PUSH"): a zeroed slot
		 * makes both the same. */
		if (c->insn.opmap == 1 && (c->insn.opcode == 0xa0 || c->insn.opcode == 0xa8))
			put(in->gpr[RSP] - 8, 8, 0);
		break;
	case BRANCH:
		/* JMP/CALL take the target from [rbx], RET from the stack. */
		put(c->insn.opcode == 0xff ? c->op_addr : in->gpr[RSP], 8, (uintptr_t)emt_back);
		x->rip = (uintptr_t)emt_back;
		break;
	}
}

static unsigned n_cases(unsigned kind)
{
	switch (kind) {
	case CC: return 32 * 12;
	case STRING: return 2 * 8 * 20;
	case BRANCH: return 64;
	case SSE_A:
	case SSE_U: return 256;
	default: return 2 * N_PAIRS + 256;
	}
}

static uint16_t opkey(const struct x86_insn *in)
{
	static const uint16_t map[4] = { 0, 0x0f00, 0x3800, 0x3a00 };

	return (uint16_t)(map[in->opmap & 3] | in->opcode);
}

/* Whether the host runs the form as the form means it. */
static bool host_has(unsigned need)
{
	unsigned a, b, c, d;

	if (need & NEED_MOVBE)
		return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 22));
	if (need & NEED_BMI1)
		return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 3));
	if (need & NEED_LZCNT)
		return __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 5));
	return true;
}

/* Decodes the form's snippet (its length must be the snippet's, its opcode
 * the one the form names), seeds the generator from its name and fills
 * the pages. */
static void prepare(struct ctx *c, const struct form *f)
{
	size_t len = (size_t)(f->end - f->start);
	uint16_t want = f->op;
	char hex[3 * 15 + 1] = "";

	*c = (struct ctx){ .f = f, .rng = 0xcbf29ce484222325ull };
	for (const char *s = f->name; *s; s++)
		c->rng = (c->rng ^ (uint8_t)*s) * 0x100000001b3ull;
	for (size_t k = 0; k < len && k < 15; k++)
		snprintf(hex + 3 * k, 4, "%02x ", f->start[k]);
	if ((f->kind & LOW) && !regions[R_LOW].native)
		fail_msg("%s: the page at %#x below 4 GiB could not be mapped", f->name, LOW_VA);
	if (len < 1 || len > X86_MAX_INSN_LEN || x86_decode(f->start, len, X86_MODE_64, &c->insn))
		fail_msg("%s: x86_decode rejects %s", f->name, hex);
	if (c->insn.len != len)
		fail_msg("%s: x86_decode says %u bytes, the assembler %zu (%s)", f->name, c->insn.len,
			 len, hex);
	if (!want) /* the ONE() groups: byte form or not */
		want = (uint16_t)((c->insn.opcode & 0xfe) | (f->size > 1));
	if (opkey(&c->insn) != want)
		fail_msg("%s: opcode %#x, the form is %#x (%s)", f->name, opkey(&c->insn), want, hex);
	fill_random(c, emt_page, PAGE);
	fill_random(c, emt_stack, PAGE);
	if (regions[R_LOW].native)
		fill_random(c, regions[R_LOW].native, PAGE);
}

static void run_form(void **state)
{
	const struct form *f = *state;
	unsigned kind = f->kind & KIND;
	struct ctx c;

	if (!host_has(f->kind & (NEED_MOVBE | NEED_BMI1 | NEED_LZCNT))) {
		print_message("# %s: the host CPU lacks the instruction\n", f->name);
		skip();
	}
	prepare(&c, f);
	for (c.i = 0; c.i < n_cases(kind); c.i++) {
		struct cpu in;
		struct expect x;

		setup_case(&c, &in, &x);
		if (!x.skip)
			run_case(&c, &in, &x);
	}
	if (kind == DIV && (!c.n_de_zero || !c.n_de_ovf || !c.n_ok))
		fail_msg("%s: cases %u #DE by zero, %u #DE overflow, %u quotients: a kind is missing",
			 f->name, c.n_de_zero, c.n_de_ovf, c.n_ok);
	if (kind == CC && (!c.n_true || !c.n_false))
		fail_msg("%s: the condition was never %s", f->name, c.n_true ? "false" : "true");
}

/* ---- Tests of the harness and of single behaviours ------------------------- */

/* The native side itself: emt_run keeps what a NOP keeps (every GPR,
 * XMM, the arithmetic flags and DF, both ways), and runs ADD for real. */
TEST(harness_native)
{
	struct ctx c = { .rng = 42 };
	struct cpu in, out;

	assert_int_equal(strtoul(XSTR(LOW_VA), NULL, 0), LOW_VA);
	for (unsigned k = 0; k < 2; k++) {
		for (unsigned r = 0; r < 16; r++)
			in.gpr[r] = rnd(&c);
		in.gpr[RSP] = (uintptr_t)emt_stack + OPND;
		fill_random(&c, &in.xmm[0][0], sizeof(in.xmm));
		fill_random(&c, &in.mm[0][0], sizeof(in.mm));
		in.rflags = k ? 0x202 | X86_FLAGS_ARITH | FL_DF : 0x202;
		out = in;
		emt_run(&out, F_harness_nop.start);
		assert_memory_equal(out.gpr, in.gpr, sizeof(in.gpr));
		assert_memory_equal(out.xmm, in.xmm, sizeof(in.xmm));
		assert_memory_equal(out.mm, in.mm, sizeof(in.mm));
		assert_int_equal(out.rflags & (X86_FLAGS_ARITH | FL_DF),
				 in.rflags & (X86_FLAGS_ARITH | FL_DF));
		assert_int_equal(__builtin_ia32_readeflags_u64() & FL_DF, 0);
	}
	in.gpr[RBX] = (uintptr_t)emt_page + OPND;
	in.gpr[RCX] = 1;
	in.rflags = 0x202;
	put(in.gpr[RBX], 4, 0xffffffff);
	out = in;
	emt_run(&out, emt_add_m32_r32);
	assert_int_equal(*(uint32_t *)(emt_page + OPND), 0);
	assert_int_equal(out.rflags & X86_FLAGS_ARITH, FL_CF | FL_PF | FL_AF | FL_ZF);
}

/* Registers for the emulator-only tests: RBX and RBP at the page's
 * operand, RSI/RDI inside it, RSP in the stack. */
static void plain_regs(struct cpu *in)
{
	memset(in, 0, sizeof(*in));
	for (unsigned r = 0; r < 16; r++)
		in->gpr[r] = 0x1111111111111111ull * r;
	in->gpr[RBX] = in->gpr[RBP] = (uintptr_t)emt_page + OPND;
	in->gpr[RSI] = (uintptr_t)emt_page + 0x600;
	in->gpr[RDI] = (uintptr_t)emt_page + 0xa00;
	in->gpr[RSP] = (uintptr_t)emt_stack + OPND;
	in->gpr[R13] = (uintptr_t)emt_page + OPND;
	in->gpr[R12] = (uintptr_t)emt_page + OPND;
	in->gpr[R8] = 0x10;
	in->gpr[RCX] = 3;
	in->gpr[RAX] = 7;
	in->gpr[RDX] = 0;
	in->rflags = 0x202 | FL_ZF;
	for (unsigned r = 0; r < 16; r++)
		memset(in->xmm[r], 0x10 + r, 16);
	for (unsigned r = 0; r < 8; r++)
		memset(in->mm[r], 0x30 + r, 8);
}

struct bytes {
	const char *text;
	uint8_t len;
	uint8_t b[15];
};
#define B(t, ...) { t, sizeof((uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ } }

#define RIP0 0x401000ull /* where the emulator-only instructions "are" */

/* Decodes and emulates bytes once (no CPU), from fresh copies of the pages. */
static enum x86_emu_result emu_bytes(const struct bytes *t, const struct cpu *in, struct x86_emu *e,
				     struct x86_insn *insn)
{
	if (x86_decode(t->b, t->len, X86_MODE_64, insn) != X86_DECODE_OK || insn->len != t->len)
		fail_msg("%s: x86_decode does not take it as %u bytes", t->text, t->len);
	snapshot();
	mem_reset();
	emu_init(e, in, RIP0, 0);
	return x86_emulate(e, insn);
}

static void page_value(uint64_t off, uint64_t v)
{
	memcpy(emt_page + off, &v, 8);
}

/* #DE (SDM "DIV", "IDIV": vector 0, no error code) for a zero divisor and
 * a quotient too wide for the destination, with nothing changed. */
TEST(div_de_zero_and_overflow)
{
	static const struct {
		struct bytes t;
		uint64_t rax, rdx, divisor;
	} cases[] = {
		{ B("div dword [rbx] by 0", 0xf7, 0x33), 5, 0, 0 },
		{ B("div qword [rbx] by 0", 0x48, 0xf7, 0x33), 5, 0, 0 },
		{ B("idiv byte [rbx] by 0", 0xf6, 0x3b), 5, 0, 0 },
		{ B("div dword [rbx]: edx:eax 1:0 / 1", 0xf7, 0x33), 0, 1, 1 },
		{ B("div byte [rbx]: ax 0x100 / 1", 0xf6, 0x33), 0x100, 0, 1 },
		{ B("div word [rbx]: dx:ax ffff:ffff / ffff", 0x66, 0xf7, 0x33), 0xffff, 0xffff, 0xffff },
		{ B("idiv dword [rbx]: -2^31 / -1", 0xf7, 0x3b), 0x80000000, 0xffffffff, 0xffffffff },
		{ B("idiv qword [rbx]: -2^63 / -1", 0x48, 0xf7, 0x3b), 1ull << 63, ~0ull, ~0ull },
		{ B("idiv byte [rbx]: ax -128 / -1", 0xf6, 0x3b), 0xff80, 0, 0xff },
		{ B("idiv word [rbx]: 0x8000 / 1 (quotient +32768)", 0x66, 0xf7, 0x3b), 0x8000, 0, 1 },
	};

	for (unsigned k = 0; k < N_ELEMS(cases); k++) {
		struct cpu in;
		struct x86_emu e;
		struct x86_insn insn;
		enum x86_emu_result r;

		plain_regs(&in);
		in.gpr[RAX] = cases[k].rax;
		in.gpr[RDX] = cases[k].rdx;
		page_value(OPND, cases[k].divisor);
		r = emu_bytes(&cases[k].t, &in, &e, &insn);
		check_exception(cases[k].t.text, "#DE", &in, RIP0, &e, r, 0);
	}
}

/* LOCK on a form that is not a read-modify-write of memory (SDM "LOCK":
 * #UD), before any memory access. */
TEST(lock_unlockable_is_ud)
{
	static const struct bytes cases[] = {
		B("lock mov [rbx], ecx", 0xf0, 0x89, 0x0b),
		B("lock mov ecx, [rbx]", 0xf0, 0x8b, 0x0b),
		B("lock mov byte [rbx], 1", 0xf0, 0xc6, 0x03, 0x01),
		B("lock mov cl, [rbx]", 0xf0, 0x8a, 0x0b),
		B("lock add ecx, [rbx] (register destination)", 0xf0, 0x03, 0x0b),
		B("lock cmp [rbx], ecx", 0xf0, 0x39, 0x0b),
		B("lock test [rbx], ecx", 0xf0, 0x85, 0x0b),
		B("lock bt [rbx], ecx", 0xf0, 0x0f, 0xa3, 0x0b),
		B("lock bt dword [rbx], 5", 0xf0, 0x0f, 0xba, 0x23, 0x05),
		B("lock movzx ecx, byte [rbx]", 0xf0, 0x0f, 0xb6, 0x0b),
		B("lock push qword [rbx]", 0xf0, 0xff, 0x33),
		B("lock pop qword [rbx]", 0xf0, 0x8f, 0x03),
		B("lock movups xmm0, [rbx]", 0xf0, 0x0f, 0x10, 0x03),
		B("lock movsb", 0xf0, 0xa4),
		B("lock cmove ecx, [rbx]", 0xf0, 0x0f, 0x44, 0x0b),
		B("lock sete byte [rbx]", 0xf0, 0x0f, 0x94, 0x03),
		B("lock mul dword [rbx]", 0xf0, 0xf7, 0x23),
		B("lock imul ecx, [rbx]", 0xf0, 0x0f, 0xaf, 0x0b),
	};

	for (unsigned k = 0; k < N_ELEMS(cases); k++) {
		struct cpu in;
		struct x86_emu e;
		struct x86_insn insn;
		enum x86_emu_result r;

		plain_regs(&in);
		r = emu_bytes(&cases[k], &in, &e, &insn);
		check_exception(cases[k].text, "LOCK", &in, RIP0, &e, r, 6);
		if (mem.n)
			fail_msg("%s: %u memory accesses before #UD", cases[k].text, mem.n);
	}
}

/* MOVAPS/MOVDQA (and MOVAPD, MOVNTPS, MOVNTDQ) on an operand not aligned
 * to 16 bytes: #GP(0) (SDM "MOVAPS", "MOVDQA"), and no access reaches the
 * device. */
TEST(sse_aligned_misaligned_is_gp)
{
	static const struct bytes cases[] = {
		B("movaps xmm0, [rbx+8]", 0x0f, 0x28, 0x43, 0x08),
		B("movaps [rbx+8], xmm1", 0x0f, 0x29, 0x4b, 0x08),
		B("movdqa xmm0, [rbx+4]", 0x66, 0x0f, 0x6f, 0x43, 0x04),
		B("movdqa [rbx+1], xmm1", 0x66, 0x0f, 0x7f, 0x4b, 0x01),
		B("movapd xmm0, [rbx+8]", 0x66, 0x0f, 0x28, 0x43, 0x08),
		B("movntps [rbx+8], xmm1", 0x0f, 0x2b, 0x4b, 0x08),
		B("movntdq [rbx+4], xmm1", 0x66, 0x0f, 0xe7, 0x4b, 0x04),
	};

	for (unsigned k = 0; k < N_ELEMS(cases); k++) {
		struct cpu in;
		struct x86_emu e;
		struct x86_insn insn;
		enum x86_emu_result r;

		plain_regs(&in);
		r = emu_bytes(&cases[k], &in, &e, &insn);
		check_exception(cases[k].text, "misaligned", &in, RIP0, &e, r, 13);
		if (mem.n)
			fail_msg("%s: %u memory accesses before #GP", cases[k].text, mem.n);
	}
}

/* A callback that returns -1 (the caller queued a fault): X86_EMU_FAULT,
 * no access after it, and registers, RIP, RFLAGS, XMM and MMX unchanged.
 * Each access of a clean run faults in turn.  REP forms run one element
 * here; rep_fault_keeps_progress has several. */
TEST(callback_fault_changes_nothing)
{
	static const struct form *const forms[] = {
		&F_add_m32_r32, &F_mov_m32_r32, &F_mov_r32_m32, &F_mov_m8_i8, &F_xchg_m64_r64,
		&F_xadd_m32_r32, &F_cmpxchg_m32_r32, &F_inc_m16, &F_neg_m64, &F_shl_m32_cl,
		&F_shld_m32_r32_cl, &F_bts_m32_r32, &F_btc_m64_i8_63, &F_cmovne_r32_m32, &F_setne_m8,
		&F_div_m32, &F_push_m64, &F_pop_m64, &F_pop_m64_rsp, &F_push_r64, &F_pop_r64,
		&F_call_m64, &F_jmp_m64, &F_ret, &F_movsb, &F_rep_movsq, &F_repe_cmpsd, &F_stosw,
		&F_lodsq, &F_scasb, &F_movups_m128_xmm1, &F_movdqu_xmm0_m128, &F_movq_xmm0_m64,
		&F_movsx_r64_m16, &F_lock_add_m32_r32, &F_mov_m32_r32_rip, &F_movq_m64_mm1,
		&F_enter_8_3, &F_leave, &F_mov_m16_ds, &F_push_fs, &F_call_rel32,
	};

	for (unsigned k = 0; k < N_ELEMS(forms); k++) {
		struct ctx c;
		struct cpu in;
		struct expect x;
		struct x86_emu e;
		enum x86_emu_result r;
		unsigned n;

		prepare(&c, forms[k]);
		do { /* a case that completes (no #DE) */
			setup_case(&c, &in, &x);
			c.i++;
		} while (x.exc >= 0 || x.skip);
		if (c.insn.rep)
			in.gpr[RCX] = 1;
		snapshot();
		r = emulate(&c, &in, 0, &e);
		if (r != X86_EMU_OK)
			fail_msg("%s: %s%s%s on the clean run", forms[k]->name, result_name(r),
				 e.unhandled ? ": " : "", e.unhandled ? e.unhandled : "");
		n = mem.n;
		if (n == 0)
			fail_msg("%s: no memory access", forms[k]->name);
		for (unsigned a = 0; a < n; a++) {
			char what[48];

			snprintf(what, sizeof(what), "access %u of %u faults", a, n);
			emu_init(&e, &in, (uintptr_t)forms[k]->start, 0);
			mem_reset();
			mem.fault_at = (int)a;
			r = x86_emulate(&e, &c.insn);
			if (mem.error[0])
				fail_msg("%s (%s): %s", forms[k]->name, what, mem.error);
			if (r != X86_EMU_FAULT)
				fail_msg("%s (%s): %s, want FAULT", forms[k]->name, what, result_name(r));
			if (mem.n != a + 1)
				fail_msg("%s (%s): %u accesses", forms[k]->name, what, mem.n);
			for (unsigned g = 0; g < 16; g++)
				if (e.gpr[g] != in.gpr[g])
					fail_msg("%s (%s): %s changed", forms[k]->name, what, gpr_name[g]);
			if (e.rip != (uintptr_t)forms[k]->start || e.rflags != in.rflags)
				fail_msg("%s (%s): rip or rflags changed", forms[k]->name, what);
			if (memcmp(emu_xmm, in.xmm, sizeof(emu_xmm)) || memcmp(emu_mm, in.mm, sizeof(emu_mm)))
				fail_msg("%s (%s): an XMM or MMX register changed", forms[k]->name, what);
		}
	}
}

static void restore_native(void)
{
	for (unsigned r = 0; r < N_REGIONS; r++)
		if (regions[r].native)
			memcpy(regions[r].native, regions[r].init, PAGE);
}

/* A REP string instruction one of whose accesses faults keeps what the
 * elements before it did (the header; SDM vol. 1 §7.3.9 / vol. 2 "REP":
 * the registers reflect the iterations completed when the fault is
 * taken).  That state is the CPU's after the same instruction run with RCX
 * = the elements done, so each fault of a 5-element run is compared with
 * such a native run: memory, RSI/RDI/rAX, flags; RCX holds the rest, and
 * RIP stays on the instruction. */
TEST(rep_fault_keeps_progress)
{
	static const struct form *const forms[] = {
		&F_rep_movsb, &F_rep_movsq, &F_rep_stosd, &F_rep_lodsw, &F_repe_cmpsb, &F_repne_scasd,
		&F_repe_cmpsq, &F_rep_movsd_a32, &F_repe_cmpsb_a32,
	};

	for (unsigned k = 0; k < N_ELEMS(forms); k++) {
		const struct form *f = forms[k];
		uint64_t most = 0;
		struct ctx c;

		prepare(&c, f);
		for (c.i = 0; c.i < 8; c.i++) {
			uint64_t cmask = mask_of(c.insn.addrsize), start = (uintptr_t)f->start;
			struct cpu in, cpu;
			struct expect x;
			struct x86_emu e;
			enum x86_emu_result r;
			unsigned n;

			setup_case(&c, &in, &x);
			in.gpr[RCX] = (in.gpr[RCX] & ~cmask) | 5;
			snapshot();
			r = emulate(&c, &in, 0, &e);
			if (r != X86_EMU_OK)
				fail_msg("%s (%s): %s on the clean run", f->name, describe(&c, &in),
					 result_name(r));
			n = mem.n;
			for (unsigned a = 0; a < n; a++) {
				uint64_t done;
				bool a32_none;

				mem_reset();
				mem.fault_at = (int)a;
				emu_init(&e, &in, start, 0);
				r = x86_emulate(&e, &c.insn);
				if (mem.error[0])
					fail_msg("%s (%s, access %u faults): %s", f->name, describe(&c, &in), a,
						 mem.error);
				if (r != X86_EMU_FAULT)
					fail_msg("%s (%s, access %u faults): %s, want FAULT", f->name,
						 describe(&c, &in), a, result_name(r));
				done = (5 - (e.gpr[RCX] & cmask)) & cmask;
				if (done >= 5)
					fail_msg("%s (%s, access %u faults): RCX %#llx", f->name, describe(&c, &in),
						 a, (unsigned long long)e.gpr[RCX]);
				most = done > most ? done : most;
				cpu = in;
				cpu.gpr[RCX] = (in.gpr[RCX] & ~cmask) | done;
				restore_native();
				emt_run(&cpu, f->start);
				x = (struct expect){ .skip_gpr = 1u << RCX, .rip = start, .exc = -1 };
				/* The CPU ran with a count of 0, which on Intel
				 * with a 32-bit address size clears the upper
				 * halves (rep_none_a32); a fault is not that case:
				 * the emulator changes nothing, as the manuals say. */
				a32_none = done == 0 && cmask == 0xffffffffu && host_is_intel();
				if (a32_none)
					x.skip_gpr |= 1u << RSI | 1u << RDI;
				compare(&c, &in, &cpu, &e, &x);
				if (!a32_none && ((e.gpr[RCX] ^ cpu.gpr[RCX]) & ~cmask))
					fail_msg("%s (%s, access %u faults): rcx %#llx, the CPU's upper half %#llx",
						 f->name, describe(&c, &in), a, (unsigned long long)e.gpr[RCX],
						 (unsigned long long)cpu.gpr[RCX]);
				restore_native();
			}
		}
		if (most == 0)
			fail_msg("%s: no fault came after a finished element", f->name);
	}
}

/* The read of a read-modify-write asks for write access (X86_EMU_WRITE), so
 * that no device sees a read whose write would fault; a plain read does
 * not; a write-only form does not read; writes carry X86_EMU_WRITE. */
TEST(rmw_read_asks_for_write)
{
	enum { RO, RMW, WO };
	static const struct {
		struct bytes t;
		int how;
	} cases[] = {
		{ B("add [rbx], ecx", 0x01, 0x0b), RMW },
		{ B("or [rbx], cl", 0x08, 0x0b), RMW },
		{ B("adc [rbx], rcx", 0x48, 0x11, 0x0b), RMW },
		{ B("sbb [rbx], cx", 0x66, 0x19, 0x0b), RMW },
		{ B("and [rbx], ecx", 0x21, 0x0b), RMW },
		{ B("sub dword [rbx], 1", 0x83, 0x2b, 0x01), RMW },
		{ B("xor byte [rbx], 1", 0x80, 0x33, 0x01), RMW },
		{ B("inc dword [rbx]", 0xff, 0x03), RMW },
		{ B("dec byte [rbx]", 0xfe, 0x0b), RMW },
		{ B("not dword [rbx]", 0xf7, 0x13), RMW },
		{ B("neg dword [rbx]", 0xf7, 0x1b), RMW },
		{ B("xchg [rbx], ecx", 0x87, 0x0b), RMW },
		{ B("xadd [rbx], ecx", 0x0f, 0xc1, 0x0b), RMW },
		{ B("cmpxchg [rbx], ecx", 0x0f, 0xb1, 0x0b), RMW },
		{ B("bts [rbx], ecx", 0x0f, 0xab, 0x0b), RMW },
		{ B("btr [rbx], ecx", 0x0f, 0xb3, 0x0b), RMW },
		{ B("btc dword [rbx], 5", 0x0f, 0xba, 0x3b, 0x05), RMW },
		{ B("shl dword [rbx], cl", 0xd3, 0x23), RMW },
		{ B("rol dword [rbx], 5", 0xc1, 0x03, 0x05), RMW },
		{ B("shld [rbx], edx, cl", 0x0f, 0xa5, 0x13), RMW },
		{ B("lock add [rbx], ecx", 0xf0, 0x01, 0x0b), RMW },
		{ B("cmp [rbx], ecx", 0x39, 0x0b), RO },
		{ B("cmp ecx, [rbx]", 0x3b, 0x0b), RO },
		{ B("add ecx, [rbx]", 0x03, 0x0b), RO },
		{ B("test [rbx], ecx", 0x85, 0x0b), RO },
		{ B("test dword [rbx], 1", 0xf7, 0x03, 0x01, 0x00, 0x00, 0x00), RO },
		{ B("mov ecx, [rbx]", 0x8b, 0x0b), RO },
		{ B("movzx ecx, byte [rbx]", 0x0f, 0xb6, 0x0b), RO },
		{ B("bt [rbx], ecx", 0x0f, 0xa3, 0x0b), RO },
		{ B("bt dword [rbx], 5", 0x0f, 0xba, 0x23, 0x05), RO },
		{ B("cmove ecx, [rbx]", 0x0f, 0x44, 0x0b), RO },
		{ B("imul ecx, [rbx]", 0x0f, 0xaf, 0x0b), RO },
		{ B("mul dword [rbx]", 0xf7, 0x23), RO },
		{ B("div dword [rbx]", 0xf7, 0x33), RO },
		{ B("bsf ecx, [rbx]", 0x0f, 0xbc, 0x0b), RO },
		{ B("push qword [rbx]", 0xff, 0x33), RO },
		{ B("mov [rbx], ecx", 0x89, 0x0b), WO },
		{ B("mov dword [rbx], 1", 0xc7, 0x03, 0x01, 0x00, 0x00, 0x00), WO },
		{ B("sete byte [rbx]", 0x0f, 0x94, 0x03), WO },
		{ B("movnti [rbx], ecx", 0x0f, 0xc3, 0x0b), WO },
	};

	for (unsigned k = 0; k < N_ELEMS(cases); k++) {
		const char *t = cases[k].t.text;
		uint64_t op = (uintptr_t)emt_page + OPND;
		bool read = false, wrote = false;
		struct cpu in;
		struct x86_emu e;
		struct x86_insn insn;
		enum x86_emu_result r;

		plain_regs(&in);
		page_value(OPND, 0x12345678);
		r = emu_bytes(&cases[k].t, &in, &e, &insn);
		if (mem.error[0])
			fail_msg("%s: %s", t, mem.error);
		if (r != X86_EMU_OK)
			fail_msg("%s: %s%s%s", t, result_name(r), e.unhandled ? ": " : "",
				 e.unhandled ? e.unhandled : "");
		for (unsigned a = 0; a < mem.n && a < N_ELEMS(mem.log); a++) {
			const struct access *x = &mem.log[a];

			if (x->write && !(x->flags & X86_EMU_WRITE))
				fail_msg("%s: a write without X86_EMU_WRITE", t);
			if (x->off != op)
				continue;
			if (x->write) {
				if (cases[k].how == RMW && !read)
					fail_msg("%s: wrote the operand before reading it", t);
				wrote = true;
				continue;
			}
			read = true;
			if (cases[k].how == RMW && !(x->flags & X86_EMU_WRITE))
				fail_msg("%s: the read of a read-modify-write lacks X86_EMU_WRITE", t);
			if (cases[k].how == RO && (x->flags & X86_EMU_WRITE))
				fail_msg("%s: a plain read with X86_EMU_WRITE", t);
		}
		if (cases[k].how != WO && !read)
			fail_msg("%s: the operand was not read", t);
		if (cases[k].how == WO && read)
			fail_msg("%s: a write-only form read the operand", t);
		if (cases[k].how == RO && wrote)
			fail_msg("%s: a read-only form wrote the operand", t);
		if (cases[k].how == WO && !wrote)
			fail_msg("%s: the operand was not written", t);
	}
}

/* The segment of each access: DS by default, SS for an rBP or rSP base
 * (not for R13/R12, not for rBP as an index), the override where there is
 * one, ES for the destination of a string instruction whatever the
 * override (SDM vol. 1 §3.7.4, "MOVS"), and X86_EMU_STACK only for the
 * implicit stack accesses (not for an explicit [rsp] operand). */
TEST(access_segments)
{
	struct acc {
		bool write;
		int8_t seg;
		bool stack;
	};
	static const struct {
		struct bytes t;
		uint8_t n;
		struct acc a[2];
	} cases[] = {
		{ B("mov ecx, [rbx]", 0x8b, 0x0b), 1, { { false, 3, false } } },
		{ B("mov ecx, fs:[rbx]", 0x64, 0x8b, 0x0b), 1, { { false, 4, false } } },
		{ B("mov ecx, gs:[rbx]", 0x65, 0x8b, 0x0b), 1, { { false, 5, false } } },
		{ B("mov ecx, [rbp+0]", 0x8b, 0x4d, 0x00), 1, { { false, 2, false } } },
		{ B("mov ecx, [rsp]", 0x8b, 0x0c, 0x24), 1, { { false, 2, false } } },
		{ B("mov [rsp], ecx", 0x89, 0x0c, 0x24), 1, { { true, 2, false } } },
		{ B("mov ecx, [r13+0]", 0x41, 0x8b, 0x4d, 0x00), 1, { { false, 3, false } } },
		{ B("mov ecx, [r12]", 0x41, 0x8b, 0x0c, 0x24), 1, { { false, 3, false } } },
		{ B("mov ecx, [r8+rbp]", 0x41, 0x8b, 0x0c, 0x28), 1, { { false, 3, false } } },
		{ B("mov ecx, [rbp+r8]", 0x42, 0x8b, 0x4c, 0x05, 0x00), 1, { { false, 2, false } } },
		{ B("mov ecx, fs:[rbp+0]", 0x64, 0x8b, 0x4d, 0x00), 1, { { false, 4, false } } },
		{ B("movsb", 0xa4), 2, { { false, 3, false }, { true, 0, false } } },
		{ B("fs movsb", 0x64, 0xa4), 2, { { false, 4, false }, { true, 0, false } } },
		{ B("cmpsb", 0xa6), 2, { { false, 3, false }, { false, 0, false } } },
		{ B("gs cmpsb", 0x65, 0xa6), 2, { { false, 5, false }, { false, 0, false } } },
		{ B("stosb", 0xaa), 1, { { true, 0, false } } },
		{ B("fs stosb", 0x64, 0xaa), 1, { { true, 0, false } } },
		{ B("lodsb", 0xac), 1, { { false, 3, false } } },
		{ B("gs lodsb", 0x65, 0xac), 1, { { false, 5, false } } },
		{ B("scasb", 0xae), 1, { { false, 0, false } } },
		{ B("fs scasb", 0x64, 0xae), 1, { { false, 0, false } } },
		{ B("push qword [rbx]", 0xff, 0x33), 2, { { false, 3, false }, { true, 2, true } } },
		{ B("fs push qword [rbx]", 0x64, 0xff, 0x33), 2, { { false, 4, false }, { true, 2, true } } },
		{ B("pop qword [rbx]", 0x8f, 0x03), 2, { { false, 2, true }, { true, 3, false } } },
		{ B("push rcx", 0x51), 1, { { true, 2, true } } },
		{ B("pop rcx", 0x59), 1, { { false, 2, true } } },
		{ B("call [rbx]", 0xff, 0x13), 2, { { false, 3, false }, { true, 2, true } } },
		{ B("ret", 0xc3), 1, { { false, 2, true } } },
	};

	for (unsigned k = 0; k < N_ELEMS(cases); k++) {
		const char *t = cases[k].t.text;
		bool used[2] = { false, false };
		struct cpu in;
		struct x86_emu e;
		struct x86_insn insn;
		enum x86_emu_result r;

		plain_regs(&in);
		/* CALL [rbx] and RET need a canonical target, or they #GP. */
		page_value(OPND, RIP0 + 0x100);
		put(in.gpr[RSP], 8, RIP0 + 0x100);
		r = emu_bytes(&cases[k].t, &in, &e, &insn);
		if (mem.error[0])
			fail_msg("%s: %s", t, mem.error);
		if (r != X86_EMU_OK)
			fail_msg("%s: %s%s%s", t, result_name(r), e.unhandled ? ": " : "",
				 e.unhandled ? e.unhandled : "");
		if (mem.n != cases[k].n)
			fail_msg("%s: %u accesses, want %u", t, mem.n, cases[k].n);
		/* In either order (CMPS may read ES:RDI first). */
		for (unsigned a = 0; a < mem.n; a++) {
			const struct access *x = &mem.log[a];
			unsigned w = 0;

			while (w < cases[k].n && (used[w] || cases[k].a[w].write != x->write ||
						  cases[k].a[w].seg != x->seg ||
						  cases[k].a[w].stack != !!(x->flags & X86_EMU_STACK)))
				w++;
			if (w == cases[k].n)
				fail_msg("%s: unexpected %s seg %d flags %#x", t, x->write ? "write" : "read",
					 x->seg, x->flags);
			used[w] = true;
		}
	}
}

#define FORM_TEST(name, ...) { #name, run_form, NULL, NULL, &F_##name },

static int group_setup(void **state)
{
	void *low = mmap((void *)(uintptr_t)LOW_VA, PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	(void)state;
	__asm__("mov %%es, %0" : "=r"(host_sel[0]));
	__asm__("mov %%cs, %0" : "=r"(host_sel[1]));
	__asm__("mov %%ss, %0" : "=r"(host_sel[2]));
	__asm__("mov %%ds, %0" : "=r"(host_sel[3]));
	__asm__("mov %%fs, %0" : "=r"(host_sel[4]));
	__asm__("mov %%gs, %0" : "=r"(host_sel[5]));
	regions[R_PAGE] = (struct region){ .base = (uintptr_t)emt_page, .native = emt_page };
	regions[R_STACK] = (struct region){ .base = (uintptr_t)emt_stack, .native = emt_stack };
	if (low == (void *)(uintptr_t)LOW_VA)
		regions[R_LOW] = (struct region){ .base = LOW_VA, .native = low };
	else if (low != MAP_FAILED)
		munmap(low, PAGE);
	return 0;
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(harness_native),
		ALL_FORMS(FORM_TEST)
		cmocka_unit_test(div_de_zero_and_overflow),
		cmocka_unit_test(lock_unlockable_is_ud),
		cmocka_unit_test(sse_aligned_misaligned_is_gp),
		cmocka_unit_test(callback_fault_changes_nothing),
		cmocka_unit_test(rep_fault_keeps_progress),
		cmocka_unit_test(rmw_read_asks_for_write),
		cmocka_unit_test(access_segments),
	};

	return cmocka_run_group_tests_name("emulate", tests, group_setup, NULL);
}
