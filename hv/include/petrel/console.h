/* SPDX-License-Identifier: MIT */
/* The console multiplexer (hv/core/console.c) and the shell (hv/core/shell.c). */
#ifndef PETREL_CONSOLE_H
#define PETREL_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_info;
struct vm;

#define CONSOLE_SHELL (-1) /* the input focus is the shell, not a VM */

/* At boot, on CPU 0: the serial port's receive interrupt routed to this
 * CPU where the platform allows; conswitch is the escape's control byte;
 * gdb_port the GDB stub's serial port (0: none), set up the same way. */
void console_init(const struct acpi_info *acpi, uint8_t conswitch, uint16_t gdb_port);
/* The VM that has the input focus at start (the first Linux VM), unless
 * one was set already; then console_start says where input goes. */
void console_focus_default(struct vm *vm);
void console_start(void);
/* The serial port's receive interrupt (vector UART_VECTOR, on CPU 0). */
void console_irq(void);
/* CPU 0's run loop, at each pick: typed input handed on. */
void console_service(void);
/* Whether CPU 0 must come round soon even with nothing else to do: input
 * is polled, or typed bytes wait for a guest to read its FIFO. */
bool console_wants_cpu0(void);
/* The shell: the last `max` bytes (at most 4 KiB) a VM wrote. */
void console_show_output(struct vm *vm, uint32_t max);
/* Whether the VM has the input focus. */
bool vm_is_console(const struct vm *vm);

/* hv/core/shell.c: a typed byte, and the focus arriving (the prompt). */
void shell_input(uint8_t c);
void shell_enter(void);
/* A shell command line about one VM (GDB's `monitor`): the VM's name goes
 * where the command takes one (`vcpu regs 1` is `vcpu regs VM 1`). */
void shell_run_for_vm(struct vm *vm, const char *line);

/* hv/core/run.c: this CPU's run loop looks again before re-entering a
 * guest (an interrupt handler has news for it). */
void run_kick_self(void);
/* CPU 0, which prints held lines and reads the console, to look at them
 * now: it may be asleep with no vCPU to wake it (cpu0=host). */
void run_kick_cpu0(void);

#endif
