/* SPDX-License-Identifier: MIT */
/*
 * The AMD SVM backend (APM vol. 2, chapter 15): per-CPU enable, one VMCB per
 * vCPU, nested page tables per VM, I/O and MSR permission maps, register
 * sync between the VMCB and the neutral struct vcpu_regs, event injection.
 * Exits are decoded into neutral requests in svm_exit.c.
 */
#include <arch/cpu.h>
#include <petrel/arch.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/pagetable.h>
#include <petrel/percpu.h>
#include <petrel/pmm.h>
#include <petrel/vm.h>

#include "svm.h"

#define MSR_VM_HSAVE_PA 0xC0010117
#define IOPM_PAGES 3
#define MSRPM_PAGES 2

static uint64_t hsave_pa[MAX_CPUS], host_vmcb_pa[MAX_CPUS], host_cr3[MAX_CPUS];
static uint32_t asid_next[MAX_CPUS], asid_gen[MAX_CPUS]; /* assign_asid() */
static uint32_t clean_mask; /* VMCB clean bits this CPU honours, else 0 */

/* --- per physical CPU ---------------------------------------------------- */

static int svm_cpu_enable(void)
{
	struct percpu *pc = this_cpu();

	if (pc->virt.vendor != VIRT_SVM || !pc->virt.svm_npt)
		return -1;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	hsave_pa[pc->cpu_id] = frame_alloc_zeroed(1, UINT64_MAX);
	host_vmcb_pa[pc->cpu_id] = frame_alloc_zeroed(1, UINT64_MAX);
	wrmsr(MSR_VM_HSAVE_PA, hsave_pa[pc->cpu_id]);
	host_cr3[pc->cpu_id] = read_cr3();
	clean_mask = pc->virt.svm_vmcb_clean ? VMCB_CLEAN_ALL : 0;
	asid_gen[pc->cpu_id] = 1; /* a vCPU's 0 is never current */
	asid_next[pc->cpu_id] = 1;
	return 0;
}

/*
 * ASIDs are handed out per physical CPU, one per vCPU that runs there
 * (two vCPUs of a VM have different address spaces: their TLB entries
 * must not mix), from 1 up to what the CPU has (CPUID 0x8000000a EBX; 0
 * is the host's).  When they run out, a new generation starts: the whole
 * TLB is flushed and every vCPU gets a new one at its next entry here.
 * A vCPU that comes to a CPU it has no current ASID on gets one too, so
 * nothing it left in another CPU's TLB matters (APM vol. 2 §15.16).
 */
static void assign_asid(struct svm_vcpu *sv, uint32_t cpu)
{
	struct vmcb *vmcb = sv->vmcb;

	if (sv->asid_cpu == cpu && sv->asid_gen == asid_gen[cpu])
		return;
	if (asid_next[cpu] >= this_cpu()->virt.svm_asids) {
		asid_gen[cpu]++;
		asid_next[cpu] = 1;
		vmcb->ctl.tlb_control = 1;
	}
	vmcb->ctl.asid = asid_next[cpu]++;
	vmcb->ctl.clean &= ~VMCB_CLEAN_ASID;
	sv->asid_cpu = cpu;
	sv->asid_gen = asid_gen[cpu];
}

/* --- per VM: nested page tables and permission maps ----------------------- */

/*
 * Guest RAM and ROM (read-only) and nothing else (vm_map_memory), large pages where aligned:
 * every other guest-physical address faults into the MMIO path.  Nested
 * accesses count as user accesses, so every level carries U (APM vol. 2
 * §15.25.5).  When the map changes (vm_set_memory), svm_remap redoes the
 * changed range.
 */
static struct pt_ops npt_ops(void)
{
	return (struct pt_ops){
		.alloc_page = frame_pt_alloc, .table = frame_pt_table,
		.allow_1g = (cpuid(0x80000001, 0).edx & (1u << 26)) != 0,
		.table_flags = PTE_US,
	};
}

#define NPT_RAM (PTE_RW | PTE_US)
#define NPT_ROM PTE_US

static int npt_build(struct vm *vm, struct svm_vm *s)
{
	struct pt_ops ops = npt_ops();

	s->ncr3 = frame_pt_alloc(NULL);
	return vm_map_memory(vm, &ops, s->ncr3, NPT_RAM, NPT_ROM);
}

static int svm_remap(struct vm *vm, uint64_t gpa, uint64_t size)
{
	struct pt_ops ops = npt_ops();

	return vm_remap_range(vm, &ops, ((struct svm_vm *)vm->arch)->ncr3, gpa, size, NPT_RAM, NPT_ROM);
}

static int svm_vm_init(struct vm *vm)
{
	struct svm_vm *s = &svm_vms[vm->id];

	memset(s, 0, sizeof(*s));
	vm->arch = s;
	/* Intercept every port and every MSR; the core opens what it handles
	 * itself (msr.c) and nothing passes through to hardware. */
	s->iopm = frame_alloc_zeroed(IOPM_PAGES, UINT64_MAX);
	memset((void *)(uintptr_t)s->iopm, 0xff, IOPM_PAGES * PAGE_SIZE);
	s->msrpm = frame_alloc_zeroed(MSRPM_PAGES, UINT64_MAX);
	memset((void *)(uintptr_t)s->msrpm, 0xff, MSRPM_PAGES * PAGE_SIZE);
	return npt_build(vm, s);
}

static void svm_set_io_intercept(struct vm *vm, uint16_t port, uint16_t len, bool on)
{
	uint8_t *map = (uint8_t *)(uintptr_t)((struct svm_vm *)vm->arch)->iopm;
	for (uint32_t p = port; p < (uint32_t)port + len && p <= 0xffff; p++)
		bitmap_assign(map, p, on);
}

/* MSRPM: three 2 KiB blocks for MSRs 0-0x1fff, 0xc0000000-0xc0001fff and
 * 0xc0010000-0xc0011fff, two bits per MSR (read, write); APM §15.11. */
static void svm_set_msr_intercept(struct vm *vm, uint32_t msr, bool read, bool write)
{
	uint8_t *map = (uint8_t *)(uintptr_t)((struct svm_vm *)vm->arch)->msrpm;
	uint32_t block;

	if (msr <= 0x1fff)
		block = 0;
	else if (msr - 0xc0000000u <= 0x1fff)
		block = 1;
	else if (msr - 0xc0010000u <= 0x1fff)
		block = 2;
	else
		return; /* outside the map: always intercepted */
	uint32_t bit = block * 0x4000 + (msr & 0x1fff) * 2;
	bitmap_assign(map, bit, read);
	bitmap_assign(map, bit + 1, write);
}

/* --- per vCPU ------------------------------------------------------------ */

static void seg_to_vmcb(struct vmcb_seg *d, const struct segment *s)
{
	d->sel = s->sel;
	d->attr = s->attr;
	d->limit = s->limit;
	d->base = s->base;
}

static void seg_from_vmcb(struct segment *d, const struct vmcb_seg *s)
{
	d->sel = s->sel;
	d->attr = s->attr;
	d->limit = s->limit;
	d->base = s->base;
}

static int svm_vcpu_init(struct vcpu *v)
{
	struct svm_vcpu *sv = &svm_vcpus[v->vm->id][v->id];
	struct svm_vm *s = v->vm->arch;
	struct vmcb *vmcb;

	/* Also called on every reset of the VM: keep the VMCB page, start it
	 * afresh. */
	if (!sv->vmcb_pa)
		sv->vmcb_pa = frame_alloc_zeroed(1, UINT64_MAX);
	sv->vmcb = vmcb = (struct vmcb *)(uintptr_t)sv->vmcb_pa;
	memset(vmcb, 0, sizeof(*vmcb));
	sv->reinject = 0;
	sv->virq = false;
	sv->nmi_masked = sv->iret_pending = sv->nmi_step = false;
	v->arch = sv;

	/* Intercepts, APM §15.9-15.13: everything a guest could use to reach
	 * the hardware or SVM itself comes to us. */
	vmcb->ctl.intercept_misc1 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI | INTERCEPT_INIT |
				    INTERCEPT_RDPMC | INTERCEPT_CPUID | INTERCEPT_INVD | INTERCEPT_HLT |
				    INTERCEPT_INVLPGA | INTERCEPT_IOIO | INTERCEPT_MSR | INTERCEPT_SHUTDOWN;
	vmcb->ctl.intercept_misc2 = INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD |
				    INTERCEPT_VMSAVE | INTERCEPT_STGI | INTERCEPT_CLGI |
				    INTERCEPT_SKINIT | INTERCEPT_WBINVD | INTERCEPT_MONITOR |
				    INTERCEPT_MWAIT | INTERCEPT_MWAIT_COND | INTERCEPT_XSETBV;
	/* Every write to CR0 and CR4 comes to the core, which checks it as
	 * the CPU does (ctrlreg.c).  Two reasons beyond the checks: EFER.LME
	 * stays out of the VMCB until the guest turns paging on (below), and
	 * QEMU 7.2 TCG checks neither NW-without-CD nor reserved CR4 bits
	 * itself, leaving a VMCB that fails the next VMRUN.  CR8 is the
	 * emulated local APIC's TPR (ctrlreg.c): with V_INTR_MASKING the CPU
	 * would keep it in V_TPR, where the APIC never sees it. */
	vmcb->ctl.intercept_cr = INTERCEPT_CR_WRITE(0) | INTERCEPT_CR_WRITE(4) | INTERCEPT_CR_READ(8) |
				 INTERCEPT_CR_WRITE(8);
	vmcb->ctl.intercept_exc = 1u << 18; /* #MC: the host's to handle */
	/* The pause filter (APM §15.14.4): the count goes down by one per
	 * PAUSE and is reloaded at each VMRUN, so the 3000th PAUSE of one
	 * stay in the guest exits: a vCPU spinning on a lock.  Without the
	 * filter every PAUSE would exit: not intercepted then. */
	if (this_cpu()->virt.svm_pause_filter) {
		vmcb->ctl.intercept_misc1 |= INTERCEPT_PAUSE;
		vmcb->ctl.pause_filter_count = 3000;
	}
	vmcb->ctl.iopm_base_pa = s->iopm;
	vmcb->ctl.msrpm_base_pa = s->msrpm;
	sv->asid_gen = 0; /* an ASID at the first entry (assign_asid) */
	vmcb->ctl.tlb_control = 1; /* flush everything on the first entry */
	/* Virtual interrupt masking: the guest's IF gates only virtual
	 * interrupts, physical ones still reach the host (APM §15.21.1). */
	vmcb->ctl.int_ctl = V_INTR_MASKING;
	vmcb->ctl.nested_ctl = 1; /* NP_ENABLE */
	vmcb->ctl.tsc_offset = v->tsc_offset; /* APM §15.30.4: guest TSC = host + offset */
	vmcb->ctl.n_cr3 = s->ncr3;
	vmcb->save.g_pat = 0x0007040600070406ull; /* the power-on PAT */
	vmcb->save.dr6 = 0xffff0ff0;
	vmcb->save.dr7 = 0x400;
	/* Everything else comes from the neutral block on the first entry. */
	sv->efer_lme = false;
	v->dirty = REG_RIP | REG_CR | REG_SEGS;
	v->valid = REG_GPRS | REG_RIP | REG_CR | REG_SEGS | REG_PDPTE;
	return 0;
}

static void svm_get_regs(struct vcpu *v, uint32_t groups)
{
	struct vmcb_save *st = &vmcb_of(v)->save;
	struct vcpu_regs *r = &v->regs;

	if (groups & REG_RIP) {
		r->rip = st->rip;
		r->rflags = st->rflags;
		r->gpr[GPR_RAX] = st->rax;
		r->gpr[GPR_RSP] = st->rsp;
	}
	if (groups & REG_CR) {
		r->cr0 = st->cr0;
		r->cr2 = st->cr2;
		r->cr3 = st->cr3;
		r->cr4 = st->cr4;
		/* the guest never sees SVME; LME is the guest's (see write_efer) */
		r->efer = (st->efer & ~(EFER_SVME | EFER_LME)) | (sv_of(v)->efer_lme ? EFER_LME : 0);
	}
	if (groups & REG_PDPTE) {
		/* No PDPTE registers in the VMCB: the guest's walk reads them
		 * from memory (as QEMU's does), so Petrel's does too. */
		const uint64_t *p = gpa_to_hva(v->vm, r->cr3 & 0xffffffe0ull, 32);
		for (int i = 0; i < 4; i++)
			r->pdpte[i] = p ? p[i] : ~0ull;
	}
	if (groups & REG_SEGS) {
		const struct vmcb_seg *src[NR_SEGS] = { &st->es, &st->cs, &st->ss, &st->ds,
							&st->fs, &st->gs, &st->ldtr, &st->tr };
		for (int i = 0; i < NR_SEGS; i++)
			seg_from_vmcb(&r->seg[i], src[i]);
		r->gdtr.base = st->gdtr.base;
		r->gdtr.limit = st->gdtr.limit;
		r->idtr.base = st->idtr.base;
		r->idtr.limit = st->idtr.limit;
		r->cpl = st->cpl;
	}
	v->valid |= groups;
}

/*
 * EFER in the VMCB: SVME always (VMRUN requires it, APM §15.5.1), and LME
 * only once the guest has paging on, i.e. only in IA-32e mode.  Legacy
 * mode with LME set and paging off is legal, but QEMU 7.2 TCG's #VMEXIT
 * loads the host's CR0 while the guest's EFER and CR4 are still in place:
 * its CR0 update sees "paging on with LME" and, with the guest's CR4.PAE
 * clear, returns without loading CR0, so the host keeps running on the
 * guest's CR0 and the next VMRUN of any VM on that CPU misbehaves (seen:
 * both VMs triple-faulting).  Keeping LME out of the VMCB until then
 * costs nothing: LME matters only when paging is turned on, and every CR0
 * write comes to the core, which sets LMA itself (ctrlreg.c).
 */
static void write_efer(struct vcpu *v, struct vmcb_save *st)
{
	bool lme = v->regs.efer & EFER_LME;
	uint64_t efer = v->regs.efer & ~(EFER_LME | EFER_LMA);

	sv_of(v)->efer_lme = lme;
	if (lme && (v->regs.cr0 & CR0_PG))
		efer |= EFER_LME | EFER_LMA;
	st->efer = efer | EFER_SVME;
}

/* Writes the groups the core changed back into the VMCB, clearing the
 * clean bits of what changed (APM §15.15.3). */
static void write_back(struct vcpu *v)
{
	struct vmcb *vmcb = vmcb_of(v);
	struct vmcb_save *st = &vmcb->save;
	struct vcpu_regs *r = &v->regs;

	if (v->dirty & REG_RIP) {
		if (st->rip != r->rip)
			vmcb->ctl.int_state &= ~1u; /* past the instruction: no STI/MOV SS shadow */
		st->rip = r->rip;
		st->rflags = r->rflags;
		st->rax = r->gpr[GPR_RAX];
		st->rsp = r->gpr[GPR_RSP];
	}
	if (v->dirty & REG_CR) {
		st->cr0 = r->cr0;
		st->cr2 = r->cr2;
		st->cr3 = r->cr3;
		st->cr4 = r->cr4;
		write_efer(v, st);
		vmcb->ctl.clean &= ~(VMCB_CLEAN_CRX | VMCB_CLEAN_CR2);
	}
	if (v->dirty & REG_SEGS) {
		struct vmcb_seg *dst[NR_SEGS] = { &st->es, &st->cs, &st->ss, &st->ds,
						  &st->fs, &st->gs, &st->ldtr, &st->tr };
		for (int i = 0; i < NR_SEGS; i++)
			seg_to_vmcb(dst[i], &r->seg[i]);
		st->gdtr.base = r->gdtr.base;
		st->gdtr.limit = r->gdtr.limit;
		st->idtr.base = r->idtr.base;
		st->idtr.limit = r->idtr.limit;
		st->cpl = r->cpl;
		vmcb->ctl.clean &= ~(VMCB_CLEAN_SEG | VMCB_CLEAN_DT);
	}
	if (v->dirty & REG_TSC_OFFSET) {
		vmcb->ctl.tsc_offset = v->tsc_offset;
		vmcb->ctl.clean &= ~VMCB_CLEAN_I; /* the intercepts group holds the offset */
	}
	v->dirty = 0;
}

/*
 * External interrupts go in as virtual interrupts: V_IRQ with the vector,
 * the TPR ignored (the emulated local APIC has chosen it already), taken
 * by the guest as soon as its IF allows, which the core has checked it
 * does (APM vol. 2 §15.21.4).  Not through EVENTINJ: QEMU TCG's VMRUN
 * delivers an injected interrupt at once but also leaves its vector as
 * the CPU's pending exception, and delivers it a second time when that
 * CPU's loop is next asked to stop before anything clears it - wherever
 * the guest is (README, "A second QEMU TCG bug").  QEMU takes a virtual
 * interrupt in its interrupt check, which clears that.
 *
 * One not taken by the next exit (another exit came first: a host
 * interrupt, an HLT in an STI shadow) stays queued in the VMCB until the
 * guest takes it (svm_virq_taken), and meanwhile no other interrupt goes
 * in (svm_interrupt_window) and HLT with IF=1 does not halt
 * (svm_irq_queued).  An NMI or exception still goes in through EVENTINJ,
 * ahead of it, as on the CPU.  The cost: the local APIC counts the queued
 * one in service already, so an interrupt of higher priority that comes
 * meanwhile waits for the next exit after the guest took it (its EOI, a
 * timer, the slice's end), even where the guest's handler sets IF at
 * once; on the CPU it would interrupt that handler.  Handlers that run
 * with IF=0 until their EOI, as Linux's and the firmware's do, see no
 * difference.
 */
static void queue_virq(struct svm_vcpu *sv, uint8_t vector)
{
	struct vmcb *vmcb = sv->vmcb;

	vmcb->ctl.int_ctl |= V_IRQ_ANY_TPR;
	vmcb->ctl.int_vector = vector;
	vmcb->ctl.clean &= ~VMCB_CLEAN_TPR;
	sv->virq = true;
	sv->virq_vector = vector;
}

/* After an exit: the CPU clears V_IRQ when the guest takes the interrupt. */
static void svm_virq_taken(struct svm_vcpu *sv)
{
	if (sv->virq && !(sv->vmcb->ctl.int_ctl & V_IRQ))
		sv->virq = false;
}

static bool svm_irq_queued(struct vcpu *v)
{
	return ((struct svm_vcpu *)v->arch)->virq;
}

/*
 * Events: an event whose delivery an exit interrupted (EXITINTINFO) goes
 * back in first (APM §15.7.2), an exception or NMI unchanged, an external
 * interrupt queued again as a virtual one (svm_decode_exit); only then a
 * new one from the core.
 */
static void inject_events(struct vcpu *v, struct svm_vcpu *sv)
{
	struct vmcb *vmcb = sv->vmcb;
	uint64_t e;

	vmcb->ctl.event_inj = 0;
	if (sv->virq) /* not taken yet, or queued again from EXITINTINFO
		       * (svm_decode_exit, which leaves the VMCB alone) */
		queue_virq(sv, sv->virq_vector);
	if (sv->reinject & EVENT_VALID) {
		vmcb->ctl.event_inj = sv->reinject;
		sv->reinject = 0;
		return;
	}
	if (!v->event.pending)
		return;
	if (v->event.type == EV_EXT_INTR) {
		queue_virq(sv, v->event.vector);
		v->event.pending = false;
		return;
	}
	e = v->event.vector | ((uint64_t)v->event.type << EVENT_TYPE_SHIFT) | EVENT_VALID;
	if (v->event.has_error)
		e |= EVENT_ERR_VALID | ((uint64_t)v->event.error << 32);
	vmcb->ctl.event_inj = e;
	v->event.pending = false;
	if (v->event.type == EV_NMI) { /* blocked until the handler's IRET */
		sv->nmi_masked = true;
		sv->iret_pending = false;
		vmcb->ctl.intercept_misc1 |= INTERCEPT_IRET;
		vmcb->ctl.clean &= ~VMCB_CLEAN_I;
	}
}

/*
 * A guard against an emulator's race (issue 11, README "Known problem"):
 * QEMU TCG's multi-threaded SVM lets another CPU's FXRSTOR or XRSTOR undo
 * the first CPU's change of its SVM flags.  After a #VMEXIT that can leave
 * nested paging on: Petrel's next fetch faults through the guest's nested
 * tables and that #VMEXIT writes the host's state (Petrel's CR3, the RIP
 * after its VMRUN) into the guest's VMCB, over the guest's.  A VMCB found
 * so, after an exit or before an entry, is never entered: the guest's
 * state is gone, and the VM stops saying so (EXIT_STATE_LOST).
 */
extern char svm_after_vmrun[]; /* svm_entry.asm */

/* Checked at every entry and exit: the RIP first, which is all a sound
 * VMCB costs. */
static bool holds_host_state(const struct svm_vcpu *sv)
{
	if (__builtin_expect(sv->vmcb->save.rip != (uint64_t)(uintptr_t)svm_after_vmrun, 1))
		return false;
	for (uint32_t c = 0; c < MAX_CPUS; c++)
		if (host_cr3[c] && sv->vmcb->save.cr3 == host_cr3[c])
			return true;
	return false;
}

static void svm_run(struct vcpu *v)
{
	struct svm_vcpu *sv = v->arch;
	uint32_t cpu = this_cpu()->cpu_id;

	assign_asid(sv, cpu);
	write_back(v);
	inject_events(v, sv);
	if (holds_host_state(sv)) {
		pr_err("vm %s vcpu %u: its VMCB holds the host's state (CR3 %llx, RIP after VMRUN) on cpu %u; "
		       "its last exit was 0x%llx on cpu %u: not entered\n", v->vm->name, v->id,
		       (unsigned long long)sv->vmcb->save.cr3, cpu, (unsigned long long)sv->last_exit, sv->last_cpu);
		v->exit.reason = VMEXIT_INVALID;
		v->exit.kind = EXIT_STATE_LOST;
		return;
	}
	svm_vmrun(sv->vmcb_pa, v->regs.gpr, host_vmcb_pa[cpu]);
	sv->last_exit = sv->vmcb->ctl.exit_code;
	sv->last_cpu = cpu;
	if (holds_host_state(sv)) {
		pr_err("vm %s vcpu %u: back from VMRUN on cpu %u with the host's state in its VMCB (exit 0x%llx, "
		       "int_ctl 0x%x): the guest's state is lost\n", v->vm->name, v->id, cpu,
		       (unsigned long long)sv->last_exit, sv->vmcb->ctl.int_ctl);
		v->valid = REG_GPRS;
		v->exit.reason = sv->last_exit;
		v->exit.kind = EXIT_STATE_LOST;
		return;
	}
	sv->vmcb->ctl.tlb_control = 0;
	sv->vmcb->ctl.clean = clean_mask;
	svm_virq_taken(sv);
	v->valid = REG_GPRS;
	svm_get_regs(v, REG_RIP); /* every handler needs RIP; it is a memory read */
	svm_decode_exit(v);
}

/*
 * Moving a vCPU between CPUs: VMSAVE left everything of it in its VMCB,
 * so the CPU it leaves holds nothing.  The CPU it comes to must not trust
 * what it may have cached of this VMCB from an earlier stay (the clean
 * bits are per CPU, APM vol. 2 §15.15.3), and gives it an ASID of its own
 * (assign_asid).
 */
static void svm_put(struct vcpu *v)
{
	(void)v;
}

static void svm_load(struct vcpu *v)
{
	vmcb_of(v)->ctl.clean = 0;
}

/* Can an external interrupt go in on the next entry?  IF from the neutral
 * block (the core may have changed it); the STI/MOV-SS shadow from the VMCB
 * unless the core has moved RIP past the instruction that set it. */
static bool svm_interrupt_window(struct vcpu *v)
{
	struct vmcb *vmcb = vmcb_of(v);
	bool moved = (v->dirty & REG_RIP) && v->regs.rip != vmcb->save.rip;
	bool shadow = (vmcb->ctl.int_state & 1) && !moved;

	return (v->regs.rflags & RFLAGS_IF) && !shadow && !((struct svm_vcpu *)v->arch)->virq &&
	       !(((struct svm_vcpu *)v->arch)->reinject & EVENT_VALID) && !v->event.pending;
}

/*
 * Ask for an exit as soon as the guest can take an interrupt: a virtual
 * interrupt (V_IRQ) the guest "takes" when IF=1 and no shadow, intercepted
 * with VINTR before it is delivered (APM §15.21.4).  The exit handler then
 * drops it and the core gives the real interrupt (queue_virq).  With an
 * interrupt queued already, that one is the virtual interrupt VINTR
 * stops, and stays queued.
 */
static void vintr_exit(struct svm_vcpu *sv)
{
	struct vmcb *vmcb = sv->vmcb;

	if (!sv->virq)
		vmcb->ctl.int_ctl |= V_IRQ_ANY_TPR;
	vmcb->ctl.intercept_misc1 |= INTERCEPT_VINTR;
	vmcb->ctl.clean &= ~(VMCB_CLEAN_TPR | VMCB_CLEAN_I);
}

/* For the next interrupt: not while one is queued (VINTR would stop that
 * one; the next exit, its handler's EOI at the latest, looks again). */
static void svm_request_window(struct vcpu *v)
{
	struct svm_vcpu *sv = v->arch;

	if (!sv->virq)
		vintr_exit(sv);
}

/* No NMI in service, none just returned from (RIP still on its IRET), no
 * shadow, no event in flight. */
static bool svm_nmi_window(struct vcpu *v)
{
	struct svm_vcpu *sv = v->arch;
	struct vmcb *vmcb = sv->vmcb;
	bool moved = (v->dirty & REG_RIP) && v->regs.rip != vmcb->save.rip;
	uint64_t rip = (v->dirty & REG_RIP) ? v->regs.rip : vmcb->save.rip; /* v->regs may be stale */

	if (sv->iret_pending && rip != sv->iret_rip)
		sv->iret_pending = false;
	return !sv->nmi_masked && !sv->iret_pending && !sv->nmi_step && !((vmcb->ctl.int_state & 1) && !moved) &&
	       !(sv->reinject & EVENT_VALID) && !v->event.pending;
}

/* While an NMI is in service its IRET exits anyway.  Once the IRET has
 * run, any exit will do: an interrupt window where IF allows, else the
 * next exit of any kind (at the latest the end of the time slice). */
static void svm_request_nmi_window(struct vcpu *v)
{
	struct svm_vcpu *sv = v->arch;
	uint64_t rflags = (v->dirty & REG_RIP) ? v->regs.rflags : sv->vmcb->save.rflags;

	if (!sv->nmi_masked && (rflags & RFLAGS_IF))
		vintr_exit(sv);
}

/* This guest's ASID where the CPU can (APM §15.16.1), else everything. */
static void svm_flush_tlb(struct vcpu *v)
{
	vmcb_of(v)->ctl.tlb_control = this_cpu()->virt.svm_flush_by_asid ? 3 : 1;
}

/* An ASID's TLB entries are the guest's translations combined with the
 * nested ones: the same flush drops both (APM vol. 2 §15.16.1). */
static void svm_flush_nested(struct vcpu *v)
{
	svm_flush_tlb(v);
}

/*
 * A debugger's wishes (vcpu_debug): #BP intercepted for its breakpoints,
 * with INT n too (QEMU 7.2 TCG checks only that intercept for INT3);
 * its DR7 in place of the guest's while it has hardware breakpoints;
 * #DB for those and for its single step, which is TF (run.c).
 */
static void svm_set_debug(struct vcpu *v)
{
	struct vmcb *vmcb = vmcb_of(v);
	struct vcpu_debug *d = &v->dbg;

	if (d->hw && !d->hw_on)
		d->guest_dr7 = vmcb->save.dr7;
	if (d->hw)
		vmcb->save.dr7 = d->dr7;
	else if (d->hw_on)
		vmcb->save.dr7 = d->guest_dr7;
	d->hw_on = d->hw;
	if (d->int3) {
		vmcb->ctl.intercept_exc |= 1u << 3;
		vmcb->ctl.intercept_misc1 |= INTERCEPT_INTN;
	} else {
		vmcb->ctl.intercept_exc &= ~(1u << 3);
		vmcb->ctl.intercept_misc1 &= ~INTERCEPT_INTN;
	}
	svm_db_intercept(v);
	vmcb->ctl.clean &= ~(VMCB_CLEAN_I | VMCB_CLEAN_DRX);
}

static bool svm_native_step(void)
{
	return false;
}

static uint64_t svm_get_dr6(struct vcpu *v)
{
	return vmcb_of(v)->save.dr6;
}

static void svm_set_dr6(struct vcpu *v, uint64_t dr6)
{
	struct vmcb *vmcb = vmcb_of(v);

	vmcb->save.dr6 = dr6;
	vmcb->ctl.clean &= ~VMCB_CLEAN_DRX;
}

const struct vcpu_ops svm_ops = {
	.name = "svm",
	.saves_dr6 = true,
	.cpu_enable = svm_cpu_enable,
	.vm_init = svm_vm_init,
	.vcpu_init = svm_vcpu_init,
	.run = svm_run,
	.put = svm_put,
	.load = svm_load,
	.get_regs = svm_get_regs,
	.set_io_intercept = svm_set_io_intercept,
	.set_msr_intercept = svm_set_msr_intercept,
	.interrupt_window = svm_interrupt_window,
	.request_window = svm_request_window,
	.set_debug = svm_set_debug,
	.native_step = svm_native_step,
	.get_dr6 = svm_get_dr6,
	.set_dr6 = svm_set_dr6,
	.nmi_window = svm_nmi_window,
	.request_nmi_window = svm_request_nmi_window,
	.irq_queued = svm_irq_queued,
	.flush_tlb = svm_flush_tlb,
	.remap = svm_remap,
	.flush_nested = svm_flush_nested,
	.dump = svm_dump,
};

struct svm_vm svm_vms[MAX_VMS];
struct svm_vcpu svm_vcpus[MAX_VMS][MAX_VCPUS_PER_VM];
