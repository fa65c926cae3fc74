/* SPDX-License-Identifier: MIT */
/* hv/core/cr.c: CR0, CR4 and EFER writes checked as the CPU checks them
 * (SDM vol. 2B MOV CRn, vol. 3A §4.4.1, §10.8.5; AMD APM vol. 2 §3.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <petrel/cr.h>

#define TEST(name) static void name(void **state __attribute__((unused)))

static const struct cr_caps caps = {
	.cr4_allowed = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE |
		       CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_PCIDE | CR4_OSXSAVE | CR4_FSGSBASE |
		       CR4_SMEP,
	.efer_allowed = EFER_SCE | EFER_LME | EFER_NXE,
	.maxphyaddr = 40,
};

/* Flat protected mode, paging off. */
static struct cr_state pm(void)
{
	return (struct cr_state){ .cr0 = CR0_PE | CR0_ET, .cr4 = 0, .efer = 0 };
}

/* 64-bit mode: paging, PAE, LME, LMA, CS.L. */
static struct cr_state lm64(void)
{
	return (struct cr_state){ .cr0 = CR0_PE | CR0_ET | CR0_PG, .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA,
				  .cs_l = true };
}

static int cr0(struct cr_state s, uint64_t val, struct cr_state *out, uint32_t *fx)
{
	return cr0_check(&s, &caps, val, out, fx);
}

static int cr4(struct cr_state s, uint64_t val, struct cr_state *out, uint32_t *fx)
{
	return cr4_check(&s, &caps, val, out, fx);
}

static int efer(struct cr_state s, uint64_t val, struct cr_state *out, uint32_t *fx)
{
	return efer_check(&s, &caps, val, out, fx);
}

TEST(cr0_faults)
{
	struct cr_state o;
	uint32_t fx;
	assert_int_equal(cr0(pm(), CR0_PE | CR0_NW, &o, &fx), -1);          /* NW without CD */
	assert_int_equal(cr0(pm(), CR0_PG, &o, &fx), -1);                   /* PG without PE */
	assert_int_equal(cr0(pm(), CR0_PE | (1ull << 32), &o, &fx), -1);    /* 63:32 */
	assert_int_equal(cr0(pm(), CR0_PE | CR0_CD | CR0_NW, &o, &fx), 0);
}

TEST(cr0_reserved_low_bits_ignored_et_reads_one)
{
	struct cr_state o;
	uint32_t fx;
	assert_int_equal(cr0(pm(), CR0_PE | (1ull << 8), &o, &fx), 0);
	assert_int_equal(o.cr0, CR0_PE | CR0_ET);
}

/* The SVM triple-fault finding: LME set in legacy mode is legal; turning
 * paging on then needs PAE, else #GP. */
TEST(paging_on_with_lme_needs_pae)
{
	struct cr_state s = pm(), o;
	uint32_t fx;
	s.efer = EFER_LME;
	assert_int_equal(cr0(s, CR0_PE | CR0_PG, &o, &fx), -1);
	s.cr4 = CR4_PAE;
	assert_int_equal(cr0(s, CR0_PE | CR0_PG, &o, &fx), 0);
	assert_true(o.efer & EFER_LMA);
	assert_true(fx & CR_MODE);
	assert_true(fx & CR_FLUSH_TLB);
	assert_false(fx & CR_LOAD_PDPTES); /* IA-32e mode has no PDPTE registers */
	s.cs_l = true; /* activating IA-32e mode with CS.L set */
	assert_int_equal(cr0(s, CR0_PE | CR0_PG, &o, &fx), -1);
}

TEST(leaving_long_mode)
{
	struct cr_state s = lm64(), o;
	uint32_t fx;
	assert_int_equal(cr0(s, CR0_PE | CR0_ET, &o, &fx), -1); /* not from 64-bit code */
	s.cs_l = false;                                         /* compatibility mode */
	assert_int_equal(cr0(s, CR0_PE | CR0_ET, &o, &fx), 0);
	assert_false(o.efer & EFER_LMA);
	assert_true(o.efer & EFER_LME);
	assert_true(fx & CR_MODE);
	s.cr4 |= CR4_PCIDE; /* never with PCIDE */
	assert_int_equal(cr0(s, CR0_PE | CR0_ET, &o, &fx), -1);
}

TEST(pae_paging_loads_pdptes)
{
	struct cr_state s = pm(), o;
	uint32_t fx;
	s.cr4 = CR4_PAE;
	assert_int_equal(cr0(s, CR0_PE | CR0_PG, &o, &fx), 0);
	assert_true(fx & CR_LOAD_PDPTES);
	assert_false(o.efer & EFER_LMA);
	s = o; /* CD changes reload them too; TS does not */
	assert_int_equal(cr0(s, s.cr0 | CR0_CD, &o, &fx), 0);
	assert_true(fx & CR_LOAD_PDPTES);
	assert_int_equal(cr0(s, s.cr0 | CR0_TS, &o, &fx), 0);
	assert_int_equal(fx, 0);
	assert_int_equal(cr4(s, CR4_PAE | CR4_PGE, &o, &fx), 0);
	assert_true(fx & CR_LOAD_PDPTES);
	assert_int_equal(cr4(s, CR4_PAE | CR4_OSFXSR, &o, &fx), 0);
	assert_int_equal(fx, 0);
}

TEST(cr4_faults)
{
	struct cr_state s = pm(), o;
	uint32_t fx;
	assert_int_equal(cr4(s, CR4_VMXE, &o, &fx), -1);     /* VMX is hidden */
	assert_int_equal(cr4(s, CR4_SMAP, &o, &fx), -1);     /* not in this CPUID */
	assert_int_equal(cr4(s, 1ull << 40, &o, &fx), -1);   /* reserved */
	assert_int_equal(cr4(s, CR4_PCIDE, &o, &fx), -1);    /* outside IA-32e mode */
	s = lm64();
	assert_int_equal(cr4(s, 0, &o, &fx), -1);            /* PAE off in IA-32e mode */
	assert_int_equal(cr4(s, CR4_PAE | CR4_LA57, &o, &fx), -1);
	s.cr3 = 0x1001;
	assert_int_equal(cr4(s, CR4_PAE | CR4_PCIDE, &o, &fx), -1); /* CR3[11:0] != 0 */
	s.cr3 = 0x1000;
	assert_int_equal(cr4(s, CR4_PAE | CR4_PCIDE, &o, &fx), 0);
	assert_true(fx & CR_FLUSH_TLB);
}

TEST(efer_checks)
{
	struct cr_state s = pm(), o;
	uint32_t fx;
	assert_int_equal(efer(s, EFER_SVME, &o, &fx), -1);  /* SVM is hidden */
	assert_int_equal(efer(s, EFER_FFXSR, &o, &fx), -1); /* not in this CPUID */
	assert_int_equal(efer(s, EFER_TCE, &o, &fx), -1);
	assert_int_equal(efer(s, 1ull << 1, &o, &fx), -1);  /* reserved */
	assert_int_equal(efer(s, EFER_LME | EFER_NXE, &o, &fx), 0);
	assert_int_equal(o.efer, EFER_LME | EFER_NXE);
	assert_true(fx & CR_FLUSH_TLB); /* NXE changes translations */
	assert_int_equal(efer(s, EFER_LMA, &o, &fx), 0); /* LMA is the CPU's: ignored */
	assert_int_equal(o.efer, 0);
	s.cr0 |= CR0_PG; /* LME cannot change with paging on */
	assert_int_equal(efer(s, EFER_LME, &o, &fx), -1);
	s = lm64();
	assert_int_equal(efer(s, EFER_LMA, &o, &fx), -1); /* clearing LME in long mode */
	assert_int_equal(efer(s, EFER_LME | EFER_SCE, &o, &fx), 0);
	assert_int_equal(o.efer, EFER_LME | EFER_LMA | EFER_SCE);
}

TEST(pdpte_reserved_bits)
{
	assert_false(cr_pdpte_bad(0x1000 | 1, 40));
	assert_false(cr_pdpte_bad(~0ull & ~1ull, 40)); /* not present: anything goes */
	assert_true(cr_pdpte_bad(0x1000 | 1 | 2, 40));  /* R/W is reserved in a PDPTE */
	assert_true(cr_pdpte_bad(0x1000 | 1 | 0x80, 40));
	assert_true(cr_pdpte_bad((1ull << 40) | 1, 40));
	assert_false(cr_pdpte_bad((1ull << 40) | 1, 41));
	assert_true(cr_pdpte_bad((1ull << 63) | 1, 52)); /* no XD in a PDPTE */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cr0_faults),
		cmocka_unit_test(cr0_reserved_low_bits_ignored_et_reads_one),
		cmocka_unit_test(paging_on_with_lme_needs_pae),
		cmocka_unit_test(leaving_long_mode),
		cmocka_unit_test(pae_paging_loads_pdptes),
		cmocka_unit_test(cr4_faults),
		cmocka_unit_test(efer_checks),
		cmocka_unit_test(pdpte_reserved_bits),
	};
	return cmocka_run_group_tests_name("cr", tests, NULL, NULL);
}
