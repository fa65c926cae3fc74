/* SPDX-License-Identifier: MIT */
/*
 * Long mode for a 32-bit test guest, for the length of one call:
 *
 *   uint64_t lm_call_raw(uint32_t fn, uint32_t arg_lo, uint32_t arg_hi)
 *
 * turns on PAE, the 4-level identity map built by lm.c (lm_cr3), EFER.LME
 * and paging (IA-32e compatibility mode), loads the 64-bit IDT, jumps to
 * the 64-bit code segment (0x18) and calls fn(arg) there (System V: RDI
 * in, RAX out).  Then back: a far return to the 32-bit code segment,
 * paging and LME off, CR3, CR4, CR0 and the IDT as they were.  Interrupts
 * stay off throughout.
 *
 * An exception in fn goes to the 64-bit stubs below: the vector, error
 * code, RIP, CR2, RCX, RSI and RDI land in lm_exc, and the call is abandoned as if fn had
 * returned 0 (lm.c reads lm_exc).
 */
#define MSR_EFER 0xc0000080
#define SEL_CODE32 0x08
#define SEL_CODE64 0x18

	.bss
	.align 8
saved_cr0:	.long 0
saved_cr3:	.long 0
saved_cr4:	.long 0
saved_idt:	.skip 8
	.globl lm_saved_rsp
lm_saved_rsp:	.quad 0

	.text
	.code32
	.globl lm_call_raw
lm_call_raw:
	push %ebp
	mov %esp, %ebp
	push %ebx
	push %esi
	push %edi
	pushf
	cli
	sidt saved_idt
	mov %cr0, %eax
	mov %eax, saved_cr0
	and $0x7fffffff, %eax           /* paging off first, if the caller had it on */
	mov %eax, %cr0
	mov %cr3, %eax
	mov %eax, saved_cr3
	mov %cr4, %eax
	mov %eax, saved_cr4
	or $0x20, %eax                  /* PAE */
	mov %eax, %cr4
	mov lm_cr3, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $0x100, %eax                 /* LME */
	wrmsr
	mov saved_cr0, %eax
	or $0x80000001, %eax            /* PG: IA-32e mode, compatibility */
	mov %eax, %cr0
	lidt lm_idtr
	ljmp $SEL_CODE64, $1f

	.code64
1:	movl %esp, %esp                 /* RSP = ESP, RBP = EBP, zero-extended */
	movl %ebp, %ebp
	movq %rsp, lm_saved_rsp(%rip)   /* (RIP-relative: an ELF32 object has no 32S relocations) */
	movl 12(%rbp), %edi
	movl 16(%rbp), %eax
	shlq $32, %rax
	orq %rax, %rdi
	movl 8(%rbp), %eax
	call *%rax
	.globl lm_back64
lm_back64:
	movq %rax, %rdx
	shrq $32, %rdx                  /* EDX:EAX for the 32-bit caller */
	pushq $SEL_CODE32
	leaq 2f(%rip), %rcx
	pushq %rcx
	lretq

	.code32
2:	mov %eax, %esi
	mov %edx, %edi
	mov %cr0, %eax
	and $0x7fffffff, %eax           /* leave IA-32e mode */
	mov %eax, %cr0
	mov $MSR_EFER, %ecx
	rdmsr
	and $~0x100, %eax
	wrmsr
	mov saved_cr3, %eax
	mov %eax, %cr3
	mov saved_cr4, %eax
	mov %eax, %cr4
	mov saved_cr0, %eax
	mov %eax, %cr0
	lidt saved_idt
	mov %esi, %eax
	mov %edi, %edx
	popf
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret

/*
 * 64-bit exception and interrupt stubs, 16 bytes apart: lm_stubs + 16 * v.
 * Vectors with an error code push only the vector.  Interrupts (32-63)
 * are counted in lm_irqs[v - 32] and return; exceptions are recorded in
 * lm_exc { vector, error, rip, cr2 } (4 quads) and abandon the call.
 */
	.code64
	.align 16
	.globl lm_stubs
lm_stubs:
	.set vec, 0
	.rept 64
	.align 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp lm_common
	.set vec, vec + 1
	.endr

lm_common:
	cmpq $32, (%rsp)
	jb 3f
	pushq %rax
	pushq %rdx
	movq 16(%rsp), %rax
	leaq lm_irqs(%rip), %rdx
	incl -32 * 4(%rdx, %rax, 4)
	popq %rdx
	popq %rax
	addq $16, %rsp
	iretq
3:	movq %rcx, lm_exc + 32(%rip)
	movq %rsi, lm_exc + 40(%rip)
	movq %rdi, lm_exc + 48(%rip)
	leaq lm_exc(%rip), %rdx
	movq (%rsp), %rax
	movq %rax, (%rdx)
	movq 8(%rsp), %rax
	movq %rax, 8(%rdx)
	movq 16(%rsp), %rax
	movq %rax, 16(%rdx)
	movq %cr2, %rax
	movq %rax, 24(%rdx)
	movq lm_saved_rsp(%rip), %rsp
	xorl %eax, %eax
	jmp lm_back64
