/* SPDX-License-Identifier: MIT */
/*
 * guest-loader/acpi_build.c: the guest's ACPI tables.  Each blob is built
 * into an exact-size heap buffer (ASan catches a write past it), then read
 * back two ways: by following its pointers here, checking fields at the
 * offsets the ACPI 6.5 spec gives (written out as numbers, not taken from
 * the builder), and by Petrel's own host-table parser, drivers/acpi.c, over
 * a fake guest-physical address space (fake_phys.h).  The DSDT's AML is
 * decoded byte by byte (ACPI 6.5 §20), not compared with a stored copy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/acpi.h>
#include <petrel/acpi_build.h>
#include <petrel/lib.h>

#include "fake_phys.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static struct acpi_build_cfg std_cfg(uint64_t base, uint32_t nr_cpus)
{
	return (struct acpi_build_cfg){
		.base_gpa = base, .nr_cpus = nr_cpus, .lapic_gpa = 0xfee00000,
		.ioapic_gpa = 0xfec00000, .pm_base = 0x600, .sci_irq = 9,
		.reset_port = 0xcf9, .oem_id = "PETREL",
	};
}

struct blob {
	struct acpi_build_cfg cfg;
	uint8_t *buf; /* exactly len bytes */
	size_t len;
	uint64_t rsdp;
};

/* Learns the size from a roomy scratch buffer, then builds again into an
 * exact-size one, which must give the same length. */
static struct blob *build(const struct acpi_build_cfg *cfg)
{
	struct blob *b = calloc(1, sizeof(*b));
	uint8_t *scratch = malloc(65536);
	uint64_t rsdp = 0;

	b->cfg = *cfg;
	b->len = acpi_build(cfg, scratch, 65536, &rsdp);
	free(scratch);
	assert_true(b->len > 0);
	b->buf = malloc(b->len);
	assert_int_equal(acpi_build(cfg, b->buf, b->len, &b->rsdp), b->len);
	assert_int_equal(b->rsdp, rsdp);
	return b;
}

static struct blob *build_std(uint64_t base, uint32_t nr_cpus)
{
	struct acpi_build_cfg cfg = std_cfg(base, nr_cpus);

	return build(&cfg);
}

static void unbuild(struct blob *b)
{
	free(b->buf);
	free(b);
}

/* The bytes at guest-physical `gpa`, which must lie wholly in the blob. */
static const uint8_t *at(const struct blob *b, uint64_t gpa, uint64_t len)
{
	if (gpa < b->cfg.base_gpa || gpa - b->cfg.base_gpa > b->len ||
	    len > b->len - (gpa - b->cfg.base_gpa))
		fail_msg("0x%llx+%llu is outside the blob", (unsigned long long)gpa,
			 (unsigned long long)len);
	return b->buf + (gpa - b->cfg.base_gpa);
}

/* An SDT at `gpa`: its signature, length inside the blob, checksum zero. */
static const uint8_t *sdt(const struct blob *b, uint64_t gpa, const char *sig)
{
	const uint8_t *t = at(b, gpa, 36);

	assert_memory_equal(t, sig, 4);
	t = at(b, gpa, rd32(t + 4));
	if (acpi_checksum(t, rd32(t + 4)) != 0)
		fail_msg("%s: checksum does not sum to 0", sig);
	return t;
}

static uint64_t xsdt_gpa(const struct blob *b) { return rd64(at(b, b->rsdp, 36) + 24); }

/* The table the XSDT lists with signature `sig`. */
static const uint8_t *listed(const struct blob *b, const char *sig)
{
	const uint8_t *x = sdt(b, xsdt_gpa(b), "XSDT");

	for (uint32_t off = 36; off + 8 <= rd32(x + 4); off += 8) {
		const uint8_t *t = at(b, rd64(x + off), 36);
		if (!memcmp(t, sig, 4))
			return sdt(b, rd64(x + off), sig);
	}
	fail_msg("XSDT does not list %s", sig);
	return NULL;
}

static const uint8_t *fadt(const struct blob *b) { return listed(b, "FACP"); }
static const uint8_t *madt(const struct blob *b) { return listed(b, "APIC"); }
static const uint8_t *dsdt(const struct blob *b) { return sdt(b, rd64(fadt(b) + 140), "DSDT"); }

/* --- RSDP, roots, checksums, layout ------------------------------------------ */

TEST(test_rsdp)
{
	struct blob *b = build_std(0xe0000, 2);
	const uint8_t *r = b->buf;

	assert_int_equal(b->rsdp, 0xe0000); /* first in the blob */
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(r, 20), 0); /* ACPI 1.0 checksum, bytes 0-19 */
	assert_int_equal(acpi_checksum(r, 36), 0); /* extended checksum */
	assert_memory_equal(r + 9, "PETREL", 6);
	assert_int_equal(r[15], 2);
	assert_int_equal(rd32(r + 20), 36);
	assert_true(rd32(r + 16) != 0);
	assert_true(rd64(r + 24) != 0);
	assert_int_equal(r[33] | r[34] | r[35], 0); /* reserved */
	/* Each checksum byte really counts: break one, the sum is off. */
	b->buf[8] ^= 1;
	assert_int_not_equal(acpi_checksum(r, 20), 0);
	unbuild(b);
}

static void check_roots(const struct blob *b)
{
	const uint8_t *x = sdt(b, xsdt_gpa(b), "XSDT");
	const uint8_t *r = sdt(b, rd32(b->buf + 16), "RSDT");

	assert_int_equal(rd32(x + 4), 36 + 2 * 8);
	assert_int_equal(rd32(r + 4), 36 + 2 * 4);
	for (int i = 0; i < 2; i++) {
		static const char *const sig[] = { "FACP", "APIC" };
		assert_memory_equal(at(b, rd64(x + 36 + 8 * i), 4), sig[i], 4);
		assert_int_equal(rd32(r + 36 + 4 * i), rd64(x + 36 + 8 * i));
		assert_true(rd64(x + 36 + 8 * i) + rd32(at(b, rd64(x + 36 + 8 * i), 8) + 4) <=
			    0x100000000ull);
	}
}

/* Every SDT reachable from the RSDP sums to zero, and the tables tile the
 * blob without overlapping; the last one ends where the length says. */
TEST(test_tables_and_checksums)
{
	static const uint32_t cpus[] = { 1, 2, 4, 64 };

	for (unsigned i = 0; i < ARRAY_SIZE(cpus); i++) {
		struct blob *b = build_std(0x7ffe0000, cpus[i]);
		const uint8_t *f = fadt(b), *m = madt(b), *d = dsdt(b);
		const uint8_t *facs = at(b, rd64(f + 132), 64);
		const uint8_t *ends[] = { f + rd32(f + 4), m + rd32(m + 4), d + rd32(d + 4), facs + 64 };
		const uint8_t *last = b->buf + 36;

		check_roots(b);
		for (unsigned k = 0; k < ARRAY_SIZE(ends); k++)
			last = ends[k] > last ? ends[k] : last;
		assert_ptr_equal(last, b->buf + b->len);
		assert_int_equal(rd32(m + 4), 36 + 8 + 8 * cpus[i] + 12 + 2 * 10 + 6);
		unbuild(b);
	}
}

/* The FACS (§5.2.10): 64 bytes, 64-byte aligned in guest-physical terms
 * even when the blob's base is only 16-byte aligned. */
TEST(test_facs)
{
	static const uint64_t bases[] = { 0xe0000, 0xe0010, 0xe0020, 0xe0030 };

	for (unsigned i = 0; i < ARRAY_SIZE(bases); i++) {
		struct blob *b = build_std(bases[i], 2);
		const uint8_t *f = fadt(b);
		uint64_t facs = rd64(f + 132);
		const uint8_t *p = at(b, facs, 64);

		assert_int_equal(facs % 64, 0);
		assert_int_equal(rd32(f + 36), facs); /* FIRMWARE_CTRL = X_FIRMWARE_CTRL */
		assert_memory_equal(p, "FACS", 4);
		assert_int_equal(rd32(p + 4), 64);
		assert_int_equal(rd32(p + 12), 0); /* no waking vector */
		assert_int_equal(rd32(p + 16), 0); /* global lock free */
		assert_int_equal(p[32], 2);        /* version */
		unbuild(b);
	}
}

/* --- Petrel's own host-ACPI parser reads it back ----------------------------- */

static void parse_back(uint32_t nr_cpus, uint16_t pm_base, uint8_t sci)
{
	struct acpi_build_cfg cfg = std_cfg(0xf0000, nr_cpus);
	struct blob *b;
	struct fake_phys ph = { 0 };
	struct acpi_info *a = malloc(sizeof(*a));
	char err[128] = "";

	cfg.pm_base = pm_base;
	cfg.sci_irq = sci;
	cfg.ioapic_gpa = 0xfec01000;
	b = build(&cfg);
	fake_phys_add_copy(&ph, cfg.base_gpa, b->buf, b->len);
	if (acpi_parse(at(b, b->rsdp, 36), fake_phys_map, &ph, a, err, sizeof(err)) != 0)
		fail_msg("acpi_parse: %s", err);
	assert_string_equal(a->warnings, "");
	assert_int_equal(a->revision, 2);
	assert_string_equal(a->oem, "PETREL");
	assert_int_equal(a->nr_tables, 4);
	assert_string_equal(a->tables[0].sig, "XSDT");
	assert_string_equal(a->tables[1].sig, "FACP");
	assert_string_equal(a->tables[2].sig, "DSDT"); /* the FADT's */
	assert_string_equal(a->tables[3].sig, "APIC");
	assert_true(a->has_s5); /* a guest's poweroff goes through S5 */

	assert_true(a->has_madt);
	assert_int_equal(a->lapic_phys, 0xfee00000);
	assert_int_equal(a->nr_cpus, nr_cpus);
	for (uint32_t i = 0; i < nr_cpus; i++)
		assert_int_equal(a->apic_ids[i], i);
	assert_int_equal(a->nr_cpus_disabled, 0);
	assert_int_equal(a->nr_ioapics, 1);
	assert_int_equal(a->ioapic[0].id, nr_cpus);
	assert_int_equal(a->ioapic[0].phys, 0xfec01000);
	assert_int_equal(a->ioapic[0].gsi_base, 0);

	assert_true(a->has_fadt);
	assert_int_equal(a->pm_timer_port, pm_base + 8);
	assert_false(a->pm_timer_32bit); /* a 24-bit timer: no TMR_VAL_EXT */
	assert_int_equal(a->sci_irq, sci);
	fake_phys_free(&ph);
	free(a);
	unbuild(b);
}

TEST(test_host_parser_reads_it)
{
	parse_back(1, 0x600, 9);
	parse_back(2, 0x600, 9);
	parse_back(8, 0xb000, 9);
	parse_back(MAX_CPUS, 0x600, 11); /* every CPU the parser can hold */
}

/* In 0xE0000-0xFFFFF the RSDP is where a BIOS-area scan looks. */
TEST(test_bios_scan_finds_rsdp)
{
	struct fake_phys ph = { 0 };
	uint8_t *area = fake_phys_add(&ph, 0xe0000, 0x20000);
	struct blob *b = build_std(0xf5a30, 4);

	memcpy(area + (0xf5a30 - 0xe0000), b->buf, b->len);
	assert_int_equal(acpi_find_rsdp_bios(fake_phys_map, &ph), 0xf5a30);
	fake_phys_free(&ph);
	unbuild(b);
}

/* --- FADT fields at their ACPI 6.5 Table 5.9 offsets ------------------------- */

static void check_gas(const uint8_t *g, uint8_t space, uint8_t width, uint64_t addr)
{
	assert_int_equal(g[0], space);
	assert_int_equal(g[1], width);
	assert_int_equal(g[2], 0); /* bit offset */
	assert_in_range(g[3], 1, 3); /* a defined access size: byte, word, dword */
	assert_int_equal(rd64(g + 4), addr);
}

TEST(test_fadt_fields)
{
	struct acpi_build_cfg cfg = std_cfg(0x7fff0000, 2);
	struct blob *b;
	const uint8_t *f;

	cfg.pm_base = 0xb000;
	cfg.reset_port = 0x0cf9;
	b = build(&cfg);
	f = fadt(b);
	assert_int_equal(rd32(f + 4), 276); /* revision 6 length */
	assert_int_equal(f[8], 6);
	assert_int_equal(f[131], 5); /* minor version: 6.5 */
	assert_int_equal(rd16(f + 46), 9); /* SCI_INT */
	assert_int_equal(rd32(f + 48), 0); /* SMI_CMD: none, always in ACPI mode */
	assert_int_equal(f[52] | f[53] | f[54], 0); /* ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ */
	assert_int_equal(rd32(f + 56), 0xb000); /* PM1a_EVT_BLK */
	assert_int_equal(rd32(f + 60), 0);      /* PM1b_EVT_BLK */
	assert_int_equal(rd32(f + 64), 0xb004); /* PM1a_CNT_BLK */
	assert_int_equal(rd32(f + 68), 0);      /* PM1b_CNT_BLK */
	assert_int_equal(rd32(f + 72), 0);      /* PM2_CNT_BLK */
	assert_int_equal(rd32(f + 76), 0xb008); /* PM_TMR_BLK */
	assert_int_equal(rd32(f + 80), 0);      /* GPE0_BLK */
	assert_int_equal(f[88], 4);             /* PM1_EVT_LEN */
	assert_int_equal(f[89], 2);             /* PM1_CNT_LEN */
	assert_int_equal(f[90], 0);             /* PM2_CNT_LEN */
	assert_int_equal(f[91], 4);             /* PM_TMR_LEN */
	assert_int_equal(f[92], 0);             /* GPE0_BLK_LEN */
	assert_true(rd16(f + 96) > 100);        /* P_LVL2_LAT: no C2 */
	assert_true(rd16(f + 98) > 1000);       /* P_LVL3_LAT: no C3 */
	assert_true(rd16(f + 109) & 1);         /* IAPC_BOOT_ARCH: LEGACY_DEVICES */

	uint32_t flags = rd32(f + 112);
	assert_true(flags & (1u << 10));  /* RESET_REG_SUP */
	assert_true(flags & (1u << 0));   /* WBINVD */
	assert_false(flags & (1u << 8));  /* TMR_VAL_EXT: 24-bit timer */
	assert_false(flags & (1u << 20)); /* not HW_REDUCED_ACPI */

	check_gas(f + 116, 1, 8, 0xcf9); /* RESET_REG: system I/O, 8 bits */
	assert_int_equal(f[128], 0x06);  /* RESET_VALUE */
	assert_int_equal(f[128], ACPI_RESET_VALUE);

	assert_int_equal(rd64(f + 132), rd32(f + 36)); /* X_FIRMWARE_CTRL */
	assert_int_equal(rd64(f + 140), rd32(f + 40)); /* X_DSDT */
	assert_memory_equal(at(b, rd64(f + 140), 4), "DSDT", 4);
	check_gas(f + 148, 1, 32, 0xb000); /* X_PM1a_EVT_BLK */
	check_gas(f + 172, 1, 16, 0xb004); /* X_PM1a_CNT_BLK */
	check_gas(f + 208, 1, 32, 0xb008); /* X_PM_TMR_BLK */
	for (unsigned off = 160; off < 268; off += 12)
		if (off != 172 && off != 208)
			assert_int_equal(rd64(f + off + 4), 0); /* PM1b, PM2, GPE, sleep regs */
	unbuild(b);
}

/* --- MADT ------------------------------------------------------------------- */

TEST(test_madt_entries)
{
	struct blob *b = build_std(0xe0000, 3);
	const uint8_t *m = madt(b), *e = m + 44;
	uint32_t len = rd32(m + 4);

	assert_int_equal(rd32(m + 36), 0xfee00000);
	assert_int_equal(rd32(m + 40), 1); /* PCAT_COMPAT, nothing else */
	for (uint32_t i = 0; i < 3; i++, e += 8) {
		assert_int_equal(e[0], 0); /* Processor Local APIC */
		assert_int_equal(e[1], 8);
		assert_int_equal(e[2], i); /* UID */
		assert_int_equal(e[3], i); /* APIC ID */
		assert_int_equal(rd32(e + 4), 1); /* Enabled */
	}
	assert_int_equal(e[0], 1); /* I/O APIC */
	assert_int_equal(e[1], 12);
	assert_int_equal(e[2], 3);
	assert_int_equal(rd32(e + 4), 0xfec00000);
	assert_int_equal(rd32(e + 8), 0);
	e += 12;
	/* IRQ0 -> GSI2, flags 0: conforms to ISA, i.e. edge, active high */
	assert_int_equal(e[0], 2);
	assert_int_equal(e[1], 10);
	assert_int_equal(e[2], 0);
	assert_int_equal(e[3], 0);
	assert_int_equal(rd32(e + 4), 2);
	assert_int_equal(rd16(e + 8), 0);
	e += 10;
	/* SCI: IRQ9 -> GSI9, level (bits 3:2 = 11), active high (bits 1:0 = 01) */
	assert_int_equal(e[0], 2);
	assert_int_equal(e[1], 10);
	assert_int_equal(e[2], 0);
	assert_int_equal(e[3], 9);
	assert_int_equal(rd32(e + 4), 9);
	assert_int_equal(rd16(e + 8), 0x000d);
	e += 10;
	/* Local APIC NMI: all CPUs, LINT1 */
	assert_int_equal(e[0], 4);
	assert_int_equal(e[1], 6);
	assert_int_equal(e[2], 0xff);
	assert_int_equal(e[5], 1);
	e += 6;
	assert_ptr_equal(e, m + len); /* nothing after, nothing cut short */
	unbuild(b);
}

/* --- DSDT: decode the AML (§20) ---------------------------------------------- */

struct aml_rd {
	const uint8_t *p;
	uint32_t pos, end;
};

static uint8_t aml_next(struct aml_rd *r)
{
	if (r->pos >= r->end)
		fail_msg("AML runs past its end at %u", r->pos);
	return r->p[r->pos++];
}

/* PkgLength (§20.2.4): bits 7:6 of the lead byte count the bytes that
 * follow; with none, bits 5:0 are the length, else bits 3:0 are its low
 * nibble.  Returns the length, which counts the PkgLength bytes. */
static uint32_t aml_pkglength(struct aml_rd *r)
{
	uint8_t lead = aml_next(r);
	unsigned extra = lead >> 6;
	uint32_t len;

	if (extra == 0)
		return lead & 0x3f;
	if (lead & 0x30)
		fail_msg("PkgLength lead byte 0x%x: bits 5:4 must be 0", lead);
	len = lead & 0x0f;
	for (unsigned i = 0; i < extra; i++)
		len |= (uint32_t)aml_next(r) << (4 + 8 * i);
	return len;
}

/* ComputationalData / ConstObj integers (§20.2.3, §20.2.5.4). */
static uint64_t aml_integer(struct aml_rd *r)
{
	uint8_t op = aml_next(r);
	unsigned n;
	uint64_t v = 0;

	switch (op) {
	case 0x00: return 0;          /* ZeroOp */
	case 0x01: return 1;          /* OneOp */
	case 0xff: return ~0ull;      /* OnesOp */
	case 0x0a: n = 1; break;      /* BytePrefix */
	case 0x0b: n = 2; break;      /* WordPrefix */
	case 0x0c: n = 4; break;      /* DWordPrefix */
	case 0x0e: n = 8; break;      /* QWordPrefix */
	default: fail_msg("AML: 0x%02x at %u is not an integer", op, r->pos - 1); return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)aml_next(r) << (8 * i);
	return v;
}

static bool is_lead_name_char(uint8_t c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_name_char(uint8_t c) { return is_lead_name_char(c) || (c >= '0' && c <= '9'); }

struct aml_pkg {
	char name[5];
	bool rooted;
	uint32_t pkglength, count;
	uint64_t v[8];
};

/* DefName := NameOp NameString DataRefObject, the DataRefObject a
 * DefPackage := PackageOp PkgLength NumElements PackageElementList: the only
 * objects our DSDT holds.  The package must end exactly where its
 * PkgLength says. */
static void aml_name_package(struct aml_rd *r, struct aml_pkg *pkg)
{
	uint32_t start, end;

	memset(pkg, 0, sizeof(*pkg));
	assert_int_equal(aml_next(r), 0x08); /* NameOp */
	if (r->pos < r->end && r->p[r->pos] == '\\') {
		pkg->rooted = true;
		r->pos++;
	}
	for (int i = 0; i < 4; i++) {
		pkg->name[i] = (char)aml_next(r);
		assert_true(i == 0 ? is_lead_name_char((uint8_t)pkg->name[i])
				   : is_name_char((uint8_t)pkg->name[i]));
	}
	assert_int_equal(aml_next(r), 0x12); /* PackageOp */
	start = r->pos;
	pkg->pkglength = aml_pkglength(r);
	end = start + pkg->pkglength;
	assert_true(end <= r->end);
	pkg->count = aml_next(r); /* NumElements */
	assert_true(pkg->count <= ARRAY_SIZE(pkg->v));
	for (uint32_t i = 0; i < pkg->count; i++)
		pkg->v[i] = aml_integer(r);
	assert_int_equal(r->pos, end);
}

/* Decodes the whole DSDT body; returns the packages found. */
static unsigned decode_dsdt(const uint8_t *d, struct aml_pkg *pkgs, unsigned max)
{
	struct aml_rd r = { .p = d, .pos = 36, .end = rd32(d + 4) };
	unsigned n = 0;

	while (r.pos < r.end) {
		assert_true(n < max);
		aml_name_package(&r, &pkgs[n++]);
	}
	assert_int_equal(r.pos, r.end);
	return n;
}

static const struct aml_pkg *find_pkg(const struct aml_pkg *p, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(p[i].name, name))
			return &p[i];
	fail_msg("DSDT has no %s", name);
	return NULL;
}

static void check_sleep_pkg(const struct aml_pkg *p, uint64_t slp_typ)
{
	assert_true(p->rooted); /* \_Sx: the root scope, where OSPM looks */
	assert_int_equal(p->count, 4);
	assert_int_equal(p->v[0], slp_typ); /* PM1a_CNT.SLP_TYP */
	assert_int_equal(p->v[1], slp_typ); /* PM1b_CNT.SLP_TYP */
	assert_int_equal(p->v[2], 0);       /* reserved */
	assert_int_equal(p->v[3], 0);
}

TEST(test_dsdt_sleep_states)
{
	struct blob *b = build_std(0xe0000, 2);
	const uint8_t *d = dsdt(b);
	struct aml_pkg pkgs[8];
	unsigned n;
	const struct aml_pkg *s5;

	assert_int_equal(d[8], 2); /* revision 2: 64-bit AML integers */
	n = decode_dsdt(d, pkgs, ARRAY_SIZE(pkgs));
	assert_int_equal(n, 2);
	s5 = find_pkg(pkgs, n, "_S5_");
	check_sleep_pkg(s5, 5);
	/* {5, 5, 0, 0}: NumElements + 2 BytePrefix'd + 2 ZeroOp + PkgLength */
	assert_int_equal(s5->pkglength, 1 + 2 + 2 + 1 + 1 + 1);
	check_sleep_pkg(find_pkg(pkgs, n, "_S0_"), 0);
	assert_int_equal(ACPI_SLP_TYP_S5, 5);
	assert_int_equal(ACPI_SLP_TYP_S0, 0);
	/* What the guest writes to power off, SLP_TYP | SLP_EN. */
	assert_int_equal((ACPI_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT) | ACPI_PM1_CNT_SLP_EN,
			 0x3400);
	unbuild(b);
}

/* The decoder itself: multi-byte PkgLength and the wider integer forms,
 * so a builder change to them would be read right. */
TEST(test_aml_decoder)
{
	/* 0x4a 0x01: one extra byte, length 0x1a = 26 */
	static const uint8_t pl[] = { 0x4a, 0x01 };
	static const uint8_t ints[] = { 0x0b, 0x34, 0x12, 0x0c, 0x78, 0x56, 0x34, 0x12, 0xff };
	struct aml_rd r = { .p = pl, .pos = 0, .end = sizeof(pl) };

	assert_int_equal(aml_pkglength(&r), 0x1a);
	r = (struct aml_rd){ .p = ints, .pos = 0, .end = sizeof(ints) };
	assert_int_equal(aml_integer(&r), 0x1234);
	assert_int_equal(aml_integer(&r), 0x12345678);
	assert_int_equal(aml_integer(&r), ~0ull);
}

/* --- DSDT: the PCI root bridge ----------------------------------------------- */

static struct acpi_build_cfg pci_cfg(uint64_t base)
{
	struct acpi_build_cfg c = std_cfg(base, 2);

	c.pci_mem_start = 0x20000000;
	c.pci_mem_end = 0xfec00000;
	c.pci_gsi_base = 16;
	return c;
}

static void expect_seg(struct aml_rd *r, const char *seg)
{
	for (int i = 0; i < 4; i++)
		assert_int_equal(aml_next(r), (uint8_t)seg[i]);
}

/* NameOp and the 4-character name: the next object's name. */
static void expect_name(struct aml_rd *r, const char *seg)
{
	assert_int_equal(aml_next(r), 0x08);
	expect_seg(r, seg);
}

/* Reads a PkgLength at the current position; returns where it ends. */
static uint32_t pkg_end(struct aml_rd *r)
{
	uint32_t start = r->pos, end = start + aml_pkglength(r);

	assert_true(end <= r->end);
	return end;
}

/* The _CRS buffer's descriptors (§6.4): each read by its own tag. */
static void check_crs(const uint8_t *b, uint32_t len)
{
	uint32_t pos = 0;
	unsigned words = 0, dwords = 0, ios = 0;
	bool ended = false;

	while (pos < len && !ended) {
		const uint8_t *d = b + pos;
		switch (d[0]) {
		case 0x88: /* Word Address Space: type, flags, tflags, gran, min, max, tra, len */
			assert_int_equal(le_get(d + 1, 2), 13);
			assert_int_equal(d[4], 0x0c); /* producer, min and max fixed */
			assert_int_equal(le_get(d + 12, 2), 0); /* no translation */
			assert_int_equal(le_get(d + 14, 2), le_get(d + 10, 2) - le_get(d + 8, 2) + 1);
			if (words == 0) {
				assert_int_equal(d[3], 2); /* bus numbers 0-255 */
				assert_int_equal(le_get(d + 8, 2), 0);
				assert_int_equal(le_get(d + 10, 2), 0xff);
			} else {
				assert_int_equal(d[3], 1); /* I/O: all but the config ports */
				assert_int_equal(le_get(d + 8, 2), words == 1 ? 0 : 0xd00);
				assert_int_equal(le_get(d + 10, 2), words == 1 ? 0xcf7 : 0xffff);
			}
			words++;
			pos += 16;
			break;
		case 0x47: /* I/O port: the configuration mechanism's 8 ports */
			assert_int_equal(le_get(d + 2, 2), 0xcf8);
			assert_int_equal(le_get(d + 4, 2), 0xcf8);
			assert_int_equal(d[7], 8);
			ios++;
			pos += 8;
			break;
		case 0x87: /* DWord Address Space: memory windows */
			assert_int_equal(le_get(d + 1, 2), 23);
			assert_int_equal(d[3], 0);
			assert_int_equal(le_get(d + 22, 4), le_get(d + 14, 4) - le_get(d + 10, 4) + 1);
			assert_int_equal(le_get(d + 10, 4), dwords == 0 ? 0xa0000 : 0x20000000);
			assert_int_equal(le_get(d + 14, 4), dwords == 0 ? 0xbffff : 0xfebfffff);
			dwords++;
			pos += 26;
			break;
		case 0x79:
			ended = true;
			pos += 2;
			break;
		default:
			fail_msg("_CRS: descriptor tag 0x%02x at %u", d[0], pos);
		}
	}
	assert_true(ended);
	assert_int_equal(pos, len);
	assert_int_equal(words, 3);
	assert_int_equal(dwords, 2);
	assert_int_equal(ios, 1);
}

/* _PRT: every pin of every slot, each on the PIRQ line the slot swizzle
 * gives, as GSI 16 + line. */
static void check_prt(struct aml_rd *r)
{
	uint32_t end;

	assert_int_equal(aml_next(r), 0x12);
	end = pkg_end(r);
	assert_int_equal(aml_next(r), 128);
	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			uint32_t e;
			assert_int_equal(aml_next(r), 0x12);
			e = pkg_end(r);
			assert_int_equal(aml_next(r), 4);
			assert_int_equal(aml_integer(r), (uint64_t)slot << 16 | 0xffff);
			assert_int_equal(aml_integer(r), pin);
			assert_int_equal(aml_integer(r), 0); /* a GSI, no link device */
			assert_int_equal(aml_integer(r), 16 + (slot + pin) % 4);
			assert_int_equal(r->pos, e);
		}
	}
	assert_int_equal(r->pos, end);
}

TEST(test_dsdt_pci_root)
{
	struct acpi_build_cfg cfg = pci_cfg(0xe0000);
	struct blob *b = build(&cfg);
	const uint8_t *d = dsdt(b);
	struct aml_rd r = { .p = d, .pos = 36, .end = rd32(d + 4) };
	struct aml_pkg pkg;
	uint32_t scope_end, dev_end, buf_end, crs_len;
	uint8_t s5a, s5b;

	aml_name_package(&r, &pkg);
	check_sleep_pkg(&pkg, 0);
	aml_name_package(&r, &pkg);
	check_sleep_pkg(&pkg, 5);
	assert_int_equal(aml_next(&r), 0x10); /* Scope (\_SB) */
	scope_end = pkg_end(&r);
	assert_int_equal(scope_end, r.end);
	assert_int_equal(aml_next(&r), '\\');
	expect_seg(&r, "_SB_");
	assert_int_equal(aml_next(&r), 0x5b); /* Device (PCI0) */
	assert_int_equal(aml_next(&r), 0x82);
	dev_end = pkg_end(&r);
	assert_int_equal(dev_end, scope_end);
	expect_seg(&r, "PCI0");
	expect_name(&r, "_HID");
	assert_int_equal(aml_integer(&r), 0x030ad041); /* PNP0A03 */
	expect_name(&r, "_UID");
	assert_int_equal(aml_integer(&r), 0);
	expect_name(&r, "_CRS");
	assert_int_equal(aml_next(&r), 0x11); /* Buffer */
	buf_end = pkg_end(&r);
	crs_len = (uint32_t)aml_integer(&r);
	assert_int_equal(r.pos + crs_len, buf_end);
	check_crs(d + r.pos, crs_len);
	r.pos = buf_end;
	expect_name(&r, "_PRT");
	check_prt(&r);
	assert_int_equal(r.pos, dev_end);
	/* Petrel's own poweroff path still finds \_S5 in it */
	assert_true(acpi_find_s5(d + 36, rd32(d + 4) - 36, &s5a, &s5b));
	assert_int_equal(s5a, 5);
	unbuild(b);
}

/* --- the table-loader: what a firmware does with the linked tables ----------- */

struct loaded {
	struct fake_phys ph;
	uint8_t *file[2]; /* rsdp, tables: in ph */
	uint64_t addr[2];
	uint32_t len[2];
	bool allocated[2];
};

static int file_index(const char *name)
{
	if (!strcmp(name, "etc/acpi/rsdp"))
		return 0;
	if (!strcmp(name, "etc/acpi/tables"))
		return 1;
	fail_msg("loader names an unknown file '%s'", name);
	return -1;
}

/* The names in a command are NUL-terminated within their 56 bytes. */
static const char *cmd_name(const uint8_t *p)
{
	assert_non_null(memchr(p, 0, 56));
	return (const char *)p;
}

/* Runs the commands as SeaBIOS's romfile_loader does (ovmf false), or as
 * OVMF's AcpiPlatformDxe does (true): the RSDP's file placed in the F
 * segment, the tables' high; a file referred to before it is placed fails
 * the test.  The two differ in ADD_CHECKSUM: SeaBIOS subtracts the range's
 * sum from the byte, OVMF overwrites the byte with the negated sum of the
 * range, the byte included. */
static void run_loader(struct loaded *ld, const struct acpi_linked *lk, bool ovmf)
{
	static const uint64_t where[2] = { 0xf5a40, 0x7ffd0000 };
	const uint8_t *src[2] = { lk->rsdp, lk->tables };
	uint32_t len[2] = { 36, (uint32_t)lk->tables_len };

	assert_int_equal(lk->loader_len % 128, 0);
	for (size_t off = 0; off < lk->loader_len; off += 128) {
		const uint8_t *e = lk->loader + off;
		int f, g;
		switch (rd32(e)) {
		case 1: /* ALLOCATE file, align, zone */
			f = file_index(cmd_name(e + 4));
			assert_false(ld->allocated[f]);
			assert_int_equal(where[f] % rd32(e + 60), 0);
			assert_int_equal(e[64], f == 0 ? 2 : 1); /* FSEG for the RSDP, else HIGH */
			ld->addr[f] = where[f];
			ld->len[f] = len[f];
			ld->file[f] = fake_phys_add_copy(&ld->ph, where[f], src[f], len[f]);
			ld->allocated[f] = true;
			break;
		case 2: { /* ADD_POINTER dest, src, offset, size */
			uint8_t size = e[120];
			f = file_index(cmd_name(e + 4));
			g = file_index(cmd_name(e + 60));
			assert_true(ld->allocated[f] && ld->allocated[g]);
			assert_true(size == 4 || size == 8);
			assert_true(rd32(e + 116) + size <= ld->len[f]);
			uint64_t v = le_get(ld->file[f] + rd32(e + 116), size) + ld->addr[g];
			for (unsigned i = 0; i < size; i++)
				ld->file[f][rd32(e + 116) + i] = (uint8_t)(v >> (8 * i));
			break;
		}
		case 3: /* ADD_CHECKSUM file, offset, start, length */
			f = file_index(cmd_name(e + 4));
			assert_true(ld->allocated[f]);
			assert_true(rd32(e + 60) < ld->len[f]);
			assert_true(rd32(e + 64) + rd32(e + 68) <= ld->len[f]);
			if (ovmf)
				ld->file[f][rd32(e + 60)] = (uint8_t)(0 - acpi_checksum(ld->file[f] + rd32(e + 64), rd32(e + 68)));
			else
				ld->file[f][rd32(e + 60)] -= acpi_checksum(ld->file[f] + rd32(e + 64), rd32(e + 68));
			break;
		default:
			fail_msg("loader command %u", rd32(e));
		}
	}
	assert_true(ld->allocated[0] && ld->allocated[1]);
}

static void build_linked(const struct acpi_build_cfg *cfg, struct acpi_linked *lk)
{
	memset(lk, 0, sizeof(*lk));
	lk->tables_size = 8192;
	lk->tables = malloc(lk->tables_size);
	lk->loader_size = 64 * 128;
	lk->loader = malloc(lk->loader_size);
	assert_int_equal(acpi_build_linked(cfg, lk), 0);
}

/* Placed by the loader, the tables read back as on a direct boot: every
 * pointer lands on its table, every checksum holds (acpi_parse warns of a
 * bad one), the DSDT is the same; with either firmware's loader. */
static void linked_tables(bool ovmf)
{
	struct acpi_build_cfg cfg = pci_cfg(0);
	struct acpi_linked lk;
	struct loaded ld = { 0 };
	struct acpi_info *a = malloc(sizeof(*a));
	char err[128] = "";
	struct blob *direct;

	cfg.hpet_gpa = 0xfed00000;
	cfg.hpet_id = 0x8086a201;
	build_linked(&cfg, &lk);
	run_loader(&ld, &lk, ovmf);
	assert_memory_equal(ld.file[0], "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(ld.file[0], 20), 0);
	assert_int_equal(acpi_checksum(ld.file[0], 36), 0);
	assert_true(ld.addr[0] >= 0xe0000 && ld.addr[0] < 0x100000); /* where a BIOS-area scan looks */
	if (acpi_parse(ld.file[0], fake_phys_map, &ld.ph, a, err, sizeof(err)) != 0)
		fail_msg("acpi_parse: %s", err);
	assert_string_equal(a->warnings, "");
	assert_int_equal(a->revision, 2);
	assert_int_equal(a->nr_tables, 5);
	assert_true(a->has_s5);
	assert_true(a->has_madt);
	assert_int_equal(a->nr_cpus, 2);
	assert_true(a->dsdt >= ld.addr[1] && a->dsdt < ld.addr[1] + ld.len[1]);
	for (uint32_t i = 0; i < a->nr_tables; i++) {
		const uint8_t *t = ld.file[1] + (a->tables[i].phys - ld.addr[1]);
		assert_true(a->tables[i].phys >= ld.addr[1]);
		assert_int_equal(acpi_checksum(t, rd32(t + 4)), 0);
	}
	/* the FACS: 64-byte aligned where it was placed, and named twice alike */
	{
		const uint8_t *f = ld.file[1] + (a->tables[1].phys - ld.addr[1]);
		assert_memory_equal(f, "FACP", 4);
		assert_int_equal(rd64(f + 132) % 64, 0);
		assert_int_equal(rd32(f + 36), rd64(f + 132));
		assert_int_equal(rd32(f + 40), rd64(f + 140));
	}
	/* the DSDT's bytes are those of a direct build */
	cfg.base_gpa = 0xe0000;
	direct = build(&cfg);
	{
		const uint8_t *dd = dsdt(direct);
		assert_memory_equal(ld.file[1] + (a->dsdt - ld.addr[1]), dd, rd32(dd + 4));
	}
	unbuild(direct);
	fake_phys_free(&ld.ph);
	free(a);
	free(lk.tables);
	free(lk.loader);
}

TEST(test_linked_tables_seabios) { linked_tables(false); }
TEST(test_linked_tables_ovmf) { linked_tables(true); }

/* What goes into the files: every checksum byte 0, for the loader to set. */
TEST(test_linked_checksums_left_zero)
{
	struct acpi_build_cfg cfg = pci_cfg(0);
	struct acpi_linked lk;
	unsigned sums = 0;

	build_linked(&cfg, &lk);
	for (size_t off = 0; off < lk.loader_len; off += 128) {
		const uint8_t *e = lk.loader + off;
		if (rd32(e) != 3)
			continue;
		const uint8_t *file = !strcmp((const char *)e + 4, "etc/acpi/rsdp") ? lk.rsdp : lk.tables;
		assert_int_equal(file[rd32(e + 60)], 0);
		sums++;
	}
	assert_int_equal(sums, 2 + 5); /* RSDP twice; XSDT, RSDT, FADT, DSDT, MADT (no HPET here) */
	free(lk.tables);
	free(lk.loader);
}

/* A buffer too small for the tables or the commands: refused. */
TEST(test_linked_too_small)
{
	struct acpi_build_cfg cfg = pci_cfg(0);
	struct acpi_linked lk;
	size_t tables_len, loader_len;

	build_linked(&cfg, &lk);
	tables_len = lk.tables_len;
	loader_len = lk.loader_len;
	lk.tables_size = tables_len - 1;
	assert_int_equal(acpi_build_linked(&cfg, &lk), -1);
	lk.tables_size = tables_len;
	lk.loader_size = loader_len - 128;
	assert_int_equal(acpi_build_linked(&cfg, &lk), -1);
	lk.loader_size = loader_len;
	assert_int_equal(acpi_build_linked(&cfg, &lk), 0);
	assert_int_equal(lk.loader_len, loader_len);
	cfg.nr_cpus = 0;
	assert_int_equal(acpi_build_linked(&cfg, &lk), -1);
	free(lk.tables);
	free(lk.loader);
}

/* --- refusals ------------------------------------------------------------- */

/* One byte short: 0, *rsdp_gpa and every byte of the (exact-size, so
 * ASan-guarded) buffer untouched. */
TEST(test_buffer_too_small)
{
	struct acpi_build_cfg cfg = std_cfg(0xe0000, 4);
	struct blob *b = build(&cfg);
	size_t sizes[] = { b->len - 1, 36, 1 };

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint8_t *small = malloc(sizes[i]);
		uint64_t rsdp = 0x1234;

		memset(small, 0xa5, sizes[i]);
		assert_int_equal(acpi_build(&cfg, small, sizes[i], &rsdp), 0);
		assert_int_equal(rsdp, 0x1234);
		for (size_t k = 0; k < sizes[i]; k++)
			assert_int_equal(small[k], 0xa5);
		free(small);
	}
	assert_int_equal(acpi_build(&cfg, NULL, 0, &(uint64_t){ 0 }), 0);
	unbuild(b);
}

TEST(test_bad_config)
{
	uint8_t *buf = malloc(8192);
	uint64_t rsdp;
	struct acpi_build_cfg c;

	/* the good configurations fit: a refusal below is the field's */
	c = std_cfg(0xe0000, 2);
	assert_true(acpi_build(&c, buf, 8192, &rsdp) > 0);
	c = pci_cfg(0xe0000);
	assert_true(acpi_build(&c, buf, 8192, &rsdp) > 0);
#define REFUSED_FROM(base, field, value) \
	do { \
		c = (base); \
		c.field = (value); \
		assert_int_equal(acpi_build(&c, buf, 8192, &rsdp), 0); \
	} while (0)
#define REFUSED(field, value) REFUSED_FROM(std_cfg(0xe0000, 2), field, value)
	REFUSED_FROM(pci_cfg(0xe0000), pci_mem_start, 0xfec00000); /* an empty PCI window */
	REFUSED_FROM(pci_cfg(0xe0000), pci_mem_start, 0x80000);    /* below 1 MiB */
	REFUSED_FROM(pci_cfg(0xe0000), pci_mem_end, 0x100000001ull); /* past 4 GiB */
	REFUSED_FROM(pci_cfg(0xe0000), pci_gsi_base, 10);          /* ISA pins */
	REFUSED_FROM(pci_cfg(0xe0000), pci_gsi_base, 21);          /* past the 24th pin */
	REFUSED(base_gpa, 0xe0008);             /* not 16-byte aligned */
	REFUSED(base_gpa, 0xfffffe00);          /* runs past 4 GiB */
	REFUSED(base_gpa, 0x100000000ull);      /* above 4 GiB */
	REFUSED(nr_cpus, 0);
	REFUSED(nr_cpus, 255);                  /* IOAPIC ID would be 255 */
	REFUSED(lapic_gpa, 0x100000000ull);
	REFUSED(ioapic_gpa, 0x1fec00000ull);
	REFUSED(sci_irq, 0);
	REFUSED(sci_irq, 2);
	REFUSED(sci_irq, 16);
#undef REFUSED
#undef REFUSED_FROM
	c = std_cfg(0xe0000, 254); /* the largest accepted */
	assert_true(acpi_build(&c, buf, 4096, &rsdp) > 0);
	free(buf);
}

/* OEM ID: up to 6 characters, padded with spaces, in the RSDP and every
 * table header. */
TEST(test_oem_id)
{
	struct acpi_build_cfg cfg = std_cfg(0xe0000, 1);
	struct blob *b;

	memcpy(cfg.oem_id, "AB\0\0\0\0", 7);
	b = build(&cfg);
	assert_memory_equal(b->buf + 9, "AB    ", 6);
	assert_memory_equal(fadt(b) + 10, "AB    ", 6);
	assert_memory_equal(madt(b) + 10, "AB    ", 6);
	assert_memory_equal(dsdt(b) + 10, "AB    ", 6);
	unbuild(b);
}

/* With an HPET, the roots list its table third; the table gives its
 * block ID, its base as a memory GAS and the minimum periodic tick, and
 * sums to zero.  Without one (the standard config) there is no table. */
TEST(test_hpet_table)
{
	struct acpi_build_cfg cfg = std_cfg(0xe0000, 2);
	struct blob *b;
	const uint8_t *x, *r, *h;

	cfg.hpet_gpa = 0xfed00000;
	cfg.hpet_id = 0x8086a201;
	cfg.hpet_min_tick = 20000;
	b = build(&cfg);
	x = sdt(b, xsdt_gpa(b), "XSDT");
	r = sdt(b, rd32(b->buf + 16), "RSDT");
	assert_int_equal(rd32(x + 4), 36 + 3 * 8);
	assert_int_equal(rd32(r + 4), 36 + 3 * 4);
	assert_int_equal(rd32(r + 36 + 8), rd64(x + 36 + 16));
	h = at(b, rd64(x + 36 + 16), 56);
	assert_memory_equal(h, "HPET", 4);
	assert_int_equal(rd32(h + 4), 56);
	assert_int_equal(acpi_checksum(h, 56), 0);
	assert_int_equal(rd32(h + 36), 0x8086a201);
	assert_int_equal(h[40], 0);                 /* system memory */
	assert_int_equal(h[41], 64);
	assert_int_equal(rd64(h + 44), 0xfed00000);
	assert_int_equal(h[52], 0);
	assert_int_equal(rd16(h + 53), 20000);
	assert_int_equal(h[55], 0);
	assert_ptr_equal(h + 56, b->buf + b->len);  /* the last table */
	unbuild(b);

	b = build_std(0xe0000, 2);
	x = sdt(b, xsdt_gpa(b), "XSDT");
	for (int i = 0; i < 2; i++)
		assert_memory_not_equal(at(b, rd64(x + 36 + 8 * i), 4), "HPET", 4);
	unbuild(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_tables_and_checksums),
		cmocka_unit_test(test_facs),
		cmocka_unit_test(test_host_parser_reads_it),
		cmocka_unit_test(test_bios_scan_finds_rsdp),
		cmocka_unit_test(test_fadt_fields),
		cmocka_unit_test(test_madt_entries),
		cmocka_unit_test(test_hpet_table),
		cmocka_unit_test(test_dsdt_sleep_states),
		cmocka_unit_test(test_aml_decoder),
		cmocka_unit_test(test_dsdt_pci_root),
		cmocka_unit_test(test_linked_tables_seabios),
		cmocka_unit_test(test_linked_tables_ovmf),
		cmocka_unit_test(test_linked_checksums_left_zero),
		cmocka_unit_test(test_linked_too_small),
		cmocka_unit_test(test_buffer_too_small),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_oem_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
