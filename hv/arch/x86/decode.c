/* SPDX-License-Identifier: MIT */
/* x86 instruction length decoder and memory operands; see
 * petrel/x86_decode.h for the scope and the choices made.
 *
 * Why not Zydis.  Debian's libzydis-dev (4.0.0, with libzycore-dev) ships
 * only headers and a hosted shared library: libZydis.so is PIC, NEEDs
 * libc.so.6 (memcpy, memset, strlen, __assert_fail, __stack_chk_fail) and
 * contains SSE code, so nothing of the package links into a -nostdlib
 * -mgeneral-regs-only -mno-red-zone kernel.  Upstream can be built with
 * ZYAN_NO_LIBC, but that means vendoring Zydis and Zycore (tens of
 * thousands of lines, mostly generated tables; Debian's build is ~600 KB of
 * text) and building it with our flags, for a full disassembler of which we
 * need the length and the memory operand; the emulation would still be
 * ours (emulate_insn.c).  A table-driven decoder of ~600 lines, cross-checked against
 * objdump on a large corpus and fuzzed, is smaller to audit and to keep. */
#include <petrel/x86_decode.h>

/* Per-opcode attributes.  The low nibble is the immediate's kind. */
enum {
	IMM_NONE,
	IMM_B,      /* ib, rel8 */
	IMM_W,      /* iw */
	IMM_Z,      /* iz, rel16/32: 2 or 4 bytes by operand size */
	IMM_V,      /* iv: 2, 4 or 8 (MOV r, imm with REX.W) */
	IMM_MOFFS,  /* A0-A3: address-size offset */
	IMM_ENTER,  /* iw, ib */
	IMM_FAR,    /* ptr16:16 / ptr16:32 */
	IMM_GRP3,   /* F6/F7: ib/iz only for /0 and /1 (TEST) */
	IMM_SSE4A,  /* 0F 78: ib, ib with 66 (EXTRQ) or F2 (INSERTQ), else VMREAD */
	IMM_MASK = 0x0f,

	F_MODRM = 0x010,
	F_I64 = 0x020,  /* undefined in 64-bit mode */
	F_D64 = 0x040,  /* operand size defaults to 64 bits in 64-bit mode */
	F_BAD = 0x080,  /* undefined in every mode */
	F_MREG = 0x100, /* ModRM with mod ignored, always a register: MOV CR/DR */
};

/* Short names so that the tables read like the SDM's opcode maps. */
#define M  F_MODRM
#define X  F_I64
#define D  F_D64
#define B  F_BAD
#define Ib IMM_B
#define Iw IMM_W
#define Iz IMM_Z
#define Iv IMM_V
#define Mo IMM_MOFFS
#define En IMM_ENTER
#define Fp (IMM_FAR | F_I64)
#define G3 IMM_GRP3
#define P  0 /* prefix or escape: handled before the table is consulted */

/* One-byte map, SDM vol. 2 table A-2. */
static const uint16_t map0[256] = {
/*        0     1     2     3     4     5     6     7     8     9     A     B     C     D     E     F */
/* 0 */   M,    M,    M,    M,    Ib,   Iz,   X,    X,    M,    M,    M,    M,    Ib,   Iz,   X,    P,
/* 1 */   M,    M,    M,    M,    Ib,   Iz,   X,    X,    M,    M,    M,    M,    Ib,   Iz,   X,    X,
/* 2 */   M,    M,    M,    M,    Ib,   Iz,   P,    X,    M,    M,    M,    M,    Ib,   Iz,   P,    X,
/* 3 */   M,    M,    M,    M,    Ib,   Iz,   P,    X,    M,    M,    M,    M,    Ib,   Iz,   P,    X,
/* 4 */   0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
/* 5 */   D,    D,    D,    D,    D,    D,    D,    D,    D,    D,    D,    D,    D,    D,    D,    D,
/* 6 */   X,    X,    M|X,  M,    P,    P,    P,    P,    Iz|D, M|Iz, Ib|D, M|Ib, 0,    0,    0,    0,
/* 7 */   Ib|D, Ib|D, Ib|D, Ib|D, Ib|D, Ib|D, Ib|D, Ib|D, Ib|D, Ib|D, Ib|D, Ib|D, Ib|D, Ib|D, Ib|D, Ib|D,
/* 8 */   M|Ib, M|Iz, M|Ib|X, M|Ib, M,  M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M|D,
/* 9 */   0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    Fp,   0,    D,    D,    0,    0,
/* A */   Mo,   Mo,   Mo,   Mo,   0,    0,    0,    0,    Ib,   Iz,   0,    0,    0,    0,    0,    0,
/* B */   Ib,   Ib,   Ib,   Ib,   Ib,   Ib,   Ib,   Ib,   Iv,   Iv,   Iv,   Iv,   Iv,   Iv,   Iv,   Iv,
/* C */   M|Ib, M|Ib, Iw|D, D,    M|X,  M|X,  M|Ib, M|Iz, En|D, D,    Iw,   0,    0,    Ib,   X,    0,
/* D */   M,    M,    M,    M,    Ib|X, Ib|X, X,    0,    M,    M,    M,    M,    M,    M,    M,    M,
/* E */   Ib|D, Ib|D, Ib|D, Ib|D, Ib,   Ib,   Ib,   Ib,   Iz|D, Iz|D, Fp,   Ib|D, 0,    0,    0,    0,
/* F */   P,    0,    P,    P,    0,    0,    M|G3, M|G3, 0,    0,    0,    0,    0,    0,    M,    M,
};

/* Two-byte map (0F xx), SDM vol. 2 table A-3, with AMD's 3DNow! (0F 0F),
 * prefetch (0F 0D), FEMMS (0F 0E) and SSE4a (0F 78/79 with 66/F2), and
 * VIA PadLock (0F A6/A7 /r).  MOV to/from test registers (0F 24/26) went
 * with the 486. */
static const uint16_t map1[256] = {
/*        0     1     2     3     4     5     6     7     8     9     A     B     C     D     E     F */
/* 0 */   M,    M,    M,    M,    B,    0,    0,    0,    0,    0,    B,    0,    B,    M,    0,    M|Ib,
/* 1 */   M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,
/* 2 */   M|F_MREG, M|F_MREG, M|F_MREG, M|F_MREG, B, B, B,  B,    M,    M,    M,    M,    M,    M,    M,    M,
/* 3 */   0,    0,    0,    0,    0,    0,    B,    0,    P,    B,    P,    B,    B,    B,    B,    B,
/* 4 */   M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,
/* 5 */   M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,
/* 6 */   M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,
/* 7 */   M|Ib, M|Ib, M|Ib, M|Ib, M,    M,    M,    0,    M|IMM_SSE4A, M, B, B,   M,    M,    M,    M,
/* 8 */   Iz|D, Iz|D, Iz|D, Iz|D, Iz|D, Iz|D, Iz|D, Iz|D, Iz|D, Iz|D, Iz|D, Iz|D, Iz|D, Iz|D, Iz|D, Iz|D,
/* 9 */   M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,
/* A */   D,    D,    0,    M,    M|Ib, M,    M,    M,    D,    D,    0,    M,    M|Ib, M,    M,    M,
/* B */   M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M|Ib, M,    M,    M,    M,    M,
/* C */   M,    M,    M|Ib, M,    M|Ib, M|Ib, M|Ib, M,    0,    0,    0,    0,    0,    0,    0,    0,
/* D */   M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,
/* E */   M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,
/* F */   M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,    M,
};

#undef M
#undef X
#undef D
#undef B
#undef Ib
#undef Iw
#undef Iz
#undef Iv
#undef Mo
#undef En
#undef Fp
#undef G3
#undef P

/* The bytes being decoded.  Every read goes through next(), which enforces
 * both limits in a fixed order: a 16th byte is INVALID whatever `avail` is,
 * a byte at or past `avail` is TRUNCATED.  Bytes are read strictly in order,
 * so a shorter `avail` can only turn the final answer into TRUNCATED. */
struct cursor {
	const uint8_t *bytes;
	size_t avail;
	size_t pos;
	bool p67;
};

static int peek(const struct cursor *c, uint8_t *b)
{
	if (c->pos >= X86_MAX_INSN_LEN)
		return X86_DECODE_INVALID;
	if (c->pos >= c->avail)
		return X86_DECODE_TRUNCATED;
	*b = c->bytes[c->pos];
	return X86_DECODE_OK;
}

static int next(struct cursor *c, uint8_t *b)
{
	int r = peek(c, b);

	if (r == X86_DECODE_OK)
		c->pos++;
	return r;
}

/* Reads an n-byte little-endian value (n <= 8). */
static int next_le(struct cursor *c, unsigned n, uint64_t *v)
{
	uint8_t b;

	*v = 0;
	for (unsigned i = 0; i < n; i++) {
		int r = next(c, &b);

		if (r)
			return r;
		*v |= (uint64_t)b << (8 * i);
	}
	return X86_DECODE_OK;
}

/* Legacy prefixes in any order and number, then at most one effective REX
 * (64-bit mode), which must come last: a legacy prefix after a REX cancels
 * it (SDM vol. 2 §2.2.1).  Leaves the opcode byte in *op. */
static int read_prefixes(struct cursor *c, struct x86_insn *in, uint8_t *op)
{
	uint8_t b;
	int r;

	for (;;) {
		if ((r = next(c, &b)))
			return r;
		switch (b) {
		case 0x66: in->p66 = true; break;
		case 0x67: c->p67 = true; break;
		case 0xf0: in->lock = true; break;
		case 0xf2: case 0xf3: in->rep = b; break;
		case 0x26: case 0x2e: case 0x36: case 0x3e: in->seg = (int8_t)((b >> 3) & 3); break;
		case 0x64: case 0x65: in->seg = (int8_t)(b - 0x60); break;
		default:
			if (in->mode == X86_MODE_64 && (b & 0xf0) == 0x40) {
				in->rex = b;
				continue;
			}
			*op = b;
			return X86_DECODE_OK;
		}
		in->rex = 0;
	}
}

static void set_sizes(struct x86_insn *in, bool p67)
{
	switch (in->mode) {
	case X86_MODE_16:
		in->opsize = in->p66 ? 4 : 2;
		in->addrsize = p67 ? 4 : 2;
		break;
	case X86_MODE_32:
		in->opsize = in->p66 ? 2 : 4;
		in->addrsize = p67 ? 2 : 4;
		break;
	default:
		in->opsize = (in->rex & 8) ? 8 : in->p66 ? 2 : 4;
		in->addrsize = p67 ? 4 : 8;
		break;
	}
}

/* PUSH, POP, near branches...: 64-bit operands by default in 64-bit mode,
 * 16-bit with 66 (SDM vol. 1 §3.6.1, table 3-4). */
static void default64(struct x86_insn *in)
{
	if (in->mode == X86_MODE_64)
		in->opsize = (in->p66 && !(in->rex & 8)) ? 2 : 8;
}

/* ModRM, SIB and displacement (SDM vol. 2 §2.1.5, tables 2-1..2-3). */
static int read_modrm(struct cursor *c, struct x86_insn *in, bool ignore_mod)
{
	uint8_t mod, rm;
	uint64_t v;
	unsigned n = 0;
	int r;

	if ((r = next(c, &in->modrm)))
		return r;
	in->has_modrm = true;
	mod = X86_MODRM_MOD(in->modrm);
	rm = X86_MODRM_RM(in->modrm);
	/* MOV CR/DR: "the mod field is ignored", the operand is always a
	 * register (SDM vol. 2B, MOV—Move to/from Control Registers). */
	if (ignore_mod || mod == 3)
		return X86_DECODE_OK;
	if (in->addrsize == 2) {
		/* No SIB; [disp16] replaces [BP] when mod = 0. */
		n = mod == 1 ? 1 : (mod == 2 || rm == 6) ? 2 : 0;
	} else {
		if (rm == 4) {
			if ((r = next(c, &in->sib)))
				return r;
			in->has_sib = true;
			if (mod == 0 && (in->sib & 7) == 5)
				n = 4; /* no base: [index*s + disp32] */
		}
		if (mod == 0 && rm == 5)
			n = 4; /* disp32; RIP-relative in 64-bit mode */
		else if (mod == 1)
			n = 1;
		else if (mod == 2)
			n = 4;
	}
	if ((r = next_le(c, n, &v)))
		return r;
	in->disp_size = (uint8_t)n;
	in->disp = n == 1 ? (int8_t)v : n == 2 ? (int16_t)v : n == 4 ? (int32_t)v : 0;
	return X86_DECODE_OK;
}

/* Immediate sizes for an opcode kind: first and second immediate. */
static void imm_sizes(const struct x86_insn *in, unsigned kind, unsigned *n1, unsigned *n2)
{
	unsigned z = in->opsize == 2 ? 2 : 4;

	*n2 = 0;
	switch (kind) {
	case IMM_B: *n1 = 1; break;
	case IMM_W: *n1 = 2; break;
	case IMM_Z: *n1 = z; break;
	case IMM_V: *n1 = in->opsize; break;
	case IMM_ENTER: *n1 = 2; *n2 = 1; break;
	case IMM_FAR: *n1 = z; *n2 = 2; break;
	case IMM_GRP3:
		*n1 = X86_MODRM_REG(in->modrm) > 1 ? 0 : (in->opcode & 1) ? z : 1;
		break;
	case IMM_SSE4A:
		*n1 = *n2 = (in->p66 || in->rep == 0xf2) ? 1 : 0;
		break;
	default: *n1 = 0; break;
	}
}

static int read_imms(struct cursor *c, struct x86_insn *in, unsigned n1, unsigned n2)
{
	uint64_t v;
	int r;

	if ((r = next_le(c, n1, &in->imm)) || (r = next_le(c, n2, &v)))
		return r;
	in->imm_size = (uint8_t)n1;
	in->imm2 = (uint16_t)v;
	in->imm2_size = (uint8_t)n2;
	return X86_DECODE_OK;
}

/* Undefined ModRM.reg values of the opcode groups, and the few opcodes whose
 * meaning depends on something the tables cannot say. */
static bool group_valid(struct x86_insn *in)
{
	uint8_t reg = X86_MODRM_REG(in->modrm);

	if (in->opmap == 1) {
		switch (in->opcode) {
		case 0x00: return reg < 6;             /* group 6 */
		case 0xba: return reg >= 4;            /* group 8: BT BTS BTR BTC */
		case 0xb8: return in->rep == 0xf3;     /* POPCNT; bare 0F B8 is IA-64 JMPE */
		default: return true;
		}
	}
	switch (in->opcode) {
	case 0x8f: return reg == 0;                    /* POP r/m (XOP taken before) */
	case 0xc6: case 0xc7:                          /* MOV r/m, imm; XABORT/XBEGIN */
		return reg == 0 || in->modrm == 0xf8;
	case 0xfe: return reg <= 1;                    /* INC/DEC r/m8 */
	case 0xff:
		if (reg == 2 || reg == 4 || reg == 6)  /* near CALL/JMP, PUSH */
			default64(in);
		return reg != 7;
	default: return true;
	}
}

/* A legacy opcode of map 0 (one-byte) or 1 (0F): ModRM, then immediates. */
static int decode_legacy(struct cursor *c, struct x86_insn *in)
{
	uint16_t f = (in->opmap == 0 ? map0 : map1)[in->opcode];
	unsigned n1, n2;
	int r;

	if ((f & F_BAD) || ((f & F_I64) && in->mode == X86_MODE_64))
		return X86_DECODE_INVALID;
	if (f & F_D64)
		default64(in);
	if (f & F_MODRM) {
		if ((r = read_modrm(c, in, f & F_MREG)))
			return r;
		if (!group_valid(in))
			return X86_DECODE_INVALID;
	}
	imm_sizes(in, f & IMM_MASK, &n1, &n2);
	if ((f & IMM_MASK) == IMM_MOFFS) {
		uint64_t v;

		/* The memory offset of A0-A3: a displacement of address size. */
		if ((r = next_le(c, in->addrsize, &v)))
			return r;
		in->disp = (int64_t)v;
		in->disp_size = in->addrsize;
		return X86_DECODE_OK;
	}
	return read_imms(c, in, n1, n2);
}

/* 0F 38 xx /r and 0F 3A xx /r ib: every opcode takes a ModRM, and every
 * 0F 3A one an imm8 (SDM vol. 2 tables ). */
static int decode_three_byte(struct cursor *c, struct x86_insn *in)
{
	int r;

	if ((r = next(c, &in->opcode)) || (r = read_modrm(c, in, false)))
		return r;
	return read_imms(c, in, in->opmap == 3 ? 1 : 0, 0);
}

static int decode_0f(struct cursor *c, struct x86_insn *in)
{
	uint8_t b;
	int r;

	if ((r = next(c, &b)))
		return r;
	in->opmap = 1;
	in->opcode = b;
	if (b == 0x38 || b == 0x3a) {
		in->opmap = b == 0x38 ? 2 : 3;
		return decode_three_byte(c, in);
	}
	return decode_legacy(c, in);
}

/* Whether C4/C5/62/8F at the cursor's previous byte starts a VEX, EVEX or
 * XOP prefix rather than LES/LDS/BOUND/POP (SDM vol. 2 §2.3.5, §2.7.1;
 * APM vol. 3 §1.9). */
static int is_vex(const struct cursor *c, const struct x86_insn *in, uint8_t esc, bool *yes)
{
	uint8_t b;
	int r;

	*yes = false;
	if (esc == 0x8f) {
		if ((r = peek(c, &b)))
			return r;
		*yes = (b & 0x1f) >= 8;
		return X86_DECODE_OK;
	}
	if (esc != 0xc4 && esc != 0xc5 && esc != 0x62)
		return X86_DECODE_OK;
	if (in->mode == X86_MODE_64) {
		*yes = true;
		return X86_DECODE_OK;
	}
	if ((r = peek(c, &b)))
		return r;
	*yes = X86_MODRM_MOD(b) == 3;
	return X86_DECODE_OK;
}

/* The map selected by a VEX/EVEX/XOP prefix whose first i + 1 payload bytes
 * are read, 0 while still unknown, or -1 if reserved: checked byte by byte
 * so that a reserved one is INVALID however short `avail` is. */
static int vex_map(const struct x86_insn *in, unsigned i)
{
	uint8_t p0 = in->vex_p[0];

	switch (in->vex) {
	case 0xc5:
		return 1;
	case 0xc4:
		return (p0 & 0x1f) >= 1 && (p0 & 0x1f) <= 3 ? p0 & 0x1f : -1;
	case 0x8f:
		return (p0 & 0x1f) >= 8 && (p0 & 0x1f) <= 10 ? p0 & 0x1f : -1;
	default:
		/* EVEX: P0 bit 3 is 0, P1 bit 2 is 1; maps 1-3, 5 and 6 (FP16). */
		if ((p0 & 0x08) || (p0 & 7) == 0 || (p0 & 7) == 4 || (p0 & 7) == 7)
			return -1;
		if (i == 0)
			return 0;
		return (in->vex_p[1] & 0x04) ? p0 & 7 : -1;
	}
}

/* Which VEX/EVEX/XOP opcodes take an immediate: all of map 3 and XOP map 8
 * (imm8), XOP map 10 (imm32), and in map 1 the shuffles, shifts and compares
 * that do in the legacy map. */
static unsigned vex_imm_size(const struct x86_insn *in)
{
	if (in->vex == 0x8f)
		return in->opmap == 8 ? 1 : in->opmap == 10 ? 4 : 0;
	if (in->opmap == 3)
		return 1;
	if (in->opmap == 1)
		return (in->opcode >= 0x70 && in->opcode <= 0x73) || in->opcode == 0xc2 ||
		       (in->opcode >= 0xc4 && in->opcode <= 0xc6);
	return 0;
}

static int decode_vex(struct cursor *c, struct x86_insn *in, uint8_t esc)
{
	unsigned n = esc == 0xc5 ? 1 : esc == 0x62 ? 3 : 2;
	int map = 0, r;

	/* 66, F2, F3, LOCK or REX before VEX/EVEX/XOP: #UD. */
	if (in->p66 || in->rep || in->lock || in->rex)
		return X86_DECODE_INVALID;
	in->vex = esc;
	for (unsigned i = 0; i < n; i++) {
		if ((r = next(c, &in->vex_p[i])))
			return r;
		if ((map = vex_map(in, i)) < 0)
			return X86_DECODE_INVALID;
	}
	in->opmap = (uint8_t)map;
	if ((r = next(c, &in->opcode)))
		return r;
	/* VZEROUPPER/VZEROALL (VEX 0F 77) are the only ones without ModRM. */
	if (!(esc == 0xc4 || esc == 0xc5) || map != 1 || in->opcode != 0x77)
		if ((r = read_modrm(c, in, false)))
			return r;
	return read_imms(c, in, vex_imm_size(in), 0);
}

int x86_decode(const uint8_t *bytes, size_t avail, enum x86_mode mode, struct x86_insn *out)
{
	struct cursor c = { .bytes = bytes, .avail = avail };
	uint8_t op = 0;
	bool vex;
	int r;

	*out = (struct x86_insn){ .seg = -1, .mode = (uint8_t)mode };
	if (mode != X86_MODE_16 && mode != X86_MODE_32 && mode != X86_MODE_64)
		return X86_DECODE_INVALID;
	if ((r = read_prefixes(&c, out, &op)))
		return r;
	set_sizes(out, c.p67);
	if (op == 0x0f)
		r = decode_0f(&c, out);
	else if ((r = is_vex(&c, out, op, &vex)) == X86_DECODE_OK) {
		if (vex)
			r = decode_vex(&c, out, op);
		else {
			out->opcode = op;
			r = decode_legacy(&c, out);
		}
	}
	if (r)
		return r;
	out->len = (uint8_t)c.pos;
	return X86_DECODE_OK;
}

/* --- the memory operand's address ------------------------------------------- */

static uint64_t addr_mask(uint8_t addrsize)
{
	return addrsize == 8 ? ~0ull : (1ull << (8 * addrsize)) - 1;
}

/* 16-bit forms (SDM vol. 2A table 2-1): rm picks a base and an index;
 * BP-based ones default to SS. */
static uint64_t modrm16(const struct x86_insn *in, const uint64_t gpr[16], int *seg)
{
	static const int8_t base[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };  /* BX BX BP BP SI DI BP BX */
	static const int8_t index[8] = { 6, 7, 6, 7, -1, -1, -1, -1 }; /* SI DI SI DI */
	uint8_t mod = X86_MODRM_MOD(in->modrm), rm = X86_MODRM_RM(in->modrm);
	uint64_t off = (uint64_t)in->disp;

	if (mod == 0 && rm == 6)
		return off; /* disp16 alone */
	off += gpr[base[rm]];
	if (index[rm] >= 0)
		off += gpr[index[rm]];
	if (base[rm] == 5)
		*seg = 2; /* SS */
	return off;
}

/* 32- and 64-bit forms (SDM vol. 2A tables 2-2, 2-3): ModRM with SIB,
 * REX.B and REX.X extending base and index; RSP or RBP as base default to
 * SS; mod 00 with rm 101 is RIP-relative in 64-bit mode, disp32 alone
 * otherwise. */
static uint64_t modrm32(const struct x86_insn *in, const uint64_t gpr[16], uint64_t rip_next, int *seg)
{
	uint8_t mod = X86_MODRM_MOD(in->modrm), rm = X86_MODRM_RM(in->modrm);
	uint8_t rex_b = (in->rex & 1) << 3, rex_x = (in->rex & 2) << 2;
	uint64_t off = (uint64_t)in->disp;

	if (!in->has_sib) {
		if (mod == 0 && rm == 5)
			return in->mode == X86_MODE_64 ? rip_next + off : off;
		if ((rm | rex_b) == 4 || (rm | rex_b) == 5) /* rSP, rBP; not R12, R13 */
			*seg = 2;
		return off + gpr[rm | rex_b];
	}
	uint8_t b = in->sib & 7, idx = ((in->sib >> 3) & 7) | rex_x, scale = in->sib >> 6;
	if (idx != 4)
		off += gpr[idx] << scale;
	if (b == 5 && mod == 0)
		return off; /* no base, disp32 */
	if ((b | rex_b) == 4 || (b | rex_b) == 5)
		*seg = 2;
	return off + gpr[b | rex_b];
}

int x86_mem_operand(const struct x86_insn *in, const uint64_t gpr[16], uint64_t rip_next,
		    uint64_t *offset, int *seg)
{
	uint64_t off;

	*seg = 3; /* DS */
	if (in->vex)
		return -1;
	if (in->opmap == 0 && in->opcode >= 0xa0 && in->opcode <= 0xa3) {
		off = (uint64_t)in->disp; /* moffs */
	} else {
		if (!in->has_modrm || X86_MODRM_MOD(in->modrm) == 3)
			return -1;
		off = in->addrsize == 2 ? modrm16(in, gpr, seg) : modrm32(in, gpr, rip_next, seg);
	}
	if (in->seg >= 0)
		*seg = in->seg;
	*offset = off & addr_mask(in->addrsize);
	return 0;
}
