/* SPDX-License-Identifier: MIT */
/*
 * The PC's two 8259A interrupt controllers (Intel 8259A data sheet): the
 * master at 0x20-0x21 takes ISA IRQ 0-7, the slave at 0xa0-0xa1 takes IRQ
 * 8-15 and drives the master's IR2, and the PIIX's ELCR at 0x4d0-0x4d1
 * says which lines are level-triggered (one bit per IRQ).
 *
 * What is modelled: ICW1-ICW4 (single or cascade, ICW4 optional, auto-EOI),
 * OCW1 (the mask), OCW2 (non-specific and specific EOI, the rotations and
 * set-priority), OCW3 (IRR/ISR read select, poll, special mask mode), edge
 * and level triggering, fully nested priority with rotation, and the INTA
 * cycle with its spurious IR7.
 *
 * What is not: ICW1's LTIM bit (the PIIX ignores it: the ELCR decides, PIIX
 * data sheet, ICW1 bit 3), 8080/8085 mode (ICW4 bit 0 = 0; the vector is
 * always the 8086 one), buffered mode, and special fully nested mode (ICW4
 * bit 4: accepted, but the master's IR2 in service still blocks the slave's
 * higher-priority requests).  Linux uses none of these.
 *
 * One deliberate difference from the chip: an edge request stays latched in
 * IRR until acknowledged even if its line falls first.  The real 8259A wants
 * IR held high until the first INTA and otherwise answers with IR7; devices
 * here pulse their line (vm_pulse_irq), so latching is what makes a pulse
 * count.
 */
#include <petrel/board.h>
#include <petrel/dev/pic8259.h>
#include <petrel/lib.h>

#define ICW1_IC4 0x01  /* ICW4 follows */
#define ICW1_SNGL 0x02 /* single: no ICW3 */
#define ICW1_SEL 0x10  /* a command-port write with bit 4 set is ICW1 */
#define OCW3_SEL 0x08  /* bit 4 clear, bit 3 set: OCW3; both clear: OCW2 */
#define OCW3_RIS 0x01
#define OCW3_RR 0x02
#define OCW3_POLL 0x04
#define OCW3_SMM 0x20
#define OCW3_ESMM 0x40
#define ICW4_AEOI 0x02
#define CASCADE_IR 2   /* the slave's INT is wired to the master's IR2 */

/* Priority rank of an IR: 0 is the highest.  After a rotation `prio` is the
 * IR with the highest priority; at reset IR0. */
static unsigned rank(const struct pic8259_chip *c, unsigned irq)
{
	return (irq - c->prio) & 7;
}

/* The highest-priority IR set in `mask`, or -1. */
static int highest(const struct pic8259_chip *c, uint8_t mask)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned irq = (c->prio + i) & 7;
		if (mask & (1u << irq))
			return (int)irq;
	}
	return -1;
}

/* The IR this chip asks the CPU (or the master) for: the highest unmasked
 * request that outranks everything in service (fully nested mode).  In
 * special mask mode a masked IR in service no longer blocks the others. */
static int chip_pending(const struct pic8259_chip *c)
{
	int req = highest(c, c->irr & ~c->imr);
	int svc = highest(c, c->special_mask ? c->isr & ~c->imr : c->isr);

	if (req < 0 || (svc >= 0 && rank(c, (unsigned)svc) <= rank(c, (unsigned)req)))
		return -1;
	return req;
}

/* The master's IR2 follows the slave's INT, a level held while the slave
 * has a request to give. */
static void cascade(struct pic8259 *p)
{
	struct pic8259_chip *m = &p->chip[0];

	if (chip_pending(&p->chip[1]) >= 0)
		m->irr |= 1u << CASCADE_IR;
	else
		m->irr &= ~(1u << CASCADE_IR);
}

/* INTA for one chip: the request moves from IRR to ISR (or, in auto-EOI
 * mode, is done at once).  A level request stays in IRR while its line is
 * high; ISR blocks it until the EOI. */
static void chip_ack(struct pic8259_chip *c, unsigned irq)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (!(c->elcr & bit))
		c->irr &= (uint8_t)~bit;
	if (!c->auto_eoi)
		c->isr |= bit;
	else if (c->rotate_on_aeoi)
		c->prio = (irq + 1) & 7;
}

int pic_ack(struct pic8259 *p)
{
	struct pic8259_chip *m = &p->chip[0], *s = &p->chip[1];
	int irq = chip_pending(m), sirq, vec;

	/* The request went away before INTA: the data sheet's default IR7,
	 * with no ISR bit set. */
	if (irq < 0)
		return m->base | 7;
	chip_ack(m, (unsigned)irq);
	vec = m->base | irq;
	if (irq == CASCADE_IR && !m->single) {
		sirq = chip_pending(s);
		if (sirq < 0) {
			/* The slave's IR7, master ISR2 set (data sheet).  Unreached
			 * while IR2 follows the slave's INT: a vanished slave request
			 * clears IR2 too and gives the master's IR7 above. */
			vec = s->base | 7;
		} else {
			chip_ack(s, (unsigned)sirq);
			vec = s->base | sirq;
		}
	}
	cascade(p);
	return vec;
}

bool pic_has_output(const struct pic8259 *p)
{
	return chip_pending(&p->chip[0]) >= 0;
}

/* Edge: a rising edge latches IRR.  Level: IRR is the line. */
void pic_set_irq(struct pic8259 *p, unsigned irq, bool level)
{
	struct pic8259_chip *c;
	uint8_t bit;

	if (irq >= 16 || irq == CASCADE_IR) /* IR2 is the cascade; ISA IRQ 2 lands on 9 */
		return;
	c = &p->chip[irq >> 3];
	bit = (uint8_t)(1u << (irq & 7));
	if (c->elcr & bit)
		c->irr = level ? c->irr | bit : c->irr & (uint8_t)~bit;
	else if (level && !(c->lines & bit))
		c->irr |= bit;
	c->lines = level ? c->lines | bit : c->lines & (uint8_t)~bit;
	cascade(p);
}

/* ICW1 (data sheet, "Initialization command words"): the edge-sense logic
 * is reset (an edge request needs a new rising edge), IMR is cleared, IR7
 * is the lowest priority, special mask mode is off, reads select IRR, and
 * without IC4 every ICW4 function is zero. */
static void icw1(struct pic8259_chip *c, uint8_t val)
{
	c->irr &= c->elcr & c->lines;
	c->isr = 0;
	c->imr = 0;
	c->prio = 0;
	c->single = val & ICW1_SNGL;
	c->need_icw4 = val & ICW1_IC4;
	c->auto_eoi = c->rotate_on_aeoi = false;
	c->read_isr = c->poll = c->special_mask = false;
	c->init_step = 2;
}

/* ICW2, ICW3 (only in cascade mode), ICW4 (only if ICW1 asked), then the
 * data port is OCW1, the mask. */
static void data_write(struct pic8259_chip *c, uint8_t val)
{
	switch (c->init_step) {
	case 2:
		c->base = val & 0xf8;
		c->init_step = !c->single ? 3 : c->need_icw4 ? 4 : 0;
		break;
	case 3:
		c->icw3 = val;
		c->init_step = c->need_icw4 ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = val & ICW4_AEOI;
		c->init_step = 0;
		break;
	default:
		c->imr = val;
		break;
	}
}

static void eoi(struct pic8259_chip *c, int irq, bool rotate)
{
	if (irq < 0)
		return;
	c->isr &= (uint8_t)~(1u << irq);
	if (rotate)
		c->prio = (unsigned)(irq + 1) & 7; /* the IR just served becomes the lowest */
}

/* OCW2: bits 7:5 are R, SL, EOI; bits 2:0 the level for the SL forms. */
static void ocw2(struct pic8259_chip *c, uint8_t val)
{
	int level = val & 7;

	switch (val >> 5) {
	case 0: c->rotate_on_aeoi = false; break;            /* clear rotate in auto-EOI */
	case 1: eoi(c, highest(c, c->isr), false); break;    /* non-specific EOI */
	case 3: eoi(c, level, false); break;                 /* specific EOI */
	case 4: c->rotate_on_aeoi = true; break;             /* set rotate in auto-EOI */
	case 5: eoi(c, highest(c, c->isr), true); break;     /* rotate on non-specific EOI */
	case 6: c->prio = (unsigned)(level + 1) & 7; break;  /* set priority: level is lowest */
	case 7: eoi(c, level, true); break;                  /* rotate on specific EOI */
	default: break;                                      /* 010: no operation */
	}
}

static void ocw3(struct pic8259_chip *c, uint8_t val)
{
	if (val & OCW3_POLL)
		c->poll = true;
	if (val & OCW3_RR)
		c->read_isr = val & OCW3_RIS;
	if (val & OCW3_ESMM)
		c->special_mask = val & OCW3_SMM;
}

static void cmd_write(struct pic8259_chip *c, uint8_t val)
{
	if (val & ICW1_SEL)
		icw1(c, val);
	else if (val & OCW3_SEL)
		ocw3(c, val);
	else
		ocw2(c, val);
}

/* After a poll command the next read of the command port is an INTA in
 * disguise: 0x80 | IR if a request was pending (and it is now in
 * service), 0 otherwise. */
static uint8_t cmd_read(struct pic8259_chip *c)
{
	int irq;

	if (!c->poll)
		return c->read_isr ? c->isr : c->irr;
	c->poll = false;
	irq = chip_pending(c);
	if (irq < 0)
		return 0;
	chip_ack(c, (unsigned)irq);
	return (uint8_t)(0x80 | irq);
}

/* The PIIX forces IRQ 0, 1, 2, 8 and 13 to edge: their ELCR bits read 0. */
static void elcr_write(struct pic8259 *p, unsigned i, uint8_t val)
{
	static const uint8_t writable[2] = { 0xf8, 0xde };
	struct pic8259_chip *c = &p->chip[i];

	c->elcr = val & writable[i];
	c->irr = (uint8_t)((c->irr & ~c->elcr) | (c->lines & c->elcr));
}

uint8_t pic_read(struct pic8259 *p, uint16_t port)
{
	uint8_t val;

	switch (port) {
	case 0x20: case 0xa0:
		val = cmd_read(&p->chip[port >> 7]);
		cascade(p);
		return val;
	case 0x21: case 0xa1:
		return p->chip[port >> 7].imr;
	case 0x4d0: case 0x4d1:
		return p->chip[port & 1].elcr;
	default:
		return 0xff;
	}
}

void pic_write(struct pic8259 *p, uint16_t port, uint8_t val)
{
	switch (port) {
	case 0x20: case 0xa0: cmd_write(&p->chip[port >> 7], val); break;
	case 0x21: case 0xa1: data_write(&p->chip[port >> 7], val); break;
	case 0x4d0: case 0x4d1: elcr_write(p, port & 1, val); break;
	default: return;
	}
	cascade(p);
}

/* No BIOS runs before the guest, so start as a PC BIOS leaves the pair
 * (vectors 0x08 and 0x70, cascade on IR2, 8086 mode, all edge) but with
 * every line masked: nothing in the guest handles an IRQ yet. */
void pic_reset(struct pic8259 *p)
{
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < 2; i++) {
		p->chip[i].imr = 0xff;
		p->chip[i].need_icw4 = true;
	}
	p->chip[0].base = 0x08;
	p->chip[0].icw3 = 1u << CASCADE_IR;
	p->chip[1].base = 0x70;
	p->chip[1].icw3 = CASCADE_IR;
}

/* --- the device ---------------------------------------------------------- */

/* The pair at 0x20 (the board's port), 0xa0 and the ELCR at 0x4d0: a PC's
 * fixed places.  It drives the VM's ExtINT and takes the PIC pins of the
 * board's GSI table. */
static uint64_t io_read(struct pic8259 *p, uint16_t port, uint8_t size)
{
	uint64_t val = 0;

	/* A wider access touches the following ports, as the ISA bus splits it. */
	for (uint8_t i = 0; i < size; i++)
		val |= (uint64_t)pic_read(p, (uint16_t)(port + i)) << (8 * i);
	return val;
}

static void io_write(struct pic8259 *p, uint16_t port, uint8_t size, uint64_t val)
{
	for (uint8_t i = 0; i < size; i++)
		pic_write(p, (uint16_t)(port + i), (uint8_t)(val >> (8 * i)));
}

#define PORT_OPS(name, base)                                                                  \
	static uint64_t name##_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)      \
	{                                                                                     \
		(void)v;                                                                      \
		return io_read(dev, (uint16_t)((base) + off), size);                          \
	}                                                                                     \
	static void name##_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val) \
	{                                                                                     \
		(void)v;                                                                      \
		io_write(dev, (uint16_t)((base) + off), size, val);                           \
	}
PORT_OPS(master, 0x20)
PORT_OPS(slave, 0xa0)
PORT_OPS(elcr, 0x4d0)

static void set_pin(void *chip, unsigned pin, bool level)
{
	pic_set_irq(chip, pin, level);
}

static bool extint_pending(void *chip)
{
	return pic_has_output(chip);
}

static int extint_ack(void *chip)
{
	return pic_ack(chip);
}

static int pic_create(struct vm *vm, const struct board_device *bd)
{
	struct pic8259 *p = vm_alloc(vm, sizeof(*p));

	if (!p)
		return -1;
	/* As a PC's BIOS hands the pair over (Petrel stands in for the
	 * firmware): initialized at vectors 0x08 and 0x70, the master masked
	 * but for the cascade, the slave's lines open.  A real-mode guest
	 * takes IRQs 8-15 through its IVT then, as kvm-unit-tests' realmode
	 * does with IRQ 11.  Nothing interrupts until a device is set up. */
	pic_reset(p);
	p->chip[0].imr = (uint8_t)~(1u << CASCADE_IR);
	p->chip[1].imr = 0;
	if (vm_register_pio(vm, bd->port, 2, master_rd, master_wr, p, "pic-master") ||
	    vm_register_pio(vm, 0xa0, 2, slave_rd, slave_wr, p, "pic-slave") ||
	    vm_register_pio(vm, 0x4d0, 2, elcr_rd, elcr_wr, p, "elcr"))
		return -1;
	vm_register_irq_chip(vm, IRQCHIP_PIC, set_pin, p);
	vm_set_extint(vm, extint_pending, extint_ack, p);
	return 0;
}

const struct device_type pic8259_device = { .name = "8259 PIC pair", .create = pic_create };
