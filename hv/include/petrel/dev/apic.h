/* SPDX-License-Identifier: MIT */
/*
 * The emulated local APIC (one per vCPU, hv/dev/lapic.c) and IOAPIC (one
 * per VM, hv/dev/ioapic.c).  SDM vol. 3A chapter 11 (local APIC, xAPIC and
 * x2APIC), and the 82093AA IOAPIC data sheet.  Both are devices like any
 * other: they talk to the rest through device.h (interrupt messages on the
 * VM's APIC bus, EOIs, the 8259's ExtINT) and to their vCPU through its
 * interrupt source and APIC hooks.
 */
#ifndef PETREL_DEV_APIC_H
#define PETREL_DEV_APIC_H

#include <petrel/device.h>
#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_PINS 24
/* The emulated APIC bus runs at 1 GHz: one timer tick per ns before the
 * divider, so guest-visible counts convert to the VM clock exactly. */
#define LAPIC_BUS_HZ 1000000000ull

extern const struct device_type lapic_device;
extern const struct device_type ioapic_device;

#endif
