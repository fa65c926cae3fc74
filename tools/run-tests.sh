#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make test`: installs what is missing, builds everything, runs the host
# unit tests (cmocka, ASan+UBSan) and then the emulator integration tests
# (all of tests/integration/tests.cfg; GROUP=quick: the everyday set).
# Ends with the line "N passed, N failed, N skipped" and exits non-zero if
# anything failed.  Logs: build/test-logs/.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
mkdir -p build/test-logs

if ! make -j2 all guests >build/test-logs/build.txt 2>&1; then
	tail -30 build/test-logs/build.txt
	echo "build failed (build/test-logs/build.txt)"
	echo "0 passed, 1 failed"
	exit 1
fi

# The Linux guest: Debian's kernel and a busybox initramfs, fetched and
# built once into build/guest/ (tools/build-guest.sh).  The quick group
# boots no Linux.
if [ "${GROUP:-}" != quick ] && ! make guest-image >build/test-logs/guest-image.txt 2>&1; then
	tail -20 build/test-logs/guest-image.txt
	echo "guest image failed (build/test-logs/guest-image.txt): the Linux tests will fail"
fi

echo "== unit tests (host, ASan+UBSan)"
make --no-print-directory unit 2>&1 | tee build/test-logs/unit.txt
unit_rc=${PIPESTATUS[0]}
# cmocka's TAP output: one "ok N - name" or "not ok N - name" per case.
unit_pass=$(grep -cE '^ok [0-9]+' build/test-logs/unit.txt)
unit_fail=$(grep -cE '^not ok [0-9]+' build/test-logs/unit.txt)
if [ "$unit_rc" -ne 0 ] && [ "$unit_fail" -eq 0 ]; then
	unit_fail=1 # a test binary crashed or failed to build
	echo "not ok - unit tests did not run to completion"
fi

echo "== integration tests (QEMU TCG: SVM; Bochs: VMX)"
tests/integration/run.sh 2>&1 | tee build/test-logs/integration.txt
int_rc=${PIPESTATUS[0]}
int_pass=$(grep -cE '^ok - ' build/test-logs/integration.txt)
int_skip=$(grep -cE '^ok - .*# SKIP' build/test-logs/integration.txt)
int_fail=$(grep -cE '^not ok - ' build/test-logs/integration.txt)
if [ "$int_rc" -ne 0 ] && [ "$int_fail" -eq 0 ]; then
	int_fail=1
	echo "not ok - integration tests did not run to completion"
fi
int_pass=$((int_pass - int_skip))
awk -f tools/parity.awk build/test-logs/integration.txt

passed=$((unit_pass + int_pass))
failed=$((unit_fail + int_fail))
echo "unit: $unit_pass passed, $unit_fail failed; integration: $int_pass passed, $int_fail failed, $int_skip skipped"
echo "$passed passed, $failed failed, $int_skip skipped"
[ "$failed" -eq 0 ]
