/* SPDX-License-Identifier: MIT */
/*
 * Putting guests into memory (guest-loader/).
 *
 * Guests come from the hypervisor's modules.  A module's command line says
 * what to do with it (README "Guests"):
 *     vm=NAME     the VM this module belongs to (required)
 *     mem=SIZE    guest RAM, with K/M/G suffix (default 64M, 2M..4G)
 *     cpu=N       the physical CPU to run on (default: VMs spread over CPUs)
 * For example, in grub.cfg:  module2 /guests/cpuid.elf vm=t0 mem=64M
 * and in petrel.cfg:         module2 \guests\cpuid.elf vm=t0 mem=64M
 * Pure C: tests/unit/test_guest_loader.c.
 */
#ifndef PETREL_GUEST_LOADER_H
#define PETREL_GUEST_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_DEFAULT_MEM (64ull << 20)
#define GUEST_MIN_MEM (2ull << 20)
#define GUEST_MAX_MEM (4ull << 30)

struct guest_config {
	char vm[16];
	uint64_t mem;
	int cpu; /* -1: any */
};

/* 0, or -1 with a reason in err. */
int guest_config_parse(const char *args, struct guest_config *cfg, char *err, size_t errlen);

/* Multiboot1 guests (Multiboot 0.6.96 §3.2, as QEMU's -kernel loads them):
 * ELF32 or ELF64 segments at their physical addresses in guest RAM.
 * `ram` is the guest's RAM as the hypervisor sees it. */
struct mb_guest {
	uint64_t entry;     /* EIP at start */
	uint64_t info_gpa;  /* EBX at start: the multiboot information */
};

int mb_guest_load(const uint8_t *image, uint64_t size, uint8_t *ram, uint64_t ram_size,
		  const char *cmdline, struct mb_guest *out, char *err, size_t errlen);

/* Where the loader puts the multiboot information, below the guest's
 * image (which must load at or above 1 MiB, as for any multiboot kernel). */
#define MB_GUEST_INFO_GPA 0x8000ull
#define MB_GUEST_MMAP_GPA 0x8100ull
#define MB_GUEST_CMDLINE_GPA 0x8400ull
#define MB_GUEST_CMDLINE_MAX 1024

#endif
