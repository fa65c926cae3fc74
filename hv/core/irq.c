/* SPDX-License-Identifier: MIT */
/*
 * Interrupt lines of the emulated PC: an ISA IRQ goes to both the 8259 pair
 * and the IOAPIC, as on a PIIX chipset; the guest's OS decides which one
 * it listens to (Linux: the IOAPIC, once it has read the MADT).  IRQ 0 is
 * wired to IOAPIC pin 2, which the MADT's interrupt source override tells
 * the guest (guest-loader/acpi_build.c).
 */
#include <petrel/apic.h>
#include <petrel/dev.h>
#include <petrel/vm.h>

void vm_set_irq(struct vm *vm, unsigned irq, bool level)
{
	if (irq >= 16)
		return;
	if (vm->has_pic)
		pic_set_irq(vm_pic(vm), irq, level);
	if (vm->ioapic)
		ioapic_set_pin(vm->ioapic, irq == 0 ? 2 : irq, level);
}

void vm_pulse_irq(struct vm *vm, unsigned irq)
{
	vm_set_irq(vm, irq, true);
	vm_set_irq(vm, irq, false);
}
