/* SPDX-License-Identifier: MIT */
/*
 * The firmware debug console, one port (0x402 on the pc board), as QEMU's
 * isa-debugcon: a byte written is a byte of the VM's debug log, which
 * Petrel's console shows with the VM's name a whole line at a time (apart
 * from the VM's serial console, which SeaBIOS also writes to); a
 * read returns 0xe9, which is how SeaBIOS and OVMF built for QEMU find
 * it before they print their banner and their debug lines there.
 */
#include <petrel/board.h>
#include <petrel/dev/debugcon.h>

#define DEBUGCON_READBACK 0xe9

static void debugcon_write(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	(void)v, (void)off, (void)size;
	vm_debug_out(dev, (uint8_t)val);
}

static uint64_t debugcon_read(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	(void)dev, (void)v, (void)off, (void)size;
	return DEBUGCON_READBACK;
}

static int debugcon_create(struct vm *vm, const struct board_device *bd)
{
	return vm_register_pio(vm, bd->port, 1, debugcon_read, debugcon_write, vm, "debugcon");
}

const struct device_type debugcon_device = { .name = "isa-debugcon", .create = debugcon_create };
