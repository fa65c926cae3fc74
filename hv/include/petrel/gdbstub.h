/* SPDX-License-Identifier: MIT */
/*
 * The GDB remote-protocol stub (hv/core/gdbstub.c): one VM at a time on
 * each of two ports, the GDB serial port (gdbport=, COM2 by default) and
 * the console port when the shell's `gdb VM` hands it over.  Everything
 * runs on CPU 0, from the console's service (console.c), a byte at a time.
 */
#ifndef PETREL_GDBSTUB_H
#define PETREL_GDBSTUB_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* At boot: the GDB serial port's UART is up (uart_gdb) or not. */
void gdb_init(void);
/* A VM started: the serial port debugs it if the module said gdb=serial
 * or gdb=wait, or if it is the first VM; with wait it is held before its
 * first instruction until GDB attaches. */
void gdb_vm_started(struct vm *vm, bool chosen, bool wait);

/* Bytes from the GDB serial port, and from the console port while GDB
 * has it; then, at every service, stops and exits reported. */
void gdb_serial_byte(uint8_t c);
void gdb_console_byte(uint8_t c);
void gdb_poll(void);
/* CPU 0 must come round soon: a resumed VM's stop is awaited. */
bool gdb_wants_cpu0(void);

/* The shell's `gdb VM`: the console port speaks GDB's protocol for that
 * VM until GDB detaches or kills it, or Ctrl-A is typed three times
 * between packets.  false (with the line said) if it cannot. */
bool gdb_console_start(struct vm *vm);
bool gdb_console_active(void);

#endif
