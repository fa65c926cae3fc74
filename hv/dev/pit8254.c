/* SPDX-License-Identifier: MIT */
/*
 * The 8254 programmable interval timer (Intel 8254 data sheet) and the
 * PC's port 0x61, which gates its channel 2 and shows that channel's OUT.
 *
 *   0x40-0x42  channels 0-2: count writes and reads in the access mode of
 *              the last control word (lsb, msb, or lsb then msb)
 *   0x43       control word: mode, access mode, counter latch, read-back
 *   0x61       bit 0 gate 2, bit 1 speaker data, bits 2-3 NMI enables (kept);
 *              bit 4 refresh (toggles on every read), bit 5 OUT2
 *
 * Clocked at 1.193182 MHz from the VM clock: nothing ticks, a channel keeps
 * when it started and computes its count and OUT from `now`.  Modes 0-5
 * as the data sheet's timing diagrams give them, with these simplifications:
 * the count is taken at the write, not at the next CLK; a new count written
 * in modes 2 and 3 restarts the period at once rather than at its end; in
 * mode 3 an odd count is treated like an even one when read.  BCD counting
 * (control word bit 0) is refused: the bit shows in the status byte but the
 * counter counts in binary (no PC software we know of programs BCD).
 *
 * Channel 0's OUT drives ISA IRQ 0.  Channel 1 (DRAM refresh on the PC) is
 * there to be programmed and read, and drives nothing.  Channels 0 and 1
 * have their gates tied high, as on the PC.
 */
#include <petrel/board.h>
#include <petrel/dev/pit8254.h>
#include <petrel/lib.h>

#define NS NS_PER_SEC
#define ACCESS_LSB 1
#define ACCESS_MSB 2
#define ACCESS_WORD 3
#define RB_NO_COUNT 0x20  /* read-back: bit 5 clear latches the count */
#define RB_NO_STATUS 0x10 /* bit 4 clear latches the status */
#define ST_OUT 0x80
#define ST_NULL 0x40

/* PIT ticks in `ns` nanoseconds, rounded down, without 128-bit arithmetic
 * (split at whole seconds so nothing overflows). */
static uint64_t ticks_in(uint64_t ns)
{
	return ns / NS * PIT_CLOCK_HZ + ns % NS * PIT_CLOCK_HZ / NS;
}

/* The fewest ns in which ticks_in() reaches `ticks`. */
static uint64_t ns_for(uint64_t ticks)
{
	return ticks / PIT_CLOCK_HZ * NS + (ticks % PIT_CLOCK_HZ * NS + PIT_CLOCK_HZ - 1) / PIT_CLOCK_HZ;
}

/* Ticks counted since the count was loaded. */
static uint64_t elapsed(const struct pit_channel *c, uint64_t now)
{
	uint64_t t = c->base_ticks;

	if (c->running && now > c->start)
		t += ticks_in(now - c->start);
	return t;
}

/* The counting element.  Modes 0, 1, 4, 5 count down through 0 and on
 * from 0xffff; mode 2 reloads after 1; mode 3 counts down by two, twice
 * per period. */
static uint16_t count_at(const struct pit_channel *c, uint64_t now)
{
	uint64_t t = elapsed(c, now), n = c->reload;

	if (!c->loaded)
		return (uint16_t)n;
	switch (c->mode) {
	case 2: return (uint16_t)(n - t % n);
	case 3: return (uint16_t)(n - 2 * t % n);
	default: return (uint16_t)(n - t);
	}
}

/* OUT, per mode: 0 low until terminal count; 1 low from the trigger to
 * terminal count; 2 low for the one clock when the count is 1; 3 high for
 * the first half of each period (the larger half of an odd count); 4 and 5
 * low for the one clock after terminal count.  Before a count is loaded,
 * OUT is low in mode 0 and high in the others; a low gate holds it high in
 * modes 2 and 3. */
bool pit_out(const struct pit8254 *p, unsigned ch, uint64_t now)
{
	const struct pit_channel *c = &p->ch[ch];
	uint64_t t, n = c->reload;

	if (!c->loaded)
		return c->mode != 0;
	t = elapsed(c, now);
	switch (c->mode) {
	case 0: case 1: return t >= n;
	case 2: return !c->running || t % n != n - 1;
	case 3: return !c->running || t % n < (n + 1) / 2;
	default: return t != n;
	}
}

/* The rising edges of OUT: terminal count in modes 0 and 1, each period's
 * start (after the first) in modes 2 and 3, the end of the strobe in 4 and
 * 5.  Linux's PIT clockevent uses mode 2 (periodic) and mode 4 (one-shot). */
uint64_t pit_next_edge(const struct pit8254 *p, unsigned ch, uint64_t now)
{
	const struct pit_channel *c = &p->ch[ch];
	uint64_t t, n = c->reload, edge;

	if (!c->loaded || !c->running)
		return 0;
	t = elapsed(c, now);
	switch (c->mode) {
	case 0: case 1:
		if (t >= n)
			return 0;
		edge = n;
		break;
	case 2: case 3:
		edge = (t / n + 1) * n;
		break;
	default:
		if (t > n)
			return 0;
		edge = n + 1;
		break;
	}
	return c->start + ns_for(edge - c->base_ticks);
}

static void restart(struct pit_channel *c, uint64_t now)
{
	c->base_ticks = 0;
	c->start = now;
	c->running = true;
}

/* A new count.  Modes 1 and 5 wait for a gate trigger; the others start
 * now if the gate is high, or when it rises. */
static void load(struct pit_channel *c, uint32_t count, uint64_t now)
{
	c->reload = count ? count : 0x10000;
	if (c->mode == 1 || c->mode == 5) {
		c->armed = true;
		c->null_count = true;
		return;
	}
	c->loaded = true;
	c->null_count = false;
	restart(c, now);
	c->running = c->gate;
}

static void count_write(struct pit_channel *c, uint8_t val, uint64_t now)
{
	switch (c->access) {
	case ACCESS_LSB: load(c, val, now); break;
	case ACCESS_MSB: load(c, (uint32_t)val << 8, now); break;
	default:
		if (!c->write_msb) {
			c->write_lsb = val;
			c->write_msb = true;
			if (c->mode == 0) /* the first byte stops the count, OUT goes low */
				c->loaded = false;
		} else {
			c->write_msb = false;
			load(c, c->write_lsb | (uint32_t)val << 8, now);
		}
		break;
	}
}

/* A latched status comes first, then the latched (or live) count in the
 * access mode; reads and writes have separate lsb/msb flip-flops. */
static uint8_t count_read(struct pit_channel *c, uint64_t now)
{
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	v = c->latched ? c->latch : count_at(c, now);
	if (c->access == ACCESS_WORD && !c->read_msb) {
		c->read_msb = true;
		return (uint8_t)v;
	}
	c->read_msb = false;
	c->latched = false;
	return c->access == ACCESS_LSB ? (uint8_t)v : (uint8_t)(v >> 8);
}

/* Counter latch command: a second latch before the first is read is
 * ignored (data sheet). */
static void latch_count(struct pit_channel *c, uint64_t now)
{
	if (c->latched)
		return;
	c->latch = count_at(c, now);
	c->latched = true;
	c->read_msb = false;
}

/* A control word resets the channel's control logic: the count stops until
 * a new one is written, OUT takes its mode's initial level. */
static void set_mode(struct pit_channel *c, uint8_t val)
{
	unsigned mode = (val >> 1) & 7;

	c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode); /* 110, 111 are modes 2, 3 */
	c->access = (val >> 4) & 3;
	c->ctrl = val & 0x3f;
	c->armed = c->loaded = c->running = false;
	c->null_count = true;
	c->write_msb = c->read_msb = false;
	c->latched = c->status_latched = false;
}

/* Read-back command (11 COUNT# STATUS# CNT2 CNT1 CNT0 0): latch the count
 * and/or the status (OUT, null count, control bits) of each named channel. */
static void read_back(struct pit8254 *p, uint8_t val, uint64_t now)
{
	for (unsigned i = 0; i < 3; i++) {
		struct pit_channel *c = &p->ch[i];

		if (!(val & (2u << i)))
			continue;
		if (!(val & RB_NO_COUNT))
			latch_count(c, now);
		if (!(val & RB_NO_STATUS) && !c->status_latched) {
			c->status = (uint8_t)((pit_out(p, i, now) ? ST_OUT : 0) |
					      (c->null_count ? ST_NULL : 0) | c->ctrl);
			c->status_latched = true;
		}
	}
}

static void control(struct pit8254 *p, uint8_t val, uint64_t now)
{
	unsigned sc = val >> 6;

	if (sc == 3)
		read_back(p, val, now);
	else if (((val >> 4) & 3) == 0)
		latch_count(&p->ch[sc], now);
	else
		set_mode(&p->ch[sc], val);
}

/* Gate: in modes 0 and 4 it pauses and resumes the count; in modes 2 and 3
 * low stops it (OUT high) and a rising edge restarts the period; in modes 1
 * and 5 a rising edge (re)starts the count. */
void pit_set_gate(struct pit8254 *p, unsigned ch, bool level, uint64_t now)
{
	struct pit_channel *c = &p->ch[ch];

	if (level == c->gate)
		return;
	c->gate = level;
	switch (c->mode) {
	case 0: case 4:
		if (level) {
			c->start = now;
			c->running = c->loaded;
		} else {
			c->base_ticks = elapsed(c, now);
			c->running = false;
		}
		break;
	case 2: case 3:
		if (level && c->loaded)
			restart(c, now);
		else
			c->running = false;
		break;
	default:
		if (level && c->armed) {
			c->loaded = true;
			c->null_count = false;
			restart(c, now);
		}
		break;
	}
}

static uint8_t port61_read(struct pit8254 *p, uint64_t now)
{
	p->refresh = !p->refresh;
	return (uint8_t)((p->port61 & 0x0f) | (p->refresh ? 0x10 : 0) | (pit_out(p, 2, now) ? 0x20 : 0));
}

uint8_t pit_read(struct pit8254 *p, uint16_t port, uint64_t now)
{
	if (port >= 0x40 && port <= 0x42)
		return count_read(&p->ch[port - 0x40], now);
	if (port == 0x61)
		return port61_read(p, now);
	return 0xff; /* 0x43 is write-only */
}

void pit_write(struct pit8254 *p, uint16_t port, uint8_t val, uint64_t now)
{
	if (port >= 0x40 && port <= 0x42) {
		count_write(&p->ch[port - 0x40], val, now);
	} else if (port == 0x43) {
		control(p, val, now);
	} else if (port == 0x61) {
		p->port61 = val & 0x0f;
		pit_set_gate(p, 2, val & 1, now);
	}
}

/* As a control word 0x36 leaves a channel (mode 3, lsb then msb) with no
 * count written: idle, so channel 0 raises nothing until the guest
 * programs it (no BIOS ran to start the 18.2 Hz tick). */
void pit_reset(struct pit8254 *p)
{
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < 3; i++) {
		set_mode(&p->ch[i], 0x36);
		p->ch[i].reload = 0x10000;
		p->ch[i].gate = i != 2;
	}
}

/* --- glue ------------------------------------------------------------------ */

struct pit_dev {
	struct vm *vm;
	struct pit8254 pit;
	struct vtimer irq0; /* armed for OUT0's next rising edge */
	uint8_t gsi;
};

/* IRQ 0 is edge-triggered at the PIC and the IOAPIC: one pulse per rising
 * edge of OUT0.  Edges the VM was not run in time for are not replayed:
 * the next pulse is for the next edge after `now` (Linux counts time with
 * a clocksource, not by counting ticks). */
static void sync_irq0(struct pit_dev *d, uint64_t now)
{
	uint64_t edge = pit_next_edge(&d->pit, 0, now);

	if (edge)
		vtimer_arm(&d->irq0, edge);
	else
		vtimer_cancel(&d->irq0);
}

static void irq0_fire(struct vtimer *t, uint64_t now)
{
	struct pit_dev *d = t->ctx;

	vm_pulse_gsi(d->vm, d->gsi);
	/* the next pulse no sooner than TIMER_MIN_PERIOD_NS from this one */
	sync_irq0(d, now + TIMER_MIN_PERIOD_NS - 1);
}

static uint64_t io_read(struct pit_dev *d, uint16_t port, uint8_t size)
{
	uint64_t now = vm_now_ns(d->vm), val = 0;

	for (uint8_t i = 0; i < size; i++)
		val |= (uint64_t)pit_read(&d->pit, (uint16_t)(port + i), now) << (8 * i);
	return val;
}

static void io_write(struct pit_dev *d, uint16_t port, uint8_t size, uint64_t val)
{
	uint64_t now = vm_now_ns(d->vm);

	for (uint8_t i = 0; i < size; i++)
		pit_write(&d->pit, (uint16_t)(port + i), (uint8_t)(val >> (8 * i)), now);
	sync_irq0(d, now);
}

static uint64_t pit_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	(void)v;
	return io_read(dev, (uint16_t)(0x40 + off), size);
}

static void pit_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	(void)v;
	io_write(dev, (uint16_t)(0x40 + off), size, val);
}

static uint64_t port61_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	(void)v;
	return io_read(dev, (uint16_t)(0x61 + off), size);
}

static void port61_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	(void)v;
	io_write(dev, (uint16_t)(0x61 + off), size, val);
}

/* Channels and control word at the board's port (0x40), port 0x61 at its
 * PC place; OUT0 pulses the board's GSI (0). */
static int pit_create(struct vm *vm, const struct board_device *bd)
{
	struct pit_dev *d = vm_alloc(vm, sizeof(*d));

	if (!d)
		return -1;
	d->vm = vm;
	d->gsi = (uint8_t)bd->gsi;
	pit_reset(&d->pit);
	vtimer_init(&d->irq0, vm, irq0_fire, d);
	if (vm_register_pio(vm, bd->port, 4, pit_rd, pit_wr, d, "pit8254") ||
	    vm_register_pio(vm, 0x61, 1, port61_rd, port61_wr, d, "port61"))
		return -1;
	return 0;
}

const struct device_type pit8254_device = { .name = "8254 PIT", .create = pit_create };
