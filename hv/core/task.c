/* SPDX-License-Identifier: MIT */
/*
 * Hardware task switches (SDM vol. 3A §8.3), for the backend that cannot
 * let the CPU run them: under VMX every task switch exits (SDM vol. 3C
 * §26.4.2); SVM runs them in the guest.  A 32-bit TSS is switched as the
 * CPU does: JMP and CALL to a TSS or task gate, IRET with NT set, and an
 * interrupt or exception through a task gate.
 *
 * Order, from the SDM's list: the new TSS descriptor is checked (faults
 * here belong to the old task); the old task's registers go into its TSS;
 * busy bits, NT and the back link are set as the source requires; TR,
 * CR0.TS, CR3, the registers and the segments of the new task are loaded,
 * each segment checked (faults here are the new task's, #TS); an
 * exception's error code is pushed on the new task's stack.
 *
 * Not done: 16-bit TSSs (the VM stops, saying so), the TSS's debug trap
 * bit and the clearing of DR7's local enables.
 */
#include <petrel/cr.h>
#include <petrel/gmem.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>

#include "core.h"

#define TS_VEC 10
#define NP_VEC 11
#define GP_VEC 13
#define TYPE_TSS32_AVAIL 9
#define TYPE_TSS32_BUSY 11
#define TYPE_LDT 2
#define DESC_BUSY (1ull << 41)
#define DESC_ACCESSED (1ull << 40)
#define RFLAGS_NT (1ull << 14)
#define RFLAGS_VM (1ull << 17)
#define ATTR_S (1u << 4)
#define ATTR_P (1u << 7)

/* The 32-bit TSS (SDM vol. 3A figure 8-2): offsets of what a switch
 * touches. */
#define TSS_LINK 0x00
#define TSS_CR3 0x1c
#define TSS_EIP 0x20
#define TSS_EFLAGS 0x24
#define TSS_GPRS 0x28 /* EAX ECX EDX EBX ESP EBP ESI EDI, 4 bytes each */
#define TSS_SEGS 0x48 /* ES CS SS DS FS GS, 4 bytes each */
#define TSS_LDT 0x60
#define TSS32_MIN_LIMIT 0x67

struct desc {
	uint64_t raw;
	uint64_t where; /* its linear address */
};

static uint8_t desc_type(uint64_t d) { return (d >> 40) & 0xf; }
static bool desc_s(uint64_t d) { return (d >> 44) & 1; }
static uint8_t desc_dpl(uint64_t d) { return (d >> 45) & 3; }
static bool desc_p(uint64_t d) { return (d >> 47) & 1; }

static uint32_t desc_limit(uint64_t d)
{
	uint32_t lim = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	return ((d >> 55) & 1) ? (lim << 12) | 0xfff : lim;
}

static uint32_t desc_base(uint64_t d)
{
	return (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000));
}

/* The neutral segment for a descriptor (attr: byte 5, then the high
 * nibble of byte 6 at bits 11:8). */
static struct segment seg_from(uint16_t sel, uint64_t d)
{
	return (struct segment){ .sel = sel, .base = desc_base(d), .limit = desc_limit(d),
				 .attr = (uint16_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 8)) };
}

/* Implicit supervisor accesses to the descriptor tables and TSSs. */
static int sys_read(struct vcpu *v, uint64_t lin, void *buf, uint64_t len)
{
	return guest_linear_rw(v, lin, buf, len, 0, true);
}

static int sys_write(struct vcpu *v, uint64_t lin, const void *buf, uint64_t len)
{
	return guest_linear_rw(v, lin, (void *)(uintptr_t)buf, len, GACC_WRITE, true);
}

/* Reads the descriptor a selector names from the GDT or (TI) the LDT:
 * 0, 1 when it lies outside the table (the caller raises its fault), -1
 * after a #PF was injected. */
static int read_desc(struct vcpu *v, uint16_t sel, struct desc *d)
{
	const struct vcpu_regs *r = &v->regs;
	uint64_t base = (sel & 4) ? r->seg[SEG_LDTR].base : r->gdtr.base;
	uint32_t limit = (sel & 4) ? r->seg[SEG_LDTR].limit : r->gdtr.limit;

	if ((sel & 4) && !(r->seg[SEG_LDTR].attr & ATTR_P))
		return 1;
	if ((uint32_t)(sel & ~7u) + 7 > limit)
		return 1;
	d->where = base + (sel & ~7u);
	if (!(r->efer & EFER_LMA))
		d->where &= 0xffffffffull;
	return sys_read(v, d->where, &d->raw, 8) ? -1 : 0;
}

static int write_desc(struct vcpu *v, const struct desc *d)
{
	return sys_write(v, d->where, &d->raw, 8);
}

static void fault(struct vcpu *v, uint8_t vec, uint16_t sel)
{
	vcpu_inject_exception(v, vec, true, sel & ~3u);
}

/* Step 1-3: the new TSS's descriptor.  -1 after raising the old task's
 * fault (or stopping the VM for a 16-bit TSS). */
static int check_new_tss(struct vcpu *v, uint16_t sel, uint8_t source, struct desc *d)
{
	uint8_t type;
	int rc;

	if (sel & 4) {
		fault(v, GP_VEC, sel); /* a TSS lives in the GDT */
		return -1;
	}
	if ((rc = read_desc(v, sel, d)) != 0) {
		if (rc > 0)
			fault(v, GP_VEC, sel);
		return -1;
	}
	type = desc_type(d->raw);
	if ((type == 1 || type == 3) && !desc_s(d->raw)) {
		pr_err("vm %s: task switch to a 16-bit TSS (selector 0x%x): not emulated\n", v->vm->name, sel);
		vm_stop(v->vm, "task switch to a 16-bit TSS, which Petrel does not emulate");
		return -1;
	}
	if (desc_s(d->raw) || (type != TYPE_TSS32_AVAIL && type != TYPE_TSS32_BUSY) ||
	    (source == TS_IRET) != (type == TYPE_TSS32_BUSY)) {
		fault(v, source == TS_IRET ? TS_VEC : GP_VEC, sel);
		return -1;
	}
	if (!desc_p(d->raw)) {
		fault(v, NP_VEC, sel);
		return -1;
	}
	if (desc_limit(d->raw) < TSS32_MIN_LIMIT) {
		fault(v, TS_VEC, sel);
		return -1;
	}
	return 0;
}

/* INT n through a task gate: the gate's DPL must allow the CPL (the CPU
 * has checked JMP and CALL before exiting). */
static int check_soft_gate(struct vcpu *v, uint8_t vector)
{
	uint64_t gate;

	if (sys_read(v, v->regs.idtr.base + vector * 8ull, &gate, 8))
		return -1;
	if (desc_dpl(gate) < v->regs.cpl) {
		vcpu_inject_exception(v, GP_VEC, true, vector * 8u + 2);
		return -1;
	}
	return 0;
}

/* Step 4: the outgoing task's registers into its TSS. */
static int save_old(struct vcpu *v, uint32_t eip, uint32_t eflags)
{
	const struct vcpu_regs *r = &v->regs;
	uint32_t regs[8 + 6];
	uint64_t base = r->seg[SEG_TR].base;

	for (int i = 0; i < 8; i++)
		regs[i] = (uint32_t)r->gpr[i];
	for (int i = 0; i < 6; i++)
		regs[8 + i] = r->seg[i].sel;
	return sys_write(v, base + TSS_EIP, &eip, 4) || sys_write(v, base + TSS_EFLAGS, &eflags, 4) ||
	       sys_write(v, base + TSS_GPRS, regs, sizeof(regs)) ? -1 : 0;
}

/* A segment of the new task (SDM vol. 3A §8.3 step 13): -1 after #TS. */
static int load_seg_as(struct vcpu *v, int idx, uint16_t sel, uint8_t cpl, uint8_t vec)
{
	struct desc d;
	uint8_t type;
	int rc;

	if (v->regs.rflags & RFLAGS_VM) { /* virtual-8086: real-mode style */
		v->regs.seg[idx] = (struct segment){ .sel = sel, .base = (uint32_t)sel << 4, .limit = 0xffff,
						     .attr = 0xf3 | (idx == SEG_CS ? 0x8 : 0) };
		return 0;
	}
	if (!(sel & ~3u) && idx != SEG_CS && idx != SEG_SS) {
		v->regs.seg[idx] = (struct segment){ .sel = sel }; /* null: unusable */
		return 0;
	}
	if (!(sel & ~3u) || (rc = read_desc(v, sel, &d)) > 0) {
		fault(v, vec, sel);
		return -1;
	}
	if (rc < 0)
		return -1;
	type = desc_type(d.raw);
	bool code = type & 8, ok = desc_s(d.raw);
	if (idx == SEG_CS)
		ok = ok && code && ((type & 4) ? desc_dpl(d.raw) <= cpl : desc_dpl(d.raw) == cpl);
	else if (idx == SEG_SS)
		ok = ok && !code && (type & 2) && (sel & 3) == cpl && desc_dpl(d.raw) == cpl;
	else
		ok = ok && (!code || (type & 2)) &&
		     ((code && (type & 4)) || desc_dpl(d.raw) >= MAX(cpl, (uint8_t)(sel & 3)));
	if (!ok) {
		fault(v, vec, sel);
		return -1;
	}
	if (!desc_p(d.raw)) {
		fault(v, idx == SEG_SS ? 12 : NP_VEC, sel);
		return -1;
	}
	if (!(d.raw & DESC_ACCESSED)) {
		d.raw |= DESC_ACCESSED;
		if (write_desc(v, &d))
			return -1;
	}
	v->regs.seg[idx] = seg_from(sel, d.raw);
	return 0;
}

/* In a task switch the faults are #TS. */
static int load_seg(struct vcpu *v, int idx, uint16_t sel, uint8_t cpl)
{
	return load_seg_as(v, idx, sel, cpl, TS_VEC);
}

static int load_ldt(struct vcpu *v, uint16_t sel)
{
	struct desc d;

	if (!(sel & ~3u)) {
		v->regs.seg[SEG_LDTR] = (struct segment){ .sel = sel };
		return 0;
	}
	if ((sel & 4) || read_desc(v, sel, &d) || desc_s(d.raw) || desc_type(d.raw) != TYPE_LDT) {
		fault(v, TS_VEC, sel);
		return -1;
	}
	if (!desc_p(d.raw)) {
		fault(v, NP_VEC, sel);
		return -1;
	}
	v->regs.seg[SEG_LDTR] = seg_from(sel, d.raw);
	return 0;
}

/* Steps 10-13: the new task's state, from its TSS. */
static int load_new(struct vcpu *v, uint64_t base, bool nested)
{
	struct vcpu_regs *r = &v->regs;
	uint32_t eip, eflags, cr3, ldt, gprs[8], segs[6];
	uint8_t cpl;

	if (sys_read(v, base + TSS_CR3, &cr3, 4) || sys_read(v, base + TSS_EIP, &eip, 4) ||
	    sys_read(v, base + TSS_EFLAGS, &eflags, 4) || sys_read(v, base + TSS_GPRS, gprs, sizeof(gprs)) ||
	    sys_read(v, base + TSS_SEGS, segs, sizeof(segs)) || sys_read(v, base + TSS_LDT, &ldt, 4))
		return -1;
	if (r->cr0 & CR0_PG) {
		r->cr3 = cr3;
		vcpu_ops->flush_tlb(v);
		if (cr_pae_legacy(&(struct cr_state){ .cr0 = r->cr0, .cr4 = r->cr4, .efer = r->efer })) {
			const uint64_t *p = gpa_to_hva(v->vm, cr3 & 0xffffffe0ull, 32);
			for (int i = 0; i < 4; i++)
				r->pdpte[i] = p ? p[i] : ~0ull;
			v->valid |= REG_PDPTE;
			vcpu_dirty(v, REG_PDPTE);
		}
	}
	r->rip = eip;
	r->rflags = (eflags | 2) | (nested ? RFLAGS_NT : 0);
	for (int i = 0; i < 8; i++)
		r->gpr[i] = gprs[i];
	vcpu_dirty(v, REG_RIP | REG_CR | REG_SEGS);
	cpl = (r->rflags & RFLAGS_VM) ? 3 : (uint8_t)(segs[SEG_CS] & 3);
	if (load_ldt(v, (uint16_t)ldt))
		return -1;
	for (int i = SEG_ES; i <= SEG_GS; i++)
		r->seg[i].sel = (uint16_t)segs[i];
	for (int i = SEG_ES; i <= SEG_GS; i++)
		if (load_seg(v, i, (uint16_t)segs[i], cpl))
			return -1;
	r->cpl = cpl;
	return 0;
}

/* Pushes an exception's error code on the new task's stack. */
static void push_error(struct vcpu *v, uint32_t error)
{
	struct vcpu_regs *r = &v->regs;
	uint32_t esp = (uint32_t)r->gpr[GPR_RSP] - 4;
	uint64_t lin;

	if (guest_seg_linear(v, SEG_SS, (r->seg[SEG_SS].attr & (1u << 10)) ? esp : (esp & 0xffff), 4, true,
			     &lin) || sys_write(v, lin, &error, 4))
		return;
	r->gpr[GPR_RSP] = (r->gpr[GPR_RSP] & ~0xffffffffull) | esp;
}

void handle_task_switch(struct vcpu *v)
{
	const struct exit_req *e = &v->exit;
	struct vcpu_regs *r = &v->regs;
	uint8_t src = e->task.source;
	uint16_t sel = e->task.sel, old_sel;
	struct desc nd, od;
	uint32_t eflags;

	vcpu_need(v, REG_RIP | REG_CR | REG_SEGS);
	if (src == TS_GATE && e->task.soft && check_soft_gate(v, e->task.vector))
		return;
	if (check_new_tss(v, sel, src, &nd))
		return;
	old_sel = r->seg[SEG_TR].sel;
	if (read_desc(v, old_sel, &od)) {
		fault(v, TS_VEC, old_sel);
		return;
	}
	/* The old task resumes after the instruction (JMP, CALL, IRET, INT n)
	 * or at the one that faulted or was interrupted. */
	eflags = (uint32_t)r->rflags & ~(src == TS_IRET ? (uint32_t)RFLAGS_NT : 0u);
	if (save_old(v, (uint32_t)(r->rip + e->insn_len), eflags))
		return;
	if (src == TS_JMP || src == TS_IRET) {
		od.raw &= ~DESC_BUSY;
		if (write_desc(v, &od))
			return;
	}
	if (src == TS_CALL || src == TS_GATE) {
		uint32_t link = old_sel;
		if (sys_write(v, desc_base(nd.raw) + TSS_LINK, &link, 4))
			return;
	}
	if (src != TS_IRET) {
		nd.raw |= DESC_BUSY;
		if (write_desc(v, &nd))
			return;
	}
	r->seg[SEG_TR] = seg_from(sel, nd.raw);
	r->cr0 |= CR0_TS;
	if (load_new(v, desc_base(nd.raw), src == TS_CALL || src == TS_GATE))
		return;
	if (e->task.has_error)
		push_error(v, e->task.error);
}

/*
 * LTR and LLDT (SDM vol. 2A): a GDT selector (null only for LLDT, which
 * then leaves LDTR unusable) to an available TSS or an LDT descriptor,
 * present; 16 bytes with a 64-bit base in IA-32e mode.  LTR marks the
 * TSS busy.  0, or -1 after injecting #GP, #NP or #PF.  The caller has
 * checked CPL 0.
 */
int task_load_sys_seg(struct vcpu *v, bool tr, uint16_t sel)
{
	struct vcpu_regs *r = &v->regs;
	bool lma = r->efer & EFER_LMA;
	uint64_t lo, hi = 0, where;
	uint8_t type;
	struct segment s;

	vcpu_need(v, REG_CR | REG_SEGS);
	if (!(sel & ~3u)) {
		if (tr) {
			fault(v, GP_VEC, 0);
			return -1;
		}
		r->seg[SEG_LDTR] = (struct segment){ .sel = sel };
		vcpu_dirty(v, REG_SEGS);
		return 0;
	}
	if ((sel & 4) || (uint32_t)(sel & ~7u) + (lma ? 15 : 7) > r->gdtr.limit) {
		fault(v, GP_VEC, sel);
		return -1;
	}
	where = r->gdtr.base + (sel & ~7u);
	if (!lma)
		where &= 0xffffffffull;
	if (sys_read(v, where, &lo, 8) || (lma && sys_read(v, where + 8, &hi, 8)))
		return -1;
	type = desc_type(lo);
	if (desc_s(lo) || (tr ? type != TYPE_TSS32_AVAIL && (lma || type != 1) : type != TYPE_LDT) ||
	    (lma && ((hi >> 40) & 0x1f))) {
		fault(v, GP_VEC, sel);
		return -1;
	}
	if (!desc_p(lo)) {
		fault(v, NP_VEC, sel);
		return -1;
	}
	s = seg_from(sel, lo);
	if (lma) {
		s.base |= (hi & 0xffffffffull) << 32;
		if ((uint64_t)((int64_t)(s.base << 16) >> 16) != s.base) {
			fault(v, GP_VEC, sel);
			return -1;
		}
	}
	if (tr) {
		lo |= DESC_BUSY;
		if (sys_write(v, where, &lo, 8))
			return -1;
		s.attr |= 2; /* busy */
	}
	r->seg[tr ? SEG_TR : SEG_LDTR] = s;
	vcpu_dirty(v, REG_SEGS);
	return 0;
}

/*
 * MOV and POP to a data segment register (SDM vol. 2B MOV, POP): the
 * checks of a task switch's loads with #GP for their faults (#SS for a
 * stack segment not present); in IA-32e mode SS may be null at CPL 0-2
 * with RPL = CPL.  Real and virtual-8086 mode load the base only.  0, or
 * -1 after injecting the fault.
 */
int seg_load_data(struct vcpu *v, int idx, uint16_t sel)
{
	struct vcpu_regs *r = &v->regs;
	bool real = !(r->cr0 & CR0_PE) || (r->rflags & RFLAGS_VM);

	vcpu_need(v, REG_CR | REG_SEGS | REG_RIP);
	if (real) {
		r->seg[idx].sel = sel;
		r->seg[idx].base = (uint32_t)sel << 4;
		if (r->rflags & RFLAGS_VM)
			r->seg[idx] = (struct segment){ .sel = sel, .base = (uint32_t)sel << 4, .limit = 0xffff,
							.attr = 0xf3 };
	} else if (idx == SEG_SS && !(sel & ~3u)) {
		if (!(r->efer & EFER_LMA) || !(r->seg[SEG_CS].attr & (1u << 9)) || r->cpl == 3 || (sel & 3) != r->cpl) {
			fault(v, GP_VEC, 0);
			return -1;
		}
		r->seg[SEG_SS] = (struct segment){ .sel = sel, .attr = (uint16_t)(r->cpl << 5) };
	} else if (load_seg_as(v, idx, sel, r->cpl, GP_VEC)) {
		return -1;
	}
	vcpu_dirty(v, REG_SEGS);
	return 0;
}

/*
 * A far JMP or CALL's new CS (SDM vol. 2A JMP "Far jumps in protected
 * mode"): a code segment, conforming with DPL <= CPL or non-conforming with
 * RPL <= CPL and DPL = CPL, present; the offset within its limit, or
 * canonical for a 64-bit segment.  CS gets RPL = CPL.  Call gates, task
 * gates and TSSs are not run here: -2.  0, or -1 after the fault.
 */
int seg_load_far_cs(struct vcpu *v, uint16_t sel, uint64_t *target)
{
	struct vcpu_regs *r = &v->regs;
	struct desc d;
	struct segment cs;
	uint8_t type;
	int rc;

	vcpu_need(v, REG_CR | REG_SEGS | REG_RIP);
	if (!(r->cr0 & CR0_PE) || (r->rflags & RFLAGS_VM)) {
		r->seg[SEG_CS].sel = sel;
		r->seg[SEG_CS].base = (uint32_t)sel << 4;
		*target &= 0xffff;
		vcpu_dirty(v, REG_SEGS);
		return 0;
	}
	if (!(sel & ~3u)) {
		fault(v, GP_VEC, 0);
		return -1;
	}
	if ((rc = read_desc(v, sel, &d)) > 0) {
		fault(v, GP_VEC, sel);
		return -1;
	}
	if (rc < 0)
		return -1;
	if (!desc_s(d.raw))
		return -2;
	type = desc_type(d.raw);
	if (!(type & 8) || ((type & 4) ? desc_dpl(d.raw) > r->cpl
				       : (sel & 3) > r->cpl || desc_dpl(d.raw) != r->cpl)) {
		fault(v, GP_VEC, sel);
		return -1;
	}
	if (!desc_p(d.raw)) {
		fault(v, NP_VEC, sel);
		return -1;
	}
	cs = seg_from((uint16_t)((sel & ~3u) | r->cpl), d.raw);
	if ((r->efer & EFER_LMA) && (cs.attr & (1u << 9))) {
		if ((uint64_t)((int64_t)(*target << 16) >> 16) != *target) {
			fault(v, GP_VEC, 0);
			return -1;
		}
	} else {
		*target &= (cs.attr & (1u << 10)) ? 0xffffffffull : 0xffffull;
		if (*target > cs.limit) {
			fault(v, GP_VEC, 0);
			return -1;
		}
	}
	if (!(d.raw & DESC_ACCESSED)) {
		d.raw |= DESC_ACCESSED;
		if (write_desc(v, &d))
			return -1;
	}
	r->seg[SEG_CS] = cs;
	vcpu_dirty(v, REG_SEGS);
	return 0;
}
