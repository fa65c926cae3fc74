/* SPDX-License-Identifier: MIT */
/*
 * The POST port, port 0x92 and an i8042 just enough to reset (hv/dev/legacy.c).
 * The model is pure: state and functions that take the VM clock `now`
 * (ns) as an argument, no globals, no calls into the hypervisor, so
 * tests/unit/ drives it with any clock.  The device (the glue at the end
 * of its file) creates one per VM and feeds it vm_now_ns().
 */
#ifndef PETREL_DEV_LEGACY_H
#define PETREL_DEV_LEGACY_H

#include <petrel/device.h>
#include <stdbool.h>
#include <stdint.h>

struct legacy_ports {
	uint8_t post;          /* port 0x80 */
	uint8_t port92;
	uint8_t kbc_cmd;       /* an i8042 command waiting for its data byte */
	bool kbc_last_cmd;     /* status bit 3: the last write went to 0x64 */
};

void legacy_reset(struct legacy_ports *l);
uint8_t legacy_read(struct legacy_ports *l, uint16_t port);  /* 0x60, 0x64, 0x80, 0x92 */
/* *why says which reset it was when DEV_REQ_RESET is returned. */
enum dev_request legacy_write(struct legacy_ports *l, uint16_t port, uint8_t val, const char **why);

extern const struct device_type legacy_device;

#endif
