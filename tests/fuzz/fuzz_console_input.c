/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for hv/core/console_input.c: typed bytes through the
 * escape and then the shell's line editor, as the console feeds them.
 * Input: the escape's byte, then what is typed.  The invariants checked:
 *  - the escape forwards at most ESCAPE_COUNT bytes per byte, holds fewer
 *    than ESCAPE_COUNT, and forwards every byte that is not the escape
 *    character, last and in order;
 *  - the line holds at most LINE_EDIT_MAX printable characters, its length
 *    is its strlen, and the echo is a string that fits its buffer;
 *  - a ready line splits into at most 8 words (or says it has more), each
 *    non-empty without spaces; the distance to a command name is at most
 *    the longer length. */
#include <string.h>

#include <petrel/console_input.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct escape e;
	struct line_editor l;

	if (!size)
		return 0;
	memset(&l, 0, sizeof(l));
	e = (struct escape){ .ch = data[0] };
	for (size_t i = 1; i < size; i++) {
		uint8_t fwd[ESCAPE_COUNT];
		bool sw;
		uint32_t n = escape_feed(&e, data[i], fwd, &sw);
		CHECK(n <= ESCAPE_COUNT && e.held < ESCAPE_COUNT);
		CHECK(data[i] == e.ch ? n == 0 : (n >= 1 && fwd[n - 1] == data[i]));
		CHECK(!sw || data[i] == e.ch);
		for (uint32_t j = 0; j < n; j++) {
			char echo[8];
			enum line_event ev = line_feed(&l, fwd[j], echo, sizeof(echo));
			CHECK(memchr(echo, '\0', sizeof(echo)) != NULL);
			CHECK(l.len <= LINE_EDIT_MAX && strlen(l.buf) == l.len);
			for (uint32_t k = 0; k < l.len; k++)
				CHECK(l.buf[k] >= 0x20 && l.buf[k] <= 0x7e);
			if (ev == LINE_READY) {
				char copy[LINE_EDIT_MAX + 1], *argv[9];
				int argc;
				memcpy(copy, l.buf, l.len + 1);
				argc = line_split(copy, argv, 8);
				CHECK(argc >= -1 && argc <= 8);
				for (int a = 0; a < argc; a++)
					CHECK(argv[a][0] && !strchr(argv[a], ' '));
				if (argc > 0)
					CHECK(edit_distance(argv[0], "version") <= (strlen(argv[0]) > 7 ? strlen(argv[0]) : 7));
			}
			if (ev != LINE_NONE && ev != LINE_CANCELLED)
				line_reset(&l);
		}
	}
	return 0;
}
