/* SPDX-License-Identifier: MIT */
/*
 * The test-exit port at 0xf4 (4 bytes), like QEMU's isa-debug-exit: any
 * write ends the VM, and Petrel prints "vm <name> exit code <value>".  Test
 * guests end through it (QEMU itself would exit with (value << 1) | 1).
 */
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>


static void exit_write(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct vm *vm = v->vm;

	uart_dev_flush(vm);
	vm->exit_code = (int)(uint32_t)val;
	pr_info("vm %s exit code %u\n", vm->name, (uint32_t)val);
	vm_stop(vm, "test-exit port written");
}

int debug_exit_init(struct vm *vm)
{
	return vm_register_pio(vm, 0xf4, 4, NULL, exit_write, vm, "debug-exit");
}
