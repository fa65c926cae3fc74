/* SPDX-License-Identifier: MIT */
/*
 * QEMU's firmware configuration device (QEMU's docs/specs/fw_cfg.rst),
 * its legacy I/O interface: a 16-bit write to the selector port (the
 * board's, 0x510) picks an item, each byte read from the data port (0x511,
 * or 0x510: the two are one range) returns the item's next byte, zero
 * past its end or for an item that is not there.  Items: the signature
 * "QEMU", the ID (bit 0: this traditional interface; no DMA yet), RAM_SIZE,
 * NB_CPUS, MAX_CPUS and the file directory (big-endian, as QEMU's), with
 * whatever files the VM's boot adds.  A file may be made again each time
 * it is selected (its length fixed), as QEMU makes its ACPI tables when
 * firmware first asks: by then the firmware has set up the chipset they
 * describe.  The model below is pure
 * (tests/unit/test_fw_cfg.c); the device is at the end of hv/dev/fw_cfg.c.
 */
#ifndef PETREL_DEV_FW_CFG_H
#define PETREL_DEV_FW_CFG_H

#include <petrel/device.h>
#include <stdint.h>

#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID 0x0001
#define FW_CFG_RAM_SIZE 0x0003
#define FW_CFG_NB_CPUS 0x0005
#define FW_CFG_MAX_CPUS 0x000f
#define FW_CFG_FILE_DIR 0x0019
#define FW_CFG_FILE_FIRST 0x0020
#define FW_CFG_MAX_FILES 8
#define FW_CFG_NAME_MAX 56

struct fw_cfg {
	uint16_t sel;
	uint32_t off;
	uint8_t sig[4], id[4], ram_size[8], nb_cpus[2], max_cpus[2];
	uint8_t dir[4 + 64 * FW_CFG_MAX_FILES];
	struct {
		const uint8_t *data;
		uint32_t len;
		void (*refresh)(void *ctx); /* called when selected, or NULL */
		void *ctx;
	} file[FW_CFG_MAX_FILES];
	uint32_t nr_files;
};

void fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, uint16_t nb_cpus, uint16_t max_cpus);
/* Adds a file (the data stays the caller's): its item number, or -1. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len);
/* The same, with refresh(ctx) run each time the file is selected. */
int fw_cfg_add_file_refreshed(struct fw_cfg *f, const char *name, const void *data, uint32_t len,
			      void (*refresh)(void *ctx), void *ctx);
void fw_cfg_select(struct fw_cfg *f, uint16_t key);
uint8_t fw_cfg_read(struct fw_cfg *f);

extern const struct device_type fw_cfg_device;

#endif
