/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/acpi_pm.c: the PM timer's rate (3.579545 MHz) and 24-bit wrap,
 * read as a dword and in pieces; TMR_STS and write-1-to-clear; PM1_EN
 * reading back; SCI_EN always 1; S5 through SLP_TYP + SLP_EN (and only with
 * SLP_EN, and only S5), by word and by byte; and the glue at 0x600 through
 * the real I/O bus, with vm_request_poweroff stubbed; and the PIIX4
 * function the block belongs to (00:01.3): its IDs, PMBA and PMIOSE as
 * SeaBIOS programs them moving the block, DEVACTB's APMC_EN, the SMBus
 * registers kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/acpi_pm.h>
#include <petrel/pci.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))
#define NS 1000000000ull
#define PM_HZ 3579545ull

/* The first VM time at which the timer has counted `ticks`. */
static uint64_t at(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * NS + PM_HZ - 1) / PM_HZ);
}

static struct acpi_pm *fresh(void)
{
	static struct acpi_pm pm;

	acpi_pm_reset(&pm, 0);
	return &pm;
}

TEST(test_timer_rate)
{
	struct acpi_pm *pm = fresh();

	assert_int_equal(acpi_pm_read(pm, 8, 4, 0), 0);
	assert_int_equal(acpi_pm_read(pm, 8, 4, NS), 3579545);
	assert_int_equal(acpi_pm_read(pm, 8, 4, NS / 100), 35795);
	assert_int_equal(acpi_pm_read(pm, 8, 4, at(1000) - 1), 999);
	assert_int_equal(acpi_pm_read(pm, 8, 4, at(1000)), 1000);
	/* Linux's verify_pmtmr_rate(): within 5% of the PIT over 50 ms. */
	assert_int_equal(acpi_pm_read(pm, 8, 4, 50000000) - acpi_pm_read(pm, 8, 4, 0), 178977);
}

TEST(test_timer_wraps_at_24_bits)
{
	struct acpi_pm *pm = fresh();

	assert_int_equal(acpi_pm_read(pm, 8, 4, at(0xffffff)), 0xffffff);
	assert_int_equal(at(1u << 24), 4686968875ull); /* 4.687 s */
	assert_int_equal(acpi_pm_read(pm, 8, 4, at(1u << 24)), 0);
	assert_int_equal(acpi_pm_read(pm, 8, 4, at((1u << 24) + 5)), 5);
	assert_int_equal(acpi_pm_read(pm, 8, 4, at(3 * (1u << 24) + 77)), 77);
}

TEST(test_timer_in_pieces)
{
	struct acpi_pm *pm = fresh();
	uint64_t t = at(0x123456);

	assert_int_equal(acpi_pm_read(pm, 8, 1, t), 0x56);
	assert_int_equal(acpi_pm_read(pm, 9, 1, t), 0x34);
	assert_int_equal(acpi_pm_read(pm, 10, 2, t), 0x0012); /* bits 31:24 read 0 */
	acpi_pm_write(pm, 8, 4, 0, t); /* read-only */
	assert_int_equal(acpi_pm_read(pm, 8, 4, t), 0x123456);
	assert_int_equal(acpi_pm_read(pm, 6, 2, t), 0xffff); /* the gap */
}

TEST(test_tmr_sts)
{
	struct acpi_pm *pm = fresh();

	assert_int_equal(acpi_pm_read(pm, 0, 2, at(0x7fffff)) & 1, 0);
	assert_int_equal(acpi_pm_read(pm, 0, 2, at(0x800000)) & 1, 1); /* bit 23 changed */
	assert_int_equal(acpi_pm_write(pm, 0, 2, 0x0001, at(0x800001)), DEV_REQ_NONE);
	assert_int_equal(acpi_pm_read(pm, 0, 2, at(0xffffff)) & 1, 0);
	assert_int_equal(acpi_pm_read(pm, 0, 2, at(0x1000000)) & 1, 1); /* and back */
	acpi_pm_write(pm, 0, 2, 0xfffe, at(0x1000000)); /* other bits: not TMR_STS */
	assert_int_equal(acpi_pm_read(pm, 0, 2, at(0x1000000)) & 1, 1);
}

TEST(test_pm1_en_reads_back)
{
	struct acpi_pm *pm = fresh();

	acpi_pm_write(pm, 2, 2, 0x0121, 0); /* PWRBTN_EN, GBL_EN, TMR_EN */
	assert_int_equal(acpi_pm_read(pm, 2, 2, 0), 0x0121);
	acpi_pm_write(pm, 2, 2, 0xffff, 0);
	assert_int_equal(acpi_pm_read(pm, 2, 2, 0), 0x4721); /* reserved bits stay 0 */
	acpi_pm_write(pm, 3, 1, 0x00, 0); /* high byte only */
	assert_int_equal(acpi_pm_read(pm, 2, 2, 0), 0x0021);
	/* A dword at the base reaches STS (low half) and EN (high half). */
	acpi_pm_write(pm, 0, 4, 0x01000000, 0);
	assert_int_equal(acpi_pm_read(pm, 0, 4, 0), 0x01000000);
}

TEST(test_sci_en_always_reads_1)
{
	struct acpi_pm *pm = fresh();

	assert_int_equal(acpi_pm_read(pm, 4, 2, 0), 0x0001);
	acpi_pm_write(pm, 4, 2, 0x0000, 0);
	assert_int_equal(acpi_pm_read(pm, 4, 2, 0), 0x0001);
	assert_int_equal(acpi_pm_read(pm, 4, 1, 0), 0x01);
}

TEST(test_s5_needs_slp_en)
{
	struct acpi_pm *pm = fresh();

	/* SLP_TYP = 5 alone: nothing; it reads back, SLP_EN does not. */
	assert_int_equal(acpi_pm_write(pm, 4, 2, 5 << 10, 0), DEV_REQ_NONE);
	assert_int_equal(acpi_pm_read(pm, 4, 2, 0), 0x1401);
	/* SLP_EN with S0 (or another type): nothing. */
	assert_int_equal(acpi_pm_write(pm, 4, 2, 0x2000, 0), DEV_REQ_NONE);
	assert_int_equal(acpi_pm_write(pm, 4, 2, 0x2000 | 3 << 10, 0), DEV_REQ_NONE);
	assert_int_equal(acpi_pm_read(pm, 4, 2, 0), 0x0c01);
	/* ACPICA's acpi_hw_legacy_sleep(): SLP_TYP | SLP_EN in one word. */
	assert_int_equal(acpi_pm_write(pm, 4, 2, 0x2000 | 5 << 10 | 1, 0), DEV_REQ_POWEROFF);
}

TEST(test_s5_by_bytes)
{
	struct acpi_pm *pm = fresh();

	assert_int_equal(acpi_pm_write(pm, 5, 1, 0x34, 0), DEV_REQ_POWEROFF);
	pm = fresh();
	assert_int_equal(acpi_pm_write(pm, 5, 1, 0x14, 0), DEV_REQ_NONE);
	assert_int_equal(acpi_pm_write(pm, 4, 1, 0x01, 0), DEV_REQ_NONE); /* low byte: no SLP_EN */
	assert_int_equal(acpi_pm_write(pm, 5, 1, 0x20 | 0x14, 0), DEV_REQ_POWEROFF);
	/* A dword write at 4 covers PM1_CNT and the gap. */
	pm = fresh();
	assert_int_equal(acpi_pm_write(pm, 4, 4, 0xffff3400, 0), DEV_REQ_POWEROFF);
}

/* --- the glue ------------------------------------------------------------------ */

TEST(test_glue_at_0x600)
{
	fake_vm_reset(1, 64 << 20);
	assert_int_equal(fake_create(&acpi_pm_device, 0x600, 0, 9), 0);
	assert_non_null(io_bus_find(&fake_vm.bus, false, 0x60b));
	assert_null(io_bus_find(&fake_vm.bus, false, 0x60c));
	fake_now = NS;
	assert_int_equal(fake_in(0x608, 4), 3579545);
	assert_int_equal(fake_in(0x604, 2), 1);
	fake_out(0x604, 2, 0x1400);
	assert_null(fake_poweroff_why);
	fake_out(0x604, 2, 0x3400);
	assert_non_null(fake_poweroff_why);
	assert_string_equal(fake_poweroff_why, "ACPI S5 (poweroff)");
}

static uint32_t fn_rd(unsigned reg, unsigned size)
{
	return vm_pci_config_read(&fake_vm, 0, 0, reg, size);
}

static void fn_wr(unsigned reg, unsigned size, uint32_t val)
{
	vm_pci_config_write(&fake_vm, 0, 0, reg, size, val);
}

/* Without firmware: at the board's port and decoding, as the FADT says. */
TEST(test_piix4_function_direct_boot)
{
	fake_vm_reset(1, 64 << 20);
	assert_int_equal(fake_create(&acpi_pm_device, 0x600, 0, 9), 0);
	assert_int_equal(fn_rd(0x00, 4), 0x71138086);
	assert_int_equal(fn_rd(0x08, 4), 0x06800003);
	assert_int_equal(fn_rd(0x2c, 4), 0x11001af4);
	assert_int_equal(fn_rd(0x3d, 1), 1);
	assert_int_equal(fn_rd(0x40, 4), 0x601);
	assert_int_equal(fn_rd(0x80, 1), 1);
	assert_int_equal(fn_rd(0x58, 4) & (1u << 25), 1u << 25);
}

/* With firmware: nowhere until SeaBIOS's piix4_pm_config_setup places it
 * (PMBA 0xb000|1, PMREGMISC 1, SMBus at 0xb100); moved and turned off
 * after, and APMC_EN stays set whatever is written. */
TEST(test_piix4_function_firmware_places_block)
{
	fake_vm_reset(1, 64 << 20);
	fake_vm.rom_size = 0x40000;
	assert_int_equal(fake_create(&acpi_pm_device, 0x600, 0, 9), 0);
	assert_int_equal(fake_vm.bus.nr_pio, 0);
	assert_int_equal(fn_rd(0x40, 4), 1);
	assert_int_equal(fn_rd(0x80, 1), 0);
	fn_wr(0x3c, 1, 9);
	fn_wr(0x40, 4, 0xb000 | 1);
	assert_int_equal(fake_vm.bus.nr_pio, 0); /* not decoding yet */
	fn_wr(0x80, 1, 0x01);
	assert_non_null(io_bus_find(&fake_vm.bus, false, 0xb008));
	assert_null(io_bus_find(&fake_vm.bus, false, 0xb00c));
	fake_now = NS;
	assert_int_equal(fake_in(0xb008, 4), 3579545);
	fn_wr(0x90, 4, 0xb100 | 1);
	fn_wr(0xd2, 1, 0x09);
	assert_int_equal(fn_rd(0x90, 4), 0xb101);
	assert_int_equal(fn_rd(0xd2, 1), 0x09);
	assert_int_equal(fake_vm.bus.nr_pio, 1); /* no SMBus controller behind it */
	/* PMBA's low bits are not address; a move; a byte write of PMBA. */
	fn_wr(0x40, 4, 0xc03f);
	assert_int_equal(fn_rd(0x40, 4), 0xc001);
	assert_null(io_bus_find(&fake_vm.bus, false, 0xb008));
	assert_non_null(io_bus_find(&fake_vm.bus, false, 0xc008));
	fn_wr(0x41, 1, 0xd0);
	assert_non_null(io_bus_find(&fake_vm.bus, false, 0xd000));
	assert_int_equal(fake_vm.bus.nr_pio, 1);
	fn_wr(0x80, 1, 0x00);
	assert_int_equal(fake_vm.bus.nr_pio, 0);
	fn_wr(0x58, 4, 0);
	assert_int_equal(fn_rd(0x5b, 1), 0x02);
	assert_int_equal(fn_rd(0x60, 4), 0); /* a register it does not have */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_rate),
		cmocka_unit_test(test_timer_wraps_at_24_bits),
		cmocka_unit_test(test_timer_in_pieces),
		cmocka_unit_test(test_tmr_sts),
		cmocka_unit_test(test_pm1_en_reads_back),
		cmocka_unit_test(test_sci_en_always_reads_1),
		cmocka_unit_test(test_s5_needs_slp_en),
		cmocka_unit_test(test_s5_by_bytes),
		cmocka_unit_test(test_glue_at_0x600),
		cmocka_unit_test(test_piix4_function_direct_boot),
		cmocka_unit_test(test_piix4_function_firmware_places_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
