/* SPDX-License-Identifier: MIT */
/*
 * canary: a well-behaved guest that runs beside a hostile one on the same
 * CPU and checks that nothing of its own was touched or held back:
 *  - registers: the x87 stack, FCW, MXCSR, XMM/YMM/ZMM, opmask, DR0-3 and
 *    DR6 hold this VM's pattern (seed=N) after it gave the CPU away
 *    (yield_ms: halting through test-device ticks lets the other VM run);
 *  - RAM: an address-derived pattern over all its free RAM survives;
 *  - its devices: the test device's latch and FIFO keep what it put there;
 *  - time: while it wants to run, its longest stall (two TSC reads in a
 *    row further apart than a deliberate yield) stays under stall_us, and
 *    in each window of window_ms it runs at least share percent of the
 *    time (all but the two worst windows: under QEMU TCG the TSC is the
 *    host's clock, and a host that deschedules QEMU for a moment shows as
 *    a window lost; a scheduler that starves the canary loses many).  With `exits` each step of its busy loop is a CPUID (an exit):
 *    an exit-heavy guest must still get its share beside a busy one.
 * rounds=N rounds of busy_ms each.  The time checks need Petrel's TSC rate
 * (CPUID 0x40000010) and another VM: natively they are skipped.
 */
#include "guest.h"

const char guest_name[] = "canary";

#define PAGE 4096u
#define STRIDE 256u
#define LATCH 0x530
#define FIFO 0x534
#define GAP_RUNNING_US 200 /* two reads this close: we were running in between */

static uint32_t seed;
static uint64_t khz;

static uint32_t pattern(uint32_t addr) { return (addr * 2654435761u) ^ seed; }

/* One dword every STRIDE bytes of the free RAM above the image (below
 * 4 GiB): written at the start, checked at the end. */
static uint32_t ram_sweep(bool verify, uint32_t *first_bad)
{
	uint32_t bad = 0;
	for (int i = 0; i < mb_region_count(); i++) {
		const struct mb_region *r = mb_region(i);
		uint64_t lo = r->base, hi = r->base + r->length;
		if (r->type != 1)
			continue;
		if (lo < (uint32_t)__image_end)
			lo = (uint32_t)__image_end;
		if (hi > 0xfffff000ull)
			hi = 0xfffff000ull;
		for (uint64_t a = (lo + STRIDE - 1) & ~(uint64_t)(STRIDE - 1); a + 4 <= hi; a += STRIDE) {
			volatile uint32_t *p = (volatile uint32_t *)(uint32_t)a;
			if (!verify)
				*p = pattern((uint32_t)a);
			else if (*p != pattern((uint32_t)a) && !bad++)
				*first_bad = (uint32_t)a;
		}
	}
	return bad;
}

struct timing {
	uint64_t max_gap, window_run, window_start, windows;
	uint64_t loops; /* work done: rounds of the busy loop */
	uint64_t worst[3]; /* the three lowest window shares, %, lowest first */
	uint64_t window_ticks;
};

static void note_share(struct timing *t, uint64_t share)
{
	for (int i = 0; i < 3; i++)
		if (t->windows <= (uint64_t)i || share < t->worst[i]) {
			for (int j = 2; j > i; j--)
				t->worst[j] = t->worst[j - 1];
			t->worst[i] = share;
			break;
		}
	t->windows++;
}

/* Busy for `ticks` of TSC: tight reads (or CPUIDs), every gap noted. */
static void busy(struct timing *t, uint64_t ticks, bool exits)
{
	uint64_t start = rdtsc(), last = start, now;
	uint64_t small = div64(khz * GAP_RUNNING_US, 1000);

	do {
		if (exits)
			(void)cpuid(0);
		now = rdtsc();
		t->loops++;
		uint64_t gap = now - last;
		if (gap > t->max_gap)
			t->max_gap = gap;
		last = now;
		t->window_run += gap <= small ? gap : 0;
		if (t->window_ticks && now - t->window_start >= t->window_ticks) {
			note_share(t, div64(t->window_run * 100, (uint32_t)((now - t->window_start) >> 8)) >> 8);
			t->window_start = now;
			t->window_run = 0;
		}
	} while (now - start < ticks);
}

static void device_setup(void)
{
	if (!under_petrel())
		return;
	outl(LATCH, seed ^ 0xa5a5a5a5u);
	for (int i = 0; i < 8; i++)
		outb(FIFO, (uint8_t)(seed + i));
}

static void device_check(void)
{
	uint32_t latch, bad = 0;
	if (!under_petrel()) {
		report_skip("device-state-kept", "the test device is Petrel's");
		return;
	}
	latch = inl(LATCH);
	for (int i = 0; i < 8; i++)
		bad += inb(FIFO) != (uint8_t)(seed + i);
	report(latch == (seed ^ 0xa5a5a5a5u) && !bad && inb(FIFO) == 0xff,
	       "device-state-kept: latch 0x%x (want 0x%x), %u FIFO bytes wrong", latch, seed ^ 0xa5a5a5a5u,
	       bad);
}

void guest_main(void)
{
	uint32_t rounds = cmdline_u32("rounds", 20), busy_ms = cmdline_u32("busy_ms", 100);
	uint32_t stall_us = cmdline_u32("stall_us", 50000), share = cmdline_u32("share", 25);
	uint32_t window_ms = cmdline_u32("window_ms", 40), bad_regs = 0, first_bad = 0, bad_ram;
	bool exits = cmdline_has("exits");
	struct timing t = { 0 };
	char why[96] = "";

	seed = cmdline_u32("seed", 1);
	khz = tsc_khz();
	regs_enable();
	ram_sweep(false, &first_bad);
	device_setup();
	t.window_ticks = khz * window_ms;
	t.window_start = rdtsc();
	for (uint32_t r = 0; r < rounds; r++) {
		regs_fill(seed + r);
		busy(&t, (khz ? khz : 1000000) * busy_ms, exits);
		yield_ms(2);
		t.window_start = rdtsc(); /* a yield is ours: windows restart after it */
		t.window_run = 0;
		if (regs_check(seed + r, why, sizeof(why)) && !bad_regs++)
			printf("regs: round %u: %s\n", r, why);
	}
	report(!bad_regs, "regs-kept: %s, %u of %u rounds wrong", regs_what(), bad_regs, rounds);
	bad_ram = ram_sweep(true, &first_bad);
	report(!bad_ram, "ram-kept: %u wrong dwords, first at 0x%x", bad_ram, first_bad);
	device_check();
	if (!khz) {
		report_skip("stall-bounded", "needs Petrel's TSC rate and a neighbour");
		report_skip("share-kept", "needs Petrel's TSC rate and a neighbour");
		return;
	}
	uint64_t stall = div64(t.max_gap * 1000, (uint32_t)khz);
	printf("timing: longest stall %u us, worst shares %u%% %u%% %u%% over %u windows of %u ms%s, %u loops\n",
	       (uint32_t)stall, (uint32_t)t.worst[0], (uint32_t)t.worst[1], (uint32_t)t.worst[2],
	       (uint32_t)t.windows, window_ms, exits ? " (exits)" : "", (uint32_t)t.loops);
	report(stall <= stall_us, "stall-bounded: longest %u us, bound %u us", (uint32_t)stall, stall_us);
	report(t.windows >= 3 && t.worst[2] >= share,
	       "share-kept: third-worst %u%% of a %u ms window, want %u%%", (uint32_t)t.worst[2], window_ms, share);
}
