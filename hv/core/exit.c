/* SPDX-License-Identifier: MIT */
/*
 * The neutral exit handlers: one per kind of request the backend decoded
 * (struct exit_req).  None of them knows whether SVM or VMX is underneath.
 * A request that cannot be served stops its VM with the reason and the
 * vCPU's state; the hypervisor and other VMs go on.
 */
#include <arch/cpu.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/debug.h>
#include <petrel/vm.h>

#include "core.h"
#include <petrel/x86_decode.h>


#define GP 13
#define UD 6

static void set_edx_eax(struct vcpu *v, uint64_t val)
{
	v->regs.gpr[GPR_RAX] = (uint32_t)val;
	v->regs.gpr[GPR_RDX] = val >> 32;
	vcpu_dirty(v, REG_RIP);
}

static void handle_cpuid(struct vcpu *v)
{
	uint64_t *g = v->regs.gpr;
	struct cpuid_regs r = guest_cpuid(v, (uint32_t)g[GPR_RAX], (uint32_t)g[GPR_RCX]);

	g[GPR_RAX] = r.eax;
	g[GPR_RBX] = r.ebx;
	g[GPR_RCX] = r.ecx;
	g[GPR_RDX] = r.edx;
	vcpu_skip_insn(v);
}

static void handle_rdmsr(struct vcpu *v)
{
	uint64_t val;

	if (msr_read(v, v->exit.msr.msr, &val)) {
		vcpu_inject_exception(v, GP, true, 0);
		return;
	}
	set_edx_eax(v, val);
	vcpu_skip_insn(v);
}

static void handle_wrmsr(struct vcpu *v)
{
	uint64_t val = (uint32_t)v->regs.gpr[GPR_RAX] | (v->regs.gpr[GPR_RDX] << 32);

	if (msr_write(v, v->exit.msr.msr, val)) {
		vcpu_inject_exception(v, GP, true, 0);
		return;
	}
	vcpu_skip_insn(v);
}

/*
 * XSETBV: every backend intercepts it, so each vCPU has its own XCR0 and
 * no guest sees another's (run.c puts it into the CPU before each entry).
 * The checks are the instruction's own (SDM vol. 2C XSETBV, "Protected
 * Mode Exceptions"): #UD without CR4.OSXSAVE; #GP(0) at CPL > 0, for an XCR
 * other than XCR0, without x87, for a state CPUID leaf 0xd does not list,
 * for AVX without SSE, for AVX-512 states not all together or without AVX,
 * for the two MPX states or the two AMX states apart.
 */
#define XCR0_X87 (1u << 0)
#define XCR0_SSE (1u << 1)
#define XCR0_AVX (1u << 2)
#define XCR0_MPX (3u << 3)
#define XCR0_AVX512 (7u << 5)
#define XCR0_AMX (3u << 17)

static bool xcr0_valid(uint64_t val, uint64_t supported)
{
	uint64_t avx512 = val & XCR0_AVX512, mpx = val & XCR0_MPX, amx = val & XCR0_AMX;

	return (val & XCR0_X87) && !(val & ~supported) &&
	       (!(val & XCR0_AVX) || (val & XCR0_SSE)) &&
	       (!avx512 || (avx512 == XCR0_AVX512 && (val & XCR0_AVX))) &&
	       (!mpx || mpx == XCR0_MPX) && (!amx || amx == XCR0_AMX);
}

static void handle_xsetbv(struct vcpu *v)
{
	uint64_t *g = v->regs.gpr, val = (uint32_t)g[GPR_RAX] | (g[GPR_RDX] << 32);
	struct cpuid_regs d = guest_cpuid(v, 0xd, 0);

	vcpu_need(v, REG_CR | REG_SEGS);
	if (!(v->regs.cr4 & CR4_OSXSAVE)) {
		vcpu_inject_exception(v, UD, false, 0);
		return;
	}
	if (v->regs.cpl != 0 || (uint32_t)g[GPR_RCX] != 0 ||
	    !xcr0_valid(val, d.eax | ((uint64_t)d.edx << 32))) {
		vcpu_inject_exception(v, GP, true, 0);
		return;
	}
	v->xcr0 = val;
	vcpu_skip_insn(v);
}

static void stop_with_state(struct vcpu *v, const char *why);

/* IN/OUT without a string: the value travels in AL/AX/EAX; an IN keeps
 * the rest of RAX (a 32-bit IN zero-extends, as any 32-bit write). */
static void io_simple(struct vcpu *v)
{
	uint64_t *rax = &v->regs.gpr[GPR_RAX], val = *rax;
	uint8_t size = v->exit.io.size;

	io_bus_access(&v->vm->bus, false, v, v->exit.io.port, size, !v->exit.io.in, &val);
	if (v->exit.io.in) {
		if (size == 4)
			*rax = (uint32_t)val;
		else
			*rax = (*rax & ~((1ull << (size * 8)) - 1)) | val;
	}
}

/* IN/OUT, and INS/OUTS (string_io.c): a REP with elements left stays on
 * its instruction, as the CPU leaves it between iterations. */
static void handle_io(struct vcpu *v)
{
	if (v->exit.io.string) {
		switch (emulate_string_io(v)) {
		case STRING_IO_DONE: break;
		case STRING_IO_STOP: vm_stop(v->vm, "a string I/O instruction could not be decoded"); return;
		default: return; /* more to do, or a fault: RIP stays */
		}
	} else {
		io_simple(v);
	}
	v->regs.rip = v->exit.io.next_rip;
	vcpu_dirty(v, REG_RIP);
	vcpu_insn_done(v, v->regs.rflags);
}

static void handle_mmio(struct vcpu *v)
{
	if (emulate_mmio(v))
		stop_with_state(v, "an access outside RAM that Petrel cannot emulate");
}

static void handle_hlt(struct vcpu *v)
{
	bool queued = vcpu_ops->irq_queued && vcpu_ops->irq_queued(v);

	vcpu_skip_insn(v);
	/* a single-step #DB after it goes in first, as KVM does; an
	 * interrupt the CPU holds for the guest ends the HLT at once, if the
	 * guest can take it (with IF=0 only an NMI or INIT wakes it, as on
	 * the CPU: the interrupt stays held, for when it sets IF) */
	v->halted = !v->event.pending && !(queued && (v->regs.rflags & RFLAGS_IF));
}

/* A vCPU spinning in a PAUSE loop is most likely waiting for a lock that
 * a vCPU which is not running holds (preempted on this CPU): it gives its
 * turn away (run.c), then goes on past the PAUSE. */
static void handle_pause(struct vcpu *v)
{
	vcpu_skip_insn(v);
	v->yielded = true;
}

static void stop_with_state(struct vcpu *v, const char *why)
{
	pr_err("vm %s vcpu %u: %s (exit reason 0x%llx); final state:\n", v->vm->name, v->id, why,
	       (unsigned long long)v->exit.reason);
	vcpu_ops->dump(v);
	vm_stop(v->vm, why);
}

/* A triple fault.  On a PC the chipset turns the CPU's shutdown cycle into
 * a reset, and Linux relies on that as its last way to reboot: VMs reset
 * (vm_reset stops a reset loop), after their state is printed, so one can
 * see where they died.  A module with triple_fault=stop stops its VM
 * instead. */
static void handle_shutdown(struct vcpu *v)
{
	if (!v->vm->stop_on_triple_fault) {
		pr_warn("vm %s vcpu %u: triple fault: resetting the VM, as a PC does; its state:\n", v->vm->name,
			v->id);
		vcpu_ops->dump(v);
		vm_request_reset(v->vm, "triple fault");
		return;
	}
	stop_with_state(v, "triple fault (shutdown)");
}

/*
 * A failed entry is a Petrel bug, with one exception found in an emulator:
 * QEMU 7.2 TCG answers a guest's MOV to CR3 with a reserved bit set (in
 * IA-32e mode) with VMRUN's invalid-state exit instead of #GP (its
 * helper_write_crN).  When RIP is on such a MOV, the write is run through
 * the core's CR3 checks, which raise the #GP the CPU gives.  Nothing else
 * is taken for this case: a MOV to CR3 that would succeed is not run here.
 */
static void handle_entry_fail(struct vcpu *v)
{
	struct x86_insn in;

	vcpu_need(v, REG_CR | REG_SEGS);
	if ((v->regs.efer & EFER_LMA) && !vcpu_decode(v, &in) && in.opmap == 1 && in.opcode == 0x22 &&
	    (X86_MODRM_REG(in.modrm) | ((in.rex & 4) << 1)) == 3) {
		uint64_t val = v->regs.gpr[X86_MODRM_RM(in.modrm) | ((in.rex & 1) << 3)];
		uint64_t reserved = ((1ull << 63) - 1) & ~((1ull << v->cr_caps.maxphyaddr) - 1);
		if (val & reserved) {
			pr_warn("vm %s: a MOV to CR3 with reserved bits came back as a failed entry "
				"(an emulator quirk): #GP\n", v->vm->name);
			vcpu_inject_exception(v, GP, true, 0);
			return;
		}
	}
	stop_with_state(v, "the CPU refused the guest state (VM entry failed)");
}

void exit_dispatch(struct vcpu *v)
{
	enum exit_kind k = v->exit.kind;

	v->exits[k]++;
	v->exits_total++;
	switch (k) {
	case EXIT_NONE: break;
	case EXIT_CPUID: handle_cpuid(v); break;
	case EXIT_MSR_READ: handle_rdmsr(v); break;
	case EXIT_MSR_WRITE: handle_wrmsr(v); break;
	case EXIT_IO: handle_io(v); break;
	case EXIT_MMIO: handle_mmio(v); break;
	case EXIT_HLT: handle_hlt(v); break;
	case EXIT_XSETBV: handle_xsetbv(v); break;
	case EXIT_CR: handle_cr(v); break;
	case EXIT_WBINVD: vcpu_skip_insn(v); break;
	case EXIT_PAUSE: handle_pause(v); break;
	case EXIT_GP: vcpu_inject_exception(v, GP, true, 0); break;
	case EXIT_TASK_SWITCH: handle_task_switch(v); break;
	case EXIT_UD: vcpu_inject_exception(v, UD, false, 0); break;
	case EXIT_BREAKPOINT:
	case EXIT_DEBUG:
	case EXIT_SOFT_INT: debug_exit(v); break;
	case EXIT_SHUTDOWN: handle_shutdown(v); break;
	case EXIT_INIT: stop_with_state(v, "INIT signal: not supported yet"); break;
	case EXIT_ENTRY_FAIL: handle_entry_fail(v); break;
	case EXIT_STATE_LOST: stop_with_state(v, "its state was lost, the host's in its place (README, issue 11)"); break;
	case EXIT_UNKNOWN:
	default: stop_with_state(v, "an exit Petrel does not handle"); break;
	}
}
