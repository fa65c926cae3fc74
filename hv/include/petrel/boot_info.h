/* SPDX-License-Identifier: MIT */
/*
 * struct boot_info: the one thing every boot path hands to the core.
 *
 * multiboot1, multiboot2 (BIOS or EFI GRUB) and the UEFI application all end
 * in boot_entry(magic, info) (hv/core/main.c).  For the two multiboot paths
 * `info` is the loader's information block and the core parses it
 * (boot/multiboot.c).  The UEFI application (boot/efi/) fills a struct
 * boot_info itself, passes BOOT_MAGIC_PETREL_EFI and a pointer to it; the
 * core copies it before touching any memory.
 *
 * Everything in here is self-contained (no pointers into loader memory), so
 * the core can copy it and forget where it came from.  Pure data: this header
 * is also compiled into the host unit tests.
 */
#ifndef PETREL_BOOT_INFO_H
#define PETREL_BOOT_INFO_H

#include <stdint.h>

#define BOOT_MAGIC_MB1 0x2BADB002u       /* EAX from a multiboot1 loader */
#define BOOT_MAGIC_MB2 0x36d76289u       /* EAX from a multiboot2 loader */
#define BOOT_MAGIC_PETREL_EFI 0x50455446u /* "PETF": our own UEFI stub */

#define BOOT_MAX_MEM 256
#define BOOT_MAX_MODULES 16
#define BOOT_CMDLINE_MAX 512
#define BOOT_MODNAME_MAX 1536 /* a guest's cmdline="..." (1023) and the rest */

enum boot_path {
	BOOT_PATH_NONE = 0,
	BOOT_PATH_MB1,      /* multiboot1: QEMU -kernel, old GRUB */
	BOOT_PATH_MB2_BIOS, /* multiboot2 from BIOS GRUB */
	BOOT_PATH_MB2_EFI,  /* multiboot2 from EFI GRUB (EFI tags present) */
	BOOT_PATH_UEFI,     /* hv.efi started by UEFI firmware */
};

enum boot_mem_type {
	BOOT_MEM_USABLE = 1,
	BOOT_MEM_RESERVED = 2,
	BOOT_MEM_ACPI_RECLAIM = 3,
	BOOT_MEM_ACPI_NVS = 4,
	BOOT_MEM_BAD = 5,
};

struct boot_mem_region {
	uint64_t base;
	uint64_t len;
	uint32_t type; /* enum boot_mem_type */
	uint32_t pad;
};

struct boot_module {
	uint64_t start; /* physical, first byte */
	uint64_t end;   /* physical, one past the last byte */
	char cmdline[BOOT_MODNAME_MAX];
	uint32_t cmdline_truncated; /* the loader's string did not fit: cmdline is cut short */
};

struct boot_info {
	uint32_t path; /* enum boot_path */
	uint32_t nr_mem;
	uint32_t nr_modules;
	uint32_t has_rsdp;
	uint8_t rsdp[36]; /* a copy of the ACPI RSDP (v1 uses the first 20 bytes) */
	uint32_t pad;
	uint64_t rsdp_phys; /* where it was found, 0 if it came as a copy */
	char cmdline[BOOT_CMDLINE_MAX];
	struct boot_mem_region mem[BOOT_MAX_MEM];
	struct boot_module modules[BOOT_MAX_MODULES];
};

const char *boot_path_name(uint32_t path);



#include <stddef.h>

/*
 * Reading the loaders' memory: `map(phys, len)` returns a pointer to `len`
 * readable bytes at physical address `phys`, or NULL if that range cannot be
 * read (outside the identity map, or outside the test buffer on the host).
 * Every pointer the parsers follow goes through it, so a garbled block makes
 * them fail with a message instead of faulting.
 */
typedef const void *(*boot_map_fn)(uint64_t phys, uint64_t len, void *ctx);

/* boot/multiboot.c: fill `bi` from a multiboot1 or multiboot2 information
 * block.  Return 0, or -1 with a one-line reason in `err`. */
int mb1_parse(uint64_t info_phys, boot_map_fn map, void *ctx, struct boot_info *bi,
	      char *err, size_t errlen);
int mb2_parse(uint64_t info_phys, boot_map_fn map, void *ctx, struct boot_info *bi,
	      char *err, size_t errlen);

/* Converts a UEFI memory type (UEFI spec 2.10 §7.2, EFI_MEMORY_TYPE) into
 * ours: what the firmware stops owning at ExitBootServices() is usable
 * (the core keeps its own image, boot_info and modules, which are loader
 * data, out of the allocator itself).  Shared by the multiboot2 parser
 * (EFI memory map tag) and the UEFI stub. */
static inline enum boot_mem_type boot_mem_type_from_efi(uint32_t efi_type)
{
	switch (efi_type) {
	case 1: /* EfiLoaderCode */
	case 2: /* EfiLoaderData */
	case 3: /* EfiBootServicesCode */
	case 4: /* EfiBootServicesData */
	case 7: /* EfiConventionalMemory */
		return BOOT_MEM_USABLE;
	case 8: /* EfiUnusableMemory */
		return BOOT_MEM_BAD;
	case 9: /* EfiACPIReclaimMemory */
		return BOOT_MEM_ACPI_RECLAIM;
	case 10: /* EfiACPIMemoryNVS */
		return BOOT_MEM_ACPI_NVS;
	default: /* reserved, runtime services, MMIO, PAL code, persistent, newer */
		return BOOT_MEM_RESERVED;
	}
}

/* hv/mm/memmap.c: sort the memory map, merge touching or overlapping ranges
 * of one type, and reject an empty map or ranges of different types that
 * overlap.  Then check the modules: non-empty, inside the 64-bit space, not
 * overlapping the image [image_start, image_end) or one another. */
int memmap_normalize(struct boot_info *bi, char *err, size_t errlen);
int boot_check_modules(const struct boot_info *bi, uint64_t image_start, uint64_t image_end,
		       char *err, size_t errlen);
uint64_t memmap_usable_bytes(const struct boot_info *bi);

#endif /* PETREL_BOOT_INFO_H */
