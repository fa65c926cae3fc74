/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/fw_cfg.c: QEMU's fw_cfg as its docs/specs/fw_cfg.rst describes
 * the legacy I/O interface: the signature, the ID, RAM size and CPU counts
 * little-endian, the file directory big-endian with each file's item,
 * reads past an item's end and of absent items as zero, reselecting
 * rewinding; and the device through the bus of the fake VM: a 16-bit
 * write to 0x510 selects, byte reads of 0x511 stream the item.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/fw_cfg.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

static struct fw_cfg f;

static void get(uint16_t key, uint8_t *buf, unsigned n)
{
	fw_cfg_select(&f, key);
	for (unsigned i = 0; i < n; i++)
		buf[i] = fw_cfg_read(&f);
}

static uint64_t le(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static uint64_t be(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

TEST(fixed_items)
{
	uint8_t b[8];

	fw_cfg_init(&f, 0x12345678900ull, 3, 4);
	get(FW_CFG_SIGNATURE, b, 5);
	assert_memory_equal(b, "QEMU", 4);
	assert_int_equal(b[4], 0); /* past the end */
	get(FW_CFG_ID, b, 4);
	assert_int_equal(le(b, 4), 1);
	get(FW_CFG_RAM_SIZE, b, 8);
	assert_int_equal(le(b, 8), 0x12345678900ull);
	get(FW_CFG_NB_CPUS, b, 2);
	assert_int_equal(le(b, 2), 3);
	get(FW_CFG_MAX_CPUS, b, 2);
	assert_int_equal(le(b, 2), 4);
	get(0x1234, b, 4); /* nothing there */
	assert_int_equal(le(b, 4), 0);
}

TEST(selecting_again_rewinds)
{
	uint8_t b[2];

	fw_cfg_init(&f, 0, 1, 1);
	get(FW_CFG_SIGNATURE, b, 2);
	get(FW_CFG_SIGNATURE, b, 2);
	assert_memory_equal(b, "QE", 2);
}

TEST(files_and_directory)
{
	static const char a[] = "hello", c[] = "x";
	uint8_t dir[4 + 64 * 2], b[8];

	fw_cfg_init(&f, 0, 1, 1);
	get(FW_CFG_FILE_DIR, b, 4);
	assert_int_equal(be(b, 4), 0);
	assert_int_equal(fw_cfg_add_file(&f, "etc/a", a, 5), FW_CFG_FILE_FIRST);
	assert_int_equal(fw_cfg_add_file(&f, "opt/c", c, 1), FW_CFG_FILE_FIRST + 1);
	get(FW_CFG_FILE_DIR, dir, sizeof(dir));
	assert_int_equal(be(dir, 4), 2);
	assert_int_equal(be(dir + 4, 4), 5);
	assert_int_equal(be(dir + 8, 2), FW_CFG_FILE_FIRST);
	assert_string_equal((const char *)dir + 12, "etc/a");
	assert_int_equal(be(dir + 68, 4), 1);
	assert_int_equal(be(dir + 72, 2), FW_CFG_FILE_FIRST + 1);
	assert_string_equal((const char *)dir + 76, "opt/c");
	get(FW_CFG_FILE_FIRST, b, 6);
	assert_memory_equal(b, "hello\0", 6);
}

/* A refreshed file is made again each time it is selected, before its
 * first byte is read; selecting other items does not call it. */
static unsigned refreshes;
static uint8_t made[3];

static void remake(void *ctx)
{
	refreshes++;
	made[0] = *(const uint8_t *)ctx;
	made[1] = (uint8_t)refreshes;
}

TEST(refreshed_file)
{
	static const uint8_t seed = 0x42;
	uint8_t b[3];

	refreshes = 0;
	fw_cfg_init(&f, 0, 1, 1);
	assert_int_equal(fw_cfg_add_file(&f, "etc/plain", "p", 1), FW_CFG_FILE_FIRST);
	assert_int_equal(fw_cfg_add_file_refreshed(&f, "etc/made", made, 3, remake, (void *)&seed),
			 FW_CFG_FILE_FIRST + 1);
	get(FW_CFG_FILE_DIR, b, 3);
	get(FW_CFG_FILE_FIRST, b, 1);
	assert_int_equal(refreshes, 0);
	get(FW_CFG_FILE_FIRST + 1, b, 3);
	assert_int_equal(refreshes, 1);
	assert_int_equal(b[0], 0x42);
	assert_int_equal(b[1], 1);
	get(FW_CFG_FILE_FIRST + 1, b, 3);
	assert_int_equal(b[1], 2);
	fw_cfg_select(&f, (uint16_t)(0x8000 | (FW_CFG_FILE_FIRST + 1))); /* an architecture item */
	assert_int_equal(refreshes, 2);
	fw_cfg_select(&f, FW_CFG_FILE_FIRST + 2); /* not there */
	assert_int_equal(refreshes, 2);
}

TEST(file_limits)
{
	char name[FW_CFG_NAME_MAX + 1];

	fw_cfg_init(&f, 0, 1, 1);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	assert_int_equal(fw_cfg_add_file(&f, name, "", 0), -1);
	for (int i = 0; i < FW_CFG_MAX_FILES; i++)
		assert_int_equal(fw_cfg_add_file(&f, "f", "", 0), FW_CFG_FILE_FIRST + i);
	assert_int_equal(fw_cfg_add_file(&f, "f", "", 0), -1);
}

TEST(device_ports)
{
	fake_vm_reset(2, 256 << 20);
	assert_int_equal(fake_create(&fw_cfg_device, 0x510, 0, -1), 0);
	assert_null(io_bus_find(&fake_vm.bus, false, 0x512));
	fake_out(0x510, 2, FW_CFG_SIGNATURE);
	assert_int_equal(fake_in(0x511, 1), 'Q');
	assert_int_equal(fake_in(0x511, 1), 'E');
	fake_out(0x510, 2, FW_CFG_NB_CPUS);
	assert_int_equal(fake_in(0x511, 1), 2);
	fake_out(0x510, 2, FW_CFG_RAM_SIZE);
	uint64_t ram = 0;
	for (int i = 0; i < 8; i++)
		ram |= fake_in(0x511, 1) << (8 * i);
	assert_int_equal(ram, 256 << 20);
	assert_int_equal(fake_in(0x511, 2), 0xffff); /* only byte reads are data */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixed_items),
		cmocka_unit_test(selecting_again_rewinds),
		cmocka_unit_test(files_and_directory),
		cmocka_unit_test(refreshed_file),
		cmocka_unit_test(file_limits),
		cmocka_unit_test(device_ports),
	};
	return cmocka_run_group_tests_name("fw_cfg", tests, NULL, NULL);
}
