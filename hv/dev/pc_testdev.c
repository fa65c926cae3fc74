/* SPDX-License-Identifier: MIT */
/* QEMU's pc-testdev; see petrel/dev/pc_testdev.h. */
#include <petrel/board.h>
#include <petrel/dev/pc_testdev.h>
#include <petrel/lib.h>

struct pc_testdev {
	struct vm *vm;
	uint32_t scratch;
	uint8_t iomem[PC_TESTDEV_IOMEM];
};

static uint32_t lane_mask(uint64_t off, uint8_t size)
{
	uint32_t bits = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	return bits << (8 * (off & 3));
}

/* +0..+3 at any width; +8..+b one byte at a time (a wider access is
 * split, so it reaches the bytes it covers); +4 the page flush. */
static uint64_t io_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct pc_testdev *d = dev;
	(void)v;

	if (off >= 4 && off < 8)
		return 0;
	return (d->scratch & lane_mask(off, size)) >> (8 * (off & 3));
}

static void io_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct pc_testdev *d = dev;
	uint32_t m = lane_mask(off, size);
	(void)v;

	if (off >= 4 && off < 8)
		return; /* no page of Petrel's is cached for the guest: nothing to flush */
	d->scratch = (d->scratch & ~m) | ((uint32_t)(val << (8 * (off & 3))) & m);
}

static uint64_t irq_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	(void)dev, (void)v, (void)off, (void)size;
	return 0;
}

/* Each byte written sets its line: a wider access is that many byte
 * writes, as QEMU splits it (kvm-unit-tests' realmode does an OUTL to
 * 0x200b: IRQ 11 to the low byte, 12-14 to zero). */
static void irq_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct pc_testdev *d = dev;

	(void)v;
	for (unsigned i = 0; i < size && off + i < NR_GSI; i++)
		vm_set_gsi(d->vm, (unsigned)(off + i), (uint8_t)(val >> (8 * i)) != 0);
}

static uint64_t mem_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct pc_testdev *d = dev;
	uint64_t val = 0;
	(void)v;

	memcpy(&val, d->iomem + off, MIN(size, PC_TESTDEV_IOMEM - off));
	return val;
}

static void mem_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct pc_testdev *d = dev;
	(void)v;

	memcpy(d->iomem + off, &val, MIN(size, PC_TESTDEV_IOMEM - off));
}

static int pc_testdev_create(struct vm *vm, const struct board_device *bd)
{
	struct pc_testdev *d = vm_alloc(vm, sizeof(*d));

	if (!d)
		return -1;
	d->vm = vm;
	if (vm_register_pio(vm, bd->port, 12, io_rd, io_wr, d, "pc-testdev") ||
	    vm_register_pio(vm, PC_TESTDEV_IRQ_PORT, NR_GSI, irq_rd, irq_wr, d, "pc-testdev-irq"))
		return -1;
	return vm_register_mmio(vm, bd->mmio, PC_TESTDEV_IOMEM, mem_rd, mem_wr, d, "pc-testdev-iomem");
}

const struct device_type pc_testdev_device = { .name = "QEMU pc-testdev", .create = pc_testdev_create };
