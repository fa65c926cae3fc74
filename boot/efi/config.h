/* SPDX-License-Identifier: MIT */
/*
 * petrel.cfg and LoadOptions parsing.  Pure functions over byte buffers with
 * no EFI calls, so they can be compiled into host unit tests as they are.
 * The syntax is documented at the top of boot/efi/efi_main.c.
 */
#ifndef PETREL_EFI_CONFIG_H
#define PETREL_EFI_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <petrel/boot_info.h>

#define CFG_LINE_MAX 2048      /* longest petrel.cfg line, without the newline */
#define CFG_FILE_MAX (64 << 10) /* a bigger petrel.cfg is a mistake, not a config */
#define CFG_PATH_MAX 256       /* CHAR16s in a volume path, with the NUL */

struct cfg_error {
	unsigned line;   /* 1-based line of petrel.cfg */
	const char *msg; /* what is wrong */
	unsigned limit;  /* the limit that was exceeded, 0 if none applies */
};

/*
 * Fill bi->cmdline and bi->modules[].cmdline / bi->nr_modules from the text
 * of petrel.cfg.  Returns 0, or -1 with *err filled.
 */
int cfg_parse(const char *text, size_t len, struct boot_info *bi,
	      struct cfg_error *err);

/* What LoadOptions held (UEFI 2.10 §9.1: an opaque buffer, often UCS-2). */
enum cfg_loadopt {
	LOADOPT_NONE,     /* absent, empty, or only the image name */
	LOADOPT_CMDLINE,  /* a command line, copied out */
	LOADOPT_BINARY,   /* not printable text: boot-option data, ignored */
	LOADOPT_TOO_LONG, /* text that does not fit the command line */
};

enum cfg_loadopt cfg_load_options(const uint16_t *opt, size_t bytes,
				  char *out, size_t cap);

/* Length of the PATH word that starts a module's "PATH ARGS". */
size_t cfg_module_path_len(const char *modline);

/*
 * The PATH of "PATH ARGS" as a UCS-2 volume path: '/' becomes '\' and a
 * leading '\' is added.  Returns 0, or -1 if it does not fit in cap.
 */
int cfg_module_path(const char *modline, uint16_t *out, size_t cap);

#endif
