/* SPDX-License-Identifier: MIT */
/*
 * exceptions: the guest's own exceptions reach the guest's IDT with the
 * right vector, error code and EIP (SDM vol. 3A §6.15): #DE, #BP (a trap:
 * EIP after the int3), #UD, #GP with a selector error code, and #PF under
 * the guest's own paging (error code P/W bits, CR2).
 */
#include "guest.h"

const char guest_name[] = "exceptions";

/* Snippets: a label at the instruction that faults (or right after the
 * trap), so the checks know the exact EIP the CPU must push. */
void snip_de(void *), snip_bp(void *), snip_ud(void *), snip_gp(void *);
void snip_read(void *), snip_write(void *);
extern char snip_de_insn[], snip_bp_after[], snip_ud_insn[], snip_gp_insn[];
extern char snip_read_insn[], snip_write_insn[];
__asm__(".pushsection .text\n"
	"snip_de: xor %edx, %edx; mov $1, %eax; xor %ecx, %ecx\n"
	"snip_de_insn: div %ecx\n ret\n"
	"snip_bp: int3\nsnip_bp_after: ret\n"
	"snip_ud: snip_ud_insn: ud2\n ret\n"
	/* 0x2b: GDT index 5 (our GDT has 3 entries), RPL 3.  The error code is
	 * the selector with the RPL bits replaced by EXT/IDT (0): 0x28. */
	"snip_gp: mov $0x2b, %eax\nsnip_gp_insn: mov %eax, %ds\n ret\n"
	"snip_read: mov 4(%esp), %edx\nsnip_read_insn: mov (%edx), %eax\n ret\n"
	"snip_write: mov 4(%esp), %edx\nsnip_write_insn: movl $0x5a5a5a5a, (%edx)\n ret\n"
	".globl snip_de, snip_de_insn, snip_bp, snip_bp_after, snip_ud, snip_ud_insn\n"
	".globl snip_gp, snip_gp_insn, snip_read, snip_read_insn, snip_write, snip_write_insn\n"
	".popsection");

static void expect(const char *name, void (*fn)(void *), void *arg, int vector, uint32_t err,
		   const char *eip)
{
	struct exc_info x = exc_call(fn, arg);
	report(x.vector == vector && x.error_code == err && x.eip == (uint32_t)eip,
	       "%s: got %s err 0x%x eip 0x%x, want %s err 0x%x eip %p", name, exc_name(x.vector),
	       x.error_code, x.eip, exc_name(vector), err, (void *)eip);
}

/* --- #PF: a 4 MiB identity map with one hole and one read-only page ------- */

#define PTE_P  0x1u
#define PTE_W  0x2u
#define PF_P   0x1u /* error code: protection violation (else not present) */
#define PF_W   0x2u /* error code: the access was a write */
#define HOLE   0x300000u /* PTE not present */
#define RDONLY 0x301000u /* PTE present, read-only */
#define NO_PDE 0x800000u /* outside the one page table: PDE not present */

static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_table[1024] __attribute__((aligned(4096)));

static void paging_on(void)
{
	for (uint32_t i = 0; i < 1024; i++)
		page_table[i] = (i << 12) | PTE_P | PTE_W;
	page_table[HOLE >> 12] = 0;
	page_table[RDONLY >> 12] = RDONLY | PTE_P;
	page_dir[0] = (uint32_t)page_table | PTE_P | PTE_W;
	write_cr3((uint32_t)page_dir);
	/* WP: ring-0 writes honour read-only pages too (SDM vol. 3A §4.6). */
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

static void paging_off(void)
{
	write_cr0(read_cr0() & ~(CR0_PG | CR0_WP));
}

static void expect_pf(const char *name, void (*fn)(void *), uint32_t addr, uint32_t err,
		      const char *eip)
{
	struct exc_info x = exc_call(fn, (void *)addr);
	report(x.vector == VEC_PF && x.error_code == err && x.cr2 == addr && x.eip == (uint32_t)eip,
	       "%s: got %s err 0x%x cr2 0x%x eip 0x%x, want #PF err 0x%x cr2 0x%x eip %p", name,
	       exc_name(x.vector), x.error_code, x.cr2, x.eip, err, addr, (void *)eip);
}

static void check_page_faults(void)
{
	paging_on();
	bool on = read_cr0() & CR0_PG;
	struct exc_info ok = exc_call(snip_read, (void *)RDONLY);
	report(on && ok.vector == EXC_NONE, "pf-mapped-read-ok: CR0 0x%x, reading 0x%x gave %s",
	       read_cr0(), RDONLY, exc_name(ok.vector));
	expect_pf("pf-not-present-read", snip_read, HOLE, 0, snip_read_insn);
	expect_pf("pf-not-present-write", snip_write, HOLE, PF_W, snip_write_insn);
	expect_pf("pf-no-pde-read", snip_read, NO_PDE, 0, snip_read_insn);
	expect_pf("pf-read-only-write", snip_write, RDONLY, PF_P | PF_W, snip_write_insn);
	paging_off();
	/* Paging off again: the hole is plain RAM, so this must not fault. */
	struct exc_info flat = exc_call(snip_write, (void *)HOLE);
	report(!(read_cr0() & CR0_PG) && flat.vector == EXC_NONE,
	       "paging-off-again: writing 0x%x gave %s", HOLE, exc_name(flat.vector));
}

void guest_main(void)
{
	expect("de-divide-by-zero", snip_de, 0, VEC_DE, 0, snip_de_insn);
	expect("bp-int3", snip_bp, 0, VEC_BP, 0, snip_bp_after);
	expect("ud-ud2", snip_ud, 0, VEC_UD, 0, snip_ud_insn);
	expect("gp-selector-beyond-gdt", snip_gp, 0, VEC_GP, 0x28, snip_gp_insn);
	check_page_faults();
}
