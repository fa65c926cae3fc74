/* SPDX-License-Identifier: MIT */
/*
 * Control registers and EFER for the exits that reach the core: MOV to or
 * from CRn, CLTS and LMSW (EXIT_CR), and WRMSR to EFER (msr.c).  Every
 * write is checked as the CPU checks it (cr.c); a bad one raises #GP and
 * changes nothing.  What the CPU does besides (the PAE PDPTE registers,
 * IA-32e mode, the TLB) happens here too; each backend then writes the
 * neutral registers into its VMCB or VMCS.
 */
#include <arch/cpu.h>
#include <petrel/cr.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>

#include "core.h"
#include <petrel/x86_decode.h>

#define GP 13

/* What the guest's CPUID lets it set: a feature it does not see makes its
 * CR4 or EFER bit reserved (SDM vol. 2B MOV CRn: "#GP if an attempt is
 * made to write 1 to any reserved bit").  VMXE and SVME never. */
void cr_caps_init(struct vcpu *v)
{
	struct cpuid_regs l1 = guest_cpuid(v, 1, 0), l7 = guest_cpuid(v, 7, 0);
	struct cpuid_regs e0 = guest_cpuid(v, 0x80000000u, 0), e1 = guest_cpuid(v, 0x80000001u, 0);
	struct cr_caps *c = &v->cr_caps;
	static const struct { uint8_t reg, bit; uint64_t cr4; } map[] = {
		{ 3, 1, CR4_VME | CR4_PVI }, { 3, 2, CR4_DE }, { 3, 3, CR4_PSE }, { 3, 4, CR4_TSD },
		{ 3, 6, CR4_PAE }, { 3, 7, CR4_MCE }, { 3, 13, CR4_PGE }, { 3, 24, CR4_OSFXSR },
		{ 3, 25, CR4_OSXMMEXCPT }, { 2, 6, CR4_SMXE }, { 2, 17, CR4_PCIDE }, { 2, 26, CR4_OSXSAVE },
		{ 7, 0, CR4_FSGSBASE }, { 7, 7, CR4_SMEP }, { 7, 20, CR4_SMAP }, { 8, 2, CR4_UMIP },
		{ 8, 3, CR4_PKE }, { 8, 16, CR4_LA57 }, { 8, 31, CR4_PKS },
	};

	c->cr4_allowed = CR4_PCE;
	for (uint32_t i = 0; i < ARRAY_SIZE(map); i++) {
		uint32_t r = map[i].reg == 3 ? l1.edx : map[i].reg == 2 ? l1.ecx :
			     map[i].reg == 7 ? l7.ebx : l7.ecx;
		if (r & (1u << map[i].bit))
			c->cr4_allowed |= map[i].cr4;
	}
	c->efer_allowed = EFER_SCE;
	if (e0.eax >= 0x80000001u) {
		c->efer_allowed |= ((e1.edx & (1u << 29)) ? EFER_LME : 0) | ((e1.edx & (1u << 20)) ? EFER_NXE : 0) |
				   ((e1.edx & (1u << 25)) ? EFER_FFXSR : 0) | ((e1.ecx & (1u << 17)) ? EFER_TCE : 0);
		c->page_1g = e1.edx & (1u << 26);
	}
	c->maxphyaddr = e0.eax >= 0x80000008u ? (uint8_t)guest_cpuid(v, 0x80000008u, 0).eax : 36;
}

static struct cr_state state_of(struct vcpu *v)
{
	vcpu_need(v, REG_CR | REG_SEGS);
	return (struct cr_state){ .cr0 = v->regs.cr0, .cr3 = v->regs.cr3, .cr4 = v->regs.cr4,
				  .efer = v->regs.efer, .cs_l = v->regs.seg[SEG_CS].attr & (1u << 9) };
}

/* The four PAE PDPTEs at CR3[31:5], as MOV to CR3, CR0 or CR4 loads them
 * (SDM vol. 3A §4.4.1): -1 (#GP) if a present one sets a reserved bit.
 * Outside RAM they read all-ones, so they fault. */
static int load_pdptes(struct vcpu *v, uint64_t cr3, uint64_t out[4])
{
	const uint64_t *p = gpa_to_hva(v->vm, cr3 & 0xffffffe0ull, 32);

	for (uint32_t i = 0; i < 4; i++) {
		out[i] = p ? p[i] : ~0ull;
		if (cr_pdpte_bad(out[i], v->cr_caps.maxphyaddr))
			return -1;
	}
	return 0;
}

/* A checked write takes effect: registers, PDPTEs, TLB.  -1 if loading
 * the PDPTEs faults (then nothing changes). */
static int apply(struct vcpu *v, const struct cr_state *n, uint32_t effects)
{
	uint64_t pdpte[4];

	if ((effects & CR_LOAD_PDPTES) && load_pdptes(v, n->cr3, pdpte))
		return -1;
	v->regs.cr0 = n->cr0;
	v->regs.cr3 = n->cr3;
	v->regs.cr4 = n->cr4;
	v->regs.efer = n->efer;
	vcpu_dirty(v, REG_CR);
	if (effects & CR_LOAD_PDPTES) {
		memcpy(v->regs.pdpte, pdpte, sizeof(pdpte));
		v->valid |= REG_PDPTE;
		vcpu_dirty(v, REG_PDPTE);
	}
	if (effects & (CR_FLUSH_TLB | CR_MODE | CR_LOAD_PDPTES))
		vcpu_ops->flush_tlb(v);
	return 0;
}

static int write_cr(struct vcpu *v, int (*check)(const struct cr_state *, const struct cr_caps *, uint64_t,
						 struct cr_state *, uint32_t *), uint64_t val)
{
	struct cr_state s = state_of(v), n;
	uint32_t effects;

	if (check(&s, &v->cr_caps, val, &n, &effects) || apply(v, &n, effects))
		return -1;
	return 0;
}

int vcpu_write_efer(struct vcpu *v, uint64_t val)
{
	return write_cr(v, efer_check, val);
}

/* MOV to CR3: in IA-32e mode, bits from MAXPHYADDR up (bit 63 aside, the
 * PCID no-flush hint) raise #GP; with PAE paging outside it, the PDPTEs
 * load (and may fault).  Outside IA-32e mode only bits 31:0 exist. */
static int write_guest_cr3(struct vcpu *v, uint64_t val)
{
	struct cr_state s = state_of(v), n = s;
	uint64_t reserved = ((1ull << 63) - 1) & ~((1ull << v->cr_caps.maxphyaddr) - 1);

	if (s.efer & EFER_LMA) {
		if (val & reserved)
			return -1;
		val &= ~(1ull << 63);
	} else {
		val = (uint32_t)val;
	}
	n.cr3 = val;
	return apply(v, &n, CR_FLUSH_TLB | (cr_pae_legacy(&s) ? CR_LOAD_PDPTES : 0));
}

/* CR8 is the TPR's priority class (SDM vol. 3A §10.8.6.1); bits 63:4 are
 * reserved. */
static int write_cr8(struct vcpu *v, uint64_t val)
{
	if (val >> 4)
		return -1;
	if (v->apic)
		v->apic_ops->set_tpr(v->apic, (uint8_t)(val << 4));
	else
		v->cr8 = (uint8_t)val;
	return 0;
}

static uint64_t read_cr(struct vcpu *v, uint8_t cr)
{
	vcpu_need(v, REG_CR);
	switch (cr) {
	case 0: return v->regs.cr0;
	case 3: return v->regs.cr3;
	case 4: return v->regs.cr4;
	default: return v->apic ? v->apic_ops->get_tpr(v->apic) >> 4 : v->cr8;
	}
}

/* SVM without decode assists says only "a write to CR0" (or CR4): the
 * instruction at RIP says which form and which register.  0, 1 when a
 * fault on LMSW's memory operand was injected, -1 if it is none of them. */
static int decode_cr(struct vcpu *v)
{
	struct x86_insn in;
	uint8_t reg, rm;

	if (vcpu_decode(v, &in) || in.opmap != 1)
		return -1;
	v->exit.insn_len = in.len;
	reg = (uint8_t)(X86_MODRM_REG(in.modrm) | ((in.rex & 4) << 1));
	rm = (uint8_t)(X86_MODRM_RM(in.modrm) | ((in.rex & 1) << 3));
	if ((in.opcode == 0x22 || in.opcode == 0x20) && reg == v->exit.cr.cr) {
		v->exit.cr.op = in.opcode == 0x22 ? CR_MOV_TO : CR_MOV_FROM;
		v->exit.cr.gpr = (int8_t)rm;
		return 0;
	}
	if (in.opcode == 0x06 && v->exit.cr.cr == 0) {
		v->exit.cr.op = CR_CLTS;
		return 0;
	}
	if (in.opcode != 0x01 || !in.has_modrm || X86_MODRM_REG(in.modrm) != 6 || v->exit.cr.cr != 0)
		return -1;
	v->exit.cr.op = CR_LMSW;
	if (X86_MODRM_MOD(in.modrm) == 3) {
		v->exit.cr.lmsw = (uint16_t)v->regs.gpr[rm];
		return 0;
	}
	uint64_t off, lin;
	int seg;
	if (x86_mem_operand(&in, v->regs.gpr, v->regs.rip + in.len, &off, &seg) ||
	    guest_seg_linear(v, seg, off, 2, false, &lin) ||
	    guest_linear_rw(v, lin, &v->exit.cr.lmsw, 2, v->regs.cpl == 3 ? GACC_USER : 0, true))
		return 1;
	return 0;
}

static bool long64(struct vcpu *v)
{
	vcpu_need(v, REG_CR | REG_SEGS);
	return (v->regs.efer & EFER_LMA) && (v->regs.seg[SEG_CS].attr & (1u << 9));
}

/* The value a CR0 write stores: MOV's source (32 bits outside 64-bit
 * mode), CLTS clearing TS, LMSW loading bits 3:0 but never clearing PE. */
static uint64_t cr_source(struct vcpu *v)
{
	const struct exit_req *e = &v->exit;
	uint64_t cr0 = v->regs.cr0;

	switch (e->cr.op) {
	case CR_CLTS: return cr0 & ~CR0_TS;
	case CR_LMSW: return (cr0 & ~0xfull) | (e->cr.lmsw & 0xf) | (cr0 & CR0_PE);
	default: return long64(v) ? v->regs.gpr[e->cr.gpr] : (uint32_t)v->regs.gpr[e->cr.gpr];
	}
}

void handle_cr(struct vcpu *v)
{
	struct exit_req *e = &v->exit;
	int rc = 0;

	vcpu_need(v, REG_CR | REG_SEGS);
	if (e->cr.gpr < 0 && e->cr.op != CR_CLTS && e->cr.op != CR_LMSW) {
		rc = decode_cr(v);
		if (rc > 0)
			return; /* #PF on LMSW's operand */
		if (rc < 0) {
			vm_stop(v->vm, "a control-register exit on an instruction that is not MOV CRn, CLTS or LMSW");
			return;
		}
	}
	if (e->cr.op == CR_MOV_FROM) {
		v->regs.gpr[e->cr.gpr] = read_cr(v, e->cr.cr);
		vcpu_dirty(v, REG_RIP); /* RAX and RSP live there on SVM */
		vcpu_skip_insn(v);
		return;
	}
	uint64_t val = cr_source(v);
	switch (e->cr.cr) {
	case 0: rc = write_cr(v, cr0_check, val); break;
	case 3: rc = write_guest_cr3(v, val); break;
	case 4: rc = write_cr(v, cr4_check, val); break;
	case 8: rc = write_cr8(v, val); break;
	default: rc = -1; break;
	}
	if (rc) {
		vcpu_inject_exception(v, GP, true, 0);
		return;
	}
	vcpu_skip_insn(v);
}
