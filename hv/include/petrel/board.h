/* SPDX-License-Identifier: MIT */
/*
 * A board: the machine a VM is (hv/board/pc.c is the one there is).  One
 * table of designated initializers says which devices the machine has, at
 * which ports and MMIO ranges, on which GSIs; one says where each GSI goes
 * (the 8259 pins and the IOAPIC pins); and the board's layout says where
 * RAM lies around the MMIO hole.  Everything a guest is told about the
 * machine comes from here: the devices created in each VM, the memory
 * regions (and so the e820 and multiboot maps), the ACPI tables.
 *
 * Adding a device: one file in hv/dev/ with its struct device_type, and
 * one line in the board's device table.
 */
#ifndef PETREL_BOARD_H
#define PETREL_BOARD_H

#include <petrel/device.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A device as the board places it. */
struct board_device {
	const struct device_type *type;
	const char *id;   /* how a module names it in devices=... */
	uint16_t port;    /* its first I/O port, or 0 */
	uint64_t mmio;    /* its MMIO base, or 0 */
	int8_t gsi;       /* its interrupt line, or -1 */
	uint8_t devfn;    /* a PCI device's function on bus 0 (PCI_DEVFN) */
	bool off;         /* not in a VM unless its module asks for it */
};

/* Where a GSI goes: a pin of the 8259 pair (ISA IRQ) and of the IOAPIC;
 * -1 for none. */
struct gsi_route {
	int8_t pic, ioapic;
	bool level, low; /* how its source drives it (for the MADT's overrides) */
};

struct board {
	const char *name;
	const struct board_device *devices;
	unsigned nr_devices;
	struct gsi_route gsi[NR_GSI];
	/* The layout: RAM from 0 up to ram_low_max, the MMIO hole above it
	 * up to 4 GiB, the rest of the RAM from high_base; below 1 MiB the
	 * BIOS area (bios_start to 1 MiB) is reserved RAM, where the ACPI
	 * tables go (acpi_gpa, at most acpi_max bytes). */
	uint64_t ram_low_max, high_base, bios_start, acpi_gpa, acpi_max;
	/* What the ACPI tables and the loaders say of the machine. */
	uint64_t lapic_gpa, ioapic_gpa;
	/* The HPET's place and what its ACPI table says (a VM whose devices
	 * leave it out gets no table). */
	uint64_t hpet_gpa;
	uint32_t hpet_id;
	uint16_t hpet_min_tick;
	uint16_t pm_base, reset_port;
	uint8_t reset_value, sci_gsi;
	uint8_t pirq_gsi; /* PCI's PIRQ A-D drive GSIs pirq_gsi to pirq_gsi + 3 */
};

extern const struct board pc_board;

/* Creates the board's devices in the VM: those not off by default, with
 * the changes a module asked for in `devices` (a comma list of ids, each
 * "+id" or "id" to add, "-id" to leave out; NULL for none).  0, or -1 after
 * saying which device failed. */
int board_create_devices(struct vm *vm, const struct board *b, const char *devices);
/* Checks a devices=... list: 0, or -1 with the unknown id in err. */
int board_check_devices(const struct board *b, const char *devices, char *err, size_t errlen);

#endif
