/* SPDX-License-Identifier: MIT */
/*
 * A VM's guest-physical memory as a list of regions, in the spirit of
 * KVM's memslots (hv/core/memory.c): where RAM, ROM and device (MMIO)
 * ranges lie, what backs them in the host, and what the guest is told.
 * Everything that knows the layout derives from it: guest memory access
 * (gmem.c), the nested page tables (NPT/EPT: RAM read-write, ROM
 * read-only, MMIO absent so every access exits), the e820 map Linux gets
 * and the multiboot memory map.  Pure C, unit-tested on the host
 * (tests/unit/test_memory.c).
 */
#ifndef PETREL_MEMORY_H
#define PETREL_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum region_kind {
	REGION_RAM,  /* host memory, read-write */
	REGION_ROM,  /* host memory, read-only to the guest (writes are dropped) */
	REGION_MMIO, /* a device's range: every access is emulated */
};

/* RAM the guest is told is reserved (a PC's BIOS area below 1 MiB, where
 * the ACPI tables sit). */
#define REGION_RESERVED (1u << 0)

struct mem_region {
	uint64_t gpa, size;
	uint64_t host;  /* RAM, ROM: the host address of `gpa` */
	uint8_t kind;   /* enum region_kind */
	uint8_t flags;  /* REGION_* */
	const char *name;
};

#define MAX_MEM_REGIONS 40

struct vm_memory {
	struct mem_region r[MAX_MEM_REGIONS]; /* sorted by address, never overlapping */
	unsigned n;
};

/* Adds a region: 0, or -1 if it is empty, wraps, overlaps another or the
 * list is full. */
int mem_add(struct vm_memory *m, const struct mem_region *r);
/* [gpa, gpa+size) becomes r (whose range it must be), or nothing where r
 * is NULL: whatever lay there is cut out, a region that reached into it
 * trimmed, one that spanned it split in two.  0, or -1 (nothing changed)
 * for an empty or wrapping range or a list with no room. */
int mem_set(struct vm_memory *m, uint64_t gpa, uint64_t size, const struct mem_region *r);
/* Whether [gpa, gpa+size) lies in one region of r's kind and with r's
 * host address at gpa; with r NULL, whether nothing at all lies there. */
bool mem_is(const struct vm_memory *m, uint64_t gpa, uint64_t size, const struct mem_region *r);
/* The region holding gpa, or NULL (nothing there: the empty bus). */
const struct mem_region *mem_lookup(const struct vm_memory *m, uint64_t gpa);
/* The host address of [gpa, gpa + len) when all of it is host memory of
 * one kind (RAM, or ROM with rom_ok) backed contiguously, else NULL. */
void *mem_hva(const struct vm_memory *m, uint64_t gpa, uint64_t len, bool rom_ok);
/* How many bytes from gpa on lie in one kind of place, up to len, and
 * which (a region, or NULL for nothing). */
uint64_t mem_run(const struct vm_memory *m, uint64_t gpa, uint64_t len, const struct mem_region **r);
/* RAM in all, and the end of the RAM that starts at 0 (what a multiboot
 * kernel calls upper memory, and where an initrd goes). */
uint64_t mem_ram_size(const struct vm_memory *m);
uint64_t mem_low_ram_end(const struct vm_memory *m);

/* The e820 map (ACPI 6.4 §15, the same types as the multiboot map): RAM
 * usable (1), reserved RAM and ROM reserved (2); device ranges are not
 * listed; neighbours of one type merged.  Returns the entries written. */
enum { E820_RAM = 1, E820_RESERVED = 2 };
struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};
unsigned mem_e820(const struct vm_memory *m, struct e820_entry *out, unsigned max);

#endif
