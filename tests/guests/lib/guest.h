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
uint32_t cmdline_u32(const char *key, uint32_t dflt); /* key=N on the command line */
bool cmdline_has(const char *word);

/* --- exceptions and interrupts ---------------------------------------- */
#define EXC_NONE (-1)
struct exc_info {
	int vector;          /* EXC_NONE when fn returned normally */
	uint32_t error_code; /* 0 for vectors without one */
	uint32_t eip;        /* EIP the CPU pushed: the faulting instruction, or the next one for a trap (#BP) */
	uint32_t cr2;        /* CR2 when the exception was taken (meaningful for #PF) */
	uint32_t ecx, esi, edi; /* registers at the exception (string instructions) */
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

/* --- descriptors --------------------------------------------------------- */
/* The guest's GDT: 0x08 code, 0x10 data (flat 32-bit), 0x18 64-bit code;
 * entries 4 and up are the tests'. */
#define GDT_ENTRIES 16
void gdt_set(int index, uint64_t desc);
uint64_t gdt_get(int index);
/* A code or data descriptor; attr as in the descriptor: type S DPL P in
 * bits 7:0, AVL L D/B G in bits 15:12. */
uint64_t seg_desc(uint32_t base, uint32_t limit, uint16_t attr);
void idt_set(int vector, uint64_t gate); /* vectors 0-63 */

/* --- long mode for one call (lm.c, lm64.S) -------------------------------------
 * Runs fn, 64-bit code (System V: RDI in, RAX out), in IA-32e mode with an
 * identity map of the first 4 GiB (2 MiB pages, and 4 KiB pages for the
 * window at LM_WINDOW through lm_pt), interrupts off.  An exception in fn
 * abandons it: .vector says which. */
#define LM_WINDOW 0x3fe00000u
struct lm_result {
	int vector; /* EXC_NONE if fn returned */
	uint32_t error;
	uint64_t rip, cr2, ret;
	uint64_t rcx, rsi, rdi; /* at the exception */
};
struct lm_result lm_call(const void *fn64, uint64_t arg);
extern uint64_t lm_pt[512]; /* the window's page table (identity by default) */

/* --- register state and time (regs.c) ------------------------------------ */
void regs_enable(void);                 /* x87, SSE, AVX, AVX-512 where the CPU has them */
const char *regs_what(void);            /* which registers the pattern covers */
void regs_fill(uint32_t seed);
int regs_check(uint32_t seed, char *why, size_t n); /* 0: all as filled */
uint32_t tsc_khz(void);                 /* Petrel's timing leaf; 0 natively */
void yield_ms(uint32_t ms);             /* Petrel: halt through ms ticks; natively nothing */

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

/* 64-bit by 32-bit division without libgcc. */
uint64_t div64(uint64_t n, uint32_t d);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
