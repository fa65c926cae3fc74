/* SPDX-License-Identifier: MIT */
/*
 * The PIIX3's PCI-to-ISA bridge, function 00:01.0 (8086:7000, 82371SB
 * data sheet 290550 §2.2), the function firmware and Linux look for to
 * know the south bridge: the ISA devices themselves (PIC, PIT, RTC, the
 * keyboard controller's ports) are their own devices on the board.
 *
 * Its registers from 0x40, as far as firmware touches them:
 *   0x4c IORT, 0x4e XBCS, 0x69 TOM, 0x6a-0x6b MSTAT, 0x70-0x71 MBIRQ,
 *   0x76-0x77 MBDMA, 0x80 APICBASE, 0x82 DLC
 *        kept and read back, from their reset values; they change nothing
 *        here (no ISA bus timing, no X-bus, no motherboard IRQ/DMA pins)
 *   0x60-0x63 PIRQRC[A-D]: which ISA IRQ each PCI interrupt line goes to
 *        (bits 3:0), or none (bit 7); SeaBIOS programs them and says so in
 *        its $PIR table.  A PCI function's INTx (pci.c: the OR of the
 *        pins on each line) drives the IRQ its line is routed to, a
 *        level-triggered one (firmware sets the ELCR to match).
 * Every other register reads 0 and drops writes.
 */
#include <petrel/board.h>
#include <petrel/dev/piix_isa.h>
#include <petrel/lib.h>
#include <petrel/pci.h>

/* Register, reset value, writable bits. */
static const struct { uint8_t reg, reset, mask; } regs[] = {
	{ 0x4c, 0x4d, 0x7f }, { 0x4e, 0x03, 0xff }, { 0x4f, 0x00, 0x03 },
	{ 0x60, 0x80, 0x8f }, { 0x61, 0x80, 0x8f }, { 0x62, 0x80, 0x8f }, { 0x63, 0x80, 0x8f },
	{ 0x69, 0x02, 0xfe }, { 0x6a, 0x00, 0xff }, { 0x6b, 0x00, 0x80 },
	{ 0x70, 0x80, 0xcf }, { 0x71, 0x80, 0xcf }, { 0x76, 0x0c, 0x8f }, { 0x77, 0x0c, 0x8f },
	{ 0x80, 0x00, 0x7f }, { 0x82, 0x00, 0x0f },
};

void piix_isa_reset(struct piix_isa *p)
{
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++)
		p->r[regs[i].reg - PIIX_ISA_FIRST] = regs[i].reset;
}

static int slot(unsigned reg)
{
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++)
		if (regs[i].reg == reg)
			return (int)i;
	return -1;
}

uint32_t piix_isa_cfg_read(const struct piix_isa *p, unsigned reg, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		if (slot(reg + i) >= 0)
			v |= (uint32_t)p->r[reg + i - PIIX_ISA_FIRST] << (8 * i);
	return v;
}

void piix_isa_cfg_write(struct piix_isa *p, unsigned reg, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size; i++) {
		int s = slot(reg + i);
		uint8_t *r = &p->r[reg + i - PIIX_ISA_FIRST];
		if (s >= 0)
			*r = (uint8_t)((*r & ~regs[s].mask) | ((val >> (8 * i)) & regs[s].mask));
	}
}

int piix_isa_pirq(const struct piix_isa *p, unsigned pirq)
{
	uint8_t v = p->r[0x60 + (pirq & 3) - PIIX_ISA_FIRST];
	return v & 0x80 ? -1 : v & 0x0f;
}

/* --- glue ------------------------------------------------------------------ */

struct piix_isa_dev {
	struct vm *vm;
	struct piix_isa isa;
	struct pci_function_desc fn;
	uint8_t pirq_level;  /* the PIRQ lines' levels, bit per line */
	uint16_t irq_level;  /* the ISA IRQs they drive now, bit per IRQ */
};

/* Each ISA IRQ a PIRQ line is routed to follows the OR of the lines
 * routed to it; an IRQ no longer driven is let go. */
static void drive(struct piix_isa_dev *d)
{
	uint16_t level = 0;

	for (unsigned p = 0; p < 4; p++) {
		int irq = piix_isa_pirq(&d->isa, p);
		if (irq >= 0 && ((d->pirq_level >> p) & 1))
			level |= (uint16_t)(1u << irq);
	}
	for (unsigned irq = 0; irq < 16; irq++)
		if ((level ^ d->irq_level) & (1u << irq))
			vm_set_gsi(d->vm, irq, (level >> irq) & 1);
	d->irq_level = level;
}

static void route(void *ctx, unsigned pirq, bool level)
{
	struct piix_isa_dev *d = ctx;

	d->pirq_level = (uint8_t)((d->pirq_level & ~(1u << pirq)) | (level ? 1u << pirq : 0));
	drive(d);
}

static uint32_t fn_rd(void *dev, unsigned reg, unsigned size)
{
	return piix_isa_cfg_read(&((struct piix_isa_dev *)dev)->isa, reg, size);
}

static void fn_wr(void *dev, unsigned reg, unsigned size, uint32_t val)
{
	struct piix_isa_dev *d = dev;

	piix_isa_cfg_write(&d->isa, reg, size, val);
	drive(d); /* a PIRQ routed elsewhere takes its level along */
}

/* QEMU's PIIX3 IDs (revision 0) with QEMU's subsystem; a bridge, so
 * memory and I/O decoding and bus mastering are always on. */
static int piix_isa_create(struct vm *vm, const struct board_device *bd)
{
	struct piix_isa_dev *d = vm_alloc(vm, sizeof(*d));

	if (!d)
		return -1;
	d->vm = vm;
	piix_isa_reset(&d->isa);
	vm_pci_set_router(vm, route, d);
	d->fn = (struct pci_function_desc){
		.name = "piix3-isa", .vendor = 0x8086, .device = 0x7000,
		.subsystem_vendor = PCI_SUBSYS_VENDOR_QEMU, .subsystem = PCI_SUBSYS_QEMU,
		.class_code = 0x06, .subclass = 0x01, .status = 0x0200,
		.cmd_fixed = PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER,
		.cmd_writable = PCI_CMD_PARITY | PCI_CMD_SERR,
		.cfg_read = fn_rd, .cfg_write = fn_wr, .dev = d,
	};
	return vm_pci_add(vm, bd->devfn, &d->fn);
}

const struct device_type piix_isa_device = { .name = "PIIX3 ISA bridge", .create = piix_isa_create };
