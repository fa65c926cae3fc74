/* SPDX-License-Identifier: MIT */
/*
 * The VMCB: AMD APM vol. 2, appendix B (layout of the control area, table
 * B-1, and the state save area, table B-2).  Offsets are checked at compile
 * time below so a typo cannot move a field.
 */
#ifndef SVM_VMCB_H
#define SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

struct vmcb_seg {
	uint16_t sel;
	uint16_t attr;
	uint32_t limit;
	uint64_t base;
} __attribute__((packed));

struct vmcb_control {
	uint32_t intercept_cr;    /* 0x000: bits 0-15 reads, 16-31 writes */
	uint32_t intercept_dr;    /* 0x004 */
	uint32_t intercept_exc;   /* 0x008: one bit per exception vector */
	uint32_t intercept_misc1; /* 0x00c: INTR ... SHUTDOWN */
	uint32_t intercept_misc2; /* 0x010: VMRUN ... */
	uint32_t intercept_misc3; /* 0x014 */
	uint8_t reserved0[0x3c - 0x18];
	uint16_t pause_filter_thresh; /* 0x03c */
	uint16_t pause_filter_count;  /* 0x03e */
	uint64_t iopm_base_pa;    /* 0x040 */
	uint64_t msrpm_base_pa;   /* 0x048 */
	uint64_t tsc_offset;      /* 0x050 */
	uint32_t asid;            /* 0x058 */
	uint8_t tlb_control;      /* 0x05c */
	uint8_t reserved1[3];
	uint32_t int_ctl;         /* 0x060: V_TPR, V_IRQ, V_GIF, prio, V_INTR_MASKING */
	uint32_t int_vector;      /* 0x064 */
	uint32_t int_state;       /* 0x068: bit 0 interrupt shadow */
	uint32_t reserved2;
	uint64_t exit_code;       /* 0x070 */
	uint64_t exit_info1;      /* 0x078 */
	uint64_t exit_info2;      /* 0x080 */
	uint64_t exit_int_info;   /* 0x088 */
	uint64_t nested_ctl;      /* 0x090: bit 0 NP_ENABLE */
	uint64_t avic_bar;        /* 0x098 */
	uint64_t ghcb_gpa;        /* 0x0a0 */
	uint64_t event_inj;       /* 0x0a8 */
	uint64_t n_cr3;           /* 0x0b0 */
	uint64_t virt_ext;        /* 0x0b8: LBR virtualization, VMLOAD/VMSAVE virtualization */
	uint32_t clean;           /* 0x0c0: VMCB clean bits */
	uint32_t reserved3;
	uint64_t next_rip;        /* 0x0c8: with nRIP save */
	uint8_t insn_len;         /* 0x0d0: with decode assists */
	uint8_t insn_bytes[15];   /* 0x0d1 */
	uint8_t reserved4[0x400 - 0x0e0];
} __attribute__((packed));

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs; /* 0x400 */
	struct vmcb_seg gdtr, ldtr, idtr, tr;   /* 0x460 */
	uint8_t reserved0[0x4cb - 0x4a0];
	uint8_t cpl;              /* 0x4cb */
	uint32_t reserved1;
	uint64_t efer;            /* 0x4d0 */
	uint8_t reserved2[0x548 - 0x4d8];
	uint64_t cr4;             /* 0x548 */
	uint64_t cr3;             /* 0x550 */
	uint64_t cr0;             /* 0x558 */
	uint64_t dr7;             /* 0x560 */
	uint64_t dr6;             /* 0x568 */
	uint64_t rflags;          /* 0x570 */
	uint64_t rip;             /* 0x578 */
	uint8_t reserved3[0x5d8 - 0x580];
	uint64_t rsp;             /* 0x5d8 */
	uint64_t s_cet, ssp, isst_addr; /* 0x5e0 */
	uint64_t rax;             /* 0x5f8 */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base; /* 0x600 */
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;    /* 0x628 */
	uint64_t cr2;             /* 0x640 */
	uint8_t reserved4[0x668 - 0x648];
	uint64_t g_pat;           /* 0x668 */
	uint64_t dbgctl;          /* 0x670 */
	uint64_t br_from, br_to, last_excp_from, last_excp_to; /* 0x678 */
	uint8_t reserved5[0x1000 - 0x698];
} __attribute__((packed));

struct vmcb {
	struct vmcb_control ctl;
	struct vmcb_save save;
} __attribute__((packed, aligned(4096)));

#define VMCB_CHECK(field, off) \
	_Static_assert(offsetof(struct vmcb, field) == (off), "VMCB offset of " #field)
VMCB_CHECK(ctl.intercept_misc1, 0x00c);
VMCB_CHECK(ctl.pause_filter_thresh, 0x03c);
VMCB_CHECK(ctl.iopm_base_pa, 0x040);
VMCB_CHECK(ctl.asid, 0x058);
VMCB_CHECK(ctl.tlb_control, 0x05c);
VMCB_CHECK(ctl.int_ctl, 0x060);
VMCB_CHECK(ctl.int_state, 0x068);
VMCB_CHECK(ctl.exit_code, 0x070);
VMCB_CHECK(ctl.exit_int_info, 0x088);
VMCB_CHECK(ctl.nested_ctl, 0x090);
VMCB_CHECK(ctl.event_inj, 0x0a8);
VMCB_CHECK(ctl.n_cr3, 0x0b0);
VMCB_CHECK(ctl.clean, 0x0c0);
VMCB_CHECK(ctl.next_rip, 0x0c8);
VMCB_CHECK(ctl.insn_bytes, 0x0d1);
VMCB_CHECK(save.es, 0x400);
VMCB_CHECK(save.cs, 0x410);
VMCB_CHECK(save.gdtr, 0x460);
VMCB_CHECK(save.idtr, 0x480);
VMCB_CHECK(save.tr, 0x490);
VMCB_CHECK(save.cpl, 0x4cb);
VMCB_CHECK(save.efer, 0x4d0);
VMCB_CHECK(save.cr4, 0x548);
VMCB_CHECK(save.cr0, 0x558);
VMCB_CHECK(save.rflags, 0x570);
VMCB_CHECK(save.rip, 0x578);
VMCB_CHECK(save.rsp, 0x5d8);
VMCB_CHECK(save.rax, 0x5f8);
VMCB_CHECK(save.star, 0x600);
VMCB_CHECK(save.kernel_gs_base, 0x620);
VMCB_CHECK(save.sysenter_cs, 0x628);
VMCB_CHECK(save.cr2, 0x640);
VMCB_CHECK(save.g_pat, 0x668);
VMCB_CHECK(save.last_excp_to, 0x690);
_Static_assert(sizeof(struct vmcb) == 4096, "the VMCB is one page");

/* Intercept bits, APM vol. 2 §15.9 and table B-1 */
#define INTERCEPT_INTR (1u << 0)
#define INTERCEPT_NMI (1u << 1)
#define INTERCEPT_SMI (1u << 2)
#define INTERCEPT_INIT (1u << 3)
#define INTERCEPT_VINTR (1u << 4)
#define INTERCEPT_RDPMC (1u << 15)
#define INTERCEPT_IRET (1u << 20)
#define INTERCEPT_INTN (1u << 21)
#define INTERCEPT_CPUID (1u << 18)
#define INTERCEPT_INVD (1u << 22)
#define INTERCEPT_PAUSE (1u << 23)
#define INTERCEPT_HLT (1u << 24)
#define INTERCEPT_INVLPGA (1u << 26)
#define INTERCEPT_IOIO (1u << 27)
#define INTERCEPT_MSR (1u << 28)
#define INTERCEPT_SHUTDOWN (1u << 31)
#define INTERCEPT_VMRUN (1u << 0)   /* misc2 */
#define INTERCEPT_VMMCALL (1u << 1)
#define INTERCEPT_VMLOAD (1u << 2)
#define INTERCEPT_VMSAVE (1u << 3)
#define INTERCEPT_STGI (1u << 4)
#define INTERCEPT_CLGI (1u << 5)
#define INTERCEPT_SKINIT (1u << 6)
#define INTERCEPT_WBINVD (1u << 9)
#define INTERCEPT_MONITOR (1u << 10)
#define INTERCEPT_MWAIT (1u << 11)
#define INTERCEPT_MWAIT_COND (1u << 12)
#define INTERCEPT_XSETBV (1u << 13)
#define INTERCEPT_CR_READ(n) (1u << (n))         /* intercept_cr */
#define INTERCEPT_CR_WRITE(n) (1u << (16 + (n))) /* intercept_cr */

/* int_ctl, APM vol. 2 §15.21.1 */
#define V_IRQ (1u << 8)
#define V_INTR_PRIO_SHIFT 16
#define V_IGN_TPR (1u << 20)
#define V_INTR_MASKING (1u << 24)
/* A virtual interrupt pending at the highest priority, the TPR ignored:
 * Petrel's, for a window or an interrupt (svm.c) */
#define V_IRQ_ANY_TPR (V_IRQ | V_IGN_TPR | (0xfu << V_INTR_PRIO_SHIFT))

/* EVENTINJ / EXITINTINFO, APM vol. 2 §15.20 */
#define EVENT_VALID (1ull << 31)
#define EVENT_ERR_VALID (1ull << 11)
#define EVENT_TYPE_SHIFT 8

/* Exit codes, APM vol. 2 appendix C */
#define VMEXIT_CR8_READ 0x08
#define VMEXIT_CR0_WRITE 0x10
#define VMEXIT_CR4_WRITE 0x14
#define VMEXIT_CR8_WRITE 0x18
#define VMEXIT_EXCP_BASE 0x40
#define VMEXIT_INTR 0x60
#define VMEXIT_NMI 0x61
#define VMEXIT_SMI 0x62
#define VMEXIT_INIT 0x63
#define VMEXIT_VINTR 0x64
#define VMEXIT_IRET 0x74
#define VMEXIT_SWINT 0x75
#define VMEXIT_RDPMC 0x6f
#define VMEXIT_CPUID 0x72
#define VMEXIT_INVD 0x76
#define VMEXIT_PAUSE 0x77
#define VMEXIT_HLT 0x78
#define VMEXIT_INVLPGA 0x7a
#define VMEXIT_IOIO 0x7b
#define VMEXIT_MSR 0x7c
#define VMEXIT_SHUTDOWN 0x7f
#define VMEXIT_VMRUN 0x80
#define VMEXIT_VMMCALL 0x81
#define VMEXIT_VMLOAD 0x82
#define VMEXIT_VMSAVE 0x83
#define VMEXIT_STGI 0x84
#define VMEXIT_CLGI 0x85
#define VMEXIT_SKINIT 0x86
#define VMEXIT_WBINVD 0x89
#define VMEXIT_MONITOR 0x8a
#define VMEXIT_MWAIT 0x8b
#define VMEXIT_MWAIT_COND 0x8c
#define VMEXIT_XSETBV 0x8d
#define VMEXIT_NPF 0x400
#define VMEXIT_INVALID ((uint64_t)-1)

#define EFER_SVME (1ull << 12)

#endif
