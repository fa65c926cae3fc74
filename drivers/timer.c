/* SPDX-License-Identifier: MIT */
/*
 * Time: the 8254 PIT channel 2 as a one-shot stopwatch, the ACPI PM timer
 * (3.579545 MHz) when the FADT names one, and the TSC calibrated against
 * whichever we have.  The PM timer is preferred: it free-runs, so one
 * calibration window needs no PIT programming at all.
 */
#include <arch/cpu.h>
#include <petrel/drivers.h>

#define PIT_HZ 1193182u
#define PM_TIMER_HZ 3579545u
#define PORT_PIT_CH2 0x42
#define PORT_PIT_CMD 0x43
#define PORT_SPEAKER 0x61

uint64_t tsc_hz;

void pit_wait_us(uint32_t us)
{
	uint32_t count = (uint32_t)((uint64_t)PIT_HZ * us / 1000000);
	uint8_t ctl;

	if (count > 0xffff)
		count = 0xffff;
	/* Gate channel 2 on, speaker off; mode 0 (interrupt on terminal count):
	 * OUT2 goes high, visible in port 0x61 bit 5, when it reaches zero. */
	ctl = (inb(PORT_SPEAKER) & ~0x02) | 0x01;
	outb(PORT_SPEAKER, ctl & ~0x01);
	outb(PORT_PIT_CMD, 0xb0); /* channel 2, lo/hi byte, mode 0, binary */
	outb(PORT_PIT_CH2, count & 0xff);
	outb(PORT_PIT_CH2, count >> 8);
	outb(PORT_SPEAKER, ctl); /* rising gate edge starts the count */
	for (uint32_t i = 0; i < 100000000u && !(inb(PORT_SPEAKER) & 0x20); i++)
		cpu_relax();
}

static uint64_t calibrate_pit(void)
{
	uint64_t t0 = rdtsc();
	pit_wait_us(50000);
	return (rdtsc() - t0) * 20;
}

static uint64_t calibrate_pm(uint16_t port)
{
	/* Count 179 ticks = 50 ms; the 24-bit counter may wrap once. */
	uint32_t start = inl(port) & 0xffffff, now;
	uint64_t t0 = rdtsc(), t1;
	const uint32_t ticks = PM_TIMER_HZ / 20;

	do {
		now = inl(port) & 0xffffff;
		t1 = rdtsc();
	} while (((now - start) & 0xffffff) < ticks);
	return (t1 - t0) * PM_TIMER_HZ / ((now - start) & 0xffffff);
}

void tsc_calibrate(uint16_t pm_timer_port)
{
	tsc_hz = pm_timer_port ? calibrate_pm(pm_timer_port) : calibrate_pit();
	if (tsc_hz == 0)
		tsc_hz = 1000000000ull; /* never divide by zero below */
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + tsc_hz / 1000000 * us;
	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}
