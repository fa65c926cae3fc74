/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for hv/core/gdb_packet.c: any bytes from a debugger's
 * line.  The invariants checked:
 *  - the receiver never holds more than GDB_PACKET_MAX bytes, and a
 *    packet's data is NUL-terminated after len;
 *  - every packet it accepts, framed again by gdb_frame, is received as
 *    the same packet by a fresh receiver (escapes and checksums agree);
 *  - hex decoding of the packet's text never reads past it, and a number
 *    parsed from it moves the cursor forward within it;
 *  - the command parser (gdb_parse) reads only the packet: what it points
 *    at lies inside it, lengths fit it, a monitor line is NUL-terminated. */
#include <string.h>

#include <petrel/gdb_packet.h>

#include "fuzz.h"

static struct gdb_rx rx, again;
static struct gdb_cmd cmd;
static uint8_t framed[2 * GDB_PACKET_MAX + 4];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memset(&rx, 0, sizeof(rx));
	for (size_t i = 0; i < size; i++) {
		enum gdb_rx_event e = gdb_rx_byte(&rx, data[i]);
		CHECK(rx.len <= GDB_PACKET_MAX);
		if (e != GDB_RX_PACKET)
			continue;
		CHECK(rx.data[rx.len] == '\0');
		size_t n = gdb_frame(rx.data, rx.len, framed, sizeof(framed));
		CHECK(n >= 4);
		memset(&again, 0, sizeof(again));
		enum gdb_rx_event last = GDB_RX_NONE;
		for (size_t j = 0; j < n; j++) {
			enum gdb_rx_event e2 = gdb_rx_byte(&again, framed[j]);
			CHECK(j + 1 == n ? e2 == GDB_RX_PACKET : e2 == GDB_RX_NONE);
			last = e2;
		}
		CHECK(last == GDB_RX_PACKET && again.len == rx.len && !memcmp(again.data, rx.data, rx.len));
		const char *s = (const char *)rx.data, *end = s + rx.len;
		uint64_t v;
		uint8_t bytes[GDB_PACKET_MAX / 2];
		if (gdb_hex_u64(&s, end, &v))
			CHECK(s > (const char *)rx.data && s <= end);
		(void)gdb_hex_decode((const char *)rx.data, rx.len / 2, bytes);
		gdb_parse((const char *)rx.data, rx.len, &cmd);
		if (cmd.data)
			CHECK(cmd.data >= (const char *)rx.data && cmd.data + cmd.data_len <= end);
		if (cmd.annex)
			CHECK(cmd.annex >= (const char *)rx.data && cmd.annex + cmd.annex_len <= end);
		if (cmd.kind == GDB_CMD_WRITE_MEM)
			CHECK(cmd.data_hex ? cmd.data_len == 2 * cmd.len : cmd.data_len == cmd.len);
		if (cmd.kind == GDB_CMD_MONITOR)
			CHECK(strlen(cmd.monitor) <= GDB_MONITOR_MAX);
	}
	return 0;
}
