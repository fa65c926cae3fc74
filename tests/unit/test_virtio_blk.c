/* SPDX-License-Identifier: MIT */
/*
 * hv/dev/virtio_blk.c and the modern virtio PCI transport
 * (hv/dev/virtio_pci.c) on the fake VM's PCI bus, driven as a driver
 * does (virtio 1.2 §3.1.1): the capabilities found by walking the list,
 * BAR 0 placed, reset, ACKNOWLEDGE, DRIVER, features (FEATURES_OK refused
 * for a feature the device lacks), the queue set up and enabled,
 * DRIVER_OK; then reads, writes, flush, GET_ID and an unknown type;
 * requests off the disk's end or not whole sectors; the INTx line through
 * the PIIX's PIRQ routing and the ISR's read-to-clear; malformed chains
 * answered with IOERR, or, where they have no status byte to find, with
 * DEVICE_NEEDS_RESET; a bad queue setting DEVICE_NEEDS_RESET; the PCI
 * configuration access window; and no device without a disk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/dev/piix_isa.h>
#include <petrel/dev/virtio_blk.h>
#include <petrel/pci.h>

#include "fake_vm.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

#define BLK PCI_DEVFN(3, 0)
#define ISA PCI_DEVFN(1, 0)
#define BAR 0xfebf0000ull
#define DESC 0x10000
#define AVAIL 0x11000
#define USED 0x12000
#define HDR 0x20000
#define DATA 0x30000
#define STATUS 0x40000
#define DISK_SECTORS 64

static uint8_t disk[DISK_SECTORS * 512];
static struct vcpu *vcpu0;
static uint16_t avail_idx;

static uint32_t cfg_rd(unsigned reg, unsigned size)
{
	return vm_pci_config_read(&fake_vm, 0, BLK, reg, size);
}

static void cfg_wr(unsigned reg, unsigned size, uint32_t val)
{
	vm_pci_config_write(&fake_vm, 0, BLK, reg, size, val);
}

static uint64_t rd(uint64_t off, uint8_t size)
{
	return fake_mmio_read(vcpu0, BAR + off, size);
}

static void wr(uint64_t off, uint8_t size, uint64_t val)
{
	fake_mmio_write(vcpu0, BAR + off, size, val);
}

/* The capability of cfg_type `type`: its offset in BAR 0. */
static uint32_t find_cap(uint8_t type)
{
	for (unsigned at = cfg_rd(0x34, 1); at; at = cfg_rd(at + 1, 1))
		if (cfg_rd(at, 1) == 0x09 && cfg_rd(at + 3, 1) == type) {
			assert_int_equal(cfg_rd(at + 4, 1), 0); /* BAR 0 */
			return cfg_rd(at + 8, 4);
		}
	fail_msg("no capability of type %u", type);
	return 0;
}

static void fresh(bool with_disk)
{
	fake_vm_reset(1, 16 << 20);
	vcpu0 = &fake_vm.vcpu[0];
	avail_idx = 0;
	for (unsigned i = 0; i < sizeof(disk); i++)
		disk[i] = (uint8_t)(i / 512 + i);
	if (with_disk) {
		fake_disk = disk;
		fake_disk_size = sizeof(disk);
	}
	assert_int_equal(fake_create_pci(&piix_isa_device, ISA, 0, -1), 0);
	assert_int_equal(fake_create_pci(&virtio_blk_device, BLK, 0, -1), 0);
}

/* Reset, features, queue 0 of `size` entries (its rings cleared),
 * DRIVER_OK. */
static void bring_up(uint16_t size)
{
	memset(fake_ram + AVAIL, 0, 0x1000);
	memset(fake_ram + USED, 0, 0x1000);
	avail_idx = 0;
	cfg_wr(0x10, 4, (uint32_t)BAR | 4);
	cfg_wr(0x14, 4, 0);
	cfg_wr(0x04, 2, PCI_CMD_MEMORY);
	wr(0x14, 1, 0);
	wr(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(0x08, 4, 1);
	wr(0x0c, 4, 1); /* VERSION_1 */
	wr(0x08, 4, 0);
	wr(0x0c, 4, (uint32_t)(VIRTIO_F_INDIRECT_DESC | VIRTIO_BLK_F_SEG_MAX));
	wr(0x14, 1, 0x0b);
	assert_int_equal(rd(0x14, 1), 0x0b);
	wr(0x16, 2, 0);
	assert_int_equal(rd(0x18, 2), VIRTIO_BLK_QUEUE);
	wr(0x18, 2, size);
	wr(0x20, 4, DESC);
	wr(0x24, 4, 0);
	wr(0x28, 4, AVAIL);
	wr(0x30, 4, USED);
	wr(0x1c, 2, 1);
	assert_int_equal(rd(0x1c, 2), 1);
	wr(0x14, 1, 0x0f);
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = fake_ram + DESC + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void header(uint32_t type, uint64_t sector)
{
	uint32_t t[2] = { type, 0 };
	memcpy(fake_ram + HDR, t, 8);
	memcpy(fake_ram + HDR + 8, &sector, 8);
	fake_ram[STATUS] = 0xee;
}

/* Offers chain `head`, notifies, returns the used length (asserting one
 * used element for it). */
static uint32_t submit(uint16_t head)
{
	uint16_t used_before, used_after;
	uint32_t e[2];

	memcpy(&used_before, fake_ram + USED + 2, 2);
	memcpy(fake_ram + AVAIL + 4 + 2 * (avail_idx % 8), &head, 2);
	avail_idx++;
	memcpy(fake_ram + AVAIL + 2, &avail_idx, 2);
	wr(VIRTIO_PCI_NOTIFY, 2, 0);
	memcpy(&used_after, fake_ram + USED + 2, 2);
	assert_int_equal((uint16_t)(used_after - used_before), 1);
	memcpy(e, fake_ram + USED + 4 + 8 * (used_before % 8), 8);
	assert_int_equal(e[0], head);
	return e[1];
}

/* header, data, status: the usual three-descriptor request */
static uint32_t request(uint32_t type, uint64_t sector, uint32_t len, bool data_write)
{
	header(type, sector);
	desc(0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA, len, (uint16_t)(VIRTQ_DESC_F_NEXT | (data_write ? VIRTQ_DESC_F_WRITE : 0)), 2);
	desc(2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	return submit(0);
}

TEST(test_no_disk_no_device)
{
	fresh(false);
	assert_int_equal(cfg_rd(0x00, 4), 0xffffffff);
	assert_string_equal(vm_boot_order(&fake_vm), "");
}

/* The disk names itself for firmware's boot order as QEMU names it. */
TEST(test_boot_path)
{
	fresh(true);
	assert_string_equal(vm_boot_order(&fake_vm), "/pci@i0cf8/scsi@3/disk@0,0");
	fake_disk = disk;
	fake_disk_size = sizeof(disk);
	assert_int_equal(fake_create_pci(&virtio_blk_device, PCI_DEVFN(0x1e, 5), 0, -1), 0);
	assert_string_equal(vm_boot_order(&fake_vm), "/pci@i0cf8/scsi@3/disk@0,0\n/pci@i0cf8/scsi@1e,5/disk@0,0");
}

TEST(test_header_caps_and_config)
{
	fresh(true);
	assert_int_equal(cfg_rd(0x00, 4), 0x10421af4);
	assert_int_equal(cfg_rd(0x08, 4) >> 8, 0x010000);
	assert_int_equal(cfg_rd(0x3d, 1), 1);
	assert_int_equal(cfg_rd(0x06, 2) & 0x10, 0x10);
	assert_int_equal(find_cap(1), VIRTIO_PCI_COMMON);
	assert_int_equal(find_cap(2), VIRTIO_PCI_NOTIFY);
	assert_int_equal(find_cap(3), VIRTIO_PCI_ISR);
	assert_int_equal(find_cap(4), VIRTIO_PCI_DEVICE);
	cfg_wr(0x10, 4, 0xffffffff);
	cfg_wr(0x14, 4, 0xffffffff);
	assert_int_equal(cfg_rd(0x10, 4), (uint32_t)~(VIRTIO_PCI_BAR_SIZE - 1) | 4);
	bring_up(8);
	assert_int_equal(rd(VIRTIO_PCI_DEVICE, 4), DISK_SECTORS); /* capacity */
	assert_int_equal(rd(VIRTIO_PCI_DEVICE + 4, 4), 0);
	assert_int_equal(rd(VIRTIO_PCI_DEVICE + 12, 4), VIRTIO_BLK_SEG_MAX);
	wr(0x00, 4, 1);
	assert_int_equal(rd(0x04, 4), 1); /* VERSION_1 */
	wr(0x00, 4, 0);
	assert_int_equal(rd(0x04, 4), (uint32_t)(VIRTIO_F_INDIRECT_DESC | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_FLUSH));
	assert_int_equal(rd(0x12, 2), 1);   /* one queue */
	assert_int_equal(rd(0x10, 2), 0xffff); /* no configuration vector yet */
}

/* The MSI-X capability after the vendor ones: 2 vectors (configuration,
 * queue 0), table and PBA in BAR 0. */
static unsigned msix_cap_at(void)
{
	for (unsigned at = cfg_rd(0x34, 1); at; at = cfg_rd(at + 1, 1))
		if (cfg_rd(at, 1) == 0x11)
			return at;
	fail_msg("no MSI-X capability");
	return 0;
}

/* With MSI-X enabled the queue's vector carries its interrupts (to the
 * APIC the message names) and INTx stays low; a vector the table lacks
 * reads back NO_VECTOR; the configuration vector carries a needed reset;
 * MSI-X off again: INTx and the ISR as before. */
TEST(test_msix)
{
	unsigned cap, table;

	fresh(true);
	vm_pci_config_write(&fake_vm, 0, ISA, 0x63, 1, 11);
	cap = msix_cap_at();
	assert_int_equal(cfg_rd(cap + 2, 2) & 0x7ff, 1); /* 2 vectors */
	table = cfg_rd(cap + 4, 4);
	assert_int_equal(table & 7, 0); /* BAR 0 */
	assert_int_equal(cfg_rd(cap + 8, 4) & 7, 0);
	bring_up(8);
	/* vector 1 -> APIC 2, vector 0x61; vector 0 -> APIC 0, vector 0x62 */
	wr(table + 16, 4, 0xfee02000);
	wr(table + 24, 4, 0x61);
	wr(table + 28, 4, 0);
	wr(table, 4, 0xfee00000);
	wr(table + 8, 4, 0x62);
	wr(table + 12, 4, 0);
	cfg_wr(cap + 2, 2, 0x8000); /* enable */
	wr(0x16, 2, 0);
	wr(0x1a, 2, 5);
	assert_int_equal(rd(0x1a, 2), 0xffff); /* no such vector */
	wr(0x1a, 2, 1);
	assert_int_equal(rd(0x1a, 2), 1);
	wr(0x10, 2, 0);
	assert_int_equal(rd(0x10, 2), 0);
	fake_apic_msgs = 0;
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	assert_int_equal(fake_apic_msgs, 1);
	assert_int_equal(fake_last_msg.dest, 2);
	assert_int_equal(fake_last_msg.vector, 0x61);
	assert_false(fake_gsi_level[11] || fake_gsi_level[19]);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 0);
	/* masked: pending, sent at the unmask */
	wr(table + 28, 4, 1);
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	assert_int_equal(fake_apic_msgs, 1);
	assert_int_equal(rd(0x5000, 4) & 2, 2);
	wr(table + 28, 4, 0);
	assert_int_equal(fake_apic_msgs, 2);
	/* a chain with no end: given back (the queue's vector), and
	 * DEVICE_NEEDS_RESET (the configuration vector) */
	header(VIRTIO_BLK_T_IN, 0);
	desc(0, HDR, 16, VIRTQ_DESC_F_NEXT, 9); /* next past the queue */
	avail_idx++;
	memcpy(fake_ram + AVAIL + 2, &avail_idx, 2);
	wr(VIRTIO_PCI_NOTIFY, 2, 0);
	assert_true(rd(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(fake_apic_msgs, 4);
	assert_int_equal(fake_last_msg.vector, 0x62);
	/* MSI-X off: INTx again */
	cfg_wr(cap + 2, 2, 0);
	bring_up(8);
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	assert_int_equal(fake_apic_msgs, 4);
	assert_true(fake_gsi_level[11]);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 1);
}

TEST(test_features_refused)
{
	fresh(true);
	cfg_wr(0x10, 4, (uint32_t)BAR | 4);
	cfg_wr(0x04, 2, PCI_CMD_MEMORY);
	wr(0x14, 1, 3);
	wr(0x08, 4, 0);
	wr(0x0c, 4, 1u << 5); /* a feature it does not have; no VERSION_1 either */
	wr(0x14, 1, 0x0b);
	assert_int_equal(rd(0x14, 1) & VIRTIO_STATUS_FEATURES_OK, 0);
	wr(0x14, 1, 0);
	assert_int_equal(rd(0x14, 1), 0);
}

TEST(test_read_write_flush_id)
{
	fresh(true);
	bring_up(8);
	assert_int_equal(request(VIRTIO_BLK_T_IN, 2, 1024, true), 1025);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_OK);
	assert_memory_equal(fake_ram + DATA, disk + 1024, 1024);
	memset(fake_ram + DATA, 0x5a, 512);
	assert_int_equal(request(VIRTIO_BLK_T_OUT, 63, 512, false), 1);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_OK);
	assert_int_equal(disk[63 * 512], 0x5a);
	assert_int_equal(disk[63 * 512 + 511], 0x5a);
	for (unsigned i = 0; i < 512; i++)
		fake_ram[DATA + i] = (uint8_t)(i ^ 0xa5);
	assert_int_equal(request(VIRTIO_BLK_T_OUT, 5, 512, false), 1);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(disk[5 * 512 + i], (uint8_t)(i ^ 0xa5));
	memset(fake_ram + DATA, 0, 512);
	assert_int_equal(request(VIRTIO_BLK_T_IN, 5, 512, true), 513);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(fake_ram[DATA + i], (uint8_t)(i ^ 0xa5));
	assert_int_equal(request(VIRTIO_BLK_T_FLUSH, 0, 512, true), 1);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_OK);
	assert_int_equal(request(VIRTIO_BLK_T_GET_ID, 0, 20, true), 21); /* 20 bytes, NUL-padded, and the status */
	assert_string_equal((char *)fake_ram + DATA, "petrel-virtio-blk");
	assert_int_equal(request(77, 0, 512, true), 1);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_UNSUPP);
	/* Off the end, partly past it, not whole sectors: IOERR, disk untouched. */
	assert_int_equal(request(VIRTIO_BLK_T_IN, 64, 512, true), 1);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(VIRTIO_BLK_T_OUT, 63, 1024, false), 1);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(VIRTIO_BLK_T_IN, ~0ull / 256, 512, true), 1);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(VIRTIO_BLK_T_IN, 0, 100, true), 1);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_IOERR);
	assert_int_equal(disk[0], 0);
}

/* The INTx pin reaches PIRQ (3 + 1 - 1) mod 4 = D; routed to IRQ 11 it
 * raises GSI 11 until the driver reads the ISR.  PIRQ D also drives its
 * own IOAPIC pin, the board's pirq_gsi + 3 = 19, whatever the routing. */
TEST(test_intx_through_pirq)
{
	fresh(true);
	vm_pci_config_write(&fake_vm, 0, ISA, 0x63, 1, 11);
	bring_up(8);
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	assert_true(fake_gsi_level[11]);
	assert_true(fake_gsi_level[19]);
	assert_false(fake_gsi_level[16] || fake_gsi_level[17] || fake_gsi_level[18]);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 1);
	assert_false(fake_gsi_level[11]);
	assert_false(fake_gsi_level[19]);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 0);
	/* INTx disabled in the command register: the line stays low */
	cfg_wr(0x04, 2, PCI_CMD_MEMORY | PCI_CMD_INTX_DISABLE);
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	assert_false(fake_gsi_level[11]);
	cfg_wr(0x04, 2, PCI_CMD_MEMORY);
	assert_true(fake_gsi_level[11]);
	/* routed elsewhere while high: the old IRQ drops, the new one rises */
	vm_pci_config_write(&fake_vm, 0, ISA, 0x63, 1, 10);
	assert_false(fake_gsi_level[11]);
	assert_true(fake_gsi_level[10]);
	assert_true(fake_gsi_level[19]);
	rd(VIRTIO_PCI_ISR, 1);
	assert_false(fake_gsi_level[10]);
	assert_false(fake_gsi_level[19]);
}

/* Malformed chains: each is given back with IOERR in its status byte
 * where that can be found, and the device goes on. */
TEST(test_malformed_requests)
{
	fresh(true);
	bring_up(8);
	header(VIRTIO_BLK_T_IN, 0);
	desc(0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(1, 16 << 20, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2); /* past RAM */
	desc(2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(submit(0), 0);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_IN, 0);
	desc(1, DATA, 0, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2); /* zero length */
	assert_int_equal(submit(0), 0);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_IN, 0);
	desc(1, DATA, 0x80000000u, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2); /* huge */
	assert_int_equal(submit(0), 0);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_IOERR);
	/* no header at all, no writable byte: nothing to say it in, but a
	 * well-formed chain: the device goes on */
	desc(0, HDR, 8, 0, 0);
	assert_int_equal(submit(0), 0);
	/* and a good one still works */
	assert_int_equal(request(VIRTIO_BLK_T_IN, 1, 512, true), 513);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_OK);
	assert_int_equal(rd(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

/* Chains with no last descriptor to put a status in (a loop, a next or a
 * head past the queue): given back, and the device needs a reset, after
 * which it works again; meanwhile it takes no requests. */
TEST(test_malformed_needing_reset)
{
	fresh(true);
	bring_up(8);
	header(VIRTIO_BLK_T_IN, 0);
	desc(0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0); /* a loop: 0 1 0 1 ... */
	assert_int_equal(submit(0), 0);
	assert_int_equal(fake_ram[STATUS], 0xee);
	assert_int_equal(rd(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 3); /* the used buffer and the configuration change */
	bring_up(8);
	desc(1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 9); /* next past the queue */
	assert_int_equal(submit(0), 0);
	assert_int_equal(rd(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	bring_up(8);
	assert_int_equal(submit(12), 0); /* a head past the queue */
	assert_int_equal(rd(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	bring_up(8);
	assert_int_equal(request(VIRTIO_BLK_T_IN, 1, 512, true), 513);
	assert_int_equal(fake_ram[STATUS], VIRTIO_BLK_S_OK);
}

/* A queue whose areas are not RAM, or one too large, needs a reset; the
 * driver's index running ahead breaks it too. */
TEST(test_needs_reset)
{
	fresh(true);
	cfg_wr(0x10, 4, (uint32_t)BAR | 4);
	cfg_wr(0x04, 2, PCI_CMD_MEMORY);
	wr(0x14, 1, 3);
	wr(0x16, 2, 0);
	wr(0x20, 4, 0x7fff0000); /* past the VM's RAM */
	wr(0x28, 4, AVAIL);
	wr(0x30, 4, USED);
	wr(0x1c, 2, 1);
	assert_int_equal(rd(0x1c, 2), 0);
	assert_int_equal(rd(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(rd(VIRTIO_PCI_ISR, 1), 2); /* a configuration change */
	wr(0x14, 1, 0);
	assert_int_equal(rd(0x14, 1), 0);
	bring_up(8);
	avail_idx = 20;
	memcpy(fake_ram + AVAIL + 2, &avail_idx, 2);
	wr(VIRTIO_PCI_NOTIFY, 2, 0);
	assert_int_equal(rd(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
	/* too large a queue */
	wr(0x14, 1, 0);
	wr(0x14, 1, 3);
	wr(0x18, 2, 2048);
	wr(0x20, 4, DESC);
	wr(0x1c, 2, 1);
	assert_int_equal(rd(0x1c, 2), 0);
}

/* VIRTIO_PCI_CAP_PCI_CFG: BAR 0 through configuration space. */
TEST(test_pci_cfg_window)
{
	unsigned at;

	fresh(true);
	bring_up(8);
	for (at = cfg_rd(0x34, 1); at && cfg_rd(at + 3, 1) != 5; at = cfg_rd(at + 1, 1))
		;
	assert_int_not_equal(at, 0);
	cfg_wr(at + 4, 1, 0);
	cfg_wr(at + 8, 4, VIRTIO_PCI_DEVICE);
	cfg_wr(at + 12, 4, 4);
	assert_int_equal(cfg_rd(at + 16, 4), DISK_SECTORS);
	cfg_wr(at + 8, 4, 0x14);
	cfg_wr(at + 12, 4, 1);
	assert_int_equal(cfg_rd(at + 16, 4), 0x0f);
	cfg_wr(at + 12, 4, 3); /* not 1, 2 or 4: reads 0 */
	assert_int_equal(cfg_rd(at + 16, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_disk_no_device),
		cmocka_unit_test(test_boot_path),
		cmocka_unit_test(test_header_caps_and_config),
		cmocka_unit_test(test_features_refused),
		cmocka_unit_test(test_read_write_flush_id),
		cmocka_unit_test(test_intx_through_pirq),
		cmocka_unit_test(test_msix),
		cmocka_unit_test(test_malformed_requests),
		cmocka_unit_test(test_malformed_needing_reset),
		cmocka_unit_test(test_needs_reset),
		cmocka_unit_test(test_pci_cfg_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
