/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2 §2.7) from the device's side, for every
 * virtio device model (hv/dev/virtio_ring.c): take the next chain of
 * descriptors the driver made available, check all of it, and give it
 * back through the used ring.  Pure C over a callback that maps guest
 * RAM, unit-tested and fuzzed on the host (tests/unit/test_virtio_ring.c,
 * tests/fuzz/fuzz_virtio_ring.c).
 *
 * Nothing the driver wrote is trusted.  Each descriptor is read once,
 * into the device's own copy, before it is checked; a chain is refused
 * as a whole when any of it is wrong: an index past the queue, a buffer
 * that is not guest RAM (or wraps), a zero length, more descriptors than
 * the queue holds (which is also how a loop ends), an indirect table
 * that is misaligned in size, empty, nested or chained on, or a
 * device-readable buffer after a device-writable one.  A refused chain
 * still goes back to the driver (used, with length 0) so it sees the
 * error; the device model writes its error status where it can.
 */
#ifndef PETREL_DEV_VIRTIO_RING_H
#define PETREL_DEV_VIRTIO_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIRTQ_MAX_SIZE 1024  /* the largest queue a Petrel device offers */
#define VIRTQ_MAX_SEGS 128   /* buffers in one chain, at most */

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

/* Guest RAM for [gpa, gpa+len): its host address, or NULL if any of it is
 * not RAM.  `len` is never 0. */
struct virtq_mem {
	void *(*map)(void *ctx, uint64_t gpa, uint64_t len);
	void *ctx;
};

struct virtq {
	uint16_t size;          /* a power of two, 1 to VIRTQ_MAX_SIZE */
	bool ready;             /* the driver enabled it */
	uint64_t desc, avail, used; /* the three areas, guest-physical */
	uint16_t last_avail;    /* the next available entry the device takes */
	uint16_t used_idx;      /* the device's used index */
};

struct virtq_seg {
	uint8_t *host;          /* where it is (guest RAM, mapped) */
	uint32_t len;
	bool write;             /* device-writable */
};

struct virtq_chain {
	uint16_t head;
	unsigned n;
	struct virtq_seg seg[VIRTQ_MAX_SEGS];
	uint64_t readable, writable; /* bytes of each kind */
};

enum virtq_pop {
	VIRTQ_EMPTY,    /* nothing available */
	VIRTQ_CHAIN,    /* a good chain in *c */
	VIRTQ_BAD_CHAIN, /* a chain refused: its head in c->head; give it back */
	VIRTQ_BROKEN,   /* the queue itself is unusable (its areas are not RAM,
			   or the driver's index ran more than a queue ahead):
			   the device needs a reset */
};

/* Whether the areas lie in RAM, each as big as `size` entries need and
 * as aligned as the spec asks; checked when the driver enables it. */
bool virtq_valid(const struct virtq *q, const struct virtq_mem *m);
enum virtq_pop virtq_pop(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *c);
/* For a refused chain: the last byte of its last descriptor, followed by
 * `next` alone (its buffers unchecked), if that descriptor is a
 * device-writable buffer in RAM (where a status byte goes), else NULL;
 * *ended says whether the chain had a last descriptor at all (not for a
 * loop, or an index past the queue). */
uint8_t *virtq_refused_tail(const struct virtq *q, const struct virtq_mem *m, uint16_t head, bool *ended);
/* Gives a chain back: `len` bytes written into its writable buffers. */
bool virtq_push(struct virtq *q, const struct virtq_mem *m, uint16_t head, uint32_t len);
/* Whether the driver asked not to be interrupted (VIRTQ_AVAIL_F_NO_INTERRUPT). */
bool virtq_no_interrupt(const struct virtq *q, const struct virtq_mem *m);

/* Bytes at `off` of the chain's readable (or writable) part, copied out
 * of (or into) its buffers in order; how many were copied. */
uint64_t virtq_read(const struct virtq_chain *c, uint64_t off, void *buf, uint64_t len);
uint64_t virtq_write(const struct virtq_chain *c, uint64_t off, const void *buf, uint64_t len);

#endif
