/* SPDX-License-Identifier: MIT */
/* hv/core/gmem.c: guest-physical accesses, the guest page-table walker
 * (32-bit with PSE, PAE, 4-level long mode) on page tables built in a fake
 * guest RAM, segmentation checks and accesses by linear address.
 * vcpu_need() and vcpu_inject_exception() are stubbed: the register block
 * is filled by the test, and an injected exception is recorded.  The MMIO
 * bus is a stub that records accesses and answers all-ones (an empty bus). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/gmem.h>
#include <petrel/vm.h>

#define TEST(name) static void name(void **state __attribute__((unused)))
#define RAM_SIZE (64u << 20)

static struct vm vm;
static struct vcpu vcpu;
static int injected_vector = -1;
static uint32_t injected_error;
static unsigned bus_reads, bus_writes;
static uint64_t bus_last_addr, bus_last_val;
static uint8_t bus_last_size;
const struct vcpu_ops *vcpu_ops;

void vcpu_need(struct vcpu *v, uint32_t groups) { (void)v; (void)groups; }
void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	(void)v;
	(void)has_error;
	injected_vector = vector;
	injected_error = error;
}

bool io_bus_access(const struct io_bus *bus, bool mmio, struct vcpu *v, uint64_t addr, uint8_t size,
		   bool write, uint64_t *val)
{
	(void)bus;
	(void)v;
	assert_true(mmio);
	bus_last_addr = addr;
	bus_last_size = size;
	if (write) {
		bus_writes++;
		bus_last_val = *val;
	} else {
		bus_reads++;
		*val = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
	}
	return false;
}

static uint8_t *ram;
static uint32_t pkru;

uint32_t vcpu_pkru(struct vcpu *v) { (void)v; return pkru; }

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	vm.ram_size = RAM_SIZE;
	assert_int_equal(mem_add(&vm.mem, &(struct mem_region){ 0, RAM_SIZE, (uint64_t)(uintptr_t)ram,
								REGION_RAM, 0, "ram" }), 0);
	vcpu.vm = &vm;
	vcpu.cr_caps.maxphyaddr = 40;
	vcpu.cr_caps.page_1g = true;
	vcpu.regs.seg[SEG_CS].attr = 0xc9b; /* 32-bit code */
	injected_vector = -1;
	bus_reads = bus_writes = 0;
	pkru = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static void put32(uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }
static void put64(uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }
static uint32_t get32(uint64_t gpa) { uint32_t v; memcpy(&v, ram + gpa, 4); return v; }

#define P 1u
#define W 2u
#define U 4u
#define A 0x20u
#define D 0x40u
#define PS 0x80u

/* Translates; *rc is 0 or the #PF error code + 0x100 (so 0 means success). */
static uint64_t xlate(uint64_t gva, unsigned acc, unsigned *rc)
{
	uint64_t gpa = 0xdeadbeef;
	uint32_t err = 0;
	*rc = gva_translate(&vcpu, gva, acc, &gpa, &err) ? 0x100 | err : 0;
	return gpa;
}

TEST(paging_off_is_identity_truncated_to_32_bits)
{
	unsigned rc;
	vcpu.regs.cr0 = 0x11;
	assert_int_equal(xlate(0x12345678, 0, &rc), 0x12345678);
	assert_int_equal(rc, 0);
	assert_int_equal(xlate(0x100012345ull, 0, &rc), 0x12345);
}

/* 2-level: PD at 0x10000, PT at 0x11000; 4 KiB page 0x00401000 → 0x200000,
 * 4 MiB page at 0x00800000 → 0x01000000 (PSE), read-only user page. */
static void two_level(void)
{
	vcpu.regs.cr0 = 0x11 | CR0_PG | CR0_WP;
	vcpu.regs.cr3 = 0x10000;
	put32(0x10000 + 1 * 4, 0x11000 | P | W | U);
	put32(0x11000 + 1 * 4, 0x200000 | P | W);
	put32(0x11000 + 2 * 4, 0x201000 | P | U); /* read-only, user */
	put32(0x10000 + 2 * 4, 0x01000000 | P | W | PS);
}

TEST(two_level_4k_and_4m_pages)
{
	unsigned rc;
	two_level();
	vcpu.regs.cr4 = CR4_PSE;
	assert_int_equal(xlate(0x00401abc, 0, &rc), 0x200abc);
	assert_int_equal(rc, 0);
	assert_int_equal(xlate(0x00912345, GACC_WRITE, &rc), 0x01112345);
	assert_int_equal(rc, 0);
	xlate(0x00c00000, 0, &rc); /* PDE 3 not present */
	assert_int_equal(rc, 0x100);
	xlate(0x00c00000, GACC_WRITE, &rc);
	assert_int_equal(rc, 0x100 | PF_W);
}

TEST(two_level_without_pse_ignores_the_large_bit)
{
	unsigned rc;
	two_level();
	vcpu.regs.cr4 = 0; /* PS in a PDE means nothing: it points at a table */
	put32(0x01000000 + 0x112 * 4, 0x300000 | P);
	assert_int_equal(xlate(0x00912345, 0, &rc), 0x300345);
	assert_int_equal(rc, 0);
}

/* PSE-36: bits 20:13 of a 4 MiB PDE are address bits 39:32; bit 21 and
 * the address bits above MAXPHYADDR are reserved. */
TEST(two_level_pse36_and_reserved_bits)
{
	unsigned rc;
	two_level();
	vcpu.regs.cr4 = CR4_PSE;
	put32(0x10000 + 4 * 4, 0x00400000 | (0x3u << 13) | P | W | PS);
	assert_int_equal(xlate(0x01012345, 0, &rc), 0x300412345ull);
	assert_int_equal(rc, 0);
	put32(0x10000 + 4 * 4, 0x00400000 | (1u << 21) | P | W | PS);
	xlate(0x01012345, 0, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_RSVD);
	vcpu.cr_caps.maxphyaddr = 36; /* bits 20:17 now reserved */
	put32(0x10000 + 4 * 4, 0x00400000 | (0x10u << 13) | P | W | PS);
	xlate(0x01012345, GACC_WRITE, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_W | PF_RSVD);
}

TEST(write_protect_user_and_error_codes)
{
	unsigned rc;
	two_level();
	xlate(0x00402000, GACC_WRITE, &rc); /* RO page, CR0.WP=1: present, write */
	assert_int_equal(rc, 0x100 | PF_P | PF_W);
	vcpu.regs.cr0 &= ~CR0_WP;
	xlate(0x00402000, GACC_WRITE, &rc); /* WP=0: supervisor may write */
	assert_int_equal(rc, 0);
	xlate(0x00402000, GACC_WRITE | GACC_USER, &rc); /* never for a user */
	assert_int_equal(rc, 0x100 | PF_P | PF_W | PF_U);
	xlate(0x00401000, GACC_USER, &rc); /* user on a supervisor page */
	assert_int_equal(rc, 0x100 | PF_P | PF_U);
	xlate(0x00402000, GACC_USER, &rc);
	assert_int_equal(rc, 0);
}

TEST(accessed_and_dirty_flags)
{
	unsigned rc;
	two_level();
	xlate(0x00401000, 0, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(get32(0x10000 + 4) & (A | D), A);
	assert_int_equal(get32(0x11000 + 4) & (A | D), A);
	xlate(0x00401000, GACC_WRITE, &rc);
	assert_int_equal(get32(0x11000 + 4) & (A | D), A | D);
	assert_int_equal(get32(0x10000 + 4) & D, 0); /* D only in the leaf */
}

TEST(smap_smep_and_nx)
{
	unsigned rc;
	two_level();
	vcpu.regs.cr4 = CR4_SMAP | CR4_SMEP;
	xlate(0x00402000, 0, &rc); /* supervisor read of a user page, AC=0 */
	assert_int_equal(rc, 0x100 | PF_P);
	vcpu.regs.rflags = 1u << 18; /* AC */
	xlate(0x00402000, 0, &rc);
	assert_int_equal(rc, 0);
	xlate(0x00402000, GACC_FETCH, &rc); /* SMEP: AC does not matter */
	assert_int_equal(rc, 0x100 | PF_P | PF_ID);
}

/* PAE: PDPT at 0x20020 (32-byte aligned), PD at 0x21000, PT at 0x22000;
 * the walk uses the PDPTE registers. */
static void pae(void)
{
	vcpu.regs.cr0 = 0x11 | CR0_PG | CR0_WP;
	vcpu.regs.cr4 = CR4_PAE;
	vcpu.regs.cr3 = 0x20020;
	vcpu.regs.pdpte[1] = 0x21000 | P; /* 1-2 GiB: PDPTEs have no R/W or U/S */
	put64(0x21000 + 3 * 8, 0x22000 | P | W);        /* + 6 MiB */
	put64(0x22000 + 5 * 8, 0x345000 | P | W);
	put64(0x22000 + 6 * 8, 0x346000 | P);           /* read-only */
	put64(0x21000 + 4 * 8, 0x00a00000 | P | W | PS); /* + 8 MiB, 2 MiB page */
}

TEST(pae_4k_and_2m_pages)
{
	unsigned rc;
	pae();
	assert_int_equal(xlate(0x40605123, 0, &rc), 0x345123);
	assert_int_equal(rc, 0);
	assert_int_equal(xlate(0x408fffff, 0, &rc), 0x00afffff);
	assert_int_equal(rc, 0);
	xlate(0x80000000, 0, &rc); /* PDPTE 2 absent */
	assert_int_equal(rc, 0x100);
}

/* The bug that made REP INS fault forever: a PDPTE has no R/W bit. */
TEST(pae_pdpte_is_not_a_write_check)
{
	unsigned rc;
	pae();
	assert_int_equal(xlate(0x40605000, GACC_WRITE, &rc), 0x345000);
	assert_int_equal(rc, 0);
	xlate(0x40606000, GACC_WRITE, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_W);
}

TEST(pae_reserved_bits)
{
	unsigned rc;
	pae();
	put64(0x22000 + 5 * 8, 0x345000 | P | W | (1ull << 62)); /* 62:M reserved in PAE */
	xlate(0x40605000, GACC_WRITE, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_W | PF_RSVD);
	put64(0x22000 + 5 * 8, 0x345000 | P | W | (1ull << 63)); /* XD without NXE */
	xlate(0x40605000, 0, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_RSVD);
	vcpu.regs.efer = EFER_NXE;
	xlate(0x40605000, 0, &rc); /* with NXE: just not executable */
	assert_int_equal(rc, 0);
	xlate(0x40605000, GACC_FETCH, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_ID);
	put64(0x21000 + 4 * 8, 0x00a00000 | P | W | PS | (1u << 13)); /* 20:13 of a 2 MiB PDE */
	xlate(0x40800000, 0, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_RSVD);
}

/* Long mode: PML4 0x30000, PDPT 0x31000, PD 0x32000, PT 0x33000. */
static void long_mode(void)
{
	vcpu.regs.cr0 = 0x11 | CR0_PG;
	vcpu.regs.cr4 = CR4_PAE;
	vcpu.regs.efer = EFER_LMA | EFER_LME;
	vcpu.regs.cr3 = 0x30000;
	put64(0x30000 + 0x1ff * 8, 0x31000 | P | W); /* 0xffffff80_00000000 */
	put64(0x31000 + 0 * 8, 0x32000 | P | W);
	put64(0x32000 + 1 * 8, 0x33000 | P | W);
	put64(0x33000 + 2 * 8, 0x456000 | P | W);
	put64(0x32000 + 2 * 8, 0x00c00000 | P | W | PS);  /* 2 MiB */
	put64(0x31000 + 1 * 8, 0x40000000ull | P | PS);   /* 1 GiB, beyond RAM: fine to translate */
}

TEST(long_mode_4k_2m_1g_pages)
{
	unsigned rc;
	long_mode();
	assert_int_equal(xlate(0xffffff8000202777ull, 0, &rc), 0x456777);
	assert_int_equal(rc, 0);
	assert_int_equal(xlate(0xffffff8000412345ull, 0, &rc), 0x00c12345);
	assert_int_equal(rc, 0);
	assert_int_equal(xlate(0xffffff8076543210ull, 0, &rc), 0x76543210);
	assert_int_equal(rc, 0);
	xlate(0x0000000000001000ull, 0, &rc); /* PML4 0 absent */
	assert_int_equal(rc, 0x100);
}

TEST(long_mode_reserved_bits)
{
	unsigned rc;
	long_mode();
	put64(0x33000 + 2 * 8, 0x456000 | P | W | (1ull << 45)); /* above MAXPHYADDR 40 */
	xlate(0xffffff8000202000ull, 0, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_RSVD);
	put64(0x33000 + 2 * 8, 0x456000 | P | W | (1ull << 55)); /* 62:52 are ignored */
	xlate(0xffffff8000202000ull, 0, &rc);
	assert_int_equal(rc, 0);
	vcpu.cr_caps.page_1g = false; /* PS in a PDPTE is then reserved */
	xlate(0xffffff8076543210ull, 0, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_RSVD);
	put64(0x30000 + 0x1ff * 8, 0x31000 | P | W | PS); /* never in a PML4E */
	xlate(0xffffff8000202000ull, GACC_WRITE, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_W | PF_RSVD);
}

/* Protection keys: the leaf's key picks two bits of PKRU (user pages,
 * CR4.PKE) or IA32_PKRS (supervisor pages, CR4.PKS); AD stops any data
 * access, WD a user write or a supervisor write with CR0.WP; fetches and
 * the other paging modes ignore keys; the error code has PK. */
TEST(protection_keys)
{
	unsigned rc;
	const uint64_t user_va = 0xffffff8000202000ull, sup_va = 0xffffff8000412000ull;

	long_mode();
	put64(0x30000 + 0x1ff * 8, 0x31000 | P | W | U);
	put64(0x31000 + 0 * 8, 0x32000 | P | W | U);
	put64(0x32000 + 1 * 8, 0x33000 | P | W | U);
	put64(0x33000 + 2 * 8, 0x456000 | P | W | U | (5ull << 59)); /* user page, key 5 */
	put64(0x32000 + 2 * 8, 0x00c00000 | P | W | PS | (3ull << 59)); /* supervisor 2 MiB, key 3 */
	pkru = 1u << 10;                                                /* AD for key 5 */
	xlate(user_va, GACC_USER, &rc);
	assert_int_equal(rc, 0); /* CR4.PKE off: keys do nothing */
	vcpu.regs.cr4 |= CR4_PKE;
	xlate(user_va, GACC_USER, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_U | PF_PK);
	xlate(user_va, 0, &rc); /* a supervisor access to a user page: keys apply too */
	assert_int_equal(rc, 0x100 | PF_P | PF_PK);
	xlate(user_va, GACC_USER | GACC_FETCH, &rc); /* fetches never */
	assert_int_equal(rc, 0);
	pkru = 2u << 10; /* WD for key 5 */
	xlate(user_va, GACC_USER, &rc);
	assert_int_equal(rc, 0);
	xlate(user_va, GACC_USER | GACC_WRITE, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_W | PF_U | PF_PK);
	xlate(user_va, GACC_WRITE, &rc); /* supervisor write: only with CR0.WP */
	assert_int_equal(rc, 0);
	vcpu.regs.cr0 |= CR0_WP;
	xlate(user_va, GACC_WRITE, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_W | PF_PK);
	pkru = 3u << 6; /* other keys: no effect on key 5 */
	xlate(user_va, GACC_USER | GACC_WRITE, &rc);
	assert_int_equal(rc, 0);
	/* supervisor pages: PKRS under CR4.PKS, PKRU never */
	pkru = ~0u;
	vcpu.pkrs = 1u << 6; /* AD for key 3 */
	xlate(sup_va, 0, &rc);
	assert_int_equal(rc, 0);
	vcpu.regs.cr4 |= CR4_PKS;
	xlate(sup_va, 0, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_PK);
	vcpu.pkrs = 2u << 6; /* WD */
	xlate(sup_va, 0, &rc);
	assert_int_equal(rc, 0);
	xlate(sup_va, GACC_WRITE, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_W | PF_PK);
}

/* A page table outside RAM reads all-ones, as on an empty bus: under PAE
 * that entry has reserved bits set, so the walk faults with RSVD. */
TEST(page_table_outside_ram_reads_all_ones)
{
	unsigned rc;
	pae();
	put64(0x21000 + 5 * 8, (RAM_SIZE + 0x1000) | P | W); /* PT beyond RAM */
	xlate(0x40a00000, 0, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_RSVD);
	/* 32-bit paging without PSE: an all-ones PDE points at the table at
	 * 0xfffff000, whose all-ones PTE maps 0xfffff000. */
	memset(&vcpu.regs, 0, sizeof(vcpu.regs));
	vcpu.regs.seg[SEG_CS].attr = 0xc9b;
	vcpu.regs.cr0 = 0x11 | CR0_PG;
	vcpu.regs.cr3 = RAM_SIZE + 0x1000;
	assert_int_equal(xlate(0x1234, GACC_WRITE, &rc), 0xfffff234);
	assert_int_equal(rc, 0);
	vcpu.regs.cr4 = CR4_PSE; /* then the all-ones PDE is a 4 MiB page with bit 21 set */
	xlate(0x1234, 0, &rc);
	assert_int_equal(rc, 0x100 | PF_P | PF_RSVD);
}

TEST(gpa_to_hva_bounds)
{
	assert_ptr_equal(gpa_to_hva(&vm, 0, RAM_SIZE), ram);
	assert_ptr_equal(gpa_to_hva(&vm, RAM_SIZE - 4, 4), ram + RAM_SIZE - 4);
	assert_null(gpa_to_hva(&vm, RAM_SIZE - 4, 5));
	assert_null(gpa_to_hva(&vm, RAM_SIZE, 1));
	assert_null(gpa_to_hva(&vm, 8, UINT64_MAX));
}

#define RAM_HIGH_BASE 0x100000000ull

/* RAM split around the MMIO hole: the first part at GPA 0, the rest at
 * 4 GiB, one host block; a range may not run from one into the other. */
TEST(gpa_to_hva_split_ram)
{
	vm.mem.n = 0;
	assert_int_equal(mem_add(&vm.mem, &(struct mem_region){ 0, RAM_SIZE / 4, (uint64_t)(uintptr_t)ram,
								REGION_RAM, 0, "ram" }), 0);
	assert_int_equal(mem_add(&vm.mem, &(struct mem_region){ RAM_HIGH_BASE, RAM_SIZE / 4 * 3,
								(uint64_t)(uintptr_t)(ram + RAM_SIZE / 4),
								REGION_RAM, 0, "ram above 4G" }), 0);
	assert_ptr_equal(gpa_to_hva(&vm, 0, RAM_SIZE / 4), ram);
	assert_null(gpa_to_hva(&vm, RAM_SIZE / 4, 1)); /* the hole */
	assert_null(gpa_to_hva(&vm, RAM_SIZE / 4 - 4, 8));
	assert_ptr_equal(gpa_to_hva(&vm, RAM_HIGH_BASE, 8), ram + RAM_SIZE / 4);
	assert_ptr_equal(gpa_to_hva(&vm, RAM_HIGH_BASE + RAM_SIZE / 4 * 3 - 8, 8), ram + RAM_SIZE - 8);
	assert_null(gpa_to_hva(&vm, RAM_HIGH_BASE + RAM_SIZE / 4 * 3 - 8, 9));
	assert_null(gpa_to_hva(&vm, RAM_HIGH_BASE - 8, 16));
	assert_true(gpa_is_ram(&vm, RAM_HIGH_BASE));
	assert_false(gpa_is_ram(&vm, RAM_HIGH_BASE - 1));
	assert_false(gpa_is_ram(&vm, RAM_HIGH_BASE + RAM_SIZE / 4 * 3));
}

/* An access across the end of RAM: its RAM bytes in RAM, the rest on the
 * bus (all-ones in, dropped out). */
TEST(gpa_access_straddles_the_end_of_ram)
{
	uint32_t val = 0x44332211;
	put32(RAM_SIZE - 4, 0xaabbccdd);
	gpa_access(&vcpu, RAM_SIZE - 2, &val, 4, false);
	assert_int_equal(val, 0xffffaabb);
	assert_int_equal(bus_reads, 1);
	assert_int_equal(bus_last_addr, RAM_SIZE);
	assert_int_equal(bus_last_size, 2);
	val = 0x44332211;
	gpa_access(&vcpu, RAM_SIZE - 2, &val, 4, true);
	assert_int_equal(get32(RAM_SIZE - 4), 0x2211ccdd);
	assert_int_equal(bus_writes, 1);
	assert_int_equal(bus_last_val, 0x4433);
	/* three bytes off RAM: byte by byte */
	gpa_access(&vcpu, RAM_SIZE + 1, &val, 3, true);
	assert_int_equal(bus_writes, 4);
}

TEST(linear_copies_cross_pages_and_fault_with_pf)
{
	uint8_t buf[16];
	two_level();
	vcpu.regs.cr4 = CR4_PSE;
	put32(0x11000 + 3 * 4, 0x202000 | P | W); /* 0x403000 follows 0x402000 */
	memcpy(ram + 0x201ff8, "ABCDEFGH", 8);
	memcpy(ram + 0x202000, "IJKLMNOP", 8);
	assert_int_equal(guest_linear_rw(&vcpu, 0x00402ff8, buf, 16, 0, true), 0);
	assert_memory_equal(buf, "ABCDEFGHIJKLMNOP", 16);
	assert_int_equal(injected_vector, -1);
	/* the next page is absent: #PF with CR2 = the address, not-present,
	 * write, and nothing written to the first page */
	memcpy(buf, "xxxxxxxx", 8);
	put32(0x11000 + 3 * 4, 0x202000 | P | W);
	assert_int_equal(guest_linear_rw(&vcpu, 0x00403ffc, buf, 8, GACC_WRITE, true), -1);
	assert_int_equal(injected_vector, 14);
	assert_int_equal(injected_error, PF_W);
	assert_int_equal(vcpu.regs.cr2, 0x00404000);
	assert_memory_equal(ram + 0x202ffc, "\0\0\0\0", 4);
	/* not injecting */
	injected_vector = -1;
	assert_int_equal(guest_linear_rw(&vcpu, 0x00c00000, buf, 4, 0, false), -1);
	assert_int_equal(injected_vector, -1);
}

TEST(fetch_reads_ram_only)
{
	uint8_t b[4];
	vcpu.regs.cr0 = 0x11;
	assert_int_equal(guest_fetch(&vcpu, 0x1000, b, 4), 0);
	assert_int_equal(guest_fetch(&vcpu, RAM_SIZE - 2, b, 4), -1);
	assert_int_equal(bus_reads, 0);
}

/* --- segmentation ------------------------------------------------------------ */

static int seg(int s, uint64_t off, uint64_t len, bool write, uint64_t *lin)
{
	injected_vector = -1;
	return guest_seg_linear(&vcpu, s, off, len, write, lin);
}

TEST(segment_limits_and_types)
{
	uint64_t lin;
	vcpu.regs.cr0 = 0x11;
	vcpu.regs.seg[SEG_ES] = (struct segment){ .sel = 0x10, .attr = 0x493, .limit = 0xfff, .base = 0x1000 };
	assert_int_equal(seg(SEG_ES, 0xffc, 4, true, &lin), 0);
	assert_int_equal(lin, 0x1ffc);
	assert_int_equal(seg(SEG_ES, 0xffd, 4, true, &lin), -1); /* last byte past the limit */
	assert_int_equal(injected_vector, 13);
	assert_int_equal(injected_error, 0);
	vcpu.regs.seg[SEG_ES].attr = 0x491; /* read-only data */
	assert_int_equal(seg(SEG_ES, 0, 1, false, &lin), 0);
	assert_int_equal(seg(SEG_ES, 0, 1, true, &lin), -1);
	vcpu.regs.seg[SEG_ES].attr = 0x49a; /* execute/read code: readable, not writable */
	assert_int_equal(seg(SEG_ES, 0, 1, false, &lin), 0);
	assert_int_equal(seg(SEG_ES, 0, 1, true, &lin), -1);
	vcpu.regs.seg[SEG_ES].attr = 0x498; /* execute-only code */
	assert_int_equal(seg(SEG_ES, 0, 1, false, &lin), -1);
	vcpu.regs.seg[SEG_ES] = (struct segment){ 0 }; /* null */
	assert_int_equal(seg(SEG_ES, 0, 1, false, &lin), -1);
	assert_int_equal(injected_vector, 13);
	vcpu.regs.seg[SEG_SS] = (struct segment){ .attr = 0x493, .limit = 0xff };
	assert_int_equal(seg(SEG_SS, 0x100, 1, false, &lin), -1);
	assert_int_equal(injected_vector, 12); /* #SS through SS */
}

TEST(segment_expand_down_and_wrap)
{
	uint64_t lin;
	vcpu.regs.cr0 = 0x11;
	/* expand-down, 16-bit (B=0): valid offsets limit+1 .. 0xffff */
	vcpu.regs.seg[SEG_DS] = (struct segment){ .attr = 0x97, .limit = 0xfff, .base = 0x10000 };
	assert_int_equal(seg(SEG_DS, 0xfff, 1, true, &lin), -1);
	assert_int_equal(seg(SEG_DS, 0x1000, 2, true, &lin), 0);
	assert_int_equal(seg(SEG_DS, 0xffff, 2, true, &lin), -1);
	/* flat 4 GiB segment with a base: the sum wraps at 4 GiB */
	vcpu.regs.seg[SEG_DS] = (struct segment){ .attr = 0xc93, .limit = 0xffffffff, .base = 0x1000 };
	assert_int_equal(seg(SEG_DS, 0xfffff000, 4, false, &lin), 0);
	assert_int_equal(lin, 0);
	/* real mode: no type checks, the cached limit still applies */
	vcpu.regs.cr0 = 0x10;
	vcpu.regs.seg[SEG_DS] = (struct segment){ .attr = 0x0, .limit = 0xffff, .base = 0x20000 };
	assert_int_equal(seg(SEG_DS, 0xfffe, 2, true, &lin), 0);
	assert_int_equal(lin, 0x2fffe);
	assert_int_equal(seg(SEG_DS, 0xffff, 2, true, &lin), -1);
}

TEST(segment_64_bit_mode)
{
	uint64_t lin;
	vcpu.regs.cr0 = 0x80000011;
	vcpu.regs.efer = EFER_LMA | EFER_LME;
	vcpu.regs.seg[SEG_CS].attr = 0xa9b; /* L */
	vcpu.regs.seg[SEG_ES] = (struct segment){ .attr = 0, .base = 0x5000 }; /* base and type ignored */
	vcpu.regs.seg[SEG_FS] = (struct segment){ .attr = 0x93, .base = 0x7000 };
	assert_int_equal(seg(SEG_ES, 0x100, 4, true, &lin), 0);
	assert_int_equal(lin, 0x100);
	assert_int_equal(seg(SEG_FS, 0x100, 4, false, &lin), 0);
	assert_int_equal(lin, 0x7100);
	assert_int_equal(seg(SEG_ES, 0x8000000000000000ull, 1, true, &lin), -1);
	assert_int_equal(injected_vector, 13);
	assert_int_equal(seg(SEG_SS, 0x00007ffffffffffeull, 4, false, &lin), -1); /* last byte non-canonical */
	assert_int_equal(injected_vector, 12);
	assert_int_equal(seg(SEG_ES, 0xffff800000000000ull, 8, false, &lin), 0);
}

TEST(alignment_check_at_cpl3)
{
	uint64_t lin;
	vcpu.regs.cr0 = 0x11 | CR0_AM;
	vcpu.regs.rflags = 1u << 18;
	vcpu.regs.cpl = 3;
	vcpu.regs.seg[SEG_DS] = (struct segment){ .attr = 0xcf3, .limit = 0xffffffff };
	assert_int_equal(seg(SEG_DS, 0x1002, 4, false, &lin), -1);
	assert_int_equal(injected_vector, 17);
	assert_int_equal(seg(SEG_DS, 0x1004, 4, false, &lin), 0);
	vcpu.regs.cpl = 0;
	assert_int_equal(seg(SEG_DS, 0x1002, 4, false, &lin), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
		T(paging_off_is_identity_truncated_to_32_bits),
		T(two_level_4k_and_4m_pages),
		T(two_level_without_pse_ignores_the_large_bit),
		T(two_level_pse36_and_reserved_bits),
		T(write_protect_user_and_error_codes),
		T(accessed_and_dirty_flags),
		T(smap_smep_and_nx),
		T(pae_4k_and_2m_pages),
		T(pae_pdpte_is_not_a_write_check),
		T(pae_reserved_bits),
		T(long_mode_4k_2m_1g_pages),
		T(long_mode_reserved_bits),
		T(protection_keys),
		T(page_table_outside_ram_reads_all_ones),
		T(gpa_to_hva_bounds),
		T(gpa_to_hva_split_ram),
		T(gpa_access_straddles_the_end_of_ram),
		T(linear_copies_cross_pages_and_fault_with_pf),
		T(fetch_reads_ram_only),
		T(segment_limits_and_types),
		T(segment_expand_down_and_wrap),
		T(segment_64_bit_mode),
		T(alignment_check_at_cpl3),
	};
	return cmocka_run_group_tests_name("gmem", tests, NULL, NULL);
}
