/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables a guest sees (see petrel/acpi_build.h).  Layout of the
 * blob, offsets from base_gpa:
 *
 *   RSDP  at 0 (36 bytes), first so the BIOS-area scan finds it
 *   FACS  64 bytes, 64-byte aligned in guest-physical terms (§5.2.10)
 *   XSDT  -> FACP, APIC        RSDT  the same, 32-bit entries
 *   FACP  276 bytes (revision 6) -> FACS, DSDT
 *   DSDT  header + \_S0 and \_S5 packages, and \_SB.PCI0 where there is PCI
 *   APIC  LAPICs, IOAPIC, two source overrides, LAPIC NMI
 *   HPET  56 bytes, only when cfg->hpet_gpa is set (and then in the roots)
 *
 * every table but the FACS 16-byte aligned.  The layout is computed first,
 * so a buffer that is too small is refused before a byte is written.
 * Linked (acpi_build_linked): the same tables at base 0 without the RSDP,
 * which is a file of its own; every pointer written and every checksum
 * due also becomes a table-loader command.
 * Section and table numbers are ACPI 6.5's.
 */
#include <petrel/acpi.h>
#include <petrel/acpi_build.h>
#include <petrel/lib.h>

#define SDT_HEADER_LEN 36
#define RSDP_LEN ACPI_RSDP_LEN
#define FACS_LEN 64
#define FADT_LEN 276 /* revision 6: ends with the Hypervisor Vendor Identity */
#define HPET_LEN 56   /* IA-PC HPET 1.0a §3.2.4 */
#define MAX_ROOT_ENTRIES 3 /* FACP, APIC, HPET: the DSDT and FACS hang off the FADT */

/* Generic Address Structure address spaces and access sizes (§5.2.3.2). */
#define GAS_SYSTEM_MEMORY 0
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

enum { T_RSDP, T_FACS, T_XSDT, T_RSDT, T_FADT, T_DSDT, T_MADT, T_HPET, T_COUNT };

/* Where the loader commands go when the tables are for a firmware to
 * place (acpi_build_linked): the two files' buffers, to tell which one a
 * pointer field lies in. */
struct linker {
	uint8_t *tables, *rsdp, *cmd;
	uint32_t n, max;
	bool full; /* a command did not fit */
};

struct layout {
	uint64_t base;
	struct linker *lk; /* NULL: the tables are placed at base, done */
	int root[MAX_ROOT_ENTRIES]; /* the tables the XSDT and RSDT list */
	unsigned nr_root;
	uint32_t off[T_COUNT], len[T_COUNT];
	uint32_t total;
};

static void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint64_t gpa(const struct layout *l, int t) { return l->base + l->off[t]; }

/* --- DSDT: AML (§20) --------------------------------------------------------- */

/* An AML writer that only counts when p is NULL, so the layout pass learns
 * the DSDT's length from the same code that writes it. */
struct aml {
	uint8_t *p;
	uint32_t len;
};

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_EXT_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR 0x5c

static void aml_byte(struct aml *a, uint8_t b)
{
	if (a->p)
		a->p[a->len] = b;
	a->len++;
}

static void aml_le(struct aml *a, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

static void aml_seg(struct aml *a, const char seg[4])
{
	for (int i = 0; i < 4; i++)
		aml_byte(a, (uint8_t)seg[i]);
}

/* An integer as iasl encodes it: ZeroOp, OneOp, or the smallest of the
 * Byte/Word/DWord/QWord constants (§20.2.3 ComputationalData). */
static void aml_int(struct aml *a, uint64_t v)
{
	if (v <= 1) {
		aml_byte(a, (uint8_t)v);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffffu) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

/* PkgLength (§20.2.4) for a body of `body` bytes: it counts itself.  One
 * byte up to 63 in all; else a lead byte (bits 7-6: how many follow, bits
 * 3-0: the low nibble) and the rest of the length 8 bits at a time. */
static void aml_pkglength(struct aml *a, uint32_t body)
{
	unsigned n = body + 1 <= 63 ? 1 : body + 2 < (1u << 12) ? 2 : body + 3 < (1u << 20) ? 3 : 4;
	uint32_t len = body + n;

	if (n == 1) {
		aml_byte(a, (uint8_t)len);
		return;
	}
	aml_byte(a, (uint8_t)((n - 1) << 6 | (len & 0xf)));
	for (unsigned i = 1; i < n; i++)
		aml_byte(a, (uint8_t)(len >> (4 + 8 * (i - 1))));
}

/* Something that starts with a PkgLength: its body is written twice, first
 * only counted to learn the length. */
typedef void aml_body(struct aml *a, const struct acpi_build_cfg *cfg);

static void aml_sized(struct aml *a, aml_body *body, const struct acpi_build_cfg *cfg)
{
	struct aml count = { .p = NULL, .len = 0 };

	body(&count, cfg);
	aml_pkglength(a, count.len);
	body(a, cfg);
}

/* Name (\Sx, Package () { typ, typ, 0, 0 }): the sleep-state object of
 * §7.4.2, SLP_TYP for PM1a then PM1b (we have no PM1b: same value), two
 * reserved.  DefName := NameOp NameString DataRefObject; NameString :=
 * RootChar NameSeg (§20.2.2); DefPackage := PackageOp PkgLength NumElements
 * PackageElementList (§20.2.5.4). */
static void aml_sleep_state(struct aml *a, const char seg[4], uint8_t slp_typ)
{
	struct aml count = { .p = NULL, .len = 0 };

	aml_byte(a, AML_NAME_OP);
	aml_byte(a, AML_ROOT_CHAR);
	aml_seg(a, seg);
	aml_byte(a, AML_PACKAGE_OP);
	aml_int(&count, slp_typ);
	aml_pkglength(a, 1 + 2 * count.len + 2); /* NumElements, elements */
	aml_byte(a, 4);
	aml_int(a, slp_typ);
	aml_int(a, slp_typ);
	aml_int(a, 0);
	aml_int(a, 0);
}

/* --- the PCI root bridge's resources (§6.4, resource data types) --- */

#define RES_WORD_ADDR 0x88   /* Word Address Space Descriptor (§6.4.3.5.3) */
#define RES_DWORD_ADDR 0x87  /* DWord Address Space Descriptor (§6.4.3.5.2) */
#define RES_IO_PORT 0x47     /* I/O Port Descriptor (§6.4.2.5), 16-bit decode */
#define RES_END_TAG 0x79     /* End Tag (§6.4.2.9) */
#define RES_TYPE_MEM 0
#define RES_TYPE_IO 1
#define RES_TYPE_BUS 2
/* General flags: a bridge's window produces the range (bit 0 clear), its
 * minimum and maximum fixed (bits 2 and 3), positive decode. */
#define RES_WINDOW 0x0c
#define RES_IO_ENTIRE 0x03       /* I/O: ISA and non-ISA ranges */
#define RES_MEM_CACHEABLE_RW 0x03 /* memory: cacheable, read-write */

static void res_word(struct aml *a, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	aml_byte(a, RES_WORD_ADDR);
	aml_le(a, 13, 2);
	aml_byte(a, type);
	aml_byte(a, RES_WINDOW);
	aml_byte(a, tflags);
	aml_le(a, 0, 2); /* granularity */
	aml_le(a, min, 2);
	aml_le(a, max, 2);
	aml_le(a, 0, 2); /* translation */
	aml_le(a, (uint32_t)max - min + 1, 2);
}

static void res_dword_mem(struct aml *a, uint32_t min, uint32_t max)
{
	aml_byte(a, RES_DWORD_ADDR);
	aml_le(a, 23, 2);
	aml_byte(a, RES_TYPE_MEM);
	aml_byte(a, RES_WINDOW);
	aml_byte(a, RES_MEM_CACHEABLE_RW);
	aml_le(a, 0, 4);
	aml_le(a, min, 4);
	aml_le(a, max, 4);
	aml_le(a, 0, 4);
	aml_le(a, (uint64_t)max - min + 1, 4);
}

/* The buffer's bytes: bus 0-255; the configuration ports themselves
 * (consumed, as QEMU's tables say); every other port; the VGA window and
 * the PCI hole below the IOAPIC.  A firmware's or the OS's BAR placement
 * stays inside these. */
static void crs_bytes(struct aml *a, const struct acpi_build_cfg *cfg)
{
	res_word(a, RES_TYPE_BUS, 0, 0, 0xff);
	aml_byte(a, RES_IO_PORT);
	aml_byte(a, 1); /* 16-bit decode */
	aml_le(a, 0xcf8, 2);
	aml_le(a, 0xcf8, 2);
	aml_byte(a, 1); /* alignment */
	aml_byte(a, 8); /* length */
	res_word(a, RES_TYPE_IO, RES_IO_ENTIRE, 0x0000, 0x0cf7);
	res_word(a, RES_TYPE_IO, RES_IO_ENTIRE, 0x0d00, 0xffff);
	res_dword_mem(a, 0xa0000, 0xbffff);
	res_dword_mem(a, cfg->pci_mem_start, cfg->pci_mem_end - 1);
	aml_byte(a, RES_END_TAG);
	aml_byte(a, 0); /* checksum 0: "the bytes sum to zero" not claimed */
}

/* DefBuffer := BufferOp PkgLength BufferSize ByteList (§20.2.5.4). */
static void crs_buffer(struct aml *a, const struct acpi_build_cfg *cfg)
{
	struct aml count = { .p = NULL, .len = 0 };

	crs_bytes(&count, cfg);
	aml_int(a, count.len);
	crs_bytes(a, cfg);
}

/* One _PRT entry (§6.2.13): Package { address 0xSSSSFFFF (any function
 * of slot S), pin 0-3 (INTA-INTD), source 0 (a GSI, not a link device),
 * the GSI }.  The bus swizzles INTx onto its four PIRQ lines as a PCI
 * slot does, and the board wires PIRQ n to GSI pci_gsi_base + n. */
static void prt_entry(struct aml *a, unsigned slot, unsigned pin, const struct acpi_build_cfg *cfg)
{
	struct aml count = { .p = NULL, .len = 0 };
	uint32_t adr = slot << 16 | 0xffff;
	uint8_t gsi = (uint8_t)(cfg->pci_gsi_base + (slot + pin) % 4);

	aml_int(&count, adr);
	aml_int(&count, pin);
	aml_int(&count, 0);
	aml_int(&count, gsi);
	aml_byte(a, AML_PACKAGE_OP);
	aml_pkglength(a, 1 + count.len);
	aml_byte(a, 4);
	aml_int(a, adr);
	aml_int(a, pin);
	aml_int(a, 0);
	aml_int(a, gsi);
}

#define PRT_SLOTS 32

static void prt_body(struct aml *a, const struct acpi_build_cfg *cfg)
{
	aml_byte(a, PRT_SLOTS * 4); /* NumElements */
	for (unsigned slot = 0; slot < PRT_SLOTS; slot++)
		for (unsigned pin = 0; pin < 4; pin++)
			prt_entry(a, slot, pin, cfg);
}

/* Device (PCI0): the host bridge to bus 0, as a PCI root (PNP0A03).  An OS
 * that uses ACPI finds PCI through it, and only through it. */
static void pci0_body(struct aml *a, const struct acpi_build_cfg *cfg)
{
	aml_seg(a, "PCI0");
	aml_byte(a, AML_NAME_OP);
	aml_seg(a, "_HID");
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, 0x030ad041, 4); /* EisaId ("PNP0A03"), compressed (§6.1.5) */
	aml_byte(a, AML_NAME_OP);
	aml_seg(a, "_UID");
	aml_int(a, 0);
	aml_byte(a, AML_NAME_OP);
	aml_seg(a, "_CRS");
	aml_byte(a, AML_BUFFER_OP);
	aml_sized(a, crs_buffer, cfg);
	aml_byte(a, AML_NAME_OP);
	aml_seg(a, "_PRT");
	aml_byte(a, AML_PACKAGE_OP);
	aml_sized(a, prt_body, cfg);
}

static void sb_body(struct aml *a, const struct acpi_build_cfg *cfg)
{
	aml_byte(a, AML_ROOT_CHAR);
	aml_seg(a, "_SB_");
	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	aml_sized(a, pci0_body, cfg);
}

/* The DSDT's body: \_S0 and \_S5 (what Linux needs to power off; S0 so the
 * working state's SLP_TYP is written down too), then, where the board has
 * PCI, Scope (\_SB) { Device (PCI0) }.  Linux finds the PIT, RTC and UART
 * without namespace devices. */
static uint32_t dsdt_aml(uint8_t *p, const struct acpi_build_cfg *cfg)
{
	struct aml a = { .p = p, .len = 0 };

	aml_sleep_state(&a, "_S0_", ACPI_SLP_TYP_S0);
	aml_sleep_state(&a, "_S5_", ACPI_SLP_TYP_S5);
	if (cfg->pci_mem_end) {
		aml_byte(&a, AML_SCOPE_OP);
		aml_sized(&a, sb_body, cfg);
	}
	return a.len;
}

/* --- layout ------------------------------------------------------------------ */

static uint32_t madt_len(uint32_t nr_cpus)
{
	/* header + LAPIC address + flags; LAPICs, IOAPIC, 2 overrides, NMI */
	return SDT_HEADER_LEN + 8 + 8 * nr_cpus + 12 + 2 * 10 + 6;
}

static bool cfg_ok(const struct acpi_build_cfg *c)
{
	return c->base_gpa % 16 == 0 && c->nr_cpus >= 1 && c->nr_cpus <= 254 &&
	       c->lapic_gpa <= 0xfffff000u && c->ioapic_gpa <= 0xfffff000u && c->hpet_gpa <= 0xfffffc00u &&
	       c->sci_irq != 0 && c->sci_irq != 2 && c->sci_irq < 16 &&
	       (!c->pci_mem_end || (c->pci_mem_start >= MiB(1) && c->pci_mem_start < c->pci_mem_end &&
				    c->pci_mem_end <= GiB(4) && c->pci_gsi_base >= 16 && c->pci_gsi_base <= 20));
}

/* Places each table after the last one; the FACS needs 64-byte alignment
 * of its guest-physical address, not of its offset. */
static void place(struct layout *l)
{
	uint64_t end = l->base;

	for (int t = 0; t < T_COUNT; t++) {
		uint64_t at = l->len[t] ? ALIGN_UP(end, t == T_FACS ? 64u : 16u) : end; /* absent: no room */
		l->off[t] = (uint32_t)(at - l->base);
		end = at + l->len[t];
	}
	l->total = (uint32_t)(end - l->base);
}

static void plan(const struct acpi_build_cfg *cfg, struct layout *l)
{
	l->base = l->lk ? 0 : cfg->base_gpa; /* linked: offsets in the tables file */
	l->len[T_RSDP] = l->lk ? 0 : RSDP_LEN; /* linked: a file of its own */
	l->len[T_FACS] = FACS_LEN;
	l->nr_root = 0;
	l->root[l->nr_root++] = T_FADT;
	l->root[l->nr_root++] = T_MADT;
	if (cfg->hpet_gpa)
		l->root[l->nr_root++] = T_HPET;
	l->len[T_XSDT] = SDT_HEADER_LEN + 8 * l->nr_root;
	l->len[T_RSDT] = SDT_HEADER_LEN + 4 * l->nr_root;
	l->len[T_FADT] = FADT_LEN;
	l->len[T_DSDT] = SDT_HEADER_LEN + dsdt_aml(NULL, cfg);
	l->len[T_MADT] = madt_len(cfg->nr_cpus);
	l->len[T_HPET] = cfg->hpet_gpa ? HPET_LEN : 0;
	place(l);
}

/* --- the table-loader's commands (QEMU's BIOS linker/loader) ------------------- */

#define LOADER_ALLOCATE 1
#define LOADER_ADD_POINTER 2
#define LOADER_ADD_CHECKSUM 3
#define LOADER_ZONE_HIGH 1
#define LOADER_ZONE_FSEG 2

static uint8_t *loader_cmd(struct linker *lk, uint32_t command)
{
	uint8_t *e;

	if (lk->n == lk->max) {
		lk->full = true;
		return NULL;
	}
	e = lk->cmd + ACPI_LOADER_ENTRY * lk->n++;
	memset(e, 0, ACPI_LOADER_ENTRY);
	wr32(e, command);
	return e;
}

static const char *file_of(const struct linker *lk, const uint8_t *field, uint32_t *off)
{
	if (field >= lk->rsdp && field < lk->rsdp + RSDP_LEN) {
		*off = (uint32_t)(field - lk->rsdp);
		return ACPI_FILE_RSDP;
	}
	*off = (uint32_t)(field - lk->tables);
	return ACPI_FILE_TABLES;
}

static void loader_allocate(struct linker *lk, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *e = loader_cmd(lk, LOADER_ALLOCATE);

	if (!e)
		return;
	str_copy((char *)e + 4, file, ACPI_LOADER_FILESZ);
	wr32(e + 4 + ACPI_LOADER_FILESZ, align);
	e[8 + ACPI_LOADER_FILESZ] = zone;
}

/* The pointer field at `field` (already holding an offset in the tables
 * file) gets that file's address added. */
static void link_ptr(const struct layout *l, uint8_t *field, uint8_t size)
{
	uint32_t off;
	const char *dest;
	uint8_t *e;

	if (!l->lk || !(e = loader_cmd(l->lk, LOADER_ADD_POINTER)))
		return;
	dest = file_of(l->lk, field, &off);
	str_copy((char *)e + 4, dest, ACPI_LOADER_FILESZ);
	str_copy((char *)e + 4 + ACPI_LOADER_FILESZ, ACPI_FILE_TABLES, ACPI_LOADER_FILESZ);
	wr32(e + 4 + 2 * ACPI_LOADER_FILESZ, off);
	e[8 + 2 * ACPI_LOADER_FILESZ] = size;
}

/* After the pointers in [start, start + len) are patched, the byte at
 * `sum` is set again so the range sums to zero. */
static void link_checksum(const struct layout *l, uint8_t *sum, const uint8_t *start, uint32_t len)
{
	uint32_t off, start_off;
	const char *file;
	uint8_t *e;

	if (!l->lk || !(e = loader_cmd(l->lk, LOADER_ADD_CHECKSUM)))
		return;
	file = file_of(l->lk, sum, &off);
	file_of(l->lk, start, &start_off);
	str_copy((char *)e + 4, file, ACPI_LOADER_FILESZ);
	wr32(e + 4 + ACPI_LOADER_FILESZ, off);
	wr32(e + 8 + ACPI_LOADER_FILESZ, start_off);
	wr32(e + 12 + ACPI_LOADER_FILESZ, len);
}

static void put_ptr32(const struct layout *l, uint8_t *field, int t)
{
	wr32(field, (uint32_t)gpa(l, t));
	link_ptr(l, field, 4);
}

static void put_ptr64(const struct layout *l, uint8_t *field, int t)
{
	wr64(field, gpa(l, t));
	link_ptr(l, field, 8);
}

/* --- common pieces ----------------------------------------------------------- */

static void put_oem_id(uint8_t *p, const struct acpi_build_cfg *cfg)
{
	size_t n = 0;

	while (n < 6 && cfg->oem_id[n])
		n++;
	memset(p, ' ', 6);
	memcpy(p, cfg->oem_id, n);
}

/* The 36-byte header every SDT starts with (§5.2.6). */
static void sdt_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev,
		       const struct acpi_build_cfg *cfg)
{
	memcpy(t, sig, 4);
	wr32(t + 4, len);
	t[8] = rev;
	put_oem_id(t + 10, cfg);
	memcpy(t + 16, "PETRELVM", 8); /* OEM Table ID */
	wr32(t + 24, 1);               /* OEM Revision */
	memcpy(t + 28, "PTRL", 4);     /* Creator ID */
	wr32(t + 32, 1);               /* Creator Revision */
}

/* Byte 9 makes the whole table sum to zero; called last, after the
 * table's pointers.  Linked, it stays 0 and the loader sets it after
 * patching the pointers: SeaBIOS subtracts the range's sum from it, OVMF
 * stores the negated sum of the range, which counts the byte itself, so
 * only a 0 there works for both (QEMU's tables leave it 0 too). */
static void sdt_seal(const struct layout *l, uint8_t *t)
{
	uint32_t len;

	memcpy(&len, t + 4, 4);
	t[9] = 0;
	if (l->lk) /* the loader sums it, and OVMF's sum counts the byte itself */
		link_checksum(l, t + 9, t, len);
	else
		t[9] = (uint8_t)(0 - acpi_checksum(t, len));
}

/* Generic Address Structure (§5.2.3.2). */
static void gas(uint8_t *p, uint8_t space, uint8_t bit_width, uint8_t access, uint64_t addr)
{
	p[0] = space;
	p[1] = bit_width;
	p[2] = 0; /* bit offset */
	p[3] = access;
	wr64(p + 4, addr);
}

/* --- RSDP, XSDT, RSDT, FACS ---------------------------------------------------- */

/* RSDP (§5.2.5.3): revision 2, both root pointers.  The first checksum
 * covers bytes 0-19 (the ACPI 1.0 structure), the extended one all 36. */
static void build_rsdp(uint8_t *p, const struct layout *l, const struct acpi_build_cfg *cfg)
{
	memcpy(p, "RSD PTR ", 8);
	put_oem_id(p + 9, cfg);
	p[15] = 2;
	put_ptr32(l, p + 16, T_RSDT);
	wr32(p + 20, RSDP_LEN);
	put_ptr64(l, p + 24, T_XSDT);
	if (l->lk) { /* left 0 for the loader, the 1.0 sum first: the other covers it */
		link_checksum(l, p + 8, p, 20);
		link_checksum(l, p + 32, p, RSDP_LEN);
		return;
	}
	p[8] = (uint8_t)(0 - acpi_checksum(p, 20));
	p[32] = (uint8_t)(0 - acpi_checksum(p, RSDP_LEN));
}

/* XSDT (§5.2.8) with 8-byte entries or RSDT (§5.2.7) with 4-byte ones; an
 * ACPI 1.0 guest reads the RSDT, everyone else the XSDT. */
static void build_root(uint8_t *t, const struct layout *l, const struct acpi_build_cfg *cfg,
		       int which)
{
	unsigned width = which == T_XSDT ? 8 : 4;

	sdt_header(t, which == T_XSDT ? "XSDT" : "RSDT", l->len[which], 1, cfg);
	for (unsigned i = 0; i < l->nr_root; i++) {
		if (width == 8)
			put_ptr64(l, t + SDT_HEADER_LEN + 8 * i, l->root[i]);
		else
			put_ptr32(l, t + SDT_HEADER_LEN + 4 * i, l->root[i]);
	}
	sdt_seal(l, t);
}

/* FACS (§5.2.10): no checksum.  All zero but the version: no waking
 * vector (no S1-S4), global lock free, no S4BIOS, no 64-bit wake. */
static void build_facs(uint8_t *p)
{
	memcpy(p, "FACS", 4);
	wr32(p + 4, FACS_LEN);
	p[32] = 2; /* Version */
}

/* --- FADT (§5.2.9, field offsets from Table 5.9) ------------------------------ */

#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_P_LVL2_LAT 96
#define FADT_P_LVL3_LAT 98
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK 208
#define FADT_HYPERVISOR_ID 268

/* Fixed feature flags (§5.2.9, the table after Table 5.9). */
#define FADT_WBINVD (1u << 0)        /* WBINVD works: required on x86 */
#define FADT_PROC_C1 (1u << 2)       /* HLT works on every CPU */
#define FADT_SLP_BUTTON (1u << 5)    /* no fixed-feature sleep button */
#define FADT_FIX_RTC (1u << 6)       /* no RTC wake status in PM1 */
#define FADT_RESET_REG_SUP (1u << 10)

/* IA-PC boot architecture flags (§5.2.9.3). */
#define BOOT_LEGACY_DEVICES (1u << 0) /* ISA devices: PIT, PIC, RTC, UART */
#define BOOT_VGA_NOT_PRESENT (1u << 2)

/* Bits 0 and 1 clear: the power button is a fixed feature (PWRBTN_STS in
 * PM1, as on QEMU's PIIX4), which gives the hypervisor a way to ask the
 * guest to shut down; no 8042, so Linux skips probing ports 0x60/0x64. */
#define FADT_FLAGS_VALUE (FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC | \
			  FADT_RESET_REG_SUP)
#define FADT_BOOT_ARCH_VALUE (BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT)

/* The ACPI 1.0 fields: 32-bit pointers, I/O port blocks and their lengths.
 * SMI_CMD, ACPI_ENABLE and ACPI_DISABLE stay 0: no SMM, so the OS finds
 * the machine already in ACPI mode (§5.2.9, SMI_CMD) and never switches. */
static void fadt_legacy(uint8_t *t, const struct layout *l, const struct acpi_build_cfg *cfg)
{
	put_ptr32(l, t + FADT_FIRMWARE_CTRL, T_FACS);
	put_ptr32(l, t + FADT_DSDT, T_DSDT);
	wr16(t + FADT_SCI_INT, cfg->sci_irq);
	wr32(t + FADT_PM1A_EVT_BLK, cfg->pm_base + ACPI_PM1_STS_OFF);
	wr32(t + FADT_PM1A_CNT_BLK, cfg->pm_base + ACPI_PM1_CNT_OFF);
	wr32(t + FADT_PM_TMR_BLK, cfg->pm_base + ACPI_PM_TMR_OFF);
	t[FADT_PM1_EVT_LEN] = 4; /* PM1_STS + PM1_EN, 2 bytes each */
	t[FADT_PM1_CNT_LEN] = 2;
	t[FADT_PM_TMR_LEN] = 4;
	/* > 100 and > 1000 microseconds: no C2, no C3 (Table 5.9) */
	wr16(t + FADT_P_LVL2_LAT, 0x0fff);
	wr16(t + FADT_P_LVL3_LAT, 0x0fff);
	/* CENTURY (108) stays 0: the RTC's century byte is not promised. */
}

/* RESET_REG (§4.8.3.6, the Reset Register): one byte written to an I/O
 * port.  Linux uses it only with bit width 8 and bit offset 0. */
static void fadt_reset(uint8_t *t, const struct acpi_build_cfg *cfg)
{
	gas(t + FADT_RESET_REG, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, cfg->reset_port);
	t[FADT_RESET_VALUE] = ACPI_RESET_VALUE;
}

/* The ACPI 2.0+ X_ fields, which an OS prefers over the 32-bit ones.  They
 * repeat them exactly: ACPICA warns when a pair disagrees, in address or in
 * bit width (which must be the legacy length times 8). */
static void fadt_extended(uint8_t *t, const struct layout *l, const struct acpi_build_cfg *cfg)
{
	put_ptr64(l, t + FADT_X_FIRMWARE_CTRL, T_FACS);
	put_ptr64(l, t + FADT_X_DSDT, T_DSDT);
	gas(t + FADT_X_PM1A_EVT_BLK, GAS_SYSTEM_IO, 32, GAS_ACCESS_WORD,
	    cfg->pm_base + ACPI_PM1_STS_OFF);
	gas(t + FADT_X_PM1A_CNT_BLK, GAS_SYSTEM_IO, 16, GAS_ACCESS_WORD,
	    cfg->pm_base + ACPI_PM1_CNT_OFF);
	gas(t + FADT_X_PM_TMR_BLK, GAS_SYSTEM_IO, 32, GAS_ACCESS_DWORD,
	    cfg->pm_base + ACPI_PM_TMR_OFF);
}

/* Revision 6, minor 5: ACPI 6.5.  Not hardware-reduced (flag bit 20
 * clear), so Linux uses the PM timer, PM1 blocks and SCI. */
static void build_fadt(uint8_t *t, const struct layout *l, const struct acpi_build_cfg *cfg)
{
	sdt_header(t, "FACP", FADT_LEN, 6, cfg);
	fadt_legacy(t, l, cfg);
	wr16(t + FADT_IAPC_BOOT_ARCH, FADT_BOOT_ARCH_VALUE);
	wr32(t + FADT_FLAGS, FADT_FLAGS_VALUE);
	fadt_reset(t, cfg);
	t[FADT_MINOR_VERSION] = 5;
	fadt_extended(t, l, cfg);
	memcpy(t + FADT_HYPERVISOR_ID, "PETRELHV", 8);
	sdt_seal(l, t);
}

/* --- DSDT, MADT ---------------------------------------------------------------- */

/* Revision 2: AML integers are 64 bits (§5.2.11.1). */
static void build_dsdt(uint8_t *t, const struct layout *l, const struct acpi_build_cfg *cfg)
{
	sdt_header(t, "DSDT", l->len[T_DSDT], 2, cfg);
	dsdt_aml(t + SDT_HEADER_LEN, cfg);
	sdt_seal(l, t);
}

/* MPS INTI flags of an Interrupt Source Override (§5.2.12.5). */
#define INTI_CONFORMS 0x0
#define INTI_ACTIVE_HIGH 0x1
#define INTI_LEVEL (0x3 << 2)

/* Interrupt Source Override (§5.2.12.5): ISA IRQ -> GSI. */
static uint8_t *madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	e[0] = 2;
	e[1] = 10;
	e[2] = 0; /* bus: ISA */
	e[3] = irq;
	wr32(e + 4, gsi);
	wr16(e + 8, flags);
	return e + 10;
}

/* Processor Local APICs (§5.2.12.2): UID = APIC ID = i, enabled; then
 * the I/O APIC (§5.2.12.3), numbered after the
 * CPUs as Bochs does, its pins GSIs 0-23. */
static uint8_t *madt_apics(uint8_t *e, const struct acpi_build_cfg *cfg)
{
	for (uint32_t i = 0; i < cfg->nr_cpus; i++, e += 8) {
		e[0] = 0;
		e[1] = 8;
		e[2] = (uint8_t)i;
		e[3] = (uint8_t)i;
		wr32(e + 4, 1); /* Enabled */
	}
	e[0] = 1;
	e[1] = 12;
	e[2] = (uint8_t)cfg->nr_cpus;
	e[3] = 0;
	wr32(e + 4, (uint32_t)cfg->ioapic_gpa);
	wr32(e + 8, 0); /* GSI base */
	return e + 12;
}

/* MADT (§5.2.12), revision 5 (ACPI 6.3+; iasl's template uses it too).
 * PCAT_COMPAT: there are 8259s too, which the OS masks when it switches to
 * the IOAPIC.  The two overrides are QEMU's: the PIT's IRQ0 arrives on pin
 * 2, flags "conforms to the bus" = ISA's edge, active high; the SCI is
 * level, active high.  Without an override Linux would take the SCI as
 * level, active low (§5.2.9 SCI_INT), so the override fixes the polarity
 * the device model's IOAPIC pin must use.  Then LINT1 of every CPU (UID
 * 0xFF) is NMI, as in the MP spec's virtual-wire setup. */
static void build_madt(uint8_t *t, const struct layout *l, const struct acpi_build_cfg *cfg)
{
	uint8_t *e;

	sdt_header(t, "APIC", l->len[T_MADT], 5, cfg);
	wr32(t + 36, (uint32_t)cfg->lapic_gpa);
	wr32(t + 40, 1); /* PCAT_COMPAT */
	e = madt_apics(t + 44, cfg);
	e = madt_iso(e, 0, 2, INTI_CONFORMS);
	e = madt_iso(e, cfg->sci_irq, cfg->sci_irq, INTI_LEVEL | INTI_ACTIVE_HIGH);
	e[0] = 4; /* Local APIC NMI (§5.2.12.7) */
	e[1] = 6;
	e[2] = 0xff;
	wr16(e + 3, INTI_CONFORMS);
	e[5] = 1; /* LINT1 */
	sdt_seal(l, t);
}

/* HPET (IA-PC HPET 1.0a §3.2.4): the event timer block's ID (its
 * GCAP_ID's low half), its base as a memory GAS, HPET number 0, the
 * minimum tick in periodic mode, no page protection. */
static void build_hpet(uint8_t *t, const struct layout *l, const struct acpi_build_cfg *cfg)
{
	sdt_header(t, "HPET", HPET_LEN, 1, cfg);
	wr32(t + 36, cfg->hpet_id);
	gas(t + 40, GAS_SYSTEM_MEMORY, 64, 0, cfg->hpet_gpa);
	t[52] = 0;
	wr16(t + 53, cfg->hpet_min_tick);
	t[55] = 0;
	sdt_seal(l, t);
}

/* --- the whole blob -------------------------------------------------------------- */

/* Every table but the RSDP, each at its offset in buf; the RSDP at rsdp. */
static void build_all(const struct layout *l, const struct acpi_build_cfg *cfg, uint8_t *buf,
		      uint8_t *rsdp)
{
	memset(buf, 0, l->total);
	memset(rsdp, 0, RSDP_LEN);
	build_rsdp(rsdp, l, cfg);
	build_facs(buf + l->off[T_FACS]);
	build_root(buf + l->off[T_XSDT], l, cfg, T_XSDT);
	build_root(buf + l->off[T_RSDT], l, cfg, T_RSDT);
	build_fadt(buf + l->off[T_FADT], l, cfg);
	build_dsdt(buf + l->off[T_DSDT], l, cfg);
	build_madt(buf + l->off[T_MADT], l, cfg);
	if (cfg->hpet_gpa)
		build_hpet(buf + l->off[T_HPET], l, cfg);
}

size_t acpi_build(const struct acpi_build_cfg *cfg, uint8_t *buf, size_t size,
		  uint64_t *rsdp_gpa)
{
	struct layout l = { .lk = NULL };

	if (!cfg_ok(cfg))
		return 0;
	plan(cfg, &l);
	/* RSDT, FADT and MADT hold 32-bit addresses: all below 4 GiB. */
	if (l.total > size || cfg->base_gpa + l.total > GiB(4))
		return 0;
	build_all(&l, cfg, buf, buf + l.off[T_RSDP]);
	*rsdp_gpa = cfg->base_gpa;
	return l.total;
}

/* The commands, in the order a loader must run them: both files placed
 * (the RSDP where a BIOS-area scan finds it, the FACS's file 64-byte
 * aligned), then per table its pointers and its checksum. */
int acpi_build_linked(const struct acpi_build_cfg *cfg, struct acpi_linked *out)
{
	struct linker lk = { .tables = out->tables, .rsdp = out->rsdp, .cmd = out->loader,
			     .max = (uint32_t)(out->loader_size / ACPI_LOADER_ENTRY) };
	struct layout l = { .lk = &lk };

	if (!cfg_ok(cfg))
		return -1;
	plan(cfg, &l);
	if (l.total > out->tables_size)
		return -1;
	loader_allocate(&lk, ACPI_FILE_RSDP, 16, LOADER_ZONE_FSEG);
	loader_allocate(&lk, ACPI_FILE_TABLES, 64, LOADER_ZONE_HIGH);
	build_all(&l, cfg, out->tables, out->rsdp);
	if (lk.full)
		return -1;
	out->tables_len = l.total;
	out->loader_len = ACPI_LOADER_ENTRY * (size_t)lk.n;
	return 0;
}
