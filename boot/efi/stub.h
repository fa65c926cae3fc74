/* SPDX-License-Identifier: MIT */
/*
 * The UEFI stub's shared state and the steps efi_main() runs in order.
 * Only boot/efi/ includes this; the core never sees EFI types.
 */
#ifndef PETREL_EFI_STUB_H
#define PETREL_EFI_STUB_H

#include <efi.h>
#include <efilib.h>
#include <petrel/boot_info.h>

/*
 * We call firmware through the protocol tables directly.  Those pointers are
 * only typed __attribute__((ms_abi)) (UEFI 2.10 §2.3.4.2, the x64 calling
 * convention) when gnu-efi sees GNU_EFI_USE_MS_ABI; without it a direct call
 * would silently pass arguments in the SysV registers.  libefi itself
 * (Print, CopyMem, ...) is plain SysV either way.
 */
#ifndef HAVE_USE_MS_ABI
#error "build boot/efi with -DGNU_EFI_USE_MS_ABI (see boot/efi/efi.mk)"
#endif

/* Console progress lines, all with one prefix so they stand out on serial. */
#define LOG(...) Print(L"petrel-efi: " __VA_ARGS__)

#define BELOW_4G 0xFFFFFFFFull /* AllocateMaxAddress limit: last byte < 4 GiB */

struct stub {
	EFI_HANDLE image;
	EFI_LOADED_IMAGE *loaded;
	EFI_FILE_HANDLE root;     /* boot volume root; NULL if there is none */
	struct boot_info *bi;     /* EfiLoaderData pages below 4 GiB */
	UINT64 core_lo, core_hi;  /* page-aligned physical range of the core */
	UINT64 entry;             /* the core's 64-bit entry, from PETRELH1 */
	UINT32 nr_loaded;         /* modules read into memory so far */
	BOOLEAN ebs_called;       /* ExitBootServices() tried: no more output */
	VOID *memmap;             /* pool buffer for GetMemoryMap */
	UINTN memmap_cap;
};

/* efi_main.c: called by gnu-efi's crt0 (_start) with the SysV ABI */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);

/* fs.c: the boot volume and whole-file reads */
EFI_STATUS fs_open_boot_volume(struct stub *s);
EFI_STATUS fs_config_path(const EFI_DEVICE_PATH *fp, CHAR16 *out, UINTN cap);
EFI_STATUS fs_read_file(EFI_FILE_HANDLE root, CHAR16 *path, BOOLEAN below_4g,
			EFI_PHYSICAL_ADDRESS *addr, UINT64 *size);
void fs_free_file(BOOLEAN below_4g, EFI_PHYSICAL_ADDRESS addr, UINT64 size);

/* core.c: the embedded hv.elf */
EFI_STATUS core_load(struct stub *s);

/* modules.c: petrel.cfg, LoadOptions and the module files */
EFI_STATUS cfg_load(struct stub *s);
EFI_STATUS modules_load(struct stub *s);
void modules_release(struct stub *s);

/* handoff.c: RSDP, ExitBootServices and the jump */
void acpi_find_rsdp(struct stub *s);
EFI_STATUS exit_boot_services(struct stub *s);
void __attribute__((noreturn)) enter_core(const struct stub *s);

#endif
