/* SPDX-License-Identifier: MIT */
/*
 * The run loop: each physical CPU runs the vCPUs assigned to it.  Before
 * each entry: the VM's due timers fire, and a pending interrupt (from the
 * vCPU's local APIC, the 8259 through it, or the test device's raw tick) is
 * injected if the guest can take it now, or an interrupt window is
 * requested.  A vCPU that halts waits without holding the CPU; when no vCPU
 * can run, the CPU sleeps until the earliest timer.
 *
 * Who runs is decided by time used, not by exits: each vCPU accumulates
 * the TSC ticks it held the CPU (in the guest and in its exits), and the
 * one with the least runs until it is a slice ahead of the next, halts or
 * stops.  So two busy vCPUs alternate 10 ms slices whether they exit often
 * or never, and one that slept gets the CPU back within a millisecond of
 * waking unless it has used more than its share.  The LAPIC timer bounds
 * the time in a guest: the earliest timer, the end of the slice.  A real
 * scheduler comes with the SMP issue.
 */
#include <arch/cpu.h>
#include <arch/xstate.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>
#include <petrel/vm.h>

#include "core.h"

#define MAX_VCPUS_PER_PCPU (MAX_VMS * MAX_VCPUS_PER_VM)
#define SLICE_US 10000
#define WAKE_GRAN_US 1000     /* a woken vCPU behind by more than this preempts */
#define CONSOLE_POLL_US 10000 /* how long console input may wait */

struct pcpu_queue {
	struct vcpu *v[MAX_VCPUS_PER_PCPU];
	uint32_t nr;
	struct vcpu *cur;      /* the vCPU whose turn it is */
	uint64_t min_vruntime; /* never goes back: where a waking vCPU starts at the earliest */
};

static struct pcpu_queue queues[MAX_CPUS];
static volatile uint32_t run_go;
static volatile uint32_t vms_running; /* VMs not yet seen stopped */
struct vm *console_vm; /* the VM that gets what is typed on Petrel's serial port */
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

int run_assign(struct vcpu *v, uint32_t pcpu)
{
	struct pcpu_queue *q = &queues[pcpu];

	if (q->nr >= MAX_VCPUS_PER_PCPU)
		return -1;
	v->pcpu = pcpu;
	q->v[q->nr++] = v;
	if (v->id == 0)
		__atomic_add_fetch(&vms_running, 1, __ATOMIC_RELAXED);
	return 0;
}

void run_start(void)
{
	__atomic_store_n(&run_go, 1, __ATOMIC_RELEASE);
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

/* Fires the VM's due timers; returns the host TSC of its next deadline, 0
 * if none. */
static uint64_t vm_timers(struct vm *vm)
{
	uint64_t next = vm_run_timers(vm, vm_now_ns(vm));
	return next ? vm->start_tsc + ns_to_tsc(next) : 0;
}

/* Only the CPU that runs the console VM reads the serial port: its device
 * models are touched by that CPU alone, and two readers could swap
 * characters (they did). */
static void poll_console(void)
{
	const struct console_ops *con;
	int c;

	if (!console_vm || console_vm->state != VM_RUNNING ||
	    console_vm->vcpu[0].pcpu != this_cpu()->cpu_id || !(con = console_vm->console))
		return;
	while (con->input_ready(console_vm->console_dev) && (c = uart_getc()) >= 0)
		con->input(console_vm->console_dev, (uint8_t)c);
}

static uint64_t us_to_tsc(uint64_t us)
{
	return tsc_hz / 1000000 * us;
}

static bool runnable(const struct vcpu *v)
{
	return (v->vm->state == VM_RUNNING && !v->halted && !v->wait_sipi) || v->vm->state == VM_RESETTING;
}

/* Fires every VM's due timers and delivers interrupts; a vCPU that wakes
 * from HLT comes back no further behind than half a slice (no credit
 * hoarded while asleep).  *deadline gets the CPU's earliest timer. */
static void tick_all(struct pcpu_queue *q, uint64_t *deadline)
{
	*deadline = 0;
	for (uint32_t i = 0; i < q->nr; i++) {
		struct vcpu *v = q->v[i];
		uint64_t d, floor = q->min_vruntime - MIN(q->min_vruntime, us_to_tsc(SLICE_US) / 2);
		bool was_halted = v->halted;
		if (v->vm->state != VM_RUNNING)
			continue;
		d = vm_timers(v->vm);
		if (d && (!*deadline || d < *deadline))
			*deadline = d;
		vcpu_take_signals(v);
		if (v->wait_sipi)
			continue; /* takes nothing until a SIPI starts it */
		deliver_irq(v);
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

/* Whose turn it is: the current vCPU keeps the CPU until it is a slice
 * ahead of the least-used other one (a millisecond, if that one just
 * woke), halts or stops. */
static struct vcpu *pick(struct pcpu_queue *q, uint64_t *deadline)
{
	struct vcpu *cur = q->cur, *other;

	poll_console();
	periodic_stats();
	tick_all(q, deadline);
	other = least_used(q, cur);
	if (cur && runnable(cur) && (!other || cur->vruntime < other->vruntime + lead(other)))
		other = cur;
	if (other) {
		other->woke = false;
		q->min_vruntime = MAX(q->min_vruntime, other->vruntime);
	}
	q->cur = other;
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
	if ((console_vm && console_vm->vcpu[0].pcpu == this_cpu()->cpu_id) || stats_interval_s)
		b = b ? MIN(b, us_to_tsc(CONSOLE_POLL_US)) : us_to_tsc(CONSOLE_POLL_US);
	return b;
}

static void idle(struct pcpu_queue *q, uint64_t deadline)
{
	uint64_t b = budget(q, NULL, deadline, rdtsc());

	if (b)
		lapic_timer_oneshot(b);
	__asm__ volatile("sti; hlt; cli" ::: "memory");
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

static void run_one(struct vcpu *v, struct pcpu_queue *q, uint64_t deadline)
{
	uint64_t now = rdtsc(), b = budget(q, v, deadline, now);

	if (v->vm->state == VM_RESETTING) {
		vm_reset_step(v->vm); /* its turn goes to zeroing its RAM */
		v->tsc_exit = rdtsc();
	} else {
		if (b)
			lapic_timer_oneshot(b);
		v->run_until = b ? now + b : 0;
		v->tsc_in_hv += now - v->tsc_exit;
		load_guest_extras(v);
		vcpu_ops->run(v);
		v->tsc_exit = rdtsc();
		save_guest_extras(v);
		exit_dispatch(v);
		finish_requests(v->vm);
	}
	v->vruntime += rdtsc() - now;
	if (v->vm->state == VM_STOPPED && !v->vm->stop_counted) {
		v->vm->stop_counted = true;
		if (__atomic_sub_fetch(&vms_running, 1, __ATOMIC_RELAXED) == 0)
			pr_info("all VMs stopped\n");
	}
}

void run_loop(void)
{
	struct pcpu_queue *q = &queues[this_cpu()->cpu_id];

	while (!__atomic_load_n(&run_go, __ATOMIC_ACQUIRE))
		cpu_relax();
	/* The BSP enabled its own before creating VMs; APs do it here. */
	if (this_cpu()->cpu_id != 0 && vcpu_ops) {
		xstate_cpu_init();
		if (vcpu_ops->cpu_enable())
			pr_err("cpu %u: cannot enable %s: its VMs will not run\n", this_cpu()->cpu_id,
			       vcpu_ops->name);
	}
	for (uint32_t i = 0; i < q->nr; i++)
		q->v[i]->tsc_exit = rdtsc();
	for (;;) {
		uint64_t deadline;
		struct vcpu *v = pick(q, &deadline);
		if (v)
			run_one(v, q, deadline);
		else
			idle(q, deadline);
	}
}
