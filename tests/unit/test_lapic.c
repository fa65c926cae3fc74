/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/lapic.c over the fake VM (fake_vm.h): registers written through
 * the MMIO page it claims, its MSRs, its interrupt source on the vCPU.
 * Checks the floor on how often a periodic timer interrupts
 * (TIMER_MIN_PERIOD_NS) while one-shot and slower periodic timers keep
 * their periods; IA32_APIC_BASE's modes (disable resets the APIC and
 * hides the page, re-enabling starts it software-disabled, the
 * transitions the CPU refuses #GP); IPIs by destination between two
 * vCPUs; level-triggered EOIs reaching the VM; the 8259 through LINT0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/apic.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))
#define BASE 0xfee00000ull
#define REG_ID 0x020
#define TPR 0x080
#define EOI 0x0b0
#define LDR 0x0d0
#define DFR 0x0e0
#define SVR 0x0f0
#define ICR_LO 0x300
#define ICR_HI 0x310
#define LVT_TIMER 0x320
#define LVT_LINT0 0x350
#define TIMER_INIT 0x380
#define TIMER_DIV 0x3e0
#define PERIODIC (1u << 17)
#define VECTOR 0x40
#define MSR_APIC_BASE 0x1b
#define EN (1ull << 11)
#define EXTD (1ull << 10)
#define BSP (1ull << 8)

static struct vtimer *timer; /* vCPU 0's */

static struct vcpu *cpu(unsigned i) { return &fake_vm.vcpu[i]; }
static void reg_on(unsigned c, uint32_t r, uint32_t val) { fake_mmio_write(cpu(c), BASE + r, 4, val); }
static uint32_t get_on(unsigned c, uint32_t r) { return (uint32_t)fake_mmio_read(cpu(c), BASE + r, 4); }
static void reg(uint32_t r, uint32_t val) { reg_on(0, r, val); }
static bool pending(unsigned c) { return cpu(c)->irq[0].pending(cpu(c)->irq[0].ctx); }
static int take(unsigned c) { return cpu(c)->irq[0].take(cpu(c)->irq[0].ctx); }

static void create(uint32_t nr_vcpus)
{
	fake_vm_reset(nr_vcpus, 64 << 20);
	fake_now = 1000000;
	assert_int_equal(fake_create(&lapic_device, 0, BASE, -1), 0);
	/* one timer per vCPU, the list newest first */
	timer = fake_vm.timers;
	for (uint32_t i = 1; i < nr_vcpus; i++)
		timer = timer->next;
	for (uint32_t i = 0; i < nr_vcpus; i++) {
		assert_non_null(cpu(i)->apic);
		reg_on(i, SVR, 0x1ff); /* software enabled */
	}
	reg(TIMER_DIV, 0xb); /* divide by 1: one count per ns */
}

static int setup(void **state)
{
	(void)state;
	create(1);
	return 0;
}

/* Fires the timer at its deadline; returns the next deadline (0: none). */
static uint64_t fire(void)
{
	assert_true(timer->armed);
	fake_now = timer->deadline;
	timer->armed = false;
	timer->fire(timer, fake_now);
	return timer->armed ? timer->deadline : 0;
}

TEST(periodic_below_the_floor_interrupts_at_the_floor)
{
	reg(LVT_TIMER, PERIODIC | VECTOR);
	reg(TIMER_INIT, 1); /* a 1 ns period */
	assert_int_equal(timer->deadline, 1000000 + TIMER_MIN_PERIOD_NS);
	uint64_t first = fire();
	assert_int_equal(first, 1000000 + 2 * TIMER_MIN_PERIOD_NS);
	assert_int_equal(take(0), VECTOR);
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
	assert_int_equal(take(0), VECTOR);
}

TEST(apic_base_at_power_on)
{
	uint64_t v;

	assert_int_equal(fake_rdmsr(cpu(0), MSR_APIC_BASE, &v), 0);
	assert_int_equal(v, BASE | EN | BSP);
	assert_int_equal(get_on(0, REG_ID) >> 24, 0);
}

TEST(apic_base_disable_resets_and_reenable_starts_sw_disabled)
{
	uint64_t v;

	reg(TPR, 0x20);
	reg(LVT_TIMER, PERIODIC | VECTOR);
	reg(TIMER_INIT, 1000000);
	assert_true(timer->armed);
	assert_int_equal(fake_wrmsr(cpu(0), MSR_APIC_BASE, BASE | BSP), 0); /* disable */
	assert_false(timer->armed);
	assert_int_equal(get_on(0, TPR), 0xffffffffu); /* the page reads as nothing */
	reg(TPR, 0x30);                                 /* and takes no writes */
	assert_int_equal(fake_wrmsr(cpu(0), MSR_APIC_BASE, BASE | BSP | EN), 0);
	assert_int_equal(get_on(0, TPR), 0);            /* reset, not the 0x20 or 0x30 */
	assert_int_equal(get_on(0, SVR), 0xff);         /* software-disabled */
	assert_int_equal(get_on(0, LVT_TIMER), 0x10000); /* masked */
	assert_int_equal(fake_rdmsr(cpu(0), MSR_APIC_BASE, &v), 0);
	assert_int_equal(v, BASE | EN | BSP);
}

TEST(apic_base_refused_transitions)
{
	/* EXTD without EN; reserved bits; x2APIC while CPUID hides it */
	assert_int_equal(fake_wrmsr(cpu(0), MSR_APIC_BASE, BASE | EXTD), -1);
	assert_int_equal(fake_wrmsr(cpu(0), MSR_APIC_BASE, BASE | EN | (1ull << 9)), -1);
	assert_int_equal(fake_wrmsr(cpu(0), MSR_APIC_BASE, BASE | EN | EXTD), -1);
	fake_x2apic = true;
	assert_int_equal(fake_wrmsr(cpu(0), MSR_APIC_BASE, BASE | EN | EXTD), 0);
	/* x2APIC straight back to xAPIC is not a transition the CPU makes */
	assert_int_equal(fake_wrmsr(cpu(0), MSR_APIC_BASE, BASE | EN), -1);
	assert_int_equal(fake_wrmsr(cpu(0), MSR_APIC_BASE, BASE), 0);
	/* nor is disabled straight to x2APIC */
	assert_int_equal(fake_wrmsr(cpu(0), MSR_APIC_BASE, BASE | EN | EXTD), -1);
	assert_int_equal(fake_wrmsr(cpu(0), MSR_APIC_BASE, BASE | EN), 0);
}

TEST(ipi_reaches_only_its_destination)
{
	create(2);
	assert_int_equal(get_on(1, REG_ID) >> 24, 1); /* each vCPU sees its own APIC */
	reg_on(0, ICR_HI, 1u << 24);
	reg_on(0, ICR_LO, 0x4000 | 0x51); /* fixed, physical, assert, vector 0x51 */
	assert_false(pending(0));
	assert_true(pending(1));
	assert_int_equal(take(1), 0x51);
	reg_on(0, ICR_LO, (2u << 18) | 0x4000 | 0x52); /* all including self */
	assert_int_equal(take(0), 0x52);
	assert_false(pending(1)); /* 0x51 in service blocks its class */
	reg_on(1, EOI, 0);
	assert_int_equal(take(1), 0x52);
	reg_on(0, EOI, 0);
	reg_on(1, EOI, 0);
	reg_on(0, ICR_LO, (3u << 18) | 0x4000 | 0x63); /* all excluding self */
	assert_false(pending(0));
	assert_int_equal(take(1), 0x63);
}

/* INIT-SIPI-SIPI as an OS sends it: INIT assert resets the target's APIC
 * (software-disabled again, its base kept) and latches INIT in the vCPU;
 * the INIT level de-assert does nothing; each SIPI latches its vector. */
TEST(init_and_sipi_reach_the_vcpu)
{
	create(3);
	reg_on(2, TPR, 0x20);
	reg_on(0, ICR_HI, 2u << 24);
	reg_on(0, ICR_LO, 0x4500); /* INIT, physical, assert, edge */
	assert_int_equal(fake_inits, 1);
	assert_true(cpu(2)->init_pending);
	assert_false(cpu(1)->init_pending);
	assert_int_equal(get_on(2, TPR), 0);
	assert_int_equal(get_on(2, SVR) & 0x100, 0);
	assert_true(cpu(2)->apic_ops->enabled(cpu(2)->apic)); /* IA32_APIC_BASE.EN kept */
	reg_on(0, ICR_LO, 0x8500); /* INIT level de-assert: nothing */
	assert_int_equal(fake_inits, 1);
	reg_on(0, ICR_LO, 0x4600 | 0x9a); /* SIPI, vector 0x9a */
	assert_int_equal(fake_sipis, 1);
	assert_true(cpu(2)->sipi_pending);
	assert_int_equal(cpu(2)->sipi_vector, 0x9a);
	/* all excluding self: both APs */
	reg_on(0, ICR_LO, (3u << 18) | 0x4500);
	assert_int_equal(fake_inits, 3);
	assert_true(cpu(1)->init_pending);
	assert_false(cpu(0)->init_pending);
}

TEST(level_eoi_reaches_the_vm)
{
	struct apic_msg m = { .dest = 0, .vector = 0x61, .level = true };

	vm_send_apic_msg(&fake_vm, &m);
	assert_int_equal(take(0), 0x61);
	reg(EOI, 0);
	assert_int_equal(fake_eois, 1);
	assert_int_equal(fake_last_eoi, 0x61);
	m.level = false;
	vm_send_apic_msg(&fake_vm, &m);
	assert_int_equal(take(0), 0x61);
	reg(EOI, 0);
	assert_int_equal(fake_eois, 1); /* an edge vector's EOI goes nowhere */
}

TEST(tpr_blocks_lower_classes)
{
	struct apic_msg m = { .dest = 0, .vector = 0x45 };

	reg(TPR, 0x50);
	vm_send_apic_msg(&fake_vm, &m);
	assert_false(pending(0));
	cpu(0)->apic_ops->set_tpr(cpu(0)->apic, 0x30); /* CR8 = 3 */
	assert_true(pending(0));
	assert_int_equal(cpu(0)->apic_ops->get_tpr(cpu(0)->apic), 0x30);
	assert_int_equal(get_on(0, TPR), 0x30);
}

/* Lowest priority (SDM vol. 3A §11.6.2.4): one APIC of those addressed
 * takes it, the one with the lowest priority; among equals, the next one
 * after the last chosen. */
TEST(lowest_priority_goes_to_one_apic)
{
	struct apic_msg m = { .dest = 0x7, .logical = true, .vector = 0x71, .mode = 1 };

	create(3);
	for (unsigned c = 0; c < 3; c++) {
		reg_on(c, DFR, 0xffffffffu); /* flat model */
		reg_on(c, LDR, (1u << c) << 24);
	}
	reg_on(0, TPR, 0x40);
	reg_on(1, TPR, 0x20);
	reg_on(2, TPR, 0x30);
	vm_send_apic_msg(&fake_vm, &m);
	assert_false(pending(0));
	assert_false(pending(2));
	assert_int_equal(take(1), 0x71);
	reg_on(1, EOI, 0);
	reg_on(1, TPR, 0x30); /* 1 and 2 tie: 1 was chosen last, so 2 */
	vm_send_apic_msg(&fake_vm, &m);
	assert_false(pending(0));
	assert_false(pending(1));
	assert_int_equal(take(2), 0x71);
	reg_on(2, EOI, 0);
	vm_send_apic_msg(&fake_vm, &m); /* then 1 again: 0's priority is higher */
	assert_false(pending(0));
	assert_false(pending(2));
	assert_int_equal(take(1), 0x71);
	m.dest = 0x1; /* one APIC addressed: that one, whatever its priority */
	vm_send_apic_msg(&fake_vm, &m);
	assert_int_equal(take(0), 0x71);
}

static bool pic_int;
static bool pic_pending(void *ctx) { (void)ctx; return pic_int; }
static int pic_ack(void *ctx) { (void)ctx; pic_int = false; return 0x20; }

TEST(the_8259_through_lint0)
{
	vm_set_extint(&fake_vm, pic_pending, pic_ack, NULL);
	pic_int = true;
	assert_true(pending(0)); /* LINT0 is ExtINT at power-on */
	assert_int_equal(take(0), 0x20);
	reg(LVT_LINT0, 0x10700); /* masked */
	pic_int = true;
	assert_false(pending(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(periodic_below_the_floor_interrupts_at_the_floor, setup),
		cmocka_unit_test_setup(periodic_above_the_floor_keeps_its_period, setup),
		cmocka_unit_test_setup(one_shot_is_not_clamped, setup),
		cmocka_unit_test_setup(apic_base_at_power_on, setup),
		cmocka_unit_test_setup(apic_base_disable_resets_and_reenable_starts_sw_disabled, setup),
		cmocka_unit_test_setup(apic_base_refused_transitions, setup),
		cmocka_unit_test_setup(ipi_reaches_only_its_destination, setup),
		cmocka_unit_test_setup(init_and_sipi_reach_the_vcpu, setup),
		cmocka_unit_test_setup(level_eoi_reaches_the_vm, setup),
		cmocka_unit_test_setup(tpr_blocks_lower_classes, setup),
		cmocka_unit_test_setup(lowest_priority_goes_to_one_apic, setup),
		cmocka_unit_test_setup(the_8259_through_lint0, setup),
	};
	return cmocka_run_group_tests_name("lapic", tests, NULL, NULL);
}
