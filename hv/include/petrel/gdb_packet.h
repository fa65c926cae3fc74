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

/*
 * One packet's command, parsed (gdb_parse); nothing executed.  Numbers
 * are checked, data is left where it is (cmd.data points into the packet).
 */
enum gdb_cmd_kind {
	GDB_CMD_UNSUPPORTED, /* answer with an empty packet */
	GDB_CMD_BAD,         /* malformed: answer E01 */
	GDB_CMD_STOP_REASON, /* ? */
	GDB_CMD_READ_REGS,   /* g */
	GDB_CMD_WRITE_REGS,  /* G hex */
	GDB_CMD_READ_REG,    /* p n */
	GDB_CMD_WRITE_REG,   /* P n=hex */
	GDB_CMD_READ_MEM,    /* m addr,len */
	GDB_CMD_WRITE_MEM,   /* M addr,len:hex (data_hex) or X addr,len:binary */
	GDB_CMD_CONTINUE,    /* c [addr], C sig[;addr], vCont with no step */
	GDB_CMD_STEP,        /* s [addr], S sig[;addr], vCont;s:thread (thread) */
	GDB_CMD_INSERT_BP,   /* Z type,addr,kind */
	GDB_CMD_REMOVE_BP,   /* z type,addr,kind */
	GDB_CMD_SET_THREAD,  /* H op thread */
	GDB_CMD_THREAD_ALIVE, /* T thread */
	GDB_CMD_DETACH,      /* D, D;pid */
	GDB_CMD_KILL,        /* k, vKill */
	GDB_CMD_SUPPORTED,   /* qSupported[:features]: swbreak, hwbreak */
	GDB_CMD_XFER_FEATURES, /* qXfer:features:read:ANNEX:offset,length */
	GDB_CMD_THREADS_FIRST, /* qfThreadInfo */
	GDB_CMD_THREADS_NEXT,  /* qsThreadInfo */
	GDB_CMD_CURRENT_THREAD, /* qC */
	GDB_CMD_ATTACHED,    /* qAttached */
	GDB_CMD_THREAD_EXTRA, /* qThreadExtraInfo,thread */
	GDB_CMD_MONITOR,     /* qRcmd,hex: the command decoded into text */
	GDB_CMD_VCONT_QUERY, /* vCont? */
};

#define GDB_MONITOR_MAX 256

struct gdb_cmd {
	enum gdb_cmd_kind kind;
	uint64_t addr, len;   /* memory and breakpoints (len: the kind); qXfer offset, length */
	bool has_addr;        /* c/s with an address to resume at */
	uint32_t reg;         /* p, P */
	int64_t thread;       /* H, T, a step's thread, qThreadExtraInfo: -1 all, 0 any, else an id */
	char op;              /* H: 'g' or 'c' */
	uint8_t bp_type;      /* Z/z: 0 software, 1 hardware, 2 write, 3 read, 4 access */
	const char *data;     /* G, P, M: hex digits; X: raw bytes */
	size_t data_len;
	bool data_hex;
	const char *annex;    /* qXfer */
	size_t annex_len;
	bool swbreak, hwbreak; /* qSupported: what GDB said it takes */
	char monitor[GDB_MONITOR_MAX + 1]; /* qRcmd, NUL-terminated */
};

/* pkt: a received packet's data (len bytes, NUL after). */
void gdb_parse(const char *pkt, size_t len, struct gdb_cmd *cmd);

#endif
