/* SPDX-License-Identifier: MIT */
/*
 * From modules to running VMs, and back again on reset.
 *
 * Each module's arguments (guest-loader/config.c) name its VM; a VM is one
 * kernel module plus, for Linux, an optional initrd module (role=initrd).
 * Every VM is the PC board (hv/board/pc.c): its devices, less those the
 * module's devices= leaves out, its memory layout and ACPI tables.  A
 * kernel with a Linux setup header boots by the Linux boot protocol, any
 * other as a multiboot kernel.  A module Petrel cannot use is reported
 * with the reason; the others still start.
 *
 * A reset (the guest rebooting) reloads everything from the modules into
 * fresh RAM: the modules stay reserved for exactly that.
 */
#include <arch/cpu.h>
#include <arch/xstate.h>
#include <petrel/acpi_build.h>
#include <petrel/board.h>
#include <petrel/console.h>
#include <petrel/debug.h>
#include <petrel/gdbstub.h>
#include <petrel/boot_info.h>
#include <petrel/drivers.h>
#include <petrel/guest_loader.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>

#include "core.h"

#define ATTR_CODE32 0xc9b /* type 11 (exec/read, accessed), S, P, D/B, G */
#define ATTR_DATA32 0xc93 /* type 3 (read/write, accessed), S, P, D/B, G */
#define MAX_RESETS_PER_10S 5

struct guest_spec {
	struct guest_config cfg;
	const struct boot_module *kernel, *initrd;
	const struct boot_module *mod[MB_GUEST_MAX_MODULES]; /* role=module, in order */
	char mod_string[MB_GUEST_MAX_MODULES][MB_GUEST_CMDLINE_MAX];
	unsigned nr_mods;
	bool linux;
	bool firmware;        /* `kernel` is its firmware (role=firmware): it boots from the reset vector */
	const struct boot_module *disk; /* role=disk: its virtio-blk disk's first contents */
	uint64_t reset_window_start;
	uint32_t resets_in_window;
};

static struct guest_spec specs[MAX_VMS];

/* --- CPU state at entry ------------------------------------------------------ */

/* Flat 32-bit protected mode, paging and interrupts off: what both the
 * multiboot spec (§3.2) and Linux's 32-bit boot protocol ask for. */
static void flat32_state(struct vcpu *v, uint64_t entry, uint16_t cs, uint16_t ds)
{
	vcpu_set_start_state(v, 0x11 /* PE, ET */, entry,
			     (struct segment){ .sel = cs, .attr = ATTR_CODE32, .limit = 0xffffffff },
			     (struct segment){ .sel = ds, .attr = ATTR_DATA32, .limit = 0xffffffff });
}

/* --- the two kinds of guest ---------------------------------------------------- */

static const uint8_t *mod_data(const struct boot_module *m) { return (const uint8_t *)(uintptr_t)m->start; }
static uint64_t mod_size(const struct boot_module *m) { return m->end - m->start; }

/* The VM's memory map, as Linux's e820 and the multiboot map give it. */
#define MAX_E820 (MAX_MEM_REGIONS)

static uint8_t *low_ram(struct vm *vm)
{
	return mem_hva(&vm->mem, 0, mem_low_ram_end(&vm->mem), false);
}

static int boot_multiboot(struct vm *vm, struct guest_spec *s, char *err, size_t errlen)
{
	struct mb_guest g;
	struct vcpu *v = &vm->vcpu[0];
	struct e820_entry map[MAX_E820];
	unsigned n = mem_e820(&vm->mem, map, MAX_E820);
	struct mb_module mods[MB_GUEST_MAX_MODULES];

	for (unsigned i = 0; i < s->nr_mods; i++)
		mods[i] = (struct mb_module){ mod_data(s->mod[i]), mod_size(s->mod[i]), s->mod_string[i] };
	if (mb_guest_load(mod_data(s->kernel), mod_size(s->kernel), low_ram(vm), mem_low_ram_end(&vm->mem),
			  map, n, s->cfg.cmdline, mods, s->nr_mods, &g, err, errlen))
		return -1;
	flat32_state(v, g.entry, 0x08, 0x10);
	v->regs.gpr[GPR_RAX] = 0x2badb002;
	v->regs.gpr[GPR_RBX] = g.info_gpa;
	return 0;
}

/* PCI's part of the tables: the 32-bit window is the hole between low RAM
 * and the IOAPIC, where firmware (SeaBIOS: from 2 or 3 GiB) and Linux
 * place BARs. */
static void acpi_pci(const struct vm *vm, struct acpi_build_cfg *c)
{
	if (!vm_pci_present(vm))
		return;
	c->pci_mem_start = (uint32_t)MIN(vm->ram_size, vm->ram_low_max); /* where low RAM ends */
	c->pci_mem_end = vm->board->ioapic_gpa;
	c->pci_gsi_base = vm->board->pirq_gsi;
}

/* What the ACPI tables say of the VM: the board, its vCPUs, its PM block
 * where it decodes now, the HPET where the VM has one, PCI. */
static void acpi_cfg(const struct vm *vm, struct acpi_build_cfg *c)
{
	const struct board *b = vm->board;
	const struct mem_region *hpet = b->hpet_gpa ? mem_lookup(&vm->mem, b->hpet_gpa) : NULL;

	*c = (struct acpi_build_cfg){
		.base_gpa = b->acpi_gpa, .nr_cpus = vm->nr_vcpus, .lapic_gpa = b->lapic_gpa,
		.ioapic_gpa = b->ioapic_gpa, .pm_base = vm->pm_base ? vm->pm_base : b->pm_base,
		.sci_irq = b->sci_gsi, .reset_port = b->reset_port, .oem_id = "PETREL",
	};
	/* an HPET table only where the VM has the device (devices=-hpet) */
	if (hpet && hpet->kind == REGION_MMIO) {
		c->hpet_gpa = b->hpet_gpa;
		c->hpet_id = b->hpet_id;
		c->hpet_min_tick = b->hpet_min_tick;
	}
	acpi_pci(vm, c);
}

/* The ACPI tables, in the board's BIOS area, say what the board is. */
static int build_acpi(struct vm *vm, uint64_t *rsdp, char *err, size_t errlen)
{
	const struct board *b = vm->board;
	struct acpi_build_cfg c;
	uint8_t *area = mem_hva(&vm->mem, b->acpi_gpa, b->acpi_max, false);

	acpi_cfg(vm, &c);
	if (!area || !acpi_build(&c, area, b->acpi_max, rsdp)) {
		str_copy(err, "ACPI tables do not fit their area", errlen);
		return -1;
	}
	return 0;
}

int vm_acpi_linked(struct vm *vm, struct acpi_linked *out)
{
	struct acpi_build_cfg c;

	acpi_cfg(vm, &c);
	return acpi_build_linked(&c, out);
}

/* A PC at power-on: the first vCPU at the reset vector, F000:FFF0 with
 * CS's base at 0xffff0000 (the top of the firmware's ROM, below 4 GiB);
 * the others wait for INIT and SIPI, as after any reset.  The firmware
 * does the rest, the tables a kernel would get from Petrel included. */
static void boot_firmware(struct vm *vm)
{
	vcpu_real_mode_start(&vm->vcpu[0], 0xf000, 0xffff0000ull, 0xfff0);
}

static int boot_linux(struct vm *vm, struct guest_spec *s, uint64_t rsdp, char *err, size_t errlen)
{
	struct linux_guest g;
	struct vcpu *v = &vm->vcpu[0];
	struct e820_entry map[MAX_E820];
	unsigned n = mem_e820(&vm->mem, map, MAX_E820);

	if (linux_load(mod_data(s->kernel), mod_size(s->kernel), s->initrd ? mod_data(s->initrd) : NULL,
		       s->initrd ? mod_size(s->initrd) : 0, low_ram(vm), mem_low_ram_end(&vm->mem), map, n,
		       s->cfg.cmdline, rsdp, &g, err, errlen))
		return -1;
	/* Linux's 32-bit entry: CS = __BOOT_CS, data = __BOOT_DS, ESI = the
	 * zero page, EBP = EDI = EBX = 0 (boot.rst, "32-bit boot protocol"). */
	flat32_state(v, g.entry, 0x10, 0x18);
	v->regs.gdtr.base = LINUX_GDT_GPA;
	v->regs.gdtr.limit = 0x1f;
	v->regs.gpr[GPR_RSI] = g.boot_params_gpa;
	return 0;
}

/* Everything from power-on: clock, devices, kernel, CPU state.  Used at
 * creation and on every reset.  Every guest gets the whole board: the
 * devices its module did not leave out, the ACPI tables. */
static int vm_boot(struct vm *vm, struct guest_spec *s, char *err, size_t errlen)
{
	uint64_t rsdp;

	vm->start_tsc = rdtsc();
	vm->stop_on_triple_fault = s->cfg.stop_on_triple_fault;
	vm_clear_devices(vm);
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		v->halted = false;
		v->wait_sipi = i > 0; /* the APs wait for a startup IPI (smp.c) */
		v->init_pending = v->sipi_pending = false;
		v->event.pending = false;
		v->nmi_pending = false;
		v->tsc_offset = 0 - vm->start_tsc; /* the guest's TSC starts at 0 */
		v->mtrr_def_type = 0xc06;          /* MTRRs on, default write-back */
		v->pvclock_system_time = v->pvclock_wall_clock = v->tsc_aux = 0;
		v->xcr0 = cpu_has_xsave() ? 1 : 0; /* x87 only, as at power-on */
		v->cr8 = 0;
		v->pkrs = 0;
		if (xstate_vcpu_reset(&v->xs) || vcpu_ops->vcpu_init(v)) {
			str_copy(err, "vcpu init failed", errlen);
			return -1;
		}
	}
	debug_vm_reset(vm);
	msr_vm_init(vm);
	if (board_create_devices(vm, vm->board, s->cfg.devices)) {
		str_copy(err, "its devices could not be created", errlen);
		return -1;
	}
	if (s->firmware)
		boot_firmware(vm);
	else if (build_acpi(vm, &rsdp, err, errlen) ||
		 (s->linux ? boot_linux(vm, s, rsdp, err, errlen) : boot_multiboot(vm, s, err, errlen)))
		return -1;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		cr_caps_init(&vm->vcpu[i]); /* from its CPUID, which depends on the devices */
	return 0;
}

/* A reboot: fresh RAM, fresh devices, a fresh kernel load.  A guest that
 * keeps resetting (a crash loop) is stopped instead.  Zeroing gigabytes
 * takes seconds, so it happens a piece per turn (vm_reset_step), each one
 * counted as the vCPU's time: another VM on the CPU keeps its turns. */
#define ZERO_PIECE MiB(16)

void vm_reset(struct vm *vm, const char *why)
{
	struct guest_spec *s = &specs[vm->id];
	uint64_t now = rdtsc();

	if (now - s->reset_window_start > 10 * tsc_hz) {
		s->reset_window_start = now;
		s->resets_in_window = 0;
	}
	if (++s->resets_in_window > MAX_RESETS_PER_10S) {
		vm_stop(vm, "reset loop (more than 5 resets in 10 s)");
		return;
	}
	pr_info("vm %s reset: %s\n", vm->name, why);
	vm_console_flush(vm);
	vm->state = VM_RESETTING;
	vm->zeroed = 0;
	vm_kick_all(vm); /* every vCPU out of its guest: the first one zeroes, the others wait */
}

/* Zeroes the next piece of RAM: vm->zeroed counts bytes over the RAM
 * regions in address order. */
static uint64_t zero_piece(struct vm *vm, uint64_t at, uint64_t max)
{
	for (unsigned i = 0; i < vm->mem.n; i++) {
		const struct mem_region *r = &vm->mem.r[i];
		uint64_t n;
		if (r->kind != REGION_RAM)
			continue;
		if (at >= r->size) {
			at -= r->size;
			continue;
		}
		n = MIN(max, r->size - at);
		memset((void *)(uintptr_t)(r->host + at), 0, n);
		return n;
	}
	return 0;
}

void vm_reset_step(struct vm *vm)
{
	char err[128];
	uint64_t n = zero_piece(vm, vm->zeroed, ZERO_PIECE);

	vm->zeroed += n;
	if ((n && vm->zeroed < vm->ram_size) || !vm_others_out(vm, &vm->vcpu[0]))
		return; /* the boot waits until no other CPU holds one of its vCPUs */
	if (vm_boot(vm, &specs[vm->id], err, sizeof(err))) {
		pr_err("vm %s: after reset: %s\n", vm->name, err);
		vm_stop(vm, "could not restart after reset");
		return;
	}
	vm->state = VM_RUNNING;
}

/* --- modules → VMs -------------------------------------------------------------- */

static struct guest_spec *spec_named(const char *name)
{
	for (uint32_t i = 0; i < MAX_VMS; i++)
		if (specs[i].kernel && !strcmp(specs[i].cfg.vm, name))
			return &specs[i];
	return NULL;
}

/* A module of a VM whose kernel is known: its initrd, or one of its
 * multiboot modules. */
static void attach(struct guest_spec *s, uint32_t i, const struct boot_module *m, const struct guest_config *cfg)
{
	if (cfg->role == ROLE_DISK) {
		if (s->disk)
			pr_err("module %u: vm %s already has a disk: ignored\n", i, cfg->vm);
		else if (mod_size(m) < DISK_SECTOR)
			pr_err("module %u: the disk for vm %s is %llu bytes, shorter than a sector (512): ignored\n", i,
			       cfg->vm, (unsigned long long)mod_size(m));
		else
			s->disk = m;
		return;
	}
	if (s->firmware) {
		pr_err("module %u: vm %s boots from its firmware, which takes no %s: ignored\n", i, cfg->vm,
		       cfg->role == ROLE_INITRD ? "initrd" : "modules");
		return;
	}
	if (cfg->role == ROLE_INITRD) {
		if (!s->linux)
			pr_err("module %u: vm %s is not a Linux kernel, it takes no initrd: ignored\n", i, cfg->vm);
		else if (s->initrd)
			pr_err("module %u: vm %s already has an initrd: ignored\n", i, cfg->vm);
		else
			s->initrd = m;
		return;
	}
	if (s->linux)
		pr_err("module %u: vm %s is a Linux kernel, which takes no multiboot modules: ignored\n", i, cfg->vm);
	else if (s->nr_mods == MB_GUEST_MAX_MODULES)
		pr_err("module %u: vm %s already has %u modules, the most a multiboot guest gets here: ignored\n",
		       i, cfg->vm, MB_GUEST_MAX_MODULES);
	else {
		s->mod[s->nr_mods] = m;
		str_copy(s->mod_string[s->nr_mods++], cfg->cmdline, MB_GUEST_CMDLINE_MAX);
	}
}

/* First every kernel (want_kernels), then the modules that belong to them. */
static void collect(const struct boot_info *bi, bool want_kernels)
{
	for (uint32_t i = 0; i < bi->nr_modules; i++) {
		const struct boot_module *m = &bi->modules[i];
		struct guest_config cfg;
		struct guest_spec *s;
		char err[128];

		if (m->cmdline_truncated) {
			if (want_kernels)
				pr_err("module %u: its arguments are longer than %u characters: not started\n", i,
				       BOOT_MODNAME_MAX - 1);
			continue;
		}
		if (guest_config_parse(m->cmdline, &cfg, err, sizeof(err))) {
			if (want_kernels)
				pr_err("module %u: %s: not started\n", i, err);
			continue;
		}
		if ((cfg.role == ROLE_KERNEL || cfg.role == ROLE_FIRMWARE) != want_kernels)
			continue;
		s = spec_named(cfg.vm);
		if (!want_kernels) {
			if (!s)
				pr_err("module %u: %s for vm %s, which has no kernel: ignored\n", i,
				       cfg.role == ROLE_INITRD ? "initrd" : cfg.role == ROLE_DISK ? "disk" : "module", cfg.vm);
			else
				attach(s, i, m, &cfg);
			continue;
		}
		if (s) {
			pr_err("module %u: vm %s already has a %s: not started\n", i, cfg.vm,
			       s->firmware ? "firmware" : "kernel");
			continue;
		}
		for (s = specs; s < specs + MAX_VMS && s->kernel; s++)
			;
		if (s == specs + MAX_VMS) {
			pr_err("module %u: vm %s: at most %u VMs: not started\n", i, cfg.vm, MAX_VMS);
			continue;
		}
		memset(s, 0, sizeof(*s)); /* no compound literal: the struct is 18 KiB */
		s->cfg = cfg;
		s->kernel = m;
		s->firmware = cfg.role == ROLE_FIRMWARE;
		s->linux = !s->firmware && linux_is_bzimage(mod_data(m), mod_size(m));
	}
}

/* Where each vCPU runs: on the CPUs its cpu= list names in turn, else
 * spread over the CPUs that take vCPUs (first.., CPU 0 kept out by
 * cpu0=host), continuing where the last VM's placement ended (two VMs
 * with two vCPUs each on two CPUs: one vCPU of each per CPU). */
static uint32_t place(const struct guest_spec *s, uint32_t i, uint32_t *spread, uint32_t first, uint32_t ncpus)
{
	return s->cfg.nr_cpu ? s->cfg.cpu[i % s->cfg.nr_cpu] : first + (*spread)++ % (ncpus - first);
}

static void start(struct guest_spec *s, uint32_t *spread, uint32_t first, uint32_t ncpus)
{
	struct vm *vm;
	char err[128] = "", where[64] = "";
	size_t n = 0;

	for (uint32_t i = 0; i < s->cfg.nr_cpu; i++)
		if (s->cfg.cpu[i] >= ncpus) {
			pr_err("vm %s: cpu= names CPU %u but only %u CPUs are online: not started\n", s->cfg.vm,
			       s->cfg.cpu[i], ncpus);
			return;
		} else if (s->cfg.cpu[i] < first) {
			pr_err("vm %s: cpu= names CPU %u, which cpu0=host keeps for Petrel: not started\n", s->cfg.vm,
			       s->cfg.cpu[i]);
			return;
		}
	if (board_check_devices(&pc_board, s->cfg.devices, err, sizeof(err))) {
		pr_err("vm %s: %s: not started\n", s->cfg.vm, err);
		return;
	}
	if (s->firmware && (mod_size(s->kernel) < FIRMWARE_MIN || mod_size(s->kernel) > FIRMWARE_MAX ||
			    mod_size(s->kernel) % FIRMWARE_MIN)) {
		pr_err("vm %s: its firmware is %llu bytes; a firmware image is 64 KiB to 16 MiB in whole 64 KiB: not started\n",
		       s->cfg.vm, (unsigned long long)mod_size(s->kernel));
		return;
	}
	if (!(vm = vm_create(s->cfg.vm, s->cfg.cpus, s->cfg.mem, s->cfg.mem_below_4g, &pc_board,
			     s->firmware ? &(struct vm_firmware){ mod_data(s->kernel), mod_size(s->kernel) } : NULL)))
		return;
	specs[vm->id] = *s;
	if (s->disk && vm_attach_disk(vm, mod_data(s->disk), mod_size(s->disk))) {
		vm->state = VM_STOPPED;
		return;
	}
	if (vm_boot(vm, &specs[vm->id], err, sizeof(err))) {
		pr_err("vm %s: %s: not started\n", vm->name, err);
		vm->state = VM_STOPPED;
		return;
	}
	if ((s->linux || s->firmware) && vm->console)
		console_focus_default(vm); /* the first Linux or firmware VM gets what is typed */
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		uint32_t cpu = place(s, i, spread, first, ncpus);
		if (run_assign(&vm->vcpu[i], cpu, !s->cfg.nr_cpu && ncpus - first > 1)) {
			pr_err("vm %s: cpu %u has no room for vcpu %u\n", vm->name, cpu, i);
			vm_stop(vm, "no room on its CPU");
			return;
		}
		n += (size_t)pt_snprintf(where + n, sizeof(where) - n, "%s%u", i ? "," : "", cpu);
	}
	pr_info("vm %s: %llu MiB, %u vCPU%s, %s on the %s board%s, cpu%s %s%s\n", vm->name,
		(unsigned long long)(vm->ram_size >> 20), vm->nr_vcpus, vm->nr_vcpus > 1 ? "s" : "",
		s->linux ? "Linux" : s->firmware ? "firmware" : "multiboot guest", pc_board.name,
		s->linux && s->initrd ? " with initrd" : s->nr_mods ? " with modules" : s->disk ? " with a disk" : "",
		vm->nr_vcpus > 1 ? "s" : "", where, vm->vcpu[0].floats ? " to start with (floating)" : "");
	gdb_vm_started(vm, s->cfg.gdb != GUEST_GDB_DEFAULT, s->cfg.gdb == GUEST_GDB_WAIT);
}

uint32_t guests_start(const struct boot_info *bi, uint32_t first, uint32_t ncpus)
{
	static struct guest_spec found[MAX_VMS]; /* 36 KiB: not on the stack */
	uint32_t spread = 0, started = 0;

	memset(specs, 0, sizeof(specs));
	collect(bi, true);
	collect(bi, false);
	memcpy(found, specs, sizeof(found));
	memset(specs, 0, sizeof(specs));
	for (uint32_t i = 0; i < MAX_VMS; i++)
		if (found[i].kernel)
			start(&found[i], &spread, first, ncpus);
	for (uint32_t i = 0; i < MAX_VMS; i++)
		started += vms[i].state == VM_RUNNING;
	return started;
}
