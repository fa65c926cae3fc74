# SPDX-License-Identifier: MIT
# libFuzzer harnesses for the pure parsers, included by the top-level
# Makefile.  `make fuzz` builds each tests/fuzz/fuzz_NAME.c with clang,
# libFuzzer, ASan and UBSan, linked with the core sources in FUZZ_SRC_NAME
# compiled unchanged for the host (-DPETREL_HOSTED), and runs it for
# FUZZ_TIME seconds (default 60), with FUZZ_ARGS added to libFuzzer's
# options (e.g. FUZZ_ARGS=-fork=8 for eight cores).  The
# corpus grows in $(BUILD)/fuzz/corpus-NAME/ across runs; a crash leaves
# $(BUILD)/fuzz/crash-* (rerun: $(BUILD)/fuzz/fuzz_NAME FILE) and fails the
# target.  Needs the Debian packages clang and libclang-rt-14-dev (see
# tests/fuzz/README.md); not part of `make test`.

FUZZ_CC     := clang
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer -DPETREL_HOSTED -Ihv/include -Wall -Wextra -Werror
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_TIME   ?= 60
FUZZ_ARGS   ?=

FUZZ_SRC_decode := hv/arch/x86/decode.c
FUZZ_SRC_walk   := hv/core/gmem.c hv/core/cr.c hv/core/memory.c
FUZZ_SRC_emulate := hv/arch/x86/emulate_insn.c hv/arch/x86/decode.c
FUZZ_SRC_console_input := hv/core/console_input.c
FUZZ_SRC_gdb_packet := hv/core/gdb_packet.c hv/lib/string.c
FUZZ_SRC_fw_cfg := hv/dev/fw_cfg.c hv/lib/string.c tests/fuzz/device_stubs.c
FUZZ_SRC_virtio_ring := hv/dev/virtio_ring.c hv/dev/virtio_blk.c hv/dev/virtio_pci.c hv/dev/msix.c hv/lib/string.c tests/fuzz/device_stubs.c
# Longest input per harness: an instruction and its mode byte; the walker's
# registers and a few page tables' worth of guest RAM; the emulator's
# control bytes, instruction, registers and 64 bytes of memory (253); the
# console's escape byte and typed text, lines long enough to overflow; a
# guest's RAM with a virtqueue in it; addresses and a guest's RAM with
# fw_cfg DMA access structures in it.
FUZZ_LEN_decode := 32
FUZZ_LEN_walk   := 16384
FUZZ_LEN_emulate := 256
FUZZ_LEN_console_input := 1024
FUZZ_LEN_gdb_packet := 9000
FUZZ_LEN_virtio_ring := 65536
FUZZ_LEN_fw_cfg := 8300

FUZZ_TESTS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(FUZZ_TESTS:%=$(FUZZ_DIR)/fuzz_%)

# One clang invocation per harness: the sources are small, and libFuzzer's
# coverage instrumentation must cover the code under test.
define fuzz_rule
$(FUZZ_DIR)/fuzz_$(1): tests/fuzz/fuzz_$(1).c tests/fuzz/fuzz.h $(FUZZ_SRC_$(1)) $(wildcard hv/include/petrel/*.h)
	@mkdir -p $$(dir $$@)
	@echo "  FUZZCC  $$@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) tests/fuzz/fuzz_$(1).c $(FUZZ_SRC_$(1)) -o $$@
endef
$(foreach t,$(FUZZ_TESTS),$(eval $(call fuzz_rule,$(t))))

.PHONY: fuzz-deps fuzz fuzz-build
fuzz-deps:
	tools/deps.sh fuzz

fuzz-build: fuzz-deps $(FUZZ_BINS)

fuzz: fuzz-deps $(FUZZ_BINS)
	@for t in $(FUZZ_TESTS); do \
		mkdir -p $(FUZZ_DIR)/corpus-$$t || exit 1; \
		echo "# fuzz_$$t: $(FUZZ_TIME)s"; \
		ASAN_OPTIONS=detect_leaks=0 $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_TIME) \
			-max_len=$$(case $$t in walk) echo $(FUZZ_LEN_walk) ;; emulate) echo $(FUZZ_LEN_emulate) ;; \
				console_input) echo $(FUZZ_LEN_console_input) ;; \
				gdb_packet) echo $(FUZZ_LEN_gdb_packet) ;; \
				fw_cfg) echo $(FUZZ_LEN_fw_cfg) ;; virtio_ring) echo $(FUZZ_LEN_virtio_ring) ;; \
				*) echo $(FUZZ_LEN_decode) ;; esac) \
			-print_final_stats=1 $(FUZZ_ARGS) \
			-artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus-$$t || exit 1; \
	done
