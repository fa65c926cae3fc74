/* SPDX-License-Identifier: MIT */
/*
 * Port-I/O and MMIO ranges of one VM's devices (../shared/STYLE.md §5).
 * A device registers [base, base+len) with read/write ops; an access is
 * routed to the range that holds it, with the offset into that range.
 * An access no device claims reads all-ones and drops writes, as an empty
 * bus does.  The lookup is pure C (tests/unit/test_io_bus.c).
 */
#ifndef PETREL_IO_BUS_H
#define PETREL_IO_BUS_H

#include <stdbool.h>
#include <stdint.h>

#define IO_BUS_MAX_PIO 40
#define IO_BUS_MAX_MMIO 16

struct vcpu;
typedef uint64_t (*io_read_fn)(void *dev, struct vcpu *v, uint64_t off, uint8_t size);
typedef void (*io_write_fn)(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val);

struct io_range {
	uint64_t base, len;
	io_read_fn read;
	io_write_fn write;
	void *dev;
	const char *name;
};

struct io_bus {
	struct io_range pio[IO_BUS_MAX_PIO];
	struct io_range mmio[IO_BUS_MAX_MMIO];
	uint32_t nr_pio, nr_mmio;
};

/* Adds a range; -1 if it overlaps one already there or the table is full. */
int io_bus_add(struct io_bus *bus, bool mmio, const struct io_range *r);
/* Removes the range that starts at base: 0, or -1 if there is none. */
int io_bus_remove(struct io_bus *bus, bool mmio, uint64_t base);
const struct io_range *io_bus_find(const struct io_bus *bus, bool mmio, uint64_t addr);
/* Performs one access of `size` bytes (1, 2, 4 or 8).  Returns true if a
 * device claimed it.  Unclaimed reads give all-ones in `*val`. */
bool io_bus_access(const struct io_bus *bus, bool mmio, struct vcpu *v, uint64_t addr,
		   uint8_t size, bool write, uint64_t *val);

#endif
