; SPDX-License-Identifier: MIT
; AP start-up trampoline (SDM vol. 3A §9.4.4, MP initialization).
; smp.c copies tramp_start..tramp_end to a page below 1 MiB, fills in the
; data block at its end and sends INIT-SIPI-SIPI with that page as the vector.
; The AP starts in real mode at CS:IP = page:0, and goes
;   real mode → 32-bit protected mode → long mode (the core's page tables)
;   → ap_entry64 in the core's .text → ap_main(percpu) in C.
; All code here is position independent: addresses are offsets from
; tramp_start, plus the page base (EBX) the C side stores in T_BASE.

bits 16
extern ap_main
global tramp_start, tramp_end, ap_entry64
global tramp_off_cr3, tramp_off_stack, tramp_off_percpu, tramp_off_gdtr, tramp_off_pm32

%define OFF(x) ((x) - tramp_start)

section .trampoline progbits alloc noexec nowrite align=16
tramp_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	xor ebx, ebx
	mov bx, ax
	shl ebx, 4                      ; EBX = page base, kept through the switches
	lgdt [OFF(t_gdtr)]
	mov eax, cr0
	or eax, 1                       ; PE
	mov cr0, eax
	jmp dword far [OFF(t_pm32)]     ; 32-bit code at base + OFF(pm32)

bits 32
pm32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, 1 << 5                  ; PAE
	mov cr4, eax
	mov eax, [ebx + OFF(t_cr3)]
	mov cr3, eax
	mov ecx, 0xC0000080             ; EFER
	rdmsr
	or eax, (1 << 8)                ; LME
	or eax, [ebx + OFF(t_efer_nx)]  ; NXE if the BSP runs with it
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16)   ; PG, WP
	mov cr0, eax
	jmp dword 0x18:ap_entry64       ; into the core's 64-bit code (no stack yet)

; Accessed bits preset: loading a segment register sets them, a write this
; page must not see once it is mapped execute-only (SDM vol. 3A §3.4.5.1).
align 16
t_gdt:
	dq 0
	dq 0x00CF9B000000FFFF           ; 0x08: 32-bit code
	dq 0x00CF93000000FFFF           ; 0x10: data
	dq 0x00AF9B000000FFFF           ; 0x18: 64-bit code
t_gdt_end:
align 8
t_gdtr:
	dw t_gdt_end - t_gdt - 1
	dd 0                            ; base + OFF(t_gdt), filled in by smp.c
align 8
t_pm32:
	dd 0                            ; base + OFF(pm32), filled in by smp.c
	dw 0x08
align 8
t_cr3:    dq 0
t_efer_nx: dq 0
t_stack:  dq 0
t_percpu: dq 0
tramp_end:

section .rodata
align 8
tramp_off_cr3:    dq OFF(t_cr3)
tramp_off_stack:  dq OFF(t_stack)
tramp_off_percpu: dq OFF(t_percpu)
tramp_off_gdtr:   dq OFF(t_gdtr)
tramp_off_pm32:   dq OFF(pm32)
tramp_off_pm32ptr: dq OFF(t_pm32)
tramp_off_gdt:    dq OFF(t_gdt)
tramp_off_efer_nx: dq OFF(t_efer_nx)
global tramp_off_pm32ptr, tramp_off_gdt, tramp_off_efer_nx

bits 64
section .text
; Arrives from the trampoline: long mode on the core's tables, interrupts
; off, EBX = trampoline page.
ap_entry64:
	mov ebx, ebx                    ; upper half undefined after the switch
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov rsp, [rbx + OFF(t_stack)]
	mov rdi, [rbx + OFF(t_percpu)]
	xor ebp, ebp
	push 0
	jmp ap_main
