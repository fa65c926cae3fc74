/* SPDX-License-Identifier: MIT */
/*
 * Memory map hygiene.  Loaders hand us maps in any order, sometimes with
 * touching ranges split in two; the frame allocator wants them sorted and
 * merged.  Ranges of different types that overlap mean we cannot tell what
 * is RAM, so that is an error.  Pure C: tests/unit/test_memmap.c.
 */
#include <petrel/boot_info.h>
#include <petrel/lib.h>

static int fail(char *err, size_t errlen, const char *fmt, uint64_t a, uint64_t b)
{
	pt_snprintf(err, errlen, fmt, a, b);
	return -1;
}

static uint64_t region_end(const struct boot_mem_region *r)
{
	return r->base + r->len;
}

/* Insertion sort: at most BOOT_MAX_MEM entries, usually a dozen. */
static void sort_by_base(struct boot_mem_region *m, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct boot_mem_region r = m[i];
		uint32_t j = i;
		while (j > 0 && m[j - 1].base > r.base) {
			m[j] = m[j - 1];
			j--;
		}
		m[j] = r;
	}
}

int memmap_normalize(struct boot_info *bi, char *err, size_t errlen)
{
	struct boot_mem_region *m = bi->mem;
	uint32_t n = 0;

	/* Drop empty entries and reject ones that wrap past 2^64. */
	for (uint32_t i = 0; i < bi->nr_mem; i++) {
		if (m[i].len == 0)
			continue;
		if (m[i].base + m[i].len < m[i].base)
			return fail(err, errlen, "memory map entry at 0x%llx wraps around", m[i].base, 0);
		m[n++] = m[i];
	}
	if (n == 0)
		return fail(err, errlen, "memory map is empty", 0, 0);
	sort_by_base(m, n);

	uint32_t out = 0;
	for (uint32_t i = 1; i < n; i++) {
		struct boot_mem_region *last = &m[out];
		if (m[i].base < region_end(last) && m[i].type != last->type)
			return fail(err, errlen,
				    "memory map ranges overlap with different types at 0x%llx (previous ends at 0x%llx)",
				    m[i].base, region_end(last));
		if (m[i].base <= region_end(last) && m[i].type == last->type) {
			uint64_t end = MAX(region_end(last), region_end(&m[i]));
			last->len = end - last->base;
			continue;
		}
		m[++out] = m[i];
	}
	bi->nr_mem = out + 1;
	if (memmap_usable_bytes(bi) == 0)
		return fail(err, errlen, "memory map has no usable RAM", 0, 0);
	return 0;
}

uint64_t memmap_usable_bytes(const struct boot_info *bi)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < bi->nr_mem; i++)
		if (bi->mem[i].type == BOOT_MEM_USABLE)
			total += bi->mem[i].len;
	return total;
}

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

int boot_check_modules(const struct boot_info *bi, uint64_t image_start, uint64_t image_end,
		       char *err, size_t errlen)
{
	for (uint32_t i = 0; i < bi->nr_modules; i++) {
		const struct boot_module *m = &bi->modules[i];
		if (m->end <= m->start)
			return fail(err, errlen, "module %llu is empty or inverted (start 0x%llx)", i, m->start);
		if (overlaps(m->start, m->end, image_start, image_end))
			return fail(err, errlen, "module %llu at 0x%llx overlaps the hypervisor image", i,
				    m->start);
		for (uint32_t j = 0; j < i; j++)
			if (overlaps(m->start, m->end, bi->modules[j].start, bi->modules[j].end))
				return fail(err, errlen, "modules %llu and %llu overlap", j, i);
	}
	return 0;
}
