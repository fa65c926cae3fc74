/* SPDX-License-Identifier: MIT */
/*
 * The Intel VMX backend (SDM vol. 3C, chapters 24-29): per-CPU VMXON, EPT
 * and I/O and MSR bitmaps per VM, one VMCS per vCPU, register sync between
 * the VMCS and the neutral struct vcpu_regs, event injection.  Exits are
 * decoded into neutral requests in vmx_exit.c; the entry stub is
 * vmx_entry.asm.  The structure follows the SVM backend file by file.
 *
 * A VMCS is active on one CPU at a time, and only the current VMCS of a
 * CPU can be read or written.  vcpu_init may run on another CPU than the
 * one the vCPU is assigned to (the BSP creates every VM), so it only
 * prepares the region; the first run on the vCPU's own CPU does VMCLEAR,
 * VMPTRLD and writes controls, host and guest state (setup_vmcs).  Every
 * other VMCS access happens on that CPU, during a run or while its exit is
 * handled.
 */
#include <arch/cpu.h>
#include <arch/xstate.h>
#include <petrel/arch.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/pagetable.h>
#include <petrel/percpu.h>
#include <petrel/pmm.h>
#include <petrel/vm.h>

#include "vmx.h"

#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_TRUE_PINBASED 0x48d
#define MSR_IA32_VMX_TRUE_EXIT 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY 0x490
#define MSR_IA32_PAT 0x277
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084

#define FC_LOCK (1ull << 0)
#define FC_VMX_OUTSIDE_SMX (1ull << 2)
#define BASIC_INS_OUTS_INFO (1ull << 54) /* SDM vol. 3D §A.1 */
#define BASIC_TRUE_CTLS (1ull << 55)
/* IA32_VMX_EPT_VPID_CAP, SDM vol. 3D §A.10 */
#define EPT_CAP_WALK4 (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_2M (1ull << 16)
#define EPT_CAP_1G (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define VPID_CAP_INVVPID (1ull << 32)
#define VPID_CAP_SINGLE (1ull << 41)

/*
 * EPT entries (SDM vol. 3C §29.3.2, tables 29-1 to 29-6) read through the
 * x86 names pagetable.c uses:
 *   bit 0 read     = PTE_P   (pt_map's "present" test: every entry has it)
 *   bit 1 write    = PTE_RW
 *   bit 2 execute  = PTE_US  (supervisor-mode execute, without MBEC)
 *   bits 5:3 memory type, leaves only: write-back 6 = bits 4 and 5
 *                  = PTE_PCD | bit 5 (the x86 "accessed" bit)
 *   bit 7 large page = PTE_PS, the same in both formats
 * Non-leaf entries must have bits 3-7 clear: pt_map gives them P|RW plus
 * table_flags, and table_flags here is PTE_US (execute) only.
 */
#define EPT_R PTE_P
#define EPT_W PTE_RW
#define EPT_X PTE_US
#define EPT_MT_WB (6ull << 3)
#define EPTP_WB 6ull
#define EPTP_WALK4 (3ull << 3)
#define PAT_POWER_ON 0x0007040600070406ull

struct vmx_caps vmx_caps;
static uint64_t vmxon_pa[MAX_CPUS];
static uint64_t current_vmcs[MAX_CPUS];     /* what VMPTRLD loaded last */
static struct vmx_vcpu *msrs_of[MAX_CPUS];  /* whose syscall MSRs are loaded */

/* --- VMX instructions ------------------------------------------------------ */

/* Each returns 0, or nonzero on VMfailInvalid/VMfailValid (CF or ZF). */
static int vmxon(uint64_t pa)
{
	uint8_t bad;
	__asm__ volatile("vmxon %1; setna %0" : "=q"(bad) : "m"(pa) : "cc", "memory");
	return bad;
}

static int vmclear(uint64_t pa)
{
	uint8_t bad;
	__asm__ volatile("vmclear %1; setna %0" : "=q"(bad) : "m"(pa) : "cc", "memory");
	return bad;
}

static int vmptrld(uint64_t pa)
{
	uint8_t bad;
	__asm__ volatile("vmptrld %1; setna %0" : "=q"(bad) : "m"(pa) : "cc", "memory");
	return bad;
}

static uint32_t insn_error_now(void)
{
	uint64_t err = 0;
	__asm__ volatile("vmread %1, %0" : "=r"(err) : "r"((uint64_t)VM_INSTRUCTION_ERROR) : "cc");
	return (uint32_t)err;
}

static void vmcs_error(const char *what, uint32_t field)
{
	uint32_t err = insn_error_now();
	pr_err("vmx: cpu %u: %s of VMCS field 0x%04x failed: error %u (%s)\n", this_cpu()->cpu_id,
	       what, field, err, vmx_insn_error_name(err));
}

uint64_t vmcs_read_raw(uint32_t field)
{
	uint64_t val = 0;
	uint8_t bad;
	__asm__ volatile("vmread %2, %0; setna %1" : "=r"(val), "=q"(bad) : "r"((uint64_t)field) : "cc");
	if (bad)
		vmcs_error("VMREAD", field);
	return val;
}

void vmcs_write_raw(uint32_t field, uint64_t val)
{
	uint8_t bad;
	__asm__ volatile("vmwrite %1, %2; setna %0" : "=q"(bad) : "r"(val), "r"((uint64_t)field) : "cc");
	if (bad)
		vmcs_error("VMWRITE", field);
}

/* Single-context invalidation where the CPU has it, else all contexts
 * (SDM vol. 3C §31.3, INVEPT and INVVPID). */
static void invvpid_vpid(uint16_t vpid)
{
	struct { uint64_t vpid, addr; } d = { vpid, 0 };
	uint64_t type = (rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) & VPID_CAP_SINGLE) ? 1 : 2;
	__asm__ volatile("invvpid %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

static void invept_eptp(uint64_t eptp)
{
	struct { uint64_t eptp, zero; } d = { eptp, 0 };
	uint64_t type = vmx_caps.invept_single ? 1 : 2;
	__asm__ volatile("invept %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

/* --- capabilities: the controls Petrel runs with ----------------------------- */

/* want: controls Petrel cannot do without; optional: used where allowed.
 * The capability MSR's low half is the bits that must be 1, its high half
 * the bits that may be 1 (SDM vol. 3D §A.3-A.5). */
static int adjust(uint32_t *out, uint32_t want, uint32_t optional, uint32_t msr, const char *what)
{
	uint64_t cap = rdmsr(msr);
	uint32_t must = (uint32_t)cap, may = (uint32_t)(cap >> 32);

	if (want & ~may) {
		pr_err("vmx: %s controls 0x%08x not supported by this CPU (allowed 0x%08x)\n", what,
		       want & ~may, may);
		return -1;
	}
	*out = want | (optional & may) | must;
	return 0;
}

static int ept_caps(struct vmx_caps *c)
{
	uint64_t ev = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);

	/* pt_map always uses 2 MiB pages where it can, so they are required. */
	if ((ev & (EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_INVEPT)) !=
	    (EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_INVEPT)) {
		pr_err("vmx: EPT lacks a 4-level walk, write-back, 2 MiB pages or INVEPT (cap 0x%llx)\n",
		       (unsigned long long)ev);
		return -1;
	}
	c->ept_1g = ev & EPT_CAP_1G;
	c->invept_single = ev & EPT_CAP_INVEPT_SINGLE;
	c->vpid = (c->sec & SEC_ENABLE_VPID) && (ev & VPID_CAP_INVVPID);
	if (!c->vpid)
		c->sec &= ~SEC_ENABLE_VPID;
	return 0;
}

static int caps_init(struct vmx_caps *c)
{
	uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool t = basic & BASIC_TRUE_CTLS;

	memset(c, 0, sizeof(*c));
	c->revision = (uint32_t)basic & 0x7fffffff;
	c->true_ctls = t;
	c->ins_outs_info = basic & BASIC_INS_OUTS_INFO;
	/* Every interrupt and NMI comes to the host; HLT, I/O and MSRs go
	 * through the core; CR3 accesses do not exit (EPT). */
	/* CR8 exits: without them a guest's MOV to CR8 would set the real
	 * local APIC's TPR and could mask the host's own timer.  RDPMC,
	 * MONITOR and MWAIT: not offered to guests.  WBINVD: a no-op where
	 * the CPU lets it exit.  ENCLS: where the CPU has SGX, a guest would
	 * otherwise reach the real enclave page cache (#UD instead).  The debug controls switch DR7 and DEBUGCTL. */
	if (adjust(&c->pin, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING, PIN_PREEMPTION_TIMER,
		   t ? MSR_IA32_VMX_TRUE_PINBASED : MSR_IA32_VMX_PINBASED, "pin-based") ||
	    adjust(&c->cpu, CPU_HLT_EXITING | CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS |
				    CPU_USE_TSC_OFFSETTING | CPU_ACTIVATE_SECONDARY | CPU_CR8_LOAD_EXITING |
				    CPU_CR8_STORE_EXITING | CPU_RDPMC_EXITING | CPU_MWAIT_EXITING |
				    CPU_MONITOR_EXITING, 0,
		   t ? MSR_IA32_VMX_TRUE_PROCBASED : MSR_IA32_VMX_PROCBASED, "processor-based") ||
	    adjust(&c->sec, SEC_ENABLE_EPT | SEC_UNRESTRICTED_GUEST,
		   SEC_ENABLE_VPID | SEC_ENABLE_RDTSCP | SEC_ENABLE_INVPCID | SEC_WBINVD_EXITING |
			   SEC_ENCLS_EXITING | SEC_PAUSE_LOOP_EXITING,
		   MSR_IA32_VMX_PROCBASED2, "secondary") ||
	    adjust(&c->exit, EXITCTL_HOST_ADDR_SPACE_SIZE | EXITCTL_SAVE_IA32_PAT | EXITCTL_LOAD_IA32_PAT |
				     EXITCTL_SAVE_IA32_EFER | EXITCTL_LOAD_IA32_EFER | EXITCTL_SAVE_DEBUG_CONTROLS, 0,
		   t ? MSR_IA32_VMX_TRUE_EXIT : MSR_IA32_VMX_EXIT_CTLS, "VM-exit") ||
	    adjust(&c->entry, ENTRYCTL_LOAD_IA32_PAT | ENTRYCTL_LOAD_IA32_EFER | ENTRYCTL_LOAD_DEBUG_CONTROLS, 0,
		   t ? MSR_IA32_VMX_TRUE_ENTRY : MSR_IA32_VMX_ENTRY_CTLS, "VM-entry") ||
	    ept_caps(c))
		return -1;
	c->preempt_shift = rdmsr(MSR_IA32_VMX_MISC) & 0x1f;
	c->mtf = (rdmsr(t ? MSR_IA32_VMX_TRUE_PROCBASED : MSR_IA32_VMX_PROCBASED) >> 32) & CPU_MONITOR_TRAP_FLAG;
	/* Default-1 CR3 exiting (no TRUE MSRs) would be harmless but slow;
	 * the IA-32e bit comes from the guest's EFER.LMA on each entry. */
	c->entry &= ~ENTRYCTL_IA32E_MODE;
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	/* An unrestricted guest may clear PE and PG (SDM vol. 3C §26.3.1.1);
	 * every other bit fixed to 1 (NE in CR0, VMXE in CR4) is the host's:
	 * the guest reads its own value from the read shadow. */
	c->cr0_mask = c->cr0_fixed0 & ~(CR0_PE | CR0_PG);
	c->cr4_mask = c->cr4_fixed0;
	return 0;
}

/* --- per physical CPU ---------------------------------------------------- */

/* IA32_FEATURE_CONTROL (SDM vol. 3C §24.7): firmware may lock it; if it
 * did not, Petrel enables VMX outside SMX and locks it. */
static int feature_control(uint32_t cpu)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FC_LOCK)) {
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FC_LOCK | FC_VMX_OUTSIDE_SMX);
		return 0;
	}
	if (!(fc & FC_VMX_OUTSIDE_SMX)) {
		pr_err("vmx: cpu %u: IA32_FEATURE_CONTROL is locked with VMX off (0x%llx): "
		       "enable VT-x in the firmware setup\n", cpu, (unsigned long long)fc);
		return -1;
	}
	return 0;
}

static int vmx_cpu_enable(void)
{
	struct percpu *pc = this_cpu();
	uint32_t cpu = pc->cpu_id;

	if (vmxon_pa[cpu])
		return 0; /* already in VMX operation */
	if (!(cpuid(1, 0).ecx & (1u << 5))) {
		pr_err("vmx: cpu %u: no VMX (CPUID.1:ECX[5] clear)\n", cpu);
		return -1;
	}
	if (feature_control(cpu))
		return -1;
	if (cpu == 0 && caps_init(&vmx_caps))
		return -1;
	if (((uint32_t)rdmsr(MSR_IA32_VMX_BASIC) & 0x7fffffff) != vmx_caps.revision) {
		pr_err("vmx: cpu %u: VMCS revision differs from cpu 0's\n", cpu);
		return -1;
	}
	/* CR0 and CR4 as VMX operation requires (SDM vol. 3C §24.8). */
	write_cr0((read_cr0() | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1);
	write_cr4((read_cr4() | CR4_VMXE | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1);
	uint64_t pa = frame_alloc_zeroed(1, UINT64_MAX);
	if (!pa)
		return -1;
	*(volatile uint32_t *)(uintptr_t)pa = vmx_caps.revision;
	if (vmxon(pa)) {
		pr_err("vmx: cpu %u: VMXON failed (cr0 0x%llx cr4 0x%llx)\n", cpu,
		       (unsigned long long)read_cr0(), (unsigned long long)read_cr4());
		return -1;
	}
	vmxon_pa[cpu] = pa;
	return 0;
}

/* --- per VM: EPT and bitmaps --------------------------------------------- */

/*
 * Guest RAM and ROM (read-only) and nothing else (vm_map_memory), large pages where aligned, as
 * the SVM nested tables: every other guest-physical address is an EPT
 * violation, and so goes the MMIO path.  Leaves are RWX, write-back; the
 * guest's PAT still applies (ignore-PAT clear).  When the map changes
 * (vm_set_memory), vmx_remap redoes the changed range.
 */
static struct pt_ops ept_ops(void)
{
	return (struct pt_ops){
		.alloc_page = frame_pt_alloc, .table = frame_pt_table,
		.allow_1g = vmx_caps.ept_1g,
		.table_flags = EPT_X,
	};
}

#define EPT_RAM (EPT_R | EPT_W | EPT_X | EPT_MT_WB)
#define EPT_ROM (EPT_R | EPT_X | EPT_MT_WB)

static int ept_build(struct vm *vm, struct vmx_vm *x)
{
	struct pt_ops ops = ept_ops();

	x->ept_root = frame_pt_alloc(NULL);
	x->eptp = x->ept_root | EPTP_WALK4 | EPTP_WB;
	return vm_map_memory(vm, &ops, x->ept_root, EPT_RAM, EPT_ROM);
}

static int vmx_remap(struct vm *vm, uint64_t gpa, uint64_t size)
{
	struct pt_ops ops = ept_ops();

	return vm_remap_range(vm, &ops, ((struct vmx_vm *)vm->arch)->ept_root, gpa, size, EPT_RAM, EPT_ROM);
}

static int vmx_vm_init(struct vm *vm)
{
	struct vmx_vm *x = &vmx_vms[vm->id];

	memset(x, 0, sizeof(*x));
	vm->arch = x;
	/* Intercept every port and every MSR; the core opens what it handles
	 * itself (msr.c) and nothing passes through to hardware. */
	x->io_bitmap = frame_alloc_zeroed(2, UINT64_MAX);
	x->msr_bitmap = frame_alloc_zeroed(1, UINT64_MAX);
	if (!x->io_bitmap || !x->msr_bitmap)
		return -1;
	memset((void *)(uintptr_t)x->io_bitmap, 0xff, 2 * PAGE_SIZE);
	memset((void *)(uintptr_t)x->msr_bitmap, 0xff, PAGE_SIZE);
	return ept_build(vm, x);
}

/* I/O bitmaps A and B (SDM vol. 3C §25.6.4) lie back to back: one bit per
 * port, 0-0xffff. */
static void vmx_set_io_intercept(struct vm *vm, uint16_t port, uint16_t len, bool on)
{
	uint8_t *map = (uint8_t *)(uintptr_t)((struct vmx_vm *)vm->arch)->io_bitmap;
	for (uint32_t p = port; p < (uint32_t)port + len && p <= 0xffff; p++)
		bitmap_assign(map, p, on);
}

/* MSR bitmap (SDM vol. 3C §25.6.9): four 1 KiB quarters: reads of
 * 0-0x1fff, reads of 0xc0000000-0xc0001fff, then writes of the same two
 * ranges.  An MSR outside both always exits. */
static void vmx_set_msr_intercept(struct vm *vm, uint32_t msr, bool read, bool write)
{
	uint8_t *map = (uint8_t *)(uintptr_t)((struct vmx_vm *)vm->arch)->msr_bitmap;
	uint32_t base;

	if (msr <= 0x1fff)
		base = 0;
	else if (msr - 0xc0000000u <= 0x1fff)
		base = 1024 * 8;
	else
		return;
	bitmap_assign(map, base + (msr & 0x1fff), read);
	bitmap_assign(map, 2048 * 8 + base + (msr & 0x1fff), write);
}

/* --- per vCPU: the VMCS -------------------------------------------------- */

/* A VPID per vCPU (0 is the host's): two vCPUs of one VM on one CPU have
 * different address spaces, and their TLB entries must not mix.  TLBs are
 * per CPU, so the same VPID on two CPUs is no conflict. */
static uint16_t vpid_of(const struct vcpu *v)
{
	return (uint16_t)(v->vm->id * MAX_VCPUS_PER_VM + v->id + 1);
}

/* A VMCS region as VMCLEAR'd software may set it up (SDM vol. 3C §25.2). */
static void vmcs_region_init(uint64_t pa)
{
	memset((void *)(uintptr_t)pa, 0, PAGE_SIZE);
	*(volatile uint32_t *)(uintptr_t)pa = vmx_caps.revision;
}

/* The syscall MSRs in this CPU are xv's guest values: back into xv. */
static void save_syscall_msrs(struct vmx_vcpu *xv)
{
	xv->star = rdmsr(MSR_STAR);
	xv->lstar = rdmsr(MSR_LSTAR);
	xv->cstar = rdmsr(MSR_CSTAR);
	xv->sfmask = rdmsr(MSR_SFMASK);
	xv->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
}

/* The VMCS is active on cpu and only that CPU may VMCLEAR it: done there
 * before it is used again. */
static void vmcs_forget(struct vmx_vcpu *xv, uint32_t cpu)
{
	vmclear(xv->vmcs_pa);
	if (current_vmcs[cpu] == xv->vmcs_pa)
		current_vmcs[cpu] = 0;
	if (msrs_of[cpu] == xv)
		msrs_of[cpu] = NULL; /* the syscall MSRs in the CPU are no longer its */
}

static int vmx_vcpu_init(struct vcpu *v)
{
	struct vmx_vcpu *xv = &vmx_vcpus[v->vm->id][v->id];
	uint32_t cpu = this_cpu()->cpu_id;
	int32_t active = xv->vmcs_pa ? xv->cpu : -1;

	/* Also called on every reset of the VM, then perhaps on another CPU
	 * than the one where the VMCS is active (a reset of the whole VM
	 * runs on the first vCPU's CPU): that CPU clears it before its next
	 * use (vmcs_load), this one only starts the software state afresh. */
	if (active >= 0 && (uint32_t)active == cpu) {
		vmcs_forget(xv, cpu);
		active = -1;
	}
	if (!xv->vmcs_pa)
		xv->vmcs_pa = frame_alloc_zeroed(1, UINT64_MAX);
	if (!xv->vmcs_pa)
		return -1;
	uint64_t pa = xv->vmcs_pa;
	memset(xv, 0, sizeof(*xv));
	xv->vmcs_pa = pa;
	xv->cpu = active;
	xv->stale = active >= 0;
	xv->msrs_fresh = true;
	if (!xv->stale)
		vmcs_region_init(pa);
	v->arch = xv;
	/* Everything comes from the neutral block on the first entry. */
	memset(v->regs.pdpte, 0, sizeof(v->regs.pdpte));
	v->dirty = REG_RIP | REG_CR | REG_SEGS | REG_PDPTE;
	v->valid = REG_GPRS | REG_RIP | REG_CR | REG_SEGS | REG_PDPTE;
	return 0;
}

static uint16_t read_sel(int which)
{
	uint16_t s = 0;
	switch (which) {
	case 0: __asm__ volatile("mov %%cs, %0" : "=r"(s)); break;
	case 1: __asm__ volatile("mov %%ss, %0" : "=r"(s)); break;
	case 2: __asm__ volatile("mov %%ds, %0" : "=r"(s)); break;
	case 3: __asm__ volatile("mov %%es, %0" : "=r"(s)); break;
	default: __asm__ volatile("str %0" : "=r"(s)); break;
	}
	return s;
}

/* Host state (SDM vol. 3C §25.5, checks in §27.2.3): this CPU's, as it is
 * now; the exit lands in vmx_exit_stub, HOST_RSP is written by the stub.
 * FS and GS selectors are 0 (GS base is the per-CPU pointer, from the MSR). */
static void host_state(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr, idtr;

	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	vmcs_writenat(HOST_CR0, read_cr0());
	vmcs_writenat(HOST_CR3, read_cr3());
	vmcs_writenat(HOST_CR4, read_cr4());
	vmcs_write16(HOST_CS_SELECTOR, read_sel(0));
	vmcs_write16(HOST_SS_SELECTOR, read_sel(1));
	vmcs_write16(HOST_DS_SELECTOR, read_sel(2));
	vmcs_write16(HOST_ES_SELECTOR, read_sel(3));
	vmcs_write16(HOST_FS_SELECTOR, 0);
	vmcs_write16(HOST_GS_SELECTOR, 0);
	vmcs_write16(HOST_TR_SELECTOR, read_sel(4));
	vmcs_writenat(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_writenat(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmcs_writenat(HOST_TR_BASE, (uint64_t)(uintptr_t)&this_cpu()->tss);
	vmcs_writenat(HOST_GDTR_BASE, gdtr.base);
	vmcs_writenat(HOST_IDTR_BASE, idtr.base);
	vmcs_write32(HOST_IA32_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	vmcs_writenat(HOST_IA32_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	vmcs_writenat(HOST_IA32_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	vmcs_write64(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write64(HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_writenat(HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_stub);
}

static void controls(struct vcpu *v, struct vmx_vcpu *xv)
{
	struct vmx_vm *x = v->vm->arch;

	/* keep an interrupt window the core asked for before the first run */
	xv->cpu_ctls = vmx_caps.cpu | (xv->cpu_ctls & CPU_INTR_WINDOW_EXITING);
	xv->ctls_dirty = false;
	xv->entry_ctls = vmx_caps.entry;
	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, vmx_caps.pin);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, xv->cpu_ctls);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmx_caps.sec);
	/* PAUSE-loop exiting (SDM vol. 3C §26.1.3): PAUSEs at most PLE_GAP
	 * TSC ticks apart for longer than PLE_WINDOW ticks exit: a spin
	 * on a lock, not one PAUSE now and then. */
	if (vmx_caps.sec & SEC_PAUSE_LOOP_EXITING) {
		vmcs_write32(PLE_GAP, 128);
		vmcs_write32(PLE_WINDOW, 4096);
	}
	vmcs_write32(VM_EXIT_CONTROLS, vmx_caps.exit);
	vmcs_write32(VM_ENTRY_CONTROLS, xv->entry_ctls);
	vmcs_write32(EXCEPTION_BITMAP, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write32(CR3_TARGET_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_INTR_INFO, 0);
	vmcs_write64(IO_BITMAP_A, x->io_bitmap);
	vmcs_write64(IO_BITMAP_B, x->io_bitmap + PAGE_SIZE);
	vmcs_write64(MSR_BITMAP, x->msr_bitmap);
	vmcs_write64(EPT_POINTER, x->eptp);
	if (vmx_caps.vpid)
		vmcs_write16(VPID, vpid_of(v)); /* nonzero: 0 is the host's */
	vmcs_writenat(CR0_GUEST_HOST_MASK, vmx_caps.cr0_mask);
	/* CR4: the host's fixed bits, and every bit the CPU has but the
	 * guest's CPUID does not offer, so setting one exits and the core
	 * raises #GP (ctrlreg.c). */
	xv->cr4_mask = vmx_caps.cr4_mask | (vmx_caps.cr4_fixed1 & ~v->cr_caps.cr4_allowed);
	vmcs_writenat(CR4_GUEST_HOST_MASK, xv->cr4_mask);
	vmcs_write64(TSC_OFFSET, v->tsc_offset); /* guest TSC = host TSC + offset (§26.6.5) */
}

/* Guest state the neutral block does not carry, at its power-on values. */
static void guest_extra(void)
{
	vmcs_write64(VMCS_LINK_POINTER, ~0ull); /* no shadow VMCS (§27.3.1.5) */
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write64(GUEST_IA32_PAT, PAT_POWER_ON);
	vmcs_writenat(GUEST_DR7, 0x400);
	vmcs_writenat(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, 0);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_writenat(GUEST_SYSENTER_ESP, 0);
	vmcs_writenat(GUEST_SYSENTER_EIP, 0);
}

/* Makes v's VMCS current on this CPU, and sets it up the first time. */
static int vmcs_load(struct vcpu *v, struct vmx_vcpu *xv)
{
	uint32_t cpu = this_cpu()->cpu_id;

	if (xv->cpu >= 0 && (uint32_t)xv->cpu != cpu) {
		pr_err("vmx: vcpu's VMCS is active on cpu %d, not on cpu %u\n", xv->cpu, cpu);
		return -1;
	}
	if (xv->stale) { /* reset elsewhere while active here */
		vmcs_forget(xv, cpu);
		vmcs_region_init(xv->vmcs_pa);
		xv->stale = false;
		xv->cpu = -1;
	}
	if (xv->cpu < 0) {
		if (vmclear(xv->vmcs_pa)) /* launch state "clear" (§25.11.3) */
			return -1;
		xv->cpu = (int32_t)cpu;
	}
	if (current_vmcs[cpu] != xv->vmcs_pa) {
		if (vmptrld(xv->vmcs_pa)) {
			pr_err("vmx: cpu %u: VMPTRLD 0x%llx failed: error %u\n", cpu,
			       (unsigned long long)xv->vmcs_pa, insn_error_now());
			return -1;
		}
		current_vmcs[cpu] = xv->vmcs_pa;
	}
	if (!xv->set_up) {
		controls(v, xv);
		host_state();
		guest_extra();
		if (vmx_caps.vpid)
			invvpid_vpid(vpid_of(v)); /* nothing stale from a VM before */
		invept_eptp(((struct vmx_vm *)v->vm->arch)->eptp);
		xv->set_up = true;
	}
	return 0;
}

/*
 * Moving a vCPU between CPUs (SDM vol. 3C §25.11.1): a VMCS is active on
 * one CPU, which may hold parts of it in the processor, so the CPU it
 * leaves clears it (VMCLEAR writes everything back to memory and sets the
 * launch state to clear: the next entry is a VMLAUNCH), and the syscall
 * MSRs VMX does not switch go back into the vCPU.  The CPU it comes to
 * loads it and writes its own host state (its TSS, GS base: this CPU's
 * per-CPU data); and since this CPU may hold TLB entries of this VPID and
 * EPT from an earlier stay, made stale by what the guest did elsewhere
 * since, it flushes them.
 */
static void vmx_put(struct vcpu *v)
{
	struct vmx_vcpu *xv = v->arch;
	uint32_t cpu = this_cpu()->cpu_id;

	if (xv->cpu < 0 || (uint32_t)xv->cpu != cpu)
		return; /* not active here: nothing of it in this CPU */
	if (msrs_of[cpu] == xv && !xv->msrs_fresh) {
		save_syscall_msrs(xv);
		xv->msrs_fresh = true; /* loaded from here on the next CPU */
	}
	vmcs_forget(xv, cpu);
	if (xv->stale) { /* reset while active here: it starts afresh anyway */
		vmcs_region_init(xv->vmcs_pa);
		xv->stale = false;
	}
	xv->cpu = -1;
	xv->launched = false;
}

static void vmx_load(struct vcpu *v)
{
	struct vmx_vcpu *xv = v->arch;

	if (!xv->set_up || vmcs_load(v, xv))
		return; /* the first entry sets it up; a failure shows there */
	host_state();
	if (vmx_caps.vpid)
		invvpid_vpid(vpid_of(v));
	invept_eptp(((struct vmx_vm *)v->vm->arch)->eptp);
}

/* --- register sync ------------------------------------------------------- */

/* The neutral attribute packing (type S DPL P in 0-7, AVL L DB G in 8-11)
 * ↔ VMX access rights (the same in 0-7, 12-15; unusable at 16). */
static uint32_t ar_from_attr(uint16_t attr)
{
	uint32_t ar = (attr & 0xffu) | ((uint32_t)(attr & 0xf00u) << 4);
	return (attr & AR_P) ? ar : ar | AR_UNUSABLE;
}

static uint16_t attr_from_ar(uint32_t ar)
{
	uint16_t attr = (uint16_t)((ar & 0xffu) | ((ar >> 4) & 0xf00u));
	return (ar & AR_UNUSABLE) ? (uint16_t)(attr & ~AR_P) : attr;
}

static void vmx_get_regs(struct vcpu *v, uint32_t groups)
{
	struct vmx_vcpu *xv = v->arch;
	struct vcpu_regs *r = &v->regs;

	/* Outside an exit (a paused vCPU's registers, run.c) another vCPU's
	 * VMCS may be the current one here, or this one cleared for a move. */
	if (current_vmcs[this_cpu()->cpu_id] != xv->vmcs_pa && vmcs_load(v, xv))
		return;
	if (groups & REG_RIP) {
		r->rip = vmcs_readnat(GUEST_RIP);
		r->rflags = vmcs_readnat(GUEST_RFLAGS);
		r->gpr[GPR_RSP] = vmcs_readnat(GUEST_RSP);
		/* RAX is a plain GPR on VMX: always in gpr[] (vmx_entry.asm). */
	}
	if (groups & REG_CR) {
		r->cr0 = (vmcs_readnat(GUEST_CR0) & ~vmx_caps.cr0_mask) |
			 (vmcs_readnat(CR0_READ_SHADOW) & vmx_caps.cr0_mask);
		r->cr2 = xv->cr2;
		r->cr3 = vmcs_readnat(GUEST_CR3);
		r->cr4 = (vmcs_readnat(GUEST_CR4) & ~xv->cr4_mask) |
			 (vmcs_readnat(CR4_READ_SHADOW) & xv->cr4_mask);
		r->efer = vmcs_read64(GUEST_IA32_EFER);
	}
	if (groups & REG_SEGS) {
		for (int i = 0; i < NR_SEGS; i++) {
			r->seg[i].sel = vmcs_seg_read16(GUEST_ES_SELECTOR, i);
			r->seg[i].limit = vmcs_seg_read32(GUEST_ES_LIMIT, i);
			r->seg[i].attr = attr_from_ar(vmcs_seg_read32(GUEST_ES_AR_BYTES, i));
			r->seg[i].base = vmcs_seg_readnat(GUEST_ES_BASE, i);
		}
		r->gdtr.base = vmcs_readnat(GUEST_GDTR_BASE);
		r->gdtr.limit = vmcs_read32(GUEST_GDTR_LIMIT);
		r->idtr.base = vmcs_readnat(GUEST_IDTR_BASE);
		r->idtr.limit = vmcs_read32(GUEST_IDTR_LIMIT);
		r->cpl = (uint8_t)((vmcs_read32(GUEST_SS_AR_BYTES) >> 5) & 3); /* SS.DPL is the CPL */
	}
	if (groups & REG_PDPTE) /* what the guest's PAE walk uses (§28.3.4) */
		for (uint32_t i = 0; i < 4; i++)
			r->pdpte[i] = vmcs_read_raw(GUEST_PDPTE0 + 2 * i);
	v->valid |= groups;
}

/* The PDPTE registers, where the core loaded them as the architecture
 * does (MOV to CR0/CR3/CR4 with PAE paging, ctrlreg.c): with EPT, VM
 * entry takes them from the VMCS, not from memory (SDM vol. 3C §27.3.2.4).
 * Nowhere else: the guest may have changed its PDPT since. */
static void write_pdptes(struct vcpu *v)
{
	for (uint32_t i = 0; i < 4; i++)
		vmcs_write_raw(GUEST_PDPTE0 + 2 * i, v->regs.pdpte[i]);
}

static void write_cr(struct vcpu *v, struct vmx_vcpu *xv)
{
	struct vcpu_regs *r = &v->regs;
	bool lma = r->efer & EFER_LMA;

	/* The hardware value carries the bits VMX fixes; the guest reads its
	 * own through the shadow (SDM vol. 3C §25.6.6). */
	vmcs_writenat(GUEST_CR0, (r->cr0 | vmx_caps.cr0_mask) & vmx_caps.cr0_fixed1);
	vmcs_writenat(CR0_READ_SHADOW, r->cr0);
	vmcs_writenat(GUEST_CR4, (r->cr4 | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1);
	vmcs_writenat(CR4_READ_SHADOW, r->cr4);
	vmcs_writenat(GUEST_CR3, r->cr3);
	vmcs_write64(GUEST_IA32_EFER, r->efer);
	xv->cr2 = r->cr2;
	/* "IA-32e mode guest" must equal EFER.LMA (§27.3.1.1). */
	xv->entry_ctls = lma ? xv->entry_ctls | ENTRYCTL_IA32E_MODE : xv->entry_ctls & ~ENTRYCTL_IA32E_MODE;
	vmcs_write32(VM_ENTRY_CONTROLS, xv->entry_ctls);
}

static void write_segs(struct vcpu *v)
{
	struct vcpu_regs *r = &v->regs;

	for (int i = 0; i < NR_SEGS; i++) {
		vmcs_seg_write16(GUEST_ES_SELECTOR, i, r->seg[i].sel);
		vmcs_seg_write32(GUEST_ES_LIMIT, i, r->seg[i].limit);
		vmcs_seg_write32(GUEST_ES_AR_BYTES, i, ar_from_attr(r->seg[i].attr));
		vmcs_seg_writenat(GUEST_ES_BASE, i, r->seg[i].base);
	}
	vmcs_writenat(GUEST_GDTR_BASE, r->gdtr.base);
	vmcs_write32(GUEST_GDTR_LIMIT, r->gdtr.limit);
	vmcs_writenat(GUEST_IDTR_BASE, r->idtr.base);
	vmcs_write32(GUEST_IDTR_LIMIT, r->idtr.limit);
	/* CPL is SS.DPL on VMX: nothing separate to write. */
}

/* Writes the groups the core changed back into the VMCS. */
static void write_back(struct vcpu *v, struct vmx_vcpu *xv)
{
	struct vcpu_regs *r = &v->regs;

	if (v->dirty & REG_RIP) {
		if (xv->rip_at_exit != r->rip && (xv->intr_state & (GUEST_INTR_STI | GUEST_INTR_MOV_SS))) {
			/* past the instruction: no STI/MOV SS shadow any more */
			xv->intr_state &= ~(GUEST_INTR_STI | GUEST_INTR_MOV_SS);
			vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, xv->intr_state);
		}
		vmcs_writenat(GUEST_RIP, r->rip);
		vmcs_writenat(GUEST_RFLAGS, r->rflags);
		vmcs_writenat(GUEST_RSP, r->gpr[GPR_RSP]);
	}
	if (v->dirty & REG_CR)
		write_cr(v, xv);
	if (v->dirty & REG_PDPTE)
		write_pdptes(v);
	if (v->dirty & REG_SEGS)
		write_segs(v);
	if (v->dirty & REG_TSC_OFFSET)
		vmcs_write64(TSC_OFFSET, v->tsc_offset);
	v->dirty = 0;
}

/*
 * Events: one whose delivery an exit interrupted (IDT-vectoring
 * information) goes back in first, unchanged (SDM vol. 3C §28.2.4, §27.6);
 * only then a new one from the core.  Software interrupts and exceptions
 * need the instruction length.
 */
static void inject_events(struct vcpu *v, struct vmx_vcpu *xv)
{
	uint32_t info;

	if (xv->reinject & INTR_INFO_VALID) {
		vmcs_write32(VM_ENTRY_INTR_INFO, xv->reinject);
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, xv->reinject_err);
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, xv->reinject_len);
		xv->reinject = 0;
		return;
	}
	if (!v->event.pending)
		return;
	info = v->event.vector | ((uint32_t)v->event.type << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;
	/* No error code in real mode (an unrestricted guest may be there):
	 * the entry would fail (§27.2.1.3). */
	if (v->event.has_error && (vmcs_readnat(GUEST_CR0) & CR0_PE)) {
		info |= INTR_INFO_DELIVER_CODE;
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, v->event.error);
	}
	if (v->event.type == EV_SOFT_INTR)
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, v->exit.insn_len);
	vmcs_write32(VM_ENTRY_INTR_INFO, info);
	v->event.pending = false;
}

/* Syscall MSRs and CR2 are not switched by VMX; the host never uses them,
 * so they change only when another vCPU runs on this CPU. */
static void switch_msrs(struct vmx_vcpu *xv)
{
	uint32_t cpu = this_cpu()->cpu_id;
	struct vmx_vcpu *old = msrs_of[cpu];

	if (old == xv && !xv->msrs_fresh)
		return;
	if (old && old != xv && !old->msrs_fresh) /* a fresh one has its values already */
		save_syscall_msrs(old);
	wrmsr(MSR_STAR, xv->star);
	wrmsr(MSR_LSTAR, xv->lstar);
	wrmsr(MSR_CSTAR, xv->cstar);
	wrmsr(MSR_SFMASK, xv->sfmask);
	wrmsr(MSR_KERNEL_GS_BASE, xv->kernel_gs_base);
	msrs_of[cpu] = xv;
	xv->msrs_fresh = false;
}

/*
 * The VMX-preemption timer (SDM vol. 3C §26.5.1) bounds the time in the
 * guest as the run loop asks (v->run_until), whatever the guest's
 * RFLAGS.IF.  The host's LAPIC timer does the same job through an
 * external-interrupt exit; Bochs 2.7 loses that exit while the guest runs
 * with IF=0 (seen: a guest spinning with interrupts off kept its CPU
 * 300 ms past a 7 ms timer), so where the CPU has the preemption timer
 * Petrel uses both.
 */
static void set_preemption_timer(struct vcpu *v)
{
	uint64_t now, left;

	if (!(vmx_caps.pin & PIN_PREEMPTION_TIMER))
		return;
	now = rdtsc();
	left = !v->run_until ? ~0ull : v->run_until > now ? (v->run_until - now) >> vmx_caps.preempt_shift : 0;
	vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, (uint32_t)MIN(left, 0xffffffffull));
}

/* VMLAUNCH/VMRESUME refused the VMCS before touching the guest: no exit
 * information exists; the dump names the VM-instruction error. */
static void entry_refused(struct vcpu *v, struct vmx_vcpu *xv, int rc)
{
	xv->entry_error = rc;
	xv->insn_error = rc == 1 ? insn_error_now() : 0;
	v->exit.kind = EXIT_ENTRY_FAIL;
	v->exit.reason = EXIT_REASON_FAILED_ENTRY;
	v->exit.insn_len = 0;
}

static void vmx_run(struct vcpu *v)
{
	struct vmx_vcpu *xv = v->arch;
	int rc;

	if (vmcs_load(v, xv)) {
		entry_refused(v, xv, 2);
		return;
	}
	switch_msrs(xv);
	if (xv->ctls_dirty) {
		vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, xv->cpu_ctls);
		xv->ctls_dirty = false;
	}
	write_back(v, xv);
	inject_events(v, xv);
	if (xv->flush && vmx_caps.vpid)
		invvpid_vpid(vpid_of(v));
	xv->flush = false;
	if (read_cr2() != xv->cr2)
		write_cr2(xv->cr2);
	set_preemption_timer(v);
	rc = vmx_enter(v->regs.gpr, xv->launched);
	xv->cr2 = read_cr2();
	/* An external interrupt that caused the exit is still pending (no
	 * acknowledge-on-exit): the host takes it here, as SVM does at STGI. */
	__asm__ volatile("sti; nop; cli" ::: "memory");
	if (rc) {
		entry_refused(v, xv, rc);
		return;
	}
	xv->entry_error = 0;
	xv->exit_reason = vmcs_read32(VM_EXIT_REASON);
	if (!(xv->exit_reason & EXIT_REASON_FAILED_ENTRY))
		xv->launched = true;
	vmcs_write32(VM_ENTRY_INTR_INFO, 0); /* delivered, or back in IDT-vectoring */
	xv->intr_state = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	v->valid = REG_GPRS;
	vmx_get_regs(v, REG_RIP); /* every handler needs RIP */
	xv->rip_at_exit = v->regs.rip;
	vmx_decode_exit(v);
}

/* Can an external interrupt go in on the next entry?  IF from the neutral
 * block (the core may have changed it); the STI/MOV-SS shadow from the
 * last exit (write_back drops it if the core moved RIP past the
 * instruction). */
static bool vmx_interrupt_window(struct vcpu *v)
{
	struct vmx_vcpu *xv = v->arch;
	bool moved = (v->dirty & REG_RIP) && v->regs.rip != xv->rip_at_exit;
	bool shadow = (xv->intr_state & (GUEST_INTR_STI | GUEST_INTR_MOV_SS)) && !moved;

	return (v->regs.rflags & RFLAGS_IF) && !shadow && !(xv->reinject & INTR_INFO_VALID) &&
	       !v->event.pending;
}

/* Exit as soon as the guest can take an interrupt: interrupt-window
 * exiting (SDM vol. 3C §26.7.5); vmx_exit.c turns it off again. */
static void vmx_request_window(struct vcpu *v)
{
	struct vmx_vcpu *xv = v->arch;

	if (xv->cpu_ctls & CPU_INTR_WINDOW_EXITING)
		return;
	/* Another vCPU's VMCS may be current on this CPU: written at entry. */
	xv->cpu_ctls |= CPU_INTR_WINDOW_EXITING;
	xv->ctls_dirty = true;
}

/* Without virtual NMIs the CPU itself blocks NMIs from an injected one
 * until its IRET (SDM vol. 3C §26.6.1.2, §24.4.2's "blocking by NMI"). */
static bool vmx_nmi_window(struct vcpu *v)
{
	struct vmx_vcpu *xv = v->arch;
	bool moved = (v->dirty & REG_RIP) && v->regs.rip != xv->rip_at_exit;

	return !(xv->intr_state & GUEST_INTR_NMI) && !((xv->intr_state & GUEST_INTR_MOV_SS) && !moved) &&
	       !(xv->reinject & INTR_INFO_VALID) && !v->event.pending;
}

/* NMI-window exiting needs virtual NMIs: an interrupt window where IF
 * allows, else the next exit of any kind. */
static void vmx_request_nmi_window(struct vcpu *v)
{
	if (v->regs.rflags & RFLAGS_IF)
		vmx_request_window(v);
}

static void vmx_flush_tlb(struct vcpu *v)
{
	((struct vmx_vcpu *)v->arch)->flush = true;
}

/* What this CPU cached from the VM's EPT goes: guest-physical and
 * combined mappings of its EPTP, whichever vCPU made them (SDM vol. 3C
 * §29.4.3.1). */
static void vmx_flush_nested(struct vcpu *v)
{
	invept_eptp(((struct vmx_vm *)v->vm->arch)->eptp);
}

static uint64_t vmx_get_dr6(struct vcpu *v)
{
	return xstate_get_dr6(&v->xs);
}

static void vmx_set_dr6(struct vcpu *v, uint64_t dr6)
{
	xstate_set_dr6(&v->xs, dr6);
}

/*
 * A debugger's wishes (vcpu_debug), on the vCPU's CPU before it enters:
 * #BP in the exception bitmap for its breakpoints, #DB for its hardware
 * ones and a TF step (run.c); its DR7 in place of the guest's while it
 * has hardware breakpoints; its single step as the monitor trap flag
 * (SDM vol. 3C §26.5.2), which exits after one instruction, where the
 * CPU has it (Bochs 2.7's corei7_skylake_x does not: TF there).
 */
static void vmx_set_debug(struct vcpu *v)
{
	struct vmx_vcpu *xv = v->arch;
	struct vcpu_debug *d = &v->dbg;
	uint32_t ctls;

	if (vmcs_load(v, xv))
		return; /* the entry fails and says why */
	vmcs_write32(EXCEPTION_BITMAP, (d->int3 ? 1u << 3 : 0) | (d->hw || d->tf_on ? 1u << 1 : 0));
	if (d->hw && !d->hw_on)
		d->guest_dr7 = vmcs_readnat(GUEST_DR7);
	if (d->hw)
		vmcs_writenat(GUEST_DR7, d->dr7);
	else if (d->hw_on)
		vmcs_writenat(GUEST_DR7, d->guest_dr7);
	d->hw_on = d->hw;
	ctls = d->step && !d->tf_on ? xv->cpu_ctls | CPU_MONITOR_TRAP_FLAG : xv->cpu_ctls & ~CPU_MONITOR_TRAP_FLAG;
	if (ctls != xv->cpu_ctls) {
		xv->cpu_ctls = ctls;
		xv->ctls_dirty = true;
	}
}

static bool vmx_native_step(void)
{
	return vmx_caps.mtf;
}

const struct vcpu_ops vmx_ops = {
	.name = "vmx",
	.saves_dr6 = false, /* VM exits leave DR6 alone (§28.3.3) */
	/* Bochs 2.7 takes no external-interrupt exit while the guest runs
	 * with IF=0 (see set_preemption_timer): a kick could wait for the
	 * guest's next exit, for ever if it spins waiting for this one. */
	.kick_may_wait = true,
	.cpu_enable = vmx_cpu_enable,
	.vm_init = vmx_vm_init,
	.vcpu_init = vmx_vcpu_init,
	.run = vmx_run,
	.put = vmx_put,
	.load = vmx_load,
	.get_regs = vmx_get_regs,
	.set_io_intercept = vmx_set_io_intercept,
	.set_msr_intercept = vmx_set_msr_intercept,
	.interrupt_window = vmx_interrupt_window,
	.request_window = vmx_request_window,
	.nmi_window = vmx_nmi_window,
	.request_nmi_window = vmx_request_nmi_window,
	.flush_tlb = vmx_flush_tlb,
	.remap = vmx_remap,
	.flush_nested = vmx_flush_nested,
	.set_debug = vmx_set_debug,
	.native_step = vmx_native_step,
	.get_dr6 = vmx_get_dr6,
	.set_dr6 = vmx_set_dr6,
	.dump = vmx_dump,
};

struct vmx_vm vmx_vms[MAX_VMS];
struct vmx_vcpu vmx_vcpus[MAX_VMS][MAX_VCPUS_PER_VM];
