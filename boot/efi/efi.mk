# SPDX-License-Identifier: MIT
# boot/efi/efi.mk: the UEFI boot path, included by the top-level Makefile.
#
#   $(BUILD)/hv.efi         GNU-EFI application carrying $(BUILD)/hv.elf
#   $(BUILD)/efi-disk.img   FAT image: \EFI\BOOT\BOOTX64.EFI + petrel.cfg
#   efi-run                 boot efi-disk.img under OVMF (QEMU TCG)
#
# The top-level Makefile defines BUILD and the rule for $(BUILD)/hv.elf.
# Knobs: EFI_CFG (the petrel.cfg to install) and EFI_DISK_FILES, a list of
# SRC=DEST pairs copied onto the image (DEST from the volume root, e.g.
# build/guests/cpuid.elf=/guests/cpuid.elf, to match a module2 line).

EFI_SRCS := efi_main.c config.c core.c fs.c handoff.c memmap.c modules.c
EFI_COBJS := $(EFI_SRCS:%.c=$(BUILD)/efi/%.o)
EFI_OBJS := $(EFI_COBJS) $(BUILD)/efi/core_image.o

EFI_CC ?= $(CC)
EFI_LD ?= ld
EFI_OBJCOPY ?= objcopy
EFI_NASM ?= nasm
EFI_INC ?= /usr/include/efi
EFI_LIB ?= /usr/lib
EFI_CFG ?= boot/efi/petrel.cfg
EFI_DISK_FILES ?=
OVMF ?= /usr/share/ovmf/OVMF.fd

# GNU_EFI_USE_MS_ABI types firmware calls ms_abi so we can call them
# directly (stub.h insists on it); -fshort-wchar makes L"" UCS-2.
# -isystem: gnu-efi's own headers do not pass -Wstrict-prototypes.
EFI_CFLAGS := -std=c11 -O2 -fpic -fshort-wchar -ffreestanding \
	-fno-stack-protector -fno-stack-check -fno-strict-aliasing \
	-mno-red-zone -maccumulate-outgoing-args -DGNU_EFI_USE_MS_ABI \
	-isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 -Ihv/include \
	-Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
	-Wshadow -Wpointer-arith -Wvla -MMD -MP
EFI_LDFLAGS := -nostdlib -znocombreloc -T $(EFI_LIB)/elf_x86_64_efi.lds \
	-shared -Bsymbolic -L$(EFI_LIB) --fatal-warnings
# The sections the PE image needs; the embedded core rides in .data.
EFI_SECTIONS := -j .text -j .sdata -j .data -j .dynamic -j .dynsym \
	-j .rel -j .rela -j .reloc

$(EFI_COBJS): $(BUILD)/efi/%.o: boot/efi/%.c
	@mkdir -p $(@D)
	@echo "  EFI-CC  $<"
	$(Q)$(EFI_CC) $(EFI_CFLAGS) -c $< -o $@

# Embed hv.elf without symbols or debug info: the stub needs only the
# program headers and the PT_LOAD bytes, which stripping keeps.
$(BUILD)/efi/core.elf: $(BUILD)/hv.elf
	@mkdir -p $(@D)
	$(Q)$(EFI_OBJCOPY) --strip-all $< $@

$(BUILD)/efi/core_image.o: boot/efi/core_image.asm $(BUILD)/efi/core.elf
	$(Q)$(EFI_NASM) -f elf64 -DCORE_ELF='"$(BUILD)/efi/core.elf"' $< -o $@

$(BUILD)/efi/hv.so: $(EFI_OBJS)
	@echo "  EFI-LD  $@"
	$(Q)$(EFI_LD) $(EFI_LDFLAGS) $(EFI_LIB)/crt0-efi-x86_64.o $(EFI_OBJS) \
		-o $@ -lefi -lgnuefi

$(BUILD)/hv.efi: $(BUILD)/efi/hv.so
	$(Q)$(EFI_OBJCOPY) $(EFI_SECTIONS) --target=efi-app-x86_64 \
		--subsystem=10 $< $@

$(BUILD)/efi-disk.img: $(BUILD)/hv.efi $(EFI_CFG) tools/mkefidisk.sh \
		$(foreach f,$(EFI_DISK_FILES),$(firstword $(subst =, ,$f)))
	tools/mkefidisk.sh $@ $(BUILD)/hv.efi $(EFI_CFG) $(EFI_DISK_FILES)

.PHONY: efi-run
efi-run: $(BUILD)/efi-disk.img
	qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nographic \
		-no-reboot -bios $(OVMF) -drive format=raw,file=$<

-include $(EFI_OBJS:.o=.d)
