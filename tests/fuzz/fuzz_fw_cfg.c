/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for fw_cfg's DMA interface (hv/dev/fw_cfg.c): the
 * input is a count n, n 16-bit addresses of access structures, then the
 * guest's RAM (8 KiB at most), all the driver's to choose; the device
 * offers a short file and one that is made again on each select.  Each
 * address is written to the DMA register as a guest does (high half, then
 * low), and the structure's outcome checked:
 *  - every access the device makes is inside the RAM (ASan: the RAM is a
 *    heap copy of exactly its size), a map is never asked for 0 bytes;
 *  - a structure inside RAM is answered, one outside is not;
 *  - an answered structure's control is 0 or the error bit alone;
 *  - the item offset never passes the end of the selected item. */
#include <stdlib.h>
#include <string.h>

#include <petrel/dev/fw_cfg.h>

#include "fuzz.h"

static uint8_t *ram;
static size_t ram_size;
static uint8_t made[40];
static unsigned refreshes;

static void *map(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	CHECK(len > 0);
	if (gpa >= ram_size || len > ram_size - gpa)
		return NULL;
	return ram + gpa;
}

static void remake(void *ctx)
{
	(void)ctx;
	memset(made, (int)++refreshes, sizeof(made));
}

/* The selected item's length, as the traditional interface sees it. */
static uint32_t item_len(struct fw_cfg *f)
{
	uint16_t key = f->sel & 0x3fff;

	if (f->sel & 0x8000)
		return 0;
	switch (key) {
	case FW_CFG_SIGNATURE: case FW_CFG_ID: return 4;
	case FW_CFG_RAM_SIZE: return 8;
	case FW_CFG_NB_CPUS: case FW_CFG_MAX_CPUS: return 2;
	case FW_CFG_FILE_DIR: return 4 + 64 * f->nr_files;
	default:
		return key >= FW_CFG_FILE_FIRST && key - FW_CFG_FILE_FIRST < (int)f->nr_files ?
			       f->file[key - FW_CFG_FILE_FIRST].len : 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fw_cfg f;
	size_t n, head;

	if (size < 1)
		return 0;
	n = data[0] % 16;
	head = 1 + 2 * n;
	if (size < head + 16 || size - head > 8192)
		return 0;
	ram_size = size - head;
	ram = malloc(ram_size);
	memcpy(ram, data + head, ram_size);
	fw_cfg_init(&f, 1 << 20, 2, 2);
	fw_cfg_enable_dma(&f, map, NULL);
	CHECK(fw_cfg_add_file(&f, "etc/short", "abc", 3) == FW_CFG_FILE_FIRST);
	CHECK(fw_cfg_add_file_refreshed(&f, "etc/made", made, sizeof(made), remake, NULL) == FW_CFG_FILE_FIRST + 1);
	for (size_t i = 0; i < n; i++) {
		uint64_t gpa = (uint64_t)data[1 + 2 * i] | (uint64_t)data[2 + 2 * i] << 8;
		bool inside = gpa + 16 <= ram_size;
		CHECK(fw_cfg_dma_write(&f, 0, 4, 0));
		CHECK(fw_cfg_dma_write(&f, 4, 4, __builtin_bswap32((uint32_t)gpa)) == inside);
		if (inside)
			CHECK(ram[gpa] == 0 && ram[gpa + 1] == 0 && ram[gpa + 2] == 0 &&
			      (ram[gpa + 3] & ~FW_CFG_DMA_ERROR) == 0);
		CHECK(f.off <= item_len(&f));
	}
	free(ram);
	return 0;
}
