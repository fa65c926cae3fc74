/* SPDX-License-Identifier: MIT */
/* Per-CPU data.  GS base points at each CPU's struct percpu (self at 0). */
#ifndef PETREL_PERCPU_H
#define PETREL_PERCPU_H

#include <petrel/arch_virt.h>
#include <stdint.h>

#define MAX_CPUS 64
#define HV_STACK_SIZE (16 * 1024)
#define IST_STACK_SIZE (8 * 1024)

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "TSS is 104 bytes (SDM vol. 3A §8.7)");

struct percpu {
	struct percpu *self; /* must stay first: this_cpu() reads %gs:0 */
	uint32_t cpu_id;     /* 0 = bootstrap processor, in MADT order */
	uint32_t apic_id;
	uint64_t stack_top;
	uint64_t gdt[7] __attribute__((aligned(16))); /* null, code, data, TSS (2), spare */
	struct tss64 tss __attribute__((aligned(16)));
	uint64_t ist_top[3]; /* #DF, NMI, #MC stacks */
	volatile uint32_t online;
	uint32_t virt_ok; /* this CPU's virtualization features match the BSP's */
	struct virt_features virt;
};

extern struct percpu *percpu_of[MAX_CPUS];
extern uint32_t nr_cpus_found;
struct percpu *percpu_alloc(uint32_t cpu_id, uint32_t apic_id);

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

#endif
