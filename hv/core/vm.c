/* SPDX-License-Identifier: MIT */
/*
 * VM lifecycle: create (RAM, backend state, devices), stop (say why, print
 * the statistics), and the register helpers every exit handler uses.
 */
#include <arch/cpu.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/pmm.h>
#include <petrel/vm.h>

struct vm vms[MAX_VMS];
const struct vcpu_ops *vcpu_ops;

static const char *const exit_names[NR_EXIT_KINDS] = {
	[EXIT_NONE] = "interrupt", [EXIT_CPUID] = "cpuid", [EXIT_MSR_READ] = "rdmsr",
	[EXIT_MSR_WRITE] = "wrmsr", [EXIT_IO] = "io", [EXIT_MMIO] = "mmio", [EXIT_HLT] = "hlt",
	[EXIT_SHUTDOWN] = "shutdown", [EXIT_INIT] = "init", [EXIT_UD] = "ud",
	[EXIT_UNKNOWN] = "unknown", [EXIT_ENTRY_FAIL] = "entry-fail",
};

/* Guest RAM: one host-contiguous block, 2 MiB aligned so the nested page
 * tables can use large pages.  Zeroed: a guest never sees old host data. */
struct vm *vm_create(const char *name, uint64_t ram_size)
{
	struct vm *vm = NULL;

	for (uint32_t i = 0; i < MAX_VMS && !vm; i++)
		if (vms[i].state == VM_FREE)
			vm = &vms[i];
	if (!vm) {
		pr_err("vm %s: no free VM slot (at most %u VMs)\n", name, MAX_VMS);
		return NULL;
	}
	memset(vm, 0, sizeof(*vm));
	vm->id = (uint32_t)(vm - vms);
	vm->asid = vm->id + 1; /* ASID 0 is the host's */
	vm->exit_code = -1;
	str_copy(vm->name, name, sizeof(vm->name));
	vm->ram_size = ALIGN_UP(ram_size, MiB(2));
	vm->ram_host = pmm_alloc(&hv_pmm, vm->ram_size / PAGE_SIZE, MiB(2), UINT64_MAX);
	if (!vm->ram_host) {
		pr_err("vm %s: cannot allocate %llu MiB of RAM\n", name,
		       (unsigned long long)(vm->ram_size >> 20));
		return NULL;
	}
	memset((void *)(uintptr_t)vm->ram_host, 0, vm->ram_size);
	if (vcpu_ops->vm_init(vm)) {
		pr_err("vm %s: backend init failed\n", name);
		return NULL;
	}
	vm->nr_vcpus = 1;
	vm->vcpu[0].vm = vm;
	vm->vcpu[0].id = 0;
	if (vcpu_ops->vcpu_init(&vm->vcpu[0])) {
		pr_err("vm %s: vcpu init failed\n", name);
		return NULL;
	}
	vm->state = VM_RUNNING;
	return vm;
}

void vm_print_stats(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		char line[400];
		size_t n = 0;

		for (int k = 0; k < NR_EXIT_KINDS; k++)
			if (v->exits[k])
				n += (size_t)pt_snprintf(line + n, sizeof(line) - n, " %s=%llu", exit_names[k],
							 (unsigned long long)v->exits[k]);
		pr_info("vm %s vcpu %u: %llu exits:%s\n", vm->name, i,
			(unsigned long long)v->exits_total, n ? line : " none");
		pr_info("vm %s vcpu %u: %llu us in the hypervisor\n", vm->name, i,
			(unsigned long long)(v->tsc_in_hv / (tsc_hz / 1000000 ? tsc_hz / 1000000 : 1)));
	}
}

void vm_stop(struct vm *vm, const char *why)
{
	if (vm->state != VM_RUNNING)
		return;
	vm->state = VM_STOPPED;
	pr_info("vm %s stopped: %s\n", vm->name, why);
	vm_print_stats(vm);
}

void vcpu_need(struct vcpu *v, uint32_t groups)
{
	uint32_t missing = groups & ~v->valid;
	if (missing)
		vcpu_ops->get_regs(v, missing);
}

void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	v->event = (struct vcpu_event){ .pending = true, .type = EV_EXCEPTION, .vector = vector,
					.has_error = has_error, .error = error };
}

/* A device claims ports: they go on the VM's bus and are intercepted
 * (every port is already; this keeps it so if that ever changes). */
int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len, io_read_fn rd, io_write_fn wr,
		    void *dev, const char *name)
{
	struct io_range r = { .base = base, .len = len, .read = rd, .write = wr, .dev = dev, .name = name };

	if (io_bus_add(&vm->bus, false, &r)) {
		pr_err("vm %s: %s: ports 0x%x-0x%x overlap another device\n", vm->name, name, base,
		       base + len - 1);
		return -1;
	}
	vcpu_ops->set_io_intercept(vm, base, len, true);
	return 0;
}
