/* SPDX-License-Identifier: MIT */
/*
 * The run loop: each physical CPU runs the vCPUs assigned to it, round
 * robin.  A vCPU that halts waits for its next event (the test device's
 * tick) without holding the CPU; when no vCPU can run the CPU sleeps until
 * the LAPIC timer says the next event is due.  A real scheduler comes with
 * the two-guest issue; this loop already serves several vCPUs per CPU.
 */
#include <arch/cpu.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>
#include <petrel/vm.h>

#define MAX_VCPUS_PER_PCPU 8
#define SLICE_US 10000

struct pcpu_queue {
	struct vcpu *v[MAX_VCPUS_PER_PCPU];
	uint32_t nr, next;
};

static struct pcpu_queue queues[MAX_CPUS];
static volatile uint32_t run_go;
static volatile uint32_t vms_running;

int run_assign(struct vcpu *v, uint32_t pcpu)
{
	struct pcpu_queue *q = &queues[pcpu];

	if (q->nr >= MAX_VCPUS_PER_PCPU)
		return -1;
	v->pcpu = pcpu;
	q->v[q->nr++] = v;
	__atomic_add_fetch(&vms_running, 1, __ATOMIC_RELAXED);
	return 0;
}

void run_start(void)
{
	__atomic_store_n(&run_go, 1, __ATOMIC_RELEASE);
}

/* The periodic tick of the test device: due, and the guest can take it. */
static void deliver_tick(struct vcpu *v, uint64_t now)
{
	if (!v->tick.on || now < v->tick.next_tsc)
		return;
	if (!vcpu_ops->interrupt_window(v)) {
		/* IF=0, a shadow, or another event first: come back when it opens
		 * (a halted vCPU with IF=0 stays halted: nothing can wake it). */
		if (!v->halted)
			vcpu_ops->request_window(v);
		return;
	}
	v->event = (struct vcpu_event){ .pending = true, .type = EV_EXT_INTR, .vector = v->tick.vector };
	v->halted = false;
	do
		v->tick.next_tsc += v->tick.period_tsc;
	while (v->tick.next_tsc <= now);
}

static bool runnable(struct vcpu *v)
{
	return v->vm->state == VM_RUNNING && !v->halted;
}

/* The earliest moment something on this CPU needs attention, or 0.  A
 * tick already overdue is waiting for its guest to open an interrupt window
 * (the backend exits when it does): arming the timer for it would only
 * bounce us out of the guest again and again. */
static uint64_t next_deadline(struct pcpu_queue *q, uint64_t now)
{
	uint64_t d = 0;
	for (uint32_t i = 0; i < q->nr; i++) {
		struct vcpu *v = q->v[i];
		if (v->vm->state != VM_RUNNING || !v->tick.on || v->tick.next_tsc <= now)
			continue;
		if (!d || v->tick.next_tsc < d)
			d = v->tick.next_tsc;
	}
	return d;
}

static bool any_running(struct pcpu_queue *q)
{
	for (uint32_t i = 0; i < q->nr; i++)
		if (q->v[i]->vm->state == VM_RUNNING)
			return true;
	return false;
}

static struct vcpu *pick(struct pcpu_queue *q)
{
	uint64_t now = rdtsc();

	for (uint32_t n = 0; n < q->nr; n++) {
		struct vcpu *v = q->v[(q->next + n) % q->nr];
		deliver_tick(v, now);
		if (runnable(v)) {
			q->next = (q->next + n + 1) % q->nr;
			return v;
		}
	}
	return NULL;
}

/* Nothing to run: sleep until the next deadline (or forever, if the VMs
 * halted with nothing that could wake them). */
static void idle(struct pcpu_queue *q)
{
	uint64_t now = rdtsc(), d = next_deadline(q, now);

	if (d)
		lapic_timer_oneshot(d > now ? d - now : 1);
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static void run_one(struct vcpu *v, struct pcpu_queue *q)
{
	uint64_t now = rdtsc(), d = next_deadline(q, now), slice = tsc_hz / 1000000 * SLICE_US;

	/* The LAPIC timer bounds the time in the guest: the next tick, or the
	 * end of a slice when others wait on this CPU. */
	if (d || q->nr > 1)
		lapic_timer_oneshot(d ? MIN(d - now, slice) : slice);
	v->tsc_in_hv += now - v->tsc_exit;
	vcpu_ops->run(v);
	v->tsc_exit = rdtsc();
	exit_dispatch(v);
}

void run_loop(void)
{
	struct pcpu_queue *q = &queues[this_cpu()->cpu_id];
	bool said_idle = false;

	while (!__atomic_load_n(&run_go, __ATOMIC_ACQUIRE))
		cpu_relax();
	/* The BSP enabled its own before creating VMs; APs do it here. */
	if (this_cpu()->cpu_id != 0 && vcpu_ops && vcpu_ops->cpu_enable())
		pr_err("cpu %u: cannot enable %s: its VMs will not run\n", this_cpu()->cpu_id,
		       vcpu_ops->name);
	for (uint32_t i = 0; i < q->nr; i++)
		q->v[i]->tsc_exit = rdtsc();
	for (;;) {
		struct vcpu *v = pick(q);
		if (v) {
			run_one(v, q);
			if (v->vm->state != VM_RUNNING &&
			    __atomic_sub_fetch(&vms_running, 1, __ATOMIC_RELAXED) == 0)
				pr_info("all VMs stopped\n");
			continue;
		}
		if (!any_running(q) && !said_idle) {
			lapic_timer_stop();
			said_idle = true;
		}
		idle(q);
	}
}
