/* SPDX-License-Identifier: MIT */
/*
 * The host's own CMOS real-time clock (MC146818A-compatible), read once at
 * boot to give the guests' emulated RTCs a wall clock to start from.  After
 * that the TSC keeps the time: wallclock_ns() is the Unix time read at boot
 * plus the TSC ticks since, at the calibrated tsc_hz, so rtc_host_init()
 * must run after tsc_calibrate().  Petrel never writes the host's clock.
 *
 * The RTC is taken to hold UTC, as Linux hosts keep it (a machine that also
 * runs Windows keeps local time there, and its guests will see local time
 * as UTC).  The reading is good to the second: no waiting for the next
 * second to begin, which could hold up boot for a whole second.  The year
 * is 20yy below 70 and 19yy otherwise, as Linux reads it without an ACPI
 * century register; the host's century byte is not trusted, since where it
 * lives is the firmware's choice.  If there is no RTC (every read 0xff) or
 * it never settles or reads nonsense, the clock starts at the Unix epoch.
 */
#include <arch/cpu.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define REG_SEC 0x00
#define REG_MIN 0x02
#define REG_HOUR 0x04
#define REG_MDAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define A_UIP 0x80
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define HOUR_PM 0x80
/* UIP is high at most 244 + 1984 us a second; a port read takes a
 * microsecond or more, so this many polls is well past that. */
#define UIP_POLLS 100000
#define READ_TRIES 5
#define NS 1000000000ull

struct cmos_time {
	uint8_t sec, min, hour, mday, mon, year, b;
};

static uint64_t boot_unix_ns, boot_tsc;

/* Bit 7 of the index stays clear: NMIs stay enabled. */
static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

/* Once UIP reads 0, no update starts for at least 244 us (data sheet):
 * time enough to read the ten registers. */
static int wait_uip_clear(void)
{
	for (unsigned i = 0; i < UIP_POLLS; i++) {
		if (!(cmos_read(REG_A) & A_UIP))
			return 0;
		cpu_relax();
	}
	return -1;
}

static void read_regs(struct cmos_time *t)
{
	t->sec = cmos_read(REG_SEC);
	t->min = cmos_read(REG_MIN);
	t->hour = cmos_read(REG_HOUR);
	t->mday = cmos_read(REG_MDAY);
	t->mon = cmos_read(REG_MONTH);
	t->year = cmos_read(REG_YEAR);
	t->b = cmos_read(REG_B);
}

static bool same(const struct cmos_time *a, const struct cmos_time *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->mday == b->mday &&
	       a->mon == b->mon && a->year == b->year && a->b == b->b;
}

/* Two reads that agree, each after UIP fell: an SMI or an NMI between the
 * UIP check and the reads cannot tear the time. */
static int read_stable(struct cmos_time *t)
{
	struct cmos_time again;

	for (unsigned i = 0; i < READ_TRIES; i++) {
		if (wait_uip_clear())
			return -1;
		read_regs(t);
		if (wait_uip_clear())
			return -1;
		read_regs(&again);
		if (same(t, &again))
			return 0;
	}
	return -1;
}

static unsigned field(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10u + (v & 0xf);
}

/* Days from 1970-01-01, for years >= 1970. */
static uint64_t days_since_1970(unsigned y, unsigned m, unsigned d)
{
	return days_from_civil(y, m, d) - DAYS_0000_TO_1970;
}

/* Register B says how the others are kept: BCD or binary (DM), and 12-hour
 * (bit 7 of the hour = PM, 12 = midnight or noon) or 24-hour.  0 if a field
 * is out of range. */
static uint64_t cmos_to_unix(const struct cmos_time *t)
{
	bool bin = t->b & B_DM_BINARY, h24 = t->b & B_24H;
	unsigned hour = field(h24 ? t->hour : t->hour & (uint8_t)~HOUR_PM, bin);
	unsigned min = field(t->min, bin), sec = field(t->sec, bin), yy = field(t->year, bin);
	unsigned mon = field(t->mon, bin), mday = field(t->mday, bin);

	if (!h24)
		hour = hour % 12 + (t->hour & HOUR_PM ? 12 : 0);
	if (hour > 23 || min > 59 || sec > 59 || yy > 99 || mon < 1 || mon > 12 || mday < 1 || mday > 31)
		return 0;
	return days_since_1970(yy < 70 ? 2000 + yy : 1900 + yy, mon, mday) * 86400 + hour * 3600u +
	       min * 60u + sec;
}

static uint64_t tsc_to_ns(uint64_t ticks)
{
	uint64_t hz = tsc_hz ? tsc_hz : 1;

	return ticks / hz * NS + ticks % hz * NS / hz;
}

void rtc_host_init(void)
{
	struct cmos_time t;

	boot_unix_ns = read_stable(&t) ? 0 : cmos_to_unix(&t) * NS;
	boot_tsc = rdtsc();
}

uint64_t wallclock_ns(void)
{
	return boot_unix_ns + tsc_to_ns(rdtsc() - boot_tsc);
}
