/* SPDX-License-Identifier: MIT */
/*
 * cpuid: what the guest learns about its CPU.  Everywhere: the basic and
 * extended ranges exist and the features the other guests rely on (FPU,
 * TSC, MSR) are there.  Under Petrel's signature: the hypervisor bit, the
 * leaf range, and SVM and VMX hidden (Petrel does not offer nesting).
 */
#include "guest.h"

const char guest_name[] = "cpuid";

#define CPUID1_ECX_VMX        (1u << 5)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID1_EDX_NEEDED     ((1u << 0) | (1u << 4) | (1u << 5)) /* FPU, TSC, MSR */
#define EXT1_ECX_SVM          (1u << 2)

/* Three registers' 12 bytes as text; false if any byte is not printable. */
static bool regs_text(char out[13], uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t w[3] = { a, b, c };
	bool printable = true;
	memcpy(out, w, 12);
	for (int i = 0; i < 12; i++)
		if (out[i] < 0x20 || out[i] > 0x7e) {
			out[i] = '.';
			printable = false;
		}
	out[12] = '\0';
	return printable;
}

static void check_generic(void)
{
	struct cpuid_regs r0 = cpuid(0), r1 = cpuid(1), e0 = cpuid(0x80000000);
	char vendor[13];
	bool printable = regs_text(vendor, r0.ebx, r0.edx, r0.ecx); /* leaf 0 order: EBX EDX ECX */
	report(r0.eax >= 1 && printable, "basic-leaves: max leaf 0x%x vendor \"%s\"", r0.eax, vendor);
	report(e0.eax >= 0x80000001 && e0.eax < 0x80010000,
	       "extended-leaves: max extended leaf 0x%x", e0.eax);
	report((r1.edx & CPUID1_EDX_NEEDED) == CPUID1_EDX_NEEDED,
	       "features-fpu-tsc-msr: CPUID.1:EDX 0x%x", r1.edx);
}

/*
 * Petrel's checks run when leaf 0x40000000 carries its signature, judged on
 * the signature alone, so that a missing hypervisor bit is a failure here
 * rather than a silent "not Petrel".
 */
static void check_petrel(void)
{
	struct cpuid_regs h = cpuid(0x40000000), r1 = cpuid(1), e1 = cpuid(0x80000001);
	char sig[13];
	regs_text(sig, h.ebx, h.ecx, h.edx);
	bool petrel_sig = h.ebx == 0x72746550 && h.ecx == 0x56486c65 && h.edx == 0;
	if (!petrel_sig) {
		const char *why = "leaf 0x40000000 is not Petrel's (signature \"%s\")";
		report_skip("hypervisor-bit", why, sig);
		report_skip("petrel-leaf-range", why, sig);
		report_skip("svm-hidden", why, sig);
		report_skip("vmx-hidden", why, sig);
		return;
	}
	report(r1.ecx & CPUID1_ECX_HYPERVISOR, "hypervisor-bit: CPUID.1:ECX 0x%x", r1.ecx);
	report(h.eax >= 0x40000001 && h.eax < 0x40000100,
	       "petrel-leaf-range: max hypervisor leaf 0x%x", h.eax);
	report(!(e1.ecx & EXT1_ECX_SVM), "svm-hidden: CPUID 0x80000001:ECX 0x%x", e1.ecx);
	report(!(r1.ecx & CPUID1_ECX_VMX), "vmx-hidden: CPUID.1:ECX 0x%x", r1.ecx);
}

void guest_main(void)
{
	check_generic();
	check_petrel();
}
