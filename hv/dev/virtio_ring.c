/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues from the device's side; see petrel/dev/virtio_ring.h.
 *
 * The three areas (virtio 1.2 §2.7):
 *   descriptor table  16 bytes per entry: le64 addr, le32 len, le16 flags,
 *                     le16 next; 16-byte aligned
 *   available ring    le16 flags, le16 idx, le16 ring[size] (le16 used_event)
 *   used ring         le16 flags, le16 idx, {le32 id, le32 len}[size]
 *                     (le16 avail_event); 4-byte aligned
 * x86 is little-endian, so the fields are read as they are.
 */
#include <petrel/dev/virtio_ring.h>
#include <petrel/lib.h>

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

#define AVAIL_F_NO_INTERRUPT 1

static uint64_t avail_bytes(uint16_t size)
{
	return 4 + 2ull * size + 2;
}

static uint64_t used_bytes(uint16_t size)
{
	return 4 + 8ull * size + 2;
}

static void *map(const struct virtq_mem *m, uint64_t gpa, uint64_t len)
{
	if (!len || gpa + len < gpa)
		return NULL;
	return m->map(m->ctx, gpa, len);
}

bool virtq_valid(const struct virtq *q, const struct virtq_mem *m)
{
	if (!q->size || q->size > VIRTQ_MAX_SIZE || (q->size & (q->size - 1)))
		return false;
	if ((q->desc & 15) || (q->avail & 1) || (q->used & 3))
		return false;
	return map(m, q->desc, 16ull * q->size) && map(m, q->avail, avail_bytes(q->size)) &&
	       map(m, q->used, used_bytes(q->size));
}

/* One load of a 16-bit field the driver may change under us. */
static uint16_t load16(const void *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static bool add_seg(struct virtq_chain *c, const struct virtq_mem *m, const struct vdesc *d, bool *seen_write)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	uint8_t *h;

	if (!d->len || c->n >= VIRTQ_MAX_SEGS || (!write && *seen_write) || !(h = map(m, d->addr, d->len)))
		return false;
	*seen_write |= write;
	c->seg[c->n++] = (struct virtq_seg){ .host = h, .len = d->len, .write = write };
	if (write)
		c->writable += d->len;
	else
		c->readable += d->len;
	return true;
}

/* The entries of an indirect table, in their own order (§2.7.5.3): no
 * INDIRECT among them, `next` within the table, at most as many as it
 * has (so a loop ends). */
static bool walk_indirect(struct virtq_chain *c, const struct virtq_mem *m, const struct vdesc *ind,
			  bool *seen_write)
{
	const struct vdesc *t;
	uint32_t count = ind->len / 16, i = 0;

	if (ind->len % 16 || !count || (ind->flags & VIRTQ_DESC_F_NEXT) ||
	    !(t = map(m, ind->addr, ind->len)))
		return false;
	for (uint32_t steps = 0;; steps++) {
		struct vdesc d;
		if (steps >= count)
			return false;
		memcpy(&d, &t[i], sizeof(d));
		if ((d.flags & VIRTQ_DESC_F_INDIRECT) || !add_seg(c, m, &d, seen_write))
			return false;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return true;
		if (d.next >= count)
			return false;
		i = d.next;
	}
}

static bool walk(const struct virtq *q, const struct virtq_mem *m, struct virtq_chain *c)
{
	const struct vdesc *table = map(m, q->desc, 16ull * q->size);
	uint16_t i = c->head;
	bool seen_write = false;

	if (!table)
		return false;
	for (unsigned steps = 0;; steps++) {
		struct vdesc d;
		if (steps >= q->size || i >= q->size)
			return false;
		memcpy(&d, &table[i], sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* only as the chain's one descriptor, with nothing before it */
			if (steps || !walk_indirect(c, m, &d, &seen_write))
				return false;
			return true;
		}
		if (!add_seg(c, m, &d, &seen_write))
			return false;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return true;
		i = d.next;
	}
}

enum virtq_pop virtq_pop(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *c)
{
	const uint8_t *avail;
	uint16_t idx, head;

	if (!q->ready)
		return VIRTQ_EMPTY;
	if (!(avail = map(m, q->avail, avail_bytes(q->size))))
		return VIRTQ_BROKEN;
	idx = load16(avail + 2);
	if (idx == q->last_avail)
		return VIRTQ_EMPTY;
	if ((uint16_t)(idx - q->last_avail) > q->size)
		return VIRTQ_BROKEN;
	head = load16(avail + 4 + 2 * (q->last_avail % q->size));
	q->last_avail++;
	memset(c, 0, offsetof(struct virtq_chain, seg));
	c->head = head;
	c->readable = c->writable = 0;
	if (!walk(q, m, c)) {
		c->n = 0;
		c->readable = c->writable = 0;
		return VIRTQ_BAD_CHAIN;
	}
	return VIRTQ_CHAIN;
}

uint8_t *virtq_refused_tail(const struct virtq *q, const struct virtq_mem *m, uint16_t head, bool *ended)
{
	const struct vdesc *table = map(m, q->desc, 16ull * q->size);
	uint16_t i = head;

	*ended = false;
	for (unsigned steps = 0; table && i < q->size && steps < q->size; steps++) {
		struct vdesc d;
		memcpy(&d, &table[i], sizeof(d));
		if (d.flags & VIRTQ_DESC_F_NEXT) {
			i = d.next;
			continue;
		}
		*ended = true;
		if (!(d.flags & VIRTQ_DESC_F_WRITE) || (d.flags & VIRTQ_DESC_F_INDIRECT) || !d.len ||
		    d.addr + d.len <= d.addr)
			return NULL;
		return map(m, d.addr + d.len - 1, 1);
	}
	return NULL;
}

bool virtq_push(struct virtq *q, const struct virtq_mem *m, uint16_t head, uint32_t len)
{
	uint8_t *used = map(m, q->used, used_bytes(q->size));
	uint32_t elem[2] = { head, len };

	if (!used)
		return false;
	memcpy(used + 4 + 8 * (q->used_idx % q->size), elem, sizeof(elem));
	q->used_idx++;
	/* the element before the index: the driver reads them in that order */
	__atomic_store_n((uint16_t *)(used + 2), q->used_idx, __ATOMIC_RELEASE);
	return true;
}

bool virtq_no_interrupt(const struct virtq *q, const struct virtq_mem *m)
{
	const uint8_t *avail = map(m, q->avail, avail_bytes(q->size));
	return avail && (load16(avail) & AVAIL_F_NO_INTERRUPT);
}

static uint64_t copy(const struct virtq_chain *c, bool write, uint64_t off, void *buf, uint64_t len, bool out)
{
	uint64_t done = 0;

	for (unsigned i = 0; i < c->n && done < len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint64_t n;
		if (s->write != write)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = MIN(s->len - off, len - done);
		if (out)
			memcpy(s->host + off, (const uint8_t *)buf + done, n);
		else
			memcpy((uint8_t *)buf + done, s->host + off, n);
		done += n;
		off = 0;
	}
	return done;
}

uint64_t virtq_read(const struct virtq_chain *c, uint64_t off, void *buf, uint64_t len)
{
	return copy(c, false, off, buf, len, false);
}

uint64_t virtq_write(const struct virtq_chain *c, uint64_t off, const void *buf, uint64_t len)
{
	return copy(c, true, off, (void *)(uintptr_t)buf, len, true);
}
