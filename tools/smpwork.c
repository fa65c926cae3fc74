/* SPDX-License-Identifier: MIT */
/*
 * smpwork: the SMP workloads of the Linux guest's tests and benchmarks
 * (tools/build-guest.sh puts it in the initrd as /bin/smpwork).  A host
 * program: static, glibc, POSIX threads.
 *
 *   smpwork where N        N threads, thread i pinned to CPU i: each
 *                          spins, then prints "thread I on cpu C" with
 *                          the CPU it ran on (sched_getcpu) at its start
 *                          and end.
 *   smpwork tlb N ROUNDS   N threads pinned to CPUs 0..N-1 share one
 *                          address space; each maps a shared region,
 *                          writes it, checks what the others wrote,
 *                          unmaps it, ROUNDS times.  Every munmap with
 *                          the others running is a TLB shootdown (an IPI
 *                          to their CPUs).  Prints "tlb ok" or what failed.
 *   smpwork spin N ITERS   N threads, each ITERS rounds of arithmetic;
 *                          prints "spin N threads: MS ms" (wall clock).
 *   smpwork fpu N ROUNDS   N threads (more than CPUs: they share them),
 *                          unpinned; each round a thread loads a pattern
 *                          of its own into XMM0-15 (YMM0-15 where the CPU
 *                          has AVX), spins with them live, stores them
 *                          back and compares; every eighth round it sleeps
 *                          for a moment.  Whatever the hypervisor does
 *                          meanwhile (preempting the vCPU, moving it to
 *                          another physical CPU) must leave them as they
 *                          were.  Prints "fpu ok" or what failed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define REGION (64 * 1024)

static int nthreads;
static long rounds;
static pthread_barrier_t barrier;
static volatile int failures;

struct job {
	int index;
	uint64_t result;
};

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "smpwork: cannot pin to cpu %d\n", cpu);
}

static uint64_t mix(uint64_t x, long n)
{
	for (long i = 0; i < n; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}

static void *where(void *arg)
{
	struct job *j = arg;
	int start;

	pin(j->index);
	start = sched_getcpu();
	j->result = mix((uint64_t)j->index, 5000000);
	printf("thread %d on cpu %d, then cpu %d\n", j->index, start, sched_getcpu());
	return NULL;
}

/* Each round every thread maps its own shared region, writes its index
 * into every page, and all meet at the barrier; then each reads another
 * thread's region (a pointer published before the barrier), meets again,
 * and unmaps its own while the others keep running in the address space. */
static uint8_t *volatile region[MAX_THREADS];

static void *tlb(void *arg)
{
	struct job *j = arg;

	pin(j->index);
	for (long r = 0; r < rounds; r++) {
		uint8_t *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		int other = (j->index + 1) % nthreads;
		if (p == MAP_FAILED) {
			failures++;
			return NULL;
		}
		for (int off = 0; off < REGION; off += 4096)
			p[off] = (uint8_t)(j->index + r);
		region[j->index] = p;
		pthread_barrier_wait(&barrier);
		for (int off = 0; off < REGION; off += 4096)
			if (region[other][off] != (uint8_t)(other + r)) {
				printf("tlb: round %ld: thread %d read %u from thread %d's page, want %u\n", r,
				       j->index, region[other][off], other, (unsigned)(uint8_t)(other + r));
				failures++;
				break;
			}
		pthread_barrier_wait(&barrier);
		munmap(p, REGION);
	}
	return NULL;
}

#define FPU_SPIN 200000

static int have_avx;

/* The registers live across a spin of FPU_SPIN loop turns: loaded from
 * `in`, stored to `out` after it (32 bytes a register with AVX).  One
 * template for both widths: MOV is the move, R the register name. */
#define FPU_LOAD(mov, r, i) mov " " #i "*32(%1), %%" r #i "\n\t"
#define FPU_STORE(mov, r, i) mov " %%" r #i ", " #i "*32(%2)\n\t"
#define FPU_EACH(f, mov, r)                                                                         \
	f(mov, r, 0) f(mov, r, 1) f(mov, r, 2) f(mov, r, 3) f(mov, r, 4) f(mov, r, 5) f(mov, r, 6) \
	f(mov, r, 7) f(mov, r, 8) f(mov, r, 9) f(mov, r, 10) f(mov, r, 11) f(mov, r, 12)          \
	f(mov, r, 13) f(mov, r, 14) f(mov, r, 15)
#define FPU_ROUND(mov, r) FPU_EACH(FPU_LOAD, mov, r) "1: dec %0\n\tjnz 1b\n\t" FPU_EACH(FPU_STORE, mov, r)
#define FPU_CLOBBERS                                                                                \
	"memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
		"xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

static void fpu_round(const uint8_t *in, uint8_t *out)
{
	long n = FPU_SPIN;

	if (have_avx)
		__asm__ volatile(FPU_ROUND("vmovdqu", "ymm") "vzeroupper" : "+r"(n) : "r"(in), "r"(out) : FPU_CLOBBERS);
	else
		__asm__ volatile(FPU_ROUND("movdqu", "xmm") : "+r"(n) : "r"(in), "r"(out) : FPU_CLOBBERS);
}

static void *fpu(void *arg)
{
	struct job *j = arg;
	uint8_t in[16 * 32], out[16 * 32];

	for (long r = 0; r < rounds; r++) {
		uint64_t x = mix((uint64_t)j->index * 1000003u + (uint64_t)r, 3);
		for (size_t i = 0; i < sizeof(in); i += 8) {
			x = mix(x, 1);
			memcpy(in + i, &x, 8);
		}
		memset(out, 0, sizeof(out));
		fpu_round(in, out);
		/* Without AVX only the first 16 bytes of each 32 are used. */
		int bad = 0, first = -1, low = 0, high = 0, zero = 0;
		for (int reg = 0; reg < 16; reg++) {
			static const uint8_t zeros[32];
			int lo = memcmp(in + reg * 32, out + reg * 32, 16) != 0;
			int hi = have_avx && memcmp(in + reg * 32 + 16, out + reg * 32 + 16, 16) != 0;
			if (!lo && !hi)
				continue;
			bad++, low += lo, high += hi;
			zero += !memcmp(out + reg * 32, zeros, have_avx ? 32 : 16);
			if (first < 0)
				first = reg;
		}
		if (bad) {
			printf("fpu: thread %d round %ld: %d registers changed from %s%d (%d in the low 128 bits, "
			       "%d in the high, %d now zero)\n", j->index, r, bad, have_avx ? "ymm" : "xmm", first, low,
			       high, zero);
			failures++;
			return NULL;
		}
		if (r % 8 == 7)
			usleep(500);
	}
	return NULL;
}

static void *spin(void *arg)
{
	struct job *j = arg;

	j->result = mix((uint64_t)j->index, rounds);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[MAX_THREADS];
	struct job jobs[MAX_THREADS];
	void *(*fn)(void *);
	struct timespec a, b;

	if (argc < 3 || (nthreads = atoi(argv[2])) < 1 || nthreads > MAX_THREADS) {
		fprintf(stderr, "usage: smpwork where N | tlb N ROUNDS | spin N ITERS | fpu N ROUNDS\n");
		return 2;
	}
	rounds = argc > 3 ? atol(argv[3]) : 0;
	if (!strcmp(argv[1], "where"))
		fn = where;
	else if (!strcmp(argv[1], "tlb") && rounds > 0)
		fn = tlb;
	else if (!strcmp(argv[1], "spin") && rounds > 0)
		fn = spin;
	else if (!strcmp(argv[1], "fpu") && rounds > 0)
		fn = fpu;
	else {
		fprintf(stderr, "smpwork: unknown workload or missing count\n");
		return 2;
	}
	have_avx = __builtin_cpu_supports("avx");
	pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < nthreads; i++) {
		jobs[i] = (struct job){ .index = i };
		if (pthread_create(&t[i], NULL, fn, &jobs[i])) {
			fprintf(stderr, "smpwork: pthread_create failed\n");
			return 1;
		}
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (fn == tlb)
		printf(failures ? "tlb FAILED (%d)\n" : "tlb ok\n", failures);
	if (fn == fpu && failures)
		printf("fpu FAILED (%d)\n", failures);
	else if (fn == fpu)
		printf("fpu ok (%d threads, %ld rounds each, %s)\n", nthreads, rounds, have_avx ? "ymm0-15" : "xmm0-15");
	if (fn == spin)
		printf("spin %d threads: %ld ms\n", nthreads,
		       (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000));
	return failures != 0;
}
