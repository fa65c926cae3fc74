/* SPDX-License-Identifier: MIT */
/*
 * Multiboot1 and multiboot2 information → struct boot_info.
 *
 * Multiboot 0.6.96 §3.3 (boot information format) and Multiboot2 1.0 §3.6
 * (boot information).  Every address in the block goes through `map`, so a
 * garbled block ends in an error message, never a wild read.  Pure C: also
 * built into the host unit tests (tests/unit/test_multiboot.c).
 */
#include <petrel/boot_info.h>
#include <petrel/lib.h>

#define MB1_FLAG_CMDLINE (1u << 2)
#define MB1_FLAG_MODS (1u << 3)
#define MB1_FLAG_MMAP (1u << 6)

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_EFI64 12
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17
#define MB2_MAX_INFO (1u << 20) /* GRUB's blocks are a few KiB */

#define EFI_PAGE_SIZE 4096ull

#define fail fail_with
static uint32_t rd32(const void *p) { return (uint32_t)le_get(p, 4); }
static uint64_t rd64(const void *p) { return le_get(p, 8); }

/* Copies a NUL-terminated string at `phys`, at most `size - 1` bytes.  The
 * string must end within its first 4 KiB (ours are command lines). */
static int copy_string(uint64_t phys, boot_map_fn map, void *ctx, char *dst, size_t size)
{
	for (size_t len = 0; len < 4096; len++) {
		const char *c = map(phys + len, 1, ctx);
		if (!c)
			return -1;
		if (*c == '\0') {
			str_ncopy(dst, map(phys, len + 1, ctx), len, size);
			return len >= size ? 1 : 0; /* 1: cut short */
		}
	}
	return -1;
}

static int add_mem(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type,
		   char *err, size_t errlen)
{
	if (len == 0)
		return 0;
	if (bi->nr_mem >= BOOT_MAX_MEM)
		return fail(err, errlen, "memory map has too many entries");
	bi->mem[bi->nr_mem++] = (struct boot_mem_region){ .base = base, .len = len, .type = type };
	return 0;
}

/* Multiboot and E820 memory types: 1 available, 3 ACPI reclaimable,
 * 4 ACPI NVS, 5 bad RAM, anything else reserved. */
static uint32_t mb_mem_type(uint32_t t)
{
	switch (t) {
	case 1: return BOOT_MEM_USABLE;
	case 3: return BOOT_MEM_ACPI_RECLAIM;
	case 4: return BOOT_MEM_ACPI_NVS;
	case 5: return BOOT_MEM_BAD;
	default: return BOOT_MEM_RESERVED;
	}
}

static int add_module(struct boot_info *bi, uint64_t start, uint64_t end, uint64_t str_phys,
		      boot_map_fn map, void *ctx, char *err, size_t errlen)
{
	struct boot_module *m;

	if (bi->nr_modules >= BOOT_MAX_MODULES)
		return fail(err, errlen, "too many modules (at most 16)");
	m = &bi->modules[bi->nr_modules++];
	m->start = start;
	m->end = end;
	int rc = str_phys ? copy_string(str_phys, map, ctx, m->cmdline, sizeof(m->cmdline)) : 0;

	m->cmdline_truncated = rc == 1;
	if (rc < 0)
		return fail(err, errlen, "module command line unreadable");
	return 0;
}

/* --- multiboot1 --------------------------------------------------------- */

static int mb1_mmap(const uint8_t *info, boot_map_fn map, void *ctx, struct boot_info *bi,
		    char *err, size_t errlen)
{
	uint32_t len = rd32(info + 44), addr = rd32(info + 48);
	const uint8_t *p = map(addr, len, ctx);
	uint32_t off = 0;

	if (!p || len == 0)
		return fail(err, errlen, "multiboot1 memory map unreadable or empty");
	/* Entries: u32 size (not counting itself), u64 base, u64 length, u32 type. */
	while (off + 4 <= len) {
		uint32_t size = rd32(p + off);
		if (size < 20 || size > len - off - 4) /* not off + 4 + size: it can wrap */
			return fail(err, errlen, "multiboot1 memory map entry is garbled");
		if (add_mem(bi, rd64(p + off + 4), rd64(p + off + 12), mb_mem_type(rd32(p + off + 20)),
			    err, errlen))
			return -1;
		off += size + 4;
	}
	return 0;
}

static int mb1_modules(const uint8_t *info, boot_map_fn map, void *ctx, struct boot_info *bi,
		       char *err, size_t errlen)
{
	uint32_t count = rd32(info + 20), addr = rd32(info + 24);
	const uint8_t *mods;

	if (count > BOOT_MAX_MODULES)
		return fail(err, errlen, "too many modules (at most 16)");
	mods = map(addr, (uint64_t)count * 16, ctx);
	if (count && !mods)
		return fail(err, errlen, "multiboot1 module list unreadable");
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *m = mods + i * 16;
		if (add_module(bi, rd32(m), rd32(m + 4), rd32(m + 8), map, ctx, err, errlen))
			return -1;
	}
	return 0;
}

int mb1_parse(uint64_t info_phys, boot_map_fn map, void *ctx, struct boot_info *bi,
	      char *err, size_t errlen)
{
	const uint8_t *info = info_phys ? map(info_phys, 88, ctx) : NULL;
	uint32_t flags;

	memset(bi, 0, sizeof(*bi));
	bi->path = BOOT_PATH_MB1;
	if (!info)
		return fail(err, errlen, "multiboot1 information block missing or unreadable");
	flags = rd32(info);
	if (!(flags & MB1_FLAG_MMAP))
		return fail(err, errlen, "multiboot1 information has no memory map (flags bit 6)");
	if (mb1_mmap(info, map, ctx, bi, err, errlen))
		return -1;
	if ((flags & MB1_FLAG_CMDLINE) &&
	    copy_string(rd32(info + 16), map, ctx, bi->cmdline, sizeof(bi->cmdline)) < 0)
		return fail(err, errlen, "multiboot1 command line unreadable");
	if ((flags & MB1_FLAG_MODS) && mb1_modules(info, map, ctx, bi, err, errlen))
		return -1;
	return 0;
}

/* --- multiboot2 --------------------------------------------------------- */

static int mb2_mmap(const uint8_t *tag, uint32_t size, struct boot_info *bi, char *err,
		    size_t errlen)
{
	uint32_t esize = rd32(tag + 8);

	/* Entries: u64 base, u64 length, u32 type, u32 reserved. */
	if (esize < 24 || size < 16)
		return fail(err, errlen, "multiboot2 memory map tag is garbled");
	for (uint32_t off = 16; esize <= size - off; off += esize) /* off + esize can wrap */
		if (add_mem(bi, rd64(tag + off), rd64(tag + off + 8), mb_mem_type(rd32(tag + off + 16)),
			    err, errlen))
			return -1;
	return 0;
}

static int mb2_efi_mmap(const uint8_t *tag, uint32_t size, struct boot_info *bi, char *err,
			size_t errlen)
{
	uint32_t dsize = rd32(tag + 8);

	/* EFI_MEMORY_DESCRIPTOR: u32 Type, pad, u64 PhysicalStart, u64
	 * VirtualStart, u64 NumberOfPages, u64 Attribute (UEFI 2.10 §7.2). */
	if (dsize < 40 || size < 16)
		return fail(err, errlen, "multiboot2 EFI memory map tag is garbled");
	for (uint32_t off = 16; dsize <= size - off; off += dsize) { /* off + dsize can wrap */
		uint64_t pages = rd64(tag + off + 24);
		if (pages > (UINT64_MAX / EFI_PAGE_SIZE))
			return fail(err, errlen, "EFI memory map entry is garbled");
		if (add_mem(bi, rd64(tag + off + 8), pages * EFI_PAGE_SIZE,
			    boot_mem_type_from_efi(rd32(tag + off)), err, errlen))
			return -1;
	}
	return 0;
}

static void mb2_rsdp(const uint8_t *tag, uint32_t size, struct boot_info *bi)
{
	uint32_t len = size - 8 > sizeof(bi->rsdp) ? sizeof(bi->rsdp) : size - 8;

	/* Prefer the ACPI 2.0 copy (tag 15) when both are present. */
	if (bi->has_rsdp && rd32(tag) == MB2_TAG_ACPI_OLD)
		return;
	memset(bi->rsdp, 0, sizeof(bi->rsdp));
	memcpy(bi->rsdp, tag + 8, len);
	bi->has_rsdp = 1;
}

struct mb2_seen {
	const uint8_t *mmap, *efi_mmap;
	uint32_t mmap_size, efi_mmap_size;
	int efi;
	int end;
};

static bool has_nul(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i])
			return true;
	return false;
}

static int mb2_tag(const uint8_t *tag, uint32_t type, uint32_t size, boot_map_fn map, void *ctx,
		   struct boot_info *bi, struct mb2_seen *seen, char *err, size_t errlen)
{
	switch (type) {
	case MB2_TAG_CMDLINE:
		str_ncopy(bi->cmdline, (const char *)tag + 8, size - 8, sizeof(bi->cmdline));
		return 0;
	case MB2_TAG_MODULE:
		if (size < 17)
			return fail(err, errlen, "multiboot2 module tag is garbled");
		if (add_module(bi, rd32(tag + 8), rd32(tag + 12), 0, map, ctx, err, errlen))
			return -1;
		str_ncopy(bi->modules[bi->nr_modules - 1].cmdline, (const char *)tag + 16, size - 16,
			  BOOT_MODNAME_MAX);
		bi->modules[bi->nr_modules - 1].cmdline_truncated =
			size - 16 > BOOT_MODNAME_MAX && !has_nul((const char *)tag + 16, BOOT_MODNAME_MAX);
		return 0;
	case MB2_TAG_MMAP:
		seen->mmap = tag;
		seen->mmap_size = size;
		return 0;
	case MB2_TAG_EFI_MMAP:
		seen->efi_mmap = tag;
		seen->efi_mmap_size = size;
		seen->efi = 1;
		return 0;
	case MB2_TAG_EFI64:
		seen->efi = 1;
		return 0;
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		if (size < 8 + 20)
			return fail(err, errlen, "multiboot2 ACPI RSDP tag is too short");
		mb2_rsdp(tag, size, bi);
		return 0;
	default:
		return 0; /* framebuffer, boot loader name, ...: not ours */
	}
}

int mb2_parse(uint64_t info_phys, boot_map_fn map, void *ctx, struct boot_info *bi,
	      char *err, size_t errlen)
{
	const uint8_t *hdr = info_phys ? map(info_phys, 8, ctx) : NULL;
	const uint8_t *info;
	struct mb2_seen seen = { 0 };
	uint32_t total, off;

	memset(bi, 0, sizeof(*bi));
	bi->path = BOOT_PATH_MB2_BIOS;
	if (!hdr || (info_phys & 7))
		return fail(err, errlen, "multiboot2 information block missing or misaligned");
	total = rd32(hdr);
	if (total < 16 || total > MB2_MAX_INFO || !(info = map(info_phys, total, ctx)))
		return fail(err, errlen, "multiboot2 information block has a garbled size");
	for (off = 8; off + 8 <= total && !seen.end; off = (uint32_t)ALIGN_UP(off + rd32(info + off + 4), 8)) {
		uint32_t type = rd32(info + off), size = rd32(info + off + 4);
		if (size < 8 || size > total - off)
			return fail(err, errlen, "multiboot2 tag runs past the information block");
		if (type == MB2_TAG_END) {
			seen.end = 1;
			break;
		}
		if (mb2_tag(info + off, type, size, map, ctx, bi, &seen, err, errlen))
			return -1;
	}
	if (!seen.end)
		return fail(err, errlen, "multiboot2 information block has no end tag");
	if (seen.efi)
		bi->path = BOOT_PATH_MB2_EFI;
	/* Under EFI GRUB the EFI map is the firmware's own, finer-grained view;
	 * GRUB's e820-style map is derived from it. */
	if (seen.efi_mmap)
		return mb2_efi_mmap(seen.efi_mmap, seen.efi_mmap_size, bi, err, errlen);
	if (seen.mmap)
		return mb2_mmap(seen.mmap, seen.mmap_size, bi, err, errlen);
	return fail(err, errlen, "multiboot2 information has no memory map tag");
}

const char *boot_path_name(uint32_t path)
{
	switch (path) {
	case BOOT_PATH_MB1: return "multiboot1";
	case BOOT_PATH_MB2_BIOS: return "multiboot2-bios";
	case BOOT_PATH_MB2_EFI: return "multiboot2-efi";
	case BOOT_PATH_UEFI: return "uefi";
	default: return "unknown";
	}
}
