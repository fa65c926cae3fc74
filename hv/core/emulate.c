/* SPDX-License-Identifier: MIT */
/*
 * Instructions the hypervisor must look at itself: the length of an
 * intercepted instruction when the CPU does not report it (SVM without nRIP
 * save), and the MOV forms a guest uses on MMIO, which arrive as nested page
 * faults with only the guest-physical address.
 */
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>
#include <petrel/x86_decode.h>

#define CR0_PE 1ull
#define EFER_LMA (1ull << 10)
#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)

static enum x86_mode vcpu_mode(struct vcpu *v)
{
	uint16_t cs;

	vcpu_need(v, REG_CR | REG_SEGS); /* before reading CS: VMX fetches segments lazily */
	cs = v->regs.seg[SEG_CS].attr;
	if (!(v->regs.cr0 & CR0_PE))
		return X86_MODE_16;
	if ((v->regs.efer & EFER_LMA) && (cs & SEG_ATTR_L))
		return X86_MODE_64;
	return (cs & SEG_ATTR_DB) ? X86_MODE_32 : X86_MODE_16;
}

/* Fetches the bytes at CS:RIP (stopping early at a page the guest cannot
 * reach) and decodes them.  0, or -1 after reporting why. */
static int decode_at_rip(struct vcpu *v, struct x86_insn *insn)
{
	uint8_t bytes[X86_MAX_INSN_LEN];
	size_t avail = 0;
	uint64_t pc;
	enum x86_mode mode = vcpu_mode(v);

	pc = v->regs.seg[SEG_CS].base + v->regs.rip;
	if (mode != X86_MODE_64)
		pc = (uint32_t)pc;
	while (avail < sizeof(bytes)) {
		size_t chunk = MIN(sizeof(bytes) - avail, PAGE_SIZE - ((pc + avail) & (PAGE_SIZE - 1)));
		if (guest_peek_virt(v, pc + avail, bytes + avail, chunk))
			break;
		avail += chunk;
	}
	if (x86_decode(bytes, avail, mode, insn) != X86_DECODE_OK) {
		pr_err("vm %s: cannot decode the instruction at 0x%llx (%zu bytes readable)\n",
		       v->vm->name, (unsigned long long)pc, avail);
		vcpu_ops->dump(v);
		return -1;
	}
	return 0;
}

void vcpu_skip_insn(struct vcpu *v)
{
	uint8_t len = v->exit.insn_len;
	struct x86_insn insn;

	if (!len) {
		if (decode_at_rip(v, &insn)) {
			vm_stop(v->vm, "an intercepted instruction could not be decoded");
			return;
		}
		len = insn.len;
	}
	v->regs.rip += len;
	vcpu_dirty(v, REG_RIP);
}

/* One MMIO access: decode the MOV at RIP, do the access on the VM's bus
 * (an address no device claims reads all-ones, writes vanish), update the
 * register, move past the instruction. */
int emulate_mmio(struct vcpu *v)
{
	struct x86_insn insn;
	struct x86_mmio m;
	uint64_t val, *reg;

	if (decode_at_rip(v, &insn))
		return -1;
	if (x86_mmio_classify(&insn, &m)) {
		pr_err("vm %s: MMIO at 0x%llx by an instruction Petrel does not emulate (opcode %02x)\n",
		       v->vm->name, (unsigned long long)v->exit.mmio.gpa, insn.opcode);
		return -1;
	}
	reg = m.reg >= 0 ? &v->regs.gpr[m.reg] : NULL;
	if (m.write) {
		val = x86_mmio_store_value(reg ? *reg : 0, &m);
		io_bus_access(&v->vm->bus, true, v, v->exit.mmio.gpa, m.size, true, &val);
	} else {
		io_bus_access(&v->vm->bus, true, v, v->exit.mmio.gpa, m.size, false, &val);
		*reg = x86_mmio_merge(*reg, val, &m);
	}
	v->regs.rip += insn.len;
	vcpu_dirty(v, REG_RIP);
	return 0;
}
