/* SPDX-License-Identifier: MIT */
/* ACPI table parsing: RSDP → XSDT/RSDT → MADT, FADT.  See petrel/acpi.h. */
#include <petrel/acpi.h>
#include <petrel/lib.h>

#define SDT_HEADER_LEN 36

static uint32_t rd32(const uint8_t *p) { return (uint32_t)le_get(p, 4); }
static uint64_t rd64(const uint8_t *p) { return le_get(p, 8); }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)le_get(p, 2); }

uint8_t acpi_checksum(const void *p, uint64_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum;
}

static void warn(struct acpi_info *a, const char *fmt, const char *sig, uint64_t phys)
{
	size_t used = strlen(a->warnings);
	if (used < sizeof(a->warnings))
		pt_snprintf(a->warnings + used, sizeof(a->warnings) - used, fmt, sig, phys);
}

/* Maps a whole SDT (header first, to learn its length) and checks it. */
static const uint8_t *map_sdt(uint64_t phys, boot_map_fn map, void *ctx, struct acpi_info *a)
{
	const uint8_t *h = map(phys, SDT_HEADER_LEN, ctx);
	uint32_t len;
	char sig[5] = { 0 };

	if (!h) {
		warn(a, "table %s at 0x%llx is unreadable\n", "?", phys);
		return NULL;
	}
	memcpy(sig, h, 4);
	len = rd32(h + 4);
	if (len < SDT_HEADER_LEN || len > (1u << 24) || !(h = map(phys, len, ctx))) {
		warn(a, "table %s at 0x%llx has a bad length\n", sig, phys);
		return NULL;
	}
	if (acpi_checksum(h, len) != 0) {
		warn(a, "table %s at 0x%llx has a bad checksum: skipped\n", sig, phys);
		return NULL;
	}
	return h;
}

static void madt_entry(const uint8_t *e, struct acpi_info *a)
{
	uint32_t id, flags;

	switch (e[0]) {
	case 0: /* Processor Local APIC: uid, APIC ID, flags */
	case 9: /* Processor Local x2APIC: reserved(2), x2APIC ID, flags, uid */
		id = e[0] == 0 ? e[3] : rd32(e + 4);
		flags = e[0] == 0 ? rd32(e + 4) : rd32(e + 8);
		if (!(flags & 1)) { /* not enabled: hot-plug only, not ours */
			a->nr_cpus_disabled++;
			return;
		}
		for (uint32_t i = 0; i < a->nr_cpus; i++)
			if (a->apic_ids[i] == id)
				return; /* listed twice (LAPIC and x2APIC entries) */
		if (a->nr_cpus < MAX_CPUS)
			a->apic_ids[a->nr_cpus++] = id;
		return;
	case 1: /* I/O APIC: id, reserved, address, GSI base */
		if (a->nr_ioapics < ACPI_MAX_IOAPICS) {
			a->ioapic[a->nr_ioapics].id = e[2];
			a->ioapic[a->nr_ioapics].phys = rd32(e + 4);
			a->ioapic[a->nr_ioapics].gsi_base = rd32(e + 8);
			a->nr_ioapics++;
		}
		return;
	case 2: /* Interrupt Source Override: bus (0: ISA), source IRQ, GSI, MPS INTI flags */
		if (e[2] == 0 && e[3] < ACPI_ISA_IRQS) {
			a->isa_gsi[e[3]] = rd32(e + 4);
			a->isa_flags[e[3]] = rd16(e + 8);
		}
		return;
	case 5: /* Local APIC Address Override */
		a->lapic_phys = rd64(e + 4);
		return;
	default:
		return;
	}
}

static const uint8_t madt_min_len[] = { [0] = 8, [1] = 12, [2] = 10, [5] = 12, [9] = 16 };

static void parse_madt(const uint8_t *t, struct acpi_info *a)
{
	uint32_t len = rd32(t + 4);

	if (len < 44) /* no room for the local APIC address and flags */
		return;
	a->has_madt = true;
	a->lapic_phys = rd32(t + 36);
	for (uint32_t off = 44; off + 2 <= len;) {
		const uint8_t *e = t + off;
		uint8_t type = e[0], elen = e[1];
		if (elen < 2 || off + elen > len) {
			warn(a, "%s entry at 0x%llx is garbled: rest ignored\n", "MADT", off);
			return;
		}
		if (type < sizeof(madt_min_len) && elen >= madt_min_len[type] && madt_min_len[type])
			madt_entry(e, a);
		off += elen;
	}
}

static void parse_fadt(const uint8_t *t, struct acpi_info *a)
{
	uint32_t len = rd32(t + 4);

	a->has_fadt = true;
	if (len >= 48)
		a->sci_irq = rd16(t + 46);
	/* PM_TMR_BLK (offset 76), PM_TMR_LEN (91) must be 4; flags bit 8
	 * TMR_VAL_EXT says the counter is 32 bits wide instead of 24. */
	if (len >= 92 && rd32(t + 76) && t[91] == 4 && rd32(t + 76) <= 0xffff)
		a->pm_timer_port = (uint16_t)rd32(t + 76);
	if (len >= 116)
		a->pm_timer_32bit = (rd32(t + 112) >> 8) & 1;
	/* DSDT (offset 40; X_DSDT at 140 wins where set), PM1a/b_CNT_BLK (64, 68) */
	if (len >= 44)
		a->dsdt = rd32(t + 40);
	if (len >= 148 && rd64(t + 140))
		a->dsdt = rd64(t + 140);
	if (len >= 72) {
		a->pm1a_cnt = rd32(t + 64);
		a->pm1b_cnt = rd32(t + 68);
	}
}

/* An AML integer at p (ACPI 6.5 §20.2.3): Zero, One, Ones, or a byte,
 * word, dword or qword constant; the byte after it in *next. */
static bool aml_int(const uint8_t *p, const uint8_t *end, uint64_t *v, const uint8_t **next)
{
	static const uint8_t size[] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8 };

	if (p >= end)
		return false;
	if (*p == 0x00 || *p == 0x01 || *p == 0xff) {
		*v = *p == 0xff ? ~0ull : *p;
		*next = p + 1;
		return true;
	}
	if (*p >= sizeof(size) || !size[*p] || end - p - 1 < size[*p])
		return false;
	*v = le_get(p + 1, size[*p]);
	*next = p + 1 + size[*p];
	return true;
}

/* Name (_S5_, Package (n) { a, b, ... }): NameOp 0x08, the name (maybe
 * after a root prefix '\\'), PackageOp 0x12, PkgLength (its first byte's
 * bits 7-6 count the bytes that follow), NumElements, the elements. */
bool acpi_find_s5(const uint8_t *aml, uint32_t len, uint8_t *typ_a, uint8_t *typ_b)
{
	for (uint32_t i = 1; i + 4 <= len; i++) {
		const uint8_t *p = aml + i + 4, *end = aml + len;
		uint64_t a, b;
		if (memcmp(aml + i, "_S5_", 4) ||
		    !(aml[i - 1] == 0x08 || (aml[i - 1] == '\\' && i >= 2 && aml[i - 2] == 0x08)))
			continue;
		if (p >= end || *p != 0x12)
			continue;
		p++;
		if (p >= end || end - p < 1 + (*p >> 6) + 1)
			continue;
		p += 1 + (*p >> 6) + 1; /* PkgLength, NumElements */
		if (!aml_int(p, end, &a, &p) || !aml_int(p, end, &b, &p))
			continue;
		*typ_a = (uint8_t)(a & 7);
		*typ_b = (uint8_t)(b & 7);
		return true;
	}
	return false;
}

/* Whether a table at phys is listed already (a FADT whose DSDT pointer
 * is itself, or a second FADT, must not send the parser round again). */
static bool listed(const struct acpi_info *a, uint64_t phys)
{
	for (uint32_t i = 0; i < a->nr_tables; i++)
		if (a->tables[i].phys == phys)
			return true;
	return false;
}

static void add_table(uint64_t phys, boot_map_fn map, void *ctx, struct acpi_info *a)
{
	const uint8_t *t = map_sdt(phys, map, ctx, a);
	struct acpi_table_ref *r;

	if (!t || a->nr_tables >= ACPI_MAX_TABLES)
		return;
	r = &a->tables[a->nr_tables++];
	memcpy(r->sig, t, 4);
	r->sig[4] = '\0';
	r->len = rd32(t + 4);
	r->phys = phys;
	if (!memcmp(t, "APIC", 4))
		parse_madt(t, a);
	else if (!memcmp(t, "FACP", 4))
		parse_fadt(t, a);
	else if (!memcmp(t, "DSDT", 4))
		a->has_s5 = acpi_find_s5(t + SDT_HEADER_LEN, r->len - SDT_HEADER_LEN, &a->s5_typ_a, &a->s5_typ_b);
	if (!memcmp(t, "FACP", 4) && a->dsdt && !listed(a, a->dsdt))
		add_table(a->dsdt, map, ctx, a); /* not in the root table: the FADT points at it */
}

#define fail fail_with

int acpi_parse(const uint8_t *rsdp, boot_map_fn map, void *ctx, struct acpi_info *a,
	       char *err, size_t errlen)
{
	uint64_t root_phys;
	const uint8_t *root;
	unsigned width;

	memset(a, 0, sizeof(*a));
	for (uint32_t i = 0; i < ACPI_ISA_IRQS; i++)
		a->isa_gsi[i] = i; /* ISA IRQs are GSIs 0-15 unless overridden */
	if (memcmp(rsdp, "RSD PTR ", 8))
		return fail(err, errlen, "ACPI RSDP has no 'RSD PTR ' signature");
	if (acpi_checksum(rsdp, 20) != 0)
		return fail(err, errlen, "ACPI RSDP checksum is bad");
	a->revision = rsdp[15];
	memcpy(a->oem, rsdp + 9, 6);
	if (a->revision >= 2 && acpi_checksum(rsdp, 36) != 0)
		return fail(err, errlen, "ACPI RSDP extended checksum is bad");
	/* ACPI 2.0+: use the XSDT, 64-bit entries; else the RSDT, 32-bit. */
	root_phys = a->revision >= 2 && rd64(rsdp + 24) ? rd64(rsdp + 24) : rd32(rsdp + 16);
	width = a->revision >= 2 && rd64(rsdp + 24) ? 8 : 4;
	add_table(root_phys, map, ctx, a);
	if (a->nr_tables == 0 || !(root = map(root_phys, a->tables[0].len, ctx)))
		return fail(err, errlen, "ACPI root table (XSDT/RSDT) unreadable or corrupt");
	for (uint32_t off = SDT_HEADER_LEN; off + width <= a->tables[0].len; off += width)
		add_table(width == 8 ? rd64(root + off) : rd32(root + off), map, ctx, a);
	if (!a->has_madt)
		warn(a, "no %s table: only the bootstrap CPU will run\n", "MADT", 0);
	return 0;
}

uint64_t acpi_find_rsdp_bios(boot_map_fn map, void *ctx)
{
	const uint8_t *bda = map(0x40e, 2, ctx);
	uint64_t ranges[2][2] = { { 0, 0 }, { 0xe0000, 0x100000 } };

	if (bda && rd16(bda)) {
		ranges[0][0] = (uint64_t)rd16(bda) << 4;
		ranges[0][1] = ranges[0][0] + 1024;
	}
	for (int r = 0; r < 2; r++) {
		for (uint64_t p = ranges[r][0]; p + 20 <= ranges[r][1]; p += 16) {
			const uint8_t *c = map(p, 20, ctx);
			if (c && !memcmp(c, "RSD PTR ", 8) && acpi_checksum(c, 20) == 0)
				return p;
		}
	}
	return 0;
}
