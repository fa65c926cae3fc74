// SPDX-License-Identifier: MIT
/*
 * guest-bench: Petrel's guest benchmark (`make bench`, tools/bench.sh).
 *
 * An ordinary static Linux program.  The bench initramfs runs it as the
 * init's child in the same guest three ways: directly on QEMU TCG (native),
 * under Petrel, and under KVM+QEMU nested in TCG, and compares what it
 * prints.  Every measurement is one line on standard output:
 *
 *     RESULT <metric> <value> <unit> [key=value ...]
 *
 * (the value is NA when the measurement cannot be taken here).  Time comes
 * from clock_gettime(CLOCK_MONOTONIC).
 *
 * Metrics:
 *   cpuid      ns per CPUID (leaf 0).  CPUID always exits to the hypervisor
 *              under SVM, so this is one exit round trip plus its handling.
 *   pio61      ns per user-mode `inb $0x61` after iopl(3) (ioperm as the
 *              fallback).  Port 0x61 is the PC's system control port B
 *              (PIT channel 2 gate and output, speaker data): QEMU emulates
 *              it natively and Petrel's PIT model (hv/dev/pit8254.c) claims
 *              it, so every read is an I/O exit handled by an emulated
 *              device, with no side effect.  If the read faults (SIGSEGV:
 *              QEMU TCG's I/O-bitmap check rejects a "busy" TSS type, which
 *              is what L2 gets under nested KVM) the value is NA.
 *   devport61  ns per pread(/dev/port, 1 byte at 0x61): the same port read,
 *              done by the kernel at CPL0, so it works wherever pio61 does
 *              not; it costs one system call plus one I/O exit.
 *   syscall    ns per getppid(): a system call that never exits (control;
 *              devport61 - syscall estimates the exit part of devport61).
 *   compute    ms for a fixed integer loop (xorshift plus a multiply-add,
 *              no memory traffic, no exits), timed in 5 equal rounds.
 *   compute_best  5 x the fastest round: the same work with most of the
 *              noise of a busy host left out.
 *   par_speedup  one compute round on one CPU, then one on every CPU at
 *              once (a thread pinned to each): n x t1 / tn, n being perfect
 *              scaling; NA on one CPU.
 *   mem_first  ms to write one 8-byte word in every 64-byte line of a fresh
 *              anonymous mapping (default 256 MiB, MADV_NOHUGEPAGE, so one
 *              4 KiB page fault per page: the guest kernel's fault path plus,
 *              under a hypervisor, whatever nested paging costs).
 *   mem_second ms for the same pass again, every page already present.
 *
 * The latency loops (cpuid, pio61, devport61, syscall) run batches that
 * double in size (from 256 operations) until at least the minimum time has
 * passed, so a fast platform (a few ns per CPUID on TCG) and a slow one (tens
 * of us per exit) both time a long enough interval without one taking
 * minutes; iters= says how many operations were timed.
 *
 * Usage: guest-bench [-t MIN_MS] [-m MIB] [-c COMPUTE_ITERS] [-s] [-C]
 *   -t  minimum time per latency loop in ms (default 250)
 *   -m  size of the memory test in MiB (default 256)
 *   -c  iterations of the compute loop (default 200000000)
 *   -s  skip the memory test
 *   -C  the compute loop only (tools/bench.sh runs it on the host before
 *       each run: how fast the host is at that moment)
 * Build: gcc -static -O2 -pthread -o guest-bench guest-bench.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PORT 0x61

static volatile uint64_t g_sink;   /* results land here so nothing is optimized away */
static double g_min_ns = 250e6;    /* minimum duration of a latency loop */
static int g_devport_fd = -1;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ operations */
/* Each does `n` operations of one kind and returns something data-dependent. */

static uint64_t op_cpuid(unsigned long n)
{
	uint64_t acc = 0;

	for (unsigned long i = 0; i < n; i++) {
		uint32_t a = 0, b, c = 0, d;

		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		acc += a ^ b;
	}
	return acc;
}

static uint64_t op_inb(unsigned long n)
{
	uint64_t acc = 0;

	for (unsigned long i = 0; i < n; i++) {
		uint8_t v;

		__asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"((uint16_t)PORT));
		acc += v;
	}
	return acc;
}

static uint64_t op_devport(unsigned long n)
{
	uint64_t acc = 0;
	unsigned char v = 0;

	for (unsigned long i = 0; i < n; i++) {
		if (pread(g_devport_fd, &v, 1, PORT) != 1)
			abort(); /* checked once before timing; cannot fail later */
		acc += v;
	}
	return acc;
}

static uint64_t op_getppid(unsigned long n)
{
	uint64_t acc = 0;

	for (unsigned long i = 0; i < n; i++)
		acc += (uint64_t)syscall(SYS_getppid);
	return acc;
}

/* Time `op` in doubling batches until g_min_ns has passed; print ns/op. */
static void latency(const char *metric, uint64_t (*op)(unsigned long))
{
	unsigned long batch = 256, total = 0;
	uint64_t t0, elapsed;

	g_sink += op(16); /* warm up: code, TLB, the device's first access */
	t0 = mono_ns();
	do {
		g_sink += op(batch);
		total += batch;
		elapsed = mono_ns() - t0;
		if (batch < (1ul << 22))
			batch *= 2;
	} while ((double)elapsed < g_min_ns);
	printf("RESULT %s %.1f ns/op iters=%lu ms=%.1f\n", metric,
	       (double)elapsed / (double)total, total, (double)elapsed / 1e6);
}

/* --------------------------------------------------------------- port I/O */
static sigjmp_buf g_fault;

static void on_fault(int sig)
{
	(void)sig;
	siglongjmp(g_fault, 1);
}

static void port_io(void)
{
	struct sigaction sa, old_segv, old_bus;
	unsigned char v;

	/* pio61: user-mode inb. */
	if (iopl(3) != 0 && ioperm(PORT, 1, 1) != 0) {
		printf("RESULT pio61 NA ns/op reason=iopl_and_ioperm_failed errno=%d\n", errno);
	} else {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_fault;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, &old_segv);
		sigaction(SIGBUS, &sa, &old_bus);
		if (sigsetjmp(g_fault, 1) == 0)
			latency("pio61", op_inb);
		else
			printf("RESULT pio61 NA ns/op reason=inb_faulted\n");
		sigaction(SIGSEGV, &old_segv, NULL);
		sigaction(SIGBUS, &old_bus, NULL);
	}

	/* devport61: the kernel's inb through /dev/port. */
	g_devport_fd = open("/dev/port", O_RDONLY);
	if (g_devport_fd < 0 || pread(g_devport_fd, &v, 1, PORT) != 1)
		printf("RESULT devport61 NA ns/op reason=no_dev_port errno=%d\n", errno);
	else
		latency("devport61", op_devport);
	if (g_devport_fd >= 0)
		close(g_devport_fd);
}

/* ---------------------------------------------------------------- compute */
#define ROUNDS 5

static uint64_t compute_round(unsigned long iters, uint64_t x, uint64_t *yp)
{
	uint64_t y = *yp;

	for (unsigned long i = 0; i < iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		y = y * 0x5851f42d4c957f2dull + x;
		__asm__ volatile("" : "+r"(x), "+r"(y)); /* keep every iteration */
	}
	*yp = y;
	return x;
}

/* The fixed work in ROUNDS equal rounds, timed each: compute is the total;
 * compute_best is ROUNDS x the fastest round, which leaves out most of what
 * a busy host adds (it only ever adds time). */
static void compute(unsigned long iters)
{
	uint64_t x = 0x9e3779b97f4a7c15ull, y = 1, total = 0, best = UINT64_MAX;
	unsigned long per = iters / ROUNDS;

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = mono_ns(), dt;

		x = compute_round(per, x, &y);
		dt = mono_ns() - t0;
		total += dt;
		if (dt < best)
			best = dt;
	}
	g_sink += x + y;
	printf("RESULT compute %.3f ms iters=%lu ns_per_iter=%.3f\n",
	       (double)total / 1e6, per * ROUNDS, (double)total / (double)(per * ROUNDS));
	printf("RESULT compute_best %.3f ms rounds=%d best_round_ms=%.3f\n",
	       (double)best * ROUNDS / 1e6, ROUNDS, (double)best / 1e6);
}

/* --------------------------------------------------------------- parallel */
struct par_job {
	int cpu;
	unsigned long iters;
	uint64_t out;
};

static void *par_thread(void *arg)
{
	struct par_job *j = arg;
	cpu_set_t set;
	uint64_t y = 1;

	CPU_ZERO(&set);
	CPU_SET(j->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	j->out = compute_round(j->iters, 0x9e3779b97f4a7c15ull + (uint64_t)j->cpu, &y) + y;
	return NULL;
}

/* The same work (one compute round) on one CPU, then once on each CPU at
 * the same time, a thread pinned to each: the speed-up is n x t1 / tn (n
 * for perfect scaling).  NA with one CPU. */
static uint64_t par_run(int n, unsigned long iters)
{
	pthread_t t[64];
	struct par_job j[64];
	uint64_t t0 = mono_ns();

	for (int i = 0; i < n; i++) {
		j[i] = (struct par_job){ .cpu = i, .iters = iters };
		pthread_create(&t[i], NULL, par_thread, &j[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		g_sink += j[i].out;
	}
	return mono_ns() - t0;
}

static void parallel(unsigned long iters)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t t1, tn;

	if (n < 2) {
		printf("RESULT par_speedup NA x reason=one_cpu\n");
		return;
	}
	n = n > 64 ? 64 : n;
	par_run((int)n, iters / ROUNDS / 10); /* warm-up: the emulator translates the loop on first use */
	t1 = par_run(1, iters / ROUNDS);
	tn = par_run((int)n, iters / ROUNDS);
	printf("RESULT par_speedup %.3f x threads=%ld t1_ms=%.3f tn_ms=%.3f\n",
	       (double)n * (double)t1 / (double)tn, n, (double)t1 / 1e6, (double)tn / 1e6);
}

/* ----------------------------------------------------------------- memory */
static void memory(unsigned long mib)
{
	size_t len = (size_t)mib << 20, pages = len >> 12;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static const char *const name[2] = { "mem_first", "mem_second" };

	if (p == MAP_FAILED) {
		printf("RESULT mem_first NA ms reason=mmap_errno_%d\n", errno);
		printf("RESULT mem_second NA ms reason=mmap_errno_%d\n", errno);
		return;
	}
	madvise(p, len, MADV_NOHUGEPAGE); /* one fault per 4 KiB page */
	for (int pass = 0; pass < 2; pass++) {
		uint64_t t0 = mono_ns(), t1;

		for (size_t off = 0; off < len; off += 64)
			*(volatile uint64_t *)(p + off) = off ^ (uint64_t)pass;
		t1 = mono_ns();
		printf("RESULT %s %.3f ms mib=%lu pages=%zu ns_per_page=%.1f\n", name[pass],
		       (double)(t1 - t0) / 1e6, mib, pages, (double)(t1 - t0) / (double)pages);
	}
	munmap(p, len);
}

/* ------------------------------------------------------------------- main */
static unsigned long num_arg(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "guest-bench: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long mib = 256, iters = 200000000ul;
	int skip_mem = 0, only_compute = 0, c;

	while ((c = getopt(argc, argv, "t:m:c:sC")) != -1) {
		switch (c) {
		case 't': g_min_ns = (double)num_arg(optarg, "-t") * 1e6; break;
		case 'm': mib = num_arg(optarg, "-m"); break;
		case 'c': iters = num_arg(optarg, "-c"); break;
		case 's': skip_mem = 1; break;
		case 'C': only_compute = 1; break;
		default:
			fprintf(stderr, "usage: guest-bench [-t MIN_MS] [-m MIB] [-c ITERS] [-s] [-C]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* a line at a time: the host time-stamps them */
	if (only_compute) {
		compute(iters);
		return 0;
	}

	latency("cpuid", op_cpuid);
	port_io();
	latency("syscall", op_getppid);
	compute(iters);
	parallel(iters);
	if (!skip_mem)
		memory(mib);
	printf("RESULT done %u flag\n", (unsigned)(g_sink & 1) | 1u);
	return 0;
}
