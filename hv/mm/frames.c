/* SPDX-License-Identifier: MIT */
/* The hypervisor's own frame allocator instance.  RAM is identity mapped,
 * so a frame's physical address is also its pointer. */
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/pmm.h>

struct pmm hv_pmm;
static volatile uint32_t frames_lock;

uint64_t frame_alloc_zeroed(uint64_t pages, uint64_t limit)
{
	uint64_t pa;

	while (__atomic_exchange_n(&frames_lock, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	pa = pmm_alloc(&hv_pmm, pages, PAGE_SIZE, limit);
	__atomic_store_n(&frames_lock, 0, __ATOMIC_RELEASE);
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
