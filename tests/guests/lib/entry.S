/* SPDX-License-Identifier: MIT */
/*
 * Test-guest entry: multiboot1 header, _start, the GDT reload, the
 * exception/interrupt stubs and exc_call_raw(), the one place that knows how
 * to abandon a function that faulted.
 *
 * The loader (QEMU -kernel or Petrel) leaves us in flat 32-bit protected
 * mode, paging and interrupts off, EAX = 0x2BADB002, EBX = multiboot info,
 * and promises nothing else: no stack, GDT or IDT we may rely on.
 */

/* Flags: bit 0 page-align modules, bit 1 memory info wanted.  Bit 16 (the
 * address fields) stays clear: the loader must use our ELF program headers. */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.section .bss
	.align 16
stack_bottom:
	.skip 16384
stack_top:

	.text
	.globl _start
_start:
	cli
	cld
	mov %eax, %esi          /* magic; EBX (info) stays untouched */
	/* ELF says the loader zeroes memsz beyond filesz (.bss).  Find out
	 * whether it did (DL = 1: it did not), then zero it ourselves anyway. */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	xor %edx, %edx
	repe scasb
	setne %dl
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	rep stosb
	mov $stack_top, %esp    /* the stack lives in .bss */
	push %edx               /* guest_start(magic, info, bss_dirty) */
	push %ebx
	push %esi
	call guest_start
1:	cli                     /* guest_start never returns; be safe anyway */
	hlt
	jmp 1b

/* void gdt_load(const void *gdtr): our GDT replaces the loader's; reload every
 * segment register so no descriptor cached from the loader's GDT stays in use. */
	.globl gdt_load
gdt_load:
	mov 4(%esp), %eax
	lgdt (%eax)
	ljmp $0x08, $2f
2:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	ret

/*
 * One 16-byte stub per vector 0-63, so the C side finds stub v at
 * isr_stubs + 16 * v.  Vectors where the CPU pushes an error code (SDM vol. 3A
 * §6.13) push only the vector; the others push a 0 first, so every frame
 * looks alike: vector, error code, EIP, CS, EFLAGS.
 */
	.align 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 64
	.align 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushl $0
	.endif
	pushl $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

/* Saves the registers (struct trap_frame), asks C what to do.  A non-zero
 * answer means "an exc_call() is armed: abandon the faulting code and go
 * back to it"; we do that by restoring its stack, not by guessing how long
 * the faulting instruction was. */
isr_common:
	pusha
	cld
	push %esp
	call trap_dispatch
	add $4, %esp
	test %eax, %eax
	jnz 3f
	popa
	add $8, %esp            /* vector and error code */
	iret
3:	mov exc_recover_esp, %esp
	jmp *exc_recover_eip

/*
 * void exc_call_raw(void (*fn)(void *), void *arg): calls fn(arg).  If fn
 * raises an exception, trap_dispatch() records it and the stub above comes
 * back to .Lexc_back with our stack, so we return as if fn had.  EFLAGS (IF,
 * DF) comes back as it was on entry either way.
 */
	.globl exc_call_raw
exc_call_raw:
	push %ebp
	push %ebx
	push %esi
	push %edi
	pushf
	mov %esp, exc_recover_esp
	movl $.Lexc_back, exc_recover_eip
	pushl 28(%esp)          /* arg (5 pushes + return address + fn above it) */
	call *28(%esp)          /* fn, now one slot further up */
	add $4, %esp
.Lexc_back:
	movl $0, exc_recover_eip
	popf
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret
