/* SPDX-License-Identifier: MIT */
/* A VM's guest-physical regions; see petrel/memory.h. */
#include <petrel/lib.h>
#include <petrel/memory.h>

static uint64_t end_of(const struct mem_region *r)
{
	return r->gpa + r->size;
}

int mem_add(struct vm_memory *m, const struct mem_region *r)
{
	unsigned at = 0;

	if (!r->size || r->gpa + r->size < r->gpa || m->n >= MAX_MEM_REGIONS)
		return -1;
	while (at < m->n && m->r[at].gpa < r->gpa)
		at++;
	if ((at > 0 && end_of(&m->r[at - 1]) > r->gpa) || (at < m->n && end_of(r) > m->r[at].gpa))
		return -1;
	memmove(&m->r[at + 1], &m->r[at], (m->n - at) * sizeof(m->r[0]));
	m->r[at] = *r;
	m->n++;
	return 0;
}

/* Takes [gpa, end) out of every region, trimming those that reach into
 * it and splitting the one that spans it (ROM and RAM keep the host
 * address of what is left of them). */
static int punch(struct vm_memory *m, uint64_t gpa, uint64_t end)
{
	for (unsigned i = 0; i < m->n; i++) {
		struct mem_region *r = &m->r[i];
		uint64_t re = end_of(r);
		if (re <= gpa || r->gpa >= end)
			continue;
		if (r->gpa < gpa && re > end) { /* spans it: two pieces */
			struct mem_region tail = *r;
			if (m->n >= MAX_MEM_REGIONS)
				return -1;
			tail.gpa = end;
			tail.size = re - end;
			tail.host = r->host ? r->host + (end - r->gpa) : 0;
			r->size = gpa - r->gpa;
			memmove(&m->r[i + 2], &m->r[i + 1], (m->n - i - 1) * sizeof(m->r[0]));
			m->r[i + 1] = tail;
			m->n++;
			return 0;
		}
		if (r->gpa < gpa) {
			r->size = gpa - r->gpa;
		} else if (re > end) {
			if (r->host)
				r->host += end - r->gpa;
			r->size = re - end;
			r->gpa = end;
		} else {
			memmove(r, r + 1, (m->n - i - 1) * sizeof(m->r[0]));
			m->n--;
			i--;
		}
	}
	return 0;
}

int mem_set(struct vm_memory *m, uint64_t gpa, uint64_t size, const struct mem_region *r)
{
	struct vm_memory t = *m;

	if (!size || gpa + size < gpa || (r && (r->gpa != gpa || r->size != size)))
		return -1;
	if (punch(&t, gpa, gpa + size) || (r && mem_add(&t, r)))
		return -1;
	*m = t;
	return 0;
}

bool mem_is(const struct vm_memory *m, uint64_t gpa, uint64_t size, const struct mem_region *r)
{
	const struct mem_region *at;

	if (!r) /* nothing anywhere in the range */
		return mem_run(m, gpa, size, &at) == size && !at;
	at = mem_lookup(m, gpa);
	return at && at->kind == r->kind && gpa + size <= end_of(at) && at->host + (gpa - at->gpa) == r->host;
}

const struct mem_region *mem_lookup(const struct vm_memory *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->n && m->r[i].gpa <= gpa; i++)
		if (gpa - m->r[i].gpa < m->r[i].size)
			return &m->r[i];
	return NULL;
}

static bool backed(const struct mem_region *r, bool rom_ok)
{
	return r->kind == REGION_RAM || (rom_ok && r->kind == REGION_ROM);
}

/* Regions next to each other with the host memory next to each other too
 * (the RAM below 1 MiB and above it are one host block) count as one. */
void *mem_hva(const struct vm_memory *m, uint64_t gpa, uint64_t len, bool rom_ok)
{
	const struct mem_region *r = mem_lookup(m, gpa);
	uint64_t at = gpa;

	if (!r || !backed(r, rom_ok) || gpa + len < gpa)
		return NULL;
	for (const struct mem_region *c = r; ; c++) {
		if (gpa + len <= end_of(c))
			return (void *)(uintptr_t)(r->host + (gpa - r->gpa));
		at = end_of(c);
		if (c + 1 >= m->r + m->n || c[1].gpa != at || c[1].kind != r->kind ||
		    c[1].host != r->host + (at - r->gpa))
			return NULL;
	}
}

uint64_t mem_run(const struct vm_memory *m, uint64_t gpa, uint64_t len, const struct mem_region **out)
{
	const struct mem_region *r = mem_lookup(m, gpa);
	uint64_t end;

	*out = r;
	if (r) {
		end = end_of(r);
	} else {
		end = ~0ull; /* up to the next region */
		for (unsigned i = 0; i < m->n; i++)
			if (m->r[i].gpa > gpa) {
				end = m->r[i].gpa;
				break;
			}
	}
	return MIN(len, end - gpa);
}

uint64_t mem_ram_size(const struct vm_memory *m)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < m->n; i++)
		if (m->r[i].kind == REGION_RAM)
			n += m->r[i].size;
	return n;
}

uint64_t mem_low_ram_end(const struct vm_memory *m)
{
	uint64_t at = 0;

	for (unsigned i = 0; i < m->n && m->r[i].gpa == at && m->r[i].kind == REGION_RAM; i++)
		at = end_of(&m->r[i]);
	return at;
}

unsigned mem_e820(const struct vm_memory *m, struct e820_entry *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->n; i++) {
		const struct mem_region *r = &m->r[i];
		uint32_t type;
		if (r->kind == REGION_MMIO)
			continue;
		type = r->kind == REGION_RAM && !(r->flags & REGION_RESERVED) ? E820_RAM : E820_RESERVED;
		if (n && out[n - 1].type == type && out[n - 1].addr + out[n - 1].size == r->gpa) {
			out[n - 1].size += r->size;
			continue;
		}
		if (n == max)
			break;
		out[n++] = (struct e820_entry){ .addr = r->gpa, .size = r->size, .type = type };
	}
	return n;
}
