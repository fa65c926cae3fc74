/* SPDX-License-Identifier: MIT */
/* hv/core/cmdline.c: the tokenizer, the hypervisor's options and their
 * error lines, and skipping the image path loaders put first.  Links with
 * printf.c and string.c only: cmdline.c needs no logging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/cmdline.h>
#include <petrel/lib.h>
#include <petrel/log.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

/* An exact-size heap copy, so ASan sees any read past the terminator. */
static char *heap_copy(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(malloc(n), s, n);
}

struct tok {
	char key[64], val[64];
	bool has_val;
};

/* Tokenizes `line`; returns the number of tokens, *bad set on an
 * unterminated quote. */
static int tokenize(const char *line, struct tok *out, int max, bool *bad)
{
	char *copy = heap_copy(line);
	const char *pos = copy;
	struct cmdline_token t;
	int n = 0;

	while (cmdline_next(&pos, &t, bad)) {
		assert_true(n < max);
		str_ncopy(out[n].key, t.key, t.key_len, sizeof(out[n].key));
		str_ncopy(out[n].val, t.has_val ? t.val : "", t.val_len, sizeof(out[n].val));
		out[n].has_val = t.has_val;
		n++;
	}
	free(copy);
	return n;
}

TEST(test_tokens_keys_values_flags)
{
	struct tok t[8];
	bool bad = true;

	assert_int_equal(tokenize("  serial=0x2f8 acpidump\tloglevel=debug\n empty= ", t, 8, &bad), 4);
	assert_false(bad);
	assert_string_equal(t[0].key, "serial");
	assert_string_equal(t[0].val, "0x2f8");
	assert_true(t[0].has_val);
	assert_string_equal(t[1].key, "acpidump");
	assert_false(t[1].has_val);
	assert_string_equal(t[2].key, "loglevel");
	assert_string_equal(t[2].val, "debug");
	assert_string_equal(t[3].key, "empty");
	assert_true(t[3].has_val); /* "key=" has an empty value, unlike a flag */
	assert_string_equal(t[3].val, "");
}

TEST(test_tokens_quoted_values)
{
	struct tok t[8];
	bool bad = true;

	assert_int_equal(tokenize("cmdline=\"console=ttyS0 quiet\" x=\"\" y=a=b", t, 8, &bad), 3);
	assert_false(bad);
	assert_string_equal(t[0].key, "cmdline");
	assert_string_equal(t[0].val, "console=ttyS0 quiet");
	assert_string_equal(t[1].key, "x");
	assert_true(t[1].has_val);
	assert_string_equal(t[1].val, "");
	assert_string_equal(t[2].key, "y");
	assert_string_equal(t[2].val, "a=b"); /* only the first '=' splits */
}

/* GRUB 2.06 wraps a module argument that has spaces in double quotes as a
 * whole: cmdline="a b" in grub.cfg arrives as "cmdline=a b". */
TEST(test_tokens_grub_quoted_words)
{
	struct tok t[8];
	bool bad = true;

	assert_int_equal(tokenize("vm=linux0 \"cmdline=console=ttyS0 quiet\" \"flag\" mem=512M", t, 8, &bad), 4);
	assert_false(bad);
	assert_string_equal(t[0].key, "vm");
	assert_string_equal(t[1].key, "cmdline");
	assert_string_equal(t[1].val, "console=ttyS0 quiet");
	assert_string_equal(t[2].key, "flag");
	assert_false(t[2].has_val);
	assert_string_equal(t[3].key, "mem");
	assert_string_equal(t[3].val, "512M");
	tokenize("vm=a \"cmdline=never closed", t, 8, &bad);
	assert_true(bad);
}

TEST(test_tokens_empty_line)
{
	struct tok t[1];
	bool bad = true;

	assert_int_equal(tokenize("", t, 1, &bad), 0);
	assert_false(bad);
	bad = true;
	assert_int_equal(tokenize(" \t\r\n ", t, 1, &bad), 0);
	assert_false(bad);
}

TEST(test_tokens_unterminated_quote)
{
	char *line = heap_copy("a=1 b=\"oops c=2");
	const char *pos = line;
	struct cmdline_token t;
	bool bad = false;

	assert_true(cmdline_next(&pos, &t, &bad));
	assert_false(bad);
	assert_false(cmdline_next(&pos, &t, &bad));
	assert_true(bad);
	assert_ptr_equal(t.key, line + 4); /* points at the bad word */
	assert_int_equal(*pos, '\0');      /* and nothing more is read */
	free(line);
}

TEST(test_key_is_exact)
{
	char *line = heap_copy("serialx=1 serial=2");
	const char *pos = line;
	struct cmdline_token t;
	bool bad;

	assert_true(cmdline_next(&pos, &t, &bad));
	assert_false(cmdline_key_is(&t, "serial"));
	assert_true(cmdline_key_is(&t, "serialx"));
	assert_true(cmdline_next(&pos, &t, &bad));
	assert_true(cmdline_key_is(&t, "serial"));
	assert_false(cmdline_key_is(&t, "seria"));
	assert_false(cmdline_key_is(&t, "serial2"));
	free(line);
}

/* Parses `line` with a roomy error buffer; returns the error count. */
static int parse(const char *line, struct hv_config *cfg, char *errs, size_t errlen)
{
	char *copy = heap_copy(line);
	int n;

	memset(cfg, 0xa5, sizeof(*cfg)); /* defaults must be set, not inherited */
	n = hv_config_parse(copy, cfg, errs, errlen);
	free(copy);
	return n;
}

TEST(test_config_defaults)
{
	struct hv_config cfg;
	char errs[256] = "junk";

	assert_int_equal(parse("", &cfg, errs, sizeof(errs)), 0);
	assert_string_equal(errs, "");
	assert_int_equal(cfg.serial_port, 0x3f8);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_string_equal(cfg.selftest, "");
	assert_false(cfg.acpidump);
}

TEST(test_config_all_options)
{
	struct hv_config cfg;
	char errs[256];

	assert_int_equal(parse("serial=0x2f8 loglevel=debug selftest=pf acpidump", &cfg, errs, sizeof(errs)), 0);
	assert_string_equal(errs, "");
	assert_int_equal(cfg.serial_port, 0x2f8);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_string_equal(cfg.selftest, "pf");
	assert_true(cfg.acpidump);
	assert_int_equal(cfg.conswitch, 0x01); /* Ctrl-A unless asked */
	assert_int_equal(parse("conswitch=t", &cfg, errs, sizeof(errs)), 0);
	assert_int_equal(cfg.conswitch, 0x14); /* Ctrl-T */
	assert_int_equal(parse("conswitch=B", &cfg, errs, sizeof(errs)), 0);
	assert_int_equal(cfg.conswitch, 0x02);
	assert_int_equal(cfg.gdb_port, 0x2f8); /* COM2 unless asked */
	assert_int_equal(parse("gdbport=0x3e8", &cfg, errs, sizeof(errs)), 0);
	assert_int_equal(cfg.gdb_port, 0x3e8);
	assert_int_equal(parse("gdbport=off", &cfg, errs, sizeof(errs)), 0);
	assert_int_equal(cfg.gdb_port, 0);
	assert_false(cfg.cpu0_host); /* CPU 0 runs vCPUs unless asked */
	assert_int_equal(parse("cpu0=host", &cfg, errs, sizeof(errs)), 0);
	assert_true(cfg.cpu0_host);
	assert_int_equal(parse("cpu0=host cpu0=guests", &cfg, errs, sizeof(errs)), 0);
	assert_false(cfg.cpu0_host);

	/* Decimal ports, every level name, and the last word wins. */
	assert_int_equal(parse("serial=1016 loglevel=error", &cfg, errs, sizeof(errs)), 0);
	assert_int_equal(cfg.serial_port, 1016);
	assert_int_equal(cfg.log_level, LOG_ERROR);
	assert_int_equal(parse("loglevel=warn loglevel=info serial=0x3e8 serial=0xfff8", &cfg, errs,
			       sizeof(errs)), 0);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.serial_port, 0xfff8);
	assert_int_equal(parse("loglevel=warn", &cfg, errs, sizeof(errs)), 0);
	assert_int_equal(cfg.log_level, LOG_WARN);

	/* selftest holds up to 15 characters. */
	assert_int_equal(parse("selftest=abcdefghijklmno", &cfg, errs, sizeof(errs)), 0);
	assert_string_equal(cfg.selftest, "abcdefghijklmno");
}

/* Each bad word: one error line naming it, and the setting unchanged. */
static void expect_bad(const char *word)
{
	struct hv_config cfg;
	char line[128], errs[256], want[192];

	pt_snprintf(line, sizeof(line), "serial=0x2f8 loglevel=warn %s selftest=ud", word);
	if (parse(line, &cfg, errs, sizeof(errs)) != 1)
		fail_msg("\"%s\": want exactly one error, got \"%s\"", word, errs);
	pt_snprintf(want, sizeof(want), "command line: bad or unknown option '%s'\n", word);
	assert_string_equal(errs, want);
	assert_int_equal(cfg.serial_port, 0x2f8);
	assert_int_equal(cfg.log_level, LOG_WARN);
	assert_string_equal(cfg.selftest, "ud");
}

TEST(test_config_bad_options)
{
	expect_bad("serial=0");
	expect_bad("serial=0xfff9");
	expect_bad("serial=0x10000");
	expect_bad("serial=0x2f8x");
	expect_bad("serial=");
	expect_bad("serial");
	expect_bad("serial=4K"); /* no size suffixes for ports */
	expect_bad("loglevel=verbose");
	expect_bad("loglevel=DEBUG");
	expect_bad("loglevel=");
	expect_bad("loglevel");
	expect_bad("selftest");
	expect_bad("selftest=abcdefghijklmnop"); /* 16 characters */
	expect_bad("gdbport=");
	expect_bad("gdbport=on");
	expect_bad("gdbport=0");
	expect_bad("gdbport=0x10000");
	expect_bad("cpu0");
	expect_bad("cpu0=");
	expect_bad("cpu0=hosts");
	expect_bad("cpu0=HOST");
	expect_bad("conswitch=");
	expect_bad("conswitch");
	expect_bad("conswitch=ab");
	expect_bad("conswitch=1");
	expect_bad("conswitch=^");
	expect_bad("acpidump=1");
	expect_bad("acpidump=");
	expect_bad("nosuchoption");
	expect_bad("foo=bar");
	expect_bad("foo=\"quoted value\""); /* the whole word, quotes included */
}

TEST(test_config_several_errors)
{
	struct hv_config cfg;
	char errs[256];

	assert_int_equal(parse("a serial=0x2f8 b=1 acpidump", &cfg, errs, sizeof(errs)), 2);
	assert_string_equal(errs, "command line: bad or unknown option 'a'\n"
				  "command line: bad or unknown option 'b=1'\n");
	assert_int_equal(cfg.serial_port, 0x2f8);
	assert_true(cfg.acpidump);
}

TEST(test_config_unterminated_quote)
{
	struct hv_config cfg;
	char errs[256];

	assert_int_equal(parse("loglevel=debug x=\"never closed serial=0x2f8", &cfg, errs, sizeof(errs)), 1);
	assert_string_equal(errs, "command line: unterminated quote\n");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_int_equal(cfg.serial_port, 0x3f8); /* inside the quote: not an option */
}

/* A small error buffer truncates the text but never the count, and is
 * never overrun; no buffer at all is fine too. */
TEST(test_config_error_buffer_bounds)
{
	static const char all[] = "command line: bad or unknown option 'one'\n"
				  "command line: bad or unknown option 'two'\n";
	struct hv_config cfg;
	char errs[48];

	for (size_t len = 1; len < sizeof(errs); len++) {
		memset(errs, 'Z', sizeof(errs));
		assert_int_equal(parse("one two three x=\"open", &cfg, errs, len), 4);
		assert_true(strlen(errs) < len);
		assert_memory_equal(errs, all, strlen(errs));
		for (size_t i = len; i < sizeof(errs); i++)
			assert_int_equal(errs[i], 'Z');
	}
	assert_int_equal(parse("one two", &cfg, NULL, 0), 2);
	assert_int_equal(cfg.serial_port, 0x3f8);
}

static const char *skip_path(const char *line, char **copy)
{
	*copy = heap_copy(line);
	return cmdline_skip_image_path(*copy);
}

/* Returns the offset cmdline_skip_image_path skips to. */
static long skipped(const char *line)
{
	char *copy;
	long off = skip_path(line, &copy) - copy;
	free(copy);
	return off;
}

TEST(test_skip_image_path)
{
	char *copy;

	assert_string_equal(skip_path("/boot/hv.elf acpidump", &copy), "acpidump");
	free(copy);
	assert_string_equal(skip_path("  build/hv.elf   serial=0x2f8 x", &copy), "serial=0x2f8 x");
	free(copy);
	assert_string_equal(skip_path("hv.elf loglevel=debug", &copy), "loglevel=debug");
	free(copy);
	assert_string_equal(skip_path("\\EFI\\BOOT\\hv.efi acpidump", &copy), "acpidump");
	free(copy);
	assert_string_equal(skip_path("/boot/hv.elf", &copy), "");
	free(copy);
	assert_string_equal(skip_path(".efi a", &copy), "a");
	free(copy);
}

TEST(test_skip_keeps_options)
{
	/* The first word is an option, not a path: nothing is skipped. */
	assert_int_equal(skipped(""), 0);
	assert_int_equal(skipped("acpidump serial=0x2f8"), 0);
	assert_int_equal(skipped("serial=0x2f8 acpidump"), 0);
	assert_int_equal(skipped("initrd=/boot/x.elf"), 0); /* a '/' after '=' */
	assert_int_equal(skipped("elf"), 0);
	assert_int_equal(skipped("x.el"), 0);
	assert_int_equal(skipped("hv.elfx a"), 0);
	assert_int_equal(skipped("   "), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_keys_values_flags),
		cmocka_unit_test(test_tokens_quoted_values),
		cmocka_unit_test(test_tokens_grub_quoted_words),
		cmocka_unit_test(test_tokens_empty_line),
		cmocka_unit_test(test_tokens_unterminated_quote),
		cmocka_unit_test(test_key_is_exact),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_all_options),
		cmocka_unit_test(test_config_bad_options),
		cmocka_unit_test(test_config_several_errors),
		cmocka_unit_test(test_config_unterminated_quote),
		cmocka_unit_test(test_config_error_buffer_bounds),
		cmocka_unit_test(test_skip_image_path),
		cmocka_unit_test(test_skip_keeps_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
