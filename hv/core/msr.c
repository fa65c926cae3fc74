/* SPDX-License-Identifier: MIT */
/*
 * Which MSRs a guest may touch, and how.  Three kinds:
 *  - the guest's own: state the hardware switches on every entry and exit
 *    (SYSENTER_*, STAR/LSTAR/CSTAR/SFMASK, FS/GS/KERNEL_GS base, PAT).  Not
 *    intercepted; the backend keeps them per vCPU.
 *  - emulated here: EFER (the guest may not turn on SVME), TSC (read).
 *  - everything else: #GP, as for an MSR the CPU does not have.  That covers
 *    VM_CR, VM_HSAVE_PA and every VMX capability MSR.
 */
#include <arch/cpu.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>

#define MSR_TSC 0x10
#define EFER_ALLOWED ((1ull << 0) | (1ull << 8) | (1ull << 10) | (1ull << 11) | (1ull << 14) | \
		      (1ull << 15)) /* SCE LME LMA NXE FFXSR TCE; never SVME (bit 12) */

static const uint32_t guest_owned[] = {
	0x174, 0x175, 0x176,                        /* SYSENTER_CS/ESP/EIP */
	0x277,                                      /* PAT */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR LSTAR CSTAR SFMASK */
	0xc0000100, 0xc0000101, 0xc0000102,         /* FS GS KERNEL_GS base */
};

void msr_vm_init(struct vm *vm)
{
	for (uint32_t i = 0; i < ARRAY_SIZE(guest_owned); i++)
		vcpu_ops->set_msr_intercept(vm, guest_owned[i], false, false);
}

/* 0 with *val, or -1: the guest gets #GP. */
int msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_EFER:
		vcpu_need(v, REG_CR);
		*val = v->regs.efer;
		return 0;
	case MSR_TSC:
		*val = rdtsc();
		return 0;
	default:
		return -1;
	}
}

int msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	switch (msr) {
	case MSR_EFER:
		if (val & ~EFER_ALLOWED)
			return -1;
		vcpu_need(v, REG_CR);
		/* LMA is the CPU's to set: keep the current value. */
		v->regs.efer = (val & ~(1ull << 10)) | (v->regs.efer & (1ull << 10));
		vcpu_dirty(v, REG_CR);
		return 0;
	default:
		return -1;
	}
}
