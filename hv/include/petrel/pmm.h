/* SPDX-License-Identifier: MIT */
/*
 * Physical frame allocator: a sorted list of free extents (page granular).
 * Built from the usable ranges of the memory map, minus everything the
 * hypervisor must never hand out (its image, the modules, ACPI tables,
 * page 0).  Allocation takes the highest fitting pages below a limit, which
 * keeps low memory for what needs it (the AP trampoline below 1 MiB, page
 * tables the 32-bit trampoline can reach below 4 GiB).  Pure C.
 */
#ifndef PETREL_PMM_H
#define PETREL_PMM_H

#include <stdbool.h>
#include <stdint.h>

#define PMM_MAX_RANGES 512

struct pmm_range {
	uint64_t base, end; /* [base, end), page aligned */
};

struct pmm {
	struct pmm_range r[PMM_MAX_RANGES];
	uint32_t nr;
	bool overflow; /* a free or reserve had to drop a range: a bug or a wild map */
};

void pmm_init(struct pmm *p);
/* Adds [base, base+len) rounded inward to whole pages. */
void pmm_add_free(struct pmm *p, uint64_t base, uint64_t len);
/* Removes [base, base+len) rounded outward to whole pages. */
void pmm_reserve(struct pmm *p, uint64_t base, uint64_t len);
/* Returns the physical address of `pages` pages aligned to `align` (a power
 * of two, >= 4096) ending at or below `limit`, or 0 if none fit. */
uint64_t pmm_alloc(struct pmm *p, uint64_t pages, uint64_t align, uint64_t limit);
void pmm_free(struct pmm *p, uint64_t base, uint64_t pages);
uint64_t pmm_free_bytes(const struct pmm *p);
bool pmm_is_free(const struct pmm *p, uint64_t addr);

/* The hypervisor's allocator (hv/mm/frames.c). */
extern struct pmm hv_pmm;
/* One zeroed page below `limit`; panics when memory runs out. */
uint64_t frame_alloc_zeroed(uint64_t pages, uint64_t limit);
/* `pages` contiguous, `align`-aligned, not zeroed; 0 when there is no
 * such run (a VM's RAM, ROM, disk: the caller says so).  Every use of
 * hv_pmm goes through these, under one lock: CPUs allocate at once. */
uint64_t frame_alloc(uint64_t pages, uint64_t align);
void frame_free(uint64_t base, uint64_t pages);
/* pt_ops callbacks for tables the hypervisor builds in its own frames
 * (nested/extended page tables): a zeroed page anywhere, and the page
 * itself, RAM being identity mapped. */
uint64_t frame_pt_alloc(void *ctx);
uint64_t *frame_pt_table(uint64_t pa, void *ctx);

#endif
