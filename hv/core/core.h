/* SPDX-License-Identifier: MIT */
/*
 * The core's own pieces, for its files only: the neutral exit handlers
 * and the emulation they use, what guests see of the CPU, and the run
 * loop.  Neither the backends nor the devices include this.
 */
#ifndef CORE_CORE_H
#define CORE_CORE_H

#include <petrel/vm.h>

struct cpuid_regs;
struct x86_insn;

/* floor.c: the round trip of an empty exit, measured at boot (banner) */
void exit_floor_measure(void);
extern uint64_t exit_floor_cpuid_ns, exit_floor_in_ns; /* 0: not measured */
/* run.c: what each physical CPU runs (the shell's `cpus`); the registers
 * of the paused vCPUs this CPU holds, fetched (the shell waits on CPU 0
 * for a VM to pause, while that CPU's own tick cannot run) */
void run_show_cpus(void);
void run_fetch_paused_here(void);

/* smp.c: a vCPU's state after INIT, running in real mode at cs:rip (cs's
 * base as given: the reset vector's F000:FFF0 has base 0xffff0000), EDX
 * the processor signature. */
void vcpu_real_mode_start(struct vcpu *v, uint16_t cs, uint64_t cs_base, uint64_t rip);

/* exit.c: the neutral handlers, one per exit kind. */
void exit_dispatch(struct vcpu *v);

/* cpuid.c, msr.c: what guests see of the CPU */
struct cpuid_regs guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub);
void msr_vm_init(struct vm *vm);
int msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int msr_write(struct vcpu *v, uint32_t msr, uint64_t val);

/* pvclock.c: the KVM clock ABI for Linux guests */
#define PVCLOCK_CPUID_BASE 0x40000100u
#define PVCLOCK_MSR_WALL_CLOCK 0x4b564d00u
#define PVCLOCK_MSR_SYSTEM_TIME 0x4b564d01u
bool pvclock_cpuid(struct vcpu *v, uint32_t leaf, struct cpuid_regs *r);
int pvclock_msr(struct vcpu *v, uint32_t msr, bool write, uint64_t *val);

/* emulate.c: instructions Petrel looks at itself */
int vcpu_decode(struct vcpu *v, struct x86_insn *insn);
/* The bytes at CS:rip, as many as the guest can fetch (up to 15), and
 * the mode to decode them in. */
enum x86_mode;
/* The linear address of CS:RIP. */
uint64_t vcpu_pc_linear(struct vcpu *v);
size_t vcpu_insn_bytes(struct vcpu *v, uint64_t rip, uint8_t bytes[15], enum x86_mode *mode);
/* vm.c: an exit kind's name, as the statistics print it */
const char *exit_kind_name(enum exit_kind k);
/* profile.c: the live exit profiler (the shell's `profile`) */
void profile_exit(struct vcpu *v, enum exit_kind kind, uint64_t rip, uint64_t tsc_in_petrel);
int profile_start(struct vm *vm, uint32_t seconds);
void profile_service(void);
bool profile_pending(void); /* a VM is profiled: CPU 0 must come round to end it */
int emulate_mmio(struct vcpu *v);

/* string_io.c: INS/OUTS, at most STRING_IO_CHUNK elements per exit */
#define STRING_IO_CHUNK 1024
enum string_io_result {
	STRING_IO_DONE,  /* finished: move past the instruction */
	STRING_IO_MORE,  /* a REP with elements left: re-execute it */
	STRING_IO_FAULT, /* an exception was injected */
	STRING_IO_STOP,  /* could not decode it: the VM was stopped */
};
enum string_io_result emulate_string_io(struct vcpu *v);

/* ctrlreg.c, task.c: control registers and EFER, checked as the CPU does;
 * hardware task switches */
void cr_caps_init(struct vcpu *v);
void vcpu_set_start_state(struct vcpu *v, uint64_t cr0, uint64_t rip, struct segment cs, struct segment data);
/* The INIT and SIPI latched for v: taken by the run loop before it picks (smp.c). */
void vcpu_take_signals(struct vcpu *v);
int vcpu_write_efer(struct vcpu *v, uint64_t val);
void handle_cr(struct vcpu *v);
void handle_task_switch(struct vcpu *v);
int task_load_sys_seg(struct vcpu *v, bool tr, uint16_t sel);
int seg_load_data(struct vcpu *v, int idx, uint16_t sel);
int seg_load_far_cs(struct vcpu *v, uint16_t sel, uint64_t *target);

#endif
