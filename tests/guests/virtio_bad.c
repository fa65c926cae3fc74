/* SPDX-License-Identifier: MIT */
/*
 * virtio-bad: a driver that means harm, against the virtio-blk device of
 * a VM with a disk (role=disk; tests/disk's disk, whose sector 0 ends in
 * 55 AA).  It places the device's BAR, brings it up as a driver does,
 * reads sector 0 once properly, then hands it malformed descriptor chains:
 * a buffer outside RAM, one on the device's own registers, zero and huge
 * lengths, a loop, a next index past the queue, a head past the queue, a
 * readable buffer after a writable one, a nested indirect table.  Each
 * must come back used with length 0 and IOERR in its status byte, and
 * the device must still read properly after.  A chain with no last
 * descriptor to hold a status (a loop, a next or head index past the
 * queue) comes back used with length 0 and the device asks for a reset
 * (DEVICE_NEEDS_RESET), after which it works again; so does an available
 * index that runs ahead of the queue.  Without the device (natively, or
 * no disk) it skips.
 */
#include "guest.h"

const char guest_name[] = "virtio-bad";

#define BLK_DEVFN (3 << 3)
#define BAR 0xfebf0000u
#define QSIZE 8
#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4
#define S_OK 0
#define S_IOERR 1
#define STATUS_NEEDS_RESET 0x40

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct desc ring_desc[QSIZE] __attribute__((aligned(16)));
static struct desc table[4] __attribute__((aligned(16)));
static volatile uint16_t avail[2 + QSIZE + 1] __attribute__((aligned(4)));
static volatile uint32_t used[1 + 2 * QSIZE + 1] __attribute__((aligned(4)));
static struct { uint32_t type, reserved; uint64_t sector; } hdr;
static uint8_t data[512] __attribute__((aligned(16)));
static volatile uint8_t status;
static uint32_t common, notify, isr; /* where they are in BAR 0 */
static uint16_t next_avail, seen_used;

static uint32_t cfg_read(unsigned reg)
{
	outl(0xcf8, 0x80000000u | BLK_DEVFN << 8 | (reg & 0xfc));
	return inl(0xcfc) >> (8 * (reg & 3));
}

static void cfg_write32(unsigned reg, uint32_t v)
{
	outl(0xcf8, 0x80000000u | BLK_DEVFN << 8 | reg);
	outl(0xcfc, v);
}

static volatile uint8_t *mmio(uint32_t off) { return (volatile uint8_t *)(uintptr_t)(BAR + off); }
static uint8_t rd8(uint32_t off) { return *mmio(off); }
static uint16_t rd16(uint32_t off) { return *(volatile uint16_t *)mmio(off); }
static void wr8(uint32_t off, uint8_t v) { *mmio(off) = v; }
static void wr16(uint32_t off, uint16_t v) { *(volatile uint16_t *)mmio(off) = v; }
static void wr32(uint32_t off, uint32_t v) { *(volatile uint32_t *)mmio(off) = v; }

static bool find_caps(void)
{
	for (unsigned at = cfg_read(0x34) & 0xff; at; at = cfg_read(at + 1) & 0xff) {
		if ((cfg_read(at) & 0xff) != 0x09)
			continue;
		switch ((cfg_read(at + 3) & 0xff)) {
		case 1: common = cfg_read(at + 8); break;
		case 2: notify = cfg_read(at + 8); break;
		case 3: isr = cfg_read(at + 8); break;
		}
	}
	return common != notify && notify && isr;
}

/* Reset, VERSION_1 and INDIRECT_DESC, queue 0 of QSIZE, DRIVER_OK. */
static bool bring_up(void)
{
	memset((void *)avail, 0, sizeof(avail));
	memset((void *)used, 0, sizeof(used));
	next_avail = seen_used = 0;
	wr8(common + 0x14, 0);
	wr8(common + 0x14, 3);
	wr32(common + 0x08, 1);
	wr32(common + 0x0c, 1);       /* VERSION_1 */
	wr32(common + 0x08, 0);
	wr32(common + 0x0c, 1u << 28); /* INDIRECT_DESC */
	wr8(common + 0x14, 0x0b);
	if (!(rd8(common + 0x14) & 0x08))
		return false;
	wr16(common + 0x16, 0);
	wr16(common + 0x18, QSIZE);
	wr32(common + 0x20, (uint32_t)(uintptr_t)ring_desc);
	wr32(common + 0x24, 0);
	wr32(common + 0x28, (uint32_t)(uintptr_t)avail);
	wr32(common + 0x2c, 0);
	wr32(common + 0x30, (uint32_t)(uintptr_t)used);
	wr32(common + 0x34, 0);
	wr16(common + 0x1c, 1);
	wr8(common + 0x14, 0x0f);
	return rd16(common + 0x1c) == 1;
}

static void d(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	ring_desc[i] = (struct desc){ addr, len, flags, next };
}

/* Offers `head`, notifies; the used element's length, or -1 if nothing
 * came back (or another head did). */
static int64_t submit(uint16_t head)
{
	uint32_t id, len;

	avail[2 + next_avail % QSIZE] = head;
	__asm__ volatile("" ::: "memory");
	avail[1] = ++next_avail;
	wr16(notify, 0);
	if ((uint16_t)(used[0] >> 16) == seen_used)
		return -1;
	id = used[1 + 2 * (seen_used % QSIZE)];
	len = used[2 + 2 * (seen_used % QSIZE)];
	seen_used++;
	return id == head ? (int64_t)len : -1;
}

/* The usual read of sector s: header, data, status. */
static void good_chain(uint64_t s)
{
	hdr.type = 0;
	hdr.sector = s;
	status = 0xee;
	d(0, (uint32_t)(uintptr_t)&hdr, 16, F_NEXT, 1);
	d(1, (uint32_t)(uintptr_t)data, 512, F_NEXT | F_WRITE, 2);
	d(2, (uint32_t)(uintptr_t)&status, 1, F_WRITE, 0);
}

static void check_good_read(const char *name)
{
	int64_t len;

	memset(data, 0, sizeof(data));
	good_chain(0);
	len = submit(0);
	report(len == 513 && status == S_OK && data[510] == 0x55 && data[511] == 0xaa,
	       "%s: used length %d, status %u, sector 0 ends %02x %02x", name, (int)len, status, data[510], data[511]);
}

/* A malformed chain: used with length 0, IOERR in the status byte. */
static void bad(const char *name)
{
	int64_t len = submit(0);
	report(len == 0 && status == S_IOERR, "%s: used length %d, status %u", name, (int)len, status);
}

/* One with no status byte to find: used with length 0, and the device
 * asks for a reset; it gets one. */
static void bad_needs_reset(const char *name, uint16_t head)
{
	int64_t len = submit(head);
	uint8_t st = rd8(common + 0x14);

	report(len == 0 && (st & STATUS_NEEDS_RESET) && bring_up(), "%s: used length %d, device status %x", name,
	       (int)len, st);
}

void guest_main(void)
{
	uint32_t id = cfg_read(0);

	if (id != 0x10421af4u) {
		report_skip("virtio-blk", "no modern virtio-blk at 00:03.0 (id %08x)", id);
		return;
	}
	cfg_write32(0x10, BAR | 4);
	cfg_write32(0x14, 0);
	cfg_write32(0x04, 2); /* memory decoding */
	report(find_caps(), "capabilities: common %x notify %x isr %x", common, notify, isr);
	report(bring_up(), "bring-up: status %x", rd8(common + 0x14));
	check_good_read("good-read");

	good_chain(0);
	d(1, 0xf0000000u, 512, F_NEXT | F_WRITE, 2); /* nothing there */
	bad("outside-ram");
	good_chain(0);
	d(1, BAR, 512, F_NEXT | F_WRITE, 2); /* the device's own registers */
	bad("on-device-registers");
	good_chain(0);
	d(1, 0x7ff00000u, 512, F_NEXT | F_WRITE, 2); /* past this VM's RAM */
	bad("past-ram");
	good_chain(0);
	d(1, (uint32_t)(uintptr_t)data, 0, F_NEXT | F_WRITE, 2);
	bad("zero-length");
	good_chain(0);
	d(1, (uint32_t)(uintptr_t)data, 0xffffffffu, F_NEXT | F_WRITE, 2);
	bad("huge-length");
	good_chain(0);
	d(1, (uint32_t)(uintptr_t)data, 512, F_NEXT | F_WRITE, 0); /* 0 -> 1 -> 0 ... */
	bad_needs_reset("loop", 0);
	good_chain(0);
	d(1, (uint32_t)(uintptr_t)data, 512, F_NEXT | F_WRITE, 200);
	bad_needs_reset("next-past-queue", 0);
	bad_needs_reset("head-past-queue", 50);
	good_chain(0);
	d(1, (uint32_t)(uintptr_t)data, 512, F_NEXT | F_WRITE, 3);
	d(3, (uint32_t)(uintptr_t)&hdr, 16, F_NEXT, 2); /* readable after writable */
	bad("readable-after-writable");
	good_chain(0);
	table[0] = (struct desc){ (uint32_t)(uintptr_t)table, 32, F_INDIRECT, 0 };
	d(1, (uint32_t)(uintptr_t)table, 16, F_INDIRECT, 0); /* a table in a chain, nested */
	d(0, (uint32_t)(uintptr_t)&hdr, 16, F_NEXT, 2);
	d(2, (uint32_t)(uintptr_t)table, 16, F_INDIRECT, 0);
	status = 0xee;
	{
		int64_t len = submit(0);
		report(len == 0, "indirect-after-direct-nested: used length %d", (int)len);
	}
	check_good_read("good-read-after");

	/* the available index 20 ahead of a queue of 8 */
	next_avail += 20;
	avail[1] = next_avail;
	wr16(notify, 0);
	report(rd8(common + 0x14) & STATUS_NEEDS_RESET, "index-runs-ahead: status %x (needs reset)", rd8(common + 0x14));
	report(rd8(isr) & 2, "index-runs-ahead-config-interrupt");
	report(bring_up(), "reset-and-bring-up-again: status %x", rd8(common + 0x14));
	check_good_read("good-read-after-reset");
}
