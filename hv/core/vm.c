/* SPDX-License-Identifier: MIT */
/*
 * VM lifecycle: create (memory regions, RAM, backend state), stop (say
 * why, print the statistics); the register helpers every exit handler
 * uses; and the side of device.h the core provides: the devices' arena,
 * their ports, MMIO and MSRs, time and timers, the console, requests.
 * Interrupt wiring is in irq.c.
 */
#include <arch/cpu.h>
#include <petrel/board.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>
#include <petrel/pmm.h>
#include <petrel/vm.h>

#include "core.h"

struct vm vms[MAX_VMS];
const struct vcpu_ops *vcpu_ops;

static const char *const exit_names[NR_EXIT_KINDS] = {
	[EXIT_NONE] = "interrupt", [EXIT_CPUID] = "cpuid", [EXIT_MSR_READ] = "rdmsr",
	[EXIT_MSR_WRITE] = "wrmsr", [EXIT_IO] = "io", [EXIT_MMIO] = "mmio", [EXIT_HLT] = "hlt",
	[EXIT_XSETBV] = "xsetbv", [EXIT_CR] = "cr", [EXIT_WBINVD] = "wbinvd", [EXIT_PAUSE] = "pause",
	[EXIT_GP] = "gp", [EXIT_TASK_SWITCH] = "task-switch",
	[EXIT_SHUTDOWN] = "shutdown", [EXIT_INIT] = "init", [EXIT_UD] = "ud",
	[EXIT_BREAKPOINT] = "breakpoint", [EXIT_DEBUG] = "debug", [EXIT_SOFT_INT] = "int-n",
	[EXIT_UNKNOWN] = "unknown", [EXIT_ENTRY_FAIL] = "entry-fail",
	[EXIT_STATE_LOST] = "state-lost",
};

uint32_t spin_cpu_id(void)
{
	return this_cpu()->cpu_id;
}

void spin_deadlock(const struct spinlock *l)
{
	panic("deadlock: cpu %u takes lock %s, which it holds already", this_cpu()->cpu_id, l->name);
}

void spin_slow(const struct spinlock *l)
{
	pr_warn("cpu %u: still waiting for lock %s, held by cpu %u\n", this_cpu()->cpu_id, l->name, l->owner);
}

/* --- creation ------------------------------------------------------------- */

/* Guest RAM: a host-contiguous block per part (below the board's MMIO
 * hole, above 4 GiB), 2 MiB aligned so the nested page tables can use
 * large pages.  Zeroed: a guest never sees old host data. */
static uint64_t alloc_ram(uint64_t bytes)
{
	uint64_t pa = frame_alloc(bytes / PAGE_SIZE, MiB(2));
	if (pa)
		memset((void *)(uintptr_t)pa, 0, bytes);
	return pa;
}

/* The board's layout: RAM from 0, the BIOS area below 1 MiB reserved,
 * the rest above the hole from high_base.  With firmware, its copy is ROM
 * ending at 4 GiB and, for its last 128 KiB, ending at 1 MiB (the reset
 * vector's segment, as the chipset's PAM registers show it at reset). */
static int add_ram(struct vm *vm, const struct board *b, uint64_t *low_host, uint64_t *high_host)
{
	uint64_t low = MIN(vm->ram_size, vm->ram_low_max), high = vm->ram_size - low;
	uint64_t rom_low = MIN(vm->rom_size, FIRMWARE_LOW_MAX), bios_end = MiB(1) - rom_low;
	struct vm_memory *m = &vm->mem;

	*low_host = alloc_ram(low);
	*high_host = high ? alloc_ram(high) : 0;
	if (!*low_host || (high && !*high_host))
		return -1;
	if (mem_add(m, &(struct mem_region){ 0, b->bios_start, *low_host, REGION_RAM, 0, "ram" }) ||
	    mem_add(m, &(struct mem_region){ b->bios_start, bios_end - b->bios_start, *low_host + b->bios_start,
					     REGION_RAM, REGION_RESERVED, "bios area" }) ||
	    mem_add(m, &(struct mem_region){ MiB(1), low - MiB(1), *low_host + MiB(1), REGION_RAM, 0, "ram" }))
		return -1;
	if (vm->rom_size &&
	    (mem_add(m, &(struct mem_region){ bios_end, rom_low, vm->rom_host + vm->rom_size - rom_low, REGION_ROM,
					      REGION_RESERVED, "firmware (low)" }) ||
	     mem_add(m, &(struct mem_region){ GiB(4) - vm->rom_size, vm->rom_size, vm->rom_host, REGION_ROM,
					      REGION_RESERVED, "firmware" })))
		return -1;
	if (high && mem_add(m, &(struct mem_region){ b->high_base, high, *high_host, REGION_RAM, 0, "ram above 4G" }))
		return -1;
	return 0;
}

struct vm *vm_create(const char *name, uint32_t nr_vcpus, uint64_t ram_size, uint64_t below_4g,
		     const struct board *b, const struct vm_firmware *fw)
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
	vm->exit_code = -1;
	vm->board = b;
	spin_init(&vm->lock, "vm");
	str_copy(vm->name, name, sizeof(vm->name));
	vm->ram_size = ALIGN_UP(ram_size, MiB(2));
	vm->ram_low_max = below_4g && below_4g < b->ram_low_max ? below_4g : b->ram_low_max;
	vm->arena = (uint8_t *)(uintptr_t)frame_alloc_zeroed(VM_ARENA_BYTES / PAGE_SIZE, UINT64_MAX);
	if (fw) { /* a copy of its own: the module is Petrel's memory, and nothing may write it */
		vm->rom_host = frame_alloc(fw->size / PAGE_SIZE, KiB(64));
		if (!vm->rom_host) {
			pr_err("vm %s: no memory for its firmware's %llu KiB\n", name, (unsigned long long)(fw->size >> 10));
			goto fail;
		}
		memcpy((void *)(uintptr_t)vm->rom_host, fw->data, fw->size);
		vm->rom_size = fw->size;
	}
	if (!vm->arena || add_ram(vm, b, &vm->ram_host_low, &vm->ram_host_high)) {
		pr_err("vm %s: cannot allocate %llu MiB of RAM (at most 3 GiB of it in one piece)\n",
		       name, (unsigned long long)(vm->ram_size >> 20));
		goto fail;
	}
	if (vcpu_ops->vm_init(vm)) {
		pr_err("vm %s: backend init failed\n", name);
		goto fail;
	}
	vm->nr_vcpus = nr_vcpus >= 1 && nr_vcpus <= MAX_VCPUS_PER_VM ? nr_vcpus : 1;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpu[i].vm = vm;
		vm->vcpu[i].id = i;
	}
	vm->state = VM_RUNNING; /* guests.c boots it: devices, kernel, vCPU state */
	return vm;
fail:
	vm_destroy(vm);
	return NULL;
}

/* A VM that only ever ran on this CPU and never entered the run loop (a
 * vm_create that failed half-way, the boot-time floor probe): whatever of
 * its RAM and arena was allocated goes back and its slot is free again.
 * The backend's tables for it stay allocated. */
void vm_destroy(struct vm *vm)
{
	uint64_t low = MIN(vm->ram_size, vm->ram_low_max);

	if (vm->ram_host_low)
		frame_free(vm->ram_host_low, low / PAGE_SIZE);
	if (vm->ram_host_high)
		frame_free(vm->ram_host_high, (vm->ram_size - low) / PAGE_SIZE);
	if (vm->arena)
		frame_free((uint64_t)(uintptr_t)vm->arena, VM_ARENA_BYTES / PAGE_SIZE);
	if (vm->rom_host)
		frame_free(vm->rom_host, vm->rom_size / PAGE_SIZE);
	if (vm->disk_host)
		frame_free(vm->disk_host, ALIGN_UP(vm->disk_size, PAGE_SIZE) / PAGE_SIZE);
	memset(vm, 0, sizeof(*vm));
}

/* Devices, their ranges and their state go; RAM and ROM stay. */
void vm_clear_devices(struct vm *vm)
{
	struct vm_memory kept = { .n = 0 };

	for (unsigned i = 0; i < vm->mem.n; i++)
		if (vm->mem.r[i].kind != REGION_MMIO)
			mem_add(&kept, &vm->mem.r[i]);
	vm->mem = kept;
	memset(&vm->bus, 0, sizeof(vm->bus));
	memset(&vm->pci, 0, sizeof(vm->pci));
	memset(vm->msr, 0, sizeof(vm->msr));
	vm->nr_msr = 0;
	memset(&vm->irq, 0, sizeof(vm->irq));
	vm->console = NULL;
	vm->console_dev = NULL;
	vm->console_port = 0;
	vm->boot_order[0] = '\0';
	vm->timers = NULL;
	memset(vm->arena, 0, vm->arena_used);
	vm->arena_used = 0;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		memset(v->irq, 0, sizeof(v->irq));
		v->apic_ops = NULL;
		v->apic = NULL;
	}
}

/* Neighbouring regions of one kind whose host memory is contiguous too
 * (the RAM below 1 MiB, the BIOS area and the RAM above) go in as one
 * range, so large pages are used where the whole range allows; only
 * what lies in [gpa, gpa+size) is mapped. */
int vm_map_range(const struct vm *vm, const struct pt_ops *ops, uint64_t root, uint64_t gpa, uint64_t size,
		 uint64_t rw, uint64_t ro)
{
	uint64_t end = gpa + size;

	for (unsigned i = 0; i < vm->mem.n;) {
		const struct mem_region *r = &vm->mem.r[i];
		uint64_t len = r->size, from, to;
		unsigned j = i + 1;
		if (r->kind == REGION_MMIO) {
			i++;
			continue;
		}
		while (j < vm->mem.n && vm->mem.r[j].kind == r->kind && vm->mem.r[j].gpa == r->gpa + len &&
		       vm->mem.r[j].host == r->host + len)
			len += vm->mem.r[j++].size;
		from = MAX(r->gpa, gpa);
		to = MIN(r->gpa + len, end);
		if (from < to && (((from | to | r->host) & (PAGE_SIZE - 1)) ||
				  pt_map(ops, root, from, r->host + (from - r->gpa), to - from,
					 r->kind == REGION_RAM ? rw : ro)))
			return -1;
		i = j;
	}
	return 0;
}

int vm_map_memory(const struct vm *vm, const struct pt_ops *ops, uint64_t root, uint64_t rw, uint64_t ro)
{
	return vm_map_range(vm, ops, root, 0, ~0ull, rw, ro);
}

int vm_remap_range(const struct vm *vm, const struct pt_ops *ops, uint64_t root, uint64_t gpa, uint64_t size,
		   uint64_t rw, uint64_t ro)
{
	if (pt_unmap(ops, root, gpa, size))
		return -1;
	return vm_map_range(vm, ops, root, gpa, size, rw, ro);
}

/*
 * A change to the memory map while the VM runs.  The nested tables
 * follow at once; every vCPU then drops what its CPU's TLB holds of them
 * before it next enters (run.c compares map_gen), and those in the guest
 * now are kicked out to do so.  Until one leaves the guest it may still
 * reach what was mapped before: only ever the VM's own RAM and ROM,
 * which stay allocated for its life.
 */
int vm_set_memory(struct vm *vm, uint64_t gpa, uint64_t size, const struct mem_region *r)
{
	if (mem_set(&vm->mem, gpa, size, r)) {
		pr_err("vm %s: cannot remap 0x%llx+0x%llx: no room in its memory map\n", vm->name,
		       (unsigned long long)gpa, (unsigned long long)size);
		return -1;
	}
	if (vcpu_ops->remap(vm, gpa, size)) {
		/* out of page-table pages: the tables no longer say what the
		 * map does, so the VM cannot go on */
		vm_request_poweroff(vm, "its nested page tables could not be changed (out of memory)");
		return -1;
	}
	__atomic_add_fetch(&vm->map_gen, 1, __ATOMIC_SEQ_CST);
	vm_kick_all(vm);
	return 0;
}

/* The BIOS area's shadowing (device.h): the segment's RAM is the VM's own
 * RAM at that address (the low block, contiguous from 0); its ROM is the
 * firmware's low copy where there is one, else nothing answers. */
int vm_shadow(struct vm *vm, uint64_t gpa, uint64_t size, enum shadow_mode mode)
{
	uint64_t rom_low = MIN(vm->rom_size, FIRMWARE_LOW_MAX), rom_from = MiB(1) - rom_low;
	struct mem_region r = { .gpa = gpa, .size = size, .flags = REGION_RESERVED };

	if (gpa < SHADOW_START || gpa + size > MiB(1) || !size || (gpa | size) & (KiB(16) - 1))
		return -1;
	if (mode == SHADOW_RW || mode == SHADOW_RO) {
		r.host = vm->ram_host_low + gpa;
		r.kind = mode == SHADOW_RW ? REGION_RAM : REGION_ROM;
		r.name = mode == SHADOW_RW ? "shadow ram" : "shadow ram (read-only)";
	} else if (vm->rom_size && gpa >= rom_from) {
		r.host = vm->rom_host + vm->rom_size - (MiB(1) - gpa);
		r.kind = REGION_ROM;
		r.name = "firmware (low)";
	} else {
		return mem_is(&vm->mem, gpa, size, NULL) ? 0 : vm_set_memory(vm, gpa, size, NULL);
	}
	if (mem_is(&vm->mem, gpa, size, &r))
		return 0; /* as it is: the tables need nothing */
	return vm_set_memory(vm, gpa, size, &r);
}

const char *exit_kind_name(enum exit_kind k)
{
	return k < NR_EXIT_KINDS && exit_names[k] ? exit_names[k] : "?";
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
		pr_info("vm %s vcpu %u: %llu us in the hypervisor, %llu moves between CPUs\n", vm->name, i,
			(unsigned long long)(v->tsc_in_hv / (tsc_hz / 1000000 ? tsc_hz / 1000000 : 1)),
			(unsigned long long)v->migrations);
	}
}

void vm_stop(struct vm *vm, const char *why)
{
	if (vm->state != VM_RUNNING && vm->state != VM_RESETTING)
		return;
	vm->state = VM_STOPPED;
	vm_kick_all(vm);
	pr_info("vm %s stopped: %s\n", vm->name, why);
	vm_print_stats(vm);
}

/* --- registers --------------------------------------------------------------- */

void vcpu_need(struct vcpu *v, uint32_t groups)
{
	uint32_t missing = groups & ~v->valid;
	if (missing)
		vcpu_ops->get_regs(v, missing);
}

/* Fresh register state for a vCPU that starts somewhere new (a kernel's
 * entry, a SIPI's vector): every register zero but CR0, RFLAGS' fixed bit
 * and RIP; CS and the data segments as given; LDTR empty, TR an empty busy
 * TSS, the GDT and IDT limits 0xffff.  Loaded on the next entry. */
void vcpu_set_start_state(struct vcpu *v, uint64_t cr0, uint64_t rip, struct segment cs, struct segment data)
{
	struct vcpu_regs *r = &v->regs;

	memset(r, 0, sizeof(*r));
	r->cr0 = cr0;
	r->rflags = 0x2;
	r->rip = rip;
	for (int s = SEG_ES; s <= SEG_GS; s++)
		r->seg[s] = s == SEG_CS ? cs : data;
	r->seg[SEG_LDTR] = (struct segment){ .attr = 0x082, .limit = 0xffff };
	r->seg[SEG_TR] = (struct segment){ .attr = 0x08b, .limit = 0xffff }; /* type 11: busy */
	r->gdtr.limit = 0xffff;
	r->idtr.limit = 0xffff;
	v->valid |= REG_RIP | REG_CR | REG_SEGS;
	vcpu_dirty(v, REG_RIP | REG_CR | REG_SEGS);
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

/* --- what devices see of their VM ------------------------------------------------ */

void *vm_alloc(struct vm *vm, size_t size)
{
	uint32_t at = (uint32_t)ALIGN_UP(vm->arena_used, 64);

	if (size > VM_ARENA_BYTES || at > VM_ARENA_BYTES - size) {
		pr_err("vm %s: devices need more than %u KiB of state\n", vm->name, VM_ARENA_BYTES >> 10);
		return NULL;
	}
	vm->arena_used = at + (uint32_t)size;
	return vm->arena + at;
}

const char *vm_name(const struct vm *vm) { return vm->name; }
uint32_t vm_nr_vcpus(const struct vm *vm) { return vm->nr_vcpus; }
struct vcpu *vm_vcpu(struct vm *vm, uint32_t i) { return i < vm->nr_vcpus ? &vm->vcpu[i] : NULL; }
struct vm *vcpu_vm(const struct vcpu *v) { return v->vm; }
uint32_t vcpu_index(const struct vcpu *v) { return v->id; }
uint64_t vm_ram_size(const struct vm *vm) { return vm->ram_size; }
uint64_t vm_ram_below_4g(const struct vm *vm) { return MIN(vm->ram_size, vm->ram_low_max); }
bool vm_has_firmware(const struct vm *vm) { return vm->rom_size != 0; }
void vm_set_pm_base(struct vm *vm, uint16_t port) { vm->pm_base = port; }

int vm_attach_disk(struct vm *vm, const uint8_t *data, uint64_t size)
{
	uint64_t bytes = size / DISK_SECTOR * DISK_SECTOR;

	vm->disk_host = frame_alloc(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE, PAGE_SIZE);
	if (!vm->disk_host) {
		pr_err("vm %s: no memory for its disk's %llu KiB: not started\n", vm->name,
		       (unsigned long long)(bytes >> 10));
		return -1;
	}
	memcpy((void *)(uintptr_t)vm->disk_host, data, bytes);
	vm->disk_size = bytes;
	return 0;
}

int vm_add_boot_device(struct vm *vm, const char *path)
{
	if (str_append_line(vm->boot_order, sizeof(vm->boot_order), path)) {
		pr_warn("vm %s: no room for boot device %s in the boot order\n", vm->name, path);
		return -1;
	}
	return 0;
}

const char *vm_boot_order(const struct vm *vm) { return vm->boot_order; }

uint8_t *vm_disk(struct vm *vm, uint64_t *size)
{
	*size = vm->disk_size;
	return vm->disk_size ? (uint8_t *)(uintptr_t)vm->disk_host : NULL;
}

void *vm_dma(struct vm *vm, uint64_t gpa, uint64_t len)
{
	return mem_hva(&vm->mem, gpa, len, false);
}

uint32_t vm_e820_fw(const struct vm *vm, uint8_t *out, unsigned max)
{
	struct e820_entry map[MAX_MEM_REGIONS];
	unsigned n = mem_e820(&vm->mem, map, MIN(max, (unsigned)MAX_MEM_REGIONS));

	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = out + i * E820_FW_ENTRY;
		for (unsigned b = 0; b < 8; b++) {
			e[b] = (uint8_t)(map[i].addr >> (8 * b));
			e[8 + b] = (uint8_t)(map[i].size >> (8 * b));
		}
		for (unsigned b = 0; b < 4; b++)
			e[16 + b] = (uint8_t)(map[i].type >> (8 * b));
	}
	return n * E820_FW_ENTRY;
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

/* MMIO works by absence: nothing is mapped there, so an access faults to
 * us.  The range is a region of the memory map too, so nothing else can
 * be put there, and a range over RAM is refused. */
int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len, io_read_fn rd, io_write_fn wr,
		     void *dev, const char *name)
{
	struct io_range r = { .base = base, .len = len, .read = rd, .write = wr, .dev = dev, .name = name };
	struct mem_region reg = { .gpa = base, .size = len, .kind = REGION_MMIO, .name = name };

	if (mem_add(&vm->mem, &reg) || io_bus_add(&vm->bus, true, &r)) {
		pr_err("vm %s: %s: MMIO 0x%llx+0x%llx overlaps RAM or another device\n", vm->name, name,
		       (unsigned long long)base, (unsigned long long)len);
		return -1;
	}
	return 0;
}

int vm_unregister_pio(struct vm *vm, uint16_t base)
{
	return io_bus_remove(&vm->bus, false, base);
}

/* The range's region goes too: the addresses are nothing's again. */
int vm_unregister_mmio(struct vm *vm, uint64_t base)
{
	const struct io_range *r = io_bus_find(&vm->bus, true, base);
	uint64_t len;

	if (!r || r->base != base)
		return -1;
	len = r->len;
	io_bus_remove(&vm->bus, true, base);
	return mem_set(&vm->mem, base, len, NULL);
}

/* MSRs stay intercepted: the core's msr.c sends them here. */
int vm_register_msr(struct vm *vm, uint32_t first, uint32_t last, msr_read_fn rd, msr_write_fn wr, void *dev)
{
	if (vm->nr_msr == VM_MAX_MSR_RANGES || last < first || vm_msr_range(vm, first) || vm_msr_range(vm, last)) {
		pr_err("vm %s: MSRs 0x%x-0x%x: no room, or another device has them\n", vm->name, first, last);
		return -1;
	}
	vm->msr[vm->nr_msr++] = (struct msr_range){ first, last, rd, wr, dev };
	return 0;
}

const struct msr_range *vm_msr_range(const struct vm *vm, uint32_t msr)
{
	for (uint32_t i = 0; i < vm->nr_msr; i++)
		if (msr >= vm->msr[i].first && msr <= vm->msr[i].last)
			return &vm->msr[i];
	return NULL;
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

/* Guest TSC = host TSC + tsc_offset; the VM clock counts from start_tsc. */
uint64_t vcpu_tsc_to_vm_ns(struct vcpu *v, uint64_t guest_tsc)
{
	return tsc_to_ns(guest_tsc - v->tsc_offset - v->vm->start_tsc);
}

void vtimer_init(struct vtimer *t, struct vm *vm, void (*fire)(struct vtimer *, uint64_t), void *ctx)
{
	*t = (struct vtimer){ .vm = vm, .fire = fire, .ctx = ctx, .next = vm->timers };
	vm->timers = t;
}

void vtimer_set_home(struct vtimer *t, struct vcpu *v)
{
	t->home = v;
}

/* The vCPU whose CPU fires t: its home, else the VM's first. */
static struct vcpu *timer_home(const struct vtimer *t)
{
	return t->home ? t->home : &t->vm->vcpu[0];
}

/* Under the VM's lock.  The deadline may be closer than the one the
 * timer's CPU set its host timer for: kick it to look again. */
void vtimer_arm(struct vtimer *t, uint64_t deadline_ns)
{
	t->deadline = deadline_ns;
	t->armed = true;
	vcpu_kick(timer_home(t));
}

void vtimer_cancel(struct vtimer *t)
{
	t->armed = false;
}

uint64_t vm_run_timers(struct vm *vm, uint64_t now, uint32_t pcpu)
{
	uint64_t next = 0;

	for (struct vtimer *t = vm->timers; t; t = t->next) {
		if (timer_home(t)->pcpu != pcpu)
			continue;
		if (t->armed && t->deadline <= now) {
			t->armed = false;
			t->fire(t, now); /* may re-arm itself */
		}
		if (t->armed && (!next || t->deadline < next))
			next = t->deadline;
	}
	return next;
}

/* --- the console and the VM as a whole ---------------------------------------- */

void vm_set_console(struct vm *vm, const struct console_ops *ops, void *dev, uint16_t port)
{
	vm->console = ops;
	vm->console_dev = dev;
	vm->console_port = port;
}

uint16_t vm_console_port(const struct vm *vm)
{
	return vm->console ? vm->console_port : 0;
}

void vm_request_reset(struct vm *vm, const char *why)
{
	vm->reset_reason = why;
}

void vm_request_poweroff(struct vm *vm, const char *why)
{
	vm->poweroff_reason = why;
}

void vm_test_exit(struct vm *vm, uint32_t code)
{
	vm_console_flush(vm);
	vm->exit_code = (int)code;
	pr_info("vm %s exit code %u\n", vm->name, code);
	vm_stop(vm, "test-exit port written");
}
