# SPDX-License-Identifier: MIT
# Host unit tests (cmocka), included by the top-level Makefile.
#
# Each tests/unit/test_NAME.c is linked with the pure core sources listed in
# UNIT_SRC_NAME, compiled unchanged for the host (-DPETREL_HOSTED: lib.h takes
# memcpy & co. from <string.h>), with AddressSanitizer and UBSan, into
# $(BUILD)/unit/test_NAME.  `make unit` runs them all from the repository root
# (tests read tests/data/ relative to it) with TAP output: one
# "ok N - name" or "not ok N - name" line per test case.  It fails if any
# test binary fails.

UNIT_CC     := gcc
UNIT_CFLAGS := -std=c11 -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all -DPETREL_HOSTED -Ihv/include -Wall -Wextra -Werror
UNIT_LIBS   := -lcmocka
UNIT_DIR    := $(BUILD)/unit

UNIT_SRC_printf    := hv/lib/printf.c hv/lib/string.c
UNIT_SRC_string    := hv/lib/string.c
UNIT_SRC_cmdline   := hv/core/cmdline.c hv/lib/printf.c hv/lib/string.c
UNIT_SRC_memmap    := hv/mm/memmap.c hv/lib/printf.c hv/lib/string.c
UNIT_SRC_pmm       := hv/mm/pmm.c
UNIT_SRC_pagetable := hv/mm/pagetable.c
UNIT_SRC_multiboot := boot/multiboot.c hv/lib/printf.c hv/lib/string.c
UNIT_SRC_acpi      := drivers/acpi.c hv/lib/printf.c hv/lib/string.c
UNIT_SRC_decode    := hv/arch/x86/decode.c
UNIT_SRC_emulate   := hv/arch/x86/emulate_insn.c hv/arch/x86/decode.c
UNIT_SRC_io_bus    := hv/core/io_bus.c
UNIT_SRC_guest_loader := guest-loader/config.c guest-loader/multiboot.c hv/core/cmdline.c \
                         hv/lib/printf.c hv/lib/string.c
UNIT_SRC_efi_stub  := boot/efi/config.c boot/efi/memmap.c
UNIT_SRC_gmem      := hv/core/gmem.c hv/core/cr.c hv/core/memory.c
UNIT_SRC_cr        := hv/core/cr.c
UNIT_SRC_lapic     := hv/dev/lapic.c hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_string_io := hv/core/string_io.c hv/core/gmem.c hv/core/cr.c hv/core/io_bus.c hv/core/memory.c
UNIT_SRC_pic8259   := hv/dev/pic8259.c hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_pit8254   := hv/dev/pit8254.c hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_hpet      := hv/dev/hpet.c hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_rtc_cmos  := hv/dev/rtc_cmos.c hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_acpi_pm   := hv/dev/acpi_pm.c hv/core/io_bus.c hv/core/pci.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_piix_isa  := hv/dev/piix_isa.c hv/core/pci.c hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_virtio_ring := hv/dev/virtio_ring.c hv/lib/string.c
UNIT_SRC_msix       := hv/dev/msix.c hv/lib/string.c
UNIT_SRC_virtio_blk := hv/dev/virtio_blk.c hv/dev/virtio_pci.c hv/dev/msix.c hv/dev/virtio_ring.c hv/dev/piix_isa.c hv/core/pci.c \
                       hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_pci       := hv/core/pci.c hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_pci_host  := hv/dev/pci_host.c hv/core/pci.c hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_legacy    := hv/dev/legacy.c hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
# test_rtc_host.c #includes drivers/rtc.c itself, over fake CMOS ports.
UNIT_SRC_rtc_host  := hv/lib/string.c
UNIT_SRC_board     := hv/board/board.c hv/board/pc.c hv/lib/printf.c hv/lib/string.c hv/core/io_bus.c hv/core/pci.c \
                      tests/unit/fake_vm.c $(wildcard hv/dev/*.c)
UNIT_SRC_pc_testdev := hv/dev/pc_testdev.c hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_memory    := hv/core/memory.c
UNIT_SRC_fw_cfg    := hv/dev/fw_cfg.c hv/core/io_bus.c tests/unit/fake_vm.c hv/lib/string.c
UNIT_SRC_console_input := hv/core/console_input.c
UNIT_SRC_gdb_packet := hv/core/gdb_packet.c hv/lib/string.c
# test_log.c #includes hv/core/log.c itself, over a fake UART and CPU.
UNIT_SRC_log       := hv/lib/printf.c hv/lib/string.c
UNIT_SRC_acpi_build := guest-loader/acpi_build.c drivers/acpi.c hv/lib/printf.c hv/lib/string.c

UNIT_TESTS := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_TESTS:%=$(UNIT_DIR)/test_%)

# Every object, test or core, is compiled once with the unit flags.
$(UNIT_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(UNIT_CC) $(UNIT_CFLAGS) -MMD -MP -c $< -o $@

define unit_test_rule
$(UNIT_DIR)/test_$(1): $(UNIT_DIR)/obj/tests/unit/test_$(1).o $(UNIT_SRC_$(1):%.c=$(UNIT_DIR)/obj/%.o)
	@echo "  HOSTLD  $$@"
	$(Q)$(UNIT_CC) $(UNIT_CFLAGS) $$^ $(UNIT_LIBS) -o $$@
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test_rule,$(t))))

# Leak checking is off: the modules under test never allocate, and a failed
# assertion longjmps past the test's own free()s, which would bury the
# failure under leak reports.
unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do \
		echo "# $$t"; \
		CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=0 $$t || { echo "# FAILED: $$t (exit $$?)"; fail=1; }; \
	done; exit $$fail

-include $(patsubst %,$(UNIT_DIR)/obj/%.d,$(basename $(sort \
	$(wildcard tests/unit/test_*.c) $(foreach t,$(UNIT_TESTS),$(UNIT_SRC_$(t))))))
