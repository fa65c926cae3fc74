/* SPDX-License-Identifier: MIT */
/*
 * The 8254 PIT and port 0x61 (hv/dev/pit8254.c): the model and its device.
 * The model is pure: state and functions that take the VM clock `now`
 * (ns) as an argument, no globals, no calls into the hypervisor, so
 * tests/unit/ drives it with any clock.  The device (the glue at the end
 * of its file) creates one per VM and feeds it vm_now_ns().
 */
#ifndef PETREL_DEV_PIT8254_H
#define PETREL_DEV_PIT8254_H

#include <petrel/device.h>
#include <stdbool.h>
#include <stdint.h>

#define PIT_CLOCK_HZ 1193182u

struct pit_channel {
	uint8_t mode;          /* 0-5 */
	uint8_t access;        /* 1 lsb, 2 msb, 3 lsb then msb */
	uint8_t ctrl;          /* the control word's bits 5:0, for the status byte */
	uint32_t reload;       /* 1..65536 (a written 0 means 65536) */
	bool armed;            /* modes 1, 5: a count waits for a gate trigger */
	bool loaded;           /* the counting element holds a count */
	bool running;          /* counting now (gate, trigger) */
	bool gate;
	bool null_count;
	uint64_t start;        /* VM ns when the current run began */
	uint64_t base_ticks;   /* ticks counted before `start` (modes 0, 4 paused by the gate) */
	bool write_msb, read_msb;
	uint8_t write_lsb;
	bool latched, status_latched;
	uint16_t latch;
	uint8_t status;
};

struct pit8254 {
	struct pit_channel ch[3];
	uint8_t port61;        /* bits 3:0 as written: gate 2, speaker, NMI enables */
	bool refresh;          /* port 0x61 bit 4 */
};

void pit_reset(struct pit8254 *p);
uint8_t pit_read(struct pit8254 *p, uint16_t port, uint64_t now);   /* 0x40-0x43, 0x61 */
void pit_write(struct pit8254 *p, uint16_t port, uint8_t val, uint64_t now);
void pit_set_gate(struct pit8254 *p, unsigned ch, bool level, uint64_t now);
bool pit_out(const struct pit8254 *p, unsigned ch, uint64_t now);
/* VM ns of the next rising edge of OUT after `now`, 0 if none will come
 * without the guest reprogramming the channel. */
uint64_t pit_next_edge(const struct pit8254 *p, unsigned ch, uint64_t now);

extern const struct device_type pit8254_device;

#endif
