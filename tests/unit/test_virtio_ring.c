/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/virtio_ring.c over a fake guest RAM: the areas checked when a
 * queue is enabled; chains taken in order across the index's wrap, read
 * and written across their buffers; indirect tables; and every malformed
 * chain refused as a whole (its head still given back): an index past
 * the queue, a buffer outside RAM or wrapping, a zero length, a loop, a
 * chain longer than the queue, a readable buffer after a writable one,
 * bad indirect tables (misaligned, empty, nested, chained on, looping);
 * a driver index that runs more than a queue ahead breaks the queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/virtio_ring.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

#define RAM (1u << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x10000

static uint8_t ram[RAM];

static void *map(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	assert_true(len > 0);
	return gpa < RAM && len <= RAM - gpa ? ram + gpa : NULL;
}

static const struct virtq_mem mem = { .map = map };
static struct virtq q;
static uint16_t avail_idx;

static void fresh(uint16_t size)
{
	memset(ram, 0, sizeof(ram));
	q = (struct virtq){ .size = size, .desc = DESC, .avail = AVAIL, .used = USED };
	avail_idx = 0;
	assert_true(virtq_valid(&q, &mem));
	q.ready = true;
}

/* A descriptor in a table anywhere in RAM; desc() in the queue's own. */
static void tdesc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = ram + table + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	tdesc(DESC, i, addr, len, flags, next);
}

static void offer(uint16_t head)
{
	memcpy(ram + AVAIL + 4 + 2 * (avail_idx % q.size), &head, 2);
	avail_idx++;
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
}

static uint16_t used_idx(void)
{
	uint16_t v;
	memcpy(&v, ram + USED + 2, 2);
	return v;
}

TEST(test_valid_areas)
{
	struct virtq v = { .size = 256, .desc = DESC, .avail = AVAIL, .used = USED };

	memset(ram, 0, sizeof(ram));
	assert_true(virtq_valid(&v, &mem));
	v.size = 100;
	assert_false(virtq_valid(&v, &mem)); /* not a power of two */
	v.size = 0;
	assert_false(virtq_valid(&v, &mem));
	v.size = 2048;
	assert_false(virtq_valid(&v, &mem)); /* more than offered at most */
	v = (struct virtq){ .size = 8, .desc = DESC + 8, .avail = AVAIL, .used = USED };
	assert_false(virtq_valid(&v, &mem)); /* descriptors 16-aligned */
	v = (struct virtq){ .size = 8, .desc = DESC, .avail = AVAIL + 1, .used = USED };
	assert_false(virtq_valid(&v, &mem));
	v = (struct virtq){ .size = 8, .desc = DESC, .avail = AVAIL, .used = USED + 2 };
	assert_false(virtq_valid(&v, &mem));
	v = (struct virtq){ .size = 8, .desc = RAM - 64, .avail = AVAIL, .used = USED };
	assert_false(virtq_valid(&v, &mem)); /* runs out of RAM */
	v = (struct virtq){ .size = 8, .desc = DESC, .avail = AVAIL, .used = ~0ull - 3 };
	assert_false(virtq_valid(&v, &mem)); /* wraps */
}

TEST(test_chains_in_order_and_wrap)
{
	struct virtq_chain c;
	char out[8];

	fresh(4);
	q.last_avail = q.used_idx = 0xfffe; /* the 16-bit indexes wrap on the way */
	avail_idx = 0xfffe;
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_EMPTY);
	memcpy(ram + BUF, "head", 4);
	memcpy(ram + BUF + 0x100, "er", 2);
	desc(0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF + 0x100, 2, VIRTQ_DESC_F_NEXT, 2);
	desc(2, BUF + 0x200, 3, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	desc(3, BUF + 0x300, 5, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	offer(0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_CHAIN);
	assert_int_equal(c.head, 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.readable, 6);
	assert_int_equal(c.writable, 8);
	assert_int_equal(virtq_read(&c, 2, out, 4), 4);
	assert_memory_equal(out, "ader", 4);
	assert_int_equal(virtq_read(&c, 5, out, 8), 1); /* only what there is */
	assert_int_equal(virtq_write(&c, 1, "abcdefgh", 7), 7);
	assert_memory_equal(ram + BUF + 0x201, "ab", 2);
	assert_memory_equal(ram + BUF + 0x300, "cdefg", 5);
	assert_true(virtq_push(&q, &mem, c.head, 8));
	assert_int_equal(used_idx(), 0xffff);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_CHAIN);
	assert_true(virtq_push(&q, &mem, c.head, 1));
	assert_int_equal(used_idx(), 0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_CHAIN);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_EMPTY);
	/* the used element: id and length */
	{
		uint32_t e[2];
		memcpy(e, ram + USED + 4 + 8 * (0xffff % 4), 8);
		assert_int_equal(e[0], 0);
		assert_int_equal(e[1], 1);
	}
}

TEST(test_indirect)
{
	struct virtq_chain c;
	const uint64_t table = 0x8000;

	fresh(8);
	tdesc(table, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	tdesc(table, 2, BUF + 0x100, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	tdesc(table, 1, BUF + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(5, table, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(5);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_CHAIN);
	assert_int_equal(c.head, 5);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.readable, 16);
	assert_int_equal(c.writable, 513);
}

/* Each of these chains is refused, and the queue goes on. */
TEST(test_malformed_chains)
{
	struct virtq_chain c;
	const uint64_t table = 0x8000;

	fresh(8);
	/* 1: next past the queue */
	desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 8);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	assert_int_equal(c.head, 0);
	assert_int_equal(c.n, 0);
	/* 2: a head past the queue */
	offer(9);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	/* 3: outside RAM, and wrapping */
	desc(0, RAM - 8, 16, 0, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	desc(0, ~0ull - 7, 16, 0, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	/* 4: zero length; a huge one */
	desc(0, BUF, 0, 0, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	desc(0, BUF, 0xffffffffu, 0, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	/* 5: a loop (0 -> 1 -> 0), and a chain of 9 in a queue of 8 */
	desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	for (uint16_t i = 0; i < 8; i++)
		desc(i, BUF, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	/* exactly 8 is fine */
	desc(7, BUF, 16, 0, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_CHAIN);
	assert_int_equal(c.n, 8);
	/* 6: readable after writable */
	desc(0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF, 16, 0, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	/* 7: indirect tables: misaligned size, empty, nested, with NEXT, looping,
	 * after a direct descriptor, outside RAM */
	tdesc(table, 0, BUF, 16, 0, 0);
	desc(0, table, 24, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	desc(0, table, 0, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	tdesc(table, 0, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(0, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	tdesc(table, 0, BUF, 16, 0, 0);
	desc(0, table, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	tdesc(table, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	tdesc(table, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	desc(0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	tdesc(table, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 2); /* next past the table */
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	tdesc(table, 0, BUF, 16, 0, 0);
	desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(1, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	desc(0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BAD_CHAIN);
	/* and the queue still works */
	desc(0, BUF, 16, 0, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_CHAIN);
}

TEST(test_index_runs_ahead)
{
	struct virtq_chain c;

	fresh(8);
	avail_idx = 9; /* nine new entries in a queue of eight */
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_BROKEN);
	/* not ready: nothing is taken */
	q.ready = false;
	assert_int_equal(virtq_pop(&q, &mem, &c), VIRTQ_EMPTY);
}

TEST(test_no_interrupt_flag)
{
	uint16_t f = 1;

	fresh(8);
	assert_false(virtq_no_interrupt(&q, &mem));
	memcpy(ram + AVAIL, &f, 2);
	assert_true(virtq_no_interrupt(&q, &mem));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_areas),
		cmocka_unit_test(test_chains_in_order_and_wrap),
		cmocka_unit_test(test_indirect),
		cmocka_unit_test(test_malformed_chains),
		cmocka_unit_test(test_index_runs_ahead),
		cmocka_unit_test(test_no_interrupt_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
