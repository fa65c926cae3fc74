/* SPDX-License-Identifier: MIT */
/*
 * Multiboot1 guests, loaded the way QEMU's -kernel does it: the ELF's
 * PT_LOAD segments copied to their physical addresses in guest RAM (the rest
 * of each segment zeroed; anywhere in usable RAM but page 0), the modules
 * page-aligned after the kernel, and a multiboot information block with
 * the memory map, the command line and the module list (Multiboot 0.6.96
 * §3.3) in free low memory.  The guest then starts
 * in flat 32-bit protected mode with paging off, EAX = 0x2BADB002 and
 * EBX = the information block (§3.2): the caller sets that up.
 */
#include <petrel/guest_loader.h>
#include <petrel/lib.h>

#define PT_LOAD 1
#define EM_386 3
#define EM_X86_64 62
#define MB1_INFO_MEM (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS (1u << 3)
#define MB_INFO_SIZE 88
#define MB1_INFO_MMAP (1u << 6)

struct seg { uint64_t paddr, offset, filesz, memsz; uint32_t type; };

#define fail fail_with
#define rd le_get

/* Reads program header i of a 32- or 64-bit ELF. */
static struct seg phdr(const uint8_t *ph, bool is64)
{
	if (is64)
		return (struct seg){ .type = (uint32_t)rd(ph, 4), .offset = rd(ph + 8, 8),
				     .paddr = rd(ph + 24, 8), .filesz = rd(ph + 32, 8),
				     .memsz = rd(ph + 40, 8) };
	return (struct seg){ .type = (uint32_t)rd(ph, 4), .offset = rd(ph + 4, 4),
			     .paddr = rd(ph + 12, 4), .filesz = rd(ph + 16, 4), .memsz = rd(ph + 20, 4) };
}

/* Where the segments went, so the loader's data can go elsewhere. */
#define MAX_SEGS 16
struct placed {
	uint64_t lo[MAX_SEGS], hi[MAX_SEGS];
	unsigned n;
	uint64_t end; /* the highest segment end */
};

static bool overlaps(const struct placed *p, uint64_t a, uint64_t len)
{
	for (unsigned i = 0; i < p->n; i++)
		if (a < p->hi[i] && p->lo[i] < a + len)
			return true;
	return false;
}

/* [a, a + len) lies in one usable RAM entry of the map. */
static bool in_ram(const struct e820_entry *map, unsigned nmap, uint64_t a, uint64_t len)
{
	for (unsigned i = 0; i < nmap; i++)
		if (map[i].type == E820_RAM && a >= map[i].addr && a - map[i].addr <= map[i].size &&
		    len <= map[i].size - (a - map[i].addr))
			return true;
	return false;
}

static int load_segment(const struct seg *s, const uint8_t *image, uint64_t size, uint8_t *ram,
			uint64_t ram_size, const struct e820_entry *map, unsigned nmap, struct placed *p,
			char *err, size_t errlen)
{
	if (s->filesz > s->memsz)
		return fail(err, errlen, "ELF segment has more file bytes than memory bytes");
	if (s->offset > size || s->filesz > size - s->offset)
		return fail(err, errlen, "ELF segment runs past the end of the file");
	if (s->paddr < PAGE_SIZE)
		return fail(err, errlen, "ELF segment in page 0 (kept free, as QEMU does)");
	if (s->paddr > ram_size || s->memsz > ram_size - s->paddr || !in_ram(map, nmap, s->paddr, s->memsz))
		return fail(err, errlen, "ELF segment does not fit in the guest's RAM");
	if (p->n == MAX_SEGS)
		return fail(err, errlen, "ELF has more than 16 loadable segments");
	memcpy(ram + s->paddr, image + s->offset, s->filesz);
	memset(ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
	p->lo[p->n] = s->paddr;
	p->hi[p->n++] = s->paddr + s->memsz;
	p->end = MAX(p->end, s->paddr + s->memsz);
	return 0;
}

static int load_elf(const uint8_t *image, uint64_t size, uint8_t *ram, uint64_t ram_size,
		    const struct e820_entry *map, unsigned nmap, struct placed *p, uint64_t *entry,
		    char *err, size_t errlen)
{
	bool is64;
	uint64_t phoff, phentsize, phnum;

	if (size < 52 || memcmp(image, "\177ELF", 4))
		return fail(err, errlen, "not an ELF file");
	is64 = image[4] == 2;
	if ((image[4] != 1 && image[4] != 2) || image[5] != 1 || (is64 && size < 64))
		return fail(err, errlen, "not a little-endian ELF32/ELF64 file");
	if (rd(image + 18, 2) != (is64 ? EM_X86_64 : EM_386))
		return fail(err, errlen, "ELF machine is not x86");
	*entry = is64 ? rd(image + 24, 8) : rd(image + 24, 4);
	phoff = is64 ? rd(image + 32, 8) : rd(image + 28, 4);
	phentsize = rd(image + (is64 ? 54 : 42), 2);
	phnum = rd(image + (is64 ? 56 : 44), 2);
	if (phentsize < (is64 ? 56u : 32u) || phoff > size || phnum * phentsize > size - phoff)
		return fail(err, errlen, "ELF program headers run past the end of the file");
	for (uint64_t i = 0; i < phnum; i++) {
		struct seg s = phdr(image + phoff + i * phentsize, is64);
		if (s.type != PT_LOAD || s.memsz == 0)
			continue;
		if (load_segment(&s, image, size, ram, ram_size, map, nmap, p, err, errlen))
			return -1;
	}
	if (!p->n)
		return fail(err, errlen, "ELF has no loadable segment");
	if (*entry >= ram_size || *entry > 0xffffffffull)
		return fail(err, errlen, "ELF entry point is outside the guest's RAM or above 4 GiB");
	return 0;
}

static void put32(uint8_t *p, uint32_t v) { le_put(p, v, 4); }
static void put64(uint8_t *p, uint64_t v) { le_put(p, v, 8); }

/* The loader's data: the information block, the memory map, the module
 * list, the strings.  In the first free low pages from 0x9000 (where
 * QEMU's loader puts it) down to page 1, then up to the end of the RAM
 * below 640 KiB. */
static uint64_t place_info(const struct placed *p, const struct e820_entry *map, unsigned nmap,
			   uint64_t ram_size, uint64_t len)
{
	uint64_t a;

	for (a = 0x9000; a >= PAGE_SIZE; a -= PAGE_SIZE)
		if (a + len <= ram_size && in_ram(map, nmap, a, len) && !overlaps(p, a, len))
			return a;
	for (a = 0xa000; a + len <= MIN(ram_size, 0xa0000ull); a += PAGE_SIZE)
		if (in_ram(map, nmap, a, len) && !overlaps(p, a, len))
			return a;
	return 0;
}

int mb_guest_load(const uint8_t *image, uint64_t size, uint8_t *ram, uint64_t ram_size,
		  const struct e820_entry *map, unsigned nmap, const char *cmdline,
		  const struct mb_module *mods, unsigned nmods, struct mb_guest *out, char *err, size_t errlen)
{
	struct placed p = { .n = 0 };
	uint64_t len, info, at, next;
	uint32_t mmap_off = MB_INFO_SIZE, mods_off, str_off, flags;

	if (ram_size < MiB(2))
		return fail(err, errlen, "guest RAM below 2 MiB");
	if (nmods > MB_GUEST_MAX_MODULES)
		return fail(err, errlen, "more modules than a multiboot guest takes (16)");
	if (strlen(cmdline) >= MB_GUEST_CMDLINE_MAX)
		return fail(err, errlen, "guest command line too long");
	if (load_elf(image, size, ram, ram_size, map, nmap, &p, &out->entry, err, errlen))
		return -1;

	/* The layout of the data block: info, mmap, module list, strings. */
	mods_off = mmap_off + nmap * 24;
	str_off = mods_off + nmods * 16;
	len = str_off + strlen(cmdline) + 1;
	for (unsigned i = 0; i < nmods; i++)
		len += strlen(mods[i].string) + 1;
	if (!(info = place_info(&p, map, nmap, ram_size, len)))
		return fail(err, errlen, "no room below 640 KiB for the multiboot information");
	memset(ram + info, 0, len);

	/* Each module's bytes page-aligned after the kernel, as QEMU puts them. */
	next = ALIGN_UP(p.end, PAGE_SIZE);
	for (unsigned i = 0; i < nmods; i++) {
		uint8_t *e = ram + info + mods_off + i * 16;
		at = next;
		if (at > ram_size || mods[i].size > ram_size - at || at + mods[i].size > 0xffffffffull ||
		    !in_ram(map, nmap, at, mods[i].size) || (info < at + mods[i].size && at < info + len)) {
			pt_snprintf(err, errlen, "module %u (%llu bytes) does not fit the guest's RAM after the kernel",
				    i + 1, (unsigned long long)mods[i].size);
			return -1;
		}
		memcpy(ram + at, mods[i].data, mods[i].size);
		put32(e, (uint32_t)at);
		put32(e + 4, (uint32_t)(at + mods[i].size));
		next = ALIGN_UP(at + mods[i].size, PAGE_SIZE);
	}

	/* The strings: the command line, then each module's. */
	at = info + str_off;
	str_copy((char *)ram + at, cmdline, MB_GUEST_CMDLINE_MAX);
	put32(ram + info + 16, (uint32_t)at);
	at += strlen(cmdline) + 1;
	for (unsigned i = 0; i < nmods; i++) {
		size_t n = strlen(mods[i].string) + 1;
		memcpy(ram + at, mods[i].string, n);
		put32(ram + info + mods_off + i * 16 + 8, (uint32_t)at);
		at += n;
	}

	flags = MB1_INFO_MEM | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP;
	for (unsigned i = 0; i < nmap; i++) {
		uint8_t *e = ram + info + mmap_off + i * 24;
		put32(e, 20); /* size of the rest of the entry */
		put64(e + 4, map[i].addr);
		put64(e + 12, map[i].size);
		put32(e + 20, map[i].type);
	}
	put32(ram + info, flags);
	put32(ram + info + 4, 639);                                   /* mem_lower, KiB */
	put32(ram + info + 8, (uint32_t)MIN((ram_size - MiB(1)) >> 10, 0xffffffffull)); /* mem_upper */
	put32(ram + info + 20, nmods);
	put32(ram + info + 24, (uint32_t)(info + mods_off));
	put32(ram + info + 44, nmap * 24);
	put32(ram + info + 48, (uint32_t)(info + mmap_off));
	out->info_gpa = info;
	out->info_len = len;
	out->modules_end = next;
	return 0;
}
