/* SPDX-License-Identifier: MIT */
/*
 * SVM exits → neutral requests (struct exit_req), ../shared/STYLE.md §3-4.
 * A bounds-checked table maps the exit code to a decoder; anything not in it
 * becomes EXIT_UNKNOWN, which the core answers by dumping the VMCB and
 * stopping the VM.  Nothing here skips an instruction it did not understand.
 */
#include <arch/cpu.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>

#include "svm.h"

typedef void (*exit_fn)(struct vcpu *v, struct vmcb *vmcb);

static void set_kind(struct vcpu *v, enum exit_kind k)
{
	v->exit.kind = k;
}

/* The instruction length: nRIP save gives it; else 0 and the core decodes
 * the instruction at RIP itself (hv/core/emulate.c). */
static uint8_t insn_len(struct vcpu *v, struct vmcb *vmcb)
{
	if (!this_cpu()->virt.svm_nrips || vmcb->ctl.next_rip <= vmcb->save.rip)
		return 0;
	return (uint8_t)MIN(vmcb->ctl.next_rip - vmcb->save.rip, 15);
}

static void exit_none(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_NONE); /* INTR, NMI, SMI: the host takes it at STGI */
}

/* The window we asked for is open: drop the virtual interrupt that opened
 * it (not a queued interrupt, svm.c queue_virq); the run loop injects the
 * real event on the way back in. */
static void exit_vintr(struct vcpu *v, struct vmcb *vmcb)
{
	if (!((struct svm_vcpu *)v->arch)->virq)
		vmcb->ctl.int_ctl &= ~V_IRQ_ANY_TPR;
	vmcb->ctl.intercept_misc1 &= ~INTERCEPT_VINTR;
	vmcb->ctl.clean &= ~(VMCB_CLEAN_TPR | VMCB_CLEAN_I);
	set_kind(v, EXIT_NONE);
}

static void exit_cpuid(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_CPUID);
	v->exit.insn_len = insn_len(v, vmcb);
}

/* XSETBV: each vCPU keeps its own XCR0 (hv/core/exit.c checks it). */
static void exit_xsetbv(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_XSETBV);
	v->exit.insn_len = insn_len(v, vmcb);
}

static void exit_hlt(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_HLT);
	v->exit.insn_len = insn_len(v, vmcb);
}

static void exit_pause(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_PAUSE);
	v->exit.insn_len = insn_len(v, vmcb);
}

static void exit_msr(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, vmcb->ctl.exit_info1 ? EXIT_MSR_WRITE : EXIT_MSR_READ);
	v->exit.msr.msr = (uint32_t)v->regs.gpr[GPR_RCX];
	v->exit.insn_len = insn_len(v, vmcb);
}

/* IOIO: EXITINFO1 describes the access, EXITINFO2 is the RIP of the next
 * instruction whether or not nRIP save exists (APM §15.10.2, figure 15-2). */
static void exit_ioio(struct vcpu *v, struct vmcb *vmcb)
{
	uint64_t i = vmcb->ctl.exit_info1;

	set_kind(v, EXIT_IO);
	v->exit.io.in = i & 1;
	v->exit.io.string = (i >> 2) & 1;
	v->exit.io.rep = (i >> 3) & 1;
	v->exit.io.size = (i & (1u << 4)) ? 1 : (i & (1u << 5)) ? 2 : 4;
	/* The address size (bits 9:7) and, with decode assists, the segment
	 * (12:10).  QEMU 7.2 TCG leaves all of them 0: the core decodes. */
	v->exit.io.addr_size = (i & (1u << 7)) ? 2 : (i & (1u << 8)) ? 4 : (i & (1u << 9)) ? 8 : 0;
	v->exit.io.seg = this_cpu()->virt.svm_decode_assists ? (int8_t)((i >> 10) & 7) : -1;
	v->exit.io.port = (uint16_t)(i >> 16);
	v->exit.io.next_rip = vmcb->ctl.exit_info2;
	v->exit.insn_len = (uint8_t)(vmcb->ctl.exit_info2 - vmcb->save.rip);
}

static void exit_shutdown(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_SHUTDOWN);
}

/* The IRET of an NMI handler (intercepted only then, svm.c): NMIs are
 * unblocked once it has run, that is when RIP has left it.  With an NMI
 * waiting, the IRET runs with TF set: the single-step #DB right after it
 * (TF as it was before the IRET counts, SDM vol. 3B §18.3.1.4) is where
 * the NMI goes in. */

static void exit_iret(struct vcpu *v, struct vmcb *vmcb)
{
	struct svm_vcpu *sv = v->arch;

	sv->nmi_masked = false;
	sv->iret_pending = true;
	sv->iret_rip = vmcb->save.rip;
	vmcb->ctl.intercept_misc1 &= ~INTERCEPT_IRET;
	if (v->nmi_pending) {
		sv->nmi_step = true;
		sv->guest_tf = vmcb->save.rflags & RFLAGS_TF;
		vmcb->save.rflags |= RFLAGS_TF;
		if (v->valid & REG_RIP)
			v->regs.rflags |= RFLAGS_TF;
		vmcb->ctl.intercept_exc |= 1u << 1;
	}
	vmcb->ctl.clean &= ~VMCB_CLEAN_I;
	set_kind(v, EXIT_NONE);
}

/* #DB, intercepted to step an IRET (above): now NMIs are open.  The
 * guest's own single-step #DB, if it was stepping, still goes to it.
 * Also intercepted for a debugger (svm_set_debug): its step or its
 * breakpoints, which the core tells from the guest's own by the DR6
 * bits; the CPU has set them in the guest's DR6 already. */
static void exit_db(struct vcpu *v, struct vmcb *vmcb)
{
	struct svm_vcpu *sv = v->arch;
	bool stepped_iret = sv->nmi_step;

	set_kind(v, EXIT_NONE);
	if (stepped_iret) {
		sv->nmi_step = false;
		sv->iret_pending = false;
		if (!sv->guest_tf) /* the BS was Petrel's: not the guest's, nor the debugger's */
			vmcb->save.dr6 &= ~DR6_BS;
	}
	svm_db_intercept(v);
	if (v->dbg.tf_on || v->dbg.hw_on) {
		set_kind(v, EXIT_DEBUG);
		v->exit.debug.dr6 = vmcb->save.dr6 & DR6_EVENT_BITS;
		v->exit.debug.in_dr6 = true;
		return;
	}
	if (stepped_iret && !sv->guest_tf)
		return;
	v->event = (struct vcpu_event){ .pending = true, .type = EV_EXCEPTION, .vector = 1 };
}

/* #BP, intercepted for a debugger's breakpoints: RIP is at the INT3. */
static void exit_bp(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_BREAKPOINT);
	v->exit.insn_len = 1;
}

/* INT n, intercepted with #BP (svm_set_debug): the core looks. */
static void exit_swint(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_SOFT_INT);
	v->exit.insn_len = insn_len(v, vmcb);
}

static void exit_init(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_INIT);
}

/* A write to CR0, CR4 or CR8, a read of CR8 (intercepted, svm.c).  With
 * decode assists a MOV says its register (EXITINFO1 bit 63, APM
 * §15.33.1); otherwise the core decodes the instruction (MOV, CLTS or
 * LMSW). */
static void exit_cr(struct vcpu *v, struct vmcb *vmcb)
{
	uint64_t info = vmcb->ctl.exit_info1, code = vmcb->ctl.exit_code;
	bool known = this_cpu()->virt.svm_decode_assists && (info >> 63);
	bool write = code >= VMEXIT_CR0_WRITE;

	set_kind(v, EXIT_CR);
	v->exit.cr.cr = (uint8_t)(write ? code - VMEXIT_CR0_WRITE : code);
	v->exit.cr.op = !known ? CR_UNKNOWN : write ? CR_MOV_TO : CR_MOV_FROM;
	v->exit.cr.gpr = known ? (int8_t)(info & 15) : -1;
	v->exit.insn_len = insn_len(v, vmcb);
}

/* INVD and WBINVD: no-ops (no device of a VM caches its memory; INVD
 * would throw away other guests' dirty lines, WBINVD stall every CPU). */
static void exit_wbinvd(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_WBINVD);
	v->exit.insn_len = insn_len(v, vmcb);
}

/* RDPMC: guests have no performance counters (CPUID leaf 0xa is empty,
 * their MSRs #GP), so every counter number is invalid: #GP. */
static void exit_rdpmc(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_GP);
}

/* VMRUN, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA, VMMCALL: SVM is
 * hidden from guests, so these are undefined opcodes to them; so are
 * MONITOR and MWAIT, which CPUID hides. */
static void exit_ud(struct vcpu *v, struct vmcb *vmcb)
{
	set_kind(v, EXIT_UD);
}

static const exit_fn exit_table[] = {
	[VMEXIT_CR0_WRITE] = exit_cr,
	[VMEXIT_CR4_WRITE] = exit_cr,
	[VMEXIT_CR8_READ] = exit_cr,
	[VMEXIT_CR8_WRITE] = exit_cr,
	[VMEXIT_RDPMC] = exit_rdpmc,
	[VMEXIT_INVD] = exit_wbinvd,
	[VMEXIT_WBINVD] = exit_wbinvd,
	[VMEXIT_MONITOR] = exit_ud,
	[VMEXIT_MWAIT] = exit_ud,
	[VMEXIT_MWAIT_COND] = exit_ud,
	[VMEXIT_INTR] = exit_none,
	[VMEXIT_NMI] = exit_none,
	[VMEXIT_SMI] = exit_none,
	[VMEXIT_INIT] = exit_init,
	[VMEXIT_VINTR] = exit_vintr,
	[VMEXIT_IRET] = exit_iret,
	[VMEXIT_EXCP_BASE + 1] = exit_db,
	[VMEXIT_EXCP_BASE + 3] = exit_bp,
	[VMEXIT_SWINT] = exit_swint,
	[VMEXIT_CPUID] = exit_cpuid,
	[VMEXIT_HLT] = exit_hlt,
	[VMEXIT_PAUSE] = exit_pause,
	[VMEXIT_INVLPGA] = exit_ud,
	[VMEXIT_IOIO] = exit_ioio,
	[VMEXIT_MSR] = exit_msr,
	[VMEXIT_SHUTDOWN] = exit_shutdown,
	[VMEXIT_VMRUN] = exit_ud,
	[VMEXIT_VMMCALL] = exit_ud,
	[VMEXIT_VMLOAD] = exit_ud,
	[VMEXIT_VMSAVE] = exit_ud,
	[VMEXIT_STGI] = exit_ud,
	[VMEXIT_CLGI] = exit_ud,
	[VMEXIT_SKINIT] = exit_ud,
	[VMEXIT_XSETBV] = exit_xsetbv,
};

/* Nested page fault: EXITINFO1 is the fault's error code, EXITINFO2 the
 * guest-physical address (APM §15.25.6).  RAM is all mapped, so a fault
 * inside it is not an MMIO access: say so and stop. */
static void exit_npf(struct vcpu *v, struct vmcb *vmcb)
{
	uint64_t gpa = vmcb->ctl.exit_info2, err = vmcb->ctl.exit_info1;

	if (gpa_is_ram(v->vm, gpa)) {
		set_kind(v, EXIT_UNKNOWN);
		return;
	}
	set_kind(v, EXIT_MMIO);
	v->exit.mmio.gpa = gpa;
	v->exit.mmio.write = (err >> 1) & 1;
	v->exit.mmio.fetch = (err >> 4) & 1;
	v->exit.mmio.vectoring = vmcb->ctl.exit_int_info & EVENT_VALID;
	v->exit.insn_len = 0;
}

/* The vectors the CPU raises exceptions at: 0-21 but NMI (2) and the
 * reserved 15, and 28-30 (#HV, #VC, #SX). */
static bool is_exception_vector(unsigned vector)
{
	return (vector <= 21 && vector != 2 && vector != 15) || (vector >= 28 && vector <= 30);
}

void svm_decode_exit(struct vcpu *v)
{
	struct svm_vcpu *sv = v->arch;
	struct vmcb *vmcb = sv->vmcb;
	uint64_t code = vmcb->ctl.exit_code;

	v->exit.reason = code;
	v->exit.insn_len = 0;
	/* An event the exit interrupted must be delivered again (§15.7.2); an
	 * external interrupt as a virtual one (svm.c, queue_virq), queued
	 * again.  QEMU TCG reports an interrupt it was delivering itself as
	 * an exception: one at a vector no exception has is an interrupt
	 * (injected as an exception, QEMU's VMRUN would even refuse vectors 2
	 * and 31 and up). */
	if (vmcb->ctl.exit_int_info & EVENT_VALID) {
		uint64_t ii = vmcb->ctl.exit_int_info;
		unsigned type = (unsigned)(ii >> EVENT_TYPE_SHIFT) & 7, vector = (unsigned)ii & 0xff;
		if (type == EV_EXT_INTR || (type == EV_EXCEPTION && !is_exception_vector(vector))) {
			sv->virq = true;
			sv->virq_vector = (uint8_t)vector;
		} else {
			sv->reinject = ii;
		}
	}
	/* VMEXIT_INVALID is -1; QEMU 7.2 TCG stores it as 32 bits (0xffffffff). */
	if (code == VMEXIT_INVALID || code == 0xffffffffull)
		set_kind(v, EXIT_ENTRY_FAIL);
	else if (code == VMEXIT_NPF)
		exit_npf(v, vmcb);
	else if (code < ARRAY_SIZE(exit_table) && exit_table[code])
		exit_table[code](v, vmcb);
	else
		set_kind(v, EXIT_UNKNOWN);
}

static void dump_seg(const char *name, const struct vmcb_seg *s)
{
	log_raw("  %-4s sel %04x attr %03x limit %08x base %016llx\n", name, s->sel, s->attr,
		s->limit, (unsigned long long)s->base);
}

void svm_dump(struct vcpu *v)
{
	struct vmcb *b = vmcb_of(v);
	struct vmcb_save *s = &b->save;

	log_raw("  exit code 0x%llx info1 0x%llx info2 0x%llx exitintinfo 0x%llx\n",
		(unsigned long long)b->ctl.exit_code, (unsigned long long)b->ctl.exit_info1,
		(unsigned long long)b->ctl.exit_info2, (unsigned long long)b->ctl.exit_int_info);
	log_raw("  rip %016llx rsp %016llx rax %016llx rflags %016llx cpl %u\n",
		(unsigned long long)s->rip, (unsigned long long)s->rsp, (unsigned long long)s->rax,
		(unsigned long long)s->rflags, s->cpl);
	log_raw("  rbx %016llx rcx %016llx rdx %016llx rsi %016llx rdi %016llx\n",
		(unsigned long long)v->regs.gpr[GPR_RBX], (unsigned long long)v->regs.gpr[GPR_RCX],
		(unsigned long long)v->regs.gpr[GPR_RDX], (unsigned long long)v->regs.gpr[GPR_RSI],
		(unsigned long long)v->regs.gpr[GPR_RDI]);
	log_raw("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %016llx\n",
		(unsigned long long)s->cr0, (unsigned long long)s->cr2, (unsigned long long)s->cr3,
		(unsigned long long)s->cr4, (unsigned long long)s->efer);
	dump_seg("cs", &s->cs);
	dump_seg("ss", &s->ss);
	dump_seg("ds", &s->ds);
	dump_seg("tr", &s->tr);
	dump_seg("gdtr", &s->gdtr);
	dump_seg("idtr", &s->idtr);
	log_raw("  event_inj 0x%llx int_ctl 0x%x int_state 0x%x asid %u ncr3 0x%llx\n",
		(unsigned long long)b->ctl.event_inj, b->ctl.int_ctl, b->ctl.int_state, b->ctl.asid,
		(unsigned long long)b->ctl.n_cr3);
}
