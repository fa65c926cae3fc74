/* SPDX-License-Identifier: MIT */
/* hv/core/gdb_packet.c: the GDB remote protocol's framing: checksums,
 * escapes, acknowledgements, Ctrl-C, broken and over-long packets, hex;
 * and the commands parsed out of packets (gdb_parse). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/gdb_packet.h>
#include <petrel/lib.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

/* Feeds n bytes; returns the events, one letter each: P packet, C bad
 * checksum, L too long, I interrupt, + ack, - nak. */
static void feed(struct gdb_rx *rx, const char *s, size_t n, char *events)
{
	static const char letter[] = { [GDB_RX_PACKET] = 'P', [GDB_RX_BAD_CHECKSUM] = 'C', [GDB_RX_TOO_LONG] = 'L',
				       [GDB_RX_INTERRUPT] = 'I', [GDB_RX_ACK] = '+', [GDB_RX_NAK] = '-' };
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		enum gdb_rx_event e = gdb_rx_byte(rx, (uint8_t)s[i]);
		if (e != GDB_RX_NONE)
			events[k++] = letter[e];
	}
	events[k] = '\0';
}
#define FEED(rx, lit, ev) feed((rx), (lit), sizeof(lit) - 1, (ev))

TEST(good_and_bad_checksums)
{
	struct gdb_rx rx = { 0 };
	char ev[16];

	FEED(&rx, "$g#67", ev); /* 'g' is 0x67 */
	assert_string_equal(ev, "P");
	assert_int_equal(rx.len, 1);
	assert_string_equal((char *)rx.data, "g");
	FEED(&rx, "$m1000,4#8e", ev);
	assert_string_equal(ev, "P");
	assert_string_equal((char *)rx.data, "m1000,4");
	FEED(&rx, "$g#68", ev);
	assert_string_equal(ev, "C");
	FEED(&rx, "$g#6G", ev); /* not hex */
	assert_string_equal(ev, "C");
	FEED(&rx, "$g#G7", ev);
	assert_string_equal(ev, "C");
	FEED(&rx, "$g#6", ev); /* incomplete: nothing yet */
	assert_string_equal(ev, "");
	FEED(&rx, "7", ev);
	assert_string_equal(ev, "P");
	FEED(&rx, "$#00", ev); /* empty packet */
	assert_string_equal(ev, "P");
	assert_int_equal(rx.len, 0);
}

TEST(outside_packets)
{
	struct gdb_rx rx = { 0 };
	char ev[16];

	FEED(&rx, "+-\x03garbage+", ev);
	assert_string_equal(ev, "+-I+");
	/* inside a packet those are data */
	FEED(&rx, "$+-\x03#", ev);
	assert_string_equal(ev, "");
	FEED(&rx, "2b", ev); /* '+' 0x2b + '-' 0x2d + 0x03 = 0x5b */
	assert_string_equal(ev, "C");
	FEED(&rx, "$+-\x03#5b", ev);
	assert_string_equal(ev, "P");
	assert_int_equal(rx.len, 3);
	/* a '$' inside a packet starts a new one */
	FEED(&rx, "$gar$g#67", ev);
	assert_string_equal(ev, "P");
	assert_string_equal((char *)rx.data, "g");
}

TEST(escapes_round_trip)
{
	uint8_t data[256], framed[2 * 256 + 4];
	struct gdb_rx rx = { 0 };
	size_t n;
	char ev[4];

	for (int i = 0; i < 256; i++)
		data[i] = (uint8_t)i;
	n = gdb_frame(data, sizeof(data), framed, sizeof(framed));
	assert_true(n > 256 + 4);
	for (size_t i = 1; i + 3 < n; i++) /* no bare framing byte inside */
		if (framed[i] == '$' || framed[i] == '#' || framed[i] == '*')
			assert_int_equal(framed[i - 1], '}');
	feed(&rx, (const char *)framed, n, ev);
	assert_string_equal(ev, "P");
	assert_int_equal(rx.len, 256);
	assert_memory_equal(rx.data, data, 256);
	assert_int_equal(gdb_frame(data, sizeof(data), framed, 10), 0); /* too small */
	assert_int_equal(gdb_frame(data, 0, framed, 4), 4);
	assert_memory_equal(framed, "$#00", 4);
}

TEST(too_long)
{
	static uint8_t big[GDB_PACKET_MAX + 1];
	static uint8_t framed[GDB_PACKET_MAX + 16];
	struct gdb_rx rx = { 0 };
	char ev[4];
	size_t n;

	memset(big, 'a', sizeof(big));
	n = gdb_frame(big, GDB_PACKET_MAX, framed, sizeof(framed));
	feed(&rx, (const char *)framed, n, ev);
	assert_string_equal(ev, "P"); /* exactly the limit */
	n = gdb_frame(big, sizeof(big), framed, sizeof(framed));
	feed(&rx, (const char *)framed, n, ev);
	assert_string_equal(ev, "L");
	assert_true(rx.len <= GDB_PACKET_MAX);
	FEED(&rx, "$g#67", ev); /* and the next one is fine */
	assert_string_equal(ev, "P");
}

TEST(hex)
{
	uint8_t b[4] = { 0x00, 0x7f, 0xa5, 0xff }, back[4];
	char h[9] = "";
	const char *s, *num = "ffffffff81000000,40";
	uint64_t v;

	gdb_hex_encode(b, 4, h);
	assert_string_equal(h, "007fa5ff");
	assert_int_equal(gdb_hex_decode(h, 4, back), 0);
	assert_memory_equal(back, b, 4);
	assert_int_equal(gdb_hex_decode("0g", 1, back), -1);
	s = num;
	assert_true(gdb_hex_u64(&s, num + strlen(num), &v));
	assert_true(v == 0xffffffff81000000ull);
	assert_int_equal(*s, ',');
	s++;
	assert_true(gdb_hex_u64(&s, num + strlen(num), &v));
	assert_int_equal(v, 0x40);
	s = "12345678123456789"; /* 17 digits */
	assert_false(gdb_hex_u64(&s, s + 17, &v));
	s = ",1";
	assert_false(gdb_hex_u64(&s, s + 2, &v));
}

static void parse(const char *pkt, struct gdb_cmd *c)
{
	gdb_parse(pkt, strlen(pkt), c);
}

TEST(commands)
{
	struct gdb_cmd c;

	parse("?", &c);
	assert_int_equal(c.kind, GDB_CMD_STOP_REASON);
	parse("g", &c);
	assert_int_equal(c.kind, GDB_CMD_READ_REGS);
	parse("p1a", &c);
	assert_int_equal(c.kind, GDB_CMD_READ_REG);
	assert_int_equal(c.reg, 0x1a);
	parse("P8=78563412", &c);
	assert_int_equal(c.kind, GDB_CMD_WRITE_REG);
	assert_int_equal(c.reg, 8);
	assert_int_equal(c.data_len, 8);
	parse("m104000,4", &c);
	assert_int_equal(c.kind, GDB_CMD_READ_MEM);
	assert_int_equal(c.addr, 0x104000);
	assert_int_equal(c.len, 4);
	parse("M104000,2:0d00", &c);
	assert_int_equal(c.kind, GDB_CMD_WRITE_MEM);
	assert_true(c.data_hex);
	parse("X104000,3:ab", &c); /* three bytes announced, two given */
	assert_int_equal(c.kind, GDB_CMD_BAD);
	parse("X104000,0:", &c);
	assert_int_equal(c.kind, GDB_CMD_WRITE_MEM);
	parse("Z0,10001b,1", &c);
	assert_int_equal(c.kind, GDB_CMD_INSERT_BP);
	assert_int_equal(c.bp_type, 0);
	assert_int_equal(c.addr, 0x10001b);
	parse("z2,104000,4", &c);
	assert_int_equal(c.kind, GDB_CMD_REMOVE_BP);
	assert_int_equal(c.bp_type, 2);
	parse("Z9,0,1", &c);
	assert_int_equal(c.kind, GDB_CMD_UNSUPPORTED);
	parse("Hg2", &c);
	assert_int_equal(c.kind, GDB_CMD_SET_THREAD);
	assert_int_equal(c.op, 'g');
	assert_int_equal(c.thread, 2);
	parse("Hc-1", &c);
	assert_int_equal(c.thread, -1);
	parse("T3", &c);
	assert_int_equal(c.kind, GDB_CMD_THREAD_ALIVE);
	parse("c", &c);
	assert_int_equal(c.kind, GDB_CMD_CONTINUE);
	assert_false(c.has_addr);
	parse("s100000", &c);
	assert_int_equal(c.kind, GDB_CMD_STEP);
	assert_true(c.has_addr);
	parse("C05;100000", &c);
	assert_int_equal(c.kind, GDB_CMD_CONTINUE);
	assert_int_equal(c.addr, 0x100000);
	parse("vCont;s:2;c", &c);
	assert_int_equal(c.kind, GDB_CMD_STEP);
	assert_int_equal(c.thread, 2);
	parse("vCont;c", &c);
	assert_int_equal(c.kind, GDB_CMD_CONTINUE);
	parse("vCont;x", &c);
	assert_int_equal(c.kind, GDB_CMD_BAD);
	parse("vCont?", &c);
	assert_int_equal(c.kind, GDB_CMD_VCONT_QUERY);
	parse("D;1", &c);
	assert_int_equal(c.kind, GDB_CMD_DETACH);
	parse("k", &c);
	assert_int_equal(c.kind, GDB_CMD_KILL);
	parse("qSupported:multiprocess+;swbreak+;hwbreak+", &c);
	assert_int_equal(c.kind, GDB_CMD_SUPPORTED);
	assert_true(c.swbreak && c.hwbreak);
	parse("qXfer:features:read:target.xml:0,ffb", &c);
	assert_int_equal(c.kind, GDB_CMD_XFER_FEATURES);
	assert_int_equal(c.annex_len, 10);
	assert_int_equal(c.len, 0xffb);
	parse("qfThreadInfo", &c);
	assert_int_equal(c.kind, GDB_CMD_THREADS_FIRST);
	parse("qThreadExtraInfo,1", &c);
	assert_int_equal(c.kind, GDB_CMD_THREAD_EXTRA);
	parse("qRcmd,68656c70", &c); /* "help" */
	assert_int_equal(c.kind, GDB_CMD_MONITOR);
	assert_string_equal(c.monitor, "help");
	parse("qRcmd,68006c70", &c); /* a NUL inside */
	assert_int_equal(c.kind, GDB_CMD_BAD);
	parse("qOffsets", &c);
	assert_int_equal(c.kind, GDB_CMD_UNSUPPORTED);
	parse("", &c);
	assert_int_equal(c.kind, GDB_CMD_UNSUPPORTED);
}

TEST(malformed_commands)
{
	static const char *const bad[] = { "gx", "p", "pzz", "P1=", "P1=123", "m", "m10", "m10,", "mzz,4",
					   "m10,4x", "M10,2:0", "Z0,10", "Z0,,1", "Hx1", "Hg", "Hg-2",
					   "T", "c1x", "C", "Czz", "s,", "qRcmd,6", "qRcmd,zz",
					   "qXfer:features:read:target.xml:0", "qXfer:features:read:target.xml:x,1",
					   "m11111111111111111,1", "qThreadExtraInfo,zz" };
	struct gdb_cmd c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(bad[i], &c);
		if (c.kind != GDB_CMD_BAD)
			fail_msg("'%s' parsed as %d", bad[i], c.kind);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_and_bad_checksums),
		cmocka_unit_test(outside_packets),
		cmocka_unit_test(escapes_round_trip),
		cmocka_unit_test(too_long),
		cmocka_unit_test(hex),
		cmocka_unit_test(commands),
		cmocka_unit_test(malformed_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
