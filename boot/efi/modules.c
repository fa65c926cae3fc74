/* SPDX-License-Identifier: MIT */
/*
 * petrel.cfg, the LoadOptions override, and loading the module files it
 * names into memory below 4 GiB.
 */
#include "stub.h"
#include "config.h"

static EFI_STATUS cfg_parse_file(struct stub *s, const CHAR16 *path,
				 EFI_PHYSICAL_ADDRESS buf, UINT64 size)
{
	struct cfg_error err;

	if (cfg_parse((const char *)(UINTN)buf, size, s->bi, &err) == 0)
		return EFI_SUCCESS;
	if (err.limit)
		LOG(L"%s:%d: %a (limit %d)\n", path, err.line, err.msg,
		    err.limit);
	else
		LOG(L"%s:%d: %a\n", path, err.line, err.msg);
	return EFI_INVALID_PARAMETER;
}

/* petrel.cfg next to hv.efi; a missing file means "no config". */
static EFI_STATUS cfg_read(struct stub *s)
{
	CHAR16 path[CFG_PATH_MAX];
	EFI_PHYSICAL_ADDRESS buf;
	UINT64 size;
	EFI_STATUS rc;

	if (!s->root)
		return EFI_SUCCESS;
	rc = fs_config_path(s->loaded->FilePath, path, CFG_PATH_MAX);
	if (EFI_ERROR(rc)) {
		LOG(L"path of hv.efi too long to find petrel.cfg: %r\n", rc);
		return rc;
	}
	rc = fs_read_file(s->root, path, FALSE, &buf, &size);
	if (rc == EFI_NOT_FOUND) {
		LOG(L"no %s: no modules, empty cmdline\n", path);
		return EFI_SUCCESS;
	}
	if (EFI_ERROR(rc)) {
		LOG(L"cannot read %s: %r\n", path, rc);
		return rc;
	}
	LOG(L"config %s\n", path);
	rc = cfg_parse_file(s, path, buf, size);
	fs_free_file(FALSE, buf, size);
	return rc;
}

/* Non-empty LoadOptions (e.g. "hv.efi serial=0x2f8" from the Shell) win. */
static EFI_STATUS cfg_load_options_override(struct stub *s)
{
	EFI_LOADED_IMAGE *li = s->loaded;

	switch (cfg_load_options(li->LoadOptions, li->LoadOptionsSize,
				 s->bi->cmdline, sizeof(s->bi->cmdline))) {
	case LOADOPT_CMDLINE:
		LOG(L"cmdline \"%a\" (from load options)\n", s->bi->cmdline);
		return EFI_SUCCESS;
	case LOADOPT_TOO_LONG:
		LOG(L"load options too long for the cmdline (limit %d)\n",
		    BOOT_CMDLINE_MAX - 1);
		return EFI_INVALID_PARAMETER;
	case LOADOPT_BINARY:
		LOG(L"ignoring %d bytes of non-text load options\n",
		    li->LoadOptionsSize);
		break;
	case LOADOPT_NONE:
		break;
	}
	LOG(L"cmdline \"%a\"\n", s->bi->cmdline);
	return EFI_SUCCESS;
}

EFI_STATUS cfg_load(struct stub *s)
{
	EFI_STATUS rc = cfg_read(s);

	if (EFI_ERROR(rc))
		return rc;
	return cfg_load_options_override(s);
}

/* Give back the modules loaded so far, when we return to the firmware. */
void modules_release(struct stub *s)
{
	struct boot_module *m;

	for (; s->nr_loaded > 0; s->nr_loaded--) {
		m = &s->bi->modules[s->nr_loaded - 1];
		fs_free_file(TRUE, m->start, m->end - m->start);
	}
}

static void module_log(const struct boot_module *m)
{
	char path[BOOT_MODNAME_MAX];
	UINTN n = cfg_module_path_len(m->cmdline), i;
	const char *args = m->cmdline + n;

	for (i = 0; i < n; i++)
		path[i] = m->cmdline[i];
	path[n] = '\0';
	while (*args == ' ' || *args == '\t')
		args++;
	LOG(L"module %a 0x%lx-0x%lx \"%a\"\n", path, m->start, m->end, args);
}

static EFI_STATUS module_load(struct stub *s, struct boot_module *m)
{
	CHAR16 path[CFG_PATH_MAX];
	EFI_PHYSICAL_ADDRESS addr;
	UINT64 size;
	EFI_STATUS rc;

	if (cfg_module_path(m->cmdline, path, CFG_PATH_MAX) < 0) {
		LOG(L"module path too long: %a\n", m->cmdline);
		return EFI_INVALID_PARAMETER;
	}
	rc = s->root ? fs_read_file(s->root, path, TRUE, &addr, &size)
		     : EFI_NO_MEDIA;
	if (EFI_ERROR(rc)) {
		LOG(L"cannot load module %s: %r\n", path, rc);
		return rc;
	}
	m->start = addr;
	m->end = addr + size;
	s->nr_loaded++;
	module_log(m);
	return EFI_SUCCESS;
}

/* All or nothing: the core must never start with a module missing. */
EFI_STATUS modules_load(struct stub *s)
{
	EFI_STATUS rc;
	UINT32 i;

	for (i = 0; i < s->bi->nr_modules; i++) {
		rc = module_load(s, &s->bi->modules[i]);
		if (EFI_ERROR(rc))
			return rc; /* efi_main releases what was loaded */
	}
	return EFI_SUCCESS;
}
