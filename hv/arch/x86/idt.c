/* SPDX-License-Identifier: MIT */
/*
 * The IDT.  Every vector lands in trap_dispatch(): an exception in the
 * hypervisor prints vector, error code, all registers, CR2 and a backtrace,
 * then stops this CPU (the others go on).  An NMI while a panic is under way
 * stops the CPU quietly: that is how panic() halts the others.
 */
#include <arch/cpu.h>
#include <petrel/arch.h>
#include <petrel/console.h>
#include <petrel/drivers.h>
#include <petrel/lib.h>
#include <petrel/log.h>

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

struct idt_entry {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_entry) == 16, "IDT gate is 16 bytes (SDM vol. 3A §6.14.1)");

extern const uint64_t isr_table[256];
static struct idt_entry idt[256] __attribute__((aligned(16)));
volatile uint32_t hv_stopping; /* set by panic(): NMIs mean "halt now" */

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound", "#UD invalid opcode", "#NM no FPU", "#DF double fault",
	"coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved",
	"#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
	"#VE virtualization", "#CP control protection",
};

void idt_init(void)
{
	for (int v = 0; v < 256; v++) {
		uint64_t off = isr_table[v];
		uint8_t ist = v == 8 ? IST_DF : v == 2 ? IST_NMI : v == 18 ? IST_MC : 0;
		idt[v] = (struct idt_entry){
			.off0 = (uint16_t)off, .sel = GDT_CODE, .ist = ist,
			.type = 0x8e, /* present, DPL0, 64-bit interrupt gate */
			.off1 = (uint16_t)(off >> 16), .off2 = (uint32_t)(off >> 32),
		};
	}
	idt_load();
}

void idt_load(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
		sizeof(idt) - 1, (uint64_t)(uintptr_t)idt
	};
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

/* Walks saved frame pointers (the core is built with them).  Stops at a
 * zero, misaligned or implausible pointer rather than fault again. */
void backtrace_from(uint64_t rbp, uint64_t rip)
{
	log_raw("  backtrace: %016llx", (unsigned long long)rip);
	for (int depth = 0; depth < 16; depth++) {
		uint64_t *fp = (uint64_t *)(uintptr_t)rbp;
		if (rbp < 0x1000 || (rbp & 7) || rbp > GiB(512) || fp[1] == 0)
			break;
		log_raw(" %016llx", (unsigned long long)fp[1]);
		rbp = fp[0];
	}
	log_raw("\n");
}

static void dump(const struct trap_frame *f)
{
	const char *name = f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] : "interrupt";

	log_raw("petrel: EXCEPTION on cpu %u: vector %llu (%s) error 0x%llx\n", this_cpu()->cpu_id,
		(unsigned long long)f->vector, name, (unsigned long long)f->error);
	log_raw("  rip %016llx cs %04llx rflags %016llx rsp %016llx ss %04llx\n",
		(unsigned long long)f->rip, (unsigned long long)f->cs, (unsigned long long)f->rflags,
		(unsigned long long)f->rsp, (unsigned long long)f->ss);
	log_raw("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n", (unsigned long long)f->rax,
		(unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	log_raw("  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n", (unsigned long long)f->rsi,
		(unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
	log_raw("  r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n", (unsigned long long)f->r9,
		(unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
	log_raw("  r13 %016llx r14 %016llx r15 %016llx\n", (unsigned long long)f->r13,
		(unsigned long long)f->r14, (unsigned long long)f->r15);
	log_raw("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx\n",
		(unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
		(unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	backtrace_from(f->rbp, f->rip);
}

void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
	if (f->vector == 2 && hv_stopping)
		cpu_halt_forever();
	/* Host interrupts: the LAPIC timer and another CPU's kick only wake
	 * the CPU (out of HLT or out of a guest); the run loop looks at the
	 * clock and its kick flag itself. */
	if (f->vector == LAPIC_TIMER_VECTOR || f->vector == LAPIC_KICK_VECTOR) {
		lapic_eoi();
		return;
	}
	if (f->vector == UART_VECTOR) {
		console_irq();
		lapic_eoi();
		return;
	}
	if (f->vector == 0xff || f->vector == 0x27 || f->vector == 0x2f)
		return; /* spurious LAPIC or 8259 interrupt: no EOI (SDM vol. 3A §11.9) */
	dump(f);
	log_raw("petrel: cpu %u stopped\n", this_cpu()->cpu_id);
	cpu_halt_forever();
}
