/* SPDX-License-Identifier: MIT */
/*
 * The guest's COM1 (0x3f8-0x3ff, IRQ 4): a 16550A (PC16550D data sheet).
 *
 * Output: the bytes the guest writes go to Petrel's console
 * (vm_console_out, hv/core/console.c), which prints them.  The
 * transmitter is infinitely fast: THR is empty again as soon as a byte is
 * written, so LSR always shows THRE and TEMT.
 * Input: what is typed on Petrel's serial port for this VM comes in
 * through its console_ops, into a 16-byte receive FIFO.
 * Interrupts: receive data, THR empty, line status; IIR reports the
 * highest; the line to the interrupt controllers is gated by MCR.OUT2, as
 * PC serial ports wire it.  The line is recomputed after every access, so
 * a source cleared and set again within one access makes no extra edge.
 */
#include <petrel/board.h>
#include <petrel/dev/uart16550.h>
#include <petrel/lib.h>
#include <petrel/log.h>

#define RX_FIFO 16

#define IER_RDI 0x01  /* receive data available */
#define IER_THRI 0x02 /* THR empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LCR_DLAB 0x80
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

struct uart_dev {
	struct vm *vm;
	uint8_t gsi;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr, lsr_err;
	bool thre_pending; /* the THR-empty interrupt, until IIR reports it or THR is written */
	uint8_t rx[RX_FIFO];
	uint32_t rx_head, rx_count;
};


static void rx_push(struct uart_dev *u, uint8_t c)
{
	if (u->rx_count == RX_FIFO) {
		u->lsr_err |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % RX_FIFO] = c;
	u->rx_count++;
}

static uint8_t rx_pop(struct uart_dev *u)
{
	uint8_t c;
	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % RX_FIFO;
	u->rx_count--;
	return c;
}

/* The highest pending source, in the 16550's priority order. */
static uint8_t iir_source(const struct uart_dev *u)
{
	if ((u->ier & IER_RLSI) && u->lsr_err)
		return IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return IIR_THRI;
	return IIR_NONE;
}

static void update_irq(struct uart_dev *u)
{
	vm_set_gsi(u->vm, u->gsi, iir_source(u) != IIR_NONE && (u->mcr & MCR_OUT2));
}

static void transmit(struct uart_dev *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP)
		rx_push(u, c); /* loopback: drivers probe the UART this way */
	else
		vm_console_out(u->vm, c);
	u->thre_pending = true;
}

static void write_ier(struct uart_dev *u, uint8_t val)
{
	/* Enabling THRI with THR empty raises the interrupt (data sheet). */
	if ((val & IER_THRI) && !(u->ier & IER_THRI))
		u->thre_pending = true;
	u->ier = val & 0x0f;
}

static void write_fcr(struct uart_dev *u, uint8_t val)
{
	u->fcr = val & 0xc9;
	if (val & FCR_CLEAR_RX)
		u->rx_count = 0;
}

static void uart_write(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct uart_dev *u = dev;
	uint8_t b = (uint8_t)val;
	bool dlab = u->lcr & LCR_DLAB;
	(void)v, (void)size;

	switch (off) {
	case 0: if (dlab) u->dll = b; else transmit(u, b); break;
	case 1: if (dlab) u->dlm = b; else write_ier(u, b); break;
	case 2: write_fcr(u, b); break;
	case 3: u->lcr = b; break;
	case 4: u->mcr = b & 0x1f; break;
	case 7: u->scr = b; break;
	default: break; /* LSR and MSR are read-only */
	}
	update_irq(u);
}

static uint8_t read_iir(struct uart_dev *u)
{
	uint8_t src = iir_source(u);
	if (src == IIR_THRI)
		u->thre_pending = false; /* reading IIR that reports THRE clears it */
	return src | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
}

static uint8_t read_lsr(struct uart_dev *u)
{
	uint8_t lsr = LSR_THRE | LSR_TEMT | u->lsr_err | (u->rx_count ? LSR_DR : 0);
	u->lsr_err = 0;
	return lsr;
}

/* MSR: in loopback the outputs come back as inputs; else the line is up
 * (CTS, DSR, DCD). */
static uint8_t read_msr(struct uart_dev *u)
{
	if (u->mcr & MCR_LOOP)
		return (uint8_t)(((u->mcr & 0x02) << 3) | ((u->mcr & 0x01) << 5) |
				 ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
	return 0xb0;
}

static uint64_t uart_read(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct uart_dev *u = dev;
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t r;
	(void)v, (void)size;

	switch (off) {
	case 0: r = dlab ? u->dll : rx_pop(u); break;
	case 1: r = dlab ? u->dlm : u->ier; break;
	case 2: r = read_iir(u); break;
	case 3: r = u->lcr; break;
	case 4: r = u->mcr; break;
	case 5: r = read_lsr(u); break;
	case 6: r = read_msr(u); break;
	default: r = u->scr; break;
	}
	update_irq(u);
	return r;
}

/* Room for one more input byte?  The caller leaves input waiting in the
 * host's UART (and whatever feeds it) until there is: nothing typed is
 * dropped by us, as nothing is by a terminal with flow control. */
static bool input_ready(void *dev)
{
	return ((struct uart_dev *)dev)->rx_count < RX_FIFO;
}

static void input(void *dev, uint8_t c)
{
	struct uart_dev *u = dev;

	rx_push(u, c);
	update_irq(u);
}

static const struct console_ops uart_console = { .input_ready = input_ready, .input = input };

/* At the board's port and GSI (COM1: 0x3f8, 4); the VM's console. */
static int uart_create(struct vm *vm, const struct board_device *bd)
{
	struct uart_dev *u = vm_alloc(vm, sizeof(*u));

	if (!u)
		return -1;
	u->vm = vm;
	u->gsi = (uint8_t)bd->gsi;
	u->dll = 1;
	vm_set_console(vm, &uart_console, u, bd->port);
	return vm_register_pio(vm, bd->port, 8, uart_read, uart_write, u, "uart16550");
}

const struct device_type uart16550_device = { .name = "16550A UART", .create = uart_create };
