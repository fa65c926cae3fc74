/* SPDX-License-Identifier: MIT */
/*
 * The HPET (IA-PC HPET specification 1.0a) and its device (hv/dev/hpet.c).
 * The model is pure: state and functions that take the VM clock `now`
 * (ns), so tests/unit/test_hpet.c drives it with any clock.  The glue at
 * the end of its file places it at the board's MMIO base, turns matches
 * into interrupts and, in legacy replacement mode, takes GSIs 0 and 8 over
 * from the PIT and the RTC.
 *
 * What it is: a 64-bit main counter at 100 MHz (10 ns a tick, as QEMU's),
 * three timers, each with 64-bit comparators, one-shot and periodic modes,
 * a 32-bit mode, edge or level interrupts to IOAPIC pins 20-23, and the
 * legacy replacement route (timer 0 to ISA IRQ 0, timer 1 to IRQ 8).  No
 * FSB (MSI) delivery: Tn_FSB_INT_DEL_CAP reads 0.
 */
#ifndef PETREL_DEV_HPET_H
#define PETREL_DEV_HPET_H

#include <petrel/device.h>
#include <stdbool.h>
#include <stdint.h>

#define HPET_TIMERS 3
#define HPET_MMIO_SIZE 0x400
#define HPET_TICK_NS 10                 /* the counter's period */
#define HPET_PERIOD_FS 10000000u        /* the same, as GCAP_ID gives it */
#define HPET_ROUTE_CAP 0x00f00000u      /* IOAPIC pins 20-23 */
/* GCAP_ID bits 31:0: revision 1, HPET_TIMERS timers, a 64-bit counter,
 * legacy replacement, vendor 8086 (the ACPI table repeats it). */
#define HPET_ID (1u | (HPET_TIMERS - 1) << 8 | 1u << 13 | 1u << 15 | 0x8086u << 16)

/* Registers (offsets in the block). */
#define HPET_GCAP_ID 0x000
#define HPET_GEN_CONF 0x010
#define HPET_GINTR_STA 0x020
#define HPET_MAIN_CNT 0x0f0
#define HPET_TN_CONF(n) (0x100 + 0x20 * (n))
#define HPET_TN_CMP(n) (0x108 + 0x20 * (n))
#define HPET_TN_FSB(n) (0x110 + 0x20 * (n))

#define HPET_CONF_ENABLE (1u << 0)
#define HPET_CONF_LEG_RT (1u << 1)

#define HPET_TN_LEVEL (1u << 1)
#define HPET_TN_INT_ENB (1u << 2)
#define HPET_TN_PERIODIC (1u << 3)
#define HPET_TN_PER_CAP (1u << 4)
#define HPET_TN_SIZE_CAP (1u << 5)
#define HPET_TN_VAL_SET (1u << 6)
#define HPET_TN_32BIT (1u << 8)
#define HPET_TN_ROUTE_SHIFT 9
#define HPET_TN_ROUTE_MASK (0x1fu << HPET_TN_ROUTE_SHIFT)

struct hpet_timer {
	uint64_t config;  /* Tn_CONF_CAP's writable bits */
	uint64_t cmp;     /* the comparator (32 bits wide in 32-bit mode) */
	uint64_t period;  /* periodic mode: what each match adds */
	uint64_t next;    /* the counter value of its next match; UINT64_MAX: none */
};

struct hpet {
	uint64_t config;  /* GEN_CONF: ENABLE, LEG_RT */
	uint64_t isr;     /* GINTR_STA: level timers that matched */
	uint64_t counter; /* the main counter at `since` (all of it while stopped) */
	uint64_t since;   /* VM ns when it last started counting or was written */
	uint32_t edges;   /* timers with an edge to send (hpet_take_edges) */
	struct hpet_timer t[HPET_TIMERS];
};

void hpet_reset(struct hpet *h, uint64_t now);
/* Register accesses, 4 or 8 bytes (others are served from the same
 * 64-bit registers).  Matches up to `now` are counted first. */
uint64_t hpet_read(struct hpet *h, uint32_t off, uint8_t size, uint64_t now);
void hpet_write(struct hpet *h, uint32_t off, uint8_t size, uint64_t val, uint64_t now);
/* Counts the matches up to `now`: a level timer sets its status bit, an
 * edge timer with interrupts on records an edge, a periodic one moves its
 * comparator on. */
void hpet_update(struct hpet *h, uint64_t now);
uint64_t hpet_counter(const struct hpet *h, uint64_t now);
/* The edges recorded since the last call, one bit per timer. */
uint32_t hpet_take_edges(struct hpet *h);
/* Where timer n interrupts: a GSI (0 and 8 in legacy replacement mode,
 * else its IOAPIC pin), or -1 if its route is not one it can take. */
int hpet_timer_gsi(const struct hpet *h, unsigned n);
/* Whether timer n holds its (level-triggered) line high now. */
bool hpet_timer_line(const struct hpet *h, unsigned n);
/* Whether ISA IRQs 0 and 8 are the HPET's (ENABLE and LEG_RT both set). */
bool hpet_legacy(const struct hpet *h);
/* VM ns when timer n next interrupts, 0 if it will not without a write. */
uint64_t hpet_next_irq(const struct hpet *h, unsigned n);

extern const struct device_type hpet_device;

#endif
