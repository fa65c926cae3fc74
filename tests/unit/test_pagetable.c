/* SPDX-License-Identifier: MIT */
/* hv/mm/pagetable.c on the host: tables are aligned_alloc'd 4 KiB pages and
 * their "physical" addresses are the host pointers themselves (user-space
 * pointers fit PTE_ADDR_MASK; checked).  The phys→pointer callback refuses
 * anything that is not one of our tables, so a walk that follows a leaf or
 * garbage fails the test instead of reading wild memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/lib.h>
#include <petrel/pagetable.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

#define MAX_TABLES 4096

struct host_tables {
	uint64_t *page[MAX_TABLES];
	unsigned n;
	unsigned limit; /* alloc_page fails once n reaches it */
};

static uint64_t host_alloc(void *ctx)
{
	struct host_tables *h = ctx;
	uint64_t *p;

	if (h->n >= h->limit || h->n >= MAX_TABLES)
		return 0;
	p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	assert_non_null(p);
	memset(p, 0, PAGE_SIZE);
	assert_int_equal((uint64_t)(uintptr_t)p & ~PTE_ADDR_MASK, 0);
	h->page[h->n++] = p;
	return (uint64_t)(uintptr_t)p;
}

static uint64_t *host_table(uint64_t phys, void *ctx)
{
	struct host_tables *h = ctx;

	for (unsigned i = 0; i < h->n; i++)
		if ((uint64_t)(uintptr_t)h->page[i] == phys)
			return h->page[i];
	fail_msg("walked to 0x%llx, which is not a page table", (unsigned long long)phys);
	return NULL;
}

struct fixture {
	struct host_tables h;
	struct pt_ops ops;
	uint64_t root;
};

static struct fixture *setup(bool allow_1g)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->h.limit = MAX_TABLES;
	f->ops = (struct pt_ops){ .alloc_page = host_alloc, .table = host_table, .ctx = &f->h,
				  .allow_1g = allow_1g };
	f->root = host_alloc(&f->h);
	return f;
}

static void teardown(struct fixture *f)
{
	for (unsigned i = 0; i < f->h.n; i++)
		free(f->h.page[i]);
	free(f);
}

/* Tables allocated beyond the root. */
static unsigned tables(const struct fixture *f)
{
	return f->h.n - 1;
}

static void expect_leaf(struct fixture *f, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags)
{
	uint64_t got_size = 0, e = pt_lookup(&f->ops, f->root, va, &got_size);

	if (!e)
		fail_msg("va 0x%llx: not mapped", (unsigned long long)va);
	if (got_size != size)
		fail_msg("va 0x%llx: page size 0x%llx, want 0x%llx", (unsigned long long)va,
			 (unsigned long long)got_size, (unsigned long long)size);
	assert_int_equal(e & PTE_ADDR_MASK, pa & ~(size - 1));
	assert_int_equal(e & PTE_FLAGS_MASK, flags | PTE_P | (size > PAGE_SIZE ? PTE_PS : 0));
}

TEST(test_map_one_4k_page)
{
	struct fixture *f = setup(true);

	assert_int_equal(pt_map(&f->ops, f->root, 0x1000, 0x5000, PAGE_SIZE, PTE_RW | PTE_NX), 0);
	expect_leaf(f, 0x1000, 0x5000, PAGE_SIZE, PTE_RW | PTE_NX);
	expect_leaf(f, 0x1fff, 0x5000, PAGE_SIZE, PTE_RW | PTE_NX);
	assert_int_equal(pt_lookup(&f->ops, f->root, 0x0, NULL), 0);
	assert_int_equal(pt_lookup(&f->ops, f->root, 0x2000, NULL), 0);
	assert_int_equal(tables(f), 3); /* PDPT, PD, PT */
	/* Intermediate entries allow everything; the leaf decides. */
	uint64_t pml4e = ((uint64_t *)(uintptr_t)f->root)[0];
	assert_int_equal(pml4e & PTE_FLAGS_MASK, PTE_P | PTE_RW);
	teardown(f);
}

/* Nested page tables (AMD NPT) treat every access as a user access, so the
 * U bit must be on at every level, not only in the leaf: table_flags. */
TEST(test_table_flags_reach_every_level)
{
	struct fixture *f = setup(false);
	uint64_t *t, e;

	f->ops.table_flags = PTE_US;
	assert_int_equal(pt_map(&f->ops, f->root, 0x40201000ull, 0x9000, PAGE_SIZE, PTE_RW | PTE_US), 0);
	t = (uint64_t *)(uintptr_t)f->root;
	for (int level = 3; level > 0; level--) {
		e = t[(0x40201000ull >> (12 + 9 * level)) & 511];
		if ((e & PTE_FLAGS_MASK) != (PTE_P | PTE_RW | PTE_US))
			fail_msg("level %d entry flags 0x%llx, want P|RW|US", level,
				 (unsigned long long)(e & PTE_FLAGS_MASK));
		t = (uint64_t *)(uintptr_t)(e & PTE_ADDR_MASK);
	}
	expect_leaf(f, 0x40201000ull, 0x9000, PAGE_SIZE, PTE_RW | PTE_US);
	teardown(f);
}

TEST(test_map_2m_pages)
{
	struct fixture *f = setup(true);

	assert_int_equal(pt_map(&f->ops, f->root, 0x200000, 0x40000000, 0x400000, PTE_RW), 0);
	expect_leaf(f, 0x200000, 0x40000000, 0x200000, PTE_RW);
	expect_leaf(f, 0x3fffff, 0x40000000, 0x200000, PTE_RW);
	expect_leaf(f, 0x400000, 0x40200000, 0x200000, PTE_RW);
	assert_int_equal(pt_lookup(&f->ops, f->root, 0x600000, NULL), 0);
	assert_int_equal(tables(f), 2); /* PDPT, PD: no page table */
	teardown(f);
}

/* An unaligned head and tail get 4 KiB pages, the middle 2 MiB ones. */
TEST(test_map_mixed_sizes)
{
	struct fixture *f = setup(true);
	uint64_t va = 0x1ff000, size = 0x1000 + 0x400000 + 0x3000;

	assert_int_equal(pt_map(&f->ops, f->root, va, va, size, 0), 0);
	expect_leaf(f, 0x1ff000, 0x1ff000, PAGE_SIZE, 0);
	expect_leaf(f, 0x200000, 0x200000, 0x200000, 0);
	expect_leaf(f, 0x5ff000, 0x5ff000, 0x200000, 0);
	expect_leaf(f, 0x600000, 0x600000, PAGE_SIZE, 0);
	expect_leaf(f, 0x602000, 0x602000, PAGE_SIZE, 0);
	assert_int_equal(pt_lookup(&f->ops, f->root, 0x603000, NULL), 0);
	assert_int_equal(pt_lookup(&f->ops, f->root, 0x1fe000, NULL), 0);
	teardown(f);
}

/* va and pa aligned differently: the page size follows the weaker one. */
TEST(test_map_alignment_of_pa_matters)
{
	struct fixture *f = setup(true);

	assert_int_equal(pt_map(&f->ops, f->root, 0x40000000, 0x80200000, 0x40000000, 0), 0);
	expect_leaf(f, 0x40000000, 0x80200000, 0x200000, 0);
	expect_leaf(f, 0x7fe00000, 0xc0000000, 0x200000, 0);
	assert_int_equal(pt_map(&f->ops, f->root, 0x200000, 0x80001000, 0x200000, 0), 0);
	expect_leaf(f, 0x200000, 0x80001000, PAGE_SIZE, 0);
	expect_leaf(f, 0x3ff000, 0x80200000, PAGE_SIZE, 0);
	teardown(f);
}

TEST(test_map_1g_pages_when_allowed)
{
	struct fixture *f = setup(true);

	assert_int_equal(pt_map(&f->ops, f->root, 0x40000000, 0x40000000, 0x80000000, PTE_RW | PTE_NX), 0);
	expect_leaf(f, 0x40000000, 0x40000000, 1ull << 30, PTE_RW | PTE_NX);
	expect_leaf(f, 0xbfffffff, 0x80000000, 1ull << 30, PTE_RW | PTE_NX);
	assert_int_equal(tables(f), 1); /* just the PDPT */
	teardown(f);

	f = setup(false);
	assert_int_equal(pt_map(&f->ops, f->root, 0x40000000, 0x40000000, 0x80000000, PTE_RW | PTE_NX), 0);
	expect_leaf(f, 0x40000000, 0x40000000, 0x200000, PTE_RW | PTE_NX);
	expect_leaf(f, 0xbfffffff, 0xbfe00000, 0x200000, PTE_RW | PTE_NX);
	assert_int_equal(tables(f), 3); /* PDPT and two PDs */
	teardown(f);
}

/* Addresses far apart: the upper half and the top of the 52-bit space. */
TEST(test_map_high_addresses)
{
	struct fixture *f = setup(true);
	uint64_t va = 0xffff800000000000ull, pa = 0x000fffffc0000000ull;

	assert_int_equal(pt_map(&f->ops, f->root, va, pa, 1ull << 30, 0), 0);
	expect_leaf(f, va + 0x12345, pa, 1ull << 30, 0);
	assert_int_equal(pt_map(&f->ops, f->root, 0x7ffffffff000ull, 0x1000, PAGE_SIZE, PTE_US), 0);
	expect_leaf(f, 0x7ffffffff000ull, 0x1000, PAGE_SIZE, PTE_US);
	assert_int_equal(((uint64_t *)(uintptr_t)f->root)[256] & PTE_P, PTE_P);
	assert_int_equal(((uint64_t *)(uintptr_t)f->root)[255] & PTE_P, PTE_P);
	assert_int_equal(pt_lookup(&f->ops, f->root, va + (1ull << 30), NULL), 0);
	teardown(f);
}

TEST(test_map_rejects_unaligned)
{
	struct fixture *f = setup(true);

	assert_int_equal(pt_map(&f->ops, f->root, 0x1001, 0x2000, PAGE_SIZE, 0), -1);
	assert_int_equal(pt_map(&f->ops, f->root, 0x1000, 0x2800, PAGE_SIZE, 0), -1);
	assert_int_equal(pt_map(&f->ops, f->root, 0x1000, 0x2000, 0x1800, 0), -1);
	assert_int_equal(tables(f), 0);
	assert_int_equal(pt_map(&f->ops, f->root, 0x1000, 0x2000, 0, 0), 0); /* nothing to do */
	teardown(f);
}

/* A caller's stray PS bit must not turn a 4 KiB entry into a large page. */
TEST(test_map_ignores_ps_in_flags)
{
	struct fixture *f = setup(true);

	assert_int_equal(pt_map(&f->ops, f->root, 0x3000, 0x3000, PAGE_SIZE, PTE_RW | PTE_PS), 0);
	expect_leaf(f, 0x3000, 0x3000, PAGE_SIZE, PTE_RW);
	teardown(f);
}

TEST(test_double_mapping_fails)
{
	struct fixture *f = setup(true);

	assert_int_equal(pt_map(&f->ops, f->root, 0x1000, 0x1000, 0x2000, 0), 0);
	assert_int_equal(pt_map(&f->ops, f->root, 0x1000, 0x9000, PAGE_SIZE, 0), -1);
	assert_int_equal(pt_map(&f->ops, f->root, 0x0, 0x0, 0x2000, 0), -1); /* tail overlaps */
	expect_leaf(f, 0x1000, 0x1000, PAGE_SIZE, 0); /* the old mapping stands */
	/* A 2 MiB page over a page table that holds 4 KiB pages. */
	assert_int_equal(pt_map(&f->ops, f->root, 0x0, 0x0, 0x200000, 0), -1);

	/* A 4 KiB page inside a 2 MiB page, a 2 MiB page over it again, a
	 * 1 GiB page over the directory holding it. */
	assert_int_equal(pt_map(&f->ops, f->root, 0x400000, 0x400000, 0x200000, 0), 0);
	assert_int_equal(pt_map(&f->ops, f->root, 0x401000, 0x1000, PAGE_SIZE, 0), -1);
	assert_int_equal(pt_map(&f->ops, f->root, 0x400000, 0x0, 0x200000, 0), -1);
	assert_int_equal(pt_map(&f->ops, f->root, 0x0, 0x0, 1ull << 30, 0), -1);
	/* And anything inside a 1 GiB page. */
	assert_int_equal(pt_map(&f->ops, f->root, 1ull << 30, 0, 1ull << 30, 0), 0);
	assert_int_equal(pt_map(&f->ops, f->root, (1ull << 30) + 0x200000, 0, 0x200000, 0), -1);
	assert_int_equal(pt_map(&f->ops, f->root, (1ull << 30) + 0x5000, 0, PAGE_SIZE, 0), -1);
	expect_leaf(f, (1ull << 30) + 0x5000, 0, 1ull << 30, 0);
	teardown(f);
}

TEST(test_allocation_failure)
{
	struct fixture *f = setup(true);

	f->h.limit = f->h.n + 2; /* PDPT and PD, but no page table */
	assert_int_equal(pt_map(&f->ops, f->root, 0x1000, 0x1000, PAGE_SIZE, 0), -1);
	assert_int_equal(pt_lookup(&f->ops, f->root, 0x1000, NULL), 0);
	/* 2 MiB pages need no more tables and still work. */
	assert_int_equal(pt_map(&f->ops, f->root, 0x200000, 0x200000, 0x200000, 0), 0);
	expect_leaf(f, 0x200000, 0x200000, 0x200000, 0);
	teardown(f);
}

TEST(test_set_flags_4k)
{
	struct fixture *f = setup(true);

	assert_int_equal(pt_map(&f->ops, f->root, 0x1000, 0x7000, 0x2000, PTE_RW | PTE_NX), 0);
	assert_int_equal(pt_map(&f->ops, f->root, 0x200000, 0x200000, 0x200000, PTE_RW), 0);
	assert_int_equal(pt_set_flags_4k(&f->ops, f->root, 0x1000, PTE_NX), 0);
	expect_leaf(f, 0x1000, 0x7000, PAGE_SIZE, PTE_NX);   /* address kept */
	expect_leaf(f, 0x2000, 0x8000, PAGE_SIZE, PTE_RW | PTE_NX); /* neighbour untouched */
	assert_int_equal(pt_set_flags_4k(&f->ops, f->root, 0x2000, PTE_PCD | PTE_PWT), 0);
	expect_leaf(f, 0x2000, 0x8000, PAGE_SIZE, PTE_PCD | PTE_PWT);
	assert_int_equal(pt_set_flags_4k(&f->ops, f->root, 0x200000, 0), -1); /* a 2 MiB leaf */
	expect_leaf(f, 0x200000, 0x200000, 0x200000, PTE_RW);
	assert_int_equal(pt_set_flags_4k(&f->ops, f->root, 0x3000, 0), -1);   /* unmapped */
	assert_int_equal(pt_set_flags_4k(&f->ops, f->root, 1ull << 40, 0), -1);
	teardown(f);
}

/* pt_unmap: large pages that lie partly in the range are split, the rest
 * stays as it was, and the hole can be mapped again (4 KiB pages where
 * a split left a table, a large page where a whole one went). */
TEST(test_unmap_splits_2m)
{
	struct fixture *f = setup(true);

	assert_int_equal(pt_map(&f->ops, f->root, 0, 0x40000000, 0x400000, PTE_RW), 0);
	assert_int_equal(pt_unmap(&f->ops, f->root, 0x1000, 0x2000), 0);
	expect_leaf(f, 0x0, 0x40000000, PAGE_SIZE, PTE_RW);
	assert_int_equal(pt_lookup(&f->ops, f->root, 0x1000, NULL), 0);
	assert_int_equal(pt_lookup(&f->ops, f->root, 0x2000, NULL), 0);
	expect_leaf(f, 0x3000, 0x40003000, PAGE_SIZE, PTE_RW);
	expect_leaf(f, 0x1ff000, 0x401ff000, PAGE_SIZE, PTE_RW);
	expect_leaf(f, 0x200000, 0x40200000, 0x200000, PTE_RW); /* the next one untouched */
	/* The hole again, read-only and elsewhere; nothing over what is there. */
	assert_int_equal(pt_map(&f->ops, f->root, 0x1000, 0x9000, 0x2000, 0), 0);
	expect_leaf(f, 0x1000, 0x9000, PAGE_SIZE, 0);
	expect_leaf(f, 0x2000, 0xa000, PAGE_SIZE, 0);
	assert_int_equal(pt_map(&f->ops, f->root, 0x3000, 0x3000, PAGE_SIZE, 0), -1);
	/* A whole 2 MiB page unmapped and mapped again is one page again. */
	assert_int_equal(pt_unmap(&f->ops, f->root, 0x200000, 0x200000), 0);
	assert_int_equal(pt_lookup(&f->ops, f->root, 0x200000, NULL), 0);
	assert_int_equal(pt_map(&f->ops, f->root, 0x200000, 0x80000000, 0x200000, 0), 0);
	expect_leaf(f, 0x200000, 0x80000000, 0x200000, 0);
	/* Nothing there: nothing to do. */
	assert_int_equal(pt_unmap(&f->ops, f->root, 1ull << 39, 0x200000), 0);
	assert_int_equal(pt_unmap(&f->ops, f->root, 0x1800, PAGE_SIZE), -1); /* not aligned */
	teardown(f);
}

TEST(test_unmap_splits_1g_twice)
{
	struct fixture *f = setup(true);
	uint64_t g = 1ull << 30;

	assert_int_equal(pt_map(&f->ops, f->root, g, 2 * g, g, PTE_RW | PTE_US), 0);
	assert_int_equal(pt_unmap(&f->ops, f->root, g + 0x201000, PAGE_SIZE), 0);
	expect_leaf(f, g, 2 * g, 0x200000, PTE_RW | PTE_US);
	expect_leaf(f, g + 0x200000, 2 * g + 0x200000, PAGE_SIZE, PTE_RW | PTE_US);
	assert_int_equal(pt_lookup(&f->ops, f->root, g + 0x201000, NULL), 0);
	expect_leaf(f, g + 0x202000, 2 * g + 0x202000, PAGE_SIZE, PTE_RW | PTE_US);
	expect_leaf(f, g + 0x400000, 2 * g + 0x400000, 0x200000, PTE_RW | PTE_US);
	expect_leaf(f, 2 * g - 0x200000, 3 * g - 0x200000, 0x200000, PTE_RW | PTE_US);
	teardown(f);
}

TEST(test_unmap_split_without_memory)
{
	struct fixture *f = setup(true);

	assert_int_equal(pt_map(&f->ops, f->root, 0x200000, 0x200000, 0x200000, PTE_RW), 0);
	f->h.limit = f->h.n; /* no page for the split */
	assert_int_equal(pt_unmap(&f->ops, f->root, 0x201000, PAGE_SIZE), -1);
	expect_leaf(f, 0x200000, 0x200000, 0x200000, PTE_RW); /* as it was */
	teardown(f);
}

/* Random ranges: every page translates to the right address, with the
 * largest page size that va, pa and the rest of the range allow. */
static unsigned leaves_seen[3]; /* 4K, 2M, 1G */

static void random_ranges(bool allow_1g, uint64_t seed)
{
	struct fixture *f = setup(allow_1g);
	uint64_t next_va = 0x1000;

	for (int i = 0; i < 12; i++) {
		uint64_t va, pa, size, off = 0;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		/* Offsets chosen so that 4K, 2M and 1G alignments all occur. */
		va = ALIGN_UP(next_va, (seed & 3) == 0 ? (1ull << 30) : (seed & 3) == 1 ? 0x200000 : 0x1000);
		va += ((seed >> 8) % 4) * 0x1000 * ((seed >> 12) & 1);
		pa = ((seed >> 16) % 64) << 30 | (va & ((seed >> 24) & 1 ? 0x3fffffff : 0x1fffff));
		size = ((seed >> 28) % 3 == 0 ? (1ull << 30) : 0) + ((seed >> 32) % 1024) * 0x1000 +
		       ((seed >> 44) % 600) * 0x200000 / 100;
		size = ALIGN_UP(size + 0x1000, 0x1000);
		if (pt_map(&f->ops, f->root, va, pa, size, PTE_RW) != 0)
			fail_msg("map 0x%llx -> 0x%llx + 0x%llx failed", (unsigned long long)va,
				 (unsigned long long)pa, (unsigned long long)size);
		/* Walk it the way a greedy mapper must have laid it out. */
		while (off < size) {
			uint64_t s = PAGE_SIZE;
			for (uint64_t big = allow_1g ? (1ull << 30) : 0x200000; big > PAGE_SIZE; big >>= 9)
				if (((va + off) & (big - 1)) == 0 && ((pa + off) & (big - 1)) == 0 &&
				    size - off >= big) {
					s = big;
					break;
				}
			expect_leaf(f, va + off, pa + off, s, PTE_RW);
			expect_leaf(f, va + off + s - 1, pa + off, s, PTE_RW);
			leaves_seen[s == PAGE_SIZE ? 0 : s == 0x200000 ? 1 : 2]++;
			off += s;
		}
		assert_int_equal(pt_lookup(&f->ops, f->root, va + size, NULL), 0);
		next_va = va + size + 0x1000;
	}
	teardown(f);
}

TEST(test_random_ranges)
{
	for (uint64_t seed = 1; seed <= 6; seed++) {
		random_ranges(true, seed);
		random_ranges(false, seed);
	}
	/* The generator reaches every page size. */
	assert_true(leaves_seen[0] > 100);
	assert_true(leaves_seen[1] > 100);
	assert_true(leaves_seen[2] > 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_one_4k_page),
		cmocka_unit_test(test_table_flags_reach_every_level),
		cmocka_unit_test(test_map_2m_pages),
		cmocka_unit_test(test_map_mixed_sizes),
		cmocka_unit_test(test_map_alignment_of_pa_matters),
		cmocka_unit_test(test_map_1g_pages_when_allowed),
		cmocka_unit_test(test_map_high_addresses),
		cmocka_unit_test(test_map_rejects_unaligned),
		cmocka_unit_test(test_map_ignores_ps_in_flags),
		cmocka_unit_test(test_double_mapping_fails),
		cmocka_unit_test(test_allocation_failure),
		cmocka_unit_test(test_set_flags_4k),
		cmocka_unit_test(test_unmap_splits_2m),
		cmocka_unit_test(test_unmap_splits_1g_twice),
		cmocka_unit_test(test_unmap_split_without_memory),
		cmocka_unit_test(test_random_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
