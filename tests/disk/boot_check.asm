; SPDX-License-Identifier: MIT
; A boot sector that checks the disk it was booted from, through the
; firmware's INT 13h extensions (EDD: AH=41h, 42h, 43h), as a boot loader
; reads its next stage.  tools/mktestdisk.py puts it in sector 0 of a disk
; of 2048 sectors (1 MiB: a firmware gives a disk under one cylinder of
; 16 heads and 63 sectors no CHS geometry to boot it by) whose sectors
; 1..256 hold a pattern: byte i of sector s is (7*s + i) mod 256.
; It reports on the firmware debug console (port 0x402) and ends the VM
; through the test-exit port (0xf4): 0 when every check passed, else the
; number of the check that failed (after "FAIL" on the console).
;
;   1  the firmware has the INT 13h extensions for this drive
;   2  sectors 1..256 read in 16 KiB pieces, every byte as the pattern says
;   3  the disk's last sector written with a second pattern, read back the
;      same; then a read past the disk's end fails (carry set)
;   4  the ACPI tables the firmware installed are Petrel's (fw_cfg's
;      table-loader): an RSDP in the BIOS area 0xE0000-0xFFFFF, on a
;      16-byte boundary, with OEM ID "PETREL" 
; and it reboots the VM (reset control register 0xcf9).  On the next boot,
; through the firmware again, it finds its second pattern in the last
; sector (the disk keeps the guest's writes across a reset), says so and
; ends the VM: the checks passed.

bits 16
org 0x7c00

SECTORS     equ 256          ; the pattern's sectors (tools/mktestdisk.py)
DISK        equ 2048         ; the disk's sectors
CHUNK       equ 32           ; sectors per read: 16 KiB at 0x1000:0
BUF_SEG     equ 0x1000

start:
	cli
	xor ax, ax
	mov ds, ax
	mov ss, ax
	mov sp, 0x7c00
	sti
	mov [drive], dl
	mov ax, BUF_SEG
	mov es, ax
	mov si, msg_hello
	call print

	; 1: EDD present
	mov byte [check], 1
	mov ah, 0x41
	mov bx, 0x55aa
	call disk_io
	jc fail
	cmp bx, 0xaa55
	jne fail

	; 4: Petrel's RSDP, one 16-byte paragraph at a time: the signature at
	; 0, the OEM ID at 9 (after the checksum byte)
	mov byte [check], 4
	mov ax, 0xe000
.rsdp:
	mov es, ax
	xor di, di
	mov si, rsdp_id
	mov cx, 8
	repe cmpsb
	jne .rsdp_next
	inc di
	mov cl, 6
	repe cmpsb
	je .rsdp_found
.rsdp_next:
	inc ax
	jnz .rsdp                ; up to F000:FFF0, then it wraps to 0
	jmp fail
.rsdp_found:
	mov ax, BUF_SEG
	mov es, ax
	mov si, msg_acpi
	call print

	; 2: read and check every pattern sector
	mov byte [check], 2
	mov dword [lba], 1
.next_chunk:
	mov word [dap_count], CHUNK
	mov eax, [lba]
	mov [dap_lba], eax
	mov ah, 0x42
	call disk_io
	jc fail
	xor di, di               ; offset in the buffer
	mov ebx, eax             ; sector being checked
	mov cx, CHUNK
.sector:
	mov al, bl
	mov ah, 7
	mul ah                   ; al = 7*s mod 256
	xor dx, dx               ; i
.byte:
	mov ah, al
	add ah, dl               ; (7*s + i) mod 256
	cmp [es:di], ah
	jne fail
	inc di
	inc dx
	cmp dx, 512
	jb .byte
	inc ebx
	loop .sector
	add dword [lba], CHUNK
	cmp dword [lba], SECTORS
	jbe .next_chunk
	mov si, msg_read
	call print

	; 3: the last sector: written on the first boot, found on the second
	mov byte [check], 3
	mov word [dap_count], 1
	mov dword [dap_lba], DISK - 1
	mov ah, 0x42
	call disk_io
	jc fail
	call second
	je .again
	xor di, di
	mov cx, 512
.fill:
	mov al, cl
	xor al, 0xa5
	stosb
	loop .fill
	mov ax, 0x4300
	call disk_io
	jc fail
	xor di, di
	mov cx, 256
	xor ax, ax
	rep stosw                ; cleared before reading back
	mov ah, 0x42
	call disk_io
	jc fail
	call second
	jne fail
	mov dword [dap_lba], DISK ; past the end
	mov ah, 0x42
	call disk_io
	jnc fail
	mov si, msg_write
	call print
	mov al, 6                ; RST_CPU | SYS_RST
	mov dx, 0xcf9
	out dx, al
	jmp halt
.again:
	mov si, msg_kept
	call print
	xor eax, eax
	out 0xf4, eax
	jmp halt

fail:
	mov si, msg_fail
	call print
	movzx eax, byte [check]  ; the exit code says which check
	out 0xf4, eax
halt:
	cli
	hlt
	jmp halt

; INT 13h on the boot drive with the DAP below (AH: 41h, 42h, 43h)
disk_io:
	mov dl, [drive]
	mov si, dap
	int 0x13
	ret

; ZF set when the buffer holds the second pattern (byte k: (512-k) ^ 0xa5)
second:
	xor di, di
	mov cx, 512
.cmp:
	mov al, cl
	xor al, 0xa5
	cmp [es:di], al
	jne .out
	inc di
	loop .cmp
	cmp al, al               ; all equal: ZF set (inc cleared it)
.out:
	ret

; prints "PETREL-DISK: " and the NUL-terminated string at ds:si on the
; debug console
print:
	push si
	mov si, prefix
	call .str
	pop si
.str:
	mov dx, 0x402
.ch:
	lodsb
	test al, al
	jz .done
	out dx, al
	jmp .ch
.done:
	ret

prefix:    db "PETREL-DISK: ", 0
msg_hello: db "booted", 10, 0
msg_acpi:  db "ACPI "
rsdp_id:   db "RSD PTR PETREL", 10, 0
msg_read:  db "read ok", 10, 0
msg_write: db "wrote; reboot", 10, 0
msg_kept:  db "write kept: PASS", 10, 0
msg_fail:  db "FAIL", 10, 0

align 4
dap:       db 16, 0
dap_count: dw 0
           dw 0, BUF_SEG     ; buffer 0x1000:0
dap_lba:   dd 0, 0
lba:       dd 0
drive:     db 0
check:     db 0

times 510 - ($ - $$) db 0
dw 0xaa55
