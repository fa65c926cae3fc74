/* SPDX-License-Identifier: MIT */
/*
 * The ACPI fixed-hardware registers the FADT points at (ACPI 6.5 §4.8),
 * in one I/O block at `base` (0x600):
 *
 *   base+0  PM1a_STS  16 bits, write 1 to clear (§4.8.3.1.1)
 *   base+2  PM1a_EN   16 bits, the defined enables read back (§4.8.3.1.2)
 *   base+4  PM1a_CNT  16 bits (§4.8.3.2.1): SCI_EN always reads 1, since
 *                     there is no SMI_CMD and the machine is never out of
 *                     ACPI mode; BM_RLD and SLP_TYP kept; GBL_RLS and
 *                     SLP_EN write-only, read 0
 *   base+6  (gap: reads all-ones)
 *   base+8  PM_TMR    32-bit read-only: a 24-bit counter at 3.579545 MHz
 *                     (§4.8.3.3), counted from the VM clock, 0 at VM start
 *
 * Writing SLP_EN with SLP_TYP = S5 powers the VM off.  Nothing raises an
 * SCI: the only status that can become set is TMR_STS (the counter's bit 23
 * changed), and Linux, which polls the timer as a clocksource, never
 * enables it.  The power button (PWRBTN_STS, which the FADT advertises as a
 * fixed feature) is where a host-requested shutdown would go.
 */
#include <petrel/acpi_build.h>
#include <petrel/board.h>
#include <petrel/dev/acpi_pm.h>
#include <petrel/lib.h>

#define NS NS_PER_SEC
#define PM1_STS 0
#define PM1_EN 2
#define PM1_CNT 4
#define PM_TMR 8

#define STS_TMR 0x0001
#define EN_DEFINED 0x4721 /* TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN, PCIEXP_WAKE_DIS */
#define CNT_SCI_EN 0x0001
#define CNT_BM_RLD 0x0002
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_TYP (7u << CNT_SLP_TYP_SHIFT)
#define CNT_SLP_EN 0x2000
#define CNT_KEPT (CNT_BM_RLD | CNT_SLP_TYP)
#define TMR_BITS 24

/* The DSDT's \_S5 is Package {5, 5, 0, 0} (guest-loader/acpi_build.c): the
 * guest writes SLP_TYP = 5 with SLP_EN to power off.  The builder's
 * constants must say the same. */
#define SLP_TYP_S5 5
_Static_assert(SLP_TYP_S5 == ACPI_SLP_TYP_S5, "\\_S5 in the DSDT and the PM1 model disagree");
_Static_assert(PM1_STS == ACPI_PM1_STS_OFF && PM1_EN == ACPI_PM1_EN_OFF &&
		       PM1_CNT == ACPI_PM1_CNT_OFF && PM_TMR == ACPI_PM_TMR_OFF,
	       "the FADT's PM block layout and the PM1 model disagree");

static uint64_t ticks(uint64_t ns)
{
	return ns / NS * ACPI_PM_TIMER_HZ + ns % NS * ACPI_PM_TIMER_HZ / NS;
}

/* TMR_STS is set each time the counter's top bit changes (§4.8.3.3). */
static bool tmr_sts(const struct acpi_pm *pm, uint64_t now)
{
	return ticks(now) >> (TMR_BITS - 1) != ticks(pm->tmr_sts_since) >> (TMR_BITS - 1);
}

static uint16_t reg16(const struct acpi_pm *pm, unsigned reg, uint64_t now)
{
	switch (reg) {
	case PM1_STS: return (uint16_t)(pm->sts | (tmr_sts(pm, now) ? STS_TMR : 0));
	case PM1_EN: return pm->en;
	case PM1_CNT: return (uint16_t)(pm->cnt | CNT_SCI_EN);
	default: return 0xffff;
	}
}

static uint8_t read_byte(const struct acpi_pm *pm, unsigned off, uint64_t now)
{
	uint32_t tmr = (uint32_t)(ticks(now) & ((1u << TMR_BITS) - 1));

	if (off >= PM_TMR && off < PM_TMR + 4)
		return (uint8_t)(tmr >> (8 * (off - PM_TMR)));
	return (uint8_t)(reg16(pm, off & ~1u, now) >> (8 * (off & 1)));
}

uint32_t acpi_pm_read(const struct acpi_pm *pm, unsigned off, unsigned size, uint64_t now)
{
	uint32_t val = 0;

	for (unsigned i = 0; i < size && i < 4; i++)
		val |= (uint32_t)read_byte(pm, off + i, now) << (8 * i);
	return val;
}

/* SLP_EN starts the sleep SLP_TYP names.  Only \_S0 and \_S5 exist in the
 * DSDT: S5 is the power-off; S0 (or anything else, which no guest reading
 * our DSDT would write) means no sleep, and is ignored. */
static enum dev_request write_cnt(struct acpi_pm *pm, uint16_t data, uint16_t mask)
{
	pm->cnt = (uint16_t)((pm->cnt & ~mask) | (data & mask & CNT_KEPT));
	if (!(data & mask & CNT_SLP_EN))
		return DEV_REQ_NONE;
	return (pm->cnt & CNT_SLP_TYP) >> CNT_SLP_TYP_SHIFT == SLP_TYP_S5 ? DEV_REQ_POWEROFF
									 : DEV_REQ_NONE;
}

static enum dev_request write_reg(struct acpi_pm *pm, unsigned reg, uint16_t data, uint16_t mask,
				  uint64_t now)
{
	switch (reg) {
	case PM1_STS:
		pm->sts &= (uint16_t)~(data & mask);
		if (data & mask & STS_TMR)
			pm->tmr_sts_since = now;
		return DEV_REQ_NONE;
	case PM1_EN:
		pm->en = (uint16_t)((pm->en & ~mask) | (data & mask & EN_DEFINED));
		return DEV_REQ_NONE;
	default:
		return write_cnt(pm, data, mask);
	}
}

/* The bytes of a write are gathered per 16-bit register, so a word write
 * of PM1_CNT sees SLP_TYP and SLP_EN together, and a dword write at base
 * reaches both PM1_STS and PM1_EN.  The timer and the gap ignore writes. */
enum dev_request acpi_pm_write(struct acpi_pm *pm, unsigned off, unsigned size, uint32_t val,
			       uint64_t now)
{
	enum dev_request req = DEV_REQ_NONE;

	for (unsigned reg = PM1_STS; reg <= PM1_CNT; reg += 2) {
		uint16_t data = 0, mask = 0;

		for (unsigned i = 0; i < size && i < 4; i++) {
			unsigned b = off + i;
			if (b != reg && b != reg + 1)
				continue;
			mask |= (uint16_t)(0xffu << (8 * (b - reg)));
			data |= (uint16_t)(((val >> (8 * i)) & 0xff) << (8 * (b - reg)));
		}
		if (mask) {
			enum dev_request r = write_reg(pm, reg, data, mask, now);
			if (r != DEV_REQ_NONE)
				req = r;
		}
	}
	return req;
}

void acpi_pm_reset(struct acpi_pm *pm, uint64_t now)
{
	memset(pm, 0, sizeof(*pm));
	pm->tmr_sts_since = now;
}

/* --- glue ------------------------------------------------------------------ */

struct acpi_pm_dev {
	struct vm *vm;
	struct acpi_pm pm;
};

static uint64_t pm_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct acpi_pm_dev *d = dev;

	(void)v;
	return acpi_pm_read(&d->pm, (unsigned)off, size, vm_now_ns(d->vm));
}

static void pm_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct acpi_pm_dev *d = dev;

	(void)v;
	if (acpi_pm_write(&d->pm, (unsigned)off, size, (uint32_t)val, vm_now_ns(d->vm)) ==
	    DEV_REQ_POWEROFF)
		vm_request_poweroff(d->vm, "ACPI S5 (poweroff)");
}

/* The block at the board's port (the FADT says the same).  No SCI source
 * yet: nothing here raises one (no GPEs, no power button). */
static int acpi_pm_create(struct vm *vm, const struct board_device *bd)
{
	struct acpi_pm_dev *d = vm_alloc(vm, sizeof(*d));

	if (!d)
		return -1;
	d->vm = vm;
	acpi_pm_reset(&d->pm, vm_now_ns(vm));
	return vm_register_pio(vm, bd->port, ACPI_PM_LEN, pm_rd, pm_wr, d, "acpi-pm");
}

const struct device_type acpi_pm_device = { .name = "ACPI PM block", .create = acpi_pm_create };
