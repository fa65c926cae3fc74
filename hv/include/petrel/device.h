/* SPDX-License-Identifier: MIT */
/*
 * What a device of the emulated PC sees of the hypervisor (hv/dev/), and
 * nothing more: its VM and vCPUs as opaque handles, guest time and
 * timers, its ports, MMIO and MSRs, interrupt lines and messages, the
 * console, and requests to the VM as a whole.  No VMCB, VMCS, register
 * block or run loop.
 *
 * A device is a type (struct device_type) that the board (petrel/board.h)
 * instantiates in each VM: create() allocates its state with vm_alloc(),
 * claims its ranges, wires its interrupts.  A reset of the VM throws all
 * of that away and creates the devices afresh.
 *
 * Time.  Every VM has a clock in nanoseconds since it was (re)started,
 * derived from the host TSC.  Devices never read the TSC themselves: they
 * take `now` from vm_now_ns() (or as an argument) so their pure parts can
 * be unit-tested with any clock.  A device that must act later arms a
 * struct vtimer with an absolute deadline on that clock; the run loop
 * fires due timers before entering the guest, on the CPU that runs the VM.
 *
 * Interrupts.  A device drives a GSI (vm_set_gsi); the board's GSI table
 * routes it to the pins of the interrupt controllers (the 8259 pair and
 * the IOAPIC, which register themselves as chips).  Controllers talk to
 * the local APICs in messages (vm_send_apic_msg), the APICs tell the
 * IOAPIC of EOIs (vm_eoi), and the 8259 offers ExtINT.  Each vCPU takes
 * its interrupts from the sources registered on it: its local APIC, and
 * raw vectors from Petrel's own test device.
 */
#ifndef PETREL_DEVICE_H
#define PETREL_DEVICE_H

#include <petrel/io_bus.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct board_device;

#define NS_PER_SEC 1000000000ull

/* The shortest period a periodic timer source interrupts with (KVM's
 * default floor for the same reason): a guest that programs a shorter one
 * (a 1-count LAPIC or PIT period, a 1 us test-device tick) would otherwise
 * spend every moment in its handler, each interrupt costing an exit.  Real
 * hardware is bounded the same way by the time an interrupt takes.  The
 * counters a guest reads still count at the programmed rate. */
#define TIMER_MIN_PERIOD_NS 200000ull

/* --- a device type and its instances ------------------------------------- */

struct device_type {
	const char *name;
	/* Creates the device in the VM as the board describes it. */
	int (*create)(struct vm *vm, const struct board_device *bd);
};

/* Zeroed memory for a device's state, in the VM's arena: it lives until
 * the VM resets or ends.  NULL when the arena is full (create fails). */
void *vm_alloc(struct vm *vm, size_t size);

const char *vm_name(const struct vm *vm);
uint32_t vm_nr_vcpus(const struct vm *vm);
struct vcpu *vm_vcpu(struct vm *vm, uint32_t i);
struct vm *vcpu_vm(const struct vcpu *v);
uint32_t vcpu_index(const struct vcpu *v);
uint64_t vm_ram_size(const struct vm *vm);     /* all of its RAM, bytes */
uint64_t vm_ram_below_4g(const struct vm *vm); /* the RAM below the MMIO hole (the rest is above 4 GiB) */
bool vm_has_firmware(const struct vm *vm);    /* it starts from a firmware ROM (role=firmware) */
/* The chipset's ACPI PM block now decodes at `port`: the ACPI tables built
 * from now on say so (the PM device calls it when firmware moves it). */
void vm_set_pm_base(struct vm *vm, uint16_t port);
/* The board's ACPI tables as QEMU's table-loader files for the VM's
 * firmware (acpi_build.h, acpi_build_linked), built again on each call
 * into out's buffers, so they say where the PM block is now.  0, or -1. */
struct acpi_linked;
int vm_acpi_linked(struct vm *vm, struct acpi_linked *out);
/* Its disk (role=disk): the bytes, writable, and their size (whole
 * sectors); NULL for a VM without one. */
uint8_t *vm_disk(struct vm *vm, uint64_t *size);
/* A device firmware can boot from names itself in OpenFirmware's
 * notation, as QEMU's `bootorder` file has it ("/pci@i0cf8/scsi@3/disk@0,0");
 * fw_cfg offers the VM's list, in the order the board made them, to its
 * firmware (the devices that boot come before fw-cfg in the board).  0, or
 * -1 when the list has no room (the path is left out). */
#define VM_BOOT_ORDER_MAX 128
int vm_add_boot_device(struct vm *vm, const char *path);
/* The list, a path per line ("" for none). */
const char *vm_boot_order(const struct vm *vm);
/* A device's DMA: the host address of [gpa, gpa+len) when all of it is the
 * VM's RAM (not ROM, not a device, not nothing), else NULL. */
void *vm_dma(struct vm *vm, uint64_t gpa, uint64_t len);
/* The VM's memory map as QEMU's fw_cfg file etc/e820 gives it to firmware:
 * 20-byte little-endian entries (address, length, type 1 RAM or 2
 * reserved), at most max of them into out; how many bytes. */
#define E820_FW_ENTRY 20
uint32_t vm_e820_fw(const struct vm *vm, uint8_t *out, unsigned max);

/* The chipset's shadowing of the BIOS area, 0xc0000-0xfffff in 16 KiB
 * segments (the i440FX's PAM registers): what reads and writes of
 * [gpa, gpa+size) reach.  SHADOW_OFF: the firmware's ROM (its last
 * 128 KiB end at 1 MiB) where it lies, else nothing; SHADOW_RO: the RAM
 * behind it, writes dropped; SHADOW_RW: that RAM.  0, or -1 for a range
 * outside the area or not whole segments. */
#define SHADOW_START 0xc0000ull
enum shadow_mode { SHADOW_OFF, SHADOW_RO, SHADOW_RW };
int vm_shadow(struct vm *vm, uint64_t gpa, uint64_t size, enum shadow_mode mode);

/* --- claiming ports, MMIO, MSRs ------------------------------------------- */

int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len, io_read_fn rd, io_write_fn wr,
		    void *dev, const char *name);
/* An MMIO range: also a region of the VM's memory map (memory.h), so it
 * never overlaps RAM and every access to it exits. */
int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len, io_read_fn rd, io_write_fn wr,
		     void *dev, const char *name);
/* The range that starts at base goes (a BAR moved, a block the firmware
 * relocates): 0, or -1 if none starts there. */
int vm_unregister_pio(struct vm *vm, uint16_t base);
int vm_unregister_mmio(struct vm *vm, uint64_t base);
/* MSRs first..last: read/write return 0, or -1 for #GP. */
typedef int (*msr_read_fn)(void *dev, struct vcpu *v, uint32_t msr, uint64_t *val);
typedef int (*msr_write_fn)(void *dev, struct vcpu *v, uint32_t msr, uint64_t val);
int vm_register_msr(struct vm *vm, uint32_t first, uint32_t last, msr_read_fn rd, msr_write_fn wr,
		    void *dev);

/* --- time ------------------------------------------------------------------ */

uint64_t vm_now_ns(struct vm *vm);
uint64_t tsc_to_ns(uint64_t ticks);
uint64_t ns_to_tsc(uint64_t ns);

struct vtimer {
	struct vm *vm;
	uint64_t deadline; /* VM clock, ns; meaningful while armed */
	bool armed;
	void (*fire)(struct vtimer *t, uint64_t now);
	void *ctx;
	struct vtimer *next; /* the VM's list of timers (vm.c) */
	struct vcpu *home;   /* whose CPU fires it (a local APIC's timer); NULL: the first vCPU's */
};

void vtimer_init(struct vtimer *t, struct vm *vm, void (*fire)(struct vtimer *, uint64_t), void *ctx);
void vtimer_arm(struct vtimer *t, uint64_t deadline_ns);
void vtimer_cancel(struct vtimer *t);
/* A timer that belongs to one vCPU fires on that vCPU's CPU. */
void vtimer_set_home(struct vtimer *t, struct vcpu *v);

/* --- interrupts --------------------------------------------------------------- */

#define NR_GSI 24

/* The interrupt controllers the board's GSI table names. */
enum irq_chip_id { IRQCHIP_PIC, IRQCHIP_IOAPIC, NR_IRQCHIPS };

void vm_register_irq_chip(struct vm *vm, enum irq_chip_id id, void (*set_pin)(void *chip, unsigned pin, bool level),
			  void *chip);
/* A GSI's level (level-triggered sources), or a pulse (edge sources). */
void vm_set_gsi(struct vm *vm, unsigned gsi, bool level);
void vm_pulse_gsi(struct vm *vm, unsigned gsi);
/* A device may take a GSI over from the source the board wires to it, as
 * the chipset disconnects the PIT and the RTC when the HPET's legacy
 * replacement route takes ISA IRQs 0 and 8.  While taken, the line
 * follows only vm_drive_taken_gsi(); what the usual source drives meanwhile
 * is remembered, and the line returns to it when the GSI is given back. */
void vm_take_gsi(struct vm *vm, unsigned gsi, bool take);
void vm_drive_taken_gsi(struct vm *vm, unsigned gsi, bool level);

/* An interrupt message to local APICs (SDM vol. 3A §11.6): from the
 * IOAPIC, an IPI, later MSIs.  mode: 0 fixed, 1 lowest priority, 4 NMI,
 * 5 INIT, 6 SIPI, 7 ExtINT. */
struct apic_msg {
	uint32_t dest;
	bool logical, level;
	uint8_t vector, mode;
};
void vm_send_apic_msg(struct vm *vm, const struct apic_msg *m);
void vm_set_apic_bus(struct vm *vm, void (*deliver)(void *ctx, const struct apic_msg *m), void *ctx);
/* A level-triggered vector was EOI'd at a local APIC. */
void vm_eoi(struct vm *vm, uint8_t vector);
void vm_set_eoi_listener(struct vm *vm, void (*eoi)(void *ctx, uint8_t vector), void *ctx);
/* The 8259's INT line and its acknowledge cycle (ExtINT). */
void vm_set_extint(struct vm *vm, bool (*pending)(void *ctx), int (*ack)(void *ctx), void *ctx);
bool vm_extint_pending(struct vm *vm);
int vm_extint_ack(struct vm *vm);

/* A vCPU's interrupt inputs.  A source says whether it has a vector for
 * the vCPU now and gives it up (moving it to in-service, for an APIC). */
struct vcpu_irq_source {
	bool (*pending)(void *ctx);
	int (*take)(void *ctx); /* the vector, or -1 */
	void *ctx;
};
int vcpu_add_irq_source(struct vcpu *v, bool (*pending)(void *), int (*take)(void *), void *ctx);
/* The local APIC's part in the CPU: its TPR is CR8, and CPUID's APIC
 * bit follows its global enable (IA32_APIC_BASE.EN). */
struct vcpu_apic_ops {
	uint8_t (*get_tpr)(void *apic);
	void (*set_tpr)(void *apic, uint8_t tpr);
	bool (*enabled)(void *apic);
};
void vcpu_set_apic(struct vcpu *v, const struct vcpu_apic_ops *ops, void *apic);
void vcpu_nmi(struct vcpu *v);      /* an NMI arrives */
/* INIT: the vCPU resets and waits for a SIPI (INIT to the first vCPU
 * resets the VM); a startup IPI starts a waiting vCPU in real mode at
 * vector × 4 KiB, and is ignored by one that is not waiting (smp.c). */
void vcpu_init_signal(struct vcpu *v);
void vcpu_sipi(struct vcpu *v, uint8_t vector);
bool vcpu_x2apic_offered(struct vcpu *v); /* CPUID.1:ECX[21] as the guest sees it */
/* A guest TSC value (what RDTSC returns in the guest) on the VM clock. */
uint64_t vcpu_tsc_to_vm_ns(struct vcpu *v, uint64_t guest_tsc);
void vcpu_kick(struct vcpu *v);     /* an interrupt arrived: leave HLT if halted */

/* --- the console and the VM as a whole ------------------------------------------ */

/* The device that connects the VM to Petrel's serial console (its COM1):
 * what is typed for the VM comes in through these (hv/core/console.c). */
struct console_ops {
	bool (*input_ready)(void *dev);           /* room for one more typed byte? */
	void (*input)(void *dev, uint8_t c);
};
void vm_set_console(struct vm *vm, const struct console_ops *ops, void *dev, uint16_t port);
/* That device's I/O port (COM1's 0x3f8), or 0 for a VM without one: where
 * firmware may mirror its screen, the VM having no display.  Known once
 * the device is made (the board makes it before fw_cfg). */
uint16_t vm_console_port(const struct vm *vm);
/* A byte the guest wrote to its console, under the VM's lock: Petrel's
 * console shows it (and keeps it for the shell's `vm output`). */
void vm_console_out(struct vm *vm, uint8_t c);
/* A byte of the VM's firmware debug log (its debugcon), under the VM's
 * lock: shown a whole line at a time, never inside a line of its console
 * (hv/core/console.c). */
void vm_debug_out(struct vm *vm, uint8_t c);
/* Its output ends here for now (a stop, a reset): a partial line is ended. */
void vm_console_flush(struct vm *vm);

/* What a write asks of the VM as a whole, for the models that return it;
 * their glue turns it into vm_request_reset() or vm_request_poweroff(). */
enum dev_request { DEV_REQ_NONE, DEV_REQ_RESET, DEV_REQ_POWEROFF };

void vm_request_reset(struct vm *vm, const char *why);    /* reboot: fresh RAM, fresh kernel */
void vm_request_poweroff(struct vm *vm, const char *why); /* ends the VM */
void vm_test_exit(struct vm *vm, uint32_t code);          /* the test-exit port: ends the VM with a code */

#endif
