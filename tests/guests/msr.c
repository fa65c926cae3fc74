/* SPDX-License-Identifier: MIT */
/*
 * msr: MSRs a guest owns round-trip (write, read back, restore); MSRs it
 * must not touch raise #GP.  Under Petrel: the SVM MSRs (VM_CR, VM_HSAVE_PA)
 * are refused and EFER.SVME cannot be set.  An MSR no CPU has (0x12345678)
 * must #GP anywhere, except that QEMU TCG reads such MSRs as 0 (checked by
 * its "TCGTCGTCGTCG" signature, and then skipped).
 */
#include "guest.h"

const char guest_name[] = "msr";

#define MSR_VM_CR       0xC0010114u
#define MSR_VM_HSAVE_PA 0xC0010117u
#define MSR_BOGUS       0x12345678u

#define CPUID1_EDX_SEP   (1u << 11) /* SYSENTER MSRs */
#define CPUID1_EDX_PAT   (1u << 16)
#define EXT1_EDX_SYSCALL (1u << 11)
#define EXT1_EDX_LM      (1u << 29)
#define EXT1_ECX_SVM     (1u << 2)

enum need { SEP, PAT, SYSCALL, LM };

struct msr_case {
	uint32_t msr;
	const char *name;
	enum need need;
	uint64_t a, b; /* two values a CPU must keep; whichever differs from the old one is used */
};

/*
 * Values every implementation stores in full: canonical addresses, SYSENTER
 * ESP/EIP and SFMASK within 32 bits (AMD keeps only the low half of
 * SYSENTER_ESP/EIP), PAT bytes that are valid memory types (0, 1, 4-7).
 */
static const struct msr_case cases[] = {
	{ 0x174, "sysenter-cs", SEP, 0x10, 0x08 },
	{ 0x175, "sysenter-esp", SEP, 0x12345670, 0x0badf000 },
	{ 0x176, "sysenter-eip", SEP, 0x00401000, 0x76543210 },
	{ 0x277, "pat", PAT, 0x0005010400070106ull, 0x0406050100070406ull },
	{ 0xC0000081, "star", SYSCALL, 0x0023001012345678ull, 0x001b000887654321ull },
	{ 0xC0000082, "lstar", LM, 0xffffffff81234560ull, 0x00007fff00001000ull },
	{ 0xC0000083, "cstar", LM, 0xffff800000002000ull, 0x0000000012345000ull },
	{ 0xC0000084, "sfmask", LM, 0x00047700, 0x00000300 },
	{ 0xC0000100, "fs-base", LM, 0x00007f0012345000ull, 0xffff888000000000ull },
	{ 0xC0000101, "gs-base", LM, 0xffff888000001000ull, 0x00007f0000002000ull },
	{ 0xC0000102, "kernel-gs-base", LM, 0xffffc90000003000ull, 0x0000555500004000ull },
};

static bool has(enum need n)
{
	uint32_t edx1 = cpuid(1).edx, ext_edx = cpuid(0x80000001).edx;
	switch (n) {
	case SEP: return edx1 & CPUID1_EDX_SEP;
	case PAT: return edx1 & CPUID1_EDX_PAT;
	case SYSCALL: return ext_edx & (EXT1_EDX_SYSCALL | EXT1_EDX_LM);
	case LM: return ext_edx & EXT1_EDX_LM;
	}
	return false;
}

static void roundtrip(const struct msr_case *c)
{
	uint64_t old = 0, got = 0, after = 0;
	if (!has(c->need)) {
		report_skip(c->name, "CPUID does not advertise MSR 0x%x", c->msr);
		return;
	}
	int e_old = rdmsr_safe(c->msr, &old);
	uint64_t v = old == c->a ? c->b : c->a;
	int e_wr = wrmsr_safe(c->msr, v);
	int e_rd = rdmsr_safe(c->msr, &got);
	int e_restore = wrmsr_safe(c->msr, old);
	rdmsr_safe(c->msr, &after);
	bool ok = e_old == EXC_NONE && e_wr == EXC_NONE && e_rd == EXC_NONE && got == v &&
		  e_restore == EXC_NONE && after == old;
	report(ok, "%s: msr 0x%x old 0x%llx wrote 0x%llx read 0x%llx restored 0x%llx (%s/%s/%s/%s)",
	       c->name, c->msr, old, v, got, after, exc_name(e_old), exc_name(e_wr), exc_name(e_rd),
	       exc_name(e_restore));
}

static void expect_gp(uint32_t msr, const char *name)
{
	uint64_t v = 0;
	int rd = rdmsr_safe(msr, &v);
	report(rd == VEC_GP, "%s-rdmsr-gp: rdmsr 0x%x gave %s (value 0x%llx)", name, msr, exc_name(rd), v);
	int wr = wrmsr_safe(msr, 0);
	report(wr == VEC_GP, "%s-wrmsr-gp: wrmsr 0x%x gave %s", name, msr, exc_name(wr));
}

static bool on_qemu_tcg(void)
{
	struct cpuid_regs h = cpuid(0x40000000);
	return (cpuid(1).ecx & (1u << 31)) && h.ebx == 0x54474354 && h.ecx == 0x43544743 &&
	       h.edx == 0x47435447; /* "TCGTCGTCGTCG" */
}

static void check_refused(void)
{
	if (on_qemu_tcg()) {
		report_skip("bogus-msr-gp", "QEMU TCG reads unknown MSRs as 0 and ignores writes");
	} else {
		expect_gp(MSR_BOGUS, "bogus");
	}
	if (!under_petrel()) {
		report_skip("svm-msrs-gp", "VM_CR and VM_HSAVE_PA are refused by Petrel only");
		return;
	}
	expect_gp(MSR_VM_CR, "vm-cr");
	expect_gp(MSR_VM_HSAVE_PA, "vm-hsave-pa");
}

/* Under Petrel the guest never sees SVM: setting EFER.SVME is refused. */
static void check_efer_svme_petrel(void)
{
	uint64_t efer = rdmsr(MSR_EFER), after = 0;
	report(!(efer & EFER_SVME), "efer-svme-clear: EFER 0x%llx", efer);
	int e = wrmsr_safe(MSR_EFER, efer | EFER_SVME);
	rdmsr_safe(MSR_EFER, &after);
	report(e == VEC_GP, "efer-svme-gp: wrmsr EFER|SVME gave %s", exc_name(e));
	report(after == efer, "efer-svme-unchanged: EFER 0x%llx after, 0x%llx before", after, efer);
}

/* Natively, on a CPU with SVM, the bit must work (it is what the svm-insns
 * guest's native #UD checks rely on being clear). */
static void check_efer_svme_native(void)
{
	if (!(cpuid(0x80000001).ecx & EXT1_ECX_SVM)) {
		report_skip("efer-svme", "the CPU has no SVM");
		return;
	}
	uint64_t efer = rdmsr(MSR_EFER), on = 0, off = 0;
	int e_on = wrmsr_safe(MSR_EFER, efer | EFER_SVME);
	rdmsr_safe(MSR_EFER, &on);
	int e_off = wrmsr_safe(MSR_EFER, efer & ~EFER_SVME);
	rdmsr_safe(MSR_EFER, &off);
	wrmsr_safe(MSR_EFER, efer);
	report(e_on == EXC_NONE && (on & EFER_SVME) && e_off == EXC_NONE && !(off & EFER_SVME),
	       "efer-svme-native: set gave %s read 0x%llx, clear gave %s read 0x%llx",
	       exc_name(e_on), on, exc_name(e_off), off);
}

void guest_main(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		roundtrip(&cases[i]);
	check_refused();
	if (under_petrel())
		check_efer_svme_petrel();
	else
		check_efer_svme_native();
}
