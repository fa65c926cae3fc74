/* SPDX-License-Identifier: MIT */
/*
 * Petrel's shell, on the serial console when it has the input focus
 * (console.c; Ctrl-A three times moves it there).  It runs on CPU 0, in
 * that CPU's run loop, a typed byte at a time: a line is edited
 * (console_input.c: backspace, Ctrl-U, Ctrl-C; terminal escape sequences
 * ignored) and run when it ends.  Every answer is plain lines; an error is
 * one line.
 */
#include <arch/cpu.h>
#include <petrel/console.h>
#include <petrel/console_input.h>
#include <petrel/debug.h>
#include <petrel/drivers.h>
#include <petrel/gdb_packet.h>
#include <petrel/gdbstub.h>
#include <petrel/gmem.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>
#include <petrel/vm.h>

#include "core.h"

#define MAX_ARGS 8
#define PAUSE_WAIT_US 200000 /* how long `vm pause` waits for every vCPU to leave the guest */

static struct line_editor editor;

static const char prompt[] = "petrel> ";

static void echo(const char *s)
{
	for (; *s; s++)
		log_console_byte(prompt, NULL, *s);
}

void shell_enter(void)
{
	echo(prompt);
	echo(editor.buf); /* what was typed before the focus went elsewhere */
}

/* --- commands ----------------------------------------------------------- */

struct command {
	const char *name, *args, *help;
	void (*run)(int argc, char **argv);
};

static const struct command *command_table(void); /* after the commands */
static struct vcpu *paused_vcpu(const char *name, const char *which);
static void cmd_vcpu_regs(struct vcpu *v);

static struct vm *vm_named(const char *name)
{
	for (uint32_t i = 0; i < MAX_VMS; i++)
		if (vms[i].state != VM_FREE && !strcmp(vms[i].name, name))
			return &vms[i];
	log_raw("petrel: error: no VM named '%s' (vm list shows them)\n", name);
	return NULL;
}

static const char *state_name(const struct vm *vm)
{
	switch (vm->state) {
	case VM_RUNNING: return vm->paused ? "paused" : "running";
	case VM_RESETTING: return "resetting";
	case VM_STOPPED: return "stopped";
	default: return "free";
	}
}

static void cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	log_raw("Petrel's shell; Ctrl-A three times moves the console's input to the next VM.\n");
	for (const struct command *c = command_table(); c->name; c++) {
		char usage[48];
		pt_snprintf(usage, sizeof(usage), "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
		log_raw("  %-34s %s\n", usage, c->help);
	}
}

static void cmd_version(int argc, char **argv)
{
	uint32_t n = 0;
	(void)argc, (void)argv;
	for (uint32_t c = 0; c < MAX_CPUS; c++)
		n += percpu_of[c] != NULL;
	log_raw("Petrel %s, %s backend, %u CPUs, up %llu s\n", PETREL_VERSION, vcpu_ops ? vcpu_ops->name : "no",
		n, (unsigned long long)(rdtsc() / (tsc_hz ? tsc_hz : 1)));
}

static void vm_list(void)
{
	log_raw("%-16s %-10s %5s %8s  %s\n", "VM", "state", "vCPUs", "MiB", "CPUs (vCPU 0, 1, ...)");
	for (uint32_t i = 0; i < MAX_VMS; i++) {
		struct vm *vm = &vms[i];
		char where[64] = "";
		size_t n = 0;
		if (vm->state == VM_FREE)
			continue;
		for (uint32_t j = 0; j < vm->nr_vcpus; j++)
			n += (size_t)pt_snprintf(where + n, sizeof(where) - n, "%s%u", j ? "," : "", vm->vcpu[j].pcpu);
		log_raw("%-16s %-10s %5u %8llu  %s%s\n", vm->name, state_name(vm), vm->nr_vcpus,
			(unsigned long long)(vm->ram_size >> 20), where, vm->vcpu[0].floats ? " (floating)" : "");
	}
}

static void vm_do_pause(struct vm *vm)
{
	if (vm->state != VM_RUNNING) {
		log_raw("petrel: error: vm %s is %s: only a running VM is paused\n", vm->name, state_name(vm));
		return;
	}
	if (vm_pause_wait(vm, PAUSE_WAIT_US))
		log_raw("vm %s paused: its %u vCPU%s out of the guest and held\n", vm->name, vm->nr_vcpus,
			vm->nr_vcpus == 1 ? "" : "s");
	else
		log_raw("vm %s pausing: a vCPU is still in the guest after %u ms\n", vm->name, PAUSE_WAIT_US / 1000);
}

static void cmd_vm(int argc, char **argv)
{
	struct vm *vm;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		vm_list();
		return;
	}
	if (argc != 3 || (strcmp(argv[1], "pause") && strcmp(argv[1], "resume") && strcmp(argv[1], "reset") &&
			  strcmp(argv[1], "stop") && strcmp(argv[1], "output"))) {
		log_raw("petrel: error: usage: vm list | vm pause|resume|reset|stop|output NAME\n");
		return;
	}
	if (!(vm = vm_named(argv[2])))
		return;
	if (!strcmp(argv[1], "output")) {
		console_show_output(vm, 4096);
	} else if (!strcmp(argv[1], "pause")) {
		vm_do_pause(vm);
	} else if (!strcmp(argv[1], "resume")) {
		if (debug_held(vm)) { /* GDB's continue or detach lets it go */
			log_raw("petrel: error: vm %s is held by GDB: continue or detach there\n", vm->name);
			return;
		}
		if (!vm->paused) {
			log_raw("petrel: error: vm %s is not paused\n", vm->name);
			return;
		}
		vm_resume(vm);
		log_raw("vm %s resumed\n", vm->name);
	} else if (vm->state != VM_RUNNING && vm->state != VM_RESETTING) {
		log_raw("petrel: error: vm %s is %s\n", vm->name, state_name(vm));
	} else {
		spin_lock(&vm->lock);
		if (!strcmp(argv[1], "reset"))
			vm_reset(vm, "the shell's vm reset");
		else
			vm_stop(vm, "the shell's vm stop");
		spin_unlock(&vm->lock);
		if (vm->paused)
			vm_resume(vm); /* a reset VM starts afresh; a stopped one stays stopped */
	}
}

static const char *vcpu_state(const struct vcpu *v)
{
	if (v->vm->state != VM_RUNNING)
		return state_name(v->vm);
	if (v->vm->paused)
		return "paused";
	if (v->wait_sipi)
		return "waiting for SIPI";
	if (v->halted)
		return "halted";
	return v->in_run ? "in guest" : "ready";
}

static void cmd_vcpu(int argc, char **argv)
{
	struct vcpu *pv;

	if (argc == 4 && !strcmp(argv[1], "regs")) {
		if ((pv = paused_vcpu(argv[2], argv[3])))
			cmd_vcpu_regs(pv);
		return;
	}
	if (argc != 2 || strcmp(argv[1], "list")) {
		log_raw("petrel: error: usage: vcpu list | vcpu regs VM N\n");
		return;
	}
	log_raw("%-16s %4s %4s %-17s %12s %8s\n", "VM", "vCPU", "CPU", "state", "exits", "moves");
	for (uint32_t i = 0; i < MAX_VMS; i++)
		for (uint32_t j = 0; vms[i].state != VM_FREE && j < vms[i].nr_vcpus; j++) {
			const struct vcpu *v = &vms[i].vcpu[j];
			log_raw("%-16s %4u %4u %-17s %12llu %8llu\n", vms[i].name, j, v->pcpu, vcpu_state(v),
				(unsigned long long)v->exits_total, (unsigned long long)v->migrations);
		}
}

static void cmd_stats(int argc, char **argv)
{
	(void)argc, (void)argv;
	for (uint32_t i = 0; i < MAX_VMS; i++)
		if (vms[i].state != VM_FREE)
			vm_print_stats(&vms[i]);
}

static void cmd_cpus(int argc, char **argv)
{
	(void)argc, (void)argv;
	run_show_cpus();
}

static void cmd_exitcost(int argc, char **argv)
{
	(void)argc, (void)argv;
	if (!exit_floor_cpuid_ns) {
		log_raw("petrel: error: the exit floor was not measured at boot\n");
		return;
	}
	log_raw("exit floor (measured at boot, empty handlers): cpuid %llu ns, port read %llu ns\n",
		(unsigned long long)exit_floor_cpuid_ns, (unsigned long long)exit_floor_in_ns);
}

/* --- a paused VM's vCPUs and memory --------------------------------------- */

/* A number as typed: decimal, or hex with 0x. */
static bool parse_num(const char *s, uint64_t *out)
{
	return parse_u64(s, strlen(s), out, false);
}

/* vCPU `which` of VM `name`, which must be paused (its registers are then
 * in v->regs, fetched by its own CPU: run.c). */
static struct vcpu *paused_vcpu(const char *name, const char *which)
{
	struct vm *vm = vm_named(name);
	uint64_t n;

	if (!vm)
		return NULL;
	if (!parse_num(which, &n) || n >= vm->nr_vcpus) {
		log_raw("petrel: error: vm %s has vCPUs 0 to %u, not '%s'\n", vm->name, vm->nr_vcpus - 1, which);
		return NULL;
	}
	if (!vm_is_paused(vm)) {
		log_raw("petrel: error: vm %s is %s: pause it first (vm pause %s)\n", vm->name,
			vm->paused ? "still pausing" : state_name(vm), vm->name);
		return NULL;
	}
	return &vm->vcpu[n];
}

static void print_seg(const char *name, const struct segment *s)
{
	log_raw("  %-4s sel %04x base %016llx limit %08x attr %03x\n", name, s->sel, (unsigned long long)s->base,
		s->limit, s->attr);
}

static void cmd_vcpu_regs(struct vcpu *v)
{
	static const char *const gpr_names[NR_GPRS] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
							 "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };
	static const char *const seg_names[NR_SEGS] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr" };
	const struct vcpu_regs *r = &v->regs;
	const struct vcpu_irq_source *src = NULL;
	bool queued;

	log_raw("vm %s vcpu %u (CPL %u, %s):\n", v->vm->name, v->id, r->cpl,
		v->wait_sipi ? "waiting for SIPI" : v->halted ? "halted" : "paused");
	log_raw("  rip %016llx rflags %016llx\n", (unsigned long long)r->rip, (unsigned long long)r->rflags);
	for (int i = 0; i < NR_GPRS; i += 4)
		log_raw("  %-3s %016llx %-3s %016llx %-3s %016llx %-3s %016llx\n", gpr_names[i],
			(unsigned long long)r->gpr[i], gpr_names[i + 1], (unsigned long long)r->gpr[i + 1],
			gpr_names[i + 2], (unsigned long long)r->gpr[i + 2], gpr_names[i + 3],
			(unsigned long long)r->gpr[i + 3]);
	log_raw("  cr0 %016llx cr2 %016llx cr3 %016llx\n  cr4 %016llx efer %016llx\n",
		(unsigned long long)r->cr0, (unsigned long long)r->cr2, (unsigned long long)r->cr3,
		(unsigned long long)r->cr4, (unsigned long long)r->efer);
	for (int i = 0; i < NR_SEGS; i++)
		print_seg(seg_names[i], &r->seg[i]);
	log_raw("  gdtr base %016llx limit %04x  idtr base %016llx limit %04x\n", (unsigned long long)r->gdtr.base,
		r->gdtr.limit, (unsigned long long)r->idtr.base, r->idtr.limit);
	spin_lock(&v->vm->lock);
	for (unsigned i = 0; i < VCPU_IRQ_SOURCES && v->irq[i].pending && !src; i++)
		if (v->irq[i].pending(v->irq[i].ctx))
			src = &v->irq[i];
	spin_unlock(&v->vm->lock);
	queued = vcpu_ops->irq_queued && vcpu_ops->irq_queued(v);
	log_raw("  pending: %s%s%s%s%s\n",
		v->event.pending ? (v->event.type == EV_NMI ? "NMI being injected " :
				    v->event.type == EV_EXCEPTION ? "exception being injected " :
								    "interrupt being injected ") : "",
		queued ? "interrupt handed to the CPU not yet taken " : "",
		v->nmi_pending ? "NMI " : "", src ? "an interrupt for the guest " : "",
		v->event.pending || queued || v->nmi_pending || src ? "" : "nothing");
}

/* The guest-physical page behind gva through v's page tables, as a
 * supervisor read would find it (accessed flags set, as the CPU's own walk
 * sets them); false with the line printed if there is none. */
static bool shell_translate(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	uint32_t err = 0;
	int rc;

	if (v->regs.efer & EFER_LMA) {
		if (!gva_canonical(v, gva)) {
			log_raw("petrel: error: 0x%llx is not canonical\n", (unsigned long long)gva);
			return false;
		}
	} else {
		gva &= 0xffffffffull;
	}
	spin_lock(&v->vm->lock);
	rc = gva_translate(v, gva, 0, gpa, &err);
	spin_unlock(&v->vm->lock);
	if (rc) {
		log_raw("petrel: error: 0x%llx is not mapped for a read (#PF error code 0x%x)\n",
			(unsigned long long)gva, err);
		return false;
	}
	return true;
}

static void cmd_translate(int argc, char **argv)
{
	struct vcpu *v;
	uint64_t gva, gpa;

	if (argc != 4 || !parse_num(argv[3], &gva)) {
		log_raw("petrel: error: usage: translate VM VCPU ADDRESS\n");
		return;
	}
	if (!(v = paused_vcpu(argv[1], argv[2])) || !shell_translate(v, gva, &gpa))
		return;
	log_raw("vm %s vcpu %u: 0x%llx -> guest-physical 0x%llx (CR3 0x%llx)\n", v->vm->name, v->id,
		(unsigned long long)gva, (unsigned long long)gpa, (unsigned long long)v->regs.cr3);
}

#define MEM_MAX 4096

/* 16 bytes a line, hex and ASCII. */
static void dump_line(uint64_t addr, const uint8_t *b, uint32_t n)
{
	char hex[16 * 3 + 1] = "", asc[17] = "";
	size_t h = 0;

	for (uint32_t i = 0; i < n; i++) {
		h += (size_t)pt_snprintf(hex + h, sizeof(hex) - h, "%02x ", b[i]);
		asc[i] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
	}
	asc[n] = '\0';
	log_raw("  %016llx  %-48s %s\n", (unsigned long long)addr, hex, asc);
}

/* mem VM ADDRESS LENGTH: guest-physical RAM and ROM (a device's registers
 * are not read: reading may change them); mem VM vcpu N ADDRESS LENGTH:
 * guest-virtual, through that paused vCPU's page tables. */
static void cmd_mem(int argc, char **argv)
{
	struct vm *vm;
	struct vcpu *v = NULL;
	uint64_t addr, len;
	bool virt = argc == 6;

	if ((argc != 4 && argc != 6) || (virt && strcmp(argv[2], "vcpu")) ||
	    !parse_num(argv[virt ? 4 : 2], &addr) || !parse_num(argv[virt ? 5 : 3], &len)) {
		log_raw("petrel: error: usage: mem VM ADDRESS LENGTH | mem VM vcpu N ADDRESS LENGTH\n");
		return;
	}
	if (!len || len > MEM_MAX) {
		log_raw("petrel: error: a length of 1 to %u bytes\n", MEM_MAX);
		return;
	}
	if (virt ? !(v = paused_vcpu(argv[1], argv[3])) : !(vm = vm_named(argv[1])))
		return;
	if (virt)
		vm = v->vm;
	log_raw("vm %s, %s 0x%llx, %llu bytes:\n", vm->name, virt ? "guest-virtual" : "guest-physical",
		(unsigned long long)addr, (unsigned long long)len);
	for (uint64_t done = 0; done < len;) {
		uint64_t a = addr + done, gpa = a, n = MIN(len - done, 16 - (a & 15));
		uint8_t buf[16];
		const void *host;
		if (virt && !shell_translate(v, a, &gpa))
			return;
		spin_lock(&vm->lock);
		host = gpa_to_hva(vm, gpa, n);
		if (host)
			memcpy(buf, host, n);
		spin_unlock(&vm->lock);
		if (!host) {
			log_raw("petrel: error: guest-physical 0x%llx is not RAM or ROM: not read\n",
				(unsigned long long)gpa);
			return;
		}
		dump_line(a, buf, (uint32_t)n);
		done += n;
	}
}

static void cmd_profile(int argc, char **argv)
{
	struct vm *vm;
	uint64_t s = 5;

	if ((argc != 2 && argc != 3) || (argc == 3 && !parse_num(argv[2], &s))) {
		log_raw("petrel: error: usage: profile VM [SECONDS]\n");
		return;
	}
	if (!(vm = vm_named(argv[1])))
		return;
	if (vm->state != VM_RUNNING || vm->paused) {
		log_raw("petrel: error: vm %s is %s: only a running VM has exits to profile\n", vm->name,
			state_name(vm));
		return;
	}
	if (s < 1 || s > 60 || profile_start(vm, (uint32_t)s)) {
		log_raw("petrel: error: %s\n", s < 1 || s > 60 ? "a profile runs 1 to 60 seconds" :
			"vm is being profiled already");
		return;
	}
	log_raw("profiling vm %s for %llu s: the report follows then\n", vm->name, (unsigned long long)s);
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static void cmd_loglevel(int argc, char **argv)
{
	if (argc == 1) {
		log_raw("loglevel %s\n", level_names[log_level]);
		return;
	}
	for (int i = 0; argc == 2 && i < (int)ARRAY_SIZE(level_names); i++)
		if (!strcmp(argv[1], level_names[i])) {
			log_level = i;
			log_raw("loglevel %s\n", level_names[i]);
			return;
		}
	log_raw("petrel: error: usage: loglevel [error|warn|info|debug]\n");
}

static void cmd_reboot(int argc, char **argv)
{
	(void)argc, (void)argv;
	log_raw("petrel: rebooting the machine\n");
	machine_reset();
	log_raw("petrel: error: the machine did not reset\n");
}

static void cmd_poweroff(int argc, char **argv)
{
	(void)argc, (void)argv;
	log_raw("petrel: powering the machine off (ACPI S5)\n");
	if (machine_poweroff())
		log_raw("petrel: error: the machine is still on (no \\_S5_ in the firmware's DSDT, or no PM1a_CNT)\n");
}

static void cmd_gdb(int argc, char **argv)
{
	struct vm *vm;

	if (argc != 2) {
		log_raw("petrel: error: usage: gdb VM\n");
		return;
	}
	if ((vm = vm_named(argv[1])))
		gdb_console_start(vm);
}

static const struct command commands[] = {
	{ "help", "", "this list", cmd_help },
	{ "version", "", "Petrel's version, backend, CPUs, uptime", cmd_version },
	{ "vm", "list", "the VMs: state, vCPUs, memory, CPUs", cmd_vm },
	{ "vm", "pause|resume NAME", "hold every vCPU of the VM out of the guest, or let them go on", cmd_vm },
	{ "vm", "reset|stop NAME", "reset the VM as a PC resets, or stop it for good", cmd_vm },
	{ "vm", "output NAME", "the last 4 KiB the VM wrote on its console", cmd_vm },
	{ "vcpu", "list", "every vCPU: its CPU, state, exits, moves between CPUs", cmd_vcpu },
	{ "vcpu", "regs VM N", "a paused vCPU's registers and pending events", cmd_vcpu },
	{ "translate", "VM N ADDRESS", "a guest-virtual address through a paused vCPU's page tables", cmd_translate },
	{ "mem", "VM ADDRESS LENGTH", "guest-physical memory (RAM and ROM), hex and ASCII", cmd_mem },
	{ "mem", "VM vcpu N ADDRESS LENGTH", "guest-virtual memory through a paused vCPU's page tables", cmd_mem },
	{ "stats", "", "exits by reason and time in Petrel, per vCPU", cmd_stats },
	{ "profile", "VM [SECONDS]", "exits a second by reason, time histograms, the RIPs behind them (5 s)", cmd_profile },
	{ "cpus", "", "the physical CPUs: what each runs, how idle", cmd_cpus },
	{ "exitcost", "", "Petrel's own exit round trips, measured at boot", cmd_exitcost },
	{ "gdb", "VM", "this port speaks GDB's protocol for the VM (README: Debugging a guest with GDB)", cmd_gdb },
	{ "loglevel", "[error|warn|info|debug]", "show or set what Petrel logs", cmd_loglevel },
	{ "reboot", "", "reset the whole machine", cmd_reboot },
	{ "poweroff", "", "power the whole machine off (ACPI S5)", cmd_poweroff },
	{ NULL, NULL, NULL, NULL },
};

static const struct command *command_table(void)
{
	return commands;
}

static void unknown(const char *word)
{
	char close[120] = "";
	size_t n = 0;

	for (const struct command *c = commands; c->name && n < sizeof(close); c++) {
		if (c != commands && !strcmp(c->name, c[-1].name))
			continue;
		if (edit_distance(word, c->name) <= 2 || !strncmp(word, c->name, strlen(word) ? strlen(word) : 1))
			n += (size_t)pt_snprintf(close + n, sizeof(close) - n, "%s%s", n ? ", " : "", c->name);
	}
	log_raw("petrel: error: unknown command '%s'%s%s%s\n", word, n ? "; close: " : "", close,
		n ? "" : " (help lists the commands)");
}

static void run_line(char *s)
{
	char *argv[MAX_ARGS + 1];
	int argc = line_split(s, argv, MAX_ARGS);

	if (argc < 0) {
		log_raw("petrel: error: more than %d words\n", MAX_ARGS);
		return;
	}
	if (!argc)
		return;
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, argv[0])) {
			c->run(argc, argv);
			return;
		}
	unknown(argv[0]);
}

/* Where a command takes the VM's name: after `vm X` and `vcpu X` (but
 * not their `list`), after translate, mem, profile and gdb. */
static int vm_position(int argc, char **argv)
{
	static const char *const second[] = { "translate", "mem", "profile", "gdb" };

	if (!strcmp(argv[0], "vm") || !strcmp(argv[0], "vcpu"))
		return argc >= 2 && strcmp(argv[1], "list") ? 2 : 0;
	for (unsigned i = 0; i < ARRAY_SIZE(second); i++)
		if (!strcmp(argv[0], second[i]))
			return 1;
	return 0;
}

void shell_run_for_vm(struct vm *vm, const char *line)
{
	static char buf[GDB_MONITOR_MAX + 1];
	char *argv[MAX_ARGS + 2];
	int argc, at;

	str_copy(buf, line, sizeof(buf));
	argc = line_split(buf, argv, MAX_ARGS);
	if (argc <= 0) {
		log_raw(argc < 0 ? "petrel: error: more than %d words\n" : "petrel: monitor: a shell command (help lists them)\n",
			MAX_ARGS);
		return;
	}
	if ((at = vm_position(argc, argv))) {
		memmove(&argv[at + 1], &argv[at], (size_t)(argc - at) * sizeof(argv[0]));
		argv[at] = vm->name;
		argc++;
	}
	argv[argc] = NULL;
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, argv[0])) {
			if (c->run == cmd_gdb || c->run == cmd_reboot || c->run == cmd_poweroff)
				log_raw("petrel: error: '%s' is not for GDB's monitor (use the shell)\n", argv[0]);
			else
				c->run(argc, argv);
			return;
		}
	unknown(argv[0]);
}

/* --- the line editor (console_input.c) ------------------------------------ */

void shell_input(uint8_t c)
{
	char out[8];

	switch (line_feed(&editor, c, out, sizeof(out))) {
	case LINE_READY:
		echo(out);
		run_line(editor.buf);
		break;
	case LINE_TOO_LONG:
		echo(out);
		log_raw("petrel: error: line too long (at most %d characters): not run\n", LINE_EDIT_MAX);
		break;
	case LINE_CANCELLED:
		echo(out);
		echo(prompt);
		return;
	case LINE_NONE:
		echo(out);
		return;
	}
	line_reset(&editor);
	echo(prompt);
}
