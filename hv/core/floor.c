/* SPDX-License-Identifier: MIT */
/*
 * Petrel's own floor, measured once at boot on the first CPU: what one
 * exit costs with nothing to do, so that the cost of a real exit (make
 * bench) can be judged against what this CPU and backend allow.  A
 * built-in guest of two loops in 64-bit mode (as the guests that matter
 * run: an emulator's world switch costs differ between CPU modes), in a
 * VM of its own with 2 MiB of RAM, identity-mapped by one 2 MiB page, and
 * no devices:
 *
 *   0x1000: cpuid ; jmp 0x1000      every entry ends in a CPUID exit
 *   0x1004: in al, dx ; jmp 0x1004  every entry ends in a port-read exit
 *
 * Each round trip is timed from just before the entry to just after the
 * handler, which does only what the instruction needs: move RIP past it
 * (and for the port read, AL = 0xff, a port with nothing behind it).  No
 * lock, no device, no scheduler.  The median of FLOOR_SAMPLES goes on the
 * banner; the VM's RAM goes back afterwards (its backend tables, a few
 * pages, stay allocated).
 */
#include <arch/cpu.h>
#include <petrel/board.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>

#include "core.h"

#define FLOOR_SAMPLES 255
#define FLOOR_WARMUP 16
#define CODE_GPA 0x1000u
#define CPUID_RIP (CODE_GPA + 0x0)
#define IN_RIP (CODE_GPA + 0x4)
#define PML4_GPA 0x2000u /* then the PDPT and the page directory */
#define PTE_P_RW 0x3ull
#define PDE_2M 0x83ull /* present, writable, large */

static const uint8_t probe_code[] = {
	0x0f, 0xa2, 0xeb, 0xfc, /* 0x1000: cpuid; jmp 0x1000 */
	0xec, 0xeb, 0xfd,       /* 0x1004: in al, dx; jmp 0x1004 */
};

static uint64_t samples[FLOOR_SAMPLES];

/* The median round trip in TSC ticks, 0 if an exit was not the one expected. */
static uint64_t measure(struct vcpu *v, enum exit_kind want, uint64_t ip)
{
	v->regs.rip = ip;
	vcpu_dirty(v, REG_RIP);
	for (uint32_t i = 0; i < FLOOR_WARMUP + FLOOR_SAMPLES; i++) {
		uint64_t t0 = rdtsc();
		vcpu_ops->run(v);
		if (v->exit.kind != want) {
			pr_warn("exit floor: exit kind %u (reason 0x%llx), not %u\n", v->exit.kind,
				(unsigned long long)v->exit.reason, want);
			return 0;
		}
		if (want == EXIT_IO)
			v->regs.gpr[GPR_RAX] |= 0xff; /* REG_RIP's group on SVM */
		vcpu_skip_insn(v);
		if (v->vm->state != VM_RUNNING)
			return 0; /* it could not be decoded: said and stopped */
		if (i >= FLOOR_WARMUP)
			samples[i - FLOOR_WARMUP] = rdtsc() - t0;
	}
	for (uint32_t i = 1; i < FLOOR_SAMPLES; i++) /* insertion sort: 255 numbers */
		for (uint32_t j = i; j && samples[j - 1] > samples[j]; j--) {
			uint64_t t = samples[j];
			samples[j] = samples[j - 1];
			samples[j - 1] = t;
		}
	return samples[FLOOR_SAMPLES / 2];
}

uint64_t exit_floor_cpuid_ns, exit_floor_in_ns;

void exit_floor_measure(void)
{
	struct vm *vm = vm_create("floor", 1, MiB(2), 0, &pc_board, NULL);
	struct vcpu *v;
	uint64_t cpuid_t = 0, in_t = 0;
	uint8_t *code;
	uint64_t *pt;

	if (!vm)
		return;
	v = &vm->vcpu[0];
	code = gpa_to_hva(vm, CODE_GPA, sizeof(probe_code));
	pt = gpa_to_hva(vm, PML4_GPA, 3 * PAGE_SIZE);
	if (code && pt && !vcpu_ops->vcpu_init(v)) {
		memcpy(code, probe_code, sizeof(probe_code));
		pt[0] = (PML4_GPA + PAGE_SIZE) | PTE_P_RW;      /* PML4[0] -> PDPT */
		pt[512] = (PML4_GPA + 2 * PAGE_SIZE) | PTE_P_RW; /* PDPT[0] -> PD */
		pt[1024] = PDE_2M;                               /* PD[0]: 0-2 MiB */
		vcpu_set_start_state(v, CR0_PG | CR0_PE | 0x10 /* ET */, 0,
				     (struct segment){ .sel = 0x8, .limit = 0xffffffff, .attr = 0xa9b /* 64-bit code */ },
				     (struct segment){ .sel = 0x10, .limit = 0xffffffff, .attr = 0xc93 });
		v->regs.cr3 = PML4_GPA;
		v->regs.cr4 = CR4_PAE;
		v->regs.efer = EFER_LME | EFER_LMA;
		v->regs.gpr[GPR_RDX] = 0x520; /* no device there on the board */
		vcpu_dirty(v, REG_GPRS);
		cr_caps_init(v); /* what its page walks check */
		cpuid_t = measure(v, EXIT_CPUID, CPUID_RIP);
		in_t = cpuid_t ? measure(v, EXIT_IO, IN_RIP) : 0;
	}
	exit_floor_cpuid_ns = cpuid_t && in_t ? tsc_to_ns(cpuid_t) : 0;
	exit_floor_in_ns = cpuid_t && in_t ? tsc_to_ns(in_t) : 0;
	if (cpuid_t && in_t)
		pr_info("exit floor: cpuid %llu ns, port read %llu ns (median of %u round trips, empty handlers)\n",
			(unsigned long long)tsc_to_ns(cpuid_t), (unsigned long long)tsc_to_ns(in_t), FLOOR_SAMPLES);
	else
		pr_warn("exit floor: not measured\n");
	vm_destroy(vm);
}
