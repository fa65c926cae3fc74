/* SPDX-License-Identifier: MIT */
/*
 * VMX exits → neutral requests (struct exit_req), ../shared/STYLE.md §3-4.
 * A bounds-checked table maps the basic exit reason (SDM vol. 3D appendix
 * C) to a decoder; anything not in it becomes EXIT_UNKNOWN, which the core
 * answers by dumping the VMCS and stopping the VM.  Nothing here skips an
 * instruction it did not understand.  A failed VM entry is named: the
 * VM-instruction error, or for an invalid guest state the checks of SDM
 * vol. 3C §27.3.1 that the dump finds broken.
 */
#include <arch/cpu.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>

#include "vmx.h"

extern volatile uint32_t hv_stopping; /* hv/arch/x86/idt.c */

typedef void (*exit_fn)(struct vcpu *v, struct vmx_vcpu *xv, uint64_t qual);

static void set_kind(struct vcpu *v, enum exit_kind k)
{
	v->exit.kind = k;
}

/* Valid for exits caused by an instruction (SDM vol. 3C §28.2.5). */
static uint8_t insn_len(void)
{
	return (uint8_t)MIN(vmcs_read32(VM_EXIT_INSTRUCTION_LEN), 15u);
}

/* An external interrupt (the host takes it when vmx_run opens IF), or the
 * preemption timer: back to the run loop. */
static void exit_none(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_NONE);
}

/* NMIs, and #BP and #DB while a debugger has breakpoints (vmx_set_debug).
 * The host has no NMI source of its own but panic(), which stops every
 * CPU with one.  INT3 exits with RIP at it; a #DB with its DR6 bits in
 * the exit qualification, not in DR6 (SDM vol. 3C §28.2.1). */
static void exit_exception_nmi(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	uint32_t info = vmcs_read32(VM_EXIT_INTR_INFO);
	uint32_t type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT, vector = info & INTR_INFO_VECTOR_MASK;

	if (!(info & INTR_INFO_VALID)) {
		set_kind(v, EXIT_UNKNOWN);
	} else if (type == INTR_TYPE_NMI) {
		if (hv_stopping)
			__asm__ volatile("int $2");
		set_kind(v, EXIT_NONE);
	} else if (vector == 3) {
		set_kind(v, EXIT_BREAKPOINT);
		v->exit.insn_len = insn_len();
	} else if (vector == 1) {
		set_kind(v, EXIT_DEBUG);
		v->exit.debug.dr6 = q & DR6_EVENT_BITS;
		v->exit.debug.in_dr6 = false;
	} else {
		set_kind(v, EXIT_UNKNOWN);
	}
}

/* The monitor trap flag: a debugger's single step has run its
 * instruction (or delivered an event to the guest's first handler
 * instruction).  Only a step sets it. */
static void exit_mtf(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	if (!v->dbg.step_on) {
		set_kind(v, EXIT_NONE);
		return;
	}
	set_kind(v, EXIT_DEBUG);
	v->exit.debug.dr6 = DR6_BS;
	v->exit.debug.in_dr6 = false;
}

/* The window we asked for is open: stop asking; the run loop injects the
 * event on the way back in. */
static void exit_intr_window(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	xv->cpu_ctls &= ~CPU_INTR_WINDOW_EXITING;
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, xv->cpu_ctls);
	set_kind(v, EXIT_NONE);
}

static void exit_cpuid(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_CPUID);
	v->exit.insn_len = insn_len();
}

static void exit_hlt(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_HLT);
	v->exit.insn_len = insn_len();
}

static void exit_pause(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_PAUSE);
	v->exit.insn_len = insn_len();
}

static void exit_rdmsr(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_MSR_READ);
	v->exit.msr.msr = (uint32_t)v->regs.gpr[GPR_RCX];
	v->exit.insn_len = insn_len();
}

static void exit_wrmsr(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_MSR_WRITE);
	v->exit.msr.msr = (uint32_t)v->regs.gpr[GPR_RCX];
	v->exit.insn_len = insn_len();
}

/* INS/OUTS: address size and segment from the VM-exit instruction
 * information (SDM vol. 3C §28.2.5, table 28-8) where the CPU reports it
 * (IA32_VMX_BASIC[54]); else the core decodes the instruction. */
static void io_string_info(struct vcpu *v)
{
	static const uint8_t sizes[4] = { 2, 4, 8, 8 };

	if (vmx_caps.ins_outs_info) {
		uint32_t info = vmcs_read32(VM_EXIT_INSTRUCTION_INFO);
		v->exit.io.addr_size = sizes[(info >> 7) & 3];
		v->exit.io.seg = (int8_t)((info >> 15) & 7);
		return;
	}
	v->exit.io.addr_size = 0; /* unknown: the core decodes the instruction */
	v->exit.io.seg = -1;
}

/* I/O: the exit qualification describes the access (SDM vol. 3C §28.2.1,
 * table 28-5); the next instruction is RIP + the instruction length. */
static void exit_io(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_IO);
	v->exit.io.size = (uint8_t)((q & 7) + 1); /* 0, 1, 3: 1, 2, 4 bytes */
	v->exit.io.in = (q >> 3) & 1;
	v->exit.io.string = (q >> 4) & 1;
	v->exit.io.rep = (q >> 5) & 1;
	v->exit.io.port = (uint16_t)(q >> 16);
	v->exit.io.addr_size = 0;
	v->exit.io.seg = SEG_DS;
	v->exit.insn_len = insn_len();
	v->exit.io.next_rip = v->regs.rip + v->exit.insn_len;
	if (v->exit.io.string)
		io_string_info(v);
}

static void exit_shutdown(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_SHUTDOWN);
}

static void exit_init(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_INIT);
}

/* VMX is hidden from guests: its instructions are undefined opcodes to
 * them (as VMRUN and friends are under SVM). */
static void exit_ud(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_UD);
}

/*
 * A control-register access that exits (SDM vol. 3C §28.2.1, table 28-3):
 * MOV to CR0/CR4 changing a bit the host owns (its fixed bits, CR4 bits
 * the guest's CPUID lacks), MOV to/from CR8 (always), CR3 where the CPU
 * forces its exits.  The qualification says which register, which
 * instruction and which GPR; the core checks and applies it (ctrlreg.c).
 */
static void exit_cr(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	static const uint8_t ops[4] = { CR_MOV_TO, CR_MOV_FROM, CR_CLTS, CR_LMSW };

	set_kind(v, EXIT_CR);
	v->exit.cr.cr = q & 15;
	v->exit.cr.op = ops[(q >> 4) & 3];
	v->exit.cr.gpr = (int8_t)((q >> 8) & 15);
	v->exit.cr.lmsw = (uint16_t)(q >> 16);
	v->exit.insn_len = insn_len();
}

/* INVD and WBINVD: no-ops (no device of a VM caches its memory; INVD
 * would throw away other guests' dirty lines).  INVD always exits. */
static void exit_wbinvd(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_WBINVD);
	v->exit.insn_len = insn_len();
}

/* RDPMC: guests have no performance counters: #GP. */
static void exit_rdpmc(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_GP);
}

/*
 * A hardware task switch always exits under VMX (SDM vol. 3C §26.4.2);
 * the core runs it (task.c).  The qualification has the new TSS selector
 * and the source; an event through a task gate comes in the IDT-vectoring
 * information, which then must not be re-injected: the switch delivers it.
 */
static void exit_task_switch(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	uint32_t idt = vmcs_read32(IDT_VECTORING_INFO);

	set_kind(v, EXIT_TASK_SWITCH);
	v->exit.task.sel = (uint16_t)q;
	v->exit.task.source = (uint8_t)((q >> 30) & 3);
	v->exit.task.has_error = false;
	v->exit.task.soft = false;
	v->exit.task.error = 0;
	v->exit.insn_len = insn_len();
	if (v->exit.task.source == TS_GATE && (idt & INTR_INFO_VALID)) {
		uint32_t type = (idt & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
		v->exit.task.vector = (uint8_t)(idt & INTR_INFO_VECTOR_MASK);
		v->exit.task.has_error = idt & INTR_INFO_DELIVER_CODE;
		v->exit.task.error = vmcs_read32(IDT_VECTORING_ERROR_CODE);
		/* INT n, INT3, INTO, INT1 go past their instruction */
		v->exit.task.soft = type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_SOFT_EXCEPTION ||
				    type == INTR_TYPE_PRIV_SW_EXCEPTION;
		if (!v->exit.task.soft)
			v->exit.insn_len = 0;
		xv->reinject = 0;
	} else if (v->exit.task.source == TS_GATE) {
		v->exit.insn_len = 0;
	}
}

/* XSETBV exits unconditionally (SDM vol. 3C §26.1.2); the core checks
 * and records it (hv/core/exit.c), as under SVM. */
static void exit_xsetbv(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	set_kind(v, EXIT_XSETBV);
	v->exit.insn_len = insn_len();
}

/* EPT violation: the guest-physical address and what the access was
 * (SDM vol. 3C §28.2.1, table 28-7).  RAM is all mapped RWX, so one inside
 * it is not an MMIO access: say so and stop. */
static void exit_ept_violation(struct vcpu *v, struct vmx_vcpu *xv, uint64_t q)
{
	uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);

	if (gpa_is_ram(v->vm, gpa)) {
		set_kind(v, EXIT_UNKNOWN);
		return;
	}
	set_kind(v, EXIT_MMIO);
	v->exit.mmio.gpa = gpa;
	v->exit.mmio.write = (q >> 1) & 1;
	v->exit.mmio.fetch = (q >> 2) & 1;
	v->exit.mmio.vectoring = vmcs_read32(IDT_VECTORING_INFO) & INTR_INFO_VALID;
	v->exit.insn_len = 0;
}

static const exit_fn exit_table[NR_VMX_EXIT_REASONS] = {
	[EXIT_REASON_EXCEPTION_NMI] = exit_exception_nmi,
	[EXIT_REASON_MONITOR_TRAP_FLAG] = exit_mtf,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = exit_none,
	[EXIT_REASON_PREEMPTION_TIMER] = exit_none,
	[EXIT_REASON_TRIPLE_FAULT] = exit_shutdown,
	[EXIT_REASON_INIT] = exit_init,
	[EXIT_REASON_INTERRUPT_WINDOW] = exit_intr_window,
	[EXIT_REASON_TASK_SWITCH] = exit_task_switch,
	[EXIT_REASON_CPUID] = exit_cpuid,
	[EXIT_REASON_HLT] = exit_hlt,
	[EXIT_REASON_PAUSE_INSTRUCTION] = exit_pause,
	[EXIT_REASON_INVD] = exit_wbinvd,
	[EXIT_REASON_RDPMC] = exit_rdpmc,
	[EXIT_REASON_MWAIT] = exit_ud,
	[EXIT_REASON_MONITOR] = exit_ud,
	[EXIT_REASON_WBINVD] = exit_wbinvd,
	[EXIT_REASON_VMCALL] = exit_ud,
	[EXIT_REASON_VMCLEAR] = exit_ud,
	[EXIT_REASON_VMLAUNCH] = exit_ud,
	[EXIT_REASON_VMPTRLD] = exit_ud,
	[EXIT_REASON_VMPTRST] = exit_ud,
	[EXIT_REASON_VMREAD] = exit_ud,
	[EXIT_REASON_VMRESUME] = exit_ud,
	[EXIT_REASON_VMWRITE] = exit_ud,
	[EXIT_REASON_VMXOFF] = exit_ud,
	[EXIT_REASON_VMXON] = exit_ud,
	[EXIT_REASON_CR_ACCESS] = exit_cr,
	[EXIT_REASON_IO_INSTRUCTION] = exit_io,
	[EXIT_REASON_MSR_READ] = exit_rdmsr,
	[EXIT_REASON_MSR_WRITE] = exit_wrmsr,
	[EXIT_REASON_EPT_VIOLATION] = exit_ept_violation,
	[EXIT_REASON_XSETBV] = exit_xsetbv,
	[EXIT_REASON_INVEPT] = exit_ud,
	[EXIT_REASON_INVVPID] = exit_ud,
	[EXIT_REASON_VMFUNC] = exit_ud,
	[EXIT_REASON_ENCLS] = exit_ud,
};

/* An event whose delivery the exit interrupted goes back in on the next
 * entry, with its error code and, for software events, the instruction
 * length (SDM vol. 3C §28.2.4). */
static void save_idt_vectoring(struct vmx_vcpu *xv)
{
	uint32_t idt = vmcs_read32(IDT_VECTORING_INFO);

	if (!(idt & INTR_INFO_VALID))
		return;
	xv->reinject = idt & (INTR_INFO_VECTOR_MASK | INTR_INFO_TYPE_MASK | INTR_INFO_DELIVER_CODE | INTR_INFO_VALID);
	xv->reinject_err = (idt & INTR_INFO_DELIVER_CODE) ? vmcs_read32(IDT_VECTORING_ERROR_CODE) : 0;
	xv->reinject_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
}

void vmx_decode_exit(struct vcpu *v)
{
	struct vmx_vcpu *xv = v->arch;
	uint32_t reason = xv->exit_reason, basic = reason & 0xffff;

	v->exit.reason = reason;
	v->exit.insn_len = 0;
	save_idt_vectoring(xv);
	if (reason & EXIT_REASON_FAILED_ENTRY)
		set_kind(v, EXIT_ENTRY_FAIL); /* 33, 34, 41: vmx_dump names it */
	else if (basic < ARRAY_SIZE(exit_table) && exit_table[basic])
		exit_table[basic](v, xv, vmcs_readnat(EXIT_QUALIFICATION));
	else
		set_kind(v, EXIT_UNKNOWN);
}

/* --- entry failures and the dump -------------------------------------------- */

const char *vmx_insn_error_name(uint32_t err)
{
	static const char *const names[] = {
		[1] = "VMCALL in VMX root operation",
		[2] = "VMCLEAR with an invalid address",
		[3] = "VMCLEAR with the VMXON pointer",
		[4] = "VMLAUNCH with a non-clear VMCS",
		[5] = "VMRESUME with a non-launched VMCS",
		[6] = "VMRESUME after VMXOFF",
		[7] = "VM entry with invalid control fields",
		[8] = "VM entry with invalid host-state fields",
		[9] = "VMPTRLD with an invalid address",
		[10] = "VMPTRLD with the VMXON pointer",
		[11] = "VMPTRLD with a wrong VMCS revision",
		[12] = "VMREAD/VMWRITE of an unsupported field",
		[13] = "VMWRITE to a read-only field",
		[15] = "VMXON in VMX root operation",
		[26] = "VM entry with events blocked by MOV SS",
		[28] = "invalid operand to INVEPT/INVVPID",
	};
	return err < ARRAY_SIZE(names) && names[err] ? names[err] : "see SDM vol. 3C §31.4";
}

static void bad(const char *what)
{
	log_raw("  check failed: %s\n", what);
}

/* CR0, CR4, EFER and the entry controls (SDM vol. 3C §27.3.1.1). */
static void check_control_regs(void)
{
	uint64_t cr0 = vmcs_readnat(GUEST_CR0), cr4 = vmcs_readnat(GUEST_CR4);
	uint64_t efer = vmcs_read64(GUEST_IA32_EFER);
	uint64_t need0 = vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG);
	bool ia32e = vmcs_read32(VM_ENTRY_CONTROLS) & ENTRYCTL_IA32E_MODE;

	if ((cr0 & need0) != need0 || (cr0 & ~vmx_caps.cr0_fixed1))
		bad("guest CR0 against IA32_VMX_CR0_FIXED0/1");
	if ((cr0 & CR0_PG) && !(cr0 & CR0_PE))
		bad("guest CR0.PG without CR0.PE");
	if ((cr4 & vmx_caps.cr4_fixed0) != vmx_caps.cr4_fixed0 || (cr4 & ~vmx_caps.cr4_fixed1))
		bad("guest CR4 against IA32_VMX_CR4_FIXED0/1");
	if (ia32e != !!(efer & EFER_LMA))
		bad("\"IA-32e mode guest\" entry control differs from guest EFER.LMA");
	if ((cr0 & CR0_PG) && !!(efer & EFER_LMA) != !!(efer & EFER_LME))
		bad("guest EFER.LMA differs from EFER.LME with CR0.PG set");
	if (ia32e && !(cr4 & CR4_PAE))
		bad("IA-32e mode guest without CR4.PAE");
}

/* Segment checks (§27.3.1.2), for the cases Petrel can get wrong. */
static void check_segments(void)
{
	static const char *const names[NR_SEGS] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr" };
	uint32_t cs = vmcs_read32(GUEST_CS_AR_BYTES), ss = vmcs_read32(GUEST_SS_AR_BYTES);
	uint32_t tr = vmcs_read32(GUEST_TR_AR_BYTES);

	for (int i = 0; i < NR_SEGS; i++) {
		uint32_t ar = vmcs_seg_read32(GUEST_ES_AR_BYTES, i), lim = vmcs_seg_read32(GUEST_ES_LIMIT, i);
		if (ar & AR_UNUSABLE)
			continue;
		if ((ar & 0xf00) || (ar >> 17)) {
			log_raw("  check failed: %s access rights 0x%x: reserved bits set\n", names[i], ar);
		}
		if (((lim & 0xfff) != 0xfff && (ar & (1u << 15))) || ((lim >> 20) && !(ar & (1u << 15))))
			log_raw("  check failed: %s limit 0x%x does not match its G bit\n", names[i], lim);
		if (!(ar & AR_P))
			log_raw("  check failed: %s usable but not present\n", names[i]);
	}
	if ((cs & AR_UNUSABLE) || !(cs & (1u << 4)) || !((cs & 0xf) == 3 || (cs & 8)))
		bad("CS: unusable, a system segment, or not a code (or, unrestricted, type 3) segment");
	if (!(ss & AR_UNUSABLE) && ((ss & 0xf) != 3 && (ss & 0xf) != 7))
		bad("SS type is neither 3 nor 7");
	if (!(ss & AR_UNUSABLE) && ((ss >> 5) & 3) != ((cs >> 5) & 3) && (cs & 0xf) != 3)
		bad("SS.DPL differs from CS.DPL");
	if ((tr & AR_UNUSABLE) || (tr & (1u << 4)) || ((tr & 0xf) != 11 && (tr & 0xf) != 3))
		bad("TR: unusable, not a system segment, or not a busy TSS (type 3 or 11)");
	if ((vmcs_read16(GUEST_TR_SELECTOR) & 4))
		bad("TR selector has TI set");
}

/* Non-register state (§27.3.1.4-5). */
static void check_other_state(void)
{
	uint64_t rfl = vmcs_readnat(GUEST_RFLAGS);
	uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	uint32_t ev = vmcs_read32(VM_ENTRY_INTR_INFO);

	if (!(rfl & 2) || (rfl & 0xffffffffffc08028ull))
		bad("guest RFLAGS: bit 1 clear or reserved bits set");
	if ((intr & GUEST_INTR_STI) && !(rfl & (1u << 9)))
		bad("blocking by STI with RFLAGS.IF clear");
	if ((intr & 3) == 3)
		bad("blocking by STI and by MOV SS at once");
	if ((ev & INTR_INFO_VALID) && !(ev & INTR_INFO_TYPE_MASK) && (!(rfl & (1u << 9)) || (intr & 3)))
		bad("injecting an external interrupt while the guest blocks it");
	if (vmcs_read32(GUEST_ACTIVITY_STATE) > 3)
		bad("activity state");
	if (vmcs_read64(VMCS_LINK_POINTER) != ~0ull)
		bad("VMCS link pointer is not ~0");
}

static void explain_entry_failure(struct vmx_vcpu *xv)
{
	uint32_t basic = xv->exit_reason & 0xffff;
	uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);

	if (xv->entry_error) {
		log_raw("  VM entry failed: %s, VM-instruction error %u (%s)\n",
			xv->entry_error == 1 ? "VMfailValid" : "VMfailInvalid (no current VMCS)",
			xv->insn_error, vmx_insn_error_name(xv->insn_error));
		return;
	}
	if (basic == EXIT_REASON_INVALID_GUEST_STATE) {
		log_raw("  VM entry failed: invalid guest state (exit reason 33), qualification %llu (%s)\n",
			(unsigned long long)q,
			q == 2 ? "loading PDPTEs" : q == 3 ? "NMI injection blocked" :
			q == 4 ? "VMCS link pointer" : "no detail from the CPU");
		check_control_regs();
		check_segments();
		check_other_state();
	} else if (basic == EXIT_REASON_MSR_LOADING) {
		log_raw("  VM entry failed: MSR loading, entry %llu of the VM-entry MSR-load area\n",
			(unsigned long long)q);
	} else {
		log_raw("  VM entry failed: machine check during entry (exit reason %u)\n", basic);
	}
}

static void dump_segs(void)
{
	static const char *const names[NR_SEGS] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr" };

	for (int i = 0; i < NR_SEGS; i++)
		log_raw("  %-4s sel %04x ar %05x limit %08x base %016llx\n", names[i],
			vmcs_seg_read16(GUEST_ES_SELECTOR, i), vmcs_seg_read32(GUEST_ES_AR_BYTES, i),
			vmcs_seg_read32(GUEST_ES_LIMIT, i), (unsigned long long)vmcs_seg_readnat(GUEST_ES_BASE, i));
	log_raw("  gdtr base %016llx limit %04x  idtr base %016llx limit %04x\n",
		(unsigned long long)vmcs_readnat(GUEST_GDTR_BASE), vmcs_read32(GUEST_GDTR_LIMIT),
		(unsigned long long)vmcs_readnat(GUEST_IDTR_BASE), vmcs_read32(GUEST_IDTR_LIMIT));
}

static void dump_host(void)
{
	log_raw("  host cr0 %llx cr3 %llx cr4 %llx cs %04x ss %04x tr %04x rip %llx efer %llx\n",
		(unsigned long long)vmcs_readnat(HOST_CR0), (unsigned long long)vmcs_readnat(HOST_CR3),
		(unsigned long long)vmcs_readnat(HOST_CR4), vmcs_read16(HOST_CS_SELECTOR),
		vmcs_read16(HOST_SS_SELECTOR), vmcs_read16(HOST_TR_SELECTOR),
		(unsigned long long)vmcs_readnat(HOST_RIP), (unsigned long long)vmcs_read64(HOST_IA32_EFER));
}

void vmx_dump(struct vcpu *v)
{
	struct vmx_vcpu *xv = v->arch;
	uint64_t *g = v->regs.gpr;

	if (xv->entry_error == 2 && (xv->cpu < 0 || !xv->set_up)) {
		log_raw("  VM entry failed: no current VMCS (VMfailInvalid); nothing more to show\n");
		return;
	}
	log_raw("  exit reason 0x%x qualification 0x%llx intr-info 0x%x idt-vectoring 0x%x entry-intr 0x%x\n",
		xv->exit_reason, (unsigned long long)vmcs_readnat(EXIT_QUALIFICATION),
		vmcs_read32(VM_EXIT_INTR_INFO), vmcs_read32(IDT_VECTORING_INFO),
		vmcs_read32(VM_ENTRY_INTR_INFO));
	if (xv->entry_error || (xv->exit_reason & EXIT_REASON_FAILED_ENTRY))
		explain_entry_failure(xv);
	log_raw("  rip %016llx rsp %016llx rax %016llx rflags %016llx\n",
		(unsigned long long)vmcs_readnat(GUEST_RIP), (unsigned long long)vmcs_readnat(GUEST_RSP),
		(unsigned long long)g[GPR_RAX], (unsigned long long)vmcs_readnat(GUEST_RFLAGS));
	log_raw("  rbx %016llx rcx %016llx rdx %016llx rsi %016llx rdi %016llx\n",
		(unsigned long long)g[GPR_RBX], (unsigned long long)g[GPR_RCX],
		(unsigned long long)g[GPR_RDX], (unsigned long long)g[GPR_RSI],
		(unsigned long long)g[GPR_RDI]);
	log_raw("  cr0 %016llx (shadow %llx) cr3 %016llx cr4 %016llx (shadow %llx) efer %016llx cr2 %llx\n",
		(unsigned long long)vmcs_readnat(GUEST_CR0), (unsigned long long)vmcs_readnat(CR0_READ_SHADOW),
		(unsigned long long)vmcs_readnat(GUEST_CR3), (unsigned long long)vmcs_readnat(GUEST_CR4),
		(unsigned long long)vmcs_readnat(CR4_READ_SHADOW),
		(unsigned long long)vmcs_read64(GUEST_IA32_EFER), (unsigned long long)xv->cr2);
	dump_segs();
	log_raw("  interruptibility 0x%x activity %u pin 0x%x cpu 0x%x sec 0x%x exit 0x%x entry 0x%x\n",
		vmcs_read32(GUEST_INTERRUPTIBILITY_INFO), vmcs_read32(GUEST_ACTIVITY_STATE),
		vmcs_read32(PIN_BASED_VM_EXEC_CONTROL), vmcs_read32(CPU_BASED_VM_EXEC_CONTROL),
		vmcs_read32(SECONDARY_VM_EXEC_CONTROL), vmcs_read32(VM_EXIT_CONTROLS),
		vmcs_read32(VM_ENTRY_CONTROLS));
	log_raw("  eptp 0x%llx vpid %u\n", (unsigned long long)vmcs_read64(EPT_POINTER),
		vmx_caps.vpid ? vmcs_read16(VPID) : 0);
	if (xv->entry_error == 1 && xv->insn_error == 8)
		dump_host();
}
