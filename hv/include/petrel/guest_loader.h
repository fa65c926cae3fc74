/* SPDX-License-Identifier: MIT */
/*
 * Putting guests into memory (guest-loader/).
 *
 * Guests come from the hypervisor's modules.  A module's command line says
 * what to do with it (README "Guests"):
 *     vm=NAME     the VM this module belongs to (required)
 *     mem=SIZE    guest RAM, with K/M/G suffix (default 64M, 2M..16G)
 *     cpu=N       the physical CPU to run on (default: VMs spread over CPUs)
 *     role=initrd this module is the initrd of VM NAME (default: the kernel)
 *     role=module a multiboot module of VM NAME's kernel, in module order
 *     role=firmware the VM's firmware (SeaBIOS's bios.bin, OVMF): the VM
 *                 starts from the reset vector, with no kernel of Petrel's
 *     role=disk   the disk image behind VM NAME's virtio-blk device
 *     cmdline="…" the guest kernel's command line
 *     devices=LIST the board's devices to add (+id or id) or leave out (-id),
 *                 comma-separated (README "The PC board")
 *     triple_fault=stop  stop the VM with its state dumped on a triple
 *                 fault, instead of resetting it as a PC does
 *     gdb=serial  the GDB stub's serial port debugs this VM (default: the
 *                 first VM); gdb=wait also holds it before its first
 *                 instruction until GDB attaches
 * For example, in grub.cfg:  module2 /guests/cpuid.elf vm=t0 mem=64M
 * and in petrel.cfg:         module2 \guests\cpuid.elf vm=t0 mem=64M
 * Pure C: tests/unit/test_guest_loader.c.
 */
#ifndef PETREL_GUEST_LOADER_H
#define PETREL_GUEST_LOADER_H

#include <petrel/memory.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_DEFAULT_MEM (64ull << 20)
#define GUEST_MIN_MEM (2ull << 20)
#define GUEST_MAX_MEM (16ull << 30)
#define GUEST_MAX_VCPUS 8 /* MAX_VCPUS_PER_VM */
/* mem_below_4g= (QEMU's max-ram-below-4g): 16 MiB to 3 GiB, whole 2 MiB */
#define GUEST_MIN_BELOW_4G (16ull << 20)
#define GUEST_MAX_BELOW_4G (3ull << 30)

enum guest_role { ROLE_KERNEL, ROLE_INITRD, ROLE_MODULE, ROLE_FIRMWARE, ROLE_DISK };

struct guest_config {
	char vm[16];
	uint64_t mem;
	uint64_t mem_below_4g; /* the most RAM below the MMIO hole; 0: the board's */
	uint8_t cpu[GUEST_MAX_VCPUS]; /* cpu=: vCPU i runs on cpu[i % nr_cpu] */
	uint32_t nr_cpu;               /* 0: Petrel places them */
	uint32_t cpus; /* vCPUs, 1 to GUEST_MAX_VCPUS */
	enum guest_role role;
	char cmdline[1024]; /* the guest kernel's command line; a module's string (role=module) */
	char devices[128];  /* devices=, checked against the board by the caller */
	bool stop_on_triple_fault;
	enum { GUEST_GDB_DEFAULT, GUEST_GDB_SERIAL, GUEST_GDB_WAIT } gdb;
};

/* 0, or -1 with a reason in err. */
int guest_config_parse(const char *args, struct guest_config *cfg, char *err, size_t errlen);

/* Multiboot1 guests (Multiboot 0.6.96 §3, as QEMU's -kernel loads them):
 * ELF32 or ELF64 segments at their physical addresses in usable guest RAM
 * (not page 0); each module page-aligned after the kernel, in order, with
 * its string; the information block (memory map, command line verbatim,
 * module list) in free pages below 640 KiB, from 0x9000 down as QEMU
 * places it, or up from 0xa000 when the kernel is there.  `ram` is the
 * guest's RAM from GPA 0 as the hypervisor sees it, `ram_size` bytes of it
 * (the RAM below 4 GiB); `map` is the VM's memory map (memory.h). */
#define MB_GUEST_MAX_MODULES 16
#define MB_GUEST_CMDLINE_MAX 1024

struct mb_module {
	const uint8_t *data;
	uint64_t size;
	const char *string; /* what the guest gets as the module's string */
};

struct mb_guest {
	uint64_t entry;       /* EIP at start */
	uint64_t info_gpa;    /* EBX at start: the multiboot information */
	uint64_t info_len;    /* with the map, module list and strings after it */
	uint64_t modules_end; /* the end of the last module (or of the kernel), page-aligned */
};

int mb_guest_load(const uint8_t *image, uint64_t size, uint8_t *ram, uint64_t ram_size,
		  const struct e820_entry *map, unsigned nmap, const char *cmdline,
		  const struct mb_module *mods, unsigned nmods, struct mb_guest *out, char *err, size_t errlen);

/*
 * Linux guests, by the x86 boot protocol (Documentation/arch/x86/boot.rst):
 * the protected-mode kernel of a bzImage at its preferred address, a zero
 * page (struct boot_params) with the setup header, an e820 map, the
 * command line, the initrd and the ACPI RSDP, then the 32-bit entry: flat
 * protected mode, paging off, CS = 0x10, DS = ES = SS = 0x18 (both in a GDT
 * at LINUX_GDT_GPA), ESI = the zero page.
 *
 * Guest-physical layout (a PC's): RAM below 640 KiB (the zero page, the
 * command line, the GDT), 640 KiB-1 MiB reserved (the ACPI tables at
 * 0xe0000 sit there, where a BIOS keeps them), RAM from 1 MiB up to 3 GiB at most, the
 * kernel at its preferred address (16 MiB for Debian's), the initrd at the
 * top of low RAM, then up to 4 GiB nothing but the IOAPIC at 0xfec00000 and
 * the local APIC at 0xfee00000, and the rest of the RAM from 4 GiB.
 */
#define LINUX_GDT_GPA 0x1000ull
#define LINUX_BOOT_PARAMS_GPA 0x10000ull
#define LINUX_CMDLINE_GPA 0x20000ull
#define LINUX_CMDLINE_MAX 2048
#define LINUX_ACPI_GPA 0xe0000ull
#define LINUX_ACPI_MAX 0x10000ull

struct linux_guest {
	uint64_t entry;            /* EIP: the protected-mode kernel's start */
	uint64_t boot_params_gpa;  /* ESI */
	uint64_t kernel_gpa, initrd_gpa;
	uint16_t version;          /* boot protocol version */
};

/* True if the image has a Linux setup header ("HdrS"). */
bool linux_is_bzimage(const uint8_t *image, uint64_t size);
/* `ram` is the guest's low RAM, `ram_size` bytes from GPA 0, where the
 * kernel, initrd and zero page go; `map` (nmap entries) is the VM's e820
 * map, RAM above 4 GiB included. */
int linux_load(const uint8_t *kernel, uint64_t ksize, const uint8_t *initrd, uint64_t isize,
	       uint8_t *ram, uint64_t ram_size, const struct e820_entry *map, unsigned nmap,
	       const char *cmdline, uint64_t rsdp_gpa, struct linux_guest *out, char *err, size_t errlen);

#endif
