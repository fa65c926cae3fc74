/* SPDX-License-Identifier: MIT */
/*
 * The VMCS: field encodings (Intel SDM vol. 3D appendix B) and typed
 * accessors (../shared/STYLE.md §6).
 *
 * Bits 14:13 of an encoding give the field's width (SDM vol. 3C §25.11.2,
 * table 25-21): 0 = 16-bit, 1 = 64-bit, 2 = 32-bit, 3 = natural width.
 * vmcs_read16/32/64/nat and vmcs_write16/32/64/nat check that width at
 * compile time, so `vmcs_write16(GUEST_CS_LIMIT, ...)` does not build.
 * The encodings must therefore be integer constant expressions.
 *
 * A failed VMREAD/VMWRITE (a field this CPU lacks, no current VMCS) is
 * logged with the field and the VM-instruction error: it is always a
 * Petrel bug.
 */
#ifndef VMX_VMCS_H
#define VMX_VMCS_H

#include <stdint.h>

#define VMCS_W16 0
#define VMCS_W64 1
#define VMCS_W32 2
#define VMCS_WNAT 3

enum vmcs_field {
	/* 16-bit control, guest, host (B.1) */
	VPID = 0x0000,
	GUEST_ES_SELECTOR = 0x0800, /* ES CS SS DS FS GS LDTR TR: +2 each */
	GUEST_CS_SELECTOR = 0x0802,
	GUEST_SS_SELECTOR = 0x0804,
	GUEST_TR_SELECTOR = 0x080e,
	HOST_ES_SELECTOR = 0x0c00,
	HOST_CS_SELECTOR = 0x0c02,
	HOST_SS_SELECTOR = 0x0c04,
	HOST_DS_SELECTOR = 0x0c06,
	HOST_FS_SELECTOR = 0x0c08,
	HOST_GS_SELECTOR = 0x0c0a,
	HOST_TR_SELECTOR = 0x0c0c,

	/* 64-bit (B.2) */
	IO_BITMAP_A = 0x2000,
	IO_BITMAP_B = 0x2002,
	MSR_BITMAP = 0x2004,
	VM_EXIT_MSR_STORE_ADDR = 0x2006,
	VM_EXIT_MSR_LOAD_ADDR = 0x2008,
	VM_ENTRY_MSR_LOAD_ADDR = 0x200a,
	TSC_OFFSET = 0x2010,
	EPT_POINTER = 0x201a,
	GUEST_PHYSICAL_ADDRESS = 0x2400,
	VMCS_LINK_POINTER = 0x2800,
	GUEST_IA32_DEBUGCTL = 0x2802,
	GUEST_IA32_PAT = 0x2804,
	GUEST_IA32_EFER = 0x2806,
	GUEST_PDPTE0 = 0x280a, /* PDPTE0-3: +2 each */
	HOST_IA32_PAT = 0x2c00,
	HOST_IA32_EFER = 0x2c02,

	/* 32-bit (B.3) */
	PIN_BASED_VM_EXEC_CONTROL = 0x4000,
	CPU_BASED_VM_EXEC_CONTROL = 0x4002,
	EXCEPTION_BITMAP = 0x4004,
	PAGE_FAULT_ERROR_CODE_MASK = 0x4006,
	PAGE_FAULT_ERROR_CODE_MATCH = 0x4008,
	CR3_TARGET_COUNT = 0x400a,
	VM_EXIT_CONTROLS = 0x400c,
	VM_EXIT_MSR_STORE_COUNT = 0x400e,
	VM_EXIT_MSR_LOAD_COUNT = 0x4010,
	VM_ENTRY_CONTROLS = 0x4012,
	VM_ENTRY_MSR_LOAD_COUNT = 0x4014,
	VM_ENTRY_INTR_INFO = 0x4016,
	VM_ENTRY_EXCEPTION_ERROR_CODE = 0x4018,
	VM_ENTRY_INSTRUCTION_LEN = 0x401a,
	SECONDARY_VM_EXEC_CONTROL = 0x401e,
	VM_INSTRUCTION_ERROR = 0x4400,
	VM_EXIT_REASON = 0x4402,
	VM_EXIT_INTR_INFO = 0x4404,
	VM_EXIT_INTR_ERROR_CODE = 0x4406,
	IDT_VECTORING_INFO = 0x4408,
	IDT_VECTORING_ERROR_CODE = 0x440a,
	VM_EXIT_INSTRUCTION_LEN = 0x440c,
	VM_EXIT_INSTRUCTION_INFO = 0x440e,
	GUEST_ES_LIMIT = 0x4800, /* ES CS SS DS FS GS LDTR TR: +2 each */
	GUEST_GDTR_LIMIT = 0x4810,
	GUEST_IDTR_LIMIT = 0x4812,
	GUEST_ES_AR_BYTES = 0x4814, /* ES CS SS DS FS GS LDTR TR: +2 each */
	GUEST_CS_AR_BYTES = 0x4816,
	GUEST_SS_AR_BYTES = 0x4818,
	GUEST_TR_AR_BYTES = 0x4822,
	GUEST_INTERRUPTIBILITY_INFO = 0x4824,
	GUEST_ACTIVITY_STATE = 0x4826,
	GUEST_SYSENTER_CS = 0x482a,
	VMX_PREEMPTION_TIMER_VALUE = 0x482e,
	PLE_GAP = 0x4020,
	PLE_WINDOW = 0x4022,
	HOST_IA32_SYSENTER_CS = 0x4c00,

	/* natural width (B.4) */
	CR0_GUEST_HOST_MASK = 0x6000,
	CR4_GUEST_HOST_MASK = 0x6002,
	CR0_READ_SHADOW = 0x6004,
	CR4_READ_SHADOW = 0x6006,
	EXIT_QUALIFICATION = 0x6400,
	GUEST_LINEAR_ADDRESS = 0x640a,
	GUEST_CR0 = 0x6800,
	GUEST_CR3 = 0x6802,
	GUEST_CR4 = 0x6804,
	GUEST_ES_BASE = 0x6806, /* ES CS SS DS FS GS LDTR TR: +2 each */
	GUEST_GDTR_BASE = 0x6816,
	GUEST_IDTR_BASE = 0x6818,
	GUEST_DR7 = 0x681a,
	GUEST_RSP = 0x681c,
	GUEST_RIP = 0x681e,
	GUEST_RFLAGS = 0x6820,
	GUEST_PENDING_DBG_EXCEPTIONS = 0x6822,
	GUEST_SYSENTER_ESP = 0x6824,
	GUEST_SYSENTER_EIP = 0x6826,
	HOST_CR0 = 0x6c00,
	HOST_CR3 = 0x6c02,
	HOST_CR4 = 0x6c04,
	HOST_FS_BASE = 0x6c06,
	HOST_GS_BASE = 0x6c08,
	HOST_TR_BASE = 0x6c0a,
	HOST_GDTR_BASE = 0x6c0c,
	HOST_IDTR_BASE = 0x6c0e,
	HOST_IA32_SYSENTER_ESP = 0x6c10,
	HOST_IA32_SYSENTER_EIP = 0x6c12,
	HOST_RSP = 0x6c14,
	HOST_RIP = 0x6c16,
};

/* A compile-time check usable inside an expression (C11 allows a static
 * assertion as a member declaration). */
#define VMCS_WIDTH_IS(f, w)                                                                 \
	((void)sizeof(struct {                                                              \
		_Static_assert((((f) >> 13) & 3) == (w), "VMCS field " #f " has another width"); \
		char c_;                                                                    \
	}))

uint64_t vmcs_read_raw(uint32_t field);
void vmcs_write_raw(uint32_t field, uint64_t val);

#define vmcs_read16(f) (VMCS_WIDTH_IS(f, VMCS_W16), (uint16_t)vmcs_read_raw(f))
#define vmcs_read32(f) (VMCS_WIDTH_IS(f, VMCS_W32), (uint32_t)vmcs_read_raw(f))
#define vmcs_read64(f) (VMCS_WIDTH_IS(f, VMCS_W64), (uint64_t)vmcs_read_raw(f))
#define vmcs_readnat(f) (VMCS_WIDTH_IS(f, VMCS_WNAT), (uint64_t)vmcs_read_raw(f))
#define vmcs_write16(f, v) (VMCS_WIDTH_IS(f, VMCS_W16), vmcs_write_raw(f, (uint16_t)(v)))
#define vmcs_write32(f, v) (VMCS_WIDTH_IS(f, VMCS_W32), vmcs_write_raw(f, (uint32_t)(v)))
#define vmcs_write64(f, v) (VMCS_WIDTH_IS(f, VMCS_W64), vmcs_write_raw(f, (uint64_t)(v)))
#define vmcs_writenat(f, v) (VMCS_WIDTH_IS(f, VMCS_WNAT), vmcs_write_raw(f, (uint64_t)(v)))

/* The eight guest segment registers have their fields at base + 2 * i,
 * i in enum seg_index order (ES CS SS DS FS GS LDTR TR); the width check
 * is on the base, the index cannot change bits 14:13. */
#define vmcs_seg(f, i) ((uint32_t)(f) + 2u * ((uint32_t)(i) & 7u))
#define vmcs_seg_read16(f, i) (VMCS_WIDTH_IS(f, VMCS_W16), (uint16_t)vmcs_read_raw(vmcs_seg(f, i)))
#define vmcs_seg_read32(f, i) (VMCS_WIDTH_IS(f, VMCS_W32), (uint32_t)vmcs_read_raw(vmcs_seg(f, i)))
#define vmcs_seg_readnat(f, i) (VMCS_WIDTH_IS(f, VMCS_WNAT), vmcs_read_raw(vmcs_seg(f, i)))
#define vmcs_seg_write16(f, i, v) (VMCS_WIDTH_IS(f, VMCS_W16), vmcs_write_raw(vmcs_seg(f, i), (uint16_t)(v)))
#define vmcs_seg_write32(f, i, v) (VMCS_WIDTH_IS(f, VMCS_W32), vmcs_write_raw(vmcs_seg(f, i), (uint32_t)(v)))
#define vmcs_seg_writenat(f, i, v) (VMCS_WIDTH_IS(f, VMCS_WNAT), vmcs_write_raw(vmcs_seg(f, i), (uint64_t)(v)))

/* Pin-based controls (SDM vol. 3C §25.6.1, table 25-5) */
#define PIN_EXT_INTR_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_PREEMPTION_TIMER (1u << 6)

/* Primary processor-based controls (§25.6.2, table 25-6) */
#define CPU_INTR_WINDOW_EXITING (1u << 2)
#define CPU_USE_TSC_OFFSETTING (1u << 3)
#define CPU_HLT_EXITING (1u << 7)
#define CPU_MWAIT_EXITING (1u << 10)
#define CPU_RDPMC_EXITING (1u << 11)
#define CPU_CR3_LOAD_EXITING (1u << 15)
#define CPU_CR3_STORE_EXITING (1u << 16)
#define CPU_CR8_LOAD_EXITING (1u << 19)
#define CPU_CR8_STORE_EXITING (1u << 20)
#define CPU_MONITOR_TRAP_FLAG (1u << 27)
#define CPU_UNCOND_IO_EXITING (1u << 24)
#define CPU_USE_IO_BITMAPS (1u << 25)
#define CPU_USE_MSR_BITMAPS (1u << 28)
#define CPU_MONITOR_EXITING (1u << 29)
#define CPU_ACTIVATE_SECONDARY (1u << 31)

/* Secondary processor-based controls (§25.6.2, table 25-7) */
#define SEC_ENABLE_EPT (1u << 1)
#define SEC_ENABLE_RDTSCP (1u << 3)
#define SEC_ENABLE_VPID (1u << 5)
#define SEC_WBINVD_EXITING (1u << 6)
#define SEC_UNRESTRICTED_GUEST (1u << 7)
#define SEC_PAUSE_LOOP_EXITING (1u << 10)
#define SEC_ENABLE_INVPCID (1u << 12)
#define SEC_ENCLS_EXITING (1u << 15)
#define SEC_ENABLE_XSAVES (1u << 20)

/* VM-exit controls (§25.7.1, table 25-13) */
#define EXITCTL_SAVE_DEBUG_CONTROLS (1u << 2)
#define EXITCTL_HOST_ADDR_SPACE_SIZE (1u << 9)
#define EXITCTL_ACK_INTR_ON_EXIT (1u << 15)
#define EXITCTL_SAVE_IA32_PAT (1u << 18)
#define EXITCTL_LOAD_IA32_PAT (1u << 19)
#define EXITCTL_SAVE_IA32_EFER (1u << 20)
#define EXITCTL_LOAD_IA32_EFER (1u << 21)

/* VM-entry controls (§25.8.1, table 25-15) */
#define ENTRYCTL_LOAD_DEBUG_CONTROLS (1u << 2)
#define ENTRYCTL_IA32E_MODE (1u << 9)
#define ENTRYCTL_LOAD_IA32_PAT (1u << 14)
#define ENTRYCTL_LOAD_IA32_EFER (1u << 15)

/* Interruption information: VM-entry (§25.8.3), VM-exit and IDT-vectoring
 * (§25.9.2-3) share this layout. */
#define INTR_INFO_VECTOR_MASK 0xffu
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_INFO_TYPE_MASK (7u << 8)
#define INTR_INFO_DELIVER_CODE (1u << 11)
#define INTR_INFO_VALID (1u << 31)
#define INTR_TYPE_EXT_INTR 0
#define INTR_TYPE_NMI 2
#define INTR_TYPE_HW_EXCEPTION 3
#define INTR_TYPE_SOFT_INTR 4
#define INTR_TYPE_PRIV_SW_EXCEPTION 5
#define INTR_TYPE_SOFT_EXCEPTION 6

/* Guest interruptibility state (§25.4.2, table 25-3) */
#define GUEST_INTR_STI (1u << 0)
#define GUEST_INTR_MOV_SS (1u << 1)
#define GUEST_INTR_NMI (1u << 3)

/* Segment access rights in the VMCS (§25.4.1, table 25-2): the
 * descriptor's attribute bits, with AVL L D/B G at 12-15 and "unusable" at
 * 16.  The neutral struct segment packs the same bits at 8-11. */
#define AR_UNUSABLE (1u << 16)
#define AR_P (1u << 7)

/* Basic exit reasons (SDM vol. 3D appendix C) */
enum vmx_exit_reason {
	EXIT_REASON_EXCEPTION_NMI = 0,
	EXIT_REASON_EXTERNAL_INTERRUPT = 1,
	EXIT_REASON_TRIPLE_FAULT = 2,
	EXIT_REASON_INIT = 3,
	EXIT_REASON_SIPI = 4,
	EXIT_REASON_INTERRUPT_WINDOW = 7,
	EXIT_REASON_NMI_WINDOW = 8,
	EXIT_REASON_TASK_SWITCH = 9,
	EXIT_REASON_CPUID = 10,
	EXIT_REASON_GETSEC = 11,
	EXIT_REASON_HLT = 12,
	EXIT_REASON_INVD = 13,
	EXIT_REASON_RDPMC = 15,
	EXIT_REASON_VMCALL = 18,
	EXIT_REASON_VMCLEAR = 19,
	EXIT_REASON_VMLAUNCH = 20,
	EXIT_REASON_VMPTRLD = 21,
	EXIT_REASON_VMPTRST = 22,
	EXIT_REASON_VMREAD = 23,
	EXIT_REASON_VMRESUME = 24,
	EXIT_REASON_VMWRITE = 25,
	EXIT_REASON_VMXOFF = 26,
	EXIT_REASON_VMXON = 27,
	EXIT_REASON_CR_ACCESS = 28,
	EXIT_REASON_IO_INSTRUCTION = 30,
	EXIT_REASON_MSR_READ = 31,
	EXIT_REASON_MSR_WRITE = 32,
	EXIT_REASON_MWAIT = 36,
	EXIT_REASON_MONITOR_TRAP_FLAG = 37,
	EXIT_REASON_MONITOR = 39,
	EXIT_REASON_PAUSE_INSTRUCTION = 40,
	EXIT_REASON_INVALID_GUEST_STATE = 33,
	EXIT_REASON_MSR_LOADING = 34,
	EXIT_REASON_MACHINE_CHECK = 41,
	EXIT_REASON_EPT_VIOLATION = 48,
	EXIT_REASON_EPT_MISCONFIG = 49,
	EXIT_REASON_INVEPT = 50,
	EXIT_REASON_PREEMPTION_TIMER = 52,
	EXIT_REASON_INVVPID = 53,
	EXIT_REASON_WBINVD = 54,
	EXIT_REASON_XSETBV = 55,
	EXIT_REASON_VMFUNC = 59,
	EXIT_REASON_ENCLS = 60,
	NR_VMX_EXIT_REASONS = 70,
};

#define EXIT_REASON_FAILED_ENTRY (1u << 31)

#endif
