/* SPDX-License-Identifier: MIT */
/*
 * The GDB stub: GDB's remote serial protocol (the GDB manual, "Remote
 * Protocol") for one VM per port, in all-stop mode.  Framing and command
 * parsing are gdb_packet.c's (pure, fuzzed); breakpoints, steps and stops
 * are debug.c's.  This file ties them to a port and a VM:
 *
 *   - the VM's vCPUs are GDB's threads (thread N+1 is vCPU N);
 *   - registers come from the paused vCPU's struct vcpu_regs, described
 *     by a target description made here: x86-64 for a vCPU in long mode at
 *     attach, i386 otherwise, with the segment bases and control registers;
 *     the x87 and SSE registers are reported unavailable;
 *   - memory is by guest-linear address through the selected vCPU's page
 *     tables (debug_read, debug_write);
 *   - `monitor CMD` runs the shell's CMD for this VM, its lines sent back
 *     as console output.
 *
 * Nothing here waits for GDB: a reply is written when its packet arrives,
 * a stop reply when debug_stopped says the VM has stopped (gdb_poll).
 */
#include <arch/cpu.h>
#include <petrel/console.h>
#include <petrel/debug.h>
#include <petrel/drivers.h>
#include <petrel/gdb_packet.h>
#include <petrel/gdbstub.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/vm.h>

#include "core.h"

#define PAUSE_WAIT_US 200000 /* how long a packet waits for every vCPU to leave the guest */
#define MONITOR_CHUNK 256    /* bytes of monitor output per O packet */
#define XML_MAX 8192

/* --- registers and the target description --------------------------------- */

enum reg_kind { RK_GPR, RK_RIP, RK_FLAGS, RK_SEL, RK_SEGBASE, RK_CR, RK_EFER, RK_DT_BASE, RK_DT_LIMIT, RK_NONE };
enum feature { F_CORE, F_SSE, F_SEGMENTS, F_SYS, NR_FEATURES };

struct reg {
	const char *name, *type, *group;
	uint8_t bits, kind, idx, feature;
};

#define MAX_REGS 96

static const char *const feature_names[NR_FEATURES] = {
	"org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments", "org.petrel.x86.sys",
};

/* GDB's register numbering for each mode: its names, in its order
 * (gdb/features/i386/64bit-core.xml, 32bit-core.xml and the others). */
static unsigned describe(struct reg *r, bool lm)
{
	static const char *const g64[16] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
					     "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };
	static const uint8_t i64[16] = { GPR_RAX, GPR_RBX, GPR_RCX, GPR_RDX, GPR_RSI, GPR_RDI, GPR_RBP, GPR_RSP,
					 8, 9, 10, 11, 12, 13, 14, 15 };
	static const char *const g32[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
	static const char *const sels[6] = { "cs", "ss", "ds", "es", "fs", "gs" };
	static const uint8_t sel_idx[6] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS };
	static const char *const x87[8] = { "fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop" };
	static const char *const xmm[16] = { "xmm0", "xmm1", "xmm2",  "xmm3",  "xmm4",  "xmm5",  "xmm6",  "xmm7",
					     "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15" };
	static const char *const st[8] = { "st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7" };
	static const char *const crs[4] = { "cr0", "cr2", "cr3", "cr4" };
	static const uint8_t cr_idx[4] = { 0, 2, 3, 4 };
	static const char *const bases[4] = { "cs_base", "ss_base", "ds_base", "es_base" };
	uint8_t w = lm ? 64 : 32;
	unsigned n = 0;

#define ADD(...) (r[n++] = (struct reg){ __VA_ARGS__ })
	for (unsigned i = 0; i < (lm ? 16u : 8u); i++) {
		uint8_t idx = lm ? i64[i] : (uint8_t)i;
		ADD(.name = lm ? g64[i] : g32[i], .bits = w, .kind = RK_GPR, .idx = idx, .feature = F_CORE,
		    .type = idx == GPR_RSP || idx == GPR_RBP ? "data_ptr" : lm ? "int64" : "int32");
	}
	ADD(.name = lm ? "rip" : "eip", .bits = w, .kind = RK_RIP, .type = "code_ptr", .feature = F_CORE);
	ADD(.name = "eflags", .bits = 32, .kind = RK_FLAGS, .type = "int32", .feature = F_CORE);
	for (unsigned i = 0; i < 6; i++)
		ADD(.name = sels[i], .bits = 32, .kind = RK_SEL, .idx = sel_idx[i], .type = "int32", .feature = F_CORE);
	for (unsigned i = 0; i < 8; i++)
		ADD(.name = st[i], .bits = 80, .kind = RK_NONE, .type = "i387_ext", .feature = F_CORE);
	for (unsigned i = 0; i < 8; i++)
		ADD(.name = x87[i], .bits = 32, .kind = RK_NONE, .type = "int", .group = "float", .feature = F_CORE);
	for (unsigned i = 0; i < (lm ? 16u : 8u); i++)
		ADD(.name = xmm[i], .bits = 128, .kind = RK_NONE, .type = "uint128", .feature = F_SSE);
	ADD(.name = "mxcsr", .bits = 32, .kind = RK_NONE, .type = "int", .group = "vector", .feature = F_SSE);
	/* GDB 13's i386 (not x86-64) trips over its own segments feature:
	 * there the bases are Petrel's. */
	ADD(.name = "fs_base", .bits = w, .kind = RK_SEGBASE, .idx = SEG_FS, .type = "int", .feature = lm ? F_SEGMENTS : F_SYS);
	ADD(.name = "gs_base", .bits = w, .kind = RK_SEGBASE, .idx = SEG_GS, .type = "int", .feature = lm ? F_SEGMENTS : F_SYS);
	for (unsigned i = 0; i < 4; i++)
		ADD(.name = crs[i], .bits = 64, .kind = RK_CR, .idx = cr_idx[i], .type = "int", .group = "system",
		    .feature = F_SYS);
	ADD(.name = "efer", .bits = 64, .kind = RK_EFER, .type = "int", .group = "system", .feature = F_SYS);
	for (unsigned i = 0; i < 4; i++)
		ADD(.name = bases[i], .bits = 64, .kind = RK_SEGBASE, .idx = sel_idx[i], .type = "int", .group = "system",
		    .feature = F_SYS); /* cs ss ds es, as sel_idx */
	ADD(.name = "gdtr_base", .bits = 64, .kind = RK_DT_BASE, .idx = 0, .type = "int", .group = "system", .feature = F_SYS);
	ADD(.name = "gdtr_limit", .bits = 32, .kind = RK_DT_LIMIT, .idx = 0, .type = "int", .group = "system", .feature = F_SYS);
	ADD(.name = "idtr_base", .bits = 64, .kind = RK_DT_BASE, .idx = 1, .type = "int", .group = "system", .feature = F_SYS);
	ADD(.name = "idtr_limit", .bits = 32, .kind = RK_DT_LIMIT, .idx = 1, .type = "int", .group = "system", .feature = F_SYS);
#undef ADD
	return n;
}

/* The target description GDB reads (qXfer:features:read:target.xml). */
static size_t describe_xml(char *out, size_t size, const struct reg *r, unsigned n, bool lm)
{
	size_t len = (size_t)pt_snprintf(out, size,
					 "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
					 "<target version=\"1.0\"><architecture>%s</architecture>",
					 lm ? "i386:x86-64" : "i386");
	for (unsigned f = 0; f < NR_FEATURES; f++) {
		bool any = false;
		for (unsigned i = 0; i < n; i++)
			any |= r[i].feature == f;
		if (!any)
			continue;
		len += (size_t)pt_snprintf(out + len, size - MIN(len, size), "<feature name=\"%s\">", feature_names[f]);
		for (unsigned i = 0; i < n; i++)
			if (r[i].feature == f)
				len += (size_t)pt_snprintf(out + len, size - MIN(len, size),
							   "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\"%s%s%s/>",
							   r[i].name, r[i].bits, r[i].type, r[i].group ? " group=\"" : "",
							   r[i].group ? r[i].group : "", r[i].group ? "\"" : "");
		len += (size_t)pt_snprintf(out + len, size - MIN(len, size), "</feature>");
	}
	len += (size_t)pt_snprintf(out + len, size - MIN(len, size), "</target>");
	return MIN(len, size - 1);
}

static bool reg_get(const struct vcpu *v, const struct reg *r, uint64_t *val)
{
	const struct vcpu_regs *g = &v->regs;

	switch (r->kind) {
	case RK_GPR: *val = g->gpr[r->idx]; break;
	case RK_RIP: *val = g->rip; break;
	case RK_FLAGS: /* the guest's view: not the TF of a step in flight */
		*val = v->dbg.tf_on ? (g->rflags & ~RFLAGS_TF) | (v->dbg.guest_tf ? RFLAGS_TF : 0) : g->rflags;
		break;
	case RK_SEL: *val = g->seg[r->idx].sel; break;
	case RK_SEGBASE: *val = g->seg[r->idx].base; break;
	case RK_CR: *val = r->idx == 0 ? g->cr0 : r->idx == 2 ? g->cr2 : r->idx == 3 ? g->cr3 : g->cr4; break;
	case RK_EFER: *val = g->efer; break;
	case RK_DT_BASE: *val = r->idx ? g->idtr.base : g->gdtr.base; break;
	case RK_DT_LIMIT: *val = r->idx ? g->idtr.limit : g->gdtr.limit; break;
	default: return false;
	}
	if (r->bits < 64)
		*val &= (1ull << r->bits) - 1;
	return true;
}

/* GDB may write the general registers, RIP and RFLAGS; the rest would
 * need the checks a MOV to CRn or a segment load makes. */
static bool reg_set(struct vcpu *v, const struct reg *r, uint64_t val)
{
	struct vcpu_regs *g = &v->regs;
	uint64_t keep = r->bits < 64 ? ~((1ull << r->bits) - 1) : 0;

	switch (r->kind) {
	case RK_GPR: g->gpr[r->idx] = (g->gpr[r->idx] & keep) | val; break;
	case RK_RIP: g->rip = (g->rip & keep) | val; break;
	case RK_FLAGS: /* the defined flags; bit 1 is always set */
		g->rflags = (val & 0x3f7fd7) | 2;
		if (v->dbg.tf_on) {
			v->dbg.guest_tf = val & RFLAGS_TF;
			g->rflags |= RFLAGS_TF;
		}
		break;
	default: return false;
	}
	vcpu_dirty(v, REG_RIP | REG_GPRS); /* RAX, RSP, RIP and RFLAGS are in REG_RIP */
	return true;
}

/* --- sessions -------------------------------------------------------------- */

struct gdb_session {
	const char *port_name;
	struct uart *port;
	struct vm *vm;          /* the VM it debugs (the serial port's may be NULL) */
	bool attached;          /* GDB has talked since the VM was last let go */
	bool running;           /* resumed: a stop reply is owed */
	bool swbreak, hwbreak;  /* GDB takes these stop reasons (qSupported) */
	bool lm;                /* the x86-64 description, else i386 */
	int64_t g_thread, c_thread; /* Hg, Hc: 0 any, else a thread */
	uint32_t last_vcpu;     /* of the last stop */
	unsigned nregs;
	struct reg regs[MAX_REGS];
	char xml[XML_MAX];
	size_t xml_len;
	struct gdb_rx rx;
	uint8_t out[2 * GDB_PACKET_MAX + 8]; /* the last reply, framed (sent again on '-') */
	size_t out_len;
	char mon[MONITOR_CHUNK];
	size_t mon_len;
	uint32_t escapes;       /* Ctrl-A bytes in a row between packets (console) */
};

static struct gdb_session serial = { .port_name = "the GDB serial port", .port = &uart_gdb };
static struct gdb_session console = { .port_name = "the console port", .port = &uart_console };
static bool serial_vm_chosen; /* by a module's gdb= */

static void put_bytes(struct gdb_session *s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		uart_putc(s->port, (char)b[i]);
}

static void reply_n(struct gdb_session *s, const char *data, size_t n)
{
	s->out_len = gdb_frame((const uint8_t *)data, n, s->out, sizeof(s->out));
	put_bytes(s, s->out, s->out_len);
}

static void reply(struct gdb_session *s, const char *str)
{
	reply_n(s, str, strlen(str));
}

static void ack(struct gdb_session *s, char c)
{
	uint8_t b = (uint8_t)c;
	put_bytes(s, &b, 1);
}

/* The vCPU a thread id means: an id, else the last stop's. */
static struct vcpu *vcpu_of(struct gdb_session *s, int64_t t)
{
	if (t > 0)
		return (uint64_t)t <= s->vm->nr_vcpus ? &s->vm->vcpu[t - 1] : NULL;
	return &s->vm->vcpu[s->last_vcpu];
}

/* The VM held and every register fetched (it normally is already: GDB
 * talks only to a stopped target). */
static bool ready(struct gdb_session *s)
{
	return !s->running && s->vm->state == VM_RUNNING && vm_pause_wait(s->vm, PAUSE_WAIT_US);
}

static void end_session(struct gdb_session *s, const char *why);

static void stop_reply(struct gdb_session *s, const struct debug_stop *st)
{
	char b[96];
	size_t n;
	struct vcpu *v = &s->vm->vcpu[st->vcpu];

	s->last_vcpu = st->vcpu;
	s->g_thread = s->c_thread = 0;
	n = (size_t)pt_snprintf(b, sizeof(b), "T%02xthread:%x;", st->why == STOP_INTERRUPT ? 2 : 5, st->vcpu + 1);
	switch (st->why) {
	case STOP_BREAKPOINT:
		if (s->swbreak) {
			n += (size_t)pt_snprintf(b + n, sizeof(b) - n, "swbreak:;");
		} else { /* an older GDB expects RIP past the INT3, as the CPU leaves it */
			v->regs.rip++;
			vcpu_dirty(v, REG_RIP);
		}
		break;
	case STOP_HW_BREAK:
		if (s->hwbreak)
			n += (size_t)pt_snprintf(b + n, sizeof(b) - n, "hwbreak:;");
		break;
	case STOP_WATCH:
		n += (size_t)pt_snprintf(b + n, sizeof(b) - n, "%s:%llx;", st->hw_type == HW_WRITE ? "watch" : "awatch",
					 (unsigned long long)st->addr);
		break;
	default:
		break;
	}
	reply_n(s, b, n);
}

static bool attach(struct gdb_session *s)
{
	struct vm *vm = s->vm;

	if (!vm || vm->state != VM_RUNNING)
		return false;
	if (debug_attach(vm, s)) {
		pr_warn("gdb: vm %s is being debugged on another port: %s refused\n", vm->name, s->port_name);
		return false;
	}
	s->attached = true;
	s->running = false;
	s->g_thread = s->c_thread = 0;
	s->last_vcpu = 0;
	if (!vm_pause_wait(vm, PAUSE_WAIT_US))
		pr_warn("gdb: vm %s: a vCPU is still in the guest after %u ms\n", vm->name, PAUSE_WAIT_US / 1000);
	s->lm = vm->vcpu[0].regs.efer & EFER_LMA;
	s->nregs = describe(s->regs, s->lm);
	s->xml_len = describe_xml(s->xml, sizeof(s->xml), s->regs, s->nregs, s->lm);
	pr_info("gdb: attached to vm %s on %s (%s registers; single steps by %s)\n", vm->name, s->port_name,
		s->lm ? "x86-64" : "i386", vcpu_ops->native_step() ? "the monitor trap flag" : "RFLAGS.TF");
	return true;
}

/* --- packets --------------------------------------------------------------- */

static void read_regs(struct gdb_session *s, struct vcpu *v)
{
	static char b[2 * GDB_PACKET_MAX];
	size_t n = 0;

	for (unsigned i = 0; i < s->nregs; i++) {
		const struct reg *r = &s->regs[i];
		uint64_t val;
		unsigned bytes = r->bits / 8;
		if (reg_get(v, r, &val)) {
			uint8_t le[8];
			for (unsigned k = 0; k < bytes; k++)
				le[k] = (uint8_t)(val >> (8 * k));
			gdb_hex_encode(le, bytes, b + n);
		} else {
			memset(b + n, 'x', 2 * bytes);
		}
		n += 2 * bytes;
	}
	reply_n(s, b, n);
}

/* Little-endian hex of one register's width into a number. */
static bool hex_le(const char *h, unsigned bytes, uint64_t *val)
{
	uint8_t le[16];

	if (bytes > sizeof(le) || gdb_hex_decode(h, bytes, le))
		return false;
	*val = 0;
	for (unsigned k = 0; k < bytes && k < 8; k++)
		*val |= (uint64_t)le[k] << (8 * k);
	return true;
}

static void write_regs(struct gdb_session *s, struct vcpu *v, const struct gdb_cmd *c)
{
	size_t off = 0;

	spin_lock(&s->vm->lock);
	for (unsigned i = 0; i < s->nregs && off < c->data_len; i++) {
		unsigned bytes = s->regs[i].bits / 8;
		uint64_t val, old;
		if (off + 2 * bytes > c->data_len)
			break;
		/* only what GDB changed: the rest is read-only here */
		if (hex_le(c->data + off, bytes, &val) && reg_get(v, &s->regs[i], &old) && old != val)
			reg_set(v, &s->regs[i], val);
		off += 2 * bytes;
	}
	spin_unlock(&s->vm->lock);
	reply(s, "OK");
}

static void one_reg(struct gdb_session *s, struct vcpu *v, const struct gdb_cmd *c, bool write)
{
	const struct reg *r = c->reg < s->nregs ? &s->regs[c->reg] : NULL;
	uint64_t val;
	bool ok;

	if (!r) {
		reply(s, "E02");
		return;
	}
	if (!write) {
		char b[40];
		uint8_t le[16];
		unsigned bytes = r->bits / 8;
		if (!reg_get(v, r, &val)) {
			memset(b, 'x', 2 * bytes);
		} else {
			for (unsigned k = 0; k < bytes; k++)
				le[k] = (uint8_t)(k < 8 ? val >> (8 * k) : 0);
			gdb_hex_encode(le, bytes, b);
		}
		reply_n(s, b, 2 * bytes);
		return;
	}
	spin_lock(&s->vm->lock);
	ok = c->data_len == r->bits / 4 && hex_le(c->data, r->bits / 8, &val) && reg_set(v, r, val);
	spin_unlock(&s->vm->lock);
	reply(s, ok ? "OK" : "E03");
}

static void read_mem(struct gdb_session *s, struct vcpu *v, const struct gdb_cmd *c)
{
	static uint8_t buf[GDB_PACKET_MAX / 2];
	static char hex[GDB_PACKET_MAX];
	uint32_t n = (uint32_t)MIN(c->len, sizeof(buf)), got = 0;

	/* as much as can be read, up to the first byte that cannot */
	while (got < n && !debug_read(v, c->addr + got, buf + got, 1))
		got++;
	if (!got && n) {
		reply(s, "E14"); /* EFAULT */
		return;
	}
	gdb_hex_encode(buf, got, hex);
	reply_n(s, hex, 2 * got);
}

static void write_mem(struct gdb_session *s, struct vcpu *v, const struct gdb_cmd *c)
{
	static uint8_t buf[GDB_PACKET_MAX];

	if (c->len > sizeof(buf) || (c->data_hex && gdb_hex_decode(c->data, c->len, buf))) {
		reply(s, "E01");
		return;
	}
	if (!c->data_hex)
		memcpy(buf, c->data, c->len);
	reply(s, debug_write(v, c->addr, buf, (uint32_t)c->len) ? "E14" : "OK");
}

static void breakpoint(struct gdb_session *s, struct vcpu *v, const struct gdb_cmd *c, bool insert)
{
	static const enum debug_hw_type hw[5] = { HW_EXEC, HW_EXEC, HW_WRITE, HW_ACCESS, HW_ACCESS };
	int rc;

	if (c->bp_type == 3) { /* x86 has no read-only watchpoint */
		reply(s, "");
		return;
	}
	if (c->bp_type == 0)
		rc = insert ? debug_sw_insert(v, c->addr) : debug_sw_remove(s->vm, c->addr);
	else
		rc = insert ? debug_hw_insert(s->vm, hw[c->bp_type], c->addr, (uint32_t)c->len)
			    : debug_hw_remove(s->vm, hw[c->bp_type], c->addr, (uint32_t)c->len);
	reply(s, !rc ? "OK" : rc == -2 ? "E28" /* ENOSPC */ : "E16" /* EINVAL */);
}

static void resume(struct gdb_session *s, const struct gdb_cmd *c)
{
	struct vcpu *v;
	int64_t t = c->kind == GDB_CMD_STEP ? (c->thread > 0 ? c->thread : s->c_thread) : 0;

	if (!(v = vcpu_of(s, t))) {
		reply(s, "E02");
		return;
	}
	if (c->has_addr) {
		spin_lock(&s->vm->lock);
		v->regs.rip = c->addr;
		vcpu_dirty(v, REG_RIP);
		spin_unlock(&s->vm->lock);
	}
	s->running = true;
	debug_resume(s->vm, c->kind == GDB_CMD_STEP ? (int)v->id : -1);
}

static void thread_list(struct gdb_session *s)
{
	char b[8 * MAX_VCPUS_PER_VM + 2] = "m";
	size_t n = 1;

	for (uint32_t i = 0; i < s->vm->nr_vcpus; i++)
		n += (size_t)pt_snprintf(b + n, sizeof(b) - n, "%s%x", i ? "," : "", i + 1);
	reply_n(s, b, n);
}

static void thread_extra(struct gdb_session *s, const struct gdb_cmd *c)
{
	struct vcpu *v = vcpu_of(s, c->thread);
	char text[64], hex[128];
	int n;

	if (!v) {
		reply(s, "E02");
		return;
	}
	n = pt_snprintf(text, sizeof(text), "vCPU %u on CPU %u%s", v->id, v->pcpu,
			v->wait_sipi ? ", waiting for SIPI" : v->halted ? ", halted" : "");
	gdb_hex_encode((const uint8_t *)text, (size_t)n, hex);
	reply_n(s, hex, 2 * (size_t)n);
}

static void xfer(struct gdb_session *s, const struct gdb_cmd *c)
{
	static char b[GDB_PACKET_MAX];
	size_t off = c->addr, n;

	if (c->annex_len != 10 || strncmp(c->annex, "target.xml", 10)) {
		reply(s, "E00");
		return;
	}
	if (off >= s->xml_len) {
		reply(s, "l");
		return;
	}
	n = MIN(MIN(c->len, s->xml_len - off), sizeof(b) / 2 - 1); /* room for escapes */
	b[0] = off + n < s->xml_len ? 'm' : 'l';
	memcpy(b + 1, s->xml + off, n);
	reply_n(s, b, n + 1);
}

/* `monitor CMD`: the shell's command, its output as O packets. */
static void monitor_flush(struct gdb_session *s)
{
	char b[1 + 2 * MONITOR_CHUNK] = "O";

	if (!s->mon_len)
		return;
	gdb_hex_encode((const uint8_t *)s->mon, s->mon_len, b + 1);
	reply_n(s, b, 1 + 2 * s->mon_len);
	s->mon_len = 0;
}

static void monitor_sink(void *ctx, const char *str)
{
	struct gdb_session *s = ctx;

	for (; *str; str++) {
		if (s->mon_len == MONITOR_CHUNK)
			monitor_flush(s);
		s->mon[s->mon_len++] = *str;
	}
}

static void monitor(struct gdb_session *s, struct gdb_cmd *c)
{
	log_set_sink(monitor_sink, s);
	shell_run_for_vm(s->vm, c->monitor);
	log_set_sink(NULL, NULL);
	monitor_flush(s);
	reply(s, "OK");
}

static void packet(struct gdb_session *s, const char *pkt, size_t len)
{
	static struct gdb_cmd c;
	struct vcpu *v;

	gdb_parse(pkt, len, &c);
	if (!s->attached && c.kind != GDB_CMD_SUPPORTED && c.kind != GDB_CMD_UNSUPPORTED && !attach(s)) {
		reply(s, "E01"); /* no VM to debug, or another port has it */
		return;
	}
	switch (c.kind) {
	case GDB_CMD_SUPPORTED: {
		char b[96];
		s->swbreak = c.swbreak;
		s->hwbreak = c.hwbreak;
		pt_snprintf(b, sizeof(b), "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+",
			    GDB_PACKET_MAX);
		reply(s, b);
		return;
	}
	case GDB_CMD_UNSUPPORTED: reply(s, ""); return;
	case GDB_CMD_BAD: reply(s, "E01"); return;
	case GDB_CMD_VCONT_QUERY: reply(s, "vCont;c;C;s;S"); return;
	case GDB_CMD_ATTACHED: reply(s, "1"); return;
	case GDB_CMD_XFER_FEATURES: xfer(s, &c); return;
	case GDB_CMD_KILL: /* no reply: GDB does not wait for one */
		vm_stop(s->vm, "killed by GDB");
		end_session(s, "killed by GDB");
		return;
	case GDB_CMD_DETACH:
		reply(s, "OK");
		end_session(s, "detached");
		return;
	default:
		break;
	}
	if (s->running) { /* all-stop: nothing else while the VM runs */
		reply(s, "E05");
		return;
	}
	if (!ready(s)) {
		reply(s, "E05"); /* EIO: the VM did not stop, or it is stopped for good */
		return;
	}
	switch (c.kind) {
	case GDB_CMD_STOP_REASON: {
		struct debug_stop st;
		if (!debug_stopped(s->vm, &st))
			st = (struct debug_stop){ .why = STOP_ATTACH, .vcpu = s->last_vcpu };
		stop_reply(s, &st);
		return;
	}
	case GDB_CMD_THREADS_FIRST: thread_list(s); return;
	case GDB_CMD_THREADS_NEXT: reply(s, "l"); return;
	case GDB_CMD_CURRENT_THREAD: {
		char b[16];
		pt_snprintf(b, sizeof(b), "QC%x", s->last_vcpu + 1);
		reply(s, b);
		return;
	}
	case GDB_CMD_THREAD_EXTRA: thread_extra(s, &c); return;
	case GDB_CMD_SET_THREAD:
		if (c.thread > 0 && !vcpu_of(s, c.thread)) {
			reply(s, "E02");
			return;
		}
		*(c.op == 'g' ? &s->g_thread : &s->c_thread) = c.thread < 0 ? 0 : c.thread;
		reply(s, "OK");
		return;
	case GDB_CMD_THREAD_ALIVE: reply(s, c.thread > 0 && vcpu_of(s, c.thread) ? "OK" : "E02"); return;
	case GDB_CMD_CONTINUE:
	case GDB_CMD_STEP: resume(s, &c); return;
	case GDB_CMD_MONITOR: monitor(s, &c); return;
	default:
		break;
	}
	v = vcpu_of(s, s->g_thread);
	switch (c.kind) {
	case GDB_CMD_READ_REGS: read_regs(s, v); return;
	case GDB_CMD_WRITE_REGS: write_regs(s, v, &c); return;
	case GDB_CMD_READ_REG: one_reg(s, v, &c, false); return;
	case GDB_CMD_WRITE_REG: one_reg(s, v, &c, true); return;
	case GDB_CMD_READ_MEM: read_mem(s, v, &c); return;
	case GDB_CMD_WRITE_MEM: write_mem(s, v, &c); return;
	case GDB_CMD_INSERT_BP: breakpoint(s, v, &c, true); return;
	case GDB_CMD_REMOVE_BP: breakpoint(s, v, &c, false); return;
	default: reply(s, ""); return;
	}
}

static void byte(struct gdb_session *s, uint8_t c)
{
	switch (gdb_rx_byte(&s->rx, c)) {
	case GDB_RX_PACKET:
		ack(s, '+');
		packet(s, (const char *)s->rx.data, s->rx.len);
		break;
	case GDB_RX_BAD_CHECKSUM:
	case GDB_RX_TOO_LONG:
		ack(s, '-');
		break;
	case GDB_RX_INTERRUPT:
		if (s->attached && s->running)
			debug_stop_now(s->vm, STOP_INTERRUPT, s->last_vcpu);
		break;
	case GDB_RX_NAK:
		put_bytes(s, s->out, s->out_len);
		break;
	default:
		break;
	}
}

/* --- ports ----------------------------------------------------------------- */

static void end_session(struct gdb_session *s, const char *why)
{
	bool was = s->attached;
	struct vm *vm = s->vm;

	if (was && vm && debug_attached(vm, s))
		debug_detach(vm);
	s->attached = s->running = false;
	memset(&s->rx, 0, sizeof(s->rx));
	if (s == &console && vm) {
		s->vm = NULL;
		log_mute(false); /* before the lines below, which belong on the console */
	}
	if (was && why && vm)
		pr_info("gdb: vm %s %s on %s\n", vm->name, why, s->port_name);
	if (s == &console && vm) {
		pr_info("console: the port is the console's again\n");
		shell_enter();
	}
}

void gdb_init(void)
{
	if (uart_gdb.ok)
		pr_info("gdb: GDB stub on port 0x%x (target remote to it; gdbport= moves it)\n", uart_gdb.base);
}

void gdb_vm_started(struct vm *vm, bool chosen, bool wait)
{
	if (!uart_gdb.ok) {
		if (wait)
			pr_err("vm %s: gdb=wait, but there is no GDB serial port: it runs\n", vm->name);
		return;
	}
	if (serial.vm && serial_vm_chosen && !chosen)
		return;
	if (serial.vm && chosen && serial_vm_chosen) {
		pr_warn("vm %s: gdb=: the GDB serial port debugs vm %s already\n", vm->name, serial.vm->name);
		return;
	}
	if (!serial.vm || chosen) {
		serial.vm = vm;
		serial_vm_chosen = chosen;
	}
	if (wait && serial.vm == vm) {
		debug_attach(vm, &serial); /* held from its first instruction; GDB's first packet finds it stopped */
		pr_info("vm %s waits for GDB on the GDB serial port\n", vm->name);
	}
}

void gdb_serial_byte(uint8_t c)
{
	byte(&serial, c);
}

void gdb_console_byte(uint8_t c)
{
	/* Ctrl-A three times between packets gives the port back. */
	if (console.rx.state == GDB_RX_IDLE && c == 0x01) {
		if (++console.escapes == 3) {
			console.escapes = 0;
			end_session(&console, "left to run (Ctrl-A three times)");
			if (console.vm == NULL)
				return;
		}
		return;
	}
	console.escapes = 0;
	byte(&console, c);
}

bool gdb_console_active(void)
{
	return console.vm != NULL;
}

bool gdb_console_start(struct vm *vm)
{
	if (vm->state != VM_RUNNING) {
		log_raw("petrel: error: vm %s is not running\n", vm->name);
		return false;
	}
	if (serial.attached && serial.vm == vm) {
		log_raw("petrel: error: vm %s is being debugged on the GDB serial port\n", vm->name);
		return false;
	}
	log_raw("petrel: this port speaks GDB's protocol for vm %s now: attach GDB to it (target remote ...);\n"
		"petrel: detach, kill, or Ctrl-A three times between packets gives it back\n", vm->name);
	console.vm = vm;
	console.escapes = 0;
	memset(&console.rx, 0, sizeof(console.rx));
	log_mute(true);
	return true;
}

static void poll_one(struct gdb_session *s)
{
	struct debug_stop st;

	if (!s->attached || !s->vm)
		return;
	if (s->vm->state != VM_RUNNING && s->vm->state != VM_RESETTING) {
		char b[8];
		if (s->vm->exit_code >= 0)
			pt_snprintf(b, sizeof(b), "W%02x", s->vm->exit_code & 0xff);
		else
			pt_snprintf(b, sizeof(b), "X%02x", 9); /* stopped for good by Petrel: SIGKILL */
		reply(s, b);
		end_session(s, "stopped");
		return;
	}
	if (s->running && debug_stopped(s->vm, &st)) {
		s->running = false;
		stop_reply(s, &st);
	}
}

void gdb_poll(void)
{
	poll_one(&serial);
	poll_one(&console);
}

bool gdb_wants_cpu0(void)
{
	return (serial.attached && serial.running) || (console.attached && console.running);
}
