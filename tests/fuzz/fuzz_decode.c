/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for hv/arch/x86/decode.c.  Input: one byte selecting the
 * mode (mod 3), then the instruction bytes.  Every decode runs on a heap
 * copy of exactly `avail` bytes, so AddressSanitizer reports any read past
 * `avail`; UBSan any overflow or bad shift.  The invariants checked:
 *  - the result is OK, TRUNCATED or INVALID; TRUNCATED only with < 15 bytes;
 *  - on success 1 <= len <= 15, len <= avail, and the fields are in range;
 *  - decoding the same bytes twice gives the same result;
 *  - for every shorter avail the answer is TRUNCATED or the same answer:
 *    every prefix of a decoded instruction is TRUNCATED, and its own bytes
 *    cut to its length decode to the same instruction;
 *  - a memory operand's offset fits its address size, its segment is one
 *    of the six. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <petrel/x86_decode.h>

#include "fuzz.h"

static int decode_copy(const uint8_t *b, size_t n, enum x86_mode mode, struct x86_insn *out)
{
	uint8_t *copy = malloc(n ? n : 1);
	int r;

	CHECK(copy != NULL);
	if (n)
		memcpy(copy, b, n);
	r = x86_decode(copy, n, mode, out);
	free(copy);
	return r;
}

static int same(const struct x86_insn *a, const struct x86_insn *b)
{
	return a->len == b->len && a->mode == b->mode && a->opsize == b->opsize &&
	       a->addrsize == b->addrsize && a->rep == b->rep && a->seg == b->seg &&
	       a->lock == b->lock && a->p66 == b->p66 && a->rex == b->rex && a->vex == b->vex &&
	       !memcmp(a->vex_p, b->vex_p, sizeof(a->vex_p)) && a->opmap == b->opmap &&
	       a->opcode == b->opcode && a->has_modrm == b->has_modrm &&
	       a->has_sib == b->has_sib && a->modrm == b->modrm && a->sib == b->sib &&
	       a->disp_size == b->disp_size && a->imm_size == b->imm_size &&
	       a->imm2_size == b->imm2_size && a->imm2 == b->imm2 && a->disp == b->disp &&
	       a->imm == b->imm;
}

static int is_size(unsigned s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

static void check_fields(const struct x86_insn *in, enum x86_mode mode, size_t avail)
{
	unsigned parts = in->has_modrm + in->has_sib + in->disp_size + in->imm_size + in->imm2_size;

	CHECK(in->len >= 1 && in->len <= X86_MAX_INSN_LEN && in->len <= avail);
	CHECK(in->mode == mode);
	CHECK(in->opsize == 2 || in->opsize == 4 || in->opsize == 8);
	CHECK(in->addrsize == 2 || in->addrsize == 4 || in->addrsize == 8);
	CHECK(mode == X86_MODE_64 ? in->addrsize != 2 : in->addrsize != 8);
	CHECK(in->opsize != 8 || mode == X86_MODE_64);
	CHECK(in->rex == 0 || (mode == X86_MODE_64 && (in->rex & 0xf0) == 0x40));
	CHECK(in->seg >= -1 && in->seg <= 5);
	CHECK(in->rep == 0 || in->rep == 0xf2 || in->rep == 0xf3);
	CHECK(!in->has_sib || in->has_modrm);
	CHECK(in->disp_size == 0 || is_size(in->disp_size));
	CHECK(in->imm_size <= 8 && in->imm2_size <= 2);
	/* The opcode byte(s) plus what the fields account for fit in len. */
	CHECK(1u + (in->opmap >= 1 && !in->vex) + (in->opmap >= 2 && !in->vex) + parts <= in->len);
	CHECK(in->vex == 0 || in->vex == 0xc4 || in->vex == 0xc5 || in->vex == 0x62 || in->vex == 0x8f);
	CHECK(in->vex || in->opmap <= 3);
	if (in->imm_size < 8)
		CHECK((in->imm >> (8 * in->imm_size)) == 0);
}


/* The memory operand: an offset within the address size and a segment
 * 0..5, for every instruction with a memory ModRM (or moffs); registers
 * with all bits set, so any overflow in the sum is exercised. */
static void check_mem_operand(const struct x86_insn *in)
{
	uint64_t g[16], off = 0;
	int seg = -1;

	memset(g, 0xff, sizeof(g));
	if (x86_mem_operand(in, g, ~0ull, &off, &seg))
		return;
	CHECK(seg >= 0 && seg <= 5);
	CHECK(in->addrsize == 8 || off < (1ull << (8 * in->addrsize)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x86_insn in, again;
	enum x86_mode mode;
	const uint8_t *b;
	size_t n;
	int r, r2;

	if (size < 1)
		return 0;
	mode = (enum x86_mode)(data[0] % 3);
	b = data + 1;
	n = size - 1;

	r = decode_copy(b, n, mode, &in);
	CHECK(r == X86_DECODE_OK || r == X86_DECODE_TRUNCATED || r == X86_DECODE_INVALID);
	CHECK(r != X86_DECODE_TRUNCATED || n < X86_MAX_INSN_LEN);
	r2 = decode_copy(b, n, mode, &again);
	CHECK(r2 == r && (r != X86_DECODE_OK || same(&in, &again)));

	/* A shorter avail: TRUNCATED, or the same answer (bytes are read in order
	 * and never past the 15th, so the answer only depends on those). */
	for (size_t k = 0; k < n && k <= X86_MAX_INSN_LEN; k++) {
		r2 = decode_copy(b, k, mode, &again);
		if (r == X86_DECODE_OK && k < in.len)
			CHECK(r2 == X86_DECODE_TRUNCATED);
		else
			CHECK(r2 == X86_DECODE_TRUNCATED || r2 == r);
		if (r == X86_DECODE_OK && k >= in.len)
			CHECK(r2 == X86_DECODE_OK && same(&in, &again));
	}

	if (r != X86_DECODE_OK)
		return 0;
	check_fields(&in, mode, n);
	r2 = decode_copy(b, in.len, mode, &again);
	CHECK(r2 == X86_DECODE_OK && same(&in, &again));
	check_mem_operand(&in);
	return 0;
}
