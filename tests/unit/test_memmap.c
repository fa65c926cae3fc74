/* SPDX-License-Identifier: MIT */
/* hv/mm/memmap.c: memmap_normalize (sort, merge, reject), the module checks
 * and memmap_usable_bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/boot_info.h>
#include <petrel/lib.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

#define U BOOT_MEM_USABLE
#define R BOOT_MEM_RESERVED
#define A BOOT_MEM_ACPI_RECLAIM
#define N BOOT_MEM_ACPI_NVS

struct r { uint64_t base, len; uint32_t type; };

static struct boot_info *make(const struct r *m, uint32_t n)
{
	struct boot_info *bi = calloc(1, sizeof(*bi));

	assert_true(n <= BOOT_MAX_MEM);
	for (uint32_t i = 0; i < n; i++)
		bi->mem[i] = (struct boot_mem_region){ .base = m[i].base, .len = m[i].len, .type = m[i].type };
	bi->nr_mem = n;
	return bi;
}

static void expect_map(const struct boot_info *bi, const struct r *want, uint32_t n)
{
	if (bi->nr_mem != n)
		fail_msg("%u ranges, want %u", bi->nr_mem, n);
	for (uint32_t i = 0; i < n; i++)
		if (bi->mem[i].base != want[i].base || bi->mem[i].len != want[i].len ||
		    bi->mem[i].type != want[i].type)
			fail_msg("range %u: 0x%llx+0x%llx type %u, want 0x%llx+0x%llx type %u", i,
				 (unsigned long long)bi->mem[i].base, (unsigned long long)bi->mem[i].len,
				 bi->mem[i].type, (unsigned long long)want[i].base,
				 (unsigned long long)want[i].len, want[i].type);
}

/* Normalizes `in`; expects success and exactly `want`. */
static void normalize_ok(const struct r *in, uint32_t nin, const struct r *want, uint32_t nwant)
{
	struct boot_info *bi = make(in, nin);
	char err[160] = "";

	if (memmap_normalize(bi, err, sizeof(err)) != 0)
		fail_msg("memmap_normalize failed: %s", err);
	expect_map(bi, want, nwant);
	free(bi);
}

/* Normalizes `in`; expects failure with a message containing `what`. */
static void normalize_fails(const struct r *in, uint32_t nin, const char *what)
{
	struct boot_info *bi = make(in, nin);
	char err[160] = "";

	assert_int_equal(memmap_normalize(bi, err, sizeof(err)), -1);
	if (!strstr(err, what))
		fail_msg("error \"%s\" does not mention \"%s\"", err, what);
	free(bi);
}

#define OK(in, want) normalize_ok(in, ARRAY_SIZE(in), want, ARRAY_SIZE(want))

/* The QEMU -m 1024 e820 map, already clean: unchanged. */
TEST(test_clean_map_unchanged)
{
	static const struct r qemu[] = {
		{ 0, 0x9fc00, U },          { 0x9fc00, 0x400, R },       { 0xf0000, 0x10000, R },
		{ 0x100000, 0x3fee0000, U }, { 0x3ffe0000, 0x20000, R }, { 0xfffc0000, 0x40000, R },
		{ 0xfd00000000, 0x300000000, R },
	};
	OK(qemu, qemu);
}

TEST(test_sorts_by_base)
{
	static const struct r in[] = {
		{ 0x200000, 0x1000, R }, { 0x100000, 0x1000, U }, { 0x5000, 0x1000, N }, { 0x300000, 0x1000, U },
	};
	static const struct r want[] = {
		{ 0x5000, 0x1000, N }, { 0x100000, 0x1000, U }, { 0x200000, 0x1000, R }, { 0x300000, 0x1000, U },
	};
	OK(in, want);
}

TEST(test_merges_touching_same_type)
{
	static const struct r in[] = {
		{ 0x100000, 0x100000, U }, { 0x300000, 0x100000, U }, { 0x200000, 0x100000, U },
		{ 0x400000, 0x1000, A },
	};
	static const struct r want[] = { { 0x100000, 0x300000, U }, { 0x400000, 0x1000, A } };
	OK(in, want);
}

TEST(test_merges_overlapping_same_type)
{
	static const struct r in[] = {
		{ 0x1000, 0x5000, U },   /* [0x1000, 0x6000) */
		{ 0x2000, 0x1000, U },   /* inside it */
		{ 0x5000, 0x3000, U },   /* overlaps its end: to 0x8000 */
		{ 0x10000, 0x1000, R },
		{ 0x10000, 0x1000, R },  /* exact duplicate */
		{ 0x0, 0x1000, U },      /* touches the first from below */
	};
	static const struct r want[] = { { 0x0, 0x8000, U }, { 0x10000, 0x1000, R } };
	OK(in, want);
}

/* Touching ranges of different types stay apart. */
TEST(test_touching_different_types_kept)
{
	static const struct r in[] = { { 0x2000, 0x1000, R }, { 0x1000, 0x1000, U }, { 0x3000, 0x1000, U } };
	static const struct r want[] = { { 0x1000, 0x1000, U }, { 0x2000, 0x1000, R }, { 0x3000, 0x1000, U } };
	OK(in, want);
}

TEST(test_rejects_overlap_of_different_types)
{
	static const struct r partly[] = { { 0x100000, 0x2000, U }, { 0x101000, 0x2000, R } };
	static const struct r inside[] = { { 0x0, 0x100000, U }, { 0x9f000, 0x1000, A } };
	/* The overlap is with a range that grew by merging. */
	static const struct r merged[] = {
		{ 0x0, 0x2000, U }, { 0x1000, 0x4000, U }, { 0x4000, 0x1000, R },
	};
	static const struct r same_base[] = { { 0x1000, 0x1000, R }, { 0x1000, 0x2000, U } };

	normalize_fails(partly, ARRAY_SIZE(partly), "overlap with different types at 0x101000");
	normalize_fails(inside, ARRAY_SIZE(inside), "overlap with different types at 0x9f000");
	normalize_fails(merged, ARRAY_SIZE(merged), "previous ends at 0x5000");
	normalize_fails(same_base, ARRAY_SIZE(same_base), "overlap with different types at 0x1000");
}

TEST(test_empty_and_zero_length)
{
	static const struct r zeros[] = { { 0x1000, 0, U }, { 0x5000, 0, R } };
	static const struct r only_reserved[] = { { 0xf0000, 0x10000, R } };
	/* A zero-length entry inside a range of another type is no overlap. */
	static const struct r in[] = { { 0x1000, 0x3000, U }, { 0x2000, 0, R }, { 0x8000, 0x1000, U } };
	static const struct r want[] = { { 0x1000, 0x3000, U }, { 0x8000, 0x1000, U } };

	normalize_fails(zeros, 0, "empty");
	normalize_fails(zeros, ARRAY_SIZE(zeros), "empty");
	normalize_fails(only_reserved, ARRAY_SIZE(only_reserved), "no usable RAM");
	OK(in, want);
}

TEST(test_rejects_wraparound)
{
	static const struct r wrap[] = { { 0x1000, 0x1000, U }, { 0xfffffffffffff000ull, 0x2000, R } };
	static const struct r huge[] = { { 0x100000, UINT64_MAX, U } };

	normalize_fails(wrap, ARRAY_SIZE(wrap), "0xfffffffffffff000 wraps around");
	normalize_fails(huge, ARRAY_SIZE(huge), "wraps around");
}

/* A full map of 256 tiny entries in reverse order, alternating types so
 * nothing merges, comes out sorted and complete. */
TEST(test_full_map_reverse_order)
{
	struct r in[BOOT_MAX_MEM], want[BOOT_MAX_MEM];

	for (uint32_t i = 0; i < BOOT_MAX_MEM; i++) {
		uint32_t j = BOOT_MAX_MEM - 1 - i;
		want[i] = (struct r){ 0x1000 * (uint64_t)i, 0x1000, i % 2 ? R : U };
		in[j] = want[i];
	}
	OK(in, want);
}

/* Random maps: the result is sorted, has no touching same-type neighbours,
 * and covers exactly the same bytes of each type as the input. */
TEST(test_random_maps_preserve_coverage)
{
	uint64_t seed = 12345;
	int accepted = 0, rejected = 0;

	for (int round = 0; round < 300; round++) {
		struct r in[40];
		uint8_t before[256] = { 0 }, after[256] = { 0 };
		struct boot_info *bi;
		char err[160];
		uint32_t n = 1 + (uint32_t)(round % 40);
		bool conflict = false;

		/* 256 "pages" of 0x1000; ranges of one type may overlap freely. */
		for (uint32_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			uint32_t first = (uint32_t)(seed >> 33) % 256, len = (uint32_t)(seed >> 45) % 12;
			uint32_t type = (seed >> 60) % 3 ? U : R;
			if (first + len > 256)
				len = 256 - first;
			in[i] = (struct r){ first * 0x1000ull, len * 0x1000ull, type };
			for (uint32_t p = first; p < first + len; p++) {
				if (before[p] && before[p] != type)
					conflict = true;
				before[p] = (uint8_t)type;
			}
		}
		bi = make(in, n);
		int rc = memmap_normalize(bi, err, sizeof(err));
		bool any_usable = memchr(before, U, sizeof(before)) != NULL;
		if (conflict || !any_usable) {
			assert_int_equal(rc, -1);
			free(bi);
			rejected++;
			continue;
		}
		assert_int_equal(rc, 0);
		accepted++;
		for (uint32_t i = 0; i < bi->nr_mem; i++) {
			const struct boot_mem_region *m = &bi->mem[i];
			assert_true(m->len > 0);
			if (i > 0) {
				const struct boot_mem_region *p = &bi->mem[i - 1];
				assert_true(p->base + p->len <= m->base);
				assert_false(p->base + p->len == m->base && p->type == m->type);
			}
			for (uint64_t pg = m->base / 0x1000; pg < (m->base + m->len) / 0x1000; pg++)
				after[pg] = (uint8_t)m->type;
		}
		assert_memory_equal(before, after, sizeof(before));
		free(bi);
	}
	/* The generator exercises both outcomes. */
	assert_true(accepted > 50);
	assert_true(rejected > 50);
}

TEST(test_usable_bytes)
{
	static const struct r in[] = {
		{ 0, 0x9fc00, U }, { 0x9fc00, 0x400, R }, { 0x100000, 0x3fee0000, U }, { 0x3ffe0000, 0x20000, A },
		{ 0x100000000ull, 0x40000000, U },
	};
	struct boot_info *bi = make(in, ARRAY_SIZE(in));

	assert_int_equal(memmap_usable_bytes(bi), 0x9fc00 + 0x3fee0000 + 0x40000000ull);
	bi->nr_mem = 0;
	assert_int_equal(memmap_usable_bytes(bi), 0);
	free(bi);
}

/* --- modules --------------------------------------------------------------- */

static struct boot_info *with_modules(const uint64_t (*mods)[2], uint32_t n)
{
	struct boot_info *bi = calloc(1, sizeof(*bi));

	for (uint32_t i = 0; i < n; i++) {
		bi->modules[i].start = mods[i][0];
		bi->modules[i].end = mods[i][1];
	}
	bi->nr_modules = n;
	return bi;
}

#define IMG0 0x200000ull
#define IMG1 0x280000ull

static void modules_ok(const uint64_t (*mods)[2], uint32_t n)
{
	struct boot_info *bi = with_modules(mods, n);
	char err[160] = "";

	if (boot_check_modules(bi, IMG0, IMG1, err, sizeof(err)) != 0)
		fail_msg("boot_check_modules failed: %s", err);
	free(bi);
}

static void modules_fail(const uint64_t (*mods)[2], uint32_t n, const char *what)
{
	struct boot_info *bi = with_modules(mods, n);
	char err[160] = "";

	assert_int_equal(boot_check_modules(bi, IMG0, IMG1, err, sizeof(err)), -1);
	if (!strstr(err, what))
		fail_msg("error \"%s\" does not mention \"%s\"", err, what);
	free(bi);
}

TEST(test_modules_good)
{
	/* Right after the image, touching each other, and far above 4 GiB. */
	static const uint64_t mods[][2] = {
		{ IMG1, IMG1 + 0x1000 }, { IMG1 + 0x1000, IMG1 + 0x5000 }, { 0x100000, IMG0 },
		{ 0x123400000ull, 0x123456789ull },
	};
	modules_ok(mods, 0);
	modules_ok(mods, ARRAY_SIZE(mods));
}

TEST(test_module_overlapping_image)
{
	static const uint64_t start_inside[][2] = { { 0x300000, 0x400000 }, { IMG1 - 1, IMG1 + 0x1000 } };
	static const uint64_t around[][2] = { { 0x100000, 0x400000 } };
	static const uint64_t end_inside[][2] = { { 0x100000, IMG0 + 1 } };

	modules_fail(start_inside, ARRAY_SIZE(start_inside), "module 1 at 0x27ffff overlaps the hypervisor image");
	modules_fail(around, ARRAY_SIZE(around), "module 0 at 0x100000 overlaps the hypervisor image");
	modules_fail(end_inside, ARRAY_SIZE(end_inside), "overlaps the hypervisor image");
}

TEST(test_modules_overlapping_each_other)
{
	static const uint64_t partial[][2] = {
		{ 0x1000000, 0x1100000 }, { 0x2000000, 0x2001000 }, { 0x10ff000, 0x1200000 },
	};
	static const uint64_t same[][2] = { { 0x1000000, 0x1001000 }, { 0x1000000, 0x1001000 } };
	static const uint64_t inside[][2] = { { 0x1000000, 0x2000000 }, { 0x1800000, 0x1800001 } };

	modules_fail(partial, ARRAY_SIZE(partial), "modules 0 and 2 overlap");
	modules_fail(same, ARRAY_SIZE(same), "modules 0 and 1 overlap");
	modules_fail(inside, ARRAY_SIZE(inside), "modules 0 and 1 overlap");
}

TEST(test_module_empty_or_inverted)
{
	static const uint64_t empty[][2] = { { 0x1000000, 0x1001000 }, { 0x3000000, 0x3000000 } };
	static const uint64_t inverted[][2] = { { 0x3000000, 0x2000000 } };

	modules_fail(empty, ARRAY_SIZE(empty), "module 1 is empty or inverted (start 0x3000000)");
	modules_fail(inverted, ARRAY_SIZE(inverted), "module 0 is empty or inverted");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_map_unchanged),
		cmocka_unit_test(test_sorts_by_base),
		cmocka_unit_test(test_merges_touching_same_type),
		cmocka_unit_test(test_merges_overlapping_same_type),
		cmocka_unit_test(test_touching_different_types_kept),
		cmocka_unit_test(test_rejects_overlap_of_different_types),
		cmocka_unit_test(test_empty_and_zero_length),
		cmocka_unit_test(test_rejects_wraparound),
		cmocka_unit_test(test_full_map_reverse_order),
		cmocka_unit_test(test_random_maps_preserve_coverage),
		cmocka_unit_test(test_usable_bytes),
		cmocka_unit_test(test_modules_good),
		cmocka_unit_test(test_module_overlapping_image),
		cmocka_unit_test(test_modules_overlapping_each_other),
		cmocka_unit_test(test_module_empty_or_inverted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
