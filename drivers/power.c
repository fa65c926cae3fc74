/* SPDX-License-Identifier: MIT */
/*
 * Resetting and powering off the whole machine (the shell's reboot and
 * poweroff).  Reset: the chipset's reset control register (port 0xcf9: a
 * full reset, bits 1 and 2), then the keyboard controller's reset line
 * (0xfe to port 0x64).  Power off: ACPI S5 (ACPI 6.5 §7.4.2, §4.8.3.2):
 * the sleep types from the DSDT's \_S5_ with SLP_EN written to PM1a_CNT
 * (and PM1b_CNT where there is one).
 */
#include <arch/cpu.h>
#include <petrel/acpi.h>
#include <petrel/drivers.h>

#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN (1u << 13)

static uint16_t pm1a_cnt, pm1b_cnt;
static uint8_t s5_a, s5_b;
static bool s5;

void power_init(const struct acpi_info *a)
{
	s5 = a->has_s5 && a->pm1a_cnt && a->pm1a_cnt <= 0xffff && a->pm1b_cnt <= 0xffff;
	pm1a_cnt = (uint16_t)a->pm1a_cnt;
	pm1b_cnt = (uint16_t)a->pm1b_cnt;
	s5_a = a->s5_typ_a;
	s5_b = a->s5_typ_b;
}

void machine_reset(void)
{
	outb(0xcf9, 0x02);
	outb(0xcf9, 0x06);
	udelay(100000);
	outb(0x64, 0xfe);
	udelay(100000);
}

int machine_poweroff(void)
{
	if (!s5)
		return -1;
	if (pm1b_cnt)
		outw(pm1b_cnt, (uint16_t)((s5_b << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
	outw(pm1a_cnt, (uint16_t)((s5_a << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
	udelay(100000);
	return -1; /* still here */
}
