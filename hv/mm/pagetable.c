/* SPDX-License-Identifier: MIT */
/* 4-level page-table builder; see petrel/pagetable.h. */
#include <petrel/lib.h>
#include <petrel/pagetable.h>

/* Intermediate entries allow everything; the leaf decides (SDM vol. 3A
 * §4.6: access rights combine across levels, NX and !RW win). */
#define PT_TABLE_FLAGS (PTE_P | PTE_RW)

static unsigned index_at(uint64_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * level)) & 511;
}

static uint64_t level_size(int level)
{
	return 1ull << (12 + 9 * level);
}

/* Returns the table the entry `e` points to, making one if empty. */
static uint64_t *next_table(const struct pt_ops *o, uint64_t *e)
{
	if (!(*e & PTE_P)) {
		uint64_t page = o->alloc_page(o->ctx);
		if (!page)
			return NULL;
		*e = page | PT_TABLE_FLAGS | o->table_flags;
	} else if (*e & PTE_PS) {
		return NULL; /* a large page is in the way */
	}
	return o->table(*e & PTE_ADDR_MASK, o->ctx);
}

static bool leaf_fits(const struct pt_ops *o, int level, uint64_t va, uint64_t pa, uint64_t size)
{
	uint64_t s = level_size(level);
	if (level == 2 && !o->allow_1g)
		return false;
	return level <= 2 && (va & (s - 1)) == 0 && (pa & (s - 1)) == 0 && size >= s;
}

static int map_one(const struct pt_ops *o, uint64_t root, uint64_t va, uint64_t pa,
		   uint64_t size, uint64_t flags, uint64_t *mapped)
{
	uint64_t *t = o->table(root, o->ctx);

	for (int level = 3; level >= 0; level--) {
		uint64_t *e = &t[index_at(va, level)];
		/* A table already there (an earlier pt_unmap left it) is
		 * filled, not replaced by a large page. */
		if (level == 0 || (leaf_fits(o, level, va, pa, size) && !(*e & PTE_P))) {
			if (*e & PTE_P)
				return -1;
			*e = pa | flags | PTE_P | (level ? PTE_PS : 0);
			*mapped = level_size(level);
			return 0;
		}
		if (!(t = next_table(o, e)))
			return -1;
	}
	return -1;
}

int pt_map(const struct pt_ops *o, uint64_t root, uint64_t va, uint64_t pa, uint64_t size,
	   uint64_t flags)
{
	if ((va | pa | size) & (PAGE_SIZE - 1))
		return -1;
	while (size) {
		uint64_t done;
		if (map_one(o, root, va, pa, size, flags & ~PTE_PS, &done))
			return -1;
		va += done;
		pa += done;
		size -= done;
	}
	return 0;
}

static uint64_t *walk(const struct pt_ops *o, uint64_t root, uint64_t va, int *leaf_level)
{
	uint64_t *t = o->table(root, o->ctx);

	for (int level = 3; level >= 0; level--) {
		uint64_t *e = &t[index_at(va, level)];
		if (!(*e & PTE_P))
			return NULL;
		if (level == 0 || (*e & PTE_PS)) {
			*leaf_level = level;
			return e;
		}
		t = o->table(*e & PTE_ADDR_MASK, o->ctx);
	}
	return NULL;
}

uint64_t pt_lookup(const struct pt_ops *o, uint64_t root, uint64_t va, uint64_t *page_size)
{
	int level;
	uint64_t *e = walk(o, root, va, &level);
	if (!e)
		return 0;
	if (page_size)
		*page_size = level_size(level);
	return *e;
}

int pt_set_flags_4k(const struct pt_ops *o, uint64_t root, uint64_t va, uint64_t flags)
{
	int level;
	uint64_t *e = walk(o, root, va, &level);
	if (!e || level != 0)
		return -1;
	*e = (*e & PTE_ADDR_MASK) | flags | PTE_P;
	return 0;
}

/* A large leaf becomes a table of 512 leaves one level down with the same
 * flags and addresses, made in full before it replaces the leaf: a walker
 * (the CPU, in another vCPU) sees the old leaf or the whole new table. */
static int split(const struct pt_ops *o, uint64_t *e, int level)
{
	uint64_t page = o->alloc_page(o->ctx), *t, flags = *e & PTE_FLAGS_MASK, base = *e & PTE_ADDR_MASK;

	if (!page)
		return -1;
	t = o->table(page, o->ctx);
	if (level == 1)
		flags &= ~PTE_PS; /* 4 KiB leaves have no PS (bit 7 is PAT there) */
	for (unsigned i = 0; i < 512; i++)
		t[i] = (base + i * level_size(level - 1)) | flags;
	__atomic_store_n(e, page | PT_TABLE_FLAGS | o->table_flags, __ATOMIC_RELEASE);
	return 0;
}

static int unmap_level(const struct pt_ops *o, uint64_t *t, int level, uint64_t va, uint64_t end)
{
	while (va < end) {
		uint64_t s = level_size(level), next = (va & ~(s - 1)) + s;
		uint64_t *e = &t[index_at(va, level)];
		if (next > end || next == 0)
			next = end;
		if (*e & PTE_P) {
			bool whole = (va & (s - 1)) == 0 && next - va == s;
			if (level == 0 || ((*e & PTE_PS) && whole)) {
				__atomic_store_n(e, 0, __ATOMIC_RELEASE);
			} else {
				if ((*e & PTE_PS) && split(o, e, level))
					return -1;
				if (unmap_level(o, o->table(*e & PTE_ADDR_MASK, o->ctx), level - 1, va, next))
					return -1;
			}
		}
		va = next;
	}
	return 0;
}

int pt_unmap(const struct pt_ops *o, uint64_t root, uint64_t va, uint64_t size)
{
	if ((va | size) & (PAGE_SIZE - 1) || va + size < va)
		return -1;
	return unmap_level(o, o->table(root, o->ctx), 3, va, va + size);
}
