/* SPDX-License-Identifier: MIT */
/*
 * The odds and ends of a PC's I/O space that guests touch without a driver:
 *
 *   0x80   POST code: writes kept, reads return the last one.  Linux writes
 *          here as an I/O delay (outb_p), so it must be cheap and quiet.
 *   0x92   system control port A: bit 0 fast reset (a write of 1 resets;
 *          reads 0), bit 1 A20 gate (kept and read back, but it gates
 *          nothing: guest-physical addresses are never wrapped at 1 MiB,
 *          A20 is always on), the other bits kept.
 *   0x60,  an 8042 keyboard controller only as far as resetting goes:
 *   0x64   0x64 <- 0xFE pulses the reset line; 0xD1 then a data byte with
 *          bit 0 clear (the output port's active-low reset line) resets too.
 *          Every other command (self-test, read/write the command byte,
 *          enable/disable) is accepted and ignored: no byte ever appears
 *          in the output buffer.  0x60 reads 0.
 *
 * The 8042 status (port 0x64) reads 0x1c: system flag (bit 2: self-test
 * passed, as after POST), A2 (bit 3: the last write was a command; 0x14
 * after a data write), keyboard not inhibited (bit 4), and the output and
 * input buffers empty (bits 0, 1), so a writer never waits and a reader
 * finds nothing.  Linux does not go further: the FADT's IA-PC boot flags do
 * not claim an 8042 (guest-loader/acpi_build.c), so x86_platform.legacy.i8042
 * is "firmware absent", and with no PNP0303/PNP0F13 device in the DSDT the
 * i8042 driver stops at "PNP: No PS/2 controller found" without touching
 * the ports.  Its reboot path (reboot=k, and the fallback after ACPI) only
 * polls bit 1 of the status and writes 0xFE.
 */
#include <petrel/board.h>
#include <petrel/dev/legacy.h>
#include <petrel/lib.h>

#define PORT_KBC_DATA 0x60
#define PORT_KBC_CMD 0x64
#define PORT_POST 0x80
#define PORT_SYSCTL_A 0x92

#define P92_FAST_RESET 0x01
#define P92_A20 0x02
#define KBC_ST_SYS 0x04
#define KBC_ST_CMD 0x08
#define KBC_ST_UNLOCKED 0x10
#define KBC_WRITE_OUTPUT 0xd1
#define KBC_PULSE_RESET 0xfe
#define KBC_OUT_RESET 0x01 /* output port bit 0: the CPU reset line, active low */

static enum dev_request port92_write(struct legacy_ports *l, uint8_t val, const char **why)
{
	l->port92 = val & (uint8_t)~P92_FAST_RESET;
	if (!(val & P92_FAST_RESET))
		return DEV_REQ_NONE;
	*why = "port 0x92 fast reset";
	return DEV_REQ_RESET;
}

static enum dev_request kbc_command(struct legacy_ports *l, uint8_t val, const char **why)
{
	l->kbc_last_cmd = true;
	l->kbc_cmd = val == KBC_WRITE_OUTPUT ? val : 0;
	if (val != KBC_PULSE_RESET)
		return DEV_REQ_NONE;
	*why = "keyboard controller reset (0x64 <- 0xfe)";
	return DEV_REQ_RESET;
}

/* A data byte is the argument of the last command, if it took one; the
 * output port's A20 bit (bit 1), like port 0x92's, changes nothing. */
static enum dev_request kbc_data(struct legacy_ports *l, uint8_t val, const char **why)
{
	uint8_t cmd = l->kbc_cmd;

	l->kbc_last_cmd = false;
	l->kbc_cmd = 0;
	if (cmd != KBC_WRITE_OUTPUT || (val & KBC_OUT_RESET))
		return DEV_REQ_NONE;
	*why = "keyboard controller output port reset";
	return DEV_REQ_RESET;
}

uint8_t legacy_read(struct legacy_ports *l, uint16_t port)
{
	switch (port) {
	case PORT_KBC_DATA: return 0;
	case PORT_KBC_CMD: return KBC_ST_SYS | KBC_ST_UNLOCKED | (l->kbc_last_cmd ? KBC_ST_CMD : 0);
	case PORT_POST: return l->post;
	case PORT_SYSCTL_A: return l->port92;
	default: return 0xff;
	}
}

enum dev_request legacy_write(struct legacy_ports *l, uint16_t port, uint8_t val, const char **why)
{
	switch (port) {
	case PORT_KBC_DATA: return kbc_data(l, val, why);
	case PORT_KBC_CMD: return kbc_command(l, val, why);
	case PORT_POST: l->post = val; return DEV_REQ_NONE;
	case PORT_SYSCTL_A: return port92_write(l, val, why);
	default: return DEV_REQ_NONE;
	}
}

void legacy_reset(struct legacy_ports *l)
{
	memset(l, 0, sizeof(*l));
	l->port92 = P92_A20;
	l->kbc_last_cmd = true;
}

/* --- glue ------------------------------------------------------------------ */

static const uint16_t legacy_ports_at[] = { PORT_KBC_DATA, PORT_KBC_CMD, PORT_POST, PORT_SYSCTL_A };
#define NR_WINDOWS ARRAY_SIZE(legacy_ports_at)

struct legacy_dev {
	struct vm *vm;
	struct legacy_ports ports;
	/* One single-port range each (0x61, between 0x60 and 0x64, is the PIT's). */
	struct legacy_window { struct legacy_dev *d; uint16_t port; } win[NR_WINDOWS];
};


static uint64_t legacy_rd(void *dev, struct vcpu *v, uint64_t off, uint8_t size)
{
	struct legacy_window *w = dev;
	uint64_t val = 0;

	(void)v;
	for (uint8_t i = 0; i < size; i++)
		val |= (uint64_t)legacy_read(&w->d->ports, (uint16_t)(w->port + off + i)) << (8 * i);
	return val;
}

static void legacy_wr(void *dev, struct vcpu *v, uint64_t off, uint8_t size, uint64_t val)
{
	struct legacy_window *w = dev;
	const char *why = NULL;

	(void)v;
	for (uint8_t i = 0; i < size; i++) {
		uint16_t port = (uint16_t)(w->port + off + i);
		if (legacy_write(&w->d->ports, port, (uint8_t)(val >> (8 * i)), &why) == DEV_REQ_RESET)
			vm_request_reset(w->d->vm, why);
	}
}

static int legacy_create(struct vm *vm, const struct board_device *bd)
{
	struct legacy_dev *d = vm_alloc(vm, sizeof(*d));

	(void)bd; /* fixed PC ports */
	if (!d)
		return -1;
	d->vm = vm;
	legacy_reset(&d->ports);
	for (unsigned i = 0; i < NR_WINDOWS; i++) {
		d->win[i] = (struct legacy_window){ .d = d, .port = legacy_ports_at[i] };
		if (vm_register_pio(vm, legacy_ports_at[i], 1, legacy_rd, legacy_wr, &d->win[i], "legacy"))
			return -1;
	}
	return 0;
}

const struct device_type legacy_device = { .name = "POST, 0x92, i8042 reset", .create = legacy_create };
