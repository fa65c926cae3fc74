/* SPDX-License-Identifier: MIT */
/*
 * PCI functions on a VM's bus 0 (PCI Local Bus 3.0, chapter 6).
 *
 * A device adds a function with vm_pci_add(): its IDs and class, its
 * BARs (kind, size, and the read/write ops of the range), its interrupt
 * pin, and, for the registers past the standard header (0x40 on), its own
 * cfg_read/cfg_write.  The type-0 header itself is modelled once, here,
 * for every function: the command register's decode enables, BAR sizing
 * (all-ones written, the size mask read back) and placement, the
 * interrupt line.  When the guest (or its firmware) moves a BAR or turns
 * decoding on or off, the bus moves the function's port or MMIO range
 * with it (hv/core/pci.c): a device never tracks its own addresses.
 *
 * The configuration mechanism that reaches the bus (ports 0xcf8/0xcfc) is
 * the host bridge's (hv/dev/pci_host.c).  The header model (pci_cfg_*) is
 * pure C, unit-tested on the host (tests/unit/test_pci.c) together with
 * the bus over the fake VM.
 */
#ifndef PETREL_PCI_H
#define PETREL_PCI_H

#include <petrel/io_bus.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

#define PCI_DEVFN(dev, fn) ((uint8_t)((dev) << 3 | (fn)))
#define PCI_NR_BARS 6
#define PCI_UNMAPPED (~0ull)

/* The command register's bits a function may have (PCI 3.0 §6.2.2). */
#define PCI_CMD_IO 0x0001
#define PCI_CMD_MEMORY 0x0002
#define PCI_CMD_MASTER 0x0004
#define PCI_CMD_PARITY 0x0040
#define PCI_CMD_SERR 0x0100
#define PCI_CMD_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST 0x0010

/* QEMU's PCI devices carry this subsystem (vendor Red Hat/Qumranet,
 * 0x1100 "QEMU virtual machine"); SeaBIOS and OVMF recognise the board by
 * it on the host bridge.  Petrel's PC answers like QEMU's, so it says so. */
#define PCI_SUBSYS_VENDOR_QEMU 0x1af4
#define PCI_SUBSYS_QEMU 0x1100

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar_desc {
	uint8_t kind;      /* enum pci_bar_kind; a 64-bit BAR takes the next one too */
	bool prefetch;
	uint32_t size;     /* a power of two: ports at least 4 (at most 256), memory at least 16 */
	io_read_fn read;   /* the range's ops, offsets from the BAR's base */
	io_write_fn write;
};

struct pci_function_desc {
	const char *name;
	uint16_t vendor, device, subsystem_vendor, subsystem;
	uint8_t class_code, subclass, prog_if, revision;
	uint16_t status;   /* the status register's fixed bits (DEVSEL timing, fast back-to-back) */
	uint16_t cmd_fixed; /* command bits that read 1 whatever is written (a host bridge decodes always) */
	uint16_t cmd_writable; /* command bits it implements; 0: I/O, memory, master, parity, SERR, INTx disable */
	uint8_t int_pin;   /* 1-4: INTA#-INTD#; 0: none */
	uint8_t cap_ptr;   /* the first capability, in the function's own registers; 0: none */
	struct pci_bar_desc bar[PCI_NR_BARS];
	/* Registers 0x40-0xff, an access of `size` bytes at `reg` within one
	 * dword.  Without them those read 0 and writes are dropped. */
	uint32_t (*cfg_read)(void *dev, unsigned reg, unsigned size);
	void (*cfg_write)(void *dev, unsigned reg, unsigned size, uint32_t val);
	void *dev;         /* passed to the ops above and to the BARs' */
};

/* --- the type-0 header (pure) ---------------------------------------------- */

struct pci_cfg {
	const struct pci_function_desc *d;
	uint16_t command;
	uint8_t cache_line, latency, int_line;
	bool multifunction;           /* function 0 of a device that has others */
	uint32_t bar[PCI_NR_BARS];    /* the address bits as written */
};

void pci_cfg_init(struct pci_cfg *c, const struct pci_function_desc *d);
/* The dword at reg & ~3 of the header (0x00-0x3f). */
uint32_t pci_cfg_header_read(const struct pci_cfg *c, unsigned reg);
/* A write of `size` bytes at reg (within one dword) to the header; true
 * if it may have changed where a BAR decodes (a BAR or the command). */
bool pci_cfg_header_write(struct pci_cfg *c, unsigned reg, unsigned size, uint32_t val);
/* Where BAR i decodes now: its base, or PCI_UNMAPPED: none there (or the
 * upper half of a 64-bit one), its space off in the command register, not
 * placed yet (0, or still the sizing pattern), or past its space's end. */
uint64_t pci_cfg_bar_addr(const struct pci_cfg *c, unsigned i);

/* --- a VM's bus 0 ------------------------------------------------------------ */

struct pci_function {
	struct pci_cfg cfg;
	uint64_t mapped[PCI_NR_BARS]; /* where each BAR's range is registered, or PCI_UNMAPPED */
	bool intx;                    /* its interrupt pin's level, as the function drives it */
};

struct pci_bus {
	struct pci_function *fn[256]; /* by devfn */
	/* Where INTx goes: the board's router (the PIIX's PIRQ registers),
	 * told each PIRQ line's level (A-D: 0-3) when it changes. */
	void (*route)(void *ctx, unsigned pirq, bool level);
	void *route_ctx;
	uint8_t pirq_level;           /* the lines' levels as last told, bit per line */
};

/* Adds a function at devfn of bus 0 (in the VM's arena; the descriptor
 * must live as long).  0, or -1 if the slot is taken or the arena full. */
int vm_pci_add(struct vm *vm, uint8_t devfn, const struct pci_function_desc *d);
/* A function drives its interrupt pin (INTx, level-triggered, shared):
 * unless its command register disables INTx, the pin reaches PIRQ line
 * (device + pin - 1) mod 4, as a PC's slots are wired, and the line is
 * the OR of every function on it. */
void vm_pci_set_intx(struct vm *vm, uint8_t devfn, bool level);
/* The board's PCI interrupt router (one per bus). */
/* Whether the VM has PCI at all (a host bridge at 00:00.0). */
bool vm_pci_present(const struct vm *vm);
void vm_pci_set_router(struct vm *vm, void (*route)(void *ctx, unsigned pirq, bool level), void *ctx);
/* A configuration access from the host bridge: bus, devfn, register and
 * size (within one dword).  Where no function answers, reads are all-ones
 * and writes go nowhere. */
uint32_t vm_pci_config_read(struct vm *vm, uint8_t bus, uint8_t devfn, unsigned reg, unsigned size);
void vm_pci_config_write(struct vm *vm, uint8_t bus, uint8_t devfn, unsigned reg, unsigned size, uint32_t val);

#endif
