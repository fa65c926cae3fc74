/* SPDX-License-Identifier: MIT */
/* Serial logging with levels, panic() and fatal(). */
#include <arch/cpu.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/log.h>
#include <petrel/percpu.h>
#include <petrel/smp.h>

int log_level = LOG_INFO;

static volatile uint32_t log_spin;
static volatile int32_t log_owner = -1;
static const char *const level_tag[] = { "error: ", "warn: ", "", "debug: " };

/* Recursive so a fault inside a printing path can still print its dump. */
void log_lock(void)
{
	int32_t me = (int32_t)this_cpu()->cpu_id;
	if (log_owner == me)
		return;
	while (__atomic_exchange_n(&log_spin, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	log_owner = me;
}

void log_unlock(void)
{
	log_owner = -1;
	__atomic_store_n(&log_spin, 0, __ATOMIC_RELEASE);
}

/* Where printed text goes instead of the console port: a sink one CPU
 * set for what it prints itself (the GDB stub's `monitor`: its output
 * goes back to GDB), or nowhere while GDB talks on the console port
 * (counted, and said when the port is back). */
static struct {
	void (*fn)(void *ctx, const char *s);
	void *ctx;
	int32_t cpu;
} sink = { .cpu = -1 };
static bool muted;
static uint32_t muted_lines;

void log_set_sink(void (*fn)(void *ctx, const char *s), void *ctx)
{
	log_lock();
	sink.fn = fn;
	sink.ctx = ctx;
	sink.cpu = fn ? (int32_t)this_cpu()->cpu_id : -1;
	log_unlock();
}

void log_mute(bool on)
{
	uint32_t lost;

	log_lock();
	muted = on;
	lost = muted_lines;
	muted_lines = 0;
	log_unlock();
	if (!on && lost)
		pr_info("console: %u lines of Petrel's log not shown while GDB had the port\n", lost);
}

static void emit(const char *s)
{
	if (sink.fn && sink.cpu == log_owner) {
		sink.fn(sink.ctx, s);
		return;
	}
	if (muted) {
		for (; *s; s++)
			muted_lines += *s == '\n';
		return;
	}
	for (; *s; s++) {
		if (*s == '\n')
			uart_putc(&uart_console, '\r');
		uart_putc(&uart_console, *s);
	}
}

/* The focused VM's output (and the shell's echo, with no name) goes out
 * a byte at a time (log_console_byte) and may stop mid-line (a shell
 * prompt, a line being typed, a command's output half written); whose
 * line that is: `partial`.  Anything else printed meanwhile starts on a
 * line of its own, and cuts the owner's line (`cut`).  When the owner
 * goes on, its line is printed again whole, "[name] " and the text so far
 * (`text`, up to TEXT_MAX bytes: a longer one goes on after its prefix
 * alone), as a terminal's line editor redraws the line an asynchronous
 * message cut: what reads the port (a person, a test driver matching a
 * marker) finds every line of the VM's whole on one line.  The fragment
 * that was cut stays above.  Under the log lock. */
#define TEXT_MAX 256
static const void *partial, *cut;
static char text[TEXT_MAX + 1];
static uint32_t text_len;
static bool text_whole = true;

static void end_partial(void)
{
	if (partial) {
		emit("\n");
		cut = partial;
		partial = NULL;
	}
}

void log_console_byte(const void *owner, const char *name, char c)
{
	char b[2] = { c, '\0' };

	log_lock();
	if (partial != owner) {
		end_partial();
		if (name) {
			emit("[");
			emit(name);
			emit("] ");
		}
		if (cut == owner && text_whole) {
			text[text_len] = '\0';
			emit(text);
		} else {
			text_len = 0;
			text_whole = true;
		}
		cut = NULL;
	}
	emit(b);
	if (c == '\n') {
		partial = NULL;
		text_len = 0;
		text_whole = true;
	} else {
		partial = owner;
		if (text_len < TEXT_MAX)
			text[text_len++] = c;
		else
			text_whole = false;
	}
	log_unlock();
}

/* The owner's line ended on purpose (it lost the focus, or its VM
 * stopped): nothing of it is printed again. */
void log_console_end(const void *owner)
{
	log_lock();
	if (partial == owner)
		end_partial();
	if (cut == owner) /* so, just now, too */
		cut = NULL;
	log_unlock();
}

void log_vprintf(int level, const char *fmt, va_list ap)
{
	char buf[512];

	if (level > log_level)
		return;
	pt_vsnprintf(buf, sizeof(buf), fmt, ap);
	log_lock();
	end_partial();
	emit("petrel: ");
	emit(level_tag[level]);
	emit(buf);
	log_unlock();
}

void log_printf(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

void log_raw(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	pt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_lock();
	end_partial();
	emit(buf);
	log_unlock();
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	irq_disable();
	va_start(ap, fmt);
	pt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_raw("petrel: PANIC on cpu %u at %s:%d: %s\n", this_cpu()->cpu_id, file, line, buf);
	smp_stop_others();
	cpu_halt_forever();
}

void fatal(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	irq_disable();
	va_start(ap, fmt);
	pt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_raw("petrel: FATAL: %s; halting\n", buf);
	smp_stop_others();
	cpu_halt_forever();
}
