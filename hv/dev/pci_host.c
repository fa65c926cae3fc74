/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2) and the
 * reset control register, ports 0xCF8-0xCFF:
 *
 *   0xCF8  CONFIG_ADDRESS, dword accesses only: bit 31 enable, 23:16 bus,
 *          15:11 device, 10:8 function, 7:2 register; bits 30:24 reserved
 *          and 1:0 read 0.  Any other access here is not the bridge's (the
 *          spec passes it on as ordinary I/O, and nothing else is there),
 *          except a byte at 0xCF9:
 *   0xCF9  the PIIX/ICH reset control register: bit 1 SYS_RST (hard reset),
 *          bit 2 RST_CPU (a 0->1 write resets), bit 3 FULL_RST.  It belongs
 *          to the south bridge, but sits inside this range, so it lives here.
 *   0xCFC  CONFIG_DATA: byte, word or dword at the offset within the dword
 *          CONFIG_ADDRESS selects, if its enable bit is set.
 *
 * The bus holds one function, 00:00.0, a host bridge that says it is the
 * i440FX (82441FX PMC) that Linux knows from QEMU.  Every other bus, device
 * and function reads all-ones (no device answers) and drops writes; so
 * does 00:00.0 past its header.  The FADT's RESET_REG points at 0xCF9
 * with 0x06 (guest-loader/acpi_build.c); Linux's reboot=pci writes 0x02
 * then 0x06.  Any write with RST_CPU set resets the whole VM, soft (INIT
 * only) and hard alike.
 */
#include <petrel/board.h>
#include <petrel/dev/pci_host.h>
#include <petrel/lib.h>

#define CONFIG_ADDRESS 0xcf8
#define RESET_CONTROL 0xcf9
#define CONFIG_DATA 0xcfc
#define ADDR_ENABLE 0x80000000u
#define ADDR_MASK 0x80fffffcu
#define ADDR_BDF(a) (((a) >> 8) & 0xffff)  /* bus, device, function: 0 is 00:00.0 */
#define ADDR_REG(a) ((a) & 0xfc)

#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04
#define RCR_FULL_RST 0x08

/* 00:00.0's header (type 0).  Command: a host bridge always decodes memory
 * and masters the bus, so MSE and BME read 1 (the 82441FX hardwires them);
 * parity-error response and SERR# enable are the writable bits.  Status:
 * fast back-to-back capable, medium DEVSEL timing; no capability list.  No
 * BARs, no interrupt pin: those read 0 and ignore writes. */
#define BRIDGE_VENDOR 0x8086u
#define BRIDGE_DEVICE 0x1237u
#define BRIDGE_REVISION 0x02u
#define CLASS_BRIDGE 0x06u
#define SUBCLASS_HOST 0x00u
#define CMD_MEMORY 0x0002
#define CMD_MASTER 0x0004
#define CMD_PARITY 0x0040
#define CMD_SERR 0x0100
#define CMD_FIXED (CMD_MEMORY | CMD_MASTER)
#define CMD_WRITABLE (CMD_PARITY | CMD_SERR)
#define BRIDGE_STATUS 0x0280u
#define REG_VENDOR 0x00
#define REG_COMMAND 0x04
#define REG_CLASS 0x08

static uint32_t ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static uint32_t bridge_dword(const struct pci_host *h, unsigned reg)
{
	switch (reg) {
	case REG_VENDOR: return BRIDGE_DEVICE << 16 | BRIDGE_VENDOR;
	case REG_COMMAND: return BRIDGE_STATUS << 16 | h->bridge_cmd;
	case REG_CLASS: return CLASS_BRIDGE << 24 | SUBCLASS_HOST << 16 | BRIDGE_REVISION;
	default: return 0; /* header type 0, single function; BARs, IDs, pin: 0 */
	}
}

static bool selects_bridge(const struct pci_host *h)
{
	return (h->addr & ADDR_ENABLE) && ADDR_BDF(h->addr) == 0;
}

/* The selected dword, all-ones where no function answers. */
static uint32_t config_dword(const struct pci_host *h)
{
	return selects_bridge(h) ? bridge_dword(h, ADDR_REG(h->addr)) : 0xffffffffu;
}

/* Byte `k` of the data window is byte k of the selected dword; bytes past
 * 0xCFF (a dword at 0xCFD) are nobody's. */
static uint32_t data_read(const struct pci_host *h, unsigned k, unsigned size)
{
	uint32_t dw = config_dword(h), val = 0;

	for (unsigned i = 0; i < size && i < 4; i++) {
		uint32_t b = k + i < 4 ? (dw >> (8 * (k + i))) & 0xff : 0xff;
		val |= b << (8 * i);
	}
	return val;
}

/* Only the command register's low 16 bits take writes. */
static void data_write(struct pci_host *h, unsigned k, unsigned size, uint32_t val)
{
	uint16_t cmd = h->bridge_cmd;

	if (!selects_bridge(h) || ADDR_REG(h->addr) != REG_COMMAND)
		return;
	for (unsigned i = 0; i < size && i < 4; i++) {
		unsigned b = k + i;
		if (b < 2)
			cmd = (uint16_t)((cmd & ~(0xffu << (8 * b))) | ((val >> (8 * i)) & 0xff) << (8 * b));
	}
	h->bridge_cmd = (uint16_t)(CMD_FIXED | (cmd & CMD_WRITABLE));
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
	if (port >= CONFIG_DATA && port <= CONFIG_DATA + 3)
		return data_read(h, port - CONFIG_DATA, size);
	return ones(size);
}

enum dev_request pci_host_write(struct pci_host *h, uint16_t port, unsigned size, uint32_t val)
{
	if (port == CONFIG_ADDRESS && size == 4)
		h->addr = val & ADDR_MASK;
	else if (port == RESET_CONTROL && size == 1)
		return rcr_write(h, val);
	else if (port >= CONFIG_DATA && port <= CONFIG_DATA + 3)
		data_write(h, port - CONFIG_DATA, size, val);
	return DEV_REQ_NONE;
}

void pci_host_reset(struct pci_host *h)
{
	memset(h, 0, sizeof(*h));
	h->bridge_cmd = CMD_FIXED;
}

/* --- glue ------------------------------------------------------------------ */

struct pci_host_dev {
	struct vm *vm;
	struct pci_host host;
};

static uint64_t pci_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct pci_host_dev *d = dev;

	(void)v;
	return pci_host_read(&d->host, (uint16_t)(CONFIG_ADDRESS + off), size);
}

static void pci_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct pci_host_dev *d = dev;

	(void)v;
	if (pci_host_write(&d->host, (uint16_t)(CONFIG_ADDRESS + off), size, (uint32_t)val) ==
	    DEV_REQ_RESET)
		vm_request_reset(d->vm, "reset control register 0xcf9");
}

static int pci_host_create(struct vm *vm, const struct board_device *bd)
{
	struct pci_host_dev *d = vm_alloc(vm, sizeof(*d));

	if (!d || bd->port != CONFIG_ADDRESS)
		return -1; /* the model knows its ports: 0xcf8-0xcff */
	d->vm = vm;
	pci_host_reset(&d->host);
	return vm_register_pio(vm, CONFIG_ADDRESS, 8, pci_rd, pci_wr, d, "pci-host");
}

const struct device_type pci_host_device = { .name = "PCI host bridge", .create = pci_host_create };
