/* SPDX-License-Identifier: MIT */
/*
 * A fake physical address space for the parsers' boot_map_fn: a few regions,
 * each its own exact-size heap block, so a parser that reads one byte past
 * what it mapped trips AddressSanitizer, and one that follows a pointer
 * outside every region gets NULL, like an unmapped address on the machine.
 * Header-only; used by test_multiboot.c and test_acpi.c.
 */
#ifndef PETREL_TEST_FAKE_PHYS_H
#define PETREL_TEST_FAKE_PHYS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_PHYS_MAX 64

struct fake_phys {
	struct { uint64_t base, len; uint8_t *data; } r[FAKE_PHYS_MAX];
	unsigned n;
	unsigned calls; /* map calls, to check a parser looked at all */
};

/* Adds a zeroed region of `len` bytes at `base`; returns its bytes. */
static inline uint8_t *fake_phys_add(struct fake_phys *m, uint64_t base, uint64_t len)
{
	uint8_t *d = calloc(1, len ? len : 1);

	if (m->n == FAKE_PHYS_MAX || !d)
		abort();
	m->r[m->n].base = base;
	m->r[m->n].len = len;
	m->r[m->n].data = d;
	m->n++;
	return d;
}

static inline uint8_t *fake_phys_add_copy(struct fake_phys *m, uint64_t base, const void *src,
					   uint64_t len)
{
	return memcpy(fake_phys_add(m, base, len), src, len);
}

/* The boot_map_fn: [phys, phys+len) must lie inside one region. */
static inline const void *fake_phys_map(uint64_t phys, uint64_t len, void *ctx)
{
	struct fake_phys *m = ctx;

	m->calls++;
	for (unsigned i = 0; i < m->n; i++)
		if (phys >= m->r[i].base && phys - m->r[i].base < m->r[i].len &&
		    len <= m->r[i].len - (phys - m->r[i].base))
			return m->r[i].data + (phys - m->r[i].base);
	return NULL;
}

static inline void fake_phys_free(struct fake_phys *m)
{
	for (unsigned i = 0; i < m->n; i++)
		free(m->r[i].data);
	m->n = 0;
}

#endif
