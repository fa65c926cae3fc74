/* SPDX-License-Identifier: MIT */
/*
 * hv/core/memory.c: a VM's regions stay sorted and never overlap; lookup
 * at the edges; host addresses only for backed ranges (ROM only when
 * asked), across neighbours whose host memory is contiguous and not
 * across a gap; runs up to the next region through nothing; the RAM
 * totals; and the e820 map a PC VM gets from them (reserved RAM and ROM
 * type 2, MMIO left out, neighbours merged).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/memory.h>

#define TEST(name) static void name(void **state __attribute__((unused)))
#define H 0x10000000ull /* a made-up host address */
#define MB (1ull << 20)

static struct vm_memory m;

static int add(uint64_t gpa, uint64_t size, uint64_t host, uint8_t kind, uint8_t flags)
{
	return mem_add(&m, &(struct mem_region){ gpa, size, host, kind, flags, "r" });
}

/* A PC of 3.5 GiB: 3 GiB below the hole, 512 MiB at 4 GiB, a BIOS ROM
 * at the top of 4 GiB, the IOAPIC and LAPIC pages. */
static void pc(void)
{
	memset(&m, 0, sizeof(m));
	assert_int_equal(add(0, 0x9fc00, H, REGION_RAM, 0), 0);
	assert_int_equal(add(0x9fc00, MB - 0x9fc00, H + 0x9fc00, REGION_RAM, REGION_RESERVED), 0);
	assert_int_equal(add(MB, 0xc0000000ull - MB, H + MB, REGION_RAM, 0), 0);
	assert_int_equal(add(0x100000000ull, 512 * MB, 0x400000000ull, REGION_RAM, 0), 0);
	assert_int_equal(add(0xfffc0000ull, 0x40000, 0x500000000ull, REGION_ROM, 0), 0);
	assert_int_equal(add(0xfec00000ull, 0x1000, 0, REGION_MMIO, 0), 0);
	assert_int_equal(add(0xfee00000ull, 0x1000, 0, REGION_MMIO, 0), 0);
}

TEST(sorted_and_no_overlap)
{
	pc();
	for (unsigned i = 1; i < m.n; i++)
		assert_true(m.r[i - 1].gpa + m.r[i - 1].size <= m.r[i].gpa);
	assert_int_equal(add(0xfee00800ull, 0x1000, 0, REGION_MMIO, 0), -1); /* into the LAPIC */
	assert_int_equal(add(0xbffff000ull, 0x2000, 0, REGION_MMIO, 0), -1); /* into RAM */
	assert_int_equal(add(0xfffff000ull, 0x2000, 0, REGION_MMIO, 0), -1); /* into the ROM */
	assert_int_equal(add(0x5000, 0, H, REGION_RAM, 0), -1);               /* empty */
	assert_int_equal(add(~0ull - 0xfff, 0x2000, 0, REGION_MMIO, 0), -1);  /* wraps */
	assert_int_equal(add(0xfed00000ull, 0x400, 0, REGION_MMIO, 0), 0);   /* between: fine */
}

TEST(full)
{
	memset(&m, 0, sizeof(m));
	for (unsigned i = 0; i < MAX_MEM_REGIONS; i++)
		assert_int_equal(add(i * 0x1000ull, 0x1000, 0, REGION_MMIO, 0), 0);
	assert_int_equal(add(0x100000, 0x1000, 0, REGION_MMIO, 0), -1);
}

TEST(lookup_edges)
{
	pc();
	assert_int_equal(mem_lookup(&m, 0)->gpa, 0);
	assert_int_equal(mem_lookup(&m, 0x9fbff)->gpa, 0);
	assert_int_equal(mem_lookup(&m, 0x9fc00)->flags, REGION_RESERVED);
	assert_null(mem_lookup(&m, 0xc0000000ull));
	assert_int_equal(mem_lookup(&m, 0xfee00fffull)->kind, REGION_MMIO);
	assert_null(mem_lookup(&m, 0xfee01000ull));
	assert_int_equal(mem_lookup(&m, 0xffffffffull)->kind, REGION_ROM);
	assert_int_equal(mem_lookup(&m, 0x11fffffffull)->kind, REGION_RAM);
	assert_null(mem_lookup(&m, 0x120000000ull));
}

TEST(host_addresses)
{
	pc();
	/* across the three low regions: one host block */
	assert_int_equal((uintptr_t)mem_hva(&m, 0x9f000, 0x2000, false), H + 0x9f000);
	assert_int_equal((uintptr_t)mem_hva(&m, 0, 0xc0000000ull, false), H);
	assert_null(mem_hva(&m, 0xbffff000ull, 0x2000, false)); /* into the hole */
	assert_int_equal((uintptr_t)mem_hva(&m, 0x100000000ull, 8, false), 0x400000000ull);
	assert_null(mem_hva(&m, 0xfffc0000ull, 4, false));       /* ROM, not asked for */
	assert_int_equal((uintptr_t)mem_hva(&m, 0xfffc0010ull, 4, true), 0x500000010ull);
	assert_null(mem_hva(&m, 0xfee00000ull, 4, true));        /* MMIO */
	assert_null(mem_hva(&m, 0x10, ~0ull, false));            /* wraps */
	/* neighbours, but not contiguous in the host */
	memset(&m, 0, sizeof(m));
	add(0, 0x1000, H, REGION_RAM, 0);
	add(0x1000, 0x1000, H + 0x5000, REGION_RAM, 0);
	assert_null(mem_hva(&m, 0xff0, 0x20, false));
	assert_int_equal((uintptr_t)mem_hva(&m, 0x1000, 0x10, false), H + 0x5000);
}

TEST(runs)
{
	const struct mem_region *r;

	pc();
	assert_int_equal(mem_run(&m, 0x9f000, 0x10000, &r), 0xc00);
	assert_int_equal(r->gpa, 0);
	assert_int_equal(mem_run(&m, 0xc0000000ull, ~0ull, &r), 0xfec00000ull - 0xc0000000ull);
	assert_null(r);
	assert_int_equal(mem_run(&m, 0xfee00ff8ull, 16, &r), 8);
	assert_int_equal(r->kind, REGION_MMIO);
	assert_int_equal(mem_run(&m, 0x120000000ull, 4, &r), 4); /* nothing, to the end */
	assert_null(r);
}

TEST(totals)
{
	pc();
	assert_int_equal(mem_ram_size(&m), 0xc0000000ull + 512 * MB);
	assert_int_equal(mem_low_ram_end(&m), 0xc0000000ull);
	memset(&m, 0, sizeof(m));
	assert_int_equal(mem_low_ram_end(&m), 0);
	add(0x1000, 0x1000, H, REGION_RAM, 0);
	assert_int_equal(mem_low_ram_end(&m), 0);
}

TEST(e820)
{
	struct e820_entry e[8];

	pc();
	assert_int_equal(mem_e820(&m, e, 8), 5);
	assert_true(e[0].addr == 0 && e[0].size == 0x9fc00 && e[0].type == E820_RAM);
	assert_true(e[1].addr == 0x9fc00 && e[1].size == MB - 0x9fc00 && e[1].type == E820_RESERVED);
	assert_true(e[2].addr == MB && e[2].size == 0xc0000000ull - MB && e[2].type == E820_RAM);
	assert_true(e[3].addr == 0xfffc0000ull && e[3].size == 0x40000 && e[3].type == E820_RESERVED);
	assert_true(e[4].addr == 0x100000000ull && e[4].size == 512 * MB && e[4].type == E820_RAM);
	assert_int_equal(mem_e820(&m, e, 2), 2); /* stops at max */
	/* neighbours of one type merge */
	memset(&m, 0, sizeof(m));
	add(0, 0x1000, H, REGION_RAM, 0);
	add(0x1000, 0x1000, H + 0x5000, REGION_RAM, 0);
	assert_int_equal(mem_e820(&m, e, 8), 1);
	assert_int_equal(e[0].size, 0x2000);
}

/* mem_set: the BIOS area's 16 KiB segments switched as the chipset's
 * shadowing does: a segment made ROM (elsewhere in the host) splits the
 * reserved RAM around it, a hole in the middle leaves both sides, the
 * first and last segments trim, and a bad request changes nothing. */
static void expect_region(uint64_t gpa, uint64_t size, uint64_t host, uint8_t kind)
{
	const struct mem_region *r = mem_lookup(&m, gpa);

	assert_non_null(r);
	assert_int_equal(r->gpa, gpa);
	assert_int_equal(r->size, size);
	assert_int_equal(r->host, host);
	assert_int_equal(r->kind, kind);
}

TEST(set_splits_trims_and_fails_whole)
{
	struct vm_memory before;
	struct mem_region rom = { 0xc4000, 0x4000, 0x700000000ull, REGION_ROM, REGION_RESERVED, "rom" };
	unsigned n;

	pc();
	n = m.n;
	assert_int_equal(mem_set(&m, 0xc4000, 0x4000, &rom), 0);
	assert_int_equal(m.n, n + 2);
	expect_region(0x9fc00, 0xc4000 - 0x9fc00, H + 0x9fc00, REGION_RAM);
	expect_region(0xc4000, 0x4000, 0x700000000ull, REGION_ROM);
	expect_region(0xc8000, MB - 0xc8000, H + 0xc8000, REGION_RAM);
	assert_int_equal(mem_lookup(&m, 0xc8000)->flags, REGION_RESERVED);
	/* A hole over the ROM and part of the RAM after it. */
	assert_int_equal(mem_set(&m, 0xc4000, 0x8000, NULL), 0);
	assert_null(mem_lookup(&m, 0xc4000));
	assert_null(mem_lookup(&m, 0xcbfff));
	expect_region(0xcc000, MB - 0xcc000, H + 0xcc000, REGION_RAM);
	/* RAM again over the hole and a bit of both sides. */
	assert_int_equal(mem_set(&m, 0xc0000, 0x10000,
				 &(struct mem_region){ 0xc0000, 0x10000, H + 0xc0000, REGION_RAM, REGION_RESERVED, "ram" }), 0);
	expect_region(0x9fc00, 0xc0000 - 0x9fc00, H + 0x9fc00, REGION_RAM);
	expect_region(0xc0000, 0x10000, H + 0xc0000, REGION_RAM);
	expect_region(0xd0000, MB - 0xd0000, H + 0xd0000, REGION_RAM);
	/* Exactly one region replaced, and a range covering several. */
	assert_int_equal(mem_set(&m, 0xc0000, 0x10000, NULL), 0);
	assert_null(mem_lookup(&m, 0xc0000));
	assert_int_equal(mem_set(&m, 0x9f000, 0x61000, NULL), 0);
	expect_region(0, 0x9f000, H, REGION_RAM);
	expect_region(MB, 0xc0000000ull - MB, H + MB, REGION_RAM);
	assert_null(mem_lookup(&m, 0xfffff));
	/* Refused, and nothing changed: empty, wrapping, a region not the
	 * range's, a full list. */
	before = m;
	assert_int_equal(mem_set(&m, 0x1000, 0, NULL), -1);
	assert_int_equal(mem_set(&m, ~0ull - 0xfff, 0x2000, NULL), -1);
	assert_int_equal(mem_set(&m, 0x1000, 0x1000, &rom), -1);
	while (m.n < MAX_MEM_REGIONS)
		assert_int_equal(add(0x200000000ull + m.n * 0x2000ull, 0x1000, 0, REGION_MMIO, 0), 0);
	memcpy(&before, &m, sizeof(m));
	assert_int_equal(mem_set(&m, 0x10000, 0x1000, NULL), -1); /* a split needs room */
	assert_memory_equal(&before, &m, sizeof(m));
	assert_int_equal(mem_set(&m, 0, 0x1000, NULL), 0);        /* a trim does not */
	expect_region(0x1000, 0x9e000, H + 0x1000, REGION_RAM);
}

/* mem_is: a range inside one region of the kind and host address asked
 * for; nothing at all for NULL. */
TEST(is_checks_kind_host_and_nothing)
{
	pc();
	assert_true(mem_is(&m, 0xc0000, 0x4000, &(struct mem_region){ .kind = REGION_RAM, .host = H + 0xc0000 }));
	assert_false(mem_is(&m, 0xc0000, 0x4000, &(struct mem_region){ .kind = REGION_RAM, .host = H }));
	assert_false(mem_is(&m, 0xc0000, 0x4000, &(struct mem_region){ .kind = REGION_ROM, .host = H + 0xc0000 }));
	assert_false(mem_is(&m, 0xfc000, 0x8000, &(struct mem_region){ .kind = REGION_RAM, .host = H + 0xfc000 }));
	assert_false(mem_is(&m, 0xc0000, 0x4000, NULL));
	assert_true(mem_is(&m, 0xc0000000ull, 0x1000, NULL));
	assert_false(mem_is(&m, 0xfebff000ull, 0x2000, NULL)); /* reaches the IOAPIC */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sorted_and_no_overlap),
		cmocka_unit_test(full),
		cmocka_unit_test(lookup_edges),
		cmocka_unit_test(host_addresses),
		cmocka_unit_test(runs),
		cmocka_unit_test(totals),
		cmocka_unit_test(e820),
		cmocka_unit_test(set_splits_trims_and_fails_whole),
		cmocka_unit_test(is_checks_kind_host_and_nothing),
	};
	return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
