/* SPDX-License-Identifier: MIT */
/* hv/lib/string.c: parse_u64 (decimal, hex, K/M/G, overflow, garbage),
 * str_ncopy/str_copy (truncation, terminator, return value), str_starts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/lib.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

/* Parses the whole of `s` (length strlen), from an exact-size heap copy so
 * that ASan catches a read past `n`. */
static bool parse(const char *s, uint64_t *out, bool suffix)
{
	size_t n = strlen(s);
	char *copy = malloc(n ? n : 1);
	bool ok;

	memcpy(copy, s, n);
	*out = 0xfeedfacecafebeefull;
	ok = parse_u64(copy, n, out, suffix);
	free(copy);
	return ok;
}

static void want_value(const char *s, bool suffix, uint64_t want)
{
	uint64_t v;

	if (!parse(s, &v, suffix))
		fail_msg("parse_u64(\"%s\") failed, want %#llx", s, (unsigned long long)want);
	if (v != want)
		fail_msg("parse_u64(\"%s\") = %#llx, want %#llx", s, (unsigned long long)v,
			 (unsigned long long)want);
}

/* A rejected string must leave *out alone. */
static void want_reject(const char *s, bool suffix)
{
	uint64_t v;

	if (parse(s, &v, suffix))
		fail_msg("parse_u64(\"%s\") accepted garbage: %#llx", s, (unsigned long long)v);
	if (v != 0xfeedfacecafebeefull)
		fail_msg("parse_u64(\"%s\") wrote *out on failure", s);
}

TEST(test_parse_decimal)
{
	want_value("0", false, 0);
	want_value("7", false, 7);
	want_value("1016", false, 1016);
	want_value("000123", false, 123);
	want_value("18446744073709551615", false, UINT64_MAX);
}

TEST(test_parse_hex)
{
	want_value("0x0", false, 0);
	want_value("0x3f8", false, 0x3f8);
	want_value("0X3F8", false, 0x3f8);
	want_value("0xDeadBeef", false, 0xdeadbeef);
	want_value("0xffffffffffffffff", false, UINT64_MAX);
	want_value("0x00000000000000000001", false, 1); /* leading zeros do not overflow */
}

TEST(test_parse_suffixes)
{
	want_value("4K", true, 4096);
	want_value("4k", true, 4096);
	want_value("16M", true, 16ull << 20);
	want_value("2g", true, 2ull << 30);
	want_value("0x10M", true, 16ull << 20);
	want_value("0K", true, 0);
	want_value("17179869183G", true, 17179869183ull << 30);
	/* Without `suffix` a letter is garbage; with it, only K, M, G. */
	want_reject("4K", false);
	want_reject("4T", true);
	want_reject("4KB", true);
	want_reject("K", true);
	want_reject("0xK", true);
	want_reject("4 K", true);
}

TEST(test_parse_overflow)
{
	want_reject("18446744073709551616", false);
	want_reject("99999999999999999999", false);
	want_reject("0x10000000000000000", false);
	want_reject("17179869184G", true);  /* 2^34 GiB = 2^64 */
	want_reject("16777216T", true);
	want_value("0xfffffffffffffK", true, 0xfffffffffffffull << 10);
	want_value("0x3fffffffffffffK", true, 0x3fffffffffffffull << 10);
	want_reject("0x40000000000000K", true);
}

TEST(test_parse_garbage)
{
	static const char *const bad[] = {
		"", "x", "0x", "0X", "-1", "+1", " 1", "1 ", "12a", "0xg", "0x-1",
		"1.5", "0b101", "1e3", "0xx1", "\t7",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		want_reject(bad[i], true);
	want_reject("0xabcdefg", false);
}

/* `n` limits the parse even without a terminator. */
TEST(test_parse_length_limit)
{
	uint64_t v = 0;

	assert_true(parse_u64("123456", 3, &v, false));
	assert_int_equal(v, 123);
	assert_true(parse_u64("0x1f,rest", 4, &v, false));
	assert_int_equal(v, 0x1f);
	assert_true(parse_u64("2Kjunk", 2, &v, true));
	assert_int_equal(v, 2048);
	assert_false(parse_u64("5", 0, &v, true));
}

TEST(test_str_ncopy)
{
	char buf[8];

	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(str_ncopy(buf, "hello world", 5, sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(buf[6], 'Z'); /* nothing past the terminator */

	/* Truncated to size - 1; returns the source length (up to n). */
	assert_int_equal(str_ncopy(buf, "abcdefghijkl", 100, sizeof(buf)), 12);
	assert_string_equal(buf, "abcdefg");

	/* Stops at a NUL before n. */
	assert_int_equal(str_ncopy(buf, "ab", 100, sizeof(buf)), 2);
	assert_string_equal(buf, "ab");

	/* n = 0 gives an empty string. */
	assert_int_equal(str_ncopy(buf, "abc", 0, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	/* size 1 holds only the terminator, size 0 touches nothing. */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(str_ncopy(buf, "abc", 3, 1), 3);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'Z');
	assert_int_equal(str_ncopy(NULL, "abc", 3, 0), 3);
}

/* str_ncopy reads at most n bytes: the source need not be terminated. */
TEST(test_str_ncopy_unterminated_source)
{
	char *src = malloc(4), buf[16];

	memcpy(src, "wxyz", 4);
	assert_int_equal(str_ncopy(buf, src, 4, sizeof(buf)), 4);
	assert_string_equal(buf, "wxyz");
	free(src);
}

TEST(test_str_copy_and_starts)
{
	char buf[4];

	assert_int_equal(str_copy(buf, "xy", sizeof(buf)), 2);
	assert_string_equal(buf, "xy");
	assert_int_equal(str_copy(buf, "longer", sizeof(buf)), 6);
	assert_string_equal(buf, "lon");

	assert_true(str_starts("serial=0x3f8", "serial="));
	assert_true(str_starts("abc", ""));
	assert_true(str_starts("abc", "abc"));
	assert_false(str_starts("ab", "abc"));
	assert_false(str_starts("serial", "Serial"));
}

static void test_str_append_line(void **state)
{
	char list[12] = "";

	(void)state;
	assert_int_equal(str_append_line(list, sizeof(list), "abc"), 0);
	assert_string_equal(list, "abc");
	assert_int_equal(str_append_line(list, sizeof(list), "defg"), 0);
	assert_string_equal(list, "abc\ndefg");
	assert_int_equal(str_append_line(list, sizeof(list), "h"), 0); /* 10 bytes and the NUL */
	assert_string_equal(list, "abc\ndefg\nh");
	assert_int_equal(str_append_line(list, sizeof(list), "i"), -1); /* "\ni" and the NUL: 13 */
	assert_string_equal(list, "abc\ndefg\nh"); /* unchanged */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_decimal),
		cmocka_unit_test(test_parse_hex),
		cmocka_unit_test(test_parse_suffixes),
		cmocka_unit_test(test_parse_overflow),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_parse_length_limit),
		cmocka_unit_test(test_str_ncopy),
		cmocka_unit_test(test_str_ncopy_unterminated_source),
		cmocka_unit_test(test_str_copy_and_starts),
		cmocka_unit_test(test_str_append_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
