/* SPDX-License-Identifier: MIT */
/*
 * What a guest sees from CPUID: the host's answers, minus what Petrel does
 * not give guests (VMX, SVM, MONITOR/MWAIT, x2APIC for now; machine check
 * and the APIC itself
 * to VMs without one; TSC-deadline unless the VM has an emulated local
 * APIC), plus the hypervisor bit and Petrel's own leaves at
 * 0x40000000 (the range CPUs leave to hypervisors, SDM vol. 2A CPUID):
 *   0x40000000: EAX = the highest hypervisor leaf, EBX ECX EDX = "PetrelHV\0\0\0\0"
 *   0x40000001: EAX = Petrel's version, major << 16 | minor << 8 | patch
 *   0x40000010: EAX = the TSC's rate in kHz, EBX = the local APIC timer's
 *               input clock in kHz (the "timing information" leaf other
 *               hypervisors give; guests need not calibrate)
 * and, for Linux guests, the KVM clock leaves at 0x40000100 (pvclock.c).
 */
#include <arch/cpu.h>
#include <arch/xstate.h>
#include <petrel/dev/apic.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/vm.h>

#include "core.h"

#define LEAF1_ECX_VMX (1u << 5)
#define LEAF1_ECX_MONITOR (1u << 3)
#define LEAF1_ECX_X2APIC (1u << 21)
#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_ECX_OSXSAVE (1u << 27)
#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define LEAF1_EDX_APIC (1u << 9)
#define LEAF1_EDX_HTT (1u << 28)
#define EXT1_EDX_APIC (1u << 9)
#define EXT1_ECX_SVM (1u << 2)
/* Debug store, thermal and power management, performance monitoring:
 * Petrel gives guests none of their MSRs (msr.c). */
#define LEAF1_ECX_NO_PM ((1u << 2) | (1u << 4) | (1u << 7) | (1u << 8) | (1u << 15)) /* DTES64 DS-CPL EST TM2 PDCM */
#define LEAF1_EDX_NO_PM ((1u << 21) | (1u << 22) | (1u << 29) | (1u << 31))          /* DS ACPI TM PBE */
#define LEAF6_EAX_ARAT (1u << 2)
#define LEAFD1_EAX_XSAVES (1u << 3) /* no IA32_XSS MSR (msr.c) */
#define LEAFD1_EAX_XSAVEC (1u << 1) /* hidden where it is broken (xstate.c) */
#define LEAF7_EBX_TSC_ADJUST (1u << 1) /* no IA32_TSC_ADJUST MSR (msr.c) */
/* CET: its state lives in MSRs and supervisor XSAVE components Petrel
 * does not give.  Protection keys (PKU, PKS) are the guest's: Petrel's
 * own accesses for it apply PKRU and IA32_PKRS too (gmem.c). */
#define LEAF7_ECX_HIDDEN (1u << 7) /* CET_SS */
#define LEAF7_ECX_OSPKE (1u << 4)
/* SGX and WAITPKG: their instructions exit (ENCLS) or are off (UMWAIT,
 * TPAUSE) in Petrel's guests, #UD either way; SGX_LC goes with SGX. */
#define LEAF7_EBX_HIDDEN (1u << 2)                            /* SGX */
#define LEAF7_ECX_HIDDEN2 ((1u << 5) | (1u << 30))            /* WAITPKG SGX_LC */
#define LEAF7_EDX_HIDDEN (1u << 20)                                        /* CET_IBT */
#define HV_LEAF_MAX 0x40000010u
#define PETREL_VERSION_NUM 0x000100 /* 0.1.0 */

/* The size of a standard-format XSAVE area for the states in mask: the
 * end of the last one, from each state's offset and size in the sub-leaves
 * of leaf 0xd (SDM vol. 1 §13.4.3), never less than the legacy area and
 * header; or, compacted (XSAVEC), the states one after the other.
 * Computed rather than taken from the host's sub-leaf 0, which answers for
 * the XCR0 in the CPU at the time; and Bochs 2.7 answers there with the
 * compacted size. */
static uint32_t xsave_size(uint64_t mask, bool compacted)
{
	uint32_t size = 512 + 64;

	for (uint32_t i = 2; i < 63; i++) {
		if (!(mask & (1ull << i)))
			continue;
		struct cpuid_regs c = cpuid(0xd, i);
		if (compacted) /* packed in order, some 64-byte aligned (§13.4.3) */
			size = ((c.ecx & 2) ? (uint32_t)ALIGN_UP(size, 64) : size) + c.eax;
		else if (c.ebx + c.eax > size)
			size = c.ebx + c.eax;
	}
	return size;
}

/* --- topology: one package, one core per vCPU, one thread per core ------- */

static uint32_t apic_id_bits(uint32_t n)
{
	uint32_t bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static uint32_t pow2_at_least(uint32_t n)
{
	return 1u << apic_id_bits(n);
}

/* Leaves 0xb and 0x1f (SDM vol. 3A §10.9.2): level 0 SMT with one thread,
 * level 1 core with the VM's vCPUs; then no more levels.  EDX: the
 * vCPU's x2APIC ID at every subleaf. */
static struct cpuid_regs topology_level(struct vcpu *v, uint32_t sub)
{
	struct cpuid_regs r = { .ecx = sub & 0xff, .edx = v->id };

	if (sub == 0) {
		r.ebx = 1;
		r.ecx |= 1u << 8;
	} else if (sub == 1) {
		r.eax = apic_id_bits(v->vm->nr_vcpus);
		r.ebx = v->vm->nr_vcpus;
		r.ecx |= 2u << 8;
	}
	return r;
}

struct cpuid_regs guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r = { 0 };

	if (pvclock_cpuid(v, leaf, &r))
		return r;
	if (leaf >= 0x40000000u && leaf <= 0x400000ffu) {
		if (leaf == 0x40000000u) {
			r.eax = HV_LEAF_MAX;
			memcpy(&r.ebx, "Petr", 4);
			memcpy(&r.ecx, "elHV", 4);
		} else if (leaf == 0x40000001u) {
			r.eax = PETREL_VERSION_NUM;
		} else if (leaf == 0x40000010u) {
			r.eax = (uint32_t)(tsc_hz / 1000);
			r.ebx = (uint32_t)(LAPIC_BUS_HZ / 1000);
		}
		return r;
	}
	r = cpuid(leaf, sub);
	switch (leaf) {
	case 1:
		r.ecx &= ~(LEAF1_ECX_VMX | LEAF1_ECX_MONITOR | LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE);
		r.ecx |= LEAF1_ECX_HYPERVISOR;
		r.ecx &= ~LEAF1_ECX_NO_PM;
		r.edx &= ~LEAF1_EDX_NO_PM;
		/* OSXSAVE mirrors CR4.OSXSAVE: the guest's, not the host's. */
		vcpu_need(v, REG_CR);
		r.ecx &= ~LEAF1_ECX_OSXSAVE;
		if (v->regs.cr4 & CR4_OSXSAVE)
			r.ecx |= LEAF1_ECX_OSXSAVE;
		/* A vCPU with a local APIC (the board's, unless a module left
		 * it out) gets its TSC-deadline timer; the APIC bit says
		 * whether IA32_APIC_BASE has it enabled (SDM vol. 3A §11.4.3). */
		if (v->apic)
			r.ecx |= LEAF1_ECX_TSC_DEADLINE;
		if (!v->apic || !v->apic_ops->enabled(v->apic))
			r.edx &= ~LEAF1_EDX_APIC;
		/* initial APIC ID; addressable IDs in the package; HTT with more than one */
		r.ebx = (r.ebx & 0x0000ffffu) | (v->id << 24) | (pow2_at_least(v->vm->nr_vcpus) << 16);
		r.edx = v->vm->nr_vcpus > 1 ? r.edx | LEAF1_EDX_HTT : r.edx & ~LEAF1_EDX_HTT;
		break;
	case 4: /* deterministic cache parameters: cores per package, sharing */
		if (r.eax & 0x1f) {
			uint32_t n = pow2_at_least(v->vm->nr_vcpus) - 1;
			uint32_t shared = ((r.eax >> 5) & 7) >= 3 ? n : 0; /* L3 for all, L1/L2 per core */
			r.eax = (r.eax & 0x3fffu) | (shared << 14) | (n << 26);
		}
		break;
	case 0xb:  /* x2APIC topology: one thread per core, nr_vcpus cores */
	case 0x1f:
		if (cpuid(0, 0).eax >= leaf)
			r = topology_level(v, sub);
		break;
	case 0x80000008u: /* AMD: cores per package and the APIC ID bits for them */
		r.ecx = (r.ecx & ~0xf0ffu) | (v->vm->nr_vcpus - 1) | (apic_id_bits(v->vm->nr_vcpus) << 12);
		break;
	case 0x8000001eu: /* AMD extended APIC ID, compute unit (one thread each), node 0 */
		if (cpuid(0x80000000u, 0).eax >= leaf)
			r = (struct cpuid_regs){ .eax = v->id, .ebx = v->id & 0xff, .ecx = 0 };
		break;
	case 0x80000001u:
		r.ecx &= ~EXT1_ECX_SVM;
		if (!v->apic || !v->apic_ops->enabled(v->apic))
			r.edx &= ~EXT1_EDX_APIC;
		break;
	case 6: /* thermal and power: only "the APIC timer always runs" */
		r = (struct cpuid_regs){ .eax = r.eax & LEAF6_EAX_ARAT };
		break;
	case 7:
		if (sub == 0) {
			r.ebx &= ~(LEAF7_EBX_TSC_ADJUST | LEAF7_EBX_HIDDEN);
			r.ecx &= ~(LEAF7_ECX_HIDDEN | LEAF7_ECX_HIDDEN2 | LEAF7_ECX_OSPKE);
			r.edx &= ~LEAF7_EDX_HIDDEN;
			/* OSPKE mirrors CR4.PKE: the guest's, as OSXSAVE does */
			vcpu_need(v, REG_CR);
			if (v->regs.cr4 & CR4_PKE)
				r.ecx |= LEAF7_ECX_OSPKE;
		}
		break;
	case 0xd:
		if (sub == 0) { /* EBX: for the guest's XCR0; ECX: for all it may enable */
			r.ebx = xsave_size(v->xcr0, false);
			r.ecx = xsave_size(r.eax | ((uint64_t)r.edx << 32), false);
		} else if (sub == 1) { /* EBX: XSAVEC's size for XCR0 (IA32_XSS is 0) */
			r.eax &= ~LEAFD1_EAX_XSAVES;
			if (xstate_xsavec_broken())
				r.eax &= ~LEAFD1_EAX_XSAVEC;
			r.ebx = xsave_size(v->xcr0, true);
		}
		break;
	case 0xa:  /* architectural performance monitoring: none */
	case 0x12: /* SGX: none */
		r = (struct cpuid_regs){ 0 };
		break;
	case 0x8000000au: /* SVM features: none */
		r = (struct cpuid_regs){ 0 };
		break;
	default:
		break;
	}
	return r;
}

bool vcpu_x2apic_offered(struct vcpu *v)
{
	return guest_cpuid(v, 1, 0).ecx & LEAF1_ECX_X2APIC;
}
