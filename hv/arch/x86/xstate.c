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
static bool xsavec_broken;
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

/*
 * XSAVEC (compacted format, SDM vol. 1 §13.4.3) puts AVX, the first
 * component after the 576-byte legacy area and header, at offset 576.
 * Bochs 2.7 puts it at 416 (the end of the SSE registers in the legacy
 * area), over the header's reserved bytes: the XRSTOR that follows faults
 * and the guest loses its vector registers (Linux then starts its task's
 * FPU state afresh).  Probed once at boot, before any guest's state is in
 * the registers: YMM0's upper half set, XSAVEC of x87|SSE|AVX, and the
 * pattern looked for at 576.
 */
static bool xsavec_places_avx_right(void)
{
	static uint8_t area[1024] __attribute__((aligned(64)));
	static const uint8_t pattern[32] = { [16] = 0x5a, 0xa5, 0x3c, 0xc3, [31] = 0x77 };
	const uint64_t rfbm = 7; /* x87, SSE, AVX */

	if (!(cpuid(0xd, 1).eax & (1u << 1)) || (all_states & rfbm) != rfbm)
		return true; /* no XSAVEC, or no AVX: nothing to get wrong */
	memset(area, 0, sizeof(area));
	xsetbv0(all_states);
	__asm__ volatile("vmovdqu %1, %%ymm0\n\t"
			 "xsavec64 %0\n\t"
			 "vpxor %%ymm0, %%ymm0, %%ymm0"
			 : "+m"(area) : "m"(pattern), "a"((uint32_t)rfbm), "d"(0u) : "memory");
	/* (no xmm0 clobber to declare: Petrel's own code has no vector registers) */
	return !memcmp(area + 576, pattern + 16, 16);
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
	if (use_xsave && !xsavec_places_avx_right()) {
		xsavec_broken = true;
		pr_warn("xstate: XSAVEC puts the AVX state in the wrong place (a known bug of Bochs 2.7): "
			"hidden from guests, which save with XSAVE instead\n");
	}
}

bool xstate_xsavec_broken(void)
{
	return xsavec_broken;
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

bool xstate_put(struct vcpu_xstate *xs, bool dr6)
{
	uint32_t cpu = this_cpu()->cpu_id;

	if (owner[cpu] != xs)
		return false;
	if (use_xsave)
		xsetbv0(all_states); /* XSAVE/XRSTOR cover what XCR0 enables */
	save_area(xs->area);
	save_dr(xs, dr6);
	owner[cpu] = NULL;
	return use_xsave;
}

bool xstate_load(struct vcpu_xstate *xs, bool dr6)
{
	uint32_t cpu = this_cpu()->cpu_id;
	struct vcpu_xstate *old = owner[cpu];

	if (old == xs)
		return false;
	if (old)
		xstate_put(old, dr6); /* the last owner's state back to memory */
	else if (use_xsave)
		xsetbv0(all_states);
	load_area(xs->area);
	load_dr(xs, dr6);
	owner[cpu] = xs;
	return use_xsave; /* XCR0 is now all_states: the caller loads the guest's */
}

uint64_t xstate_get_dr6(struct vcpu_xstate *xs)
{
	return owner[this_cpu()->cpu_id] == xs ? get_dr6() : xs->dr6;
}

void xstate_set_dr6(struct vcpu_xstate *xs, uint64_t dr6)
{
	if (owner[this_cpu()->cpu_id] == xs)
		set_dr6(dr6);
	else
		xs->dr6 = dr6;
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

/* XMM0-15 straight from the CPU (Petrel itself never uses them).  The
 * template names each register: an asm operand cannot. */
#define XMM_IO(n)                                                                          \
	case n:                                                                            \
		if (store)                                                                 \
			__asm__ volatile("movdqu (%0), %%xmm" #n : : "r"(buf) : "memory"); \
		else                                                                       \
			__asm__ volatile("movdqu %%xmm" #n ", (%0)" : : "r"(buf) : "memory"); \
		break;

static void xmm_io(unsigned reg, uint8_t *buf, bool store)
{
	switch (reg & 15) {
	XMM_IO(0) XMM_IO(1) XMM_IO(2) XMM_IO(3) XMM_IO(4) XMM_IO(5) XMM_IO(6) XMM_IO(7)
	XMM_IO(8) XMM_IO(9) XMM_IO(10) XMM_IO(11) XMM_IO(12) XMM_IO(13) XMM_IO(14) XMM_IO(15)
	}
}

#define XMM_AREA_OFFSET 160 /* XMM0 in the FXSAVE / XSAVE legacy region */
#define XSTATE_BV_SSE (1ull << 1)

void xstate_get_xmm(struct vcpu_xstate *xs, unsigned reg, uint8_t val[16])
{
	if (owner[this_cpu()->cpu_id] == xs) {
		xmm_io(reg, val, false);
		return;
	}
	if (use_xsave && !(le_get(xs->area + 512, 8) & XSTATE_BV_SSE))
		memset(val, 0, 16); /* in its init state */
	else
		memcpy(val, xs->area + XMM_AREA_OFFSET + 16 * (reg & 15), 16);
}

void xstate_set_xmm(struct vcpu_xstate *xs, unsigned reg, const uint8_t val[16])
{
	uint8_t buf[16];

	if (owner[this_cpu()->cpu_id] == xs) {
		memcpy(buf, val, 16);
		xmm_io(reg, buf, true);
		return;
	}
	if (use_xsave && !(le_get(xs->area + 512, 8) & XSTATE_BV_SSE)) {
		/* leaving the init state: the other registers are zero there */
		memset(xs->area + XMM_AREA_OFFSET, 0, 256);
		le_put(xs->area + 512, le_get(xs->area + 512, 8) | XSTATE_BV_SSE, 8);
	}
	memcpy(xs->area + XMM_AREA_OFFSET + 16 * (reg & 15), val, 16);
}

/*
 * MM0-7 (the x87 registers R0-R7, 64 bits each) and the rule that an MMX
 * instruction sets TOP to 0 and tags every register valid (SDM vol. 1
 * §9.5.1).  The image keeps ST(j) = R((TOP + j) mod 8) at 32 + 16j; the
 * state is saved first if it is in the CPU, and loaded back after.
 * Returns the x87 status word as it was (its ES bit: a pending x87
 * exception, which an MMX instruction raises as #MF first).
 */
#define FXSAVE_FSW 2
#define FXSAVE_FTW 4 /* the abridged tag byte: 1 = valid */
#define FXSAVE_ST0 32
#define XSTATE_BV_X87 (1ull << 0)

uint16_t xstate_mmx_io(struct vcpu_xstate *xs, unsigned reg, uint8_t val[8], bool write)
{
	bool live = owner[this_cpu()->cpu_id] == xs;
	uint8_t *a = xs->area, r[8][16];
	uint64_t xcr0 = use_xsave ? xgetbv0() : 0;
	uint16_t fsw;
	unsigned top;

	/* XSAVE and XRSTOR of the whole area under XCR0 = every state, as
	 * xstate_load does (the guest's XCR0 may be in place now). */
	if (live && xcr0 != all_states && use_xsave)
		xsetbv0(all_states);
	if (live)
		save_area(a);
	if (use_xsave && !(le_get(a + 512, 8) & XSTATE_BV_X87)) {
		/* the init state: FCW 0x37f, everything else 0 */
		memset(a, 0, 32 + 128);
		le_put(a, 0x37f, 2);
		le_put(a + 512, le_get(a + 512, 8) | XSTATE_BV_X87, 8);
	}
	fsw = (uint16_t)le_get(a + FXSAVE_FSW, 2);
	top = (fsw >> 11) & 7;
	for (unsigned j = 0; j < 8; j++)
		memcpy(r[(top + j) & 7], a + FXSAVE_ST0 + 16 * j, 16);
	if (write) {
		memcpy(r[reg & 7], val, 8);
		r[reg & 7][8] = r[reg & 7][9] = 0xff; /* exponent all ones, as MMX writes leave it */
		memset(r[reg & 7] + 10, 0, 6);
	} else {
		memcpy(val, r[reg & 7], 8);
	}
	for (unsigned j = 0; j < 8; j++) /* TOP = 0: ST(j) is Rj */
		memcpy(a + FXSAVE_ST0 + 16 * j, r[j], 16);
	le_put(a + FXSAVE_FSW, fsw & ~(7u << 11), 2);
	a[FXSAVE_FTW] = 0xff;
	if (live)
		load_area(a);
	if (live && xcr0 != all_states && use_xsave)
		xsetbv0(xcr0);
	return fsw;
}

/* The x87 status word, without changing anything. */
uint16_t xstate_x87_status(struct vcpu_xstate *xs)
{
	uint16_t fsw;

	if (owner[this_cpu()->cpu_id] == xs) {
		__asm__ volatile("fnstsw %0" : "=a"(fsw));
		return fsw;
	}
	if (use_xsave && !(le_get(xs->area + 512, 8) & XSTATE_BV_X87))
		return 0;
	return (uint16_t)le_get(xs->area + FXSAVE_FSW, 2);
}
