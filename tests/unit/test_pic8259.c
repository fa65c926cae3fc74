/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/pic8259.c: the 8259A pair driven as Linux drives it (init_8259A's
 * ICW sequence, masks, EOIs), fully nested priority through the cascade,
 * edge and level triggering, the spurious IR7, auto-EOI, polling, the
 * rotations, special mask mode and the ELCR; and the glue through the real
 * I/O bus (hv/core/io_bus.c) with vm_register_pio stubbed onto it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/pic8259.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

static struct pic8259 *fresh(void)
{
	static struct pic8259 p;

	pic_reset(&p);
	return &p;
}

/* init_8259A() in arch/x86/kernel/i8259.c, with the vectors at 0x20/0x28. */
static void linux_init(struct pic8259 *p)
{
	pic_write(p, 0x21, 0xff); /* mask everything first */
	pic_write(p, 0xa1, 0xff);
	pic_write(p, 0x20, 0x11); /* ICW1: edge, cascade, ICW4 follows */
	pic_write(p, 0x21, 0x20); /* ICW2: IR0-7 -> 0x20-0x27 */
	pic_write(p, 0x21, 0x04); /* ICW3: slave on IR2 */
	pic_write(p, 0x21, 0x01); /* ICW4: 8086 mode, normal EOI */
	pic_write(p, 0xa0, 0x11);
	pic_write(p, 0xa1, 0x28);
	pic_write(p, 0xa1, 0x02); /* ICW3: slave ID 2 */
	pic_write(p, 0xa1, 0x01);
	pic_write(p, 0x21, 0xfb); /* only the cascade open */
	pic_write(p, 0xa1, 0xff);
}

static uint8_t isr(struct pic8259 *p, uint16_t cmd)
{
	pic_write(p, cmd, 0x0b); /* OCW3: read ISR */
	return pic_read(p, cmd);
}

static uint8_t irr(struct pic8259 *p, uint16_t cmd)
{
	pic_write(p, cmd, 0x0a); /* OCW3: read IRR */
	return pic_read(p, cmd);
}

static void eoi(struct pic8259 *p, uint16_t cmd)
{
	pic_write(p, cmd, 0x20);
}

static void pulse(struct pic8259 *p, unsigned irq)
{
	pic_set_irq(p, irq, true);
	pic_set_irq(p, irq, false);
}

TEST(test_probe_reads_mask_back)
{
	struct pic8259 *p = fresh();

	/* probe_8259A(): write 0xff to the master's IMR, expect it back. */
	pic_write(p, 0x21, 0xff);
	assert_int_equal(pic_read(p, 0x21), 0xff);
	pic_write(p, 0x21, 0x5a);
	assert_int_equal(pic_read(p, 0x21), 0x5a);
	pic_write(p, 0xa1, 0xa5);
	assert_int_equal(pic_read(p, 0xa1), 0xa5);
	assert_int_equal(pic_read(p, 0x21), 0x5a);
}

TEST(test_reset_state_masked)
{
	struct pic8259 *p = fresh();

	for (unsigned irq = 0; irq < 16; irq++)
		pulse(p, irq);
	assert_false(pic_has_output(p));
	assert_int_equal(pic_read(p, 0x21), 0xff);
	assert_int_equal(pic_read(p, 0xa1), 0xff);
}

TEST(test_linux_init_irq0_ack_eoi)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	assert_int_equal(pic_read(p, 0x21), 0xfb);
	assert_false(pic_has_output(p));
	pic_write(p, 0x21, 0xfa); /* unmask IRQ 0 */
	assert_false(pic_has_output(p));

	pulse(p, 0);
	assert_true(pic_has_output(p));
	assert_int_equal(irr(p, 0x20), 0x01);
	assert_int_equal(pic_ack(p), 0x20);
	assert_int_equal(isr(p, 0x20), 0x01);
	assert_int_equal(irr(p, 0x20), 0x00);
	assert_false(pic_has_output(p));

	eoi(p, 0x20);
	assert_int_equal(isr(p, 0x20), 0x00);
	assert_false(pic_has_output(p));

	/* And again: the next tick is delivered after the EOI. */
	pulse(p, 0);
	assert_int_equal(pic_ack(p), 0x20);
	eoi(p, 0x20);
	assert_int_equal(isr(p, 0x20), 0x00);
}

TEST(test_masked_request_waits_in_irr)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	pulse(p, 4);
	assert_false(pic_has_output(p));
	assert_int_equal(irr(p, 0x20), 0x10);
	pic_write(p, 0x21, 0xeb); /* unmask IRQ 4 */
	assert_true(pic_has_output(p));
	assert_int_equal(pic_ack(p), 0x24);
}

TEST(test_priority_irq1_over_irq8_through_cascade)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	pic_write(p, 0x21, 0xf9); /* IRQ 1 and the cascade */
	pic_write(p, 0xa1, 0xfe); /* IRQ 8 */
	pulse(p, 8);
	pulse(p, 1);
	assert_int_equal(irr(p, 0x20), 0x06); /* IR1 and IR2 (the slave's INT) */

	assert_int_equal(pic_ack(p), 0x21);
	/* IR2 ranks below IR1, which is in service. */
	assert_false(pic_has_output(p));
	eoi(p, 0x20);
	assert_true(pic_has_output(p));
	assert_int_equal(pic_ack(p), 0x28);
	assert_int_equal(isr(p, 0x20), 0x04);
	assert_int_equal(isr(p, 0xa0), 0x01);
	assert_int_equal(irr(p, 0xa0), 0x00);
	eoi(p, 0xa0);
	eoi(p, 0x20);
	assert_int_equal(isr(p, 0x20), 0);
	assert_int_equal(isr(p, 0xa0), 0);
	assert_false(pic_has_output(p));
}

TEST(test_slave_in_service_nests_higher_only)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	pic_write(p, 0x21, 0xf2); /* IRQ 0, 2, 3 */
	pic_write(p, 0xa1, 0xfc); /* IRQ 8, 9 */
	pulse(p, 8);
	assert_int_equal(pic_ack(p), 0x28);

	pulse(p, 3); /* lower than IR2 in service: waits */
	assert_false(pic_has_output(p));
	pulse(p, 9); /* lower than IRQ 8 in service on the slave: waits */
	assert_false(pic_has_output(p));
	pulse(p, 0); /* higher: nests */
	assert_true(pic_has_output(p));
	assert_int_equal(pic_ack(p), 0x20);
	eoi(p, 0x20); /* non-specific: the highest in service, IR0 */
	assert_int_equal(isr(p, 0x20), 0x04);

	eoi(p, 0xa0); /* IRQ 8 done: IRQ 9 asks, but the master's IR2 is still in service */
	assert_false(pic_has_output(p));
	eoi(p, 0x20);
	assert_int_equal(pic_ack(p), 0x29);
	eoi(p, 0xa0);
	eoi(p, 0x20);
	assert_int_equal(pic_ack(p), 0x23);
}

TEST(test_level_triggered_reraises_after_eoi)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	pic_write(p, 0x4d1, 0x04); /* IRQ 10 level-triggered */
	pic_write(p, 0xa1, 0xfb);
	pic_set_irq(p, 10, true);
	assert_int_equal(pic_ack(p), 0x2a);
	assert_false(pic_has_output(p));
	eoi(p, 0xa0);
	eoi(p, 0x20);
	/* The line is still high: the request is back. */
	assert_true(pic_has_output(p));
	assert_int_equal(pic_ack(p), 0x2a);
	pic_set_irq(p, 10, false);
	eoi(p, 0xa0);
	eoi(p, 0x20);
	assert_false(pic_has_output(p));
	assert_int_equal(irr(p, 0xa0), 0);
}

TEST(test_level_request_follows_line_before_ack)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	pic_write(p, 0x4d0, 0x20); /* IRQ 5 level */
	pic_write(p, 0x21, 0xdb);
	pic_set_irq(p, 5, true);
	assert_true(pic_has_output(p));
	pic_set_irq(p, 5, false); /* gone before INTA: nothing left to give */
	assert_false(pic_has_output(p));
	assert_int_equal(irr(p, 0x20), 0);
}

TEST(test_edge_needs_a_new_edge)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	pic_write(p, 0x21, 0xf9);
	pic_set_irq(p, 1, true);
	assert_int_equal(pic_ack(p), 0x21);
	eoi(p, 0x20);
	assert_false(pic_has_output(p)); /* held high: no second interrupt */
	pic_set_irq(p, 1, true);
	assert_false(pic_has_output(p));
	pic_set_irq(p, 1, false);
	pic_set_irq(p, 1, true);
	assert_int_equal(pic_ack(p), 0x21);
}

TEST(test_spurious_irq7)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	assert_false(pic_has_output(p));
	assert_int_equal(pic_ack(p), 0x27);
	assert_int_equal(isr(p, 0x20), 0);

	/* A slave level request that drops before INTA: the master has nothing
	 * either, so the answer is the master's IR7, no ISR bit anywhere. */
	pic_write(p, 0x4d1, 0x08); /* IRQ 11 level */
	pic_write(p, 0xa1, 0xf7);
	pic_set_irq(p, 11, true);
	assert_true(pic_has_output(p));
	pic_set_irq(p, 11, false);
	assert_int_equal(pic_ack(p), 0x27);
	assert_int_equal(isr(p, 0x20), 0);
	assert_int_equal(isr(p, 0xa0), 0);
}

TEST(test_auto_eoi)
{
	struct pic8259 *p = fresh();

	pic_write(p, 0x20, 0x11);
	pic_write(p, 0x21, 0x40);
	pic_write(p, 0x21, 0x04);
	pic_write(p, 0x21, 0x03); /* ICW4: 8086, auto-EOI */
	pic_write(p, 0x21, 0xf0);
	pulse(p, 0);
	pulse(p, 3);
	assert_int_equal(pic_ack(p), 0x40);
	assert_int_equal(isr(p, 0x20), 0);
	/* No EOI needed before the lower-priority one. */
	assert_int_equal(pic_ack(p), 0x43);
	assert_false(pic_has_output(p));
}

TEST(test_icw1_without_icw4_or_cascade)
{
	struct pic8259 *p = fresh();

	pic_write(p, 0x20, 0x12); /* single, no ICW4: ICW2 is the last */
	pic_write(p, 0x21, 0x50);
	pic_write(p, 0x21, 0xfe); /* already OCW1 */
	assert_int_equal(pic_read(p, 0x21), 0xfe);
	pulse(p, 0);
	assert_int_equal(pic_ack(p), 0x50);
	assert_int_equal(isr(p, 0x20), 0x01); /* no ICW4: normal EOI */
}

TEST(test_icw1_clears_mask_and_service)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	pic_write(p, 0x21, 0xfa);
	pulse(p, 0);
	assert_int_equal(pic_ack(p), 0x20);
	pulse(p, 5); /* masked, waiting in IRR */
	pic_write(p, 0x20, 0x11);
	assert_int_equal(pic_read(p, 0x21), 0x00); /* IMR cleared (data sheet) */
	pic_write(p, 0x21, 0x30);
	pic_write(p, 0x21, 0x04);
	pic_write(p, 0x21, 0x01);
	assert_int_equal(isr(p, 0x20), 0);
	/* The edge-sense reset dropped the old edge request. */
	assert_false(pic_has_output(p));
	assert_int_equal(irr(p, 0x20), 0);
	pulse(p, 6);
	assert_int_equal(pic_ack(p), 0x36);
}

TEST(test_poll_command)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	pic_write(p, 0x21, 0xf3); /* IRQ 2, 3 */
	pic_write(p, 0x20, 0x0c); /* OCW3: poll */
	assert_int_equal(pic_read(p, 0x20), 0x00);
	pulse(p, 3);
	pic_write(p, 0x20, 0x0c);
	assert_int_equal(pic_read(p, 0x20), 0x83);
	assert_int_equal(isr(p, 0x20), 0x08);
	/* The read after the poll is an ordinary register read again. */
	assert_int_equal(pic_read(p, 0x20), 0x08);
}

TEST(test_specific_eoi_and_rotation)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	pic_write(p, 0x21, 0xe0 & ~0x04); /* IRQ 0-4 */
	pulse(p, 3);
	assert_int_equal(pic_ack(p), 0x23);
	pulse(p, 1);
	assert_int_equal(pic_ack(p), 0x21);
	pic_write(p, 0x20, 0x63); /* specific EOI for IR3 only */
	assert_int_equal(isr(p, 0x20), 0x02);
	pic_write(p, 0x20, 0xa0); /* rotate on non-specific EOI: IR1 becomes lowest */
	assert_int_equal(isr(p, 0x20), 0x00);
	pulse(p, 1);
	pulse(p, 4);
	assert_int_equal(pic_ack(p), 0x24); /* IR2 now highest, then 3, 4, ... 1 last */
	pic_write(p, 0x20, 0xe4); /* rotate on specific EOI 4: IR5 highest */
	pulse(p, 0);
	assert_int_equal(pic_ack(p), 0x20); /* 5, 6, 7 empty; 0 before 1 */
	pic_write(p, 0x20, 0x60);
	pic_write(p, 0x20, 0xc7); /* set priority: IR7 lowest, IR0 highest again */
	pulse(p, 0);
	assert_int_equal(pic_ack(p), 0x20);
}

TEST(test_special_mask_mode)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	pic_write(p, 0x21, 0xf2);
	pulse(p, 0);
	assert_int_equal(pic_ack(p), 0x20);
	pic_write(p, 0x21, 0xf3); /* mask IR0 while it is in service */
	pulse(p, 3);
	assert_false(pic_has_output(p));
	pic_write(p, 0x20, 0x68); /* OCW3: set special mask mode */
	assert_true(pic_has_output(p));
	assert_int_equal(pic_ack(p), 0x23);
	pic_write(p, 0x20, 0x48); /* reset special mask mode */
	pic_write(p, 0x20, 0x63);
	pic_write(p, 0x20, 0x60);
	assert_int_equal(isr(p, 0x20), 0);
}

TEST(test_elcr_reserved_bits)
{
	struct pic8259 *p = fresh();

	pic_write(p, 0x4d0, 0xff);
	pic_write(p, 0x4d1, 0xff);
	assert_int_equal(pic_read(p, 0x4d0), 0xf8); /* IRQ 0, 1, 2 always edge */
	assert_int_equal(pic_read(p, 0x4d1), 0xde); /* IRQ 8, 13 always edge */
	pic_write(p, 0x4d1, 0x00);
	assert_int_equal(pic_read(p, 0x4d1), 0x00);
	assert_int_equal(pic_read(p, 0x22), 0xff);
}

TEST(test_isa_irq2_is_the_cascade)
{
	struct pic8259 *p = fresh();

	linux_init(p);
	pulse(p, 2);
	assert_false(pic_has_output(p));
	assert_int_equal(irr(p, 0x20), 0);
}

/* The device: its ports on the bus, its pins as the VM's PIC chip, its
 * INT line and acknowledge as the VM's ExtINT. */
TEST(test_glue_ports)
{
	void *chip;

	fake_vm_reset(1, 64 << 20);
	assert_int_equal(fake_create(&pic8259_device, 0x20, 0, -1), 0);
	assert_int_equal(fake_vm.bus.nr_pio, 3);
	chip = fake_vm.irq.chip[IRQCHIP_PIC].chip;
	assert_non_null(chip);
	assert_int_equal(fake_in(0x21, 1), 0xfb); /* as a BIOS hands it over */
	assert_int_equal(fake_in(0xa1, 1), 0x00);
	fake_out(0x20, 1, 0x11);
	fake_out(0x21, 1, 0x20);
	fake_out(0x21, 1, 0x04);
	fake_out(0x21, 1, 0x01);
	fake_out(0x20, 2, 0xfe0a); /* a word write: OCW3 at 0x20, OCW1 at 0x21 */
	assert_int_equal(fake_in(0x21, 1), 0xfe);
	fake_out(0x4d1, 1, 0x02);
	assert_int_equal(fake_in(0x4d1, 1), 0x02);
	assert_int_equal(fake_in(0xa1, 1), 0x00);
	assert_false(vm_extint_pending(&fake_vm));
	fake_vm.irq.chip[IRQCHIP_PIC].set_pin(chip, 0, true);
	assert_int_equal(fake_in(0x20, 1), 0x01); /* IRR, as OCW3 selected */
	assert_true(vm_extint_pending(&fake_vm));
	assert_int_equal(vm_extint_ack(&fake_vm), 0x20);
	assert_null(io_bus_find(&fake_vm.bus, false, 0x22));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_reads_mask_back),
		cmocka_unit_test(test_reset_state_masked),
		cmocka_unit_test(test_linux_init_irq0_ack_eoi),
		cmocka_unit_test(test_masked_request_waits_in_irr),
		cmocka_unit_test(test_priority_irq1_over_irq8_through_cascade),
		cmocka_unit_test(test_slave_in_service_nests_higher_only),
		cmocka_unit_test(test_level_triggered_reraises_after_eoi),
		cmocka_unit_test(test_level_request_follows_line_before_ack),
		cmocka_unit_test(test_edge_needs_a_new_edge),
		cmocka_unit_test(test_spurious_irq7),
		cmocka_unit_test(test_auto_eoi),
		cmocka_unit_test(test_icw1_without_icw4_or_cascade),
		cmocka_unit_test(test_icw1_clears_mask_and_service),
		cmocka_unit_test(test_poll_command),
		cmocka_unit_test(test_specific_eoi_and_rotation),
		cmocka_unit_test(test_special_mask_mode),
		cmocka_unit_test(test_elcr_reserved_bits),
		cmocka_unit_test(test_isa_irq2_is_the_cascade),
		cmocka_unit_test(test_glue_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
