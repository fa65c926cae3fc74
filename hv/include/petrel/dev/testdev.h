/* SPDX-License-Identifier: MIT */
/* Petrel's own test device (hv/dev/testdev.c): a latch, a FIFO and a periodic raw-vector tick for the test guests. */
#ifndef PETREL_DEV_TESTDEV_H
#define PETREL_DEV_TESTDEV_H

#include <petrel/device.h>

extern const struct device_type testdev_device;

#endif
