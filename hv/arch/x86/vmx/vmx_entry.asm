; SPDX-License-Identifier: MIT
; int vmx_enter(uint64_t *gprs, uint32_t launched)
;
; Enters the guest of the current VMCS (VMLAUNCH the first time, VMRESUME
; after) and returns 0 after its next VM exit; 1 if the instruction failed
; with VMfailValid (the VM-instruction error field says why), 2 with
; VMfailInvalid (no valid current VMCS).  SDM vol. 3C §26 (entry), §28 (exit).
;
; gprs[16] is the neutral register block in x86 order.  RSP and RIP live in
; the VMCS; every other GPR, RAX included, is loaded here before the entry
; and stored back at the exit.  A VM exit lands at vmx_exit_stub with the
; host RSP written below (pointing at the saved gprs pointer) and RFLAGS =
; 0x2: interrupts stay off until the C side opens them (vmx.c).

bits 64
global vmx_enter
global vmx_exit_stub

%define G(r) [rdi + (r) * 8]
RAX_ equ 0
RCX_ equ 1
RDX_ equ 2
RBX_ equ 3
RBP_ equ 5
RSI_ equ 6
RDI_ equ 7
HOST_RSP equ 0x6c14

section .text
vmx_enter:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rdi                ; [rsp] gprs: what the exit stub finds

	mov rax, HOST_RSP
	vmwrite rax, rsp        ; the exit comes back to exactly this stack
	jbe .fail               ; CF or ZF: VMWRITE failed

	test esi, esi           ; launched?  MOVs below leave the flags alone
	mov rax, G(RAX_)
	mov rcx, G(RCX_)
	mov rdx, G(RDX_)
	mov rbx, G(RBX_)
	mov rbp, G(RBP_)
	mov rsi, G(RSI_)
	mov r8,  G(8)
	mov r9,  G(9)
	mov r10, G(10)
	mov r11, G(11)
	mov r12, G(12)
	mov r13, G(13)
	mov r14, G(14)
	mov r15, G(15)
	mov rdi, G(RDI_)        ; last: it was the pointer
	jnz .resume
	vmlaunch
	jmp .fail
.resume:
	vmresume
.fail:
	; Still in the host, nothing entered: CF=1 VMfailInvalid, ZF=1
	; VMfailValid.  The guest's values in the registers are dropped
	; (gprs[] was not written).
	mov eax, 2
	jc vmx_return
	mov eax, 1
	jmp vmx_return

vmx_exit_stub:
	push rdi                ; the guest's RDI
	mov rdi, [rsp + 8]      ; gprs
	mov G(RAX_), rax
	mov G(RCX_), rcx
	mov G(RDX_), rdx
	mov G(RBX_), rbx
	mov G(RBP_), rbp
	mov G(RSI_), rsi
	mov G(8), r8
	mov G(9), r9
	mov G(10), r10
	mov G(11), r11
	mov G(12), r12
	mov G(13), r13
	mov G(14), r14
	mov G(15), r15
	pop rax
	mov G(RDI_), rax
	xor eax, eax
vmx_return:
	add rsp, 8              ; gprs
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret
