/* SPDX-License-Identifier: MIT */
/*
 * The GDB remote serial protocol's framing (petrel/gdb_packet.h; the GDB
 * manual, "Remote Protocol", "Overview" and "Binary Data").  The receiver
 * is a byte-at-a-time state machine that never holds more than one
 * packet; everything it is given may be hostile.
 */
#include <petrel/gdb_packet.h>
#include <petrel/lib.h>

static int hexval(uint8_t c)
{
	return hex_digit((char)c);
}

static void start(struct gdb_rx *rx)
{
	rx->state = GDB_RX_DATA;
	rx->len = 0;
	rx->sum = 0;
	rx->overflow = false;
	rx->bad_hex = false;
}

static void keep(struct gdb_rx *rx, uint8_t c)
{
	if (rx->len == GDB_PACKET_MAX) {
		rx->overflow = true;
		return;
	}
	rx->data[rx->len++] = c;
}

enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c)
{
	int h;

	switch (rx->state) {
	case GDB_RX_IDLE:
		if (c == '$')
			start(rx);
		return c == 0x03 ? GDB_RX_INTERRUPT : c == '+' ? GDB_RX_ACK : c == '-' ? GDB_RX_NAK : GDB_RX_NONE;
	case GDB_RX_DATA:
		if (c == '$') { /* a new packet: the broken one is forgotten */
			start(rx);
			return GDB_RX_NONE;
		}
		if (c == '#') {
			rx->state = GDB_RX_SUM1;
			return GDB_RX_NONE;
		}
		rx->sum = (uint8_t)(rx->sum + c);
		if (c == '}')
			rx->state = GDB_RX_ESCAPE;
		else
			keep(rx, c);
		return GDB_RX_NONE;
	case GDB_RX_ESCAPE:
		rx->sum = (uint8_t)(rx->sum + c);
		keep(rx, c ^ 0x20);
		rx->state = GDB_RX_DATA;
		return GDB_RX_NONE;
	case GDB_RX_SUM1:
		h = hexval(c);
		rx->bad_hex = h < 0;
		rx->sent_sum = (uint8_t)((h < 0 ? 0 : h) << 4);
		rx->state = GDB_RX_SUM2;
		return GDB_RX_NONE;
	case GDB_RX_SUM2:
	default:
		h = hexval(c);
		rx->state = GDB_RX_IDLE;
		rx->data[rx->len] = '\0';
		if (rx->bad_hex || h < 0 || (uint8_t)(rx->sent_sum | h) != rx->sum)
			return GDB_RX_BAD_CHECKSUM;
		return rx->overflow ? GDB_RX_TOO_LONG : GDB_RX_PACKET;
	}
}

size_t gdb_frame(const uint8_t *data, size_t len, uint8_t *out, size_t out_size)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;
	uint8_t sum = 0;

	if (out_size < 4)
		return 0;
	out[n++] = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = data[i];
		bool esc = c == '$' || c == '#' || c == '}' || c == '*';
		if (n + (esc ? 2 : 1) + 3 > out_size)
			return 0;
		if (esc) {
			out[n++] = '}';
			sum = (uint8_t)(sum + '}');
			c ^= 0x20;
		}
		out[n++] = c;
		sum = (uint8_t)(sum + c);
	}
	out[n++] = '#';
	out[n++] = (uint8_t)digits[sum >> 4];
	out[n++] = (uint8_t)digits[sum & 15];
	return n;
}

void gdb_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

int gdb_hex_decode(const char *in, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((uint8_t)in[2 * i]), lo = hexval((uint8_t)in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

bool gdb_hex_u64(const char **s, const char *end, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int digits = 0, h;

	while (p < end && (h = hexval((uint8_t)*p)) >= 0) {
		if (++digits > 16)
			return false;
		x = x << 4 | (uint64_t)h;
		p++;
	}
	if (!digits)
		return false;
	*v = x;
	*s = p;
	return true;
}
