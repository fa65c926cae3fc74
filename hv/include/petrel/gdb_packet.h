/* SPDX-License-Identifier: MIT */
/*
 * The GDB remote serial protocol's framing (hv/core/gdb_packet.c), for
 * the GDB stub issue 12 builds on it: packets `$data#cs` with a two-digit
 * hex checksum (the sum of the data bytes mod 256), `}` escaping the next
 * byte XOR 0x20, `+`/`-` acknowledgements, and 0x03 (Ctrl-C) outside a
 * packet.  Pure functions over their state; built for the host too (unit
 * tests, a libFuzzer harness): what arrives is untrusted.
 */
#ifndef PETREL_GDB_PACKET_H
#define PETREL_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDB_PACKET_MAX 4096 /* the data of one packet, after unescaping (qSupported's PacketSize) */

enum gdb_rx_event {
	GDB_RX_NONE,         /* nothing complete yet */
	GDB_RX_PACKET,       /* a packet with a good checksum: rx->data, rx->len (answer '+') */
	GDB_RX_BAD_CHECKSUM, /* a packet whose checksum is wrong or not hex (answer '-') */
	GDB_RX_TOO_LONG,     /* a packet longer than GDB_PACKET_MAX, dropped (answer '-') */
	GDB_RX_INTERRUPT,    /* 0x03 outside a packet: stop the target */
	GDB_RX_ACK,          /* '+' outside a packet: the last reply arrived */
	GDB_RX_NAK,          /* '-' outside a packet: send the last reply again */
};

struct gdb_rx {
	enum { GDB_RX_IDLE, GDB_RX_DATA, GDB_RX_ESCAPE, GDB_RX_SUM1, GDB_RX_SUM2 } state;
	uint8_t data[GDB_PACKET_MAX + 1]; /* NUL-terminated after a packet (data may hold NULs) */
	uint32_t len;
	uint8_t sum;       /* of the bytes as sent (escapes included) */
	uint8_t sent_sum;  /* the checksum's first digit, then both */
	bool overflow, bad_hex;
};

/* One received byte.  Outside a packet, bytes other than '$', '+', '-'
 * and 0x03 are ignored; a '$' inside a packet starts a new one. */
enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c);

/* `$data#cs` with '$', '#', '}' and '*' in data escaped: its length, or 0
 * if it does not fit in out_size. */
size_t gdb_frame(const uint8_t *data, size_t len, uint8_t *out, size_t out_size);

/* Hex: bytes to 2n lowercase digits (no NUL); 2n digits to n bytes (-1 on
 * a non-hex digit); a number of up to 16 digits from *s, *s moved past it
 * (false if there is none or it is longer). */
void gdb_hex_encode(const uint8_t *in, size_t n, char *out);
int gdb_hex_decode(const char *in, size_t n, uint8_t *out);
bool gdb_hex_u64(const char **s, const char *end, uint64_t *v);

#endif
