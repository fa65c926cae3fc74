/* SPDX-License-Identifier: MIT */
/*
 * vmx-insns: the VMX instructions raise #UD at the instruction itself, the
 * twin of svm-insns.  Outside VMX operation (CR4.VMXE = 0, which is where
 * any guest of Petrel is: CPUID hides VMX and CR4.VMXE cannot be set) the
 * SDM (vol. 3C ch. 31, each instruction's exceptions) gives #UD for every
 * one of them: VMXON because CR4.VMXE = 0, the others because the CPU is
 * not in VMX operation; VMCALL included, until Petrel defines a hypercall.
 * Under Petrel's VMX backend each of them is a VM exit that Petrel answers
 * with #UD.  Also checked: CPUID.1:ECX.VMX is clear, so setting CR4.VMXE
 * raises #GP (a reserved bit; checked on Intel CPUs only); and under Petrel on an Intel CPU,
 * IA32_FEATURE_CONTROL reads locked with VMX off and refuses writes.
 */
#include "guest.h"

const char guest_name[] = "vmx-insns";

/* One instruction then ret; its label is the address the #UD must report.
 * Memory operands are [eax] = 0 and register operands eax: the #UD comes
 * before any operand is used.  Encodings from the SDM, as bytes. */
#define SNIPPET(name, bytes)                                                  \
	void name(void *);                                                    \
	__asm__(".pushsection .text\n.globl " #name "\n" #name ":\n"          \
		"xor %eax, %eax\n"                                            \
		".globl " #name "_insn\n" #name "_insn: .byte " bytes "\n"    \
		"ret\n.popsection");                                          \
	extern char name##_insn[]

SNIPPET(snip_vmxon, "0xf3, 0x0f, 0xc7, 0x30");    /* vmxon (%eax) */
SNIPPET(snip_vmxoff, "0x0f, 0x01, 0xc4");
SNIPPET(snip_vmlaunch, "0x0f, 0x01, 0xc2");
SNIPPET(snip_vmresume, "0x0f, 0x01, 0xc3");
SNIPPET(snip_vmcall, "0x0f, 0x01, 0xc1");
SNIPPET(snip_vmfunc, "0x0f, 0x01, 0xd4");
SNIPPET(snip_vmptrld, "0x0f, 0xc7, 0x30");        /* vmptrld (%eax) */
SNIPPET(snip_vmptrst, "0x0f, 0xc7, 0x38");        /* vmptrst (%eax) */
SNIPPET(snip_vmclear, "0x66, 0x0f, 0xc7, 0x30");  /* vmclear (%eax) */
SNIPPET(snip_vmread, "0x0f, 0x78, 0xc0");         /* vmread %eax, %eax */
SNIPPET(snip_vmwrite, "0x0f, 0x79, 0xc0");        /* vmwrite %eax, %eax */
SNIPPET(snip_invept, "0x66, 0x0f, 0x38, 0x80, 0x00");  /* invept (%eax), %eax */
SNIPPET(snip_invvpid, "0x66, 0x0f, 0x38, 0x81, 0x00"); /* invvpid (%eax), %eax */

struct insn {
	const char *name;
	void (*run)(void *);
	const char *at;
};

static const struct insn insns[] = {
	{ "vmxon", snip_vmxon, snip_vmxon_insn },
	{ "vmxoff", snip_vmxoff, snip_vmxoff_insn },
	{ "vmlaunch", snip_vmlaunch, snip_vmlaunch_insn },
	{ "vmresume", snip_vmresume, snip_vmresume_insn },
	{ "vmcall", snip_vmcall, snip_vmcall_insn },
	{ "vmfunc", snip_vmfunc, snip_vmfunc_insn },
	{ "vmptrld", snip_vmptrld, snip_vmptrld_insn },
	{ "vmptrst", snip_vmptrst, snip_vmptrst_insn },
	{ "vmclear", snip_vmclear, snip_vmclear_insn },
	{ "vmread", snip_vmread, snip_vmread_insn },
	{ "vmwrite", snip_vmwrite, snip_vmwrite_insn },
	{ "invept", snip_invept, snip_invept_insn },
	{ "invvpid", snip_invvpid, snip_invvpid_insn },
};

#define CPUID1_ECX_VMX   (1u << 5)
#define CR4_VMXE         (1u << 13)
#define MSR_FEATURE_CONTROL 0x3au
#define FC_LOCKED        (1ull << 0)
#define FC_VMX           (3ull << 1) /* VMX inside and outside SMX */

static void set_vmxe(void *arg)
{
	(void)arg;
	write_cr4(read_cr4() | CR4_VMXE);
}

static bool vendor_intel(void)
{
	struct cpuid_regs r = cpuid(0);
	return r.ebx == 0x756e6547 && r.edx == 0x49656e69 && r.ecx == 0x6c65746e; /* GenuineIntel */
}

static void check_feature_control(bool petrel)
{
	uint64_t fc = 0;
	int rd, wr;

	if (!petrel) {
		report_skip("feature-control-locked", "not under Petrel: the firmware decides");
		return;
	}
	if (!vendor_intel()) {
		rd = rdmsr_safe(MSR_FEATURE_CONTROL, &fc);
		report(rd == VEC_GP, "feature-control-absent: RDMSR 0x3a on a non-Intel CPU: %s",
		       exc_name(rd));
		return;
	}
	rd = rdmsr_safe(MSR_FEATURE_CONTROL, &fc);
	report(rd == EXC_NONE && (fc & FC_LOCKED) && !(fc & FC_VMX),
	       "feature-control-locked: RDMSR 0x3a %s, value 0x%llx", exc_name(rd), fc);
	wr = wrmsr_safe(MSR_FEATURE_CONTROL, FC_LOCKED | FC_VMX);
	rdmsr_safe(MSR_FEATURE_CONTROL, &fc);
	report(wr == VEC_GP && !(fc & FC_VMX), "feature-control-write-gp: WRMSR 0x3a %s, then 0x%llx",
	       exc_name(wr), fc);
}

void guest_main(void)
{
	bool petrel = under_petrel(), vmx = cpuid(1).ecx & CPUID1_ECX_VMX;

	report(!petrel || !vmx, "vmx-hidden: CPUID.1:ECX 0x%x", cpuid(1).ecx);
	if (vmx) {
		report_skip("cr4-vmxe-gp", "CPUID shows VMX: CR4.VMXE may be set");
	} else if (!vendor_intel()) {
		/* Reserved on AMD too, but QEMU 7.2 TCG answers the write with
		 * an SVM exit (code -1) even outside a guest, forever. */
		report_skip("cr4-vmxe-gp", "not an Intel CPU");
	} else {
		struct exc_info x = exc_call(set_vmxe, 0);
		report(x.vector == VEC_GP && !(read_cr4() & CR4_VMXE),
		       "cr4-vmxe-gp: setting CR4.VMXE: %s, CR4 0x%x", exc_name(x.vector), read_cr4());
	}
	for (unsigned i = 0; i < ARRAY_SIZE(insns); i++) {
		const struct insn *in = &insns[i];
		struct exc_info x = exc_call(in->run, 0);
		report(x.vector == VEC_UD && x.eip == (uint32_t)in->at,
		       "%s-ud: %s at eip 0x%x, want #UD at %p", in->name, exc_name(x.vector), x.eip,
		       (void *)in->at);
	}
	check_feature_control(petrel);
}
