/* SPDX-License-Identifier: MIT */
/*
 * io: port I/O.  Everywhere: unclaimed ports read all-ones and string I/O
 * (rep ins/outs) moves ECX, ESI and EDI as the SDM says, both directions.
 * Under Petrel: its test device, a 4-byte latch at 0x530-0x533 (every width
 * and offset) and a 64-byte FIFO at 0x534 driven by rep outs / rep ins.
 * Natively nothing is at 0x530, so the device checks run only under Petrel.
 */
#include "guest.h"

const char guest_name[] = "io";

#define LATCH     0x530
#define FIFO      0x534
#define FIFO_SIZE 64
#define UNCLAIMED 0x520 /* nothing there under Petrel nor on QEMU's pc machine */

static uint32_t in_width(int width, uint16_t port)
{
	return width == 1 ? inb(port) : width == 2 ? inw(port) : inl(port);
}

static void out_width(int width, uint16_t port, uint32_t v)
{
	if (width == 1)
		outb(port, (uint8_t)v);
	else if (width == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

static uint32_t ones(int width) { return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1; }

static void check_unclaimed(uint16_t port, const int *widths, int n)
{
	for (int i = 0; i < n; i++) {
		uint32_t v = in_width(widths[i], port);
		report(v == ones(widths[i]), "unclaimed-0x%x-w%d: read 0x%x", port, widths[i], v);
	}
}

/*
 * rep ins/outs, DF as asked.  ptr is where the first element is taken or
 * stored (the highest one when down); returns ESI/EDI after, *count the ECX.
 */
#define REP_IO(insn, reg, ptr, count, port, down)                                      \
	__asm__ volatile("testl %[d], %[d]; jz 1f; std; 1: rep " insn "; cld"          \
			 : "+" reg(ptr), "+c"(count) : "d"(port), [d] "r"(down) : "memory", "cc")

static uint32_t rep_ins(int width, uint16_t port, void *dst, uint32_t *count, bool down)
{
	uint32_t p = (uint32_t)dst, c = *count, d = down;
	if (width == 1)
		REP_IO("insb", "D", p, c, port, d);
	else if (width == 2)
		REP_IO("insw", "D", p, c, port, d);
	else
		REP_IO("insl", "D", p, c, port, d);
	*count = c;
	return p;
}

static uint32_t rep_outs(int width, uint16_t port, const void *src, uint32_t *count, bool down)
{
	uint32_t p = (uint32_t)src, c = *count, d = down;
	if (width == 1)
		REP_IO("outsb", "S", p, c, port, d);
	else if (width == 2)
		REP_IO("outsw", "S", p, c, port, d);
	else
		REP_IO("outsl", "S", p, c, port, d);
	*count = c;
	return p;
}

/* Ports with nothing behind them: reads fill with 0xff, writes vanish. */
static void check_string_io_unclaimed(void)
{
	static uint8_t buf[64];
	for (int w = 1; w <= 4; w *= 2) {
		uint32_t count = 8, end;
		memset(buf, 0x5a, sizeof(buf));
		end = rep_ins(w, UNCLAIMED, buf + 8, &count, false);
		bool data = buf[7] == 0x5a && buf[8 + 8 * w] == 0x5a && buf[8] == 0xff && buf[7 + 8 * w] == 0xff;
		report(count == 0 && end == (uint32_t)(buf + 8 + 8 * w) && data,
		       "rep-ins-unclaimed-w%d: ecx %u edi %d bytes, data %s", w, count,
		       (int)(end - (uint32_t)(buf + 8)), data ? "ok" : "wrong");
	}
	/* DF=1: dwords land at buf+32, +28, +24, +20; EDI ends at buf+16. */
	uint32_t count = 4;
	memset(buf, 0x5a, sizeof(buf));
	uint32_t end = rep_ins(4, UNCLAIMED, buf + 32, &count, true);
	report(count == 0 && end == (uint32_t)(buf + 16) && buf[19] == 0x5a && buf[20] == 0xff &&
	       buf[35] == 0xff && buf[36] == 0x5a, "rep-ins-unclaimed-std: ecx %u edi %d bytes", count,
	       (int)(end - (uint32_t)(buf + 32)));
	count = 16;
	end = rep_outs(2, UNCLAIMED, buf, &count, false);
	report(count == 0 && end == (uint32_t)(buf + 32), "rep-outs-unclaimed: ecx %u esi %d bytes",
	       count, (int)(end - (uint32_t)buf));
	count = 5;
	end = rep_outs(4, UNCLAIMED, buf + 40, &count, true);
	report(count == 0 && end == (uint32_t)(buf + 20), "rep-outs-unclaimed-std: ecx %u esi %d bytes",
	       count, (int)(end - (uint32_t)(buf + 40)));
}

/* --- Petrel's test device ------------------------------------------------ */

/* Every read that stays inside the latch must show the bytes in shadow. */
static bool latch_matches(const uint8_t shadow[4], char *why, size_t len)
{
	for (int w = 1; w <= 4; w *= 2)
		for (int off = 0; off + w <= 4; off++) {
			uint32_t want = 0, got = in_width(w, LATCH + off);
			memcpy(&want, shadow + off, w);
			if (got != want) {
				snprintf(why, len, "read w%d off%d: 0x%x, want 0x%x", w, off, got, want);
				return false;
			}
		}
	return true;
}

static void check_latch(void)
{
	uint8_t shadow[4];
	char why[80] = "every read matches";
	outl(LATCH, 0x04030201);
	memcpy(shadow, &(uint32_t){ 0x04030201 }, 4);
	for (int w = 1; w <= 4; w *= 2)
		for (int off = 0; off + w <= 4; off++) {
			/* A value no earlier write left there, so a lost write shows. */
			uint32_t v = 0xa0b0c0d0u + (uint32_t)(w * 0x11 + off * 0x1010101);
			out_width(w, LATCH + off, v);
			memcpy(shadow + off, &v, w);
			report(latch_matches(shadow, why, sizeof(why)),
			       "latch-w%d-off%d: after writing 0x%x, %s", w, off, v & ones(w), why);
		}
}

/* Pushes count elements of width w from src, pops them back into dst. */
static void fifo_roundtrip(int w, bool down)
{
	static uint32_t src[FIFO_SIZE / 4], dst[FIFO_SIZE / 4 + 2];
	uint32_t n = FIFO_SIZE / w, out_n = n, in_n = n;
	for (unsigned i = 0; i < ARRAY_SIZE(src); i++)
		src[i] = (0x01020304u * (i + 1)) ^ ((uint32_t)w << 28);
	memset(dst, 0xcc, sizeof(dst));
	/* dst[0] and the last slot are guards: nothing may land there. */
	uint8_t *s = (uint8_t *)src, *d = (uint8_t *)(dst + 1);
	uint32_t first_s = down ? (uint32_t)(s + FIFO_SIZE - w) : (uint32_t)s;
	uint32_t first_d = down ? (uint32_t)(d + FIFO_SIZE - w) : (uint32_t)d;
	uint32_t esi = rep_outs(w, FIFO, (void *)first_s, &out_n, down);
	uint32_t edi = rep_ins(w, FIFO, (void *)first_d, &in_n, down);
	int32_t step = down ? -FIFO_SIZE : FIFO_SIZE;
	bool regs = out_n == 0 && in_n == 0 && esi == first_s + step && edi == first_d + step;
	bool data = !memcmp(src, d, FIFO_SIZE) && dst[0] == 0xccccccccu &&
		    dst[ARRAY_SIZE(dst) - 1] == 0xccccccccu;
	report(regs && data, "fifo-rep-w%d%s: ecx %u/%u esi %d edi %d (want %d), data %s", w,
	       down ? "-std" : "", out_n, in_n, (int)(esi - first_s), (int)(edi - first_d),
	       (int)step, data ? "ok" : "wrong");
}

/* Bytes keep their order whatever the widths of the pushes and pops; a pop
 * wider than what is left gets 0xff for the missing bytes. */
static void check_fifo_mixed(void)
{
	outl(FIFO, 0x44332211);
	outw(FIFO, 0x6655);
	outb(FIFO, 0x77);
	uint8_t b = inb(FIFO);
	uint32_t l = inl(FIFO);
	uint16_t w = inw(FIFO);
	report(b == 0x11 && l == 0x55443322 && w == 0x7766,
	       "fifo-mixed-widths: popped 0x%x 0x%x 0x%x, want 0x11 0x55443322 0x7766", b, l, w);
	outb(FIFO, 0x88);
	uint32_t part = inl(FIFO), empty = inl(FIFO);
	uint8_t empty_b = inb(FIFO);
	report(part == 0xffffff88u && empty == 0xffffffffu && empty_b == 0xff,
	       "fifo-empty-reads-ones: inl of 1 byte left 0x%x, then inl 0x%x inb 0x%x",
	       part, empty, empty_b);
}

static void check_device(void)
{
	static const int all[] = { 1, 2, 4 };
	if (!under_petrel()) {
		const char *why = "Petrel's test device (not there natively)";
		report_skip("latch", "%s", why);
		report_skip("fifo", "%s", why);
		report_skip("unclaimed-0x5555-w2-w4", "%s", "QEMU answers 0 to inw/inl at 0x5555");
		return;
	}
	check_latch();
	/* An empty FIFO reads 0xff: drain whatever an earlier run left. */
	for (int i = 0; i < FIFO_SIZE; i++)
		inb(FIFO);
	for (int w = 1; w <= 4; w *= 2)
		fifo_roundtrip(w, false);
	fifo_roundtrip(4, true);
	fifo_roundtrip(1, true);
	check_fifo_mixed();
	check_unclaimed(0x5555, all + 1, 2);
}

void guest_main(void)
{
	static const int all[] = { 1, 2, 4 };
	check_unclaimed(UNCLAIMED, all, 3);
	check_unclaimed(0x5555, all, 1);
	check_string_io_unclaimed();
	check_device();
}
