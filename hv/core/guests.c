/* SPDX-License-Identifier: MIT */
/*
 * From modules to running VMs: read each module's command line
 * (guest-loader/config.c), create the VM, load the multiboot guest, give it
 * its devices and a physical CPU.  A module Petrel cannot use is reported
 * with the reason and skipped; the others still start.
 */
#include <petrel/boot_info.h>
#include <petrel/guest_loader.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>


#define ATTR_CODE32 0xc9b /* type 11 (exec/read, accessed), S, P, D/B, G */
#define ATTR_DATA32 0xc93 /* type 3 (read/write, accessed), S, P, D/B, G */
#define ATTR_LDT 0x082
#define ATTR_TSS32_BUSY 0x08b

/* Multiboot 0.6.96 §3.2: flat 32-bit protected mode, paging off. */
static void mb_initial_state(struct vcpu *v, const struct mb_guest *g)
{
	struct vcpu_regs *r = &v->regs;

	memset(r, 0, sizeof(*r));
	r->cr0 = 0x11; /* PE, ET */
	r->rflags = 0x2;
	r->rip = g->entry;
	r->gpr[GPR_RAX] = 0x2badb002;
	r->gpr[GPR_RBX] = g->info_gpa;
	r->seg[SEG_CS] = (struct segment){ .sel = 0x08, .attr = ATTR_CODE32, .limit = 0xffffffff };
	for (int s = SEG_ES; s <= SEG_GS; s++)
		if (s != SEG_CS)
			r->seg[s] = (struct segment){ .sel = 0x10, .attr = ATTR_DATA32, .limit = 0xffffffff };
	r->seg[SEG_LDTR] = (struct segment){ .attr = ATTR_LDT, .limit = 0xffff };
	r->seg[SEG_TR] = (struct segment){ .attr = ATTR_TSS32_BUSY, .limit = 0xffff };
	r->gdtr.limit = 0xffff;
	r->idtr.limit = 0xffff;
	vcpu_dirty(v, REG_RIP | REG_CR | REG_SEGS);
}

static int add_devices(struct vm *vm)
{
	return uart_dev_init(vm) || debug_exit_init(vm) || testdev_init(vm) ? -1 : 0;
}

static void start_one(const struct boot_module *m, uint32_t index, uint32_t *spread, uint32_t ncpus)
{
	struct guest_config cfg;
	struct mb_guest g;
	struct vm *vm;
	char err[128];
	uint32_t cpu;

	if (guest_config_parse(m->cmdline, &cfg, err, sizeof(err))) {
		pr_err("module %u: %s: not started\n", index, err);
		return;
	}
	if (cfg.cpu >= (int)ncpus) {
		pr_err("module %u: vm %s: cpu=%d but only %u CPUs are online: not started\n", index,
		       cfg.vm, cfg.cpu, ncpus);
		return;
	}
	if (!(vm = vm_create(cfg.vm, cfg.mem)))
		return;
	if (mb_guest_load((const uint8_t *)(uintptr_t)m->start, m->end - m->start,
			  (uint8_t *)(uintptr_t)vm->ram_host, vm->ram_size, "", &g, err, sizeof(err))) {
		pr_err("vm %s: %s: not started\n", cfg.vm, err);
		vm->state = VM_STOPPED;
		return;
	}
	msr_vm_init(vm);
	if (add_devices(vm)) {
		vm->state = VM_STOPPED;
		return;
	}
	mb_initial_state(&vm->vcpu[0], &g);
	cpu = cfg.cpu >= 0 ? (uint32_t)cfg.cpu : (*spread)++ % ncpus;
	run_assign(&vm->vcpu[0], cpu);
	pr_info("vm %s: %llu MiB, multiboot guest, entry 0x%llx, cpu %u\n", vm->name,
		(unsigned long long)(vm->ram_size >> 20), (unsigned long long)g.entry, cpu);
}

uint32_t guests_start(const struct boot_info *bi, uint32_t ncpus)
{
	uint32_t spread = 0, started = 0;

	for (uint32_t i = 0; i < bi->nr_modules; i++)
		start_one(&bi->modules[i], i, &spread, ncpus);
	for (uint32_t i = 0; i < MAX_VMS; i++)
		started += vms[i].state == VM_RUNNING;
	return started;
}
