/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/pci_host.c: configuration mechanism #1 as Linux probes and uses it
 * (pci_check_type1(), then byte/word/dword reads at the offset within the
 * dword), the host bridge's IDs, class and command register, all-ones for
 * every other function, CONFIG_ADDRESS's reserved bits, and the reset
 * control register at 0xCF9 (a byte access only); and the glue through
 * the real I/O bus, with vm_request_reset stubbed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/pci_host.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

/* PCI_CONF1_ADDRESS() in arch/x86/pci/direct.c, for registers below 256. */
static uint32_t conf1(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static struct pci_host *fresh(void)
{
	static struct pci_host h;

	pci_host_reset(&h);
	return &h;
}

/* pci_conf1_read(): select the dword, then read `len` bytes at reg & 3. */
static uint32_t cfg_read(struct pci_host *h, uint32_t bdf_reg, unsigned reg, unsigned len)
{
	pci_host_write(h, 0xcf8, 4, bdf_reg);
	return pci_host_read(h, (uint16_t)(0xcfc + (reg & 3)), len);
}

static void cfg_write(struct pci_host *h, uint32_t bdf_reg, unsigned reg, unsigned len, uint32_t val)
{
	assert_int_equal(pci_host_write(h, 0xcf8, 4, bdf_reg), DEV_REQ_NONE);
	assert_int_equal(pci_host_write(h, (uint16_t)(0xcfc + (reg & 3)), len, val), DEV_REQ_NONE);
}

TEST(test_linux_type1_probe)
{
	struct pci_host *h = fresh();
	uint32_t tmp;

	/* pci_check_type1() */
	pci_host_write(h, 0xcfb, 1, 0x01);
	tmp = pci_host_read(h, 0xcf8, 4);
	pci_host_write(h, 0xcf8, 4, 0x80000000);
	assert_int_equal(pci_host_read(h, 0xcf8, 4), 0x80000000);
	/* pci_sanity_check(): a host bridge class, or an Intel vendor ID. */
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0x0a), 0x0a, 2), 0x0600);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0x00), 0x00, 2), 0x8086);
	pci_host_write(h, 0xcf8, 4, tmp);
	assert_int_equal(pci_host_read(h, 0xcf8, 4), tmp);
}

TEST(test_host_bridge_ids_and_class)
{
	struct pci_host *h = fresh();
	uint32_t a = conf1(0, 0, 0, 0);

	assert_int_equal(cfg_read(h, a, 0x00, 4), 0x12378086);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0x08), 0x08, 4), 0x06000002);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0x04), 0x04, 4), 0x02800006);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0x0c), 0x0e, 1), 0x00); /* header type 0 */
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0x10), 0x10, 4), 0);    /* no BAR */
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0x3c), 0x3d, 1), 0);    /* no pin */
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0xfc), 0xfc, 4), 0);
}

TEST(test_byte_and_word_offsets)
{
	struct pci_host *h = fresh();

	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0), 0x00, 1), 0x86);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0), 0x01, 1), 0x80);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0), 0x02, 1), 0x37);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0), 0x03, 1), 0x12);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0), 0x02, 2), 0x1237);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 8), 0x08, 1), 0x02);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 8), 0x0b, 1), 0x06);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 4), 0x06, 2), 0x0280);
	/* A dword at 0xCFD runs past the window: the bytes beyond are nobody's. */
	pci_host_write(h, 0xcf8, 4, conf1(0, 0, 0, 0));
	assert_int_equal(pci_host_read(h, 0xcfd, 4), 0xff123780);
}

TEST(test_other_functions_read_all_ones)
{
	struct pci_host *h = fresh();

	assert_int_equal(cfg_read(h, conf1(0, 1, 0, 0), 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(h, conf1(0, 0, 1, 0), 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(h, conf1(1, 0, 0, 0), 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(h, conf1(0, 31, 7, 0), 2, 2), 0xffff);
	assert_int_equal(cfg_read(h, conf1(0, 3, 0, 8), 0x0b, 1), 0xff);
	/* Enable bit clear: not a configuration cycle at all. */
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0) & ~0x80000000u, 0, 4), 0xffffffff);
	/* Writes to nobody change nothing. */
	cfg_write(h, conf1(0, 1, 0, 4), 4, 2, 0x0007);
	assert_int_equal(cfg_read(h, conf1(0, 1, 0, 4), 4, 2), 0xffff);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 4), 4, 2), 0x0006);
}

TEST(test_command_register)
{
	struct pci_host *h = fresh();
	uint32_t a = conf1(0, 0, 0, 4);

	cfg_write(h, a, 4, 2, 0xffff);
	assert_int_equal(cfg_read(h, a, 4, 2), 0x0146); /* SERR#, PERR, memory, master */
	cfg_write(h, a, 4, 2, 0x0000);
	assert_int_equal(cfg_read(h, a, 4, 2), 0x0006); /* memory and master stay on */
	cfg_write(h, a, 5, 1, 0x01);
	assert_int_equal(cfg_read(h, a, 4, 2), 0x0106);
	cfg_write(h, a, 4, 4, 0xffff0040); /* status is not writable */
	assert_int_equal(cfg_read(h, a, 4, 4), 0x02800046);
	/* Read-only registers ignore writes. */
	cfg_write(h, conf1(0, 0, 0, 0), 0, 4, 0xdeadbeef);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0), 0, 4), 0x12378086);
	cfg_write(h, conf1(0, 0, 0, 0x10), 0x10, 4, 0xffffffff);
	assert_int_equal(cfg_read(h, conf1(0, 0, 0, 0x10), 0x10, 4), 0);
}

TEST(test_config_address_register)
{
	struct pci_host *h = fresh();

	pci_host_write(h, 0xcf8, 4, 0xffffffff);
	assert_int_equal(pci_host_read(h, 0xcf8, 4), 0x80fffffc); /* 30:24 and 1:0 read 0 */
	pci_host_write(h, 0xcf8, 4, 0x80000004);
	pci_host_write(h, 0xcf8, 2, 0x1234); /* not a dword: not CONFIG_ADDRESS */
	pci_host_write(h, 0xcfa, 1, 0x55);
	assert_int_equal(pci_host_read(h, 0xcf8, 4), 0x80000004);
	assert_int_equal(pci_host_read(h, 0xcf8, 2), 0xffff);
	assert_int_equal(pci_host_read(h, 0xcf8, 1), 0xff);
	assert_int_equal(pci_host_read(h, 0xcfa, 2), 0xffff);
}

TEST(test_reset_control_register)
{
	struct pci_host *h = fresh();

	assert_int_equal(pci_host_read(h, 0xcf9, 1), 0x00);
	/* reboot=pci: 0x02 (hard reset selected), then 0x06 (and go). */
	assert_int_equal(pci_host_write(h, 0xcf9, 1, 0x02), DEV_REQ_NONE);
	assert_int_equal(pci_host_read(h, 0xcf9, 1), 0x02);
	assert_int_equal(pci_host_write(h, 0xcf9, 1, 0x06), DEV_REQ_RESET);
	assert_int_equal(pci_host_read(h, 0xcf9, 1), 0x02); /* RST_CPU reads 0 */
	assert_int_equal(pci_host_write(h, 0xcf9, 1, 0x04), DEV_REQ_RESET);
	assert_int_equal(pci_host_write(h, 0xcf9, 1, 0x0a), DEV_REQ_NONE);
	/* Only a byte access is the RCR. */
	assert_int_equal(pci_host_write(h, 0xcf9, 2, 0x0606), DEV_REQ_NONE);
	assert_int_equal(pci_host_read(h, 0xcf9, 2), 0xffff);
	/* A dword write at 0xCF8 is CONFIG_ADDRESS, whatever its second byte. */
	assert_int_equal(pci_host_write(h, 0xcf8, 4, 0x80000600), DEV_REQ_NONE);
}

/* --- the glue ------------------------------------------------------------------ */

TEST(test_glue)
{
	fake_vm_reset(1, 64 << 20);
	assert_int_equal(fake_create(&pci_host_device, 0xcf8, 0, -1), 0);
	assert_int_equal(fake_vm.bus.nr_pio, 1);
	assert_null(io_bus_find(&fake_vm.bus, false, 0xcf7));
	assert_null(io_bus_find(&fake_vm.bus, false, 0xd00));
	fake_out(0xcf8, 4, 0x80000000);
	assert_int_equal(fake_in(0xcfc, 4), 0x12378086);
	assert_int_equal(fake_in(0xcfe, 2), 0x1237);
	fake_out(0xcf9, 1, 0x02);
	assert_null(fake_reset_why);
	fake_out(0xcf9, 1, 0x06);
	assert_non_null(fake_reset_why);
	assert_string_equal(fake_reset_why, "reset control register 0xcf9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_type1_probe),
		cmocka_unit_test(test_host_bridge_ids_and_class),
		cmocka_unit_test(test_byte_and_word_offsets),
		cmocka_unit_test(test_other_functions_read_all_ones),
		cmocka_unit_test(test_command_register),
		cmocka_unit_test(test_config_address_register),
		cmocka_unit_test(test_reset_control_register),
		cmocka_unit_test(test_glue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
