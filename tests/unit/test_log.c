/* SPDX-License-Identifier: MIT */
/*
 * hv/core/log.c, the console port's output, compiled here with the UART,
 * the CPU and the per-CPU area replaced (the real source, stubbed
 * dependencies).  The focused VM's line and the shell's: "[name] " at each
 * line's start; a line of Petrel's log or another VM's cuts it and goes on
 * a line of its own; the owner's line, when it goes on, is printed again
 * whole with its prefix (a marker split by a cut is found on one line);
 * a line ended on purpose is not; a line too long to keep goes on after
 * its prefix alone; the sink and the mute.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Stand-ins for arch/cpu.h and petrel/percpu.h, which log.c then does
 * not include. */
#define ARCH_CPU_H
#define PETREL_PERCPU_H
static inline void cpu_relax(void) {}
static inline void irq_disable(void) {}
__attribute__((noreturn)) static void cpu_halt_forever(void) { abort(); }
struct percpu {
	uint32_t cpu_id;
};
static struct percpu cpu0;
static inline struct percpu *this_cpu(void) { return &cpu0; }

#include "../../hv/core/log.c"

static char port[8192]; /* what went out on the console port */
static size_t port_len;

struct uart uart_console, uart_gdb;

void uart_putc(struct uart *u, char c)
{
	assert_ptr_equal(u, &uart_console);
	assert_true(port_len < sizeof(port) - 1);
	port[port_len++] = c;
	port[port_len] = '\0';
}

void smp_stop_others(void) {}

#define TEST(name) static void name(void **state __attribute__((unused)))

static int reset(void **state __attribute__((unused)))
{
	port_len = 0;
	port[0] = '\0';
	partial = cut = NULL;
	text_len = 0;
	text_whole = true;
	return 0;
}

static const int vm0, vm1, shell; /* owners: any distinct addresses */

static void out(const void *owner, const char *name, const char *s)
{
	for (; *s; s++)
		log_console_byte(owner, name, *s);
}

/* The port's text as read: without the \r that goes before each \n. */
static const char *seen(void)
{
	static char buf[sizeof(port)];
	size_t n = 0;

	for (size_t i = 0; i < port_len; i++)
		if (port[i] != '\r')
			buf[n++] = port[i];
	buf[n] = '\0';
	return buf;
}

TEST(lines_get_their_prefix)
{
	out(&vm0, "linux0", "one\ntwo\n");
	assert_string_equal(seen(), "[linux0] one\n[linux0] two\n");
	assert_non_null(strstr(port, "one\r\n")); /* a terminal's line end */
}

TEST(a_prompt_stays_unfinished)
{
	out(&vm0, "linux0", "/ # ");
	assert_string_equal(seen(), "[linux0] / # ");
	out(&vm0, "linux0", "ls\n");
	assert_string_equal(seen(), "[linux0] / # ls\n");
}

TEST(a_cut_line_goes_on_whole)
{
	out(&vm0, "linux0", "__PSD1E");
	log_raw("[linux1] %s\n", "its own line");
	out(&vm0, "linux0", "3__ 0\n");
	assert_string_equal(seen(), "[linux0] __PSD1E\n"
				    "[linux1] its own line\n"
				    "[linux0] __PSD1E3__ 0\n");
}

TEST(cut_twice)
{
	out(&vm0, "linux0", "a");
	log_raw("x\n");
	out(&vm0, "linux0", "b");
	pr_info("y\n");
	out(&vm0, "linux0", "c\nd\n");
	assert_string_equal(seen(), "[linux0] a\nx\n[linux0] ab\npetrel: y\n[linux0] abc\n[linux0] d\n");
}

TEST(a_line_ended_on_purpose_is_not_printed_again)
{
	out(&vm0, "linux0", "/ # ");
	log_console_end(&vm0); /* it lost the focus */
	out(&shell, NULL, "petrel> ");
	out(&vm0, "linux0", "more\n");
	assert_string_equal(seen(), "[linux0] / # \npetrel> \n[linux0] more\n");
}

TEST(another_owner_takes_over_the_line)
{
	out(&vm0, "linux0", "half");
	log_raw("x\n");
	out(&vm1, "linux1", "other\n"); /* vm0's cut line is forgotten */
	out(&vm0, "linux0", "rest\n");
	assert_string_equal(seen(), "[linux0] half\nx\n[linux1] other\n[linux0] rest\n");
}

TEST(the_shell_line_too)
{
	out(&shell, NULL, "petrel> vm li");
	log_raw("[linux1] booted\n");
	out(&shell, NULL, "st\n");
	assert_string_equal(seen(), "petrel> vm li\n[linux1] booted\npetrel> vm list\n");
}

TEST(a_line_too_long_goes_on_after_its_prefix)
{
	char line[TEXT_MAX + 2];

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	out(&vm0, "linux0", line);
	log_raw("x\n");
	out(&vm0, "linux0", "b\n");
	assert_non_null(strstr(seen(), "a\nx\n[linux0] b\n"));
	/* and the next line is kept again */
	out(&vm0, "linux0", "c");
	log_raw("y\n");
	out(&vm0, "linux0", "d\n");
	assert_non_null(strstr(seen(), "[linux0] c\ny\n[linux0] cd\n"));
}

static const char *sunk;
static void sink_fn(void *ctx, const char *s)
{
	assert_ptr_equal(ctx, &sunk);
	sunk = s;
}

TEST(the_sink_and_the_mute)
{
	log_set_sink(sink_fn, &sunk);
	log_raw("to gdb\n");
	log_set_sink(NULL, NULL);
	assert_string_equal(sunk, "to gdb\n");
	assert_int_equal(port_len, 0);
	log_mute(true);
	log_raw("a\nb\n");
	log_mute(false);
	assert_string_equal(seen(), "petrel: console: 2 lines of Petrel's log not shown while GDB had the port\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(lines_get_their_prefix, reset),
		cmocka_unit_test_setup(a_prompt_stays_unfinished, reset),
		cmocka_unit_test_setup(a_cut_line_goes_on_whole, reset),
		cmocka_unit_test_setup(cut_twice, reset),
		cmocka_unit_test_setup(a_line_ended_on_purpose_is_not_printed_again, reset),
		cmocka_unit_test_setup(another_owner_takes_over_the_line, reset),
		cmocka_unit_test_setup(the_shell_line_too, reset),
		cmocka_unit_test_setup(a_line_too_long_goes_on_after_its_prefix, reset),
		cmocka_unit_test_setup(the_sink_and_the_mute, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
