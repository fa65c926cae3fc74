/* SPDX-License-Identifier: MIT */
/*
 * Typed bytes, as the console and the shell take them: pure functions
 * over their state (hv/core/console_input.c), built for the host too.
 */
#ifndef PETREL_CONSOLE_INPUT_H
#define PETREL_CONSOLE_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The escape: ESCAPE_COUNT of `ch` in a row move the input focus. */
#define ESCAPE_COUNT 3
struct escape {
	uint8_t ch;    /* Ctrl-A (0x01) unless conswitch= says otherwise */
	uint32_t held; /* escape bytes seen in a row so far */
};
/* One typed byte: what goes on to the focus, in order, into out (the
 * held escape bytes that turned out not to be the escape, then c), as
 * a count; *switch_focus when this byte completed the escape. */
uint32_t escape_feed(struct escape *e, uint8_t c, uint8_t out[ESCAPE_COUNT], bool *switch_focus);

/* The shell's line editor: printable ASCII up to LINE_EDIT_MAX
 * characters, backspace (DEL or BS), Ctrl-U and Ctrl-C drop the line, CR,
 * LF or CR LF end it; ESC sequences (ESC x, ESC [ ... final) and other
 * bytes are ignored.  A line that grew past the limit is not run. */
#define LINE_EDIT_MAX 120
enum line_event { LINE_NONE, LINE_READY, LINE_TOO_LONG, LINE_CANCELLED };
struct line_editor {
	char buf[LINE_EDIT_MAX + 1];
	uint32_t len;
	bool overlong, after_cr;
	enum { LINE_TEXT, LINE_ESC, LINE_CSI } esc;
};
/* One byte; echo gets what to print for it (NUL-terminated).  After
 * LINE_READY or LINE_TOO_LONG the caller runs buf (or not) and calls
 * line_reset. */
enum line_event line_feed(struct line_editor *l, uint8_t c, char *echo, size_t echo_size);
void line_reset(struct line_editor *l);
/* Splits s in place at spaces into at most max words (argv has room for
 * max + 1, NULL-terminated); the count, or -1 for more than max. */
int line_split(char *s, char **argv, int max);
/* Levenshtein distance, for "close" command names; UINT32_MAX for
 * strings longer than LINE_EDIT_MAX. */
uint32_t edit_distance(const char *a, const char *b);

#endif
