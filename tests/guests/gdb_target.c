/* SPDX-License-Identifier: MIT */
/*
 * gdb-target: a guest for Petrel's GDB stub, built with symbols (-g -O0).
 * tests/integration/gdb-target.gdb drives GDB against it: a breakpoint at
 * compute(), where GDB sets `seed` to 13, a step into add_one(), a
 * hardware watchpoint on `watched`, then on to the end.  The guest checks
 * what only a debugger could have done: with `debugged` on its command
 * line, compute() must return 13 * 3 + 1 (GDB's value), not 5 * 3 + 1;
 * natively, or without `debugged`, 16.
 */
#include "guest.h"

const char guest_name[] = "gdb-target";

volatile uint32_t watched;
volatile uint32_t counter;

/* Not static: GDB finds them by name. */
uint32_t add_one(uint32_t x);
uint32_t compute(uint32_t seed);
void touch(uint32_t v);

__attribute__((noinline)) uint32_t add_one(uint32_t x)
{
	return x + 1;
}

__attribute__((noinline)) uint32_t compute(uint32_t seed)
{
	uint32_t a = seed * 3;
	uint32_t b = add_one(a);

	counter = b;
	return b;
}

__attribute__((noinline)) void touch(uint32_t v)
{
	watched = v;
}

void guest_main(void)
{
	bool debugged = cmdline_has("debugged");
	uint32_t r = compute(5), want = debugged ? 40 : 16;

	report(r == want && counter == want, "compute: returned %u, counter %u, want %u (%s)", r, counter, want,
	       debugged ? "GDB set seed to 13" : "no debugger");
	touch(7);
	report(watched == 7, "watched: %u after touch(7)", watched);
}
