/* SPDX-License-Identifier: MIT */
/*
 * The last steps: the ACPI RSDP, the final memory map, ExitBootServices()
 * and the jump into the core.
 */
#include "stub.h"
#include "memmap.h"

#define EBS_TRIES 8
/* Room for the map to grow between sizing it and reading it: our own pool
 * allocation splits a free range (up to 2 more descriptors), and firmware
 * timer callbacks may still allocate (UEFI 2.10 §7.2 GetMemoryMap). */
#define MEMMAP_SLACK 32

/* ACPI 6.5 §5.2.5.3: "RSD PTR ", checksum, OEM, revision at offset 15. */
static BOOLEAN rsdp_valid(const UINT8 *p)
{
	static const UINT8 sig[8] = { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ' };

	return p && CompareMem((VOID *)p, (VOID *)sig, sizeof(sig)) == 0;
}

static const UINT8 *config_table(EFI_GUID *guid)
{
	UINTN i;

	for (i = 0; i < ST->NumberOfTableEntries; i++)
		if (CompareGuid(&ST->ConfigurationTable[i].VendorGuid, guid) == 0)
			return ST->ConfigurationTable[i].VendorTable;
	return NULL;
}

/* UEFI 2.10 §4.6: the RSDP is a configuration table; prefer ACPI 2.0+. */
void acpi_find_rsdp(struct stub *s)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	const UINT8 *p = config_table(&acpi20);
	UINTN len;

	if (!rsdp_valid(p))
		p = config_table(&acpi10);
	if (!rsdp_valid(p)) {
		LOG(L"no ACPI RSDP in the EFI configuration table\n");
		return;
	}
	len = p[15] >= 2 ? 36 : 20; /* XSDT fields exist from revision 2 */
	CopyMem(s->bi->rsdp, (VOID *)p, len);
	s->bi->has_rsdp = 1;
	s->bi->rsdp_phys = (UINT64)(UINTN)p;
	LOG(L"ACPI RSDP at 0x%lx, revision %d\n", s->bi->rsdp_phys, p[15]);
}

/* Size the map once and allocate a buffer with slack, before the loop. */
static EFI_STATUS memmap_alloc(struct stub *s)
{
	UINTN size = 0, key, dsize;
	UINT32 dver;
	EFI_STATUS rc;

	rc = BS->GetMemoryMap(&size, NULL, &key, &dsize, &dver);
	if (rc != EFI_BUFFER_TOO_SMALL) {
		LOG(L"GetMemoryMap (sizing) failed: %r\n", rc);
		return EFI_ERROR(rc) ? rc : EFI_LOAD_ERROR;
	}
	s->memmap_cap = size + MEMMAP_SLACK * dsize;
	rc = BS->AllocatePool(EfiLoaderData, s->memmap_cap, &s->memmap);
	if (EFI_ERROR(rc))
		LOG(L"cannot allocate %ld bytes for the memory map: %r\n",
		    (UINT64)s->memmap_cap, rc);
	return rc;
}

/* GetMemoryMap() into our buffer and convert it; allocates nothing. */
static EFI_STATUS memmap_snapshot(struct stub *s, UINTN *key)
{
	UINTN size = s->memmap_cap, dsize;
	UINT32 dver;
	EFI_STATUS rc;

	rc = BS->GetMemoryMap(&size, s->memmap, key, &dsize, &dver);
	if (EFI_ERROR(rc))
		return rc;
	if (memmap_convert(s->memmap, size, dsize, s->bi) < 0)
		return EFI_BUFFER_TOO_SMALL;
	return EFI_SUCCESS;
}

/*
 * UEFI 2.10 §7.4 ExitBootServices(): the MapKey must match the latest map.
 * If it does not (something allocated in between, e.g. a timer event), the
 * call fails with EFI_INVALID_PARAMETER and boot services may already be
 * partly torn down: from then on only GetMemoryMap() and ExitBootServices()
 * may be called, so the retry loop neither allocates nor prints.
 */
EFI_STATUS exit_boot_services(struct stub *s)
{
	UINTN key;
	EFI_STATUS rc;
	int i;

	rc = memmap_alloc(s);
	if (EFI_ERROR(rc))
		return rc;
	/* A dry run, so that a map we cannot represent is reported while the
	 * console still works. */
	rc = memmap_snapshot(s, &key);
	if (EFI_ERROR(rc)) {
		LOG(L"memory map unusable (more than %d regions after "
		    L"merging?): %r\n", BOOT_MAX_MEM, rc);
		return rc;
	}
	LOG(L"exiting boot services (%d memory regions)\n", s->bi->nr_mem);
	for (i = 0; i < EBS_TRIES; i++) {
		rc = memmap_snapshot(s, &key);
		if (EFI_ERROR(rc))
			return rc;
		s->ebs_called = TRUE;
		rc = BS->ExitBootServices(s->image, key);
		if (rc != EFI_INVALID_PARAMETER)
			return rc;
	}
	return rc;
}

typedef void __attribute__((sysv_abi, noreturn)) (*core_entry_fn)(
	UINT64 magic, UINT64 info);

/*
 * The core's entry64_efi (boot/entry.asm): long mode on the firmware's
 * identity map, interrupts off, RDI = magic, RSI = &boot_info.  It is SysV
 * code whatever ABI this file defaults to, hence the explicit attribute.
 */
void __attribute__((noreturn)) enter_core(const struct stub *s)
{
	core_entry_fn entry = (core_entry_fn)(UINTN)s->entry;

	__asm__ volatile("cli" ::: "memory");
	entry(BOOT_MAGIC_PETREL_EFI, (UINT64)(UINTN)s->bi);
}
