/* SPDX-License-Identifier: MIT */
/* hv/dev/lapic.c's timer on the host: the VM clock, the vtimer calls and
 * the MMIO registration are stubbed; registers are written through the
 * MMIO handler the device registers.  Checks the floor on how often a
 * periodic timer interrupts (TIMER_MIN_PERIOD_NS), and that one-shot and
 * slower periodic timers are untouched by it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/apic.h>
#include <petrel/dev.h>
#include <petrel/log.h>
#include <petrel/vm.h>

#define TEST(name) static void name(void **state __attribute__((unused)))
#define SVR 0x0f0
#define LVT_TIMER 0x320
#define TIMER_INIT 0x380
#define TIMER_DIV 0x3e0
#define PERIODIC (1u << 17)
#define VECTOR 0x40

static struct vm vm;
static uint64_t now_ns;
static struct vtimer *timer;
static io_write_fn mmio_write;

uint64_t vm_now_ns(struct vm *v) { (void)v; return now_ns; }
uint64_t tsc_to_ns(uint64_t t) { return t; }
void vtimer_init(struct vtimer *t, struct vm *v, void (*fire)(struct vtimer *, uint64_t), void *ctx)
{
	*t = (struct vtimer){ .vm = v, .fire = fire, .ctx = ctx };
	timer = t;
}
void vtimer_arm(struct vtimer *t, uint64_t deadline) { t->deadline = deadline; t->armed = true; }
void vtimer_cancel(struct vtimer *t) { t->armed = false; }
int vm_register_mmio(struct vm *v, uint64_t base, uint64_t len, io_read_fn rd, io_write_fn wr, void *dev,
		     const char *name)
{
	(void)v, (void)base, (void)len, (void)rd, (void)dev, (void)name;
	mmio_write = wr;
	return 0;
}
void log_printf(int level, const char *fmt, ...) { (void)level, (void)fmt; }
void ioapic_eoi(struct vioapic *io, uint8_t vector) { (void)io, (void)vector; }
bool pic_has_output(const struct pic8259 *p) { (void)p; return false; }
int pic_ack(struct pic8259 *p) { (void)p; return -1; }
struct pic8259 *vm_pic(struct vm *v) { (void)v; return NULL; }

static void reg(uint32_t r, uint32_t val) { mmio_write(NULL, &vm.vcpu[0], r, 4, val); }

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	vm.vcpu[0].vm = &vm;
	now_ns = 1000000;
	assert_int_equal(vlapic_init(&vm.vcpu[0]), 0);
	reg(SVR, 0x1ff);     /* software enabled */
	reg(TIMER_DIV, 0xb); /* divide by 1: one count per ns */
	return 0;
}

/* Fires the timer at its deadline; returns the next deadline (0: none). */
static uint64_t fire(void)
{
	assert_true(timer->armed);
	now_ns = timer->deadline;
	timer->armed = false;
	timer->fire(timer, now_ns);
	return timer->armed ? timer->deadline : 0;
}

TEST(periodic_below_the_floor_interrupts_at_the_floor)
{
	reg(LVT_TIMER, PERIODIC | VECTOR);
	reg(TIMER_INIT, 1); /* a 1 ns period */
	assert_int_equal(timer->deadline, 1000000 + TIMER_MIN_PERIOD_NS);
	uint64_t first = fire();
	assert_int_equal(first, 1000000 + 2 * TIMER_MIN_PERIOD_NS);
	assert_int_equal(vlapic_take_irq(vm.vcpu[0].lapic), VECTOR);
	assert_int_equal(fire(), 1000000 + 3 * TIMER_MIN_PERIOD_NS);
}

TEST(periodic_above_the_floor_keeps_its_period)
{
	reg(LVT_TIMER, PERIODIC | VECTOR);
	reg(TIMER_INIT, 1000000); /* 1 ms */
	assert_int_equal(timer->deadline, 2000000);
	assert_int_equal(fire(), 3000000);
}

TEST(one_shot_is_not_clamped)
{
	reg(LVT_TIMER, VECTOR);
	reg(TIMER_INIT, 5);
	assert_int_equal(timer->deadline, 1000005);
	assert_int_equal(fire(), 0);
	assert_int_equal(vlapic_take_irq(vm.vcpu[0].lapic), VECTOR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(periodic_below_the_floor_interrupts_at_the_floor, setup),
		cmocka_unit_test_setup(periodic_above_the_floor_keeps_its_period, setup),
		cmocka_unit_test_setup(one_shot_is_not_clamped, setup),
	};
	return cmocka_run_group_tests_name("lapic", tests, NULL, NULL);
}
