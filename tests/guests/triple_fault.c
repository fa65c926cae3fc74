/* SPDX-License-Identifier: MIT */
/*
 * triple-fault: an IDT with limit 0, then int3.  Vector 3 lies beyond the
 * limit (#GP), so does 13 (#DF), so does 8: the CPU shuts down (SDM vol. 3A
 * §6.15, interrupt 8).  Under Petrel the VM stops and Petrel prints its
 * final state; QEMU with -no-reboot exits with status 0.  No SUMMARY line:
 * reaching one means the CPU went on after the int3, which is the failure.
 */
#include "guest.h"

const char guest_name[] = "triple-fault";

void guest_main(void)
{
	static const struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} empty_idt = { 0, 0 };
	printf("PASS triple-fault: about to triple fault\n");
	__asm__ volatile("lidt %0; int3" : : "m"(empty_idt));
	report(false, "triple-fault: still running after int3 with an empty IDT");
}
