# SPDX-License-Identifier: MIT
# Test guests (tests/guests/README.md), included by the top-level Makefile.
#
# Each tests/guests/NAME.c (NAME with '_' where the guest name has '-') is
# linked with the library in tests/guests/lib/ into $(BUILD)/guests/NAME.elf:
# a multiboot1 ELF32 kernel that QEMU's -kernel and Petrel both load.
# `make guests` builds them all; tests/guests/run-native.sh runs them on
# QEMU TCG directly (it reads the list below: keep it on one line).  Only
# GCC's own freestanding headers are used, so no gcc-multilib is needed
# (and no libgcc: no 64-bit division in the guests).

GUEST_CC      := gcc
GUEST_LD      := ld
# -fno-tree-loop-distribute-patterns: keeps GCC from turning memset()'s own
# loop into a call to memset().
GUEST_CFLAGS  := -m32 -march=i686 -std=c11 -ffreestanding -fno-pic -fno-pie \
                 -fno-stack-protector -nostdlib -mno-red-zone -mgeneral-regs-only \
                 -O2 -Wall -Wextra -Werror -Wmissing-prototypes \
                 -fno-asynchronous-unwind-tables -fcf-protection=none \
                 -fno-tree-loop-distribute-patterns -Itests/guests/lib
GUEST_LDFLAGS := -m elf_i386 -nostdlib -static -z max-page-size=0x1000 \
                 -z noexecstack --no-warn-rwx-segments -T tests/guests/lib/guest.ld

TEST_GUESTS   := cpuid io msr svm-insns vmx-insns isolation exceptions timer xsave canary hostile triple-fault exitmix gdb-target virtio-bad

GUEST_LIB_SRC := $(wildcard tests/guests/lib/*.c) tests/guests/lib/entry.S tests/guests/lib/lm64.S
GUEST_LIB_OBJ := $(patsubst %,$(BUILD)/guests/obj/%.o,$(basename $(GUEST_LIB_SRC)))
GUEST_ELFS    := $(TEST_GUESTS:%=$(BUILD)/guests/%.elf)

.PHONY: guests
guests: $(GUEST_ELFS)

$(BUILD)/guests/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/guests/obj/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS32    $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

# gdb-target is debugged by GDB: symbols, and code as written (-O0).
$(BUILD)/guests/obj/tests/guests/gdb_target.o: GUEST_CFLAGS += -g -O0

# One link rule per guest; guest "svm-insns" lives in svm_insns.c.
guest_src = $(BUILD)/guests/obj/tests/guests/$(subst -,_,$(1)).o
define guest_rule
$(BUILD)/guests/$(1).elf: $(call guest_src,$(1)) $(GUEST_LIB_OBJ) tests/guests/lib/guest.ld
	@echo "  LD32    $$@"
	$$(Q)$$(GUEST_LD) $$(GUEST_LDFLAGS) $$(filter %.o,$$^) -o $$@
endef
$(foreach g,$(TEST_GUESTS),$(eval $(call guest_rule,$(g))))

-include $(GUEST_LIB_OBJ:.o=.d) $(patsubst %.o,%.d,$(foreach g,$(TEST_GUESTS),$(call guest_src,$(g))))
