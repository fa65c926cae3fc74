/* SPDX-License-Identifier: MIT */
/*
 * The guest's memory as the hypervisor sees it (hv/core/gmem.c):
 * guest-physical accesses (RAM directly, anything else through the VM's
 * MMIO bus), the guest's own page tables walked as the CPU walks them, and
 * accesses by guest-linear address on the guest's behalf.
 */
#ifndef PETREL_GMEM_H
#define PETREL_GMEM_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* The host address of [gpa, gpa + len) if all of it is RAM, else NULL. */
void *gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

/* Reads or writes len bytes at gpa, split where regions end: RAM and ROM
 * directly (a write to ROM is dropped),
 * the rest through the VM's MMIO bus, where an address no device claims
 * reads all-ones and drops writes (an empty bus). */
void gpa_access(struct vcpu *v, uint64_t gpa, void *buf, uint64_t len, bool write);

/* What an access on the guest's behalf is (page-fault error code bits). */
#define GACC_WRITE (1u << 1)
#define GACC_USER (1u << 2)  /* made at CPL 3 (not an implicit supervisor access) */
#define GACC_FETCH (1u << 4)

/* #PF error code bits (SDM vol. 3A §4.7). */
#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_ID (1u << 4)
#define PF_PK (1u << 5)

/* The guest's PKRU, for the walker's protection-key checks
 * (hv/arch/x86/xstate.c: the register or the vCPU's saved state). */
uint32_t vcpu_pkru(struct vcpu *v);

/*
 * Translates a linear address through the guest's page tables as the CPU
 * does (SDM vol. 3A chapter 4): 32-bit paging with PSE, PAE (the PDPTE
 * registers), 4- and 5-level; reserved bits, R/W with CR0.WP, U/S, SMEP,
 * SMAP with EFLAGS.AC, NX; accessed and dirty flags set on success.  A
 * paging structure outside RAM reads as all-ones, as on an empty bus.
 * 0 with *gpa, or -1 with *pf_error the #PF error code.  The caller has
 * checked canonicality (and truncated to 32 bits outside IA-32e mode).
 */
int gva_translate(struct vcpu *v, uint64_t gva, unsigned acc, uint64_t *gpa, uint32_t *pf_error);
/* Whether a 64-bit linear address is canonical for v (48 bits, 57 with
 * CR4.LA57). */
bool gva_canonical(const struct vcpu *v, uint64_t a);

/* Injects #PF for gva with the given error code (CR2 = gva). */
void inject_page_fault(struct vcpu *v, uint64_t gva, uint32_t error);

/* An access of up to a page, translated: at most two pieces. */
struct gpieces {
	uint64_t gpa[2], len[2];
	unsigned n;
};

/* Translates [lin, lin + len) (len at most a page) for access acc: 0 with
 * *p, or -1 after injecting the #PF (inject) or not. */
int guest_linear_xlate(struct vcpu *v, uint64_t lin, uint64_t len, unsigned acc, struct gpieces *p,
		       bool inject);
/* Then reads or writes it (gpa_access for each piece). */
void gpieces_access(struct vcpu *v, const struct gpieces *p, void *buf, bool write);

/*
 * len bytes at a linear address, on the guest's behalf: every page is
 * translated before anything is accessed (a fault leaves memory as it
 * was), then each piece goes to RAM or the bus (gpa_access).  Addresses
 * wrap at 4 GiB outside IA-32e mode.  0, or -1 after injecting the #PF
 * (inject) or not (peek).
 */
int guest_linear_rw(struct vcpu *v, uint64_t lin, void *buf, uint64_t len, unsigned acc, bool inject);

/*
 * The linear address of len bytes at offset `off` (already truncated to
 * the address size) through segment `seg` (SEG_ES..SEG_GS), checked as the
 * CPU checks a data access (SDM vol. 3A §5.3, §3.4.5; vol. 1 §3.3.7.1):
 * in 64-bit mode only FS and GS have a base, and the address must be
 * canonical; elsewhere the segment must be usable, writable for a write,
 * readable if code, and the access inside its limit (expand-down too);
 * and at CPL 3 with CR0.AM and EFLAGS.AC, aligned.  0 with *lin, or -1
 * after injecting #GP(0), #SS(0) (through SS) or #AC(0).
 */
int guest_seg_linear(struct vcpu *v, int seg, uint64_t off, uint64_t len, bool write, uint64_t *lin);

/* Instruction bytes, from RAM or ROM (no fault injected; -1 if a page
 * cannot be fetched). */
int guest_fetch(struct vcpu *v, uint64_t lin, void *buf, uint64_t len);

#endif
