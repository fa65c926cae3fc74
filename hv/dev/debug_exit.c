/* SPDX-License-Identifier: MIT */
/*
 * The test-exit port at 0xf4 (4 bytes), like QEMU's isa-debug-exit: any
 * write ends the VM, and Petrel prints "vm <name> exit code <value>".  Test
 * guests end through it (QEMU itself would exit with (value << 1) | 1).
 */
#include <petrel/board.h>
#include <petrel/dev/debug_exit.h>

static void exit_write(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	(void)v;
	(void)off, (void)size;
	vm_test_exit(dev, (uint32_t)val);
}

static int debug_exit_create(struct vm *vm, const struct board_device *bd)
{
	return vm_register_pio(vm, bd->port, 4, NULL, exit_write, vm, "debug-exit");
}

const struct device_type debug_exit_device = { .name = "isa-debug-exit", .create = debug_exit_create };
