/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/piix_isa.c: the PIIX3 ISA bridge function on the fake VM's bus:
 * its IDs and class, decoding always on, its registers' reset values and
 * writable bits (PIRQRC as SeaBIOS programs them, and what PIRQ routing
 * reads from them), and 0 for registers it does not have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/piix_isa.h>
#include <petrel/pci.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

static uint32_t rd(unsigned reg, unsigned size)
{
	return vm_pci_config_read(&fake_vm, 0, 0, reg, size);
}

static void wr(unsigned reg, unsigned size, uint32_t val)
{
	vm_pci_config_write(&fake_vm, 0, 0, reg, size, val);
}

TEST(test_header_and_reset_values)
{
	fake_vm_reset(1, 64 << 20);
	assert_int_equal(fake_create(&piix_isa_device, 0, 0, -1), 0);
	assert_int_equal(rd(0x00, 4), 0x70008086);
	assert_int_equal(rd(0x08, 4), 0x06010000);
	assert_int_equal(rd(0x2c, 4), 0x11001af4);
	assert_int_equal(rd(0x04, 2), 0x0007);
	wr(0x04, 2, 0);
	assert_int_equal(rd(0x04, 2), 0x0007); /* a bridge decodes always */
	assert_int_equal(rd(0x60, 4), 0x80808080);
	assert_int_equal(rd(0x4c, 1), 0x4d);
	assert_int_equal(rd(0x69, 1), 0x02);
	assert_int_equal(rd(0x76, 2), 0x0c0c);
	assert_int_equal(rd(0x90, 4), 0);
	wr(0x90, 4, 0xffffffff);
	assert_int_equal(rd(0x90, 4), 0);
}

/* SeaBIOS's piix_isa_bridge_setup: PIRQ A-D to IRQs 10, 10, 11, 11. */
TEST(test_pirq_routing)
{
	struct piix_isa p;

	fake_vm_reset(1, 64 << 20);
	assert_int_equal(fake_create(&piix_isa_device, 0, 0, -1), 0);
	wr(0x60, 1, 10);
	wr(0x61, 1, 10);
	wr(0x62, 2, 0x0b0b);
	assert_int_equal(rd(0x60, 4), 0x0b0b0a0a);
	wr(0x63, 1, 0xff); /* bits 6:4 are reserved */
	assert_int_equal(rd(0x63, 1), 0x8f);

	piix_isa_reset(&p);
	assert_int_equal(piix_isa_pirq(&p, 0), -1);
	piix_isa_cfg_write(&p, 0x60, 4, 0x800b0a05);
	assert_int_equal(piix_isa_pirq(&p, 0), 5);
	assert_int_equal(piix_isa_pirq(&p, 1), 10);
	assert_int_equal(piix_isa_pirq(&p, 2), 11);
	assert_int_equal(piix_isa_pirq(&p, 3), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_reset_values),
		cmocka_unit_test(test_pirq_routing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
