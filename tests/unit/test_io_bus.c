/* SPDX-License-Identifier: MIT */
/*
 * hv/core/io_bus.c: registering port-I/O and MMIO ranges (overlap, empty,
 * wrapping and full tables rejected), finding the range at an address, and
 * routing accesses to fake devices that record what they were called with:
 * the offset into the range, the size, the value masked to the size, and
 * all-ones for reads nobody claims.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/io_bus.h>
#include <petrel/lib.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

#define PIO false
#define MMIO true

/* A device that records its last call and counts calls. */
struct fake {
	unsigned reads, writes;
	uint64_t off, val;
	uint8_t size;
	struct vcpu *v;
	uint64_t ret; /* what reads return, unmasked */
};

static uint64_t fake_read(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct fake *f = dev;

	f->reads++;
	f->v = v;
	f->off = off;
	f->size = size;
	return f->ret;
}

static void fake_write(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct fake *f = dev;

	f->writes++;
	f->v = v;
	f->off = off;
	f->size = size;
	f->val = val;
}

static struct io_range range(uint64_t base, uint64_t len, struct fake *f)
{
	return (struct io_range){ .base = base, .len = len, .read = fake_read, .write = fake_write,
				  .dev = f, .name = "fake" };
}

static struct io_bus *new_bus(void)
{
	struct io_bus *bus = calloc(1, sizeof(*bus));

	assert_non_null(bus);
	return bus;
}

static void add_ok(struct io_bus *bus, bool mmio, uint64_t base, uint64_t len, struct fake *f)
{
	struct io_range r = range(base, len, f);

	if (io_bus_add(bus, mmio, &r) != 0)
		fail_msg("adding %s 0x%llx+0x%llx failed", mmio ? "MMIO" : "PIO",
			 (unsigned long long)base, (unsigned long long)len);
}

static void add_fails(struct io_bus *bus, bool mmio, uint64_t base, uint64_t len)
{
	struct io_range r = range(base, len, NULL);
	uint32_t before = mmio ? bus->nr_mmio : bus->nr_pio;

	if (io_bus_add(bus, mmio, &r) != -1)
		fail_msg("adding %s 0x%llx+0x%llx succeeded", mmio ? "MMIO" : "PIO",
			 (unsigned long long)base, (unsigned long long)len);
	assert_int_equal(mmio ? bus->nr_mmio : bus->nr_pio, before);
}

static const struct io_range *range_at(const struct io_bus *bus, bool mmio, uint64_t addr)
{
	const struct io_range *r = io_bus_find(bus, mmio, addr);

	if (!r)
		fail_msg("nothing at %s 0x%llx", mmio ? "MMIO" : "PIO", (unsigned long long)addr);
	return r;
}

static void *dev_at(const struct io_bus *bus, bool mmio, uint64_t addr)
{
	return range_at(bus, mmio, addr)->dev;
}

static uint64_t mask_of(uint8_t size)
{
	return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

TEST(test_find_at_range_edges)
{
	struct io_bus *bus = new_bus();
	struct fake a = { 0 }, b = { 0 };
	const struct io_range *r;

	add_ok(bus, PIO, 0x3f8, 8, &a);
	add_ok(bus, PIO, 0x402, 1, &b);
	assert_int_equal(bus->nr_pio, 2);

	assert_null(io_bus_find(bus, PIO, 0x3f7));
	r = io_bus_find(bus, PIO, 0x3f8);
	assert_non_null(r);
	assert_ptr_equal(r->dev, &a);
	assert_int_equal(r->base, 0x3f8);
	assert_int_equal(r->len, 8);
	assert_ptr_equal(r->read, fake_read);
	assert_ptr_equal(r->write, fake_write);
	assert_string_equal(r->name, "fake");
	assert_ptr_equal(io_bus_find(bus, PIO, 0x3ff), r);
	assert_null(io_bus_find(bus, PIO, 0x400));
	assert_null(io_bus_find(bus, PIO, 0x401));
	assert_ptr_equal(dev_at(bus, PIO, 0x402), &b);
	assert_null(io_bus_find(bus, PIO, 0x403));
	assert_null(io_bus_find(bus, PIO, 0));
	assert_null(io_bus_find(bus, PIO, ~0ull));
	free(bus);
}

TEST(test_find_adjacent_ranges_and_top_of_space)
{
	struct io_bus *bus = new_bus();
	struct fake a = { 0 }, b = { 0 }, top = { 0 };

	add_ok(bus, MMIO, 0xfec00000, 0x1000, &a);
	add_ok(bus, MMIO, 0xfec01000, 0x1000, &b); /* touches a: allowed */
	add_ok(bus, MMIO, ~0ull - 0xfff, 0xfff, &top); /* ends at 2^64 - 1 */
	assert_ptr_equal(dev_at(bus, MMIO, 0xfec00fff), &a);
	assert_ptr_equal(dev_at(bus, MMIO, 0xfec01000), &b);
	assert_ptr_equal(dev_at(bus, MMIO, 0xfec01fff), &b);
	assert_null(io_bus_find(bus, MMIO, 0xfec02000));
	assert_null(io_bus_find(bus, MMIO, 0xfebfffff));
	assert_ptr_equal(dev_at(bus, MMIO, ~0ull - 0xfff), &top);
	assert_ptr_equal(dev_at(bus, MMIO, ~0ull - 1), &top);
	assert_null(io_bus_find(bus, MMIO, ~0ull));
	free(bus);
}

TEST(test_add_rejects_overlap)
{
	struct io_bus *bus = new_bus();
	struct fake a = { 0 };

	add_ok(bus, PIO, 0x100, 0x10, &a);
	add_fails(bus, PIO, 0x100, 0x10);  /* identical */
	add_fails(bus, PIO, 0xf8, 0x9);    /* last byte on the first */
	add_fails(bus, PIO, 0x10f, 0x1);   /* the last byte */
	add_fails(bus, PIO, 0x10f, 0x100); /* starts on the last byte */
	add_fails(bus, PIO, 0x104, 0x2);   /* inside */
	add_fails(bus, PIO, 0x0, 0x1000);  /* around */
	add_ok(bus, PIO, 0xf0, 0x10, &a);  /* touching below */
	add_ok(bus, PIO, 0x110, 0x10, &a); /* touching above */
	assert_int_equal(bus->nr_pio, 3);
	/* Overlapping a later entry, not just the first. */
	add_fails(bus, PIO, 0x11f, 0x2);
	add_fails(bus, PIO, 0xe0, 0x11);
	assert_int_equal(range_at(bus, PIO, 0x105)->base, 0x100);
	free(bus);
}

TEST(test_add_rejects_zero_length)
{
	struct io_bus *bus = new_bus();

	add_fails(bus, PIO, 0x60, 0);
	add_fails(bus, MMIO, 0xfee00000, 0);
	assert_null(io_bus_find(bus, PIO, 0x60));
	assert_null(io_bus_find(bus, MMIO, 0xfee00000));
	free(bus);
}

TEST(test_add_rejects_wraparound)
{
	struct io_bus *bus = new_bus();
	struct fake a = { 0 };

	add_fails(bus, MMIO, ~0ull - 0xfff, 0x2000);
	add_fails(bus, MMIO, ~0ull, 2);
	add_fails(bus, MMIO, 0x1000, ~0ull);
	add_fails(bus, PIO, 0xffff, ~0ull);
	/* Had one been taken, [0, 0x1000) would now clash with its wrapped end. */
	add_ok(bus, MMIO, 0, 0x1000, &a);
	assert_null(io_bus_find(bus, MMIO, ~0ull));
	assert_null(io_bus_find(bus, MMIO, 0x1000));
	free(bus);
}

TEST(test_tables_full)
{
	struct io_bus *bus = new_bus();
	struct fake a = { 0 };

	for (uint64_t i = 0; i < IO_BUS_MAX_PIO; i++)
		add_ok(bus, PIO, 0x100 + i * 4, 4, &a);
	assert_int_equal(bus->nr_pio, IO_BUS_MAX_PIO);
	add_fails(bus, PIO, 0x1000, 4); /* no overlap, just no room */
	assert_null(io_bus_find(bus, PIO, 0x1000));
	assert_non_null(io_bus_find(bus, PIO, 0x100 + (IO_BUS_MAX_PIO - 1) * 4 + 3));

	/* The MMIO table is separate and has its own limit. */
	for (uint64_t i = 0; i < IO_BUS_MAX_MMIO; i++)
		add_ok(bus, MMIO, 0xe0000000 + i * 0x1000, 0x1000, &a);
	assert_int_equal(bus->nr_mmio, IO_BUS_MAX_MMIO);
	add_fails(bus, MMIO, 0x10000, 0x1000);
	assert_int_equal(bus->nr_pio, IO_BUS_MAX_PIO);
	free(bus);
}

TEST(test_access_routes_reads)
{
	struct io_bus *bus = new_bus();
	struct fake a = { .ret = 0x11 }, b = { .ret = 0x2222 };
	uint64_t val = 0;

	add_ok(bus, PIO, 0x3f8, 8, &a);
	add_ok(bus, PIO, 0x60, 5, &b);

	assert_true(io_bus_access(bus, PIO, NULL, 0x3fd, 1, false, &val));
	assert_int_equal(val, 0x11);
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.off, 5);
	assert_int_equal(a.size, 1);
	assert_null(a.v);
	assert_int_equal(b.reads + b.writes + a.writes, 0);

	assert_true(io_bus_access(bus, PIO, NULL, 0x64, 2, false, &val));
	assert_int_equal(val, 0x2222);
	assert_int_equal(b.reads, 1);
	assert_int_equal(b.off, 4); /* the last byte of b's range */
	assert_int_equal(b.size, 2);

	assert_true(io_bus_access(bus, PIO, NULL, 0x60, 4, false, &val));
	assert_int_equal(b.reads, 2);
	assert_int_equal(b.off, 0);
	assert_int_equal(b.size, 4);
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.writes + b.writes, 0);
	free(bus);
}

TEST(test_access_routes_writes)
{
	struct io_bus *bus = new_bus();
	struct fake a = { 0 }, b = { 0 };
	uint64_t val;

	add_ok(bus, MMIO, 0xfee00000, 0x1000, &a);
	add_ok(bus, MMIO, 0xfec00000, 0x20, &b);

	val = 0xdeadbeef;
	assert_true(io_bus_access(bus, MMIO, NULL, 0xfee000b0, 4, true, &val));
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.off, 0xb0);
	assert_int_equal(a.size, 4);
	assert_int_equal(a.val, 0xdeadbeef);
	assert_null(a.v);
	assert_int_equal(a.reads + b.reads + b.writes, 0);

	val = 0x0123456789abcdefull;
	assert_true(io_bus_access(bus, MMIO, NULL, 0xfec00018, 8, true, &val));
	assert_int_equal(b.writes, 1);
	assert_int_equal(b.off, 0x18);
	assert_int_equal(b.size, 8);
	assert_int_equal(b.val, 0x0123456789abcdefull);
	assert_int_equal(a.writes, 1);
	free(bus);
}

TEST(test_access_masks_to_size)
{
	static const uint8_t sizes[] = { 1, 2, 4, 8 };
	struct io_bus *bus = new_bus();
	struct fake a = { .ret = 0xfedcba9876543210ull };
	uint64_t val;

	add_ok(bus, PIO, 0xcf8, 8, &a);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint8_t s = sizes[i];

		val = 0x5555555555555555ull;
		assert_true(io_bus_access(bus, PIO, NULL, 0xcf8, s, false, &val));
		assert_int_equal(val, 0xfedcba9876543210ull & mask_of(s));
		assert_int_equal(a.size, s);

		val = 0x8877665544332211ull;
		assert_true(io_bus_access(bus, PIO, NULL, 0xcfc, s, true, &val));
		assert_int_equal(a.val, 0x8877665544332211ull & mask_of(s));
		assert_int_equal(a.size, s);
		assert_int_equal(a.off, 4);
	}
	assert_int_equal(a.reads, 4);
	assert_int_equal(a.writes, 4);
	free(bus);
}

TEST(test_unclaimed_reads_all_ones)
{
	static const uint8_t sizes[] = { 1, 2, 4, 8 };
	static const uint64_t want[] = { 0xff, 0xffff, 0xffffffff, 0xffffffffffffffffull };
	struct io_bus *bus = new_bus();
	struct fake a = { .ret = 0 };
	uint64_t val;

	/* An empty bus, a gap between ranges, just past a range. */
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		val = 0x1234567812345678ull;
		assert_false(io_bus_access(bus, PIO, NULL, 0x80, sizes[i], false, &val));
		assert_int_equal(val, want[i]);
		val = 0;
		assert_false(io_bus_access(bus, MMIO, NULL, 0xfed00000, sizes[i], false, &val));
		assert_int_equal(val, want[i]);
	}
	add_ok(bus, PIO, 0x70, 2, &a);
	add_ok(bus, PIO, 0x80, 1, &a);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		val = 0x1234567812345678ull;
		assert_false(io_bus_access(bus, PIO, NULL, 0x72, sizes[i], false, &val));
		assert_int_equal(val, want[i]);
		val = 0;
		assert_false(io_bus_access(bus, PIO, NULL, 0x6f, sizes[i], false, &val));
		assert_int_equal(val, want[i]);
		val = 0;
		assert_false(io_bus_access(bus, PIO, NULL, 0x81, sizes[i], false, &val));
		assert_int_equal(val, want[i]);
	}
	assert_int_equal(a.reads + a.writes, 0);
	free(bus);
}

TEST(test_unclaimed_writes_dropped)
{
	static const uint8_t sizes[] = { 1, 2, 4, 8 };
	struct io_bus *bus = new_bus();
	struct fake a = { 0 }, m = { 0 };
	uint64_t val;

	add_ok(bus, PIO, 0x3f8, 8, &a);
	add_ok(bus, MMIO, 0x3f8, 8, &m);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		val = 0xabcdef;
		assert_false(io_bus_access(bus, PIO, NULL, 0x3f7, sizes[i], true, &val));
		assert_false(io_bus_access(bus, PIO, NULL, 0x400, sizes[i], true, &val));
		assert_false(io_bus_access(bus, MMIO, NULL, 0x2f8, sizes[i], true, &val));
		assert_int_equal(val, 0xabcdef);
	}
	assert_int_equal(a.reads + a.writes + m.reads + m.writes, 0);
	free(bus);
}

TEST(test_null_ops)
{
	static const uint8_t sizes[] = { 1, 2, 4, 8 };
	struct io_bus *bus = new_bus();
	struct fake f = { .ret = 0 };
	struct io_range wo = { .base = 0x80, .len = 1, .write = fake_write, .dev = &f, .name = "wo" };
	struct io_range ro = { .base = 0x90, .len = 4, .read = fake_read, .dev = &f, .name = "ro" };
	uint64_t val;

	assert_int_equal(io_bus_add(bus, PIO, &wo), 0);
	assert_int_equal(io_bus_add(bus, PIO, &ro), 0);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		/* Claimed (the range is there), but reads as all-ones. */
		val = 0x42;
		assert_true(io_bus_access(bus, PIO, NULL, 0x80, sizes[i], false, &val));
		assert_int_equal(val, mask_of(sizes[i]));
	}
	assert_int_equal(f.reads, 0);
	val = 7;
	assert_true(io_bus_access(bus, PIO, NULL, 0x80, 1, true, &val));
	assert_int_equal(f.writes, 1);
	assert_int_equal(f.val, 7);
	/* A read-only range swallows writes. */
	assert_true(io_bus_access(bus, PIO, NULL, 0x92, 2, true, &val));
	assert_int_equal(f.writes, 1);
	assert_true(io_bus_access(bus, PIO, NULL, 0x92, 2, false, &val));
	assert_int_equal(f.reads, 1);
	assert_int_equal(val, 0);
	free(bus);
}

TEST(test_pio_and_mmio_independent)
{
	struct io_bus *bus = new_bus();
	struct fake p = { .ret = 0x1111 }, m = { .ret = 0x2222 };
	uint64_t val;

	add_ok(bus, PIO, 0x1000, 0x100, &p);
	add_ok(bus, MMIO, 0x1000, 0x100, &m); /* same numbers, other space */
	add_ok(bus, MMIO, 0x2000, 0x10, &m);
	assert_int_equal(bus->nr_pio, 1);
	assert_int_equal(bus->nr_mmio, 2);
	assert_ptr_equal(dev_at(bus, PIO, 0x1000), &p);
	assert_ptr_equal(dev_at(bus, MMIO, 0x1000), &m);
	assert_null(io_bus_find(bus, PIO, 0x2000));
	/* Overlap is checked within a space only. */
	add_fails(bus, MMIO, 0x10ff, 2);
	add_fails(bus, PIO, 0x10ff, 2);

	assert_true(io_bus_access(bus, PIO, NULL, 0x1010, 2, false, &val));
	assert_int_equal(val, 0x1111);
	assert_true(io_bus_access(bus, MMIO, NULL, 0x1010, 2, false, &val));
	assert_int_equal(val, 0x2222);
	assert_false(io_bus_access(bus, PIO, NULL, 0x2000, 2, false, &val));
	assert_int_equal(val, 0xffff);
	assert_int_equal(p.reads, 1);
	assert_int_equal(m.reads, 1);
	val = 5;
	assert_true(io_bus_access(bus, MMIO, NULL, 0x1020, 1, true, &val));
	assert_int_equal(m.writes, 1);
	assert_int_equal(m.off, 0x20);
	assert_int_equal(p.writes, 0);
	free(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_at_range_edges),
		cmocka_unit_test(test_find_adjacent_ranges_and_top_of_space),
		cmocka_unit_test(test_add_rejects_overlap),
		cmocka_unit_test(test_add_rejects_zero_length),
		cmocka_unit_test(test_add_rejects_wraparound),
		cmocka_unit_test(test_tables_full),
		cmocka_unit_test(test_access_routes_reads),
		cmocka_unit_test(test_access_routes_writes),
		cmocka_unit_test(test_access_masks_to_size),
		cmocka_unit_test(test_unclaimed_reads_all_ones),
		cmocka_unit_test(test_unclaimed_writes_dropped),
		cmocka_unit_test(test_null_ops),
		cmocka_unit_test(test_pio_and_mmio_independent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
