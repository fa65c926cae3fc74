/* SPDX-License-Identifier: MIT */
/*
 * The host bridge: PCI configuration mechanism #1 (PCI Local Bus 3.0
 * §3.2.2.3.2), the reset control register, and the bridge's own function
 * 00:00.0, an i440FX (82441FX PMC) with its BIOS-area shadowing.
 *
 * Ports 0xCF8-0xCFF:
 *   0xCF8  CONFIG_ADDRESS, dword accesses only: bit 31 enable, 23:16 bus,
 *          15:11 device, 10:8 function, 7:2 register; bits 30:24 reserved
 *          and 1:0 read 0.  Any other access here is not the bridge's (the
 *          spec passes it on as ordinary I/O, and nothing else is there),
 *          except a byte at 0xCF9:
 *   0xCF9  the PIIX/ICH reset control register: bit 1 SYS_RST (hard reset),
 *          bit 2 RST_CPU (a 0->1 write resets), bit 3 FULL_RST.  It belongs
 *          to the south bridge, but sits inside this range, so it lives here.
 *   0xCFC  CONFIG_DATA: byte, word or dword at the offset within the dword
 *          CONFIG_ADDRESS selects, if its enable bit is set; the VM's PCI
 *          bus (hv/core/pci.c) answers, all-ones where no function is.
 *
 * 00:00.0, as the 82441FX data sheet (290549) has it, as far as firmware
 * and Linux use it: the header (memory and bus master always on), and
 *   0x59-0x5f  PAM0-PAM6: for each of 13 segments of the BIOS area (PAM0
 *              bits 5:4 the 64 KiB at 0xf0000; PAM1-6 the 16 KiB segments
 *              0xc0000-0xeffff, low nibble first), RE (bit 0/4) sends reads
 *              to RAM and WE (bit 1/5) writes; neither: the firmware's ROM.
 *              A change remaps the segment (vm_shadow).  Write-only (WE
 *              alone) is not modelled: said once, and such a segment stays
 *              as with neither bit.
 *   0x72       SMRAM: kept and read back (C_BASE_SEG reads 010); Petrel has
 *              no SMM, so it changes nothing.
 * Every other register of it reads 0 and drops writes.  PAM reads 0 at a
 * firmware VM's reset, as the chip's; a VM without firmware gets 0x33
 * (RAM, read and write): Petrel set the machine up as a BIOS would have.
 *
 * The FADT's RESET_REG points at 0xCF9 with 0x06 (guest-loader/acpi_build.c);
 * Linux's reboot=pci writes 0x02 then 0x06.  Any write with RST_CPU set
 * resets the whole VM, soft (INIT only) and hard alike.
 */
#include <petrel/board.h>
#include <petrel/dev/pci_host.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/pci.h>

#define CONFIG_ADDRESS 0xcf8
#define RESET_CONTROL 0xcf9
#define CONFIG_DATA 0xcfc
#define ADDR_ENABLE 0x80000000u
#define ADDR_MASK 0x80fffffcu

#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04
#define RCR_FULL_RST 0x08

#define PAM0 0x59
#define SMRAM 0x72
#define SMRAM_FIXED 0x02  /* C_BASE_SEG: 0xa0000 */
#define SMRAM_WRITABLE 0x78 /* D_OPEN, D_CLS, D_LCK, G_SMRAME */

static uint32_t ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

bool pci_host_data_access(const struct pci_host *h, uint16_t port, unsigned size, struct pci_config_access *a)
{
	unsigned k = port - CONFIG_DATA;

	if (port < CONFIG_DATA || port > CONFIG_DATA + 3 || !(h->addr & ADDR_ENABLE) || k + size > 4)
		return false;
	a->bus = (uint8_t)(h->addr >> 16);
	a->devfn = (uint8_t)(h->addr >> 8);
	a->reg = (h->addr & 0xfc) + k;
	a->size = size;
	return true;
}

/* RST_CPU is a trigger: it reads back 0 (and the VM it would reset is
 * gone by the time anything could read it). */
static enum dev_request rcr_write(struct pci_host *h, uint32_t val)
{
	h->rcr = (uint8_t)(val & (RCR_SYS_RST | RCR_FULL_RST));
	return val & RCR_RST_CPU ? DEV_REQ_RESET : DEV_REQ_NONE;
}

uint32_t pci_host_read(struct pci_host *h, uint16_t port, unsigned size)
{
	if (port == CONFIG_ADDRESS && size == 4)
		return h->addr;
	if (port == RESET_CONTROL && size == 1)
		return h->rcr;
	return ones(size);
}

enum dev_request pci_host_write(struct pci_host *h, uint16_t port, unsigned size, uint32_t val)
{
	if (port == CONFIG_ADDRESS && size == 4)
		h->addr = val & ADDR_MASK;
	else if (port == RESET_CONTROL && size == 1)
		return rcr_write(h, val);
	return DEV_REQ_NONE;
}

void pci_host_reset(struct pci_host *h, bool firmware)
{
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < I440FX_PAM_REGS; i++)
		h->pam[i] = firmware ? 0 : (i ? 0x33 : 0x30);
	h->smram = SMRAM_FIXED;
}

uint32_t i440fx_cfg_read(const struct pci_host *h, unsigned reg, unsigned size)
{
	uint32_t val = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned r = reg + i;
		uint8_t b = 0;
		if (r >= PAM0 && r < PAM0 + I440FX_PAM_REGS)
			b = h->pam[r - PAM0];
		else if (r == SMRAM)
			b = h->smram;
		val |= (uint32_t)b << (8 * i);
	}
	return val;
}

/* PAM0 has only its high nibble (the 0xf0000 segment); the others both;
 * in each nibble RE and WE. */
uint32_t i440fx_cfg_write(struct pci_host *h, unsigned reg, unsigned size, uint32_t val)
{
	uint8_t old[I440FX_PAM_REGS];
	uint32_t changed = 0;

	memcpy(old, h->pam, sizeof(old));
	for (unsigned i = 0; i < size; i++) {
		unsigned r = reg + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (r >= PAM0 && r < PAM0 + I440FX_PAM_REGS)
			h->pam[r - PAM0] = b & (r == PAM0 ? 0x30 : 0x33);
		else if (r == SMRAM) /* D_LCK stays once set, and locks D_OPEN closed */
			h->smram = (uint8_t)(SMRAM_FIXED | (b & SMRAM_WRITABLE) | (h->smram & 0x10));
	}
	for (unsigned s = 0; s < I440FX_SEGMENTS; s++)
		if (i440fx_segment_bits(old, s) != i440fx_segment_bits(h->pam, s))
			changed |= 1u << s;
	return changed;
}

unsigned i440fx_segment_bits(const uint8_t *pam, unsigned s)
{
	if (s == 0)
		return (pam[0] >> 4) & 3;
	return (pam[1 + (s - 1) / 2] >> ((s - 1) % 2 ? 4 : 0)) & 3;
}

void i440fx_segment(unsigned s, uint64_t *gpa, uint64_t *size)
{
	*gpa = s == 0 ? 0xf0000 : 0xc0000 + (uint64_t)(s - 1) * 0x4000;
	*size = s == 0 ? 0x10000 : 0x4000;
}

/* --- glue ------------------------------------------------------------------ */

struct pci_host_dev {
	struct vm *vm;
	struct pci_host host;
	struct pci_function_desc bridge;
	bool said_wo;
};

/* Segment s of the BIOS area as PAM now says. */
static void shadow_segment(struct pci_host_dev *d, unsigned s)
{
	unsigned bits = i440fx_segment_bits(d->host.pam, s);
	uint64_t gpa, size;

	i440fx_segment(s, &gpa, &size);
	if (bits == 2 && !d->said_wo) {
		pr_warn("vm %s: PAM write-only shadowing (0x%llx) is not modelled: the segment stays ROM\n",
			vm_name(d->vm), (unsigned long long)gpa);
		d->said_wo = true;
	}
	vm_shadow(d->vm, gpa, size, bits == 3 ? SHADOW_RW : bits == 1 ? SHADOW_RO : SHADOW_OFF);
}

static uint32_t bridge_rd(void *dev, unsigned reg, unsigned size)
{
	struct pci_host_dev *d = dev;
	return i440fx_cfg_read(&d->host, reg, size);
}

static void bridge_wr(void *dev, unsigned reg, unsigned size, uint32_t val)
{
	struct pci_host_dev *d = dev;
	uint32_t changed = i440fx_cfg_write(&d->host, reg, size, val);

	for (unsigned s = 0; s < I440FX_SEGMENTS; s++)
		if (changed & (1u << s))
			shadow_segment(d, s);
}

static uint64_t pci_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct pci_host_dev *d = dev;
	struct pci_config_access a;
	uint16_t port = (uint16_t)(CONFIG_ADDRESS + off);

	(void)v;
	if (pci_host_data_access(&d->host, port, size, &a))
		return vm_pci_config_read(d->vm, a.bus, a.devfn, a.reg, a.size);
	return pci_host_read(&d->host, port, size);
}

static void pci_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct pci_host_dev *d = dev;
	struct pci_config_access a;
	uint16_t port = (uint16_t)(CONFIG_ADDRESS + off);

	(void)v;
	if (pci_host_data_access(&d->host, port, size, &a))
		vm_pci_config_write(d->vm, a.bus, a.devfn, a.reg, a.size, (uint32_t)val);
	else if (pci_host_write(&d->host, port, size, (uint32_t)val) == DEV_REQ_RESET)
		vm_request_reset(d->vm, "reset control register 0xcf9");
}

/* The bridge's IDs as QEMU's i440FX gives them (revision 2), with QEMU's
 * subsystem (petrel/pci.h); status: fast back-to-back capable, medium
 * DEVSEL timing. */
static int pci_host_create(struct vm *vm, const struct board_device *bd)
{
	struct pci_host_dev *d = vm_alloc(vm, sizeof(*d));

	if (!d || bd->port != CONFIG_ADDRESS)
		return -1; /* the model knows its ports: 0xcf8-0xcff */
	d->vm = vm;
	pci_host_reset(&d->host, vm_has_firmware(vm));
	d->bridge = (struct pci_function_desc){
		.name = "i440fx", .vendor = 0x8086, .device = 0x1237, .revision = 0x02,
		.subsystem_vendor = PCI_SUBSYS_VENDOR_QEMU, .subsystem = PCI_SUBSYS_QEMU,
		.class_code = 0x06, .subclass = 0x00, .status = 0x0280,
		.cmd_fixed = PCI_CMD_MEMORY | PCI_CMD_MASTER, .cmd_writable = PCI_CMD_PARITY | PCI_CMD_SERR,
		.cfg_read = bridge_rd, .cfg_write = bridge_wr, .dev = d,
	};
	/* The BIOS area as this reset's PAM says (a reboot finds it as the
	 * firmware left it). */
	for (unsigned s = 0; s < I440FX_SEGMENTS; s++)
		shadow_segment(d, s);
	if (vm_pci_add(vm, PCI_DEVFN(0, 0), &d->bridge))
		return -1;
	return vm_register_pio(vm, CONFIG_ADDRESS, 8, pci_rd, pci_wr, d, "pci-host");
}

const struct device_type pci_host_device = { .name = "PCI host bridge", .create = pci_host_create };
