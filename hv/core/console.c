/* SPDX-License-Identifier: MIT */
/*
 * The console multiplexer: Petrel's serial port carries Petrel's log,
 * every VM's console and Petrel's shell (shell.c).
 *
 * Input.  The UART's receive interrupt, routed through the host's I/O
 * APIC to CPU 0, moves what arrived into a ring (console_irq) and kicks
 * CPU 0's run loop, which hands it on at its next pick (console_service).
 * Where there is no route (no I/O APIC, a UART at an odd port), and
 * against a lost edge, CPU 0 also reads the port when it picks, at most
 * every 0.5 ms; no exit path reads it.  Typed bytes go to whoever has the
 * input focus: a VM (through its COM1, console_ops) or the shell.  The
 * escape, Ctrl-A three times in a row (Xen's; conswitch=x on the command
 * line makes it Ctrl-X), moves the focus: the first VM, the next...,
 * the shell, the first VM again.  Ctrl-As that turn out not to be the
 * escape go on to the focus, in order: nothing typed is lost or
 * reordered by the escape.
 *
 * A VM's typed bytes wait in its queue until its UART's receive FIFO has
 * room (the guest reads it).  A guest that never reads holds up nothing
 * but its own queue: when that is full, what else is typed for it is
 * dropped, with one warning.
 *
 * Output.  Every byte a VM writes goes into a ring of its recent output
 * (the shell's `vm output`) and onto the serial port: the focused VM's as
 * it comes (a prompt must show before its line ends), with "[name] " at
 * the start of each line; the others' a whole line at a time with their
 * name in front, so that lines never interleave.  A VM's firmware debug
 * log (its debugcon: vm_debug_out) is a second stream of the VM's, always
 * printed a whole line at a time as an unfocused VM's is: SeaBIOS writes
 * each character to it and to its serial console in turn, and the two
 * must not mix within a line.  While the focused VM is
 * in the middle of a line, the others' lines wait (held, up to HOLD_MS
 * and HELD_MAX bytes each) until it ends that line: a line being typed
 * into, or a command's output, is not cut by another VM's.  A prompt that
 * stays unfinished lets them through after HOLD_MS; the focused VM's line
 * then goes on below them printed again whole (log_console_byte).
 */
#include <arch/cpu.h>
#include <petrel/acpi.h>
#include <petrel/console.h>
#include <petrel/console_input.h>
#include <petrel/drivers.h>
#include <petrel/gdbstub.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>
#include <petrel/vm.h>

#define RX_RING 1024   /* typed, not yet handed on */
#define IN_QUEUE 1024  /* typed for a VM, not yet in its UART */
#define OUT_RING 4096  /* a VM's recent output */
#define LINE_MAX 160   /* an unfocused VM's line is printed at this length */
#define POLL_US 500
#define HOLD_MS 200    /* the longest another VM's line waits for the focused VM's line to end */
#define HELD_MAX 2048  /* bytes of held lines per VM */

struct vm_console {
	char line[LINE_MAX + 1]; /* an unfocused VM's line so far */
	uint32_t len;
	char dline[LINE_MAX + 1]; /* its debug log's line so far */
	uint32_t dlen;
	uint8_t out[OUT_RING];
	uint64_t out_total;      /* bytes written to out, ever */
	uint8_t in[IN_QUEUE];
	uint32_t in_head, in_count;
	bool in_dropped;         /* warned about input dropped since the queue last emptied */
	char held[HELD_MAX];     /* complete lines waiting for the focused VM's line (out_lock) */
	uint32_t held_len;
};

/* What a port received, not yet handed on: console_irq writes at tail,
 * CPU 0 reads at head. */
struct rx_ring {
	struct uart *port;
	volatile uint8_t buf[RX_RING];
	volatile uint32_t head, tail;
	uint32_t lost;
	int irq; /* the UART's ISA IRQ when it interrupts, else -1 */
};

static struct vm_console cons[MAX_VMS];
static struct rx_ring rx = { .port = &uart_console, .irq = -1 };
static struct rx_ring rx_gdb = { .port = &uart_gdb, .irq = -1 }; /* the GDB serial port (gdbstub.c) */
static int focus = CONSOLE_SHELL;
static bool focus_set;
static struct escape escape = { .ch = 0x01 };
static uint64_t last_poll;
/* The held lines, and since when the focused VM has a line unfinished
 * (0: it has none).  Inside any VM's lock, outside the log's. */
static struct spinlock out_lock = SPINLOCK_INIT("console output");
static uint64_t focus_partial_since;

/* Reads what the UART has into the ring.  On CPU 0, with interrupts off
 * (the interrupt handler, or the run loop's poll): one writer at a time. */
static void drain_uart(struct rx_ring *r)
{
	int c;

	while ((c = uart_getc(r->port)) >= 0) {
		uint32_t next = (r->tail + 1) % RX_RING;
		if (next == r->head) {
			r->lost++;
			continue;
		}
		r->buf[r->tail] = (uint8_t)c;
		r->tail = next;
	}
}

void console_irq(void)
{
	drain_uart(&rx);
	drain_uart(&rx_gdb);
	run_kick_self(); /* out of the guest's fast path: the pick hands it on */
}

/* The port's receive interrupt to this CPU (both ports share the vector). */
static void route(const struct acpi_info *acpi, struct rx_ring *r)
{
	int irq = uart_isa_irq(r->port);

	if (irq >= 0 && !ioapic_route_isa(acpi, (unsigned)irq, UART_VECTOR, this_cpu()->apic_id)) {
		r->irq = irq;
		uart_rx_irq_enable(r->port);
	}
}

void console_init(const struct acpi_info *acpi, uint8_t conswitch, uint16_t gdb_port)
{
	escape.ch = conswitch;
	route(acpi, &rx);
	if (gdb_port && gdb_port != uart_console.base) {
		uart_init(&uart_gdb, gdb_port);
		route(acpi, &rx_gdb);
	}
	gdb_init();
}

/* Where typed input goes, as the console's lines say it. */
static const char *focus_name(void)
{
	return focus == CONSOLE_SHELL ? "Petrel's shell" : vms[focus].name;
}

static const char *focus_kind(void)
{
	return focus == CONSOLE_SHELL ? "" : "vm ";
}

/* The escape's letter: Ctrl-A is 0x01. */
static char escape_letter(void)
{
	return (char)('A' + escape.ch - 1);
}

void console_start(void)
{
	char how[32] = "polled";

	if (rx.irq >= 0)
		pt_snprintf(how, sizeof(how), "by interrupt (IRQ %d)", rx.irq);
	pr_info("console: input %s, to %s%s; Ctrl-%c three times moves it\n", how, focus_kind(), focus_name(),
		escape_letter());
	if (focus == CONSOLE_SHELL)
		shell_enter();
}

void console_focus_default(struct vm *vm)
{
	if (!focus_set) {
		focus = (int)vm->id;
		focus_set = true;
	}
}

bool vm_is_console(const struct vm *vm)
{
	return focus == (int)vm->id;
}

/* --- output ---------------------------------------------------------------- */

/* Every VM's held lines go out, in order.  Under out_lock. */
static void release_held(void)
{
	for (int i = 0; i < MAX_VMS; i++) {
		struct vm_console *h = &cons[i];
		for (uint32_t at = 0; at < h->held_len;) {
			const char *line = h->held + at;
			log_raw("%s\n", line);
			at += (uint32_t)strlen(line) + 1;
		}
		h->held_len = 0;
	}
}

static bool hold_expired(uint64_t now)
{
	return !focus_partial_since || now - focus_partial_since >= tsc_hz / 1000 * HOLD_MS;
}

/* A complete line of an unfocused VM's (text: k->line) or of a VM's debug
 * log (k->dline): out now, or held while the focused VM is in the middle
 * of one of its own. */
static void print_text(struct vm *vm, struct vm_console *k, char *text, uint32_t *len)
{
	char line[LINE_MAX + VM_NAME_MAX + 4];
	uint32_t n;

	text[*len] = '\0';
	n = (uint32_t)pt_snprintf(line, sizeof(line), "[%s] %s", vm->name, text);
	*len = 0;
	spin_lock(&out_lock);
	if (!hold_expired(rdtsc()) && k->held_len + n + 1 <= HELD_MAX) {
		memcpy(k->held + k->held_len, line, n + 1);
		k->held_len += n + 1;
		/* CPU 0 lets it out when the hold expires: it must know now,
		 * asleep with nothing of its own to run (cpu0=host) */
		if (k->held_len == n + 1 && this_cpu()->cpu_id != 0)
			run_kick_cpu0();
	} else {
		release_held(); /* what waited goes first */
		log_raw("%s\n", line);
	}
	spin_unlock(&out_lock);
}

static void print_line(struct vm *vm, struct vm_console *k)
{
	print_text(vm, k, k->line, &k->len);
}

/* A byte for a line printed whole: escape sequences and other control
 * bytes print as '.'; a full line goes out. */
static void add_to_line(struct vm *vm, struct vm_console *k, char *text, uint32_t *len, uint8_t c)
{
	text[(*len)++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
	if (*len == LINE_MAX)
		print_text(vm, k, text, len);
}

/* The focused VM's byte went out: whether its line is unfinished now. */
static void focus_progress(uint8_t c)
{
	spin_lock(&out_lock);
	if (c == '\n') {
		focus_partial_since = 0;
		release_held();
	} else if (!focus_partial_since) {
		focus_partial_since = rdtsc();
	}
	spin_unlock(&out_lock);
}

void vm_console_out(struct vm *vm, uint8_t c)
{
	struct vm_console *k = &cons[vm->id];

	k->out[k->out_total++ % OUT_RING] = c;
	if (c == '\r')
		return;
	if (vm_is_console(vm)) { /* straight through, escape sequences and all */
		if (k->len)
			print_line(vm, k); /* what it wrote before it had the focus */
		log_console_byte(k, vm->name, (char)c);
		focus_progress(c);
		return;
	}
	if (c == '\n')
		print_line(vm, k);
	else
		add_to_line(vm, k, k->line, &k->len, c);
}

void vm_debug_out(struct vm *vm, uint8_t c)
{
	struct vm_console *k = &cons[vm->id];

	if (c == '\r')
		return;
	if (c == '\n')
		print_text(vm, k, k->dline, &k->dlen);
	else
		add_to_line(vm, k, k->dline, &k->dlen, c);
}

void vm_console_flush(struct vm *vm)
{
	struct vm_console *k = &cons[vm->id];

	log_console_end(k);
	if (vm_is_console(vm))
		focus_progress('\n'); /* its line ended: what waited for it goes out */
	if (k->len)
		print_line(vm, k);
	if (k->dlen)
		print_text(vm, k, k->dline, &k->dlen);
}

void console_show_output(struct vm *vm, uint32_t max)
{
	struct vm_console *k = &cons[vm->id];
	static char buf[OUT_RING + 1]; /* CPU 0 only (the shell) */
	uint64_t n, start;
	uint32_t len = 0;

	spin_lock(&vm->lock);
	n = MIN(k->out_total, (uint64_t)MIN(max, OUT_RING));
	start = k->out_total - n;
	for (uint64_t i = start; i < k->out_total; i++) {
		uint8_t c = k->out[i % OUT_RING];
		if (c == '\n' || (c >= 0x20 && c < 0x7f))
			buf[len++] = (char)c;
	}
	spin_unlock(&vm->lock);
	buf[len] = '\0';
	log_raw("--- the last %llu bytes vm %s wrote (of %llu) ---\n", (unsigned long long)n, vm->name,
		(unsigned long long)k->out_total);
	log_raw("%s%s--- end ---\n", buf, len && buf[len - 1] != '\n' ? "\n" : "");
}

/* --- input ----------------------------------------------------------------- */

static bool focusable(int i)
{
	return vms[i].state == VM_RUNNING || vms[i].state == VM_RESETTING;
}

/* The next VM that runs, after the last one the shell. */
static void next_focus(void)
{
	int old = focus, i = focus == CONSOLE_SHELL ? 0 : focus + 1;

	while (i < MAX_VMS && !focusable(i))
		i++;
	focus = i < MAX_VMS ? i : CONSOLE_SHELL;
	if (old != CONSOLE_SHELL) { /* its partial line ends before anything else */
		spin_lock(&vms[old].lock);
		log_console_end(&cons[old]);
		spin_unlock(&vms[old].lock);
	}
	focus_progress('\n'); /* no focused line is unfinished now: what waited goes out */
	pr_info("console: input to %s%s (Ctrl-%c three times: to the next)\n", focus_kind(), focus_name(),
		escape_letter());
	if (focus == CONSOLE_SHELL)
		shell_enter();
}

static void queue_for_vm(int id, uint8_t c)
{
	struct vm_console *k = &cons[id];

	if (k->in_count == IN_QUEUE) {
		if (!k->in_dropped)
			pr_warn("console: vm %s is not reading its serial port: what is typed for it is dropped\n",
				vms[id].name);
		k->in_dropped = true;
		return;
	}
	k->in[(k->in_head + k->in_count++) % IN_QUEUE] = c;
}

static void to_focus(uint8_t c)
{
	if (focus == CONSOLE_SHELL)
		shell_input(c);
	else
		queue_for_vm(focus, c);
}

static void feed(uint8_t c)
{
	uint8_t out[ESCAPE_COUNT];
	bool next;
	uint32_t n = escape_feed(&escape, c, out, &next);

	for (uint32_t i = 0; i < n; i++)
		to_focus(out[i]);
	if (next)
		next_focus();
}

/* Each VM's queue into its UART, as far as its receive FIFO takes it. */
static void deliver(void)
{
	for (int i = 0; i < MAX_VMS; i++) {
		struct vm_console *k = &cons[i];
		struct vm *vm = &vms[i];
		if (!k->in_count || vm->state != VM_RUNNING)
			continue;
		spin_lock(&vm->lock);
		while (k->in_count && vm->console && vm->console->input_ready(vm->console_dev)) {
			vm->console->input(vm->console_dev, k->in[k->in_head]);
			k->in_head = (k->in_head + 1) % IN_QUEUE;
			k->in_count--;
		}
		spin_unlock(&vm->lock);
		if (!k->in_count)
			k->in_dropped = false;
	}
}

static bool held_waiting(void)
{
	for (int i = 0; i < MAX_VMS; i++)
		if (__atomic_load_n(&cons[i].held_len, __ATOMIC_RELAXED))
			return true;
	return false;
}

void console_service(void)
{
	uint64_t now = rdtsc();

	if (this_cpu()->cpu_id != 0)
		return;
	if (now - last_poll >= tsc_hz / 1000000 * POLL_US) {
		last_poll = now;
		drain_uart(&rx);
		drain_uart(&rx_gdb);
	}
	while (rx.head != rx.tail) {
		uint8_t c = rx.buf[rx.head];
		rx.head = (rx.head + 1) % RX_RING;
		if (gdb_console_active())
			gdb_console_byte(c);
		else
			feed(c);
	}
	while (rx_gdb.head != rx_gdb.tail) {
		uint8_t c = rx_gdb.buf[rx_gdb.head];
		rx_gdb.head = (rx_gdb.head + 1) % RX_RING;
		gdb_serial_byte(c);
	}
	if (rx.lost || rx_gdb.lost) {
		pr_warn("console: %u bytes typed and %u from GDB lost (input came faster than Petrel took it)\n",
			rx.lost, rx_gdb.lost);
		rx.lost = rx_gdb.lost = 0;
	}
	gdb_poll();
	deliver();
	if (held_waiting()) { /* a prompt that stays unfinished lets them through in time */
		spin_lock(&out_lock);
		if (hold_expired(now))
			release_held();
		spin_unlock(&out_lock);
	}
}

bool console_wants_cpu0(void)
{
	if (rx.irq < 0 || (uart_gdb.ok && rx_gdb.irq < 0) || held_waiting() || gdb_wants_cpu0())
		return true; /* polled: CPU 0 must come round to read; held lines to release; a stop to report */
	for (int i = 0; i < MAX_VMS; i++)
		if (cons[i].in_count && vms[i].state == VM_RUNNING)
			return true; /* the guest reads its FIFO without telling anyone */
	return false;
}
