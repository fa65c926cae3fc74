/* SPDX-License-Identifier: MIT */
#ifndef PETREL_ARCH_VIRT_H
#define PETREL_ARCH_VIRT_H

#include <stdbool.h>
#include <stdint.h>

/* Virtualization features (hv/arch/x86/virt_detect.c). */
enum virt_vendor { VIRT_NONE = 0, VIRT_VMX, VIRT_SVM };

struct virt_features {
	enum virt_vendor vendor;
	bool disabled_by_firmware;
	char why_not[96]; /* set when vendor == VIRT_NONE or disabled */
	/* Intel VMX (SDM vol. 3D appendix A) */
	bool vmx_locked, vmx_ept, vmx_unrestricted, vmx_vpid;
	/* AMD SVM (APM vol. 2 §15.4, CPUID 0x8000000A) */
	uint32_t svm_rev, svm_asids;
	bool svm_npt, svm_nrips, svm_vmcb_clean, svm_decode_assists, svm_flush_by_asid, svm_vgif;
	bool svm_pause_filter;
};

#endif
