/* SPDX-License-Identifier: MIT */
/*
 * The tables lm64.S needs for IA-32e mode: a 4-level identity map of the
 * first 4 GiB (2 MiB pages; the 2 MiB at LM_WINDOW in 4 KiB pages through
 * lm_pt, so tests can map single pages) and a 64-bit IDT over lm.S's
 * stubs.  Built on the first call.
 */
#include "guest.h"

#define PTE_P 1ull
#define PTE_W 2ull
#define PTE_PS 0x80ull

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[4][512] __attribute__((aligned(4096)));
uint64_t lm_pt[512] __attribute__((aligned(4096)));
static uint64_t idt64[64 * 2] __attribute__((aligned(16)));

/* Read by lm64.S. */
uint32_t lm_cr3;
struct __attribute__((packed)) { uint16_t limit; uint32_t base; } lm_idtr;
uint64_t lm_exc[7];         /* vector, error code, RIP, CR2, RCX, RSI, RDI */
uint32_t lm_irqs[32];       /* interrupts 32-63 taken in long mode */

extern char lm_stubs[];
uint64_t lm_call_raw(uint32_t fn, uint32_t arg_lo, uint32_t arg_hi);

static void build(void)
{
	for (int g = 0; g < 4; g++) {
		pdpt[g] = (uint32_t)pd[g] | PTE_P | PTE_W;
		for (int i = 0; i < 512; i++)
			pd[g][i] = ((uint64_t)g << 30 | (uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;
	}
	pml4[0] = (uint32_t)pdpt | PTE_P | PTE_W;
	for (int i = 0; i < 512; i++)
		lm_pt[i] = (LM_WINDOW + i * 4096ull) | PTE_P | PTE_W;
	pd[LM_WINDOW >> 30][(LM_WINDOW >> 21) & 511] = (uint32_t)lm_pt | PTE_P | PTE_W;
	/* 64-bit interrupt gates (SDM vol. 3A §6.14.1): selector 0x18, P, DPL 0, type 14 */
	for (int v = 0; v < 64; v++) {
		uint32_t h = (uint32_t)lm_stubs + 16 * v;
		idt64[2 * v] = (h & 0xffff) | (0x18ull << 16) | (0x8eull << 40) | ((uint64_t)(h >> 16) << 48);
		idt64[2 * v + 1] = 0;
	}
	lm_idtr.limit = sizeof(idt64) - 1;
	lm_idtr.base = (uint32_t)idt64;
	lm_cr3 = (uint32_t)pml4;
}

struct lm_result lm_call(const void *fn64, uint64_t arg)
{
	struct lm_result r;

	if (!lm_cr3)
		build();
	lm_exc[0] = ~0ull;
	r.ret = lm_call_raw((uint32_t)fn64, (uint32_t)arg, (uint32_t)(arg >> 32));
	r.vector = lm_exc[0] == ~0ull ? EXC_NONE : (int)lm_exc[0];
	r.error = (uint32_t)lm_exc[1];
	r.rip = lm_exc[2];
	r.cr2 = lm_exc[3];
	r.rcx = lm_exc[4];
	r.rsi = lm_exc[5];
	r.rdi = lm_exc[6];
	/* A #PF while in IA-32e mode: CR2 is the 64-bit address; the 32-bit
	 * side saw it in lm_exc. */
	return r;
}
