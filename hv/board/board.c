/* SPDX-License-Identifier: MIT */
/* Creating a board's devices in a VM; see petrel/board.h. */
#include <petrel/board.h>
#include <petrel/lib.h>
#include <petrel/log.h>

/* What a devices=... list says of id: +1 add, -1 leave out, 0 nothing. */
static int asked(const char *list, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = list; p && *p;) {
		const char *end = p;
		int sign = 1;
		while (*end && *end != ',')
			end++;
		if (*p == '+' || *p == '-')
			sign = *p++ == '-' ? -1 : 1;
		if ((size_t)(end - p) == n && !memcmp(p, id, n))
			return sign;
		p = *end ? end + 1 : end;
	}
	return 0;
}

int board_check_devices(const struct board *b, const char *list, char *err, size_t errlen)
{
	for (const char *p = list; p && *p;) {
		const char *end = p;
		bool known = false;
		while (*end && *end != ',')
			end++;
		if (*p == '+' || *p == '-')
			p++;
		for (unsigned i = 0; i < b->nr_devices && !known; i++)
			known = strlen(b->devices[i].id) == (size_t)(end - p) &&
				!memcmp(b->devices[i].id, p, (size_t)(end - p));
		if (!known) {
			pt_snprintf(err, errlen, "devices: the %s board has no device '%.*s'", b->name,
				    (int)(end - p), p);
			return -1;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

int board_create_devices(struct vm *vm, const struct board *b, const char *list)
{
	for (unsigned i = 0; i < b->nr_devices; i++) {
		const struct board_device *bd = &b->devices[i];
		int want = asked(list, bd->id);
		if (want < 0 || (bd->off && want <= 0))
			continue;
		if (bd->type->create(vm, bd)) {
			pr_err("vm %s: device %s (%s) could not be created\n", vm_name(vm), bd->id, bd->type->name);
			return -1;
		}
	}
	/* an active-low line rests high until its source asserts it */
	for (unsigned gsi = 0; gsi < NR_GSI; gsi++)
		if (b->gsi[gsi].low)
			vm_set_gsi(vm, gsi, false);
	return 0;
}
