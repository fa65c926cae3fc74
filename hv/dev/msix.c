/* SPDX-License-Identifier: MIT */
/* MSI-X for a PCI function; see petrel/dev/msix.h. */
#include <petrel/dev/msix.h>
#include <petrel/lib.h>

#define CAP_ID_MSIX 0x11

void msix_init(struct msix *m, uint16_t nr, uint8_t bar, uint32_t table, uint32_t pba,
	       void (*send)(void *ctx, uint64_t addr, uint32_t data), void *ctx)
{
	memset(m, 0, sizeof(*m));
	m->nr = (uint16_t)MAX(1, MIN(nr, (uint16_t)MSIX_MAX_VECTORS));
	m->bar = bar;
	m->table = table;
	m->pba = pba;
	m->send = send;
	m->ctx = ctx;
	msix_reset(m);
}

void msix_reset(struct msix *m)
{
	m->enabled = m->masked = false;
	m->pending = 0;
	memset(m->e, 0, sizeof(m->e));
	for (unsigned i = 0; i < MSIX_MAX_VECTORS; i++)
		m->e[i].ctrl = MSIX_ENTRY_MASKED;
}

static uint16_t control(const struct msix *m)
{
	return (uint16_t)((m->nr - 1) | (m->enabled ? MSIX_CTRL_ENABLE : 0) | (m->masked ? MSIX_CTRL_MASK : 0));
}

void msix_cap(const struct msix *m, uint8_t *c, uint8_t next)
{
	uint16_t ctl = control(m);
	uint32_t table = m->table | m->bar, pba = m->pba | m->bar;

	c[0] = CAP_ID_MSIX;
	c[1] = next;
	memcpy(c + 2, &ctl, 2);
	memcpy(c + 4, &table, 4);
	memcpy(c + 8, &pba, 4);
}

static bool can_send(const struct msix *m, unsigned v)
{
	return m->enabled && !m->masked && !(m->e[v].ctrl & MSIX_ENTRY_MASKED);
}

static void send(struct msix *m, unsigned v)
{
	m->pending &= ~(1u << v);
	if (m->send)
		m->send(m->ctx, (uint64_t)m->e[v].addr_hi << 32 | m->e[v].addr_lo, m->e[v].data);
}

/* After an unmask: what was held goes now (§6.8.2.9, pending bits). */
static void flush(struct msix *m)
{
	for (unsigned v = 0; v < m->nr; v++)
		if ((m->pending >> v) & 1 && can_send(m, v))
			send(m, v);
}

void msix_cap_write(struct msix *m, unsigned off, unsigned size, uint32_t val)
{
	/* Message Control is bytes 2-3; its high byte holds both bits */
	for (unsigned i = 0; i < size; i++) {
		if (off + i != 3)
			continue;
		uint8_t b = (uint8_t)(val >> (8 * i));
		m->enabled = b & (MSIX_CTRL_ENABLE >> 8);
		m->masked = b & (MSIX_CTRL_MASK >> 8);
		flush(m);
	}
}

static bool in_table(const struct msix *m, uint64_t off)
{
	return off >= m->table && off < m->table + (uint64_t)MSIX_ENTRY * m->nr;
}

static bool in_pba(const struct msix *m, uint64_t off)
{
	return off >= m->pba && off < m->pba + 8;
}

static bool aligned(uint64_t off, unsigned size)
{
	return (size == 4 || size == 8) && !(off & (size - 1));
}

static uint32_t table_dword(const struct msix *m, uint64_t off)
{
	unsigned v = (unsigned)((off - m->table) / MSIX_ENTRY);

	switch ((off - m->table) % MSIX_ENTRY) {
	case 0: return m->e[v].addr_lo;
	case 4: return m->e[v].addr_hi;
	case 8: return m->e[v].data;
	default: return m->e[v].ctrl;
	}
}

bool msix_bar_read(struct msix *m, uint64_t off, unsigned size, uint64_t *val)
{
	if (!in_table(m, off) && !in_pba(m, off))
		return false;
	*val = 0;
	if (!aligned(off, size))
		return true;
	if (in_pba(m, off)) {
		*val = off == m->pba ? (size == 8 ? m->pending : (uint32_t)m->pending) : 0;
		return true;
	}
	*val = table_dword(m, off);
	if (size == 8)
		*val |= (uint64_t)table_dword(m, off + 4) << 32;
	return true;
}

static void table_write_dword(struct msix *m, uint64_t off, uint32_t val)
{
	unsigned v = (unsigned)((off - m->table) / MSIX_ENTRY);

	switch ((off - m->table) % MSIX_ENTRY) {
	case 0: m->e[v].addr_lo = val & ~3u; break; /* dword aligned */
	case 4: m->e[v].addr_hi = val; break;
	case 8: m->e[v].data = val; break;
	default:
		m->e[v].ctrl = val & MSIX_ENTRY_MASKED;
		flush(m);
		break;
	}
}

bool msix_bar_write(struct msix *m, uint64_t off, unsigned size, uint64_t val)
{
	if (!in_table(m, off) && !in_pba(m, off))
		return false;
	if (!aligned(off, size) || in_pba(m, off)) /* the PBA is read-only */
		return true;
	table_write_dword(m, off, (uint32_t)val);
	if (size == 8)
		table_write_dword(m, off + 4, (uint32_t)(val >> 32));
	return true;
}

void msix_notify(struct msix *m, unsigned v)
{
	if (v >= m->nr)
		return;
	if (can_send(m, v))
		send(m, v);
	else
		m->pending |= 1u << v;
}

/* Address: 0xFEE, destination ID in bits 19:12, redirection hint (3),
 * destination mode (2: logical).  Data: vector 7:0, delivery mode 10:8,
 * trigger mode 15 (MSI is edge-triggered in practice; a level message is
 * taken as edge here: nothing would ever deassert it). */
bool msix_to_apic(uint64_t addr, uint32_t data, struct apic_msg *out)
{
	if ((addr >> 20) != 0xfee)
		return false;
	*out = (struct apic_msg){ .dest = (uint32_t)(addr >> 12) & 0xff, .logical = (addr >> 2) & 1,
				  .vector = (uint8_t)data, .mode = (uint8_t)((data >> 8) & 7), .level = false };
	return true;
}
