/* SPDX-License-Identifier: MIT */
/* Shared between the VMX backend's files; nothing above the vendor line
 * includes this. */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include <petrel/percpu.h>
#include <petrel/vm.h>
#include "vmcs.h"

#define CR0_PE (1ull << 0)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_VMXE (1ull << 13)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* What this CPU's VMX offers, and the controls Petrel runs with; read
 * once on the BSP (all CPUs of a machine report the same). */
struct vmx_caps {
	uint32_t revision;
	bool true_ctls, ins_outs_info, vpid, ept_1g, invept_single;
	bool mtf; /* the monitor trap flag may be set (a debugger's single step) */
	uint8_t preempt_shift; /* the preemption timer counts TSC >> this (IA32_VMX_MISC[4:0]) */
	uint32_t pin, cpu, sec, exit, entry; /* entry without IA-32e mode */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t cr0_mask, cr4_mask; /* bits the host owns: fixed in VMX operation */
};

struct vmx_vm {
	uint64_t eptp, ept_root;
	uint64_t io_bitmap;  /* 2 pages: A (ports 0-0x7fff), then B */
	uint64_t msr_bitmap; /* 1 page */
};

struct vmx_vcpu {
	uint64_t vmcs_pa;
	int32_t cpu;          /* the CPU where the VMCS is active, or -1 */
	bool stale;           /* reset from another CPU: cpu clears and rewrites the VMCS first */
	bool set_up;          /* controls and host state written on that CPU */
	bool launched;        /* VMLAUNCH succeeded since the last VMCLEAR */
	bool flush;           /* INVVPID before the next entry */
	bool msrs_fresh;      /* syscall MSRs must be (re)loaded */
	bool ctls_dirty;      /* cpu_ctls changed since the VMCS got them */
	uint64_t rip_at_exit; /* guest RIP in the VMCS since the last exit */
	uint32_t cpu_ctls, entry_ctls; /* what the VMCS holds */
	uint64_t cr4_mask;    /* CR4 bits the host owns for this guest */
	uint32_t intr_state;  /* guest interruptibility at the last exit */
	uint32_t exit_reason; /* full, with bit 31 */
	int entry_error;      /* VMLAUNCH/VMRESUME failed: 1 VMfailValid, 2 VMfailInvalid */
	uint32_t insn_error;  /* the VM-instruction error with VMfailValid */
	/* An event whose delivery the last exit interrupted (IDT-vectoring). */
	uint32_t reinject, reinject_err, reinject_len;
	/* State VMX does not switch: the guest's value lives here while
	 * another vCPU (or nothing) uses the CPU's registers. */
	uint64_t cr2;
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
};

extern struct vmx_caps vmx_caps;
extern struct vmx_vm vmx_vms[MAX_VMS];
extern struct vmx_vcpu vmx_vcpus[MAX_VMS][MAX_VCPUS_PER_VM];

/* vmx_entry.asm: 0 after a VM exit, 1 VMfailValid, 2 VMfailInvalid. */
int vmx_enter(uint64_t *gprs, uint32_t launched);
void vmx_exit_stub(void);

void vmx_decode_exit(struct vcpu *v);
void vmx_dump(struct vcpu *v);
const char *vmx_insn_error_name(uint32_t err);

#endif
