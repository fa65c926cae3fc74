/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/pc_testdev.c over the fake VM: the scratch register at every
 * width and offset (and bytewise at +8), the flush port taking writes,
 * the IRQ ports setting and clearing GSIs byte by byte (an OUTL to 0x200b
 * is four byte writes, as kvm-unit-tests' realmode does it), and the
 * 64 KiB of emulated memory at 0xff000000 keeping what is written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/pc_testdev.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))
#define MEM 0xff000000ull

static int setup(void **state)
{
	(void)state;
	fake_vm_reset(1, 64 << 20);
	assert_int_equal(fake_create(&pc_testdev_device, 0xe0, MEM, -1), 0);
	return 0;
}

TEST(scratch_register)
{
	fake_out(0xe0, 4, 0x12345678);
	assert_int_equal(fake_in(0xe0, 4), 0x12345678);
	assert_int_equal(fake_in(0xe0, 2), 0x5678);
	assert_int_equal(fake_in(0xe2, 2), 0x1234);
	assert_int_equal(fake_in(0xe1, 1), 0x56);
	fake_out(0xe3, 1, 0xab);
	assert_int_equal(fake_in(0xe0, 4), 0xab345678);
	fake_out(0xe1, 2, 0xcdef);
	assert_int_equal(fake_in(0xe0, 4), 0xabcdef78);
	assert_int_equal(fake_in(0xea, 1), 0xcd); /* the same register, bytewise */
	fake_out(0xe8, 1, 0x01);
	assert_int_equal(fake_in(0xe0, 4), 0xabcdef01);
	fake_out(0xe4, 4, 0x1000); /* the page flush: nothing to do, nothing changes */
	assert_int_equal(fake_in(0xe0, 4), 0xabcdef01);
}

TEST(irq_lines)
{
	fake_out(0x2004, 1, 1);
	assert_true(fake_gsi_level[4]);
	fake_out(0x2004, 1, 0);
	assert_false(fake_gsi_level[4]);
	fake_gsi_level[12] = true;
	fake_out(0x200b, 4, 1); /* IRQ 11 high, 12-14 low */
	assert_true(fake_gsi_level[11]);
	assert_false(fake_gsi_level[12]);
	fake_out(0x200b, 4, 0);
	assert_false(fake_gsi_level[11]);
	assert_int_equal(fake_gsi_rises[11], 1);
	fake_out(0x2017, 1, 0x80); /* GSI 23 */
	assert_true(fake_gsi_level[23]);
	assert_null(io_bus_find(&fake_vm.bus, false, 0x2018));
}

TEST(iomem)
{
	struct vcpu *v = &fake_vm.vcpu[0];

	assert_int_equal(fake_mmio_read(v, MEM, 8), 0);
	fake_mmio_write(v, MEM + 0x10, 8, 0x1122334455667788ull);
	assert_int_equal(fake_mmio_read(v, MEM + 0x10, 8), 0x1122334455667788ull);
	assert_int_equal(fake_mmio_read(v, MEM + 0x13, 2), 0x4455);
	fake_mmio_write(v, MEM + 0xfffc, 4, 0xdeadbeef);
	assert_int_equal(fake_mmio_read(v, MEM + 0xfffc, 4), 0xdeadbeef);
	assert_null(io_bus_find(&fake_vm.bus, true, MEM + 0x10000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(scratch_register, setup),
		cmocka_unit_test_setup(irq_lines, setup),
		cmocka_unit_test_setup(iomem, setup),
	};
	return cmocka_run_group_tests_name("pc_testdev", tests, NULL, NULL);
}
