/* SPDX-License-Identifier: MIT */
/*
 * The UEFI stub's pure parts, built for the host unchanged:
 * boot/efi/config.c (petrel.cfg, LoadOptions, module paths) and
 * boot/efi/memmap.c (the EFI memory map into boot_info regions).  Inputs
 * are copied into exact-size heap blocks, without a terminating NUL where
 * the real input has none, so that ASan catches reads past their end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/boot_info.h>
#include <petrel/lib.h>

#include "../../boot/efi/config.h"
#include "../../boot/efi/memmap.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

/* --- petrel.cfg ---------------------------------------------------------------- */

static struct boot_info *new_bi(void)
{
	struct boot_info *bi = calloc(1, sizeof(*bi));

	assert_non_null(bi);
	return bi;
}

/* Parses `len` bytes of `text` from an exact-size copy (no NUL after it). */
static int parse_n(const char *text, size_t len, struct boot_info *bi, struct cfg_error *err)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	*err = (struct cfg_error){ .line = 12345, .msg = NULL, .limit = 12345 };
	rc = cfg_parse(copy, len, bi, err);
	free(copy);
	return rc;
}

static struct boot_info *parse_ok(const char *text)
{
	struct boot_info *bi = new_bi();
	struct cfg_error err;

	if (parse_n(text, strlen(text), bi, &err) != 0)
		fail_msg("line %u: %s (limit %u)", err.line, err.msg, err.limit);
	return bi;
}

/* Expects failure at `line` with a message containing `what` and `limit`. */
static void parse_fails_n(const char *text, size_t len, unsigned line, const char *what,
			  unsigned limit)
{
	struct boot_info *bi = new_bi();
	struct cfg_error err;

	if (parse_n(text, len, bi, &err) != -1)
		fail_msg("accepted (want line %u: %s)", line, what);
	assert_non_null(err.msg);
	if (!strstr(err.msg, what))
		fail_msg("error \"%s\" does not mention \"%s\"", err.msg, what);
	if (err.line != line)
		fail_msg("error \"%s\" on line %u, want %u", err.msg, err.line, line);
	assert_int_equal(err.limit, limit);
	free(bi);
}

static void parse_fails(const char *text, unsigned line, const char *what, unsigned limit)
{
	parse_fails_n(text, strlen(text), line, what, limit);
}

TEST(test_cfg_example)
{
	struct boot_info *bi = parse_ok("# the hypervisor command line (the last cmdline line wins)\n"
					"cmdline serial=0x3f8 loglevel=info\n"
					"# module2 PATH ARGS: PATH from the volume root, '/' or '\\'\n"
					"module2 \\guests\\cpuid.elf vm=t0 mem=64M\n"
					"module2 /guests/linux.bin vm=l0\n");

	assert_string_equal(bi->cmdline, "serial=0x3f8 loglevel=info");
	assert_int_equal(bi->nr_modules, 2);
	assert_string_equal(bi->modules[0].cmdline, "\\guests\\cpuid.elf vm=t0 mem=64M");
	assert_string_equal(bi->modules[1].cmdline, "/guests/linux.bin vm=l0");
	/* Parsing only records the lines: loading fills start/end later. */
	assert_int_equal(bi->modules[0].start, 0);
	assert_int_equal(bi->modules[0].end, 0);
	assert_int_equal(bi->nr_mem, 0);
	free(bi);
}

TEST(test_cfg_empty_and_comment_only)
{
	struct boot_info *bi = parse_ok("");

	assert_string_equal(bi->cmdline, "");
	assert_int_equal(bi->nr_modules, 0);
	free(bi);
	bi = parse_ok("\n\n   \n\t\n# cmdline not-this\n   # module2 /nor/this.elf\n#\n");
	assert_string_equal(bi->cmdline, "");
	assert_int_equal(bi->nr_modules, 0);
	free(bi);
}

TEST(test_cfg_comments_blanks_and_hash_inside)
{
	struct boot_info *bi = parse_ok("\n"
					"   # indented comment\n"
					"\t\n"
					"cmdline a=1 # not a comment\n"
					"  module2   /x.elf   vm=\"a b\" # kept  \n"
					"#module2 /y.elf\n");

	assert_string_equal(bi->cmdline, "a=1 # not a comment");
	assert_int_equal(bi->nr_modules, 1);
	assert_string_equal(bi->modules[0].cmdline, "/x.elf   vm=\"a b\" # kept");
	free(bi);
}

TEST(test_cfg_tabs_and_no_final_newline)
{
	struct boot_info *bi = parse_ok("module2\t\\a.elf\tvm=a\ncmdline\tloglevel=debug");

	assert_string_equal(bi->cmdline, "loglevel=debug");
	assert_int_equal(bi->nr_modules, 1);
	assert_string_equal(bi->modules[0].cmdline, "\\a.elf\tvm=a");
	free(bi);
}

TEST(test_cfg_last_cmdline_wins)
{
	struct boot_info *bi = parse_ok("cmdline first=1\ncmdline second=2\n");

	assert_string_equal(bi->cmdline, "second=2");
	free(bi);
	bi = parse_ok("cmdline first=1\ncmdline\n"); /* an empty one still wins */
	assert_string_equal(bi->cmdline, "");
	free(bi);
}

TEST(test_cfg_crlf)
{
	struct boot_info *bi = parse_ok("# Windows\r\n\r\ncmdline serial=0x3f8\r\n"
					"module2 /guests/a.elf vm=a\r\nmodule2 /guests/b.elf vm=b\r\n");

	assert_string_equal(bi->cmdline, "serial=0x3f8");
	assert_int_equal(bi->nr_modules, 2);
	assert_string_equal(bi->modules[0].cmdline, "/guests/a.elf vm=a");
	assert_string_equal(bi->modules[1].cmdline, "/guests/b.elf vm=b");
	free(bi);
	parse_fails("cmdline x\r\n\r\nbogus\r\n", 3, "unknown keyword", 0);
}

TEST(test_cfg_utf8_bom)
{
	struct boot_info *bi = parse_ok("\xef\xbb\xbf" "cmdline loglevel=warn\r\nmodule2 /m.elf vm=m\r\n");

	assert_string_equal(bi->cmdline, "loglevel=warn");
	assert_int_equal(bi->nr_modules, 1);
	free(bi);
	bi = parse_ok("\xef\xbb\xbf");
	assert_int_equal(bi->nr_modules, 0);
	free(bi);
	/* Only at the very start, and line numbers still count from 1. */
	parse_fails("\xef\xbb\xbf" "junk\n", 1, "unknown keyword", 0);
	parse_fails("cmdline x\n\xef\xbb\xbf" "cmdline y\n", 2, "unknown keyword", 0);
}

TEST(test_cfg_unknown_keyword_line_number)
{
	parse_fails("# c\ncmdline a\n\nfoo bar\nmodule2 /x.elf\n", 4, "unknown keyword", 0);
	parse_fails("cmdlinex a=1\n", 1, "unknown keyword", 0);
	parse_fails("module /x.elf\n", 1, "unknown keyword", 0);
	parse_fails("module2x /x.elf\n", 1, "unknown keyword", 0);
	parse_fails("cmd a\n", 1, "unknown keyword", 0);
	parse_fails("\n\n\n\n\n\n\n\n\n=\n", 10, "unknown keyword", 0);
}

TEST(test_cfg_module2_needs_path)
{
	parse_fails("cmdline a\nmodule2\n", 2, "path", 0);
	parse_fails("module2   \t \n", 1, "path", 0);
	parse_fails("module2\r\n", 1, "path", 0);
}

TEST(test_cfg_too_many_modules)
{
	char text[64 * (BOOT_MAX_MODULES + 2)];
	size_t n = 0;
	struct boot_info *bi;

	for (int i = 0; i < BOOT_MAX_MODULES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "module2 /g/%d.elf vm=v%d\n", i, i);
	bi = parse_ok(text);
	assert_int_equal(bi->nr_modules, BOOT_MAX_MODULES);
	assert_string_equal(bi->modules[0].cmdline, "/g/0.elf vm=v0");
	assert_string_equal(bi->modules[BOOT_MAX_MODULES - 1].cmdline, "/g/15.elf vm=v15");
	free(bi);

	snprintf(text + n, sizeof(text) - n, "# one more\nmodule2 /g/x.elf vm=x\n");
	parse_fails(text, BOOT_MAX_MODULES + 2, "too many", BOOT_MAX_MODULES);
}

/* A line of `len` characters: "# xxx..." */
static char *comment_line(size_t len, const char *nl)
{
	char *s = malloc(len + strlen(nl) + 1);

	assert_non_null(s);
	memset(s, 'x', len);
	s[0] = '#';
	strcpy(s + len, nl);
	return s;
}

TEST(test_cfg_line_length_limit)
{
	char *ok = comment_line(CFG_LINE_MAX, "\n");
	char *ok_last = comment_line(CFG_LINE_MAX, "");
	char *ok_crlf = comment_line(CFG_LINE_MAX, "\r\n");
	char *bad = comment_line(CFG_LINE_MAX + 1, "\n");
	char *bad_last = comment_line(CFG_LINE_MAX + 1, "");
	char *bad_crlf = comment_line(CFG_LINE_MAX + 1, "\r\n");
	char two[2 * CFG_LINE_MAX + 16];

	free(parse_ok(ok));
	free(parse_ok(ok_last));
	/* The newline is not part of the line, whichever newline it is. */
	free(parse_ok(ok_crlf));
	parse_fails(bad, 1, "line too long", CFG_LINE_MAX);
	parse_fails(bad_last, 1, "line too long", CFG_LINE_MAX);
	parse_fails(bad_crlf, 1, "line too long", CFG_LINE_MAX);
	snprintf(two, sizeof(two), "cmdline a\n%s", bad);
	parse_fails(two, 2, "line too long", CFG_LINE_MAX);
	free(ok);
	free(ok_last);
	free(ok_crlf);
	free(bad);
	free(bad_last);
	free(bad_crlf);
}

TEST(test_cfg_cmdline_limit)
{
	char text[BOOT_CMDLINE_MAX + 32];
	struct boot_info *bi;

	strcpy(text, "cmdline ");
	memset(text + 8, 'c', BOOT_CMDLINE_MAX - 1);
	strcpy(text + 8 + BOOT_CMDLINE_MAX - 1, "\n");
	bi = parse_ok(text);
	assert_int_equal(strlen(bi->cmdline), BOOT_CMDLINE_MAX - 1);
	free(bi);

	memset(text + 8, 'c', BOOT_CMDLINE_MAX);
	strcpy(text + 8 + BOOT_CMDLINE_MAX, "\n");
	parse_fails(text, 1, "cmdline too long", BOOT_CMDLINE_MAX - 1);
}

TEST(test_cfg_module_line_limit)
{
	char text[BOOT_MODNAME_MAX + 32];
	struct boot_info *bi;

	strcpy(text, "module2 /");
	memset(text + 9, 'm', BOOT_MODNAME_MAX - 2);
	strcpy(text + 9 + BOOT_MODNAME_MAX - 2, "\n");
	bi = parse_ok(text);
	assert_int_equal(bi->nr_modules, 1);
	assert_int_equal(strlen(bi->modules[0].cmdline), BOOT_MODNAME_MAX - 1);
	free(bi);

	strcpy(text, "cmdline a\nmodule2 /");
	memset(text + 19, 'm', BOOT_MODNAME_MAX - 1);
	strcpy(text + 19 + BOOT_MODNAME_MAX - 1, "\n");
	parse_fails(text, 2, "too long", BOOT_MODNAME_MAX - 1);
}

TEST(test_cfg_nul_and_size)
{
	static const char utf16[] = "c\0m\0d\0l\0i\0n\0e\0";
	char *big;

	parse_fails_n(utf16, sizeof(utf16) - 1, 1, "NUL", 0);
	parse_fails_n("cmdline a\n\0\n", 12, 2, "NUL", 0);

	big = malloc(CFG_FILE_MAX + 1);
	assert_non_null(big);
	memset(big, '\n', CFG_FILE_MAX + 1);
	parse_fails_n(big, CFG_FILE_MAX + 1, 0, "too big", CFG_FILE_MAX);
	{
		struct boot_info *bi = new_bi();
		struct cfg_error err;

		big[CFG_FILE_MAX - 2] = 'x';
		big[CFG_FILE_MAX - 1] = 'y';
		assert_int_equal(parse_n(big, CFG_FILE_MAX, bi, &err), -1); /* "xy" on the last line */
		assert_int_equal(err.line, CFG_FILE_MAX - 1);
		big[CFG_FILE_MAX - 2] = '#';
		assert_int_equal(parse_n(big, CFG_FILE_MAX, bi, &err), 0);
		free(bi);
	}
	free(big);
}

/* --- LoadOptions ------------------------------------------------------------- */

/* UCS-2 copy of `s` in an exact-size heap block of `bytes` bytes (padded
 * with `fill` if longer than the text). */
static uint16_t *ucs2(const char *s, size_t bytes, uint16_t fill)
{
	uint16_t *u = malloc(bytes ? bytes : 1);
	size_t n = strlen(s);

	assert_non_null(u);
	for (size_t i = 0; i < bytes / 2; i++)
		u[i] = i < n ? (uint8_t)s[i] : fill;
	if (bytes & 1)
		((uint8_t *)u)[bytes - 1] = 0x41;
	return u;
}

/* Runs cfg_load_options on `s` as `bytes` bytes, output into an exact-size
 * `cap` buffer; returns the kind and leaves the text in out (if any). */
static enum cfg_loadopt loadopt(const char *s, size_t bytes, size_t cap, char *out)
{
	uint16_t *u = ucs2(s, bytes, 0);
	char *o = malloc(cap);
	enum cfg_loadopt k;

	assert_non_null(o);
	memset(o, '?', cap);
	k = cfg_load_options(u, bytes, o, cap);
	if (k == LOADOPT_CMDLINE) {
		assert_non_null(memchr(o, '\0', cap));
		strcpy(out, o);
	} else {
		out[0] = '\0';
	}
	free(o);
	free(u);
	return k;
}

static void loadopt_cmdline(const char *s, const char *want)
{
	char out[BOOT_CMDLINE_MAX];

	/* Without and with the UCS-2 NUL that usually ends it. */
	if (loadopt(s, 2 * strlen(s), sizeof(out), out) != LOADOPT_CMDLINE)
		fail_msg("\"%s\": not a command line", s);
	assert_string_equal(out, want);
	if (loadopt(s, 2 * strlen(s) + 2, sizeof(out), out) != LOADOPT_CMDLINE)
		fail_msg("\"%s\"+NUL: not a command line", s);
	assert_string_equal(out, want);
}

static void loadopt_none(const char *s)
{
	char out[BOOT_CMDLINE_MAX];

	if (loadopt(s, 2 * strlen(s), sizeof(out), out) != LOADOPT_NONE)
		fail_msg("\"%s\": not LOADOPT_NONE", s);
	if (loadopt(s, 2 * strlen(s) + 2, sizeof(out), out) != LOADOPT_NONE)
		fail_msg("\"%s\"+NUL: not LOADOPT_NONE", s);
}

TEST(test_loadopt_plain_text)
{
	loadopt_cmdline("serial=0x2f8 loglevel=debug", "serial=0x2f8 loglevel=debug");
	loadopt_cmdline("  \tloglevel=warn \t ", "loglevel=warn");
	loadopt_cmdline("acpidump", "acpidump");
	/* A first word that is not an .efi image name is kept. */
	loadopt_cmdline("hv.elf serial=0x2f8", "hv.elf serial=0x2f8");
	loadopt_cmdline("efi x", "efi x");
	loadopt_cmdline(".efix a", ".efix a");
	loadopt_cmdline("\"quoted\" a=1", "\"quoted\" a=1");
}

TEST(test_loadopt_strips_image_name)
{
	loadopt_cmdline("hv.efi serial=0x2f8", "serial=0x2f8");
	loadopt_cmdline("\\EFI\\BOOT\\BOOTX64.EFI  loglevel=debug  ", "loglevel=debug");
	loadopt_cmdline("fs0:\\petrel\\hv.Efi\tacpidump", "acpidump");
	loadopt_cmdline("\"fs0:\\my dir\\hv.efi\" serial=0x2f8", "serial=0x2f8");
	loadopt_cmdline("  hv.efi a=1 b.efi", "a=1 b.efi"); /* only the first word */
	loadopt_none("hv.efi");
	loadopt_none("  HV.EFI   ");
	loadopt_none("\"\\a b\\hv.efi\"");
	loadopt_none("\"\\a b\\hv.efi\"   ");
	loadopt_none("");
	loadopt_none(" \t ");
}

TEST(test_loadopt_none_and_binary)
{
	static const uint16_t binary[] = { 'a', '=', '1', 0x0001, 'b' };
	static const uint16_t wide[] = { 'a', 0x263a, 'b' };
	static const uint16_t after_nul[] = { 'a', '=', '1', 0, 0x0001, 0xffff };
	char out[64];
	uint16_t *u;

	assert_int_equal(cfg_load_options(NULL, 0, out, sizeof(out)), LOADOPT_NONE);
	assert_int_equal(cfg_load_options(NULL, 100, out, sizeof(out)), LOADOPT_NONE);
	u = malloc(sizeof(binary));
	assert_non_null(u);
	memcpy(u, binary, sizeof(binary));
	assert_int_equal(cfg_load_options(u, sizeof(binary), out, sizeof(out)), LOADOPT_BINARY);
	free(u);
	u = malloc(sizeof(wide));
	assert_non_null(u);
	memcpy(u, wide, sizeof(wide));
	assert_int_equal(cfg_load_options(u, sizeof(wide), out, sizeof(out)), LOADOPT_BINARY);
	free(u);
	/* Text ends at the NUL; what follows is not looked at. */
	u = malloc(sizeof(after_nul));
	assert_non_null(u);
	memcpy(u, after_nul, sizeof(after_nul));
	assert_int_equal(cfg_load_options(u, sizeof(after_nul), out, sizeof(out)), LOADOPT_CMDLINE);
	assert_string_equal(out, "a=1");
	free(u);
	/* A NUL first: empty. */
	u = ucs2("", 8, 0);
	assert_int_equal(cfg_load_options(u, 8, out, sizeof(out)), LOADOPT_NONE);
	free(u);
}

TEST(test_loadopt_odd_size)
{
	char out[64];
	uint16_t *u = ucs2("a=1 b=2", 15, 0); /* 7 characters and a stray byte */

	assert_int_equal(cfg_load_options(u, 15, out, sizeof(out)), LOADOPT_CMDLINE);
	assert_string_equal(out, "a=1 b=2");
	free(u);
	u = ucs2("x", 1, 0);
	assert_int_equal(cfg_load_options(u, 1, out, sizeof(out)), LOADOPT_NONE);
	free(u);
}

TEST(test_loadopt_too_long)
{
	char out[16];

	assert_int_equal(loadopt("1234567", 14, 8, out), LOADOPT_CMDLINE); /* cap - 1 fits */
	assert_string_equal(out, "1234567");
	assert_int_equal(loadopt("12345678", 16, 8, out), LOADOPT_TOO_LONG);
	assert_int_equal(loadopt("hv.efi 1234567", 28, 8, out), LOADOPT_CMDLINE);
	assert_string_equal(out, "1234567");
	assert_int_equal(loadopt("hv.efi 12345678 ", 32, 8, out), LOADOPT_TOO_LONG);
	assert_int_equal(loadopt("1234567   ", 20, 8, out), LOADOPT_CMDLINE);
	assert_string_equal(out, "1234567");
}

/* --- module paths -------------------------------------------------------------- */

/* cfg_module_path into an exact-size `cap` buffer; compares with `want`
 * (NULL: expect failure). */
static void module_path(const char *modline, size_t cap, const char *want)
{
	uint16_t *out = malloc(cap * sizeof(uint16_t) + (cap == 0));
	int rc;

	assert_non_null(out);
	rc = cfg_module_path(modline, out, cap);
	if (!want) {
		if (rc != -1)
			fail_msg("\"%s\" into %zu: accepted", modline, cap);
	} else {
		size_t n = strlen(want);

		if (rc != 0)
			fail_msg("\"%s\" into %zu: failed", modline, cap);
		for (size_t i = 0; i < n; i++)
			if (out[i] != (uint8_t)want[i])
				fail_msg("\"%s\": char %zu is 0x%x, want '%c'", modline, i, out[i], want[i]);
		assert_int_equal(out[n], 0);
	}
	free(out);
}

TEST(test_module_path)
{
	assert_int_equal(cfg_module_path_len("\\guests\\cpuid.elf vm=t0"), 17);
	assert_int_equal(cfg_module_path_len("/a.elf\tvm=x"), 6);
	assert_int_equal(cfg_module_path_len("/a.elf"), 6);
	assert_int_equal(cfg_module_path_len(""), 0);

	module_path("\\guests\\cpuid.elf vm=t0 mem=64M", CFG_PATH_MAX, "\\guests\\cpuid.elf");
	module_path("/guests/linux.bin vm=l0", CFG_PATH_MAX, "\\guests\\linux.bin");
	module_path("guests/x.elf", CFG_PATH_MAX, "\\guests\\x.elf");   /* from the root */
	module_path("x.elf\tvm=a", CFG_PATH_MAX, "\\x.elf");
	module_path("/a/b\\c/d.elf", CFG_PATH_MAX, "\\a\\b\\c\\d.elf");
}

TEST(test_module_path_capacity)
{
	module_path("/abc vm=1", 5, "\\abc");   /* 4 characters and the NUL */
	module_path("/abc vm=1", 4, NULL);
	module_path("abc vm=1", 5, "\\abc");    /* the added '\' counts */
	module_path("abc vm=1", 4, NULL);
	module_path("a", 2, NULL);
	module_path("a", 1, NULL);
	module_path("/", 1, NULL);
	module_path("/", 0, NULL);
	module_path("a", 0, NULL);
}

/* --- the EFI memory map -------------------------------------------------------- */

struct d { uint32_t type; uint64_t phys, pages; };
struct r { uint64_t base, len; uint32_t type; };

/* EFI_MEMORY_DESCRIPTOR fields at their offsets; the rest of each
 * `dsize`-byte slot is filled with 0xff (a bogus descriptor, should
 * anything index by the struct size). */
static void *efi_map(const struct d *ds, size_t n, size_t dsize)
{
	uint8_t *m = malloc(n * dsize + (n * dsize == 0));

	assert_non_null(m);
	memset(m, 0xff, n * dsize);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = m + i * dsize;
		uint64_t virt = 0, attr = 0xf;

		memcpy(p, &ds[i].type, 4);
		memset(p + 4, 0, 4);
		memcpy(p + 8, &ds[i].phys, 8);
		memcpy(p + 16, &virt, 8);
		memcpy(p + 24, &ds[i].pages, 8);
		memcpy(p + 32, &attr, 8);
	}
	return m;
}

static void expect_map(const struct boot_info *bi, const struct r *want, uint32_t n)
{
	if (bi->nr_mem != n)
		fail_msg("%u regions, want %u", bi->nr_mem, n);
	for (uint32_t i = 0; i < n; i++)
		if (bi->mem[i].base != want[i].base || bi->mem[i].len != want[i].len ||
		    bi->mem[i].type != want[i].type)
			fail_msg("region %u: 0x%llx+0x%llx type %u, want 0x%llx+0x%llx type %u", i,
				 (unsigned long long)bi->mem[i].base, (unsigned long long)bi->mem[i].len,
				 bi->mem[i].type, (unsigned long long)want[i].base,
				 (unsigned long long)want[i].len, want[i].type);
}

static void convert_ok(const struct d *ds, size_t n, size_t dsize, const struct r *want, uint32_t nw)
{
	void *m = efi_map(ds, n, dsize);
	struct boot_info *bi = new_bi();

	bi->nr_mem = 77; /* whatever was there before goes */
	if (memmap_convert(m, n * dsize, dsize, bi) != 0)
		fail_msg("memmap_convert failed (dsize %zu)", dsize);
	expect_map(bi, want, nw);
	free(bi);
	free(m);
}

#define U BOOT_MEM_USABLE
#define R BOOT_MEM_RESERVED

/* An OVMF-like map, scrambled. */
static const struct d ovmf[] = {
	{ 7, 0x100000, 0x700 },       /* conventional */
	{ 3, 0x0, 0x1 },              /* boot services code */
	{ 10, 0x7fb00000, 0x80 },     /* ACPI NVS */
	{ 7, 0x1000, 0x9f },          /* conventional */
	{ 4, 0x800000, 0x100 },       /* boot services data */
	{ 0, 0xa0000, 0x60 },         /* reserved */
	{ 9, 0x7fa00000, 0x100 },     /* ACPI reclaim */
	{ 2, 0x900000, 0x10 },        /* loader data */
	{ 1, 0x910000, 0x10 },        /* loader code */
	{ 7, 0x920000, 0x7f0e0 },     /* conventional */
	{ 6, 0x7fb80000, 0x20 },      /* runtime services data */
	{ 5, 0x7fba0000, 0x20 },      /* runtime services code */
	{ 11, 0xffc00000, 0x400 },    /* MMIO */
	{ 8, 0x7fbc0000, 0x1 },       /* unusable */
	{ 7, 0x100000000ull, 0x40000 },
};

static const struct r ovmf_want[] = {
	{ 0x0, 0xa0000, U },                 /* 0x0 + 0x1000..0xa0000 merged */
	{ 0xa0000, 0x60000, R },
	{ 0x100000, 0x7fa00000 - 0x100000, U }, /* through 0x800000, 0x900000, 0x910000, 0x920000 */
	{ 0x7fa00000, 0x100000, BOOT_MEM_ACPI_RECLAIM },
	{ 0x7fb00000, 0x80000, BOOT_MEM_ACPI_NVS },
	{ 0x7fb80000, 0x40000, R },          /* runtime data + code */
	{ 0x7fbc0000, 0x1000, BOOT_MEM_BAD },
	{ 0xffc00000, 0x400000, R },
	{ 0x100000000ull, 0x40000000, U },
};

TEST(test_memmap_sorted_merged_converted)
{
	convert_ok(ovmf, ARRAY_SIZE(ovmf), 48, ovmf_want, ARRAY_SIZE(ovmf_want));
}

TEST(test_memmap_descriptor_sizes)
{
	convert_ok(ovmf, ARRAY_SIZE(ovmf), 40, ovmf_want, ARRAY_SIZE(ovmf_want));  /* the struct */
	convert_ok(ovmf, ARRAY_SIZE(ovmf), 56, ovmf_want, ARRAY_SIZE(ovmf_want));
	convert_ok(ovmf, ARRAY_SIZE(ovmf), 160, ovmf_want, ARRAY_SIZE(ovmf_want));
}

TEST(test_memmap_descriptor_size_too_small)
{
	void *m = efi_map(ovmf, ARRAY_SIZE(ovmf), 48);
	struct boot_info *bi = new_bi();

	bi->nr_mem = 3;
	assert_int_equal(memmap_convert(m, ARRAY_SIZE(ovmf) * 48, 32, bi), -1);
	assert_int_equal(bi->nr_mem, 0);
	assert_int_equal(memmap_convert(m, ARRAY_SIZE(ovmf) * 48, 0, bi), -1);
	free(bi);
	free(m);
}

TEST(test_memmap_partial_trailing_descriptor)
{
	/* A size that is not a multiple of dsize: the partial entry is ignored
	 * (and, in an exact-size buffer, never read). */
	static const struct d ds[] = { { 7, 0x1000, 1 }, { 7, 0x3000, 1 } };
	static const struct r want[] = { { 0x1000, 0x1000, U } };
	void *m = efi_map(ds, 2, 48);
	struct boot_info *bi = new_bi();

	assert_int_equal(memmap_convert(m, 48 + 47, 48, bi), 0);
	expect_map(bi, want, 1);
	assert_int_equal(memmap_convert(m, 0, 48, bi), 0);
	assert_int_equal(bi->nr_mem, 0);
	free(bi);
	free(m);
}

TEST(test_memmap_type_conversion)
{
	static const uint32_t types[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		0x6fffffff, 0x70000000, 0x7fffffff, 0x80000000, 0xffffffff,
	};
	struct d ds[ARRAY_SIZE(types)];
	struct r want[ARRAY_SIZE(types)];
	void *m;
	struct boot_info *bi = new_bi();

	/* Every type on its own, with gaps so nothing merges; listed high to low. */
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		size_t j = ARRAY_SIZE(types) - 1 - i;

		ds[j] = (struct d){ types[i], 0x10000 * (i + 1), 1 };
		want[i] = (struct r){ 0x10000 * (i + 1), 0x1000, boot_mem_type_from_efi(types[i]) };
	}
	m = efi_map(ds, ARRAY_SIZE(ds), 48);
	assert_int_equal(memmap_convert(m, sizeof(ds) / sizeof(ds[0]) * 48, 48, bi), 0);
	expect_map(bi, want, ARRAY_SIZE(want));
	/* And the conversion itself, spelled out. */
	assert_int_equal(bi->mem[0].type, R);   /* EfiReservedMemoryType */
	assert_int_equal(bi->mem[1].type, U);   /* EfiLoaderCode */
	assert_int_equal(bi->mem[4].type, U);   /* EfiBootServicesData */
	assert_int_equal(bi->mem[5].type, R);   /* EfiRuntimeServicesCode */
	assert_int_equal(bi->mem[6].type, R);   /* EfiRuntimeServicesData */
	assert_int_equal(bi->mem[7].type, U);   /* EfiConventionalMemory */
	assert_int_equal(bi->mem[8].type, BOOT_MEM_BAD);
	assert_int_equal(bi->mem[9].type, BOOT_MEM_ACPI_RECLAIM);
	assert_int_equal(bi->mem[10].type, BOOT_MEM_ACPI_NVS);
	assert_int_equal(bi->mem[11].type, R);  /* EfiMemoryMappedIO */
	assert_int_equal(bi->mem[14].type, R);  /* EfiPersistentMemory */
	assert_int_equal(bi->mem[21].type, R);
	free(bi);
	free(m);
}

TEST(test_memmap_merge_rules)
{
	/* Same converted type and touching: merged, whatever the EFI types.
	 * Same type with a gap, or touching with another type: kept apart. */
	static const struct d ds[] = {
		{ 7, 0x3000, 1 }, { 1, 0x2000, 1 }, { 4, 0x1000, 1 }, /* 0x1000-0x4000 usable */
		{ 7, 0x5000, 1 },                                     /* gap before it */
		{ 9, 0x6000, 2 },                                     /* touching, other type */
		{ 9, 0x8000, 1 },                                     /* same, touching */
		{ 0, 0x9000, 1 }, { 6, 0xa000, 1 }, { 11, 0xb000, 1 }, /* all reserved */
		{ 7, 0xc000, 0 },                                     /* empty: ignored */
		{ 7, 0xd000, 1 },
	};
	static const struct r want[] = {
		{ 0x1000, 0x3000, U }, { 0x5000, 0x1000, U }, { 0x6000, 0x3000, BOOT_MEM_ACPI_RECLAIM },
		{ 0x9000, 0x3000, R }, { 0xd000, 0x1000, U },
	};

	convert_ok(ds, ARRAY_SIZE(ds), 48, want, ARRAY_SIZE(want));
}

TEST(test_memmap_top_of_address_space)
{
	static const struct d ds[] = { { 11, 0xfffffffffffff000ull, 1 }, { 7, 0, 0x10 } };
	static const struct r want[] = { { 0, 0x10000, U }, { 0xfffffffffffff000ull, 0x1000, R } };

	convert_ok(ds, ARRAY_SIZE(ds), 48, want, ARRAY_SIZE(want));
}

TEST(test_memmap_too_many_regions)
{
	size_t n = BOOT_MAX_MEM + 1;
	struct d *ds = calloc(n, sizeof(*ds));
	struct boot_info *bi = new_bi();
	void *m;

	assert_non_null(ds);
	/* Alternating types: nothing merges.  In reverse order, for good measure. */
	for (size_t i = 0; i < n; i++)
		ds[n - 1 - i] = (struct d){ i % 2 ? 0 : 7, 0x1000 * i, 1 };
	m = efi_map(ds, n, 48);
	assert_int_equal(memmap_convert(m, BOOT_MAX_MEM * 48, 48, bi), 0);
	/* The first BOOT_MAX_MEM descriptors were the highest ones: 1..256. */
	assert_int_equal(bi->nr_mem, BOOT_MAX_MEM);
	assert_int_equal(bi->mem[0].base, 0x1000);
	assert_int_equal(bi->mem[BOOT_MAX_MEM - 1].base, 0x1000 * BOOT_MAX_MEM);
	free(m);

	m = efi_map(ds, n, 48);
	assert_int_equal(memmap_convert(m, n * 48, 48, bi), -1);
	assert_int_equal(bi->nr_mem, 0);
	free(m);

	/* Many descriptors that merge into few regions are fine. */
	for (size_t i = 0; i < n; i++)
		ds[i] = (struct d){ i < n / 2 ? 7 : 4, 0x1000 * i, 1 };
	m = efi_map(ds, n, 48);
	assert_int_equal(memmap_convert(m, n * 48, 48, bi), 0);
	assert_int_equal(bi->nr_mem, 1);
	assert_int_equal(bi->mem[0].len, 0x1000 * n);
	free(m);
	free(ds);
	free(bi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_example),
		cmocka_unit_test(test_cfg_empty_and_comment_only),
		cmocka_unit_test(test_cfg_comments_blanks_and_hash_inside),
		cmocka_unit_test(test_cfg_tabs_and_no_final_newline),
		cmocka_unit_test(test_cfg_last_cmdline_wins),
		cmocka_unit_test(test_cfg_crlf),
		cmocka_unit_test(test_cfg_utf8_bom),
		cmocka_unit_test(test_cfg_unknown_keyword_line_number),
		cmocka_unit_test(test_cfg_module2_needs_path),
		cmocka_unit_test(test_cfg_too_many_modules),
		cmocka_unit_test(test_cfg_line_length_limit),
		cmocka_unit_test(test_cfg_cmdline_limit),
		cmocka_unit_test(test_cfg_module_line_limit),
		cmocka_unit_test(test_cfg_nul_and_size),
		cmocka_unit_test(test_loadopt_plain_text),
		cmocka_unit_test(test_loadopt_strips_image_name),
		cmocka_unit_test(test_loadopt_none_and_binary),
		cmocka_unit_test(test_loadopt_odd_size),
		cmocka_unit_test(test_loadopt_too_long),
		cmocka_unit_test(test_module_path),
		cmocka_unit_test(test_module_path_capacity),
		cmocka_unit_test(test_memmap_sorted_merged_converted),
		cmocka_unit_test(test_memmap_descriptor_sizes),
		cmocka_unit_test(test_memmap_descriptor_size_too_small),
		cmocka_unit_test(test_memmap_partial_trailing_descriptor),
		cmocka_unit_test(test_memmap_type_conversion),
		cmocka_unit_test(test_memmap_merge_rules),
		cmocka_unit_test(test_memmap_top_of_address_space),
		cmocka_unit_test(test_memmap_too_many_regions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
