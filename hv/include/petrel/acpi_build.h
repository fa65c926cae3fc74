/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables a guest sees: RSDP, XSDT, RSDT, FADT, FACS, DSDT, MADT,
 * and the HPET table where the machine has one,
 * built in one blob at a guest-physical address (ACPI 6.5 §5.2).  Pure C, no
 * allocation; unit-tested on the host by parsing the blob back with
 * drivers/acpi.c (tests/unit/test_acpi_build.c).
 *
 * The tables describe a legacy PC, not a hardware-reduced one: the guest gets
 * PIC + IOAPIC + LAPICs and an ACPI PM I/O block.  What the tables promise,
 * and so what the device model (the acpi_pm device) must provide:
 *
 *   pm_base + 0  PM1a_STS  (16 bits, write 1 to clear)
 *   pm_base + 2  PM1a_EN   (16 bits, must read back what was written: ACPICA
 *                           checks GBL_EN/PWRBTN_EN/RTC_EN after setting them)
 *   pm_base + 4  PM1a_CNT  (16 bits): SCI_EN (bit 0) always reads 1, since
 *                           there is no SMI_CMD and ACPI mode is never left;
 *                           SLP_TYP in bits 12:10, SLP_EN bit 13 (ACPI 6.5
 *                           Table 4.13).  Writing SLP_EN with SLP_TYP =
 *                           ACPI_SLP_TYP_S5 means power off.
 *   pm_base + 8  PM_TMR    (32-bit read, 24-bit counter at 3.579545 MHz)
 *   reset_port   writing ACPI_RESET_VALUE resets the machine (FADT RESET_REG)
 *
 * No GPE block, no SMI command port, no sleep states other than S0 and S5.
 * The MADT does not say how many pins the IOAPIC has: its version register
 * must report 23 as the highest redirection entry (24 pins).
 */
#ifndef PETREL_ACPI_BUILD_H
#define PETREL_ACPI_BUILD_H

#include <stddef.h>
#include <stdint.h>

/* Offsets in the PM I/O block at cfg->pm_base. */
#define ACPI_PM1_STS_OFF 0
#define ACPI_PM1_EN_OFF 2
#define ACPI_PM1_CNT_OFF 4
#define ACPI_PM_TMR_OFF 8

/* PM1_CNT bits (ACPI 6.5 Table 4.13). */
#define ACPI_PM1_CNT_SCI_EN (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN (1u << 13)

/* The SLP_TYP values the DSDT's \_S0 and \_S5 packages give (§7.4.2).  Our
 * own choice: the field is chipset-defined.  S5 = 5 so the value written
 * for power-off (5 << 10 | SLP_EN = 0x3400) reads as "S5" in a trace. */
#define ACPI_SLP_TYP_S0 0
#define ACPI_SLP_TYP_S5 5

/* Written to RESET_REG: 0xCF9's "full reset" (SYS_RST | RST_CPU). */
#define ACPI_RESET_VALUE 0x06

struct acpi_build_cfg {
	uint64_t base_gpa;   /* where the blob goes: 16-byte aligned, below 4 GiB */
	uint32_t nr_cpus;    /* 1..254: LAPIC IDs 0..nr_cpus-1, all enabled */
	uint64_t lapic_gpa;  /* 0xFEE00000 */
	uint64_t ioapic_gpa; /* 0xFEC00000; IOAPIC ID = nr_cpus, GSI base 0 */
	uint16_t pm_base;    /* PM I/O block, e.g. 0x600 (offsets above) */
	uint8_t sci_irq;     /* ISA IRQ of the SCI, 9; level, active high */
	uint16_t reset_port; /* 0xCF9 */
	uint64_t hpet_gpa;   /* the HPET's registers (below 4 GiB), or 0 for no HPET table */
	uint32_t hpet_id;    /* its GCAP_ID bits 31:0, the table's event timer block ID */
	uint16_t hpet_min_tick; /* the shortest period it interrupts at, in its ticks */
	/* PCI bus 0 behind a root bridge (DSDT Device PCI0), or none where
	 * pci_mem_end is 0: its 32-bit memory window [pci_mem_start,
	 * pci_mem_end) (at or above 1 MiB, ending at or below 4 GiB), and the
	 * first of the four IOAPIC pins (16-20) its PIRQ lines A-D drive,
	 * level-triggered and active low as _PRT's GSIs are. */
	uint32_t pci_mem_start;
	uint64_t pci_mem_end;
	uint8_t pci_gsi_base;
	char oem_id[7];      /* "PETREL": up to 6 characters, space-padded */
};

/*
 * Writes the tables into buf, the RSDP first (at cfg->base_gpa, so a BIOS-
 * area scan finds it when base_gpa is in 0xE0000-0xFFFFF) and stores its
 * guest-physical address in *rsdp_gpa.  Returns the bytes used, or 0 without
 * writing anything if buf is too small or cfg is unusable: base_gpa not
 * 16-byte aligned, a table or the LAPIC/IOAPIC above 4 GiB, nr_cpus outside
 * 1..254, sci_irq 0, 2 or above 15.
 */
size_t acpi_build(const struct acpi_build_cfg *cfg, uint8_t *buf, size_t size,
		  uint64_t *rsdp_gpa);

/*
 * The same tables for a firmware to install, through QEMU's table-loader
 * as SeaBIOS and OVMF read it from fw_cfg: the fw_cfg files
 * ACPI_FILE_TABLES (every table but the RSDP, pointers as offsets in this
 * file), ACPI_FILE_RSDP and ACPI_FILE_LOADER, the loader's commands of
 * ACPI_LOADER_ENTRY bytes each: place both files (the RSDP in the F
 * segment, where a BIOS-area scan finds it), add the tables file's address
 * to every pointer, then sum each table (their checksum bytes are left 0
 * for it, as QEMU's are: OVMF's sum counts the byte).  The caller gives tables
 * (tables_size bytes), rsdp and loader (loader_size bytes); on success
 * tables_len and loader_len say how much of each is used.  cfg->base_gpa
 * is not used.  0, or -1 when cfg is unusable or a buffer too small.
 */
#define ACPI_FILE_TABLES "etc/acpi/tables"
#define ACPI_FILE_RSDP "etc/acpi/rsdp"
#define ACPI_FILE_LOADER "etc/table-loader"
#define ACPI_LOADER_ENTRY 128
#define ACPI_LOADER_FILESZ 56 /* a file name's field, NUL-padded */
#define ACPI_RSDP_LEN 36

struct acpi_linked {
	uint8_t *tables, *loader;
	size_t tables_size, loader_size;
	uint8_t rsdp[ACPI_RSDP_LEN];
	size_t tables_len, loader_len;
};

int acpi_build_linked(const struct acpi_build_cfg *cfg, struct acpi_linked *out);

#endif
