/* SPDX-License-Identifier: MIT */
/*
 * Which hardware virtualization this CPU offers, and with what.
 * Intel: CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL, the VMX capability MSRs
 * (SDM vol. 3C §24.6.2, vol. 3D appendix A.3.3, A.10).
 * AMD: CPUID 0x80000001:ECX.SVM, VM_CR.SVMDIS, CPUID 0x8000000A
 * (APM vol. 2 §15.4, §15.30.1).
 */
#include <arch/cpu.h>
#include <petrel/arch.h>
#include <petrel/lib.h>

#define FC_LOCK (1ull << 0)
#define FC_VMX_OUTSIDE_SMX (1ull << 2)
#define PROCBASED_SECONDARY (1ull << 31)
#define SECONDARY_EPT (1ull << 1)
#define SECONDARY_VPID (1ull << 5)
#define SECONDARY_UNRESTRICTED (1ull << 7)
#define VM_CR_SVMDIS (1ull << 4)

static bool vendor_is(const char *v)
{
	struct cpuid_regs r = cpuid(0, 0);
	char s[13];
	memcpy(s, &r.ebx, 4);
	memcpy(s + 4, &r.edx, 4);
	memcpy(s + 8, &r.ecx, 4);
	s[12] = '\0';
	return strcmp(s, v) == 0;
}

static void detect_vmx(struct virt_features *vf)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL), proc, proc2;

	vf->vendor = VIRT_VMX;
	vf->vmx_locked = fc & FC_LOCK;
	if ((fc & FC_LOCK) && !(fc & FC_VMX_OUTSIDE_SMX)) {
		vf->disabled_by_firmware = true;
		str_copy(vf->why_not, "VMX is disabled by firmware (IA32_FEATURE_CONTROL locked)",
			 sizeof(vf->why_not));
		return;
	}
	/* Allowed-1 settings are the high 32 bits of each capability MSR. */
	proc = rdmsr(MSR_IA32_VMX_PROCBASED) >> 32;
	if (!(proc & PROCBASED_SECONDARY))
		return;
	proc2 = rdmsr(MSR_IA32_VMX_PROCBASED2) >> 32;
	vf->vmx_ept = proc2 & SECONDARY_EPT;
	vf->vmx_vpid = proc2 & SECONDARY_VPID;
	vf->vmx_unrestricted = proc2 & SECONDARY_UNRESTRICTED;
}

static void detect_svm(struct virt_features *vf)
{
	struct cpuid_regs r;

	vf->vendor = VIRT_SVM;
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		vf->disabled_by_firmware = true;
		str_copy(vf->why_not, "SVM is disabled by firmware (VM_CR.SVMDIS set)",
			 sizeof(vf->why_not));
		return;
	}
	r = cpuid(0x8000000a, 0);
	vf->svm_rev = r.eax & 0xff;
	vf->svm_asids = r.ebx;
	vf->svm_npt = r.edx & (1u << 0);
	vf->svm_nrips = r.edx & (1u << 3);
	vf->svm_vmcb_clean = r.edx & (1u << 5);
	vf->svm_flush_by_asid = r.edx & (1u << 6);
	vf->svm_decode_assists = r.edx & (1u << 7);
	vf->svm_vgif = r.edx & (1u << 16);
	vf->svm_pause_filter = r.edx & (1u << 10);
}

void virt_detect(struct virt_features *vf)
{
	memset(vf, 0, sizeof(*vf));
	if ((cpuid(1, 0).ecx & (1u << 5)) && vendor_is("GenuineIntel"))
		detect_vmx(vf);
	else if (cpuid(0x80000000, 0).eax >= 0x8000000a && (cpuid(0x80000001, 0).ecx & (1u << 2)))
		detect_svm(vf);
	else
		str_copy(vf->why_not, "this CPU has neither Intel VMX nor AMD SVM", sizeof(vf->why_not));
}

void virt_describe(const struct virt_features *vf, char *buf, unsigned len)
{
	if (vf->vendor == VIRT_VMX)
		pt_snprintf(buf, len, "vmx ept=%d unrestricted=%d vpid=%d feature-control=%s",
			    vf->vmx_ept, vf->vmx_unrestricted, vf->vmx_vpid,
			    vf->vmx_locked ? "locked" : "unlocked");
	else if (vf->vendor == VIRT_SVM)
		pt_snprintf(buf, len,
			    "svm npt=%d nrips=%d asids=%u vmcb-clean=%d decode-assists=%d flush-by-asid=%d vgif=%d "
			    "pause-filter=%d",
			    vf->svm_npt, vf->svm_nrips, vf->svm_asids, vf->svm_vmcb_clean,
			    vf->svm_decode_assists, vf->svm_flush_by_asid, vf->svm_vgif, vf->svm_pause_filter);
	else
		pt_snprintf(buf, len, "none");
}
