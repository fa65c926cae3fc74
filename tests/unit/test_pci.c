/* SPDX-License-Identifier: MIT */
/*
 * hv/core/pci.c over the fake VM: the type-0 header every function gets
 * (IDs, class, subsystem, header type with the multi-function bit, the
 * writable command bits, cache line and latency, interrupt line and pin,
 * the capabilities pointer), BAR sizing as SeaBIOS and Linux do it (all
 * ones, read the mask back, write the address), and BARs whose ranges go
 * where the guest puts them: only while their space is enabled, never at
 * 0 or at the sizing pattern, moved on every change, two BARs swapping
 * places, a 64-bit BAR above 4 GiB, and a placement over another device
 * refused; the device-specific registers reach the function's own ops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/pci.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

static unsigned io_reads, mmio_writes;
static uint64_t last_off;

static uint64_t io_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	(void)dev, (void)v, (void)size;
	io_reads++;
	last_off = off;
	return 0x5a;
}

static void mem_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	(void)dev, (void)v, (void)size, (void)val;
	mmio_writes++;
	last_off = off;
}

static uint8_t own[256];

static uint32_t own_rd(void *dev, unsigned reg, unsigned size)
{
	uint32_t v = 0;
	(void)dev;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)own[reg + i] << (8 * i);
	return v;
}

static void own_wr(void *dev, unsigned reg, unsigned size, uint32_t val)
{
	(void)dev;
	for (unsigned i = 0; i < size; i++)
		own[reg + i] = (uint8_t)(val >> (8 * i));
}

/* A made-up function: ports (BAR0, 32 bytes), 4 KiB of MMIO (BAR1), a
 * 64-bit prefetchable 16 KiB (BAR2-3), INTB#, a capability at 0x40. */
static const struct pci_function_desc dev_desc = {
	.name = "test", .vendor = 0x1af4, .device = 0x1042, .subsystem_vendor = 0x1af4, .subsystem = 0x0002,
	.class_code = 0x01, .subclass = 0x00, .prog_if = 0x00, .revision = 0x01, .int_pin = 2, .cap_ptr = 0x40,
	.bar = { { PCI_BAR_IO, false, 32, io_rd, NULL }, { PCI_BAR_MEM32, false, 4096, NULL, mem_wr },
		 { PCI_BAR_MEM64, true, 16384, NULL, mem_wr } },
	.cfg_read = own_rd, .cfg_write = own_wr,
};

static const struct pci_function_desc plain_desc = {
	.name = "plain", .vendor = 0x8086, .device = 0x7000, .class_code = 0x06, .subclass = 0x01,
};

static uint32_t rd(uint8_t devfn, unsigned reg, unsigned size)
{
	return vm_pci_config_read(&fake_vm, 0, devfn, reg, size);
}

static void wr(uint8_t devfn, unsigned reg, unsigned size, uint32_t val)
{
	vm_pci_config_write(&fake_vm, 0, devfn, reg, size, val);
}

static void fresh(void)
{
	fake_vm_reset(1, 64 << 20);
	memset(own, 0, sizeof(own));
	io_reads = mmio_writes = 0;
	assert_int_equal(vm_pci_add(&fake_vm, PCI_DEVFN(3, 0), &dev_desc), 0);
}

TEST(test_header)
{
	fresh();
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x00, 4), 0x10421af4);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x02, 2), 0x1042);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x04, 4), 0x00100000); /* status: capability list */
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x08, 4), 0x01000001);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x0e, 1), 0x00);       /* single function */
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x2c, 4), 0x00021af4);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x34, 1), 0x40);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x3d, 1), 2);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x30, 4), 0);          /* no expansion ROM */
	/* Writable: cache line, latency, interrupt line; not the rest. */
	wr(PCI_DEVFN(3, 0), 0x0c, 4, 0xffffffff);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x0c, 4), 0x0000ffff);
	wr(PCI_DEVFN(3, 0), 0x3c, 2, 0xff0b);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x3c, 4), 0x0000020b);
	wr(PCI_DEVFN(3, 0), 0x00, 4, 0);
	wr(PCI_DEVFN(3, 0), 0x08, 4, 0);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x00, 4), 0x10421af4);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x08, 4), 0x01000001);
	/* Command: the defined bits only; status is not writable. */
	wr(PCI_DEVFN(3, 0), 0x04, 4, 0xffffffff);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x04, 4), 0x00100547);
	/* Nobody at other slots, functions or buses. */
	assert_int_equal(rd(PCI_DEVFN(3, 1), 0x00, 4), 0xffffffff);
	assert_int_equal(rd(PCI_DEVFN(4, 0), 0x00, 2), 0xffff);
	assert_int_equal(vm_pci_config_read(&fake_vm, 1, PCI_DEVFN(3, 0), 0, 4), 0xffffffff);
	vm_pci_config_write(&fake_vm, 1, PCI_DEVFN(3, 0), 0x3c, 1, 5); /* goes nowhere */
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x3c, 1), 0x0b);
	/* A slot taken twice is refused. */
	assert_int_equal(vm_pci_add(&fake_vm, PCI_DEVFN(3, 0), &plain_desc), -1);
}

/* The registers from 0x40 are the function's; without ops, 0. */
TEST(test_own_registers)
{
	fresh();
	wr(PCI_DEVFN(3, 0), 0x41, 1, 0x09);
	wr(PCI_DEVFN(3, 0), 0x44, 4, 0x12345678);
	assert_int_equal(own[0x41], 0x09);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x40, 4), 0x00000900);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x46, 2), 0x1234);
	assert_int_equal(vm_pci_add(&fake_vm, PCI_DEVFN(5, 0), &plain_desc), 0);
	wr(PCI_DEVFN(5, 0), 0x60, 4, 0xffffffff);
	assert_int_equal(rd(PCI_DEVFN(5, 0), 0x60, 4), 0);
	assert_int_equal(rd(PCI_DEVFN(5, 0), 0x04, 2), 0);
	assert_int_equal(rd(PCI_DEVFN(5, 0), 0x34, 1), 0);
	assert_int_equal(rd(PCI_DEVFN(5, 0), 0x06, 2), 0); /* no capability list */
}

/* Function 0 says there are more once any other function is there, in
 * whichever order they were added. */
TEST(test_multifunction)
{
	fresh();
	assert_int_equal(vm_pci_add(&fake_vm, PCI_DEVFN(1, 3), &plain_desc), 0);
	assert_int_equal(vm_pci_add(&fake_vm, PCI_DEVFN(1, 0), &plain_desc), 0);
	assert_int_equal(rd(PCI_DEVFN(1, 0), 0x0e, 1), 0x80);
	assert_int_equal(rd(PCI_DEVFN(1, 3), 0x0e, 1), 0x00);
	assert_int_equal(vm_pci_add(&fake_vm, PCI_DEVFN(2, 0), &plain_desc), 0);
	assert_int_equal(vm_pci_add(&fake_vm, PCI_DEVFN(2, 1), &plain_desc), 0);
	assert_int_equal(rd(PCI_DEVFN(2, 0), 0x0e, 1), 0x80);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x0e, 1), 0x00);
}

/* Sizing: all ones in, the size mask and kind bits out; BARs the
 * function does not have read 0 whatever is written. */
TEST(test_bar_sizing)
{
	fresh();
	for (unsigned r = 0x10; r <= 0x24; r += 4)
		wr(PCI_DEVFN(3, 0), r, 4, 0xffffffff);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x10, 4), 0xffffffe1); /* I/O, 32 bytes */
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x14, 4), 0xfffff000); /* memory, 4 KiB */
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x18, 4), 0xffffc00c); /* 64-bit prefetchable, 16 KiB */
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x1c, 4), 0xffffffff); /* its upper half */
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x20, 4), 0);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x24, 4), 0);
	/* Even with decoding on, the sizing pattern is not an address. */
	wr(PCI_DEVFN(3, 0), 0x04, 2, PCI_CMD_IO | PCI_CMD_MEMORY);
	assert_int_equal(fake_vm.bus.nr_pio, 0);
	assert_int_equal(fake_vm.bus.nr_mmio, 0);
	/* A byte write changes only its byte. */
	wr(PCI_DEVFN(3, 0), 0x10, 4, 0);
	wr(PCI_DEVFN(3, 0), 0x11, 1, 0xc1);
	assert_int_equal(rd(PCI_DEVFN(3, 0), 0x10, 4), 0x0000c101);
}

static const struct io_range *pio_at(uint64_t port)
{
	return io_bus_find(&fake_vm.bus, false, port);
}

static const struct io_range *mmio_at(uint64_t gpa)
{
	return io_bus_find(&fake_vm.bus, true, gpa);
}

/* SeaBIOS's order: addresses first, then the command's enables; the
 * ranges appear only then, move with the BAR, and go when the enable
 * goes. */
TEST(test_bar_placement)
{
	uint64_t v;

	fresh();
	wr(PCI_DEVFN(3, 0), 0x10, 4, 0xc000);
	wr(PCI_DEVFN(3, 0), 0x14, 4, 0xfebf0000);
	wr(PCI_DEVFN(3, 0), 0x18, 4, 0x00000000);
	wr(PCI_DEVFN(3, 0), 0x1c, 4, 0x00000008); /* 0x8_0000_0000 */
	assert_null(pio_at(0xc000));
	wr(PCI_DEVFN(3, 0), 0x04, 2, PCI_CMD_IO);
	assert_non_null(pio_at(0xc000));
	assert_non_null(pio_at(0xc01f));
	assert_null(pio_at(0xc020));
	assert_null(mmio_at(0xfebf0000));
	v = fake_in(0xc004, 1);
	assert_int_equal(v, 0x5a);
	assert_int_equal(last_off, 4);
	wr(PCI_DEVFN(3, 0), 0x04, 2, PCI_CMD_IO | PCI_CMD_MEMORY);
	assert_non_null(mmio_at(0xfebf0fff));
	assert_null(mmio_at(0xfebf1000));
	assert_non_null(mmio_at(0x800000000ull));
	assert_non_null(mmio_at(0x800003fffull));
	fake_mmio_write(&fake_vm.vcpu[0], 0x800000010ull, 4, 1);
	assert_int_equal(mmio_writes, 1);
	assert_int_equal(last_off, 0x10);
	/* Moved: gone from the old place, there at the new one. */
	wr(PCI_DEVFN(3, 0), 0x10, 4, 0xd000);
	assert_null(pio_at(0xc000));
	assert_non_null(pio_at(0xd01f));
	wr(PCI_DEVFN(3, 0), 0x1c, 4, 0);
	wr(PCI_DEVFN(3, 0), 0x18, 4, 0xfe000000);
	assert_null(mmio_at(0x800000000ull));
	assert_non_null(mmio_at(0xfe000000ull));
	/* Memory decoding off: the memory BARs go, the ports stay. */
	wr(PCI_DEVFN(3, 0), 0x04, 2, PCI_CMD_IO);
	assert_int_equal(fake_vm.bus.nr_mmio, 0);
	assert_non_null(pio_at(0xd000));
	/* A BAR at 0 is not placed. */
	wr(PCI_DEVFN(3, 0), 0x10, 4, 0);
	assert_int_equal(fake_vm.bus.nr_pio, 0);
	/* Past port 0xffff: not placed. */
	wr(PCI_DEVFN(3, 0), 0x10, 4, 0x10000);
	assert_int_equal(fake_vm.bus.nr_pio, 0);
}

/* Two functions' BARs swap places in one write each: the first move
 * finds the place taken and waits, the second completes it; a placement
 * over another device is refused, and taken up once it is free. */
TEST(test_bar_conflicts)
{
	static const struct pci_function_desc two = {
		.name = "two", .vendor = 1, .device = 2,
		.bar = { { PCI_BAR_IO, false, 16, io_rd, NULL }, { PCI_BAR_IO, false, 16, io_rd, NULL } },
	};

	fake_vm_reset(1, 64 << 20);
	assert_int_equal(vm_register_pio(&fake_vm, 0x3f8, 8, io_rd, NULL, NULL, "com1"), 0);
	assert_int_equal(vm_pci_add(&fake_vm, PCI_DEVFN(4, 0), &two), 0);
	wr(PCI_DEVFN(4, 0), 0x10, 4, 0xc000);
	wr(PCI_DEVFN(4, 0), 0x14, 4, 0xc010);
	wr(PCI_DEVFN(4, 0), 0x04, 2, PCI_CMD_IO);
	assert_int_equal(fake_vm.bus.nr_pio, 3);
	/* Swap, as one write each (the first finds the place taken). */
	wr(PCI_DEVFN(4, 0), 0x10, 4, 0xc010);
	wr(PCI_DEVFN(4, 0), 0x14, 4, 0xc000);
	assert_int_equal(fake_vm.bus.nr_pio, 3);
	assert_non_null(pio_at(0xc000));
	assert_non_null(pio_at(0xc010));
	/* Over COM1: refused, the function answers nowhere for that BAR. */
	wr(PCI_DEVFN(4, 0), 0x10, 4, 0x3f0);
	assert_int_equal(fake_vm.bus.nr_pio, 2);
	assert_string_equal(pio_at(0x3f8)->name, "com1");
	assert_null(pio_at(0xc010));
	assert_int_equal(vm_unregister_pio(&fake_vm, 0x3f8), 0);
	wr(PCI_DEVFN(4, 0), 0x04, 2, 0);
	wr(PCI_DEVFN(4, 0), 0x04, 2, PCI_CMD_IO); /* decoding again: now it fits */
	assert_string_equal(pio_at(0x3f8)->name, "two");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_own_registers),
		cmocka_unit_test(test_multifunction),
		cmocka_unit_test(test_bar_sizing),
		cmocka_unit_test(test_bar_placement),
		cmocka_unit_test(test_bar_conflicts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
