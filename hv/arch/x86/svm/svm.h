/* SPDX-License-Identifier: MIT */
/* Shared between the SVM backend's files; nothing above the vendor line
 * includes this. */
#ifndef SVM_SVM_H
#define SVM_SVM_H

#include <petrel/cr.h>
#include <petrel/vm.h>
#include "vmcb.h"

/* VMCB clean bits, APM vol. 2 §15.15.3, table 15-9 */
#define VMCB_CLEAN_I (1u << 0)     /* intercepts, TSC offset, pause filter */
#define VMCB_CLEAN_IOPM (1u << 1)
#define VMCB_CLEAN_ASID (1u << 2)
#define VMCB_CLEAN_TPR (1u << 3)
#define VMCB_CLEAN_NP (1u << 4)
#define VMCB_CLEAN_CRX (1u << 5)
#define VMCB_CLEAN_DRX (1u << 6)
#define VMCB_CLEAN_DT (1u << 7)
#define VMCB_CLEAN_SEG (1u << 8)
#define VMCB_CLEAN_CR2 (1u << 9)
#define VMCB_CLEAN_ALL 0x3ffu


struct svm_vm {
	uint64_t ncr3, iopm, msrpm;
};

struct svm_vcpu {
	struct vmcb *vmcb;
	uint64_t vmcb_pa;
	uint64_t reinject; /* EXITINTINFO of the last exit, if valid: not an interrupt's */
	/* An external interrupt queued as a virtual interrupt (V_IRQ, svm.c
	 * queue_virq) that the guest has not taken yet, and its vector. */
	bool virq;
	uint8_t virq_vector;
	bool efer_lme;     /* the guest's EFER.LME (the VMCB has it only with paging on) */
	uint32_t asid_cpu, asid_gen; /* where and in which generation its ASID was given */
	/* NMI blocking, which SVM leaves to the hypervisor (APM §15.21.3):
	 * from the NMI's injection until the guest's IRET (intercepted
	 * meanwhile), and, the IRET not having run when it exits, until RIP
	 * has left it.  With another NMI waiting, the IRET is single-stepped
	 * (TF, #DB intercepted) so the NMI comes right after it, as on the
	 * CPU, not at some later exit (nmi_step; guest_tf: the guest was
	 * stepping itself, its #DB goes to it). */
	bool nmi_masked;
	bool iret_pending;
	bool nmi_step, guest_tf;
	uint64_t last_exit; /* the exit code and CPU of its last exit (svm_run's guard) */
	uint32_t last_cpu;
	uint64_t iret_rip;
};

/* #DB is intercepted while an IRET or a debugger's step is stepped, or
 * the debugger's breakpoints are in the debug registers. */
static inline void svm_db_intercept(struct vcpu *v)
{
	struct svm_vcpu *sv = v->arch;
	uint32_t old = sv->vmcb->ctl.intercept_exc;

	if (sv->nmi_step || v->dbg.tf_on || v->dbg.hw_on)
		sv->vmcb->ctl.intercept_exc |= 1u << 1;
	else
		sv->vmcb->ctl.intercept_exc &= ~(1u << 1);
	if (sv->vmcb->ctl.intercept_exc != old)
		sv->vmcb->ctl.clean &= ~VMCB_CLEAN_I;
}

extern struct svm_vm svm_vms[MAX_VMS];
extern struct svm_vcpu svm_vcpus[MAX_VMS][MAX_VCPUS_PER_VM];

static inline struct svm_vcpu *sv_of(struct vcpu *v)
{
	return v->arch;
}

static inline struct vmcb *vmcb_of(struct vcpu *v)
{
	return sv_of(v)->vmcb;
}

void svm_vmrun(uint64_t vmcb_pa, uint64_t *gprs, uint64_t host_vmcb_pa);
void svm_decode_exit(struct vcpu *v);
void svm_dump(struct vcpu *v);

#endif
