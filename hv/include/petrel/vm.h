/* SPDX-License-Identifier: MIT */
/*
 * Virtual machines, vendor-neutral (hv/core/vm.c).
 *
 * A struct vm owns its guest-physical memory (a list of regions, memory.h),
 * its devices (instances the board created, with their port, MMIO and MSR
 * ranges), the wiring of their interrupts, and its vCPUs (vcpu.h).  What a
 * device may touch of it is in device.h; the core and the backends see
 * the whole struct.
 */
#ifndef PETREL_VM_H
#define PETREL_VM_H

#include <petrel/device.h>
#include <petrel/io_bus.h>
#include <petrel/memory.h>
#include <petrel/pagetable.h>
#include <petrel/pci.h>
#include <petrel/spinlock.h>
#include <petrel/vcpu.h>
#include <stdbool.h>
#include <stdint.h>

#define MAX_VMS 2
#define VM_NAME_MAX 16
#define VM_MAX_MSR_RANGES 8
#define VM_ARENA_BYTES (256u << 10) /* the devices' state */

struct board;

/* RESETTING: its RAM is being zeroed a piece at a time (guests.c), in the
 * vCPU's turns on its CPU, so a reset never holds the CPU for long. */
enum vm_state { VM_FREE, VM_RUNNING, VM_RESETTING, VM_STOPPED };

struct msr_range {
	uint32_t first, last;
	msr_read_fn read;
	msr_write_fn write;
	void *dev;
};

/* Where interrupts go: the chips on the GSIs (the board's table says
 * which pins), the local APICs' bus, the IOAPIC's EOI, the 8259's ExtINT. */
struct vm_irq {
	struct { void (*set_pin)(void *chip, unsigned pin, bool level); void *chip; } chip[NR_IRQCHIPS];
	void (*deliver)(void *ctx, const struct apic_msg *m);
	void *deliver_ctx;
	void (*eoi)(void *ctx, uint8_t vector);
	void *eoi_ctx;
	bool (*extint_pending)(void *ctx);
	int (*extint_ack)(void *ctx);
	void *extint_ctx;
	uint32_t taken;      /* GSIs a device took over (vm_take_gsi) */
	uint32_t src_level;  /* what each GSI's usual source drives */
};

struct vm {
	char name[VM_NAME_MAX];
	uint32_t id;
	enum vm_state state;
	struct spinlock lock;     /* protects the VM's device state and state changes */
	int exit_code;            /* from the test-exit port, or -1 */
	bool stop_counted;        /* the run loop has counted it stopped */
	bool stop_on_triple_fault; /* else it resets, as a PC does */
	const struct board *board;
	struct vm_memory mem;     /* guest-physical regions */
	uint64_t ram_size;        /* all of its RAM */
	uint64_t ram_low_max;     /* the most of it below the MMIO hole */
	uint64_t ram_host_low, ram_host_high; /* where it is in host memory: below the hole, above */
	uint64_t rom_host, rom_size; /* its firmware's copy (role=firmware), else 0 */
	uint16_t pm_base; /* where the ACPI PM block decodes now, 0 until placed */
	uint64_t disk_host, disk_size; /* its disk (role=disk), whole sectors, else 0 */
	uint32_t nr_vcpus;
	bool spans_cpus;          /* its vCPUs run on more than one physical CPU (run.c) */
	bool paused;              /* vm_pause: its vCPUs stay out of the guest */
	bool profiling;           /* its exits are recorded (profile.c) */
	struct vcpu vcpu[MAX_VCPUS_PER_VM];
	struct io_bus bus;
	struct pci_bus pci;        /* bus 0's functions (pci.c) */
	struct msr_range msr[VM_MAX_MSR_RANGES];
	uint32_t nr_msr;
	struct vm_irq irq;
	const struct console_ops *console;
	void *console_dev;
	uint16_t console_port;    /* its I/O port (vm_console_port) */
	char boot_order[VM_BOOT_ORDER_MAX]; /* vm_add_boot_device's paths, a line each */
	uint8_t *arena;           /* vm_alloc's memory */
	uint32_t arena_used;
	void *arch;               /* the backend's per-VM state: NPT/EPT root, bitmaps */
	uint64_t start_tsc;       /* host TSC when the VM (re)started: its clock's zero */
	struct vtimer *timers;    /* armed or not, every timer of the VM's devices */
	const char *reset_reason, *poweroff_reason; /* acted on by the run loop */
	uint64_t zeroed;          /* VM_RESETTING: bytes of RAM zeroed so far */
	uint32_t map_gen;         /* counts changes to the memory map (vm_set_memory) */
};

extern struct vm vms[MAX_VMS];
extern uint32_t stats_interval_s;

/* A disk (a module with role=disk): copied into memory of the VM's own,
 * where the guest's writes stay for its life (vm_disk, device.h); the
 * bytes past the last whole sector are not part of it.  0, or -1 after
 * an error line. */
#define DISK_SECTOR 512u
int vm_attach_disk(struct vm *vm, const uint8_t *data, uint64_t size);

/* A firmware image (a module with role=firmware): the VM's ROM, ending at
 * 4 GiB, its last 128 KiB also just below 1 MiB, where a PC's reset
 * vector and BIOS segment are.  64 KiB to 16 MiB, whole 64 KiB. */
struct vm_firmware {
	const uint8_t *data;
	uint64_t size;
};
#define FIRMWARE_MIN (64u << 10)
#define FIRMWARE_MAX (16u << 20)
#define FIRMWARE_LOW_MAX (128u << 10)

/* hv/core/vm.c */
/* nr_vcpus: 1 to MAX_VCPUS_PER_VM; below_4g: the most RAM under the MMIO
 * hole (0: the board's limit); fw: its firmware, or NULL (Petrel loads a
 * kernel itself). */
struct vm *vm_create(const char *name, uint32_t nr_vcpus, uint64_t ram_size, uint64_t below_4g,
		     const struct board *b, const struct vm_firmware *fw);
void vm_stop(struct vm *vm, const char *why);
void vm_destroy(struct vm *vm);
void vm_print_stats(struct vm *vm);
/* Every device and its ranges gone, the arena empty: before a (re)boot. */
void vm_clear_devices(struct vm *vm);
/* Fires every due timer of the VM that belongs to physical CPU pcpu (its
 * home vCPU runs there); returns the earliest remaining deadline of those
 * (VM clock, ns) or 0 if none is armed.  Under the VM's lock. */
uint64_t vm_run_timers(struct vm *vm, uint64_t now, uint32_t pcpu);
/* The MSR range a device registered for msr, or NULL. */
const struct msr_range *vm_msr_range(const struct vm *vm, uint32_t msr);

/* Guest RAM, ROM and nothing else into a second-level table (NPT or EPT)
 * at `root`: RAM with leaf flags `rw`, ROM with `ro`.  Every other
 * guest-physical access faults, so it is emulated. */
int vm_map_memory(const struct vm *vm, const struct pt_ops *ops, uint64_t root, uint64_t rw, uint64_t ro);
/* The same for the part of the map in [gpa, gpa+size); remap first
 * unmaps that part (a backend's remap, after vm_set_memory). */
int vm_map_range(const struct vm *vm, const struct pt_ops *ops, uint64_t root, uint64_t gpa, uint64_t size,
		 uint64_t rw, uint64_t ro);
int vm_remap_range(const struct vm *vm, const struct pt_ops *ops, uint64_t root, uint64_t gpa, uint64_t size,
		   uint64_t rw, uint64_t ro);
/* [gpa, gpa+size) of the memory map becomes r, or nothing (NULL), while
 * the VM runs: the nested tables follow, and every vCPU's TLB before it
 * enters again.  Under the VM's lock.  0, or -1 after an error line. */
int vm_set_memory(struct vm *vm, uint64_t gpa, uint64_t size, const struct mem_region *r);

/* Guest RAM (not ROM, not a device) at gpa. */
static inline bool gpa_is_ram(const struct vm *vm, uint64_t gpa)
{
	const struct mem_region *r = mem_lookup(&vm->mem, gpa);
	return r && r->kind == REGION_RAM;
}

/* hv/core/guests.c */
struct boot_info;
/* The VMs of the boot modules, their vCPUs on CPUs first..ncpus-1. */
uint32_t guests_start(const struct boot_info *bi, uint32_t first, uint32_t ncpus);
void vm_reset(struct vm *vm, const char *why);
void vm_reset_step(struct vm *vm);

/* hv/core/run.c: the scheduler and run loop, one per physical CPU */
int run_assign(struct vcpu *v, uint32_t pcpu, bool floats);
void run_start(uint32_t first); /* CPUs below `first` take no vCPU */
/* Every vCPU of the VM out of its guest soon: the state changed. */
void vm_kick_all(struct vm *vm);
/* No vCPU of the VM but `except` (NULL: none) is in the run loop's
 * hands (run.c). */
bool vm_others_out(struct vm *vm, const struct vcpu *except);
/* The VM as a whole held out of the guest (the shell; later the debugger):
 * vm_pause kicks every vCPU out and keeps them out until vm_resume; its
 * devices and clock go on (timers fire, interrupts wait to be taken).
 * vm_pause returns at once; vm_is_paused says when no vCPU is left in
 * the guest and each one's registers are in its struct vcpu_regs
 * (REG_ALL_STATE valid: fetched by its own CPU, so any CPU may read them).
 * Either may be called with or without the VM's lock. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
bool vm_is_paused(struct vm *vm);
/* vm_pause, then up to `us` for it to take hold, fetching the registers of
 * this CPU's own vCPUs meanwhile (its run loop is the caller: the shell,
 * the GDB stub); a VM paused already is not kicked again.  Whether it is
 * paused now. */
bool vm_pause_wait(struct vm *vm, uint32_t us);
void run_loop(void) __attribute__((noreturn));

/* hv/core/gmem.c: the guest's memory, as the hypervisor sees it */
#include <petrel/gmem.h>

#endif
