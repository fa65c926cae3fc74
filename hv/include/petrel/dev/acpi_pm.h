/* SPDX-License-Identifier: MIT */
/*
 * The ACPI PM1a event/control blocks and PM timer (hv/dev/acpi_pm.c).
 * The model is pure: state and functions that take the VM clock `now`
 * (ns) as an argument, no globals, no calls into the hypervisor, so
 * tests/unit/ drives it with any clock.  The device (the glue at the end
 * of its file) creates one per VM and feeds it vm_now_ns().
 */
#ifndef PETREL_DEV_ACPI_PM_H
#define PETREL_DEV_ACPI_PM_H

#include <petrel/device.h>
#include <stdbool.h>
#include <stdint.h>

#define ACPI_PM_TIMER_HZ 3579545u
#define ACPI_PM_LEN 12 /* PM1a_EVT (4), PM1a_CNT (2), a gap (2), PM_TMR (4) */

struct acpi_pm {
	uint16_t sts, en, cnt;
	uint64_t tmr_sts_since; /* VM ns TMR_STS was last cleared */
};

void acpi_pm_reset(struct acpi_pm *pm, uint64_t now);
/* off: from the block's base; size 1, 2 or 4. */
uint32_t acpi_pm_read(const struct acpi_pm *pm, unsigned off, unsigned size, uint64_t now);
enum dev_request acpi_pm_write(struct acpi_pm *pm, unsigned off, unsigned size, uint32_t val,
			       uint64_t now);

/* The PIIX4 power-management function's registers (from 0x40): where the
 * block is decoded. */
struct piix4_pm_cfg {
	uint32_t pmba, devactb, smbba;
	uint8_t pmregmisc, smbhstcfg;
};
/* At `base` and decoding, or (base 0) as the chip resets: not decoding. */
void piix4_pm_cfg_reset(struct piix4_pm_cfg *c, uint16_t base);
uint32_t piix4_pm_cfg_read(const struct piix4_pm_cfg *c, unsigned reg, unsigned size);
void piix4_pm_cfg_write(struct piix4_pm_cfg *c, unsigned reg, unsigned size, uint32_t val);
/* The block's base while it decodes, else -1. */
int piix4_pm_io_base(const struct piix4_pm_cfg *c);

extern const struct device_type acpi_pm_device;

#endif
