/* SPDX-License-Identifier: MIT */
/*
 * The PC every VM is: an i440FX/PIIX-like machine as QEMU's `pc` board
 * lays it out, with what its guests (Linux, multiboot kernels, the
 * kvm-unit-tests) use.  Ports and GSIs are the ISA ones; the IOAPIC and
 * local APIC sit at their architectural addresses; Petrel's own test
 * device and QEMU's test and firmware-configuration devices are there for
 * test guests, and QEMU's firmware debug console for firmware; each can be
 * left out per VM (module argument devices=).
 */
#include <petrel/board.h>
#include <petrel/dev/acpi_pm.h>
#include <petrel/dev/apic.h>
#include <petrel/dev/debug_exit.h>
#include <petrel/dev/debugcon.h>
#include <petrel/dev/fw_cfg.h>
#include <petrel/dev/hpet.h>
#include <petrel/dev/legacy.h>
#include <petrel/dev/pc_testdev.h>
#include <petrel/dev/pci_host.h>
#include <petrel/dev/pic8259.h>
#include <petrel/dev/piix_isa.h>
#include <petrel/dev/pit8254.h>
#include <petrel/dev/rtc_cmos.h>
#include <petrel/dev/testdev.h>
#include <petrel/dev/uart16550.h>
#include <petrel/dev/virtio_blk.h>
#include <petrel/lib.h>
#include <petrel/pci.h>

static const struct board_device pc_devices[] = {
	/* first the interrupt controllers, so the others can wire to them */
	{ &pic8259_device, "pic", .port = 0x20, .gsi = -1 },
	{ &ioapic_device, "ioapic", .mmio = 0xfec00000, .gsi = -1 },
	{ &lapic_device, "lapic", .mmio = 0xfee00000, .gsi = -1 },
	{ &pit8254_device, "pit", .port = 0x40, .gsi = 0 },
	{ &rtc_cmos_device, "rtc", .port = 0x70, .gsi = 8 },
	{ &hpet_device, "hpet", .mmio = 0xfed00000, .gsi = -1 }, /* its own routes */
	{ &pci_host_device, "pci", .port = 0xcf8, .gsi = -1, .devfn = PCI_DEVFN(0, 0) },
	{ &piix_isa_device, "isa-bridge", .gsi = -1, .devfn = PCI_DEVFN(1, 0) },
	{ &acpi_pm_device, "acpi-pm", .port = 0x600, .gsi = 9, .devfn = PCI_DEVFN(1, 3) },
	{ &virtio_blk_device, "virtio-blk", .gsi = -1, .devfn = PCI_DEVFN(3, 0) }, /* with a disk */
	{ &legacy_device, "legacy", .port = 0x60, .gsi = -1 },
	{ &uart16550_device, "com1", .port = 0x3f8, .gsi = 4 },
	{ &debug_exit_device, "debug-exit", .port = 0xf4, .gsi = -1 },
	{ &debugcon_device, "debugcon", .port = 0x402, .gsi = -1 },
	{ &fw_cfg_device, "fw-cfg", .port = 0x510, .gsi = -1 },
	{ &pc_testdev_device, "pc-testdev", .port = 0xe0, .mmio = 0xff000000, .gsi = -1 },
	{ &testdev_device, "testdev", .port = 0x530, .gsi = -1 },
};

/* ISA IRQ n is GSI n on the 8259 pin n and the IOAPIC pin n, but for the
 * PIT: its IRQ 0 is IOAPIC pin 2 (the MADT says so, as on QEMU's pc);
 * the SCI (9) is level, active high.  GSIs 16-23 are IOAPIC pins only:
 * 16-19 are PCI's PIRQ A-D (level, active low, the DSDT's _PRT says so),
 * which also reach the 8259 through the PIIX3's routing registers;
 * the HPET may use 20-23. */
#define ISA(n) { .pic = (n), .ioapic = (n) }
#define PIRQ(n) { .pic = -1, .ioapic = (n), .level = true, .low = true }
const struct board pc_board = {
	.name = "pc",
	.devices = pc_devices,
	.nr_devices = ARRAY_SIZE(pc_devices),
	.gsi = {
		{ .pic = 0, .ioapic = 2 }, ISA(1), { .pic = 2, .ioapic = -1 }, ISA(3), ISA(4), ISA(5),
		ISA(6), ISA(7), ISA(8), { .pic = 9, .ioapic = 9, .level = true }, ISA(10), ISA(11),
		ISA(12), ISA(13), ISA(14), ISA(15),
		PIRQ(16), PIRQ(17), PIRQ(18), PIRQ(19), { -1, 20 }, { -1, 21 }, { -1, 22 }, { -1, 23 },
	},
	.ram_low_max = 0xc0000000ull,
	.high_base = 0x100000000ull,
	.bios_start = 0x9fc00,
	.acpi_gpa = 0xe0000,
	.acpi_max = 0x10000,
	.lapic_gpa = 0xfee00000,
	.ioapic_gpa = 0xfec00000,
	.hpet_gpa = 0xfed00000,
	.hpet_id = HPET_ID,
	.hpet_min_tick = TIMER_MIN_PERIOD_NS / HPET_TICK_NS,
	.pm_base = 0x600,
	.reset_port = 0xcf9,
	.reset_value = 0x06,
	.sci_gsi = 9,
	.pirq_gsi = 16,
};
