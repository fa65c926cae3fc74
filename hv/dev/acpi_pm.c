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
 *
 * The block belongs to the PIIX4's power-management function, 00:01.3
 * (8086:7113, 82371AB data sheet 290562 §3.4), which says where it is:
 *   0x40  PMBA: bits 15:6 the block's base (bit 0 reads 1: I/O space)
 *   0x80  PMREGMISC: bit 0 (PMIOSE) turns the block's decoding on
 *   0x58  DEVACTB: kept; APMC_EN (bit 25) always reads 1, as on QEMU's
 *         PIIX4 without SMM: Petrel has no SMM, and firmware that finds
 *         it set does not try to start an SMI handler
 *   0x90  SMBBA, 0xd2 SMBHSTCFG: the SMBus controller's base and enable,
 *         kept and read back; there is no SMBus controller behind them
 * Firmware programs PMBA and PMIOSE (SeaBIOS puts the block at 0xb000);
 * for a VM without firmware Petrel does, at the board's port, which its
 * FADT names.  Every other register of the function reads 0.
 */
#include <petrel/acpi_build.h>
#include <petrel/board.h>
#include <petrel/dev/acpi_pm.h>
#include <petrel/lib.h>
#include <petrel/pci.h>

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

/* --- the PIIX4 function's registers --------------------------------------- */

#define PMBA 0x40
#define DEVACTB 0x58
#define DEVACTB_APMC_EN (1u << 25)
#define PMREGMISC 0x80
#define SMBBA 0x90
#define SMBHSTCFG 0xd2

void piix4_pm_cfg_reset(struct piix4_pm_cfg *c, uint16_t base)
{
	memset(c, 0, sizeof(*c));
	c->pmba = base ? base : 0; /* bit 0 is added on reads */
	c->pmregmisc = base ? 1 : 0;
	c->devactb = DEVACTB_APMC_EN;
}

static uint32_t dword_at(const struct piix4_pm_cfg *c, unsigned dw)
{
	switch (dw) {
	case PMBA: return c->pmba | 1;
	case DEVACTB: return c->devactb | DEVACTB_APMC_EN;
	case PMREGMISC: return c->pmregmisc;
	case SMBBA: return c->smbba | 1;
	case SMBHSTCFG & ~3u: return (uint32_t)c->smbhstcfg << 16;
	default: return 0;
	}
}

uint32_t piix4_pm_cfg_read(const struct piix4_pm_cfg *c, unsigned reg, unsigned size)
{
	uint32_t v = dword_at(c, reg & ~3u) >> (8 * (reg & 3));
	return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

void piix4_pm_cfg_write(struct piix4_pm_cfg *c, unsigned reg, unsigned size, uint32_t val)
{
	unsigned dw = reg & ~3u, shift = 8 * (reg & 3);
	uint32_t lanes = (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1) << shift;
	uint32_t v = (dword_at(c, dw) & ~lanes) | ((val << shift) & lanes);

	switch (dw) {
	case PMBA: c->pmba = v & 0xffc0; break;
	case DEVACTB: c->devactb = v | DEVACTB_APMC_EN; break;
	case PMREGMISC: c->pmregmisc = (uint8_t)(v & 1); break;
	case SMBBA: c->smbba = v & 0xfff0; break;
	case SMBHSTCFG & ~3u: c->smbhstcfg = (uint8_t)((v >> 16) & 0x0f); break;
	default: break;
	}
}

int piix4_pm_io_base(const struct piix4_pm_cfg *c)
{
	return (c->pmregmisc & 1) && c->pmba ? (int)c->pmba : -1;
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
	struct piix4_pm_cfg cfg;
	struct pci_function_desc fn;
	int at; /* where the block is registered, or -1 */
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

/* The block goes where PMBA and PMIOSE now say; a base over another
 * device's ports is not decoded (the registration says so). */
static void place_block(struct acpi_pm_dev *d)
{
	int want = piix4_pm_io_base(&d->cfg);

	if (want == d->at)
		return;
	if (d->at >= 0)
		vm_unregister_pio(d->vm, (uint16_t)d->at);
	d->at = -1;
	if (want >= 0 && !vm_register_pio(d->vm, (uint16_t)want, ACPI_PM_LEN, pm_rd, pm_wr, d, "acpi-pm")) {
		d->at = want;
		vm_set_pm_base(d->vm, (uint16_t)want); /* what the ACPI tables will say */
	}
}

static uint32_t fn_rd(void *dev, unsigned reg, unsigned size)
{
	return piix4_pm_cfg_read(&((struct acpi_pm_dev *)dev)->cfg, reg, size);
}

static void fn_wr(void *dev, unsigned reg, unsigned size, uint32_t val)
{
	struct acpi_pm_dev *d = dev;

	piix4_pm_cfg_write(&d->cfg, reg, size, val);
	place_block(d);
}

/* The PIIX4 function at the board's PCI slot; the block at the board's
 * port unless firmware is to place it.  No SCI source yet: nothing here
 * raises one (no GPEs, no power button). */
static int acpi_pm_create(struct vm *vm, const struct board_device *bd)
{
	struct acpi_pm_dev *d = vm_alloc(vm, sizeof(*d));

	if (!d)
		return -1;
	d->vm = vm;
	d->at = -1;
	acpi_pm_reset(&d->pm, vm_now_ns(vm));
	piix4_pm_cfg_reset(&d->cfg, vm_has_firmware(vm) ? 0 : bd->port);
	d->fn = (struct pci_function_desc){
		.name = "piix4-pm", .vendor = 0x8086, .device = 0x7113, .revision = 0x03,
		.subsystem_vendor = PCI_SUBSYS_VENDOR_QEMU, .subsystem = PCI_SUBSYS_QEMU,
		.class_code = 0x06, .subclass = 0x80, .status = 0x0280, .int_pin = 1,
		.cfg_read = fn_rd, .cfg_write = fn_wr, .dev = d,
	};
	if (vm_pci_add(vm, bd->devfn, &d->fn))
		return -1;
	place_block(d);
	return !vm_has_firmware(vm) && d->at < 0 ? -1 : 0;
}

const struct device_type acpi_pm_device = { .name = "ACPI PM block", .create = acpi_pm_create };
