/* SPDX-License-Identifier: MIT */
/*
 * The host's local APIC, in x2APIC mode (MSRs) when the CPU has it, else
 * xAPIC (MMIO at the base in IA32_APIC_BASE).  SDM vol. 3A §11.
 * Never clear the global enable bit: QEMU TCG cannot re-enable it.
 */
#include <arch/cpu.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)

#define REG_ID 0x020
#define REG_SVR 0x0f0
#define REG_ESR 0x280
#define REG_EOI 0x0b0
#define REG_ICR_LO 0x300
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3e0
#define REG_ICR_HI 0x310

#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_NMI (4u << 8)
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL (1u << 15)
#define ICR_PENDING (1u << 12)   /* xAPIC delivery status */
#define ICR_ALL_BUT_SELF (3u << 18)

static bool x2apic;
static volatile uint32_t *mmio;

static uint32_t lapic_read(uint32_t reg)
{
	return x2apic ? (uint32_t)rdmsr(0x800 + (reg >> 4)) : mmio[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		mmio[reg / 4] = v;
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	bool has_x2 = (cpuid(1, 0).ecx & (1u << 21)) != 0;

	/* Every CPU runs this; the first one decides the mode for all. */
	if (has_x2 || (base & APIC_BASE_X2APIC)) {
		x2apic = true;
		base |= APIC_BASE_ENABLE | APIC_BASE_X2APIC;
	} else {
		base |= APIC_BASE_ENABLE;
	}
	wrmsr(MSR_IA32_APIC_BASE, base);
	mmio = (volatile uint32_t *)(uintptr_t)(base & 0xffffff000ull);
	lapic_write(REG_SVR, 0x100 | 0xff); /* software enable, spurious vector 0xff */
}

bool lapic_is_x2apic(void)
{
	return x2apic;
}

uint32_t lapic_id(void)
{
	return x2apic ? lapic_read(REG_ID) : lapic_read(REG_ID) >> 24;
}

static void send_ipi(uint32_t dest, uint32_t lo)
{
	if (x2apic) {
		wrmsr(0x830, ((uint64_t)dest << 32) | lo); /* one 64-bit ICR write */
		return;
	}
	mmio[REG_ICR_HI / 4] = dest << 24;
	mmio[REG_ICR_LO / 4] = lo;
}

bool lapic_ipi_idle(void)
{
	return x2apic || !(mmio[REG_ICR_LO / 4] & ICR_PENDING);
}

static void wait_idle(void)
{
	for (int i = 0; i < 100000 && !lapic_ipi_idle(); i++)
		cpu_relax();
}

void lapic_send_init(uint32_t apic_id)
{
	/* INIT assert, then (for old parts) de-assert: SDM vol. 3A §9.4.4.1 */
	lapic_write(REG_ESR, 0);
	send_ipi(apic_id, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
	wait_idle();
	send_ipi(apic_id, ICR_INIT | ICR_LEVEL);
	wait_idle();
}

void lapic_send_sipi(uint32_t apic_id, uint8_t vector)
{
	send_ipi(apic_id, ICR_STARTUP | vector);
	wait_idle();
}

/* A fixed interrupt to one CPU (the run loop's kick: run.c). */
void lapic_send_fixed(uint32_t apic_id, uint8_t vector)
{
	wait_idle();
	send_ipi(apic_id, vector | ICR_ASSERT);
}

void lapic_send_nmi_others(void)
{
	send_ipi(0, ICR_NMI | ICR_ASSERT | ICR_ALL_BUT_SELF);
	wait_idle();
}

void lapic_eoi(void)
{
	lapic_write(REG_EOI, 0);
}

/*
 * The timer, one-shot, divided by 16 (SDM vol. 3A §11.5.4).  Its rate is
 * measured once against the TSC: the APIC bus clock differs per machine and
 * emulator.  Every CPU's timer runs at the same rate.
 */
static uint64_t timer_hz;

void lapic_timer_calibrate(void)
{
	uint32_t left;

	lapic_write(REG_TIMER_DIV, 0x3);           /* divide by 16 */
	lapic_write(REG_LVT_TIMER, 1u << 16);      /* masked, one-shot */
	lapic_write(REG_TIMER_INIT, 0xffffffffu);
	udelay(10000);
	left = lapic_read(REG_TIMER_CUR);
	lapic_write(REG_TIMER_INIT, 0);
	timer_hz = (uint64_t)(0xffffffffu - left) * 100;
	if (!timer_hz)
		timer_hz = 1000000; /* never zero: a stuck timer just fires late */
}

uint64_t lapic_timer_rate(void)
{
	return timer_hz;
}

void lapic_timer_oneshot(uint64_t tsc_delta)
{
	uint64_t count = tsc_hz ? tsc_delta * (timer_hz / 1000) / (tsc_hz / 1000 ? tsc_hz / 1000 : 1) : 0;

	lapic_write(REG_TIMER_DIV, 0x3);
	lapic_write(REG_LVT_TIMER, LAPIC_TIMER_VECTOR);
	lapic_write(REG_TIMER_INIT, (uint32_t)MAX(MIN(count, 0xffffffffull), 1ull));
}

/* Still counting down: it has not fired since it was last set. */
bool lapic_timer_pending(void)
{
	return lapic_read(REG_TIMER_CUR) != 0;
}

void lapic_timer_stop(void)
{
	lapic_write(REG_TIMER_INIT, 0);
}
