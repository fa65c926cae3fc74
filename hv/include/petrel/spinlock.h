/* SPDX-License-Identifier: MIT */
/*
 * Spinlocks that know who holds them (hv/lib/spinlock.c).  A lock records
 * the CPU that took it, so taking it again on that CPU is reported as the
 * deadlock it is (and stops that CPU), and a waiter that spins for long
 * says which lock and which holder it waits on.  Interrupts are the
 * caller's business: Petrel runs with them off except where it waits.
 */
#ifndef PETREL_SPINLOCK_H
#define PETREL_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define SPIN_NOBODY 0xffffffffu

struct spinlock {
	volatile uint32_t locked;
	volatile uint32_t owner; /* the CPU holding it, or SPIN_NOBODY */
	const char *name;
};

#define SPINLOCK_INIT(n) { .locked = 0, .owner = SPIN_NOBODY, .name = (n) }

void spin_init(struct spinlock *l, const char *name);
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
bool spin_held(const struct spinlock *l); /* by this CPU */

/* Provided by the layer above (the CPU number) and for the host unit
 * tests; spin_deadlock() reports and does not return. */
uint32_t spin_cpu_id(void);
void spin_deadlock(const struct spinlock *l) __attribute__((noreturn));
void spin_slow(const struct spinlock *l); /* a waiter has spun long: say so (once per wait) */

#endif
