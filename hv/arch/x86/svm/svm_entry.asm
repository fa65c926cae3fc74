; SPDX-License-Identifier: MIT
; void svm_vmrun(uint64_t vmcb_pa, uint64_t *gprs, uint64_t host_vmcb_pa)
;
; Enters the guest whose VMCB is at vmcb_pa and returns after its next
; #VMEXIT.  gprs[16] is the neutral register block in x86 order (RAX and RSP
; live in the VMCB, APM vol. 2 §15.5.1: VMRUN loads only those two GPRs).
;
; VMRUN switches only part of the state; FS, GS, TR, LDTR, KernelGsBase,
; STAR/LSTAR/CSTAR/SFMASK and SYSENTER_* go through VMLOAD/VMSAVE
; (APM §15.5.2).  So: save the host's with VMSAVE into its own page, VMLOAD
; the guest's, VMRUN, VMSAVE the guest's, VMLOAD the host's back.  The host's
; GS base is our per-CPU pointer: it must survive.
;
; GIF is cleared around all of it, and host IF set, so a physical interrupt
; during the guest causes a #VMEXIT(INTR) and is then taken by the host at
; STGI (APM §15.17, §15.21.1 with V_INTR_MASKING).

bits 64
global svm_vmrun
global svm_after_vmrun

%define G(r) [rsi + (r) * 8]
RCX_ equ 1
RDX_ equ 2
RBX_ equ 3
RBP_ equ 5
RSI_ equ 6
RDI_ equ 7

section .text
svm_vmrun:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rdx                ; [rsp+16] host VMCB
	push rsi                ; [rsp+8]  gprs
	push rdi                ; [rsp]    guest VMCB

	clgi
	sti                     ; host IF=1 while GIF=0: interrupts wait for STGI
	mov rax, rdx
	vmsave
	mov rax, rdi
	vmload

	mov rcx, G(RCX_)
	mov rdx, G(RDX_)
	mov rbx, G(RBX_)
	mov rbp, G(RBP_)
	mov rdi, G(RDI_)
	mov r8,  G(8)
	mov r9,  G(9)
	mov r10, G(10)
	mov r11, G(11)
	mov r12, G(12)
	mov r13, G(13)
	mov r14, G(14)
	mov r15, G(15)
	mov rsi, G(RSI_)        ; last: it was the pointer

	vmrun                   ; RAX = guest VMCB
svm_after_vmrun:                ; where the host resumes (svm.c checks for it)

	; #VMEXIT: RAX = guest VMCB again (host RAX restored), RSP = ours.
	vmsave                  ; the guest's FS/GS/TR/... into its VMCB
	push rsi
	mov rsi, [rsp + 16]     ; gprs
	mov G(RCX_), rcx
	mov G(RDX_), rdx
	mov G(RBX_), rbx
	mov G(RBP_), rbp
	mov G(RDI_), rdi
	mov G(8), r8
	mov G(9), r9
	mov G(10), r10
	mov G(11), r11
	mov G(12), r12
	mov G(13), r13
	mov G(14), r14
	mov G(15), r15
	pop rax                 ; the guest's RSI
	mov G(RSI_), rax

	mov rax, [rsp + 16]
	vmload                  ; the host's FS/GS/TR/... back
	stgi                    ; a pending host interrupt is taken here
	cli

	add rsp, 24
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret
