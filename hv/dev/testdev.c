/* SPDX-License-Identifier: MIT */
/*
 * Petrel's test device, for the test guests (tests/guests/):
 *   0x510-0x513  a 4-byte latch: a write of 1, 2 or 4 bytes at 0x510+off
 *                stores them little-endian; a read returns them.
 *   0x514        a 64-byte FIFO: each OUT pushes its bytes, each IN pops as
 *                many (0xff for each byte an empty FIFO lacks).
 *   0x518        the tick: writing (period_us << 8) | vector starts a
 *                periodic interrupt with that vector, delivered while the
 *                guest has IF=1; writing 0 stops it.  Periods below
 *                TIMER_MIN_PERIOD_NS (200 us) run at that floor.
 * Widths wider than what is left of the latch simply stop at its end.
 */
#include <petrel/lib.h>
#include <petrel/vm.h>

#define FIFO_SIZE 64

struct testdev {
	uint8_t latch[4];
	uint8_t fifo[FIFO_SIZE];
	uint32_t head, count;
	struct vcpu *v;
	struct vtimer tick;
	uint8_t vector;
	uint64_t period_ns;
};

static struct testdev devs[MAX_VMS];

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

	d->v->raw_irq = d->vector;
	d->v->raw_irq_pending = true;
	vtimer_arm(t, t->deadline + ((now - t->deadline) / d->period_ns + 1) * d->period_ns);
}

static void set_tick(struct testdev *d, struct vcpu *v, uint32_t val)
{
	d->v = v;
	d->vector = (uint8_t)val;
	d->period_ns = MAX((uint64_t)(val >> 8) * 1000, TIMER_MIN_PERIOD_NS);
	v->raw_irq_pending = false; /* stopping drops a tick not yet delivered */
	if (!val || !(val >> 8)) {
		vtimer_cancel(&d->tick);
		return;
	}
	vtimer_arm(&d->tick, vm_now_ns(v->vm) + d->period_ns);
}

static void testdev_write(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct testdev *d = dev;

	for (uint8_t i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (off + i < 4)
			d->latch[off + i] = b;
		else if (off == 4)
			fifo_push(d, b);
	}
	if (off == 8)
		set_tick(d, v, (uint32_t)val);
}

static uint64_t testdev_read(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct testdev *d = dev;
	uint64_t val = 0;

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

int testdev_init(struct vm *vm)
{
	memset(&devs[vm->id], 0, sizeof(devs[vm->id]));
	vtimer_init(&devs[vm->id].tick, vm, tick_fire, &devs[vm->id]);
	return vm_register_pio(vm, 0x510, 12, testdev_read, testdev_write, &devs[vm->id], "testdev");
}
