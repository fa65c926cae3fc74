/* SPDX-License-Identifier: MIT */
/*
 * hostile: what a careful attacker tries against the hypervisor, each
 * check against the result the architecture gives (vector, error code,
 * CR2, registers after the instruction).  It runs beside the canary guest
 * on the same CPU (tests/integration); the canary checks that none of this
 * reached it.  Natively on QEMU TCG every check runs whose answer QEMU
 * gets right; the others say SKIP with QEMU's quirk.
 *
 *  regs       x87/SSE/AVX/AVX-512, MXCSR, DR0-3, DR6 kept across a yield
 *  spin       64-bit, CR8 = 15, busy without a single exit for spin_ms
 *  big-rep    REP INSB and REP OUTSL over big_kib KiB (one instruction)
 *  efer-*     LME in legacy mode with interrupts; EFER writes the CPU refuses
 *  cr-*       CR0 and CR4 writes the CPU refuses, in and out of IA-32e mode
 *  pdpte-*    a PDPT edited under the CPU's cached PDPTEs
 *  insn-*     INVD, WBINVD, RDPMC, MONITOR
 *  task-*     hardware task switches: CALL, IRET, task gate, JMP to a busy TSS
 *  sio-*      string I/O: memory outside RAM, segment checks, address
 *             sizes, non-canonical addresses, page faults
 *  pf-*       page-walk results: PAE PDPTEs, reserved bits, A/D, tables outside RAM
 *  mmio-*     a MOV across the end of RAM
 *  dr-*       a data breakpoint through DR0/DR7
 *  irq-storm  a 1 us test-device period is clamped
 * With kill=stack it does none of that: it takes an exception with its
 * stack outside RAM at once (Petrel stops the VM: it does not emulate
 * event delivery).
 */
#include "guest.h"

const char guest_name[] = "hostile";

#define EMPTY_PORT 0x520 /* no device: reads all-ones at every width, natively too */
#define LATCH 0x530
#define FIFO 0x534
#define TICK_PORT 0x538
#define MSR_FS_BASE 0xc0000100u
#define EFER_LME (1u << 8)
#define EFER_FFXSR (1u << 14)
#define EFER_TCE (1u << 15)
#define CR0_TS (1u << 3)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PE 1u
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_PCIDE (1u << 17)
#define CR4_PKE (1u << 22)
#define PTE_P 1u
#define PTE_W 2u
#define PTE_A 0x20u
#define PTE_D 0x40u
#define PTE_PS 0x80u
#define SCRATCH 0x400000u /* 4-8 MiB: RAM the tests may overwrite */
#define WIN 0x3fe00000u   /* a 2 MiB window mapped in 4 KiB pages */

static uint32_t ram_top; /* end of RAM below 4 GiB */

static bool intel(void)
{
	return cpuid(0).ebx == 0x756e6547; /* "Genu" */
}

/* The #PF error code of a page walk the CPU does itself, for a reserved
 * bit: P and RSVD (SDM vol. 3A §4.7: "RSVD ... can be set only if P is
 * also set").  QEMU 7.2 TCG leaves P clear (its excp_helper.c), natively
 * and for guests under SVM alike; Petrel's own walks (string I/O, MMIO)
 * always set it. */
static bool hw_rsvd_code(uint32_t got, uint32_t want)
{
	return got == want || (!intel() && got == (want & ~1u));
}

/* --- small instruction wrappers for exc_call ----------------------------- */

static void do_write_cr0(void *p) { write_cr0(*(uint32_t *)p); }
static void do_write_cr4(void *p) { write_cr4(*(uint32_t *)p); }
static void do_write_cr3(void *p) { write_cr3(*(uint32_t *)p); }
static void do_invd(void *p) { (void)p; __asm__ volatile("invd" ::: "memory"); }
static void do_wbinvd(void *p) { (void)p; __asm__ volatile("wbinvd" ::: "memory"); }
static void do_rdpmc(void *p) { uint32_t lo, hi; (void)p; __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(0)); }
static void do_monitor(void *p) { __asm__ volatile("monitor" : : "a"(p), "c"(0), "d"(0)); }

static int fault_of(void (*fn)(void *), uint32_t arg)
{
	return exc_call(fn, &arg).vector;
}

/* --- page tables for 32-bit and PAE paging ------------------------------- */

static uint32_t pd32[1024] __attribute__((aligned(4096)));
static uint32_t pt32[1024] __attribute__((aligned(4096)));
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pae_pd[4][512] __attribute__((aligned(4096)));
static uint64_t pae_pt[512] __attribute__((aligned(4096)));

/* 32-bit paging: 4 MiB identity pages (PSE), the window's 4 MiB in 4 KiB
 * pages through pt32 (identity unless a test changes it). */
static void paging32_on(void)
{
	for (uint32_t i = 0; i < 1024; i++) {
		pd32[i] = (i << 22) | PTE_P | PTE_W | PTE_PS;
		pt32[i] = ((WIN & ~0x3fffffu) + i * 4096u) | PTE_P | PTE_W;
	}
	pd32[WIN >> 22] = (uint32_t)pt32 | PTE_P | PTE_W;
	write_cr3((uint32_t)pd32);
	write_cr4(read_cr4() | CR4_PSE);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

/* PAE: 2 MiB identity pages, the window's 2 MiB in 4 KiB pages (pae_pt). */
static void paging_pae_on(void)
{
	for (uint32_t g = 0; g < 4; g++) {
		pdpt[g] = (uint32_t)pae_pd[g] | PTE_P;
		for (uint32_t i = 0; i < 512; i++)
			pae_pd[g][i] = ((uint64_t)g << 30 | (uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;
	}
	for (uint32_t i = 0; i < 512; i++)
		pae_pt[i] = (WIN + i * 4096u) | PTE_P | PTE_W;
	pae_pd[WIN >> 30][(WIN >> 21) & 511] = (uint32_t)pae_pt | PTE_P | PTE_W;
	write_cr3((uint32_t)pdpt);
	write_cr4(read_cr4() | CR4_PAE);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

static void paging_off(void)
{
	write_cr0(read_cr0() & ~(CR0_PG | CR0_WP));
	write_cr4(read_cr4() & ~(CR4_PAE | CR4_PSE));
	write_cr3(0);
}

/* --- registers ------------------------------------------------------------- */

static void check_regs(void)
{
	char why[96];

	regs_fill(0x7777);
	yield_ms(20);
	report(!regs_check(0x7777, why, sizeof(why)), "regs-kept: %s: %s", regs_what(), why);
}

/* --- 64-bit code ------------------------------------------------------------ */

/* Each: RDI in, RAX out (lm_call).  Kept in one asm block so every byte
 * of 64-bit code is visible in one place. */
__asm__(".pushsection .text\n"
	".code64\n"
	"lm_fn_ret: movq %rdi, %rax; ret\n"
	/* WRMSR EFER without LME while in IA-32e mode */
	"lm_fn_clear_lme: movl $0xc0000080, %ecx; rdmsr; andl $~0x100, %eax; wrmsr; xorl %eax, %eax; ret\n"
	/* MOV CR4 without PAE */
	"lm_fn_clear_pae: movq %cr4, %rax; andq $~0x20, %rax; movq %rax, %cr4; ret\n"
	/* MOV CR3 with bit 62 set (reserved: above any MAXPHYADDR) */
	"lm_fn_cr3_rsvd: movq %cr3, %rax; btsq $62, %rax; movq %rax, %cr3; ret\n"
	/* MOV CR0 without PG, from 64-bit code */
	"lm_fn_clear_pg: movq %cr0, %rax; btrq $31, %rax; movq %rax, %cr0; ret\n"
	/* INSB at the address in RDI (one element) */
	"lm_fn_insb: movw $0x520, %dx; insb; movq %rdi, %rax; ret\n"
	/* ADDR32 REP INSB: RDI's and RCX's upper halves are not used */
	"lm_fn_insb_a32: movq $0x9999000000000002, %rcx; movw $0x520, %dx; addr32 rep insb; movq %rcx, %rsi; movq %rdi, %rax; ret\n"
	/* FS: OUTSB from FS:RSI, FS base in the MSR already */
	"lm_fn_outsb_fs: movq %rdi, %rsi; movw $0x534, %dx; fs outsb; movq %rsi, %rax; ret\n"
	/* a load from RDI */
	"lm_fn_load: movb (%rdi), %al; ret\n"
	/* CR8 = 15, spin RDI TSC ticks without an exit, CR8 back to 0;
	 * returns what CR8 read */
	"lm_fn_cr8_spin: movq $15, %rax; movq %rax, %cr8; movq %cr8, %r8; rdtsc; shlq $32, %rdx; orq %rax, %rdx; movq %rdx, %r9\n"
	"1: rdtsc; shlq $32, %rdx; orq %rax, %rdx; subq %r9, %rdx; cmpq %rdi, %rdx; jb 1b\n"
	"xorl %eax, %eax; movq %rax, %cr8; movq %r8, %rax; ret\n"
	".code32\n"
	".popsection\n");
extern const char lm_fn_cr3_rsvd[], lm_fn_ret[], lm_fn_clear_lme[], lm_fn_clear_pae[], lm_fn_clear_pg[], lm_fn_insb[],
	lm_fn_insb_a32[], lm_fn_outsb_fs[], lm_fn_load[], lm_fn_cr8_spin[];

/* Busy in 64-bit mode with CR8 (the TPR) at 15 for spin_ms: a hypervisor
 * that lets CR8 reach the real APIC loses its own timer and the canary
 * starves. */
static void check_spin(void)
{
	uint32_t ms = cmdline_u32("spin_ms", 300), khz = tsc_khz();
	uint64_t ticks = (uint64_t)(khz ? khz : 1000000) * ms;
	struct lm_result r = lm_call(lm_fn_cr8_spin, ticks);

	report(r.vector == EXC_NONE && r.ret == 15, "spin-cr8: CR8 read back %llx, %s", r.ret,
	       exc_name(r.vector));
}

static void check_long_mode(void)
{
	struct lm_result r = lm_call(lm_fn_ret, 0x1234567887654321ull);
	bool quirky = !under_petrel(); /* QEMU TCG natively checks none of these */

	report(r.vector == EXC_NONE && r.ret == 0x1234567887654321ull, "lm-call: %s, ret %llx",
	       exc_name(r.vector), r.ret);
	if (quirky) {
		report_skip("lm-efer-lme-clear", "QEMU TCG does not #GP on it");
		report_skip("lm-cr4-pae-clear", "QEMU TCG does not #GP on it");
		report_skip("lm-cr0-pg-clear", "QEMU TCG does not #GP on it");
		report_skip("lm-cr3-reserved", "QEMU TCG does not #GP on it");
	} else {
		r = lm_call(lm_fn_clear_lme, 0);
		report(r.vector == VEC_GP, "lm-efer-lme-clear: %s, want #GP", exc_name(r.vector));
		r = lm_call(lm_fn_clear_pae, 0);
		report(r.vector == VEC_GP, "lm-cr4-pae-clear: %s, want #GP", exc_name(r.vector));
		r = lm_call(lm_fn_clear_pg, 0);
		report(r.vector == VEC_GP, "lm-cr0-pg-clear: %s, want #GP", exc_name(r.vector));
		r = lm_call(lm_fn_cr3_rsvd, 0);
		report(r.vector == VEC_GP, "lm-cr3-reserved: %s, want #GP", exc_name(r.vector));
	}
	*(volatile uint8_t *)0x1000 = 0x5a;
	r = lm_call(lm_fn_insb, 0x8000000000001000ull);
	report(r.vector == VEC_GP && r.error == 0 && r.rdi == 0x8000000000001000ull &&
	       *(volatile uint8_t *)0x1000 == 0x5a,
	       "lm-sio-noncanonical: %s error 0x%x rdi %llx, want #GP(0), RDI and memory unchanged",
	       exc_name(r.vector), r.error, r.rdi);
	*(volatile uint32_t *)SCRATCH = 0;
	r = lm_call(lm_fn_insb_a32, 0xdead000000000000ull | SCRATCH);
	report(r.vector == EXC_NONE && r.ret == SCRATCH + 2 && *(volatile uint16_t *)SCRATCH == 0xffff,
	       "lm-sio-addr32: %s, RDI %llx (want %x: EDI only, zero-extended)", exc_name(r.vector), r.ret,
	       SCRATCH + 2);
	if (under_petrel()) {
		while (inb(FIFO) != 0xff)
			;
		*(volatile uint8_t *)(SCRATCH + 0x10) = 0x5a;
		wrmsr(MSR_FS_BASE, SCRATCH);
		r = lm_call(lm_fn_outsb_fs, 0x10);
		wrmsr(MSR_FS_BASE, 0);
		uint8_t got = inb(FIFO);
		report(r.vector == EXC_NONE && got == 0x5a, "lm-sio-fs-base: %s, FIFO got 0x%x from FS:0x10, want 0x5a",
		       exc_name(r.vector), got);
	} else {
		report_skip("lm-sio-fs-base", "the test device is Petrel's");
	}
	/* A PTE with a bit above MAXPHYADDR set: #PF with RSVD, for the
	 * emulated INSB and for a MOV the CPU walks itself. */
	uint32_t maxphy = cpuid(0x80000000).eax >= 0x80000008 ? cpuid(0x80000008).eax & 0xff : 36;
	if (maxphy >= 52) {
		report_skip("lm-pf-reserved", "MAXPHYADDR is 52: no reserved address bits");
		return;
	}
	lm_pt[5] = SCRATCH | PTE_P | PTE_W | (1ull << 51);
	r = lm_call(lm_fn_insb, WIN + 5 * 4096u);
	struct lm_result l = lm_call(lm_fn_load, WIN + 5 * 4096u);
	lm_pt[5] = (WIN + 5 * 4096u) | PTE_P | PTE_W;
	report(r.vector == VEC_PF && (under_petrel() ? r.error == 0xb : hw_rsvd_code(r.error, 0xb)) &&
	       r.cr2 == WIN + 5 * 4096u && l.vector == VEC_PF && hw_rsvd_code(l.error, 0x9),
	       "lm-pf-reserved: INSB %s error 0x%x cr2 %llx (want #PF 0xb), MOV %s error 0x%x (want 0x9)",
	       exc_name(r.vector), r.error, r.cr2, exc_name(l.vector), l.error);
}

/* --- EFER, CR0, CR4 -------------------------------------------------------- */

static uint64_t efer(void) { return rdmsr(MSR_EFER); }

/* LME with paging and PAE off is legal legacy mode; interrupts then must
 * not break anything (on SVM under QEMU this made both VMs on the CPU
 * triple-fault); paging on under LME without PAE is #GP. */
static void check_efer_legacy_lme(void)
{
	uint64_t e = efer();
	int v = wrmsr_safe(MSR_EFER, e | EFER_LME);

	report(v == EXC_NONE && (efer() & EFER_LME), "efer-lme-legacy: %s, EFER 0x%llx", exc_name(v), efer());
	yield_ms(5); /* interrupts, exits and the other VM, with LME set */
	for (int i = 0; i < 1000; i++)
		(void)cpuid(0);
	report((efer() & EFER_LME) && !(read_cr0() & CR0_PG), "efer-lme-legacy-survives: EFER 0x%llx CR0 0x%x",
	       efer(), read_cr0());
	for (uint32_t i = 0; i < 1024; i++)
		pd32[i] = (i << 22) | PTE_P | PTE_W | PTE_PS;
	write_cr3((uint32_t)pd32);
	v = fault_of(do_write_cr0, read_cr0() | CR0_PG);
	if (under_petrel())
		report(v == VEC_GP && !(read_cr0() & CR0_PG), "efer-lme-pg-no-pae: %s, CR0 0x%x, want #GP",
		       exc_name(v), read_cr0());
	else
		report_skip("efer-lme-pg-no-pae", "QEMU TCG ignores the write instead of raising #GP (%s)",
			    exc_name(v));
	write_cr0(read_cr0() & ~CR0_PG);
	wrmsr(MSR_EFER, e);
	write_cr3(0);
}

static void check_efer_refused(void)
{
	uint64_t e = efer();
	struct cpuid_regs x = cpuid(0x80000001);

	if (!under_petrel()) {
		report_skip("efer-refused", "QEMU TCG drops EFER bits it does not support instead of #GP");
		return;
	}
	paging32_on();
	int lme = wrmsr_safe(MSR_EFER, e | EFER_LME);
	paging_off();
	int rsvd = wrmsr_safe(MSR_EFER, e | (1u << 1));
	int ffxsr = wrmsr_safe(MSR_EFER, e | EFER_FFXSR);
	if (ffxsr == EXC_NONE)
		wrmsr(MSR_EFER, e);
	int tce = wrmsr_safe(MSR_EFER, e | EFER_TCE);
	if (tce == EXC_NONE)
		wrmsr(MSR_EFER, e);
	report(lme == VEC_GP && rsvd == VEC_GP && (ffxsr == VEC_GP) == !(x.edx & (1u << 25)) &&
	       (tce == VEC_GP) == !(x.ecx & (1u << 17)) && efer() == e,
	       "efer-refused: LME with paging %s, bit 1 %s, FFXSR %s (cpuid %d), TCE %s (cpuid %d)",
	       exc_name(lme), exc_name(rsvd), exc_name(ffxsr), !!(x.edx & (1u << 25)), exc_name(tce),
	       !!(x.ecx & (1u << 17)));
}

static void check_cr_refused(void)
{
	uint32_t cr0 = read_cr0(), cr4 = read_cr4();

	if (!under_petrel()) {
		report_skip("cr-refused", "QEMU TCG's MOV CR0/CR4 helpers check none of these");
		return;
	}
	int nw = fault_of(do_write_cr0, (cr0 & ~CR0_CD) | CR0_NW);
	int pg = fault_of(do_write_cr0, (cr0 & ~CR0_PE) | CR0_PG);
	int r15 = fault_of(do_write_cr4, cr4 | (1u << 15));
	/* PKE: allowed exactly when CPUID offers PKU */
	bool pku = cpuid(0).eax >= 7 && (cpuid_count(7, 0).ecx & (1u << 3));
	int pke = fault_of(do_write_cr4, cr4 | CR4_PKE);
	write_cr4(cr4);
	int pcide = fault_of(do_write_cr4, cr4 | CR4_PCIDE);
	report(nw == VEC_GP && pg == VEC_GP && r15 == VEC_GP && pke == (pku ? EXC_NONE : VEC_GP) &&
	       pcide == VEC_GP && read_cr0() == cr0 && read_cr4() == cr4,
	       "cr-refused: NW without CD %s, PG without PE %s, CR4 bit 15 %s, PKE %s (cpuid %d), "
	       "PCIDE outside IA-32e %s", exc_name(nw), exc_name(pg), exc_name(r15), exc_name(pke), pku,
	       exc_name(pcide));
	/* Allowed: CD with NW, and TS */
	int cd = fault_of(do_write_cr0, cr0 | CR0_CD | CR0_NW);
	write_cr0(cr0);
	__asm__ volatile("clts");
	report(cd == EXC_NONE && read_cr0() == (cr0 & ~CR0_TS), "cr-allowed: CD|NW %s, CR0 0x%x",
	       exc_name(cd), read_cr0());
}

/* LMSW loads CR0[3:0] from a register or memory, but never clears PE;
 * CLTS clears TS (under SVM Petrel decodes all three). */
static void check_lmsw(void)
{
	uint32_t cr0 = read_cr0();
	static uint16_t msw;
	uint16_t ts_on = (uint16_t)((cr0 & 0xf) | CR0_TS), pe_off = (uint16_t)(cr0 & 0xe);

	__asm__ volatile("lmsw %0" : : "r"(ts_on));
	uint32_t after_reg = read_cr0();
	msw = pe_off;
	__asm__ volatile("lmsw %0" : : "m"(msw));
	uint32_t after_mem = read_cr0();
	__asm__ volatile("clts");
	report(after_reg == (cr0 | CR0_TS) && after_mem == (cr0 & ~CR0_TS) && read_cr0() == (cr0 & ~CR0_TS),
	       "cr-lmsw-clts: LMSW reg 0x%x, LMSW mem (PE stays) 0x%x, CLTS 0x%x", after_reg, after_mem,
	       read_cr0());
}

/* PAE paging: the CPU uses the PDPTEs it loaded with CR3.  Editing the
 * PDPT in memory changes nothing until the next load, and exits in
 * between (CPUID, an EFER write that rewrites the control registers) must
 * not load them either; reloading CR3 then faults on Intel (AMD's nested
 * paging reads PDPTEs from memory at each walk instead). */
static void check_pdpte(void)
{
	paging_pae_on();
	uint64_t saved = pdpt[3];
	pdpt[3] = saved | (1ull << 1) | (1ull << 6); /* reserved bits in an unused PDPTE */
	for (int i = 0; i < 100; i++)
		(void)cpuid(0);
	wrmsr(MSR_EFER, efer());
	yield_ms(2);
	report(true, "pdpte-edited-survives: exits after editing a loaded PDPT");
	int v = fault_of(do_write_cr3, (uint32_t)pdpt);
	pdpt[3] = saved;
	write_cr3((uint32_t)pdpt);
	if (intel() && under_petrel())
		report(v == VEC_GP, "pdpte-reload-faults: MOV CR3 %s, want #GP", exc_name(v));
	else
		report_skip("pdpte-reload-faults", "only Intel CPUs check PDPTEs at MOV CR3 (%s)", exc_name(v));
	paging_off();
}

/* --- instructions --------------------------------------------------------- */

static void check_insns(void)
{
	int invd = fault_of(do_invd, 0), wbinvd = fault_of(do_wbinvd, 0);
	report(invd == EXC_NONE && wbinvd == EXC_NONE, "insn-invd-wbinvd: INVD %s, WBINVD %s", exc_name(invd),
	       exc_name(wbinvd));
	if (!under_petrel()) {
		report_skip("insn-rdpmc-monitor", "natively the CPU has them");
		return;
	}
	static uint32_t line;
	int pmc = fault_of(do_rdpmc, 0);
	int mon = exc_call(do_monitor, &line).vector;
	report(pmc == VEC_GP && mon == VEC_UD, "insn-rdpmc-monitor: RDPMC %s (want #GP: no counters), "
	       "MONITOR %s (want #UD: hidden)", exc_name(pmc), exc_name(mon));
}

/* --- task switches ------------------------------------------------------------ */

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt, iomap;
};
static struct tss32 tss_a, tss_b;
static uint8_t task_stack[4096] __attribute__((aligned(16)));
static volatile uint32_t task_runs, task_tr, task_eflags, task_link;
#define SEL_TSS_A 0x20
#define SEL_TSS_B 0x28
#define TASK_VECTOR 0x3e

void task_b_body(void);
void task_b_entry(void);
__asm__(".pushsection .text\n"
	"task_b_entry: call task_b_body; iret; jmp task_b_entry\n"
	".popsection\n");

void task_b_body(void)
{
	uint16_t tr;
	task_runs++;
	__asm__ volatile("str %0" : "=r"(tr));
	task_tr = tr;
	task_eflags = read_eflags();
	task_link = tss_b.link;
}

static void tss_b_reset(void)
{
	memset(&tss_b, 0, sizeof(tss_b));
	tss_b.eip = (uint32_t)task_b_entry;
	tss_b.esp = (uint32_t)(task_stack + sizeof(task_stack));
	tss_b.eflags = 2;
	tss_b.cs = 0x08;
	tss_b.es = tss_b.ss = tss_b.ds = tss_b.fs = tss_b.gs = 0x10;
	tss_b.cr3 = read_cr3();
	gdt_set(SEL_TSS_B >> 3, seg_desc((uint32_t)&tss_b, sizeof(tss_b) - 1, 0x89));
}

static bool busy(uint16_t sel) { return (gdt_get(sel >> 3) >> 41) & 1; }

static void do_ljmp_a(void *p) { (void)p; __asm__ volatile("ljmp $0x20, $0" ::: "memory"); }

static void check_tasks(void)
{
	uint32_t ebx_before = 0x13572468, ebx_after;

	gdt_set(SEL_TSS_A >> 3, seg_desc((uint32_t)&tss_a, sizeof(tss_a) - 1, 0x89));
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS_A));
	tss_b_reset();
	__asm__ volatile("lcall $0x28, $0" : "=b"(ebx_after) : "b"(ebx_before) : "memory", "cc");
	uint32_t cr0 = read_cr0();
	__asm__ volatile("clts");
	uint16_t tr;
	__asm__ volatile("str %0" : "=r"(tr));
	report(task_runs == 1 && task_tr == SEL_TSS_B && (task_eflags & (1u << 14)) && task_link == SEL_TSS_A &&
	       tr == SEL_TSS_A && busy(SEL_TSS_A) && !busy(SEL_TSS_B) && ebx_after == ebx_before &&
	       (cr0 & CR0_TS) && !(read_eflags() & (1u << 14)),
	       "task-call-iret: ran %u, TR in task %x, NT %d, link %x, back TR %x, busy A %d B %d, EBX %x, TS %d",
	       task_runs, task_tr, !!(task_eflags & (1u << 14)), task_link, tr, busy(SEL_TSS_A),
	       busy(SEL_TSS_B), ebx_after, !!(cr0 & CR0_TS));
	int v = exc_call(do_ljmp_a, 0).vector;
	struct exc_info e = exc_call(do_ljmp_a, 0);
	report(v == VEC_GP && e.error_code == SEL_TSS_A, "task-jmp-busy: %s error 0x%x, want #GP(0x%x)",
	       exc_name(v), e.error_code, SEL_TSS_A);
	/* through a task gate in the IDT */
	tss_b_reset();
	idt_set(TASK_VECTOR, ((uint64_t)SEL_TSS_B << 16) | (0x85ull << 40));
	__asm__ volatile("int %0" : : "i"(TASK_VECTOR) : "memory");
	__asm__ volatile("clts");
	report(task_runs == 2 && task_link == SEL_TSS_A, "task-gate: ran %u, link %x", task_runs, task_link);
}

/* --- string I/O ------------------------------------------------------------------ */

struct sio {
	uint32_t edi, esi, ecx;
	uint16_t port, es;
};

static void do_rep_insb(void *p)
{
	struct sio *s = p;
	__asm__ volatile("rep insb" : "+D"(s->edi), "+c"(s->ecx) : "d"(s->port) : "memory");
}

static void do_rep_insl(void *p)
{
	struct sio *s = p;
	__asm__ volatile("rep insl" : "+D"(s->edi), "+c"(s->ecx) : "d"(s->port) : "memory");
}

static void do_rep_outsb(void *p)
{
	struct sio *s = p;
	__asm__ volatile("rep outsb" : "+S"(s->esi), "+c"(s->ecx) : "d"(s->port) : "memory");
}

static void do_rep_outsl(void *p)
{
	struct sio *s = p;
	__asm__ volatile("rep outsl" : "+S"(s->esi), "+c"(s->ecx) : "d"(s->port) : "memory");
}

static void do_es_insb(void *p)
{
	struct sio *s = p;
	__asm__ volatile("mov %w3, %%es; rep insb" : "+D"(s->edi), "+c"(s->ecx) : "d"(s->port), "r"(s->es)
			 : "memory");
}

static void do_fs_outsb(void *p)
{
	struct sio *s = p;
	__asm__ volatile("mov %w3, %%fs; fs outsb" : "+S"(s->esi) : "d"(s->port), "c"(0), "r"(s->es) : "memory");
}

static void do_es_a16_insb(void *p)
{
	struct sio *s = p;
	__asm__ volatile("mov %w3, %%es; addr16 rep insb" : "+D"(s->edi), "+c"(s->ecx) : "d"(s->port),
			 "r"(s->es) : "memory");
}

static void restore_segs(void)
{
	__asm__ volatile("mov %0, %%es; mov %0, %%fs" : : "r"(0x10) : "memory");
}

/* Memory that is not RAM: INS and OUTS complete against the empty bus;
 * an element across the end of RAM writes its RAM bytes. */
static void check_sio_nonram(void)
{
	uint32_t hole = ram_top + 0x10000;
	struct sio s = { .edi = hole, .ecx = 16, .port = EMPTY_PORT };
	struct exc_info e = exc_call(do_rep_insl, &s);

	report(e.vector == EXC_NONE && s.edi == hole + 64 && s.ecx == 0,
	       "sio-ins-above-ram: %s, EDI 0x%x ECX %u", exc_name(e.vector), s.edi, s.ecx);
	*(volatile uint16_t *)(ram_top - 4) = 0x1234;
	*(volatile uint16_t *)(ram_top - 2) = 0;
	s = (struct sio){ .edi = ram_top - 2, .ecx = 1, .port = EMPTY_PORT };
	e = exc_call(do_rep_insl, &s);
	report(e.vector == EXC_NONE && *(volatile uint16_t *)(ram_top - 2) == 0xffff &&
	       *(volatile uint16_t *)(ram_top - 4) == 0x1234 && s.edi == ram_top + 2,
	       "sio-ins-straddles-ram-end: %s, RAM end 0x%x", exc_name(e.vector), *(volatile uint16_t *)(ram_top - 2));
	/* the same through a page mapped to a guest-physical page with no RAM */
	paging32_on();
	pt32[(WIN >> 12) & 1023] = (ram_top + 0x20000) | PTE_P | PTE_W;
	write_cr3((uint32_t)pd32);
	s = (struct sio){ .edi = WIN, .ecx = 100, .port = EMPTY_PORT };
	e = exc_call(do_rep_insb, &s);
	paging_off();
	report(e.vector == EXC_NONE && s.ecx == 0 && s.edi == WIN + 100, "sio-ins-paged-to-no-ram: %s ECX %u",
	       exc_name(e.vector), s.ecx);
	if (!under_petrel()) {
		report_skip("sio-petrel-bus", "natively the IOAPIC and firmware sit there");
		return;
	}
	s = (struct sio){ .edi = 0xfec00000u, .ecx = 8, .port = EMPTY_PORT };
	e = exc_call(do_rep_insl, &s);
	report(e.vector == EXC_NONE && s.ecx == 0, "sio-ins-ioapic-window: %s", exc_name(e.vector));
	s = (struct sio){ .esi = hole, .ecx = 4, .port = FIFO };
	e = exc_call(do_rep_outsb, &s);
	uint32_t got = inl(FIFO), more = inb(FIFO);
	report(e.vector == EXC_NONE && got == 0xffffffffu && more == 0xff, "sio-outs-above-ram: %s, FIFO 0x%x",
	       exc_name(e.vector), got);
}

/* Segments and address size: what the CPU checks before each element. */
static void check_sio_segments(void)
{
	gdt_set(7, seg_desc(0, 0xfff, 0x4093));      /* 0x38: data, limit 4 KiB - 1 */
	gdt_set(8, seg_desc(0, 0xfffff, 0xc091));    /* 0x40: read-only data */
	gdt_set(9, seg_desc(SCRATCH, 0xfffff, 0xc093)); /* 0x48: data based at SCRATCH */
	/* ADDR16: DI wraps at 64 KiB and only CX counts (ES based at SCRATCH) */
	*(volatile uint8_t *)(SCRATCH + 0xffff) = 0;
	*(volatile uint8_t *)(SCRATCH + 0) = 0;
	struct sio s = { .edi = 0x1234ffff, .ecx = 0xabcd0002, .port = EMPTY_PORT, .es = 0x48 };
	struct exc_info e = exc_call(do_es_a16_insb, &s);
	restore_segs();
	report(e.vector == EXC_NONE && s.edi == 0x12340001 && s.ecx == 0xabcd0000 &&
	       *(volatile uint8_t *)(SCRATCH + 0xffff) == 0xff && *(volatile uint8_t *)SCRATCH == 0xff,
	       "sio-addr16: %s EDI 0x%x ECX 0x%x", exc_name(e.vector), s.edi, s.ecx);
	if (!under_petrel()) {
		report_skip("sio-es-checks", "QEMU TCG checks no segment limits or types on data accesses");
		report_skip("sio-outs-fs-override", "the test device is Petrel's");
		return;
	}
	s = (struct sio){ .edi = 0xffe, .ecx = 4, .port = EMPTY_PORT, .es = 0x38 };
	e = exc_call(do_es_insb, &s);
	restore_segs();
	report(e.vector == VEC_GP && e.error_code == 0 && e.edi == 0x1000 && e.ecx == 2,
	       "sio-es-limit: %s error 0x%x, EDI 0x%x ECX %u (want #GP(0) after 2 elements)", exc_name(e.vector),
	       e.error_code, e.edi, e.ecx);
	s = (struct sio){ .edi = SCRATCH, .ecx = 1, .port = EMPTY_PORT, .es = 0x40 };
	e = exc_call(do_es_insb, &s);
	restore_segs();
	report(e.vector == VEC_GP && e.edi == SCRATCH, "sio-es-read-only: %s EDI 0x%x", exc_name(e.vector), e.edi);
	s = (struct sio){ .edi = SCRATCH, .ecx = 1, .port = EMPTY_PORT, .es = 0 };
	e = exc_call(do_es_insb, &s);
	restore_segs();
	report(e.vector == VEC_GP, "sio-es-null: %s", exc_name(e.vector));
	*(volatile uint8_t *)(SCRATCH + 0x20) = 0xa7;
	s = (struct sio){ .esi = 0x20, .port = FIFO, .es = 0x48 };
	e = exc_call(do_fs_outsb, &s);
	restore_segs();
	uint8_t got = inb(FIFO);
	report(e.vector == EXC_NONE && got == 0xa7 && s.esi == 0x21, "sio-outs-fs-override: %s, FIFO 0x%x",
	       exc_name(e.vector), got);
}

/* One big REP each way: a single instruction the hypervisor must not
 * let hold the CPU. */
static void check_big_rep(void)
{
	uint32_t kib = cmdline_u32("big_kib", 1024), base = 0x1000000;
	if (base + kib * 1024u > ram_top) {
		report_skip("big-rep", "needs %u KiB of RAM above 16 MiB", kib);
		return;
	}
	struct sio s = { .edi = base, .ecx = kib * 1024u, .port = EMPTY_PORT };
	struct exc_info e = exc_call(do_rep_insb, &s);
	bool ins_ok = e.vector == EXC_NONE && s.ecx == 0 && s.edi == base + kib * 1024u &&
		      *(volatile uint8_t *)(base + kib * 1024u - 1) == 0xff;
	s = (struct sio){ .esi = base, .ecx = kib * 256u, .port = EMPTY_PORT };
	e = exc_call(do_rep_outsl, &s);
	report(ins_ok && e.vector == EXC_NONE && s.ecx == 0 && s.esi == base + kib * 1024u,
	       "big-rep: REP INSB and REP OUTSL over %u KiB: %s, ESI 0x%x", kib, exc_name(e.vector), s.esi);
}

/* --- the page walk ------------------------------------------------------------ */

static void do_load8(void *p) { (void)*(volatile uint8_t *)p; }

static void check_paging(void)
{
	uint32_t page = SCRATCH + 0x10000;
	paging_pae_on();
	pae_pt[1] = page | PTE_P | PTE_W;
	pae_pt[2] = page | PTE_P;
	pae_pt[3] = page | PTE_P | PTE_W | (1ull << 62);
	write_cr3((uint32_t)pdpt);
	struct sio s = { .edi = WIN + 4096, .ecx = 64, .port = EMPTY_PORT };
	struct exc_info e = exc_call(do_rep_insb, &s);
	report(e.vector == EXC_NONE && s.ecx == 0 && (pae_pt[1] & (PTE_A | PTE_D)) == (PTE_A | PTE_D),
	       "pf-pae-pdpte-no-rw: REP INSB into a writable page with WP=1: %s ECX %u, PTE A/D %d/%d",
	       exc_name(e.vector), s.ecx, !!(pae_pt[1] & PTE_A), !!(pae_pt[1] & PTE_D));
	s = (struct sio){ .edi = WIN + 2 * 4096 + 8, .ecx = 1, .port = EMPTY_PORT };
	e = exc_call(do_rep_insb, &s);
	report(e.vector == VEC_PF && e.error_code == 3 && e.cr2 == WIN + 2 * 4096 + 8,
	       "pf-read-only: %s error 0x%x cr2 0x%x (want #PF 0x3)", exc_name(e.vector), e.error_code, e.cr2);
	s = (struct sio){ .edi = WIN + 3 * 4096, .ecx = 1, .port = EMPTY_PORT };
	e = exc_call(do_rep_insb, &s);
	struct exc_info l = exc_call(do_load8, (void *)(WIN + 3 * 4096));
	report(e.vector == VEC_PF && (under_petrel() ? e.error_code == 0xb : hw_rsvd_code(e.error_code, 0xb)) &&
	       l.vector == VEC_PF && hw_rsvd_code(l.error_code, 0x9),
	       "pf-pae-reserved-62: INSB %s 0x%x (want 0xb), MOV %s 0x%x (want 0x9)", exc_name(e.vector),
	       e.error_code, exc_name(l.vector), l.error_code);
	if (under_petrel()) {
		/* a page table outside RAM reads all-ones: reserved bits, RSVD */
		pae_pd[(WIN - 0x200000) >> 30][((WIN - 0x200000) >> 21) & 511] = (ram_top + 0x40000) | PTE_P | PTE_W;
		write_cr3((uint32_t)pdpt);
		l = exc_call(do_load8, (void *)(WIN - 0x200000 + 0x123));
		s = (struct sio){ .edi = WIN - 0x200000, .ecx = 1, .port = EMPTY_PORT };
		e = exc_call(do_rep_insb, &s);
		report(l.vector == VEC_PF && l.error_code == 0x9 && l.cr2 == WIN - 0x200000 + 0x123 &&
		       e.vector == VEC_PF && e.error_code == 0xb,
		       "pf-table-outside-ram: MOV %s 0x%x cr2 0x%x (want #PF 0x9), INSB %s 0x%x (want 0xb)",
		       exc_name(l.vector), l.error_code, l.cr2, exc_name(e.vector), e.error_code);
	} else {
		report_skip("pf-table-outside-ram", "natively the bus there is QEMU's");
	}
	paging_off();
}

/* A MOV across the end of RAM: RAM bytes in RAM, the rest the bus's. */
static void check_mmio_straddle(void)
{
	uint32_t a = ram_top - 2, v;
	*(volatile uint32_t *)(ram_top - 4) = 0;
	__asm__ volatile("movl %0, (%1)" : : "a"(0x11223344u), "d"(a) : "memory");
	uint16_t in_ram = *(volatile uint16_t *)(ram_top - 2);
	__asm__ volatile("movl (%1), %0" : "=a"(v) : "d"(a) : "memory");
	if (under_petrel())
		report(in_ram == 0x3344 && v == 0xffff3344u, "mmio-straddle: stored 0x%x to RAM, loaded 0x%x "
		       "(want 0x3344, 0xffff3344)", in_ram, v);
	else
		report((v & 0xffff) == 0x3344 && in_ram == 0x3344, "mmio-straddle: stored 0x%x, loaded 0x%x", in_ram, v);
}

/* DR0/DR7 are the guest's own: a write watchpoint traps. */
static volatile uint32_t watched;
static void do_touch(void *p) { (void)p; watched = 1; }

static void check_watchpoint(void)
{
	uint32_t dr6;
	__asm__ volatile("mov %0, %%dr6" : : "r"(0xffff0ff0u));
	__asm__ volatile("mov %0, %%dr0" : : "r"((uint32_t)&watched));
	__asm__ volatile("mov %0, %%dr7" : : "r"(0x000d0001u)); /* L0, write, 4 bytes */
	struct exc_info e = exc_call(do_touch, 0);
	__asm__ volatile("mov %0, %%dr7" : : "r"(0x400u));
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	report(e.vector == 1 && (dr6 & 1), "dr-watchpoint: %s, DR6 0x%x", exc_name(e.vector), dr6);
}

/* The test device asked for a 1 us period: Petrel clamps every periodic
 * timer to its floor (200 us), so the guest still gets work done. */
static volatile uint32_t storm_ticks;
static void on_storm(void) { storm_ticks++; }

static void check_irq_storm(void)
{
	uint32_t khz = tsc_khz(), loops = 0;
	if (!khz) {
		report_skip("irq-storm", "the test device is Petrel's");
		return;
	}
	irq_set_handler(0x3d, on_storm);
	storm_ticks = 0;
	uint64_t start = rdtsc(), ticks = (uint64_t)khz * 50;
	outl(TICK_PORT, (1u << 8) | 0x3d);
	sti();
	while (rdtsc() - start < ticks)
		loops++;
	cli();
	outl(TICK_PORT, 0);
	report(storm_ticks >= 1 && storm_ticks <= 50000 / 200 + 2 && loops > 1000,
	       "irq-storm: %u ticks in 50 ms (at most %u at a 200 us floor), %u loops done", storm_ticks,
	       50000 / 200 + 2, loops);
}

/* Ends the guest: an exception whose frame goes to a stack outside RAM. */
static void kill_stack(void)
{
	printf("kill: int3 with the stack at 0xfec00100\n");
	__asm__ volatile("mov $0xfec00100, %%esp; int3" ::: "memory");
}

void guest_main(void)
{
	ram_top = mb_ram_top() > 0xfec00000ull ? 0xfec00000u : (uint32_t)mb_ram_top();
	if (cmdline_has("kill=stack"))
		kill_stack();
	regs_enable();
	check_regs();
	check_spin();
	check_big_rep();
	check_long_mode();
	check_efer_legacy_lme();
	check_efer_refused();
	check_cr_refused();
	check_lmsw();
	check_pdpte();
	check_insns();
	check_tasks();
	check_sio_nonram();
	check_sio_segments();
	check_paging();
	check_mmio_straddle();
	check_watchpoint();
	check_irq_storm();
}
