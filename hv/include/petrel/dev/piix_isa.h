/* SPDX-License-Identifier: MIT */
/*
 * The PIIX3 PCI-to-ISA bridge function (hv/dev/piix_isa.c).  The model is
 * pure: its registers, no calls into the hypervisor, so tests/unit/
 * drives it; the device (the glue at the end of its file) puts it on the
 * VM's PCI bus.
 */
#ifndef PETREL_DEV_PIIX_ISA_H
#define PETREL_DEV_PIIX_ISA_H

#include <petrel/device.h>
#include <stdint.h>

#define PIIX_ISA_FIRST 0x40

struct piix_isa {
	uint8_t r[256 - PIIX_ISA_FIRST]; /* registers 0x40-0xff */
};

void piix_isa_reset(struct piix_isa *p);
uint32_t piix_isa_cfg_read(const struct piix_isa *p, unsigned reg, unsigned size);
void piix_isa_cfg_write(struct piix_isa *p, unsigned reg, unsigned size, uint32_t val);
/* The ISA IRQ PCI interrupt line PIRQ[A+pirq] goes to, or -1 for none. */
int piix_isa_pirq(const struct piix_isa *p, unsigned pirq);

extern const struct device_type piix_isa_device;

#endif
