/* SPDX-License-Identifier: MIT */
/* hv/lib/printf.c: pt_snprintf against the host's snprintf for every format
 * the core uses, then truncation, the return value and buffer bounds. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/lib.h>

#define GUARD 0x5a
#define TEST(name) static void name(void **state __attribute__((unused)))

/* Formats once with the host and once with pt_vsnprintf, into buffers of
 * every size from 0 to one past the full length, and checks that both agree
 * on the text and the return value and that pt never writes past `size`. */
__attribute__((format(printf, 3, 4)))
static void check_at(const char *file, int line, const char *fmt, ...)
{
	char want[512], got[520];
	va_list ap, aq;
	int wn;

	va_start(ap, fmt);
	va_copy(aq, ap);
	wn = vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	if (wn < 0 || wn >= (int)sizeof(want))
		fail_msg("%s:%d: test format too long", file, line);
	for (size_t size = 0; size <= (size_t)wn + 1; size++) {
		va_list a2;
		int gn;

		memset(got, GUARD, sizeof(got));
		va_copy(a2, aq);
		gn = pt_vsnprintf(size ? got : NULL, size, fmt, a2);
		va_end(a2);
		if (gn != wn)
			fail_msg("%s:%d: \"%s\" size %zu: returned %d, host %d", file, line, fmt, size, gn, wn);
		if (size) {
			size_t n = MIN(size - 1, (size_t)wn);
			if (memcmp(got, want, n) != 0 || got[n] != '\0')
				fail_msg("%s:%d: \"%s\" size %zu: got \"%.*s\", host \"%.*s\"", file, line, fmt,
					 size, (int)n, got, (int)n, want);
		}
		for (size_t i = size; i < sizeof(got); i++)
			if ((unsigned char)got[i] != GUARD)
				fail_msg("%s:%d: \"%s\" size %zu: wrote byte %zu", file, line, fmt, size, i);
	}
	va_end(aq);
}
#define CHECK(...) check_at(__FILE__, __LINE__, __VA_ARGS__)

TEST(test_plain_text)
{
	CHECK("hello, world");
	CHECK("%s", "");
	CHECK("100%% sure, %%d");
	CHECK("a%cb", 'x');
	CHECK("[%3c][%-3c]", 'y', 'z');
}

TEST(test_signed_decimal)
{
	CHECK("%d %d %d %i", 0, 1, -1, 42);
	CHECK("%d %d", INT_MAX, INT_MIN);
	CHECK("%ld %ld", LONG_MAX, LONG_MIN);
	CHECK("%lld %lld %lli", LLONG_MAX, LLONG_MIN, -1234567890123ll);
	CHECK("%zd %zd", (ptrdiff_t)-5, (ptrdiff_t)PTRDIFF_MAX);
}

TEST(test_unsigned_hex_octal)
{
	CHECK("%u %u %x %X %o", 0u, UINT_MAX, 0xdeadbeefu, 0xdeadbeefu, 0777u);
	CHECK("%lu %lx %lo", ULONG_MAX, 0x123456789abcdefUL, ULONG_MAX);
	CHECK("%llu %llx %llX %llo", ULLONG_MAX, ULLONG_MAX, 0xabcdefull, ULLONG_MAX);
	CHECK("%zu %zx", SIZE_MAX, (size_t)4096);
	/* A negative int printed unsigned is its 32-bit pattern, not 64. */
	CHECK("%x %u", -1, -2);
}

TEST(test_short_and_char_lengths)
{
	/* The argument is an int; h and hh narrow it first. */
	CHECK("%hd %hd %hu %hx", 70000, -32769, 70000, 0x12345);
	CHECK("%hhd %hhd %hhu %hhx", 200, -129, 0x1ff, 0xabc);
	CHECK("%hhd %hd", -128, -32768);
}

TEST(test_width_and_flags)
{
	CHECK("[%5d][%-5d][%05d]", 42, 42, 42);
	CHECK("[%5d][%-5d][%05d]", -42, -42, -42);
	/* '-' beats '0' (a literal format here would draw a warning). */
	const char *left_zero = "[%-05d][%0-5d]";
	CHECK(left_zero, 7, -7);
	CHECK("[%2d][%02d][%1d]", 12345, -12345, -1);
	CHECK("[%08x][%016llx][%-8X][%4o]", 0xbeefu, 0x1234ull, 0xabu, 8u);
	CHECK("[%20llu][%-22lld][%022lld]", ULLONG_MAX, LLONG_MIN, LLONG_MIN);
	CHECK("[%*d][%*u]", 6, -3, 2, 12345u);
	CHECK("[%0*x]", 10, 0x1f);
}

TEST(test_strings)
{
	const char *s = "petrel";

	CHECK("[%s][%10s][%-10s]", s, s, s);
	CHECK("[%.3s][%10.3s][%-10.3s][%.0s]", s, s, s, s);
	CHECK("[%.20s][%3s]", s, s);
	CHECK("[%.*s][%.*s]", 2, s, 0, s);
	CHECK("[%.*s]", -1, s); /* a negative precision counts as none */
}

/* %.Ns must not read past N bytes: the cmdline code prints tokens that are
 * not NUL-terminated. */
TEST(test_string_precision_stops_reading)
{
	char *raw = malloc(3), buf[16];

	memcpy(raw, "abc", 3); /* no terminator; ASan reports any read past it */
	assert_int_equal(pt_snprintf(buf, sizeof(buf), "<%.3s>", raw), 5);
	assert_string_equal(buf, "<abc>");
	free(raw);
}

TEST(test_null_string)
{
	const char *volatile nul = NULL;
	char buf[32];

	assert_int_equal(pt_snprintf(buf, sizeof(buf), "[%s]", nul), 8);
	assert_string_equal(buf, "[(null)]");
}

TEST(test_pointer)
{
	int x;

	CHECK("%p", (void *)&x);
	CHECK("%p", (void *)(uintptr_t)0xffff800000001000ull);
}

/* A format that ends in a lone '%' must stop at the terminator. */
TEST(test_trailing_percent)
{
	char *fmt = malloc(5), buf[16];

	memcpy(fmt, "abc%", 5);
	assert_int_equal(pt_snprintf(buf, sizeof(buf), fmt, 0), 3);
	assert_string_equal(buf, "abc");
	free(fmt);
}

/* size 0 writes nothing (the buffer may be NULL) and still returns the
 * length; a one-byte buffer holds just the terminator. */
TEST(test_size_zero_and_one)
{
	char one[2] = { 'x', 'y' };

	assert_int_equal(pt_snprintf(NULL, 0, "%d-%s", 12345, "abc"), 9);
	assert_int_equal(pt_snprintf(one, 1, "%d", 777), 3);
	assert_int_equal(one[0], '\0');
	assert_int_equal(one[1], 'y');
}

/* Random integers through random combinations of flags, widths, lengths
 * and conversions, compared with the host. */
TEST(test_random_integer_formats)
{
	static const char *const lens[] = { "", "l", "ll", "z", "h", "hh" };
	static const char *const flags[] = { "", "-", "0", "-0" };
	static const char convs[] = "diuxXo";
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 4000; i++) {
		char fmt[32];
		uint64_t v;
		int width, len;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		v = seed >> (seed % 64); /* small and large magnitudes alike */
		if (seed & 0x100)
			v = (uint64_t)0 - v;
		width = (int)((seed >> 20) % 26) - 1;
		len = (int)((seed >> 30) % ARRAY_SIZE(lens));
		if (width > 0)
			snprintf(fmt, sizeof(fmt), "<%%%s%d%s%c>", flags[(seed >> 40) % 4], width,
				 lens[len], convs[(seed >> 50) % 6]);
		else
			snprintf(fmt, sizeof(fmt), "<%%%s%s%c>", flags[(seed >> 40) % 4], lens[len],
				 convs[(seed >> 50) % 6]);
		/* Pass the argument with the type the length modifier names. */
		if (len == 1 || len == 2 || len == 3)
			check_at(__FILE__, __LINE__, fmt, (unsigned long long)v);
		else
			check_at(__FILE__, __LINE__, fmt, (unsigned)v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text),
		cmocka_unit_test(test_signed_decimal),
		cmocka_unit_test(test_unsigned_hex_octal),
		cmocka_unit_test(test_short_and_char_lengths),
		cmocka_unit_test(test_width_and_flags),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_string_precision_stops_reading),
		cmocka_unit_test(test_null_string),
		cmocka_unit_test(test_pointer),
		cmocka_unit_test(test_trailing_percent),
		cmocka_unit_test(test_size_zero_and_one),
		cmocka_unit_test(test_random_integer_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
