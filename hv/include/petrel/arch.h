/* SPDX-License-Identifier: MIT */
/* x86 CPU setup the core calls (hv/arch/x86/). */
#ifndef PETREL_ARCH_H
#define PETREL_ARCH_H

#include <petrel/percpu.h>
#include <stdbool.h>
#include <stdint.h>

#define GDT_CODE 0x08
#define GDT_DATA 0x10
#define GDT_TSS 0x18

#define IST_DF 1  /* double fault */
#define IST_NMI 2
#define IST_MC 3  /* machine check */

/* Loads this CPU's GDT and TSS (with IST stacks) and GS base. */
void cpu_init_tables(struct percpu *pc);
void idt_init(void);
void idt_load(void);

void virt_detect(struct virt_features *vf);
/* One greppable line: "svm npt=1 nrips=0 ..." */
void virt_describe(const struct virt_features *vf, char *buf, unsigned len);

/* SMP bring-up (hv/arch/x86/smp.c). */
void smp_boot_aps(const uint32_t *apic_ids, uint32_t n);
uint32_t smp_cpus_online(void);

/* Identity page tables for the hypervisor (hv/mm/paging.c). */
void paging_init(uint64_t max_phys);
uint64_t paging_root(void);
void paging_set_exec(uint64_t page, bool exec);

/* Hits a breakpoint-free backtrace from a frame pointer. */
void backtrace_from(uint64_t rbp, uint64_t rip);

#endif
