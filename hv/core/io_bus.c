/* SPDX-License-Identifier: MIT */
/* Port-I/O and MMIO range registry; see petrel/io_bus.h. */
#include <petrel/io_bus.h>
#include <petrel/lib.h>

static struct io_range *table(struct io_bus *bus, bool mmio, uint32_t **nr, uint32_t *max)
{
	*nr = mmio ? &bus->nr_mmio : &bus->nr_pio;
	*max = mmio ? IO_BUS_MAX_MMIO : IO_BUS_MAX_PIO;
	return mmio ? bus->mmio : bus->pio;
}

int io_bus_add(struct io_bus *bus, bool mmio, const struct io_range *r)
{
	uint32_t *nr, max;
	struct io_range *t = table(bus, mmio, &nr, &max);

	if (r->len == 0 || r->base + r->len < r->base || *nr >= max)
		return -1;
	for (uint32_t i = 0; i < *nr; i++)
		if (r->base < t[i].base + t[i].len && t[i].base < r->base + r->len)
			return -1;
	t[(*nr)++] = *r;
	return 0;
}

int io_bus_remove(struct io_bus *bus, bool mmio, uint64_t base)
{
	uint32_t *nr, max;
	struct io_range *t = table(bus, mmio, &nr, &max);

	for (uint32_t i = 0; i < *nr; i++)
		if (t[i].base == base) {
			memmove(&t[i], &t[i + 1], (*nr - i - 1) * sizeof(t[0]));
			(*nr)--;
			return 0;
		}
	return -1;
}

const struct io_range *io_bus_find(const struct io_bus *bus, bool mmio, uint64_t addr)
{
	const struct io_range *t = mmio ? bus->mmio : bus->pio;
	uint32_t nr = mmio ? bus->nr_mmio : bus->nr_pio;

	for (uint32_t i = 0; i < nr; i++)
		if (addr >= t[i].base && addr - t[i].base < t[i].len)
			return &t[i];
	return NULL;
}

bool io_bus_access(const struct io_bus *bus, bool mmio, struct vcpu *v, uint64_t addr,
		   uint8_t size, bool write, uint64_t *val)
{
	const struct io_range *r = io_bus_find(bus, mmio, addr);
	uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;

	if (!r) {
		if (!write)
			*val = mask;
		return false;
	}
	if (write) {
		if (r->write)
			r->write(r->dev, v, addr - r->base, size, *val & mask);
	} else {
		*val = r->read ? r->read(r->dev, v, addr - r->base, size) & mask : mask;
	}
	return true;
}
