/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's own page tables: an identity map of physical memory.
 *   - page 0 is not mapped, so a NULL dereference faults;
 *   - the image is mapped with 4 KiB pages by section: text R-X,
 *     rodata R-- NX, data and bss RW- NX (no page is both W and X);
 *   - everything else (RAM, ACPI, MMIO) RW- NX, with 1 GiB pages where the
 *     CPU has them, and the top 32 MiB below 4 GiB (LAPIC, IOAPIC, HPET,
 *     firmware flash) uncached.
 */
#include <arch/cpu.h>
#include <petrel/arch.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/pagetable.h>
#include <petrel/pmm.h>

extern char __image_start[], __text_start[], __text_end[], __rodata_end[], __image_end[];

static uint64_t root;
static uint64_t nx_bit;

static uint64_t alloc_table(void *ctx)
{
	/* Below 4 GiB: the AP trampoline loads CR3 from 32-bit code. */
	return frame_alloc_zeroed(1, GiB(4));
}

static struct pt_ops ops = { .alloc_page = alloc_table, .table = frame_pt_table };

static void map_or_panic(uint64_t start, uint64_t end, uint64_t flags)
{
	if (end > start && pt_map(&ops, root, start, start, end - start, flags))
		panic("paging: cannot map 0x%llx-0x%llx", (unsigned long long)start,
		      (unsigned long long)end);
}

#define MMIO_LOW GiB(4) - MiB(32)

void paging_init(uint64_t max_phys)
{
	uint64_t img0 = (uint64_t)(uintptr_t)__image_start, img1 = (uint64_t)(uintptr_t)__image_end;
	uint64_t low_end = ALIGN_UP(img1, MiB(2));
	struct cpuid_regs r = cpuid(0x80000001, 0);

	nx_bit = (r.edx & (1u << 20)) ? PTE_NX : 0;
	ops.allow_1g = (r.edx & (1u << 26)) != 0;
	root = alloc_table(NULL);
	max_phys = MAX(ALIGN_UP(max_phys, GiB(1)), GiB(4));

	map_or_panic(PAGE_SIZE, img0, PTE_RW | nx_bit);
	map_or_panic(img0, (uint64_t)(uintptr_t)__text_end, 0);
	map_or_panic((uint64_t)(uintptr_t)__text_end, (uint64_t)(uintptr_t)__rodata_end, nx_bit);
	map_or_panic((uint64_t)(uintptr_t)__rodata_end, img1, PTE_RW | nx_bit);
	map_or_panic(img1, low_end, PTE_RW | nx_bit);
	map_or_panic(low_end, MMIO_LOW, PTE_RW | nx_bit);
	map_or_panic(MMIO_LOW, GiB(4), PTE_RW | PTE_PCD | PTE_PWT | nx_bit);
	map_or_panic(GiB(4), max_phys, PTE_RW | nx_bit);

	if (nx_bit)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr0(read_cr0() | CR0_WP);
	write_cr3(root);
	pr_debug("paging: identity map up to 0x%llx, 1G pages %s, NX %s\n",
		 (unsigned long long)max_phys, ops.allow_1g ? "yes" : "no", nx_bit ? "yes" : "no");
}

uint64_t paging_root(void)
{
	return root;
}

/* The AP trampoline page must be executable while APs run through it and
 * writable while we fill it in: never both at once. */
void paging_set_exec(uint64_t page, bool exec)
{
	uint64_t flags = exec ? 0 : (PTE_RW | nx_bit);
	if (pt_set_flags_4k(&ops, root, page, flags))
		panic("paging: 0x%llx is not a 4 KiB page", (unsigned long long)page);
	write_cr3(root); /* flush: this runs before the APs share the tables */
}
