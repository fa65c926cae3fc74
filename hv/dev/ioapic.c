/* SPDX-License-Identifier: MIT */
/*
 * The emulated IOAPIC (Intel 82093AA data sheet; version 0x20 adds the EOI
 * register): 24 pins at 0xfec00000, IOREGSEL at +0x00, IOWIN at +0x10, EOI
 * at +0x40.  Each pin's redirection entry says vector, delivery mode,
 * destination, polarity, trigger and mask.  Edge pins send one message per
 * rising edge; level pins send while asserted and then wait for the EOI
 * (Remote IRR) before sending again.
 */
#include <petrel/board.h>
#include <petrel/dev/apic.h>
#include <petrel/lib.h>
#include <petrel/log.h>

#define RTE_MASKED (1ull << 16)
#define RTE_LEVEL (1ull << 15)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_ACTIVE_LOW (1ull << 13)
#define RTE_LOGICAL (1ull << 11)

struct vioapic {
	struct vm *vm;
	uint32_t id, sel;
	uint64_t rte[IOAPIC_PINS];
	uint32_t level; /* the pins' input lines, as the devices drive them */
};


static bool asserted(const struct vioapic *io, unsigned pin)
{
	bool line = (io->level >> pin) & 1;
	return (io->rte[pin] & RTE_ACTIVE_LOW) ? !line : line;
}

static void send(struct vioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];
	uint32_t dest = (uint32_t)(e >> 56);
	bool level = e & RTE_LEVEL;

	if (e & RTE_MASKED)
		return;
	if (level) {
		if (e & RTE_REMOTE_IRR)
			return; /* the last one is not EOI'd yet */
		io->rte[pin] |= RTE_REMOTE_IRR;
	}
	vm_send_apic_msg(io->vm, &(struct apic_msg){ .dest = dest, .logical = e & RTE_LOGICAL,
						     .vector = (uint8_t)e, .mode = (uint8_t)((e >> 8) & 7),
						     .level = level });
}

static void set_pin(void *chip, unsigned pin, bool line)
{
	struct vioapic *io = chip;
	bool was;

	if (pin >= IOAPIC_PINS)
		return;
	was = asserted(io, pin);
	io->level = (io->level & ~(1u << pin)) | ((uint32_t)line << pin);
	if (asserted(io, pin) && (!was || (io->rte[pin] & RTE_LEVEL)))
		send(io, pin);
}

static void eoi(void *chip, uint8_t vector)
{
	struct vioapic *io = chip;

	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		if ((uint8_t)io->rte[pin] != vector || !(io->rte[pin] & RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		if ((io->rte[pin] & RTE_LEVEL) && asserted(io, pin))
			send(io, pin); /* still asserted: the device wants more service */
	}
}

static uint32_t read_window(struct vioapic *io)
{
	unsigned pin = (io->sel - 0x10) / 2;

	switch (io->sel) {
	case 0x00: return io->id << 24;
	case 0x01: return ((IOAPIC_PINS - 1) << 16) | 0x20; /* max entry, version 0x20 */
	case 0x02: return io->id << 24;                      /* arbitration ID */
	default:
		if (io->sel >= 0x10 && pin < IOAPIC_PINS)
			return (uint32_t)(io->rte[pin] >> ((io->sel & 1) * 32));
		return 0;
	}
}

static void write_window(struct vioapic *io, uint32_t val)
{
	unsigned pin = (io->sel - 0x10) / 2;
	uint64_t ro = RTE_REMOTE_IRR | (1ull << 12); /* Remote IRR and delivery status */
	bool was_masked;

	if (io->sel == 0x00) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (io->sel < 0x10 || pin >= IOAPIC_PINS)
		return;
	was_masked = io->rte[pin] & RTE_MASKED;
	if (io->sel & 1)
		io->rte[pin] = (io->rte[pin] & 0xffffffffull) | ((uint64_t)val << 32);
	else
		io->rte[pin] = (io->rte[pin] & (0xffffffff00000000ull | ro)) | (val & ~ro);
	/* Unmasking a level pin that is asserted delivers it now. */
	if (was_masked && !(io->rte[pin] & RTE_MASKED) && (io->rte[pin] & RTE_LEVEL) &&
	    asserted(io, pin))
		send(io, pin);
}

static uint64_t ioapic_read(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct vioapic *io = dev;
	(void)v, (void)size;
	if (off == 0x00)
		return io->sel;
	if (off == 0x10)
		return read_window(io);
	return 0;
}

static void ioapic_write(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct vioapic *io = dev;
	(void)v, (void)size;
	if (off == 0x00)
		io->sel = (uint32_t)val & 0xff;
	else if (off == 0x10)
		write_window(io, (uint32_t)val);
	else if (off == 0x40)
		eoi(io, (uint8_t)val);
}

/* At the board's address; its ID follows the local APICs' (the MADT says
 * the same).  It takes the IOAPIC pins of the board's GSI table. */
static int ioapic_create(struct vm *vm, const struct board_device *bd)
{
	struct vioapic *io = vm_alloc(vm, sizeof(*io));

	if (!io)
		return -1;
	io->vm = vm;
	io->id = vm_nr_vcpus(vm);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		io->rte[pin] = RTE_MASKED;
	vm_register_irq_chip(vm, IRQCHIP_IOAPIC, set_pin, io);
	vm_set_eoi_listener(vm, eoi, io);
	return vm_register_mmio(vm, bd->mmio, 0x1000, ioapic_read, ioapic_write, io, "ioapic");
}

const struct device_type ioapic_device = { .name = "IOAPIC", .create = ioapic_create };
