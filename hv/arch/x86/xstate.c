/* SPDX-License-Identifier: MIT */
/*
 * Register state no VM entry or exit switches, kept per vCPU: the x87,
 * SSE, AVX, AVX-512... state (everything XSAVE covers, or FXSAVE's 512
 * bytes on a CPU without XSAVE) and the debug address registers DR0-DR3
 * (and DR6 where the backend's state area has none: VMX).  Petrel itself
 * never touches any of it (-mgeneral-regs-only, no debug registers), so it
 * is switched lazily: each CPU remembers whose state it holds, and only
 * when another vCPU runs there is the old owner's saved and the new one's
 * loaded.  The save covers every state component the CPU supports, with
 * XCR0 set to all of them for the moment, whatever the guests enabled: a
 * component one guest left behind never shows through to another.
 * SDM vol. 1 chapter 13 (XSAVE), vol. 3A §17.2 (debug registers).
 */
#include <arch/cpu.h>
#include <arch/xstate.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>
#include <petrel/pmm.h>
#include <petrel/vm.h>

#define CR4_OSFXSR_ (1ull << 9)
#define CR4_OSXMMEXCPT_ (1ull << 10)
#define FCW_POWER_ON 0x0040 /* x87 control word after RESET (SDM vol. 3A table 10-1) */
#define MXCSR_POWER_ON 0x1f80
#define DR6_POWER_ON 0xffff0ff0ull

static bool use_xsave;
static uint64_t all_states; /* every component XCR0 may enable */
static uint32_t area_size;
static struct vcpu_xstate *owner[MAX_CPUS];
static uint32_t pkru_offset; /* of PKRU in the standard XSAVE format, 0: none */

#define XCR0_PKRU_ (1ull << 9)

/* The standard-format XSAVE size for every component: the end of the
 * last one, from each sub-leaf (Bochs 2.7 answers 0xd.0 ECX/EBX for the
 * compacted form, so sub-leaf 0 is not trusted alone). */
static uint32_t full_size(uint64_t mask)
{
	uint32_t size = MAX(cpuid(0xd, 0).ecx, 512 + 64);

	for (uint32_t i = 2; i < 63; i++)
		if (mask & (1ull << i)) {
			struct cpuid_regs c = cpuid(0xd, i);
			size = MAX(size, c.ebx + c.eax);
		}
	return size;
}

/* Per CPU: SSE enabled for FXSAVE/XSAVE to cover the XMM registers, and
 * XSAVE itself (XSETBV needs CR4.OSXSAVE).  Before the backend records
 * the host's CR4 (VMX loads it from the VMCS on every exit). */
void xstate_cpu_init(void)
{
	uint64_t cr4 = read_cr4() | CR4_OSFXSR_ | CR4_OSXMMEXCPT_;

	if (cpu_has_xsave())
		cr4 |= CR4_OSXSAVE;
	/* PKE, so RDPKRU reads a guest's PKRU (vcpu_pkru): keys apply to
	 * user pages only, and Petrel has none. */
	if (cpu_has_pku())
		cr4 |= CR4_PKE_;
	write_cr4(cr4);
	if (this_cpu()->cpu_id != 0)
		return;
	use_xsave = cpu_has_xsave();
	if (use_xsave) {
		struct cpuid_regs d = cpuid(0xd, 0);
		all_states = d.eax | ((uint64_t)d.edx << 32);
		area_size = full_size(all_states);
		if (all_states & XCR0_PKRU_)
			pkru_offset = cpuid(0xd, 9).ebx;
	} else {
		area_size = 512;
	}
	pr_info("xstate: %s, %u bytes per vCPU, states 0x%llx\n", use_xsave ? "xsave" : "fxsave",
		area_size, (unsigned long long)all_states);
}

static void save_area(uint8_t *area)
{
	if (use_xsave)
		__asm__ volatile("xsave64 %0" : "+m"(*area)
				 : "a"((uint32_t)all_states), "d"((uint32_t)(all_states >> 32)) : "memory");
	else
		__asm__ volatile("fxsave64 %0" : "+m"(*area) : : "memory");
}

static void load_area(const uint8_t *area)
{
	if (use_xsave)
		__asm__ volatile("xrstor64 %0" : : "m"(*area),
				 "a"((uint32_t)all_states), "d"((uint32_t)(all_states >> 32)) : "memory");
	else
		__asm__ volatile("fxrstor64 %0" : : "m"(*area) : "memory");
}

#define DR_ACCESS(n)                                                                               \
	static uint64_t get_dr##n(void) { uint64_t v; __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v)); return v; } \
	static void set_dr##n(uint64_t v) { __asm__ volatile("mov %0, %%dr" #n : : "r"(v)); }
DR_ACCESS(0)
DR_ACCESS(1)
DR_ACCESS(2)
DR_ACCESS(3)
DR_ACCESS(6)
#undef DR_ACCESS

static void save_dr(struct vcpu_xstate *xs, bool dr6)
{
	xs->dr[0] = get_dr0();
	xs->dr[1] = get_dr1();
	xs->dr[2] = get_dr2();
	xs->dr[3] = get_dr3();
	if (dr6)
		xs->dr6 = get_dr6();
}

static void load_dr(const struct vcpu_xstate *xs, bool dr6)
{
	set_dr0(xs->dr[0]);
	set_dr1(xs->dr[1]);
	set_dr2(xs->dr[2]);
	set_dr3(xs->dr[3]);
	if (dr6)
		set_dr6(xs->dr6);
}

/* Power-on values (SDM vol. 3A table 10-1): x87 control word 0x40,
 * MXCSR 0x1f80, every register zero; XSTATE_BV says "from memory" for x87
 * and SSE, "initial" for the rest.  DR0-3 zero, DR6 0xffff0ff0. */
int xstate_vcpu_reset(struct vcpu_xstate *xs)
{
	if (!xs->area) {
		uint64_t pa = frame_alloc_zeroed(ALIGN_UP(area_size, PAGE_SIZE) / PAGE_SIZE, UINT64_MAX);
		if (!pa)
			return -1;
		xs->area = (uint8_t *)(uintptr_t)pa;
	}
	memset(xs->area, 0, area_size);
	le_put(xs->area + 0, FCW_POWER_ON, 2);
	le_put(xs->area + 24, MXCSR_POWER_ON, 4);
	if (use_xsave)
		le_put(xs->area + 512, 3, 8); /* XSTATE_BV: x87 and SSE from the image */
	memset(xs->dr, 0, sizeof(xs->dr));
	xs->dr6 = DR6_POWER_ON;
	/* A reset on the CPU that holds this state: load it afresh. */
	for (uint32_t c = 0; c < MAX_CPUS; c++)
		if (owner[c] == xs)
			owner[c] = NULL;
	return 0;
}

bool xstate_load(struct vcpu_xstate *xs, bool dr6)
{
	uint32_t cpu = this_cpu()->cpu_id;
	struct vcpu_xstate *old = owner[cpu];

	if (old == xs)
		return false;
	if (use_xsave)
		xsetbv0(all_states); /* XSAVE/XRSTOR cover what XCR0 enables */
	if (old) {
		save_area(old->area);
		save_dr(old, dr6);
	}
	load_area(xs->area);
	load_dr(xs, dr6);
	owner[cpu] = xs;
	return use_xsave; /* XCR0 is now all_states: the caller loads the guest's */
}

/* The guest's PKRU: in the CPU while this vCPU owns its state (it ran
 * here last, and the host never writes PKRU), else in its saved area.  An
 * area saved while XCR0 lacked PKRU holds its init value, 0. */
uint32_t vcpu_pkru(struct vcpu *v)
{
	uint32_t val = 0;

	if (!pkru_offset)
		return 0;
	if (owner[this_cpu()->cpu_id] == &v->xs)
		return rdpkru();
	if (le_get(v->xs.area + 512, 8) & XCR0_PKRU_) /* XSTATE_BV: saved, not in init state */
		memcpy(&val, v->xs.area + pkru_offset, 4);
	return val;
}
