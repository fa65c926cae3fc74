/* SPDX-License-Identifier: MIT */
/*
 * Instructions the hypervisor must look at itself: the length of an
 * intercepted instruction when the CPU does not report it (SVM without nRIP
 * save), and guest accesses to guest-physical addresses with no RAM, which
 * arrive as nested page faults (EPT violations) with little more than the
 * guest-physical address.
 *
 * Such an access is emulated from the instruction, not from the exit: the
 * instruction at RIP is decoded, its memory operand's linear address
 * computed and checked through the guest's segments, and translated by
 * Petrel's own walk of the guest's page tables (gmem.c).  So every way of
 * getting there gives the CPU's answer: a page-table entry outside RAM
 * reads all-ones (an empty bus) and usually faults as reserved, a page
 * fault gets its real error code, and an access that straddles the end of
 * RAM does its RAM bytes in RAM and the rest on the bus.
 */
#include <petrel/cr.h>
#include <petrel/gmem.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>

#include "core.h"
#include <petrel/x86_decode.h>

#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)

static enum x86_mode vcpu_mode(struct vcpu *v)
{
	uint16_t cs;

	vcpu_need(v, REG_CR | REG_SEGS); /* before reading CS: VMX fetches segments lazily */
	cs = v->regs.seg[SEG_CS].attr;
	if (!(v->regs.cr0 & CR0_PE) || (v->regs.rflags & (1ull << 17)))
		return X86_MODE_16; /* real mode, virtual-8086 */
	if ((v->regs.efer & EFER_LMA) && (cs & SEG_ATTR_L))
		return X86_MODE_64;
	return (cs & SEG_ATTR_DB) ? X86_MODE_32 : X86_MODE_16;
}

/* The linear address of RIP. */
static uint64_t rip_linear(struct vcpu *v, enum x86_mode mode)
{
	uint64_t pc = v->regs.rip;

	if (mode == X86_MODE_64)
		return pc;
	return (uint32_t)(v->regs.seg[SEG_CS].base + pc);
}

/* Fetches the bytes at CS:RIP (stopping early at a page the guest cannot
 * fetch from, or that is not RAM) and decodes them.  0, or -1 after
 * reporting why. */
int vcpu_decode(struct vcpu *v, struct x86_insn *insn)
{
	uint8_t bytes[X86_MAX_INSN_LEN];
	size_t avail = 0;
	enum x86_mode mode = vcpu_mode(v);
	uint64_t pc = rip_linear(v, mode);

	while (avail < sizeof(bytes)) {
		size_t chunk = MIN(sizeof(bytes) - avail, PAGE_SIZE - ((pc + avail) & (PAGE_SIZE - 1)));
		if (guest_fetch(v, pc + avail, bytes + avail, chunk))
			break;
		avail += chunk;
	}
	if (x86_decode(bytes, avail, mode, insn) != X86_DECODE_OK) {
		pr_err("vm %s: cannot decode the instruction at 0x%llx (%zu bytes readable)\n",
		       v->vm->name, (unsigned long long)pc, avail);
		vcpu_ops->dump(v);
		return -1;
	}
	return 0;
}

void vcpu_skip_insn(struct vcpu *v)
{
	uint8_t len = v->exit.insn_len;
	struct x86_insn insn;

	if (!len) {
		if (vcpu_decode(v, &insn)) {
			vm_stop(v->vm, "an intercepted instruction could not be decoded");
			return;
		}
		len = insn.len;
	}
	v->regs.rip += len;
	vcpu_dirty(v, REG_RIP);
}

/* An instruction fetch outside RAM: if the guest's own page tables fault
 * on RIP, that #PF is what the CPU gives; otherwise the code really is
 * outside RAM, and Petrel does not execute from the bus. */
static int fetch_fault(struct vcpu *v)
{
	uint64_t gpa, pc = rip_linear(v, vcpu_mode(v));
	uint32_t err;

	if (gva_translate(v, pc, GACC_FETCH | (v->regs.cpl == 3 ? GACC_USER : 0), &gpa, &err)) {
		inject_page_fault(v, pc, err);
		return 0;
	}
	pr_err("vm %s: instruction fetch at guest-physical 0x%llx, which is not RAM\n", v->vm->name,
	       (unsigned long long)gpa);
	return -1;
}

/* MOV to CR3 (PAE paging: the PDPTEs it loads) or CR0/CR4 can fault on a
 * guest-physical address too: the control-register path handles it. */
static bool is_mov_to_cr(struct vcpu *v, const struct x86_insn *in)
{
	if (in->opmap != 1 || in->opcode != 0x22)
		return false;
	v->exit.kind = EXIT_CR;
	v->exit.insn_len = in->len;
	v->exit.cr.cr = (uint8_t)(X86_MODRM_REG(in->modrm) | ((in->rex & 4) << 1));
	v->exit.cr.op = CR_MOV_TO;
	v->exit.cr.gpr = (int8_t)(X86_MODRM_RM(in->modrm) | ((in->rex & 1) << 3));
	return true;
}

/* One access outside RAM: decode the MOV at RIP, find its operand through
 * the guest's segments and page tables, do it (RAM bytes in RAM, the rest
 * on the bus: an address no device claims reads all-ones, writes vanish),
 * update the register, move past the instruction.  0 (done, or a fault
 * injected), or -1 after saying why it cannot be emulated. */
int emulate_mmio(struct vcpu *v)
{
	struct x86_insn insn;
	struct x86_mmio m;
	struct gpieces p;
	uint64_t val = 0, off, lin, *reg;
	int seg;

	if (v->exit.mmio.vectoring) {
		pr_err("vm %s: event delivery touched guest-physical 0x%llx, which is not RAM (an IDT, "
		       "GDT, TSS or stack outside RAM): Petrel does not emulate event delivery\n",
		       v->vm->name, (unsigned long long)v->exit.mmio.gpa);
		return -1;
	}
	if (v->exit.mmio.fetch)
		return fetch_fault(v);
	if (vcpu_decode(v, &insn))
		return -1;
	if (is_mov_to_cr(v, &insn)) {
		handle_cr(v);
		return 0;
	}
	if (x86_mmio_classify(&insn, &m) ||
	    x86_mem_operand(&insn, v->regs.gpr, v->regs.rip + insn.len, &off, &seg)) {
		pr_err("vm %s: access to guest-physical 0x%llx by an instruction Petrel does not emulate "
		       "(opcode %02x%s)\n", v->vm->name, (unsigned long long)v->exit.mmio.gpa, insn.opcode,
		       insn.opmap == 1 ? " in the 0F map" : "");
		return -1;
	}
	if (guest_seg_linear(v, seg, off, m.size, m.write, &lin) ||
	    guest_linear_xlate(v, lin, m.size, (m.write ? GACC_WRITE : 0) | (v->regs.cpl == 3 ? GACC_USER : 0),
			       &p, true))
		return 0; /* #GP, #SS, #AC or #PF injected */
	reg = m.reg >= 0 ? &v->regs.gpr[m.reg] : NULL;
	if (m.write) {
		val = x86_mmio_store_value(reg ? *reg : 0, &m);
		gpieces_access(v, &p, &val, true);
	} else {
		gpieces_access(v, &p, &val, false);
		*reg = x86_mmio_merge(*reg, val, &m);
	}
	v->regs.rip += insn.len;
	vcpu_dirty(v, REG_RIP);
	return 0;
}
