/* SPDX-License-Identifier: MIT */
/*
 * The 8259A PIC pair (hv/dev/pic8259.c): the model and its device.
 * The model is pure: state and functions that take the VM clock `now`
 * (ns) as an argument, no globals, no calls into the hypervisor, so
 * tests/unit/ drives it with any clock.  The device (the glue at the end
 * of its file) creates one per VM and feeds it vm_now_ns().
 */
#ifndef PETREL_DEV_PIC8259_H
#define PETREL_DEV_PIC8259_H

#include <petrel/device.h>
#include <stdbool.h>
#include <stdint.h>

struct pic8259_chip {
	uint8_t irr, isr, imr;
	uint8_t lines;       /* input levels, for edge detection */
	uint8_t elcr;        /* 1 = level-triggered (ELCR, 0x4d0/0x4d1) */
	uint8_t base;        /* ICW2: vector of IR0 (low 3 bits 0) */
	uint8_t icw3;
	uint8_t init_step;   /* 0 = ready; 2, 3, 4 = expecting that ICW */
	uint8_t prio;        /* the IR with the highest priority (rotation) */
	bool single, need_icw4, auto_eoi, rotate_on_aeoi;
	bool read_isr, poll, special_mask;
};

struct pic8259 {
	struct pic8259_chip chip[2]; /* master 0x20, slave 0xa0 on master IR2 */
};

void pic_reset(struct pic8259 *p);
void pic_set_irq(struct pic8259 *p, unsigned irq, bool level); /* ISA IRQ 0-15 */
bool pic_has_output(const struct pic8259 *p);                  /* INT to the CPU */
int pic_ack(struct pic8259 *p);                                /* INTA: the vector */
uint8_t pic_read(struct pic8259 *p, uint16_t port);            /* 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 */
void pic_write(struct pic8259 *p, uint16_t port, uint8_t val);

extern const struct device_type pic8259_device;

#endif
