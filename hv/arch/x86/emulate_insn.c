/* SPDX-License-Identifier: MIT */
/*
 * The x86 instruction emulator; see petrel/x86_emulate.h for its scope.
 * Intel SDM vol. 2 (each instruction's Operation and Flags Affected) and
 * AMD APM vol. 3.  Where the manuals leave a flag undefined this emulator
 * computes what current CPUs give where that is known (AF = 0 after the
 * logic operations, BSF/BSR leave the destination unchanged on a zero
 * source) and otherwise leaves it as it was; the unit tests compare only
 * the defined flags with the host CPU.
 *
 * Structure: an instruction's operands are found first (struct opnd: a
 * register, a memory location or an immediate), then one of the handlers
 * below computes on copies of the registers (struct x86_emu is written
 * back only when the instruction completes).  Memory is read and written
 * through the caller's callbacks, a read-modify-write asking for write
 * access on its read.
 */
#include <petrel/lib.h>
#include <petrel/x86_emulate.h>

#define CF (1ull << 0)
#define PF (1ull << 2)
#define AF (1ull << 4)
#define ZF (1ull << 6)
#define SF (1ull << 7)
#define DF (1ull << 10)
#define OF (1ull << 11)

#define SEG_ES 0
#define SEG_SS 2
#define SEG_DS 3
#define RSP 4

enum { VEC_DE = 0, VEC_UD = 6, VEC_NM = 7, VEC_GP = 13, VEC_SS = 12 };

/* A working copy: registers change here and reach the caller's block only
 * when the instruction completes. */
struct emu {
	struct x86_emu *e;
	const struct x86_insn *in;
	uint64_t gpr[16];
	uint64_t rflags;
	uint64_t next;   /* the next instruction's address */
	uint64_t target; /* a branch's target, else next */
};

/* An operand: a register (8-bit: maybe AH..BH), memory, or an immediate. */
struct opnd {
	enum { O_REG, O_MEM, O_IMM } kind;
	unsigned size; /* bytes */
	unsigned reg;
	bool high8;
	int seg;
	uint64_t off;
	uint64_t imm;
};

static enum x86_emu_result exc(struct emu *m, uint8_t vector, bool has_error, uint32_t error)
{
	m->e->exc_vector = vector;
	m->e->exc_has_error = has_error;
	m->e->exc_error = error;
	return X86_EMU_EXCEPTION;
}

static enum x86_emu_result unhandled(struct emu *m, const char *what)
{
	m->e->unhandled = what;
	return X86_EMU_UNHANDLED;
}

static uint64_t mask_of(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t sign_of(unsigned size)
{
	return 1ull << (8 * size - 1);
}

static int64_t sext(uint64_t v, unsigned size)
{
	unsigned s = 64 - 8 * size;
	return size >= 8 ? (int64_t)v : (int64_t)(v << s) >> s;
}

static uint64_t addr_mask(unsigned size)
{
	return mask_of(size);
}

static bool is64(const struct emu *m)
{
	return m->in->mode == X86_MODE_64;
}

static bool canonical(const struct emu *m, uint64_t a)
{
	unsigned bits = m->e->canonical57 ? 57 : 48;
	return (uint64_t)((int64_t)(a << (64 - bits)) >> (64 - bits)) == a;
}

/* --- registers ---------------------------------------------------------------- */

static uint64_t reg_get(const struct emu *m, unsigned reg, unsigned size, bool high8)
{
	if (high8)
		return (m->gpr[reg] >> 8) & 0xff;
	return m->gpr[reg] & mask_of(size);
}

/* 8- and 16-bit writes keep the rest, a 32-bit write clears bits 63:32. */
static void reg_set(struct emu *m, unsigned reg, unsigned size, bool high8, uint64_t v)
{
	if (high8)
		m->gpr[reg] = (m->gpr[reg] & ~0xff00ull) | ((v & 0xff) << 8);
	else if (size == 4)
		m->gpr[reg] = (uint32_t)v;
	else
		m->gpr[reg] = (m->gpr[reg] & ~mask_of(size)) | (v & mask_of(size));
}

/* ModRM.reg (with REX.R) as a register operand of `size` bytes. */
static struct opnd reg_opnd(const struct x86_insn *in, unsigned num, unsigned size)
{
	struct opnd o = { .kind = O_REG, .size = size, .reg = num };

	if (size == 1 && !in->rex && num >= 4 && num < 8) {
		o.reg = num - 4;
		o.high8 = true;
	}
	return o;
}

static unsigned modrm_reg(const struct x86_insn *in)
{
	return X86_MODRM_REG(in->modrm) | ((in->rex & 4u) << 1);
}

/* The r/m operand: memory, or the register ModRM.rm names. */
static int rm_opnd(struct emu *m, unsigned size, struct opnd *o)
{
	const struct x86_insn *in = m->in;

	if (in->has_modrm && X86_MODRM_MOD(in->modrm) == 3) {
		*o = reg_opnd(in, X86_MODRM_RM(in->modrm) | ((in->rex & 1u) << 3), size);
		return 0;
	}
	*o = (struct opnd){ .kind = O_MEM, .size = size };
	return x86_mem_operand(in, m->gpr, m->next, &o->off, &o->seg);
}

/* --- memory --------------------------------------------------------------------- */

static int mem_read(struct emu *m, int seg, uint64_t off, void *buf, unsigned len, unsigned flags)
{
	return m->e->read(m->e->opaque, seg, off, buf, len, flags);
}

static int mem_write(struct emu *m, int seg, uint64_t off, const void *buf, unsigned len, unsigned flags)
{
	return m->e->write(m->e->opaque, seg, off, buf, len, flags);
}

/* Reads an operand; `rmw`: the write that follows must be allowed too. */
static int get(struct emu *m, const struct opnd *o, uint64_t *v, bool rmw)
{
	*v = 0;
	switch (o->kind) {
	case O_REG:
		*v = reg_get(m, o->reg, o->size, o->high8);
		return 0;
	case O_IMM:
		*v = o->imm & mask_of(o->size);
		return 0;
	default:
		return mem_read(m, o->seg, o->off, v, o->size, rmw ? X86_EMU_WRITE : 0);
	}
}

static int put(struct emu *m, const struct opnd *o, uint64_t v)
{
	if (o->kind == O_REG) {
		reg_set(m, o->reg, o->size, o->high8, v);
		return 0;
	}
	return mem_write(m, o->seg, o->off, &v, o->size, X86_EMU_WRITE);
}

/* --- flags ------------------------------------------------------------------------ */

static bool parity(uint64_t v)
{
	uint8_t b = (uint8_t)v;
	b ^= b >> 4;
	b ^= b >> 2;
	b ^= b >> 1;
	return !(b & 1);
}

/* SF, ZF, PF of a result; the others from `others`. */
static void set_szp(struct emu *m, uint64_t res, unsigned size, uint64_t others, uint64_t which)
{
	uint64_t f = others;

	res &= mask_of(size);
	if (res & sign_of(size))
		f |= SF;
	if (!res)
		f |= ZF;
	if (parity(res))
		f |= PF;
	m->rflags = (m->rflags & ~(which | SF | ZF | PF)) | f;
}

static uint64_t add_flags(uint64_t a, uint64_t b, uint64_t c, uint64_t res, unsigned size)
{
	uint64_t f = 0, sign = sign_of(size);
	bool carry = size == 8 ? (res < a || (c && res == a)) : ((a + b + c) >> (8 * size)) & 1;

	if (carry)
		f |= CF;
	if ((a ^ res) & (b ^ res) & sign)
		f |= OF;
	if ((a ^ b ^ res) & 0x10)
		f |= AF;
	return f;
}

static uint64_t sub_flags(uint64_t a, uint64_t b, uint64_t c, uint64_t res, unsigned size)
{
	uint64_t f = 0, sign = sign_of(size);
	bool borrow = size == 8 ? (a < b || (c && a == b)) : ((a - b - c) >> (8 * size)) & 1;

	if (borrow)
		f |= CF;
	if ((a ^ b) & (a ^ res) & sign)
		f |= OF;
	if ((a ^ b ^ res) & 0x10)
		f |= AF;
	return f;
}

/* The eight ALU operations of 00-3F and 80-83, in ModRM.reg order. */
enum alu { ADD, OR, ADC, SBB, AND, SUB, XOR, CMP };

static uint64_t alu(struct emu *m, enum alu op, uint64_t a, uint64_t b, unsigned size)
{
	uint64_t msk = mask_of(size), c = m->rflags & CF, res;

	a &= msk;
	b &= msk;
	switch (op) {
	case ADD: c = 0; /* fall through */
	case ADC:
		res = (a + b + c) & msk;
		set_szp(m, res, size, add_flags(a, b, c, res, size), CF | OF | AF);
		return res;
	case SUB: case CMP: c = 0; /* fall through */
	case SBB:
		res = (a - b - c) & msk;
		set_szp(m, res, size, sub_flags(a, b, c, res, size), CF | OF | AF);
		return res;
	case OR: res = a | b; break;
	case AND: res = a & b; break;
	default: res = a ^ b; break;
	}
	set_szp(m, res, size, 0, CF | OF | AF);
	return res;
}

/* The condition codes of Jcc/SETcc/CMOVcc (the low nibble of the opcode). */
static bool cond(const struct emu *m, unsigned cc)
{
	uint64_t f = m->rflags;
	bool r;

	switch (cc >> 1) {
	case 0: r = f & OF; break;
	case 1: r = f & CF; break;
	case 2: r = f & ZF; break;
	case 3: r = (f & CF) || (f & ZF); break;
	case 4: r = f & SF; break;
	case 5: r = f & PF; break;
	case 6: r = !(f & SF) != !(f & OF); break;
	default: r = (f & ZF) || (!(f & SF) != !(f & OF)); break;
	}
	return (cc & 1) ? !r : r;
}

/* --- the operand size and LOCK ----------------------------------------------------------- */

/* Byte forms are the even opcodes of the ALU rows and a few others. */
static unsigned size_of(const struct emu *m, bool byte)
{
	return byte ? 1 : m->in->opsize;
}

/* LOCK is allowed only on the read-modify-write forms with a memory
 * destination (SDM vol. 2 LOCK); the caller checks the form. */
static bool lock_ok(const struct emu *m, const struct opnd *dst, bool lockable)
{
	return !m->in->lock || (lockable && dst->kind == O_MEM);
}

/* --- the handlers ------------------------------------------------------------------------- */

/* 00-3F (r/m,r and r,r/m forms), 80-83. */
static enum x86_emu_result do_alu(struct emu *m, enum alu op, struct opnd *dst, struct opnd *src)
{
	uint64_t a, b, res;
	bool writes = op != CMP;

	if (!lock_ok(m, dst, writes))
		return exc(m, VEC_UD, false, 0);
	if (get(m, src, &b, false) || get(m, dst, &a, writes))
		return X86_EMU_FAULT;
	res = alu(m, op, a, b, dst->size);
	if (writes && put(m, dst, res))
		return X86_EMU_FAULT;
	return X86_EMU_OK;
}

static enum x86_emu_result do_test(struct emu *m, struct opnd *a_op, struct opnd *b_op)
{
	uint64_t a, b;

	if (m->in->lock)
		return exc(m, VEC_UD, false, 0);
	if (get(m, a_op, &a, false) || get(m, b_op, &b, false))
		return X86_EMU_FAULT;
	set_szp(m, a & b, a_op->size, 0, CF | OF | AF);
	return X86_EMU_OK;
}

static enum x86_emu_result do_mov(struct emu *m, struct opnd *dst, struct opnd *src)
{
	uint64_t v;

	if (m->in->lock)
		return exc(m, VEC_UD, false, 0);
	if (get(m, src, &v, false) || put(m, dst, v))
		return X86_EMU_FAULT;
	return X86_EMU_OK;
}

/* XCHG with memory is locked whatever the prefix says. */
static enum x86_emu_result do_xchg(struct emu *m, struct opnd *mem, struct opnd *reg)
{
	uint64_t a, b;

	if (get(m, mem, &a, true) || get(m, reg, &b, false) || put(m, mem, b))
		return X86_EMU_FAULT;
	put(m, reg, a);
	return X86_EMU_OK;
}

static enum x86_emu_result do_incdec(struct emu *m, struct opnd *dst, bool dec)
{
	uint64_t a, res, cf = m->rflags & CF;

	if (!lock_ok(m, dst, true))
		return exc(m, VEC_UD, false, 0);
	if (get(m, dst, &a, true))
		return X86_EMU_FAULT;
	res = alu(m, dec ? SUB : ADD, a, 1, dst->size);
	m->rflags = (m->rflags & ~CF) | cf; /* INC and DEC leave CF */
	return put(m, dst, res) ? X86_EMU_FAULT : X86_EMU_OK;
}

static enum x86_emu_result do_notneg(struct emu *m, struct opnd *dst, bool neg)
{
	uint64_t a, res;

	if (!lock_ok(m, dst, true))
		return exc(m, VEC_UD, false, 0);
	if (get(m, dst, &a, true))
		return X86_EMU_FAULT;
	if (neg) {
		res = alu(m, SUB, 0, a, dst->size);
		m->rflags = (m->rflags & ~CF) | ((a & mask_of(dst->size)) ? CF : 0);
	} else {
		res = ~a & mask_of(dst->size); /* NOT changes no flag */
	}
	return put(m, dst, res) ? X86_EMU_FAULT : X86_EMU_OK;
}

/* 128/64 unsigned division by shift and subtract (no libgcc here);
 * the caller has checked that the quotient fits 64 bits. */
static uint64_t udiv128(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0;

	for (int i = 0; i < 64; i++) {
		bool top = hi >> 63;
		hi = (hi << 1) | (lo >> 63);
		lo <<= 1;
		q <<= 1;
		if (top || hi >= d) {
			hi -= d;
			q |= 1;
		}
	}
	*rem = hi;
	return q;
}

/* F6/F7 /4-/7: the accumulator pair (AX, DX:AX, EDX:EAX, RDX:RAX) and
 * r/m.  MUL and IMUL set CF = OF when the high half is significant (SF,
 * ZF, AF, PF undefined: left as computed from the low half); DIV and IDIV
 * raise #DE on a zero divisor or a quotient that does not fit. */
static enum x86_emu_result do_muldiv(struct emu *m, unsigned op, struct opnd *src)
{
	unsigned size = src->size, bits = 8 * size;
	uint64_t msk = mask_of(size), s, a_lo, a_hi, lo, hi;

	if (m->in->lock)
		return exc(m, VEC_UD, false, 0);
	if (get(m, src, &s, false))
		return X86_EMU_FAULT;
	if (size == 1) {
		a_lo = m->gpr[0] & 0xff;
		a_hi = (m->gpr[0] >> 8) & 0xff;
	} else {
		a_lo = m->gpr[0] & msk;
		a_hi = m->gpr[2] & msk;
	}
	if (op == 4 || op == 5) { /* MUL, IMUL */
		bool wide;
		if (op == 4) {
			unsigned __int128 p = (unsigned __int128)a_lo * s;
			lo = (uint64_t)p & msk;
			hi = size == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> bits) & msk;
			wide = hi != 0;
		} else {
			__int128 p = (__int128)sext(a_lo, size) * sext(s, size);
			lo = (uint64_t)p & msk;
			hi = size == 8 ? (uint64_t)((unsigned __int128)p >> 64) : (uint64_t)(p >> bits) & msk;
			wide = p != (__int128)sext(lo, size);
		}
		if (size == 1) {
			m->gpr[0] = (m->gpr[0] & ~0xffffull) | lo | (hi << 8);
		} else {
			reg_set(m, 0, size, false, lo);
			reg_set(m, 2, size, false, hi);
		}
		set_szp(m, lo, size, wide ? CF | OF : 0, CF | OF | AF);
		return X86_EMU_OK;
	}
	if (!s)
		return exc(m, VEC_DE, false, 0);
	uint64_t q, r;
	if (op == 6) { /* DIV */
		if (a_hi >= s)
			return exc(m, VEC_DE, false, 0);
		if (size == 8) {
			q = udiv128(a_hi, a_lo, s, &r);
		} else {
			uint64_t n = (a_hi << bits) | a_lo;
			q = n / s;
			r = n % s;
		}
	} else { /* IDIV: on magnitudes, then the signs */
		bool nneg = a_hi & sign_of(size), dneg = s & sign_of(size);
		uint64_t nh = a_hi, nl = a_lo, d = dneg ? (0 - s) & msk : s;
		if (nneg) { /* negate the double-width dividend */
			if (size == 8) {
				nl = 0 - a_lo;
				nh = ~a_hi + (a_lo == 0);
			} else {
				uint64_t n = ((a_hi << bits) | a_lo);
				n = (0 - n) & ((bits == 32) ? ~0ull : (1ull << (2 * bits)) - 1);
				nh = n >> bits;
				nl = n & msk;
			}
		}
		if (nh >= d)
			return exc(m, VEC_DE, false, 0);
		if (size == 8) {
			q = udiv128(nh, nl, d, &r);
		} else {
			uint64_t n = (nh << bits) | nl;
			q = n / d;
			r = n % d;
		}
		/* the quotient's magnitude must fit its signed range */
		if (q > (nneg != dneg ? sign_of(size) : sign_of(size) - 1))
			return exc(m, VEC_DE, false, 0);
		if (nneg != dneg)
			q = 0 - q;
		if (nneg)
			r = 0 - r;
	}
	if (size == 1) {
		m->gpr[0] = (m->gpr[0] & ~0xffffull) | (q & 0xff) | ((r & 0xff) << 8);
	} else {
		reg_set(m, 0, size, false, q);
		reg_set(m, 2, size, false, r);
	}
	return X86_EMU_OK; /* flags undefined: left alone */
}

/* IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69, 6B). */
static enum x86_emu_result do_imul2(struct emu *m, struct opnd *dst, struct opnd *src, struct opnd *imm)
{
	uint64_t a, b;
	unsigned size = dst->size;

	if (m->in->lock)
		return exc(m, VEC_UD, false, 0);
	if (get(m, src, &a, false) || get(m, imm ? imm : dst, &b, false))
		return X86_EMU_FAULT;
	__int128 p = (__int128)sext(a, size) * sext(b, size);
	uint64_t lo = (uint64_t)p & mask_of(size);
	set_szp(m, lo, size, p != (__int128)sext(lo, size) ? CF | OF : 0, CF | OF | AF);
	put(m, dst, lo);
	return X86_EMU_OK;
}

/* C0, C1, D0-D3: ROL ROR RCL RCR SHL SHR SAL SAR.  The count is masked to
 * 5 bits (6 with a 64-bit operand); a zero count changes nothing, flags
 * included.  Rotates touch only CF and OF; OF is defined for a count of
 * 1 and otherwise set as the 1-bit formula gives it. */
static enum x86_emu_result do_shift(struct emu *m, unsigned op, struct opnd *dst, unsigned count)
{
	unsigned size = dst->size, bits = 8 * size;
	uint64_t a, res = 0, msk = mask_of(size), sign = sign_of(size), f = m->rflags, cf;

	if (m->in->lock)
		return exc(m, VEC_UD, false, 0);
	count &= size == 8 ? 63 : 31;
	if (get(m, dst, &a, true))
		return X86_EMU_FAULT;
	if (!count)
		return X86_EMU_OK;
	cf = f & CF;
	switch (op) {
	case 0: { /* ROL */
		unsigned c = count % bits;
		res = c ? ((a << c) | (a >> (bits - c))) & msk : a;
		cf = res & 1;
		f = (f & ~(CF | OF)) | (cf ? CF : 0) | ((!(res & sign) != !cf) ? OF : 0);
		break;
	}
	case 1: { /* ROR */
		unsigned c = count % bits;
		res = c ? ((a >> c) | (a << (bits - c))) & msk : a;
		cf = (res & sign) != 0;
		f = (f & ~(CF | OF)) | (cf ? CF : 0) | ((!(res & sign) != !(res & (sign >> 1))) ? OF : 0);
		break;
	}
	case 2: case 3: { /* RCL, RCR: through CF, a bit at a time */
		unsigned c = size == 1 ? count % 9 : size == 2 ? count % 17 : count;
		bool of;
		res = a;
		for (unsigned i = 0; i < c; i++) {
			uint64_t out;
			if (op == 2) {
				out = (res & sign) != 0;
				res = ((res << 1) | cf) & msk;
			} else {
				out = res & 1;
				res = (res >> 1) | (cf ? sign : 0);
			}
			cf = out;
		}
		of = op == 2 ? (!(res & sign) != !cf) : (!(res & sign) != !(res & (sign >> 1)));
		f = (f & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
		break;
	}
	case 4: case 6: /* SHL, SAL */
		res = count < 64 ? (a << count) & msk : 0;
		cf = count <= bits ? (a >> (bits - count)) & 1 : 0;
		f = (f & ~(CF | OF | AF)) | (cf ? CF : 0) | ((!(res & sign) != !cf) ? OF : 0);
		break;
	case 5: /* SHR */
		res = count < 64 ? a >> count : 0;
		cf = count <= bits ? (a >> (count - 1)) & 1 : 0;
		f = (f & ~(CF | OF | AF)) | (cf ? CF : 0) | ((a & sign) ? OF : 0);
		break;
	default: { /* SAR */
		int64_t s = sext(a, size);
		res = (uint64_t)(s >> (count < 64 ? count : 63)) & msk;
		cf = (uint64_t)(s >> (count - 1 < 63 ? count - 1 : 63)) & 1;
		f = (f & ~(CF | OF | AF)) | (cf ? CF : 0);
		break;
	}
	}
	if (op >= 4) {
		m->rflags = f;
		set_szp(m, res, size, f & (CF | OF), CF | OF | AF);
	} else {
		m->rflags = f;
	}
	return put(m, dst, res) ? X86_EMU_FAULT : X86_EMU_OK;
}

/* SHLD/SHRD r/m, r, imm8 or CL.  Count masked to 5 (6) bits; 0 changes
 * nothing; a count beyond a 16-bit operand's width is undefined (the
 * bits shifted in then come from the destination again, as on Intel). */
static enum x86_emu_result do_shxd(struct emu *m, bool right, struct opnd *dst, struct opnd *src, unsigned count)
{
	unsigned size = dst->size, bits = 8 * size;
	uint64_t a, b, res, cf, msk = mask_of(size), sign = sign_of(size);

	if (m->in->lock)
		return exc(m, VEC_UD, false, 0);
	count &= size == 8 ? 63 : 31;
	if (get(m, dst, &a, true) || get(m, src, &b, false))
		return X86_EMU_FAULT;
	if (!count)
		return X86_EMU_OK;
	if (size == 2 && count > 16) {
		/* a 48-bit rotate through b:a (Intel's result) */
		uint64_t wide = right ? (a << 32) | (b << 16) | a : (a << 32) | (b << 16) | a;
		unsigned c = count;
		if (right)
			res = (wide >> c) & msk, cf = (wide >> (c - 1)) & 1;
		else
			res = (wide << c >> 32) & msk, cf = (wide >> (48 - c)) & 1;
	} else if (right) { /* a count of 16 on a 16-bit operand gives b */
		res = ((count < bits ? a >> count : 0) | (b << (bits - count))) & msk;
		cf = (a >> (count - 1)) & 1;
	} else {
		res = ((a << count) | (b >> (bits - count))) & msk;
		cf = (a >> (bits - count)) & 1;
	}
	set_szp(m, res, size, (cf ? CF : 0) | ((!(res & sign) != !(a & sign)) ? OF : 0), CF | OF | AF);
	return put(m, dst, res) ? X86_EMU_FAULT : X86_EMU_OK;
}

/* BT/BTS/BTR/BTC: with a register offset on memory the bit string goes
 * on past the operand (the offset is signed); with imm8 it is masked to
 * the operand.  CF = the bit; the others are left. */
static enum x86_emu_result do_bt(struct emu *m, unsigned op, struct opnd *dst, int64_t offset, bool reg_offset)
{
	unsigned bits = 8 * dst->size;
	uint64_t v, bit;

	if (!lock_ok(m, dst, op != 0))
		return exc(m, VEC_UD, false, 0);
	if (dst->kind == O_MEM && reg_offset) {
		int64_t words = offset >> (bits == 16 ? 4 : bits == 32 ? 5 : 6);
		dst->off = (dst->off + (uint64_t)(words * (int64_t)dst->size)) & addr_mask(m->in->addrsize);
	}
	bit = (uint64_t)offset & (bits - 1);
	if (get(m, dst, &v, op != 0))
		return X86_EMU_FAULT;
	m->rflags = (m->rflags & ~CF) | ((v >> bit) & 1 ? CF : 0);
	switch (op) {
	case 1: v |= 1ull << bit; break;  /* BTS */
	case 2: v &= ~(1ull << bit); break; /* BTR */
	case 3: v ^= 1ull << bit; break;  /* BTC */
	default: return X86_EMU_OK;
	}
	return put(m, dst, v) ? X86_EMU_FAULT : X86_EMU_OK;
}

/* BSF/BSR, and TZCNT/LZCNT with F3. */
static enum x86_emu_result do_bitscan(struct emu *m, bool reverse, struct opnd *dst, struct opnd *src)
{
	unsigned size = dst->size, bits = 8 * size, n = 0;
	uint64_t s;

	if (m->in->lock)
		return exc(m, VEC_UD, false, 0);
	if (get(m, src, &s, false))
		return X86_EMU_FAULT;
	if (m->in->rep == 0xf3 && (reverse ? m->e->lzcnt : m->e->tzcnt)) {
		/* TZCNT, LZCNT: CF = source zero, ZF = result zero */
		if (!s)
			n = bits;
		else if (reverse)
			while (!(s & (sign_of(size) >> n)))
				n++;
		else
			while (!(s & (1ull << n)))
				n++;
		m->rflags = (m->rflags & ~(CF | ZF)) | (s ? 0 : CF) | (n ? 0 : ZF);
		put(m, dst, n);
		return X86_EMU_OK;
	}
	if (!s) {
		m->rflags |= ZF; /* the destination stays as it was */
		return X86_EMU_OK;
	}
	m->rflags &= ~ZF;
	n = reverse ? bits - 1 : 0;
	while (!(s & (1ull << n)))
		n += reverse ? -1u : 1u;
	put(m, dst, n);
	return X86_EMU_OK;
}

static enum x86_emu_result do_cmpxchg(struct emu *m, struct opnd *dst, struct opnd *src)
{
	unsigned size = dst->size;
	uint64_t d, s, acc = reg_get(m, 0, size, false);

	if (!lock_ok(m, dst, true))
		return exc(m, VEC_UD, false, 0);
	if (get(m, dst, &d, true) || get(m, src, &s, false))
		return X86_EMU_FAULT;
	alu(m, CMP, acc, d, size);
	if (m->rflags & ZF)
		return put(m, dst, s) ? X86_EMU_FAULT : X86_EMU_OK;
	/* The CPU writes the destination back unchanged, then loads it. */
	if (dst->kind == O_MEM && put(m, dst, d))
		return X86_EMU_FAULT;
	reg_set(m, 0, size, false, d);
	return X86_EMU_OK;
}

static enum x86_emu_result do_xadd(struct emu *m, struct opnd *dst, struct opnd *src)
{
	uint64_t d, s, sum;

	if (!lock_ok(m, dst, true))
		return exc(m, VEC_UD, false, 0);
	if (get(m, dst, &d, true) || get(m, src, &s, false))
		return X86_EMU_FAULT;
	sum = alu(m, ADD, d, s, dst->size);
	if (put(m, dst, sum))
		return X86_EMU_FAULT;
	put(m, src, d);
	return X86_EMU_OK;
}

/* MOVZX, MOVSX, MOVSXD: the source is narrower than the destination. */
static enum x86_emu_result do_movx(struct emu *m, struct opnd *dst, struct opnd *src, bool sign)
{
	uint64_t v;

	if (m->in->lock)
		return exc(m, VEC_UD, false, 0);
	if (get(m, src, &v, false))
		return X86_EMU_FAULT;
	put(m, dst, sign ? (uint64_t)sext(v, src->size) : v);
	return X86_EMU_OK;
}

static uint64_t bswap(uint64_t v, unsigned size)
{
	uint64_t r = 0;

	for (unsigned i = 0; i < size; i++)
		r |= ((v >> (8 * i)) & 0xff) << (8 * (size - 1 - i));
	return r;
}

/* --- the stack and branches ----------------------------------------------------------------- */

static unsigned stack_size(const struct emu *m)
{
	if (is64(m))
		return 8;
	return m->e->stack_size ? m->e->stack_size : (m->in->mode == X86_MODE_32 ? 4 : 2);
}

static int push(struct emu *m, uint64_t v, unsigned size)
{
	unsigned ss = stack_size(m);
	uint64_t sp = (m->gpr[RSP] - size) & addr_mask(ss);

	if (mem_write(m, SEG_SS, sp, &v, size, X86_EMU_WRITE | X86_EMU_STACK))
		return -1;
	m->gpr[RSP] = (m->gpr[RSP] & ~addr_mask(ss)) | sp;
	return 0;
}

static int pop(struct emu *m, uint64_t *v, unsigned size)
{
	unsigned ss = stack_size(m);
	uint64_t sp = m->gpr[RSP] & addr_mask(ss);

	*v = 0;
	if (mem_read(m, SEG_SS, sp, v, size, X86_EMU_STACK))
		return -1;
	m->gpr[RSP] = (m->gpr[RSP] & ~addr_mask(ss)) | ((sp + size) & addr_mask(ss));
	return 0;
}

/* PUSH/POP and near branches take 64-bit operands in 64-bit mode (16 with
 * 66), else the operand size. */
static unsigned stack_opsize(const struct emu *m)
{
	return m->in->opsize;
}

static enum x86_emu_result branch(struct emu *m, uint64_t target)
{
	if (!is64(m))
		target &= mask_of(m->in->opsize);
	else if (!canonical(m, target))
		return exc(m, VEC_GP, true, 0);
	m->target = target;
	return X86_EMU_OK;
}

/* --- string instructions -------------------------------------------------------------------- */

/* A REP string instruction with a 32-bit address size in 64-bit mode and
 * ECX 0 does no element, but Intel's CPUs still clear the upper halves of
 * RCX and of the pointers MOVS and STOS would have moved (seen on the
 * host CPU by tests/unit/test_emulate.c); AMD's leave all three alone. */
static void rep_none_a32(struct emu *m, unsigned op)
{
	if (!m->e->intel || m->in->mode != X86_MODE_64 || m->in->addrsize != 4)
		return;
	m->gpr[1] = 0;
	if (op == 0xa4)
		m->gpr[6] &= 0xffffffffu;
	if (op == 0xa4 || op == 0xaa)
		m->gpr[7] &= 0xffffffffu;
}

/* One element of MOVS CMPS STOS LODS SCAS; REP repeats it on rCX, REPE and
 * REPNE (CMPS, SCAS) also stop on ZF.  Elements finished before a fault
 * stay done, as on the CPU. */
static enum x86_emu_result do_string(struct emu *m)
{
	const struct x86_insn *in = m->in;
	unsigned op = in->opcode & ~1u, size = (in->opcode & 1) ? in->opsize : 1, as = in->addrsize;
	uint64_t am = addr_mask(as), step = (m->rflags & DF) ? (uint64_t)0 - size : size;
	int src_seg = in->seg >= 0 ? in->seg : SEG_DS;
	bool rep = in->rep != 0, cmp = op == 0xa6 || op == 0xae;
	uint32_t done = 0, limit = m->e->rep_chunk;

	if (in->lock)
		return exc(m, VEC_UD, false, 0);
	for (;;) {
		uint64_t si = m->gpr[6] & am, di = m->gpr[7] & am, a = 0, b = 0;
		if (rep && !(m->gpr[1] & am)) {
			if (!done)
				rep_none_a32(m, op);
			return X86_EMU_OK;
		}
		if (rep && limit && done == limit)
			return X86_EMU_MORE;
		switch (op) {
		case 0xa4: /* MOVS */
			if (mem_read(m, src_seg, si, &a, size, 0) || mem_write(m, SEG_ES, di, &a, size, X86_EMU_WRITE))
				return X86_EMU_FAULT;
			break;
		case 0xa6: /* CMPS: [rSI] - [rDI] */
			if (mem_read(m, src_seg, si, &a, size, 0) || mem_read(m, SEG_ES, di, &b, size, 0))
				return X86_EMU_FAULT;
			alu(m, CMP, a, b, size);
			break;
		case 0xaa: /* STOS */
			a = reg_get(m, 0, size, false);
			if (mem_write(m, SEG_ES, di, &a, size, X86_EMU_WRITE))
				return X86_EMU_FAULT;
			break;
		case 0xac: /* LODS */
			if (mem_read(m, src_seg, si, &a, size, 0))
				return X86_EMU_FAULT;
			reg_set(m, 0, size, false, a);
			break;
		default: /* SCAS: rAX - [rDI] */
			if (mem_read(m, SEG_ES, di, &b, size, 0))
				return X86_EMU_FAULT;
			alu(m, CMP, reg_get(m, 0, size, false), b, size);
			break;
		}
		/* a 32-bit address-size register write in 64-bit mode zero-extends */
		if (op == 0xa4 || op == 0xa6 || op == 0xac)
			m->gpr[6] = as == 4 ? (si + step) & am : (m->gpr[6] & ~am) | ((si + step) & am);
		if (op != 0xac)
			m->gpr[7] = as == 4 ? (di + step) & am : (m->gpr[7] & ~am) | ((di + step) & am);
		if (!rep)
			return X86_EMU_OK;
		m->gpr[1] = as == 4 ? ((m->gpr[1] & am) - 1) & am : (m->gpr[1] & ~am) | (((m->gpr[1] & am) - 1) & am);
		done++;
		if (cmp && ((in->rep == 0xf3) != !!(m->rflags & ZF)))
			return X86_EMU_OK; /* REPE ended on a difference, REPNE on a match */
	}
}

/* --- SSE and MMX moves -------------------------------------------------------------------------- */

struct sse_form {
	unsigned len;    /* memory bytes */
	bool store;      /* register to memory */
	bool aligned;    /* #GP(0) unless 16-byte aligned */
	bool mmx;        /* an MMX register (mm0-7), else XMM */
	bool zero_upper; /* a load clears the rest of the XMM register */
	unsigned at;     /* byte offset within the register (MOVHPS: 8) */
};

/* The no-VEX moves between SSE/MMX registers and memory: 0F 10-17, 28,
 * 29, 2B, 6E, 6F, 7E, 7F, D6, E7; by mandatory prefix (none, 66, F3, F2). */
static int sse_form(const struct x86_insn *in, struct sse_form *f)
{
	unsigned pfx = in->rep ? in->rep : in->p66 ? 0x66 : 0;
	bool w = in->rex & 8;

	*f = (struct sse_form){ 0 };
	switch (in->opcode) {
	case 0x10: case 0x11: /* MOVUPS MOVUPD MOVSS MOVSD */
		f->len = pfx == 0xf3 ? 4 : pfx == 0xf2 ? 8 : 16;
		f->zero_upper = pfx == 0xf3 || pfx == 0xf2;
		f->store = in->opcode == 0x11;
		return 0;
	case 0x12: case 0x13: case 0x16: case 0x17: /* MOVLPS/PD, MOVHPS/PD */
		if (pfx != 0 && pfx != 0x66)
			return -1;
		f->len = 8;
		f->at = in->opcode >= 0x16 ? 8 : 0;
		f->store = in->opcode & 1;
		return 0;
	case 0x28: case 0x29: /* MOVAPS MOVAPD */
		if (pfx != 0 && pfx != 0x66)
			return -1;
		*f = (struct sse_form){ .len = 16, .store = in->opcode == 0x29, .aligned = true };
		return 0;
	case 0x2b: /* MOVNTPS MOVNTPD */
		if (pfx != 0 && pfx != 0x66)
			return -1;
		*f = (struct sse_form){ .len = 16, .store = true, .aligned = true };
		return 0;
	case 0x6e: case 0x7e: /* MOVD/MOVQ; F3 0F 7E: MOVQ xmm, m64 */
		if (pfx == 0xf3 && in->opcode == 0x7e) {
			*f = (struct sse_form){ .len = 8, .zero_upper = true };
			return 0;
		}
		if (pfx != 0 && pfx != 0x66)
			return -1;
		*f = (struct sse_form){ .len = w ? 8 : 4, .store = in->opcode == 0x7e, .mmx = pfx == 0,
					.zero_upper = true };
		return 0;
	case 0x6f: case 0x7f: /* MOVQ mm; MOVDQA; MOVDQU */
		if (pfx == 0xf2)
			return -1;
		*f = (struct sse_form){ .len = pfx ? 16 : 8, .store = in->opcode == 0x7f, .mmx = !pfx,
					.aligned = pfx == 0x66 };
		return 0;
	case 0xd6: /* MOVQ m64, xmm */
		if (pfx != 0x66)
			return -1;
		*f = (struct sse_form){ .len = 8, .store = true };
		return 0;
	case 0xe7: /* MOVNTQ, MOVNTDQ */
		if (pfx != 0 && pfx != 0x66)
			return -1;
		*f = (struct sse_form){ .len = pfx ? 16 : 8, .store = true, .mmx = !pfx, .aligned = pfx == 0x66 };
		return 0;
	default:
		return -1;
	}
}

static enum x86_emu_result do_sse(struct emu *m)
{
	const struct x86_insn *in = m->in;
	struct x86_emu *e = m->e;
	struct sse_form f;
	struct opnd mem;
	uint8_t reg[16], buf[16];
	unsigned r = modrm_reg(in);
	int v;

	if (sse_form(in, &f))
		return unhandled(m, "an SSE instruction that is not a move");
	if (in->lock)
		return exc(m, VEC_UD, false, 0);
	if (f.mmx ? !e->get_mmx || !e->set_mmx : !e->get_xmm || !e->set_xmm)
		return unhandled(m, f.mmx ? "an MMX move" : "an SSE move");
	if (e->sse_usable && (v = e->sse_usable(e->opaque, f.mmx)))
		return exc(m, (uint8_t)v, false, 0);
	if (rm_opnd(m, f.len, &mem) || mem.kind != O_MEM)
		return unhandled(m, "an SSE move between registers");
	if (f.aligned && (mem.off & 15))
		return exc(m, VEC_GP, true, 0);
	memset(reg, 0, sizeof(reg));
	if (f.mmx)
		e->get_mmx(e->opaque, r & 7, reg);
	else
		e->get_xmm(e->opaque, r, reg);
	if (f.store)
		return mem_write(m, mem.seg, mem.off, reg + f.at, f.len, X86_EMU_WRITE) ? X86_EMU_FAULT : X86_EMU_OK;
	if (mem_read(m, mem.seg, mem.off, buf, f.len, 0))
		return X86_EMU_FAULT;
	if (f.zero_upper)
		memset(reg, 0, sizeof(reg));
	memcpy(reg + f.at, buf, f.len);
	if (f.mmx)
		e->set_mmx(e->opaque, r & 7, reg);
	else
		e->set_xmm(e->opaque, r, reg);
	return X86_EMU_OK;
}

/* A system callback's answer: done, faulted, or not run (-2). */
static enum x86_emu_result sys_result(struct emu *m, int rc)
{
	if (rc == -2)
		return unhandled(m, "a segment or descriptor load Petrel does not run");
	return rc ? X86_EMU_FAULT : X86_EMU_OK;
}

/* --- system instructions ---------------------------------------------------------------------------- */

#define CR4_UMIP (1ull << 11)

/* 0F 00 /0-/3 (SLDT STR LLDT LTR) and 0F 01 /0-/4 (SGDT SIDT LGDT LIDT
 * SMSW) with a memory operand. */
static enum x86_emu_result do_system(struct emu *m)
{
	const struct x86_insn *in = m->in;
	struct x86_emu *e = m->e;
	unsigned sub = X86_MODRM_REG(in->modrm);
	bool grp7 = in->opcode == 0x01;
	struct opnd mem;
	uint8_t buf[10];
	uint16_t v16;

	if (in->lock)
		return exc(m, VEC_UD, false, 0);
	if (sub > (grp7 ? 4u : 3u) || rm_opnd(m, 2, &mem) || mem.kind != O_MEM)
		return unhandled(m, "a system instruction other than SLDT STR LLDT LTR SGDT SIDT LGDT LIDT SMSW");
	bool store = grp7 ? sub == 0 || sub == 1 || sub == 4 : sub <= 1;
	if (store && (e->cr4 & CR4_UMIP) && e->cpl)
		return exc(m, VEC_GP, true, 0);
	if (!store && e->cpl)
		return exc(m, VEC_GP, true, 0);
	if (grp7 && sub <= 1) { /* SGDT, SIDT: limit, then a 4- or 8-byte base */
		unsigned n = is64(m) ? 10 : 6;
		uint64_t base = sub ? e->idtr.base : e->gdtr.base;
		uint16_t limit = sub ? e->idtr.limit : e->gdtr.limit;
		memcpy(buf, &limit, 2);
		memcpy(buf + 2, &base, n - 2);
		return mem_write(m, mem.seg, mem.off, buf, n, X86_EMU_WRITE) ? X86_EMU_FAULT : X86_EMU_OK;
	}
	if (grp7 && sub <= 3) { /* LGDT, LIDT */
		unsigned n = is64(m) ? 10 : 6;
		uint64_t base = 0;
		uint16_t limit;
		int (*load)(void *, bool, uint64_t, uint16_t) = e->load_dtr;
		if (!load)
			return unhandled(m, "LGDT/LIDT");
		if (mem_read(m, mem.seg, mem.off, buf, n, 0))
			return X86_EMU_FAULT;
		memcpy(&limit, buf, 2);
		memcpy(&base, buf + 2, n - 2);
		if (!is64(m) && in->opsize == 2)
			base &= 0xffffff;
		if (is64(m) && !canonical(m, base))
			return exc(m, VEC_GP, true, 0);
		return sys_result(m, load(e->opaque, sub == 3, base, limit));
	}
	if (store) { /* SMSW, SLDT, STR: 16 bits to memory */
		v16 = grp7 ? (uint16_t)e->cr0 : sub ? e->tr : e->ldtr;
		return mem_write(m, mem.seg, mem.off, &v16, 2, X86_EMU_WRITE) ? X86_EMU_FAULT : X86_EMU_OK;
	}
	/* LLDT, LTR: the selector from memory, the rest is the caller's */
	if (!e->load_sys_seg)
		return unhandled(m, "LLDT/LTR");
	if (mem_read(m, mem.seg, mem.off, &v16, 2, 0))
		return X86_EMU_FAULT;
	return sys_result(m, e->load_sys_seg(e->opaque, sub == 3, v16));
}

/* --- dispatch -------------------------------------------------------------------------------------- */

static struct opnd imm_opnd(const struct x86_insn *in, unsigned size)
{
	/* imm8 and imm32 sign-extend to the operand size (83, 6B, REX.W 81/C7/69) */
	uint64_t v = in->imm;
	if (in->imm_size < size)
		v = (uint64_t)sext(v, in->imm_size);
	return (struct opnd){ .kind = O_IMM, .size = size, .imm = v };
}

/* JMP/CALL m16:16, m16:32, m16:64 (FF /5, /3): the offset, then the
 * selector; CALL pushes CS and the return address first. */
static enum x86_emu_result do_far(struct emu *m, bool call)
{
	const struct x86_insn *in = m->in;
	unsigned osize = in->opsize;
	struct opnd mem;
	uint64_t target = 0;
	uint16_t sel;
	int rc;

	if (in->lock)
		return exc(m, VEC_UD, false, 0);
	if (!m->e->load_far_cs)
		return unhandled(m, "a far CALL/JMP");
	if (rm_opnd(m, osize, &mem) || mem.kind != O_MEM)
		return exc(m, VEC_UD, false, 0);
	if (mem_read(m, mem.seg, mem.off, &target, osize, 0) ||
	    mem_read(m, mem.seg, (mem.off + osize) & addr_mask(in->addrsize), &sel, 2, 0))
		return X86_EMU_FAULT;
	if (call && (push(m, m->e->sel[1], osize) || push(m, m->next, osize)))
		return X86_EMU_FAULT;
	rc = m->e->load_far_cs(m->e->opaque, sel, &target);
	if (rc == -2)
		return unhandled(m, "a far CALL/JMP through a gate or to a TSS");
	if (rc)
		return X86_EMU_FAULT;
	m->target = target;
	return X86_EMU_OK;
}

/* POP to a segment register (07 17 1F, 0F A1 A9). */
static enum x86_emu_result do_pop_seg(struct emu *m, int sr)
{
	uint64_t v;

	if (!m->e->load_seg)
		return unhandled(m, "POP to a segment register");
	if (pop(m, &v, stack_opsize(m)))
		return X86_EMU_FAULT;
	return sys_result(m, m->e->load_seg(m->e->opaque, sr, (uint16_t)v));
}

/* The instructions LOCK may prefix (SDM vol. 2B LOCK), when their
 * destination is memory (the handlers check that); anything else #UD. */
static bool lockable(const struct x86_insn *in)
{
	unsigned op = in->opcode, sub = X86_MODRM_REG(in->modrm);

	if (in->opmap == 1)
		return op == 0xab || op == 0xb3 || op == 0xbb || (op == 0xba && sub >= 5) || op == 0xb0 ||
		       op == 0xb1 || op == 0xc0 || op == 0xc1 || (op == 0xc7 && sub == 1);
	if (in->opmap != 0)
		return false;
	if (op < 0x40 && (op & 7) < 2)
		return (op >> 3) != 7; /* not CMP */
	switch (op) {
	case 0x80: case 0x81: case 0x83: return sub != 7;
	case 0x86: case 0x87: return true;
	case 0xf6: case 0xf7: return sub == 2 || sub == 3;
	case 0xfe: case 0xff: return sub <= 1;
	default: return false;
	}
}

static enum x86_emu_result one_byte(struct emu *m)
{
	const struct x86_insn *in = m->in;
	unsigned op = in->opcode, size;
	struct opnd rm, reg, imm;
	uint64_t v;

	if (op < 0x40 && (op & 7) < 4) { /* the ALU rows, r/m forms */
		size = size_of(m, !(op & 1));
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "an ALU operand");
		reg = reg_opnd(in, modrm_reg(in), size);
		return (op & 2) ? do_alu(m, (enum alu)(op >> 3), &reg, &rm) : do_alu(m, (enum alu)(op >> 3), &rm, &reg);
	}
	switch (op) {
	case 0x06: case 0x0e: case 0x16: case 0x1e: /* PUSH ES CS SS DS (not in 64-bit mode) */
		if (is64(m))
			return exc(m, VEC_UD, false, 0);
		return push(m, m->e->sel[op >> 3], stack_opsize(m)) ? X86_EMU_FAULT : X86_EMU_OK;
	case 0x07: case 0x17: case 0x1f: /* POP ES SS DS */
		if (is64(m))
			return exc(m, VEC_UD, false, 0);
		return do_pop_seg(m, (int)(op >> 3));
	case 0x50 ... 0x57: /* PUSH r */
		v = m->gpr[(op & 7) | ((in->rex & 1u) << 3)];
		return push(m, v, stack_opsize(m)) ? X86_EMU_FAULT : X86_EMU_OK;
	case 0x58 ... 0x5f: /* POP r */
		if (pop(m, &v, stack_opsize(m)))
			return X86_EMU_FAULT;
		reg_set(m, (op & 7) | ((in->rex & 1u) << 3), stack_opsize(m), false, v);
		return X86_EMU_OK;
	case 0x63: /* MOVSXD (64-bit mode) */
		if (!is64(m))
			return unhandled(m, "ARPL");
		if (rm_opnd(m, 4, &rm))
			return unhandled(m, "a MOVSXD operand");
		reg = reg_opnd(in, modrm_reg(in), in->opsize);
		return do_movx(m, &reg, &rm, in->opsize == 8);
	case 0x68: case 0x6a: /* PUSH imm */
		imm = imm_opnd(in, stack_opsize(m));
		return push(m, imm.imm, stack_opsize(m)) ? X86_EMU_FAULT : X86_EMU_OK;
	case 0x69: case 0x6b: /* IMUL r, r/m, imm */
		size = in->opsize;
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "an IMUL operand");
		reg = reg_opnd(in, modrm_reg(in), size);
		imm = imm_opnd(in, size);
		return do_imul2(m, &reg, &rm, &imm);
	case 0x80: case 0x81: case 0x83:
		size = size_of(m, op == 0x80);
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "an ALU operand");
		imm = imm_opnd(in, size);
		return do_alu(m, (enum alu)X86_MODRM_REG(in->modrm), &rm, &imm);
	case 0x84: case 0x85:
		size = size_of(m, op == 0x84);
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a TEST operand");
		reg = reg_opnd(in, modrm_reg(in), size);
		return do_test(m, &rm, &reg);
	case 0x86: case 0x87:
		size = size_of(m, op == 0x86);
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "an XCHG operand");
		reg = reg_opnd(in, modrm_reg(in), size);
		return do_xchg(m, &rm, &reg);
	case 0x88 ... 0x8b:
		size = size_of(m, !(op & 1));
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a MOV operand");
		reg = reg_opnd(in, modrm_reg(in), size);
		return (op & 2) ? do_mov(m, &reg, &rm) : do_mov(m, &rm, &reg);
	case 0x8c: /* MOV r/m, Sreg: 16 bits to memory, zero-extended into a register */
		if (X86_MODRM_REG(in->modrm) > 5)
			return exc(m, VEC_UD, false, 0);
		if (rm_opnd(m, 2, &rm))
			return unhandled(m, "a MOV Sreg operand");
		if (rm.kind == O_REG)
			rm.size = in->opsize;
		imm = (struct opnd){ .kind = O_IMM, .size = rm.size, .imm = m->e->sel[X86_MODRM_REG(in->modrm)] };
		return do_mov(m, &rm, &imm);
	case 0x8e: { /* MOV Sreg, r/m16 */
		unsigned sr = X86_MODRM_REG(in->modrm);
		if (sr == 1 || sr > 5 || in->lock)
			return exc(m, VEC_UD, false, 0);
		if (!m->e->load_seg)
			return unhandled(m, "MOV to a segment register");
		if (rm_opnd(m, 2, &rm) || get(m, &rm, &v, false))
			return X86_EMU_FAULT;
		return sys_result(m, m->e->load_seg(m->e->opaque, (int)sr, (uint16_t)v));
	}
	case 0x8f: /* POP r/m: the address is computed after RSP moves */
		if (X86_MODRM_REG(in->modrm) != 0)
			return unhandled(m, "XOP");
		size = stack_opsize(m);
		if (pop(m, &v, size))
			return X86_EMU_FAULT;
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a POP operand");
		return put(m, &rm, v) ? X86_EMU_FAULT : X86_EMU_OK;
	case 0xa0 ... 0xa3: /* MOV with moffs */
		size = size_of(m, !(op & 1));
		rm = (struct opnd){ .kind = O_MEM, .size = size };
		x86_mem_operand(in, m->gpr, m->next, &rm.off, &rm.seg);
		reg = reg_opnd(in, 0, size);
		return (op & 2) ? do_mov(m, &rm, &reg) : do_mov(m, &reg, &rm);
	case 0xa4 ... 0xa7: case 0xaa ... 0xaf:
		return do_string(m);
	case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		size = size_of(m, !(op & 1));
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a shift operand");
		return do_shift(m, X86_MODRM_REG(in->modrm), &rm,
				op <= 0xc1 ? (unsigned)in->imm : op <= 0xd1 ? 1 : (unsigned)(m->gpr[1] & 0xff));
	case 0xc2: case 0xc3: /* RET [imm16] */
		if (pop(m, &v, stack_opsize(m)))
			return X86_EMU_FAULT;
		if (op == 0xc2)
			m->gpr[RSP] = (m->gpr[RSP] & ~addr_mask(stack_size(m))) |
				      ((m->gpr[RSP] + in->imm) & addr_mask(stack_size(m)));
		return branch(m, v);
	case 0xc6: case 0xc7:
		if (X86_MODRM_REG(in->modrm) != 0)
			return unhandled(m, "XABORT/XBEGIN");
		size = size_of(m, op == 0xc6);
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a MOV operand");
		imm = imm_opnd(in, size);
		return do_mov(m, &rm, &imm);
	case 0xc8: { /* ENTER imm16, imm8: the frame in emulated memory */
		unsigned sz = stack_opsize(m), level = in->imm2 & 31;
		uint64_t sm = addr_mask(stack_size(m)), frame, bp = m->gpr[5];
		if (push(m, bp, sz))
			return X86_EMU_FAULT;
		frame = m->gpr[RSP];
		for (unsigned i = 1; i < level; i++) {
			bp = (bp & ~sm) | ((bp - sz) & sm);
			v = 0;
			if (mem_read(m, SEG_SS, bp & sm, &v, sz, X86_EMU_STACK) || push(m, v, sz))
				return X86_EMU_FAULT;
		}
		if (level && push(m, frame, sz))
			return X86_EMU_FAULT;
		reg_set(m, 5, sz, false, frame);
		m->gpr[RSP] = (m->gpr[RSP] & ~sm) | ((m->gpr[RSP] - in->imm) & sm);
		return X86_EMU_OK;
	}
	case 0xc9: /* LEAVE: RSP = RBP, POP RBP */ {
		uint64_t sm = addr_mask(stack_size(m)), save = m->gpr[RSP];
		m->gpr[RSP] = (m->gpr[RSP] & ~sm) | (m->gpr[5] & sm);
		if (pop(m, &v, stack_opsize(m))) {
			m->gpr[RSP] = save;
			return X86_EMU_FAULT;
		}
		reg_set(m, 5, stack_opsize(m), false, v);
		return X86_EMU_OK;
	}
	case 0xe8: /* CALL rel with the stack in emulated memory */
		if (push(m, m->next, stack_opsize(m)))
			return X86_EMU_FAULT;
		return branch(m, m->next + (uint64_t)sext(in->imm, in->imm_size));
	case 0xf6: case 0xf7: {
		unsigned sub = X86_MODRM_REG(in->modrm);
		size = size_of(m, op == 0xf6);
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a group 3 operand");
		if (sub <= 1) {
			imm = imm_opnd(in, size);
			return do_test(m, &rm, &imm);
		}
		if (sub <= 3)
			return do_notneg(m, &rm, sub == 3);
		return do_muldiv(m, sub, &rm);
	}
	case 0xfe: case 0xff: {
		unsigned sub = X86_MODRM_REG(in->modrm);
		if (op == 0xfe && sub > 1)
			return unhandled(m, "FE /2-/7");
		if (sub <= 1) {
			size = size_of(m, op == 0xfe);
			if (rm_opnd(m, size, &rm))
				return unhandled(m, "an INC/DEC operand");
			return do_incdec(m, &rm, sub == 1);
		}
		if (sub == 7)
			return exc(m, VEC_UD, false, 0);
		if (sub == 3 || sub == 5)
			return do_far(m, sub == 3);
		size = is64(m) && in->opsize != 2 ? 8 : in->opsize;
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a CALL/JMP/PUSH operand");
		if (in->lock)
			return exc(m, VEC_UD, false, 0);
		if (get(m, &rm, &v, false))
			return X86_EMU_FAULT;
		if (sub == 6)
			return push(m, v, size) ? X86_EMU_FAULT : X86_EMU_OK;
		if (sub == 2 && push(m, m->next, size))
			return X86_EMU_FAULT;
		return branch(m, v);
	}
	default:
		return unhandled(m, "an instruction of the one-byte map this emulator does not run");
	}
}

static enum x86_emu_result two_byte(struct emu *m)
{
	const struct x86_insn *in = m->in;
	unsigned op = in->opcode, size = in->opsize;
	struct opnd rm, reg;
	uint64_t off;

	switch (op) {
	case 0x00: case 0x01:
		return do_system(m);
	case 0xa0: case 0xa8: /* PUSH FS, GS */
		return push(m, m->e->sel[op == 0xa0 ? 4 : 5], stack_opsize(m)) ? X86_EMU_FAULT : X86_EMU_OK;
	case 0xa1: case 0xa9: /* POP FS, GS */
		return do_pop_seg(m, op == 0xa1 ? 4 : 5);
	case 0x10 ... 0x17: case 0x28: case 0x29: case 0x2b: case 0x6e: case 0x6f: case 0x7e: case 0x7f:
	case 0xd6: case 0xe7:
		return do_sse(m);
	case 0x40 ... 0x4f: { /* CMOVcc: the source is read either way */
		uint64_t v;
		if (in->lock)
			return exc(m, VEC_UD, false, 0);
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a CMOV operand");
		if (get(m, &rm, &v, false))
			return X86_EMU_FAULT;
		reg = reg_opnd(in, modrm_reg(in), size);
		if (cond(m, op & 15))
			put(m, &reg, v);
		else if (size == 4)
			put(m, &reg, reg_get(m, reg.reg, 4, false)); /* the upper half is cleared anyway */
		return X86_EMU_OK;
	}
	case 0x90 ... 0x9f: /* SETcc */
		if (in->lock)
			return exc(m, VEC_UD, false, 0);
		if (rm_opnd(m, 1, &rm))
			return unhandled(m, "a SETcc operand");
		return put(m, &rm, cond(m, op & 15)) ? X86_EMU_FAULT : X86_EMU_OK;
	case 0xa3: case 0xab: case 0xb3: case 0xbb: /* BT BTS BTR BTC r/m, r */
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a BT operand");
		off = reg_get(m, modrm_reg(in), size, false);
		return do_bt(m, (op >> 3) & 3, &rm, sext(off, size), true);
	case 0xba: /* BT BTS BTR BTC r/m, imm8 */
		if (X86_MODRM_REG(in->modrm) < 4)
			return exc(m, VEC_UD, false, 0);
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a BT operand");
		return do_bt(m, X86_MODRM_REG(in->modrm) & 3, &rm, (int64_t)(in->imm & 0xff), false);
	case 0xa4: case 0xa5: case 0xac: case 0xad: /* SHLD SHRD */
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a SHLD/SHRD operand");
		reg = reg_opnd(in, modrm_reg(in), size);
		return do_shxd(m, op >= 0xac, &rm, &reg, (op & 1) ? (unsigned)(m->gpr[1] & 0xff) : (unsigned)in->imm);
	case 0xaf: /* IMUL r, r/m */
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "an IMUL operand");
		reg = reg_opnd(in, modrm_reg(in), size);
		return do_imul2(m, &reg, &rm, NULL);
	case 0xb0: case 0xb1:
		size = size_of(m, op == 0xb0);
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a CMPXCHG operand");
		reg = reg_opnd(in, modrm_reg(in), size);
		return do_cmpxchg(m, &rm, &reg);
	case 0xb6: case 0xb7: case 0xbe: case 0xbf: /* MOVZX MOVSX */
		if (rm_opnd(m, (op & 1) ? 2 : 1, &rm))
			return unhandled(m, "a MOVZX/MOVSX operand");
		reg = reg_opnd(in, modrm_reg(in), size);
		return do_movx(m, &reg, &rm, op >= 0xbe);
	case 0xbc: case 0xbd:
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "a BSF/BSR operand");
		reg = reg_opnd(in, modrm_reg(in), size);
		return do_bitscan(m, op == 0xbd, &reg, &rm);
	case 0xc0: case 0xc1:
		size = size_of(m, op == 0xc0);
		if (rm_opnd(m, size, &rm))
			return unhandled(m, "an XADD operand");
		reg = reg_opnd(in, modrm_reg(in), size);
		return do_xadd(m, &rm, &reg);
	case 0xc3: /* MOVNTI */
		if (rm_opnd(m, size, &rm) || rm.kind != O_MEM)
			return exc(m, VEC_UD, false, 0);
		reg = reg_opnd(in, modrm_reg(in), size);
		return do_mov(m, &rm, &reg);
	default:
		return unhandled(m, "an instruction of the 0F map this emulator does not run");
	}
}

/* 0F 38 F0/F1: MOVBE. */
static enum x86_emu_result three_byte(struct emu *m)
{
	const struct x86_insn *in = m->in;
	struct opnd rm, reg;
	uint64_t v;

	if (in->opmap != 2 || (in->opcode != 0xf0 && in->opcode != 0xf1) || in->rep)
		return unhandled(m, "an instruction of the 0F 38/3A maps");
	if (in->lock)
		return exc(m, VEC_UD, false, 0);
	if (rm_opnd(m, in->opsize, &rm) || rm.kind != O_MEM)
		return exc(m, VEC_UD, false, 0);
	reg = reg_opnd(in, modrm_reg(in), in->opsize);
	if (in->opcode == 0xf0) {
		if (get(m, &rm, &v, false))
			return X86_EMU_FAULT;
		put(m, &reg, bswap(v, in->opsize));
		return X86_EMU_OK;
	}
	v = bswap(reg_get(m, reg.reg, in->opsize, false), in->opsize);
	return put(m, &rm, v) ? X86_EMU_FAULT : X86_EMU_OK;
}

enum x86_emu_result x86_emulate(struct x86_emu *e, const struct x86_insn *in)
{
	struct emu m = { .e = e, .in = in, .rflags = e->rflags };
	enum x86_emu_result r;

	memcpy(m.gpr, e->gpr, sizeof(m.gpr));
	m.next = in->mode == X86_MODE_64 ? e->rip + in->len : (e->rip + in->len) & 0xffffffffull;
	if (in->mode == X86_MODE_16)
		m.next = (e->rip + in->len) & 0xffff;
	m.target = m.next;
	e->unhandled = NULL;
	if (in->vex)
		return unhandled(&m, "a VEX/EVEX/XOP instruction");
	if (in->lock && !lockable(in))
		return exc(&m, VEC_UD, false, 0);
	switch (in->opmap) {
	case 0: r = one_byte(&m); break;
	case 1: r = two_byte(&m); break;
	default: r = three_byte(&m); break;
	}
	/* A REP string instruction keeps what it finished, even on a fault. */
	bool string = in->opmap == 0 && ((in->opcode >= 0xa4 && in->opcode <= 0xa7) || in->opcode >= 0xaa) &&
		      in->opcode <= 0xaf;
	if (r == X86_EMU_OK || r == X86_EMU_MORE || (r == X86_EMU_FAULT && string && in->rep)) {
		memcpy(e->gpr, m.gpr, sizeof(m.gpr));
		e->rflags = m.rflags;
		if (r == X86_EMU_OK)
			e->rip = m.target;
	}
	return r;
}
