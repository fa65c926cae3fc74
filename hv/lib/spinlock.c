/* SPDX-License-Identifier: MIT */
/* Spinlocks with an owner; see petrel/spinlock.h. */
#include <petrel/spinlock.h>

#define SLOW_SPINS (1u << 26) /* about a second of pause loops on a fast CPU */

void spin_init(struct spinlock *l, const char *name)
{
	l->locked = 0;
	l->owner = SPIN_NOBODY;
	l->name = name;
}

void spin_lock(struct spinlock *l)
{
	uint32_t me = spin_cpu_id(), spins = 0;

	if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == me)
		spin_deadlock(l);
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
			__asm__ volatile("pause");
			if (++spins == SLOW_SPINS)
				spin_slow(l);
		}
	}
	l->owner = me;
}

void spin_unlock(struct spinlock *l)
{
	l->owner = SPIN_NOBODY;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

bool spin_held(const struct spinlock *l)
{
	return l->locked && l->owner == spin_cpu_id();
}
