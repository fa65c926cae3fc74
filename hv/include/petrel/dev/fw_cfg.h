/* SPDX-License-Identifier: MIT */
/*
 * QEMU's firmware configuration device (QEMU's docs/specs/fw_cfg.rst).
 * The traditional I/O interface: a 16-bit write to the selector port (the
 * board's, 0x510) picks an item, each byte read from the data port (0x511,
 * or 0x510: the two are one range) returns the item's next byte, zero
 * past its end or for an item that is not there.  Items: the signature
 * "QEMU", the ID (bit 0: this traditional interface, bit 1: DMA), RAM_SIZE,
 * NB_CPUS, MAX_CPUS and the file directory (big-endian, as QEMU's), with
 * whatever files the VM's boot adds.
 *
 * The DMA interface (fw_cfg_enable_dma): the guest writes the address of
 * an access structure (be32 control, be32 length, be64 address) into the
 * 8-byte big-endian DMA address register (port 0x514: the high half, then
 * 0x518: the low half, whose write runs the transfer).  Control may
 * select an item (bit 3, the item in bits 16-31), then read (bit 1) length
 * bytes of it to the address, zeros past its end, or skip (bit 2) them;
 * every item is read-only, so a write (bit 4) fails.  At the end control
 * is 0, or the error bit (0) alone: for a write, or a destination that is
 * not all RAM (nothing copied then).  An access structure outside RAM is
 * not answered at all (fw_cfg_dma_write returns false).  The register
 * reads as "QEMU CFG".  A file may be made again each time
 * it is selected (its length fixed), as QEMU makes its ACPI tables when
 * firmware first asks: by then the firmware has set up the chipset they
 * describe.  The model below is pure
 * (tests/unit/test_fw_cfg.c); the device is at the end of hv/dev/fw_cfg.c.
 */
#ifndef PETREL_DEV_FW_CFG_H
#define PETREL_DEV_FW_CFG_H

#include <petrel/device.h>
#include <stdbool.h>
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

#define FW_CFG_DMA_ERROR 0x01
#define FW_CFG_DMA_READ 0x02
#define FW_CFG_DMA_SKIP 0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE 0x10
#define FW_CFG_DMA_PORT_OFFSET 4 /* from the selector port */
#define FW_CFG_DMA_SIGNATURE "QEMU CFG"

/* Guest RAM for [gpa, gpa+len): its host address, or NULL if any of it is
 * not RAM.  `len` is never 0. */
typedef void *(*fw_cfg_map_fn)(void *ctx, uint64_t gpa, uint64_t len);

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
	fw_cfg_map_fn map;       /* DMA: NULL when the interface is off */
	void *map_ctx;
	uint32_t dma_high;       /* the address register's high half, until the low half is written */
	bool dma_warned;         /* the device said once that a structure was outside RAM */
};

void fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, uint16_t nb_cpus, uint16_t max_cpus);
/* Adds a file (the data stays the caller's): its item number, or -1. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len);
/* The same, with refresh(ctx) run each time the file is selected. */
int fw_cfg_add_file_refreshed(struct fw_cfg *f, const char *name, const void *data, uint32_t len,
			      void (*refresh)(void *ctx), void *ctx);
void fw_cfg_select(struct fw_cfg *f, uint16_t key);
uint8_t fw_cfg_read(struct fw_cfg *f);
/* Offers the DMA interface (the ID's bit 1), reaching guest RAM through map. */
void fw_cfg_enable_dma(struct fw_cfg *f, fw_cfg_map_fn map, void *ctx);
/* An access to the DMA address register at off (0-7) of size bytes, as
 * the guest's port access has them (little-endian on x86). */
uint64_t fw_cfg_dma_read(const struct fw_cfg *f, unsigned off, unsigned size);
/* false: the access structure at the address written is not in RAM. */
bool fw_cfg_dma_write(struct fw_cfg *f, unsigned off, unsigned size, uint64_t val);

extern const struct device_type fw_cfg_device;

#endif
