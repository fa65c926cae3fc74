; SPDX-License-Identifier: MIT
; Interrupt and exception entry stubs.  Each of the 256 vectors pushes an
; error code (0 where the CPU pushes none, SDM vol. 3A §6.13), then its
; vector, then all general registers, and calls trap_dispatch(frame).
; struct trap_frame in hv/arch/x86/idt.c mirrors this layout.

bits 64
extern trap_dispatch
global isr_table

; Vectors whose exceptions push an error code: #DF #TS #NP #SS #GP #PF #AC #CP
%define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .text
align 16
%assign v 0
%rep 256
isr_%+v:
%if HAS_ERR(v) == 0
	push 0
%endif
	push v
	jmp isr_common
	align 16
%assign v v+1
%endrep

isr_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	mov rbx, rsp            ; align the stack for C, keep the frame pointer
	and rsp, -16
	cld
	call trap_dispatch
	mov rsp, rbx
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16             ; vector, error code
	iretq

section .rodata
align 8
isr_table:
%assign v 0
%rep 256
	dq isr_%+v
%assign v v+1
%endrep
