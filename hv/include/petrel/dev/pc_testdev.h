/* SPDX-License-Identifier: MIT */
/*
 * QEMU's pc-testdev, for guests written for QEMU (the kvm-unit-tests):
 *   base+0x0 .. +0x3   a 32-bit scratch register, any width at any offset
 *   base+0x4           a 32-bit write of a guest-physical address: QEMU
 *                      unmaps and remaps that page; here nothing to do
 *   base+0x8 .. +0xb   the scratch register again, one byte at a time
 *   0x2000 + n         a byte write sets GSI n (n < 24) high (non-zero) or low
 *   mmio .. +64 KiB    memory that is not RAM: every access is emulated
 * The board puts it at 0xe0 and 0xff000000, as QEMU does.
 */
#ifndef PETREL_DEV_PC_TESTDEV_H
#define PETREL_DEV_PC_TESTDEV_H

#include <petrel/device.h>

#define PC_TESTDEV_IRQ_PORT 0x2000
#define PC_TESTDEV_IOMEM 0x10000

extern const struct device_type pc_testdev_device;

#endif
