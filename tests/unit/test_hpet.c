/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/hpet.c: the HPET against the clock, through the glue over the
 * fake VM.  The capabilities, the 100 MHz main counter (start, stop,
 * write, 32-bit halves), one-shot timers in 64-bit and 32-bit mode (which
 * matches again when the low half comes round), Linux's periodic set-up
 * (VAL_SET, comparator, period) with missed periods coalesced and the
 * interrupt floor, level-triggered status and its line, legacy
 * replacement taking GSIs 0 and 8, routes it cannot take, and what a
 * guest writing anything reads back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/hpet.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))
#define BASE 0xfed00000ull
#define US 1000ull
#define MS 1000000ull

static uint64_t rd64(uint32_t off) { return fake_mmio_read(NULL, BASE + off, 8); }
static uint32_t rd32(uint32_t off) { return (uint32_t)fake_mmio_read(NULL, BASE + off, 4); }
static void wr64(uint32_t off, uint64_t v) { fake_mmio_write(NULL, BASE + off, 8, v); }
static void wr32(uint32_t off, uint32_t v) { fake_mmio_write(NULL, BASE + off, 4, v); }

static void setup(void)
{
	fake_vm_reset(1, 64 * MS);
	assert_int_equal(fake_create(&hpet_device, 0, BASE, -1), 0);
}

/* The earliest armed timer's deadline, 0 if none is armed. */
static uint64_t next_deadline(void)
{
	uint64_t best = 0;

	for (struct vtimer *t = fake_vm.timers; t; t = t->next)
		if (t->armed && (!best || t->deadline < best))
			best = t->deadline;
	return best;
}

static uint64_t route(unsigned pin) { return (uint64_t)pin << HPET_TN_ROUTE_SHIFT; }

TEST(test_capabilities)
{
	uint64_t cap;

	setup();
	cap = rd64(HPET_GCAP_ID);
	assert_int_equal(cap & 0xff, 1);                 /* REV_ID */
	assert_int_equal((cap >> 8) & 0x1f, HPET_TIMERS - 1);
	assert_true(cap & (1u << 13));                    /* 64-bit counter */
	assert_true(cap & (1u << 15));                    /* legacy replacement */
	assert_int_equal((cap >> 16) & 0xffff, 0x8086);
	assert_int_equal(cap >> 32, 10000000);             /* 10 ns in fs */
	assert_int_equal(rd32(HPET_GCAP_ID + 4), 10000000);
	wr64(HPET_GCAP_ID, 0);                            /* read-only */
	assert_int_equal(rd64(HPET_GCAP_ID), cap);
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		uint64_t c = rd64(HPET_TN_CONF(n));
		assert_int_equal(c >> 32, HPET_ROUTE_CAP);
		assert_true(c & HPET_TN_PER_CAP);
		assert_true(c & HPET_TN_SIZE_CAP);
		assert_false(c & (1u << 15));             /* no FSB delivery */
		assert_int_equal(rd64(HPET_TN_CMP(n)), ~0ull);
	}
	/* the reserved space and the FSB routes read 0, writes are dropped */
	wr64(0x0f8, ~0ull);
	wr64(HPET_TN_FSB(0), ~0ull);
	assert_int_equal(rd64(0x0f8), 0);
	assert_int_equal(rd64(HPET_TN_FSB(0)), 0);
	assert_int_equal(rd64(0x3f8), 0);
}

TEST(test_counter_runs_at_100mhz_only_while_enabled)
{
	setup();
	fake_now = 5 * MS;
	assert_int_equal(rd64(HPET_MAIN_CNT), 0);
	wr64(HPET_GEN_CONF, HPET_CONF_ENABLE | 0xfc);     /* reserved bits stay 0 */
	assert_int_equal(rd64(HPET_GEN_CONF), HPET_CONF_ENABLE);
	fake_now += 1 * MS;
	assert_int_equal(rd64(HPET_MAIN_CNT), 100000);
	fake_now += 19;                                   /* whole ticks only */
	assert_int_equal(rd64(HPET_MAIN_CNT), 100001);
	wr64(HPET_GEN_CONF, 0);                           /* stop: the count stays */
	fake_now += 1 * MS;
	assert_int_equal(rd64(HPET_MAIN_CNT), 100001);
	/* written while stopped, in halves */
	wr32(HPET_MAIN_CNT + 4, 0x1);
	wr32(HPET_MAIN_CNT, 0xfffffff0);
	assert_int_equal(rd64(HPET_MAIN_CNT), 0x1fffffff0ull);
	wr64(HPET_GEN_CONF, HPET_CONF_ENABLE);
	fake_now += 200;                                  /* 20 ticks: the low half carries */
	assert_int_equal(rd32(HPET_MAIN_CNT), 0x4);
	assert_int_equal(rd32(HPET_MAIN_CNT + 4), 0x2);
	assert_int_equal(rd64(HPET_MAIN_CNT), 0x200000004ull);
}

TEST(test_oneshot_64bit_interrupts_once)
{
	setup();
	wr64(HPET_TN_CONF(0), HPET_TN_INT_ENB | route(20));
	wr64(HPET_TN_CMP(0), 1000);                       /* 10 us */
	assert_int_equal(next_deadline(), 0);             /* the counter is stopped */
	wr64(HPET_GEN_CONF, HPET_CONF_ENABLE);
	assert_int_equal(next_deadline(), 10 * US);
	fake_run_timers(10 * US - 1);
	assert_int_equal(fake_gsi_rises[20], 0);
	fake_run_timers(10 * US);
	assert_int_equal(fake_gsi_rises[20], 1);
	assert_false(fake_gsi_level[20]);                 /* an edge */
	assert_int_equal(next_deadline(), 0);             /* next in 2^64 ticks */
	assert_int_equal(rd64(HPET_TN_CMP(0)), 1000);     /* one-shot: unchanged */
	assert_int_equal(rd64(HPET_GINTR_STA), 0);        /* edge: no status */
}

TEST(test_oneshot_32bit_matches_when_low_half_comes_round)
{
	setup();
	wr64(HPET_GEN_CONF, HPET_CONF_ENABLE);
	fake_now = 1 * MS;                                /* counter 100000 */
	wr64(HPET_TN_CONF(1), HPET_TN_INT_ENB | HPET_TN_32BIT | route(21));
	wr64(HPET_TN_CMP(1), 0x1234500000000ull + 100500);
	assert_int_equal(rd64(HPET_TN_CMP(1)), 100500);  /* 32 bits wide */
	assert_int_equal(next_deadline(), 1 * MS + 5 * US);
	fake_run_timers(1 * MS + 5 * US);
	assert_int_equal(fake_gsi_rises[21], 1);
	assert_int_equal(next_deadline(), 1 * MS + 5 * US + (1ull << 32) * 10);
	/* a comparator behind the counter: next time round, not now */
	wr32(HPET_TN_CMP(1), 100000);
	assert_int_equal(next_deadline(), 1 * MS + (1ull << 32) * 10);
	/* interrupt off: nothing armed; edges are not recorded */
	wr64(HPET_TN_CONF(1), HPET_TN_32BIT | route(21));
	assert_int_equal(next_deadline(), 0);
}

/* Linux's hpet_clkevt_set_state_periodic(): the timer's configuration
 * with PERIODIC, VAL_SET, 32-bit and the interrupt on, the comparator
 * (now + delta), then delta again for the period. */
TEST(test_periodic_linux_setup_and_missed_periods)
{
	const uint32_t delta = 100000; /* 1 ms */
	uint32_t start;

	setup();
	wr64(HPET_GEN_CONF, HPET_CONF_ENABLE);
	fake_now = 3 * MS;
	start = rd32(HPET_MAIN_CNT);
	assert_int_equal(start, 300000);
	wr32(HPET_TN_CONF(0),
	     HPET_TN_PERIODIC | HPET_TN_VAL_SET | HPET_TN_INT_ENB | HPET_TN_32BIT | (uint32_t)route(22));
	wr32(HPET_TN_CMP(0), start + delta);
	wr32(HPET_TN_CMP(0), delta);
	assert_false(rd64(HPET_TN_CONF(0)) & HPET_TN_VAL_SET); /* cleared by the write */
	assert_int_equal(rd32(HPET_TN_CMP(0)), start + delta);
	for (unsigned i = 1; i <= 5; i++) {
		assert_int_equal(next_deadline(), 3 * MS + i * MS);
		fake_run_timers(3 * MS + i * MS);
		assert_int_equal(fake_gsi_rises[22], i);
		assert_int_equal(rd32(HPET_TN_CMP(0)), start + (i + 1) * delta);
	}
	/* the VM is not run for 10.5 ms: one interrupt, comparator past now */
	fake_run_timers(8 * MS + 10 * MS + 500 * US);
	assert_int_equal(fake_gsi_rises[22], 6);
	assert_int_equal(rd32(HPET_TN_CMP(0)), start + 16 * delta);
	assert_int_equal(next_deadline(), 19 * MS);
	/* stopping the counter stops the interrupts; restarting resumes them
	 * where the count was */
	wr64(HPET_GEN_CONF, 0);
	assert_int_equal(next_deadline(), 0);
	fake_now = 100 * MS;
	wr64(HPET_GEN_CONF, HPET_CONF_ENABLE);
	assert_int_equal(next_deadline(), 100 * MS + 500 * US);
}

TEST(test_short_period_is_floored)
{
	setup();
	wr64(HPET_GEN_CONF, HPET_CONF_ENABLE);
	wr64(HPET_TN_CONF(2), HPET_TN_PERIODIC | HPET_TN_VAL_SET | HPET_TN_INT_ENB | route(23));
	wr64(HPET_TN_CMP(2), 100);                        /* 1 us from 0, every 1 us */
	assert_int_equal(next_deadline(), 1 * US);
	fake_run_timers(1 * US);
	assert_int_equal(fake_gsi_rises[23], 1);
	/* the next interrupt no sooner than TIMER_MIN_PERIOD_NS later ... */
	assert_int_equal(next_deadline(), 1 * US + TIMER_MIN_PERIOD_NS);
	fake_run_timers(1 * US + TIMER_MIN_PERIOD_NS);
	assert_int_equal(fake_gsi_rises[23], 2);
	/* ... while the comparator moves at the programmed rate */
	assert_int_equal(rd64(HPET_TN_CMP(2)), 100 * (2 + TIMER_MIN_PERIOD_NS / US));
}

TEST(test_level_status_and_line)
{
	setup();
	wr64(HPET_GEN_CONF, HPET_CONF_ENABLE);
	wr64(HPET_TN_CONF(1), HPET_TN_LEVEL | HPET_TN_INT_ENB | route(20));
	wr64(HPET_TN_CMP(1), 500);
	fake_run_timers(5 * US);
	assert_true(fake_gsi_level[20]);
	assert_int_equal(rd64(HPET_GINTR_STA), 2);
	assert_int_equal(next_deadline(), 0);
	wr64(HPET_GINTR_STA, 1);                          /* another bit: no effect */
	assert_true(fake_gsi_level[20]);
	wr64(HPET_GINTR_STA, 2);                          /* write 1 to clear */
	assert_false(fake_gsi_level[20]);
	assert_int_equal(rd64(HPET_GINTR_STA), 0);
	/* interrupt off: the status is still set, the line stays low */
	wr64(HPET_TN_CONF(1), HPET_TN_LEVEL | route(20));
	wr64(HPET_TN_CMP(1), 1500);
	fake_now = 20 * US;
	assert_int_equal(rd64(HPET_GINTR_STA), 2);
	assert_false(fake_gsi_level[20]);
	/* turning it on raises the line; moving the route moves it */
	wr64(HPET_TN_CONF(1), HPET_TN_LEVEL | HPET_TN_INT_ENB | route(20));
	assert_true(fake_gsi_level[20]);
	wr64(HPET_TN_CONF(1), HPET_TN_LEVEL | HPET_TN_INT_ENB | route(21));
	assert_false(fake_gsi_level[20]);
	assert_true(fake_gsi_level[21]);
	/* switching to edge drops the status and the line */
	wr64(HPET_TN_CONF(1), HPET_TN_INT_ENB | route(21));
	assert_false(fake_gsi_level[21]);
	assert_int_equal(rd64(HPET_GINTR_STA), 0);
}

TEST(test_legacy_replacement_takes_irq0_and_irq8)
{
	setup();
	wr64(HPET_GEN_CONF, HPET_CONF_LEG_RT);            /* not yet: needs ENABLE too */
	assert_false(fake_gsi_taken[0]);
	wr64(HPET_GEN_CONF, HPET_CONF_LEG_RT | HPET_CONF_ENABLE);
	assert_true(fake_gsi_taken[0]);
	assert_true(fake_gsi_taken[8]);
	assert_int_equal(rd64(HPET_GEN_CONF), HPET_CONF_LEG_RT | HPET_CONF_ENABLE);
	/* timer 0 to IRQ 0 and timer 1 to IRQ 8, whatever their routes say */
	wr64(HPET_TN_CONF(0), HPET_TN_INT_ENB | route(20));
	wr64(HPET_TN_CMP(0), 100);
	wr64(HPET_TN_CONF(1), HPET_TN_INT_ENB | route(3));
	wr64(HPET_TN_CMP(1), 200);
	fake_run_timers(2 * US);
	assert_int_equal(fake_gsi_rises[0], 1);
	assert_int_equal(fake_gsi_rises[8], 1);
	assert_int_equal(fake_gsi_rises[20], 0);
	/* given back */
	wr64(HPET_GEN_CONF, HPET_CONF_ENABLE);
	assert_false(fake_gsi_taken[0]);
	assert_false(fake_gsi_taken[8]);
}

TEST(test_route_it_cannot_take_loses_interrupts)
{
	setup();
	wr64(HPET_GEN_CONF, HPET_CONF_ENABLE);
	wr64(HPET_TN_CONF(0), HPET_TN_INT_ENB | route(5)); /* not in 20-23 */
	assert_int_equal(rd64(HPET_TN_CONF(0)) & HPET_TN_ROUTE_MASK, route(5));
	wr64(HPET_TN_CMP(0), 100);
	fake_run_timers(1 * US);
	for (unsigned g = 0; g < NR_GSI; g++)
		assert_int_equal(fake_gsi_rises[g], 0);
}

/* Garbage: every register written with all-ones and random words; what
 * reads back stays within the register's bits and nothing crashes. */
TEST(test_garbage_writes)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	setup();
	for (uint32_t off = 0; off < HPET_MMIO_SIZE; off += 4)
		wr32(off, 0xffffffff);
	assert_int_equal(rd64(HPET_GEN_CONF), HPET_CONF_ENABLE | HPET_CONF_LEG_RT);
	assert_int_equal(rd64(HPET_GINTR_STA) & ~7ull, 0);
	for (unsigned n = 0; n < HPET_TIMERS; n++)
		assert_int_equal(rd64(HPET_TN_CONF(n)) & 0xffffffffull & ~(uint64_t)0x3f7e, 0);
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		fake_now += x & 0xffff;
		if (x & 1)
			wr64((uint32_t)(x >> 8) % HPET_MMIO_SIZE & ~7u, x * 0x2545f4914f6cdd1dull);
		else
			(void)rd32((uint32_t)(x >> 8) % HPET_MMIO_SIZE & ~3u);
		fake_run_timers(fake_now);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_counter_runs_at_100mhz_only_while_enabled),
		cmocka_unit_test(test_oneshot_64bit_interrupts_once),
		cmocka_unit_test(test_oneshot_32bit_matches_when_low_half_comes_round),
		cmocka_unit_test(test_periodic_linux_setup_and_missed_periods),
		cmocka_unit_test(test_short_period_is_floored),
		cmocka_unit_test(test_level_status_and_line),
		cmocka_unit_test(test_legacy_replacement_takes_irq0_and_irq8),
		cmocka_unit_test(test_route_it_cannot_take_loses_interrupts),
		cmocka_unit_test(test_garbage_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
