/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/pit8254.c: the 8254 against the clock.  Linux's TSC calibration
 * through channel 2 and port 0x61 (mode 0, OUT2 rising at terminal count at
 * the right nanosecond), its quick calibration reading the live MSB, mode 2
 * on channel 0 with Linux's HZ=100 count (11932: 10.000151 ms) and no drift
 * over 100 periods, modes 1, 3 and 4, the gate, counter latch, lsb/msb
 * access, read-back status, port 0x61's bits; and the glue's IRQ 0 timer
 * through the real I/O bus, with the platform's timers stubbed.  Expected
 * times are computed here with 128-bit arithmetic, not with the model's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/pit8254.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))
#define HZ 1193182ull
#define MS 1000000ull

/* The first VM time at which `ticks` PIT clocks have passed since t0. */
static uint64_t at(uint64_t t0, uint64_t ticks)
{
	return t0 + (uint64_t)(((unsigned __int128)ticks * 1000000000u + HZ - 1) / HZ);
}

/* --- the glue, over the fake VM (fake_vm.h) ----------------------------------- */

static struct vtimer *timer; /* the device's one timer */

static void out8(uint16_t port, uint8_t val) { fake_out(port, 1, val); }
static uint8_t in8(uint16_t port) { return (uint8_t)fake_in(port, 1); }

/* As vm_run_timers does: disarm, then fire (which may re-arm). */
static void run_timer(uint64_t when)
{
	assert_true(timer->armed);
	assert_true(when >= timer->deadline);
	fake_now = when;
	timer->armed = false;
	timer->fire(timer, when);
}

static struct pit8254 *fresh(void)
{
	static struct pit8254 p;

	pit_reset(&p);
	return &p;
}

static void program(struct pit8254 *p, unsigned ch, uint8_t ctrl, uint16_t count, uint64_t t)
{
	pit_write(p, 0x43, (uint8_t)(ch << 6 | ctrl), t);
	pit_write(p, (uint16_t)(0x40 + ch), (uint8_t)count, t);
	pit_write(p, (uint16_t)(0x40 + ch), (uint8_t)(count >> 8), t);
}

static uint16_t read16(struct pit8254 *p, unsigned ch, uint64_t t)
{
	uint8_t lo = pit_read(p, (uint16_t)(0x40 + ch), t);

	return (uint16_t)(lo | pit_read(p, (uint16_t)(0x40 + ch), t) << 8);
}

/* --- the model ------------------------------------------------------------------ */

TEST(test_linux_calibration_channel2)
{
	struct pit8254 *p = fresh();
	const uint16_t latch = (uint16_t)(HZ / (1000 / 50)); /* pit_calibrate_tsc(latch, 50 ms) */
	uint64_t t0 = 5 * MS, out;
	uint8_t v61;

	assert_int_equal(latch, 59659);
	v61 = pit_read(p, 0x61, t0);
	pit_write(p, 0x61, (uint8_t)((v61 & ~0x02) | 0x01), t0); /* gate high, speaker off */
	pit_write(p, 0x43, 0xb0, t0);                           /* channel 2, lsb/msb, mode 0 */
	pit_write(p, 0x42, latch & 0xff, t0);
	pit_write(p, 0x42, latch >> 8, t0);
	out = at(t0, latch);
	assert_int_equal(out - t0, 49999917); /* 59659 / 1193182 Hz, rounded up */
	assert_int_equal(pit_read(p, 0x61, t0) & 0x20, 0);
	assert_int_equal(pit_read(p, 0x61, out - 1) & 0x20, 0);
	assert_int_equal(pit_read(p, 0x61, out) & 0x20, 0x20);
	assert_int_equal(pit_read(p, 0x61, out + 3000 * MS) & 0x20, 0x20); /* stays high */
	assert_int_equal(pit_read(p, 0x61, out) & 0x03, 0x01);
}

TEST(test_quick_calibration_reads_live_msb)
{
	struct pit8254 *p = fresh();
	uint64_t t0 = 123;

	pit_write(p, 0x61, 0x01, t0);
	program(p, 2, 0x30, 0xffff, t0);
	/* Unlatched reads: lsb then msb of the counter as it is. */
	assert_int_equal(read16(p, 2, at(t0, 1290)), 0xffff - 1290);
	assert_int_equal(pit_read(p, 0x42, at(t0, 5 * 256)), 0xff); /* lsb of 0xfaff */
	assert_int_equal(pit_read(p, 0x42, at(t0, 5 * 256 + 1)), 0xfa);
	/* Past terminal count the counter wraps through 0xffff and goes on. */
	assert_int_equal(read16(p, 2, at(t0, 0xffff + 3)), 0xfffd);
}

TEST(test_gate_holds_and_pauses_mode0)
{
	struct pit8254 *p = fresh();
	uint64_t t0 = 0, t1 = 100 * MS, t2 = 1500 * MS;

	program(p, 2, 0x30, 1000, t0); /* gate 2 is low after reset */
	assert_false(pit_out(p, 2, t1));
	assert_int_equal(pit_next_edge(p, 2, t1), 0);
	pit_write(p, 0x61, 0x01, t1); /* counting starts now */
	assert_int_equal(pit_next_edge(p, 2, t1), at(t1, 1000));
	pit_set_gate(p, 2, false, at(t1, 400)); /* paused after 400 */
	assert_int_equal(read16(p, 2, t2), 600);
	assert_false(pit_out(p, 2, t2));
	pit_set_gate(p, 2, true, t2);
	assert_false(pit_out(p, 2, at(t2, 599)));
	assert_true(pit_out(p, 2, at(t2, 600)));
}

TEST(test_mode0_first_byte_stops_the_count)
{
	struct pit8254 *p = fresh();
	uint64_t t1;

	program(p, 0, 0x30, 16, 0);
	assert_true(pit_out(p, 0, at(0, 20)));
	t1 = at(0, 30);
	pit_write(p, 0x40, 100, t1); /* lsb: OUT low, counting stops */
	assert_false(pit_out(p, 0, t1));
	assert_int_equal(pit_next_edge(p, 0, t1), 0);
	pit_write(p, 0x40, 0, t1 + 1000);
	assert_int_equal(pit_next_edge(p, 0, t1 + 1000), at(t1 + 1000, 100));
}

TEST(test_mode2_linux_hz100_period)
{
	struct pit8254 *p = fresh();
	uint64_t t0 = 1000, e = t0;

	program(p, 0, 0x34, 11932, t0); /* pit_set_periodic(): 0x34, LATCH for HZ=100 */
	assert_int_equal(pit_next_edge(p, 0, t0), t0 + 10000151);
	/* OUT is low for the one clock when the count is 1. */
	assert_true(pit_out(p, 0, at(t0, 11930)));
	assert_false(pit_out(p, 0, at(t0, 11931)));
	assert_true(pit_out(p, 0, at(t0, 11932)));
	assert_int_equal(read16(p, 0, at(t0, 100)), 11832);
	assert_int_equal(read16(p, 0, at(t0, 11932 + 2)), 11930);
	for (int k = 0; k < 100; k++)
		e = pit_next_edge(p, 0, e);
	assert_int_equal(e - t0, 1000015086); /* 100 x 11932 clocks, no drift */
	/* A late look finds the next edge, not a missed one. */
	assert_int_equal(pit_next_edge(p, 0, at(t0, 3 * 11932 + 5)), at(t0, 4 * 11932));
}

TEST(test_mode3_square_wave)
{
	struct pit8254 *p = fresh();

	program(p, 0, 0x36, 1000, 0);
	assert_true(pit_out(p, 0, at(0, 499)));
	assert_false(pit_out(p, 0, at(0, 500)));
	assert_false(pit_out(p, 0, at(0, 999)));
	assert_true(pit_out(p, 0, at(0, 1000)));
	assert_int_equal(read16(p, 0, at(0, 10)), 980); /* counts down by two */
	assert_int_equal(pit_next_edge(p, 0, at(0, 10)), at(0, 1000));
	assert_int_equal(pit_next_edge(p, 0, at(0, 1000)), at(0, 2000));
	program(p, 0, 0x36, 5, 0); /* odd: high (N+1)/2, low (N-1)/2 */
	assert_true(pit_out(p, 0, at(0, 2)));
	assert_false(pit_out(p, 0, at(0, 3)));
	assert_false(pit_out(p, 0, at(0, 4)));
	assert_true(pit_out(p, 0, at(0, 5)));
}

TEST(test_mode4_linux_oneshot)
{
	struct pit8254 *p = fresh();
	uint64_t t0 = 7777;

	program(p, 0, 0x38, 1000, t0); /* pit_set_oneshot(): 0x38, then the delta */
	assert_true(pit_out(p, 0, t0));
	assert_true(pit_out(p, 0, at(t0, 999)));
	assert_false(pit_out(p, 0, at(t0, 1000))); /* one clock low at terminal count */
	assert_true(pit_out(p, 0, at(t0, 1001)));
	assert_int_equal(pit_next_edge(p, 0, t0), at(t0, 1001));
	assert_int_equal(pit_next_edge(p, 0, at(t0, 1001)), 0);
}

TEST(test_mode1_gate_trigger)
{
	struct pit8254 *p = fresh();
	uint64_t t1 = 10 * MS, t2;

	program(p, 2, 0xb2 & 0x3f, 100, 0); /* channel 2, mode 1 */
	assert_true(pit_out(p, 2, t1)); /* waiting for a trigger */
	pit_write(p, 0x61, 0x01, t1);
	assert_false(pit_out(p, 2, t1));
	assert_int_equal(pit_next_edge(p, 2, t1), at(t1, 100));
	t2 = at(t1, 50);
	pit_write(p, 0x61, 0x00, t2);
	pit_write(p, 0x61, 0x01, t2); /* retrigger: the count starts over */
	assert_false(pit_out(p, 2, at(t1, 120)));
	assert_true(pit_out(p, 2, at(t2, 100)));
}

TEST(test_counter_latch)
{
	struct pit8254 *p = fresh();

	program(p, 0, 0x34, 1000, 0);
	pit_write(p, 0x43, 0x00, at(0, 100)); /* latch channel 0 at 900 */
	assert_int_equal(pit_read(p, 0x40, at(0, 500)), 900 & 0xff);
	pit_write(p, 0x43, 0x00, at(0, 600)); /* ignored: the latch is not read out yet */
	assert_int_equal(pit_read(p, 0x40, at(0, 650)), 900 >> 8);
	/* Released: live again. */
	assert_int_equal(read16(p, 0, at(0, 700)), 300);
	/* A count written in lsb-only and msb-only access modes. */
	pit_write(p, 0x43, 0x14, 0); /* lsb only, mode 2 */
	pit_write(p, 0x40, 100, 0);
	assert_int_equal(pit_read(p, 0x40, at(0, 1)), 99);
	assert_int_equal(pit_read(p, 0x40, at(0, 2)), 98);
	pit_write(p, 0x43, 0x24, 0); /* msb only */
	pit_write(p, 0x40, 0x02, 0);
	assert_int_equal(pit_read(p, 0x40, 0), 0x02);
	assert_int_equal(pit_read(p, 0x40, at(0, 1)), 0x01); /* 0x1ff */
}

TEST(test_read_back_status)
{
	struct pit8254 *p = fresh();

	pit_write(p, 0x43, 0x34, 0);
	pit_write(p, 0x43, 0xe2, 0); /* status of channel 0 */
	assert_int_equal(pit_read(p, 0x40, 0), 0x80 | 0x40 | 0x34); /* OUT high, null count */
	pit_write(p, 0x40, 0x10, 0);
	pit_write(p, 0x40, 0x00, 0);
	pit_write(p, 0x43, 0xe2, 0);
	assert_int_equal(pit_read(p, 0x40, 1), 0x80 | 0x34);
	/* A second status latch before the first is read is ignored. */
	pit_write(p, 0x43, 0x34, 0); /* null count again */
	pit_write(p, 0x43, 0xe2, 0);
	pit_write(p, 0x40, 0x10, 0);
	pit_write(p, 0x40, 0x00, 0); /* loaded: null count clears */
	pit_write(p, 0x43, 0xe2, 0);
	assert_int_equal(pit_read(p, 0x40, 0), 0xc0 | 0x34);
	pit_write(p, 0x43, 0xe2, 0);
	assert_int_equal(pit_read(p, 0x40, 0), 0x80 | 0x34);

	pit_write(p, 0x43, 0xb0, 0); /* channel 2, mode 0: OUT low */
	pit_write(p, 0x43, 0xe8, 0);
	assert_int_equal(pit_read(p, 0x42, 0), 0x40 | 0x30);

	/* Count and status together: status first, then the count. */
	pit_write(p, 0x43, 0xc2, at(0, 3));
	assert_int_equal(pit_read(p, 0x40, at(0, 9)), 0x80 | 0x34);
	assert_int_equal(read16(p, 0, at(0, 9)), 13);
	/* Count only, several channels at once. */
	program(p, 1, 0x34, 500, 0);
	pit_write(p, 0x43, 0xd6, at(0, 20)); /* count of channels 0 and 1 */
	assert_int_equal(read16(p, 1, at(0, 90)), 480);
	assert_int_equal(read16(p, 0, at(0, 90)), 12); /* 16 - 20 % 16 */
}

TEST(test_bcd_is_refused_but_shown)
{
	struct pit8254 *p = fresh();

	program(p, 0, 0x35, 0x0010, 0); /* mode 2, BCD */
	assert_int_equal(pit_next_edge(p, 0, 0), at(0, 16)); /* counted as binary 16 */
	pit_write(p, 0x43, 0xe2, 0);
	assert_int_equal(pit_read(p, 0x40, 0) & 0x3f, 0x35);
}

TEST(test_port61_bits)
{
	struct pit8254 *p = fresh();
	uint8_t a, b;

	a = pit_read(p, 0x61, 0);
	b = pit_read(p, 0x61, 0);
	assert_int_not_equal(a & 0x10, b & 0x10); /* refresh toggles on every read */
	assert_int_equal(a & ~0x10, b & ~0x10);
	pit_write(p, 0x61, 0xff, 0);
	assert_int_equal(pit_read(p, 0x61, 0) & 0xcf, 0x0f); /* bits 6, 7 read 0 */
	pit_write(p, 0x61, 0x02, 0);
	assert_int_equal(pit_read(p, 0x61, 0) & 0x0f, 0x02);
	assert_int_equal(pit_read(p, 0x43, 0), 0xff);
}

/* --- the glue ------------------------------------------------------------------ */

static void glue_setup(void)
{
	fake_vm_reset(1, 64 << 20);
	fake_now = 1000;
	assert_int_equal(fake_create(&pit8254_device, 0x40, 0, 0), 0);
	timer = fake_vm.timers;
	assert_non_null(timer);
	assert_null(timer->next);
}

TEST(test_glue_idle_channel0_arms_nothing)
{
	glue_setup();
	assert_false(timer->armed);
	out8(0x43, 0x34);
	assert_false(timer->armed); /* no count yet */
	out8(0x43, 0xb0);
	out8(0x42, 0x10);
	out8(0x42, 0x00);
	assert_false(timer->armed); /* channel 2 drives no IRQ */
	assert_int_equal(fake_gsi_pulses[0], 0);
}

TEST(test_glue_irq0_periodic)
{
	glue_setup();
	out8(0x43, 0x34);
	out8(0x40, 11932 & 0xff);
	out8(0x40, 11932 >> 8);
	assert_true(timer->armed);
	assert_int_equal(timer->deadline, 1000 + 10000151);
	run_timer(timer->deadline);
	assert_int_equal(fake_gsi_pulses[0], 1);
	assert_int_equal(timer->deadline, at(1000, 2 * 11932));
	run_timer(1000 + 35 * MS); /* late: one pulse, then the next edge to come */
	assert_int_equal(fake_gsi_pulses[0], 2);
	assert_int_equal(timer->deadline, at(1000, 4 * 11932));

	/* Linux's PIT shutdown: mode 0, count 0 (65536): one last edge. */
	fake_now = 40 * MS;
	out8(0x43, 0x30);
	out8(0x40, 0);
	out8(0x40, 0);
	assert_int_equal(timer->deadline, fake_now + 54925402);
	run_timer(timer->deadline);
	assert_int_equal(fake_gsi_pulses[0], 3);
	assert_false(timer->armed);
	assert_int_equal(fake_gsi_pulses[2] + fake_gsi_pulses[8], 0);
}

TEST(test_glue_port61_and_ranges)
{
	glue_setup();
	assert_int_equal(fake_vm.bus.nr_pio, 2);
	assert_null(io_bus_find(&fake_vm.bus, false, 0x60));
	assert_null(io_bus_find(&fake_vm.bus, false, 0x44));
	out8(0x61, 0x01);
	out8(0x43, 0xb0);
	out8(0x42, 100);
	out8(0x42, 0);
	assert_int_equal(in8(0x61) & 0x21, 0x01);
	fake_now = at(1000, 100);
	assert_int_equal(in8(0x61) & 0x21, 0x21);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_calibration_channel2),
		cmocka_unit_test(test_quick_calibration_reads_live_msb),
		cmocka_unit_test(test_gate_holds_and_pauses_mode0),
		cmocka_unit_test(test_mode0_first_byte_stops_the_count),
		cmocka_unit_test(test_mode2_linux_hz100_period),
		cmocka_unit_test(test_mode3_square_wave),
		cmocka_unit_test(test_mode4_linux_oneshot),
		cmocka_unit_test(test_mode1_gate_trigger),
		cmocka_unit_test(test_counter_latch),
		cmocka_unit_test(test_read_back_status),
		cmocka_unit_test(test_bcd_is_refused_but_shown),
		cmocka_unit_test(test_port61_bits),
		cmocka_unit_test(test_glue_idle_channel0_arms_nothing),
		cmocka_unit_test(test_glue_irq0_periodic),
		cmocka_unit_test(test_glue_port61_and_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
