/* SPDX-License-Identifier: MIT */
/*
 * xsave: XCR0 and the XSAVE sizes CPUID reports for it.  Everywhere (SDM
 * vol. 1 ch. 13, vol. 2C XSETBV/XGETBV):
 *  - XSETBV and XGETBV raise #UD while CR4.OSXSAVE is clear, and CPUID.1
 *    shows OSXSAVE as CR4 has it;
 *  - XCR0 starts as 1 (x87 only);
 *  - XSETBV takes x87|SSE, x87|SSE|AVX and every state CPUID 0xd lists,
 *    and each time CPUID 0xd.0 EBX is the end of the last enabled state
 *    (from the sub-leaves' offsets and sizes), and with all of them EBX
 *    equals ECX; XSAVE then writes nothing past EBX bytes;
 *  - XSETBV raises #GP(0) without x87, for AVX without SSE, for XCR1, for a
 *    reserved bit, and leaves XCR0 as it was.
 * With "xcr0=all" on the command line the guest keeps every state on, else
 * x87|SSE, through thousands of exits: two such VMs on one CPU must each
 * keep their own XCR0 (each vCPU's XCR0 is its own, hv/core/run.c).
 */
#include "guest.h"

const char guest_name[] = "xsave";

#define CPUID1_ECX_XSAVE   (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define CR4_OSXSAVE        (1u << 18)
#define XCR0_X87_SSE       3ull
#define XCR0_AVX           4ull
#define SPIN_EXITS         20000

struct xsetbv_arg { uint32_t xcr; uint64_t val; };

static void do_xsetbv(void *p)
{
	const struct xsetbv_arg *a = p;
	__asm__ volatile("xsetbv" : : "c"(a->xcr), "a"((uint32_t)a->val), "d"((uint32_t)(a->val >> 32))
			 : "memory");
}

static void do_xgetbv(void *p)
{
	*(uint64_t *)p = xgetbv(0);
}

static int xsetbv_safe(uint32_t xcr, uint64_t val)
{
	struct xsetbv_arg a = { xcr, val };
	return exc_call(do_xsetbv, &a).vector;
}

/* The standard-format size for the states in mask, from the sub-leaves. */
static uint32_t size_for(uint64_t mask)
{
	uint32_t size = 512 + 64;
	for (uint32_t i = 2; i < 63; i++) {
		if (!(mask & (1ull << i)))
			continue;
		struct cpuid_regs c = cpuid_count(0xd, i);
		if (c.ebx + c.eax > size)
			size = c.ebx + c.eax;
	}
	return size;
}

/* XCR0 := val, then XGETBV and CPUID 0xd.0 EBX must agree with it. */
static void check_set(const char *name, uint64_t val)
{
	int vec = xsetbv_safe(0, val);
	uint64_t now = xgetbv(0);
	uint32_t ebx = cpuid_count(0xd, 0).ebx, want = size_for(val);
	report(vec == EXC_NONE && now == val && ebx == want,
	       "%s: XSETBV 0x%llx: %s, XGETBV 0x%llx, CPUID 0xd.0 EBX %u (want %u)", name, val,
	       exc_name(vec), now, ebx, want);
}

static void check_gp(const char *name, uint32_t xcr, uint64_t val)
{
	uint64_t before = xgetbv(0);
	int vec = xsetbv_safe(xcr, val);
	uint64_t after = xgetbv(0);
	report(vec == VEC_GP && after == before, "%s: XSETBV XCR%u 0x%llx: %s, XCR0 0x%llx -> 0x%llx",
	       name, xcr, val, exc_name(vec), before, after);
}

/* XSAVE of everything into a patterned buffer: nothing past EBX bytes
 * changes, and the header's XSTATE_BV names only enabled states. */
static uint8_t area[16384] __attribute__((aligned(64)));

static void check_xsave_extent(uint64_t xcr0)
{
	uint32_t ebx = cpuid_count(0xd, 0).ebx, past = 0;
	if (ebx + 64 > sizeof(area)) {
		report_skip("xsave-extent", "XSAVE area of %u bytes is larger than the buffer", ebx);
		return;
	}
	memset(area, 0xa5, sizeof(area));
	memset(area + 512, 0, 64); /* the header: XSAVE sets only RFBM's bits of XSTATE_BV */
	__asm__ volatile("xsave (%0)" : : "r"(area), "a"(~0u), "d"(~0u) : "memory");
	for (uint32_t i = ebx; i < sizeof(area); i++)
		past += area[i] != 0xa5;
	uint64_t bv;
	memcpy(&bv, area + 512, 8);
	report(past == 0 && !(bv & ~xcr0), "xsave-extent: %u bytes changed past EBX %u, XSTATE_BV 0x%llx",
	       past, ebx, bv);
}

/* Thousands of exits (CPUID always exits under a hypervisor) with XCR0
 * and the size CPUID derives from it checked after each. */
static void check_kept(uint64_t val)
{
	uint32_t want = size_for(val), bad = xsetbv_safe(0, val) != EXC_NONE, i;
	uint64_t seen = xgetbv(0);
	for (i = 0; i < SPIN_EXITS && !bad; i++) {
		uint32_t ebx = cpuid_count(0xd, 0).ebx;
		seen = xgetbv(0);
		bad = seen != val || ebx != want;
	}
	report(!bad, "xcr0-kept: %u exits with XCR0 0x%llx, then XGETBV 0x%llx", i, val, seen);
}

void guest_main(void)
{
	if (!(cpuid(1).ecx & CPUID1_ECX_XSAVE)) {
		report_skip("xsave", "CPUID.1:ECX has no XSAVE");
		return;
	}
	struct cpuid_regs d = cpuid_count(0xd, 0);
	uint64_t all = d.eax | ((uint64_t)d.edx << 32), v;

	write_cr4(read_cr4() & ~CR4_OSXSAVE);
	int vec = exc_call(do_xgetbv, &v).vector;
	int vec2 = xsetbv_safe(0, XCR0_X87_SSE);
	report(vec == VEC_UD && vec2 == VEC_UD, "osxsave-off-ud: XGETBV %s, XSETBV %s", exc_name(vec),
	       exc_name(vec2));
	report(!(cpuid(1).ecx & CPUID1_ECX_OSXSAVE), "cpuid-osxsave-off: CPUID.1:ECX 0x%x", cpuid(1).ecx);
	write_cr4(read_cr4() | CR4_OSXSAVE);
	report(cpuid(1).ecx & CPUID1_ECX_OSXSAVE, "cpuid-osxsave-on: CPUID.1:ECX 0x%x", cpuid(1).ecx);
	report(xgetbv(0) == 1, "xcr0-initial: XGETBV 0x%llx, want 1", xgetbv(0));

	check_set("xsetbv-sse", XCR0_X87_SSE);
	if (all & XCR0_AVX)
		check_set("xsetbv-avx", XCR0_X87_SSE | XCR0_AVX);
	else
		report_skip("xsetbv-avx", "CPUID 0xd.0 lists no AVX state");
	check_set("xsetbv-all", all);
	d = cpuid_count(0xd, 0);
	report(d.ebx == d.ecx, "size-all-equals-max: CPUID 0xd.0 EBX %u ECX %u", d.ebx, d.ecx);
	check_xsave_extent(all);

	check_gp("gp-no-x87", 0, all & ~1ull);
	if (all & XCR0_AVX)
		check_gp("gp-avx-without-sse", 0, 1 | XCR0_AVX);
	check_gp("gp-xcr1", 1, XCR0_X87_SSE);
	check_gp("gp-reserved-bit", 0, all | (1ull << 63));

	check_kept(cmdline_has("xcr0=all") ? all : XCR0_X87_SSE);
}
