/* SPDX-License-Identifier: MIT */
/* The hypervisor's own frame allocator instance.  RAM is identity mapped,
 * so a frame's physical address is also its pointer. */
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/pmm.h>

struct pmm hv_pmm;
static volatile uint32_t frames_lock;

static void lock(void)
{
	while (__atomic_exchange_n(&frames_lock, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
}

static void unlock(void)
{
	__atomic_store_n(&frames_lock, 0, __ATOMIC_RELEASE);
}

uint64_t frame_alloc(uint64_t pages, uint64_t align)
{
	uint64_t pa;

	lock();
	pa = pmm_alloc(&hv_pmm, pages, align, UINT64_MAX);
	unlock();
	return pa;
}

void frame_free(uint64_t base, uint64_t pages)
{
	lock();
	pmm_free(&hv_pmm, base, pages);
	unlock();
}

uint64_t frame_alloc_zeroed(uint64_t pages, uint64_t limit)
{
	uint64_t pa;

	lock();
	pa = pmm_alloc(&hv_pmm, pages, PAGE_SIZE, limit);
	unlock();
	if (!pa)
		panic("out of memory: %llu pages below 0x%llx", (unsigned long long)pages,
		      (unsigned long long)limit);
	memset((void *)(uintptr_t)pa, 0, pages * PAGE_SIZE);
	return pa;
}

uint64_t frame_pt_alloc(void *ctx)
{
	return frame_alloc_zeroed(1, UINT64_MAX);
}

uint64_t *frame_pt_table(uint64_t pa, void *ctx)
{
	return (uint64_t *)(uintptr_t)pa;
}
