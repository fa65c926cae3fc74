/* SPDX-License-Identifier: MIT */
/*
 * A paravirtual clock for Linux guests: the KVM clock ABI
 * (Documentation/virt/kvm/x86/msr.rst, MSR_KVM_SYSTEM_TIME_NEW and
 * MSR_KVM_WALL_CLOCK_NEW; cpuid.rst for the leaves).
 *
 * Why: Linux measures the TSC's frequency against the PIT or the ACPI PM
 * timer, and each of those reads is a VM exit.  Where exits are slow (QEMU
 * TCG, and any nested set-up) the measurement fails, the TSC is declared
 * unstable, and every timer after it is miscalibrated.  A hypervisor knows
 * the frequency; this ABI is how Linux asks for it.  Petrel offers it at
 * the second hypervisor leaf range (0x40000100), which Linux scans, and
 * keeps its own signature at 0x40000000.  Only the clock is offered
 * (feature bits CLOCKSOURCE2 and CLOCKSOURCE_STABLE_BIT), nothing else of
 * KVM's paravirtual interface.
 *
 * The guest TSC is the host's with an offset and never changes rate, so
 * one time-info record, written when the guest registers it, stays right:
 * system_time = 0 at guest TSC 0 (when the VM started), stable bit set.
 */
#include <arch/cpu.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/vm.h>

#include "core.h"

#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1u << 24)
#define PVCLOCK_TSC_STABLE_BIT 1

struct pvclock_vcpu_time_info {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
} __attribute__((packed));
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock time info is 32 bytes");

struct pvclock_wall_clock {
	uint32_t version, sec, nsec;
} __attribute__((packed));

bool pvclock_cpuid(struct vcpu *v, uint32_t leaf, struct cpuid_regs *r)
{
	if (leaf != PVCLOCK_CPUID_BASE && leaf != PVCLOCK_CPUID_BASE + 1)
		return false;
	*r = (struct cpuid_regs){ 0 };
	if (leaf == PVCLOCK_CPUID_BASE) {
		r->eax = PVCLOCK_CPUID_BASE + 1;
		memcpy(&r->ebx, "KVMK", 4);
		memcpy(&r->ecx, "VMKV", 4);
		memcpy(&r->edx, "M\0\0\0", 4);
	} else {
		r->eax = KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
	}
	return true;
}

/* ns = ((tsc << shift) * mul) >> 32, with shift making the scaled rate fit
 * 32 bits below 2 GHz (the time-scale the ABI defines). */
static void time_scale(uint64_t hz, uint32_t *mul, int8_t *shift)
{
	int s = 0;
	while (hz > 2 * NS_PER_SEC) {
		hz >>= 1;
		s--;
	}
	while (hz <= NS_PER_SEC / 2) {
		hz <<= 1;
		s++;
	}
	*mul = (uint32_t)((NS_PER_SEC << 32) / hz);
	*shift = (int8_t)s;
}

static int write_time_info(struct vcpu *v, uint64_t gpa)
{
	struct pvclock_vcpu_time_info *t = gpa_to_hva(v->vm, gpa, sizeof(*t));
	uint32_t mul;
	int8_t shift;

	if (!t)
		return -1;
	memset(t, 0, sizeof(*t));
	time_scale(tsc_hz, &mul, &shift);
	t->tsc_to_system_mul = mul;
	t->tsc_shift = shift;
	t->tsc_timestamp = 0; /* guest TSC 0 is VM clock 0 */
	t->system_time = 0;
	t->flags = PVCLOCK_TSC_STABLE_BIT;
	t->version = 2; /* even: the record is complete */
	return 0;
}

/* The wall-clock time at guest TSC 0, i.e. when the VM started. */
static int write_wall_clock(struct vcpu *v, uint64_t gpa)
{
	struct pvclock_wall_clock *w = gpa_to_hva(v->vm, gpa, sizeof(*w));
	uint64_t boot_ns = wallclock_ns() - vm_now_ns(v->vm);

	if (!w)
		return -1;
	w->sec = (uint32_t)(boot_ns / NS_PER_SEC);
	w->nsec = (uint32_t)(boot_ns % NS_PER_SEC);
	w->version = 2;
	return 0;
}

int pvclock_msr(struct vcpu *v, uint32_t msr, bool write, uint64_t *val)
{
	if (!write) {
		*val = msr == PVCLOCK_MSR_SYSTEM_TIME ? v->pvclock_system_time : v->pvclock_wall_clock;
		return 0;
	}
	if (msr == PVCLOCK_MSR_WALL_CLOCK) {
		v->pvclock_wall_clock = *val;
		return write_wall_clock(v, *val);
	}
	v->pvclock_system_time = *val;
	return (*val & 1) ? write_time_info(v, *val & ~1ull) : 0; /* bit 0: enable */
}
