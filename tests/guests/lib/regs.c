/* SPDX-License-Identifier: MIT */
/*
 * Register state a hypervisor must keep per vCPU, filled with a pattern
 * from a seed and checked later: the x87 stack and control word, MXCSR,
 * XMM0-7 and, where the CPU has them, the upper halves of YMM0-7, ZMM0-7
 * and the opmask registers k0-7; DR0-DR3 and DR6's B0-B3.  Two VMs on one
 * CPU with different seeds must each find their own.  Also: giving the
 * CPU away for a while (yield_ms), and the TSC rate.
 */
#include "guest.h"

#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_NE (1u << 5)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE (1u << 18)
#define TICK_PORT 0x538
#define YIELD_VECTOR 0x3f

static bool have_avx, have_avx512;

/* FPU, SSE and, where there, XSAVE with AVX and AVX-512 state enabled. */
void regs_enable(void)
{
	struct cpuid_regs l1 = cpuid(1);

	write_cr0((read_cr0() & ~CR0_EM) | CR0_MP | CR0_NE);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	if (!(l1.ecx & (1u << 26)))
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	uint32_t ok = cpuid_count(0xd, 0).eax, xcr0 = 3;
	if ((l1.ecx & (1u << 28)) && (ok & 4)) {
		xcr0 |= 4;
		have_avx = true;
		if ((cpuid_count(7, 0).ebx & (1u << 16)) && (ok & 0xe0) == 0xe0) {
			xcr0 |= 0xe0;
			have_avx512 = true;
		}
	}
	__asm__ volatile("xsetbv" : : "c"(0), "a"(xcr0), "d"(0));
}

const char *regs_what(void)
{
	return have_avx512 ? "x87 MXCSR ZMM0-7 k0-7 DR0-3 DR6" : have_avx ? "x87 MXCSR YMM0-7 DR0-3 DR6"
									 : "x87 MXCSR XMM0-7 DR0-3 DR6";
}

struct regimage {
	uint8_t st[8][10];
	uint16_t fcw;
	uint32_t mxcsr;
	uint8_t vec[8][64];
	uint16_t k[8];
	uint32_t dr[4], dr6;
};

static uint32_t next(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* What the registers hold for a seed: x87 values normal (explicit
 * integer bit, a modest exponent) so FLD/FSTP keep every bit. */
static void image_of(uint32_t seed, struct regimage *m)
{
	uint32_t s = seed;

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < 8; i++) {
		for (int b = 0; b < 8; b++)
			m->st[i][b] = (uint8_t)next(&s);
		m->st[i][7] |= 0x80;
		m->st[i][8] = (uint8_t)next(&s);
		m->st[i][9] = 0x3f;
		for (int b = 0; b < 64; b++)
			m->vec[i][b] = (uint8_t)next(&s);
		m->k[i] = (uint16_t)next(&s);
	}
	m->fcw = 0x037f & ~0xc00u;
	m->fcw |= (uint16_t)((seed & 3) << 10);             /* rounding control */
	m->mxcsr = 0x1f80 | ((seed & 3) << 13);             /* rounding control */
	for (int i = 0; i < 4; i++)
		m->dr[i] = (next(&s) & ~3u) | 0x1000;
	m->dr6 = 0xffff0ff0u | (seed & 0xf);
}

#define SET_DR(n, v) __asm__ volatile("mov %0, %%dr" #n : : "r"(v))
#define GET_DR(n, v) __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v))

static void load(const struct regimage *m)
{
	__asm__ volatile("fninit; fldcw %0" : : "m"(m->fcw));
	for (int i = 7; i >= 0; i--) /* pushed last is st(0) = m->st[0] */
		__asm__ volatile("fldt %0" : : "m"(m->st[i]));
	__asm__ volatile("ldmxcsr %0" : : "m"(m->mxcsr));
	if (have_avx512) {
		__asm__ volatile("vmovdqu64 0(%0), %%zmm0; vmovdqu64 64(%0), %%zmm1; vmovdqu64 128(%0), %%zmm2;"
				 "vmovdqu64 192(%0), %%zmm3; vmovdqu64 256(%0), %%zmm4; vmovdqu64 320(%0), %%zmm5;"
				 "vmovdqu64 384(%0), %%zmm6; vmovdqu64 448(%0), %%zmm7" : : "r"(m->vec) : "memory");
		__asm__ volatile("kmovw 0(%0), %%k0; kmovw 2(%0), %%k1; kmovw 4(%0), %%k2; kmovw 6(%0), %%k3;"
				 "kmovw 8(%0), %%k4; kmovw 10(%0), %%k5; kmovw 12(%0), %%k6; kmovw 14(%0), %%k7"
				 : : "r"(m->k) : "memory");
	} else if (have_avx) {
		__asm__ volatile("vmovdqu 0(%0), %%ymm0; vmovdqu 64(%0), %%ymm1; vmovdqu 128(%0), %%ymm2;"
				 "vmovdqu 192(%0), %%ymm3; vmovdqu 256(%0), %%ymm4; vmovdqu 320(%0), %%ymm5;"
				 "vmovdqu 384(%0), %%ymm6; vmovdqu 448(%0), %%ymm7" : : "r"(m->vec) : "memory");
	} else {
		__asm__ volatile("movdqu 0(%0), %%xmm0; movdqu 64(%0), %%xmm1; movdqu 128(%0), %%xmm2;"
				 "movdqu 192(%0), %%xmm3; movdqu 256(%0), %%xmm4; movdqu 320(%0), %%xmm5;"
				 "movdqu 384(%0), %%xmm6; movdqu 448(%0), %%xmm7" : : "r"(m->vec) : "memory");
	}
	SET_DR(0, m->dr[0]);
	SET_DR(1, m->dr[1]);
	SET_DR(2, m->dr[2]);
	SET_DR(3, m->dr[3]);
	SET_DR(6, m->dr6);
}

static void store(struct regimage *m)
{
	memset(m, 0, sizeof(*m));
	__asm__ volatile("fnstcw %0" : "=m"(m->fcw));
	for (int i = 0; i < 8; i++)
		__asm__ volatile("fstpt %0" : "=m"(m->st[i]));
	__asm__ volatile("stmxcsr %0" : "=m"(m->mxcsr));
	if (have_avx512) {
		__asm__ volatile("vmovdqu64 %%zmm0, 0(%0); vmovdqu64 %%zmm1, 64(%0); vmovdqu64 %%zmm2, 128(%0);"
				 "vmovdqu64 %%zmm3, 192(%0); vmovdqu64 %%zmm4, 256(%0); vmovdqu64 %%zmm5, 320(%0);"
				 "vmovdqu64 %%zmm6, 384(%0); vmovdqu64 %%zmm7, 448(%0)" : : "r"(m->vec) : "memory");
		__asm__ volatile("kmovw %%k0, 0(%0); kmovw %%k1, 2(%0); kmovw %%k2, 4(%0); kmovw %%k3, 6(%0);"
				 "kmovw %%k4, 8(%0); kmovw %%k5, 10(%0); kmovw %%k6, 12(%0); kmovw %%k7, 14(%0)"
				 : : "r"(m->k) : "memory");
	} else if (have_avx) {
		__asm__ volatile("vmovdqu %%ymm0, 0(%0); vmovdqu %%ymm1, 64(%0); vmovdqu %%ymm2, 128(%0);"
				 "vmovdqu %%ymm3, 192(%0); vmovdqu %%ymm4, 256(%0); vmovdqu %%ymm5, 320(%0);"
				 "vmovdqu %%ymm6, 384(%0); vmovdqu %%ymm7, 448(%0)" : : "r"(m->vec) : "memory");
	} else {
		__asm__ volatile("movdqu %%xmm0, 0(%0); movdqu %%xmm1, 64(%0); movdqu %%xmm2, 128(%0);"
				 "movdqu %%xmm3, 192(%0); movdqu %%xmm4, 256(%0); movdqu %%xmm5, 320(%0);"
				 "movdqu %%xmm6, 384(%0); movdqu %%xmm7, 448(%0)" : : "r"(m->vec) : "memory");
	}
	GET_DR(0, m->dr[0]);
	GET_DR(1, m->dr[1]);
	GET_DR(2, m->dr[2]);
	GET_DR(3, m->dr[3]);
	GET_DR(6, m->dr6);
}

void regs_fill(uint32_t seed)
{
	struct regimage m;
	image_of(seed, &m);
	load(&m);
}

/* 0 if the registers hold the seed's pattern; else says what differs. */
int regs_check(uint32_t seed, char *why, size_t n)
{
	struct regimage want, got;
	size_t vbytes = have_avx512 ? 64 : have_avx ? 32 : 16;

	image_of(seed, &want);
	store(&got);
	for (int i = 0; i < 8; i++) {
		if (memcmp(got.st[i], want.st[i], 10)) {
			snprintf(why, n, "st(%d) differs", i);
			return -1;
		}
		if (memcmp(got.vec[i], want.vec[i], vbytes)) {
			snprintf(why, n, "vector register %d differs (byte 0: 0x%x, want 0x%x)", i,
				 got.vec[i][0], want.vec[i][0]);
			return -1;
		}
		if (have_avx512 && got.k[i] != want.k[i]) {
			snprintf(why, n, "k%d 0x%x, want 0x%x", i, got.k[i], want.k[i]);
			return -1;
		}
	}
	if (got.fcw != want.fcw || got.mxcsr != want.mxcsr) {
		snprintf(why, n, "FCW 0x%x MXCSR 0x%x, want 0x%x 0x%x", got.fcw, got.mxcsr, want.fcw, want.mxcsr);
		return -1;
	}
	for (int i = 0; i < 4; i++)
		if (got.dr[i] != want.dr[i]) {
			snprintf(why, n, "DR%d 0x%x, want 0x%x", i, got.dr[i], want.dr[i]);
			return -1;
		}
	if ((got.dr6 & 0xf) != (want.dr6 & 0xf)) {
		snprintf(why, n, "DR6 0x%x, want B0-B3 of 0x%x", got.dr6, want.dr6);
		return -1;
	}
	return 0;
}

/* --- time ------------------------------------------------------------------ */

/* Petrel's timing leaf (0x40000010 EAX: TSC kHz); 0 when not known. */
uint32_t tsc_khz(void)
{
	if (!under_petrel() || cpuid(0x40000000).eax < 0x40000010)
		return 0;
	return cpuid(0x40000010).eax;
}

static volatile uint32_t yield_ticks;

static void on_yield_tick(void) { yield_ticks++; }

/* Under Petrel: halts through `ms` ticks of the test device's 1 ms
 * timer, so another vCPU on this CPU gets to run.  Natively a no-op.
 * Leaves IF as it found it. */
void yield_ms(uint32_t ms)
{
	uint32_t flags = read_eflags();

	if (!under_petrel())
		return;
	irq_set_handler(YIELD_VECTOR, on_yield_tick);
	yield_ticks = 0;
	outl(TICK_PORT, (1000u << 8) | YIELD_VECTOR);
	while (yield_ticks < ms)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	outl(TICK_PORT, 0);
	if (flags & EFLAGS_IF)
		sti();
}
