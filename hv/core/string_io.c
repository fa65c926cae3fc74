/* SPDX-License-Identifier: MIT */
/*
 * INS and OUTS, with or without REP (SDM vol. 2B INS/INSB/INSW/INSD and
 * OUTS/OUTSB/OUTSW/OUTSD; AMD APM vol. 3): the port side goes to the VM's
 * bus, the memory side through the guest's segments and page tables
 * exactly as the CPU would go: INS writes ES:rDI (no override), OUTS reads
 * seg:rSI; the address size (16, 32 or 64 bits) says how much of rSI,
 * rDI and rCX take part; DF picks the direction.  Each element is checked
 * first (segment type and limit, canonical address, alignment, page
 * tables) and a fault leaves the registers describing the elements done,
 * as the CPU leaves them.  Memory that is not RAM is the VM's MMIO bus
 * (an empty bus reads all-ones and drops writes).
 *
 * A REP runs at most STRING_IO_CHUNK elements per exit and then leaves
 * RIP on the instruction with the registers updated, as the CPU does when
 * an interrupt arrives between iterations: the guest re-executes it, and
 * interrupts and other vCPUs get their turn in between.
 */
#include <petrel/gmem.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>

#include "core.h"
#include <petrel/x86_decode.h>

#define RFLAGS_DF (1ull << 10)

static uint64_t addr_mask(uint8_t addr_size)
{
	return addr_size == 8 ? ~0ull : (1ull << (addr_size * 8)) - 1;
}

/* A register the string instruction counts with: only the address-size
 * part changes; a 32-bit result zero-extends (any 32-bit register write
 * does), a 16-bit one keeps bits 63:16. */
static void set_counter(uint64_t *reg, uint64_t val, uint8_t addr_size)
{
	if (addr_size == 2)
		*reg = (*reg & ~0xffffull) | (val & 0xffff);
	else if (addr_size == 4)
		*reg = (uint32_t)val;
	else
		*reg = val;
}

/* The CPU does not always say the address size and segment (SVM without
 * decode assists; VMX without INS/OUTS information): the instruction
 * does. */
static int decode_string_insn(struct vcpu *v)
{
	struct x86_insn in;

	if (vcpu_decode(v, &in))
		return -1;
	if (v->exit.io.addr_size == 0)
		v->exit.io.addr_size = in.addrsize;
	if (v->exit.io.seg < 0)
		v->exit.io.seg = in.seg >= 0 ? in.seg : SEG_DS;
	return 0;
}

/* One element: its memory side checked and translated before the port is
 * touched, so a fault never loses a value read from a device. */
static int one_element(struct vcpu *v, uint64_t off, unsigned acc)
{
	const struct exit_req *e = &v->exit;
	uint8_t size = e->io.size;
	bool in = e->io.in;
	int seg = in ? SEG_ES : e->io.seg;
	uint64_t lin, val = 0;
	struct gpieces p;

	if (guest_seg_linear(v, seg, off, size, in, &lin) ||
	    guest_linear_xlate(v, lin, size, acc | (in ? GACC_WRITE : 0), &p, true))
		return -1;
	if (in) {
		io_bus_access(&v->vm->bus, false, v, e->io.port, size, false, &val);
		gpieces_access(v, &p, &val, true);
	} else {
		gpieces_access(v, &p, &val, false);
		io_bus_access(&v->vm->bus, false, v, e->io.port, size, true, &val);
	}
	return 0;
}

enum string_io_result emulate_string_io(struct vcpu *v)
{
	struct exit_req *e = &v->exit;
	uint64_t *g = v->regs.gpr, mask;
	unsigned acc;
	int ireg = e->io.in ? GPR_RDI : GPR_RSI;
	int64_t step;

	vcpu_need(v, REG_SEGS | REG_CR);
	if ((e->io.addr_size == 0 || e->io.seg < 0) && decode_string_insn(v))
		return STRING_IO_STOP;
	mask = addr_mask(e->io.addr_size);
	step = (v->regs.rflags & RFLAGS_DF) ? -(int64_t)e->io.size : (int64_t)e->io.size;
	acc = v->regs.cpl == 3 ? GACC_USER : 0;
	vcpu_dirty(v, REG_RIP); /* registers move even if an element faults */
	for (uint32_t n = 0; n < STRING_IO_CHUNK; n++) {
		uint64_t count = g[GPR_RCX] & mask;
		if (e->io.rep && count == 0)
			return STRING_IO_DONE;
		if (one_element(v, g[ireg] & mask, acc))
			return STRING_IO_FAULT;
		set_counter(&g[ireg], g[ireg] + (uint64_t)step, e->io.addr_size);
		if (!e->io.rep)
			return STRING_IO_DONE;
		set_counter(&g[GPR_RCX], count - 1, e->io.addr_size);
	}
	return (g[GPR_RCX] & mask) ? STRING_IO_MORE : STRING_IO_DONE;
}
