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
	[EXIT_XSETBV] = "xsetbv", [EXIT_CR] = "cr", [EXIT_WBINVD] = "wbinvd", [EXIT_GP] = "gp",
	[EXIT_TASK_SWITCH] = "task-switch",
	[EXIT_SHUTDOWN] = "shutdown", [EXIT_INIT] = "init", [EXIT_UD] = "ud",
	[EXIT_UNKNOWN] = "unknown", [EXIT_ENTRY_FAIL] = "entry-fail",
};

/* Guest RAM: a host-contiguous block per guest region (below the MMIO hole,
 * above 4 GiB), 2 MiB aligned so the nested page tables can use large
 * pages.  Zeroed: a guest never sees old host data. */
static uint64_t alloc_ram(uint64_t bytes)
{
	uint64_t pa = pmm_alloc(&hv_pmm, bytes / PAGE_SIZE, MiB(2), UINT64_MAX);
	if (pa)
		memset((void *)(uintptr_t)pa, 0, bytes);
	return pa;
}

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
	vm->ram_low = MIN(vm->ram_size, RAM_LOW_MAX);
	vm->ram_host = alloc_ram(vm->ram_low);
	vm->ram_host_high = vm->ram_size > vm->ram_low ? alloc_ram(vm->ram_size - vm->ram_low) : 0;
	if (!vm->ram_host || (vm->ram_size > vm->ram_low && !vm->ram_host_high)) {
		pr_err("vm %s: cannot allocate %llu MiB of RAM (at most 3 GiB of it in one piece)\n",
		       name, (unsigned long long)(vm->ram_size >> 20));
		if (vm->ram_host)
			pmm_free(&hv_pmm, vm->ram_host, vm->ram_low / PAGE_SIZE);
		return NULL;
	}
	if (vcpu_ops->vm_init(vm)) {
		pr_err("vm %s: backend init failed\n", name);
		return NULL;
	}
	vm->nr_vcpus = 1;
	vm->vcpu[0].vm = vm;
	vm->vcpu[0].id = 0;
	vm->state = VM_RUNNING; /* guests.c boots it: devices, kernel, vCPU state */
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
	if (vm->state != VM_RUNNING && vm->state != VM_RESETTING)
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

/* Real mode pushes no error code (SDM vol. 3A §20.1.4). */
void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	vcpu_need(v, REG_CR);
	if (!(v->regs.cr0 & CR0_PE))
		has_error = false;
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

int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len, io_read_fn rd, io_write_fn wr,
		     void *dev, const char *name)
{
	struct io_range r = { .base = base, .len = len, .read = rd, .write = wr, .dev = dev, .name = name };

	/* MMIO works by absence: nothing is mapped outside RAM, so an access
	 * faults to us.  A range over RAM would never be seen. */
	if (gpa_is_ram(vm, base) || gpa_is_ram(vm, base + len - 1) || io_bus_add(&vm->bus, true, &r)) {
		pr_err("vm %s: %s: MMIO 0x%llx+0x%llx overlaps RAM or another device\n", vm->name, name,
		       (unsigned long long)base, (unsigned long long)len);
		return -1;
	}
	return 0;
}

/* --- time ------------------------------------------------------------------ */

/* ns = ticks * 1e9 / hz without a 128-bit division (no libgcc here). */
uint64_t tsc_to_ns(uint64_t ticks)
{
	uint64_t hz = tsc_hz ? tsc_hz : 1;
	return ticks / hz * NS_PER_SEC + ticks % hz * NS_PER_SEC / hz;
}

uint64_t ns_to_tsc(uint64_t ns)
{
	return ns / NS_PER_SEC * tsc_hz + ns % NS_PER_SEC * tsc_hz / NS_PER_SEC;
}

uint64_t vm_now_ns(struct vm *vm)
{
	return tsc_to_ns(rdtsc() - vm->start_tsc);
}

void vtimer_init(struct vtimer *t, struct vm *vm, void (*fire)(struct vtimer *, uint64_t), void *ctx)
{
	*t = (struct vtimer){ .vm = vm, .fire = fire, .ctx = ctx, .next = vm->timers };
	vm->timers = t;
}

void vtimer_arm(struct vtimer *t, uint64_t deadline_ns)
{
	t->deadline = deadline_ns;
	t->armed = true;
}

void vtimer_cancel(struct vtimer *t)
{
	t->armed = false;
}

uint64_t vm_run_timers(struct vm *vm, uint64_t now)
{
	uint64_t next = 0;

	for (struct vtimer *t = vm->timers; t; t = t->next) {
		if (t->armed && t->deadline <= now) {
			t->armed = false;
			t->fire(t, now); /* may re-arm itself */
		}
		if (t->armed && (!next || t->deadline < next))
			next = t->deadline;
	}
	return next;
}

/* --- lifecycle requests: acted on by the run loop after the exit --------- */

void vm_request_reset(struct vm *vm, const char *why)
{
	vm->reset_reason = why;
}

void vm_request_poweroff(struct vm *vm, const char *why)
{
	vm->poweroff_reason = why;
}
