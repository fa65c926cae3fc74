/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/rtc_cmos.c: the MC146818A against the clock.  Time and date in
 * BCD and binary, 24- and 12-hour; the clock running over a day, a leap
 * day and a century; the UIP window; Linux's set-time sequence (SET, the
 * divider reset, the writes, SET cleared) and a field written while the
 * clock runs; register C's flags, their clearing on read and IRQF; the
 * periodic rates, the update-ended and alarm interrupts (with don't-care
 * bytes); the CMOS bytes a BIOS leaves; and the glue's IRQ 8 and timer
 * through the real I/O bus, with the platform stubbed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/rtc_cmos.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))
#define NS 1000000000ull
#define MS 1000000ull
#define T_20240229_134556 1709214356ull /* Thursday */
#define T_20240301_000030 1709251230ull
#define T_20240301_120000 1709294400ull
#define T_19991231_235959 946684799ull  /* Friday */

enum { SEC, SEC_ALARM, MIN, MIN_ALARM, HOUR, HOUR_ALARM, WDAY, MDAY, MONTH, YEAR, A, B, C, D };
#define CENTURY 0x32

static struct rtc_cmos *fresh(uint64_t unix_ns)
{
	static struct rtc_cmos r;

	rtc_reset(&r, 0, unix_ns, MiB(256), 0);
	return &r;
}

static uint8_t get(struct rtc_cmos *r, uint8_t idx, uint64_t now)
{
	rtc_write(r, 0x70, idx, now);
	return rtc_read(r, 0x71, now);
}

static void set(struct rtc_cmos *r, uint8_t idx, uint8_t val, uint64_t now)
{
	rtc_write(r, 0x70, idx, now);
	rtc_write(r, 0x71, val, now);
}

/* The date and time registers, year first: {year, month, mday, hour, min, sec}. */
static void expect_time(struct rtc_cmos *r, uint64_t now, const uint8_t want[6])
{
	static const uint8_t regs[6] = { YEAR, MONTH, MDAY, HOUR, MIN, SEC };

	for (int i = 0; i < 6; i++)
		if (get(r, regs[i], now) != want[i])
			fail_msg("register %u: 0x%02x, want 0x%02x", regs[i], get(r, regs[i], now), want[i]);
}

/* --- the model ------------------------------------------------------------------ */

TEST(test_time_bcd_24h)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS + 500 * MS);

	expect_time(r, 0, (const uint8_t[]){ 0x24, 0x02, 0x29, 0x13, 0x45, 0x56 });
	assert_int_equal(get(r, WDAY, 0), 5); /* Thursday, Sunday = 1 */
	assert_int_equal(get(r, CENTURY, 0), 0x20);
	assert_int_equal(get(r, A, 0), 0x26);
	assert_int_equal(get(r, B, 0), 0x02);
	assert_int_equal(get(r, D, 0), 0x80);
	expect_time(r, 499 * MS, (const uint8_t[]){ 0x24, 0x02, 0x29, 0x13, 0x45, 0x56 });
	expect_time(r, 500 * MS, (const uint8_t[]){ 0x24, 0x02, 0x29, 0x13, 0x45, 0x57 });
	expect_time(r, 3600 * NS, (const uint8_t[]){ 0x24, 0x02, 0x29, 0x14, 0x45, 0x56 });
	/* Leap day to March 1st, a Friday. */
	expect_time(r, 86400 * NS, (const uint8_t[]){ 0x24, 0x03, 0x01, 0x13, 0x45, 0x56 });
	assert_int_equal(get(r, WDAY, 86400 * NS), 6);
}

TEST(test_time_binary_and_12h)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS);

	set(r, B, 0x04, 0); /* binary, 12-hour */
	expect_time(r, 0, (const uint8_t[]){ 24, 2, 29, 0x81, 45, 56 }); /* 1 PM */
	assert_int_equal(get(r, CENTURY, 0), 20);
	set(r, B, 0x00, 0); /* BCD, 12-hour */
	assert_int_equal(get(r, HOUR, 0), 0x81);
	set(r, B, 0x06, 0); /* binary, 24-hour */
	assert_int_equal(get(r, HOUR, 0), 13);

	r = fresh(T_20240301_000030 * NS); /* midnight is 12 AM */
	set(r, B, 0x00, 0);
	assert_int_equal(get(r, HOUR, 0), 0x12);
	set(r, B, 0x04, 0);
	assert_int_equal(get(r, HOUR, 0), 12);
	r = fresh(T_20240301_120000 * NS); /* noon is 12 PM */
	set(r, B, 0x00, 0);
	assert_int_equal(get(r, HOUR, 0), 0x92);
	set(r, B, 0x04, 0);
	assert_int_equal(get(r, HOUR, 0), 0x8c);
}

TEST(test_century_rollover)
{
	struct rtc_cmos *r = fresh(T_19991231_235959 * NS);

	expect_time(r, 0, (const uint8_t[]){ 0x99, 0x12, 0x31, 0x23, 0x59, 0x59 });
	assert_int_equal(get(r, CENTURY, 0), 0x19);
	assert_int_equal(get(r, WDAY, 0), 6);
	expect_time(r, NS, (const uint8_t[]){ 0x00, 0x01, 0x01, 0x00, 0x00, 0x00 });
	assert_int_equal(get(r, CENTURY, NS), 0x20);
	assert_int_equal(get(r, WDAY, NS), 7);
}

TEST(test_uip_window)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS);

	assert_int_equal(get(r, A, 0) & 0x80, 0);
	assert_int_equal(get(r, A, NS - 244001) & 0x80, 0);
	assert_int_equal(get(r, A, NS - 244000) & 0x80, 0x80);
	assert_int_equal(get(r, SEC, NS - 1000), 0x56); /* still the old second */
	assert_int_equal(get(r, A, NS - 1) & 0x80, 0x80);
	assert_int_equal(get(r, A, NS) & 0x80, 0);
	assert_int_equal(get(r, SEC, NS), 0x57);
	assert_int_equal(get(r, A, 2 * NS - 100000) & 0x7f, 0x26);
	set(r, B, 0x82, 2 * NS); /* SET: no updates, no UIP, no UF */
	get(r, C, 2 * NS);
	assert_int_equal(get(r, A, 3 * NS - 1000) & 0x80, 0);
	assert_int_equal(get(r, C, 4 * NS) & 0x10, 0);
}

TEST(test_linux_set_time)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS);
	uint64_t t = 5 * NS;
	uint8_t save_b, save_a;

	set(r, B, 0x12, 0); /* UIE on: SET must clear it */
	/* mc146818_set_time(): 2030-07-04 12:34:56 */
	save_b = get(r, B, t);
	set(r, B, save_b | 0x80, t);
	assert_int_equal(get(r, B, t), 0x82);
	save_b &= (uint8_t)~0x10;
	save_a = get(r, A, t);
	set(r, A, save_a | 0x70, t);
	set(r, YEAR, 0x30, t);
	set(r, MONTH, 0x07, t);
	set(r, MDAY, 0x04, t);
	set(r, HOUR, 0x12, t);
	set(r, MIN, 0x34, t);
	set(r, SEC, 0x56, t);
	/* Held while SET = 1. */
	expect_time(r, t + 3 * NS, (const uint8_t[]){ 0x30, 0x07, 0x04, 0x12, 0x34, 0x56 });
	set(r, B, save_b, 10 * NS);
	set(r, A, save_a, 10 * NS);
	expect_time(r, 10 * NS, (const uint8_t[]){ 0x30, 0x07, 0x04, 0x12, 0x34, 0x56 });
	expect_time(r, 11500 * MS, (const uint8_t[]){ 0x30, 0x07, 0x04, 0x12, 0x34, 0x57 });
	assert_int_equal(get(r, WDAY, 11 * NS), 5); /* a Thursday */
	assert_int_equal(get(r, CENTURY, 11 * NS), 0x20);
	assert_int_equal(get(r, A, 11 * NS), 0x26);
}

TEST(test_set_time_in_binary)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS);

	set(r, B, 0x86, NS); /* SET, binary, 24-hour */
	set(r, YEAR, 99, NS);
	set(r, CENTURY, 19, NS);
	set(r, MONTH, 12, NS);
	set(r, MDAY, 31, NS);
	set(r, HOUR, 23, NS);
	set(r, MIN, 59, NS);
	set(r, SEC, 58, NS);
	set(r, B, 0x06, NS);
	expect_time(r, 3 * NS, (const uint8_t[]){ 0, 1, 1, 0, 0, 0 });
	assert_int_equal(get(r, CENTURY, 3 * NS), 20);
}

TEST(test_write_field_while_running)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS + 500 * MS);

	set(r, MIN, 0x10, 300 * MS); /* 0.8 s into second :56 */
	expect_time(r, 499 * MS, (const uint8_t[]){ 0x24, 0x02, 0x29, 0x13, 0x10, 0x56 });
	expect_time(r, 500 * MS, (const uint8_t[]){ 0x24, 0x02, 0x29, 0x13, 0x10, 0x57 });
}

TEST(test_invalid_values_clamped)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS);

	set(r, B, 0x82, 0);
	set(r, YEAR, 0x23, 0);
	set(r, MONTH, 0x02, 0);
	set(r, MDAY, 0x31, 0); /* no February 31st, nor 29th in 2023 */
	set(r, HOUR, 0x25, 0);
	set(r, CENTURY, 0x00, 0); /* no century: 23 < 70 means 2023 */
	set(r, B, 0x02, 0);
	expect_time(r, 0, (const uint8_t[]){ 0x23, 0x02, 0x28, 0x23, 0x45, 0x56 });
	assert_int_equal(get(r, CENTURY, 0), 0x20);
	set(r, B, 0x82, 0);
	set(r, YEAR, 0x70, 0);
	set(r, CENTURY, 0xaa, 0);
	set(r, B, 0x02, 0);
	assert_int_equal(get(r, CENTURY, 0), 0x19);
	assert_int_equal(get(r, YEAR, 0), 0x70);
}

TEST(test_register_c_clears_and_lowers_irq)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS);

	set(r, A, 0x20, 0); /* no periodic flag to muddle C */
	set(r, B, 0x12, 0); /* UIE */
	rtc_update(r, 500 * MS);
	assert_false(rtc_irq(r));
	assert_int_equal(rtc_next_event(r, 500 * MS), NS);
	rtc_update(r, NS);
	assert_true(rtc_irq(r));
	assert_int_equal(rtc_next_event(r, NS), 0); /* up until C is read */
	assert_int_equal(get(r, C, NS), 0x90);
	assert_false(rtc_irq(r));
	assert_int_equal(get(r, C, NS), 0x00);
	assert_int_equal(rtc_next_event(r, NS), 2 * NS);
	set(r, B, 0x02, NS);
	assert_int_equal(rtc_next_event(r, NS), 0);
}

TEST(test_flags_set_without_enables)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS);

	assert_int_equal(get(r, C, 10 * MS), 0x40); /* PF at 1024 Hz, no IRQF */
	assert_false(rtc_irq(r));
	assert_int_equal(get(r, C, 1200 * MS), 0x50); /* and an update ended */
	/* Enabling a flag that is already set raises IRQF at once. */
	rtc_update(r, 1300 * MS);
	set(r, B, 0x42, 1300 * MS);
	assert_true(rtc_irq(r));
	assert_int_equal(get(r, C, 1300 * MS), 0xc0);
}

TEST(test_periodic_rates)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS);

	get(r, C, 0);
	set(r, B, 0x42, 0); /* PIE, 1024 Hz */
	assert_int_equal(rtc_next_event(r, 0), 976563); /* 976562.5 ns, rounded up */
	rtc_update(r, 976562);
	assert_false(rtc_irq(r));
	rtc_update(r, 976563);
	assert_true(rtc_irq(r));
	assert_int_equal(get(r, C, 976563), 0xc0);
	assert_int_equal(rtc_next_event(r, 976563), 1953125);
	set(r, A, 0x2f, 0); /* 2 Hz */
	assert_int_equal(rtc_next_event(r, 1953125), 500 * MS);
	set(r, A, 0x21, 0); /* RS 1: 256 Hz, as RS 8 */
	assert_int_equal(rtc_next_event(r, 1953125), 3906250);
	set(r, A, 0x23, 0); /* 8192 Hz */
	assert_int_equal(rtc_next_event(r, 1953125), 2075196); /* 17 x 122070.3125, rounded up */
	set(r, A, 0x20, 0); /* RS 0: none */
	assert_int_equal(rtc_next_event(r, 1953125), 0);
	assert_int_equal(get(r, C, 10 * NS) & 0x40, 0);
}

TEST(test_alarm)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS);

	set(r, A, 0x20, 0);
	set(r, HOUR_ALARM, 0x13, 0);
	set(r, MIN_ALARM, 0x46, 0);
	set(r, SEC_ALARM, 0x00, 0);
	set(r, B, 0x22, 0); /* AIE */
	assert_int_equal(rtc_next_event(r, 0), 4 * NS);
	rtc_update(r, 3900 * MS);
	assert_false(rtc_irq(r));
	rtc_update(r, 4 * NS);
	assert_true(rtc_irq(r));
	assert_int_equal(get(r, C, 4 * NS), 0xb0); /* IRQF, AF, and UF (not enabled) */
	assert_int_equal(rtc_next_event(r, 4 * NS), (4 + 86400) * NS);

	set(r, MIN_ALARM, 0xc0, 4 * NS); /* any hour, any minute, second 30 */
	set(r, HOUR_ALARM, 0xff, 4 * NS);
	set(r, SEC_ALARM, 0x30, 4 * NS);
	assert_int_equal(rtc_next_event(r, 4 * NS), 34 * NS);
	set(r, SEC_ALARM, 0xc5, 4 * NS); /* every second */
	assert_int_equal(rtc_next_event(r, 4 * NS), 5 * NS);
	set(r, HOUR_ALARM, 0x25, 4 * NS); /* never */
	assert_int_equal(rtc_next_event(r, 4 * NS), 0);
	/* 12-hour alarm bytes: 1 PM is 0x81. */
	set(r, B, 0x20, 4 * NS);
	set(r, HOUR_ALARM, 0x81, 4 * NS);
	set(r, MIN_ALARM, 0x47, 4 * NS);
	set(r, SEC_ALARM, 0x00, 4 * NS);
	assert_int_equal(rtc_next_event(r, 4 * NS), 64 * NS);
	/* With AIE off, a passed alarm is still flagged when C is read. */
	set(r, B, 0x00, 4 * NS);
	assert_int_equal(get(r, C, 100 * NS) & 0x20, 0x20);
}

static uint8_t sum_bytes(struct rtc_cmos *r, unsigned from, unsigned to)
{
	unsigned sum = 0;

	for (unsigned i = from; i <= to; i++)
		sum += get(r, (uint8_t)i, 0);
	return (uint8_t)sum;
}

TEST(test_cmos_bytes)
{
	struct rtc_cmos *r = fresh(T_20240229_134556 * NS);
	unsigned sum = 0;

	assert_int_equal(get(r, 0x0f, 0), 0x00);
	assert_int_equal(get(r, 0x10, 0), 0x00);
	assert_int_equal(get(r, 0x14, 0), 0x02);
	assert_int_equal(get(r, 0x15, 0) | get(r, 0x16, 0) << 8, 640);
	assert_int_equal(get(r, 0x17, 0) | get(r, 0x18, 0) << 8, 0xffff); /* capped */
	assert_int_equal(get(r, 0x30, 0) | get(r, 0x31, 0) << 8, 0xffff);
	assert_int_equal(get(r, 0x34, 0) | get(r, 0x35, 0) << 8, 240 * 16); /* 240 MiB / 64 KiB */
	assert_int_equal(sum_bytes(r, 0x5b, 0x5d), 0);
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += get(r, (uint8_t)i, 0);
	assert_int_equal(get(r, 0x2e, 0) << 8 | get(r, 0x2f, 0), sum);

	rtc_reset(r, 0, 0, MiB(32), 0);
	assert_int_equal(get(r, 0x17, 0) | get(r, 0x18, 0) << 8, 31 * 1024);
	assert_int_equal(get(r, 0x34, 0) | get(r, 0x35, 0) << 8, 256);
	rtc_reset(r, 0, 0, GiB(4), GiB(2)); /* more than the CMOS counts below 4 GiB */
	assert_int_equal(get(r, 0x34, 0) | get(r, 0x35, 0) << 8, 0xff00);
	assert_int_equal(get(r, 0x5b, 0) | get(r, 0x5c, 0) << 8 | get(r, 0x5d, 0) << 16, 0x8000);

	set(r, 0x40, 0xa5, 0); /* plain RAM */
	assert_int_equal(get(r, 0x40, 0), 0xa5);
	set(r, D, 0x00, 0);   /* read-only */
	assert_int_equal(get(r, D, 0), 0x80);
	assert_int_equal(rtc_read(r, 0x70, 0), 0xff);
	rtc_write(r, 0x70, 0x80 | 0x40, 0); /* NMI masked, register 0x40 */
	assert_true(r->nmi_masked);
	assert_int_equal(rtc_read(r, 0x71, 0), 0xa5);
	rtc_write(r, 0x70, 0x0b, 0);
	assert_false(r->nmi_masked);
}

/* --- the glue ------------------------------------------------------------------ */

static struct vtimer *timer;

static uint8_t cmos_in(uint8_t idx)
{
	uint64_t v = idx;

	assert_true(io_bus_access(&fake_vm.bus, false, NULL, 0x70, 1, true, &v));
	assert_true(io_bus_access(&fake_vm.bus, false, NULL, 0x71, 1, false, &v));
	return (uint8_t)v;
}

static void cmos_out(uint8_t idx, uint8_t val)
{
	uint64_t v = idx;

	assert_true(io_bus_access(&fake_vm.bus, false, NULL, 0x70, 1, true, &v));
	v = val;
	assert_true(io_bus_access(&fake_vm.bus, false, NULL, 0x71, 1, true, &v));
}

static void run_timer(uint64_t when)
{
	assert_true(timer->armed);
	assert_true(when >= timer->deadline);
	fake_now = when;
	timer->armed = false;
	timer->fire(timer, when);
}

static void glue_setup(void)
{
	fake_vm_reset(1, MiB(64));
	fake_now = 2 * NS;
	fake_wallclock = T_20240229_134556 * NS + 250 * MS;
	assert_int_equal(fake_create(&rtc_cmos_device, 0x70, 0, 8), 0);
	timer = fake_vm.timers;
	assert_non_null(timer);
}

TEST(test_glue_wall_clock_and_ports)
{
	glue_setup();
	assert_int_equal(fake_vm.bus.nr_pio, 1);
	assert_int_equal(cmos_in(SEC), 0x56); /* the wall clock at the time of rtc_init */
	fake_now += 750 * MS;
	assert_int_equal(cmos_in(SEC), 0x57);
	assert_false(timer->armed);
	assert_int_equal(cmos_in(0x34) | cmos_in(0x35) << 8, 48 * 16);
}

TEST(test_glue_update_interrupt)
{
	uint64_t second;

	glue_setup();
	cmos_out(A, 0x20);
	cmos_out(B, 0x12);
	assert_true(timer->armed);
	second = fake_now + 750 * MS; /* the wall clock was 0.25 s into its second */
	assert_int_equal(timer->deadline, second);
	run_timer(second);
	assert_int_equal(fake_gsi_level[8], 1);
	assert_false(timer->armed); /* nothing more until C is read */
	assert_int_equal(cmos_in(C), 0x90);
	assert_int_equal(fake_gsi_level[8], 0);
	assert_int_equal(timer->deadline, second + NS);
	cmos_out(B, 0x02);
	assert_false(timer->armed);
}

TEST(test_glue_periodic_1024hz_for_a_second)
{
	uint64_t start;

	glue_setup();
	cmos_in(C);
	cmos_out(B, 0x42);
	start = fake_now;
	while (timer->armed && timer->deadline <= start + NS) {
		run_timer(timer->deadline);
		assert_int_equal(fake_gsi_level[8], 1);
		assert_int_equal(cmos_in(C) & 0xc0, 0xc0); /* the guest's handler */
	}
	assert_int_equal(fake_gsi_rises[8], 1024);
	assert_int_equal(fake_gsi_level[8], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_bcd_24h),
		cmocka_unit_test(test_time_binary_and_12h),
		cmocka_unit_test(test_century_rollover),
		cmocka_unit_test(test_uip_window),
		cmocka_unit_test(test_linux_set_time),
		cmocka_unit_test(test_set_time_in_binary),
		cmocka_unit_test(test_write_field_while_running),
		cmocka_unit_test(test_invalid_values_clamped),
		cmocka_unit_test(test_register_c_clears_and_lowers_irq),
		cmocka_unit_test(test_flags_set_without_enables),
		cmocka_unit_test(test_periodic_rates),
		cmocka_unit_test(test_alarm),
		cmocka_unit_test(test_cmos_bytes),
		cmocka_unit_test(test_glue_wall_clock_and_ports),
		cmocka_unit_test(test_glue_update_interrupt),
		cmocka_unit_test(test_glue_periodic_1024hz_for_a_second),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
