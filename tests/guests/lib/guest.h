/* SPDX-License-Identifier: MIT */
/*
 * The test-guest library (kvm-unit-tests style).  A guest defines
 * guest_name and guest_main(); the library boots it (GDT, IDT, serial,
 * multiboot info), calls guest_main(), then exit_tests().
 *
 * Output, one line each, on the 16550 at 0x3f8:
 *   START <guest> petrel=<0|1> ...       once, before the tests
 *   PASS <name>  |  FAIL <name>: <detail>  |  SKIP <name>: <why>
 *   SUMMARY <guest> passed=N failed=M skipped=K
 * then the exit code goes to port 0xf4 (QEMU's isa-debug-exit).
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "x86.h"

/* Defined by each guest. */
extern const char guest_name[];
void guest_main(void);

/* --- output ------------------------------------------------------------ */
void serial_init(void);
void serial_putc(char c);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- reporting --------------------------------------------------------- */
/* The text up to the first ": " names the check; the rest is detail,
 * printed only when the check fails:  report(a == b, "latch: got %x", a). */
void report(bool pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_skip(const char *name, const char *why_fmt, ...) __attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void exit_tests(void);
bool under_petrel(void);

/* --- exceptions and interrupts ---------------------------------------- */
#define EXC_NONE (-1)
struct exc_info {
	int vector;          /* EXC_NONE when fn returned normally */
	uint32_t error_code; /* 0 for vectors without one */
	uint32_t eip;        /* EIP the CPU pushed: the faulting instruction, or the next one for a trap (#BP) */
	uint32_t cr2;        /* CR2 when the exception was taken (meaningful for #PF) */
};
/* Runs fn(arg).  An exception (vectors 0-31) inside it abandons fn at once
 * and is returned; otherwise .vector is EXC_NONE. */
struct exc_info exc_call(void (*fn)(void *), void *arg);
/* Vectors 32-63 call the handler registered here (none: counted as stray). */
void irq_set_handler(int vector, void (*fn)(void));
extern volatile uint32_t stray_irqs;
int rdmsr_safe(uint32_t msr, uint64_t *val); /* returns vector or EXC_NONE */
int wrmsr_safe(uint32_t msr, uint64_t val);
const char *exc_name(int vector);

/* --- multiboot information (copied at boot, safe to overwrite after) --- */
struct mb_region {
	uint64_t base, length;
	uint32_t type;       /* 1 = available RAM */
};
int mb_region_count(void);
const struct mb_region *mb_region(int i);
uint64_t mb_ram_top(void);   /* end of the highest available region */
const char *mb_cmdline(void);

/* --- the image ----------------------------------------------------------- */
extern char __image_start[], __image_end[], __bss_start[], __bss_end[];

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
