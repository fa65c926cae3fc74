/* SPDX-License-Identifier: MIT */
/*
 * Writes to CR0, CR4 and EFER checked as the CPU checks them (Intel SDM
 * vol. 2B "MOV—Move to/from Control Registers", vol. 3A §2.5 and §10.8.5;
 * AMD APM vol. 2 §3.1 and vol. 3 MOV CRn, WRMSR).  Pure logic over a small
 * state block, shared by both backends: a write either faults (#GP, the
 * caller injects it) or yields the new state and what else the architecture
 * does with it (flush the TLB, load the PAE PDPTEs, switch IA-32e mode).
 * Built unchanged for the host unit tests (tests/unit/test_cr.c).
 */
#ifndef PETREL_CR_H
#define PETREL_CR_H

#include <stdbool.h>
#include <stdint.h>

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
/* The bits CR0 has; the rest of 31:0 is reserved and ignored on write
 * (SDM vol. 3A §2.5), 63:32 must be zero. */
#define CR0_DEFINED (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
		     CR0_NW | CR0_CD | CR0_PG)

#define CR4_VME (1ull << 0)
#define CR4_PVI (1ull << 1)
#define CR4_TSD (1ull << 2)
#define CR4_DE (1ull << 3)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_MCE (1ull << 6)
#define CR4_PGE (1ull << 7)
#define CR4_PCE (1ull << 8)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP (1ull << 11)
#define CR4_LA57 (1ull << 12)
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_PCIDE (1ull << 17)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE (1ull << 22)
#define CR4_PKS (1ull << 24)

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)
#define EFER_FFXSR (1ull << 14)
#define EFER_TCE (1ull << 15)

/* What the guest's CPUID lets it set. */
struct cr_caps {
	uint64_t cr4_allowed;  /* CR4 bits a write may set */
	uint64_t efer_allowed; /* EFER bits a WRMSR may set (LMA aside: the CPU's own) */
	uint8_t maxphyaddr;    /* CPUID 0x80000008 EAX[7:0] */
	bool page_1g;          /* CPUID 0x80000001 EDX[26]: 1 GiB pages */
};

/* The registers a write is checked against and changes. */
struct cr_state {
	uint64_t cr0, cr3, cr4, efer;
	bool cs_l; /* CS.L: in 64-bit mode when EFER.LMA is also set */
};

/* What the write does besides changing the state (flags). */
#define CR_FLUSH_TLB (1u << 0) /* a bit that changes how addresses translate */
#define CR_LOAD_PDPTES (1u << 1) /* PAE paging after the write, and a bit that reloads the PDPTEs changed (SDM vol. 3A §4.4.1) */
#define CR_MODE (1u << 2)      /* EFER.LMA changed: IA-32e mode entered or left */

/* 0 with *out and *effects filled, or -1: #GP(0), nothing changes. */
int cr0_check(const struct cr_state *s, const struct cr_caps *c, uint64_t val, struct cr_state *out,
	      uint32_t *effects);
int cr4_check(const struct cr_state *s, const struct cr_caps *c, uint64_t val, struct cr_state *out,
	      uint32_t *effects);
int efer_check(const struct cr_state *s, const struct cr_caps *c, uint64_t val, struct cr_state *out,
	       uint32_t *effects);

/* PAE paging without IA-32e mode: the mode with four PDPTE registers. */
static inline bool cr_pae_legacy(const struct cr_state *s)
{
	return (s->cr0 & CR0_PG) && (s->cr4 & CR4_PAE) && !(s->efer & EFER_LMA);
}

/* A PAE PDPTE that is present and sets a reserved bit (2:1, 8:5, and from
 * MAXPHYADDR up): loading it raises #GP (SDM vol. 3A §4.4.1). */
bool cr_pdpte_bad(uint64_t pdpte, uint8_t maxphyaddr);

#endif
