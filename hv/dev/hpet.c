/* SPDX-License-Identifier: MIT */
/*
 * The HPET (IA-PC HPET 1.0a; petrel/dev/hpet.h says what this one has).
 *
 * Nothing ticks.  The main counter is computed from the VM clock: while
 * enabled it is `counter` + (now - since) / 10 ns.  Each timer keeps the
 * counter value of its next match (`next`, in the counter's 64-bit space;
 * its comparator is that value in the timer's width), and hpet_update()
 * counts the matches the counter has passed: in 32-bit mode a comparator
 * matches again each time the low 32 bits come round (every 42.9 s), as
 * on hardware; a periodic timer moves its comparator on by its period,
 * once for all the periods that passed (a VM that was not run does not
 * get a burst of interrupts); a level timer sets its GINTR_STA bit (even
 * with its interrupt off, as the specification says), an edge timer with
 * its interrupt on records an edge for the glue to send.
 *
 * Comparator writes (§2.3.9.2.4 and what OSes do with it): in one-shot
 * mode a write sets the comparator; in periodic mode it sets the period
 * and, if Tn_VAL_SET_CNF was set, the comparator too; Tn_VAL_SET_CNF
 * clears itself after any comparator write.  Linux's periodic set-up
 * (VAL_SET, comparator, then the period again) works that way.
 */
#include <petrel/board.h>
#include <petrel/dev/hpet.h>
#include <petrel/lib.h>
#include <petrel/log.h>

#define NEVER UINT64_MAX
#define TN_WRITABLE                                                                               \
	(HPET_TN_LEVEL | HPET_TN_INT_ENB | HPET_TN_PERIODIC | HPET_TN_VAL_SET | HPET_TN_32BIT | \
	 HPET_TN_ROUTE_MASK)

static bool enabled(const struct hpet *h)
{
	return h->config & HPET_CONF_ENABLE;
}

static uint64_t width_mask(const struct hpet_timer *t)
{
	return t->config & HPET_TN_32BIT ? 0xffffffffull : ~0ull;
}

uint64_t hpet_counter(const struct hpet *h, uint64_t now)
{
	if (!enabled(h) || now < h->since)
		return h->counter;
	return h->counter + (now - h->since) / HPET_TICK_NS;
}

/* The first counter value after c at which the timer's comparator
 * matches: 1 to 2^width ticks on. */
static void compute_next(struct hpet_timer *t, uint64_t c)
{
	uint64_t mask = width_mask(t);
	uint64_t ticks = ((t->cmp - c - 1) & mask) + 1; /* 0 when it is 2^64 */

	if (ticks == 0 || c + ticks < c)
		t->next = NEVER;
	else
		t->next = c + ticks;
}

static void timer_matched(struct hpet *h, unsigned n, uint64_t c)
{
	struct hpet_timer *t = &h->t[n];
	uint64_t passed = c - t->next, step;

	if (t->config & HPET_TN_PERIODIC && t->period) {
		/* every period that ended by c: the comparator goes past c */
		uint64_t k = passed / t->period + 1;
		if (__builtin_mul_overflow(k, t->period, &step) || __builtin_add_overflow(t->next, step, &t->next))
			t->next = NEVER;
		t->cmp = (t->cmp + step) & width_mask(t);
	} else if (t->config & HPET_TN_32BIT) {
		/* the low 32 bits come round again */
		step = ((passed >> 32) + 1) << 32;
		if (__builtin_add_overflow(t->next, step, &t->next))
			t->next = NEVER;
	} else {
		t->next = NEVER; /* in 2^64 ticks: 5,800 years */
	}
	if (t->config & HPET_TN_LEVEL)
		h->isr |= 1u << n;
	else if (t->config & HPET_TN_INT_ENB)
		h->edges |= 1u << n;
}

void hpet_update(struct hpet *h, uint64_t now)
{
	uint64_t c;

	if (!enabled(h))
		return; /* a stopped counter matches nothing */
	c = hpet_counter(h, now);
	for (unsigned n = 0; n < HPET_TIMERS; n++)
		if (h->t[n].next <= c)
			timer_matched(h, n, c);
}

uint32_t hpet_take_edges(struct hpet *h)
{
	uint32_t e = h->edges;

	h->edges = 0;
	return e;
}

bool hpet_legacy(const struct hpet *h)
{
	return (h->config & (HPET_CONF_ENABLE | HPET_CONF_LEG_RT)) == (HPET_CONF_ENABLE | HPET_CONF_LEG_RT);
}

int hpet_timer_gsi(const struct hpet *h, unsigned n)
{
	unsigned route = (unsigned)(h->t[n].config & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT;

	if (hpet_legacy(h) && n < 2)
		return n == 0 ? 0 : 8;
	return HPET_ROUTE_CAP & (1u << route) ? (int)route : -1;
}

bool hpet_timer_line(const struct hpet *h, unsigned n)
{
	const struct hpet_timer *t = &h->t[n];

	return enabled(h) && (t->config & HPET_TN_LEVEL) && (t->config & HPET_TN_INT_ENB) && (h->isr & (1u << n));
}

uint64_t hpet_next_irq(const struct hpet *h, unsigned n)
{
	const struct hpet_timer *t = &h->t[n];
	uint64_t ns;

	if (!enabled(h) || !(t->config & HPET_TN_INT_ENB) || t->next == NEVER)
		return 0;
	/* a level timer already asserted shows nothing new until cleared */
	if (t->config & HPET_TN_LEVEL && h->isr & (1u << n))
		return 0;
	if (__builtin_mul_overflow(t->next - h->counter, (uint64_t)HPET_TICK_NS, &ns) ||
	    __builtin_add_overflow(ns, h->since, &ns))
		return 0;
	return ns ? ns : 1;
}

void hpet_reset(struct hpet *h, uint64_t now)
{
	memset(h, 0, sizeof(*h));
	h->since = now;
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		h->t[n].cmp = ~0ull; /* the specification's reset value */
		compute_next(&h->t[n], 0);
	}
}

/* The 64-bit register at off (8-aligned). */
static uint64_t reg(const struct hpet *h, uint32_t off, uint64_t now)
{
	unsigned n = (off - 0x100) / 0x20;

	switch (off) {
	case HPET_GCAP_ID:
		return HPET_ID | (uint64_t)HPET_PERIOD_FS << 32;
	case HPET_GEN_CONF:
		return h->config;
	case HPET_GINTR_STA:
		return h->isr;
	case HPET_MAIN_CNT:
		return hpet_counter(h, now);
	}
	if (off < HPET_TN_CONF(0) || n >= HPET_TIMERS)
		return 0;
	switch (off - HPET_TN_CONF(n)) {
	case 0:
		return h->t[n].config | HPET_TN_PER_CAP | HPET_TN_SIZE_CAP | (uint64_t)HPET_ROUTE_CAP << 32;
	case 8:
		return h->t[n].cmp;
	default:
		return 0; /* the FSB route: no FSB delivery */
	}
}

uint64_t hpet_read(struct hpet *h, uint32_t off, uint8_t size, uint64_t now)
{
	unsigned shift = (off & 7) * 8;
	uint64_t v;

	if (off >= HPET_MMIO_SIZE)
		return 0;
	hpet_update(h, now);
	v = reg(h, off & ~7u, now) >> shift;
	return size >= 8 ? v : v & ((1ull << (size * 8)) - 1);
}

static void write_timer(struct hpet *h, unsigned n, uint32_t roff, uint64_t mask, uint64_t bits, uint64_t now)
{
	struct hpet_timer *t = &h->t[n];
	uint64_t c = hpet_counter(h, now);

	if (roff == 0) {
		uint64_t old = t->config;
		t->config = (t->config & ~(mask & TN_WRITABLE)) | (bits & TN_WRITABLE);
		if (t->config & HPET_TN_32BIT) {
			t->cmp &= 0xffffffffull;
			t->period &= 0xffffffffull;
		}
		if (old & HPET_TN_LEVEL && !(t->config & HPET_TN_LEVEL))
			h->isr &= ~(1ull << n);
	} else if (roff == 8) {
		uint64_t wm = width_mask(t);
		if (!(t->config & HPET_TN_PERIODIC) || t->config & HPET_TN_VAL_SET)
			t->cmp = ((t->cmp & ~mask) | bits) & wm;
		if (t->config & HPET_TN_PERIODIC)
			t->period = ((t->period & ~mask) | bits) & wm;
		t->config &= ~(uint64_t)HPET_TN_VAL_SET;
	} else {
		return; /* the FSB route */
	}
	compute_next(t, c);
}

void hpet_write(struct hpet *h, uint32_t off, uint8_t size, uint64_t val, uint64_t now)
{
	unsigned shift = (off & 7) * 8;
	uint64_t mask = (size >= 8 ? ~0ull : (1ull << (size * 8)) - 1) << shift;
	uint64_t bits = (val << shift) & mask;
	uint32_t base = off & ~7u;
	unsigned n = (base - 0x100) / 0x20;

	if (off >= HPET_MMIO_SIZE)
		return;
	hpet_update(h, now);
	switch (base) {
	case HPET_GCAP_ID:
		return; /* read-only */
	case HPET_GEN_CONF: {
		uint64_t c = hpet_counter(h, now);
		h->config = (h->config & ~mask) | (bits & (HPET_CONF_ENABLE | HPET_CONF_LEG_RT));
		/* starting or stopping: the count so far is kept */
		h->counter = c;
		h->since = now;
		return;
	}
	case HPET_GINTR_STA:
		h->isr &= ~(bits & ((1u << HPET_TIMERS) - 1)); /* write 1 to clear */
		return;
	case HPET_MAIN_CNT:
		h->counter = (hpet_counter(h, now) & ~mask) | bits;
		h->since = now;
		for (unsigned i = 0; i < HPET_TIMERS; i++)
			compute_next(&h->t[i], h->counter);
		return;
	}
	if (base >= HPET_TN_CONF(0) && n < HPET_TIMERS)
		write_timer(h, n, base - HPET_TN_CONF(n), mask, bits, now);
}

/* --- glue ------------------------------------------------------------------ */

struct hpet_dev {
	struct vm *vm;
	struct hpet h;
	struct vtimer timer[HPET_TIMERS];
	bool legacy;             /* GSIs 0 and 8 are ours (vm_take_gsi) */
	int gsi[HPET_TIMERS];    /* where each level line was driven */
	bool line[HPET_TIMERS];  /* ... and whether it is high */
	bool warned[HPET_TIMERS];
	uint64_t floor[HPET_TIMERS]; /* a periodic timer's next interrupt no sooner */
};

static void drive(struct hpet_dev *d, int gsi, bool level)
{
	if (d->legacy && (gsi == 0 || gsi == 8))
		vm_drive_taken_gsi(d->vm, (unsigned)gsi, level);
	else
		vm_set_gsi(d->vm, (unsigned)gsi, level);
}

static void lost(struct hpet_dev *d, unsigned n)
{
	if (!d->warned[n])
		pr_warn("vm %s: hpet timer %u is routed to IOAPIC pin %u, which it cannot use (capable: 20-23): "
			"its interrupts are lost\n",
			vm_name(d->vm), n, (unsigned)(d->h.t[n].config & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT);
	d->warned[n] = true;
}

/* After anything that can change what the HPET drives: the level lines
 * follow GINTR_STA on their current routes, recorded edges are sent, the
 * takeover of GSIs 0 and 8 follows legacy replacement, and each timer is
 * armed for its next interrupt. */
static void sync(struct hpet_dev *d, uint64_t now)
{
	uint32_t edges;
	bool legacy;

	hpet_update(&d->h, now);
	legacy = hpet_legacy(&d->h);
	if (legacy != d->legacy) {
		for (unsigned n = 0; n < HPET_TIMERS; n++)
			if (d->line[n]) {
				drive(d, d->gsi[n], false);
				d->line[n] = false;
			}
		vm_take_gsi(d->vm, 0, legacy);
		vm_take_gsi(d->vm, 8, legacy);
		d->legacy = legacy;
	}
	edges = hpet_take_edges(&d->h);
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		int gsi = hpet_timer_gsi(&d->h, n);
		bool line = hpet_timer_line(&d->h, n) && gsi >= 0;
		uint64_t next;

		if (d->line[n] && (!line || gsi != d->gsi[n]))
			drive(d, d->gsi[n], false);
		if (line && (!d->line[n] || gsi != d->gsi[n]))
			drive(d, gsi, true);
		d->line[n] = line;
		d->gsi[n] = gsi;
		if (edges & (1u << n)) {
			if (gsi < 0) {
				lost(d, n);
			} else {
				drive(d, gsi, true);
				drive(d, gsi, false);
			}
			if (d->h.t[n].config & HPET_TN_PERIODIC)
				d->floor[n] = now + TIMER_MIN_PERIOD_NS;
		}
		if (hpet_timer_line(&d->h, n) && gsi < 0)
			lost(d, n);
		next = hpet_next_irq(&d->h, n);
		if (!next)
			vtimer_cancel(&d->timer[n]);
		else
			vtimer_arm(&d->timer[n], next > d->floor[n] ? next : d->floor[n]);
	}
}

static void hpet_fire(struct vtimer *t, uint64_t now)
{
	sync(t->ctx, now);
}

static uint64_t hpet_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct hpet_dev *d = dev;
	uint64_t now = vm_now_ns(d->vm), val;

	(void)v;
	val = hpet_read(&d->h, (uint32_t)off, size, now);
	sync(d, now);
	return val;
}

static void hpet_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct hpet_dev *d = dev;
	uint64_t now = vm_now_ns(d->vm);

	(void)v;
	hpet_write(&d->h, (uint32_t)off, size, val, now);
	sync(d, now);
}

/* At the board's MMIO base (0xfed00000), 1 KiB. */
static int hpet_create(struct vm *vm, const struct board_device *bd)
{
	struct hpet_dev *d = vm_alloc(vm, sizeof(*d));

	if (!d)
		return -1;
	d->vm = vm;
	hpet_reset(&d->h, vm_now_ns(vm));
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		d->gsi[n] = -1;
		vtimer_init(&d->timer[n], vm, hpet_fire, d);
	}
	return vm_register_mmio(vm, bd->mmio, HPET_MMIO_SIZE, hpet_rd, hpet_wr, d, "hpet");
}

const struct device_type hpet_device = { .name = "HPET", .create = hpet_create };
