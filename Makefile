# SPDX-License-Identifier: MIT
# Petrel top-level Makefile.  `make` builds build/hv.elf, build/hv.efi and
# build/petrel.iso; `make test` runs the host unit tests then the emulator
# integration tests; `make run` boots Petrel under QEMU.  `make deps` installs
# every Debian package the build and tests need (tools/deps.sh).

BUILD    ?= build
CC       := gcc
LD       := ld
NASM     := nasm
OBJCOPY  := objcopy

VERSION  := 0.1.0
# `make V=1` shows the full command lines.
Q        := $(if $(V),,@)

WARN     := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
            -Wshadow -Wpointer-arith -Wvla -Wno-unused-parameter
HV_CFLAGS := -std=c11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie \
            -mno-red-zone -mgeneral-regs-only -mcmodel=small \
            -fno-stack-protector -fno-omit-frame-pointer \
            -fno-asynchronous-unwind-tables -fno-common -fcf-protection=none \
            -Ihv/include -DPETREL_VERSION='"$(VERSION)"'
HV_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 \
            -z noexecstack --no-warn-rwx-segments -T linker.ld
NASMFLAGS := -f elf64 -g -w+all -w+error

# The core: every C and NASM file under these directories.
HV_DIRS   := boot hv/core hv/board hv/lib hv/mm hv/arch/x86 hv/arch/x86/svm hv/arch/x86/vmx hv/dev drivers guest-loader
HV_CSRC   := $(foreach d,$(HV_DIRS),$(wildcard $(d)/*.c))
HV_ASRC   := $(foreach d,$(HV_DIRS),$(wildcard $(d)/*.asm))
HV_OBJS   := $(patsubst %.c,$(BUILD)/obj/%.o,$(HV_CSRC)) \
             $(patsubst %.asm,$(BUILD)/obj/%.o,$(HV_ASRC))

.DELETE_ON_ERROR:
.PHONY: kut quick all deps test unit integration run clean iso bench print-guests stress
all: $(BUILD)/hv.elf $(BUILD)/hv.efi $(BUILD)/petrel.iso

deps:
	tools/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) $< -o $@

$(BUILD)/hv.elf: $(HV_OBJS) linker.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(HV_LDFLAGS) $(HV_OBJS) -o $@
	$(Q)tools/check-image.sh $@

-include boot/efi/efi.mk


include tests/unit/unit.mk
-include tests/guests/guests.mk
-include tests/fuzz/fuzz.mk
include tools/guest-image.mk
include tools/bench.mk

# The ISO `make run` boots: Petrel and the default Linux guest.  CPU 0
# runs Petrel alone (cpu0=host): on QEMU TCG a race in QEMU can lose CPU
# 0's SVM state while another CPU restores x87 state (README, "Known
# problem"); `make run` gives QEMU three CPUs for it.
PETREL_CMDLINE ?= loglevel=info cpu0=host
GUEST_CMDLINE ?= console=ttyS0
iso: $(BUILD)/petrel.iso
$(BUILD)/petrel.iso: $(BUILD)/hv.elf tools/mkiso.sh guest-image
	tools/mkiso.sh $@ $(BUILD)/hv.elf --cmdline "$(PETREL_CMDLINE)" \
		--module "$(GUEST_KERNEL) vm=linux0 mem=512M cpus=2 cmdline=\"$(GUEST_CMDLINE)\"" \
		--module "$(GUEST_INITRD) vm=linux0 role=initrd"

# The test guests' names, for tests/integration/run.sh.
print-guests:
	@echo $(TEST_GUESTS)

test:
	tools/run-tests.sh

# The everyday set: unit tests and the `quick` group of tests.cfg (SVM).
quick:
	GROUP=quick tools/run-tests.sh

# The SMP Linux tests again and again on SVM, for rare failures
# (tools/stress.sh; ROUNDS=n, default 10).  Not part of `make test`.
stress: all guest-image
	tools/stress.sh $(ROUNDS)

# kvm-unit-tests under Petrel (tools/kut.py): every x86 entry, a TSV in
# build/kut/ and the comparison with the QEMU TCG baseline.  KUT=name1,name2
# runs just those.
kut: all
	tools/deps.sh
	python3 tools/kut.py run $(subst $(comma), ,$(KUT))
comma := ,

run:
	tools/deps.sh
	$(MAKE) all
	tools/run-qemu.sh

clean:
	rm -rf $(BUILD)

-include $(HV_OBJS:.o=.d)
