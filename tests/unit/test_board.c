/* SPDX-License-Identifier: MIT */
/*
 * hv/board/board.c: a board's device table made into devices, with a
 * module's devices= list: "-id" leaves a device out, "+id" or "id" adds
 * one that is off by default, unknown ids are refused with their name,
 * a device that fails stops the creation; and pc.c's GSI table as the
 * MADT describes the PC (IRQ 0 on IOAPIC pin 2, the SCI level).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/board.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

static unsigned made[3];
static bool fail_b;

static int create_a(struct vm *vm, const struct board_device *bd) { (void)vm, (void)bd; made[0]++; return 0; }
static int create_b(struct vm *vm, const struct board_device *bd) { (void)vm, (void)bd; made[1]++; return fail_b ? -1 : 0; }
static int create_c(struct vm *vm, const struct board_device *bd) { (void)vm, (void)bd; made[2]++; return 0; }
static const struct device_type ta = { "a", create_a }, tb = { "b", create_b }, tc = { "c", create_c };

static const struct board_device devs[] = {
	{ &ta, "alpha", .gsi = -1 },
	{ &tb, "beta", .gsi = -1 },
	{ &tc, "gamma", .gsi = -1, .off = true },
};
static const struct board test_board = { .name = "test", .devices = devs, .nr_devices = 3 };

static void create(const char *list, int want_rc)
{
	memset(made, 0, sizeof(made));
	fake_vm_reset(1, 64 << 20);
	assert_int_equal(board_create_devices(&fake_vm, &test_board, list), want_rc);
}

TEST(defaults)
{
	create(NULL, 0);
	assert_true(made[0] == 1 && made[1] == 1 && made[2] == 0);
	create("", 0);
	assert_true(made[0] == 1 && made[1] == 1 && made[2] == 0);
}

TEST(leave_out_and_add)
{
	create("-beta", 0);
	assert_true(made[0] == 1 && made[1] == 0 && made[2] == 0);
	create("+gamma,-alpha", 0);
	assert_true(made[0] == 0 && made[1] == 1 && made[2] == 1);
	create("gamma", 0);
	assert_int_equal(made[2], 1);
	create("-gamma", 0);
	assert_int_equal(made[2], 0);
	create("-alph,-betas", 0); /* not prefixes: nothing left out (check_devices refuses them) */
	assert_true(made[0] == 1 && made[1] == 1);
}

TEST(a_failing_device_stops_creation)
{
	fail_b = true;
	create(NULL, -1);
	fail_b = false;
	assert_int_equal(made[2], 0);
}

TEST(check)
{
	char err[96];

	assert_int_equal(board_check_devices(&test_board, NULL, err, sizeof(err)), 0);
	assert_int_equal(board_check_devices(&test_board, "", err, sizeof(err)), 0);
	assert_int_equal(board_check_devices(&test_board, "-alpha,+gamma,beta", err, sizeof(err)), 0);
	assert_int_equal(board_check_devices(&test_board, "-alpha,delta", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'delta'"));
	assert_non_null(strstr(err, "test board"));
	assert_int_equal(board_check_devices(&test_board, "-alph", err, sizeof(err)), -1);
	assert_int_equal(board_check_devices(&test_board, ",alpha", err, sizeof(err)), -1); /* an empty id */
}

TEST(pc_gsi_table)
{
	assert_int_equal(pc_board.gsi[0].pic, 0);
	assert_int_equal(pc_board.gsi[0].ioapic, 2);
	assert_int_equal(pc_board.gsi[2].ioapic, -1); /* the cascade */
	assert_true(pc_board.gsi[pc_board.sci_gsi].level);
	for (unsigned g = 3; g < 16; g++)
		assert_true(pc_board.gsi[g].pic == (int)g && pc_board.gsi[g].ioapic == (int)g);
	for (unsigned g = 16; g < NR_GSI; g++)
		assert_true(pc_board.gsi[g].pic == -1 && pc_board.gsi[g].ioapic == (int)g);
	for (unsigned i = 0; i < pc_board.nr_devices; i++)
		assert_non_null(pc_board.devices[i].type->create);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(leave_out_and_add),
		cmocka_unit_test(a_failing_device_stops_creation),
		cmocka_unit_test(check),
		cmocka_unit_test(pc_gsi_table),
	};
	return cmocka_run_group_tests_name("board", tests, NULL, NULL);
}
