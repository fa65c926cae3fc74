/* SPDX-License-Identifier: MIT */
/*
 * Load the embedded core (build/hv.elf, see core_image.asm) at its fixed
 * physical addresses and find its 64-bit entry through the PETRELH1 header
 * (boot/entry.asm).
 */
#include "stub.h"

extern const UINT8 core_image_start[] __attribute__((visibility("hidden")));
extern const UINT8 core_image_end[] __attribute__((visibility("hidden")));

/*
 * EFI_MEMORY_ATTRIBUTE_PROTOCOL (UEFI 2.10; gnu-efi 3.0.15 predates it).
 * Firmware with DXE memory protection may map EfiLoaderData no-execute;
 * this protocol, where present, lets us lift that for the core's range.
 */
#define MEMORY_ATTRIBUTE_PROTOCOL_GUID \
	{ 0xf4560cf6, 0x40ec, 0x4b4a, \
	  { 0xa1, 0x92, 0xbf, 0x1d, 0x57, 0xd0, 0xb1, 0x89 } }
#define MEMORY_XP 0x4000ull /* EFI_MEMORY_XP */

struct memory_attribute_protocol {
	EFI_STATUS (EFIAPI *get)(struct memory_attribute_protocol *self,
				 EFI_PHYSICAL_ADDRESS base, UINT64 len,
				 UINT64 *attr);
	EFI_STATUS (EFIAPI *set)(struct memory_attribute_protocol *self,
				 EFI_PHYSICAL_ADDRESS base, UINT64 len,
				 UINT64 attr);
	EFI_STATUS (EFIAPI *clear)(struct memory_attribute_protocol *self,
				   EFI_PHYSICAL_ADDRESS base, UINT64 len,
				   UINT64 attr);
};

#define PT_LOAD 1
#define EM_X86_64 62
#define HANDOFF_SCAN (64u << 10) /* PETRELH1 lies in the first 64 KiB */

struct elf64_ehdr {
	UINT8 ident[16];
	UINT16 type, machine;
	UINT32 version;
	UINT64 entry, phoff, shoff;
	UINT32 flags;
	UINT16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	UINT32 type, flags;
	UINT64 offset, vaddr, paddr, filesz, memsz, align;
};

static const struct elf64_phdr *phdr(const UINT8 *img, UINTN i)
{
	const struct elf64_ehdr *eh = (const struct elf64_ehdr *)img;

	return (const struct elf64_phdr *)(img + eh->phoff) + i;
}

/* ELF64, little-endian, x86-64, program headers inside the file. */
static EFI_STATUS elf_check(const UINT8 *img, UINTN size)
{
	const struct elf64_ehdr *eh = (const struct elf64_ehdr *)img;

	if (size < sizeof(*eh) || img[0] != 0x7f || img[1] != 'E' ||
	    img[2] != 'L' || img[3] != 'F' || img[4] != 2 || img[5] != 1 ||
	    eh->machine != EM_X86_64)
		return EFI_LOAD_ERROR;
	if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > size ||
	    (size - eh->phoff) / sizeof(struct elf64_phdr) < eh->phnum)
		return EFI_LOAD_ERROR;
	return EFI_SUCCESS;
}

/* Page-aligned [lo, hi) covering every PT_LOAD p_paddr..+p_memsz. */
static EFI_STATUS elf_range(const UINT8 *img, UINTN size, UINT64 *lo,
			    UINT64 *hi)
{
	const struct elf64_ehdr *eh = (const struct elf64_ehdr *)img;
	const struct elf64_phdr *ph;
	UINTN i;

	*lo = ~0ull;
	*hi = 0;
	for (i = 0; i < eh->phnum; i++) {
		ph = phdr(img, i);
		if (ph->type != PT_LOAD || ph->memsz == 0)
			continue;
		if (ph->filesz > ph->memsz || ph->offset > size ||
		    size - ph->offset < ph->filesz ||
		    ph->paddr + ph->memsz < ph->paddr)
			return EFI_LOAD_ERROR;
		if (ph->paddr < *lo)
			*lo = ph->paddr;
		if (ph->paddr + ph->memsz > *hi)
			*hi = ph->paddr + ph->memsz;
	}
	if (*hi == 0)
		return EFI_LOAD_ERROR; /* nothing to load */
	*lo &= ~(UINT64)EFI_PAGE_MASK;
	*hi = (*hi + EFI_PAGE_MASK) & ~(UINT64)EFI_PAGE_MASK;
	return EFI_SUCCESS;
}

/* Zero the whole range (bss and gaps alike), then copy the file bytes. */
static void elf_copy(const UINT8 *img, UINT64 lo, UINT64 hi)
{
	const struct elf64_ehdr *eh = (const struct elf64_ehdr *)img;
	const struct elf64_phdr *ph;
	UINTN i;

	ZeroMem((VOID *)(UINTN)lo, hi - lo);
	for (i = 0; i < eh->phnum; i++) {
		ph = phdr(img, i);
		if (ph->type == PT_LOAD && ph->filesz)
			CopyMem((VOID *)(UINTN)ph->paddr, img + ph->offset,
				ph->filesz);
	}
}

/* "PETRELH1" on an 8-byte boundary, then the entry's physical address. */
static EFI_STATUS find_handoff(UINT64 lo, UINT64 hi, UINT64 *entry)
{
	static const UINT8 magic[8] = { 'P', 'E', 'T', 'R', 'E', 'L', 'H', '1' };
	UINT64 end = hi - lo < HANDOFF_SCAN ? hi : lo + HANDOFF_SCAN;
	const UINT64 *p;
	UINT64 a;

	for (a = lo; a + 16 <= end; a += 8) {
		if (CompareMem((VOID *)(UINTN)a, (VOID *)magic, 8) != 0)
			continue;
		p = (const UINT64 *)(UINTN)a;
		if (p[1] < lo || p[1] >= hi)
			return EFI_LOAD_ERROR; /* points outside the image */
		*entry = p[1];
		return EFI_SUCCESS;
	}
	return EFI_NOT_FOUND;
}

/* The entry runs on the firmware's page tables: make sure it may execute. */
static void core_allow_exec(UINT64 lo, UINT64 hi)
{
	EFI_GUID guid = MEMORY_ATTRIBUTE_PROTOCOL_GUID;
	struct memory_attribute_protocol *ma;
	EFI_STATUS rc;

	if (EFI_ERROR(BS->LocateProtocol(&guid, NULL, (VOID **)&ma)))
		return; /* older firmware: LoaderData is executable there */
	rc = ma->clear(ma, lo, hi - lo, MEMORY_XP);
	if (EFI_ERROR(rc))
		LOG(L"warning: cannot clear no-execute on 0x%lx-0x%lx: %r\n",
		    lo, hi, rc);
}

/*
 * The core is linked at fixed physical addresses (not relocatable), so ask
 * for exactly that range (UEFI 2.10 §7.2 AllocatePages, AllocateAddress).
 */
EFI_STATUS core_load(struct stub *s)
{
	const UINT8 *img = core_image_start;
	UINTN size = core_image_end - core_image_start;
	UINT64 lo, hi;
	EFI_PHYSICAL_ADDRESS addr;
	EFI_STATUS rc;

	rc = elf_check(img, size);
	if (!EFI_ERROR(rc))
		rc = elf_range(img, size, &lo, &hi);
	if (EFI_ERROR(rc)) {
		LOG(L"embedded hv.elf (%ld bytes) is not a loadable ELF64 "
		    L"x86-64 image\n", (UINT64)size);
		return rc;
	}
	addr = lo; /* IN OUT: keep lo intact for the message */
	rc = BS->AllocatePages(AllocateAddress, EfiLoaderData,
			       EFI_SIZE_TO_PAGES(hi - lo), &addr);
	if (EFI_ERROR(rc)) {
		LOG(L"cannot allocate the core's range 0x%lx-0x%lx: %r\n", lo,
		    hi, rc);
		return rc;
	}
	s->core_lo = lo;
	s->core_hi = hi;
	elf_copy(img, lo, hi);
	core_allow_exec(lo, hi);
	rc = find_handoff(lo, hi, &s->entry);
	if (EFI_ERROR(rc)) {
		LOG(L"no valid PETRELH1 handoff header in the core's first "
		    L"64 KiB: %r\n", rc);
		return rc;
	}
	LOG(L"loaded core 0x%lx-0x%lx entry 0x%lx\n", lo, hi, s->entry);
	return EFI_SUCCESS;
}
