/* SPDX-License-Identifier: MIT */
/*
 * Linux guests by the x86 boot protocol; see petrel/guest_loader.h.
 * Offsets are those of Documentation/arch/x86/boot.rst ("the real-mode
 * kernel header") and arch/x86/include/uapi/asm/bootparam.h (the zero page).
 */
#include <petrel/guest_loader.h>
#include <petrel/lib.h>

/* Setup header fields, as offsets into the bzImage and the zero page. */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
/* The zero page beyond the header */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128 /* E820_MAX_ENTRIES_ZEROPAGE */
#define BP_SIZE 0x1000

#define LOADED_HIGH 0x01
#define MIN_VERSION 0x020c /* 2.12: 64-bit kernels with xloadflags */

#define fail fail_with
#define rd le_get
#define wr le_put

bool linux_is_bzimage(const uint8_t *image, uint64_t size)
{
	return size > 0x300 && !memcmp(image + HDR_MAGIC, "HdrS", 4) && rd(image + HDR_BOOT_FLAG, 2) == 0xaa55;
}

struct bz {
	uint64_t setup_size, pm_size, pref, align, init_size, initrd_max;
	uint32_t cmdline_size;
	uint16_t version;
};

static int parse_header(const uint8_t *k, uint64_t ksize, struct bz *bz, char *err, size_t errlen)
{
	uint64_t sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;

	if (!linux_is_bzimage(k, ksize))
		return fail(err, errlen, "not a Linux bzImage (no HdrS setup header)");
	bz->version = (uint16_t)rd(k + HDR_VERSION, 2);
	if (bz->version < MIN_VERSION)
		return fail(err, errlen, "Linux boot protocol older than 2.12");
	if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
		return fail(err, errlen, "not a bzImage (zImage loads low)");
	bz->setup_size = (sects + 1) * 512;
	if (bz->setup_size >= ksize)
		return fail(err, errlen, "bzImage is truncated");
	bz->pm_size = ksize - bz->setup_size;
	bz->pref = rd(k + HDR_PREF_ADDRESS, 8);
	bz->align = rd(k + HDR_KERNEL_ALIGNMENT, 4);
	bz->init_size = rd(k + HDR_INIT_SIZE, 4);
	bz->initrd_max = rd(k + HDR_INITRD_ADDR_MAX, 4);
	bz->cmdline_size = (uint32_t)rd(k + HDR_CMDLINE_SIZE, 4);
	if (bz->init_size < bz->pm_size)
		bz->init_size = bz->pm_size;
	return 0;
}

/* The e820 map in the zero page: the VM's memory map as its regions say
 * (memory.h), at most BP_E820_MAX entries. */
static void put_e820(uint8_t *bp, const struct e820_entry *map, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *d = bp + BP_E820_TABLE + i * 20;
		wr(d, map[i].addr, 8);
		wr(d + 8, map[i].size, 8);
		wr(d + 16, map[i].type, 4);
	}
	bp[BP_E820_ENTRIES] = (uint8_t)n;
}

/* Flat 4 GiB code (0x10) and data (0x18) at LINUX_GDT_GPA: the protocol
 * asks for them in a loaded GDT, whatever the kernel then does with it. */
static void build_gdt(uint8_t *ram)
{
	wr(ram + LINUX_GDT_GPA + 0x10, 0x00cf9b000000ffffull, 8);
	wr(ram + LINUX_GDT_GPA + 0x18, 0x00cf93000000ffffull, 8);
}

static int place_kernel(const struct bz *bz, uint64_t ram_size, uint64_t *at, char *err, size_t errlen)
{
	uint64_t a = bz->pref ? bz->pref : MiB(1);

	if (bz->align && (a & (bz->align - 1)))
		a = ALIGN_UP(a, bz->align);
	if (a < MiB(1) || a > ram_size || bz->init_size > ram_size - a)
		return fail(err, errlen, "guest RAM too small for the kernel (init_size)");
	*at = a;
	return 0;
}

static int place_initrd(const struct bz *bz, uint64_t isize, uint64_t ram_size, uint64_t kernel_end,
			uint64_t *at, char *err, size_t errlen)
{
	uint64_t top = MIN(ram_size, bz->initrd_max ? bz->initrd_max + 1 : ram_size);

	*at = 0;
	if (!isize)
		return 0;
	if (isize > top || ALIGN_DOWN(top - isize, PAGE_SIZE) < kernel_end)
		return fail(err, errlen, "guest RAM too small for the initrd above the kernel");
	*at = ALIGN_DOWN(top - isize, PAGE_SIZE);
	return 0;
}

int linux_load(const uint8_t *kernel, uint64_t ksize, const uint8_t *initrd, uint64_t isize,
	       uint8_t *ram, uint64_t ram_size, const struct e820_entry *map, unsigned nmap,
	       const char *cmdline, uint64_t rsdp_gpa, struct linux_guest *out, char *err, size_t errlen)
{
	struct bz bz;
	uint8_t *bp = ram + LINUX_BOOT_PARAMS_GPA;
	uint64_t hdr_end, kaddr, iaddr, clen = strlen(cmdline);

	if (ram_size < MiB(32))
		return fail(err, errlen, "a Linux guest needs at least 32 MiB of RAM");
	if (parse_header(kernel, ksize, &bz, err, errlen) ||
	    place_kernel(&bz, ram_size, &kaddr, err, errlen) ||
	    place_initrd(&bz, isize, ram_size, kaddr + bz.init_size, &iaddr, err, errlen))
		return -1;
	if (nmap > BP_E820_MAX)
		return fail(err, errlen, "memory map has more entries than the zero page holds");
	if (clen >= LINUX_CMDLINE_MAX || (bz.cmdline_size && clen > bz.cmdline_size))
		return fail(err, errlen, "guest command line longer than the kernel accepts");

	memcpy(ram + kaddr, kernel + bz.setup_size, bz.pm_size);
	if (isize)
		memcpy(ram + iaddr, initrd, isize);
	memset(bp, 0, BP_SIZE);
	/* The setup header runs from 0x1f1 to the end the jump at 0x200 skips. */
	hdr_end = 0x202 + kernel[HDR_JUMP + 1];
	memcpy(bp + HDR_SETUP_SECTS, kernel + HDR_SETUP_SECTS, MIN(hdr_end, 0x290) - HDR_SETUP_SECTS);
	bp[HDR_TYPE_OF_LOADER] = 0xff; /* "undefined": no registered loader ID */
	wr(bp + HDR_CODE32_START, kaddr, 4);
	wr(bp + HDR_RAMDISK_IMAGE, (uint32_t)iaddr, 4);
	wr(bp + HDR_RAMDISK_SIZE, (uint32_t)isize, 4);
	wr(bp + BP_EXT_RAMDISK_IMAGE, iaddr >> 32, 4);
	wr(bp + BP_EXT_RAMDISK_SIZE, isize >> 32, 4);
	wr(bp + HDR_CMD_LINE_PTR, LINUX_CMDLINE_GPA, 4);
	wr(bp + BP_EXT_CMD_LINE_PTR, 0, 4);
	wr(bp + BP_ACPI_RSDP_ADDR, rsdp_gpa, 8);
	str_copy((char *)ram + LINUX_CMDLINE_GPA, cmdline, LINUX_CMDLINE_MAX);
	put_e820(bp, map, nmap);
	build_gdt(ram);

	*out = (struct linux_guest){ .entry = kaddr, .boot_params_gpa = LINUX_BOOT_PARAMS_GPA,
				     .kernel_gpa = kaddr, .initrd_gpa = iaddr, .version = bz.version };
	return 0;
}
