/* SPDX-License-Identifier: MIT */
/* The core's small C library: strings, memory, formatting.  Pure C, also
 * linked into the host unit tests. */
#ifndef PETREL_LIB_H
#define PETREL_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)
#define PAGE_SIZE 4096ull

#ifndef PETREL_HOSTED
void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#else
#include <string.h>
#endif

size_t str_copy(char *dst, const char *src, size_t size);  /* like strlcpy */
size_t str_ncopy(char *dst, const char *src, size_t n, size_t size);
bool str_starts(const char *s, const char *prefix);
/* Appends line to the NUL-terminated list of size bytes, after a '\n' if
 * the list is not empty: 0, or -1 (the list unchanged) if it does not fit. */
int str_append_line(char *list, size_t size, const char *line);
/* Parses an unsigned number: decimal, 0x hex, optional K/M/G suffix when
 * `suffix` is set.  Returns false on garbage or overflow. */
bool parse_u64(const char *s, size_t n, uint64_t *out, bool suffix);
/* A hex digit's value (either case), or -1. */
int hex_digit(char c);

/* Little-endian fields of firmware tables and boot structures, at any
 * alignment (n = 1..8 bytes). */
static inline uint64_t le_get(const void *p, unsigned n)
{
	uint64_t v = 0;
	memcpy(&v, p, n);
	return v;
}

static inline void le_put(void *p, uint64_t v, unsigned n)
{
	memcpy(p, &v, n);
}

/* Sets or clears bit `bit` of a little-endian bitmap (I/O and MSR
 * permission maps). */
static inline void bitmap_assign(uint8_t *map, uint32_t bit, bool on)
{
	if (on)
		map[bit / 8] |= (uint8_t)(1u << (bit % 8));
	else
		map[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

/* The parsers' error path: copy a one-line reason into err, return -1. */
static inline int fail_with(char *err, size_t errlen, const char *msg)
{
	str_copy(err, msg, errlen);
	return -1;
}

/* Days since 0000-03-01 in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil, shifted so it stays unsigned); 1970-01-01 is day
 * DAYS_0000_TO_1970.  hv/lib/string.c. */
#define DAYS_0000_TO_1970 719468u
uint64_t days_from_civil(unsigned year, unsigned month, unsigned day);

int pt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int pt_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
