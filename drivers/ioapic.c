/* SPDX-License-Identifier: MIT */
/*
 * The host's I/O APICs (Intel 82093AA data sheet), as the ACPI MADT lists
 * them: Petrel takes one interrupt from the platform, its serial port's,
 * and routes it to one CPU here.  Registers through the index (IOREGSEL,
 * +0x00) and data (IOWIN, +0x10) pair; redirection entry n is registers
 * 0x10 + 2n (low: vector, trigger, polarity, mask) and 0x11 + 2n (high:
 * the destination APIC ID in bits 24-31).
 */
#include <petrel/acpi.h>
#include <petrel/drivers.h>

#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOAPIC_VER 0x01
#define RTE_LOW(n) (0x10 + 2 * (n))
#define RTE_POLARITY_LOW (1u << 13)
#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)
#define INTI_POLARITY_LOW 3 /* MPS INTI flags, bits 0-1 */
#define INTI_LEVEL 3        /* bits 2-3 */

static uint32_t reg_read(uint64_t base, uint32_t reg)
{
	*(volatile uint32_t *)(uintptr_t)(base + IOREGSEL) = reg;
	return *(volatile uint32_t *)(uintptr_t)(base + IOWIN);
}

static void reg_write(uint64_t base, uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(uintptr_t)(base + IOREGSEL) = reg;
	*(volatile uint32_t *)(uintptr_t)(base + IOWIN) = val;
}

int ioapic_route_isa(const struct acpi_info *a, unsigned irq, uint8_t vector, uint32_t apic_id)
{
	uint32_t gsi, low;
	uint16_t flags;

	if (irq >= ACPI_ISA_IRQS || apic_id > 0xff)
		return -1; /* xAPIC destinations are 8 bits */
	gsi = a->isa_gsi[irq];
	flags = a->isa_flags[irq];
	for (uint32_t i = 0; i < a->nr_ioapics; i++) {
		uint64_t base = a->ioapic[i].phys;
		uint32_t entries = ((reg_read(base, IOAPIC_VER) >> 16) & 0xff) + 1;
		if (gsi < a->ioapic[i].gsi_base || gsi - a->ioapic[i].gsi_base >= entries)
			continue;
		low = vector;
		if ((flags & 3) == INTI_POLARITY_LOW)
			low |= RTE_POLARITY_LOW;
		if (((flags >> 2) & 3) == INTI_LEVEL)
			low |= RTE_LEVEL;
		gsi -= a->ioapic[i].gsi_base;
		reg_write(base, RTE_LOW(gsi), RTE_MASKED);
		reg_write(base, RTE_LOW(gsi) + 1, apic_id << 24);
		reg_write(base, RTE_LOW(gsi), low); /* fixed, physical destination, unmasked */
		return 0;
	}
	return -1;
}
