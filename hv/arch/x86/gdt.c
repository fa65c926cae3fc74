/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU GDT and TSS.  Each CPU has its own TSS (the busy bit is per
 * descriptor) with IST stacks for #DF, NMI and #MC, so those run on a known
 * good stack even when the fault came from a broken one (SDM vol. 3A §6.14.5).
 */
#include <arch/cpu.h>
#include <petrel/arch.h>
#include <petrel/lib.h>

#define SEG_CODE64 0x00AF9A000000FFFFull /* present, DPL0, exec/read, L=1 */
#define SEG_DATA 0x00CF92000000FFFFull   /* present, DPL0, read/write */

static void set_tss_desc(uint64_t *gdt, const struct tss64 *tss)
{
	uint64_t base = (uint64_t)(uintptr_t)tss, limit = sizeof(*tss) - 1;

	/* 16-byte system descriptor, type 9 = available 64-bit TSS. */
	gdt[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt[1] = base >> 32;
}

void cpu_init_tables(struct percpu *pc)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;

	pc->self = pc;
	pc->gdt[0] = 0;
	pc->gdt[1] = SEG_CODE64;
	pc->gdt[2] = SEG_DATA;
	memset(&pc->tss, 0, sizeof(pc->tss));
	pc->tss.ist[IST_DF - 1] = pc->ist_top[0];
	pc->tss.ist[IST_NMI - 1] = pc->ist_top[1];
	pc->tss.ist[IST_MC - 1] = pc->ist_top[2];
	pc->tss.iomap_base = sizeof(pc->tss); /* no I/O bitmap */
	set_tss_desc(&pc->gdt[3], &pc->tss);

	gdtr.limit = sizeof(pc->gdt) - 1;
	gdtr.base = (uint64_t)(uintptr_t)pc->gdt;
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %w2, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"xorl %%eax, %%eax\n\t"
		"movw %%ax, %%fs\n\t"
		"movw %%ax, %%gs\n\t"
		"ltr %w3\n\t"
		:
		: "m"(gdtr), "i"(GDT_CODE), "r"(GDT_DATA), "r"(GDT_TSS)
		: "rax", "memory");
	/* GS base last: loading %gs above cleared it. */
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)pc);
}
