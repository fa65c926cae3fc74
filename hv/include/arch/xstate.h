/* SPDX-License-Identifier: MIT */
/* Per-vCPU register state no VM entry switches: hv/arch/x86/xstate.c. */
#ifndef ARCH_XSTATE_H
#define ARCH_XSTATE_H

#include <stdbool.h>

struct vcpu_xstate;

/* Per CPU, before the backend is enabled; the first call (the BSP's)
 * also sizes the per-vCPU area. */
void xstate_cpu_init(void);
/* XSAVEC saves to the wrong offsets here (an emulator's bug): guests are
 * not offered it (hv/core/cpuid.c). */
bool xstate_xsavec_broken(void);
/* Power-on state; allocates the area the first time.  0 or -1. */
int xstate_vcpu_reset(struct vcpu_xstate *xs);
/* Before entering the guest whose state xs is: loads it unless this CPU
 * holds it already (dr6: the backend does not switch DR6 itself).
 * Returns true if XCR0 was changed to do it. */
bool xstate_load(struct vcpu_xstate *xs, bool dr6);
/* The vCPU leaves this CPU for another: if this CPU holds its state, it
 * goes back to memory.  Returns true if XCR0 was changed to do it. */
bool xstate_put(struct vcpu_xstate *xs, bool dr6);
/* A guest's XMM register (0-15, the low 128 bits), for the instruction
 * emulator: in the CPU while this vCPU owns it, else in its saved area. */
#include <stdint.h>
void xstate_get_xmm(struct vcpu_xstate *xs, unsigned reg, uint8_t val[16]);
void xstate_set_xmm(struct vcpu_xstate *xs, unsigned reg, const uint8_t val[16]);
/* MM0-7, with an MMX instruction's effect on the x87 state (TOP 0, all
 * tags valid); returns the x87 status word from before. */
uint16_t xstate_mmx_io(struct vcpu_xstate *xs, unsigned reg, uint8_t val[8], bool write);
uint16_t xstate_x87_status(struct vcpu_xstate *xs);
/* The guest's DR6 where the backend does not switch it (VMX): in the CPU
 * while this vCPU owns its state, else saved. */
uint64_t xstate_get_dr6(struct vcpu_xstate *xs);
void xstate_set_dr6(struct vcpu_xstate *xs, uint64_t dr6);

#endif
