/* SPDX-License-Identifier: MIT */
/*
 * The guest's memory as the hypervisor sees it (petrel/gmem.h):
 * guest-physical → host (the VM's RAM and ROM regions, memory.h;
 * everything else is the VM's MMIO bus), and a walker of the
 * guest's own page tables, as the CPU walks them (protection keys too): 32-bit paging (4 MiB
 * pages with PSE, PSE-36), PAE (through the four PDPTE registers), 4- and
 * 5-level paging (2 MiB and 1 GiB pages).  SDM vol. 3A chapter 4; AMD APM
 * vol. 2 chapter 5.
 */
#include <petrel/cr.h>
#include <petrel/gmem.h>
#include <petrel/lib.h>
#include <petrel/vm.h>

#include "core.h"

#define PT_P (1ull << 0)
#define PT_W (1ull << 1)
#define PT_U (1ull << 2)
#define PT_A (1ull << 5)
#define PT_D (1ull << 6)
#define PT_PS (1ull << 7)
#define PT_XD (1ull << 63)
#define RFLAGS_AC (1ull << 18)

/* RAM only: ROM takes no writes (and the walker's A/D updates). */
void *gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	return mem_hva(&vm->mem, gpa, len, false);
}

/* A piece outside RAM: one bus access where the width is one the bus
 * takes, else byte by byte. */
static void bus_piece(struct vcpu *v, uint64_t gpa, uint8_t *b, uint64_t n, bool write)
{
	if (n == 1 || n == 2 || n == 4 || n == 8) {
		uint64_t val = 0;
		if (write)
			memcpy(&val, b, n);
		io_bus_access(&v->vm->bus, true, v, gpa, (uint8_t)n, write, &val);
		if (!write)
			memcpy(b, &val, n);
		return;
	}
	for (uint64_t i = 0; i < n; i++)
		bus_piece(v, gpa + i, b + i, 1, write);
}

void gpa_access(struct vcpu *v, uint64_t gpa, void *buf, uint64_t len, bool write)
{
	uint8_t *b = buf;

	while (len) {
		const struct mem_region *r;
		uint64_t n = mem_run(&v->vm->mem, gpa, len, &r);
		if (r && r->kind != REGION_MMIO) {
			void *h = (void *)(uintptr_t)(r->host + (gpa - r->gpa));
			if (!write)
				memcpy(b, h, n);
			else if (r->kind == REGION_RAM)
				memcpy(h, b, n);
			/* a write to ROM goes nowhere */
		} else {
			bus_piece(v, gpa, b, n, write);
		}
		gpa += n;
		b += n;
		len -= n;
	}
}

/* --- the walker --------------------------------------------------------------- */

struct walk {
	unsigned levels;     /* 2 (32-bit), 3 (PAE), 4, 5 */
	uint64_t rsvd_high;  /* reserved address bits of 64-bit entries: MAXPHYADDR and up */
	bool nx;             /* EFER.NXE: bit 63 is XD, else reserved */
};

/* A paging-structure entry: RAM, or all-ones for an address with no RAM
 * behind it (devices are not read by page walks). */
static uint64_t read_entry(struct vm *vm, uint64_t gpa, unsigned size)
{
	void *p = gpa_to_hva(vm, gpa, size);
	uint64_t e = 0;

	if (!p)
		return size == 4 ? 0xffffffffull : ~0ull;
	memcpy(&e, p, size);
	return e;
}

/* Sets accessed (and dirty) flags, as the CPU does; entries outside RAM
 * take no writes. */
static void set_flags(struct vm *vm, uint64_t gpa, unsigned size, uint64_t flags)
{
	void *p = gpa_to_hva(vm, gpa, size);

	if (!p)
		return;
	if (size == 4)
		__atomic_fetch_or((uint32_t *)p, (uint32_t)flags, __ATOMIC_RELAXED);
	else
		__atomic_fetch_or((uint64_t *)p, flags, __ATOMIC_RELAXED);
}

/* Reserved bits of an entry at `level` (0 = the PTE), SDM vol. 3A tables
 * 4-5 to 4-8, 4-11 to 4-13, 4-15 to 4-20.  `large` says PS is set where it
 * maps a page. */
static uint64_t reserved_bits(const struct vcpu *v, const struct walk *w, unsigned level, bool large)
{
	uint64_t r;
	uint8_t m = v->cr_caps.maxphyaddr;

	if (w->levels == 2) /* 32-bit paging: only a 4 MiB PDE has any */
		return large ? (1ull << 21) | (m < 40 ? (((1ull << (40 - m)) - 1) << (13 + m - 32)) : 0) : 0;
	r = w->rsvd_high | (w->nx ? 0 : PT_XD);
	if (w->levels == 3) /* PAE: 62:M are reserved, not ignored */
		r |= m < 63 ? (((1ull << 63) - 1) & ~((1ull << m) - 1)) : 0;
	if (large)
		r |= level == 1 ? 0x1fe000ull : 0x3fffe000ull; /* 20:13, 29:13 */
	return r;
}

static bool large_page(const struct vcpu *v, const struct walk *w, unsigned level, uint64_t e)
{
	if (!(e & PT_PS))
		return false;
	if (w->levels == 2)
		return level == 1 && (v->regs.cr4 & CR4_PSE);
	return level == 1 || (level == 2 && w->levels >= 4);
}

/* PS where it cannot map a page is reserved: PML4E/PML5E, and a PDPTE
 * without 1 GiB pages. */
static bool ps_reserved(const struct vcpu *v, const struct walk *w, unsigned level, uint64_t e)
{
	if (!(e & PT_PS) || w->levels < 4)
		return false;
	return level >= 3 || (level == 2 && !v->cr_caps.page_1g);
}

/* The frame a leaf at `level` maps, and the offset bits below it. */
static uint64_t leaf_frame(const struct walk *w, uint64_t e, unsigned level, unsigned shift)
{
	if (w->levels == 2 && level == 1) /* PSE-36: bits 20:13 are address bits 39:32 */
		return (e & 0xffc00000ull) | ((e >> 13) & 0xffull) << 32;
	if (w->levels == 2)
		return e & 0xfffff000ull;
	return e & 0x000ffffffffff000ull & ~((1ull << shift) - 1);
}

/* The permission checks of SDM vol. 3A §4.6 on the combined flags. */
static bool allowed(const struct vcpu *v, const struct walk *w, unsigned acc, bool user_page,
		    bool writable, bool xd)
{
	const struct vcpu_regs *r = &v->regs;
	bool user_acc = acc & GACC_USER;

	if (acc & GACC_FETCH) {
		if (w->nx && xd)
			return false;
		if (user_acc)
			return user_page;
		return !(user_page && (r->cr4 & CR4_SMEP));
	}
	if (user_acc && !user_page)
		return false;
	if (!user_acc && user_page && (r->cr4 & CR4_SMAP) && !(r->rflags & RFLAGS_AC))
		return false;
	if (!(acc & GACC_WRITE) || writable)
		return true;
	return !user_acc && !(r->cr0 & CR0_WP);
}

/* Protection keys (SDM vol. 3A §4.6.2): in IA-32e paging a data access to
 * a user page under CR4.PKE is checked against PKRU, to a supervisor page
 * under CR4.PKS against IA32_PKRS, with the leaf's key (bits 62:59).  AD
 * forbids any data access; WD a write from user mode, or from supervisor
 * mode with CR0.WP. */
static bool key_allows(struct vcpu *v, const struct walk *w, unsigned acc, bool user_page, uint64_t leaf)
{
	const struct vcpu_regs *r = &v->regs;
	unsigned key = (unsigned)(leaf >> 59) & 15;
	uint32_t rights;

	if (w->levels < 4 || (acc & GACC_FETCH))
		return true;
	if (user_page && (r->cr4 & CR4_PKE))
		rights = vcpu_pkru(v);
	else if (!user_page && (r->cr4 & CR4_PKS))
		rights = v->pkrs;
	else
		return true;
	rights >>= 2 * key;
	if (rights & 1)
		return false;
	return !((acc & GACC_WRITE) && (rights & 2) && ((acc & GACC_USER) || (r->cr0 & CR0_WP)));
}

static uint32_t pf_code(const struct vcpu *v, const struct walk *w, unsigned acc, uint32_t extra)
{
	uint32_t e = extra | (acc & (GACC_WRITE | GACC_USER));

	if ((acc & GACC_FETCH) && (w->nx || (v->regs.cr4 & CR4_SMEP)))
		e |= PF_ID;
	return e;
}

static struct walk walk_setup(struct vcpu *v)
{
	const struct vcpu_regs *r = &v->regs;
	struct walk w = { .nx = r->efer & EFER_NXE };
	uint8_t m = v->cr_caps.maxphyaddr;

	w.rsvd_high = m < 52 ? (((1ull << 52) - 1) & ~((1ull << m) - 1)) : 0;
	if (r->efer & EFER_LMA)
		w.levels = (r->cr4 & CR4_LA57) ? 5 : 4;
	else
		w.levels = (r->cr4 & CR4_PAE) ? 3 : 2;
	return w;
}

/* The entry at `level` for gva: from the table, or from the PDPTE
 * registers for PAE's top level. */
static uint64_t entry_at(struct vcpu *v, const struct walk *w, uint64_t table, unsigned level,
			 uint64_t gva, uint64_t *where)
{
	unsigned size = w->levels == 2 ? 4 : 8, bits = w->levels == 2 ? 10 : 9;
	unsigned shift = 12 + level * bits;
	uint64_t index = (gva >> shift) & ((1ull << bits) - 1);

	if (w->levels == 3 && level == 2) {
		*where = ~0ull; /* a register: no flags to set */
		return v->regs.pdpte[(gva >> 30) & 3];
	}
	*where = table + index * size;
	return read_entry(v->vm, *where, size);
}

int gva_translate(struct vcpu *v, uint64_t gva, unsigned acc, uint64_t *gpa, uint32_t *pf_error)
{
	struct walk w;
	uint64_t table, e, where[5];
	bool user = true, writable = true, xd = false;
	unsigned size;

	vcpu_need(v, REG_CR | REG_SEGS | REG_RIP);
	if (!(v->regs.cr0 & CR0_PG)) {
		*gpa = (v->regs.efer & EFER_LMA) ? gva : (uint32_t)gva;
		return 0;
	}
	w = walk_setup(v);
	size = w.levels == 2 ? 4 : 8;
	if (w.levels == 3)
		vcpu_need(v, REG_PDPTE);
	table = w.levels == 2 ? (v->regs.cr3 & 0xfffff000ull) : (v->regs.cr3 & 0x000ffffffffff000ull);
	for (unsigned level = w.levels; level-- > 0;) {
		unsigned shift = 12 + level * (w.levels == 2 ? 10 : 9);
		bool pdpte = w.levels == 3 && level == 2, large;
		e = entry_at(v, &w, table, level, gva, &where[level]);
		if (!(e & PT_P)) {
			*pf_error = pf_code(v, &w, acc, 0);
			return -1;
		}
		large = !pdpte && large_page(v, &w, level, e);
		/* A PDPTE's reserved bits are checked when it is loaded
		 * (ctrlreg.c), not at each walk; where the PDPTEs come from
		 * memory (SVM), QEMU sets its accessed bit there. */
		if ((!pdpte && (e & reserved_bits(v, &w, level, large))) || ps_reserved(v, &w, level, e)) {
			*pf_error = pf_code(v, &w, acc, PF_P | PF_RSVD);
			return -1;
		}
		if (!pdpte) { /* PAE PDPTEs have no R/W, U/S or XD */
			user = user && (e & PT_U);
			writable = writable && (e & PT_W);
			xd = xd || (w.levels > 2 && (e & PT_XD));
		}
		if (level == 0 || large) {
			if (!allowed(v, &w, acc, user, writable, xd)) {
				*pf_error = pf_code(v, &w, acc, PF_P);
				return -1;
			}
			if (!key_allows(v, &w, acc, user, e)) {
				*pf_error = pf_code(v, &w, acc, PF_P | PF_PK);
				return -1;
			}
			for (unsigned l = w.levels; l-- > level;)
				if (where[l] != ~0ull)
					set_flags(v->vm, where[l], size,
						  PT_A | (l == level && (acc & GACC_WRITE) ? PT_D : 0));
			*gpa = leaf_frame(&w, e, level, shift) | (gva & ((1ull << shift) - 1));
			return 0;
		}
		table = w.levels == 2 ? (e & 0xfffff000ull) : (e & 0x000ffffffffff000ull);
	}
	*pf_error = pf_code(v, &w, acc, 0); /* not reached: level 0 always ends the walk */
	return -1;
}

void inject_page_fault(struct vcpu *v, uint64_t gva, uint32_t error)
{
	vcpu_need(v, REG_CR);
	v->regs.cr2 = gva;
	vcpu_dirty(v, REG_CR);
	vcpu_inject_exception(v, 14, true, error);
}

/* --- segmentation ----------------------------------------------------------------- */

#define SEG_TYPE_CODE (1u << 3)
#define SEG_TYPE_EXPDOWN_OR_CONFORMING (1u << 2)
#define SEG_TYPE_W_OR_R (1u << 1)
#define SEG_ATTR_S (1u << 4)
#define SEG_ATTR_P (1u << 7)
#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)
#define RFLAGS_VM (1ull << 17)
#define SS_VECTOR 12
#define GP_VECTOR 13
#define AC_VECTOR 17

/* Bits 63:47 (or 63:56 with LA57) all equal (SDM vol. 1 §3.3.7.1). */
bool gva_canonical(const struct vcpu *v, uint64_t a)
{
	unsigned bits = (v->regs.cr4 & CR4_LA57) ? 57 : 48;
	int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == a;
}

/* Type and limit of a protected-mode data access (SDM vol. 3A §5.3-5.4). */
static bool seg_ok(const struct segment *s, uint64_t off, uint64_t len, bool write, bool protected_mode)
{
	uint64_t last = off + len - 1;

	if (protected_mode) {
		if (!(s->attr & SEG_ATTR_P) || !(s->attr & SEG_ATTR_S))
			return false; /* null (unusable) or a system segment */
		if ((s->attr & SEG_TYPE_CODE) ? write || !(s->attr & SEG_TYPE_W_OR_R)
					      : write && !(s->attr & SEG_TYPE_W_OR_R))
			return false;
	}
	if (!(s->attr & SEG_TYPE_CODE) && (s->attr & SEG_TYPE_EXPDOWN_OR_CONFORMING) && protected_mode)
		return off > s->limit && last <= ((s->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull);
	return last <= s->limit && last >= off;
}

int guest_seg_linear(struct vcpu *v, int seg, uint64_t off, uint64_t len, bool write, uint64_t *lin)
{
	const struct vcpu_regs *r = &v->regs;
	const struct segment *s = &r->seg[seg];
	uint8_t fault = seg == SEG_SS ? SS_VECTOR : GP_VECTOR;

	vcpu_need(v, REG_CR | REG_SEGS | REG_RIP);
	if ((r->efer & EFER_LMA) && (r->seg[SEG_CS].attr & SEG_ATTR_L)) {
		*lin = off + (seg == SEG_FS || seg == SEG_GS ? s->base : 0);
		if (!gva_canonical(v, *lin) || !gva_canonical(v, *lin + len - 1)) {
			vcpu_inject_exception(v, fault, true, 0);
			return -1;
		}
	} else {
		if (!seg_ok(s, off, len, write, (r->cr0 & CR0_PE) && !(r->rflags & RFLAGS_VM))) {
			vcpu_inject_exception(v, fault, true, 0);
			return -1;
		}
		*lin = (s->base + off) & 0xffffffffull;
	}
	if ((r->cr0 & CR0_AM) && (r->rflags & RFLAGS_AC) && r->cpl == 3 && (*lin & (len - 1))) {
		vcpu_inject_exception(v, AC_VECTOR, true, 0);
		return -1;
	}
	return 0;
}

/* --- accesses by linear address ------------------------------------------------ */

static bool wraps_at_4g(struct vcpu *v)
{
	vcpu_need(v, REG_CR | REG_SEGS);
	return !((v->regs.efer & EFER_LMA) && (v->regs.seg[SEG_CS].attr & (1u << 9)));
}

int guest_linear_xlate(struct vcpu *v, uint64_t lin, uint64_t len, unsigned acc, struct gpieces *p,
		       bool inject)
{
	uint64_t mask = wraps_at_4g(v) ? 0xffffffffull : ~0ull;
	uint32_t err;

	p->n = 0;
	for (uint64_t left = len; left; p->n++) {
		lin &= mask;
		p->len[p->n] = MIN(left, PAGE_SIZE - (lin & (PAGE_SIZE - 1)));
		if (gva_translate(v, lin, acc, &p->gpa[p->n], &err)) {
			if (inject)
				inject_page_fault(v, lin, err);
			return -1;
		}
		lin += p->len[p->n];
		left -= p->len[p->n];
	}
	return 0;
}

void gpieces_access(struct vcpu *v, const struct gpieces *p, void *buf, bool write)
{
	uint8_t *b = buf;

	for (unsigned i = 0; i < p->n; i++) {
		gpa_access(v, p->gpa[i], b, p->len[i], write);
		b += p->len[i];
	}
}

int guest_linear_rw(struct vcpu *v, uint64_t lin, void *buf, uint64_t len, unsigned acc, bool inject)
{
	uint8_t *b = buf;
	struct gpieces p;

	/* A page at a time: the translations of one piece come before any of
	 * its accesses, so an access of up to a page that faults changes
	 * nothing. */
	while (len) {
		uint64_t n = MIN(len, PAGE_SIZE);
		if (guest_linear_xlate(v, lin, n, acc, &p, inject))
			return -1;
		gpieces_access(v, &p, b, acc & GACC_WRITE);
		lin += n;
		b += n;
		len -= n;
	}
	return 0;
}

/* Instruction bytes come from RAM only: fetching from the bus would read
 * devices. */
int guest_fetch(struct vcpu *v, uint64_t lin, void *buf, uint64_t len)
{
	uint64_t mask = wraps_at_4g(v) ? 0xffffffffull : ~0ull, gpa;
	unsigned acc = GACC_FETCH | (v->regs.cpl == 3 ? GACC_USER : 0);
	uint8_t *b = buf;
	uint32_t err;

	while (len) {
		uint64_t n;
		void *h;
		lin &= mask;
		n = MIN(len, PAGE_SIZE - (lin & (PAGE_SIZE - 1)));
		if (gva_translate(v, lin, acc, &gpa, &err) || !(h = mem_hva(&v->vm->mem, gpa, n, true)))
			return -1; /* code runs from RAM and ROM (firmware) alike */
		memcpy(b, h, n);
		lin += n;
		b += n;
		len -= n;
	}
	return 0;
}
