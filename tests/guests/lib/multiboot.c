/* SPDX-License-Identifier: MIT */
/*
 * Multiboot1 information (Multiboot Specification 0.6.96 §3.3).  The loader
 * puts it wherever it likes (QEMU: just above our image), so mb_init() copies
 * what the tests need, and a guest may then overwrite all free RAM.
 */
#include "guest.h"

#define MB_INFO_MEM     (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP    (1u << 6)
#define MAX_REGIONS 32

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4];
	uint32_t mmap_length, mmap_addr;
};

/* Each entry is preceded by its size, which does not count itself. */
struct __attribute__((packed)) mb_mmap_entry {
	uint32_t size;
	uint64_t base, length;
	uint32_t type;
};

static struct mb_region regions[MAX_REGIONS];
static int nregions;
static char cmdline[256];

int mb_init(uint32_t info_addr);

static void copy_mmap(const struct mb_info *mbi)
{
	uint32_t p = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
	while (p + sizeof(struct mb_mmap_entry) <= end && nregions < MAX_REGIONS) {
		const struct mb_mmap_entry *e = (const void *)p;
		regions[nregions++] = (struct mb_region){ e->base, e->length, e->type };
		p += e->size + sizeof(e->size);
	}
}

/* Returns the number of memory regions found (0: no usable map). */
int mb_init(uint32_t info_addr)
{
	const struct mb_info *mbi = (const void *)info_addr;
	if (mbi->flags & MB_INFO_CMDLINE) {
		const char *s = (const char *)mbi->cmdline;
		size_t n = 0;
		for (; s[n] && n + 1 < sizeof(cmdline); n++)
			cmdline[n] = s[n];
		cmdline[n] = '\0';
	}
	if (mbi->flags & MB_INFO_MMAP)
		copy_mmap(mbi);
	return nregions;
}

int mb_region_count(void) { return nregions; }
const struct mb_region *mb_region(int i) { return i >= 0 && i < nregions ? &regions[i] : 0; }
const char *mb_cmdline(void) { return cmdline; }

uint64_t mb_ram_top(void)
{
	uint64_t top = 0;
	for (int i = 0; i < nregions; i++)
		if (regions[i].type == 1 && regions[i].base + regions[i].length > top)
			top = regions[i].base + regions[i].length;
	return top;
}
