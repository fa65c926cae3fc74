/* SPDX-License-Identifier: MIT */
/*
 * svm-insns: the SVM instructions raise #UD at the instruction itself.
 * Under Petrel the guest has no SVM (EFER.SVME reads 0, CPUID hides it), so
 * all eight must #UD, VMMCALL included until Petrel defines a hypercall.
 * Natively, with EFER.SVME = 0, the APM (vol. 3, each instruction's
 * exceptions) gives #UD too: VMRUN, VMLOAD, VMSAVE, INVLPGA always; STGI,
 * CLGI, SKINIT only when neither SKINIT nor SVM-Lock is advertised; VMMCALL
 * whenever no hypervisor intercepts it.
 */
#include "guest.h"

const char guest_name[] = "svm-insns";

/* Each snippet is one instruction then ret; its label is the address the
 * #UD must report.  Encodings from the APM, as bytes so any assembler does. */
#define SNIPPET(name, modrm)                                                      \
	void name(void *);                                                        \
	__asm__(".pushsection .text\n.globl " #name "\n" #name ":\n"              \
		"xor %eax, %eax\n" /* VMRUN & co. take rAX: point it at nothing */ \
		".globl " #name "_insn\n" #name "_insn: .byte 0x0f, 0x01, " #modrm "\n" \
		"ret\n.popsection");                                              \
	extern char name##_insn[]

SNIPPET(snip_vmrun, 0xd8);
SNIPPET(snip_vmmcall, 0xd9);
SNIPPET(snip_vmload, 0xda);
SNIPPET(snip_vmsave, 0xdb);
SNIPPET(snip_stgi, 0xdc);
SNIPPET(snip_clgi, 0xdd);
SNIPPET(snip_skinit, 0xde);
SNIPPET(snip_invlpga, 0xdf);

#define EXT1_ECX_SKINIT (1u << 12)
#define SVM_EDX_SVML    (1u << 2)

struct insn {
	const char *name;
	void (*run)(void *);
	const char *at;
	bool needs_no_skinit; /* natively #UD only without SKINIT / SVM-Lock */
};

static const struct insn insns[] = {
	{ "vmrun", snip_vmrun, snip_vmrun_insn, false },
	{ "vmmcall", snip_vmmcall, snip_vmmcall_insn, false },
	{ "vmload", snip_vmload, snip_vmload_insn, false },
	{ "vmsave", snip_vmsave, snip_vmsave_insn, false },
	{ "stgi", snip_stgi, snip_stgi_insn, true },
	{ "clgi", snip_clgi, snip_clgi_insn, true },
	{ "skinit", snip_skinit, snip_skinit_insn, true },
	{ "invlpga", snip_invlpga, snip_invlpga_insn, false },
};

/* SKINIT or SVM-Lock advertised: STGI/CLGI/SKINIT are live even with SVME=0. */
static bool skinit_or_svml(void)
{
	bool skinit = cpuid(0x80000001).ecx & EXT1_ECX_SKINIT;
	bool svml = cpuid(0x80000000).eax >= 0x8000000a && (cpuid(0x8000000a).edx & SVM_EDX_SVML);
	return skinit || svml;
}

void guest_main(void)
{
	bool petrel = under_petrel();
	uint64_t efer = rdmsr(MSR_EFER);
	report(!(efer & EFER_SVME), "efer-svme-clear: EFER 0x%llx", efer);
	bool live = !petrel && skinit_or_svml();
	for (unsigned i = 0; i < ARRAY_SIZE(insns); i++) {
		const struct insn *in = &insns[i];
		if (in->needs_no_skinit && live) {
			report_skip(in->name, "SKINIT or SVM-Lock advertised: may execute with EFER.SVME=0");
			continue;
		}
		struct exc_info x = exc_call(in->run, 0);
		report(x.vector == VEC_UD && x.eip == (uint32_t)in->at,
		       "%s-ud: %s at eip 0x%x, want #UD at %p", in->name, exc_name(x.vector), x.eip,
		       (void *)in->at);
	}
}
