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

/* EFI_MEMORY_TYPE values (UEFI 2.10 §7.2, EFI_BOOT_SERVICES.AllocatePages) */
enum efi_mem_type {
	EFI_MT_RESERVED = 0,
	EFI_MT_LOADER_CODE = 1,
	EFI_MT_LOADER_DATA = 2,
	EFI_MT_BS_CODE = 3,
	EFI_MT_BS_DATA = 4,
	EFI_MT_RT_CODE = 5,
	EFI_MT_RT_DATA = 6,
	EFI_MT_CONVENTIONAL = 7,
	EFI_MT_UNUSABLE = 8,
	EFI_MT_ACPI_RECLAIM = 9,
	EFI_MT_ACPI_NVS = 10,
	EFI_MT_MMIO = 11,
	EFI_MT_MMIO_PORT = 12,
	EFI_MT_PAL_CODE = 13,
	EFI_MT_PERSISTENT = 14,
};

/* The boot_mem_type an EFI_MEMORY_TYPE becomes once boot services are gone. */
uint32_t memmap_type(uint32_t efi_type);

/*
 * Convert `size` bytes of descriptors, `dsize` apart, into bi->mem[] sorted
 * by address, merging neighbours of the same converted type.  Returns 0, or
 * -1 if more than BOOT_MAX_MEM regions remain (bi->nr_mem is then 0).
 */
int memmap_convert(const void *map, size_t size, size_t dsize,
		   struct boot_info *bi);

#endif
