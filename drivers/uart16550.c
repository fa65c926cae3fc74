/* SPDX-License-Identifier: MIT */
/*
 * 16550 UART, 115200 8N1: output polled, input polled or by the receive
 * interrupt (uart_rx_irq_enable).  Registers as in the National
 * Semiconductor PC16550D data sheet; offsets from the base port.
 */
#include <arch/cpu.h>
#include <petrel/drivers.h>

#define UART_THR 0 /* transmit holding (write) / receive buffer (read) */
#define UART_IER 1 /* interrupt enable; with DLAB: divisor high */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3 /* line control: DLAB is bit 7 */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_SCR 7 /* scratch: used to probe that a UART is there */

#define IER_RX_DATA 0x01
#define MCR_DTR_RTS 0x03
#define MCR_OUT2 0x08   /* gates the interrupt line on PC serial ports */
#define FCR_ON_1BYTE 0x07 /* FIFOs on and cleared, interrupt at 1 byte */
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

struct uart uart_console, uart_gdb;

void uart_init(struct uart *u, uint16_t port)
{
	u->base = port;
	/* A missing UART reads back 0xff from every register: check the
	 * scratch register holds what we write before trusting it. */
	outb(port + UART_SCR, 0x5a);
	u->ok = inb(port + UART_SCR) == 0x5a;
	if (!u->ok)
		return;
	outb(port + UART_IER, 0x00); /* we poll: no interrupts */
	outb(port + UART_LCR, 0x80); /* DLAB on to set the divisor */
	outb(port + UART_THR, 1);    /* 115200 = 1.8432 MHz / 16 / 1 */
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, 0x03); /* 8 data bits, no parity, 1 stop */
	outb(port + UART_FCR, 0xc7); /* FIFOs on and cleared, 14-byte trigger */
	outb(port + UART_MCR, 0x03); /* DTR, RTS */
}

void uart_putc(struct uart *u, char c)
{
	/* Bounded wait so a wedged UART cannot hang the hypervisor. */
	for (int i = 0; i < 1000000 && u->ok; i++) {
		if (inb(u->base + UART_LSR) & LSR_THR_EMPTY) {
			outb(u->base + UART_THR, (uint8_t)c);
			return;
		}
		cpu_relax();
	}
}

int uart_isa_irq(const struct uart *u)
{
	if (!u->ok)
		return -1;
	switch (u->base) {
	case 0x3f8: case 0x3e8: return 4; /* COM1, COM3 */
	case 0x2f8: case 0x2e8: return 3; /* COM2, COM4 */
	default: return -1;
	}
}

void uart_rx_irq_enable(struct uart *u)
{
	outb(u->base + UART_FCR, FCR_ON_1BYTE);
	outb(u->base + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
	outb(u->base + UART_IER, IER_RX_DATA);
}

int uart_getc(struct uart *u)
{
	if (!u->ok || !(inb(u->base + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(u->base + UART_THR);
}
