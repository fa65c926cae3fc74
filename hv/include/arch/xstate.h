/* SPDX-License-Identifier: MIT */
/* Per-vCPU register state no VM entry switches: hv/arch/x86/xstate.c. */
#ifndef ARCH_XSTATE_H
#define ARCH_XSTATE_H

#include <stdbool.h>

struct vcpu_xstate;

/* Per CPU, before the backend is enabled; the first call (the BSP's)
 * also sizes the per-vCPU area. */
void xstate_cpu_init(void);
/* Power-on state; allocates the area the first time.  0 or -1. */
int xstate_vcpu_reset(struct vcpu_xstate *xs);
/* Before entering the guest whose state xs is: loads it unless this CPU
 * holds it already (dr6: the backend does not switch DR6 itself).
 * Returns true if XCR0 was changed to do it. */
bool xstate_load(struct vcpu_xstate *xs, bool dr6);

#endif
