/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the instruction emulator (hv/arch/x86/emulate_insn.c)
 * on top of the decoder.  Input (zero-padded when shorter):
 *     0      control: bits 0-2 the access that faults (0: none, n: the
 *            (n-1)th of a call), bits 3-4 rep_chunk - 1, bit 5 canonical57,
 *            bit 6 no XMM/MMX callbacks, bit 7 no system callbacks
 *     1      control: bits 0-1 sse_usable (NULL, 0, #UD, #NM), bits 2-3 what
 *            the segment/descriptor callbacks return (0, -1, -2, 0),
 *            bits 4-5 stack_size, bits 6-7 CPL (-2 only from load_seg and
 *            load_far_cs: the others answer 0 or -1)
 *     2-16   15 instruction bytes
 *    17-144  RAX..R15       145-152 RIP      153-160 RFLAGS
 *   161-168  CR0            169-176 CR4      177-188 the six selectors
 *   189-252  64 bytes of memory: every seg:off maps to off mod 64
 * Each of the three modes decodes the bytes; what decodes runs through
 * x86_emulate, again while it answers X86_EMU_MORE (at most 32 calls).
 * The invariants checked, per call:
 *  - the callbacks get len 1..16, seg 0..5, only the WRITE/STACK flags,
 *    XMM 0..15, MMX 0..7, and no access after one that faulted; a call
 *    makes at most 64 accesses (rep_chunk is honoured);
 *  - FAULT only after a callback returned -1;
 *  - FAULT, EXCEPTION and UNHANDLED change neither RIP nor the registers,
 *    RFLAGS, XMM or MMX, except that a REP string instruction keeps its
 *    progress (RCX RSI RDI RAX and the arithmetic flags) on a FAULT;
 *  - EXCEPTION is #DE #UD #NM #SS #GP or #AC with its error code where
 *    the vector has one; #DE and #UD write no memory; UNHANDLED says what;
 *  - MORE only for a REP string instruction, RIP unchanged;
 *  - OK moves RIP to RIP + len unless the instruction is a branch, and
 *    leaves the non-arithmetic flags alone unless it is POPF, IRET, CLI,
 *    STI, CLD or STD;
 *  - the same call twice from the same state gives the same answer.
 * Memory stays within its 64 bytes whatever the offsets (ASan). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <petrel/x86_decode.h>
#include <petrel/x86_emulate.h>

#include "fuzz.h"

#define INPUT 253
#define MEM 64
#define MAX_CALLS 32
#define MAX_ACCESSES 64
#define RAX 0
#define RCX 1
#define RSI 6
#define RDI 7

/* Everything the callbacks see and change, so that a call can be rerun
 * from the same state and its result compared. */
struct world {
	uint8_t mem[MEM];
	uint8_t xmm[16][16];
	uint8_t mm[8][8];
};

static struct {
	struct world w;
	unsigned accesses;  /* in this call */
	unsigned writes;
	int fault_at;       /* -1: none */
	bool faulted;
	int sys_result;     /* what load_seg & co. answer */
	int sse_result;
} st;

static int mem_access(bool write, int seg, uint64_t off, uint8_t *buf, unsigned len, unsigned flags)
{
	unsigned k = st.accesses++;

	CHECK(len >= 1 && len <= 16);
	CHECK(seg >= 0 && seg <= 5);
	CHECK((flags & ~(X86_EMU_WRITE | X86_EMU_STACK)) == 0);
	CHECK(!st.faulted);
	CHECK(st.accesses <= MAX_ACCESSES);
	if ((int)k == st.fault_at) {
		st.faulted = true;
		return -1;
	}
	for (unsigned i = 0; i < len; i++) {
		uint8_t *p = &st.w.mem[(off + i) % MEM];
		if (write)
			*p = buf[i];
		else
			buf[i] = *p;
	}
	st.writes += write;
	return 0;
}

static int cb_read(void *o, int seg, uint64_t off, void *buf, unsigned len, unsigned flags)
{
	(void)o;
	return mem_access(false, seg, off, buf, len, flags);
}

static int cb_write(void *o, int seg, uint64_t off, const void *buf, unsigned len, unsigned flags)
{
	uint8_t tmp[16];

	(void)o;
	CHECK(len >= 1 && len <= 16);
	memcpy(tmp, buf, len);
	return mem_access(true, seg, off, tmp, len, flags);
}

static void cb_get_xmm(void *o, unsigned reg, uint8_t v[16])
{
	(void)o;
	CHECK(reg < 16);
	memcpy(v, st.w.xmm[reg], 16);
}

static void cb_set_xmm(void *o, unsigned reg, const uint8_t v[16])
{
	(void)o;
	CHECK(reg < 16);
	memcpy(st.w.xmm[reg], v, 16);
}

static void cb_get_mmx(void *o, unsigned reg, uint8_t v[8])
{
	(void)o;
	CHECK(reg < 8);
	memcpy(v, st.w.mm[reg], 8);
}

static void cb_set_mmx(void *o, unsigned reg, const uint8_t v[8])
{
	(void)o;
	CHECK(reg < 8);
	memcpy(st.w.mm[reg], v, 8);
}

static int cb_sse_usable(void *o, bool mmx)
{
	(void)o, (void)mmx;
	return st.sse_result;
}

/* The system callbacks: a -1 counts as a fault the caller queued; -2 (a
 * gate, a TSS: not run) is an answer only load_seg and load_far_cs have. */
static int sys_answer(bool may_refuse)
{
	int r = st.sys_result == -2 && !may_refuse ? 0 : st.sys_result;

	CHECK(!st.faulted);
	if (r == -1)
		st.faulted = true;
	return r;
}

static int cb_load_dtr(void *o, bool idt, uint64_t base, uint16_t limit)
{
	(void)o, (void)idt, (void)base, (void)limit;
	return sys_answer(false);
}

static int cb_load_sys_seg(void *o, bool tr, uint16_t sel)
{
	(void)o, (void)tr, (void)sel;
	return sys_answer(false);
}

static int cb_load_seg(void *o, int seg, uint16_t sel)
{
	(void)o, (void)sel;
	CHECK(seg >= 0 && seg <= 5 && seg != 1); /* CS only through load_far_cs */
	return sys_answer(true);
}

static int cb_load_far_cs(void *o, uint16_t sel, uint64_t *target)
{
	(void)o, (void)sel;
	CHECK(target != NULL);
	return sys_answer(true);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* Instructions that may leave RIP anywhere. */
static bool is_branch(const struct x86_insn *in)
{
	uint8_t op = in->opcode, r = X86_MODRM_REG(in->modrm);

	if (in->vex)
		return false;
	if (in->opmap == 1) /* Jcc, SYSCALL SYSRET SYSENTER SYSEXIT, RSM */
		return (op & 0xf0) == 0x80 || op == 0x05 || op == 0x07 || op == 0x34 || op == 0x35 ||
		       op == 0xaa;
	if (in->opmap != 0)
		return false;
	return (op & 0xf0) == 0x70 || (op >= 0xe0 && op <= 0xe3) || op == 0xe8 || op == 0xe9 ||
	       op == 0xea || op == 0xeb || op == 0x9a || op == 0xc2 || op == 0xc3 || op == 0xca ||
	       op == 0xcb || op == 0xcc || op == 0xcd || op == 0xce || op == 0xcf || op == 0xf1 ||
	       (op == 0xff && r >= 2 && r <= 5) || (op == 0xc7 && in->modrm == 0xf8) /* XBEGIN */;
}

/* Instructions whose job includes non-arithmetic flags: POPF, IRET, CLI,
 * STI, CLD, STD, the software interrupts, SYSCALL & co., RSM, CLAC/STAC. */
static bool sets_system_flags(const struct x86_insn *in)
{
	uint8_t op = in->opcode;

	if (in->vex)
		return false;
	if (in->opmap == 1)
		return op == 0x05 || op == 0x07 || op == 0x34 || op == 0x35 || op == 0xaa ||
		       (op == 0x01 && (in->modrm == 0xca || in->modrm == 0xcb));
	return in->opmap == 0 && (op == 0x9d || op == 0xcf || (op >= 0xfa && op <= 0xfd) ||
				  (op >= 0xcc && op <= 0xce) || op == 0xf1);
}

static bool is_string(const struct x86_insn *in)
{
	uint8_t op = in->opcode;

	return in->opmap == 0 && !in->vex && ((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf));
}

static bool has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

/* Checks one call's answer against the state before it. */
static void check_call(const struct x86_insn *in, const struct x86_emu *before, const struct world *wb,
		       const struct x86_emu *e, enum x86_emu_result r, unsigned writes)
{
	bool moved = false;

	CHECK(r == X86_EMU_OK || r == X86_EMU_MORE || r == X86_EMU_FAULT || r == X86_EMU_EXCEPTION ||
	      r == X86_EMU_UNHANDLED);
	CHECK(r != X86_EMU_FAULT || st.faulted);
	if (r == X86_EMU_OK) {
		CHECK(is_branch(in) || e->rip == before->rip + in->len);
		CHECK(sets_system_flags(in) || ((e->rflags ^ before->rflags) & ~X86_FLAGS_ARITH) == 0);
		return;
	}
	if (r == X86_EMU_MORE) {
		CHECK(in->rep && is_string(in) && before->rep_chunk);
		CHECK(e->rip == before->rip);
		return;
	}
	if (r == X86_EMU_EXCEPTION) {
		unsigned v = e->exc_vector;
		CHECK(v == 0 || v == 6 || v == 7 || v == 12 || v == 13 || v == 17);
		CHECK(e->exc_has_error == has_error_code(v));
		CHECK((v != 0 && v != 6) || writes == 0);
	}
	if (r == X86_EMU_UNHANDLED)
		CHECK(e->unhandled != NULL && e->unhandled[0] != 0);

	/* Nothing moved, but a REP string instruction's finished elements. */
	CHECK(e->rip == before->rip);
	for (unsigned g = 0; g < 16; g++) {
		bool progress = g == RCX || g == RSI || g == RDI || g == RAX;
		if (e->gpr[g] != before->gpr[g]) {
			CHECK(r == X86_EMU_FAULT && in->rep && is_string(in) && progress);
			moved = true;
		}
	}
	CHECK(e->rflags == before->rflags ||
	      (moved && ((e->rflags ^ before->rflags) & ~X86_FLAGS_ARITH) == 0));
	CHECK(memcmp(st.w.xmm, wb->xmm, sizeof(wb->xmm)) == 0);
	CHECK(memcmp(st.w.mm, wb->mm, sizeof(wb->mm)) == 0);
}

static void run_mode(const uint8_t *d, enum x86_mode mode)
{
	static const int sys_results[4] = { 0, -1, -2, 0 };
	static const int sse_results[4] = { 0, 0, 6, 7 };
	static const uint8_t stack_sizes[4] = { 0, 2, 4, 8 };
	uint8_t c0 = d[0], c1 = d[1];
	struct x86_insn in;
	struct x86_emu e = { 0 };

	if (x86_decode(d + 2, X86_MAX_INSN_LEN, mode, &in) != X86_DECODE_OK)
		return;

	for (unsigned g = 0; g < 16; g++)
		e.gpr[g] = get64(d + 17 + 8 * g);
	/* A RIP from which RIP + len cannot wrap in the mode. */
	e.rip = get64(d + 145) & (mode == X86_MODE_16 ? 0xff00ull : mode == X86_MODE_32 ? 0xffffff00ull
										 : 0x00007fffffffff00ull);
	e.rflags = get64(d + 153) | 2;
	e.canonical57 = c0 & 0x20;
	e.stack_size = stack_sizes[(c1 >> 4) & 3];
	if (mode == X86_MODE_64 ? e.stack_size != 8 : e.stack_size == 8)
		e.stack_size = 0;
	e.cr0 = get64(d + 161);
	e.cr4 = get64(d + 169);
	e.cpl = c1 >> 6;
	memcpy(e.sel, d + 177, sizeof(e.sel));
	e.read = cb_read;
	e.write = cb_write;
	if (!(c0 & 0x40)) {
		e.get_xmm = cb_get_xmm;
		e.set_xmm = cb_set_xmm;
		e.get_mmx = cb_get_mmx;
		e.set_mmx = cb_set_mmx;
		if (c1 & 3)
			e.sse_usable = cb_sse_usable;
	}
	if (!(c0 & 0x80)) {
		e.load_dtr = cb_load_dtr;
		e.load_sys_seg = cb_load_sys_seg;
		e.load_seg = cb_load_seg;
		e.load_far_cs = cb_load_far_cs;
	}
	e.opaque = &st;
	e.rep_chunk = 1 + ((c0 >> 3) & 3);

	memcpy(st.w.mem, d + 189, MEM);
	for (unsigned r = 0; r < 16; r++)
		memset(st.w.xmm[r], (int)(d[2 + r % 15] ^ r), 16);
	for (unsigned r = 0; r < 8; r++)
		memset(st.w.mm[r], (int)(d[2 + r] ^ 0x5a), 8);
	st.sys_result = sys_results[(c1 >> 2) & 3];
	st.sse_result = sse_results[c1 & 3];

	for (unsigned call = 0; call < MAX_CALLS; call++) {
		struct x86_emu before = e, again = e;
		struct world wb = st.w, after;
		enum x86_emu_result r, r2;
		unsigned writes;

		st.accesses = st.writes = 0;
		st.faulted = false;
		st.fault_at = (c0 & 7) ? (c0 & 7) - 1 : -1;
		r = x86_emulate(&e, &in);
		writes = st.writes;
		check_call(&in, &before, &wb, &e, r, writes);

		/* Deterministic: the same call from the same state. */
		after = st.w;
		st.w = wb;
		st.accesses = st.writes = 0;
		st.faulted = false;
		r2 = x86_emulate(&again, &in);
		CHECK(r2 == r && memcmp(again.gpr, e.gpr, sizeof(e.gpr)) == 0 && again.rip == e.rip &&
		      again.rflags == e.rflags && memcmp(&st.w, &after, sizeof(after)) == 0);

		if (r != X86_EMU_MORE)
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t d[INPUT] = { 0 };

	memcpy(d, data, size < INPUT ? size : INPUT);
	for (unsigned mode = 0; mode < 3; mode++)
		run_mode(d, (enum x86_mode)mode);
	return 0;
}
