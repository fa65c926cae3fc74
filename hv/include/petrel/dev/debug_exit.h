/* SPDX-License-Identifier: MIT */
/* The test-exit port (hv/dev/debug_exit.c), like QEMU's isa-debug-exit. */
#ifndef PETREL_DEV_DEBUG_EXIT_H
#define PETREL_DEV_DEBUG_EXIT_H

#include <petrel/device.h>

extern const struct device_type debug_exit_device;

#endif
