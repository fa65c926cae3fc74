/* SPDX-License-Identifier: MIT */
/*
 * UEFI memory map -> boot_info regions (see memmap.h for why it is pure).
 */
#include "memmap.h"

/* EFI_MEMORY_DESCRIPTOR (UEFI 2.10 §7.2 GetMemoryMap); the firmware's
 * DescriptorSize may be larger, so never index with sizeof() of this. */
struct efi_desc {
	uint32_t type, pad;
	uint64_t phys, virt, pages, attr;
};

#define EFI_PAGE_SHIFT_ 12 /* EFI pages are always 4 KiB */

static const struct efi_desc *desc_at(const void *map, size_t dsize, size_t i)
{
	return (const struct efi_desc *)((const uint8_t *)map + i * dsize);
}

/*
 * The non-empty descriptor with the lowest start >= from.  UEFI does not
 * promise a sorted map, and we may neither allocate nor reorder in place
 * cheaply, so select in order: O(n^2) over a few hundred entries is nothing.
 */
static const struct efi_desc *next_desc(const void *map, size_t n,
					size_t dsize, uint64_t from)
{
	const struct efi_desc *d, *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		d = desc_at(map, dsize, i);
		if (d->pages == 0 || d->phys < from)
			continue;
		if (!best || d->phys < best->phys)
			best = d;
	}
	return best;
}

/* Append, or grow the previous region if this one continues it. */
static int add_region(struct boot_info *bi, uint64_t base, uint64_t len,
		      uint32_t type)
{
	struct boot_mem_region *last;

	if (bi->nr_mem > 0) {
		last = &bi->mem[bi->nr_mem - 1];
		if (last->type == type && last->base + last->len == base) {
			last->len += len;
			return 0;
		}
	}
	if (bi->nr_mem == BOOT_MAX_MEM)
		return -1;
	last = &bi->mem[bi->nr_mem++];
	last->base = base;
	last->len = len;
	last->type = type;
	last->pad = 0;
	return 0;
}

int memmap_convert(const void *map, size_t size, size_t dsize,
		   struct boot_info *bi)
{
	const struct efi_desc *d;
	uint64_t from = 0;
	size_t n;

	bi->nr_mem = 0;
	if (dsize < sizeof(struct efi_desc))
		return -1;
	n = size / dsize;
	while ((d = next_desc(map, n, dsize, from)) != NULL) {
		if (add_region(bi, d->phys, d->pages << EFI_PAGE_SHIFT_,
			       boot_mem_type_from_efi(d->type)) < 0) {
			bi->nr_mem = 0;
			return -1;
		}
		from = d->phys + 1; /* starts are unique and page-aligned */
		if (from == 0)
			break;
	}
	return 0;
}
