/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/fw_cfg.c: QEMU's fw_cfg as its docs/specs/fw_cfg.rst describes
 * the legacy I/O interface: the signature, the ID, RAM size and CPU counts
 * little-endian, the file directory big-endian with each file's item,
 * reads past an item's end and of absent items as zero, reselecting
 * rewinding; the DMA interface: the address register's two big-endian
 * halves, select, read with zeros past the end, skip, writes and
 * destinations outside RAM failing with the error bit, a structure outside
 * RAM unanswered; and the device through the bus of the fake VM: a 16-bit
 * write to 0x510 selects, byte reads of 0x511 stream the item, DMA at 0x514.
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
#define FW_CFG_FIRST_FILE_SELECT(i) ((uint32_t)(FW_CFG_FILE_FIRST + (i)) << 16 | FW_CFG_DMA_SELECT)

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

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
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
	/* DMA at 0x514-0x51b: the ID says so; a read by DMA into the VM's RAM */
	fake_out(0x510, 2, FW_CFG_ID);
	assert_int_equal(fake_in(0x511, 1), 3);
	assert_int_equal(fake_in(0x514, 4), le((const uint8_t *)"QEMU", 4));
	put_be(fake_ram + 0x500, FW_CFG_DMA_SELECT | FW_CFG_DMA_READ | (FW_CFG_NB_CPUS << 16), 4);
	put_be(fake_ram + 0x504, 2, 4);
	put_be(fake_ram + 0x508, 0x600, 8);
	fake_out(0x514, 4, 0);
	fake_out(0x518, 4, __builtin_bswap32(0x500));
	assert_int_equal(le(fake_ram + 0x600, 2), 2);
	assert_int_equal(be(fake_ram + 0x500, 4), 0);
	assert_null(io_bus_find(&fake_vm.bus, false, 0x51c));
}

/* --- DMA --- */

static uint8_t ram[0x2000];

static void *map(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	assert_true(len > 0);
	return gpa < sizeof(ram) && len <= sizeof(ram) - gpa ? ram + gpa : NULL;
}

/* An access structure at gpa, then the address written as a guest's
 * port writes give it: each 4-byte half byte-swapped (cpu_to_be32). */
static bool dma(uint64_t gpa, uint32_t ctl, uint32_t len, uint64_t dst)
{
	if (gpa + 16 <= sizeof(ram)) {
		put_be(ram + gpa, ctl, 4);
		put_be(ram + gpa + 4, len, 4);
		put_be(ram + gpa + 8, dst, 8);
	}
	assert_true(fw_cfg_dma_write(&f, 0, 4, __builtin_bswap32((uint32_t)(gpa >> 32))));
	return fw_cfg_dma_write(&f, 4, 4, __builtin_bswap32((uint32_t)gpa));
}

static void dma_setup(void)
{
	memset(ram, 0xaa, sizeof(ram));
	fw_cfg_init(&f, 0x40000000, 2, 2);
	fw_cfg_enable_dma(&f, map, NULL);
}

TEST(dma_id_and_signature)
{
	uint8_t b[4];

	fw_cfg_init(&f, 0, 1, 1);
	get(FW_CFG_ID, b, 4);
	assert_int_equal(le(b, 4), 1);
	dma_setup();
	get(FW_CFG_ID, b, 4);
	assert_int_equal(le(b, 4), 3); /* traditional and DMA */
	/* the register reads "QEMU CFG" byte by byte, in any width */
	assert_int_equal(fw_cfg_dma_read(&f, 0, 4), le((const uint8_t *)"QEMU", 4));
	assert_int_equal(fw_cfg_dma_read(&f, 4, 4), le((const uint8_t *)" CFG", 4));
	assert_int_equal(fw_cfg_dma_read(&f, 5, 1), 'C');
	assert_int_equal(fw_cfg_dma_read(&f, 6, 4), ~0ull);
}

TEST(dma_select_read_skip)
{
	static const char a[] = "0123456789";

	dma_setup();
	fw_cfg_add_file(&f, "etc/a", a, 10);
	/* select and read 4: control becomes 0 */
	assert_true(dma(0x100, FW_CFG_FIRST_FILE_SELECT(0) | FW_CFG_DMA_READ, 4, 0x1000));
	assert_memory_equal(ram + 0x1000, "0123", 4);
	assert_int_equal(be(ram + 0x100, 4), 0);
	assert_int_equal(ram[0x1004], 0xaa); /* nothing past the length */
	/* skip 3, read on without selecting; then past the end: zeros */
	assert_true(dma(0x100, FW_CFG_DMA_SKIP, 3, 0));
	assert_true(dma(0x100, FW_CFG_DMA_READ, 6, 0x1000));
	assert_memory_equal(ram + 0x1000, "789\0\0\0", 6);
	assert_int_equal(be(ram + 0x100, 4), 0);
	/* the traditional port goes on from where DMA left: past the end */
	assert_int_equal(fw_cfg_read(&f), 0);
	/* an item that is not there reads as zeros; the signature by DMA */
	assert_true(dma(0x100, 0x12340000 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 2, 0x1000));
	assert_memory_equal(ram + 0x1000, "\0\0", 2);
	assert_true(dma(0x100, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 4, 0x1000));
	assert_memory_equal(ram + 0x1000, "QEMU", 4);
	/* select alone rewinds; a zero-length read does nothing */
	assert_true(dma(0x100, FW_CFG_FIRST_FILE_SELECT(0), 0, 0));
	assert_true(dma(0x100, FW_CFG_DMA_READ, 0, 0xffffffffffffull));
	assert_int_equal(be(ram + 0x100, 4), 0);
	assert_int_equal(fw_cfg_read(&f), '0');
	/* the high half resets after each transfer: a lone low-half write
	 * names an address below 4 GiB */
	put_be(ram + 0x200, FW_CFG_DMA_READ, 4);
	put_be(ram + 0x204, 1, 4);
	put_be(ram + 0x208, 0x1100, 8);
	assert_true(fw_cfg_dma_write(&f, 4, 4, __builtin_bswap32(0x200)));
	assert_int_equal(ram[0x1100], '1');
}

TEST(dma_errors)
{
	static const char a[] = "abc";

	dma_setup();
	fw_cfg_add_file(&f, "etc/a", a, 3);
	/* a write: no item takes one; the error bit alone remains */
	assert_true(dma(0x100, FW_CFG_FIRST_FILE_SELECT(0) | FW_CFG_DMA_WRITE, 3, 0x1000));
	assert_int_equal(be(ram + 0x100, 4), FW_CFG_DMA_ERROR);
	assert_int_equal(a[0], 'a');
	/* a destination not all in RAM: error, nothing copied */
	assert_true(dma(0x100, FW_CFG_FIRST_FILE_SELECT(0) | FW_CFG_DMA_READ, 3, sizeof(ram) - 2));
	assert_int_equal(be(ram + 0x100, 4), FW_CFG_DMA_ERROR);
	assert_int_equal(ram[sizeof(ram) - 2], 0xaa);
	assert_true(dma(0x100, FW_CFG_DMA_READ, 0xffffffff, 0x1000));
	assert_int_equal(be(ram + 0x100, 4), FW_CFG_DMA_ERROR);
	assert_true(dma(0x100, FW_CFG_DMA_READ, 16, 0xfffffffffffffff8ull));
	assert_int_equal(be(ram + 0x100, 4), FW_CFG_DMA_ERROR);
	/* the structure itself outside RAM, or astride its end: unanswered */
	assert_false(dma(sizeof(ram) - 8, FW_CFG_DMA_READ, 1, 0));
	assert_false(dma(0x100000000ull, FW_CFG_DMA_READ, 1, 0));
	/* accesses other than the two 4-byte halves do nothing */
	put_be(ram + 0x100, FW_CFG_DMA_READ, 4);
	assert_true(fw_cfg_dma_write(&f, 4, 2, 0x0001));
	assert_true(fw_cfg_dma_write(&f, 7, 1, 0x00));
	assert_int_equal(be(ram + 0x100, 4), FW_CFG_DMA_READ);
	/* without DMA enabled, nothing happens */
	fw_cfg_init(&f, 0, 1, 1);
	assert_true(dma(0x100, FW_CFG_DMA_READ, 1, 0x1000));
	assert_int_equal(be(ram + 0x100, 4), FW_CFG_DMA_READ);
}

/* The item of the file called name, by the ports, or -1. */
static int find_file(const char *name)
{
	uint8_t e[64];
	uint32_t n;

	fake_out(0x510, 2, FW_CFG_FILE_DIR);
	n = 0;
	for (int i = 0; i < 4; i++)
		n = n << 8 | (uint32_t)fake_in(0x511, 1);
	for (uint32_t i = 0; i < n; i++) {
		for (int j = 0; j < 64; j++)
			e[j] = (uint8_t)fake_in(0x511, 1);
		if (!strcmp((const char *)e + 8, name))
			return (int)be(e + 4, 2);
	}
	return -1;
}

static bool never(void *dev) { (void)dev; return false; }
static void drop(void *dev, uint8_t c) { (void)dev, (void)c; }

/* A firmware VM gets SeaBIOS's serial console on its console's port (and
 * the table-loader's files); a kernel VM, or one without a console, not. */
TEST(firmware_files)
{
	static const struct console_ops ops = { .input_ready = never, .input = drop };
	int key;

	fake_vm_reset(1, 1 << 20);
	vm_set_console(&fake_vm, &ops, NULL, 0x3f8);
	assert_int_equal(fake_create(&fw_cfg_device, 0x510, 0, -1), 0);
	assert_int_equal(find_file("etc/sercon-port"), -1);
	assert_true(find_file("etc/e820") >= FW_CFG_FILE_FIRST);

	fake_vm_reset(1, 1 << 20);
	fake_vm.rom_size = 0x20000;
	vm_set_console(&fake_vm, &ops, NULL, 0x3f8);
	assert_int_equal(fake_create(&fw_cfg_device, 0x510, 0, -1), 0);
	assert_true(find_file("etc/table-loader") >= FW_CFG_FILE_FIRST);
	key = find_file("etc/sercon-port");
	assert_true(key >= FW_CFG_FILE_FIRST);
	fake_out(0x510, 2, (uint64_t)key);
	assert_int_equal(fake_in(0x511, 1), 0xf8);
	assert_int_equal(fake_in(0x511, 1), 0x03);
	assert_int_equal(fake_in(0x511, 1), 0); /* two bytes, little-endian */
	assert_int_equal(find_file("bootorder"), -1); /* nothing to boot from */

	/* the boot devices, a path per line, ending in a NUL */
	fake_vm_reset(1, 1 << 20);
	fake_vm.rom_size = 0x20000;
	assert_int_equal(vm_add_boot_device(&fake_vm, "/pci@i0cf8/scsi@3/disk@0,0"), 0);
	assert_int_equal(vm_add_boot_device(&fake_vm, "/x@1"), 0);
	assert_int_equal(fake_create(&fw_cfg_device, 0x510, 0, -1), 0);
	key = find_file("bootorder");
	assert_true(key >= FW_CFG_FILE_FIRST);
	fake_out(0x510, 2, (uint64_t)key);
	{
		static const char want[] = "/pci@i0cf8/scsi@3/disk@0,0\n/x@1";
		for (unsigned i = 0; i < sizeof(want); i++) /* the NUL too */
			assert_int_equal(fake_in(0x511, 1), (uint8_t)want[i]);
	}

	fake_vm_reset(1, 1 << 20);
	fake_vm.rom_size = 0x20000;
	assert_int_equal(fake_create(&fw_cfg_device, 0x510, 0, -1), 0);
	assert_int_equal(find_file("etc/sercon-port"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixed_items),
		cmocka_unit_test(selecting_again_rewinds),
		cmocka_unit_test(files_and_directory),
		cmocka_unit_test(refreshed_file),
		cmocka_unit_test(file_limits),
		cmocka_unit_test(dma_id_and_signature),
		cmocka_unit_test(dma_select_read_skip),
		cmocka_unit_test(dma_errors),
		cmocka_unit_test(device_ports),
		cmocka_unit_test(firmware_files),
	};
	return cmocka_run_group_tests_name("fw_cfg", tests, NULL, NULL);
}
