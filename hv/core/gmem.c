/* SPDX-License-Identifier: MIT */
/*
 * The guest's memory as the hypervisor sees it: guest-physical → host
 * (RAM below the MMIO hole and above 4 GiB, a host block each), and a walker of the guest's own page tables for
 * guest-virtual → guest-physical: 32-bit (2-level, 4 MiB pages with PSE),
 * PAE (3-level, 2 MiB pages) and long mode (4-level, 2 MiB and 1 GiB
 * pages, and 5-level with LA57, which Linux turns on where the CPU has it).
 * SDM vol. 3A §4.3-4.5.  A translation that fails injects #PF into
 * the guest, as the hardware would have.
 */
#include <petrel/lib.h>
#include <petrel/vm.h>

#define CR0_PG (1ull << 31)
#define CR0_WP_ (1ull << 16)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define PT_P 1ull
#define PT_W 2ull
#define PT_U 4ull
#define PT_PS 0x80ull
#define ADDR_MASK 0x000ffffffffff000ull

/* Low RAM and high RAM are a host block each.  A range must lie in one. */
void *gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t high = vm->ram_size - vm->ram_low;

	if (gpa < vm->ram_low && len <= vm->ram_low - gpa)
		return (void *)(uintptr_t)(vm->ram_host + gpa);
	if (gpa >= RAM_HIGH_BASE && gpa - RAM_HIGH_BASE < high && len <= high - (gpa - RAM_HIGH_BASE))
		return (void *)(uintptr_t)(vm->ram_host_high + (gpa - RAM_HIGH_BASE));
	return NULL;
}

static bool read_pte(struct vm *vm, uint64_t gpa, unsigned size, uint64_t *pte)
{
	void *p = gpa_to_hva(vm, gpa, size);
	if (!p)
		return false;
	*pte = 0;
	memcpy(pte, p, size);
	return true;
}

struct walk {
	unsigned levels, entry_size, bits_per_level;
	uint64_t table;
};

static struct walk walk_setup(struct vcpu *v)
{
	const struct vcpu_regs *r = &v->regs;
	if (r->efer & EFER_LMA)
		return (struct walk){ (r->cr4 & CR4_LA57) ? 5 : 4, 8, 9, r->cr3 & ADDR_MASK };
	if (r->cr4 & CR4_PAE)
		return (struct walk){ 3, 8, 9, r->cr3 & 0xffffffe0ull };
	return (struct walk){ 2, 4, 10, r->cr3 & 0xfffff000ull };
}

/* Large pages: 1 GiB at the long-mode PDPT, 2 MiB or 4 MiB (PSE) at the
 * page directory; never at the PAE PDPT or the PML4. */
static bool large_page_ok(struct vcpu *v, const struct walk *w, unsigned level)
{
	if (w->levels == 2)
		return level == 1 && (v->regs.cr4 & CR4_PSE);
	return level == 1 || (w->levels >= 4 && level == 2);
}

/* The frame a leaf maps.  A 4 KiB leaf holds the address in bits 12 and
 * up; a 4 MiB leaf of a 2-level walk uses PSE-36 (bits 20:13 are physical
 * bits 39:32); other large leaves are the address aligned to their size. */
static uint64_t leaf_base(const struct walk *w, uint64_t pte, unsigned level, unsigned shift)
{
	if (level == 0)
		return pte & (w->levels == 2 ? 0xfffff000ull : ADDR_MASK);
	if (w->levels == 2)
		return (pte & 0xffc00000ull) | ((pte >> 13) & 0xffull) << 32;
	return pte & ADDR_MASK & ~((1ull << shift) - 1);
}

int gva_to_gpa(struct vcpu *v, uint64_t gva, bool write, uint64_t *gpa)
{
	struct walk w;
	uint64_t table, pte;
	bool user;

	vcpu_need(v, REG_CR | REG_SEGS);
	if (!(v->regs.cr0 & CR0_PG)) {
		*gpa = (v->regs.efer & EFER_LMA) ? gva : (uint32_t)gva;
		return 0;
	}
	w = walk_setup(v);
	table = w.table;
	user = v->regs.cpl == 3;
	for (unsigned level = w.levels; level-- > 0;) {
		unsigned shift = 12 + level * w.bits_per_level;
		uint64_t index = (gva >> shift) & ((1ull << w.bits_per_level) - 1);
		if (w.levels == 3 && level == 2)
			index = (gva >> 30) & 3;
		if (!read_pte(v->vm, table + index * w.entry_size, w.entry_size, &pte) || !(pte & PT_P))
			return -1;
		if ((write && !(pte & PT_W) && (user || (v->regs.cr0 & CR0_WP_))) || (user && !(pte & PT_U)))
			return -1;
		if (level == 0 || ((pte & PT_PS) && large_page_ok(v, &w, level))) {
			*gpa = leaf_base(&w, pte, level, shift) | (gva & ((1ull << shift) - 1));
			return 0;
		}
		table = w.levels == 2 ? (pte & 0xfffff000ull) : (pte & ADDR_MASK);
	}
	return -1;
}

/* #PF for a failed access on the guest's behalf: error code with P set if
 * a mapping existed is not worth a second walk; report not-present. */
static void inject_pf(struct vcpu *v, uint64_t gva, bool write)
{
	vcpu_need(v, REG_CR);
	v->regs.cr2 = gva;
	vcpu_dirty(v, REG_CR);
	vcpu_inject_exception(v, 14, true, (write ? 2u : 0u) | (v->regs.cpl == 3 ? 4u : 0u));
}

static int copy_virt(struct vcpu *v, uint64_t gva, void *buf, uint64_t len, bool write, bool fault)
{
	uint8_t *b = buf;

	while (len) {
		uint64_t gpa, chunk = MIN(len, PAGE_SIZE - (gva & (PAGE_SIZE - 1)));
		void *h;
		if (gva_to_gpa(v, gva, write, &gpa)) {
			if (fault)
				inject_pf(v, gva, write);
			return -1;
		}
		if (!(h = gpa_to_hva(v->vm, gpa, chunk)))
			return -2; /* not RAM: the caller decides (MMIO) */
		if (write)
			memcpy(h, b, chunk);
		else
			memcpy(b, h, chunk);
		gva += chunk;
		b += chunk;
		len -= chunk;
	}
	return 0;
}

int guest_read_virt(struct vcpu *v, uint64_t gva, void *buf, uint64_t len)
{
	return copy_virt(v, gva, buf, len, false, true);
}

int guest_peek_virt(struct vcpu *v, uint64_t gva, void *buf, uint64_t len)
{
	return copy_virt(v, gva, buf, len, false, false);
}

int guest_write_virt(struct vcpu *v, uint64_t gva, const void *buf, uint64_t len)
{
	return copy_virt(v, gva, (void *)(uintptr_t)buf, len, true, true);
}
