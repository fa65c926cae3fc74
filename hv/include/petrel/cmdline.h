/* SPDX-License-Identifier: MIT */
/*
 * Command lines: `key=value` words separated by spaces; a value may be
 * double-quoted to hold spaces (`cmdline="console=ttyS0 quiet"`); a bare
 * `key` is a flag.  The same tokenizer reads the hypervisor's command line
 * and, later, the guests' module lines.  Pure C: tests/unit/test_cmdline.c.
 */
#ifndef PETREL_CMDLINE_H
#define PETREL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cmdline_token {
	const char *key, *val; /* not NUL-terminated: use the lengths */
	size_t key_len, val_len;
	bool has_val;
};

/* Reads the next word at *pos; returns false at the end of the string or
 * on an unterminated quote (then tok->key points at the bad word). */
bool cmdline_next(const char **pos, struct cmdline_token *tok, bool *bad_quote);
bool cmdline_key_is(const struct cmdline_token *t, const char *key);

/* Loaders put the image's own path first (QEMU's -kernel, GRUB's
 * multiboot lines): skip a first word with no '=' that looks like a path
 * (has a '/' or '\\', or ends in .elf or .efi). */
const char *cmdline_skip_image_path(const char *cmdline);

/* The hypervisor's own options (README "Hypervisor command line"). */
struct hv_config {
	uint16_t serial_port;  /* serial=0x3f8 (default) | 0x2f8 | ... */
	int log_level;         /* loglevel=error|warn|info|debug */
	char selftest[16];     /* selftest=ud|pf|gp: fault on purpose after the banner */
	bool acpidump;         /* acpidump: hex-dump the firmware's ACPI tables */
	uint32_t stats_s;      /* stats=N: print every VM's exit counts every N seconds */
	uint8_t conswitch;     /* conswitch=x: Ctrl-X three times moves the console's focus (default a) */
	uint16_t gdb_port;     /* gdbport=0x2f8 (default, COM2) | ... | off (0): the GDB stub's serial port */
	bool cpu0_host;        /* cpu0=host: CPU 0 runs Petrel only (console, shell), no vCPU | cpu0=guests (default) */
};

/* Fills `cfg` (defaults first).  Each problem is written as one line into
 * `errs` (at most `errlen` bytes, lines end in '\n'); returns their count. */
int hv_config_parse(const char *cmdline, struct hv_config *cfg, char *errs, size_t errlen);

#endif
