/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/legacy.c: the POST port, port 0x92 (A20 kept, fast reset), and the
 * 8042 stub's status, its reset commands (0xFE, and 0xD1 with the reset
 * line low) and the commands it ignores; and the glue's four ports through
 * the real I/O bus, with vm_request_reset stubbed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/legacy.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

static struct legacy_ports *fresh(void)
{
	static struct legacy_ports l;

	legacy_reset(&l);
	return &l;
}

static enum dev_request wr(struct legacy_ports *l, uint16_t port, uint8_t val, const char **why)
{
	*why = NULL;
	return legacy_write(l, port, val, why);
}

TEST(test_post_code)
{
	struct legacy_ports *l = fresh();
	const char *why;

	assert_int_equal(legacy_read(l, 0x80), 0);
	assert_int_equal(wr(l, 0x80, 0x42, &why), DEV_REQ_NONE);
	assert_int_equal(legacy_read(l, 0x80), 0x42);
	assert_int_equal(wr(l, 0x80, 0xaa, &why), DEV_REQ_NONE);
	assert_int_equal(legacy_read(l, 0x80), 0xaa);
	assert_null(why);
}

TEST(test_port92)
{
	struct legacy_ports *l = fresh();
	const char *why;

	assert_int_equal(legacy_read(l, 0x92), 0x02); /* A20 on */
	/* arch/x86/boot/a20.c's enable_a20_fast(): set bit 1, clear bit 0. */
	assert_int_equal(wr(l, 0x92, (legacy_read(l, 0x92) | 0x02) & ~0x01, &why), DEV_REQ_NONE);
	assert_int_equal(wr(l, 0x92, 0x00, &why), DEV_REQ_NONE);
	assert_int_equal(legacy_read(l, 0x92), 0x00); /* kept, though A20 stays on */
	assert_int_equal(wr(l, 0x92, 0xc2, &why), DEV_REQ_NONE);
	assert_int_equal(legacy_read(l, 0x92), 0xc2);
	assert_int_equal(wr(l, 0x92, 0x03, &why), DEV_REQ_RESET);
	assert_string_equal(why, "port 0x92 fast reset");
	assert_int_equal(legacy_read(l, 0x92), 0x02); /* bit 0 reads 0 */
}

TEST(test_kbc_status_and_data)
{
	struct legacy_ports *l = fresh();
	const char *why;

	assert_int_equal(legacy_read(l, 0x64), 0x1c);
	assert_int_equal(legacy_read(l, 0x64) & 0x03, 0); /* nothing to read, room to write */
	assert_int_equal(legacy_read(l, 0x60), 0x00);
	assert_int_equal(wr(l, 0x60, 0xf4, &why), DEV_REQ_NONE);
	assert_int_equal(legacy_read(l, 0x64), 0x14); /* A2: the last write was data */
	/* Self-test, read/write the command byte, disable the ports: ignored. */
	static const uint8_t cmds[] = { 0xaa, 0x20, 0x60, 0xad, 0xa7, 0xd4, 0xf0, 0xff };
	for (unsigned i = 0; i < sizeof(cmds); i++) {
		assert_int_equal(wr(l, 0x64, cmds[i], &why), DEV_REQ_NONE);
		assert_int_equal(legacy_read(l, 0x64), 0x1c);
		assert_int_equal(legacy_read(l, 0x60), 0x00);
	}
	assert_int_equal(wr(l, 0x60, 0x00, &why), DEV_REQ_NONE); /* bit 0 clear, but no 0xD1 */
	assert_null(why);
}

TEST(test_kbc_reset)
{
	struct legacy_ports *l = fresh();
	const char *why;

	/* native_machine_emergency_restart(), BOOT_KBD: wait for IBF clear, 0xFE. */
	assert_int_equal(legacy_read(l, 0x64) & 0x02, 0);
	assert_int_equal(wr(l, 0x64, 0xfe, &why), DEV_REQ_RESET);
	assert_string_equal(why, "keyboard controller reset (0x64 <- 0xfe)");
}

TEST(test_kbc_output_port_reset)
{
	struct legacy_ports *l = fresh();
	const char *why;

	assert_int_equal(wr(l, 0x64, 0xd1, &why), DEV_REQ_NONE);
	assert_int_equal(wr(l, 0x60, 0xdf, &why), DEV_REQ_NONE); /* A20 on, reset line high */
	assert_int_equal(wr(l, 0x64, 0xd1, &why), DEV_REQ_NONE);
	assert_int_equal(wr(l, 0x64, 0xad, &why), DEV_REQ_NONE); /* another command: 0xD1 dropped */
	assert_int_equal(wr(l, 0x60, 0xde, &why), DEV_REQ_NONE);
	assert_int_equal(wr(l, 0x64, 0xd1, &why), DEV_REQ_NONE);
	assert_int_equal(wr(l, 0x60, 0xde, &why), DEV_REQ_RESET);
	assert_string_equal(why, "keyboard controller output port reset");
	assert_int_equal(wr(l, 0x60, 0xde, &why), DEV_REQ_NONE); /* the argument was consumed */
}

TEST(test_other_ports)
{
	struct legacy_ports *l = fresh();
	const char *why;

	assert_int_equal(legacy_read(l, 0x61), 0xff);
	assert_int_equal(wr(l, 0x61, 0xff, &why), DEV_REQ_NONE);
	assert_int_equal(legacy_read(l, 0x93), 0xff);
}

/* --- the glue ------------------------------------------------------------------ */

TEST(test_glue)
{
	fake_vm_reset(1, 64 << 20);
	assert_int_equal(fake_create(&legacy_device, 0x60, 0, -1), 0);
	assert_int_equal(fake_vm.bus.nr_pio, 4);
	assert_null(io_bus_find(&fake_vm.bus, false, 0x61)); /* the PIT's */
	assert_null(io_bus_find(&fake_vm.bus, false, 0x81));
	fake_out(0x80, 1, 0x99);
	assert_int_equal(fake_in(0x80, 1), 0x99);
	assert_int_equal(fake_in(0x64, 1), 0x1c);
	assert_int_equal(fake_in(0x60, 1), 0x00);
	assert_int_equal(fake_resets, 0);
	fake_out(0x64, 1, 0xfe);
	assert_int_equal(fake_resets, 1);
	assert_string_equal(fake_reset_why, "keyboard controller reset (0x64 <- 0xfe)");
	fake_out(0x92, 1, 0x01);
	assert_int_equal(fake_resets, 2);
	assert_string_equal(fake_reset_why, "port 0x92 fast reset");
	assert_int_equal(fake_in(0x92, 1), 0x00);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_post_code),
		cmocka_unit_test(test_port92),
		cmocka_unit_test(test_kbc_status_and_data),
		cmocka_unit_test(test_kbc_reset),
		cmocka_unit_test(test_kbc_output_port_reset),
		cmocka_unit_test(test_other_ports),
		cmocka_unit_test(test_glue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
