/* SPDX-License-Identifier: MIT */
/*
 * drivers/rtc.c, the host's RTC read at boot: compiled here with its port
 * and TSC instructions replaced by a fake CMOS (as Xen tests its emulator:
 * the real source, stubbed dependencies).  BCD and binary, 24- and 12-hour
 * (12 AM and 12 PM), the 19xx/20xx guess, waiting out UIP, a read torn by
 * an update in the middle and read again, no RTC at all, nonsense values,
 * NMI left enabled, and wallclock_ns() advancing with the TSC.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Stand-ins for arch/cpu.h, which drivers/rtc.c then does not include. */
#define ARCH_CPU_H
static uint8_t cmos[128];
static uint8_t index_reg, index_or; /* every index written, OR-ed: bit 7 must stay clear */
static unsigned uip_reads;          /* reads of register A still to see UIP set */
static unsigned year_reads;
static void (*on_year_read)(unsigned n);
static uint64_t fake_tsc;

static inline void outb(uint16_t port, uint8_t v)
{
	if (port == 0x70) {
		index_reg = v & 0x7f;
		index_or |= v;
	}
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	if (port != 0x71)
		return 0xff;
	v = cmos[index_reg];
	if (index_reg == 0x0a && uip_reads) {
		uip_reads--;
		v |= 0x80;
	}
	if (index_reg == 0x09 && on_year_read)
		on_year_read(++year_reads);
	return v;
}

static inline uint64_t rdtsc(void) { return fake_tsc; }
static inline void cpu_relax(void) {}

uint64_t tsc_hz;

#include "../../drivers/rtc.c"

#define TEST(name) static void name(void **state __attribute__((unused)))
#define NS 1000000000ull
#define T_20240229_134556 1709214356ull
#define T_20240101_000000 1704067200ull

/* BCD, 24-hour, as most firmware keeps it. */
static void set_bcd(uint8_t yy, uint8_t mon, uint8_t mday, uint8_t hour, uint8_t min, uint8_t sec)
{
	memset(cmos, 0, sizeof(cmos));
	cmos[0x09] = yy;
	cmos[0x08] = mon;
	cmos[0x07] = mday;
	cmos[0x04] = hour;
	cmos[0x02] = min;
	cmos[0x00] = sec;
	cmos[0x0a] = 0x26;
	cmos[0x0b] = 0x02;
}

static int setup(void **state)
{
	(void)state;
	tsc_hz = 2000000000; /* 2 GHz */
	fake_tsc = 123456789;
	uip_reads = 0;
	year_reads = 0;
	on_year_read = NULL;
	index_or = 0;
	return 0;
}

TEST(test_bcd_24h_and_tsc)
{
	set_bcd(0x24, 0x02, 0x29, 0x13, 0x45, 0x56);
	rtc_host_init();
	assert_int_equal(wallclock_ns(), T_20240229_134556 * NS);
	fake_tsc += 3000000000u; /* 1.5 s at 2 GHz */
	assert_int_equal(wallclock_ns(), T_20240229_134556 * NS + 1500000000u);
	assert_int_equal(index_or & 0x80, 0); /* NMI never masked */
}

TEST(test_binary_12h)
{
	set_bcd(24, 2, 29, 0x81, 45, 56); /* 1 PM */
	cmos[0x0b] = 0x04;               /* binary, 12-hour */
	rtc_host_init();
	assert_int_equal(wallclock_ns(), T_20240229_134556 * NS);
}

TEST(test_12am_and_12pm)
{
	set_bcd(0x24, 0x01, 0x01, 0x12, 0x00, 0x00); /* 12 AM, BCD 12-hour */
	cmos[0x0b] = 0x00;
	rtc_host_init();
	assert_int_equal(wallclock_ns(), T_20240101_000000 * NS);
	cmos[0x04] = 0x92; /* 12 PM */
	rtc_host_init();
	assert_int_equal(wallclock_ns(), (T_20240101_000000 + 12 * 3600) * NS);
}

TEST(test_two_digit_years)
{
	set_bcd(0x99, 0x12, 0x31, 0x23, 0x59, 0x59);
	rtc_host_init();
	assert_int_equal(wallclock_ns(), 946684799ull * NS);
	set_bcd(0x69, 0x01, 0x01, 0x00, 0x00, 0x00);
	rtc_host_init();
	assert_int_equal(wallclock_ns(), 3124224000ull * NS);
	set_bcd(0x70, 0x01, 0x01, 0x00, 0x00, 0x10);
	rtc_host_init();
	assert_int_equal(wallclock_ns(), 10 * NS);
}

TEST(test_waits_out_uip)
{
	set_bcd(0x24, 0x02, 0x29, 0x13, 0x45, 0x56);
	uip_reads = 500;
	rtc_host_init();
	assert_int_equal(uip_reads, 0);
	assert_int_equal(wallclock_ns(), T_20240229_134556 * NS);
}

/* The seconds roll over between the first read of the year and the second
 * pass: the two passes disagree, and the next two agree on the new time. */
static void new_year(unsigned n)
{
	if (n == 1)
		set_bcd(0x24, 0x01, 0x01, 0x00, 0x00, 0x00);
}

TEST(test_torn_read_is_retried)
{
	set_bcd(0x23, 0x12, 0x31, 0x23, 0x59, 0x59);
	on_year_read = new_year;
	rtc_host_init();
	assert_true(year_reads >= 3);
	assert_int_equal(wallclock_ns(), T_20240101_000000 * NS);
}

TEST(test_no_rtc_starts_at_epoch)
{
	memset(cmos, 0xff, sizeof(cmos)); /* an empty bus: UIP never falls */
	rtc_host_init();
	assert_int_equal(wallclock_ns(), 0);
	fake_tsc += 2 * tsc_hz;
	assert_int_equal(wallclock_ns(), 2 * NS);
}

TEST(test_nonsense_starts_at_epoch)
{
	set_bcd(0x24, 0x13, 0x01, 0x00, 0x00, 0x00); /* month 13 */
	rtc_host_init();
	assert_int_equal(wallclock_ns(), 0);
	set_bcd(0x24, 0x01, 0x01, 0x24, 0x00, 0x00); /* hour 24 */
	rtc_host_init();
	assert_int_equal(wallclock_ns(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bcd_24h_and_tsc, setup),
		cmocka_unit_test_setup(test_binary_12h, setup),
		cmocka_unit_test_setup(test_12am_and_12pm, setup),
		cmocka_unit_test_setup(test_two_digit_years, setup),
		cmocka_unit_test_setup(test_waits_out_uip, setup),
		cmocka_unit_test_setup(test_torn_read_is_retried, setup),
		cmocka_unit_test_setup(test_no_rtc_starts_at_epoch, setup),
		cmocka_unit_test_setup(test_nonsense_starts_at_epoch, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
