/* SPDX-License-Identifier: MIT */
/*
 * What the console does with typed bytes, as pure functions over their
 * state (petrel/console_input.h): the escape that moves the focus
 * (console.c), and the shell's line editor, word splitting and
 * suggestions (shell.c).  Built for the host too: unit tests and a
 * libFuzzer harness feed them every byte there is.
 */
#include <petrel/console_input.h>
#include <petrel/lib.h>

/* --- the escape ------------------------------------------------------------ */

uint32_t escape_feed(struct escape *e, uint8_t c, uint8_t out[ESCAPE_COUNT], bool *switch_focus)
{
	uint32_t n = 0;

	*switch_focus = false;
	if (c == e->ch) {
		if (++e->held == ESCAPE_COUNT) {
			e->held = 0;
			*switch_focus = true;
		}
		return 0;
	}
	for (; e->held; e->held--) /* not the escape after all: they go on first */
		out[n++] = e->ch;
	out[n++] = c;
	return n;
}

/* --- the shell's line editor ----------------------------------------------- */

static void echo_add(char *echo, size_t size, const char *s)
{
	size_t l = strlen(echo);

	while (*s && l + 1 < size)
		echo[l++] = *s++;
	echo[l] = '\0';
}

enum line_event line_feed(struct line_editor *l, uint8_t c, char *echo, size_t echo_size)
{
	bool cr = l->after_cr;

	if (echo_size)
		echo[0] = '\0';
	l->after_cr = c == '\r';
	if (l->esc == LINE_ESC) { /* ESC [ starts a control sequence; ESC x is two bytes */
		l->esc = c == '[' ? LINE_CSI : LINE_TEXT;
		return LINE_NONE;
	}
	if (l->esc == LINE_CSI) { /* parameters and intermediates until a final byte 0x40-0x7e */
		if (c >= 0x40 && c <= 0x7e)
			l->esc = LINE_TEXT;
		return LINE_NONE;
	}
	switch (c) {
	case '\n':
		if (cr)
			return LINE_NONE; /* CR LF: one end of line */
		/* fall through */
	case '\r':
		echo_add(echo, echo_size, "\n");
		return l->overlong ? LINE_TOO_LONG : LINE_READY;
	case 0x1b:
		l->esc = LINE_ESC;
		return LINE_NONE;
	case 0x7f: case 0x08: /* backspace */
		if (l->len && !l->overlong) {
			l->buf[--l->len] = '\0';
			echo_add(echo, echo_size, "\b \b");
		}
		return LINE_NONE;
	case 0x03: /* Ctrl-C */
	case 0x15: /* Ctrl-U */
		echo_add(echo, echo_size, c == 0x03 ? "^C\n" : "\n");
		line_reset(l);
		return LINE_CANCELLED;
	default:
		break;
	}
	if (c < 0x20 || c > 0x7e)
		return LINE_NONE; /* other control bytes, and non-ASCII: ignored */
	if (l->len == LINE_EDIT_MAX) {
		l->overlong = true;
		return LINE_NONE;
	}
	l->buf[l->len++] = (char)c;
	l->buf[l->len] = '\0';
	if (echo_size > 1) {
		echo[0] = (char)c;
		echo[1] = '\0';
	}
	return LINE_NONE;
}

void line_reset(struct line_editor *l)
{
	l->len = 0;
	l->buf[0] = '\0';
	l->overlong = false;
}

int line_split(char *s, char **argv, int max)
{
	int argc = 0;

	while (*s) {
		while (*s == ' ')
			*s++ = '\0';
		if (!*s)
			break;
		if (argc == max)
			return -1;
		argv[argc++] = s;
		while (*s && *s != ' ')
			s++;
	}
	argv[argc] = NULL;
	return argc;
}

uint32_t edit_distance(const char *a, const char *b)
{
	uint32_t prev[LINE_EDIT_MAX + 1], cur[LINE_EDIT_MAX + 1];
	uint32_t la = (uint32_t)strlen(a), lb = (uint32_t)strlen(b);

	if (la > LINE_EDIT_MAX || lb > LINE_EDIT_MAX)
		return UINT32_MAX;
	for (uint32_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (uint32_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (uint32_t j = 1; j <= lb; j++)
			cur[j] = MIN(MIN(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + (a[i - 1] != b[j - 1]));
		memcpy(prev, cur, sizeof(prev[0]) * (lb + 1));
	}
	return prev[lb];
}
