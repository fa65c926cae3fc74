/* SPDX-License-Identifier: MIT */
/*
 * Instructions the hypervisor must look at itself: the length of an
 * intercepted instruction when the CPU does not report it (SVM without nRIP
 * save), and guest accesses to guest-physical addresses with no RAM, which
 * arrive as nested page faults (EPT violations) with little more than the
 * guest-physical address.
 *
 * Such an access is emulated from the instruction, not from the exit: the
 * instruction at RIP is decoded and run by the instruction emulator
 * (hv/arch/x86/emulate_insn.c), each of its memory accesses checked
 * through the guest's segments and translated by Petrel's own walk of the
 * guest's page tables (gmem.c).  So every way of
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
#include <arch/cpu.h>
#include <arch/xstate.h>
#include <petrel/debug.h>
#include <petrel/x86_decode.h>
#include <petrel/x86_emulate.h>

#define DB 1

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

/* The linear address of an instruction pointer. */
static uint64_t rip_linear(struct vcpu *v, uint64_t pc, enum x86_mode mode)
{
	if (mode == X86_MODE_64)
		return pc;
	return (uint32_t)(v->regs.seg[SEG_CS].base + pc);
}

uint64_t vcpu_pc_linear(struct vcpu *v)
{
	return rip_linear(v, v->regs.rip, vcpu_mode(v));
}

size_t vcpu_insn_bytes(struct vcpu *v, uint64_t rip, uint8_t bytes[X86_MAX_INSN_LEN], enum x86_mode *mode)
{
	size_t avail = 0;
	uint64_t pc;

	*mode = vcpu_mode(v);
	pc = rip_linear(v, rip, *mode);
	while (avail < X86_MAX_INSN_LEN) {
		size_t chunk = MIN(X86_MAX_INSN_LEN - avail, PAGE_SIZE - ((pc + avail) & (PAGE_SIZE - 1)));
		if (guest_fetch(v, pc + avail, bytes + avail, chunk))
			break;
		avail += chunk;
	}
	return avail;
}

/* Fetches the bytes at CS:RIP (stopping early at a page the guest cannot
 * fetch from, or that is not RAM) and decodes them.  0, or -1 after
 * reporting why. */
int vcpu_decode(struct vcpu *v, struct x86_insn *insn)
{
	uint8_t bytes[X86_MAX_INSN_LEN];
	enum x86_mode mode;
	size_t avail = vcpu_insn_bytes(v, v->regs.rip, bytes, &mode);
	uint64_t pc = rip_linear(v, v->regs.rip, mode);

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
	vcpu_insn_done(v, v->regs.rflags);
}

/* SDM vol. 3B §18.3.1.4: with TF set at the start of an instruction, a
 * trap-class #DB with DR6.BS follows it.  The CPU never completed the
 * instructions Petrel carries out, so Petrel raises it (as KVM does).
 * Left alone: the MOV SS/POP SS shadow, which would defer it by one
 * instruction, and REP string instructions, which the CPU steps element
 * by element but Petrel only at their end. */
void vcpu_insn_done(struct vcpu *v, uint64_t rflags_before)
{
	if (v->dbg.step) { /* a debugger steps it: this was the step */
		debug_step_done(v);
		return;
	}
	if (!(rflags_before & RFLAGS_TF) || v->event.pending)
		return;
	vcpu_ops->set_dr6(v, vcpu_ops->get_dr6(v) | DR6_BS);
	vcpu_inject_exception(v, DB, false, 0);
}

/* An instruction fetch outside RAM: if the guest's own page tables fault
 * on RIP, that #PF is what the CPU gives; otherwise the code really is
 * outside RAM, and Petrel does not execute from the bus. */
static int fetch_fault(struct vcpu *v)
{
	uint64_t gpa, pc = rip_linear(v, v->regs.rip, vcpu_mode(v));
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
 * guest-physical address too, and LMSW takes its operand from memory: the
 * control-register path handles them. */
static bool is_mov_to_cr(struct vcpu *v, const struct x86_insn *in)
{
	if (in->opmap == 1 && in->opcode == 0x01 && in->has_modrm && X86_MODRM_REG(in->modrm) == 6 &&
	    X86_MODRM_MOD(in->modrm) != 3) {
		v->exit.kind = EXIT_CR;
		v->exit.insn_len = 0; /* decode_cr takes it from the instruction */
		v->exit.cr.cr = 0;
		v->exit.cr.op = CR_UNKNOWN;
		v->exit.cr.gpr = -1;
		return true;
	}
	if (in->opmap != 1 || in->opcode != 0x22)
		return false;
	v->exit.kind = EXIT_CR;
	v->exit.insn_len = in->len;
	v->exit.cr.cr = (uint8_t)(X86_MODRM_REG(in->modrm) | ((in->rex & 4) << 1));
	v->exit.cr.op = CR_MOV_TO;
	v->exit.cr.gpr = (int8_t)(X86_MODRM_RM(in->modrm) | ((in->rex & 1) << 3));
	return true;
}

/* --- the emulator's view of the vCPU ----------------------------------------------- */

/* An access for the emulator: through the guest's segment (limits, types,
 * #AC), then its page tables (a read-modify-write's read is checked for
 * write too), then RAM or the bus piece by piece.  A fault is injected
 * here, as the CPU raises it. */
static int emu_access(struct vcpu *v, int seg, uint64_t off, void *buf, unsigned len, unsigned flags, bool write)
{
	bool w = flags & X86_EMU_WRITE;
	uint64_t lin;
	struct gpieces p;

	if (guest_seg_linear(v, seg, off, len, w, &lin) ||
	    guest_linear_xlate(v, lin, len, (w ? GACC_WRITE : 0) | (v->regs.cpl == 3 ? GACC_USER : 0), &p, true))
		return -1;
	gpieces_access(v, &p, buf, write);
	return 0;
}

static int emu_read(void *opaque, int seg, uint64_t off, void *buf, unsigned len, unsigned flags)
{
	return emu_access(opaque, seg, off, buf, len, flags, false);
}

static int emu_write(void *opaque, int seg, uint64_t off, const void *buf, unsigned len, unsigned flags)
{
	return emu_access(opaque, seg, off, (void *)buf, len, flags, true);
}

static void emu_get_xmm(void *opaque, unsigned reg, uint8_t val[16])
{
	xstate_get_xmm(&((struct vcpu *)opaque)->xs, reg, val);
}

static void emu_set_xmm(void *opaque, unsigned reg, const uint8_t val[16])
{
	xstate_set_xmm(&((struct vcpu *)opaque)->xs, reg, val);
}

static void emu_get_mmx(void *opaque, unsigned reg, uint8_t val[8])
{
	xstate_mmx_io(&((struct vcpu *)opaque)->xs, reg, val, false);
}

static void emu_set_mmx(void *opaque, unsigned reg, const uint8_t val[8])
{
	uint8_t buf[8];

	memcpy(buf, val, 8);
	xstate_mmx_io(&((struct vcpu *)opaque)->xs, reg, buf, true);
}

static int emu_load_dtr(void *opaque, bool idt, uint64_t base, uint16_t limit)
{
	struct vcpu *v = opaque;

	if (idt) {
		v->regs.idtr.base = base;
		v->regs.idtr.limit = limit;
	} else {
		v->regs.gdtr.base = base;
		v->regs.gdtr.limit = limit;
	}
	vcpu_dirty(v, REG_SEGS);
	return 0;
}

static int emu_load_sys_seg(void *opaque, bool tr, uint16_t sel)
{
	return task_load_sys_seg(opaque, tr, sel);
}

static int emu_load_seg(void *opaque, int seg, uint16_t sel)
{
	return seg_load_data(opaque, seg, sel);
}

static int emu_load_far_cs(void *opaque, uint16_t sel, uint64_t *target)
{
	return seg_load_far_cs(opaque, sel, target);
}

/* SSE and MMX as the guest's CR0 and CR4 allow them (SDM vol. 3A §13.1):
 * #UD with CR0.EM (or, for SSE, without CR4.OSFXSR), #NM with CR0.TS; an
 * MMX instruction raises a pending x87 exception as #MF first. */
static int emu_sse_usable(void *opaque, bool mmx)
{
	struct vcpu *v = opaque;

	if ((v->regs.cr0 & CR0_EM) || (!mmx && !(v->regs.cr4 & CR4_OSFXSR)))
		return 6;
	if (v->regs.cr0 & CR0_TS)
		return 7;
	if (mmx && (xstate_x87_status(&v->xs) & 0x80))
		return 16;
	return 0;
}

/* One instruction whose memory is not RAM (a device's range, or nothing):
 * decoded at RIP and run by the emulator (x86_emulate.h), its memory
 * reached through the guest's segments and page tables, RAM bytes in RAM
 * and the rest on the bus (an address no device claims reads all-ones,
 * writes vanish).  0 (done, continued later for a long REP, or a fault
 * injected), or -1 after saying why it cannot be emulated. */
int emulate_mmio(struct vcpu *v)
{
	struct x86_insn insn;
	struct x86_emu e;
	enum x86_emu_result r;
	uint64_t rflags_before;

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
	vcpu_need(v, REG_RIP | REG_GPRS | REG_CR | REG_SEGS);
	e = (struct x86_emu){
		.rip = v->regs.rip, .rflags = v->regs.rflags, .canonical57 = v->regs.cr4 & CR4_LA57,
		.stack_size = insn.mode == X86_MODE_64 ? 8 : (v->regs.seg[SEG_SS].attr & SEG_ATTR_DB) ? 4 : 2,
		.read = emu_read, .write = emu_write, .get_xmm = emu_get_xmm, .set_xmm = emu_set_xmm,
		.get_mmx = emu_get_mmx, .set_mmx = emu_set_mmx,
		.sse_usable = emu_sse_usable, .opaque = v, .rep_chunk = STRING_IO_CHUNK,
		.cr0 = v->regs.cr0, .cr4 = v->regs.cr4, .cpl = v->regs.cpl,
		.tzcnt = guest_cpuid(v, 7, 0).ebx & (1u << 3),
		.lzcnt = guest_cpuid(v, 0x80000001u, 0).ecx & (1u << 5),
		.intel = guest_cpuid(v, 0, 0).ebx == 0x756e6547u, /* "Genu" */
		.gdtr = { v->regs.gdtr.base, (uint16_t)v->regs.gdtr.limit },
		.idtr = { v->regs.idtr.base, (uint16_t)v->regs.idtr.limit },
		.ldtr = v->regs.seg[SEG_LDTR].sel, .tr = v->regs.seg[SEG_TR].sel,
		.sel = { v->regs.seg[SEG_ES].sel, v->regs.seg[SEG_CS].sel, v->regs.seg[SEG_SS].sel,
			 v->regs.seg[SEG_DS].sel, v->regs.seg[SEG_FS].sel, v->regs.seg[SEG_GS].sel },
		.load_dtr = emu_load_dtr, .load_sys_seg = emu_load_sys_seg, .load_seg = emu_load_seg,
		.load_far_cs = emu_load_far_cs,
	};
	memcpy(e.gpr, v->regs.gpr, sizeof(e.gpr));
	r = x86_emulate(&e, &insn);
	if (r == X86_EMU_UNHANDLED) {
		pr_err("vm %s: access to guest-physical 0x%llx by an instruction Petrel does not emulate: %s "
		       "(opcode %s%02x)\n", v->vm->name, (unsigned long long)v->exit.mmio.gpa, e.unhandled,
		       insn.opmap == 1 ? "0f " : insn.opmap == 2 ? "0f 38 " : insn.opmap == 3 ? "0f 3a " : "",
		       insn.opcode);
		return -1;
	}
	/* OK and MORE move on; a REP that faulted keeps its finished elements. */
	rflags_before = v->regs.rflags;
	memcpy(v->regs.gpr, e.gpr, sizeof(e.gpr));
	v->regs.rflags = e.rflags;
	v->regs.rip = e.rip;
	vcpu_dirty(v, REG_RIP | REG_GPRS);
	if (r == X86_EMU_EXCEPTION)
		vcpu_inject_exception(v, e.exc_vector, e.exc_has_error, e.exc_error);
	else if (r == X86_EMU_OK)
		vcpu_insn_done(v, rflags_before);
	return 0;
}
