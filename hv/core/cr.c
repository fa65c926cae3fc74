/* SPDX-License-Identifier: MIT */
/*
 * CR0, CR4 and EFER writes, checked as the CPU does (petrel/cr.h).  The
 * backends let the hardware do this where it can; these run for the writes
 * that exit: MOV CR0/CR4, CLTS and LMSW under SVM (Petrel intercepts them
 * there, see svm.c for why), CR0/CR4 bits the host owns under VMX, and
 * every WRMSR to EFER.
 */
#include <petrel/cr.h>

/* Bits of CR0 and CR4 whose change flushes the TLB; and the ones that
 * reload the PDPTEs when PAE paging is in use afterwards (SDM vol. 3A
 * §4.4.1, §4.10.4.1). */
#define CR0_XLATE (CR0_PE | CR0_PG | CR0_WP)
#define CR0_PDPTE (CR0_PG | CR0_CD | CR0_NW)
#define CR4_XLATE (CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_LA57)
#define CR4_PDPTE (CR4_PSE | CR4_PAE | CR4_PGE | CR4_SMEP)

static uint32_t pdpte_effect(const struct cr_state *after, bool changed)
{
	return changed && cr_pae_legacy(after) ? CR_LOAD_PDPTES : 0;
}

/*
 * MOV to CR0 (also CLTS and LMSW, which the caller turns into a value).
 * #GP(0): bits 63:32 set; NW without CD; PG without PE; PG set with
 * EFER.LME but without CR4.PAE, or while CS.L is set; PG cleared in 64-bit
 * mode or with CR4.PCIDE set.  Reserved bits of 31:0 are ignored and ET
 * always reads 1.  Setting PG with LME enters IA-32e mode (LMA = 1);
 * clearing it leaves (LMA = 0).
 */
int cr0_check(const struct cr_state *s, const struct cr_caps *c, uint64_t val, struct cr_state *out,
	      uint32_t *effects)
{
	bool pg_on = (val & CR0_PG) && !(s->cr0 & CR0_PG);
	bool pg_off = !(val & CR0_PG) && (s->cr0 & CR0_PG);
	uint64_t changed;

	(void)c;
	if ((val >> 32) || ((val & CR0_NW) && !(val & CR0_CD)) || ((val & CR0_PG) && !(val & CR0_PE)))
		return -1;
	if (pg_on && (s->efer & EFER_LME) && (!(s->cr4 & CR4_PAE) || s->cs_l))
		return -1;
	if (pg_off && (((s->efer & EFER_LMA) && s->cs_l) || (s->cr4 & CR4_PCIDE)))
		return -1;
	*out = *s;
	out->cr0 = (val & CR0_DEFINED) | CR0_ET;
	changed = out->cr0 ^ s->cr0;
	*effects = 0;
	if (pg_on && (s->efer & EFER_LME)) {
		out->efer |= EFER_LMA;
		*effects |= CR_MODE;
	} else if (pg_off && (s->efer & EFER_LMA)) {
		out->efer &= ~EFER_LMA;
		*effects |= CR_MODE;
	}
	if (changed & CR0_XLATE)
		*effects |= CR_FLUSH_TLB;
	*effects |= pdpte_effect(out, changed & CR0_PDPTE);
	return 0;
}

/*
 * MOV to CR4.  #GP(0): a bit the guest's CPUID does not offer (VMXE
 * always); PAE cleared or LA57 changed in IA-32e mode; PCIDE set outside
 * IA-32e mode or with CR3[11:0] not zero.
 */
int cr4_check(const struct cr_state *s, const struct cr_caps *c, uint64_t val, struct cr_state *out,
	      uint32_t *effects)
{
	bool lma = s->efer & EFER_LMA;
	uint64_t changed = val ^ s->cr4;

	if (val & ~c->cr4_allowed)
		return -1;
	if (lma && (!(val & CR4_PAE) || (changed & CR4_LA57)))
		return -1;
	if ((val & CR4_PCIDE) && !(s->cr4 & CR4_PCIDE) && (!lma || (s->cr3 & 0xfff)))
		return -1;
	*out = *s;
	out->cr4 = val;
	*effects = (changed & CR4_XLATE) ? CR_FLUSH_TLB : 0;
	*effects |= pdpte_effect(out, changed & CR4_PDPTE);
	return 0;
}

/*
 * WRMSR to EFER.  #GP(0): a bit the guest's CPUID does not offer (SVME
 * always: SVM is hidden), or LME changed while paging is on.  LMA is the
 * CPU's: what is written there is ignored, the current value kept.
 */
int efer_check(const struct cr_state *s, const struct cr_caps *c, uint64_t val, struct cr_state *out,
	       uint32_t *effects)
{
	if (val & ~(c->efer_allowed | EFER_LMA))
		return -1;
	if ((s->cr0 & CR0_PG) && ((val ^ s->efer) & EFER_LME))
		return -1;
	*out = *s;
	out->efer = (val & ~EFER_LMA) | (s->efer & EFER_LMA);
	*effects = ((out->efer ^ s->efer) & EFER_NXE) ? CR_FLUSH_TLB : 0;
	return 0;
}

bool cr_pdpte_bad(uint64_t pdpte, uint8_t maxphyaddr)
{
	uint64_t reserved = 0x1e6ull; /* bits 2:1 and 8:5 */

	if (maxphyaddr < 64)
		reserved |= ~0ull << maxphyaddr;
	return (pdpte & 1) && (pdpte & reserved);
}
