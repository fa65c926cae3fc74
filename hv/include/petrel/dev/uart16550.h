/* SPDX-License-Identifier: MIT */
/* The guest's COM1, a 16550A UART (hv/dev/uart16550.c), wired to Petrel's serial console. */
#ifndef PETREL_DEV_UART16550_H
#define PETREL_DEV_UART16550_H

#include <petrel/device.h>

extern const struct device_type uart16550_device;

#endif
