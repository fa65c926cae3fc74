/* SPDX-License-Identifier: MIT */
/*
 * How a VM's application processors start, as on a PC (SDM vol. 3A §9.4,
 * §11.6.1): every vCPU but the first powers on waiting for a startup IPI;
 * the local APIC model turns an INIT IPI into vcpu_init_signal() and a
 * SIPI into vcpu_sipi() (device.h).  INIT resets the vCPU to its INIT
 * state and makes it wait again; a SIPI to a waiting vCPU starts it in
 * real mode at vector × 4 KiB (CS = vector << 8, IP = 0); a SIPI to a
 * vCPU that is not waiting is ignored, so the second SIPI of Intel's
 * INIT-SIPI-SIPI sequence does nothing.  A guest may send INIT and SIPI
 * again to restart a CPU.
 *
 * The signals are latched here and taken by the run loop
 * (vcpu_take_signals) before it picks, on the CPU that runs the vCPU: the
 * sender is in the middle of its own exit, and re-initialising the
 * target's VMCS or VMCB belongs to the target's CPU.  INIT to the first
 * vCPU resets the VM (there is no firmware for it to restart in).
 */
#include <arch/cpu.h>
#include <petrel/log.h>
#include <petrel/vm.h>

#include "core.h"

#define ATTR_CODE16 0x9b /* exec/read, accessed, S, P */
#define ATTR_DATA16 0x93 /* read/write, accessed, S, P */

void vcpu_init_signal(struct vcpu *v)
{
	if (v->id == 0) {
		vm_request_reset(v->vm, "INIT to the boot vCPU");
		return;
	}
	v->init_pending = true;
	v->sipi_pending = false; /* a SIPI before the INIT is gone with it */
	vcpu_kick(v);
}

void vcpu_sipi(struct vcpu *v, uint8_t vector)
{
	if (!v->wait_sipi && !v->init_pending)
		return;
	v->sipi_vector = vector;
	v->sipi_pending = true;
	vcpu_kick(v);
}

/* The INIT state (SDM vol. 3A table 9-1), less what INIT keeps: the x87,
 * SSE and AVX registers, the MTRRs, the TSC. */
static int init_state(struct vcpu *v)
{
	v->halted = false;
	v->event.pending = false;
	v->nmi_pending = false;
	v->xcr0 = cpu_has_xsave() ? 1 : 0;
	v->cr8 = 0;
	v->pkrs = 0;
	return vcpu_ops->vcpu_init(v);
}

void vcpu_real_mode_start(struct vcpu *v, uint16_t cs, uint64_t cs_base, uint64_t rip)
{
	vcpu_set_start_state(v, 0x60000010 /* CD, NW, ET */, rip,
			     (struct segment){ .sel = cs, .base = cs_base, .limit = 0xffff, .attr = ATTR_CODE16 },
			     (struct segment){ .limit = 0xffff, .attr = ATTR_DATA16 });
	v->regs.gpr[GPR_RDX] = cpuid(1, 0).eax;
	v->valid |= REG_GPRS;
	vcpu_dirty(v, REG_GPRS);
}

/* Real mode at vector × 4 KiB. */
static void start_at(struct vcpu *v, uint8_t vector)
{
	vcpu_real_mode_start(v, (uint16_t)(vector << 8), (uint64_t)vector << 12, 0);
}

void vcpu_take_signals(struct vcpu *v)
{
	if (v->init_pending) {
		v->init_pending = false;
		if (init_state(v)) {
			vm_stop(v->vm, "a vCPU could not be reset for INIT");
			return;
		}
		v->wait_sipi = true;
	}
	if (v->sipi_pending) {
		v->sipi_pending = false;
		if (v->wait_sipi) {
			start_at(v, v->sipi_vector);
			v->wait_sipi = false;
		}
	}
}
