/* SPDX-License-Identifier: MIT */
/* Extent-list frame allocator; see petrel/pmm.h.  Pure C: tests/unit/test_pmm.c. */
#include <petrel/lib.h>
#include <petrel/pmm.h>

void pmm_init(struct pmm *p)
{
	p->nr = 0;
	p->overflow = false;
}

static void remove_at(struct pmm *p, uint32_t i)
{
	memmove(&p->r[i], &p->r[i + 1], (p->nr - i - 1) * sizeof(p->r[0]));
	p->nr--;
}

static bool insert_at(struct pmm *p, uint32_t i, uint64_t base, uint64_t end)
{
	if (p->nr == PMM_MAX_RANGES) {
		p->overflow = true;
		return false;
	}
	memmove(&p->r[i + 1], &p->r[i], (p->nr - i) * sizeof(p->r[0]));
	p->r[i] = (struct pmm_range){ base, end };
	p->nr++;
	return true;
}

/* Inserts [base, end) keeping the list sorted and merging neighbours.
 * A range that overlaps a free one is merged too (idempotent add). */
static void add_range(struct pmm *p, uint64_t base, uint64_t end)
{
	uint32_t i = 0;

	if (base >= end)
		return;
	while (i < p->nr && p->r[i].end < base)
		i++;
	if (i < p->nr && p->r[i].base <= end) {
		p->r[i].base = MIN(p->r[i].base, base);
		p->r[i].end = MAX(p->r[i].end, end);
		while (i + 1 < p->nr && p->r[i + 1].base <= p->r[i].end) {
			p->r[i].end = MAX(p->r[i].end, p->r[i + 1].end);
			remove_at(p, i + 1);
		}
		return;
	}
	insert_at(p, i, base, end);
}

void pmm_add_free(struct pmm *p, uint64_t base, uint64_t len)
{
	uint64_t end = base + len < base ? UINT64_MAX : base + len;
	if (ALIGN_UP(base, PAGE_SIZE) < base)
		return; /* starts in the last page: rounding up wraps to 0 */
	add_range(p, ALIGN_UP(base, PAGE_SIZE), ALIGN_DOWN(end, PAGE_SIZE));
}

static void cut(struct pmm *p, uint64_t base, uint64_t end)
{
	for (uint32_t i = 0; i < p->nr; i++) {
		struct pmm_range *r = &p->r[i];
		if (r->end <= base || r->base >= end)
			continue;
		if (r->base >= base && r->end <= end) {
			remove_at(p, i--);
		} else if (r->base < base && r->end > end) {
			uint64_t old_end = r->end;
			r->end = base;
			insert_at(p, i + 1, end, old_end);
			i++;
		} else if (r->base < base) {
			r->end = base;
		} else {
			r->base = end;
		}
	}
}

void pmm_reserve(struct pmm *p, uint64_t base, uint64_t len)
{
	uint64_t end = base + len < base ? UINT64_MAX : base + len;
	/* Rounding up into the last page wraps to 0; no free range goes past
	 * its start (pmm_add_free rounds down), so stopping there is enough. */
	uint64_t top = ALIGN_UP(end, PAGE_SIZE) < end ? ALIGN_DOWN(UINT64_MAX, PAGE_SIZE)
						      : ALIGN_UP(end, PAGE_SIZE);
	cut(p, ALIGN_DOWN(base, PAGE_SIZE), top);
}

uint64_t pmm_alloc(struct pmm *p, uint64_t pages, uint64_t align, uint64_t limit)
{
	uint64_t size = pages * PAGE_SIZE;

	if (pages == 0 || pages > UINT64_MAX / PAGE_SIZE || align < PAGE_SIZE || (align & (align - 1)))
		return 0;
	for (uint32_t i = p->nr; i-- > 0;) {
		struct pmm_range *r = &p->r[i];
		uint64_t top = MIN(r->end, limit), base;
		if (top < size || top - size < r->base)
			continue;
		base = ALIGN_DOWN(top - size, align);
		if (base < r->base || base == 0)
			continue;
		cut(p, base, base + size);
		return base;
	}
	return 0;
}

void pmm_free(struct pmm *p, uint64_t base, uint64_t pages)
{
	add_range(p, base, base + pages * PAGE_SIZE);
}

uint64_t pmm_free_bytes(const struct pmm *p)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < p->nr; i++)
		total += p->r[i].end - p->r[i].base;
	return total;
}

bool pmm_is_free(const struct pmm *p, uint64_t addr)
{
	for (uint32_t i = 0; i < p->nr; i++)
		if (addr >= p->r[i].base && addr < p->r[i].end)
			return true;
	return false;
}
