/* SPDX-License-Identifier: MIT */
/*
 * drivers/acpi.c on real tables captured from QEMU (SeaBIOS and OVMF) and
 * Bochs by tools/capture-acpi.sh (tests/data/acpi/HOST/: SIG.bin files and
 * tables.txt, "SIG PHYS LEN FILE").  Each table is put back at its physical
 * address in a fake address space (fake_phys.h), each in an exact-size heap
 * block so ASan sees any read past a table.  Then the same tables broken on
 * purpose: bad checksums, truncated and garbled MADT entries, missing tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <petrel/acpi.h>
#include <petrel/lib.h>

#include "fake_phys.h"

#define TEST(name) static void name(void **state __attribute__((unused)))

#define DATA_DIR "tests/data/acpi"

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

struct capture {
	struct fake_phys ph;
	uint8_t rsdp[36]; /* acpi_parse gets a copy, as from the loader */
	uint32_t rsdp_len;
	struct { char sig[5]; uint64_t phys; uint32_t len; } t[16];
	unsigned n; /* tables other than the RSDP, in dump order */
	struct acpi_info *info;
	char err[160];
	int rc;
};

static uint8_t *read_file(const char *path, uint32_t want_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(want_len + 1);
	size_t got;

	if (!f)
		fail_msg("cannot open %s (run from the repository root; tools/capture-acpi.sh makes it)", path);
	got = fread(buf, 1, want_len + 1, f);
	fclose(f);
	if (got != want_len)
		fail_msg("%s: %zu bytes, tables.txt says %u", path, got, want_len);
	return buf;
}

/* Loads tests/data/acpi/HOST and lays it out at the captured addresses. */
static struct capture *load(const char *host)
{
	struct capture *c = calloc(1, sizeof(*c));
	char path[256], line[256];
	FILE *list;

	snprintf(path, sizeof(path), DATA_DIR "/%s/tables.txt", host);
	list = fopen(path, "r");
	if (!list)
		fail_msg("cannot open %s (run from the repository root)", path);
	while (fgets(line, sizeof(line), list)) {
		char sig[8], file[64];
		unsigned long long phys;
		unsigned len;
		uint8_t *data;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%7s %llx %u %63s", sig, &phys, &len, file) != 4)
			fail_msg("%s: bad line: %s", path, line);
		snprintf(path, sizeof(path), DATA_DIR "/%s/%s", host, file);
		data = read_file(path, len);
		if (!strcmp(sig, "RSDP")) {
			assert_true(len == 20 || len == 36);
			memcpy(c->rsdp, data, len);
			c->rsdp_len = len;
		} else {
			assert_true(c->n < ARRAY_SIZE(c->t));
			memcpy(c->t[c->n].sig, sig, 5);
			c->t[c->n].phys = phys;
			c->t[c->n].len = len;
			c->n++;
			fake_phys_add_copy(&c->ph, phys, data, len);
		}
		free(data);
	}
	fclose(list);
	assert_true(c->rsdp_len != 0);
	assert_true(c->n > 0);
	c->info = malloc(sizeof(*c->info));
	return c;
}

static void unload(struct capture *c)
{
	fake_phys_free(&c->ph);
	free(c->info);
	free(c);
}

static void parse(struct capture *c)
{
	memset(c->info, 0xa5, sizeof(*c->info)); /* acpi_parse must clear it */
	c->err[0] = '\0';
	c->rc = acpi_parse(c->rsdp, fake_phys_map, &c->ph, c->info, c->err, sizeof(c->err));
}

static void parse_ok(struct capture *c)
{
	parse(c);
	if (c->rc != 0)
		fail_msg("acpi_parse failed: %s", c->err);
}

/* The region holding the table with signature `sig` (the first one). */
static unsigned region_of(struct capture *c, const char *sig)
{
	for (unsigned i = 0; i < c->ph.n; i++)
		if (!memcmp(c->ph.r[i].data, sig, 4))
			return i;
	fail_msg("no %s table in the capture", sig);
	return 0;
}

static uint8_t *table(struct capture *c, const char *sig)
{
	return c->ph.r[region_of(c, sig)].data;
}

static uint64_t phys_of(struct capture *c, const char *sig)
{
	return c->ph.r[region_of(c, sig)].base;
}

/* Makes a table's checksum right again after an edit (byte 9). */
static void fix_checksum(uint8_t *t)
{
	t[9] = 0;
	t[9] = (uint8_t)(0 - acpi_checksum(t, rd32(t + 4)));
}

/* Cuts a table to `len` bytes: a smaller heap block, its length field and
 * checksum updated, so the table is valid but short. */
static uint8_t *truncate_table(struct capture *c, const char *sig, uint32_t len)
{
	unsigned i = region_of(c, sig);
	uint8_t *d = malloc(len);

	memcpy(d, c->ph.r[i].data, len);
	free(c->ph.r[i].data);
	c->ph.r[i].data = d;
	c->ph.r[i].len = len;
	wr32(d + 4, len);
	fix_checksum(d);
	return d;
}

static void remove_table(struct capture *c, const char *sig)
{
	unsigned i = region_of(c, sig);

	free(c->ph.r[i].data);
	c->ph.r[i] = c->ph.r[--c->ph.n];
}

/* --- the captures themselves --------------------------------------------------- */

/* The files are what tables.txt says, every checksum is right, and the
 * RSDP's root pointer resolves to the root table's captured address. */
static void check_capture(const char *host, const char *root_sig)
{
	struct capture *c = load(host);

	assert_int_equal(acpi_checksum(c->rsdp, 20), 0);
	assert_memory_equal(c->rsdp, "RSD PTR ", 8);
	if (c->rsdp_len == 36) {
		assert_int_equal(acpi_checksum(c->rsdp, 36), 0);
		assert_int_equal(rd32(c->rsdp + 20), 36);
	}
	for (unsigned i = 0; i < c->n; i++) {
		const uint8_t *t = fake_phys_map(c->t[i].phys, c->t[i].len, &c->ph);
		assert_non_null(t);
		assert_memory_equal(t, c->t[i].sig, 4);
		assert_int_equal(rd32(t + 4), c->t[i].len);
		if (acpi_checksum(t, c->t[i].len) != 0)
			fail_msg("%s %s: bad checksum in the capture", host, c->t[i].sig);
	}
	assert_string_equal(c->t[0].sig, root_sig);
	if (!strcmp(root_sig, "XSDT"))
		assert_int_equal(rd64(c->rsdp + 24), c->t[0].phys);
	else
		assert_int_equal(rd32(c->rsdp + 16), c->t[0].phys);
	unload(c);
}

TEST(test_captures_are_consistent)
{
	check_capture("qemu-bios", "RSDT");
	check_capture("qemu-efi", "XSDT");
	check_capture("bochs", "RSDT");
}

static void expect_tables(const struct capture *c)
{
	const struct acpi_info *a = c->info;

	/* Every table the root lists, in order, at its captured address. */
	assert_int_equal(a->nr_tables, c->n);
	for (unsigned i = 0; i < c->n; i++) {
		assert_string_equal(a->tables[i].sig, c->t[i].sig);
		assert_int_equal(a->tables[i].phys, c->t[i].phys);
		assert_int_equal(a->tables[i].len, c->t[i].len);
	}
}

/* QEMU 7.2 -M pc -smp 2 under SeaBIOS, booted by QEMU's multiboot1 loader. */
TEST(test_qemu_bios)
{
	struct capture *c = load("qemu-bios");
	const struct acpi_info *a = c->info;

	parse_ok(c);
	assert_int_equal(a->revision, 0); /* ACPI 1.0 RSDP: the RSDT */
	assert_string_equal(a->oem, "BOCHS ");
	expect_tables(c);
	assert_string_equal(a->tables[0].sig, "RSDT");
	assert_int_equal(a->tables[0].phys, 0x3ffe1b33);

	assert_true(a->has_madt);
	assert_int_equal(a->lapic_phys, 0xfee00000);
	assert_int_equal(a->nr_cpus, 2);
	assert_int_equal(a->apic_ids[0], 0);
	assert_int_equal(a->apic_ids[1], 1);
	assert_int_equal(a->nr_cpus_disabled, 0);
	assert_int_equal(a->nr_ioapics, 1);
	assert_int_equal(a->ioapic[0].id, 0);
	assert_int_equal(a->ioapic[0].phys, 0xfec00000);
	assert_int_equal(a->ioapic[0].gsi_base, 0);
	/* The FADT's DSDT, which has \_S5_ (sleep type 0), and PM1a_CNT. */
	assert_int_equal(a->dsdt, 0x3ffe0040);
	assert_int_equal(a->pm1a_cnt, 0x604); /* PIIX4 PM base 0x600 */
	assert_true(a->has_s5);
	assert_int_equal(a->s5_typ_a, 0);
	/* Interrupt source overrides: the PIT's IRQ 0 at GSI 2; the serial
	 * port's IRQ 4 not overridden; PCI's IRQ 9-11 level, active high. */
	assert_int_equal(a->isa_gsi[0], 2);
	assert_int_equal(a->isa_flags[0], 0);
	assert_int_equal(a->isa_gsi[4], 4);
	assert_int_equal(a->isa_flags[4], 0);
	assert_int_equal(a->isa_gsi[9], 9);
	assert_int_equal(a->isa_flags[9], 0xd);

	assert_true(a->has_fadt);
	assert_int_equal(a->pm_timer_port, 0x608); /* PIIX4 PM base 0x600 */
	assert_false(a->pm_timer_32bit);          /* FADT flags 0x80a5: no TMR_VAL_EXT */
	assert_int_equal(a->sci_irq, 9);
	assert_string_equal(a->warnings, "");
	unload(c);
}

/* The same machine under OVMF, booted by GRUB EFI: ACPI 2.0, the XSDT.  The
 * RSDT the RSDP also names was not captured, so a parser that used it would
 * fail here. */
TEST(test_qemu_efi)
{
	struct capture *c = load("qemu-efi");
	const struct acpi_info *a = c->info;

	assert_null(fake_phys_map(rd32(c->rsdp + 16), 36, &c->ph));
	parse_ok(c);
	assert_int_equal(a->revision, 2);
	assert_string_equal(a->oem, "BOCHS ");
	expect_tables(c);
	assert_string_equal(a->tables[0].sig, "XSDT");
	assert_int_equal(a->tables[0].phys, 0x3fb7d0e8);
	assert_string_equal(a->tables[c->n - 1].sig, "BGRT"); /* OVMF's boot logo */

	assert_true(a->has_madt);
	assert_int_equal(a->lapic_phys, 0xfee00000);
	assert_int_equal(a->nr_cpus, 2);
	assert_int_equal(a->apic_ids[0], 0);
	assert_int_equal(a->apic_ids[1], 1);
	assert_int_equal(a->nr_ioapics, 1);
	assert_int_equal(a->ioapic[0].phys, 0xfec00000);
	assert_int_equal(a->ioapic[0].gsi_base, 0);

	assert_true(a->has_fadt);
	assert_int_equal(a->pm_timer_port, 0xb008); /* OVMF moves the PM base to 0xb000 */
	assert_false(a->pm_timer_32bit);
	assert_int_equal(a->sci_irq, 9);
	assert_string_equal(a->warnings, "");
	unload(c);
}

/* Bochs 2.7, BIOS-bochs-latest, cpu count=2, booted by GRUB (BIOS). */
TEST(test_bochs)
{
	struct capture *c = load("bochs");
	const struct acpi_info *a = c->info;

	parse_ok(c);
	assert_int_equal(a->revision, 0);
	assert_string_equal(a->oem, "BOCHS ");
	expect_tables(c);
	assert_string_equal(a->tables[0].sig, "RSDT");
	assert_int_equal(a->tables[0].phys, 0x1fff0000); /* top of 512 MiB */
	assert_int_equal(a->nr_tables, 6);               /* RSDT FACP DSDT APIC SSDT HPET */
	assert_string_equal(a->tables[2].sig, "DSDT");    /* from the FADT, right after it */
	assert_int_equal(a->dsdt, 0x1fff0100);
	assert_int_equal(a->pm1a_cnt, 0xb004);
	assert_int_equal(a->pm1b_cnt, 0);
	assert_true(a->has_s5); /* Name (_S5, Package (4) { Zero, Zero, Zero, Zero }) */
	assert_int_equal(a->s5_typ_a, 0);
	assert_int_equal(a->s5_typ_b, 0);

	assert_true(a->has_madt);
	assert_int_equal(a->lapic_phys, 0xfee00000);
	assert_int_equal(a->nr_cpus, 2);
	assert_int_equal(a->apic_ids[0], 0);
	assert_int_equal(a->apic_ids[1], 1);
	assert_int_equal(a->nr_cpus_disabled, 0);
	assert_int_equal(a->nr_ioapics, 1);
	assert_int_equal(a->ioapic[0].id, 2); /* Bochs numbers its IOAPIC after the CPUs */
	assert_int_equal(a->ioapic[0].phys, 0xfec00000);
	assert_int_equal(a->ioapic[0].gsi_base, 0);
	assert_int_equal(a->isa_gsi[0], 2);
	assert_int_equal(a->isa_gsi[4], 4);
	assert_int_equal(a->isa_flags[4], 0);

	assert_true(a->has_fadt);
	assert_int_equal(a->pm_timer_port, 0xb008);
	assert_false(a->pm_timer_32bit); /* FADT flags 0x75 */
	assert_int_equal(a->sci_irq, 9);
	assert_string_equal(a->warnings, "");
	unload(c);
}

/* --- broken copies ------------------------------------------------------------ */

TEST(test_bad_rsdp)
{
	struct capture *c = load("qemu-bios");

	c->rsdp[10] ^= 0x20; /* "BoCHS": checksum off */
	parse(c);
	assert_int_equal(c->rc, -1);
	assert_string_equal(c->err, "ACPI RSDP checksum is bad");
	c->rsdp[10] ^= 0x20;
	c->rsdp[0] = 'X';
	parse(c);
	assert_int_equal(c->rc, -1);
	assert_string_equal(c->err, "ACPI RSDP has no 'RSD PTR ' signature");
	unload(c);

	/* ACPI 2.0: the first 20 bytes are fine, the extended checksum not. */
	c = load("qemu-efi");
	c->rsdp[28] ^= 1; /* the XSDT address */
	parse(c);
	assert_int_equal(c->rc, -1);
	assert_string_equal(c->err, "ACPI RSDP extended checksum is bad");
	unload(c);
}

TEST(test_bad_root_table)
{
	struct capture *c = load("qemu-bios");

	table(c, "RSDT")[20] ^= 1;
	parse(c);
	assert_int_equal(c->rc, -1);
	assert_string_equal(c->err, "ACPI root table (XSDT/RSDT) unreadable or corrupt");
	assert_non_null(strstr(c->info->warnings, "table RSDT at 0x3ffe1b33 has a bad checksum"));
	unload(c);

	c = load("qemu-efi");
	remove_table(c, "XSDT");
	parse(c);
	assert_int_equal(c->rc, -1);
	assert_non_null(strstr(c->info->warnings, "at 0x3fb7d0e8 is unreadable"));
	unload(c);
}

/* An ACPI 2.0 RSDP with no XSDT address falls back to the RSDT. */
TEST(test_rsdp_v2_without_xsdt)
{
	struct capture *c = load("qemu-bios");

	c->rsdp[15] = 2;
	wr32(c->rsdp + 20, 36);
	wr64(c->rsdp + 24, 0);
	c->rsdp[8] = 0;
	c->rsdp[8] = (uint8_t)(0 - acpi_checksum(c->rsdp, 20));
	c->rsdp[32] = (uint8_t)(0 - acpi_checksum(c->rsdp, 36));
	parse_ok(c);
	assert_int_equal(c->info->revision, 2);
	assert_string_equal(c->info->tables[0].sig, "RSDT");
	assert_int_equal(c->info->nr_cpus, 2);
	unload(c);
}

TEST(test_bad_madt_checksum_skips_table)
{
	struct capture *c = load("qemu-bios");
	const struct acpi_info *a = c->info;

	table(c, "APIC")[44 + 3] = 7; /* the first CPU's APIC ID */
	parse(c);
	assert_int_equal(c->rc, 0);
	assert_false(a->has_madt);
	assert_int_equal(a->nr_cpus, 0);
	assert_int_equal(a->nr_tables, c->n - 1);
	assert_string_equal(a->warnings, "table APIC at 0x3ffe1a53 has a bad checksum: skipped\n"
					 "no MADT table: only the bootstrap CPU will run\n");
	/* The other tables still count. */
	assert_true(a->has_fadt);
	assert_int_equal(a->pm_timer_port, 0x608);
	unload(c);
}

/* The last MADT entry (the NMI entry, 6 bytes) claims to run past the end
 * of the table: everything before it is kept. */
TEST(test_madt_entry_past_end)
{
	struct capture *c = load("qemu-bios");
	uint8_t *t = table(c, "APIC");
	uint32_t len = rd32(t + 4), last = len - 6;

	assert_int_equal(t[last], 4);
	assert_int_equal(t[last + 1], 6);
	t[last + 1] = 7;
	fix_checksum(t);
	parse_ok(c);
	assert_true(c->info->has_madt);
	assert_int_equal(c->info->nr_cpus, 2);
	assert_int_equal(c->info->nr_ioapics, 1);
	assert_string_equal(c->info->warnings, "MADT entry at 0x7a is garbled: rest ignored\n");
	unload(c);
}

/* An entry length of 0 or 1 would never advance. */
TEST(test_madt_entry_too_short_to_advance)
{
	for (uint8_t bad = 0; bad < 2; bad++) {
		struct capture *c = load("bochs");
		uint8_t *t = table(c, "APIC");

		t[44 + 8 + 1] = bad; /* the second CPU's entry */
		fix_checksum(t);
		parse_ok(c);
		assert_int_equal(c->info->nr_cpus, 1);
		assert_int_equal(c->info->apic_ids[0], 0);
		assert_int_equal(c->info->nr_ioapics, 0);
		assert_string_equal(c->info->warnings, "MADT entry at 0x34 is garbled: rest ignored\n");
		unload(c);
	}
}

/* An entry shorter than its type needs is skipped, not read past. */
TEST(test_madt_entry_shorter_than_type)
{
	struct capture *c = load("qemu-bios");
	uint8_t *t = table(c, "APIC");
	uint32_t last = rd32(t + 4) - 6;

	t[last] = 1; /* the 6-byte NMI entry now claims to be an IOAPIC (12) */
	fix_checksum(t);
	parse_ok(c);
	assert_int_equal(c->info->nr_ioapics, 1);
	assert_int_equal(c->info->nr_cpus, 2);
	assert_string_equal(c->info->warnings, "");
	unload(c);
}

/* A MADT cut short: just the header, then header + APIC address, then in
 * the middle of the second CPU's entry.  The block is cut too, so a read
 * past the table's length trips ASan. */
TEST(test_madt_truncated)
{
	static const uint32_t lens[] = { 36, 40, 44, 56 };

	for (unsigned k = 0; k < ARRAY_SIZE(lens); k++) {
		struct capture *c = load("qemu-bios");

		truncate_table(c, "APIC", lens[k]);
		parse_ok(c);
		assert_int_equal(c->info->nr_cpus, lens[k] == 56 ? 1 : 0);
		/* Shorter than the fixed fields: no MADT at all. */
		assert_int_equal(c->info->has_madt, lens[k] >= 44);
		assert_int_equal(strstr(c->info->warnings, "no MADT table") != NULL, lens[k] < 44);
		assert_int_equal(c->info->nr_ioapics, 0);
		assert_true(c->info->has_fadt);
		unload(c);
	}
}

TEST(test_disabled_and_x2apic_cpus)
{
	static const uint8_t x2apic[][16] = {
		/* type 9, len 16, reserved, x2APIC ID, flags, UID */
		{ 9, 16, 0, 0, 0x00, 0x01, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0 }, /* ID 256, enabled */
		{ 9, 16, 0, 0, 0x00, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0 },    /* ID 0 again: listed twice */
		{ 9, 16, 0, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0 }, /* ID 258, not enabled */
	};
	struct capture *c = load("qemu-bios");
	unsigned r = region_of(c, "APIC");
	uint32_t len = (uint32_t)c->ph.r[r].len, grown_len = len + sizeof(x2apic);
	uint8_t *grown = malloc(grown_len);

	/* The second LAPIC entry disabled, three x2APIC entries appended. */
	memcpy(grown, c->ph.r[r].data, len);
	memcpy(grown + len, x2apic, sizeof(x2apic));
	grown[44 + 8 + 4] = 0; /* LAPIC ID 1: flags 0 */
	wr32(grown + 4, grown_len);
	fix_checksum(grown);
	free(c->ph.r[r].data);
	c->ph.r[r].data = grown;
	c->ph.r[r].len = grown_len;

	parse_ok(c);
	assert_int_equal(c->info->nr_cpus, 2);
	assert_int_equal(c->info->apic_ids[0], 0);
	assert_int_equal(c->info->apic_ids[1], 256);
	assert_int_equal(c->info->nr_cpus_disabled, 2);
	unload(c);
}

/* Root entries that point nowhere or at junk are skipped with a warning. */
TEST(test_missing_and_bad_length_tables)
{
	struct capture *c = load("qemu-bios");
	const struct acpi_info *a = c->info;
	uint64_t hpet = phys_of(c, "HPET");
	uint8_t *waet = table(c, "WAET");

	remove_table(c, "HPET");
	wr32(waet + 4, 20); /* shorter than a table header */
	parse_ok(c);
	assert_int_equal(a->nr_tables, c->n - 2);
	assert_true(a->has_madt);
	assert_int_equal(hpet, 0x3ffe1ad3);
	assert_string_equal(a->warnings, "table ? at 0x3ffe1ad3 is unreadable\n"
					 "table WAET at 0x3ffe1b0b has a bad length\n");
	unload(c);

	/* A length beyond what is there. */
	c = load("qemu-bios");
	wr32(table(c, "WAET") + 4, 4096);
	parse_ok(c);
	assert_string_equal(c->info->warnings, "table WAET at 0x3ffe1b0b has a bad length\n");
	unload(c);
}

/* A FADT whose DSDT pointer is the FADT itself: listed once, parsed once,
 * no DSDT and no S5; the parser does not go round again. */
TEST(test_fadt_pointing_at_itself)
{
	struct capture *c = load("qemu-bios");
	uint8_t *facp = table(c, "FACP");
	uint64_t facp_phys = phys_of(c, "FACP");
	uint32_t n = 0;

	wr32(facp + 40, (uint32_t)facp_phys);
	fix_checksum(facp);
	parse_ok(c);
	for (uint32_t i = 0; i < c->info->nr_tables; i++)
		n += !strcmp(c->info->tables[i].sig, "FACP");
	assert_int_equal(n, 1);
	assert_int_equal(c->info->nr_tables, c->n - 1); /* all but the DSDT, which is not reached */
	assert_false(c->info->has_s5);
	unload(c);
}

/* A root table with more entries than acpi_info holds, all of them
 * unreadable: the table list and the warning text stay in bounds. */
TEST(test_too_many_tables_and_warnings)
{
	struct capture *c = load("qemu-bios");
	const uint32_t n = 80, len = 36 + 4 * n;
	uint64_t waet = phys_of(c, "WAET");
	uint8_t *rsdt = truncate_table(c, "RSDT", 36);
	uint8_t *big = malloc(len);
	unsigned r = region_of(c, "RSDT");

	memcpy(big, rsdt, 36);
	for (uint32_t i = 0; i < n; i++)
		wr32(big + 36 + 4 * i, i % 2 ? (uint32_t)waet : 0x100000 + 0x1000 * i);
	wr32(big + 4, len);
	fix_checksum(big);
	free(c->ph.r[r].data);
	c->ph.r[r].data = big;
	c->ph.r[r].len = len;

	parse_ok(c);
	assert_int_equal(c->info->nr_tables, ACPI_MAX_TABLES);
	for (unsigned i = 1; i < ACPI_MAX_TABLES; i++)
		assert_string_equal(c->info->tables[i].sig, "WAET");
	assert_false(c->info->has_madt);
	assert_true(strlen(c->info->warnings) < sizeof(c->info->warnings));
	assert_non_null(strstr(c->info->warnings, "table ? at 0x100000 is unreadable\n"));
	unload(c);
}

/* --- acpi_checksum, acpi_find_rsdp_bios ---------------------------------------- */

TEST(test_checksum)
{
	const uint8_t b[] = { 1, 2, 3, 250 };

	assert_int_equal(acpi_checksum(b, 0), 0);
	assert_int_equal(acpi_checksum(b, 3), 6);
	assert_int_equal(acpi_checksum(b, 4), 0); /* wraps mod 256 */
}

struct bios_mem {
	struct fake_phys ph;
	uint8_t *bda, *ebda, *area; /* 0x400, 0x9fc00 (1 KiB + more), 0xe0000-0xfffff */
};

static struct bios_mem *bios_mem(uint16_t ebda_seg)
{
	struct bios_mem *m = calloc(1, sizeof(*m));

	m->bda = fake_phys_add(&m->ph, 0x400, 0x100);
	memcpy(m->bda + 0x0e, &ebda_seg, 2);
	m->ebda = fake_phys_add(&m->ph, 0x9fc00, 0x2000);
	m->area = fake_phys_add(&m->ph, 0xe0000, 0x20000);
	return m;
}

static void free_bios_mem(struct bios_mem *m)
{
	fake_phys_free(&m->ph);
	free(m);
}

static uint8_t qemu_rsdp[20];

static void load_qemu_rsdp(void)
{
	uint8_t *d = read_file(DATA_DIR "/qemu-bios/RSDP.bin", 20);
	memcpy(qemu_rsdp, d, 20);
	free(d);
}

TEST(test_find_rsdp_in_bios_area)
{
	struct bios_mem *m = bios_mem(0x9fc0);

	load_qemu_rsdp();
	/* Decoys: a signature with a bad checksum, a good copy off the
	 * 16-byte grid. */
	memcpy(m->area + 0x1000, qemu_rsdp, 20);
	m->area[0x1000 + 9] ^= 0xff;
	memcpy(m->area + 0x2008, qemu_rsdp, 20);
	memcpy(m->area + 0x168d0, qemu_rsdp, 20);
	assert_int_equal(acpi_find_rsdp_bios(fake_phys_map, &m->ph), 0xf68d0);

	/* The last slot that fits 20 bytes below 1 MiB. */
	memset(m->area + 0x168d0, 0, 20);
	memcpy(m->area + 0x1ffe0, qemu_rsdp, 20);
	assert_int_equal(acpi_find_rsdp_bios(fake_phys_map, &m->ph), 0xfffe0);
	free_bios_mem(m);
}

TEST(test_find_rsdp_in_ebda_first)
{
	struct bios_mem *m = bios_mem(0x9fc0);

	load_qemu_rsdp();
	memcpy(m->area + 0x168d0, qemu_rsdp, 20);
	memcpy(m->ebda + 0x40, qemu_rsdp, 20);
	assert_int_equal(acpi_find_rsdp_bios(fake_phys_map, &m->ph), 0x9fc40);

	/* Only the EBDA's first KiB is searched. */
	memset(m->ebda + 0x40, 0, 20);
	memcpy(m->ebda + 0x400, qemu_rsdp, 20);
	assert_int_equal(acpi_find_rsdp_bios(fake_phys_map, &m->ph), 0xf68d0);
	free_bios_mem(m);
}

TEST(test_find_rsdp_absent)
{
	struct bios_mem *m = bios_mem(0);

	assert_int_equal(acpi_find_rsdp_bios(fake_phys_map, &m->ph), 0);
	free_bios_mem(m);

	/* Nothing mapped at all: no BDA, no BIOS area. */
	struct fake_phys none = { 0 };
	assert_int_equal(acpi_find_rsdp_bios(fake_phys_map, &none), 0);
	assert_true(none.calls > 0);
}

/* \_S5_ in AML: every integer encoding, a root prefix, and what is not it. */
TEST(test_find_s5)
{
	static const uint8_t zeros[] = { 0x10, 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t bytes[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x02, 0x0a, 0x07, 0x0a, 0x05 };
	static const uint8_t long_pkglen[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x40, 0x00, 0x02, 0x01, 0x0b, 0x06, 0x00 };
	static const uint8_t method[] = { 0x14, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00 }; /* not after NameOp */
	static const uint8_t not_pkg[] = { 0x08, '_', 'S', '5', '_', 0x0a, 0x05 };
	static const uint8_t cut[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a };
	static const uint8_t bad_int[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x5b, 0x00 };
	uint8_t a = 9, b = 9;

	assert_true(acpi_find_s5(zeros, sizeof(zeros), &a, &b));
	assert_int_equal(a, 0);
	assert_int_equal(b, 0);
	assert_true(acpi_find_s5(bytes, sizeof(bytes), &a, &b));
	assert_int_equal(a, 7);
	assert_int_equal(b, 5);
	assert_true(acpi_find_s5(long_pkglen, sizeof(long_pkglen), &a, &b)); /* a two-byte PkgLength */
	assert_int_equal(a, 1);
	assert_int_equal(b, 6);
	assert_false(acpi_find_s5(method, sizeof(method), &a, &b));
	assert_false(acpi_find_s5(not_pkg, sizeof(not_pkg), &a, &b));
	for (uint32_t n = 0; n <= sizeof(cut); n++) /* cut anywhere: never found, never read past */
		assert_false(acpi_find_s5(cut, n, &a, &b));
	for (uint32_t n = 0; n < sizeof(bytes); n++)
		assert_false(acpi_find_s5(bytes, n, &a, &b));
	assert_false(acpi_find_s5(bad_int, sizeof(bad_int), &a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captures_are_consistent),
		cmocka_unit_test(test_qemu_bios),
		cmocka_unit_test(test_qemu_efi),
		cmocka_unit_test(test_bochs),
		cmocka_unit_test(test_bad_rsdp),
		cmocka_unit_test(test_bad_root_table),
		cmocka_unit_test(test_rsdp_v2_without_xsdt),
		cmocka_unit_test(test_bad_madt_checksum_skips_table),
		cmocka_unit_test(test_madt_entry_past_end),
		cmocka_unit_test(test_madt_entry_too_short_to_advance),
		cmocka_unit_test(test_madt_entry_shorter_than_type),
		cmocka_unit_test(test_madt_truncated),
		cmocka_unit_test(test_disabled_and_x2apic_cpus),
		cmocka_unit_test(test_missing_and_bad_length_tables),
		cmocka_unit_test(test_too_many_tables_and_warnings),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_find_rsdp_in_bios_area),
		cmocka_unit_test(test_find_rsdp_in_ebda_first),
		cmocka_unit_test(test_find_rsdp_absent),
		cmocka_unit_test(test_find_s5),
		cmocka_unit_test(test_fadt_pointing_at_itself),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
