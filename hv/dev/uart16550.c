/* SPDX-License-Identifier: MIT */
/*
 * The guest's COM1 (0x3f8-0x3ff), enough for polled output: the guest's
 * bytes are collected into lines and printed on Petrel's own console,
 * each line prefixed with the VM's name.  The transmitter is always ready
 * (LSR THRE and TEMT set); registers a driver writes and reads back (LCR,
 * MCR, IER, SCR, the divisor) keep their values.  Interrupts and input come
 * with the Linux-platform issue.  Register map: PC16550D data sheet.
 */
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>

#define UART_BASE 0x3f8
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LCR_DLAB 0x80
#define LINE_MAX 160

struct uart_dev {
	struct vm *vm;
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	char line[LINE_MAX + 1];
	uint32_t len;
};

static struct uart_dev uarts[MAX_VMS];

static void flush_line(struct uart_dev *u)
{
	u->line[u->len] = '\0';
	log_raw("[%s] %s\n", u->vm->name, u->line);
	u->len = 0;
}

static void put(struct uart_dev *u, uint8_t c)
{
	if (c == '\r')
		return;
	if (c == '\n') {
		flush_line(u);
		return;
	}
	u->line[u->len++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
	if (u->len == LINE_MAX)
		flush_line(u);
}

static void uart_write(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct uart_dev *u = dev;
	uint8_t b = (uint8_t)val;
	bool dlab = u->lcr & LCR_DLAB;

	switch (off) {
	case 0: if (dlab) u->dll = b; else put(u, b); break;
	case 1: if (dlab) u->dlm = b; else u->ier = b & 0x0f; break;
	case 3: u->lcr = b; break;
	case 4: u->mcr = b & 0x1f; break;
	case 7: u->scr = b; break;
	default: break; /* FCR, LSR, MSR: nothing to keep */
	}
}

static uint64_t uart_read(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct uart_dev *u = dev;
	bool dlab = u->lcr & LCR_DLAB;

	switch (off) {
	case 0: return dlab ? u->dll : 0;     /* no input yet */
	case 1: return dlab ? u->dlm : u->ier;
	case 2: return 0x01;                  /* IIR: no interrupt pending */
	case 3: return u->lcr;
	case 4: return u->mcr;
	case 5: return LSR_THRE | LSR_TEMT;
	case 6: return 0xb0;                  /* MSR: DCD, DSR, CTS */
	default: return u->scr;
	}
}

int uart_dev_init(struct vm *vm)
{
	struct uart_dev *u = &uarts[vm->id];

	memset(u, 0, sizeof(*u));
	u->vm = vm;
	u->dll = 1;
	return vm_register_pio(vm, UART_BASE, 8, uart_read, uart_write, u, "uart16550");
}

/* What is still in the line buffer when the VM ends. */
void uart_dev_flush(struct vm *vm)
{
	if (uarts[vm->id].len)
		flush_line(&uarts[vm->id]);
}
