/* SPDX-License-Identifier: MIT */
/*
 * The run loop: each physical CPU runs the vCPUs assigned to it, round
 * robin.  Before each entry: the VM's due timers fire, and a pending
 * interrupt (from the vCPU's local APIC, the 8259 through it, or the test
 * device's raw tick) is injected if the guest can take it now, or an
 * interrupt window is requested.  A vCPU that halts waits without holding
 * the CPU; when no vCPU can run, the CPU sleeps until the earliest timer.
 * The LAPIC timer also bounds the time in a guest, so timers fire on time
 * and other vCPUs get their turn.  A real scheduler comes with the
 * two-guest issue.
 */
#include <arch/cpu.h>
#include <petrel/apic.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>
#include <petrel/vm.h>

#define MAX_VCPUS_PER_PCPU 8
#define SLICE_US 10000
#define CONSOLE_POLL_US 10000 /* how long console input may wait */

struct pcpu_queue {
	struct vcpu *v[MAX_VCPUS_PER_PCPU];
	uint32_t nr, next;
};

static struct pcpu_queue queues[MAX_CPUS];
static volatile uint32_t run_go;
static volatile uint32_t vcpus_running;
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
	__atomic_add_fetch(&vcpus_running, 1, __ATOMIC_RELAXED);
	return 0;
}

void run_start(void)
{
	__atomic_store_n(&run_go, 1, __ATOMIC_RELEASE);
}

static bool irq_pending(struct vcpu *v)
{
	return v->raw_irq_pending || (v->lapic && vlapic_has_irq(v->lapic));
}

/* An external interrupt for the guest: inject it if the guest can take it
 * now, else ask to exit when it can (a halted vCPU with IF=0 stays halted:
 * nothing but NMI or INIT could wake it, as on hardware). */
static void deliver_irq(struct vcpu *v)
{
	int vector;

	if (!irq_pending(v))
		return;
	if (!vcpu_ops->interrupt_window(v)) {
		if (!v->halted)
			vcpu_ops->request_window(v);
		return;
	}
	if (v->raw_irq_pending) {
		v->raw_irq_pending = false;
		vector = v->raw_irq;
	} else {
		vector = vlapic_take_irq(v->lapic);
	}
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
	int c;
	if (!console_vm || console_vm->state != VM_RUNNING ||
	    console_vm->vcpu[0].pcpu != this_cpu()->cpu_id)
		return;
	while (uart_dev_input_ready(console_vm) && (c = uart_getc()) >= 0)
		uart_dev_input(console_vm, (uint8_t)c);
}

/* Picks the next vCPU that can run, firing timers and delivering
 * interrupts on the way; *deadline gets the earliest timer of the CPU. */
static struct vcpu *pick(struct pcpu_queue *q, uint64_t *deadline)
{
	struct vcpu *found = NULL;

	*deadline = 0;
	poll_console();
	periodic_stats();
	for (uint32_t n = 0; n < q->nr; n++) {
		uint32_t i = (q->next + n) % q->nr;
		struct vcpu *v = q->v[i];
		uint64_t d;
		if (v->vm->state != VM_RUNNING)
			continue;
		d = vm_timers(v->vm);
		if (d && (!*deadline || d < *deadline))
			*deadline = d;
		deliver_irq(v);
		if (!found && !v->halted) {
			found = v;
			q->next = (i + 1) % q->nr;
		}
	}
	return found;
}

static uint64_t us_to_tsc(uint64_t us)
{
	return tsc_hz / 1000000 * us;
}

/* The longest the CPU may stay away (in a guest, or asleep) from now. */
static uint64_t budget(struct pcpu_queue *q, uint64_t deadline, uint64_t now, bool others)
{
	uint64_t b = 0;

	if (deadline)
		b = deadline > now ? deadline - now : 1;
	if (others || (console_vm && console_vm->vcpu[0].pcpu == this_cpu()->cpu_id) || stats_interval_s)
		b = b ? MIN(b, us_to_tsc(others ? SLICE_US : CONSOLE_POLL_US)) : us_to_tsc(SLICE_US);
	return b;
}

static void idle(struct pcpu_queue *q, uint64_t deadline)
{
	uint64_t b = budget(q, deadline, rdtsc(), false);

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
 * State the hardware does not switch on entry: the guest's IA32_TSC_AUX
 * (RDTSCP, RDPID) and XCR0 (which state XSAVE covers; CPUID leaf 0xd
 * answers from it).  Each goes into the CPU when it differs from what is
 * there: TSC_AUX is 0 from reset; an XCR0 of 0 in the cache means not
 * known yet (firmware may have changed it), since XCR0 is never 0 where it
 * exists.  The host reads neither and never uses XSAVE state itself.  A
 * CPU without XSAVE gives its vCPUs XCR0 = 0, and nothing is loaded.
 */
static uint64_t tsc_aux_in[MAX_CPUS], xcr0_in[MAX_CPUS];

static void load_guest_extras(struct vcpu *v)
{
	uint32_t cpu = this_cpu()->cpu_id;

	if (tsc_aux_in[cpu] != v->tsc_aux) {
		wrmsr(0xc0000103, v->tsc_aux);
		tsc_aux_in[cpu] = v->tsc_aux;
	}
	if (xcr0_in[cpu] != v->xcr0) {
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

/* XSETBV needs CR4.OSXSAVE; set before the backend records the host's CR4
 * (VMX loads it from the VMCS on every exit). */
void xstate_cpu_init(void)
{
	if (cpu_has_xsave())
		write_cr4(read_cr4() | CR4_OSXSAVE);
}

static void run_one(struct vcpu *v, struct pcpu_queue *q, uint64_t deadline)
{
	uint64_t now = rdtsc(), b = budget(q, deadline, now, q->nr > 1);

	if (b)
		lapic_timer_oneshot(b);
	v->tsc_in_hv += now - v->tsc_exit;
	load_guest_extras(v);
	vcpu_ops->run(v);
	v->tsc_exit = rdtsc();
	save_guest_extras(v);
	exit_dispatch(v);
	finish_requests(v->vm);
	if (v->vm->state != VM_RUNNING && __atomic_sub_fetch(&vcpus_running, 1, __ATOMIC_RELAXED) == 0)
		pr_info("all VMs stopped\n");
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
