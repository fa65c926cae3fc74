/* SPDX-License-Identifier: MIT */
/*
 * PCI bus 0 of a VM: the type-0 header of every function, and BARs that
 * move their ranges with them; see petrel/pci.h.
 *
 * The header (PCI 3.0 §6.1, §6.2):
 *   0x00 vendor, device            read-only
 *   0x04 command, status           command: IO, memory, master, parity,
 *                                  SERR, INTx disable writable (and the
 *                                  function's fixed bits set); status fixed
 *   0x08 revision, class           read-only
 *   0x0c cache line, latency       writable; header type (bit 7: more
 *                                  functions in the device), BIST 0
 *   0x10-0x24 BARs                 the address bits above the size write;
 *                                  the kind bits read back (I/O: bit 0;
 *                                  memory: 64-bit in bits 2:1, prefetch 3)
 *   0x2c subsystem vendor, ID      read-only
 *   0x34 capabilities pointer      read-only
 *   0x3c interrupt line, pin       line writable (the firmware's note to
 *                                  the OS); pin read-only
 *   everything else in the header reads 0 (no expansion ROM, no CardBus).
 */
#include <petrel/board.h>
#include <petrel/device.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/pci.h>
#include <petrel/vm.h>

#define CMD_WRITABLE (PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_PARITY | PCI_CMD_SERR | \
		      PCI_CMD_INTX_DISABLE)
#define BAR_IO_FLAG 0x1u
#define BAR_MEM64_FLAG 0x4u
#define BAR_PREFETCH_FLAG 0x8u

void pci_cfg_init(struct pci_cfg *c, const struct pci_function_desc *d)
{
	memset(c, 0, sizeof(*c));
	c->d = d;
	c->command = d->cmd_fixed;
}

/* BAR i's kind: a 64-bit BAR's upper half is BAR i+1, of kind NONE in
 * the descriptor; `upper` says so. */
static const struct pci_bar_desc *bar_of(const struct pci_cfg *c, unsigned i, bool *upper)
{
	*upper = i > 0 && c->d->bar[i - 1].kind == PCI_BAR_MEM64;
	return &c->d->bar[*upper ? i - 1 : i];
}

/* The bits of BAR register i that hold the address (the rest read as the
 * kind bits, or 0). */
static uint32_t bar_mask(const struct pci_cfg *c, unsigned i)
{
	bool upper;
	const struct pci_bar_desc *b = bar_of(c, i, &upper);

	if (upper)
		return 0xffffffffu; /* sizes below 4 GiB: every upper bit is address */
	switch (b->kind) {
	case PCI_BAR_IO: return ~(b->size - 1) & ~0x3u; /* 32 bits, decoded below 64 Ki */
	case PCI_BAR_MEM32:
	case PCI_BAR_MEM64: return ~(b->size - 1) & ~0xfu;
	default: return 0;
	}
}

static uint32_t bar_flags(const struct pci_cfg *c, unsigned i)
{
	bool upper;
	const struct pci_bar_desc *b = bar_of(c, i, &upper);

	if (upper)
		return 0;
	switch (b->kind) {
	case PCI_BAR_IO: return BAR_IO_FLAG;
	case PCI_BAR_MEM32: return b->prefetch ? BAR_PREFETCH_FLAG : 0;
	case PCI_BAR_MEM64: return BAR_MEM64_FLAG | (b->prefetch ? BAR_PREFETCH_FLAG : 0);
	default: return 0;
	}
}

uint32_t pci_cfg_header_read(const struct pci_cfg *c, unsigned reg)
{
	const struct pci_function_desc *d = c->d;
	uint16_t status = d->status | (d->cap_ptr ? PCI_STATUS_CAP_LIST : 0);

	switch (reg & 0x3c) {
	case 0x00: return (uint32_t)d->device << 16 | d->vendor;
	case 0x04: return (uint32_t)status << 16 | c->command;
	case 0x08:
		return (uint32_t)d->class_code << 24 | (uint32_t)d->subclass << 16 | (uint32_t)d->prog_if << 8 |
		       d->revision;
	case 0x0c: return (c->multifunction ? 0x80u : 0) << 16 | (uint32_t)c->latency << 8 | c->cache_line;
	case 0x10: case 0x14: case 0x18: case 0x1c: case 0x20: case 0x24: {
		unsigned i = ((reg & 0x3c) - 0x10) / 4;
		return (c->bar[i] & bar_mask(c, i)) | bar_flags(c, i);
	}
	case 0x2c: return (uint32_t)d->subsystem << 16 | d->subsystem_vendor;
	case 0x34: return d->cap_ptr;
	case 0x3c: return (uint32_t)d->int_pin << 8 | c->int_line;
	default: return 0;
	}
}

bool pci_cfg_header_write(struct pci_cfg *c, unsigned reg, unsigned size, uint32_t val)
{
	unsigned shift = 8 * (reg & 3), dw = reg & 0x3c;
	uint32_t lanes = (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1) << shift;
	uint32_t v = val << shift, old = pci_cfg_header_read(c, dw), merged = (old & ~lanes) | (v & lanes);

	switch (dw) {
	case 0x04: {
		uint16_t writable = c->d->cmd_writable ? c->d->cmd_writable : CMD_WRITABLE;
		uint16_t cmd = (uint16_t)((merged & writable) | c->d->cmd_fixed);
		bool changed = (cmd ^ c->command) & (PCI_CMD_IO | PCI_CMD_MEMORY);
		c->command = cmd; /* status: no bit of it is write-1-to-clear here */
		return changed;
	}
	case 0x0c:
		c->cache_line = (uint8_t)merged;
		c->latency = (uint8_t)(merged >> 8);
		return false;
	case 0x10: case 0x14: case 0x18: case 0x1c: case 0x20: case 0x24: {
		unsigned i = (dw - 0x10) / 4;
		uint32_t was = c->bar[i];
		c->bar[i] = merged & bar_mask(c, i);
		return c->bar[i] != was;
	}
	case 0x3c:
		c->int_line = (uint8_t)merged;
		return false;
	default:
		return false;
	}
}

uint64_t pci_cfg_bar_addr(const struct pci_cfg *c, unsigned i)
{
	const struct pci_bar_desc *b;
	bool upper;
	uint64_t addr, mask;

	if (i >= PCI_NR_BARS)
		return PCI_UNMAPPED;
	b = bar_of(c, i, &upper);
	if (upper || b->kind == PCI_BAR_NONE)
		return PCI_UNMAPPED;
	mask = bar_mask(c, i);
	addr = c->bar[i] & mask;
	if (b->kind == PCI_BAR_IO) {
		/* the sizing pattern left in place, or a range past port 0xffff */
		if (!(c->command & PCI_CMD_IO) || !addr || addr == mask || addr + b->size > 0x10000)
			return PCI_UNMAPPED;
		return addr;
	}
	if (!(c->command & PCI_CMD_MEMORY))
		return PCI_UNMAPPED;
	if (b->kind == PCI_BAR_MEM64) {
		if (i + 1 >= PCI_NR_BARS)
			return PCI_UNMAPPED;
		addr |= (uint64_t)c->bar[i + 1] << 32;
		mask |= 0xffffffff00000000ull;
	}
	if (!addr || addr == mask || addr + b->size < addr || addr >= (1ull << 52))
		return PCI_UNMAPPED;
	return addr;
}

/* --- the bus ---------------------------------------------------------------- */

int vm_pci_add(struct vm *vm, uint8_t devfn, const struct pci_function_desc *d)
{
	struct pci_function *f;
	struct pci_function *f0;

	if (vm->pci.fn[devfn] || !(f = vm_alloc(vm, sizeof(*f))))
		return -1;
	pci_cfg_init(&f->cfg, d);
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		f->mapped[i] = PCI_UNMAPPED;
	vm->pci.fn[devfn] = f;
	/* Function 0 says whether there are others: without the bit, an OS
	 * looks no further than function 0. */
	f0 = vm->pci.fn[devfn & ~7u];
	if (f0)
		for (unsigned fn = 1; fn < 8; fn++)
			if (vm->pci.fn[(devfn & ~7u) | fn])
				f0->cfg.multifunction = true;
	return 0;
}

static void unmap_bar(struct vm *vm, struct pci_function *f, unsigned i)
{
	if (f->mapped[i] == PCI_UNMAPPED)
		return;
	if (f->cfg.d->bar[i].kind == PCI_BAR_IO)
		vm_unregister_pio(vm, (uint16_t)f->mapped[i]);
	else
		vm_unregister_mmio(vm, f->mapped[i]);
	f->mapped[i] = PCI_UNMAPPED;
}

/* Each BAR's range goes where the header now says: out of the way first
 * (two BARs may swap places), then in.  A range that would overlap
 * another device's is left out, with an error line, as the firmware
 * placed it badly: the function does not answer there. */
static void place_bars(struct vm *vm, struct pci_function *f)
{
	uint64_t want[PCI_NR_BARS];

	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		want[i] = pci_cfg_bar_addr(&f->cfg, i);
		if (want[i] != f->mapped[i])
			unmap_bar(vm, f, i);
	}
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar_desc *b = &f->cfg.d->bar[i];
		int rc;
		if (want[i] == PCI_UNMAPPED || want[i] == f->mapped[i])
			continue;
		if (b->kind == PCI_BAR_IO)
			rc = vm_register_pio(vm, (uint16_t)want[i], (uint16_t)b->size, b->read, b->write, f->cfg.d->dev,
					     f->cfg.d->name);
		else
			rc = vm_register_mmio(vm, want[i], b->size, b->read, b->write, f->cfg.d->dev, f->cfg.d->name);
		if (!rc)
			f->mapped[i] = want[i];
	}
}

/* Each PIRQ line is the OR of the pins wired to it (PCI 3.0 §2.2.6).  It
 * drives its own IOAPIC pin (the board's pirq_gsi + n, what the DSDT's
 * _PRT names) and whatever ISA IRQ the router sends it to. */
static void update_pirqs(struct vm *vm)
{
	uint8_t level = 0;

	for (unsigned devfn = 0; devfn < 256; devfn++) {
		struct pci_function *f = vm->pci.fn[devfn];
		if (f && f->intx && f->cfg.d->int_pin && !(f->cfg.command & PCI_CMD_INTX_DISABLE))
			level |= (uint8_t)(1u << (((devfn >> 3) + f->cfg.d->int_pin - 1) % 4));
	}
	for (unsigned p = 0; p < 4; p++) {
		if (!(((level ^ vm->pci.pirq_level) >> p) & 1))
			continue;
		vm_set_gsi(vm, vm->board->pirq_gsi + p, (level >> p) & 1);
		if (vm->pci.route)
			vm->pci.route(vm->pci.route_ctx, p, (level >> p) & 1);
	}
	vm->pci.pirq_level = level;
}

void vm_pci_set_intx(struct vm *vm, uint8_t devfn, bool level)
{
	struct pci_function *f = vm->pci.fn[devfn];

	if (!f || f->intx == level)
		return;
	f->intx = level;
	update_pirqs(vm);
}

void vm_pci_set_router(struct vm *vm, void (*route)(void *ctx, unsigned pirq, bool level), void *ctx)
{
	vm->pci.route = route;
	vm->pci.route_ctx = ctx;
}

bool vm_pci_present(const struct vm *vm)
{
	return vm->pci.fn[0] != NULL;
}

static struct pci_function *lookup(struct vm *vm, uint8_t bus, uint8_t devfn)
{
	return bus == 0 ? vm->pci.fn[devfn] : NULL;
}

uint32_t vm_pci_config_read(struct vm *vm, uint8_t bus, uint8_t devfn, unsigned reg, unsigned size)
{
	struct pci_function *f = lookup(vm, bus, devfn);
	uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	if (!f)
		return ones;
	if (reg >= 0x40)
		return f->cfg.d->cfg_read ? f->cfg.d->cfg_read(f->cfg.d->dev, reg, size) & ones : 0;
	return (pci_cfg_header_read(&f->cfg, reg) >> (8 * (reg & 3))) & ones;
}

void vm_pci_config_write(struct vm *vm, uint8_t bus, uint8_t devfn, unsigned reg, unsigned size, uint32_t val)
{
	struct pci_function *f = lookup(vm, bus, devfn);

	if (!f)
		return;
	if (reg >= 0x40) {
		if (f->cfg.d->cfg_write)
			f->cfg.d->cfg_write(f->cfg.d->dev, reg, size, val);
		return;
	}
	if (pci_cfg_header_write(&f->cfg, reg, size, val))
		place_bars(vm, f);
	if (reg < 8 && f->intx) /* the command's INTx disable may have changed */
		update_pirqs(vm);
}
