/* SPDX-License-Identifier: MIT */
/*
 * Which MSRs a guest may touch, and how.  Three kinds:
 *  - the guest's own: state the hardware switches on every entry and exit
 *    (SYSENTER_*, STAR/LSTAR/CSTAR/SFMASK, FS/GS/KERNEL_GS base, PAT).  Not
 *    intercepted; the backend keeps them per vCPU.
 *  - emulated here: EFER (checked as the CPU does, ctrlreg.c: bits its
 *    CPUID does not offer, SVME among them, and LME changed with paging
 *    on raise #GP), TSC (read),
 *    IA32_MISC_ENABLE (kept, see below) and IA32_BIOS_SIGN_ID (revision 0),
 *    which Linux reads with plain RDMSR on Intel CPUs; on Intel CPUs,
 *    IA32_FEATURE_CONTROL reads locked with VMX off (writes #GP, as to any
 *    locked one), so a guest sees no VMX to turn on, and IA32_PLATFORM_ID
 *    reads 0 (read-only; OVMF reads it to match microcode, KVM gives 0);
 *    a machine-check architecture with no banks (MCG_CAP 0); MTRRs
 *    reported as none but the default type, write-back, since guest
 *    memory types come from the nested page tables and the guest's PAT;
 *    the AMD performance counters (the legacy four and family 15h's six)
 *    as KVM shows them with no PMU in use: they read 0 and take a write
 *    of 0 (guests clear them at boot), anything else is #GP;
 *  - a device's: the ranges a device registered (the local APIC's
 *    IA32_APIC_BASE, TSC_DEADLINE and x2APIC registers) go to it.
 *  - everything else: #GP, as for an MSR the CPU does not have.  That covers
 *    VM_CR, VM_HSAVE_PA and every VMX capability MSR.
 */
#include <arch/cpu.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>
#include <petrel/vm.h>

#include "core.h"

#define MSR_TSC 0x10
#define MSR_K7_PERF_FIRST 0xc0010000u /* PerfEvtSel0-3, PerfCtr0-3 */
#define MSR_K7_PERF_LAST 0xc0010007u
#define MSR_F15H_PERF_FIRST 0xc0010200u /* PERF_CTL0/CTR0 .. CTL5/CTR5 */
#define MSR_F15H_PERF_LAST 0xc001020bu
#define MSR_UCODE_REV 0x8b
#define MSR_MTRR_CAP 0xfe
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_TSC_AUX 0xc0000103
#define MSR_K8_INT_PENDING_MSG 0xc0010055
#define MSR_MCG_CAP 0x179
#define MSR_MISC_ENABLE 0x1a0
#define MSR_PKRS 0x6e1 /* supervisor protection keys, where CPUID offers PKS */
/* IA32_MISC_ENABLE at power-on: fast strings on, no BTS, no PEBS.  Bits
 * 7 (performance monitoring: none), 11 and 12 are read-only; the guest's
 * writes to the others are kept for it to read back, as KVM keeps them,
 * and change nothing (Petrel's CPUID and MONITOR do not follow them). */
#define MISC_ENABLE_RESET ((1ull << 0) | (1ull << 11) | (1ull << 12))
#define MISC_ENABLE_RO ((1ull << 7) | (1ull << 11) | (1ull << 12))
#define MSR_MCG_STATUS 0x17a
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_PLATFORM_ID 0x17
#define FEATURE_CONTROL_LOCKED (1ull << 0)

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
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		vm->vcpu[i].misc_enable = MISC_ENABLE_RESET;
}

static bool perf_msr(uint32_t msr)
{
	return (msr >= MSR_K7_PERF_FIRST && msr <= MSR_K7_PERF_LAST) ||
	       (msr >= MSR_F15H_PERF_FIRST && msr <= MSR_F15H_PERF_LAST);
}

static bool pv_msr(uint32_t msr)
{
	return msr == PVCLOCK_MSR_WALL_CLOCK || msr == PVCLOCK_MSR_SYSTEM_TIME;
}

int msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	const struct msr_range *r = vm_msr_range(v->vm, msr);

	if (r)
		return r->read ? r->read(r->dev, v, msr, val) : -1;
	if (pv_msr(msr))
		return pvclock_msr(v, msr, false, val);
	if (perf_msr(msr)) {
		*val = 0;
		return 0;
	}
	switch (msr) {
	case MSR_EFER:
		vcpu_need(v, REG_CR);
		*val = v->regs.efer;
		return 0;
	case MSR_TSC:
		*val = rdtsc() + v->tsc_offset;
		return 0;
	case MSR_MTRR_CAP:
		*val = 0; /* no variable ranges, no fixed ranges, no WC */
		return 0;
	case MSR_TSC_AUX:
		*val = v->tsc_aux;
		return 0;
	case MSR_MCG_CAP:    /* machine-check architecture with no banks */
	case MSR_MCG_STATUS: /* and never an event in progress */
		*val = 0;
		return 0;
	case MSR_K8_INT_PENDING_MSG:
		/* Linux reads it on CPUs that look like K8 (erratum 400, which
		 * QEMU's TCG CPU does): C1E is never active here. */
		*val = 0;
		return 0;
	case MSR_MTRR_DEF_TYPE:
		*val = v->mtrr_def_type;
		return 0;
	case MSR_UCODE_REV:
		/* IA32_BIOS_SIGN_ID (AMD: PATCH_LEVEL): no microcode revision. */
		*val = 0;
		return 0;
	case MSR_PKRS:
		if (!(guest_cpuid(v, 7, 0).ecx & (1u << 31)))
			return -1;
		*val = v->pkrs;
		return 0;
	case MSR_MISC_ENABLE:
		/* Linux reads it with a plain RDMSR on every Intel CPU (its
		 * decompressor's verify_cpu, early_init_intel). */
		*val = v->misc_enable;
		return 0;
	case MSR_FEATURE_CONTROL: /* Intel's only (SDM vol. 4 table 2-2) */
		if (this_cpu()->virt.vendor != VIRT_VMX)
			return -1;
		*val = FEATURE_CONTROL_LOCKED;
		return 0;
	case MSR_PLATFORM_ID: /* Intel's only; platform ID 0 (bits 52:50) */
		if (this_cpu()->virt.vendor != VIRT_VMX)
			return -1;
		*val = 0;
		return 0;
	default:
		return -1;
	}
}

int msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	const struct msr_range *r = vm_msr_range(v->vm, msr);

	if (r)
		return r->write ? r->write(r->dev, v, msr, val) : -1;
	if (pv_msr(msr))
		return pvclock_msr(v, msr, true, &val);
	if (perf_msr(msr))
		return val ? -1 : 0;
	switch (msr) {
	case MSR_EFER: /* checked as the CPU does (ctrlreg.c) */
		return vcpu_write_efer(v, val);
	case MSR_TSC:
		/* The guest's TSC is the host's plus an offset: writing it moves
		 * the offset (SDM vol. 3B §18.17), for this vCPU only. */
		v->tsc_offset = val - rdtsc();
		vcpu_dirty(v, REG_TSC_OFFSET);
		return 0;
	case MSR_MCG_STATUS:
		return val == 0 ? 0 : -1;
	case MSR_TSC_AUX:
		/* What RDTSCP and RDPID return in ECX; loaded into the CPU before
		 * each entry (run.c): the host never uses it. */
		if (val >> 32)
			return -1;
		v->tsc_aux = val;
		return 0;
	case MSR_MTRR_DEF_TYPE:
		/* Kept for the guest to read back; memory types come from the
		 * nested tables and the guest's PAT, so it changes nothing. */
		if (val & ~0xcffull)
			return -1;
		v->mtrr_def_type = val;
		return 0;
	case MSR_UCODE_REV:
		/* Intel's "clear, CPUID, read" sequence writes 0 first. */
		return 0;
	case MSR_PKRS: /* 32 bits of rights; loaded before each entry (run.c) */
		if (!(guest_cpuid(v, 7, 0).ecx & (1u << 31)) || (val >> 32))
			return -1;
		v->pkrs = (uint32_t)val;
		return 0;
	case MSR_MISC_ENABLE:
		v->misc_enable = (val & ~MISC_ENABLE_RO) | (v->misc_enable & MISC_ENABLE_RO);
		return 0;
	default:
		return -1;
	}
}
