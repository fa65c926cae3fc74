/* SPDX-License-Identifier: MIT */
/*
 * Debugging a guest (hv/core/debug.c): the mechanism under the GDB stub
 * (gdbstub.c), vendor-neutral.  A debugger attached to a VM holds it in
 * all-stop mode: a breakpoint, a single step, a watchpoint or the
 * debugger's interrupt pauses every vCPU of that VM (vm_pause) and nothing
 * of the other.
 *
 *   software breakpoints  INT3 written into guest RAM, #BP intercepted; the
 *                         original byte is kept here, restored on removal
 *                         and shown in its place by debug_read
 *   hardware breakpoints  DR0-DR3 and DR7 are the debugger's while any is
 *   and watchpoints       set; the guest's own are kept and put back when
 *                         the last one goes (vcpu_debug, run.c)
 *   single step           one vCPU runs one instruction while the others
 *                         stay paused; no interrupt is injected meanwhile
 *
 * Everything but debug_exit runs on the CPU the debugger's port is served
 * on (CPU 0), with the VM paused.
 */
#ifndef PETREL_DEBUG_H
#define PETREL_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

#define DEBUG_SW_BREAKPOINTS 64
#define DEBUG_HW_SLOTS 4

enum debug_stop_why {
	STOP_NONE,
	STOP_ATTACH,     /* the debugger attached, or the VM waited for it (gdb=wait) */
	STOP_INTERRUPT,  /* the debugger asked (Ctrl-C) */
	STOP_BREAKPOINT, /* a software breakpoint: RIP is at it */
	STOP_STEP,       /* a single step ended */
	STOP_HW_BREAK,   /* a hardware breakpoint: RIP is at it */
	STOP_WATCH,      /* a watchpoint: the access is done, addr is the watched address */
};

enum debug_hw_type { HW_EXEC = 0, HW_WRITE = 1, HW_ACCESS = 3 }; /* DR7's R/W encodings */

struct debug_stop {
	enum debug_stop_why why;
	uint32_t vcpu;
	uint64_t addr;
	enum debug_hw_type hw_type; /* STOP_WATCH: a write or any access */
};

/* The debugger takes the VM (it is paused), or gives it back: every
 * breakpoint removed, the debug registers the guest's again, the VM
 * resumed.  debug_attach fails (-1) if another debugger has it. */
int debug_attach(struct vm *vm, const void *owner);
void debug_detach(struct vm *vm);
bool debug_attached(const struct vm *vm, const void *owner);
/* A debugger has the VM (the shell's vm resume leaves it alone). */
bool debug_held(const struct vm *vm);

/* The first stop since the last resume, if the VM is paused by now. */
bool debug_stopped(struct vm *vm, struct debug_stop *out);
/* A stop the debugger asked for (attach, Ctrl-C): the VM is paused. */
void debug_stop_now(struct vm *vm, enum debug_stop_why why, uint32_t vcpu);

/* Memory by guest-linear address through vCPU v's page tables, RAM only;
 * breakpoints hidden from reads, and kept under writes.  0, or -1 (not
 * mapped, not RAM). */
int debug_read(struct vcpu *v, uint64_t lin, uint8_t *buf, uint32_t len);
int debug_write(struct vcpu *v, uint64_t lin, const uint8_t *buf, uint32_t len);

/* Breakpoints: 0; -1 not possible there (unmapped, not RAM, bad length or
 * alignment); -2 no room left.  Removing one that is not set succeeds. */
int debug_sw_insert(struct vcpu *v, uint64_t lin);
int debug_sw_remove(struct vm *vm, uint64_t lin);
int debug_hw_insert(struct vm *vm, enum debug_hw_type type, uint64_t lin, uint32_t len);
int debug_hw_remove(struct vm *vm, enum debug_hw_type type, uint64_t lin, uint32_t len);

/* Lets the VM go on: every vCPU (step < 0), or vCPU `step` for one
 * instruction while the others stay paused. */
void debug_resume(struct vm *vm, int step);

/* The VM was reset: its memory is new, the breakpoints in it are gone. */
void debug_vm_reset(struct vm *vm);

/* The run loop's side, on the vCPU's CPU under the VM's lock:
 * EXIT_BREAKPOINT and EXIT_DEBUG, and an instruction Petrel carried out
 * for the guest while it was being stepped (emulate.c).  A #BP or #DB
 * that is not the debugger's goes to the guest as the CPU would deliver it. */
void debug_exit(struct vcpu *v);
void debug_step_done(struct vcpu *v);

#endif
