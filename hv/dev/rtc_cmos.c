/* SPDX-License-Identifier: MIT */
/*
 * The MC146818A real-time clock and its CMOS RAM (Motorola MC146818A data
 * sheet): port 0x70 selects a register (bit 7 masks NMI: kept, but nothing
 * here raises NMIs), port 0x71 reads or writes it.  128 bytes:
 *
 *   0-9    seconds, alarm seconds, minutes, alarm minutes, hours, alarm
 *          hours, day of week (Sunday = 1), day of month, month, year
 *   A      UIP (read-only), divider (kept, not acted on), rate select
 *   B      SET, PIE, AIE, UIE, SQWE (kept), DM (1 = binary), 24/12, DSE (kept)
 *   C      IRQF, PF, AF, UF: read-only, cleared by reading, which lowers IRQ 8
 *   D      VRT: always 1 (the battery is fine)
 *   0x32   century (the register ACPI's FADT CENTURY field would name)
 *   others plain RAM, a few set as a PC BIOS would (rtc_reset)
 *
 * The clock is the host's wall clock (wallclock_ns(), drivers/rtc.c) plus
 * an offset the guest moves when it sets the time.  Nothing ticks: the time
 * registers, UIP and the flags of register C are computed from `now` when
 * read.  The one-second update is instantaneous at the second boundary;
 * UIP reads 1 during the 244 us before it (tBUC), which is what a driver
 * waiting for UIP to fall needs.  Day of week is always derived from the
 * date (a guest's write to it is kept only while SET = 1).  Out-of-range
 * values written as the time are clamped to the nearest valid date/time;
 * years 1900-2099.
 */
#include <petrel/board.h>
#include <petrel/dev/rtc_cmos.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>

#define NS NS_PER_SEC
#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32

#define A_UIP 0x80
#define A_RS 0x0f
#define B_SET 0x80
#define B_PIE 0x40 /* the enables of B sit on the same bits as their flags in C */
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define C_FLAGS (C_PF | C_AF | C_UF)
#define D_VRT 0x80

#define UIP_NS 244000ull       /* tBUC: UIP rises 244 us before the update */
#define TIMEBASE_HZ 32768u     /* the divider chain's input (DV = 010) */
#define DAYS_1900_TO_1970 25567ull
#define SECS_PER_DAY 86400u
#define DONT_CARE(b) (((b) & 0xc0) == 0xc0) /* alarm bytes 0xC0-0xFF match anything */

static const uint8_t time_regs[] = { REG_SEC, REG_MIN, REG_HOUR, REG_WDAY, REG_MDAY,
				     REG_MONTH, REG_YEAR, REG_CENTURY };

struct rtc_tm {
	unsigned sec, min, hour, wday, mday, mon, year;
};

/* --- calendar (H. Hinnant's days_from_civil/civil_from_days, counted
 * from 1900-01-01 so everything stays unsigned) -------------------------- */

static uint64_t days_since_1900(unsigned y, unsigned m, unsigned d)
{
	return days_from_civil(y, m, d) + DAYS_1900_TO_1970 - DAYS_0000_TO_1970;
}

static void civil_from_days(uint64_t days, struct rtc_tm *tm)
{
	uint64_t z = days + DAYS_0000_TO_1970 - DAYS_1900_TO_1970, era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

	tm->mday = doy - (153 * mp + 2) / 5 + 1;
	tm->mon = mp < 10 ? mp + 3 : mp - 9;
	tm->year = (unsigned)(era * 400) + yoe + (tm->mon <= 2);
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

static void tm_from_secs(uint64_t s, struct rtc_tm *tm)
{
	uint64_t days = s / SECS_PER_DAY;
	unsigned sod = (unsigned)(s % SECS_PER_DAY);

	tm->sec = sod % 60;
	tm->min = sod / 60 % 60;
	tm->hour = sod / 3600;
	tm->wday = (unsigned)((days + 1) % 7) + 1; /* 1900-01-01 was a Monday (2) */
	civil_from_days(days, tm);
}

/* --- register formats (register B: DM and 24/12) ------------------------- */

static bool binary(const struct rtc_cmos *r) { return r->cmos[REG_B] & B_DM_BINARY; }

static uint8_t enc(const struct rtc_cmos *r, unsigned v)
{
	return (uint8_t)(binary(r) ? v : (v / 10) << 4 | v % 10);
}

static unsigned dec(const struct rtc_cmos *r, uint8_t b)
{
	return binary(r) ? b : (b >> 4) * 10u + (b & 0xf);
}

/* 12-hour mode: 1-12, bit 7 set for PM; midnight is 12 AM. */
static uint8_t enc_hour(const struct rtc_cmos *r, unsigned h)
{
	if (r->cmos[REG_B] & B_24H)
		return enc(r, h);
	return (uint8_t)(enc(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

static unsigned dec_hour(const struct rtc_cmos *r, uint8_t b)
{
	if (r->cmos[REG_B] & B_24H)
		return dec(r, b);
	return dec(r, b & 0x7f) % 12 + (b & 0x80 ? 12 : 0);
}

/* --- the clock --------------------------------------------------------------- */

static uint64_t clock_ns(const struct rtc_cmos *r, uint64_t now)
{
	return r->base_ns + now; /* modulo 2^64: right even after a guest set an early date */
}

static bool is_time_reg(uint8_t idx)
{
	for (unsigned i = 0; i < ARRAY_SIZE(time_regs); i++)
		if (time_regs[i] == idx)
			return true;
	return false;
}

static uint8_t time_reg(const struct rtc_cmos *r, uint8_t idx, uint64_t now)
{
	struct rtc_tm tm;

	tm_from_secs(clock_ns(r, now) / NS, &tm);
	switch (idx) {
	case REG_SEC: return enc(r, tm.sec);
	case REG_MIN: return enc(r, tm.min);
	case REG_HOUR: return enc_hour(r, tm.hour);
	case REG_WDAY: return enc(r, tm.wday);
	case REG_MDAY: return enc(r, tm.mday);
	case REG_MONTH: return enc(r, tm.mon);
	case REG_YEAR: return enc(r, tm.year % 100);
	default: return enc(r, tm.year / 100);
	}
}

/* The time registers, as they would read now, into CMOS (SET = 1 holds them). */
static void freeze(struct rtc_cmos *r, uint64_t now)
{
	for (unsigned i = 0; i < ARRAY_SIZE(time_regs); i++)
		r->cmos[time_regs[i]] = time_reg(r, time_regs[i], now);
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The time the CMOS bytes say, in the current format.  A century outside
 * 19-20 is taken from the year, as Linux does without a century byte. */
static uint64_t secs_from_regs(const struct rtc_cmos *r)
{
	const uint8_t *c = r->cmos;
	unsigned yy = MIN(dec(r, c[REG_YEAR]), 99u), cent = dec(r, c[REG_CENTURY]);
	unsigned year, mon, mday;

	if (cent < 19 || cent > 20)
		cent = yy < 70 ? 20 : 19;
	year = cent * 100 + yy;
	mon = clamp(dec(r, c[REG_MONTH]), 1, 12);
	mday = clamp(dec(r, c[REG_MDAY]), 1, days_in_month(year, mon));
	return days_since_1900(year, mon, mday) * SECS_PER_DAY + MIN(dec_hour(r, c[REG_HOUR]), 23u) * 3600 +
	       MIN(dec(r, c[REG_MIN]), 59u) * 60 + MIN(dec(r, c[REG_SEC]), 59u);
}

/* The clock runs on from the CMOS bytes, `frac` ns into their second. */
static void thaw(struct rtc_cmos *r, uint64_t now, uint64_t frac)
{
	r->base_ns = secs_from_regs(r) * NS + frac - now;
}

static bool uip(const struct rtc_cmos *r, uint64_t now)
{
	return !(r->cmos[REG_B] & B_SET) && clock_ns(r, now) % NS >= NS - UIP_NS;
}

/* --- interrupts ---------------------------------------------------------------- */

/* Position in 32.768 kHz ticks.  The periodic interrupt comes from the same
 * divider chain as the seconds, so it is in phase with them. */
static uint64_t timebase(uint64_t ns)
{
	return ns / NS * TIMEBASE_HZ + ns % NS * TIMEBASE_HZ / NS;
}

/* Rate select (data sheet, periodic interrupt rate table, 32.768 kHz time
 * base): RS 3-15 give a period of 2^(RS-1) ticks (122 us to 500 ms); RS 1
 * and 2 repeat RS 8 and 9 (3.90625 and 7.8125 ms); RS 0 is off. */
static uint64_t period_ticks(unsigned rs)
{
	return 1ull << ((rs <= 2 ? rs + 7 : rs) - 1);
}

static unsigned rate(const struct rtc_cmos *r) { return r->cmos[REG_A] & A_RS; }

static uint64_t next_periodic(const struct rtc_cmos *r, uint64_t t)
{
	uint64_t p = period_ticks(rate(r)), edge = (timebase(t) / p + 1) * p;

	return edge / TIMEBASE_HZ * NS + (edge % TIMEBASE_HZ * NS + TIMEBASE_HZ - 1) / TIMEBASE_HZ;
}

static bool alarm_ok(const struct rtc_cmos *r, uint8_t reg, unsigned v)
{
	uint8_t b = r->cmos[reg];

	if (DONT_CARE(b))
		return true;
	return (reg == REG_HOUR_ALARM ? dec_hour(r, b) : dec(r, b)) == v;
}

/* The first second after `s` at which the alarm matches, 0 if none in a day
 * will (a value no time has).  Skips whole hours and minutes that cannot. */
static uint64_t alarm_next(const struct rtc_cmos *r, uint64_t s)
{
	uint64_t end = s + SECS_PER_DAY;

	for (s++; s <= end;) {
		unsigned sod = (unsigned)(s % SECS_PER_DAY);

		if (!alarm_ok(r, REG_HOUR_ALARM, sod / 3600))
			s += 3600 - sod % 3600;
		else if (!alarm_ok(r, REG_MIN_ALARM, sod / 60 % 60))
			s += 60 - sod % 60;
		else if (!alarm_ok(r, REG_SEC_ALARM, sod % 60))
			s++;
		else
			return s;
	}
	return 0;
}

/* Sets the flags of register C for what happened since the last call: PF
 * when a periodic edge passed, UF when a second ended, AF when one ended on
 * the alarm time.  The flags are set whether or not enabled (data sheet);
 * with SET = 1 there are no updates, so no UF or AF. */
void rtc_update(struct rtc_cmos *r, uint64_t now)
{
	uint64_t from = clock_ns(r, r->seen_ns), to = clock_ns(r, now), s;

	if (now <= r->seen_ns)
		return;
	r->seen_ns = now;
	if (rate(r) && timebase(to) / period_ticks(rate(r)) != timebase(from) / period_ticks(rate(r)))
		r->cmos[REG_C] |= C_PF;
	if (r->cmos[REG_B] & B_SET || to / NS == from / NS)
		return;
	r->cmos[REG_C] |= C_UF;
	s = alarm_next(r, from / NS);
	if (s && s <= to / NS)
		r->cmos[REG_C] |= C_AF;
}

/* IRQF = PF·PIE + AF·AIE + UF·UIE; the IRQ# pin follows it. */
bool rtc_irq(const struct rtc_cmos *r)
{
	return r->cmos[REG_C] & r->cmos[REG_B] & C_FLAGS;
}

uint64_t rtc_next_event(const struct rtc_cmos *r, uint64_t now)
{
	uint64_t t = clock_ns(r, now), best = UINT64_MAX, s;
	uint8_t b = r->cmos[REG_B];

	if (rtc_irq(r)) /* IRQ 8 stays up until register C is read */
		return 0;
	if ((b & B_PIE) && rate(r))
		best = next_periodic(r, t);
	if (!(b & B_SET) && (b & B_UIE))
		best = MIN(best, (t / NS + 1) * NS);
	if (!(b & B_SET) && (b & B_AIE) && (s = alarm_next(r, t / NS)) != 0)
		best = MIN(best, s * NS);
	return best == UINT64_MAX ? 0 : best - r->base_ns;
}

/* --- registers ------------------------------------------------------------------ */

/* SET = 1 stops updates so the time can be written without one in the
 * middle, and clears UIE (data sheet, register B); SET = 0 starts the clock
 * from what was written, at the start of its second. */
static void write_b(struct rtc_cmos *r, uint8_t val, uint64_t now)
{
	uint8_t old = r->cmos[REG_B];

	rtc_update(r, now);
	if (val & B_SET)
		val &= (uint8_t)~B_UIE;
	if ((val & B_SET) && !(old & B_SET))
		freeze(r, now); /* in the format in force until now, as the chip holds it */
	r->cmos[REG_B] = val;
	if (!(val & B_SET) && (old & B_SET))
		thaw(r, now, 0);
}

/* A time register written while the clock runs sets that field; the clock
 * goes on from there, keeping its place within the second. */
static void write_time(struct rtc_cmos *r, uint8_t idx, uint8_t val, uint64_t now)
{
	uint64_t frac;

	if (r->cmos[REG_B] & B_SET) {
		r->cmos[idx] = val;
		return;
	}
	rtc_update(r, now);
	frac = clock_ns(r, now) % NS;
	freeze(r, now);
	r->cmos[idx] = val;
	thaw(r, now, frac);
}

static uint8_t reg_read(struct rtc_cmos *r, uint8_t idx, uint64_t now)
{
	uint8_t val;

	switch (idx) {
	case REG_A:
		return (uint8_t)(r->cmos[REG_A] | (uip(r, now) ? A_UIP : 0));
	case REG_C:
		rtc_update(r, now);
		val = (uint8_t)(r->cmos[REG_C] | (rtc_irq(r) ? C_IRQF : 0));
		r->cmos[REG_C] = 0;
		return val;
	case REG_D:
		return D_VRT;
	default:
		if (is_time_reg(idx) && !(r->cmos[REG_B] & B_SET))
			return time_reg(r, idx, now);
		return r->cmos[idx];
	}
}

static void reg_write(struct rtc_cmos *r, uint8_t idx, uint8_t val, uint64_t now)
{
	switch (idx) {
	case REG_A:
		rtc_update(r, now); /* flags up to now at the old rate */
		r->cmos[REG_A] = val & (uint8_t)~A_UIP;
		break;
	case REG_B:
		write_b(r, val, now);
		break;
	case REG_C: case REG_D:
		break; /* read-only */
	default:
		if (is_time_reg(idx))
			write_time(r, idx, val, now);
		else
			r->cmos[idx] = val;
		break;
	}
}

/* Port 0x70 is write-only on the PIIX: reading it gives 0xff. */
uint8_t rtc_read(struct rtc_cmos *r, uint16_t port, uint64_t now)
{
	return port == 0x71 ? reg_read(r, r->index, now) : 0xff;
}

void rtc_write(struct rtc_cmos *r, uint16_t port, uint8_t val, uint64_t now)
{
	if (port == 0x70) {
		r->index = val & 0x7f;
		r->nmi_masked = val & 0x80;
	} else if (port == 0x71) {
		reg_write(r, r->index, val, now);
	}
}

static void put16(uint8_t *c, uint8_t reg, uint64_t v, uint64_t max)
{
	v = MIN(v, max);
	c[reg] = (uint8_t)v;
	c[reg + 1] = (uint8_t)(v >> 8);
}

/* The bytes a PC BIOS leaves and BIOS-era code reads (the layout QEMU gives
 * SeaBIOS).  Linux takes its memory map from e820 and ignores the memory
 * sizes; they are filled anyway, as cheap truth: base memory 640 KiB;
 * extended memory above 1 MiB in KiB (0x17, and 0x30 as found by POST,
 * both capped at 0xffff); above 16 MiB in 64 KiB units (0x34), of the RAM
 * below 4 GiB; the RAM at 4 GiB and up in 64 KiB units (0x5b-0x5d).  Shutdown status (0x0f) 0 = normal POST; no
 * floppy (0x10); equipment (0x14) = math coprocessor only (bit 1), display
 * bits 00 (EGA/VGA class: there is no "none").  The standard checksum over
 * 0x10-0x2d sits at 0x2e (high), 0x2f (low). */
static void bios_bytes(uint8_t *c, uint64_t below4g, uint64_t high)
{
	uint64_t ram = below4g, above4g = high >> 16;
	uint16_t sum = 0;

	c[0x0f] = 0;
	c[0x10] = 0;
	c[0x14] = 0x02;
	put16(c, 0x15, 640, 640);
	put16(c, 0x17, ram > MiB(1) ? (ram - MiB(1)) >> 10 : 0, 0xffff);
	put16(c, 0x30, ram > MiB(1) ? (ram - MiB(1)) >> 10 : 0, 0xffff);
	put16(c, 0x34, below4g > MiB(16) ? (below4g - MiB(16)) >> 16 : 0, 0xffff);
	c[0x5b] = (uint8_t)above4g;
	c[0x5c] = (uint8_t)(above4g >> 8);
	c[0x5d] = (uint8_t)(above4g >> 16);
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum = (uint16_t)(sum + c[i]);
	c[0x2e] = (uint8_t)(sum >> 8);
	c[0x2f] = (uint8_t)sum;
}

/* Register A 0x26: 32.768 kHz time base, 1024 Hz rate; B 0x02: BCD,
 * 24-hour, no interrupts (what a PC BIOS sets). */
void rtc_reset(struct rtc_cmos *r, uint64_t now, uint64_t unix_ns, uint64_t below_4g, uint64_t above_4g)
{
	memset(r, 0, sizeof(*r));
	r->cmos[REG_A] = 0x26;
	r->cmos[REG_B] = B_24H;
	r->base_ns = unix_ns + DAYS_1900_TO_1970 * SECS_PER_DAY * NS - now;
	r->seen_ns = now;
	bios_bytes(r->cmos, MIN(below_4g, GiB(4)), above_4g);
}

/* --- glue ------------------------------------------------------------------ */

struct rtc_dev {
	struct vm *vm;
	struct rtc_cmos rtc;
	struct vtimer timer; /* armed for the next event that would raise IRQ 8 */
	bool irq8;
	uint8_t gsi;
};

/* After anything that can change register C or what it waits for: IRQ 8
 * follows IRQF (edge-triggered at the PIC and IOAPIC, so one interrupt per
 * rise; the guest must read C to get the next), and the timer is armed for
 * the next event that would raise it, or not at all. */
static void sync(struct rtc_dev *d, uint64_t now)
{
	uint64_t next;
	bool level;

	rtc_update(&d->rtc, now);
	level = rtc_irq(&d->rtc);
	if (level != d->irq8) {
		d->irq8 = level;
		vm_set_gsi(d->vm, d->gsi, level);
	}
	next = rtc_next_event(&d->rtc, now);
	if (next)
		vtimer_arm(&d->timer, next);
	else
		vtimer_cancel(&d->timer);
}

static void rtc_fire(struct vtimer *t, uint64_t now)
{
	sync(t->ctx, now);
}

static uint64_t rtc_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct rtc_dev *d = dev;
	uint64_t now = vm_now_ns(d->vm), val = 0;

	(void)v;
	for (uint8_t i = 0; i < size; i++)
		val |= (uint64_t)rtc_read(&d->rtc, (uint16_t)(0x70 + off + i), now) << (8 * i);
	sync(d, now);
	return val;
}

static void rtc_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct rtc_dev *d = dev;
	uint64_t now = vm_now_ns(d->vm);

	(void)v;
	for (uint8_t i = 0; i < size; i++)
		rtc_write(&d->rtc, (uint16_t)(0x70 + off + i), (uint8_t)(val >> (8 * i)), now);
	sync(d, now);
}

/* At the board's port (0x70), IRQ 8 on its GSI; the CMOS holds the RAM
 * sizes a BIOS would put there, from the RAM below 4 GiB. */
static int rtc_create(struct vm *vm, const struct board_device *bd)
{
	struct rtc_dev *d = vm_alloc(vm, sizeof(*d));
	uint64_t now = vm_now_ns(vm);

	if (!d)
		return -1;
	d->vm = vm;
	d->gsi = (uint8_t)bd->gsi;
	rtc_reset(&d->rtc, now, wallclock_ns(), vm_ram_below_4g(vm), vm_ram_size(vm) - vm_ram_below_4g(vm));
	vtimer_init(&d->timer, vm, rtc_fire, d);
	return vm_register_pio(vm, bd->port, 2, rtc_rd, rtc_wr, d, "rtc-cmos");
}

const struct device_type rtc_cmos_device = { .name = "MC146818 RTC/CMOS", .create = rtc_create };
