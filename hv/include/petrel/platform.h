/* SPDX-License-Identifier: MIT */
/*
 * The emulated PC platform's plumbing, shared by the device models in
 * hv/dev/: guest time, virtual timers, interrupt lines, and the registers
 * a device uses to claim ports and MMIO.
 *
 * Time.  Every VM has a clock in nanoseconds since it was (re)started,
 * derived from the host TSC.  Devices never read the TSC themselves: they
 * take `now` from vm_now_ns() (or as an argument) so their pure parts can
 * be unit-tested with any clock.
 *
 * Timers.  A device that must act later (the PIT's next IRQ0 edge, a LAPIC
 * timer) arms a struct vtimer with an absolute deadline on its VM's clock.
 * The run loop fires due timers before entering the guest and sleeps (or
 * bounds the time in the guest) until the earliest deadline.  A timer's
 * fire() runs on the physical CPU that runs the VM, with no locks held.
 *
 * Interrupts.  Devices drive ISA IRQ lines 0-15 with vm_set_irq(); the
 * platform routes each to the 8259 PICs and the IOAPIC (IRQ0 → IOAPIC pin
 * 2, as the MADT's interrupt source override says; every other ISA IRQ n →
 * pin n).  Edge-triggered devices pulse the line (vm_pulse_irq).
 */
#ifndef PETREL_PLATFORM_H
#define PETREL_PLATFORM_H

#include <petrel/io_bus.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

uint64_t vm_now_ns(struct vm *vm);
uint64_t tsc_to_ns(uint64_t ticks);
uint64_t ns_to_tsc(uint64_t ns);

struct vtimer {
	struct vm *vm;
	uint64_t deadline; /* VM clock, ns; meaningful while armed */
	bool armed;
	void (*fire)(struct vtimer *t, uint64_t now);
	void *ctx;
	struct vtimer *next; /* the VM's list of timers (vm.c) */
};

void vtimer_init(struct vtimer *t, struct vm *vm, void (*fire)(struct vtimer *, uint64_t), void *ctx);
void vtimer_arm(struct vtimer *t, uint64_t deadline_ns);
void vtimer_cancel(struct vtimer *t);
/* Fires every due timer of the VM; returns the earliest remaining deadline
 * (VM clock, ns) or 0 if none is armed. */
uint64_t vm_run_timers(struct vm *vm, uint64_t now);

void vm_set_irq(struct vm *vm, unsigned irq, bool level);
void vm_pulse_irq(struct vm *vm, unsigned irq);

/* Claiming guest ports and MMIO (hv/core/vm.c). */
int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len, io_read_fn rd, io_write_fn wr,
		    void *dev, const char *name);
int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len, io_read_fn rd, io_write_fn wr,
		     void *dev, const char *name);

/* What the platform asks of a VM as a whole. */
void vm_request_reset(struct vm *vm, const char *why);    /* reboot: fresh RAM, fresh kernel */
void vm_request_poweroff(struct vm *vm, const char *why); /* ends the VM */

#define NS_PER_SEC 1000000000ull

/* The shortest period a periodic timer source interrupts with (KVM's
 * default floor for the same reason): a guest that programs a shorter one
 * (a 1-count LAPIC or PIT period, a 1 us test-device tick) would otherwise
 * spend every moment in its handler, each interrupt costing an exit.  Real
 * hardware is bounded the same way by the time an interrupt takes.  The
 * counters a guest reads still count at the programmed rate. */
#define TIMER_MIN_PERIOD_NS 200000ull

#endif
