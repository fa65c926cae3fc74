/* SPDX-License-Identifier: MIT */
/*
 * The emulated local APIC (one per vCPU) and IOAPIC (one per VM):
 * hv/dev/lapic.c and hv/dev/ioapic.c.  SDM vol. 3A chapter 11 (local APIC,
 * xAPIC and x2APIC), and the 82093AA IOAPIC data sheet.
 */
#ifndef PETREL_APIC_H
#define PETREL_APIC_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct vlapic;
struct vioapic;

#define LAPIC_GPA 0xfee00000ull
#define IOAPIC_GPA 0xfec00000ull
#define IOAPIC_PINS 24
/* The emulated APIC bus runs at 1 GHz: one timer tick per ns before the
 * divider, so guest-visible counts convert to the VM clock exactly. */
#define LAPIC_BUS_HZ 1000000000ull

int vlapic_init(struct vcpu *v);            /* also registers the MMIO page (once per VM) */
void vlapic_reset(struct vlapic *l);
/* An interrupt message arrives (from the IOAPIC, an IPI, the timer). */
void vlapic_accept(struct vlapic *l, uint8_t vector, bool level);
/* Is an interrupt deliverable (IRR above PPR, or ExtINT from the 8259)? */
bool vlapic_has_irq(struct vlapic *l);
/* The vector to inject now; moves it IRR → ISR (or acknowledges the 8259).
 * -1 if nothing is deliverable. */
int vlapic_take_irq(struct vlapic *l);
uint8_t vlapic_get_tpr(struct vlapic *l);
void vlapic_set_tpr(struct vlapic *l, uint8_t tpr);
/* MSRs: IA32_APIC_BASE, TSC_DEADLINE, and the x2APIC range 0x800-0x8ff.
 * Return 0, or -1 for #GP. */
int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val);
int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val);
/* Delivers an interrupt message to the vCPUs of a VM it addresses. */
void vlapic_deliver(struct vm *vm, uint32_t dest, bool logical, uint8_t vector, uint8_t mode,
		   bool level);

int ioapic_init(struct vm *vm, uint32_t id);
void ioapic_set_pin(struct vioapic *io, unsigned pin, bool level);
/* A level-triggered interrupt was EOI'd: clear Remote IRR of its pins. */
void ioapic_eoi(struct vioapic *io, uint8_t vector);

#endif
