/* SPDX-License-Identifier: MIT */
/*
 * A fake VM for the device models' unit tests: tests/unit/fake_vm.c
 * implements what a device sees of the hypervisor (petrel/device.h) over
 * a plain struct vm, with a clock the test sets, timers the test fires,
 * and every interrupt line, message and request recorded for the test
 * to check.  Ports and MMIO go on the VM's real io_bus.
 */
#ifndef TESTS_UNIT_FAKE_VM_H
#define TESTS_UNIT_FAKE_VM_H

#include <petrel/board.h>
#include <petrel/device.h>
#include <petrel/vm.h>

extern struct vm fake_vm;
extern uint64_t fake_now;                /* vm_now_ns(); tsc_to_ns() is the identity */
extern uint64_t fake_wallclock;          /* wallclock_ns() */
extern bool fake_x2apic;                 /* vcpu_x2apic_offered() */
extern bool fake_gsi_level[NR_GSI];      /* the last vm_set_gsi() of each */
extern bool fake_gsi_taken[NR_GSI];      /* vm_take_gsi() */
extern unsigned fake_gsi_pulses[NR_GSI]; /* vm_pulse_gsi() counts */
extern unsigned fake_gsi_rises[NR_GSI];  /* vm_set_gsi() from low to high */
extern unsigned fake_apic_msgs;          /* vm_send_apic_msg() calls with no bus set */
extern struct apic_msg fake_last_msg;
extern unsigned fake_eois, fake_nmis;
extern unsigned fake_inits, fake_sipis;   /* vcpu_init_signal(), vcpu_sipi() (they latch in the vCPU) */
extern uint8_t fake_last_eoi;
extern const char *fake_reset_why, *fake_poweroff_why;
extern unsigned fake_resets;
extern int fake_exit_code;               /* vm_test_exit(), -1 before */
extern int fake_shadow[16];              /* vm_shadow(): the mode of each 16 KiB from 0xc0000 */
extern unsigned fake_shadow_calls;
extern uint8_t *fake_ram;                /* the VM's RAM from 0, for DMA (vm_dma) */
extern uint8_t *fake_disk;               /* vm_disk(): set both for a VM with a disk */
extern uint64_t fake_disk_size;

/* A fresh VM of nr_vcpus vCPUs, `ram` bytes of RAM from 0; every record
 * cleared, the clock at 0. */
void fake_vm_reset(uint32_t nr_vcpus, uint64_t ram);
/* Creates a device as a board would place it. */
int fake_create(const struct device_type *t, uint16_t port, uint64_t mmio, int gsi);
/* The same for a PCI device, at devfn of bus 0. */
int fake_create_pci(const struct device_type *t, uint8_t devfn, uint16_t port, int gsi);
/* Fires the timers due at `now` (and sets the clock to it). */
void fake_run_timers(uint64_t now);
/* Port and MMIO accesses through the VM's bus (asserting a device is there). */
uint64_t fake_in(uint16_t port, uint8_t size);
void fake_out(uint16_t port, uint8_t size, uint64_t val);
uint64_t fake_mmio_read(struct vcpu *v, uint64_t gpa, uint8_t size);
void fake_mmio_write(struct vcpu *v, uint64_t gpa, uint8_t size, uint64_t val);
/* An MSR a device registered: 0, or -1 (#GP). */
int fake_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);
int fake_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);

#endif
