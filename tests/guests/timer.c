/* SPDX-License-Identifier: MIT */
/*
 * timer: the guest halts (sti; hlt) and a periodic interrupt wakes it.
 * Under Petrel the tick comes from Petrel's test device (port 0x538);
 * natively from the 8254 PIT through the 8259 PIC remapped to 0x30, which
 * proves the guest's own interrupt path.  Checks: 10 ticks arrive, every
 * wake-up from hlt was an interrupt, the TSC advanced, a tick that fell due
 * while IF=0 arrives right after the next sti (Petrel: through an interrupt
 * window it asks for), and once the tick is stopped none arrives for three
 * tick periods.
 */
#include "guest.h"

const char guest_name[] = "timer";

#define VECTOR      0x30
#define PERIOD_US   10000u
#define TICKS       10u
#define TICK_PORT   0x538   /* Petrel: (period_us << 8) | vector starts, 0 stops */
#define FIRST_TICK_TSC (1ull << 32) /* 1-4 s at 1-4 GHz: far more than 10 ms */
#define FIRST_TICK_SPINS 100000000u /* in case the TSC stands still */
#define PIC1        0x20
#define PIC2        0xa0
#define PIT_CH0     0x40
#define PIT_CMD     0x43
#define PIT_HZ      1193182u

static volatile uint32_t ticks;

static void on_tick(void) { ticks++; }

static void on_tick_pic(void)
{
	ticks++;
	outb(PIC1, 0x20); /* non-specific EOI */
}

/* 8259A: ICW1-4 put IRQ0-7 at base, IRQ8-15 at base + 8; only IRQ0 unmasked. */
static void pic_remap(uint8_t base)
{
	outb(PIC1, 0x11);           /* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2, 0x11);
	outb(PIC1 + 1, base);       /* ICW2: vector base */
	outb(PIC2 + 1, base + 8);
	outb(PIC1 + 1, 0x04);       /* ICW3: slave on IRQ2 */
	outb(PIC2 + 1, 0x02);
	outb(PIC1 + 1, 0x01);       /* ICW4: 8086 mode */
	outb(PIC2 + 1, 0x01);
	outb(PIC1 + 1, 0xfe);
	outb(PIC2 + 1, 0xff);
}

static void tick_start(void)
{
	if (under_petrel()) {
		irq_set_handler(VECTOR, on_tick);
		outl(TICK_PORT, (PERIOD_US << 8) | VECTOR);
		return;
	}
	irq_set_handler(VECTOR, on_tick_pic);
	pic_remap(VECTOR);
	uint16_t div = (uint16_t)(PIT_HZ / (1000000u / PERIOD_US));
	outb(PIT_CMD, 0x34);        /* channel 0, lo/hi byte, mode 2 (rate generator) */
	outb(PIT_CH0, div & 0xff);
	outb(PIT_CH0, div >> 8);
}

static void tick_stop(void)
{
	if (under_petrel())
		outl(TICK_PORT, 0);
	else
		outb(PIC1 + 1, 0xff);   /* mask IRQ0: a latched request stays undelivered */
}

/* Interrupts on, no hlt: a tick that never comes must not hang the guest. */
static bool wait_first_tick(void)
{
	uint32_t n0 = ticks;
	uint64_t end = rdtsc() + FIRST_TICK_TSC;
	sti();
	for (uint32_t i = 0; i < FIRST_TICK_SPINS && ticks == n0 && rdtsc() < end; i++)
		pause();
	cli();
	return ticks != n0;
}

void guest_main(void)
{
	printf("timer: %s, vector 0x%x, period %u us\n",
	       under_petrel() ? "Petrel test device port 0x538" : "8254 PIT via 8259 PIC", VECTOR,
	       PERIOD_US);
	tick_start();
	bool first = wait_first_tick();
	report(first, "first-tick: %s within 2^32 TSC cycles with IF=1", first ? "one" : "none");
	if (!first) {
		tick_stop();
		return;
	}
	/* Each hlt must end with an interrupt; cap the halts so a hlt that
	 * returns without one ends the loop instead of spinning forever. */
	printf("timer: waiting for %u ticks in sti; hlt (a hang here: the ticks stopped)\n", TICKS);
	uint32_t n0 = ticks, strays0 = stray_irqs, halts = 0;
	uint64_t t0 = rdtsc();
	while (ticks - n0 < TICKS && halts < 100 * TICKS) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		halts++;
	}
	uint64_t t1 = rdtsc();
	uint32_t got = ticks - n0, strays = stray_irqs - strays0;
	report(got >= TICKS, "ticks: %u of %u after %u halts", got, TICKS, halts);
	report(halts <= got + strays, "hlt-waits: %u halts for %u ticks and %u stray interrupts",
	       halts, got, strays);
	report(t1 > t0, "tsc-advances: 0x%llx then 0x%llx", t0, t1);

	/* A tick due while interrupts are off is held, then delivered after
	 * the sti (and its one-instruction shadow): before the cli that
	 * follows.  Wait ~2.5 periods with IF=0 so one is surely due. */
	uint64_t period = (t1 - t0) >> 3; /* ~1.25 periods per 8th of 10 */
	uint32_t held0 = ticks;
	for (uint64_t end = rdtsc() + 2 * period; rdtsc() < end;)
		pause();
	bool none_while_masked = ticks == held0;
	__asm__ volatile("sti; nop; cli" ::: "memory");
	report(none_while_masked && ticks > held0,
	       "held-until-sti: %u ticks with IF=0 (want 0), %u right after sti (want >= 1)",
	       none_while_masked ? 0 : ticks - held0, ticks - held0);

	tick_stop();
	/* About three tick periods, measured by the TSC over the 10 just seen:
	 * 5/16 of it (shifts: no 64-bit division without libgcc). */
	uint64_t wait = ((t1 - t0) >> 2) + ((t1 - t0) >> 4), end;
	uint32_t n1 = ticks;
	sti();
	for (end = rdtsc() + wait; rdtsc() < end;)
		pause();
	cli();
	report(ticks == n1, "stopped: %u ticks after stopping, over 0x%llx TSC cycles", ticks - n1,
	       wait);
}
