# SPDX-License-Identifier: MIT
# `make bench`: the guest benchmark natively on QEMU TCG and under Petrel
# (tools/bench.sh; BENCH_KVM=1 also measures KVM+QEMU nested in TCG).
# Included from the top-level Makefile.  Results: build/bench/summary.txt
# (table, targets) and build/bench/results.tsv (every run's figures).
#
#   make bench                 native + Petrel + the fairness run (two canary
#                              guests spinning on one CPU), 3 runs each
#   make bench BENCH_KVM=1     + KVM nested in TCG (first time: fetches the
#                              guest kernel's .deb for its kvm modules)
#   make bench BENCH_REPS=5    more runs

.PHONY: bench
bench:
	tools/deps.sh
	$(MAKE) $(or $(BUILD),build)/hv.elf guests
	$(MAKE) guest-image
	BUILD=$(or $(BUILD),build) $(if $(BENCH_REPS),BENCH_REPS=$(BENCH_REPS)) \
		tools/bench.sh $(if $(filter 1 yes,$(BENCH_KVM)),--kvm)
