/* SPDX-License-Identifier: MIT */
/*
 * hv.efi: Petrel's UEFI boot path.
 *
 * A GNU-EFI application that carries the core (build/hv.elf, embedded by
 * core_image.asm), loads it at its fixed physical addresses, loads the
 * modules petrel.cfg names, fills a struct boot_info
 * (hv/include/petrel/boot_info.h), leaves boot services and jumps to the
 * core's 64-bit entry with RDI = BOOT_MAGIC_PETREL_EFI, RSI = &boot_info.
 *
 * petrel.cfg
 * ----------
 * Read from the directory hv.efi was loaded from (LoadedImage FilePath on
 * its DeviceHandle), e.g. \EFI\BOOT\petrel.cfg.  Plain ASCII/UTF-8, one
 * directive per line; blank lines and lines whose first non-blank character
 * is '#' are ignored ('#' later in a line is kept: arguments may hold it).
 *
 *     # hypervisor command line (last one wins)
 *     cmdline serial=0x3f8 loglevel=info
 *     # a module: PATH from the volume root ('/' or '\'), then its arguments
 *     module2 \guests\cpuid.elf vm=t0 mem=64M
 *
 * `cmdline REST` sets boot_info.cmdline to REST.  `module2 PATH ARGS` loads
 * PATH into EfiLoaderData pages below 4 GiB and records the module with
 * cmdline "PATH ARGS" exactly as written, as GRUB's module2 does.  PATH has
 * no spaces.  Limits: BOOT_MAX_MODULES modules, CFG_LINE_MAX-character lines,
 * BOOT_CMDLINE_MAX-1 / BOOT_MODNAME_MAX-1 characters of cmdline / "PATH ARGS".
 * Any violation, an unknown keyword, or a module that cannot be read stops
 * the boot with a message; a missing petrel.cfg is fine (empty cmdline, no
 * modules).
 *
 * Non-empty text LoadOptions (the UEFI Shell: `hv.efi serial=0x2f8`, its
 * first word dropped when it ends in ".efi") replace the cmdline line.
 *
 * Console output is "petrel-efi: ..." lines on ConOut until
 * ExitBootServices(); nothing is printed through the firmware after it.
 */
#include "stub.h"

/* One zeroed struct boot_info below 4 GiB; the core copies it at once. */
static EFI_STATUS boot_info_alloc(struct stub *s)
{
	EFI_PHYSICAL_ADDRESS addr = BELOW_4G;
	EFI_STATUS rc;

	rc = BS->AllocatePages(AllocateMaxAddress, EfiLoaderData,
			       EFI_SIZE_TO_PAGES(sizeof(*s->bi)), &addr);
	if (EFI_ERROR(rc)) {
		LOG(L"cannot allocate boot_info: %r\n", rc);
		return rc;
	}
	s->bi = (struct boot_info *)(UINTN)addr;
	ZeroMem(s->bi, sizeof(*s->bi));
	s->bi->path = BOOT_PATH_UEFI;
	return EFI_SUCCESS;
}

/* Everything up to ExitBootServices(), in an order that fails early. */
static EFI_STATUS stub_prepare(struct stub *s)
{
	EFI_STATUS rc;

	rc = boot_info_alloc(s);
	if (!EFI_ERROR(rc))
		rc = fs_open_boot_volume(s);
	if (!EFI_ERROR(rc))
		rc = cfg_load(s);
	if (!EFI_ERROR(rc))
		rc = core_load(s); /* the fixed range is the likeliest clash */
	if (!EFI_ERROR(rc))
		rc = modules_load(s);
	if (!EFI_ERROR(rc))
		acpi_find_rsdp(s);
	return rc;
}

/*
 * Back to the firmware (boot manager or Shell) with nothing held, so that
 * a second attempt can have the core's fixed range again.
 */
static void stub_release(struct stub *s)
{
	if (s->memmap)
		BS->FreePool(s->memmap);
	if (s->bi) {
		modules_release(s);
		BS->FreePages((EFI_PHYSICAL_ADDRESS)(UINTN)s->bi,
			      EFI_SIZE_TO_PAGES(sizeof(*s->bi)));
	}
	if (s->core_hi)
		BS->FreePages(s->core_lo,
			      EFI_SIZE_TO_PAGES(s->core_hi - s->core_lo));
	if (s->root)
		s->root->Close(s->root);
}

/* Called by gnu-efi's crt0 (_start), which converts to the SysV ABI. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	struct stub s = { .image = image };
	EFI_STATUS rc;

	InitializeLib(image, systab);
	LOG(L"Petrel UEFI loader\n");
	rc = stub_prepare(&s);
	if (!EFI_ERROR(rc))
		rc = exit_boot_services(&s);
	if (rc == EFI_SUCCESS)
		enter_core(&s);
	if (s.ebs_called)
		return rc; /* boot services may be half gone: touch nothing */
	LOG(L"not starting Petrel: %r\n", rc);
	stub_release(&s);
	return rc;
}
