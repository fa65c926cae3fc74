; SPDX-License-Identifier: MIT
; The core (build/hv.elf, stripped to build/efi/core.elf) carried inside
; hv.efi as plain bytes; core.c loads its PT_LOAD segments.  efi.mk passes
; the file name as CORE_ELF.
;
; .rodata is placed inside the .data output section by gnu-efi's
; elf_x86_64_efi.lds, which the objcopy to PE keeps.  Align 8 so that core.c
; can read the ELF and program headers in place.

%ifndef CORE_ELF
%error "define CORE_ELF, e.g. nasm -DCORE_ELF='\"build/hv.elf\"'"
%endif

section .rodata align=16

global core_image_start:data hidden
global core_image_end:data hidden

align 16
core_image_start:
	incbin CORE_ELF
core_image_end:

section .note.GNU-stack noalloc noexec nowrite progbits
