/* SPDX-License-Identifier: MIT */
/*
 * A 4-level x86-64 page-table builder (SDM vol. 3A §4.5).  Picks 1 GiB,
 * 2 MiB or 4 KiB pages by alignment and size.  Pure C over two callbacks,
 * so tests/unit/test_pagetable.c runs it on the host.
 */
#ifndef PETREL_PAGETABLE_H
#define PETREL_PAGETABLE_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define PTE_FLAGS_MASK (~PTE_ADDR_MASK)

struct pt_ops {
	uint64_t (*alloc_page)(void *ctx);            /* zeroed page, 0 if none */
	uint64_t *(*table)(uint64_t phys, void *ctx); /* phys → pointer */
	void *ctx;
	bool allow_1g;
	uint64_t table_flags; /* extra flags on non-leaf entries (nested tables need U) */
};

/* Maps [va, va+size) to [pa, ...) with `flags` (P is implied); all three
 * page aligned.  Fails (-1) on an allocation failure or if a part of the
 * range is already mapped. */
int pt_map(const struct pt_ops *o, uint64_t root, uint64_t va, uint64_t pa, uint64_t size,
	   uint64_t flags);
/* Unmaps [va, va+size) (page aligned), splitting a large page that lies
 * partly inside; tables are kept, so pt_map fills the range again with
 * pages no larger than before.  -1 only if a split found no page. */
int pt_unmap(const struct pt_ops *o, uint64_t root, uint64_t va, uint64_t size);
/* Returns the leaf entry for `va` and its page size, or 0. */
uint64_t pt_lookup(const struct pt_ops *o, uint64_t root, uint64_t va, uint64_t *page_size);
/* Replaces the flags of the 4 KiB page at `va`; -1 if it is not a 4 KiB leaf. */
int pt_set_flags_4k(const struct pt_ops *o, uint64_t root, uint64_t va, uint64_t flags);

#endif
