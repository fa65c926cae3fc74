/* SPDX-License-Identifier: MIT */
/*
 * Petrel's own floor, measured once at boot on the first CPU: what one
 * exit costs with nothing to do, so that the cost of a real exit (make
 * bench) can be judged against what this CPU and backend allow.  A
 * built-in guest of two loops in real mode, in a VM of its own with 2 MiB
 * of RAM and no devices:
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
#define CPUID_RIP 0x0
#define IN_RIP 0x4

static const uint8_t probe_code[] = {
	0x0f, 0xa2, 0xeb, 0xfc, /* 0x1000: cpuid; jmp 0x1000 */
	0xec, 0xeb, 0xfd,       /* 0x1004: in al, dx; jmp 0x1004 */
};

static uint64_t samples[FLOOR_SAMPLES];

/* The median round trip in TSC ticks, 0 if an exit was not the one expected. */
static uint64_t measure(struct vcpu *v, enum exit_kind want, uint16_t ip)
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

void exit_floor_measure(void)
{
	struct vm *vm = vm_create("floor", 1, MiB(2), 0, &pc_board);
	struct vcpu *v;
	uint64_t cpuid_t = 0, in_t = 0;
	uint8_t *code;

	if (!vm)
		return;
	v = &vm->vcpu[0];
	code = gpa_to_hva(vm, CODE_GPA, sizeof(probe_code));
	if (code && !vcpu_ops->vcpu_init(v)) {
		memcpy(code, probe_code, sizeof(probe_code));
		vcpu_set_start_state(v, 0x10 /* ET */, 0,
				     (struct segment){ .sel = CODE_GPA >> 4, .base = CODE_GPA, .limit = 0xffff, .attr = 0x9b },
				     (struct segment){ .limit = 0xffff, .attr = 0x93 });
		v->regs.gpr[GPR_RDX] = 0x520; /* no device there on the board */
		vcpu_dirty(v, REG_GPRS);
		cpuid_t = measure(v, EXIT_CPUID, CPUID_RIP);
		in_t = cpuid_t ? measure(v, EXIT_IO, IN_RIP) : 0;
	}
	if (cpuid_t && in_t)
		pr_info("exit floor: cpuid %llu ns, port read %llu ns (median of %u round trips, empty handlers)\n",
			(unsigned long long)tsc_to_ns(cpuid_t), (unsigned long long)tsc_to_ns(in_t), FLOOR_SAMPLES);
	else
		pr_warn("exit floor: not measured\n");
	vm_destroy(vm);
}
