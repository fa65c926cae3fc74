/* SPDX-License-Identifier: MIT */
/*
 * isolation: the guest's RAM is its own and nothing else shows through.
 * 1. GPA 0x200000-0x240000 (where Petrel's image sits in host memory) does
 *    not hold Petrel's "PETRELH1" marker.
 * 2. Every 4 KiB page of RAM above our image, up to the RAM top, keeps an
 *    address-derived pattern: no page aliases another, none is lost.
 * 3. Under Petrel: guest-physical addresses with nothing behind them read
 *    all-ones at every width and ignore writes.
 * Paging stays off: flat 32-bit, physical = linear up to 4 GiB.
 */
#include "guest.h"

const char guest_name[] = "isolation";

#define PAGE         4096u
#define HV_WINDOW    0x200000u
#define HV_WINDOW_SZ 0x40000u
#define IOAPIC_BASE  0xFEC00000u

/* Injective in the address (odd multiplier mod 2^32): two pages aliasing
 * one frame cannot both read back right. */
static inline uint32_t pattern(uint32_t addr) { return (addr * 2654435761u) ^ 0x5ca1ab1eu; }

/* Free RAM we may overwrite: [lo, hi) of region i, above our image, below 4 GiB. */
static bool free_range(int i, uint32_t *lo, uint32_t *hi)
{
	const struct mb_region *r = mb_region(i);
	uint64_t start = r->base, end = r->base + r->length;
	if (r->type != 1)
		return false;
	if (start < (uint32_t)__image_end)
		start = (uint32_t)__image_end;
	if (end > 0x100000000ull)
		end = 0x100000000ull;
	start = (start + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	end &= ~(uint64_t)(PAGE - 1);
	if (start >= end)
		return false;
	*lo = (uint32_t)start;
	*hi = (uint32_t)(end - 1) + 1; /* 0 means "up to 4 GiB" */
	return true;
}

static void check_no_marker(void)
{
	/* Assembled at run time so the marker never lies in our own image. */
	char marker[8];
	memcpy(marker, "PETR", 4);
	memcpy(marker + 4, "ELH1", 4);
	const char *p = (const char *)HV_WINDOW;
	uint32_t found = 0;
	for (uint32_t off = 0; off + 8 <= HV_WINDOW_SZ && !found; off++)
		if (p[off] == 'P' && !memcmp(p + off, marker, 8))
			found = HV_WINDOW + off;
	report(!found, "no-hv-marker: first \"PETRELH1\" in GPA 0x%x-0x%x at 0x%x (0: none)",
	       HV_WINDOW, HV_WINDOW + HV_WINDOW_SZ, found);
}

/* Writes (or, with verify, checks) every dword of [lo, hi); returns the
 * number of wrong dwords and the first one's address in *first_bad. */
static uint32_t sweep(uint32_t lo, uint32_t hi, bool verify, uint32_t *first_bad)
{
	uint32_t bad = 0;
	for (uint32_t a = lo; a != hi; a += 4) {
		volatile uint32_t *p = (volatile uint32_t *)a;
		if (!verify) {
			*p = pattern(a);
		} else if (*p != pattern(a)) {
			if (!bad++)
				*first_bad = a;
		}
	}
	return bad;
}

static void check_ram(void)
{
	uint32_t lo, hi, pages = 0, bad = 0, first_bad = 0, covered_top = 0;
	bool window = false;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < mb_region_count(); i++) {
			if (!free_range(i, &lo, &hi))
				continue;
			uint32_t first = 0, n = sweep(lo, hi, pass == 1, &first);
			if (pass == 0) {
				pages += (hi - lo) / PAGE;
				window |= lo <= HV_WINDOW && hi - 1 >= HV_WINDOW + HV_WINDOW_SZ - 1;
				covered_top = hi - 1 > covered_top ? hi - 1 : covered_top;
			} else if (n && !bad) {
				first_bad = first;
			}
			bad += n;
		}
	uint64_t top = mb_ram_top() > 0x100000000ull ? 0x100000000ull : mb_ram_top();
	report(pages > 0 && (uint64_t)covered_top + 1 >= (top & ~(uint64_t)(PAGE - 1)),
	       "ram-covered: %u pages, up to 0x%x, RAM top 0x%llx", pages, covered_top, top);
	report(window, "ram-covers-hv-window: GPA 0x%x-0x%x %s free RAM above the image", HV_WINDOW,
	       HV_WINDOW + HV_WINDOW_SZ, window ? "is" : "is not");
	report(pages > 0 && !bad, "ram-pattern: %u wrong dwords, first at 0x%x (read 0x%x)", bad,
	       first_bad, bad ? *(volatile uint32_t *)first_bad : 0);
}

/* Fixed encodings, so Petrel's decoder meets exactly these:
 * 8a 02 (mov (%edx),%al), 66 8b 02 (mov (%edx),%ax), 8b 02 (mov (%edx),%eax),
 * 89 02 (mov %eax,(%edx)). */
static uint8_t read8(uint32_t a) { uint8_t v; __asm__ volatile("movb (%1), %0" : "=a"(v) : "d"(a) : "memory"); return v; }
static uint16_t read16(uint32_t a) { uint16_t v; __asm__ volatile("movw (%1), %0" : "=a"(v) : "d"(a) : "memory"); return v; }
static uint32_t read32(uint32_t a) { uint32_t v; __asm__ volatile("movl (%1), %0" : "=a"(v) : "d"(a) : "memory"); return v; }
static void write32(uint32_t a, uint32_t v) { __asm__ volatile("movl %0, (%1)" : : "a"(v), "d"(a) : "memory"); }

static void check_beyond(uint32_t a)
{
	uint32_t before = read32(a);
	uint16_t w = read16(a + 2);
	uint8_t b = read8(a + 1);
	write32(a, 0x12345678);
	uint32_t after = read32(a);
	report(before == 0xffffffffu && w == 0xffff && b == 0xff && after == 0xffffffffu,
	       "unbacked-0x%x: read32 0x%x read16 0x%x read8 0x%x, after a write 0x%x", a, before,
	       w, b, after);
}

/* Whether [a, a + 4) overlaps any region of the memory map, of any type. */
static bool in_map(uint64_t a)
{
	for (int i = 0; i < mb_region_count(); i++) {
		const struct mb_region *r = mb_region(i);
		if (a + 4 > r->base && a < r->base + r->length)
			return true;
	}
	return false;
}

static void check_unbacked(void)
{
	uint64_t top = mb_ram_top();
	if (!under_petrel()) {
		report_skip("unbacked-gpa", "natively firmware and chipset regions lie above RAM");
		return;
	}
	uint64_t probes[] = { top, top + 0x100000, 0xC0000000u };
	for (unsigned i = 0; i < ARRAY_SIZE(probes); i++) {
		uint64_t a = probes[i];
		/* Only what the map leaves out, above RAM, below the APICs. */
		if (a < top || a + 4 > IOAPIC_BASE || in_map(a)) {
			report_skip("unbacked", "0x%llx is in the memory map, below RAM top 0x%llx or at the APICs",
				    a, top);
			continue;
		}
		check_beyond((uint32_t)a);
	}
}

void guest_main(void)
{
	check_no_marker();
	check_ram();
	check_unbacked();
}
