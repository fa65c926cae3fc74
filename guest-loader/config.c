/* SPDX-License-Identifier: MIT */
/* A guest module's command line; see petrel/guest_loader.h. */
#include <petrel/cmdline.h>
#include <petrel/guest_loader.h>
#include <petrel/lib.h>

static int fail(char *err, size_t errlen, const struct cmdline_token *t, const char *why)
{
	pt_snprintf(err, errlen, "'%.*s': %s", (int)t->key_len, t->key, why);
	return -1;
}

/* cpu=N or cpu=N,M,...: the physical CPU of each vCPU in turn (vCPU i
 * on the (i mod count)th), up to GUEST_MAX_VCPUS of them. */
static int parse_cpu_list(const struct cmdline_token *t, struct guest_config *cfg, char *err, size_t errlen)
{
	const char *p = t->val, *end = t->val + t->val_len;

	cfg->nr_cpu = 0;
	for (;;) {
		const char *comma = p;
		uint64_t v;
		while (comma < end && *comma != ',')
			comma++;
		if (cfg->nr_cpu == GUEST_MAX_VCPUS)
			return fail(err, errlen, t, "at most 8 CPUs, one per vCPU");
		if (!parse_u64(p, (size_t)(comma - p), &v, false) || v > 255)
			return fail(err, errlen, t, "a CPU number, or a list of them (cpu=0,1)");
		cfg->cpu[cfg->nr_cpu++] = (uint8_t)v;
		if (comma == end)
			return 0;
		p = comma + 1;
	}
}

static int parse_one(const struct cmdline_token *t, struct guest_config *cfg, char *err, size_t errlen)
{
	uint64_t v;

	if (!t->has_val)
		return fail(err, errlen, t, "needs a value (key=value)");
	if (cmdline_key_is(t, "vm")) {
		if (t->val_len == 0 || t->val_len >= sizeof(cfg->vm))
			return fail(err, errlen, t, "a VM name is 1 to 15 characters");
		str_ncopy(cfg->vm, t->val, t->val_len, sizeof(cfg->vm));
		return 0;
	}
	if (cmdline_key_is(t, "mem")) {
		if (!parse_u64(t->val, t->val_len, &v, true) || v < GUEST_MIN_MEM || v > GUEST_MAX_MEM)
			return fail(err, errlen, t, "RAM size must be 2M..16G (K/M/G suffix)");
		cfg->mem = v;
		return 0;
	}
	if (cmdline_key_is(t, "mem_below_4g")) {
		if (!parse_u64(t->val, t->val_len, &v, true) || v < GUEST_MIN_BELOW_4G || v > GUEST_MAX_BELOW_4G ||
		    v % (2ull << 20))
			return fail(err, errlen, t, "RAM below 4 GiB must be 16M..3G in whole 2M (K/M/G suffix)");
		cfg->mem_below_4g = v;
		return 0;
	}
	if (cmdline_key_is(t, "role")) {
		if (t->val_len == 6 && !strncmp(t->val, "initrd", 6))
			cfg->role = ROLE_INITRD;
		else if (t->val_len == 6 && !strncmp(t->val, "kernel", 6))
			cfg->role = ROLE_KERNEL;
		else if (t->val_len == 6 && !strncmp(t->val, "module", 6))
			cfg->role = ROLE_MODULE;
		else if (t->val_len == 8 && !strncmp(t->val, "firmware", 8))
			cfg->role = ROLE_FIRMWARE;
		else if (t->val_len == 4 && !strncmp(t->val, "disk", 4))
			cfg->role = ROLE_DISK;
		else
			return fail(err, errlen, t, "role is kernel, initrd, module, firmware or disk");
		return 0;
	}
	if (cmdline_key_is(t, "cmdline")) {
		if (t->val_len >= sizeof(cfg->cmdline))
			return fail(err, errlen, t, "guest command line too long");
		str_ncopy(cfg->cmdline, t->val, t->val_len, sizeof(cfg->cmdline));
		return 0;
	}
	if (cmdline_key_is(t, "devices")) {
		if (t->val_len >= sizeof(cfg->devices))
			return fail(err, errlen, t, "device list too long");
		str_ncopy(cfg->devices, t->val, t->val_len, sizeof(cfg->devices));
		return 0;
	}
	if (cmdline_key_is(t, "triple_fault")) {
		if (t->val_len == 4 && !strncmp(t->val, "stop", 4))
			cfg->stop_on_triple_fault = true;
		else if (t->val_len == 5 && !strncmp(t->val, "reset", 5))
			cfg->stop_on_triple_fault = false;
		else
			return fail(err, errlen, t, "triple_fault is reset or stop");
		return 0;
	}
	if (cmdline_key_is(t, "gdb")) {
		if (t->val_len == 6 && !strncmp(t->val, "serial", 6))
			cfg->gdb = GUEST_GDB_SERIAL;
		else if (t->val_len == 4 && !strncmp(t->val, "wait", 4))
			cfg->gdb = GUEST_GDB_WAIT;
		else
			return fail(err, errlen, t, "gdb is serial or wait");
		return 0;
	}
	if (cmdline_key_is(t, "cpus")) {
		if (!parse_u64(t->val, t->val_len, &v, false) || v < 1 || v > GUEST_MAX_VCPUS)
			return fail(err, errlen, t, "a VM has 1 to 8 vCPUs");
		cfg->cpus = (uint32_t)v;
		return 0;
	}
	if (cmdline_key_is(t, "cpu"))
		return parse_cpu_list(t, cfg, err, errlen);
	return fail(err, errlen, t, "unknown option");
}

int guest_config_parse(const char *args, struct guest_config *cfg, char *err, size_t errlen)
{
	struct cmdline_token t;
	bool bad_quote;
	const char *pos = args;

	*cfg = (struct guest_config){ .mem = GUEST_DEFAULT_MEM, .cpus = 1 };
	while (cmdline_next(&pos, &t, &bad_quote))
		if (parse_one(&t, cfg, err, errlen))
			return -1;
	if (bad_quote) {
		str_copy(err, "unterminated quote", errlen);
		return -1;
	}
	if (!cfg->vm[0]) {
		str_copy(err, "no vm=NAME: which VM is this module for?", errlen);
		return -1;
	}
	return 0;
}
