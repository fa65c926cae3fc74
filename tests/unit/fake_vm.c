/* SPDX-License-Identifier: MIT */
/* The device API over a fake VM; see fake_vm.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/acpi_build.h>
#include <petrel/lib.h>
#include <petrel/log.h>

#include "fake_vm.h"

struct vm fake_vm;
uint64_t fake_now, fake_wallclock;
bool fake_x2apic;
bool fake_gsi_level[NR_GSI], fake_gsi_taken[NR_GSI];
unsigned fake_gsi_pulses[NR_GSI], fake_gsi_rises[NR_GSI];
unsigned fake_apic_msgs, fake_eois, fake_nmis, fake_resets, fake_inits, fake_sipis;
struct apic_msg fake_last_msg;
uint8_t fake_last_eoi;
const char *fake_reset_why, *fake_poweroff_why;
int fake_exit_code = -1;

static uint8_t arena[VM_ARENA_BYTES] __attribute__((aligned(64)));
/* Guest RAM for DMA: a zeroed buffer as big as the VM's RAM, made at each
 * reset; a disk the test sets. */
uint8_t *fake_ram;
static uint64_t fake_ram_size;
uint8_t *fake_disk;
uint64_t fake_disk_size;
static uint64_t ram_bytes;

/* What the fake VM's board says: only what devices and the PCI bus read. */
static const struct board fake_board = { .name = "fake", .pirq_gsi = 16 };

void fake_vm_reset(uint32_t nr_vcpus, uint64_t ram)
{
	memset(&fake_vm, 0, sizeof(fake_vm));
	fake_vm.board = &fake_board;
	memset(arena, 0, sizeof(arena));
	fake_vm.arena = arena;
	fake_vm.nr_vcpus = nr_vcpus;
	for (uint32_t i = 0; i < nr_vcpus; i++) {
		fake_vm.vcpu[i].vm = &fake_vm;
		fake_vm.vcpu[i].id = i;
	}
	ram_bytes = ram;
	free(fake_ram);
	fake_ram = calloc(1, ram);
	fake_ram_size = fake_ram ? ram : 0;
	fake_disk = NULL;
	fake_disk_size = 0;
	fake_vm.ram_size = ram;
	fake_now = 0;
	memset(fake_shadow, 0, sizeof(fake_shadow));
	fake_shadow_calls = 0;
	fake_x2apic = false;
	memset(fake_gsi_level, 0, sizeof(fake_gsi_level));
	memset(fake_gsi_taken, 0, sizeof(fake_gsi_taken));
	memset(fake_gsi_pulses, 0, sizeof(fake_gsi_pulses));
	memset(fake_gsi_rises, 0, sizeof(fake_gsi_rises));
	fake_apic_msgs = fake_eois = fake_nmis = fake_resets = fake_inits = fake_sipis = 0;
	fake_last_eoi = 0;
	fake_reset_why = fake_poweroff_why = NULL;
	fake_exit_code = -1;
}

int fake_create(const struct device_type *t, uint16_t port, uint64_t mmio, int gsi)
{
	struct board_device bd = { .type = t, .id = t->name, .port = port, .mmio = mmio, .gsi = (int8_t)gsi };
	return t->create(&fake_vm, &bd);
}

int fake_create_pci(const struct device_type *t, uint8_t devfn, uint16_t port, int gsi)
{
	struct board_device bd = { .type = t, .id = t->name, .port = port, .gsi = (int8_t)gsi, .devfn = devfn };
	return t->create(&fake_vm, &bd);
}

void fake_run_timers(uint64_t now)
{
	fake_now = now;
	for (struct vtimer *t = fake_vm.timers; t; t = t->next)
		if (t->armed && t->deadline <= now) {
			t->armed = false;
			t->fire(t, now);
		}
}

uint64_t fake_in(uint16_t port, uint8_t size)
{
	uint64_t v = 0;
	assert_true(io_bus_access(&fake_vm.bus, false, &fake_vm.vcpu[0], port, size, false, &v));
	return v;
}

void fake_out(uint16_t port, uint8_t size, uint64_t val)
{
	assert_true(io_bus_access(&fake_vm.bus, false, &fake_vm.vcpu[0], port, size, true, &val));
}

uint64_t fake_mmio_read(struct vcpu *v, uint64_t gpa, uint8_t size)
{
	uint64_t val = 0;
	assert_true(io_bus_access(&fake_vm.bus, true, v, gpa, size, false, &val));
	return val;
}

void fake_mmio_write(struct vcpu *v, uint64_t gpa, uint8_t size, uint64_t val)
{
	assert_true(io_bus_access(&fake_vm.bus, true, v, gpa, size, true, &val));
}

static const struct msr_range *msr_range(uint32_t msr)
{
	for (uint32_t i = 0; i < fake_vm.nr_msr; i++)
		if (msr >= fake_vm.msr[i].first && msr <= fake_vm.msr[i].last)
			return &fake_vm.msr[i];
	return NULL;
}

int fake_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	const struct msr_range *r = msr_range(msr);
	assert_non_null(r);
	return r->read(r->dev, v, msr, val);
}

int fake_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
	const struct msr_range *r = msr_range(msr);
	assert_non_null(r);
	return r->write(r->dev, v, msr, val);
}

/* --- device.h ------------------------------------------------------------------- */

void *vm_alloc(struct vm *vm, size_t size)
{
	uint32_t at = (vm->arena_used + 63u) & ~63u;
	if (size > VM_ARENA_BYTES || at > VM_ARENA_BYTES - size)
		return NULL;
	vm->arena_used = at + (uint32_t)size;
	return vm->arena + at;
}

const char *vm_name(const struct vm *vm) { (void)vm; return "fake"; }
uint32_t vm_nr_vcpus(const struct vm *vm) { return vm->nr_vcpus; }
struct vcpu *vm_vcpu(struct vm *vm, uint32_t i) { return i < vm->nr_vcpus ? &vm->vcpu[i] : NULL; }
struct vm *vcpu_vm(const struct vcpu *v) { return v->vm; }
uint32_t vcpu_index(const struct vcpu *v) { return v->id; }
uint64_t vm_ram_size(const struct vm *vm) { (void)vm; return ram_bytes; }
uint64_t vm_ram_below_4g(const struct vm *vm) { (void)vm; return ram_bytes < 0xc0000000ull ? ram_bytes : 0xc0000000ull; }
bool vm_has_firmware(const struct vm *vm) { return vm->rom_size != 0; }
void vm_set_pm_base(struct vm *vm, uint16_t port) { vm->pm_base = port; }
/* Empty tables: the fw_cfg device offers its three files, each empty. */
int vm_acpi_linked(struct vm *vm, struct acpi_linked *out)
{
	(void)vm;
	out->tables_len = out->loader_len = 0;
	return 0;
}


uint8_t *vm_disk(struct vm *vm, uint64_t *size)
{
	(void)vm;
	*size = fake_disk_size;
	return fake_disk_size ? fake_disk : NULL;
}

void *vm_dma(struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)vm;
	if (!fake_ram || gpa >= fake_ram_size || len > fake_ram_size - gpa)
		return NULL;
	return fake_ram + gpa;
}

/* The shadowing a device asked for, per 16 KiB of 0xc0000-0xfffff. */
int fake_shadow[16];
unsigned fake_shadow_calls;

int vm_shadow(struct vm *vm, uint64_t gpa, uint64_t size, enum shadow_mode mode)
{
	(void)vm;
	if (gpa < SHADOW_START || gpa + size > 0x100000 || !size || (gpa | size) & 0x3fff)
		return -1;
	for (uint64_t a = gpa; a < gpa + size; a += 0x4000)
		fake_shadow[(a - SHADOW_START) / 0x4000] = (int)mode;
	fake_shadow_calls++;
	return 0;
}

/* One entry: all of the fake VM's RAM from 0, as RAM (type 1). */
uint32_t vm_e820_fw(const struct vm *vm, uint8_t *out, unsigned max)
{
	(void)vm;
	if (!max)
		return 0;
	memset(out, 0, E820_FW_ENTRY);
	for (unsigned b = 0; b < 8; b++)
		out[8 + b] = (uint8_t)(ram_bytes >> (8 * b));
	out[16] = 1;
	return E820_FW_ENTRY;
}

int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len, io_read_fn rd, io_write_fn wr, void *dev,
		    const char *name)
{
	struct io_range r = { .base = base, .len = len, .read = rd, .write = wr, .dev = dev, .name = name };
	return io_bus_add(&vm->bus, false, &r);
}

int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len, io_read_fn rd, io_write_fn wr, void *dev,
		     const char *name)
{
	struct io_range r = { .base = base, .len = len, .read = rd, .write = wr, .dev = dev, .name = name };
	return io_bus_add(&vm->bus, true, &r);
}

int vm_unregister_pio(struct vm *vm, uint16_t base)
{
	return io_bus_remove(&vm->bus, false, base);
}

int vm_unregister_mmio(struct vm *vm, uint64_t base)
{
	return io_bus_remove(&vm->bus, true, base);
}

int vm_register_msr(struct vm *vm, uint32_t first, uint32_t last, msr_read_fn rd, msr_write_fn wr, void *dev)
{
	if (vm->nr_msr == VM_MAX_MSR_RANGES || last < first || msr_range(first) || msr_range(last))
		return -1;
	vm->msr[vm->nr_msr++] = (struct msr_range){ first, last, rd, wr, dev };
	return 0;
}

uint64_t vm_now_ns(struct vm *vm) { (void)vm; return fake_now; }
uint64_t tsc_to_ns(uint64_t ticks) { return ticks; }
uint64_t ns_to_tsc(uint64_t ns) { return ns; }
uint64_t wallclock_ns(void) { return fake_wallclock; }

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

void vtimer_cancel(struct vtimer *t) { t->armed = false; }
void vtimer_set_home(struct vtimer *t, struct vcpu *v) { t->home = v; }

void vm_register_irq_chip(struct vm *vm, enum irq_chip_id id, void (*set_pin)(void *, unsigned, bool), void *chip)
{
	vm->irq.chip[id].set_pin = set_pin;
	vm->irq.chip[id].chip = chip;
}

void vm_set_gsi(struct vm *vm, unsigned gsi, bool level)
{
	(void)vm;
	assert_true(gsi < NR_GSI);
	fake_gsi_rises[gsi] += level && !fake_gsi_level[gsi];
	fake_gsi_level[gsi] = level;
}

/* A taken GSI: the taker's drive is recorded as vm_set_gsi()'s is. */
void vm_take_gsi(struct vm *vm, unsigned gsi, bool take)
{
	(void)vm;
	assert_true(gsi < NR_GSI);
	fake_gsi_taken[gsi] = take;
	fake_gsi_level[gsi] = false;
}

void vm_drive_taken_gsi(struct vm *vm, unsigned gsi, bool level)
{
	assert_true(gsi < NR_GSI && fake_gsi_taken[gsi]);
	vm_set_gsi(vm, gsi, level);
}

void vm_pulse_gsi(struct vm *vm, unsigned gsi)
{
	(void)vm;
	assert_true(gsi < NR_GSI);
	fake_gsi_pulses[gsi]++;
}

void vm_set_apic_bus(struct vm *vm, void (*deliver)(void *, const struct apic_msg *), void *ctx)
{
	vm->irq.deliver = deliver;
	vm->irq.deliver_ctx = ctx;
}

void vm_send_apic_msg(struct vm *vm, const struct apic_msg *m)
{
	fake_last_msg = *m;
	if (vm->irq.deliver)
		vm->irq.deliver(vm->irq.deliver_ctx, m);
	else
		fake_apic_msgs++;
}

void vm_set_eoi_listener(struct vm *vm, void (*eoi)(void *, uint8_t), void *ctx)
{
	vm->irq.eoi = eoi;
	vm->irq.eoi_ctx = ctx;
}

void vm_eoi(struct vm *vm, uint8_t vector)
{
	fake_eois++;
	fake_last_eoi = vector;
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

int vcpu_add_irq_source(struct vcpu *v, bool (*pending)(void *), int (*take)(void *), void *ctx)
{
	for (unsigned i = 0; i < VCPU_IRQ_SOURCES; i++)
		if (!v->irq[i].pending) {
			v->irq[i] = (struct vcpu_irq_source){ pending, take, ctx };
			return 0;
		}
	return -1;
}

void vcpu_set_apic(struct vcpu *v, const struct vcpu_apic_ops *ops, void *apic)
{
	v->apic_ops = ops;
	v->apic = apic;
}

void vcpu_nmi(struct vcpu *v) { (void)v; fake_nmis++; }
void vcpu_init_signal(struct vcpu *v) { v->init_pending = true; fake_inits++; }
void vcpu_sipi(struct vcpu *v, uint8_t vector) { v->sipi_pending = true; v->sipi_vector = vector; fake_sipis++; }
bool vcpu_x2apic_offered(struct vcpu *v) { (void)v; return fake_x2apic; }
uint64_t vcpu_tsc_to_vm_ns(struct vcpu *v, uint64_t guest_tsc) { (void)v; return guest_tsc; }
void vcpu_kick(struct vcpu *v) { v->halted = false; }

void vm_set_console(struct vm *vm, const struct console_ops *ops, void *dev, uint16_t port)
{
	vm->console = ops;
	vm->console_dev = dev;
	vm->console_port = port;
}

/* The boot order as the core keeps it (hv/core/vm.c): a path per line. */
int vm_add_boot_device(struct vm *vm, const char *path)
{
	return str_append_line(vm->boot_order, sizeof(vm->boot_order), path);
}

const char *vm_boot_order(const struct vm *vm) { return vm->boot_order; }

uint16_t vm_console_port(const struct vm *vm)
{
	return vm->console ? vm->console_port : 0;
}

void vm_console_flush(struct vm *vm) { (void)vm; }
void vm_console_out(struct vm *vm, uint8_t c) { (void)vm; (void)c; }
void vm_debug_out(struct vm *vm, uint8_t c) { (void)vm; (void)c; }
void vm_request_reset(struct vm *vm, const char *why) { (void)vm; fake_reset_why = why; fake_resets++; }
void vm_request_poweroff(struct vm *vm, const char *why) { (void)vm; fake_poweroff_why = why; }
void vm_test_exit(struct vm *vm, uint32_t code) { (void)vm; fake_exit_code = (int)code; }

void log_printf(int level, const char *fmt, ...) { (void)level, (void)fmt; }
void log_raw(const char *fmt, ...) { (void)fmt; }
