/* SPDX-License-Identifier: MIT */
/*
 * A small vsnprintf: %d %i %u %x %X %o %c %s %p %%, flags '-' '0', a width,
 * a precision for %s, and the length modifiers hh h l ll z.  Always
 * NUL-terminates; returns the length the full output would have had.
 */
#include <petrel/lib.h>

struct out {
	char *buf;
	size_t size, pos;
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put_padded(struct out *o, const char *s, size_t len, int width, bool left, char pad)
{
	int fill = width > (int)len ? width - (int)len : 0;
	if (!left)
		while (fill-- > 0)
			put(o, pad);
	while (len--)
		put(o, *s++);
	if (left)
		while (fill-- > 0)
			put(o, ' ');
}

static void put_number(struct out *o, uint64_t v, bool neg, unsigned base, bool upper,
		       int width, bool left, char pad)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg) {
		if (pad == '0') {
			put(o, '-');
			width--;
		} else {
			tmp[sizeof(tmp) - 1 - n++] = '-';
		}
	}
	put_padded(o, &tmp[sizeof(tmp) - n], (size_t)n, width, left, pad);
}

/* Reads the argument for an integer conversion of the given length. */
static uint64_t get_int(va_list *ap, int lng, bool is_signed, bool *neg)
{
	int64_t s;
	uint64_t u;

	*neg = false;
	if (is_signed) {
		if (lng >= 2)
			s = va_arg(*ap, long long);
		else if (lng == 1)
			s = va_arg(*ap, long);
		else
			s = va_arg(*ap, int);
		if (lng == -1)
			s = (short)s;
		else if (lng == -2)
			s = (signed char)s;
		if (s < 0) {
			*neg = true;
			return (uint64_t)0 - (uint64_t)s;
		}
		return (uint64_t)s;
	}
	if (lng >= 2)
		u = va_arg(*ap, unsigned long long);
	else if (lng == 1)
		u = va_arg(*ap, unsigned long);
	else
		u = va_arg(*ap, unsigned int);
	if (lng == -1)
		u = (unsigned short)u;
	else if (lng == -2)
		u = (unsigned char)u;
	return u;
}

int pt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = { buf, size, 0 };
	va_list ap;

	va_copy(ap, ap_in);
	for (; *fmt; fmt++) {
		bool left = false, neg;
		char pad = ' ';
		int width = 0, prec = -1, lng = 0;
		const char *s;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				prec = prec * 10 + (*fmt++ - '0');
		}
		for (;; fmt++) {
			if (*fmt == 'l' || *fmt == 'z')
				lng = lng < 0 ? 1 : lng + 1;
			else if (*fmt == 'h')
				lng--;
			else
				break;
		}
		if (left)
			pad = ' ';
		switch (*fmt) {
		case 'd':
		case 'i': {
			uint64_t v = get_int(&ap, lng, true, &neg);
			put_number(&o, v, neg, 10, false, width, left, pad);
			break;
		}
		case 'u':
			put_number(&o, get_int(&ap, lng, false, &neg), false, 10, false, width, left, pad);
			break;
		case 'x':
		case 'X':
			put_number(&o, get_int(&ap, lng, false, &neg), false, 16, *fmt == 'X', width, left, pad);
			break;
		case 'o':
			put_number(&o, get_int(&ap, lng, false, &neg), false, 8, false, width, left, pad);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_number(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), false, 16, false, width, left, pad);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			put_padded(&o, &c, 1, width, left, ' ');
			break;
		}
		case 's': {
			size_t len = 0;
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			while ((prec < 0 || len < (size_t)prec) && s[len])
				len++;
			put_padded(&o, s, len, width, left, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	va_end(ap);
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = '\0';
	return (int)o.pos;
}

int pt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = pt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
