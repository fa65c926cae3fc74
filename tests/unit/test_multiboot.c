/* SPDX-License-Identifier: MIT */
/*
 * boot/multiboot.c: mb1_parse and mb2_parse on information blocks built
 * here, laid out in a fake physical address space (fake_phys.h) whose map
 * callback returns NULL outside the regions we placed.  Good blocks as BIOS
 * GRUB, EFI GRUB and QEMU's multiboot1 loader make them, then broken ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/boot_info.h>
#include <petrel/lib.h>

#include "fake_phys.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

#define INFO_PHYS 0x10000ull

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* --- building multiboot2 blocks (Multiboot2 1.0 §3.6) ----------------------- */

struct mb2 {
	uint8_t b[16384];
	uint32_t off;
};

static void mb2_begin(struct mb2 *m)
{
	memset(m, 0, sizeof(*m));
	m->off = 8;
}

/* Appends a tag: header, then `len` payload bytes, padded to 8. */
static uint8_t *mb2_tag(struct mb2 *m, uint32_t type, const void *payload, uint32_t len)
{
	uint8_t *t = m->b + m->off;

	assert_true(m->off + 8 + len + 8 <= sizeof(m->b));
	put32(t, type);
	put32(t + 4, 8 + len);
	if (payload)
		memcpy(t + 8, payload, len);
	m->off = (uint32_t)ALIGN_UP(m->off + 8 + len, 8);
	return t;
}

static void mb2_string_tag(struct mb2 *m, uint32_t type, const char *s)
{
	mb2_tag(m, type, s, (uint32_t)strlen(s) + 1);
}

static void mb2_module(struct mb2 *m, uint32_t start, uint32_t end, const char *s)
{
	uint8_t p[256];
	uint32_t n = (uint32_t)strlen(s) + 1;

	put32(p, start);
	put32(p + 4, end);
	memcpy(p + 8, s, n);
	mb2_tag(m, 3, p, 8 + n);
}

struct e820 { uint64_t base, len; uint32_t type; };

/* Tag 6: entry_size 24, version 0, then the entries. */
static void mb2_mmap(struct mb2 *m, const struct e820 *e, uint32_t n)
{
	uint8_t p[16 + 24 * 64] = { 0 };

	put32(p, 24);
	for (uint32_t i = 0; i < n; i++) {
		put64(p + 8 + 24 * i, e[i].base);
		put64(p + 16 + 24 * i, e[i].len);
		put32(p + 24 + 24 * i, e[i].type);
	}
	mb2_tag(m, 6, p, 8 + 24 * n);
}

struct efi_desc { uint32_t type; uint64_t phys, pages; };

/* Tag 17 with OVMF's 48-byte descriptors (40 defined + 8 of padding). */
static void mb2_efi_mmap(struct mb2 *m, const struct efi_desc *d, uint32_t n)
{
	uint8_t p[8 + 48 * 32];

	memset(p, 0xee, sizeof(p)); /* padding and VirtualStart: junk */
	put32(p, 48);
	put32(p + 4, 1);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *e = p + 8 + 48 * i;
		put32(e, d[i].type);
		put64(e + 8, d[i].phys);
		put64(e + 24, d[i].pages);
		put64(e + 32, 0xf);
	}
	mb2_tag(m, 17, p, 8 + 48 * n);
}

/* Adds the end tag, fills in total_size and places the block. */
static uint32_t mb2_finish(struct mb2 *m, struct fake_phys *ph, uint64_t at)
{
	mb2_tag(m, 0, NULL, 0);
	put32(m->b, m->off);
	fake_phys_add_copy(ph, at, m->b, m->off);
	return m->off;
}

/* A block with one tag too big for struct mb2, then the end tag. */
static void place_one_tag(struct fake_phys *ph, uint32_t type, const uint8_t *payload, uint32_t len)
{
	uint32_t end = (uint32_t)ALIGN_UP(16 + len, 8), total = end + 8;
	uint8_t *blk = fake_phys_add(ph, INFO_PHYS, total);

	put32(blk, total);
	put32(blk + 8, type);
	put32(blk + 12, 8 + len);
	memcpy(blk + 16, payload, len);
	put32(blk + end + 4, 8); /* end tag: type 0, size 8 */
}

/* An RSDP: v1 (20 bytes) or v2 (36), checksums not needed by the parser. */
static void make_rsdp(uint8_t *r, int rev, uint32_t rsdt, uint64_t xsdt)
{
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "PETREL", 6);
	r[15] = (uint8_t)rev;
	put32(r + 16, rsdt);
	if (rev >= 2) {
		put32(r + 20, 36);
		put64(r + 24, xsdt);
	}
}

static const struct e820 qemu_e820[] = {
	{ 0x0, 0x9fc00, 1 },           { 0x9fc00, 0x400, 2 },      { 0xf0000, 0x10000, 2 },
	{ 0x100000, 0x3fee0000, 1 },   { 0x3ffe0000, 0x20000, 2 }, { 0xfeffc000, 0x4000, 2 },
	{ 0xfffc0000, 0x40000, 2 },    { 0xfd00000000ull, 0x300000000ull, 2 },
};

struct run {
	struct fake_phys ph;
	struct boot_info *bi;
	char err[160];
	int rc;
};

static struct run *new_run(void)
{
	struct run *r = calloc(1, sizeof(*r));
	r->bi = malloc(sizeof(*r->bi));
	memset(r->bi, 0x5a, sizeof(*r->bi)); /* the parser must clear it */
	return r;
}

static void end_run(struct run *r)
{
	fake_phys_free(&r->ph);
	free(r->bi);
	free(r);
}

static void run_mb2(struct run *r, uint64_t at)
{
	r->err[0] = '\0';
	r->rc = mb2_parse(at, fake_phys_map, &r->ph, r->bi, r->err, sizeof(r->err));
}

static void run_mb1(struct run *r, uint64_t at)
{
	r->err[0] = '\0';
	r->rc = mb1_parse(at, fake_phys_map, &r->ph, r->bi, r->err, sizeof(r->err));
}

static void expect_ok(const struct run *r)
{
	if (r->rc != 0)
		fail_msg("parse failed: %s", r->err);
}

static void expect_error(const struct run *r, const char *what)
{
	if (r->rc != -1)
		fail_msg("parse succeeded (rc %d), want an error about \"%s\"", r->rc, what);
	if (!strstr(r->err, what))
		fail_msg("error \"%s\" does not mention \"%s\"", r->err, what);
}

static void expect_mem(const struct boot_info *bi, uint32_t i, uint64_t base, uint64_t len, uint32_t type)
{
	assert_true(i < bi->nr_mem);
	if (bi->mem[i].base != base || bi->mem[i].len != len || bi->mem[i].type != type)
		fail_msg("mem[%u] = 0x%llx+0x%llx type %u, want 0x%llx+0x%llx type %u", i,
			 (unsigned long long)bi->mem[i].base, (unsigned long long)bi->mem[i].len,
			 bi->mem[i].type, (unsigned long long)base, (unsigned long long)len, type);
}

/* --- multiboot2: good blocks ------------------------------------------------ */

/* What BIOS GRUB hands over: loader name, command line, modules, basic
 * meminfo, the e820 map, a framebuffer, both ACPI tags. */
TEST(test_mb2_bios_grub)
{
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));
	uint8_t rsdp1[36], rsdp2[36], meminfo[8] = { 0 };
	struct e820 map[ARRAY_SIZE(qemu_e820) + 4];

	memcpy(map, qemu_e820, sizeof(qemu_e820));
	map[8] = (struct e820){ 0x40000000, 0x1000, 3 };  /* ACPI reclaimable */
	map[9] = (struct e820){ 0x40001000, 0x1000, 4 };  /* ACPI NVS */
	map[10] = (struct e820){ 0x40002000, 0x1000, 5 }; /* bad */
	map[11] = (struct e820){ 0x40003000, 0x1000, 12 }; /* unknown: reserved */
	make_rsdp(rsdp1, 0, 0x3ffe1b33, 0);
	make_rsdp(rsdp2, 2, 0x3ffe1b33, 0x3ffe1c00);

	mb2_begin(m);
	mb2_string_tag(m, 2, "GRUB 2.06-13+deb12u1");
	mb2_string_tag(m, 1, "/boot/hv.elf serial=0x2f8 loglevel=debug");
	mb2_module(m, 0x800000, 0x9a3f00, "/guests/bzImage console=ttyS0");
	mb2_module(m, 0xa00000, 0xa00001, "/guests/initrd");
	mb2_tag(m, 4, meminfo, sizeof(meminfo));
	mb2_mmap(m, map, ARRAY_SIZE(map));
	mb2_tag(m, 8, NULL, 24); /* framebuffer: not ours */
	mb2_tag(m, 14, rsdp1, 20);
	mb2_tag(m, 15, rsdp2, 36);
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);

	expect_ok(r);
	assert_int_equal(r->bi->path, BOOT_PATH_MB2_BIOS);
	assert_string_equal(r->bi->cmdline, "/boot/hv.elf serial=0x2f8 loglevel=debug");
	assert_int_equal(r->bi->nr_modules, 2);
	assert_int_equal(r->bi->modules[0].start, 0x800000);
	assert_int_equal(r->bi->modules[0].end, 0x9a3f00);
	assert_string_equal(r->bi->modules[0].cmdline, "/guests/bzImage console=ttyS0");
	assert_int_equal(r->bi->modules[1].start, 0xa00000);
	assert_int_equal(r->bi->modules[1].end, 0xa00001);
	assert_string_equal(r->bi->modules[1].cmdline, "/guests/initrd");
	assert_int_equal(r->bi->nr_mem, ARRAY_SIZE(map));
	for (uint32_t i = 0; i < ARRAY_SIZE(qemu_e820); i++)
		expect_mem(r->bi, i, qemu_e820[i].base, qemu_e820[i].len, qemu_e820[i].type);
	expect_mem(r->bi, 8, 0x40000000, 0x1000, BOOT_MEM_ACPI_RECLAIM);
	expect_mem(r->bi, 9, 0x40001000, 0x1000, BOOT_MEM_ACPI_NVS);
	expect_mem(r->bi, 10, 0x40002000, 0x1000, BOOT_MEM_BAD);
	expect_mem(r->bi, 11, 0x40003000, 0x1000, BOOT_MEM_RESERVED);
	/* The ACPI 2.0 RSDP wins; it is a copy, so no physical address. */
	assert_true(r->bi->has_rsdp);
	assert_memory_equal(r->bi->rsdp, rsdp2, 36);
	assert_int_equal(r->bi->rsdp_phys, 0);
	free(m);
	end_run(r);
}

/* Tag 15 before tag 14: still the 2.0 copy.  Tag 14 alone: 20 bytes, the
 * rest zero. */
TEST(test_mb2_acpi_tag_order)
{
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));
	uint8_t rsdp1[36], rsdp2[36], zero[16] = { 0 };

	make_rsdp(rsdp1, 0, 0x1111, 0);
	make_rsdp(rsdp2, 2, 0x2222, 0x3333);
	mb2_begin(m);
	mb2_tag(m, 15, rsdp2, 36);
	mb2_tag(m, 14, rsdp1, 20);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_ok(r);
	assert_memory_equal(r->bi->rsdp, rsdp2, 36);
	end_run(r);

	r = new_run();
	mb2_begin(m);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	mb2_tag(m, 14, rsdp1, 20);
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_ok(r);
	assert_true(r->bi->has_rsdp);
	assert_memory_equal(r->bi->rsdp, rsdp1, 20);
	assert_memory_equal(r->bi->rsdp + 20, zero, 16);
	end_run(r);

	/* No ACPI tag: no RSDP (the core then searches the BIOS area). */
	r = new_run();
	mb2_begin(m);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_ok(r);
	assert_false(r->bi->has_rsdp);
	assert_int_equal(r->bi->nr_modules, 0);
	assert_string_equal(r->bi->cmdline, "");
	free(m);
	end_run(r);
}

/* What EFI GRUB hands over: tags 12 (EFI64 system table) and 17 (the
 * firmware's memory map) next to the e820-style tag 6.  The EFI map must
 * be the one used, with its types converted. */
TEST(test_mb2_efi_grub)
{
	static const struct efi_desc efi[] = {
		{ 7, 0x0, 0xa0 },            /* conventional */
		{ 6, 0xa0000, 0x60 },        /* runtime data: reserved */
		{ 2, 0x100000, 0x700 },      /* loader data: usable */
		{ 1, 0x800000, 0x10 },       /* loader code */
		{ 4, 0x810000, 0x100 },      /* boot services data */
		{ 3, 0x910000, 0x20 },       /* boot services code */
		{ 9, 0x3fb76000, 0x8 },      /* ACPI reclaim */
		{ 10, 0x3fb7e000, 0x4 },     /* ACPI NVS */
		{ 8, 0x3fb82000, 0x1 },      /* unusable */
		{ 5, 0x3fb83000, 0x2 },      /* runtime code: reserved */
		{ 11, 0xffc00000, 0x400 },   /* MMIO: reserved */
		{ 0, 0x3fb90000, 0x10 },     /* reserved */
		{ 7, 0x100000000ull, 0x40000 }, /* 1 GiB above 4 GiB */
	};
	static const uint32_t want_type[] = {
		BOOT_MEM_USABLE, BOOT_MEM_RESERVED, BOOT_MEM_USABLE, BOOT_MEM_USABLE, BOOT_MEM_USABLE,
		BOOT_MEM_USABLE, BOOT_MEM_ACPI_RECLAIM, BOOT_MEM_ACPI_NVS, BOOT_MEM_BAD,
		BOOT_MEM_RESERVED, BOOT_MEM_RESERVED, BOOT_MEM_RESERVED, BOOT_MEM_USABLE,
	};
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));
	uint8_t st[8], rsdp2[36];

	put64(st, 0x3f9ee018);
	make_rsdp(rsdp2, 2, 0x3fb7d074, 0x3fb7d0e8);
	mb2_begin(m);
	mb2_string_tag(m, 1, "/boot/hv.elf acpidump");
	mb2_tag(m, 12, st, 8);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820)); /* must be ignored */
	mb2_efi_mmap(m, efi, ARRAY_SIZE(efi));
	mb2_tag(m, 15, rsdp2, 36);
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);

	expect_ok(r);
	assert_int_equal(r->bi->path, BOOT_PATH_MB2_EFI);
	assert_string_equal(r->bi->cmdline, "/boot/hv.elf acpidump");
	assert_int_equal(r->bi->nr_mem, ARRAY_SIZE(efi));
	for (uint32_t i = 0; i < ARRAY_SIZE(efi); i++)
		expect_mem(r->bi, i, efi[i].phys, efi[i].pages * 4096, want_type[i]);
	assert_memory_equal(r->bi->rsdp, rsdp2, 36);
	free(m);
	end_run(r);
}

/* The EFI tags each make the path EFI; without tag 17 the e820 map is used. */
TEST(test_mb2_efi_tags_alone)
{
	static const struct efi_desc efi[] = { { 7, 0x100000, 0x100 }, { 0, 0x0, 0 } };
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));
	uint8_t st[8] = { 0 };

	mb2_begin(m);
	mb2_tag(m, 12, st, 8);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_ok(r);
	assert_int_equal(r->bi->path, BOOT_PATH_MB2_EFI);
	assert_int_equal(r->bi->nr_mem, ARRAY_SIZE(qemu_e820));
	expect_mem(r->bi, 3, 0x100000, 0x3fee0000, BOOT_MEM_USABLE);
	end_run(r);

	/* Tag 17 alone; a zero-page descriptor is dropped. */
	r = new_run();
	mb2_begin(m);
	mb2_efi_mmap(m, efi, ARRAY_SIZE(efi));
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_ok(r);
	assert_int_equal(r->bi->path, BOOT_PATH_MB2_EFI);
	assert_int_equal(r->bi->nr_mem, 1);
	expect_mem(r->bi, 0, 0x100000, 0x100000, BOOT_MEM_USABLE);
	free(m);
	end_run(r);
}

TEST(test_efi_memory_types)
{
	static const enum boot_mem_type want[] = {
		[0] = BOOT_MEM_RESERVED,      /* EfiReservedMemoryType */
		[1] = BOOT_MEM_USABLE,        /* EfiLoaderCode */
		[2] = BOOT_MEM_USABLE,        /* EfiLoaderData */
		[3] = BOOT_MEM_USABLE,        /* EfiBootServicesCode */
		[4] = BOOT_MEM_USABLE,        /* EfiBootServicesData */
		[5] = BOOT_MEM_RESERVED,      /* EfiRuntimeServicesCode */
		[6] = BOOT_MEM_RESERVED,      /* EfiRuntimeServicesData */
		[7] = BOOT_MEM_USABLE,        /* EfiConventionalMemory */
		[8] = BOOT_MEM_BAD,           /* EfiUnusableMemory */
		[9] = BOOT_MEM_ACPI_RECLAIM,  /* EfiACPIReclaimMemory */
		[10] = BOOT_MEM_ACPI_NVS,     /* EfiACPIMemoryNVS */
		[11] = BOOT_MEM_RESERVED,     /* EfiMemoryMappedIO */
		[12] = BOOT_MEM_RESERVED,     /* EfiMemoryMappedIOPortSpace */
		[13] = BOOT_MEM_RESERVED,     /* EfiPalCode */
		[14] = BOOT_MEM_RESERVED,     /* EfiPersistentMemory */
		[15] = BOOT_MEM_RESERVED,     /* EfiUnacceptedMemoryType */
	};
	for (uint32_t t = 0; t < ARRAY_SIZE(want); t++)
		if (boot_mem_type_from_efi(t) != want[t])
			fail_msg("EFI type %u -> %d, want %d", t, boot_mem_type_from_efi(t), want[t]);
	/* OEM and OS-vendor ranges (0x70000000+, 0x80000000+) are not RAM. */
	assert_int_equal(boot_mem_type_from_efi(0x70000000), BOOT_MEM_RESERVED);
	assert_int_equal(boot_mem_type_from_efi(0x80000007), BOOT_MEM_RESERVED);
	assert_int_equal(boot_mem_type_from_efi(UINT32_MAX), BOOT_MEM_RESERVED);
}

/* A command line longer than boot_info holds is cut, still terminated. */
TEST(test_mb2_long_cmdline)
{
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));
	char line[1200];

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	mb2_begin(m);
	mb2_string_tag(m, 1, line);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_ok(r);
	assert_int_equal(strlen(r->bi->cmdline), BOOT_CMDLINE_MAX - 1);
	free(m);
	end_run(r);
}

/* --- multiboot2: broken blocks ---------------------------------------------- */

TEST(test_mb2_missing_or_misaligned_info)
{
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));

	run_mb2(r, 0);
	expect_error(r, "missing or misaligned");
	assert_int_equal(r->bi->path, BOOT_PATH_MB2_BIOS);
	assert_int_equal(r->bi->nr_mem, 0); /* cleared even on failure */
	run_mb2(r, 0x50000); /* nothing there */
	expect_error(r, "missing or misaligned");

	mb2_begin(m);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	mb2_finish(m, &r->ph, INFO_PHYS + 4); /* a good block, misplaced */
	run_mb2(r, INFO_PHYS + 4);
	expect_error(r, "missing or misaligned");
	free(m);
	end_run(r);
}

TEST(test_mb2_bad_total_size)
{
	struct run *r = new_run();
	uint8_t *b;

	/* total_size below the minimum, above 1 MiB, and past the mapping. */
	b = fake_phys_add(&r->ph, INFO_PHYS, 64);
	put32(b, 8);
	put32(b + 8, 0);
	put32(b + 12, 8);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "garbled size");
	put32(b, (1u << 20) + 8);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "garbled size");
	put32(b, 72);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "garbled size");
	end_run(r);
}

TEST(test_mb2_tag_past_end)
{
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));
	uint8_t *t;

	mb2_begin(m);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	t = mb2_tag(m, 1, "x", 2);
	put32(t + 4, 0x1000); /* the command line claims 4 KiB */
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "runs past");
	end_run(r);

	/* A tag size below the 8-byte header would loop forever. */
	r = new_run();
	mb2_begin(m);
	t = mb2_tag(m, 2, "GRUB", 5);
	put32(t + 4, 4);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "runs past");
	free(m);
	end_run(r);
}

TEST(test_mb2_missing_end_tag)
{
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));

	mb2_begin(m);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	put32(m->b, m->off); /* total_size covers the tags, no end tag */
	fake_phys_add_copy(&r->ph, INFO_PHYS, m->b, m->off);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "no end tag");
	end_run(r);

	/* Four stray zero bytes after the last tag are not an end tag. */
	r = new_run();
	mb2_begin(m);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	put32(m->b, m->off + 4);
	fake_phys_add_copy(&r->ph, INFO_PHYS, m->b, m->off + 4);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "no end tag");
	free(m);
	end_run(r);
}

TEST(test_mb2_missing_memory_map)
{
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));

	mb2_begin(m);
	mb2_string_tag(m, 1, "acpidump");
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "no memory map");
	free(m);
	end_run(r);
}

/* An entry size the parser cannot walk with: too small is an error; too
 * big must not read past the tag (ASan watches the block's end). */
TEST(test_mb2_garbled_mmap_entry_size)
{
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));
	uint8_t *t;

	mb2_begin(m);
	t = m->b + m->off;
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	put32(t + 8, 16);
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "memory map tag is garbled");
	end_run(r);

	r = new_run();
	mb2_begin(m);
	t = m->b + m->off;
	mb2_mmap(m, qemu_e820, 1);
	put32(t + 8, 0xfffffff8); /* 16 + this wraps to 8 in 32 bits */
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	assert_int_equal(r->bi->nr_mem, 0); /* no entry is whole */
	end_run(r);

	/* No entries at all and the tag last before the end tag. */
	r = new_run();
	mb2_begin(m);
	t = m->b + m->off;
	mb2_mmap(m, qemu_e820, 0);
	put32(t + 8, 0xfffffff0);
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	assert_int_equal(r->bi->nr_mem, 0);
	end_run(r);

	/* The same for the EFI map's descriptor size. */
	static const struct efi_desc one[] = { { 7, 0x100000, 0x100 } };
	r = new_run();
	mb2_begin(m);
	t = m->b + m->off;
	mb2_efi_mmap(m, one, 1);
	put32(t + 8, 32);
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "EFI memory map tag is garbled");
	end_run(r);

	r = new_run();
	mb2_begin(m);
	t = m->b + m->off;
	mb2_efi_mmap(m, one, 1);
	put32(t + 8, 0xfffffff8);
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	assert_int_equal(r->bi->nr_mem, 0);
	free(m);
	end_run(r);
}

/* NumberOfPages so large that the byte length overflows. */
TEST(test_mb2_efi_pages_overflow)
{
	static const struct efi_desc huge[] = { { 7, 0x100000, 1ull << 52 } };
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));

	mb2_begin(m);
	mb2_efi_mmap(m, huge, 1);
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "EFI memory map entry is garbled");
	free(m);
	end_run(r);
}

TEST(test_mb2_too_many_entries_and_modules)
{
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));

	/* 17 modules. */
	mb2_begin(m);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	for (uint32_t i = 0; i <= BOOT_MAX_MODULES; i++)
		mb2_module(m, 0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000 + 0x800, "/guests/m");
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "too many modules");
	end_run(r);

	/* 16 are fine. */
	r = new_run();
	mb2_begin(m);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	for (uint32_t i = 0; i < BOOT_MAX_MODULES; i++)
		mb2_module(m, 0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000 + 0x800, "/guests/m");
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_ok(r);
	assert_int_equal(r->bi->nr_modules, BOOT_MAX_MODULES);
	end_run(r);

	/* 257 EFI descriptors: more than boot_info holds. */
	r = new_run();
	{
		uint32_t n = BOOT_MAX_MEM + 1, len = 8 + 48 * n;
		uint8_t *big = calloc(1, len);
		put32(big, 48);
		for (uint32_t i = 0; i < n; i++) {
			put32(big + 8 + 48 * i, 7);
			put64(big + 16 + 48 * i, 0x100000 + 0x2000ull * i);
			put64(big + 32 + 48 * i, 1);
		}
		place_one_tag(&r->ph, 17, big, len);
		free(big);
	}
	run_mb2(r, INFO_PHYS);
	expect_error(r, "too many entries");
	free(m);
	end_run(r);
}

TEST(test_mb2_garbled_small_tags)
{
	struct run *r = new_run();
	struct mb2 *m = malloc(sizeof(*m));
	uint8_t mod[8] = { 0 };
	uint8_t rsdp[19] = "RSD PTR ";

	mb2_begin(m);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	mb2_tag(m, 3, mod, 8); /* no room for the string's NUL */
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "module tag is garbled");
	end_run(r);

	r = new_run();
	mb2_begin(m);
	mb2_mmap(m, qemu_e820, ARRAY_SIZE(qemu_e820));
	mb2_tag(m, 14, rsdp, sizeof(rsdp)); /* shorter than an RSDP */
	mb2_finish(m, &r->ph, INFO_PHYS);
	run_mb2(r, INFO_PHYS);
	expect_error(r, "RSDP tag is too short");
	free(m);
	end_run(r);
}

/* --- multiboot1 (Multiboot 0.6.96 §3.3) ------------------------------------- */

#define MB1_MMAP_PHYS 0x20000ull
#define MB1_MODS_PHYS 0x21000ull
#define MB1_STR_PHYS 0x22000ull

/* The 88 bytes of the information structure the parser reads. */
static uint8_t *mb1_info(struct run *r, uint32_t flags)
{
	uint8_t *info = fake_phys_add(&r->ph, INFO_PHYS, 88);
	put32(info, flags);
	put32(info + 4, 639);
	put32(info + 8, 1047424);
	return info;
}

/* GRUB-legacy/QEMU style entries: size 20, base, length, type. */
static void mb1_mmap(struct run *r, uint8_t *info, const struct e820 *e, uint32_t n, uint32_t esize)
{
	uint32_t len = (esize + 4) * n;
	uint8_t *p = fake_phys_add(&r->ph, MB1_MMAP_PHYS, len);

	for (uint32_t i = 0; i < n; i++) {
		uint8_t *q = p + (esize + 4) * i;
		put32(q, esize);
		put64(q + 4, e[i].base);
		put64(q + 12, e[i].len);
		put32(q + 20, e[i].type);
	}
	put32(info + 44, len);
	put32(info + 48, (uint32_t)MB1_MMAP_PHYS);
}

/* Strings at MB1_STR_PHYS, one region; returns their addresses. */
static void mb1_strings(struct run *r, const char *const *s, uint32_t n, uint32_t *addr)
{
	uint32_t len = 0, off = 0;
	uint8_t *p;

	for (uint32_t i = 0; i < n; i++)
		len += (uint32_t)strlen(s[i]) + 1;
	p = fake_phys_add(&r->ph, MB1_STR_PHYS, len);
	for (uint32_t i = 0; i < n; i++) {
		memcpy(p + off, s[i], strlen(s[i]) + 1);
		addr[i] = (uint32_t)MB1_STR_PHYS + off;
		off += (uint32_t)strlen(s[i]) + 1;
	}
}

static void mb1_mods(struct run *r, uint8_t *info, const uint32_t (*mods)[3], uint32_t n)
{
	uint8_t *p = fake_phys_add(&r->ph, MB1_MODS_PHYS, 16 * (n ? n : 1));

	for (uint32_t i = 0; i < n; i++) {
		put32(p + 16 * i, mods[i][0]);
		put32(p + 16 * i + 4, mods[i][1]);
		put32(p + 16 * i + 8, mods[i][2]);
	}
	put32(info + 20, n);
	put32(info + 24, (uint32_t)MB1_MODS_PHYS);
}

/* QEMU -kernel hv.elf -append ... -initrd "a args,b": flags 0x24f. */
TEST(test_mb1_qemu)
{
	static const char *const str[] = { "/work/build/hv.elf acpidump", "guest.elf console=ttyS0", "b" };
	struct run *r = new_run();
	uint32_t addr[3];
	uint8_t *info = mb1_info(r, 0x24f);

	mb1_mmap(r, info, qemu_e820, ARRAY_SIZE(qemu_e820), 20);
	mb1_strings(r, str, 3, addr);
	put32(info + 16, addr[0]);
	const uint32_t mods[][3] = { { 0x400000, 0x412345, addr[1] }, { 0x413000, 0x414000, addr[2] } };
	mb1_mods(r, info, mods, 2);
	run_mb1(r, INFO_PHYS);

	expect_ok(r);
	assert_int_equal(r->bi->path, BOOT_PATH_MB1);
	assert_string_equal(r->bi->cmdline, str[0]);
	assert_int_equal(r->bi->nr_mem, ARRAY_SIZE(qemu_e820));
	for (uint32_t i = 0; i < ARRAY_SIZE(qemu_e820); i++)
		expect_mem(r->bi, i, qemu_e820[i].base, qemu_e820[i].len, qemu_e820[i].type);
	assert_int_equal(r->bi->nr_modules, 2);
	assert_int_equal(r->bi->modules[0].start, 0x400000);
	assert_int_equal(r->bi->modules[0].end, 0x412345);
	assert_string_equal(r->bi->modules[0].cmdline, str[1]);
	assert_int_equal(r->bi->modules[1].start, 0x413000);
	assert_string_equal(r->bi->modules[1].cmdline, str[2]);
	assert_false(r->bi->has_rsdp); /* multiboot1 carries no RSDP */
	end_run(r);
}

/* Entries larger than 20 bytes: the size field sets the stride. */
TEST(test_mb1_wide_mmap_entries)
{
	struct run *r = new_run();
	uint8_t *info = mb1_info(r, 1u << 6);

	mb1_mmap(r, info, qemu_e820, 4, 28);
	run_mb1(r, INFO_PHYS);
	expect_ok(r);
	assert_int_equal(r->bi->nr_mem, 4);
	expect_mem(r->bi, 3, 0x100000, 0x3fee0000, BOOT_MEM_USABLE);
	assert_string_equal(r->bi->cmdline, "");
	end_run(r);
}

/* Fields whose flag is clear are not read, however wild they are. */
TEST(test_mb1_flags_gate_fields)
{
	struct run *r = new_run();
	uint8_t *info = mb1_info(r, 1u << 6);

	mb1_mmap(r, info, qemu_e820, ARRAY_SIZE(qemu_e820), 20);
	put32(info + 16, 0xdead0000);
	put32(info + 20, 1000);
	put32(info + 24, 0xdead1000);
	run_mb1(r, INFO_PHYS);
	expect_ok(r);
	assert_int_equal(r->bi->nr_modules, 0);
	assert_string_equal(r->bi->cmdline, "");
	end_run(r);
}

TEST(test_mb1_missing_info_or_mmap)
{
	struct run *r = new_run();
	uint8_t *info;

	run_mb1(r, 0);
	expect_error(r, "missing or unreadable");
	assert_int_equal(r->bi->path, BOOT_PATH_MB1);
	run_mb1(r, 0x50000);
	expect_error(r, "missing or unreadable");

	info = mb1_info(r, 0x4); /* a command line, no memory map */
	run_mb1(r, INFO_PHYS);
	expect_error(r, "no memory map");
	end_run(r);

	/* The flag, but the map is elsewhere or empty. */
	r = new_run();
	info = mb1_info(r, 1u << 6);
	put32(info + 44, 24);
	put32(info + 48, 0x90000);
	run_mb1(r, INFO_PHYS);
	expect_error(r, "memory map unreadable or empty");
	mb1_mmap(r, info, qemu_e820, 0, 20);
	run_mb1(r, INFO_PHYS);
	expect_error(r, "memory map unreadable or empty");
	end_run(r);
}

TEST(test_mb1_garbled_mmap_entry_size)
{
	static const uint32_t bad_sizes[] = { 0, 19, 24, 0xfffffffc, 0xffffffff };

	for (uint32_t k = 0; k < ARRAY_SIZE(bad_sizes); k++) {
		struct run *r = new_run();
		uint8_t *info = mb1_info(r, 1u << 6);

		mb1_mmap(r, info, qemu_e820, 2, 20);
		put32(r->ph.r[1].data + 24, bad_sizes[k]); /* the second entry */
		run_mb1(r, INFO_PHYS);
		if (r->rc != -1 || !strstr(r->err, "memory map entry is garbled"))
			fail_msg("entry size 0x%x: rc %d, \"%s\"", bad_sizes[k], r->rc, r->err);
		end_run(r);
	}
}

TEST(test_mb1_module_problems)
{
	static const char *const str[] = { "a", "unterminated" };
	struct run *r = new_run();
	uint32_t addr[2];
	uint8_t *info = mb1_info(r, (1u << 6) | (1u << 3));

	/* 17 modules. */
	mb1_mmap(r, info, qemu_e820, ARRAY_SIZE(qemu_e820), 20);
	put32(info + 20, BOOT_MAX_MODULES + 1);
	put32(info + 24, (uint32_t)MB1_MODS_PHYS);
	run_mb1(r, INFO_PHYS);
	expect_error(r, "too many modules");

	/* A module list that is not there. */
	put32(info + 20, 2);
	run_mb1(r, INFO_PHYS);
	expect_error(r, "module list unreadable");

	/* A module string outside memory, then one running off the end. */
	mb1_strings(r, str, 2, addr);
	r->ph.r[r->ph.n - 1].data[r->ph.r[r->ph.n - 1].len - 1] = 'X'; /* no NUL at the end */
	const uint32_t mods[][3] = { { 0x400000, 0x401000, addr[0] }, { 0x402000, 0x403000, 0x7777000 } };
	mb1_mods(r, info, mods, 2);
	run_mb1(r, INFO_PHYS);
	expect_error(r, "module command line unreadable");
	put32(r->ph.r[r->ph.n - 1].data + 16 + 8, addr[1]);
	run_mb1(r, INFO_PHYS);
	expect_error(r, "module command line unreadable");

	/* Fixed, and a string pointer of 0 means no string. */
	put32(r->ph.r[r->ph.n - 1].data + 16 + 8, 0);
	run_mb1(r, INFO_PHYS);
	expect_ok(r);
	assert_int_equal(r->bi->nr_modules, 2);
	assert_string_equal(r->bi->modules[0].cmdline, "a");
	assert_string_equal(r->bi->modules[1].cmdline, "");
	end_run(r);
}

TEST(test_mb1_cmdline_unreadable)
{
	struct run *r = new_run();
	uint8_t *info = mb1_info(r, (1u << 6) | (1u << 2));

	mb1_mmap(r, info, qemu_e820, ARRAY_SIZE(qemu_e820), 20);
	put32(info + 16, 0x7777000);
	run_mb1(r, INFO_PHYS);
	expect_error(r, "command line unreadable");
	end_run(r);
}

TEST(test_boot_path_names)
{
	assert_string_equal(boot_path_name(BOOT_PATH_MB1), "multiboot1");
	assert_string_equal(boot_path_name(BOOT_PATH_MB2_BIOS), "multiboot2-bios");
	assert_string_equal(boot_path_name(BOOT_PATH_MB2_EFI), "multiboot2-efi");
	assert_string_equal(boot_path_name(BOOT_PATH_UEFI), "uefi");
	assert_string_equal(boot_path_name(BOOT_PATH_NONE), "unknown");
	assert_string_equal(boot_path_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mb2_bios_grub),
		cmocka_unit_test(test_mb2_acpi_tag_order),
		cmocka_unit_test(test_mb2_efi_grub),
		cmocka_unit_test(test_mb2_efi_tags_alone),
		cmocka_unit_test(test_efi_memory_types),
		cmocka_unit_test(test_mb2_long_cmdline),
		cmocka_unit_test(test_mb2_missing_or_misaligned_info),
		cmocka_unit_test(test_mb2_bad_total_size),
		cmocka_unit_test(test_mb2_tag_past_end),
		cmocka_unit_test(test_mb2_missing_end_tag),
		cmocka_unit_test(test_mb2_missing_memory_map),
		cmocka_unit_test(test_mb2_garbled_mmap_entry_size),
		cmocka_unit_test(test_mb2_efi_pages_overflow),
		cmocka_unit_test(test_mb2_too_many_entries_and_modules),
		cmocka_unit_test(test_mb2_garbled_small_tags),
		cmocka_unit_test(test_mb1_qemu),
		cmocka_unit_test(test_mb1_wide_mmap_entries),
		cmocka_unit_test(test_mb1_flags_gate_fields),
		cmocka_unit_test(test_mb1_missing_info_or_mmap),
		cmocka_unit_test(test_mb1_garbled_mmap_entry_size),
		cmocka_unit_test(test_mb1_module_problems),
		cmocka_unit_test(test_mb1_cmdline_unreadable),
		cmocka_unit_test(test_boot_path_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
