/* SPDX-License-Identifier: MIT */
/*
 * Polled 16550 on COM1 and a printf-lite: %d %u %x %s %c %p %%, a width with
 * '0' or '-', and ll for hex only (%llx): 64-bit division would need
 * libgcc, which a -m32 freestanding build does not have.
 */
#include "guest.h"

#define COM1 0x3f8
#define LSR_THRE 0x20 /* transmit holding register empty */

void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no UART interrupts: we poll */
	outb(COM1 + 3, 0x80); /* DLAB on to set the divisor */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1, DLAB off */
	outb(COM1 + 2, 0x07); /* FIFOs on and cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

void serial_putc(char c)
{
	/* Bounded: a UART that never says "empty" must not hang the test. */
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & LSR_THRE); i++)
		pause();
	outb(COM1, (uint8_t)c);
}

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

/* Digits in tmp are in reverse order. */
static void put_field(struct out *o, const char *tmp, int n, int width, bool left, char pad)
{
	int fill = width > n ? width - n : 0;
	if (!left)
		while (fill-- > 0)
			put(o, pad);
	while (n > 0)
		put(o, tmp[--n]);
	while (left && fill-- > 0)
		put(o, ' ');
}

static void put_hex(struct out *o, uint64_t v, int width, bool left, char pad)
{
	char tmp[16];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	put_field(o, tmp, n, width, left, pad);
}

static void put_dec(struct out *o, uint32_t v, bool neg, int width, bool left, char pad)
{
	char tmp[12];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	put_field(o, tmp, n, width, left, pad);
}

static void put_str(struct out *o, const char *s, int width, bool left)
{
	int n = (int)strlen(s);
	for (int fill = width - n; !left && fill > 0; fill--)
		put(o, ' ');
	while (*s)
		put(o, *s++);
	for (int fill = width - n; left && fill > 0; fill--)
		put(o, ' ');
}

/* One conversion starting after '%'; returns the format just past it. */
static const char *convert(struct out *o, const char *f, va_list *ap)
{
	bool left = false, wide = false;
	char pad = ' ';
	int width = 0;
	for (; *f == '-' || *f == '0'; f++)
		if (*f == '-')
			left = true;
		else
			pad = '0';
	for (; *f >= '0' && *f <= '9'; f++)
		width = width * 10 + (*f - '0');
	for (; *f == 'l'; f++)
		wide = f[1] == 'l' || wide;
	switch (*f) {
	case 'd': {
		int32_t v = va_arg(*ap, int32_t);
		put_dec(o, v < 0 ? 0u - (uint32_t)v : (uint32_t)v, v < 0, width, left, pad);
		break;
	}
	case 'u': put_dec(o, va_arg(*ap, uint32_t), false, width, left, pad); break;
	case 'x': put_hex(o, wide ? va_arg(*ap, uint64_t) : va_arg(*ap, uint32_t), width, left, pad); break;
	case 'p': put(o, '0'); put(o, 'x'); put_hex(o, (uintptr_t)va_arg(*ap, void *), 8, false, '0'); break;
	case 's': { const char *s = va_arg(*ap, const char *); put_str(o, s ? s : "(null)", width, left); break; }
	case 'c': put(o, (char)va_arg(*ap, int)); break;
	case '%': put(o, '%'); break;
	default: put(o, '%'); put(o, *f); break;
	}
	return *f ? f + 1 : f;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	va_list ap2;
	va_copy(ap2, ap);
	while (*fmt) {
		if (*fmt == '%')
			fmt = convert(&o, fmt + 1, &ap2);
		else
			put(&o, *fmt++);
	}
	va_end(ap2);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (const char *s = buf; *s; s++) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}
