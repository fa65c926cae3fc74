/* SPDX-License-Identifier: MIT */
/*
 * Logging: printf-style, with levels.  Every line goes to the serial console
 * under a lock, so lines from different CPUs never interleave.
 * panic() and ASSERT() print file, line and CPU and stop this CPU.
 */
#ifndef PETREL_LOG_H
#define PETREL_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_level;

void log_printf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vprintf(int level, const char *fmt, va_list ap);
/* Raw output, no prefix (used by the exception dumper). */
void log_raw(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_lock(void);
/* A byte of the focused VM's output (its COM1), or of the shell's echo:
 * "[name] " starts each of its lines (none with name NULL); anything else
 * printed meanwhile goes on a line of its own, and the owner's line cut by
 * it is printed again whole when the owner goes on.  log_console_end: the
 * owner's output ended mid-line on purpose (nothing is printed again). */
void log_console_byte(const void *owner, const char *name, char c);
void log_console_end(const void *owner);
void log_unlock(void);
/* What this CPU prints goes to fn instead of the console port until
 * log_set_sink(NULL, NULL) (the GDB stub's monitor command). */
void log_set_sink(void (*fn)(void *ctx, const char *s), void *ctx);
/* Nothing goes to the console port while on (GDB talks there): the lines
 * are counted and the count said when it goes off. */
void log_mute(bool on);

#define pr_err(...) log_printf(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) log_printf(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_printf(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_printf(LOG_DEBUG, __VA_ARGS__)

__attribute__((noreturn, format(printf, 3, 4)))
void panic_at(const char *file, int line, const char *fmt, ...);
/* A fatal condition caused by the machine or its firmware, not a bug:
 * one clear line, then every CPU we own stops. */
__attribute__((noreturn, format(printf, 1, 2)))
void fatal(const char *fmt, ...);

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(c)                                                       \
	do {                                                            \
		if (!(c))                                               \
			panic_at(__FILE__, __LINE__, "ASSERT(%s) failed", #c); \
	} while (0)

#endif
