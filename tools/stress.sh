#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make stress`: the SMP Linux tests that once failed one time in many
# (issue 11: a vCPU's VMCB found holding the host's state; a linux-smp4
# freeze), run again and again on SVM to catch a rare failure.  Each round
# runs STRESS_TESTS (default linux-two,shell,linux-smp4) through
# tests/integration/run.sh; a round's logs are kept in
# build/stress/ROUND/ (with run.sh's output, run.txt) when it failed or
# Petrel's guard or a stopped vCPU spoke.  Ends with "stress: N rounds, F failed".
#
# Usage: tools/stress.sh [ROUNDS]   (default 10; STRESS_ROUNDS too)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${1:-${STRESS_ROUNDS:-10}}
TESTS=${STRESS_TESTS:-linux-two,shell,linux-smp4}
OUT=build/stress
# what Petrel says when the guard refuses a VMCB or a vCPU stops on its own
SUSPECT='holds the host|host.s state|state was lost|vcpu [0-9]+ stopped|an access outside RAM|triple fault'
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "stress: error: rounds must be a positive number" >&2; exit 2; }
mkdir -p "$OUT"
failed=0
for r in $(seq 1 "$ROUNDS"); do
	ONLY=$TESTS BACKENDS=svm tests/integration/run.sh >"$OUT/last-run.txt" 2>&1
	res=$(tail -1 "$OUT/last-run.txt")
	logs=()
	for t in ${TESTS//,/ }; do logs+=("build/test-logs/svm-$t.txt"); done
	bad=$(grep -alE "$SUSPECT" "${logs[@]}" 2>/dev/null | tr '\n' ' ')
	echo "stress: round $r: $res${bad:+; suspect lines in $bad}"
	if ! echo "$res" | grep -q ' 0 failed' || [ -n "$bad" ]; then
		failed=$((failed + 1))
		mkdir -p "$OUT/$r"
		for t in ${TESTS//,/ }; do cp build/test-logs/svm-"$t"* "$OUT/$r/" 2>/dev/null; done
		cp "$OUT/last-run.txt" "$OUT/$r/run.txt"
	fi
done
echo "stress: $ROUNDS rounds, $failed failed"
[ "$failed" = 0 ]
