/* SPDX-License-Identifier: MIT */
/* hv/mm/pmm.c: the extent-list frame allocator, by example and against a
 * page-by-page model under a long random sequence of operations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/lib.h>
#include <petrel/pmm.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

static struct pmm *new_pmm(void)
{
	struct pmm *p = malloc(sizeof(*p));

	memset(p, 0xa5, sizeof(*p)); /* pmm_init must not rely on zeroed memory */
	pmm_init(p);
	return p;
}

/* The ranges must be sorted, page aligned, non-empty, and neither overlap
 * nor touch (touching ones are merged). */
static void check_invariants(const struct pmm *p)
{
	assert_true(p->nr <= PMM_MAX_RANGES);
	for (uint32_t i = 0; i < p->nr; i++) {
		assert_int_equal(p->r[i].base % PAGE_SIZE, 0);
		assert_int_equal(p->r[i].end % PAGE_SIZE, 0);
		assert_true(p->r[i].base < p->r[i].end);
		if (i > 0)
			assert_true(p->r[i - 1].end < p->r[i].base);
	}
}

TEST(test_add_rounds_inward)
{
	struct pmm *p = new_pmm();

	pmm_add_free(p, 0x1800, 0x3000); /* [0x1800, 0x4800) → [0x2000, 0x4000) */
	assert_int_equal(p->nr, 1);
	assert_int_equal(p->r[0].base, 0x2000);
	assert_int_equal(p->r[0].end, 0x4000);
	assert_int_equal(pmm_free_bytes(p), 0x2000);
	assert_false(pmm_is_free(p, 0x1fff));
	assert_true(pmm_is_free(p, 0x2000));
	assert_true(pmm_is_free(p, 0x3fff));
	assert_false(pmm_is_free(p, 0x4000));

	pmm_add_free(p, 0x10001, 0x1ffe); /* no whole page inside */
	pmm_add_free(p, 0x20000, 0);
	assert_int_equal(p->nr, 1);
	free(p);
}

TEST(test_add_merges_and_is_idempotent)
{
	struct pmm *p = new_pmm();

	pmm_add_free(p, 0x100000, 0x100000);
	pmm_add_free(p, 0x300000, 0x100000);
	pmm_add_free(p, 0x100000, 0x100000); /* again: no change */
	assert_int_equal(p->nr, 2);
	assert_int_equal(pmm_free_bytes(p), 0x200000);
	pmm_add_free(p, 0x200000, 0x100000); /* fills the gap: one range */
	assert_int_equal(p->nr, 1);
	assert_int_equal(p->r[0].base, 0x100000);
	assert_int_equal(p->r[0].end, 0x400000);
	pmm_add_free(p, 0x50000, 0x500000); /* covers it all and more */
	assert_int_equal(p->nr, 1);
	assert_int_equal(p->r[0].base, 0x50000);
	assert_int_equal(p->r[0].end, 0x550000);
	check_invariants(p);
	free(p);
}

TEST(test_reserve_rounds_outward_and_splits)
{
	struct pmm *p = new_pmm();

	pmm_add_free(p, 0x100000, 0x100000);
	pmm_reserve(p, 0x150800, 0x10); /* inside one page */
	assert_int_equal(p->nr, 2);
	assert_false(pmm_is_free(p, 0x150000));
	assert_true(pmm_is_free(p, 0x14f000));
	assert_true(pmm_is_free(p, 0x151000));
	pmm_reserve(p, 0x17ffff, 2); /* straddles two pages */
	assert_false(pmm_is_free(p, 0x17f000));
	assert_false(pmm_is_free(p, 0x180000));
	assert_true(pmm_is_free(p, 0x181000));
	assert_int_equal(pmm_free_bytes(p), 0x100000 - 3 * PAGE_SIZE);

	/* One reserve across several ranges and a gap. */
	pmm_add_free(p, 0x300000, 0x100000);
	pmm_reserve(p, 0x140000, 0x200000);
	assert_int_equal(p->nr, 2);
	assert_int_equal(p->r[0].end, 0x140000);
	assert_int_equal(p->r[1].base, 0x340000);
	pmm_reserve(p, 0, UINT64_MAX / 2);
	assert_int_equal(p->nr, 0);
	assert_int_equal(pmm_free_bytes(p), 0);
	free(p);
}

/* Reserving up to the very top of the address space (where base + len
 * reaches or passes 2^64) must still remove the pages. */
TEST(test_reserve_to_top_of_address_space)
{
	struct pmm *p = new_pmm();

	pmm_add_free(p, 0x100000, 0x100000);
	pmm_add_free(p, 0xfffffffffff00000ull, 0xff000);
	assert_int_equal(pmm_free_bytes(p), 0x1ff000);
	pmm_reserve(p, 0xfffffffffff80000ull, 0x80000); /* ends exactly at 2^64 */
	assert_false(pmm_is_free(p, 0xfffffffffff80000ull));
	assert_true(pmm_is_free(p, 0xfffffffffff7f000ull));
	pmm_reserve(p, 0x180000, UINT64_MAX); /* wraps */
	assert_int_equal(pmm_free_bytes(p), 0x80000);
	assert_false(pmm_is_free(p, 0xfffffffffff00000ull));
	assert_true(pmm_is_free(p, 0x17f000));
	check_invariants(p);
	free(p);
}

/* Adding a range that reaches the top keeps only its whole pages, and one
 * that starts in the last page adds nothing. */
TEST(test_add_near_top_of_address_space)
{
	struct pmm *p = new_pmm();

	pmm_add_free(p, 0xffffffffffffe000ull, UINT64_MAX);
	assert_int_equal(p->nr, 1);
	assert_int_equal(p->r[0].base, 0xffffffffffffe000ull);
	assert_int_equal(p->r[0].end, 0xfffffffffffff000ull);
	pmm_init(p);
	pmm_add_free(p, 0xfffffffffffff001ull, 0x10);
	assert_int_equal(pmm_free_bytes(p), 0);
	assert_false(pmm_is_free(p, 0x1000));
	free(p);
}

TEST(test_alloc_highest_below_limit)
{
	struct pmm *p = new_pmm();

	pmm_add_free(p, 0x1000, 0x10000000 - 0x1000);
	assert_int_equal(pmm_alloc(p, 1, PAGE_SIZE, UINT64_MAX), 0xffff000);
	assert_int_equal(pmm_alloc(p, 1, PAGE_SIZE, 0x100000), 0xff000);
	assert_int_equal(pmm_alloc(p, 2, PAGE_SIZE, 0x100000), 0xfd000);
	/* An unaligned limit: the block still ends at or below it. */
	assert_int_equal(pmm_alloc(p, 1, PAGE_SIZE, 0x200fff), 0x1ff000);
	assert_false(pmm_is_free(p, 0xffff000));
	assert_false(pmm_is_free(p, 0xfd000));
	assert_false(pmm_is_free(p, 0xfe000));
	assert_int_equal(pmm_free_bytes(p), 0x10000000 - 0x1000 - 5 * PAGE_SIZE);
	/* Nothing fits below the lowest free page. */
	assert_int_equal(pmm_alloc(p, 1, PAGE_SIZE, 0x1fff), 0);
	assert_int_equal(pmm_alloc(p, 1, PAGE_SIZE, 0), 0);
	check_invariants(p);
	free(p);
}

TEST(test_alloc_alignment)
{
	struct pmm *p = new_pmm();
	uint64_t a, b;

	pmm_add_free(p, 0x123000, 0x800000);
	a = pmm_alloc(p, 1, 0x200000, UINT64_MAX);
	assert_int_equal(a, 0x800000);
	b = pmm_alloc(p, 3, 0x10000, UINT64_MAX);
	assert_int_equal(b % 0x10000, 0);
	assert_true(b + 3 * PAGE_SIZE <= 0x923000);
	assert_true(b + 3 * PAGE_SIZE <= a || b >= a + PAGE_SIZE);
	/* 4 MiB fits only at 4 MiB; aligned to 8 MiB it would need 0. */
	assert_int_equal(pmm_alloc(p, 1024, 0x800000, UINT64_MAX), 0);
	assert_int_equal(pmm_alloc(p, 1024, 0x400000, UINT64_MAX), 0x400000);
	assert_int_equal(pmm_alloc(p, 1, 0x400000, UINT64_MAX), 0);
	free(p);
}

TEST(test_alloc_bad_arguments)
{
	struct pmm *p = new_pmm();

	pmm_add_free(p, 0x100000, 0x100000);
	assert_int_equal(pmm_alloc(p, 0, PAGE_SIZE, UINT64_MAX), 0);
	assert_int_equal(pmm_alloc(p, 1, 0, UINT64_MAX), 0);
	assert_int_equal(pmm_alloc(p, 1, 0x800, UINT64_MAX), 0);
	assert_int_equal(pmm_alloc(p, 1, 0x3000, UINT64_MAX), 0);
	/* A page count whose byte size overflows 64 bits. */
	assert_int_equal(pmm_alloc(p, 1ull << 52, PAGE_SIZE, UINT64_MAX), 0);
	assert_int_equal(pmm_alloc(p, (1ull << 52) + 1, PAGE_SIZE, UINT64_MAX), 0);
	assert_int_equal(pmm_alloc(p, UINT64_MAX, PAGE_SIZE, UINT64_MAX), 0);
	assert_int_equal(pmm_free_bytes(p), 0x100000);
	free(p);
}

TEST(test_exhaustion_and_page_zero)
{
	struct pmm *p = new_pmm();

	pmm_add_free(p, 0, 0x5000); /* pages 0-4 */
	assert_int_equal(pmm_alloc(p, 5, PAGE_SIZE, UINT64_MAX), 0); /* would need page 0 */
	assert_int_equal(pmm_alloc(p, 4, PAGE_SIZE, UINT64_MAX), 0x1000);
	assert_int_equal(pmm_alloc(p, 1, PAGE_SIZE, UINT64_MAX), 0);
	assert_true(pmm_is_free(p, 0)); /* free, but never handed out */
	assert_int_equal(pmm_free_bytes(p), PAGE_SIZE);
	assert_int_equal(pmm_alloc(p, 1, PAGE_SIZE, PAGE_SIZE), 0);
	free(p);

	p = new_pmm();
	assert_int_equal(pmm_alloc(p, 1, PAGE_SIZE, UINT64_MAX), 0); /* empty */
	free(p);
}

TEST(test_free_merges_neighbours)
{
	struct pmm *p = new_pmm();
	uint64_t a, b, c;

	pmm_add_free(p, 0x100000, 0x3000);
	a = pmm_alloc(p, 1, PAGE_SIZE, UINT64_MAX);
	b = pmm_alloc(p, 1, PAGE_SIZE, UINT64_MAX);
	c = pmm_alloc(p, 1, PAGE_SIZE, UINT64_MAX);
	assert_int_equal(a, 0x102000);
	assert_int_equal(b, 0x101000);
	assert_int_equal(c, 0x100000);
	assert_int_equal(p->nr, 0);
	pmm_free(p, a, 1);
	pmm_free(p, c, 1);
	assert_int_equal(p->nr, 2);
	pmm_free(p, b, 1); /* joins both neighbours */
	assert_int_equal(p->nr, 1);
	assert_int_equal(p->r[0].base, 0x100000);
	assert_int_equal(p->r[0].end, 0x103000);
	/* The whole block is usable again in one piece. */
	assert_int_equal(pmm_alloc(p, 3, PAGE_SIZE, UINT64_MAX), 0x100000);
	free(p);
}

TEST(test_too_many_ranges_sets_overflow)
{
	struct pmm *p = new_pmm();

	for (uint64_t i = 0; i < PMM_MAX_RANGES; i++)
		pmm_add_free(p, (2 * i + 1) * PAGE_SIZE, PAGE_SIZE);
	assert_int_equal(p->nr, PMM_MAX_RANGES);
	assert_false(p->overflow);
	pmm_add_free(p, (2 * PMM_MAX_RANGES + 1) * PAGE_SIZE, PAGE_SIZE);
	assert_true(p->overflow);
	assert_int_equal(p->nr, PMM_MAX_RANGES);
	/* A split that needs one more range drops the upper part, never
	 * leaves a reserved page free. */
	pmm_init(p);
	for (uint64_t i = 0; i < PMM_MAX_RANGES; i++)
		pmm_add_free(p, (4 * i + 1) * PAGE_SIZE, 3 * PAGE_SIZE);
	pmm_reserve(p, 2 * PAGE_SIZE, 1);
	assert_true(p->overflow);
	assert_false(pmm_is_free(p, 2 * PAGE_SIZE));
	check_invariants(p);
	free(p);
}

/* --- random operations against a page-by-page model ------------------------ */

#define NPAGES 4096u /* 16 MiB */
enum { UNAVAIL = 0, FREE = 1, USED = 2 };

struct model {
	uint8_t page[NPAGES];
	uint64_t seed;
};

static uint64_t rnd(struct model *m, uint64_t n)
{
	m->seed = m->seed * 6364136223846793005ull + 1442695040888963407ull;
	return (m->seed >> 33) % n;
}

static void model_set(struct model *m, uint64_t from, uint64_t to, uint8_t v)
{
	for (uint64_t pg = from / PAGE_SIZE; pg < to / PAGE_SIZE && pg < NPAGES; pg++)
		m->page[pg] = v;
}

/* The block pmm_alloc should return: the highest aligned run of free pages
 * that ends at or below `limit` and does not start at 0. */
static uint64_t model_alloc(const struct model *m, uint64_t pages, uint64_t align, uint64_t limit)
{
	uint64_t top = MIN(limit, (uint64_t)NPAGES * PAGE_SIZE), size = pages * PAGE_SIZE;

	if (top < size)
		return 0;
	for (uint64_t base = ALIGN_DOWN(top - size, align); base > 0; base -= align) {
		uint64_t pg = base / PAGE_SIZE, i;
		for (i = 0; i < pages && m->page[pg + i] == FREE; i++)
			;
		if (i == pages)
			return base;
	}
	return 0;
}

static void compare(const struct pmm *p, const struct model *m)
{
	uint64_t free_pages = 0;

	check_invariants(p);
	assert_false(p->overflow);
	for (uint64_t pg = 0; pg < NPAGES; pg++) {
		bool want = m->page[pg] == FREE;
		free_pages += want;
		if (pmm_is_free(p, pg * PAGE_SIZE) != want)
			fail_msg("page 0x%llx: pmm says %s, model %d", (unsigned long long)pg * PAGE_SIZE,
				 want ? "taken" : "free", m->page[pg]);
	}
	assert_int_equal(pmm_free_bytes(p), free_pages * PAGE_SIZE);
}

struct block { uint64_t base, pages; };

static void random_run(uint64_t seed)
{
	static const uint64_t aligns[] = { PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, 0x4000, 0x10000, 0x200000 };
	struct model *m = calloc(1, sizeof(*m));
	struct pmm *p = new_pmm();
	struct block *held = calloc(NPAGES, sizeof(*held));
	uint32_t nheld = 0, allocs = 0, misses = 0;
	const uint64_t space = (uint64_t)NPAGES * PAGE_SIZE;

	m->seed = seed;
	/* Set up like the hypervisor: usable ranges (any alignment), then the
	 * reserved ones (image, modules, ACPI) punched out, page 0 included. */
	for (int i = 0; i < 40; i++) {
		uint64_t base = rnd(m, space), len = rnd(m, space / 8);
		if (base + len > space)
			len = space - base;
		pmm_add_free(p, base, len);
		model_set(m, ALIGN_UP(base, PAGE_SIZE), ALIGN_DOWN(base + len, PAGE_SIZE), FREE);
	}
	for (int i = 0; i < 60; i++) {
		uint64_t base = rnd(m, space), len = 1 + rnd(m, 0x20000);
		pmm_reserve(p, base, len);
		model_set(m, ALIGN_DOWN(base, PAGE_SIZE), ALIGN_UP(base + len, PAGE_SIZE), UNAVAIL);
	}
	compare(p, m);

	for (int op = 0; op < 3000; op++) {
		if (nheld && rnd(m, 3) == 0) {
			uint32_t k = (uint32_t)rnd(m, nheld);
			pmm_free(p, held[k].base, held[k].pages);
			model_set(m, held[k].base, held[k].base + held[k].pages * PAGE_SIZE, FREE);
			held[k] = held[--nheld];
		} else {
			uint64_t pages = 1 + rnd(m, rnd(m, 8) ? 8 : 64);
			uint64_t align = aligns[rnd(m, ARRAY_SIZE(aligns))];
			uint64_t limit = rnd(m, 4) ? UINT64_MAX : rnd(m, space + PAGE_SIZE);
			uint64_t want = model_alloc(m, pages, align, limit);
			uint64_t got = pmm_alloc(p, pages, align, limit);

			if (got != want)
				fail_msg("op %d: alloc(%llu pages, align 0x%llx, limit 0x%llx) = 0x%llx, model 0x%llx",
					 op, (unsigned long long)pages, (unsigned long long)align,
					 (unsigned long long)limit, (unsigned long long)got,
					 (unsigned long long)want);
			if (!got) {
				misses++;
				continue;
			}
			/* Never a reserved, unavailable or already used page. */
			for (uint64_t i = 0; i < pages; i++)
				assert_int_equal(m->page[got / PAGE_SIZE + i], FREE);
			model_set(m, got, got + pages * PAGE_SIZE, USED);
			held[nheld++] = (struct block){ got, pages };
			allocs++;
		}
		if (op % 100 == 0)
			compare(p, m);
	}
	compare(p, m);
	/* Everything back: the free set is what setup left. */
	while (nheld) {
		nheld--;
		pmm_free(p, held[nheld].base, held[nheld].pages);
		model_set(m, held[nheld].base, held[nheld].base + held[nheld].pages * PAGE_SIZE, FREE);
	}
	compare(p, m);
	assert_true(allocs > 500); /* the run really allocated ... */
	assert_true(misses > 10);  /* ... and really ran out */
	free(held);
	free(p);
	free(m);
}

TEST(test_random_against_model)
{
	for (uint64_t seed = 1; seed <= 8; seed++)
		random_run(seed * 0x9e3779b97f4a7c15ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_rounds_inward),
		cmocka_unit_test(test_add_merges_and_is_idempotent),
		cmocka_unit_test(test_reserve_rounds_outward_and_splits),
		cmocka_unit_test(test_reserve_to_top_of_address_space),
		cmocka_unit_test(test_add_near_top_of_address_space),
		cmocka_unit_test(test_alloc_highest_below_limit),
		cmocka_unit_test(test_alloc_alignment),
		cmocka_unit_test(test_alloc_bad_arguments),
		cmocka_unit_test(test_exhaustion_and_page_zero),
		cmocka_unit_test(test_free_merges_neighbours),
		cmocka_unit_test(test_too_many_ranges_sets_overflow),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
