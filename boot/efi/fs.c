/* SPDX-License-Identifier: MIT */
/*
 * The volume hv.efi was loaded from, and whole-file reads from it.
 */
#include "stub.h"

/*
 * Some firmware file systems fail or crawl on one huge Read(); Linux's EFI
 * stub reads in 1 MiB chunks for the same reason (libstub/file.c).
 */
#define READ_CHUNK (1u << 20)

/* Open the root of LoadedImage->DeviceHandle (UEFI 2.10 §9.1, §13.4). */
EFI_STATUS fs_open_boot_volume(struct stub *s)
{
	EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *sfs;
	EFI_STATUS rc;

	rc = BS->HandleProtocol(s->image, &li_guid, (VOID **)&s->loaded);
	if (EFI_ERROR(rc)) {
		LOG(L"no LoadedImage protocol on our own handle: %r\n", rc);
		return rc;
	}
	/* Loaded over the network or from memory: no volume, no petrel.cfg. */
	rc = BS->HandleProtocol(s->loaded->DeviceHandle, &fs_guid,
				(VOID **)&sfs);
	if (EFI_ERROR(rc)) {
		LOG(L"boot device has no file system (%r): no petrel.cfg\n", rc);
		return EFI_SUCCESS;
	}
	rc = sfs->OpenVolume(sfs, &s->root);
	if (EFI_ERROR(rc)) {
		LOG(L"cannot open the boot volume: %r\n", rc);
		s->root = NULL;
	}
	return rc;
}

/* Append one File Path node's name (UEFI 2.10 §10.3.5.4) to out[*o]. */
static EFI_STATUS append_node(const EFI_DEVICE_PATH *dp, CHAR16 *out,
			      UINTN *o, UINTN cap)
{
	const UINT8 *p = (const UINT8 *)dp + sizeof(*dp);
	UINTN len = (UINTN)DevicePathNodeLength(dp), i;
	CHAR16 c;

	/* Nodes are byte-packed: the UCS-2 name may sit unaligned. */
	for (i = sizeof(*dp); i + 1 < len; i += 2, p += 2) {
		c = (CHAR16)(p[0] | p[1] << 8);
		if (c == 0)
			break;
		if (c == '/')
			c = '\\';
		if (c == '\\' && *o > 0 && out[*o - 1] == '\\')
			continue;
		if (*o + 1 >= cap)
			return EFI_BUFFER_TOO_SMALL;
		if (*o == 0 && c != '\\')
			out[(*o)++] = '\\';
		if (*o + 1 >= cap)
			return EFI_BUFFER_TOO_SMALL;
		out[(*o)++] = c;
	}
	out[*o] = 0;
	return EFI_SUCCESS;
}

/*
 * "<directory of hv.efi>\petrel.cfg".  FilePath is relative to DeviceHandle
 * and may split the path over several File Path nodes; join them all.
 */
EFI_STATUS fs_config_path(const EFI_DEVICE_PATH *fp, CHAR16 *out, UINTN cap)
{
	static const CHAR16 name[] = L"petrel.cfg";
	UINTN o = 0, slash = 0, i;
	EFI_STATUS rc;

	out[0] = 0;
	for (; fp && !IsDevicePathEnd(fp); fp = NextDevicePathNode(fp)) {
		if ((UINTN)DevicePathNodeLength(fp) < sizeof(*fp))
			break; /* malformed: do not loop forever */
		if (DevicePathType(fp) != MEDIA_DEVICE_PATH ||
		    DevicePathSubType(fp) != MEDIA_FILEPATH_DP)
			continue;
		if (o > 0 && out[o - 1] != '\\' && o + 1 < cap)
			out[o++] = '\\';
		rc = append_node(fp, out, &o, cap);
		if (EFI_ERROR(rc))
			return rc;
	}
	for (i = 0; i < o; i++)
		if (out[i] == '\\')
			slash = i + 1; /* keep the directory, drop "hv.efi" */
	if (slash == 0)
		out[slash++] = '\\'; /* no file path at all: the root */
	if (slash + sizeof(name) / sizeof(name[0]) > cap)
		return EFI_BUFFER_TOO_SMALL;
	for (i = 0; i < sizeof(name) / sizeof(name[0]); i++)
		out[slash + i] = name[i];
	return EFI_SUCCESS;
}

/* Size of an open file, refusing directories (UEFI 2.10 §13.5 GetInfo). */
static EFI_STATUS file_size(EFI_FILE_HANDLE fh, UINT64 *size)
{
	EFI_GUID info_guid = EFI_FILE_INFO_ID;
	UINT64 buf[128]; /* EFI_FILE_INFO + a 255-character name, aligned */
	EFI_FILE_INFO *info = (EFI_FILE_INFO *)buf;
	UINTN len = sizeof(buf);
	EFI_STATUS rc;

	rc = fh->GetInfo(fh, &info_guid, &len, info);
	if (EFI_ERROR(rc))
		return rc;
	if (info->Attribute & EFI_FILE_DIRECTORY)
		return EFI_INVALID_PARAMETER;
	*size = info->FileSize;
	return EFI_SUCCESS;
}

static EFI_STATUS read_all(EFI_FILE_HANDLE fh, UINT8 *dst, UINT64 size)
{
	UINT64 done = 0;
	UINTN n;
	EFI_STATUS rc;

	while (done < size) {
		n = size - done < READ_CHUNK ? size - done : READ_CHUNK;
		rc = fh->Read(fh, &n, dst + done);
		if (EFI_ERROR(rc))
			return rc;
		if (n == 0)
			return EFI_END_OF_FILE; /* shorter than GetInfo said */
		done += n;
	}
	return EFI_SUCCESS;
}

/* At least one page: a zero-length module still needs an address. */
static UINTN file_pages(UINT64 size)
{
	return size ? EFI_SIZE_TO_PAGES(size) : 1;
}

static EFI_STATUS alloc_file(BOOLEAN below_4g, UINT64 size,
			     EFI_PHYSICAL_ADDRESS *addr)
{
	VOID *pool;
	EFI_STATUS rc;

	if (below_4g) {
		*addr = BELOW_4G;
		return BS->AllocatePages(AllocateMaxAddress, EfiLoaderData,
					 file_pages(size), addr);
	}
	rc = BS->AllocatePool(EfiLoaderData, size + 1, &pool);
	*addr = (EFI_PHYSICAL_ADDRESS)(UINTN)pool;
	return rc;
}

/*
 * Read a whole file into new memory: pool, or (below_4g) pages under 4 GiB,
 * which is where module data has to live for the core.
 */
EFI_STATUS fs_read_file(EFI_FILE_HANDLE root, CHAR16 *path, BOOLEAN below_4g,
			EFI_PHYSICAL_ADDRESS *addr, UINT64 *size)
{
	EFI_FILE_HANDLE fh;
	EFI_STATUS rc;

	rc = root->Open(root, &fh, path, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(rc))
		return rc;
	rc = file_size(fh, size);
	if (!EFI_ERROR(rc))
		rc = alloc_file(below_4g, *size, addr);
	if (!EFI_ERROR(rc)) {
		rc = read_all(fh, (UINT8 *)(UINTN)*addr, *size);
		if (EFI_ERROR(rc))
			fs_free_file(below_4g, *addr, *size);
	}
	fh->Close(fh);
	return rc;
}

void fs_free_file(BOOLEAN below_4g, EFI_PHYSICAL_ADDRESS addr, UINT64 size)
{
	if (below_4g)
		BS->FreePages(addr, file_pages(size));
	else
		BS->FreePool((VOID *)(UINTN)addr);
}
