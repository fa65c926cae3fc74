/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration mechanism #1 and the reset control register 0xCF9 (hv/dev/pci_host.c).
 * The model is pure: state and functions that take the VM clock `now`
 * (ns) as an argument, no globals, no calls into the hypervisor, so
 * tests/unit/ drives it with any clock.  The device (the glue at the end
 * of its file) creates one per VM and feeds it vm_now_ns().
 */
#ifndef PETREL_DEV_PCI_HOST_H
#define PETREL_DEV_PCI_HOST_H

#include <petrel/device.h>
#include <stdbool.h>
#include <stdint.h>

struct pci_host {
	uint32_t addr;         /* CONFIG_ADDRESS (0xCF8) */
	uint16_t bridge_cmd;   /* 00:00.0's command register */
	uint8_t rcr;           /* reset control register (0xCF9) */
};

void pci_host_reset(struct pci_host *h);
uint32_t pci_host_read(struct pci_host *h, uint16_t port, unsigned size);  /* 0xCF8-0xCFF */
enum dev_request pci_host_write(struct pci_host *h, uint16_t port, unsigned size, uint32_t val);

extern const struct device_type pci_host_device;

#endif
