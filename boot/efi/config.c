/* SPDX-License-Identifier: MIT */
/*
 * petrel.cfg and LoadOptions parsing (syntax: boot/efi/efi_main.c).
 * No EFI calls and no libc: this file also builds on the host for tests.
 */
#include "config.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int fail(struct cfg_error *err, unsigned line, const char *msg,
		unsigned limit)
{
	err->line = line;
	err->msg = msg;
	err->limit = limit;
	return -1;
}

/* Copy n bytes and a NUL into dst[cap]; -1 if they do not fit. */
static int copy_str(char *dst, size_t cap, const char *src, size_t n)
{
	size_t i;

	if (n >= cap)
		return -1;
	for (i = 0; i < n; i++)
		dst[i] = src[i];
	dst[n] = '\0';
	return 0;
}

static int word_is(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (word[i] != s[i])
			return 0;
	return word[n] == '\0';
}

/* module2 PATH ARGS: keep "PATH ARGS" as written, like GRUB's module2. */
static int cfg_module(const char *rest, size_t n, unsigned line,
		      struct boot_info *bi, struct cfg_error *err)
{
	struct boot_module *m;

	if (n == 0)
		return fail(err, line, "module2 needs a file path", 0);
	if (bi->nr_modules == BOOT_MAX_MODULES)
		return fail(err, line, "too many module2 lines",
			    BOOT_MAX_MODULES);
	m = &bi->modules[bi->nr_modules];
	if (copy_str(m->cmdline, sizeof(m->cmdline), rest, n) < 0)
		return fail(err, line, "module2 \"PATH ARGS\" too long",
			    BOOT_MODNAME_MAX - 1);
	bi->nr_modules++;
	return 0;
}

/* One line, without its '\n'.  Blank lines and '#' lines are skipped. */
static int cfg_line(const char *s, size_t n, unsigned line,
		    struct boot_info *bi, struct cfg_error *err)
{
	size_t kw, rest;

	while (n > 0 && is_blank(*s))
		s++, n--;
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	if (n == 0 || s[0] == '#')
		return 0;
	for (kw = 0; kw < n && !is_blank(s[kw]); kw++)
		;
	for (rest = kw; rest < n && is_blank(s[rest]); rest++)
		;
	if (word_is(s, kw, "cmdline")) {
		if (copy_str(bi->cmdline, sizeof(bi->cmdline), s + rest,
			     n - rest) < 0)
			return fail(err, line, "cmdline too long",
				    BOOT_CMDLINE_MAX - 1);
		return 0;
	}
	if (word_is(s, kw, "module2"))
		return cfg_module(s + rest, n - rest, line, bi, err);
	return fail(err, line, "unknown keyword (want cmdline or module2)", 0);
}

int cfg_parse(const char *text, size_t len, struct boot_info *bi,
	      struct cfg_error *err)
{
	unsigned line = 1;
	size_t pos = 0, end, n;

	/* Editors on other systems like to start UTF-8 files with a BOM. */
	if (len >= 3 && (uint8_t)text[0] == 0xEF && (uint8_t)text[1] == 0xBB &&
	    (uint8_t)text[2] == 0xBF)
		pos = 3;
	if (len > CFG_FILE_MAX)
		return fail(err, 0, "petrel.cfg too big (bytes)", CFG_FILE_MAX);
	while (pos < len) {
		for (end = pos; end < len && text[end] != '\n'; end++)
			if (text[end] == '\0')
				return fail(err, line, "NUL byte: not a text "
					    "file (UTF-16?)", 0);
		/* The limit is without the newline, "\n" or "\r\n". */
		n = end - pos;
		if (n > 0 && text[end - 1] == '\r')
			n--;
		if (n > CFG_LINE_MAX)
			return fail(err, line, "line too long", CFG_LINE_MAX);
		if (cfg_line(text + pos, end - pos, line, bi, err) < 0)
			return -1;
		pos = end + 1;
		line++;
	}
	return 0;
}

static int is_text16(uint16_t c)
{
	return c == '\t' || (c >= 0x20 && c < 0x7f);
}

/*
 * The UEFI Shell passes its whole command line as LoadOptions, the
 * image name first ("hv.efi serial=0x2f8", maybe "fs0:\x\hv.efi" or quoted).
 * A first word ending in ".efi" is taken to be that name and dropped.
 */
static size_t skip_image_name(const uint16_t *s, size_t n)
{
	size_t i = 0, end;
	uint16_t stop = ' ';

	if (n > 0 && s[0] == '"')
		stop = '"', i = 1;
	while (i < n && s[i] != stop && !(stop == ' ' && s[i] == '\t'))
		i++;
	end = i;
	if (stop == '"' && i < n)
		i++; /* the closing quote */
	if (end < 4 || s[end - 4] != '.' || (s[end - 3] | 0x20) != 'e' ||
	    (s[end - 2] | 0x20) != 'f' || (s[end - 1] | 0x20) != 'i')
		return 0;
	return i;
}

enum cfg_loadopt cfg_load_options(const uint16_t *opt, size_t bytes,
				  char *out, size_t cap)
{
	size_t n = 0, i, skip;

	if (!opt)
		return LOADOPT_NONE;
	/* Text up to a NUL or the end; anything else is boot-option data. */
	while (n < bytes / 2 && opt[n] != 0) {
		if (!is_text16(opt[n]))
			return LOADOPT_BINARY;
		n++;
	}
	skip = 0;
	while (skip < n && (opt[skip] == ' ' || opt[skip] == '\t'))
		skip++;
	skip += skip_image_name(opt + skip, n - skip);
	while (skip < n && (opt[skip] == ' ' || opt[skip] == '\t'))
		skip++;
	while (n > skip && (opt[n - 1] == ' ' || opt[n - 1] == '\t'))
		n--;
	if (n == skip)
		return LOADOPT_NONE;
	if (n - skip >= cap)
		return LOADOPT_TOO_LONG;
	for (i = skip; i < n; i++)
		out[i - skip] = (char)opt[i];
	out[n - skip] = '\0';
	return LOADOPT_CMDLINE;
}

size_t cfg_module_path_len(const char *modline)
{
	size_t n = 0;

	while (modline[n] && modline[n] != ' ' && modline[n] != '\t')
		n++;
	return n;
}

int cfg_module_path(const char *modline, uint16_t *out, size_t cap)
{
	size_t n = cfg_module_path_len(modline), i, o = 0;

	/* Paths are relative to the volume root (UEFI 2.10 §13.5 Open). */
	if (modline[0] != '\\' && modline[0] != '/') {
		if (cap < 1)
			return -1;
		out[o++] = '\\';
	}
	if (o + n >= cap)
		return -1;
	for (i = 0; i < n; i++)
		out[o++] = modline[i] == '/' ? '\\' : (uint8_t)modline[i];
	out[o] = 0;
	return 0;
}
