/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables the hypervisor reads from firmware: RSDP, XSDT (or RSDT),
 * MADT, FADT.  ACPI 6.5 §5.2.  Parsing is pure C over a map callback, so the
 * host unit tests run it on tables captured from QEMU and Bochs
 * (tests/data/).
 */
#ifndef PETREL_ACPI_H
#define PETREL_ACPI_H

#include <petrel/boot_info.h>
#include <petrel/percpu.h>
#include <stdbool.h>
#include <stdint.h>

#define ACPI_MAX_TABLES 32
#define ACPI_MAX_IOAPICS 8
#define ACPI_ISA_IRQS 16

struct acpi_table_ref {
	char sig[5];
	uint32_t len;
	uint64_t phys;
};

struct acpi_info {
	uint8_t revision; /* RSDP revision: 0 = ACPI 1.0 (RSDT), 2+ = XSDT */
	char oem[7];
	uint32_t nr_tables;
	struct acpi_table_ref tables[ACPI_MAX_TABLES];

	/* MADT (ACPI 6.5 §5.2.12) */
	bool has_madt;
	uint64_t lapic_phys;
	uint32_t nr_cpus; /* enabled processors */
	uint32_t apic_ids[MAX_CPUS];
	uint32_t nr_cpus_disabled; /* listed but neither enabled nor usable */
	uint32_t nr_ioapics;
	struct { uint32_t id, gsi_base; uint64_t phys; } ioapic[ACPI_MAX_IOAPICS];
	/* Interrupt source overrides: ISA IRQ i arrives at GSI isa_gsi[i] with
	 * MPS INTI flags isa_flags[i] (polarity in bits 0-1, trigger in 2-3;
	 * 0 is the bus's default: edge, active high). */
	uint32_t isa_gsi[ACPI_ISA_IRQS];
	uint16_t isa_flags[ACPI_ISA_IRQS];

	/* FADT (ACPI 6.5 §5.2.9) */
	bool has_fadt;
	uint16_t pm_timer_port; /* 0 if none */
	bool pm_timer_32bit;
	uint16_t sci_irq;
	uint32_t pm1a_cnt, pm1b_cnt; /* the PM1 control registers' ports, 0 if none */
	uint64_t dsdt;        /* where the FADT says the DSDT is (X_DSDT if set), 0 if nowhere */
	/* The DSDT: Name (\_S5_, Package () { SLP_TYPa, SLP_TYPb, ... }), the
	 * values that put the machine into S5 (soft off) through PM1x_CNT. */
	bool has_s5;
	uint8_t s5_typ_a, s5_typ_b;

	char warnings[256]; /* non-fatal problems, one per line */
};

/* Returns 0, or -1 with a reason: bad RSDP checksum, unreadable root table.
 * A bad checksum on any other table skips that table with a warning. */
int acpi_parse(const uint8_t *rsdp, boot_map_fn map, void *ctx, struct acpi_info *out,
	       char *err, size_t errlen);
/* The BIOS way to find the RSDP (ACPI 6.5 §5.2.5.1): the first KiB of the
 * EBDA, then 0xE0000-0xFFFFF, on 16-byte boundaries.  0 if not found. */
uint64_t acpi_find_rsdp_bios(boot_map_fn map, void *ctx);
uint8_t acpi_checksum(const void *p, uint64_t len);
/* Looks for \_S5_ in AML (a DSDT or SSDT's body): true with the sleep
 * types, false if it is not there as a Name of a Package of integers. */
bool acpi_find_s5(const uint8_t *aml, uint32_t len, uint8_t *typ_a, uint8_t *typ_b);

#endif
