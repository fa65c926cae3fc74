/* SPDX-License-Identifier: MIT */
/*
 * The host bridge: configuration mechanism #1, the reset control register
 * 0xCF9 and the i440FX function 00:00.0 with its PAM registers
 * (hv/dev/pci_host.c).  The model is pure: state and functions, no calls
 * into the hypervisor, so tests/unit/ drives it; the device (the glue at
 * the end of its file) connects it to the VM's PCI bus and memory map.
 */
#ifndef PETREL_DEV_PCI_HOST_H
#define PETREL_DEV_PCI_HOST_H

#include <petrel/device.h>
#include <stdbool.h>
#include <stdint.h>

#define I440FX_PAM_REGS 7
#define I440FX_SEGMENTS 13 /* 0: 0xf0000-0xfffff; 1-12: 16 KiB from 0xc0000 */

struct pci_host {
	uint32_t addr;         /* CONFIG_ADDRESS (0xCF8) */
	uint8_t rcr;           /* reset control register (0xCF9) */
	uint8_t pam[I440FX_PAM_REGS]; /* 0x59-0x5f */
	uint8_t smram;         /* 0x72 */
};

/* A configuration cycle a CONFIG_DATA access makes. */
struct pci_config_access {
	uint8_t bus, devfn;
	unsigned reg, size;
};

/* PAM at the chip's reset value (firmware), or as a BIOS leaves it. */
void pci_host_reset(struct pci_host *h, bool firmware);
/* CONFIG_ADDRESS and the RCR; everything else in 0xCF8-0xCFF but the data
 * window reads all-ones and drops writes. */
uint32_t pci_host_read(struct pci_host *h, uint16_t port, unsigned size);
enum dev_request pci_host_write(struct pci_host *h, uint16_t port, unsigned size, uint32_t val);
/* Whether an access to `port` of `size` bytes is a configuration cycle
 * (CONFIG_DATA with the enable bit set, not past 0xCFF), and which. */
bool pci_host_data_access(const struct pci_host *h, uint16_t port, unsigned size, struct pci_config_access *a);

/* 00:00.0's registers from 0x40; a write returns the segments whose PAM
 * bits it changed (bit s: segment s). */
uint32_t i440fx_cfg_read(const struct pci_host *h, unsigned reg, unsigned size);
uint32_t i440fx_cfg_write(struct pci_host *h, unsigned reg, unsigned size, uint32_t val);
/* A segment's RE|WE bits (1 RE, 2 WE), and where it lies. */
unsigned i440fx_segment_bits(const uint8_t *pam, unsigned s);
void i440fx_segment(unsigned s, uint64_t *gpa, uint64_t *size);

extern const struct device_type pci_host_device;

#endif
