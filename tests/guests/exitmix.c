/* SPDX-License-Identifier: MIT */
/*
 * exitmix: a known mix of exits, for Petrel's exit profiler.  Each round
 * is two CPUIDs (leaves 0 and 1, at two places in the code) and one read
 * of port 0x61, so under Petrel exits come two CPUID to one port read,
 * from three RIPs.  It runs for seconds=N (default 10) of Petrel's TSC, or
 * rounds=N rounds natively, and checks along the way that CPUID leaf 0
 * always names the same vendor and that port 0x61's error bits (6: I/O
 * channel check, 7: parity) stay clear, so that what it reports was
 * checked.
 */
#include "guest.h"

const char guest_name[] = "exitmix";

void guest_main(void)
{
	uint32_t seconds = cmdline_u32("seconds", 10), rounds = cmdline_u32("rounds", 200000);
	uint64_t khz = tsc_khz(), start = rdtsc(), until = start + (uint64_t)khz * 1000 * seconds;
	uint32_t vendor = cpuid(0).ebx, bad_vendor = 0, bad_port = 0, done = 0;

	for (;;) {
		struct cpuid_regs a = cpuid(0);
		struct cpuid_regs b = cpuid(1);
		uint8_t p = inb(0x61);
		done++;
		bad_vendor += a.ebx != vendor || !b.eax;
		bad_port += (p & 0xc0) != 0;
		if (khz ? rdtsc() >= until : done >= rounds)
			break;
	}
	report(!bad_vendor, "cpuid-stable: %u of %u rounds answered otherwise", bad_vendor, done);
	report(!bad_port, "port61-quiet: %u of %u reads with an error bit set", bad_port, done);
}
