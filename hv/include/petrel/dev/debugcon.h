/* SPDX-License-Identifier: MIT */
/* The firmware debug console at port 0x402 (hv/dev/debugcon.c), like
 * QEMU's isa-debugcon. */
#ifndef PETREL_DEV_DEBUGCON_H
#define PETREL_DEV_DEBUGCON_H

#include <petrel/device.h>

extern const struct device_type debugcon_device;

#endif
