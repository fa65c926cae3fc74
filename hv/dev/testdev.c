/* SPDX-License-Identifier: MIT */
/*
 * Petrel's test device, for the test guests (tests/guests/), at the
 * board's port (0x530 on the PC; QEMU's fw_cfg has 0x510):
 *   +0 .. +3     a 4-byte latch: a write of 1, 2 or 4 bytes at +off
 *                stores them little-endian; a read returns them.
 *   +4           a 64-byte FIFO: each OUT pushes its bytes, each IN pops as
 *                many (0xff for each byte an empty FIFO lacks).
 *   +8           the tick: writing (period_us << 8) | vector starts a
 *                periodic interrupt with that vector, delivered while the
 *                guest has IF=1; writing 0 stops it.  Periods below
 *                TIMER_MIN_PERIOD_NS (200 us) run at that floor.
 * Widths wider than what is left of the latch simply stop at its end.
 */
#include <petrel/board.h>
#include <petrel/dev/testdev.h>
#include <petrel/lib.h>

#define FIFO_SIZE 64

struct testdev {
	uint8_t latch[4];
	uint8_t fifo[FIFO_SIZE];
	uint32_t head, count;
	struct vm *vm;
	struct vtimer tick;
	bool raw_pending; /* a tick the vCPU has not taken yet */
	uint8_t vector;
	uint64_t period_ns;
};


static void fifo_push(struct testdev *d, uint8_t b)
{
	if (d->count < FIFO_SIZE) {
		d->fifo[(d->head + d->count) % FIFO_SIZE] = b;
		d->count++;
	}
}

static uint8_t fifo_pop(struct testdev *d)
{
	uint8_t b;
	if (!d->count)
		return 0xff;
	b = d->fifo[d->head];
	d->head = (d->head + 1) % FIFO_SIZE;
	d->count--;
	return b;
}

/* A tick raises the vector; one not yet taken is not raised twice, and a
 * late tick keeps the phase (missed periods are skipped, not queued). */
static void tick_fire(struct vtimer *t, uint64_t now)
{
	struct testdev *d = t->ctx;

	d->raw_pending = true;
	vtimer_arm(t, t->deadline + ((now - t->deadline) / d->period_ns + 1) * d->period_ns);
}

static void set_tick(struct testdev *d, uint32_t val)
{
	d->vector = (uint8_t)val;
	d->period_ns = MAX((uint64_t)(val >> 8) * 1000, TIMER_MIN_PERIOD_NS);
	d->raw_pending = false; /* stopping drops a tick not yet delivered */
	if (!val || !(val >> 8)) {
		vtimer_cancel(&d->tick);
		return;
	}
	vtimer_arm(&d->tick, vm_now_ns(d->vm) + d->period_ns);
}

static void testdev_write(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct testdev *d = dev;
	(void)v;

	for (uint8_t i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (off + i < 4)
			d->latch[off + i] = b;
		else if (off == 4)
			fifo_push(d, b);
	}
	if (off == 8)
		set_tick(d, (uint32_t)val);
}

static uint64_t testdev_read(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct testdev *d = dev;
	uint64_t val = 0;
	(void)v;

	for (uint8_t i = 0; i < size; i++) {
		uint8_t b = 0xff;
		if (off + i < 4)
			b = d->latch[off + i];
		else if (off == 4)
			b = fifo_pop(d);
		val |= (uint64_t)b << (8 * i);
	}
	return val;
}

/* The tick is a raw vector for vCPU 0, taken when its IF allows: no
 * interrupt controller, no EOI (what the test guests expect). */
static bool tick_pending(void *ctx)
{
	return ((struct testdev *)ctx)->raw_pending;
}

static int tick_take(void *ctx)
{
	struct testdev *d = ctx;

	if (!d->raw_pending)
		return -1;
	d->raw_pending = false;
	return d->vector;
}

static int testdev_create(struct vm *vm, const struct board_device *bd)
{
	struct testdev *d = vm_alloc(vm, sizeof(*d));

	if (!d || vcpu_add_irq_source(vm_vcpu(vm, 0), tick_pending, tick_take, d))
		return -1;
	d->vm = vm;
	vtimer_init(&d->tick, vm, tick_fire, d);
	return vm_register_pio(vm, bd->port, 12, testdev_read, testdev_write, d, "testdev");
}

const struct device_type testdev_device = { .name = "Petrel test device", .create = testdev_create };
