/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/pci_host.c with the VM's PCI bus (hv/core/pci.c) over the fake
 * VM: configuration mechanism #1 as Linux probes and uses it
 * (pci_check_type1(), then byte/word/dword reads at the offset within the
 * dword), the host bridge's IDs, class, subsystem and command register,
 * all-ones for every other function, CONFIG_ADDRESS's reserved bits, the
 * reset control register at 0xCF9 (a byte access only), and the PAM
 * registers: their reset values with and without firmware, SeaBIOS's
 * make_bios_writable and make_bios_readonly, and the segments each write
 * remaps (vm_shadow, recorded by the fake VM).
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

/* A VM with the host bridge (firmware or not) and nothing else on its bus. */
static void fresh_vm(bool firmware)
{
	fake_vm_reset(1, 64 << 20);
	fake_vm.rom_size = firmware ? 0x40000 : 0;
	assert_int_equal(fake_create(&pci_host_device, 0xcf8, 0, -1), 0);
}

/* pci_conf1_read(): select the dword, then read `len` bytes at reg & 3. */
static uint32_t cfg_read(uint32_t bdf_reg, unsigned reg, unsigned len)
{
	fake_out(0xcf8, 4, bdf_reg);
	return (uint32_t)fake_in((uint16_t)(0xcfc + (reg & 3)), (uint8_t)len);
}

static void cfg_write(uint32_t bdf_reg, unsigned reg, unsigned len, uint32_t val)
{
	fake_out(0xcf8, 4, bdf_reg);
	fake_out((uint16_t)(0xcfc + (reg & 3)), (uint8_t)len, val);
}

TEST(test_linux_type1_probe)
{
	uint32_t tmp;

	fresh_vm(false);
	/* pci_check_type1() */
	fake_out(0xcfb, 1, 0x01);
	tmp = (uint32_t)fake_in(0xcf8, 4);
	fake_out(0xcf8, 4, 0x80000000);
	assert_int_equal(fake_in(0xcf8, 4), 0x80000000);
	/* pci_sanity_check(): a host bridge class, or an Intel vendor ID. */
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x0a), 0x0a, 2), 0x0600);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x00), 0x00, 2), 0x8086);
	fake_out(0xcf8, 4, tmp);
	assert_int_equal(fake_in(0xcf8, 4), tmp);
}

TEST(test_host_bridge_ids_and_class)
{
	uint32_t a = conf1(0, 0, 0, 0);

	fresh_vm(false);
	assert_int_equal(cfg_read(a, 0x00, 4), 0x12378086);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x2c), 0x2c, 4), 0x11001af4); /* QEMU's subsystem */
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x08), 0x08, 4), 0x06000002);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x04), 0x04, 4), 0x02800006);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x0c), 0x0e, 1), 0x00); /* header type 0 */
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x10), 0x10, 4), 0);    /* no BAR */
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x3c), 0x3d, 1), 0);    /* no pin */
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0xfc), 0xfc, 4), 0);
}

TEST(test_byte_and_word_offsets)
{
	fresh_vm(false);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0), 0x00, 1), 0x86);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0), 0x01, 1), 0x80);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0), 0x02, 1), 0x37);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0), 0x03, 1), 0x12);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0), 0x02, 2), 0x1237);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 8), 0x08, 1), 0x02);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 8), 0x0b, 1), 0x06);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 4), 0x06, 2), 0x0280);
	/* A dword at 0xCFD runs past the window: the bytes beyond are nobody's. */
	fake_out(0xcf8, 4, conf1(0, 0, 0, 0));
	assert_int_equal(fake_in(0xcfd, 4), 0xffffffff);
	assert_int_equal(fake_in(0xcfe, 2), 0x1237);
	assert_int_equal(fake_in(0xcff, 1), 0x12);
}

TEST(test_other_functions_read_all_ones)
{
	fresh_vm(false);
	assert_int_equal(cfg_read(conf1(0, 1, 0, 0), 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(conf1(0, 0, 1, 0), 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(conf1(1, 0, 0, 0), 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(conf1(0, 31, 7, 0), 2, 2), 0xffff);
	assert_int_equal(cfg_read(conf1(0, 3, 0, 8), 0x0b, 1), 0xff);
	/* Enable bit clear: not a configuration cycle at all. */
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0) & ~0x80000000u, 0, 4), 0xffffffff);
	/* Writes to nobody change nothing. */
	cfg_write(conf1(0, 1, 0, 4), 4, 2, 0x0007);
	assert_int_equal(cfg_read(conf1(0, 1, 0, 4), 4, 2), 0xffff);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 4), 4, 2), 0x0006);
}

TEST(test_command_register)
{
	uint32_t a = conf1(0, 0, 0, 4);

	fresh_vm(false);
	cfg_write(a, 4, 2, 0xffff);
	assert_int_equal(cfg_read(a, 4, 2), 0x0146); /* SERR#, PERR, memory, master */
	cfg_write(a, 4, 2, 0x0000);
	assert_int_equal(cfg_read(a, 4, 2), 0x0006); /* memory and master stay on */
	cfg_write(a, 5, 1, 0x01);
	assert_int_equal(cfg_read(a, 4, 2), 0x0106);
	cfg_write(a, 4, 4, 0xffff0040); /* status is not writable */
	assert_int_equal(cfg_read(a, 4, 4), 0x02800046);
	/* Read-only registers ignore writes. */
	cfg_write(conf1(0, 0, 0, 0), 0, 4, 0xdeadbeef);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0), 0, 4), 0x12378086);
	cfg_write(conf1(0, 0, 0, 0x10), 0x10, 4, 0xffffffff);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x10), 0x10, 4), 0);
}

TEST(test_config_address_register)
{
	struct pci_host hh, *h = &hh;

	pci_host_reset(h, false);
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
	struct pci_host hh, *h = &hh;

	pci_host_reset(h, false);
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

/* PAM: the chip's reset value 0 with firmware (every segment the ROM's),
 * 0x33 without (RAM, as a BIOS leaves it), applied to the map at create. */
TEST(test_pam_reset_values)
{
	fresh_vm(true);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x58), 0x58, 4), 0);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x5c), 0x5c, 4), 0);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(fake_shadow[i], SHADOW_OFF);
	assert_int_equal(fake_shadow_calls, I440FX_SEGMENTS);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x70), 0x72, 1), 0x02); /* SMRAM: C_BASE_SEG */

	fresh_vm(false);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x58), 0x58, 4), 0x33333000);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x5c), 0x5c, 4), 0x33333333);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(fake_shadow[i], SHADOW_RW);
}

/* SeaBIOS's make_bios_writable (two dword read-modify-writes: 0x33 for
 * 0xc0000-0xeffff, 0x30 for the F segment), then make_bios_readonly with
 * 0x11 and 0x10: every segment follows, and only changed ones remap. */
TEST(test_pam_seabios_sequence)
{
	uint32_t lo, hi;

	fresh_vm(true);
	fake_shadow_calls = 0;
	lo = cfg_read(conf1(0, 0, 0, 0x58), 0x58, 4);
	hi = cfg_read(conf1(0, 0, 0, 0x5c), 0x5c, 4);
	lo = (lo & 0x000000ff) | 0x33333000u;
	hi = 0x33333333u;
	cfg_write(conf1(0, 0, 0, 0x58), 0x58, 4, lo);
	cfg_write(conf1(0, 0, 0, 0x5c), 0x5c, 4, hi);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(fake_shadow[i], SHADOW_RW);
	assert_int_equal(fake_shadow_calls, I440FX_SEGMENTS);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x58), 0x59, 1), 0x30);
	/* The same again: nothing changes, nothing remaps. */
	cfg_write(conf1(0, 0, 0, 0x5c), 0x5c, 4, hi);
	assert_int_equal(fake_shadow_calls, I440FX_SEGMENTS);
	/* Read-only: the F segment and, say, 0xc0000-0xc7fff; 0xc8000 on
	 * stays RAM (SeaBIOS keeps its upper memory writable). */
	cfg_write(conf1(0, 0, 0, 0x58), 0x59, 1, 0x10);
	cfg_write(conf1(0, 0, 0, 0x58), 0x5a, 1, 0x11);
	assert_int_equal(fake_shadow[0], SHADOW_RO);
	assert_int_equal(fake_shadow[1], SHADOW_RO);
	assert_int_equal(fake_shadow[2], SHADOW_RW);
	for (unsigned i = 12; i < 16; i++)
		assert_int_equal(fake_shadow[i], SHADOW_RO);
	/* Reserved bits read 0; write-only (WE alone) stays as ROM. */
	cfg_write(conf1(0, 0, 0, 0x5c), 0x5f, 1, 0xff);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x5c), 0x5f, 1), 0x33);
	cfg_write(conf1(0, 0, 0, 0x5c), 0x5f, 1, 0x22);
	assert_int_equal(fake_shadow[10], SHADOW_OFF);
	assert_int_equal(fake_shadow[11], SHADOW_OFF);
	cfg_write(conf1(0, 0, 0, 0x58), 0x59, 1, 0x0f); /* PAM0's low nibble is reserved */
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x58), 0x59, 1), 0x00);
	/* Registers of the bridge it does not have: 0, writes dropped. */
	cfg_write(conf1(0, 0, 0, 0x50), 0x50, 4, 0xffffffff);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x50), 0x50, 4), 0);
}

TEST(test_smram_register)
{
	fresh_vm(true);
	cfg_write(conf1(0, 0, 0, 0x70), 0x72, 1, 0x4a); /* SeaBIOS: D_OPEN | G_SMRAME */
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x70), 0x72, 1), 0x4a);
	cfg_write(conf1(0, 0, 0, 0x70), 0x72, 1, 0x00);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x70), 0x72, 1), 0x02);
	cfg_write(conf1(0, 0, 0, 0x70), 0x72, 1, 0x10); /* D_LCK sticks */
	cfg_write(conf1(0, 0, 0, 0x70), 0x72, 1, 0x00);
	assert_int_equal(cfg_read(conf1(0, 0, 0, 0x70), 0x72, 1), 0x12);
	assert_int_equal(fake_shadow_calls, I440FX_SEGMENTS); /* no remap */
}

/* --- the glue ------------------------------------------------------------------ */

TEST(test_glue)
{
	fresh_vm(false);
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
		cmocka_unit_test(test_pam_reset_values),
		cmocka_unit_test(test_pam_seabios_sequence),
		cmocka_unit_test(test_smram_register),
		cmocka_unit_test(test_glue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
