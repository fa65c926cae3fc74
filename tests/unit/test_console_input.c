/* SPDX-License-Identifier: MIT */
/* hv/core/console_input.c: the escape that moves the console's focus, and
 * the shell's line editor, word splitting and suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/console_input.h>
#include <petrel/lib.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

/* Feeds `in` (n bytes) through the escape; what goes on is appended to
 * out, each switch as '|'. */
static void through_escape(struct escape *e, const char *in, size_t n, char *out)
{
	size_t k = strlen(out);

	for (size_t i = 0; i < n; i++) {
		uint8_t fwd[ESCAPE_COUNT];
		bool sw;
		uint32_t m = escape_feed(e, (uint8_t)in[i], fwd, &sw);
		assert_true(m <= ESCAPE_COUNT);
		for (uint32_t j = 0; j < m; j++)
			out[k++] = fwd[j] == 0x01 ? '^' : (char)fwd[j];
		if (sw)
			out[k++] = '|';
		out[k] = '\0';
	}
}

TEST(three_in_a_row_switch)
{
	struct escape e = { .ch = 0x01 };
	char out[64] = "";

	through_escape(&e, "ab\x01\x01\x01" "cd", 7, out);
	assert_string_equal(out, "ab|cd");
	/* six in a row: two switches; nothing goes on */
	out[0] = '\0';
	through_escape(&e, "\x01\x01\x01\x01\x01\x01", 6, out);
	assert_string_equal(out, "||");
}

TEST(fewer_go_on_in_order)
{
	struct escape e = { .ch = 0x01 };
	char out[64] = "";

	/* pasted text with one and two Ctrl-A inside: nothing lost or reordered */
	through_escape(&e, "x\x01y\x01\x01z", 6, out);
	assert_string_equal(out, "x^y^^z");
	/* two held, then the third arrives after other text: no switch */
	out[0] = '\0';
	through_escape(&e, "\x01\x01q\x01", 4, out);
	assert_string_equal(out, "^^q");
	assert_int_equal(e.held, 1); /* the last one waits for what follows */
}

TEST(other_escape_letter)
{
	struct escape e = { .ch = 0x14 }; /* conswitch=t */
	char out[64] = "";

	through_escape(&e, "\x01\x01\x01\x14\x14\x14", 6, out);
	assert_string_equal(out, "^^^|");
}

/* Feeds a string through the editor: the last event, the echo appended.
 * TYPE(l, "literal", echo) counts the literal's bytes itself. */
#define TYPE(l, lit, echo) type((l), (lit), sizeof(lit) - 1, (echo))
static enum line_event type(struct line_editor *l, const char *s, size_t n, char *echo_all)
{
	enum line_event ev = LINE_NONE;

	for (size_t i = 0; i < n; i++) {
		char echo[8];
		ev = line_feed(l, (uint8_t)s[i], echo, sizeof(echo));
		strcat(echo_all, echo);
		if (ev != LINE_NONE && i + 1 < n)
			fail_msg("event %d before the end, at byte %zu", ev, i);
	}
	return ev;
}

TEST(lines_end_and_edit)
{
	struct line_editor l = { 0 };
	char echo[256] = "";

	assert_int_equal(TYPE(&l, "vm lisx\x7ft\r", echo), LINE_READY);
	assert_string_equal(l.buf, "vm list");
	assert_string_equal(echo, "vm lisx\b \bt\n");
	line_reset(&l);
	/* CR LF is one end; a lone LF is one too */
	echo[0] = '\0';
	assert_int_equal(TYPE(&l, "a\r", echo), LINE_READY);
	line_reset(&l);
	assert_int_equal(TYPE(&l, "\n", echo), LINE_NONE);
	assert_int_equal(TYPE(&l, "b\n", echo), LINE_READY);
	assert_string_equal(l.buf, "b");
	line_reset(&l);
	/* backspace on an empty line does nothing */
	echo[0] = '\0';
	assert_int_equal(TYPE(&l, "\x08\x08", echo), LINE_NONE);
	assert_string_equal(echo, "");
}

TEST(cancel_and_ignore)
{
	struct line_editor l = { 0 };
	char echo[256] = "";

	assert_int_equal(TYPE(&l, "junk\x03", echo), LINE_CANCELLED);
	assert_string_equal(l.buf, "");
	assert_int_equal(TYPE(&l, "junk\x15", echo), LINE_CANCELLED);
	/* arrow keys (ESC [ A), ESC x, other control bytes and non-ASCII: ignored */
	assert_int_equal(TYPE(&l, "\x1b[A\x1b[1;5C\x1bxhe\x07\xffy\r", echo), LINE_READY);
	assert_string_equal(l.buf, "hey");
}

TEST(overlong_is_not_run)
{
	struct line_editor l = { 0 };
	char line[LINE_EDIT_MAX + 10], echo[1024] = "";

	memset(line, 'a', sizeof(line));
	assert_int_equal(type(&l, line, sizeof(line), echo), LINE_NONE);
	assert_int_equal(l.len, LINE_EDIT_MAX);
	assert_true(l.overlong);
	assert_int_equal(TYPE(&l, "\x7f\r", echo), LINE_TOO_LONG); /* backspace does not rescue it */
	line_reset(&l);
	assert_false(l.overlong);
	memset(line, 'b', LINE_EDIT_MAX);
	line[LINE_EDIT_MAX] = '\r';
	assert_int_equal(type(&l, line, LINE_EDIT_MAX + 1, echo), LINE_READY); /* exactly the limit: fine */
	assert_int_equal(strlen(l.buf), LINE_EDIT_MAX);
}

TEST(split_words)
{
	char s1[] = "  vm   pause  linux0 ", s2[] = "", s3[] = "a b c d";
	char *argv[4];

	assert_int_equal(line_split(s1, argv, 3), 3);
	assert_string_equal(argv[0], "vm");
	assert_string_equal(argv[1], "pause");
	assert_string_equal(argv[2], "linux0");
	assert_null(argv[3]);
	assert_int_equal(line_split(s2, argv, 3), 0);
	assert_null(argv[0]);
	assert_int_equal(line_split(s3, argv, 3), -1);
}

TEST(distances)
{
	char long_word[LINE_EDIT_MAX + 2];

	assert_int_equal(edit_distance("vm", "vm"), 0);
	assert_int_equal(edit_distance("vmm", "vm"), 1);
	assert_int_equal(edit_distance("stast", "stats"), 2);
	assert_int_equal(edit_distance("", "help"), 4);
	assert_int_equal(edit_distance("exitcots", "exitcost"), 2);
	memset(long_word, 'x', sizeof(long_word) - 1);
	long_word[sizeof(long_word) - 1] = '\0';
	assert_int_equal(edit_distance(long_word, "vm"), UINT32_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(three_in_a_row_switch),
		cmocka_unit_test(fewer_go_on_in_order),
		cmocka_unit_test(other_escape_letter),
		cmocka_unit_test(lines_end_and_edit),
		cmocka_unit_test(cancel_and_ignore),
		cmocka_unit_test(overlong_is_not_run),
		cmocka_unit_test(split_words),
		cmocka_unit_test(distances),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
