; SPDX-License-Identifier: MIT
; Petrel boot entry: multiboot1 + multiboot2 headers, the 32-bit entry both
; loaders jump to, the switch to long mode, and the 64-bit entry the UEFI
; stub jumps to.  Every path ends in boot_entry(magic, info) (hv/core/main.c).
;
; Machine state on the 32-bit entry (multiboot1 spec §3.2, multiboot2 §3.3):
; protected mode, paging off, flat CS/DS, interrupts off, EAX = magic,
; EBX = physical address of the information block, no usable stack.

bits 32

extern boot_entry
extern __bss_start, __bss_end, __image_start, __image_load_end, __image_end
global mb_entry32, entry64_efi, boot_stack_top

MB1_MAGIC       equ 0x1BADB002
MB1_FLAGS       equ (1 << 1) | (1 << 16)   ; want memory map; address fields valid
MB2_MAGIC       equ 0xE85250D6
MB2_ARCH_I386   equ 0

CR0_PE          equ 1 << 0
CR0_WP          equ 1 << 16
CR0_PG          equ 1 << 31
CR4_PAE         equ 1 << 5
MSR_EFER        equ 0xC0000080
EFER_LME        equ 1 << 8
EFER_NXE        equ 1 << 11

section .multiboot
; --- multiboot1 header (must lie in the first 8 KiB, 4-byte aligned) ------
; The address fields (flag 16) let QEMU's -kernel load this ELF64 image as a
; flat binary: the file from offset 0 maps to __image_start.
align 4
mb1_header:
	dd MB1_MAGIC
	dd MB1_FLAGS
	dd -(MB1_MAGIC + MB1_FLAGS)
	dd mb1_header           ; header_addr
	dd __image_start        ; load_addr: file offset 0
	dd __image_load_end     ; load_end_addr
	dd __image_end          ; bss_end_addr: the loader zeroes up to here
	dd mb_entry32           ; entry_addr

; --- multiboot2 header (first 32 KiB, 8-byte aligned) ---------------------
align 8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	; information request tag: we rely on these (type 1, flags 0 = required)
	align 8
.info_req:
	dw 1, 0
	dd .info_req_end - .info_req
	dd 1                    ; boot command line
	dd 3                    ; modules
	dd 6                    ; memory map
.info_req_end:
	align 8
	; entry address tag: where to jump (type 3)
.entry_tag:
	dw 3, 0
	dd 12
	dd mb_entry32
	align 8
	dw 0, 0                 ; end tag
	dd 8
mb2_header_end:

; --- Petrel handoff header, found by the UEFI stub (boot/efi/) ------------
; "PETRELH1", then the physical address of the 64-bit entry.
align 8
petrel_handoff:
	db "PETRELH1"
	dq entry64_efi

section .text.boot32 progbits alloc exec nowrite
mb_entry32:
	cli
	cld
	mov esi, eax            ; magic in ESI; info in EBX, then EDI below

	; Zero .bss ourselves: we run before anything could have used it and a
	; loader that skipped bss_end_addr would leave us with garbage tables.
	; (No stack yet: multiboot gives us none.)
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	xor eax, eax
	rep stosb
	mov edi, ebx            ; info now in EDI: CPUID below clobbers EBX

	mov esp, boot_stack_top

	; Long mode needs CPUID leaf 0x80000001 with LM (EDX bit 29).
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb no_long_mode
	mov eax, 0x80000001
	cpuid
	bt edx, 29
	jnc no_long_mode
	mov ebp, edx            ; NX is EDX bit 20

	; Identity map the low 4 GiB with 2 MiB pages: enough for the image, the
	; loader's information block and its modules (multiboot keeps them below
	; 4 GiB).  The core builds its real tables in C (hv/mm/paging.c).
	mov eax, boot_pdpt
	or eax, 3
	mov [boot_pml4], eax
	xor ecx, ecx
.fill_pdpt:
	mov eax, ecx
	shl eax, 12
	add eax, boot_pd
	or eax, 3
	mov [boot_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jb .fill_pdpt
	xor ecx, ecx            ; 2048 entries of 2 MiB across four PDs
.fill_pd:
	mov eax, ecx
	shl eax, 21
	or eax, 0x83            ; present, writable, page size
	mov [boot_pd + ecx * 8], eax
	mov eax, ecx
	shr eax, 11
	mov [boot_pd + ecx * 8 + 4], eax
	inc ecx
	cmp ecx, 2048
	jb .fill_pd

	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	bt ebp, 20
	jnc .no_nx
	or eax, EFER_NXE
.no_nx:
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_PE | CR0_WP
	mov cr0, eax

	lgdt [boot_gdt_ptr]
	jmp 0x08:long_mode_entry

no_long_mode:
	; No stack discipline needed: print one line on COM1 and stop.
	mov esi, msg_no_lm
.putc:
	mov dx, 0x3fd
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov dx, 0x3f8
	lodsb
	test al, al
	jz .halt
	out dx, al
	jmp .putc
.halt:
	cli
	hlt
	jmp .halt

bits 64
long_mode_entry:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	mov eax, esi            ; boot_entry(magic, info): 32-bit moves zero-extend
	mov esi, edi
	mov edi, eax
	jmp common64_args

; 64-bit entry from the UEFI stub: long mode, identity paging, interrupts off,
; RDI = BOOT_MAGIC_PETREL_EFI, RSI = struct boot_info *.
entry64_efi:
	cli
	cld
	mov r12, rdi
	mov r13, rsi
	lgdt [boot_gdt_ptr]
	mov rsp, boot_stack_top
	push 0x08
	lea rax, [rel .reload_cs]
	push rax
	retfq
.reload_cs:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rdi, r12
	mov rsi, r13
	jmp common64_args

common64_args:
	xor ebp, ebp            ; terminate backtraces here
	push 0                  ; fake return address for the backtrace walker
	call boot_entry
.dead:
	cli
	hlt
	jmp .dead

section .rodata
msg_no_lm: db "petrel: FATAL: this CPU has no 64-bit long mode; halting", 13, 10, 0

align 16
boot_gdt:
	dq 0
	dq 0x00AF9A000000FFFF   ; 0x08: 64-bit code
	dq 0x00CF92000000FFFF   ; 0x10: data
boot_gdt_end:
align 8
boot_gdt_ptr:
	dw boot_gdt_end - boot_gdt - 1
	dq boot_gdt

section .bss
align 4096
boot_pml4:  resb 4096
boot_pdpt:  resb 4096
boot_pd:    resb 4096 * 4
boot_stack: resb 16384
boot_stack_top:
