/* SPDX-License-Identifier: MIT */
/*
 * Application processor bring-up: for each enabled APIC ID in the MADT,
 * INIT-SIPI-SIPI (SDM vol. 3A §9.4.4.1) through the trampoline in
 * trampoline.asm, one CPU at a time.  Each AP gets its own stack, IST
 * stacks, GDT/TSS and struct percpu, then reports in and idles.
 */
#include <arch/cpu.h>
#include <petrel/arch.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/pmm.h>
#include <petrel/smp.h>
#include <petrel/vm.h>

extern const char tramp_start[], tramp_end[];
extern const uint64_t tramp_off_cr3, tramp_off_stack, tramp_off_percpu, tramp_off_gdtr,
	tramp_off_pm32, tramp_off_pm32ptr, tramp_off_gdt, tramp_off_efer_nx;
extern volatile uint32_t hv_stopping;

struct percpu *percpu_of[MAX_CPUS];
uint32_t nr_cpus_found;
static volatile uint32_t cpus_online;

#define AP_START_TIMEOUT_US 2000000 /* Bochs is slow; real parts take ~1 ms */

static uint64_t stack_alloc(uint64_t bytes)
{
	return frame_alloc_zeroed(bytes / PAGE_SIZE, UINT64_MAX) + bytes;
}

struct percpu *percpu_alloc(uint32_t cpu_id, uint32_t apic_id)
{
	struct percpu *pc = (struct percpu *)(uintptr_t)frame_alloc_zeroed(
		ALIGN_UP(sizeof(*pc), PAGE_SIZE) / PAGE_SIZE, UINT64_MAX);

	pc->cpu_id = cpu_id;
	pc->apic_id = apic_id;
	pc->stack_top = stack_alloc(HV_STACK_SIZE);
	for (int i = 0; i < 3; i++)
		pc->ist_top[i] = stack_alloc(IST_STACK_SIZE);
	percpu_of[cpu_id] = pc;
	return pc;
}

void ap_main(struct percpu *pc);
void ap_main(struct percpu *pc)
{
	struct virt_features vf, *bsp_vf = &percpu_of[0]->virt;

	cpu_init_tables(pc);
	idt_load();
	lapic_init();
	virt_detect(&vf);
	/* Every CPU must offer what the BSP found: a mixed system is refused
	 * later when VMs are placed, so record it now. */
	pc->virt_ok = vf.vendor == bsp_vf->vendor && !vf.disabled_by_firmware;
	pc->virt = vf;
	if (lapic_id() != pc->apic_id)
		pr_warn("cpu %u: APIC ID is %u, the MADT said %u\n", pc->cpu_id, lapic_id(), pc->apic_id);
	pr_info("cpu %u online (apic %u)%s\n", pc->cpu_id, pc->apic_id,
		pc->virt_ok ? "" : " WITHOUT the BSP's virtualization features");
	__atomic_add_fetch(&cpus_online, 1, __ATOMIC_RELEASE);
	pc->online = 1;
	run_loop(); /* waits until the BSP has placed the VMs */
}

static uint64_t trampoline_setup(void)
{
	uint64_t page = frame_alloc_zeroed(1, MiB(1));
	uint8_t *t = (uint8_t *)(uintptr_t)page;
	uint32_t v;

	memcpy(t, tramp_start, (size_t)(tramp_end - tramp_start));
	v = (uint32_t)(page + tramp_off_gdt);
	memcpy(t + tramp_off_gdtr + 2, &v, 4);
	v = (uint32_t)(page + tramp_off_pm32);
	memcpy(t + tramp_off_pm32ptr, &v, 4);
	*(uint64_t *)(t + tramp_off_cr3) = paging_root();
	*(uint64_t *)(t + tramp_off_efer_nx) = rdmsr(MSR_EFER) & EFER_NXE;
	paging_set_exec(page, true);
	return page;
}

static bool wait_online(struct percpu *pc, uint64_t us)
{
	uint64_t end = rdtsc() + tsc_hz / 1000000 * us;
	while (!pc->online && (int64_t)(rdtsc() - end) < 0)
		cpu_relax();
	return pc->online;
}

static bool start_ap(uint64_t tramp, uint32_t cpu_id, uint32_t apic_id)
{
	struct percpu *pc = percpu_alloc(cpu_id, apic_id);
	uint8_t *t = (uint8_t *)(uintptr_t)tramp;

	paging_set_exec(tramp, false); /* writable for the new CPU's data */
	*(uint64_t *)(t + tramp_off_stack) = pc->stack_top;
	*(uint64_t *)(t + tramp_off_percpu) = (uint64_t)(uintptr_t)pc;
	paging_set_exec(tramp, true);

	lapic_send_init(apic_id);
	udelay(10000);
	for (int i = 0; i < 2 && !pc->online; i++) {
		lapic_send_sipi(apic_id, (uint8_t)(tramp >> 12));
		wait_online(pc, i == 0 ? 200 : AP_START_TIMEOUT_US);
	}
	if (!pc->online)
		pr_err("cpu %u (apic %u) did not come up\n", cpu_id, apic_id);
	return pc->online;
}

void smp_boot_aps(const uint32_t *apic_ids, uint32_t n)
{
	uint32_t self = lapic_id(), next_id = 1;
	uint64_t tramp;

	nr_cpus_found = n;
	cpus_online = 1;
	percpu_of[0]->online = 1;
	if (n <= 1)
		return;
	tramp = trampoline_setup();
	for (uint32_t i = 0; i < n && next_id < MAX_CPUS; i++)
		if (apic_ids[i] != self)
			start_ap(tramp, next_id++, apic_ids[i]);
	paging_set_exec(tramp, false);
}

uint32_t smp_cpus_online(void)
{
	return __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE);
}

void smp_stop_others(void)
{
	hv_stopping = 1;
	if (smp_cpus_online() > 1)
		lapic_send_nmi_others();
}
