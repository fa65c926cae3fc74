/* SPDX-License-Identifier: MIT */
/*
 * Debugging a guest: breakpoints, watchpoints, single step and the stops
 * they cause (petrel/debug.h).  The protocol is gdbstub.c's; this file
 * knows nothing of it.
 *
 * What a debugger wants of each vCPU is written into its struct
 * vcpu_debug while the VM is paused; the vCPU's own CPU applies it before
 * the next entry (run.c: apply_debug, vcpu_ops->set_debug).  A stop is
 * recorded by the vCPU that met it, in its exit, and the VM paused; the
 * debugger sees it once every vCPU is out (debug_stopped).
 */
#include <arch/cpu.h>
#include <petrel/debug.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>
#include <petrel/x86_decode.h>

#include "core.h"

#define INT3 0xcc
#define BP_VECTOR 3
#define DB_VECTOR 1
#define DR7_RESERVED_1 0x400ull

struct sw_bp {
	bool used;
	uint64_t lin, gpa; /* where GDB put it, and the byte of RAM it is */
	uint8_t orig;
};

struct hw_bp {
	bool used;
	enum debug_hw_type type;
	uint64_t lin;
	uint32_t len;
};

struct vm_debug {
	const void *owner; /* the debugger's session, NULL: none */
	struct sw_bp sw[DEBUG_SW_BREAKPOINTS];
	struct hw_bp hw[DEBUG_HW_SLOTS];
	struct debug_stop stop; /* why STOP_NONE: running */
};

static struct vm_debug dbg_of[MAX_VMS];

static struct vm_debug *of(const struct vm *vm)
{
	return &dbg_of[vm->id];
}

/* --- attach, stop, resume -------------------------------------------------- */

int debug_attach(struct vm *vm, const void *owner)
{
	struct vm_debug *d = of(vm);

	if (d->owner && d->owner != owner)
		return -1;
	d->owner = owner;
	debug_stop_now(vm, STOP_ATTACH, 0);
	return 0;
}

bool debug_attached(const struct vm *vm, const void *owner)
{
	return of(vm)->owner == owner;
}

bool debug_held(const struct vm *vm)
{
	return of(vm)->owner != NULL;
}

void debug_stop_now(struct vm *vm, enum debug_stop_why why, uint32_t vcpu)
{
	struct vm_debug *d = of(vm);

	spin_lock(&vm->lock);
	if (d->stop.why == STOP_NONE)
		d->stop = (struct debug_stop){ .why = why, .vcpu = vcpu };
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpu[i].dbg.step) { /* a step in flight ends where it is */
			vm->vcpu[i].dbg.step = false;
			vm->vcpu[i].dbg.changed = true;
		}
	spin_unlock(&vm->lock);
	vm_pause(vm);
}

bool debug_stopped(struct vm *vm, struct debug_stop *out)
{
	struct vm_debug *d = of(vm);

	if (d->stop.why == STOP_NONE)
		return false;
	run_fetch_paused_here();
	if (!vm_is_paused(vm))
		return false;
	*out = d->stop;
	return true;
}

/* DR7 for the slots in use: local enable, R/W and LEN of each. */
static uint64_t dr7_of(const struct vm_debug *d)
{
	uint64_t dr7 = DR7_RESERVED_1;

	for (unsigned i = 0; i < DEBUG_HW_SLOTS; i++) {
		const struct hw_bp *h = &d->hw[i];
		uint64_t len = h->len == 8 ? 2 : h->len - 1; /* 1, 2, 4, 8 bytes: 0, 1, 3, 2 */
		if (!h->used)
			continue;
		dr7 |= (1ull << (i * 2)) | ((uint64_t)h->type << (16 + i * 4)) |
		       ((h->type == HW_EXEC ? 0 : len) << (18 + i * 4));
	}
	return dr7;
}

/* Each vCPU's wishes from the VM's breakpoints; applied before it runs. */
static void update_vcpus(struct vm *vm, int step)
{
	struct vm_debug *d = of(vm);
	bool sw = false, hw = false;
	uint64_t dr7 = dr7_of(d);

	for (unsigned i = 0; i < DEBUG_SW_BREAKPOINTS; i++)
		sw |= d->sw[i].used;
	for (unsigned i = 0; i < DEBUG_HW_SLOTS; i++)
		hw |= d->hw[i].used;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu_debug *vd = &vm->vcpu[i].dbg;
		vd->int3 = sw;
		vd->hw = hw;
		vd->dr7 = dr7;
		for (unsigned s = 0; s < DEBUG_HW_SLOTS; s++)
			vd->dr[s] = d->hw[s].used ? d->hw[s].lin : 0;
		vd->step = (int)i == step;
		vd->changed = true;
	}
}

void debug_resume(struct vm *vm, int step)
{
	struct vm_debug *d = of(vm);

	spin_lock(&vm->lock);
	update_vcpus(vm, step);
	d->stop.why = STOP_NONE;
	spin_unlock(&vm->lock);
	if (step >= 0)
		vm_kick_all(vm); /* the VM stays paused; the stepping vCPU runs (run.c) */
	else
		vm_resume(vm);
}

static void put_back(struct vm *vm, struct sw_bp *b)
{
	uint8_t *p = gpa_to_hva(vm, b->gpa, 1);

	if (p && *p == INT3)
		*p = b->orig;
	b->used = false;
}

void debug_detach(struct vm *vm)
{
	struct vm_debug *d = of(vm);

	spin_lock(&vm->lock);
	for (unsigned i = 0; i < DEBUG_SW_BREAKPOINTS; i++)
		if (d->sw[i].used)
			put_back(vm, &d->sw[i]);
	memset(d->hw, 0, sizeof(d->hw));
	update_vcpus(vm, -1);
	d->stop.why = STOP_NONE;
	d->owner = NULL;
	spin_unlock(&vm->lock);
	vm_resume(vm);
}

void debug_vm_reset(struct vm *vm)
{
	struct vm_debug *d = of(vm);

	memset(d->sw, 0, sizeof(d->sw)); /* RAM was zeroed and loaded again */
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpu[i].dbg.hw_on = false; /* a fresh VMCB/VMCS, zeroed debug registers */
		vm->vcpu[i].dbg.int3 = false;
		vm->vcpu[i].dbg.changed = true;
	}
}

/* --- memory ---------------------------------------------------------------- */

/* The guest-physical address of lin through v's page tables, as a
 * supervisor read finds it, if that is RAM. */
static int lin_to_ram(struct vcpu *v, uint64_t lin, uint64_t *gpa)
{
	uint32_t err;

	if (v->regs.efer & EFER_LMA) {
		if (!gva_canonical(v, lin))
			return -1;
	} else if (lin > 0xffffffffull) {
		return -1;
	}
	if (gva_translate(v, lin, 0, gpa, &err) || !gpa_is_ram(v->vm, *gpa))
		return -1;
	return 0;
}

static struct sw_bp *sw_at_gpa(struct vm_debug *d, uint64_t gpa)
{
	for (unsigned i = 0; i < DEBUG_SW_BREAKPOINTS; i++)
		if (d->sw[i].used && d->sw[i].gpa == gpa)
			return &d->sw[i];
	return NULL;
}

/* A byte at a time: pages may map anywhere, breakpoints sit on bytes. */
static int mem_access(struct vcpu *v, uint64_t lin, uint8_t *buf, uint32_t len, bool write)
{
	struct vm_debug *d = of(v->vm);
	int rc = 0;

	spin_lock(&v->vm->lock);
	for (uint32_t i = 0; i < len && !rc; i++) {
		uint64_t gpa;
		uint8_t *p;
		struct sw_bp *b;
		if (lin_to_ram(v, (lin + i) & (v->regs.efer & EFER_LMA ? ~0ull : 0xffffffffull), &gpa) ||
		    !(p = gpa_to_hva(v->vm, gpa, 1))) {
			rc = -1;
			break;
		}
		b = sw_at_gpa(d, gpa);
		if (!write)
			buf[i] = b ? b->orig : *p;
		else if (b)
			b->orig = buf[i]; /* the INT3 stays; the byte under it changes */
		else
			*p = buf[i];
	}
	spin_unlock(&v->vm->lock);
	return rc;
}

int debug_read(struct vcpu *v, uint64_t lin, uint8_t *buf, uint32_t len)
{
	return mem_access(v, lin, buf, len, false);
}

int debug_write(struct vcpu *v, uint64_t lin, const uint8_t *buf, uint32_t len)
{
	return mem_access(v, lin, (uint8_t *)buf, len, true);
}

/* --- breakpoints ----------------------------------------------------------- */

int debug_sw_insert(struct vcpu *v, uint64_t lin)
{
	struct vm_debug *d = of(v->vm);
	struct sw_bp *free = NULL;
	uint64_t gpa;
	uint8_t *p;
	int rc = 0;

	spin_lock(&v->vm->lock);
	for (unsigned i = 0; i < DEBUG_SW_BREAKPOINTS; i++) {
		if (d->sw[i].used && d->sw[i].lin == lin)
			goto out; /* set already */
		if (!d->sw[i].used && !free)
			free = &d->sw[i];
	}
	if (lin_to_ram(v, lin, &gpa) || !(p = gpa_to_hva(v->vm, gpa, 1))) {
		rc = -1;
	} else if (sw_at_gpa(d, gpa)) {
		rc = -1; /* the same byte through another address: one INT3 is enough, two would lose it */
	} else if (!free) {
		rc = -2;
	} else {
		*free = (struct sw_bp){ .used = true, .lin = lin, .gpa = gpa, .orig = *p };
		*p = INT3;
	}
out:
	spin_unlock(&v->vm->lock);
	return rc;
}

int debug_sw_remove(struct vm *vm, uint64_t lin)
{
	struct vm_debug *d = of(vm);

	spin_lock(&vm->lock);
	for (unsigned i = 0; i < DEBUG_SW_BREAKPOINTS; i++)
		if (d->sw[i].used && d->sw[i].lin == lin)
			put_back(vm, &d->sw[i]);
	spin_unlock(&vm->lock);
	return 0;
}

int debug_hw_insert(struct vm *vm, enum debug_hw_type type, uint64_t lin, uint32_t len)
{
	struct vm_debug *d = of(vm);
	int rc = -2;

	if (type == HW_EXEC ? len > 1 : (len != 1 && len != 2 && len != 4 && len != 8) || (lin & (len - 1)))
		return -1; /* DR7 watches 1, 2, 4 or 8 aligned bytes */
	spin_lock(&vm->lock);
	for (unsigned i = 0; i < DEBUG_HW_SLOTS && rc; i++)
		if (!d->hw[i].used) {
			d->hw[i] = (struct hw_bp){ .used = true, .type = type, .lin = lin, .len = type == HW_EXEC ? 1 : len };
			rc = 0;
		}
	spin_unlock(&vm->lock);
	return rc;
}

int debug_hw_remove(struct vm *vm, enum debug_hw_type type, uint64_t lin, uint32_t len)
{
	struct vm_debug *d = of(vm);

	spin_lock(&vm->lock);
	for (unsigned i = 0; i < DEBUG_HW_SLOTS; i++) {
		struct hw_bp *h = &d->hw[i];
		if (h->used && h->type == type && h->lin == lin && (type == HW_EXEC || h->len == len)) {
			h->used = false;
			break;
		}
	}
	spin_unlock(&vm->lock);
	return 0;
}

/* --- the run loop's side --------------------------------------------------- */

/* Under the VM's lock, on v's CPU: the first stop since the resume is the
 * one reported; v stops stepping; every vCPU is held. */
static void stop(struct vcpu *v, enum debug_stop_why why, uint64_t addr, enum debug_hw_type type)
{
	struct vm_debug *d = of(v->vm);

	if (d->stop.why == STOP_NONE)
		d->stop = (struct debug_stop){ .why = why, .vcpu = v->id, .addr = addr, .hw_type = type };
	if (v->dbg.step) {
		v->dbg.step = false;
		v->dbg.changed = true;
	}
	vm_pause(v->vm);
}

void debug_step_done(struct vcpu *v)
{
	stop(v, STOP_STEP, 0, HW_EXEC);
}

static void guest_breakpoint(struct vcpu *v)
{
	struct vm_debug *d = of(v->vm);
	uint64_t lin;

	vcpu_need(v, REG_RIP | REG_CR | REG_SEGS);
	lin = vcpu_pc_linear(v);
	if (d->owner)
		for (unsigned i = 0; i < DEBUG_SW_BREAKPOINTS; i++)
			if (d->sw[i].used && d->sw[i].lin == lin) {
				stop(v, STOP_BREAKPOINT, lin, HW_EXEC);
				return;
			}
	/* The guest's own INT3 (Linux patches its text with them): the
	 * trap it would have taken, past the instruction. */
	v->regs.rip += 1;
	vcpu_dirty(v, REG_RIP);
	vcpu_inject_exception(v, BP_VECTOR, false, 0);
}

static void guest_debug(struct vcpu *v)
{
	struct vm_debug *d = of(v->vm);
	uint64_t bits = v->exit.debug.dr6;
	bool in_dr6 = v->exit.debug.in_dr6;

	if ((bits & DR6_BS) && v->dbg.step_on) {
		if (in_dr6)
			vcpu_ops->set_dr6(v, vcpu_ops->get_dr6(v) & ~DR6_BS);
		bits &= ~DR6_BS;
		if (v->dbg.step) {
			stop(v, STOP_STEP, 0, HW_EXEC);
			return;
		}
		/* the debugger let go while the step ran: the trap is nobody's */
	}
	if (v->dbg.hw_on && d->owner && (bits & DR6_B0_3)) {
		unsigned slot = (unsigned)__builtin_ctzll(bits & DR6_B0_3);
		const struct hw_bp *h = &d->hw[slot];
		if (in_dr6)
			vcpu_ops->set_dr6(v, vcpu_ops->get_dr6(v) & ~DR6_B0_3);
		stop(v, h->type == HW_EXEC ? STOP_HW_BREAK : STOP_WATCH, h->lin, h->type);
		return;
	}
	/* Not the debugger's: the guest's own #DB, with its DR6 bits. */
	if (!in_dr6)
		vcpu_ops->set_dr6(v, vcpu_ops->get_dr6(v) | bits);
	if (bits)
		vcpu_inject_exception(v, DB_VECTOR, false, 0);
}

/* INT n, intercepted on SVM while breakpoints are set, because QEMU 7.2
 * TCG checks that intercept and not #BP's for INT3.  INT3 is a
 * breakpoint; INT n and INTO are carried out as the CPU would. */
static void guest_soft_int(struct vcpu *v)
{
	struct x86_insn insn;
	uint8_t b[X86_MAX_INSN_LEN];
	enum x86_mode mode;
	size_t n = vcpu_insn_bytes(v, v->regs.rip, b, &mode);

	if (n >= 1 && b[0] == INT3) {
		guest_breakpoint(v);
		return;
	}
	if (vcpu_decode(v, &insn)) {
		vm_stop(v->vm, "an intercepted INT n could not be decoded");
		return;
	}
	v->regs.rip += insn.len;
	vcpu_dirty(v, REG_RIP);
	if (n >= 2 && insn.len >= 2 && b[insn.len - 2] == 0xcd)
		v->event = (struct vcpu_event){ .pending = true, .type = EV_SOFT_INTR, .vector = b[insn.len - 1] };
	else if (n >= 1 && b[insn.len - 1] == 0xce && (v->regs.rflags & (1u << 11)))
		vcpu_inject_exception(v, 4, false, 0); /* INTO with OF set: #OF */
}

void debug_exit(struct vcpu *v)
{
	if (v->exit.kind == EXIT_BREAKPOINT)
		guest_breakpoint(v);
	else if (v->exit.kind == EXIT_SOFT_INT)
		guest_soft_int(v);
	else
		guest_debug(v);
}
