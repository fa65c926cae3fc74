/* SPDX-License-Identifier: MIT */
/*
 * The guest's own GDT and IDT, and what happens on an exception or
 * interrupt: an armed exc_call() gets the exception recorded and its
 * function abandoned; vectors 32-63 go to registered IRQ handlers; anything
 * else is an unexpected exception, which fails the guest.
 */
#include "guest.h"

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define IDT_VECTORS 64 /* 0-31 exceptions, 32-63 interrupts; higher: #GP via the limit */

/* Flat 4 GiB segments (SDM vol. 3A §3.4.5): base 0, limit 0xfffff, G=1,
 * D=1; a 64-bit code segment for lm.S; the rest free for tests (gdt_set). */
static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8))) = {
	0,
	0x00cf9a000000ffffull, /* 0x08: code, execute/read, DPL 0 */
	0x00cf92000000ffffull, /* 0x10: data, read/write, DPL 0 */
	0x00af9a000000ffffull, /* 0x18: 64-bit code (L=1, D=0) */
};

void gdt_set(int index, uint64_t desc)
{
	if (index > 3 && index < GDT_ENTRIES)
		gdt[index] = desc;
}

uint64_t gdt_get(int index)
{
	return index >= 0 && index < GDT_ENTRIES ? gdt[index] : 0;
}

uint64_t seg_desc(uint32_t base, uint32_t limit, uint16_t attr)
{
	/* attr: type S DPL P in bits 7:0, AVL L D/B G in bits 15:12 */
	return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)(attr & 0xff) << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)((attr >> 12) & 0xf) << 52) |
	       ((uint64_t)(base >> 24) << 56);
}
static uint64_t idt[IDT_VECTORS] __attribute__((aligned(8)));

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint32_t base;
};

/* What isr_common pushed (pusha order), then the stub, then the CPU. */
struct trap_frame {
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
	uint32_t vector, error_code;
	uint32_t eip, cs, eflags;
};

void gdt_load(const struct dtr *gdtr);
void exc_call_raw(void (*fn)(void *), void *arg);
uint32_t trap_dispatch(struct trap_frame *f);
void trap_init(void);
extern char isr_stubs[];

/* Read by the entry stub: where an armed exc_call() wants to resume. */
uint32_t exc_recover_eip, exc_recover_esp;
static struct exc_info exc_last;
static void (*irq_handlers[IDT_VECTORS])(void);
volatile uint32_t stray_irqs;

void idt_set(int vector, uint64_t gate)
{
	if (vector >= 0 && vector < IDT_VECTORS)
		idt[vector] = gate;
}

/* 32-bit interrupt gate, DPL 0 (SDM vol. 3A §6.11): IF is cleared on entry. */
static uint64_t interrupt_gate(uint32_t handler)
{
	return (uint64_t)(handler & 0xffff) | ((uint64_t)SEL_CODE << 16) |
	       (0x8eull << 40) | ((uint64_t)(handler >> 16) << 48);
}

void trap_init(void)
{
	static struct dtr gdtr;
	gdtr = (struct dtr){ sizeof(gdt) - 1, (uint32_t)gdt };
	static struct dtr idtr = { sizeof(idt) - 1, (uint32_t)idt };
	gdt_load(&gdtr);
	for (int v = 0; v < IDT_VECTORS; v++)
		idt[v] = interrupt_gate((uint32_t)isr_stubs + 16 * v);
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

const char *exc_name(int v)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
		"#NP", "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};
	if (v == EXC_NONE)
		return "no exception";
	return v >= 0 && v < 32 && names[v] ? names[v] : "exception";
}

static __attribute__((noreturn)) void unexpected(const struct trap_frame *f)
{
	report(false, "unexpected-exception: %s (vector %u) error 0x%x at eip 0x%x cr2 0x%x",
	       exc_name((int)f->vector), f->vector, f->error_code, f->eip, read_cr2());
	exit_tests();
}

uint32_t trap_dispatch(struct trap_frame *f)
{
	if (f->vector >= 32) {
		if (irq_handlers[f->vector])
			irq_handlers[f->vector]();
		else
			stray_irqs++;
		return 0;
	}
	if (!exc_recover_eip)
		unexpected(f);
	exc_last = (struct exc_info){ (int)f->vector, f->error_code, f->eip, read_cr2(), f->ecx, f->esi, f->edi };
	return 1; /* resume in exc_call_raw, with its stack */
}

struct exc_info exc_call(void (*fn)(void *), void *arg)
{
	exc_last = (struct exc_info){ .vector = EXC_NONE };
	exc_call_raw(fn, arg);
	return exc_last;
}

void irq_set_handler(int vector, void (*fn)(void))
{
	if (vector >= 32 && vector < IDT_VECTORS)
		irq_handlers[vector] = fn;
}

struct msr_op {
	uint32_t msr;
	uint64_t val;
};

static void do_rdmsr(void *p)
{
	struct msr_op *op = p;
	op->val = rdmsr(op->msr);
}

static void do_wrmsr(void *p)
{
	struct msr_op *op = p;
	wrmsr(op->msr, op->val);
}

int rdmsr_safe(uint32_t msr, uint64_t *val)
{
	struct msr_op op = { msr, 0 };
	int v = exc_call(do_rdmsr, &op).vector;
	*val = op.val;
	return v;
}

int wrmsr_safe(uint32_t msr, uint64_t val)
{
	struct msr_op op = { msr, val };
	return exc_call(do_wrmsr, &op).vector;
}
