/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for hv/dev/virtio_ring.c and virtio-blk's request
 * handling (hv/dev/virtio_blk.c): the input is a guest's RAM (64 KiB at
 * most) holding a queue of 16 at fixed places, descriptors, rings and
 * buffers all the driver's to choose; a disk of 16 sectors.  Every
 * available chain is taken and carried out, as a notification would.
 * The invariants checked:
 *  - every access the device makes to guest memory is inside the RAM
 *    (ASan: the RAM is a heap copy of exactly the input's size);
 *  - a chain the ring accepts has 1 to VIRTQ_MAX_SEGS buffers, each
 *    non-empty and inside RAM, no readable one after a writable one, and
 *    its byte counts add up;
 *  - a refused chain has no buffers, and the status byte found for it
 *    (virtq_refused_tail) lies inside the RAM, at a chain's end;
 *  - the length a request reports fits the chain's writable bytes (plus
 *    nothing more);
 *  - no more chains are taken than the driver's index made available,
 *    and never more than the queue holds in one go. */
#include <stdlib.h>
#include <string.h>

#include <petrel/dev/virtio_blk.h>

#include "fuzz.h"

#define QSIZE 16
#define DESC 0x0000
#define AVAIL 0x0100
#define USED 0x0200

static uint8_t *ram;
static size_t ram_size;
static uint8_t disk[16 * 512];

static void *map(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	CHECK(len > 0);
	if (gpa >= ram_size || len > ram_size - gpa)
		return NULL;
	return ram + gpa;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtq_mem mem = { .map = map };
	struct virtq q = { .size = QSIZE, .desc = DESC, .avail = AVAIL, .used = USED };
	struct virtio_blk blk = { .disk = disk, .size = sizeof(disk) };
	struct virtq_chain c;
	unsigned taken = 0;

	if (size < 0x300 || size > 0x10000)
		return 0;
	ram = malloc(size);
	memcpy(ram, data, size);
	ram_size = size;
	CHECK(virtq_valid(&q, &mem));
	q.ready = true;
	for (;;) {
		enum virtq_pop r = virtq_pop(&q, &mem, &c);
		uint64_t readable = 0, writable = 0;
		bool seen_write = false;
		if (r == VIRTQ_EMPTY || r == VIRTQ_BROKEN)
			break;
		CHECK(++taken <= QSIZE);
		if (r == VIRTQ_BAD_CHAIN) {
			bool ended;
			uint8_t *tail = virtq_refused_tail(&q, &mem, c.head, &ended);
			CHECK(c.n == 0);
			CHECK(!tail || (ended && tail >= ram && tail < ram + ram_size));
			virtq_push(&q, &mem, c.head, 0);
			continue;
		}
		CHECK(c.n >= 1 && c.n <= VIRTQ_MAX_SEGS);
		for (unsigned i = 0; i < c.n; i++) {
			CHECK(c.seg[i].len > 0);
			CHECK(c.seg[i].host >= ram && c.seg[i].host + c.seg[i].len <= ram + ram_size);
			CHECK(!(seen_write && !c.seg[i].write));
			seen_write |= c.seg[i].write;
			if (c.seg[i].write)
				writable += c.seg[i].len;
			else
				readable += c.seg[i].len;
		}
		CHECK(readable == c.readable && writable == c.writable);
		uint32_t len = virtio_blk_request(&blk, &c);
		CHECK(len <= c.writable);
		virtq_push(&q, &mem, c.head, len);
	}
	free(ram);
	return 0;
}
