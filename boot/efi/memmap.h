/* SPDX-License-Identifier: MIT */
/*
 * UEFI memory map -> struct boot_info mem[].  Pure: no EFI calls and no
 * allocation, because it runs between GetMemoryMap() and ExitBootServices()
 * (and again after a failed ExitBootServices(), when only those two may be
 * called).  Builds on the host for tests.
 */
#ifndef PETREL_EFI_MEMMAP_H
#define PETREL_EFI_MEMMAP_H

#include <stddef.h>
#include <stdint.h>
#include <petrel/boot_info.h>

/*
 * Convert `size` bytes of descriptors, `dsize` apart, into bi->mem[] sorted
 * by address, merging neighbours of the same converted type.  Returns 0, or
 * -1 if more than BOOT_MAX_MEM regions remain (bi->nr_mem is then 0).
 */
int memmap_convert(const void *map, size_t size, size_t dsize,
		   struct boot_info *bi);

#endif
