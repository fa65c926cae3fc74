/* SPDX-License-Identifier: MIT */
/*
 * The host's legacy 8259 PICs: Petrel takes its interrupts from the local
 * APIC only.  The BIOS leaves the master PIC delivering IRQ0-7 on vectors
 * 8-15, where the CPU's exceptions live, so first move both PICs to
 * 0x20-0x2f (ICW1-ICW4, Intel 8259A data sheet), then mask every line.
 * A spurious IRQ7/15 can still arrive after masking: it lands on 0x27/0x2f,
 * an ordinary host-interrupt vector, not on an exception.
 */
#include <arch/cpu.h>
#include <petrel/drivers.h>

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

void pic_disable(void)
{
	outb(PIC1_CMD, 0x11);  /* ICW1: init, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, 0x20); /* ICW2: vector base */
	outb(PIC2_DATA, 0x28);
	outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff); /* mask everything */
	outb(PIC2_DATA, 0xff);
}
