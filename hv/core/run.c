/* SPDX-License-Identifier: MIT */
/*
 * The scheduler and run loop: each physical CPU has a run queue of the
 * vCPUs placed on it (guests.c: a module's cpu= list, else spread over the
 * CPUs) and runs them; a VM's vCPUs may be on several CPUs, and its
 * devices are then shared: everything that touches them runs under the
 * VM's lock.
 *
 * Before each entry: the timers that belong to this CPU fire, the INIT and
 * SIPI latched for its vCPUs are taken, and a pending interrupt is
 * injected if the guest can take it now, or an interrupt window is
 * requested.  A vCPU that halts waits without holding the CPU; when no
 * vCPU can run, the CPU sleeps until the earliest timer or a kick.
 *
 * Who runs is decided by time used, not by exits: each vCPU accumulates
 * the TSC ticks it held the CPU (in the guest and in its exits), and the
 * one with the least runs until it is a slice ahead of the next, halts,
 * stops or yields.  So two busy vCPUs alternate 10 ms slices whether they
 * exit often or never, and one that slept gets the CPU back within a
 * millisecond of waking unless it has used more than its share.  A vCPU
 * that spins on PAUSE (a lock whose holder may be waiting for this CPU)
 * yields its turn.  The host LAPIC timer (and on VMX the preemption
 * timer) bounds the time in a guest: the earliest timer, the end of the
 * slice.
 *
 * Kicks: whatever changes a vCPU's state from another place (an interrupt
 * or IPI, INIT, SIPI, a timer armed, its VM stopped or reset) kicks its
 * CPU (vcpu_kick): a flag, and a host IPI when that CPU is another one,
 * which takes it out of the guest or out of HLT to look again.
 */
#include <arch/cpu.h>
#include <arch/xstate.h>
#include <petrel/console.h>
#include <petrel/debug.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>
#include <petrel/vm.h>

#include "core.h"

#define MAX_VCPUS_PER_PCPU (MAX_VMS * MAX_VCPUS_PER_VM)
#define SLICE_US 10000
#define WAKE_GRAN_US 1000      /* a woken vCPU behind by more than this preempts */
#define CONSOLE_WAIT_US 10000  /* how long console input may wait at most */
#define REARM_SLACK_US 50      /* a host timer this much early is left as it is */
#define KICK_WAIT_US 1000      /* the longest a kick may wait where vcpu_ops->kick_may_wait */

struct pcpu_queue {
	struct vcpu *v[MAX_VCPUS_PER_PCPU];
	uint32_t nr;
	struct vcpu *cur;      /* the vCPU whose turn it is */
	uint64_t min_vruntime; /* never goes back: where a waking vCPU starts at the earliest */
	uint32_t kicked;       /* vcpu_kick() since this CPU last looked at its vCPUs */
	uint64_t armed;        /* host TSC the LAPIC timer fires at, 0: not armed */
	uint64_t idle_tsc;     /* TSC ticks spent asleep in idle() */
	/* Moving floating vCPUs (balance): a CPU with nothing to run says so
	 * (idle); one with floating vCPUs waiting for their turn says how
	 * many (waiting) and hands one to an idle CPU through its inbox. */
	uint32_t idle, waiting;
	bool can_run;          /* the backend is enabled here: it may take vCPUs */
	struct spinlock inbox_lock;
	struct vcpu *inbox[MAX_VCPUS_PER_PCPU];
	uint32_t inbox_nr;
};

static struct pcpu_queue queues[MAX_CPUS];
static volatile uint32_t run_go;
static uint64_t run_start_tsc; /* when the VMs started running */
static uint32_t first_guest_cpu; /* CPUs below it take no vCPU (cpu0=host) */
static volatile uint32_t vms_running; /* VMs not yet seen stopped */
uint32_t stats_interval_s; /* stats=N on the command line: print exit counts every N s */

/* CPU 0 prints every running VM's exit counts every stats_interval_s. */
static void periodic_stats(void)
{
	static uint64_t next;
	uint64_t now = rdtsc();

	if (!stats_interval_s || this_cpu()->cpu_id != 0 || now < next)
		return;
	if (next)
		for (uint32_t i = 0; i < MAX_VMS; i++)
			if (vms[i].state == VM_RUNNING)
				vm_print_stats(&vms[i]);
	next = now + tsc_hz * stats_interval_s;
}

int run_assign(struct vcpu *v, uint32_t pcpu, bool floats)
{
	struct pcpu_queue *q = &queues[pcpu];

	if (q->nr >= MAX_VCPUS_PER_PCPU)
		return -1;
	v->pcpu = pcpu;
	v->floats = floats;
	q->v[q->nr++] = v;
	if (v->id && (floats || v->vm->vcpu[0].floats || pcpu != v->vm->vcpu[0].pcpu))
		v->vm->spans_cpus = true;
	if (v->id == 0)
		__atomic_add_fetch(&vms_running, 1, __ATOMIC_RELAXED);
	return 0;
}

void run_start(uint32_t first)
{
	first_guest_cpu = first;
	run_start_tsc = rdtsc();
	for (uint32_t c = 0; c < MAX_CPUS; c++)
		spin_init(&queues[c].inbox_lock, "run queue inbox");
	__atomic_store_n(&run_go, 1, __ATOMIC_RELEASE);
	for (uint32_t c = 0; c < MAX_CPUS; c++) /* wake the others (run_loop) */
		if (percpu_of[c] && c != this_cpu()->cpu_id)
			lapic_send_fixed(percpu_of[c]->apic_id, LAPIC_KICK_VECTOR);
}

/*
 * Something changed for v (an interrupt, INIT, SIPI, a timer armed, its
 * VM stopped): its CPU must look at it now.  The CPU's kick flag makes
 * it leave its fast path (run_one) and re-pick; a CPU other than this one
 * also gets a host IPI, which takes it out of the guest or out of HLT.
 * One IPI per CPU is in flight at most, however many kicks: a guest that
 * floods IPIs floods nothing here.
 */
static void cpu_kick(uint32_t cpu)
{
	if (__atomic_exchange_n(&queues[cpu].kicked, 1, __ATOMIC_ACQ_REL) || cpu == this_cpu()->cpu_id ||
	    !percpu_of[cpu])
		return;
	lapic_send_fixed(percpu_of[cpu]->apic_id, LAPIC_KICK_VECTOR);
}

void run_kick_cpu0(void)
{
	cpu_kick(0);
}

void run_kick_self(void)
{
	__atomic_store_n(&queues[this_cpu()->cpu_id].kicked, 1, __ATOMIC_RELEASE);
}

/* A vCPU that moves to another CPU (balance) changes pcpu under its VM's
 * lock and then kicks the new CPU: a kick that read the old pcpu before
 * the move is taken by the new CPU's first look at the vCPU. */
void vcpu_kick(struct vcpu *v)
{
	cpu_kick(__atomic_load_n(&v->pcpu, __ATOMIC_ACQUIRE));
}

void vm_kick_all(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpu[i]);
}

/* in_run is set before a CPU looks at the VM's state to enter the guest
 * (run_one), with a full barrier between: a CPU that changed the state
 * and then sees in_run clear knows that vCPU stays out. */
bool vm_others_out(struct vm *vm, const struct vcpu *except)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		if (&vm->vcpu[i] != except && __atomic_load_n(&vm->vcpu[i].in_run, __ATOMIC_SEQ_CST))
			return false;
	return true;
}

void vm_pause(struct vm *vm)
{
	__atomic_store_n(&vm->paused, true, __ATOMIC_SEQ_CST);
	vm_kick_all(vm);
}

void vm_resume(struct vm *vm)
{
	__atomic_store_n(&vm->paused, false, __ATOMIC_SEQ_CST);
	vm_kick_all(vm);
}

bool vm_is_paused(struct vm *vm)
{
	if (!__atomic_load_n(&vm->paused, __ATOMIC_SEQ_CST) || !vm_others_out(vm, NULL))
		return false;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		if ((__atomic_load_n(&vm->vcpu[i].valid, __ATOMIC_ACQUIRE) & REG_ALL_STATE) != REG_ALL_STATE)
			return false; /* its CPU has not fetched them yet (tick_all) */
	return true;
}

bool vm_pause_wait(struct vm *vm, uint32_t us)
{
	uint64_t until = rdtsc() + tsc_hz / 1000000 * us;

	if (vm_is_paused(vm))
		return true; /* as GDB's packets normally find it: no kicks */
	vm_pause(vm);
	while (!vm_is_paused(vm) && rdtsc() < until) {
		run_fetch_paused_here();
		cpu_relax();
	}
	return vm_is_paused(vm);
}

/* The first of the vCPU's interrupt sources (device.h) with a vector for
 * it: its local APIC, Petrel's test device. */
static const struct vcpu_irq_source *irq_pending(struct vcpu *v)
{
	for (unsigned i = 0; i < VCPU_IRQ_SOURCES && v->irq[i].pending; i++)
		if (v->irq[i].pending(v->irq[i].ctx))
			return &v->irq[i];
	return NULL;
}

/* An external interrupt for the guest: inject it if the guest can take it
 * now, else ask to exit when it can (a halted vCPU with IF=0 stays halted:
 * nothing but NMI or INIT could wake it, as on hardware). */
static void deliver_irq(struct vcpu *v)
{
	const struct vcpu_irq_source *src;
	int vector;

	/* A debugger's step is one instruction of the guest's, not of an
	 * interrupt handler; a halted vCPU needs one to go on. */
	if (v->dbg.step && !v->halted)
		return;

	/* An NMI first: blocked only while another is in service (until its
	 * IRET) or by a MOV SS shadow; the backend knows which. */
	if (v->nmi_pending && !v->event.pending) {
		if (vcpu_ops->nmi_window(v)) {
			v->event = (struct vcpu_event){ .pending = true, .type = EV_NMI, .vector = 2 };
			v->nmi_pending = false;
			return;
		}
		vcpu_ops->request_nmi_window(v);
	}
	src = irq_pending(v);
	if (!src)
		return;
	if (!vcpu_ops->interrupt_window(v)) {
		if (!v->halted)
			vcpu_ops->request_window(v);
		return;
	}
	vector = src->take(src->ctx);
	if (vector < 0)
		return;
	v->event = (struct vcpu_event){ .pending = true, .type = EV_EXT_INTR, .vector = (uint8_t)vector };
	v->halted = false;
}

/* Fires the VM's due timers that belong to this CPU; returns the host
 * TSC of the next one's deadline, 0 if none. */
static uint64_t vm_timers(struct vm *vm)
{
	uint64_t next = vm_run_timers(vm, vm_now_ns(vm), this_cpu()->cpu_id);
	return next ? vm->start_tsc + ns_to_tsc(next) : 0;
}

static uint64_t us_to_tsc(uint64_t us)
{
	return tsc_hz / 1000000 * us;
}


/* A paused VM's vCPUs are held, but for one a debugger steps. */
static bool held(const struct vcpu *v)
{
	return __atomic_load_n(&v->vm->paused, __ATOMIC_ACQUIRE) && !__atomic_load_n(&v->dbg.step, __ATOMIC_ACQUIRE);
}

static bool runnable(const struct vcpu *v)
{
	if (held(v))
		return false;
	return (v->vm->state == VM_RUNNING && !v->halted && !v->wait_sipi) ||
	       (v->vm->state == VM_RESETTING && v->id == 0);
}

/* A paused vCPU's registers all fetched, here where its VMCS is: the
 * shell (and a debugger) read them from any CPU.  Under the VM's lock. */
static void fetch_if_paused(struct vcpu *v)
{
	if (v->vm->paused && !v->in_run && (v->valid & REG_ALL_STATE) != REG_ALL_STATE)
		vcpu_need(v, REG_ALL_STATE);
}

void run_fetch_paused_here(void)
{
	struct pcpu_queue *q = &queues[this_cpu()->cpu_id];

	for (uint32_t i = 0; i < q->nr; i++) {
		struct vcpu *v = q->v[i];
		if (!v->vm->paused)
			continue;
		spin_lock(&v->vm->lock);
		fetch_if_paused(v);
		spin_unlock(&v->vm->lock);
	}
}

/* vCPUs another CPU handed to this one (balance) join its queue. */
static void adopt(struct pcpu_queue *q)
{
	if (!__atomic_load_n(&q->inbox_nr, __ATOMIC_ACQUIRE))
		return;
	spin_lock(&q->inbox_lock);
	for (uint32_t i = 0; i < q->inbox_nr && q->nr < MAX_VCPUS_PER_PCPU; i++)
		q->v[q->nr++] = q->inbox[i];
	q->inbox_nr = 0;
	spin_unlock(&q->inbox_lock);
}

/* Fires every VM's due timers and delivers interrupts, for this CPU's
 * vCPUs, each under its VM's lock; a vCPU that wakes from HLT comes back
 * no further behind than half a slice (no credit hoarded while asleep).
 * *deadline gets the CPU's earliest timer.  The kick flag is cleared
 * first: a kick after that is seen on the next look. */
static void tick_all(struct pcpu_queue *q, uint64_t *deadline)
{
	*deadline = 0;
	__atomic_store_n(&q->kicked, 0, __ATOMIC_SEQ_CST);
	adopt(q); /* after the flag: a vCPU handed over later comes with a kick */
	for (uint32_t i = 0; i < q->nr; i++) {
		struct vcpu *v = q->v[i];
		struct vm *vm = v->vm;
		uint64_t d = 0, floor = q->min_vruntime - MIN(q->min_vruntime, us_to_tsc(SLICE_US) / 2);
		bool was_halted = v->halted;
		if (vm->state != VM_RUNNING)
			continue;
		spin_lock(&vm->lock);
		fetch_if_paused(v);
		if (vm->state == VM_RUNNING) {
			d = vm_timers(vm);
			vcpu_take_signals(v);
			if (!v->wait_sipi) /* takes nothing until a SIPI starts it */
				deliver_irq(v);
		}
		spin_unlock(&vm->lock);
		if (d && (!*deadline || d < *deadline))
			*deadline = d;
		if (was_halted && !v->halted) {
			v->woke = true;
			v->vruntime = MAX(v->vruntime, floor);
		}
	}
}

/* The runnable vCPU other than `not` that has used the least time. */
static struct vcpu *least_used(struct pcpu_queue *q, const struct vcpu *not)
{
	struct vcpu *best = NULL;

	for (uint32_t i = 0; i < q->nr; i++) {
		struct vcpu *v = q->v[i];
		if (v != not && runnable(v) && (!best || v->vruntime < best->vruntime))
			best = v;
	}
	return best;
}

/* How far the current vCPU may get ahead of `other` before it yields:
 * half a slice, so that from half a slice behind each turn is a slice. */
static uint64_t lead(const struct vcpu *other)
{
	return us_to_tsc(other->woke ? WAKE_GRAN_US : SLICE_US / 2);
}

static uint64_t xcr0_in[MAX_CPUS]; /* with load_guest_extras, below */

/* Whatever of v's x87/SSE state and debug registers this CPU holds, back
 * to memory: the next entry loads them again (load_guest_extras). */
static void xstate_to_memory(struct vcpu *v)
{
	if (xstate_put(&v->xs, !vcpu_ops->saves_dr6))
		xcr0_in[this_cpu()->cpu_id] = 0;
}

/*
 * A debugger's wishes (debug.c) before v enters, on its own CPU: DR0-3
 * become the debugger's when it sets a hardware breakpoint and the
 * guest's again when the last one goes, through memory (xstate.c loads
 * them lazily); a single step is RFLAGS.TF where the CPU has no step of
 * its own, the guest's TF kept and put back; the backend does the rest
 * (intercepts, DR7, the monitor trap flag).
 */
static void apply_debug(struct vcpu *v)
{
	struct vcpu_debug *d = &v->dbg;
	bool tf = d->step && !vcpu_ops->native_step();

	d->changed = false;
	if (d->hw || d->hw_on) {
		xstate_to_memory(v);
		if (d->hw && !d->hw_on)
			memcpy(d->guest_dr, v->xs.dr, sizeof(d->guest_dr));
		memcpy(v->xs.dr, d->hw ? d->dr : d->guest_dr, sizeof(v->xs.dr));
	}
	if (tf != d->tf_on) {
		vcpu_need(v, REG_RIP);
		if (tf) {
			d->guest_tf = v->regs.rflags & RFLAGS_TF;
			v->regs.rflags |= RFLAGS_TF;
		} else {
			v->regs.rflags = (v->regs.rflags & ~RFLAGS_TF) | (d->guest_tf ? RFLAGS_TF : 0);
		}
		vcpu_dirty(v, REG_RIP);
		d->tf_on = tf;
	}
	vcpu_ops->set_debug(v);
	d->step_on = d->step;
}

/* v goes from this CPU (q) to CPU `to`: what this CPU holds of it goes
 * back to memory here (vcpu_ops->put, its x87/SSE state), and it keeps
 * its place relative to the others: as far behind or ahead of the new
 * queue's least time as it was of this one's.  Under its VM's lock, so
 * that a reset (which rewrites its state) does not meet a move. */
static void migrate(struct pcpu_queue *q, struct vcpu *v, uint32_t to)
{
	struct pcpu_queue *t = &queues[to];
	uint32_t i;

	for (i = 0; i < q->nr && q->v[i] != v; i++)
		;
	memmove(&q->v[i], &q->v[i + 1], (q->nr - i - 1) * sizeof(q->v[0]));
	q->nr--;
	if (v->vruntime >= q->min_vruntime)
		v->vruntime = t->min_vruntime + (v->vruntime - q->min_vruntime);
	else
		v->vruntime = t->min_vruntime - MIN(t->min_vruntime, q->min_vruntime - v->vruntime);
	vcpu_ops->put(v);
	xstate_to_memory(v);
	v->moved = true;
	v->migrations++;
	__atomic_store_n(&v->pcpu, to, __ATOMIC_RELEASE);
	spin_lock(&t->inbox_lock);
	t->inbox[t->inbox_nr++] = v;
	spin_unlock(&t->inbox_lock);
	spin_unlock(&v->vm->lock);
	vcpu_kick(v);
}

/*
 * Balancing, by push: after the pick, a floating vCPU that could run here
 * but waits for its turn goes to a CPU that has nothing to run (one per
 * pick; an idle CPU is claimed by clearing its flag, so two CPUs never
 * send it one each).  A CPU that goes idle asks those with waiting
 * vCPUs to look (ask_for_work).  Pinned vCPUs never move, nor does a VM's
 * vCPU while the VM is not running (a reset is rewriting its state).
 */
static void balance(struct pcpu_queue *q, const struct vcpu *chosen)
{
	uint32_t waiting = 0;
	struct vcpu *w = NULL;

	for (uint32_t i = 0; i < q->nr; i++) {
		struct vcpu *v = q->v[i];
		if (v != chosen && v->floats && v->vm->state == VM_RUNNING && runnable(v)) {
			waiting++;
			if (!w || v->vruntime < w->vruntime)
				w = v;
		}
	}
	__atomic_store_n(&q->waiting, waiting, __ATOMIC_RELAXED);
	if (!w)
		return;
	for (uint32_t c = 0; c < MAX_CPUS; c++) {
		uint32_t one = 1;
		if (c == this_cpu()->cpu_id || !percpu_of[c] ||
		    !__atomic_compare_exchange_n(&queues[c].idle, &one, 0, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		spin_lock(&w->vm->lock);
		if (w->vm->state == VM_RUNNING) {
			migrate(q, w, c); /* unlocks */
			__atomic_store_n(&q->waiting, waiting - 1, __ATOMIC_RELAXED);
		} else {
			spin_unlock(&w->vm->lock);
			__atomic_store_n(&queues[c].idle, 1, __ATOMIC_RELEASE);
		}
		return;
	}
}

/* This CPU has nothing to run: it says so once, and kicks the CPUs that
 * have floating vCPUs waiting, whose next pick sends one here. */
static void ask_for_work(struct pcpu_queue *q)
{
	if (!q->can_run || __atomic_load_n(&q->idle, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&q->idle, 1, __ATOMIC_SEQ_CST);
	for (uint32_t c = 0; c < MAX_CPUS; c++)
		if (c != this_cpu()->cpu_id && percpu_of[c] && __atomic_load_n(&queues[c].waiting, __ATOMIC_RELAXED))
			cpu_kick(c);
}

/* Whose turn it is: the current vCPU keeps the CPU until it is a slice
 * ahead of the least-used other one (a millisecond, if that one just
 * woke), halts, stops or yields (a PAUSE loop). */
static struct vcpu *pick(struct pcpu_queue *q, uint64_t *deadline)
{
	struct vcpu *cur = q->cur, *other;

	console_service(); /* CPU 0: what was typed goes to the VM or shell with the focus */
	profile_service(); /* CPU 0: a profile that has run its time is printed */
	periodic_stats();
	tick_all(q, deadline);
	other = least_used(q, cur);
	if (cur && runnable(cur) &&
	    (!other || (!cur->yielded && cur->vruntime < other->vruntime + lead(other))))
		other = cur; /* keeps the CPU, unless it yielded and another can run */
	if (cur)
		cur->yielded = false;
	if (other) {
		other->woke = false;
		q->min_vruntime = MAX(q->min_vruntime, other->vruntime);
	}
	q->cur = other;
	balance(q, other);
	return other;
}

/* The longest the CPU may stay away (in a guest, or asleep) from now: the
 * earliest timer, the end of v's slice if another vCPU waits, and the
 * console's polling interval where this CPU reads it. */
static uint64_t budget(struct pcpu_queue *q, struct vcpu *v, uint64_t deadline, uint64_t now)
{
	uint64_t b = 0;
	struct vcpu *other = v ? least_used(q, v) : NULL;

	if (deadline)
		b = deadline > now ? deadline - now : 1;
	if (other) {
		uint64_t end = other->vruntime + lead(other);
		uint64_t left = end > v->vruntime ? end - v->vruntime : 1;
		b = b ? MIN(b, left) : left;
	}
	if ((this_cpu()->cpu_id == 0 && (console_wants_cpu0() || profile_pending())) || stats_interval_s)
		b = b ? MIN(b, us_to_tsc(CONSOLE_WAIT_US)) : us_to_tsc(CONSOLE_WAIT_US);
	/* Where a kick may not take the CPU out of the guest (Bochs's VMX),
	 * a vCPU whose VM runs on other CPUs too comes out by itself. */
	if (v && v->vm->spans_cpus && vcpu_ops->kick_may_wait)
		b = b ? MIN(b, us_to_tsc(KICK_WAIT_US)) : us_to_tsc(KICK_WAIT_US);
	return b;
}

/* The host LAPIC timer to fire b ticks from now: left alone if it is
 * still counting towards a little before that (the early wake-up costs
 * one pass through pick), so that a vCPU that keeps the CPU does not
 * reprogram it on every pick.  Its count, not the TSC, says whether it
 * fired: the two clocks need not agree (Bochs's do not). */
static void arm(struct pcpu_queue *q, uint64_t now, uint64_t b)
{
	uint64_t at = now + b;

	if (!b || (q->armed > now && q->armed <= at && at - q->armed <= us_to_tsc(REARM_SLACK_US) &&
		   lapic_timer_pending()))
		return;
	lapic_timer_oneshot(b);
	q->armed = at;
}

static void idle(struct pcpu_queue *q, uint64_t deadline)
{
	uint64_t now = rdtsc();

	arm(q, now, budget(q, NULL, deadline, now));
	if (!__atomic_load_n(&q->kicked, __ATOMIC_ACQUIRE))
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	q->idle_tsc += rdtsc() - now;
}

static void finish_requests(struct vm *vm)
{
	if (vm->poweroff_reason) {
		vm_stop(vm, vm->poweroff_reason);
	} else if (vm->reset_reason) {
		const char *why = vm->reset_reason;
		vm->reset_reason = NULL;
		vm_reset(vm, why);
	}
}

/*
 * State the hardware does not switch on entry: the guest's x87/SSE/AVX
 * state and debug registers (xstate.c, loaded when another vCPU used the
 * CPU last), IA32_TSC_AUX (RDTSCP, RDPID) and XCR0 (which state XSAVE
 * covers; CPUID leaf 0xd answers from it).  TSC_AUX and XCR0 go into the
 * CPU when they differ from what is there: TSC_AUX is 0 from reset; an
 * XCR0 of 0 in the cache means not known (firmware may have changed it, or
 * xstate.c just did), since XCR0 is never 0 where it exists.  The host
 * reads none of it.  A CPU without XSAVE gives its vCPUs XCR0 = 0, and
 * nothing is loaded.
 */
static uint64_t tsc_aux_in[MAX_CPUS], xcr0_in[MAX_CPUS];
static uint32_t pkrs_in[MAX_CPUS]; /* IA32_PKRS: the host never sets CR4.PKS, so it is the guests' */

static void load_guest_extras(struct vcpu *v)
{
	uint32_t cpu = this_cpu()->cpu_id;

	if (xstate_load(&v->xs, !vcpu_ops->saves_dr6))
		xcr0_in[cpu] = 0;
	if (tsc_aux_in[cpu] != v->tsc_aux) {
		wrmsr(0xc0000103, v->tsc_aux);
		tsc_aux_in[cpu] = v->tsc_aux;
	}
	if (pkrs_in[cpu] != v->pkrs) {
		wrmsr(0x6e1, v->pkrs);
		pkrs_in[cpu] = v->pkrs;
	}
	if (v->xcr0 && xcr0_in[cpu] != v->xcr0) {
		xsetbv0(v->xcr0);
		xcr0_in[cpu] = v->xcr0;
	}
}

/* Both backends intercept XSETBV, but QEMU 7.2 TCG does not honour SVM's
 * XSETBV intercept: there the guest writes XCR0 itself.  What the CPU
 * holds after the exit is then the guest's value. */
static void save_guest_extras(struct vcpu *v)
{
	if (v->xcr0)
		v->xcr0 = xcr0_in[this_cpu()->cpu_id] = xgetbv0();
}

/* Whether v goes straight back into its guest after this exit: nothing
 * for the scheduler happened (no halt, no stop or reset, no kick for this
 * CPU, no timer armed, the slice and deadline not reached) and the exit
 * was not an interrupt's.  Under the VM's lock. */
static bool stay_in(struct pcpu_queue *q, struct vcpu *v)
{
	return v->vm->state == VM_RUNNING && !held(v) && v->exit.kind != EXIT_NONE && !v->halted && !v->wait_sipi &&
	       !v->init_pending && !v->yielded && !__atomic_load_n(&q->kicked, __ATOMIC_ACQUIRE) &&
	       (!v->run_until || rdtsc() < v->run_until);
}

/*
 * v's turn.  The exit path is lean: an exit the core handles without the
 * scheduler (CPUID, an MSR, port I/O to a device, XSETBV...) is served
 * under the VM's lock and the guest re-entered from here, with the
 * pending interrupts looked at again, and nothing else: no pick, no host
 * timer, no console.  in_run tells a CPU that resets the VM when v is out
 * (vm_others_out).
 */
static void run_one(struct vcpu *v, struct pcpu_queue *q, uint64_t deadline)
{
	struct vm *vm = v->vm;
	uint64_t now = rdtsc(), b = budget(q, v, deadline, now);

	__atomic_store_n(&v->in_run, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vm->state, __ATOMIC_SEQ_CST) == VM_RESETTING) {
		spin_lock(&vm->lock);
		if (vm->state == VM_RESETTING && v->id == 0)
			vm_reset_step(vm); /* the first vCPU's turn goes to zeroing its RAM */
		spin_unlock(&vm->lock);
		v->tsc_exit = rdtsc();
	} else if (vm->state == VM_RUNNING && !held(v)) {
		bool again;
		if (v->moved) {
			vcpu_ops->load(v);
			v->moved = false;
		}
		if (v->dbg.changed)
			apply_debug(v);
		arm(q, now, b);
		v->run_until = b ? now + b : 0;
		v->tsc_in_hv += now - v->tsc_exit;
		do {
			enum exit_kind kind;
			uint64_t rip;
			uint32_t gen = __atomic_load_n(&vm->map_gen, __ATOMIC_ACQUIRE);
			if (__builtin_expect(gen != v->map_gen, 0)) { /* vm_set_memory */
				v->map_gen = gen;
				vcpu_ops->flush_nested(v);
			}
			load_guest_extras(v);
			vcpu_ops->run(v);
			v->tsc_exit = rdtsc();
			save_guest_extras(v);
			kind = v->exit.kind;
			rip = v->regs.rip; /* every backend fetches it at the exit */
			spin_lock(&vm->lock);
			exit_dispatch(v);
			if (__builtin_expect(vm->profiling, 0))
				profile_exit(v, kind, rip, rdtsc() - v->tsc_exit);
			finish_requests(vm);
			if ((again = stay_in(q, v)))
				deliver_irq(v);
			spin_unlock(&vm->lock);
			if (again)
				v->tsc_in_hv += rdtsc() - v->tsc_exit;
		} while (again);
	}
	__atomic_store_n(&v->in_run, 0, __ATOMIC_RELEASE);
	v->vruntime += rdtsc() - now;
	if (vm->state == VM_STOPPED && !__atomic_exchange_n(&vm->stop_counted, true, __ATOMIC_ACQ_REL) &&
	    __atomic_sub_fetch(&vms_running, 1, __ATOMIC_RELAXED) == 0)
		pr_info("all VMs stopped\n");
}

void run_show_cpus(void)
{
	uint64_t since = rdtsc() - run_start_tsc;

	for (uint32_t c = 0; c < MAX_CPUS; c++) {
		struct pcpu_queue *q = &queues[c];
		char list[200] = "";
		size_t n = 0;
		if (!percpu_of[c])
			continue;
		for (uint32_t i = 0; i < q->nr && n < sizeof(list); i++) /* a glimpse: it may change meanwhile */
			n += (size_t)pt_snprintf(list + n, sizeof(list) - n, " %s/%u%s", q->v[i]->vm->name, q->v[i]->id,
						 q->v[i]->in_run ? "*" : "");
		log_raw("cpu %u: APIC ID %u, %llu%% idle since start, vCPUs:%s\n", c, percpu_of[c]->apic_id,
			(unsigned long long)(since ? q->idle_tsc * 100 / since : 0), n ? list : " none");
	}
	log_raw("(* in the guest or in an exit now; vm/N is vCPU N of the VM)\n");
}

void run_loop(void)
{
	struct pcpu_queue *q = &queues[this_cpu()->cpu_id];

	/* The others wait halted, not spinning: a spinning CPU takes an
	 * emulator's host CPU from the one that sets up the VMs.  run_start()
	 * wakes them with a kick. */
	while (!__atomic_load_n(&run_go, __ATOMIC_ACQUIRE))
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	/* The BSP enabled its own before creating VMs; APs do it here. */
	q->can_run = vcpu_ops != NULL && this_cpu()->cpu_id >= first_guest_cpu;
	if (this_cpu()->cpu_id != 0 && vcpu_ops) {
		xstate_cpu_init();
		if (vcpu_ops->cpu_enable()) {
			pr_err("cpu %u: cannot enable %s: its VMs will not run\n", this_cpu()->cpu_id,
			       vcpu_ops->name);
			q->can_run = false;
		}
	}
	for (uint32_t i = 0; i < q->nr; i++)
		q->v[i]->tsc_exit = rdtsc();
	for (;;) {
		uint64_t deadline;
		struct vcpu *v = pick(q, &deadline);
		if (v) {
			if (__atomic_load_n(&q->idle, __ATOMIC_RELAXED))
				__atomic_store_n(&q->idle, 0, __ATOMIC_RELAXED);
			run_one(v, q, deadline);
		} else {
			ask_for_work(q);
			idle(q, deadline);
		}
	}
}
