/* SPDX-License-Identifier: MIT */
/*
 * The live exit profiler (the shell's `profile VM [SECONDS]`).  While a
 * VM is profiled, the run loop hands every one of its exits here, under
 * the VM's lock (run.c: one flag looked at per exit when nobody
 * profiles): its kind, the guest RIP that caused it, and the TSC ticks
 * Petrel spent on it (from the exit to the end of its handling).  Each
 * kind gets a count and a histogram of that time in powers of two of a
 * microsecond; each RIP (up to PROFILE_RIPS of them) a count and, the
 * first time it is seen, the instruction's bytes, fetched through the
 * vCPU's page tables then.  When the time is up, CPU 0's run loop prints
 * the report (profile_service): exits per second by kind with their
 * histograms, and the RIPs that caused most exits with their instruction
 * decoded.
 */
#include <arch/cpu.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>
#include <petrel/vm.h>
#include <petrel/x86_decode.h>

#include "core.h"

#define PROFILE_BUCKETS 12 /* < 1 us, < 2, < 4, ... < 1024 us, the rest */
#define PROFILE_RIPS 128
#define PROFILE_TOP 8
#define PROFILE_MAX_S 60

struct rip_entry {
	uint64_t rip, count;
	uint8_t kind, len, mode;
	uint8_t bytes[X86_MAX_INSN_LEN];
};

struct profile {
	uint64_t start, end;       /* host TSC */
	uint64_t count[NR_EXIT_KINDS];
	uint64_t hist[NR_EXIT_KINDS][PROFILE_BUCKETS];
	struct rip_entry rips[PROFILE_RIPS];
	uint32_t nr_rips;
	uint64_t rips_missed;      /* exits at RIPs that found the table full */
};

static struct profile profiles[MAX_VMS];

static unsigned bucket(uint64_t ticks)
{
	uint64_t us = ticks / (tsc_hz / 1000000 ? tsc_hz / 1000000 : 1);
	unsigned b = 0;

	while (us && b < PROFILE_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

void profile_exit(struct vcpu *v, enum exit_kind kind, uint64_t rip, uint64_t tsc_in_petrel)
{
	struct profile *p = &profiles[v->vm->id];
	struct rip_entry *e = NULL;

	if (kind >= NR_EXIT_KINDS)
		return;
	p->count[kind]++;
	p->hist[kind][bucket(tsc_in_petrel)]++;
	if (kind == EXIT_NONE)
		return; /* an interrupt's RIP says nothing about its cause */
	for (uint32_t i = 0; i < p->nr_rips; i++)
		if (p->rips[i].rip == rip && p->rips[i].kind == kind) {
			e = &p->rips[i];
			break;
		}
	if (!e) {
		if (p->nr_rips == PROFILE_RIPS) {
			p->rips_missed++;
			return;
		}
		e = &p->rips[p->nr_rips++];
		*e = (struct rip_entry){ .rip = rip, .kind = (uint8_t)kind };
		/* The bytes at the exit's RIP (the handler may have moved RIP
		 * on; CS and the page tables are as they were), fetched once. */
		enum x86_mode mode;
		e->len = (uint8_t)vcpu_insn_bytes(v, rip, e->bytes, &mode);
		e->mode = (uint8_t)mode;
	}
	e->count++;
}

int profile_start(struct vm *vm, uint32_t seconds)
{
	struct profile *p = &profiles[vm->id];

	if (vm->profiling || !seconds || seconds > PROFILE_MAX_S)
		return -1;
	spin_lock(&vm->lock);
	memset(p, 0, sizeof(*p));
	p->start = rdtsc();
	p->end = p->start + tsc_hz * seconds;
	vm->profiling = true;
	spin_unlock(&vm->lock);
	return 0;
}

/* A name for the instructions that exit, from their decoded opcode. */
static const char *mnemonic(const struct x86_insn *i)
{
	if (i->vex)
		return "a VEX/EVEX instruction";
	if (i->opmap == 0) {
		switch (i->opcode) {
		case 0xf4: return "hlt";
		case 0xe4: case 0xe5: case 0xec: case 0xed: return "in";
		case 0xe6: case 0xe7: case 0xee: case 0xef: return "out";
		case 0x6c: case 0x6d: return i->rep ? "rep ins" : "ins";
		case 0x6e: case 0x6f: return i->rep ? "rep outs" : "outs";
		case 0x88: case 0x89: case 0x8a: case 0x8b: case 0xc6: case 0xc7:
		case 0xa0: case 0xa1: case 0xa2: case 0xa3: return "mov";
		case 0x90: return i->rep == 0xf3 ? "pause" : "nop";
		case 0xa4: case 0xa5: return i->rep ? "rep movs" : "movs";
		case 0xaa: case 0xab: return i->rep ? "rep stos" : "stos";
		case 0xcc: return "int3";
		case 0xcd: return "int";
		case 0xcf: return "iret";
		case 0xfa: return "cli";
		case 0xfb: return "sti";
		default: break;
		}
	} else if (i->opmap == 1) {
		switch (i->opcode) {
		case 0xa2: return "cpuid";
		case 0x30: return "wrmsr";
		case 0x32: return "rdmsr";
		case 0x31: return "rdtsc";
		case 0x20: case 0x22: return "mov (control register)";
		case 0x21: case 0x23: return "mov (debug register)";
		case 0x06: return "clts";
		case 0x08: return "invd";
		case 0x09: return "wbinvd";
		case 0x0b: return "ud2";
		case 0xb6: case 0xb7: return "movzx";
		case 0x01:
			return i->modrm == 0xd1 ? "xsetbv" : i->modrm == 0xd0 ? "xgetbv" :
			       i->modrm == 0xf9 ? "rdtscp" : ((i->modrm >> 3) & 7) == 7 ? "invlpg" : "0f 01 (system)";
		default: break;
		}
	}
	return NULL;
}

static void print_rip(const struct rip_entry *e, uint64_t total)
{
	char bytes[X86_MAX_INSN_LEN * 3 + 1] = "", what[48] = "not fetched";
	struct x86_insn insn;
	size_t n = 0;

	if (e->len && x86_decode(e->bytes, e->len, (enum x86_mode)e->mode, &insn) == X86_DECODE_OK) {
		const char *m = mnemonic(&insn);
		for (unsigned i = 0; i < insn.len; i++)
			n += (size_t)pt_snprintf(bytes + n, sizeof(bytes) - n, "%s%02x", i ? " " : "", e->bytes[i]);
		if (m)
			pt_snprintf(what, sizeof(what), "%s", m);
		else
			pt_snprintf(what, sizeof(what), "opcode %s%02x", insn.opmap == 1 ? "0f " : "", insn.opcode);
	} else if (e->len) {
		pt_snprintf(what, sizeof(what), "does not decode");
	}
	log_raw("  %016llx %10llu %3llu%%  %-8s %-30s %s\n", (unsigned long long)e->rip,
		(unsigned long long)e->count, (unsigned long long)(total ? e->count * 100 / total : 0),
		exit_kind_name((enum exit_kind)e->kind), bytes, what);
}

static void report(struct vm *vm, struct profile *p)
{
	uint64_t total = 0, ms = (p->end - p->start) / (tsc_hz / 1000 ? tsc_hz / 1000 : 1);
	bool shown[PROFILE_RIPS] = { false };

	for (int k = 0; k < NR_EXIT_KINDS; k++)
		total += p->count[k];
	log_raw("profile of vm %s: %llu exits in %llu ms, %llu a second\n", vm->name, (unsigned long long)total,
		(unsigned long long)ms, (unsigned long long)(ms ? total * 1000 / ms : 0));
	log_raw("  %-11s %10s %9s   time in Petrel per exit: <1 <2 <4 <8 <16 <32 <64 <128 <256 <512 <1024 us, more\n",
		"exit", "count", "a second");
	for (int k = 0; k < NR_EXIT_KINDS; k++) {
		char hist[PROFILE_BUCKETS * 12] = "";
		size_t n = 0;
		if (!p->count[k])
			continue;
		for (unsigned b = 0; b < PROFILE_BUCKETS; b++)
			n += (size_t)pt_snprintf(hist + n, sizeof(hist) - n, " %llu", (unsigned long long)p->hist[k][b]);
		log_raw("  %-11s %10llu %9llu  %s\n", exit_kind_name((enum exit_kind)k), (unsigned long long)p->count[k],
			(unsigned long long)(ms ? p->count[k] * 1000 / ms : 0), hist);
	}
	log_raw("  the guest RIPs that caused most exits (%u seen%s):\n", p->nr_rips,
		p->rips_missed ? ", more not counted" : "");
	for (unsigned t = 0; t < PROFILE_TOP; t++) {
		int best = -1;
		for (uint32_t i = 0; i < p->nr_rips; i++)
			if (!shown[i] && (best < 0 || p->rips[i].count > p->rips[best].count))
				best = (int)i;
		if (best < 0)
			break;
		shown[best] = true;
		print_rip(&p->rips[best], total);
	}
}

void profile_service(void)
{
	uint64_t now;

	if (this_cpu()->cpu_id != 0)
		return;
	now = rdtsc();
	for (uint32_t i = 0; i < MAX_VMS; i++) {
		struct vm *vm = &vms[i];
		if (!vm->profiling || (now < profiles[i].end && vm->state == VM_RUNNING))
			continue;
		spin_lock(&vm->lock);
		vm->profiling = false;
		profiles[i].end = MIN(now, profiles[i].end);
		spin_unlock(&vm->lock);
		report(vm, &profiles[i]);
	}
}

bool profile_pending(void)
{
	for (uint32_t i = 0; i < MAX_VMS; i++)
		if (vms[i].profiling)
			return true;
	return false;
}
