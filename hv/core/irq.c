/* SPDX-License-Identifier: MIT */
/*
 * The wiring of a VM's interrupts (device.h): a GSI goes where the board's
 * table says, to the 8259 pins and the IOAPIC pins (on a PC, an ISA IRQ to
 * both, as a PIIX chipset does: the guest's OS decides which it listens
 * to); interrupt messages go to the local APICs over the VM's APIC bus;
 * EOIs of level-triggered vectors go back to the IOAPIC; the 8259's INT
 * line is ExtINT.  A vCPU takes its interrupts from the sources registered
 * on it.  The core names no device here: each registers itself.
 */
#include <petrel/board.h>
#include <petrel/log.h>
#include <petrel/vm.h>

void vm_register_irq_chip(struct vm *vm, enum irq_chip_id id, void (*set_pin)(void *, unsigned, bool), void *chip)
{
	vm->irq.chip[id].set_pin = set_pin;
	vm->irq.chip[id].chip = chip;
}

static void set_chip_pin(struct vm *vm, enum irq_chip_id id, int pin, bool level)
{
	if (pin >= 0 && vm->irq.chip[id].set_pin)
		vm->irq.chip[id].set_pin(vm->irq.chip[id].chip, (unsigned)pin, level);
}

/* `level` says whether the source asserts its line; an active-low line
 * (a PCI PIRQ) is electrically low when asserted, and the IOAPIC, whose
 * polarity bit the guest sets from its tables, sees the wire. */
static void drive_gsi(struct vm *vm, unsigned gsi, bool level)
{
	const struct gsi_route *r = &vm->board->gsi[gsi];

	set_chip_pin(vm, IRQCHIP_PIC, r->pic, level);
	set_chip_pin(vm, IRQCHIP_IOAPIC, r->ioapic, level != r->low);
}

void vm_set_gsi(struct vm *vm, unsigned gsi, bool level)
{
	if (gsi >= NR_GSI)
		return;
	/* kept for when a line that is taken over is given back */
	vm->irq.src_level = level ? vm->irq.src_level | (1u << gsi) : vm->irq.src_level & ~(1u << gsi);
	if (!(vm->irq.taken & (1u << gsi)))
		drive_gsi(vm, gsi, level);
}

void vm_take_gsi(struct vm *vm, unsigned gsi, bool take)
{
	uint32_t bit = 1u << gsi;

	if (gsi >= NR_GSI || !!(vm->irq.taken & bit) == take)
		return;
	/* The line starts low under its new driver; given back, it is at
	 * the level its source last drove (a pulse sent meanwhile is lost,
	 * as it would be on a disconnected wire). */
	if (take) {
		vm->irq.taken |= bit;
		drive_gsi(vm, gsi, false);
	} else {
		vm->irq.taken &= ~bit;
		drive_gsi(vm, gsi, vm->irq.src_level & bit);
	}
}

void vm_drive_taken_gsi(struct vm *vm, unsigned gsi, bool level)
{
	if (gsi < NR_GSI && vm->irq.taken & (1u << gsi))
		drive_gsi(vm, gsi, level);
}

void vm_pulse_gsi(struct vm *vm, unsigned gsi)
{
	vm_set_gsi(vm, gsi, true);
	vm_set_gsi(vm, gsi, false);
}

void vm_set_apic_bus(struct vm *vm, void (*deliver)(void *, const struct apic_msg *), void *ctx)
{
	vm->irq.deliver = deliver;
	vm->irq.deliver_ctx = ctx;
}

void vm_send_apic_msg(struct vm *vm, const struct apic_msg *m)
{
	if (vm->irq.deliver)
		vm->irq.deliver(vm->irq.deliver_ctx, m);
}

void vm_set_eoi_listener(struct vm *vm, void (*eoi)(void *, uint8_t), void *ctx)
{
	vm->irq.eoi = eoi;
	vm->irq.eoi_ctx = ctx;
}

void vm_eoi(struct vm *vm, uint8_t vector)
{
	if (vm->irq.eoi)
		vm->irq.eoi(vm->irq.eoi_ctx, vector);
}

void vm_set_extint(struct vm *vm, bool (*pending)(void *), int (*ack)(void *), void *ctx)
{
	vm->irq.extint_pending = pending;
	vm->irq.extint_ack = ack;
	vm->irq.extint_ctx = ctx;
}

bool vm_extint_pending(struct vm *vm)
{
	return vm->irq.extint_pending && vm->irq.extint_pending(vm->irq.extint_ctx);
}

int vm_extint_ack(struct vm *vm)
{
	return vm->irq.extint_ack ? vm->irq.extint_ack(vm->irq.extint_ctx) : -1;
}

/* --- the vCPU's side ------------------------------------------------------- */

int vcpu_add_irq_source(struct vcpu *v, bool (*pending)(void *), int (*take)(void *), void *ctx)
{
	for (unsigned i = 0; i < VCPU_IRQ_SOURCES; i++)
		if (!v->irq[i].pending) {
			v->irq[i] = (struct vcpu_irq_source){ pending, take, ctx };
			return 0;
		}
	pr_err("vm %s vcpu %u: more than %u interrupt sources\n", v->vm->name, v->id, VCPU_IRQ_SOURCES);
	return -1;
}

void vcpu_set_apic(struct vcpu *v, const struct vcpu_apic_ops *ops, void *apic)
{
	v->apic_ops = ops;
	v->apic = apic;
}

/* Latched until the run loop can inject it (run.c): one NMI while
 * another is in service waits for its IRET, as on the CPU. */
void vcpu_nmi(struct vcpu *v)
{
	v->nmi_pending = true;
	v->halted = false;
	vcpu_kick(v);
}
