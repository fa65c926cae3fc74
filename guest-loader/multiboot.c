/* SPDX-License-Identifier: MIT */
/*
 * Multiboot1 guests, loaded the way QEMU's -kernel does it: the ELF's
 * PT_LOAD segments copied to their physical addresses in guest RAM (the rest
 * of each segment zeroed), and a multiboot information block with a memory
 * map and the command line (Multiboot 0.6.96 §3.3).  The guest then starts
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

static int load_segment(const struct seg *s, const uint8_t *image, uint64_t size, uint8_t *ram,
			uint64_t ram_size, char *err, size_t errlen)
{
	if (s->filesz > s->memsz)
		return fail(err, errlen, "ELF segment has more file bytes than memory bytes");
	if (s->offset > size || s->filesz > size - s->offset)
		return fail(err, errlen, "ELF segment runs past the end of the file");
	if (s->paddr < MiB(1))
		return fail(err, errlen, "ELF segment below 1 MiB (where the loader keeps its data)");
	if (s->paddr > ram_size || s->memsz > ram_size - s->paddr)
		return fail(err, errlen, "ELF segment does not fit in the guest's RAM");
	memcpy(ram + s->paddr, image + s->offset, s->filesz);
	memset(ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
	return 0;
}

static int load_elf(const uint8_t *image, uint64_t size, uint8_t *ram, uint64_t ram_size,
		    uint64_t *entry, char *err, size_t errlen)
{
	bool is64;
	uint64_t phoff, phentsize, phnum, loaded = 0;

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
		if (load_segment(&s, image, size, ram, ram_size, err, errlen))
			return -1;
		loaded++;
	}
	if (!loaded)
		return fail(err, errlen, "ELF has no loadable segment");
	if (*entry >= ram_size || *entry > 0xffffffffull)
		return fail(err, errlen, "ELF entry point is outside the guest's RAM or above 4 GiB");
	return 0;
}

static void put32(uint8_t *p, uint32_t v) { le_put(p, v, 4); }
static void put64(uint8_t *p, uint64_t v) { le_put(p, v, 8); }

/* The multiboot memory map (§3.3): the VM's e820 map, 24 bytes an entry. */
static uint32_t put_mmap(uint8_t *mmap, const struct e820_entry *map, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = mmap + i * 24;
		put32(e, 20); /* size of the rest of the entry */
		put64(e + 4, map[i].addr);
		put64(e + 12, map[i].size);
		put32(e + 20, map[i].type);
	}
	return n * 24;
}

int mb_guest_load(const uint8_t *image, uint64_t size, uint8_t *ram, uint64_t ram_size,
		  const struct e820_entry *map, unsigned nmap, const char *cmdline, struct mb_guest *out,
		  char *err, size_t errlen)
{
	uint8_t *info = ram + MB_GUEST_INFO_GPA;
	uint32_t mmap_len;

	if (ram_size < MiB(2))
		return fail(err, errlen, "guest RAM below 2 MiB");
	if (load_elf(image, size, ram, ram_size, &out->entry, err, errlen))
		return -1;
	if (nmap * 24 > MB_GUEST_CMDLINE_GPA - MB_GUEST_MMAP_GPA)
		return fail(err, errlen, "memory map too long for the multiboot information");
	if (strlen(cmdline) >= MB_GUEST_CMDLINE_MAX)
		return fail(err, errlen, "guest command line too long");
	memset(info, 0, MB_GUEST_CMDLINE_GPA + MB_GUEST_CMDLINE_MAX - MB_GUEST_INFO_GPA);
	mmap_len = put_mmap(ram + MB_GUEST_MMAP_GPA, map, nmap);
	str_copy((char *)ram + MB_GUEST_CMDLINE_GPA, cmdline, MB_GUEST_CMDLINE_MAX);
	put32(info, MB1_INFO_MEM | MB1_INFO_CMDLINE | MB1_INFO_MMAP);
	put32(info + 4, 639);                                   /* mem_lower, KiB */
	put32(info + 8, (uint32_t)MIN((ram_size - MiB(1)) >> 10, 0xffffffffull)); /* mem_upper */
	put32(info + 16, MB_GUEST_CMDLINE_GPA);
	put32(info + 44, mmap_len);
	put32(info + 48, MB_GUEST_MMAP_GPA);
	out->info_gpa = MB_GUEST_INFO_GPA;
	return 0;
}
