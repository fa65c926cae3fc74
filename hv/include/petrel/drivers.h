/* SPDX-License-Identifier: MIT */
/* The hypervisor's own hardware drivers (drivers/). */
#ifndef PETREL_DRIVERS_H
#define PETREL_DRIVERS_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_info;

/* 16550 UARTs: 115200 8N1; output polled, input polled or by interrupt.
 * uart_console carries Petrel's log and the console (serial=, COM1 by
 * default); uart_gdb the GDB stub (gdbport=, COM2 by default). */
struct uart {
	uint16_t base;
	bool ok; /* a UART answered there */
};
extern struct uart uart_console, uart_gdb;

void uart_init(struct uart *u, uint16_t port);
void uart_putc(struct uart *u, char c);
int uart_getc(struct uart *u); /* -1 if nothing waiting */
/* The ISA IRQ of the UART (COM1 and COM3: 4, COM2 and COM4: 3), or -1
 * (no UART, or not at a COM port); its receive interrupt on, at one byte. */
int uart_isa_irq(const struct uart *u);
void uart_rx_irq_enable(struct uart *u);

/* The whole machine (drivers/power.c): power_init with the firmware's
 * ACPI tables at boot; machine_reset returns only if the machine did not
 * reset; machine_poweroff -1 if there is no ACPI S5 or it did not act. */
void power_init(const struct acpi_info *a);
void machine_reset(void);
int machine_poweroff(void);

/* The host's I/O APICs: ISA IRQ `irq` (through the MADT's overrides) to
 * `vector` on the CPU with that APIC ID.  0, or -1 if no I/O APIC has it. */
int ioapic_route_isa(const struct acpi_info *a, unsigned irq, uint8_t vector, uint32_t apic_id);

/* 8254 PIT: busy-wait on channel 2 (gate via port 0x61). */
void pit_wait_us(uint32_t us);

/* TSC frequency, calibrated at boot. */
extern uint64_t tsc_hz;
void tsc_calibrate(uint16_t pm_timer_port);
void udelay(uint64_t us);

/* The legacy 8259 PICs: remapped away from the exception vectors, masked. */
void pic_disable(void);

/* Local APIC: xAPIC (MMIO) or x2APIC (MSRs). */
void lapic_init(void);
bool lapic_is_x2apic(void);
uint32_t lapic_id(void);
void lapic_send_init(uint32_t apic_id);
void lapic_send_sipi(uint32_t apic_id, uint8_t vector);
bool lapic_ipi_idle(void);
void lapic_send_nmi_others(void);
void lapic_send_fixed(uint32_t apic_id, uint8_t vector);
void lapic_eoi(void);
#define LAPIC_TIMER_VECTOR 0xf0
#define LAPIC_KICK_VECTOR 0xf1 /* another CPU wants this one out of its guest (run.c) */
#define UART_VECTOR 0xf2       /* the serial port's receive interrupt (console.c) */
void lapic_timer_calibrate(void);
uint64_t lapic_timer_rate(void);
/* Fires LAPIC_TIMER_VECTOR once, `tsc_delta` TSC ticks from now. */
void lapic_timer_oneshot(uint64_t tsc_delta);
void lapic_timer_stop(void);
bool lapic_timer_pending(void);

/* Wall clock: the host's CMOS RTC read once at boot (after tsc_calibrate),
 * then the TSC.  Unix time in ns (drivers/rtc.c). */
void rtc_host_init(void);
uint64_t wallclock_ns(void);

#endif
