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

/* --- commands (the manual's "Packets", "General Query Packets") ---------- */

static bool starts(const char *s, const char *end, const char *word)
{
	size_t n = strlen(word);
	return (size_t)(end - s) >= n && !strncmp(s, word, n);
}

static bool eat(const char **s, const char *end, char c)
{
	if (*s < end && **s == c) {
		(*s)++;
		return true;
	}
	return false;
}

/* A thread id: -1 (all), 0 (any) or a positive hex number. */
static bool thread_id(const char **s, const char *end, int64_t *t)
{
	uint64_t v;

	if (*s < end && **s == '-') {
		(*s)++;
		if (!eat(s, end, '1'))
			return false;
		*t = -1;
		return true;
	}
	if (!gdb_hex_u64(s, end, &v) || v > 0x7fffffff)
		return false;
	*t = (int64_t)v;
	return true;
}

/* addr,len (then ':' and data for M and X). */
static bool addr_len(const char **s, const char *end, struct gdb_cmd *c)
{
	return gdb_hex_u64(s, end, &c->addr) && eat(s, end, ',') && gdb_hex_u64(s, end, &c->len);
}

/* vCont;action[:thread]... : the first step names the thread that steps;
 * anything else continues.  Signals (C, S) are not delivered. */
static void parse_vcont(const char *s, const char *end, struct gdb_cmd *c)
{
	c->kind = GDB_CMD_CONTINUE;
	c->thread = -1;
	while (s < end) {
		char a;
		int64_t t = -1;
		uint64_t sig;
		if (!eat(&s, end, ';') || s == end) {
			c->kind = GDB_CMD_BAD;
			return;
		}
		a = *s++;
		if ((a == 'C' || a == 'S') && !gdb_hex_u64(&s, end, &sig)) {
			c->kind = GDB_CMD_BAD;
			return;
		}
		if (a != 'c' && a != 'C' && a != 's' && a != 'S') {
			c->kind = a == 't' || a == 'r' ? GDB_CMD_UNSUPPORTED : GDB_CMD_BAD;
			return;
		}
		if (eat(&s, end, ':') && !thread_id(&s, end, &t)) {
			c->kind = GDB_CMD_BAD;
			return;
		}
		if ((a == 's' || a == 'S') && c->kind != GDB_CMD_STEP) {
			c->kind = GDB_CMD_STEP;
			c->thread = t;
		}
	}
}

static void parse_query(const char *s, const char *end, struct gdb_cmd *c)
{
	uint64_t off, n;

	if (starts(s, end, "qSupported")) {
		c->kind = GDB_CMD_SUPPORTED;
		for (const char *p = s; p < end; p++) {
			if (starts(p, end, "swbreak+"))
				c->swbreak = true;
			if (starts(p, end, "hwbreak+"))
				c->hwbreak = true;
		}
	} else if (starts(s, end, "qXfer:features:read:")) {
		const char *a = s + strlen("qXfer:features:read:"), *colon = a;
		while (colon < end && *colon != ':')
			colon++;
		c->annex = a;
		c->annex_len = (size_t)(colon - a);
		s = colon;
		if (!eat(&s, end, ':') || !gdb_hex_u64(&s, end, &off) || !eat(&s, end, ',') ||
		    !gdb_hex_u64(&s, end, &n) || s != end)
			return (void)(c->kind = GDB_CMD_BAD);
		c->kind = GDB_CMD_XFER_FEATURES;
		c->addr = off;
		c->len = n;
	} else if (s + 12 == end && starts(s, end, "qfThreadInfo")) {
		c->kind = GDB_CMD_THREADS_FIRST;
	} else if (s + 12 == end && starts(s, end, "qsThreadInfo")) {
		c->kind = GDB_CMD_THREADS_NEXT;
	} else if (s + 2 == end && starts(s, end, "qC")) {
		c->kind = GDB_CMD_CURRENT_THREAD;
	} else if (starts(s, end, "qAttached")) {
		c->kind = GDB_CMD_ATTACHED;
	} else if (starts(s, end, "qThreadExtraInfo,")) {
		s += strlen("qThreadExtraInfo,");
		c->kind = thread_id(&s, end, &c->thread) && s == end ? GDB_CMD_THREAD_EXTRA : GDB_CMD_BAD;
	} else if (starts(s, end, "qRcmd,")) {
		s += strlen("qRcmd,");
		n = (uint64_t)(end - s);
		if (n % 2 || n / 2 > GDB_MONITOR_MAX || gdb_hex_decode(s, n / 2, (uint8_t *)c->monitor))
			return (void)(c->kind = GDB_CMD_BAD);
		c->monitor[n / 2] = '\0';
		for (uint64_t i = 0; i < n / 2; i++)
			if (!c->monitor[i]) /* a NUL inside: not a command line */
				return (void)(c->kind = GDB_CMD_BAD);
		c->kind = GDB_CMD_MONITOR;
	}
}

void gdb_parse(const char *pkt, size_t len, struct gdb_cmd *c)
{
	const char *s = pkt + 1, *end = pkt + len;
	uint64_t v;

	memset(c, 0, sizeof(*c));
	c->kind = GDB_CMD_BAD;
	if (!len)
		return (void)(c->kind = GDB_CMD_UNSUPPORTED);
	switch (pkt[0]) {
	case '?':
		c->kind = s == end ? GDB_CMD_STOP_REASON : GDB_CMD_BAD;
		break;
	case 'g':
		c->kind = s == end ? GDB_CMD_READ_REGS : GDB_CMD_BAD;
		break;
	case 'G':
		c->data = s;
		c->data_len = (size_t)(end - s);
		c->data_hex = true;
		c->kind = c->data_len % 2 ? GDB_CMD_BAD : GDB_CMD_WRITE_REGS;
		break;
	case 'p':
		if (gdb_hex_u64(&s, end, &v) && s == end && v < 0x10000) {
			c->kind = GDB_CMD_READ_REG;
			c->reg = (uint32_t)v;
		}
		break;
	case 'P':
		if (gdb_hex_u64(&s, end, &v) && v < 0x10000 && eat(&s, end, '=') && (end - s) % 2 == 0 && s < end) {
			c->kind = GDB_CMD_WRITE_REG;
			c->reg = (uint32_t)v;
			c->data = s;
			c->data_len = (size_t)(end - s);
			c->data_hex = true;
		}
		break;
	case 'm':
		if (addr_len(&s, end, c) && s == end)
			c->kind = GDB_CMD_READ_MEM;
		break;
	case 'M':
	case 'X':
		if (addr_len(&s, end, c) && eat(&s, end, ':')) {
			c->data = s;
			c->data_len = (size_t)(end - s);
			c->data_hex = pkt[0] == 'M';
			if (c->data_hex ? c->data_len == 2 * c->len : c->data_len == c->len)
				c->kind = GDB_CMD_WRITE_MEM;
		}
		break;
	case 'c':
	case 's':
	case 'C':
	case 'S':
		if ((pkt[0] == 'C' || pkt[0] == 'S') && !gdb_hex_u64(&s, end, &v))
			break; /* the signal, not delivered: the guest's exceptions are its own */
		if ((pkt[0] == 'C' || pkt[0] == 'S') ? eat(&s, end, ';') : s < end) {
			if (!gdb_hex_u64(&s, end, &c->addr))
				break;
			c->has_addr = true;
		}
		if (s == end) {
			c->kind = (pkt[0] == 'c' || pkt[0] == 'C') ? GDB_CMD_CONTINUE : GDB_CMD_STEP;
			c->thread = 0; /* the Hc thread */
		}
		break;
	case 'Z':
	case 'z':
		if (s < end && *s >= '0' && *s <= '4') {
			c->bp_type = (uint8_t)(*s++ - '0');
			if (eat(&s, end, ',') && addr_len(&s, end, c) && (s == end || *s == ';'))
				c->kind = pkt[0] == 'Z' ? GDB_CMD_INSERT_BP : GDB_CMD_REMOVE_BP;
		} else {
			c->kind = GDB_CMD_UNSUPPORTED;
		}
		break;
	case 'H':
		if (s < end && (*s == 'g' || *s == 'c')) {
			c->op = *s++;
			if (thread_id(&s, end, &c->thread) && s == end)
				c->kind = GDB_CMD_SET_THREAD;
		}
		break;
	case 'T':
		if (thread_id(&s, end, &c->thread) && s == end)
			c->kind = GDB_CMD_THREAD_ALIVE;
		break;
	case 'D':
		c->kind = GDB_CMD_DETACH; /* D;pid: one process only */
		break;
	case 'k':
		c->kind = GDB_CMD_KILL;
		break;
	case 'v':
		c->kind = GDB_CMD_UNSUPPORTED;
		if (len == 6 && starts(pkt, end, "vCont?"))
			c->kind = GDB_CMD_VCONT_QUERY;
		else if (starts(pkt, end, "vCont;"))
			parse_vcont(pkt + 5, end, c);
		else if (starts(pkt, end, "vKill"))
			c->kind = GDB_CMD_KILL;
		break;
	case 'q':
		c->kind = GDB_CMD_UNSUPPORTED;
		parse_query(pkt, end, c);
		break;
	default:
		c->kind = GDB_CMD_UNSUPPORTED;
		break;
	}
}
