/* SPDX-License-Identifier: MIT */
/* hv/core/gmem.c: guest-physical → host, and the guest page-table walker
 * (2-level with PSE, PAE, 4-level long mode) on page tables built in a fake
 * guest RAM.  vcpu_need() and vcpu_inject_exception() are stubbed: the
 * register block is filled by the test, and an injected #PF is recorded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <petrel/vm.h>

#define TEST(name) static void name(void **state __attribute__((unused)))
#define RAM_SIZE (64u << 20)

static struct vm vm;
static struct vcpu vcpu;
static int injected_vector = -1;
static uint32_t injected_error;

void vcpu_need(struct vcpu *v, uint32_t groups) { (void)v; (void)groups; }
void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	(void)v;
	(void)has_error;
	injected_vector = vector;
	injected_error = error;
}

static uint8_t *ram;

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	vm.ram_host = (uint64_t)(uintptr_t)ram;
	vm.ram_size = RAM_SIZE;
	vm.ram_low = RAM_SIZE;
	vcpu.vm = &vm;
	injected_vector = -1;
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

#define P 1u
#define W 2u
#define U 4u
#define PS 0x80u
#define CR0_PG (1ull << 31)
#define CR0_WP (1ull << 16)

static uint64_t xlate(uint64_t gva, bool write, int *rc)
{
	uint64_t gpa = 0xdeadbeef;
	*rc = gva_to_gpa(&vcpu, gva, write, &gpa);
	return gpa;
}

TEST(paging_off_is_identity_truncated_to_32_bits)
{
	int rc;
	vcpu.regs.cr0 = 0x11;
	assert_int_equal(xlate(0x12345678, false, &rc), 0x12345678);
	assert_int_equal(rc, 0);
	assert_int_equal(xlate(0x100012345ull, false, &rc), 0x12345);
}

/* 2-level: PD at 0x10000, PT at 0x11000; 4 KiB page 0x00401000 → 0x200000,
 * 4 MiB page at 0x00800000 → 0x01000000 (PSE), read-only user page. */
static void two_level(void)
{
	vcpu.regs.cr0 = 0x11 | CR0_PG | CR0_WP;
	vcpu.regs.cr3 = 0x10000;
	put32(0x10000 + 1 * 4, 0x11000 | P | W);
	put32(0x11000 + 1 * 4, 0x200000 | P | W);
	put32(0x11000 + 2 * 4, 0x201000 | P | U); /* read-only, user */
	put32(0x10000 + 2 * 4, 0x01000000 | P | W | PS);
}

TEST(two_level_4k_and_4m_pages)
{
	int rc;
	two_level();
	vcpu.regs.cr4 = 1u << 4; /* PSE */
	assert_int_equal(xlate(0x00401abc, false, &rc), 0x200abc);
	assert_int_equal(rc, 0);
	assert_int_equal(xlate(0x00912345, true, &rc), 0x01112345);
	assert_int_equal(rc, 0);
	xlate(0x00c00000, false, &rc); /* PDE 3 not present */
	assert_int_equal(rc, -1);
}

TEST(two_level_without_pse_ignores_the_large_bit)
{
	int rc;
	two_level();
	vcpu.regs.cr4 = 0; /* PS in a PDE means nothing: it points at a table */
	put32(0x01000000 + 0x112 * 4, 0x300000 | P);
	assert_int_equal(xlate(0x00912345, false, &rc), 0x300345);
	assert_int_equal(rc, 0);
}

TEST(write_protect_and_user_checks)
{
	int rc;
	two_level();
	xlate(0x00402000, true, &rc); /* RO page, CR0.WP=1: supervisor write faults */
	assert_int_equal(rc, -1);
	vcpu.regs.cr0 &= ~CR0_WP;
	xlate(0x00402000, true, &rc); /* WP=0: supervisor may write */
	assert_int_equal(rc, 0);
	vcpu.regs.cpl = 3;
	xlate(0x00401000, false, &rc); /* user on a supervisor-only path */
	assert_int_equal(rc, -1);
}

/* PAE: PDPT at 0x20020 (32-byte aligned), PD at 0x21000, PT at 0x22000. */
TEST(pae_4k_and_2m_pages)
{
	int rc;
	vcpu.regs.cr0 = 0x11 | CR0_PG;
	vcpu.regs.cr4 = 1u << 5;
	vcpu.regs.cr3 = 0x20020;
	put64(0x20020 + 1 * 8, 0x21000 | P);            /* 1-2 GiB */
	put64(0x21000 + 3 * 8, 0x22000 | P | W);        /* + 6 MiB */
	put64(0x22000 + 5 * 8, 0x345000 | P | W);
	put64(0x21000 + 4 * 8, 0x00a00000 | P | W | PS); /* + 8 MiB, 2 MiB page */
	assert_int_equal(xlate(0x40605123, false, &rc), 0x345123);
	assert_int_equal(rc, 0);
	assert_int_equal(xlate(0x408fffff, false, &rc), 0x00afffff);
	assert_int_equal(rc, 0);
	xlate(0x80000000, false, &rc); /* PDPTE 2 absent */
	assert_int_equal(rc, -1);
}

/* Long mode: PML4 0x30000, PDPT 0x31000, PD 0x32000, PT 0x33000. */
TEST(long_mode_4k_2m_1g_pages)
{
	int rc;
	vcpu.regs.cr0 = 0x11 | CR0_PG;
	vcpu.regs.cr4 = 1u << 5;
	vcpu.regs.efer = 1u << 10; /* LMA */
	vcpu.regs.cr3 = 0x30000;
	put64(0x30000 + 0x1ff * 8, 0x31000 | P | W); /* 0xffffff80_00000000 */
	put64(0x31000 + 0 * 8, 0x32000 | P | W);
	put64(0x32000 + 1 * 8, 0x33000 | P | W);
	put64(0x33000 + 2 * 8, 0x456000 | P | W);
	put64(0x32000 + 2 * 8, 0x00c00000 | P | W | PS);  /* 2 MiB */
	put64(0x31000 + 1 * 8, 0x40000000ull | P | PS);   /* 1 GiB, beyond RAM: fine to translate */
	assert_int_equal(xlate(0xffffff8000202777ull, false, &rc), 0x456777);
	assert_int_equal(rc, 0);
	assert_int_equal(xlate(0xffffff8000412345ull, false, &rc), 0x00c12345);
	assert_int_equal(rc, 0);
	assert_int_equal(xlate(0xffffff8076543210ull, false, &rc), 0x76543210);
	assert_int_equal(rc, 0);
	xlate(0xffffff8000412345ull, false, &rc);
	xlate(0x0000000000001000ull, false, &rc); /* PML4 0 absent */
	assert_int_equal(rc, -1);
}

TEST(page_table_outside_ram_fails_cleanly)
{
	int rc;
	vcpu.regs.cr0 = 0x11 | CR0_PG;
	vcpu.regs.cr3 = RAM_SIZE + 0x1000; /* not RAM: the walk cannot read it */
	xlate(0x1000, false, &rc);
	assert_int_equal(rc, -1);
}

TEST(gpa_to_hva_bounds)
{
	assert_ptr_equal(gpa_to_hva(&vm, 0, RAM_SIZE), ram);
	assert_ptr_equal(gpa_to_hva(&vm, RAM_SIZE - 4, 4), ram + RAM_SIZE - 4);
	assert_null(gpa_to_hva(&vm, RAM_SIZE - 4, 5));
	assert_null(gpa_to_hva(&vm, RAM_SIZE, 1));
	assert_null(gpa_to_hva(&vm, 8, UINT64_MAX));
}

/* RAM split around the MMIO hole: the first part at GPA 0, the rest at
 * 4 GiB, one host block; a range may not run from one into the other. */
TEST(gpa_to_hva_split_ram)
{
	vm.ram_low = RAM_SIZE / 4;
	vm.ram_host_high = vm.ram_host + RAM_SIZE / 4;
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

TEST(virtual_copies_cross_pages_and_fault_with_pf)
{
	uint8_t buf[16];
	two_level();
	vcpu.regs.cr4 = 1u << 4;
	put32(0x11000 + 3 * 4, 0x202000 | P | W); /* 0x403000 follows 0x402000 */
	memcpy(ram + 0x201ff8, "ABCDEFGH", 8);
	memcpy(ram + 0x202000, "IJKLMNOP", 8);
	assert_int_equal(guest_read_virt(&vcpu, 0x00402ff8, buf, 16), 0);
	assert_memory_equal(buf, "ABCDEFGHIJKLMNOP", 16);
	assert_int_equal(injected_vector, -1);
	/* the next page is absent: #PF with CR2 = the address, not-present, write */
	assert_int_equal(guest_write_virt(&vcpu, 0x00403ffc, buf, 8), -1);
	assert_int_equal(injected_vector, 14);
	assert_int_equal(injected_error, 2);
	assert_int_equal(vcpu.regs.cr2, 0x00404000);
	/* peeking never injects */
	injected_vector = -1;
	assert_int_equal(guest_peek_virt(&vcpu, 0x00c00000, buf, 4), -1);
	assert_int_equal(injected_vector, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
		T(paging_off_is_identity_truncated_to_32_bits),
		T(two_level_4k_and_4m_pages),
		T(two_level_without_pse_ignores_the_large_bit),
		T(write_protect_and_user_checks),
		T(pae_4k_and_2m_pages),
		T(long_mode_4k_2m_1g_pages),
		T(page_table_outside_ram_fails_cleanly),
		T(gpa_to_hva_bounds),
		T(gpa_to_hva_split_ram),
		T(virtual_copies_cross_pages_and_fault_with_pf),
	};
	return cmocka_run_group_tests_name("gmem", tests, NULL, NULL);
}
