#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test guest (or those named as arguments) directly on QEMU TCG,
# without Petrel, to prove the guests themselves right.  Build them first
# (`make guests`).  One line per guest:
#   ok - native NAME            QEMU exited 1 (all passed) and SUMMARY says failed=0
#   not ok - native NAME: why
# followed by a "#" line with the guest's own counts; logs in build/guests/logs/.
# triple-fault has no SUMMARY: it passes when it printed its about-to line and
# QEMU (-no-reboot) shut down with status 0 instead of hanging, and QEMU's own
# log (-d cpu_reset) says "Triple fault" (status 0 alone could be a SIGTERM).
set -uo pipefail
cd "$(dirname "$0")/../.."

B=${BUILD:-build}
LOGS=$B/guests/logs
LIMIT=${GUEST_TIMEOUT:-60}
mkdir -p "$LOGS"
if [ $# -gt 0 ]; then
	guests=("$@")
else
	read -ra guests <<<"$(sed -n 's/^TEST_GUESTS *:= *//p' tests/guests/guests.mk)"
fi
passed=0
failed=0

ok() { echo "ok - native $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - native $1: $2"; failed=$((failed + 1)); }

# verdict NAME RC LOG: why the run failed, or nothing if it passed.
verdict() {
	local name=$1 rc=$2 log=$3 summary
	summary=$(grep -a '^SUMMARY ' "$log" | tail -1)
	[ "$rc" -eq 124 ] && { echo "timed out after ${LIMIT}s (last line: $(tail -1 "$log" | tr -d '\r'))"; return; }
	grep -q 'terminating on signal' "$log.qemu" && { echo "QEMU was killed from outside: $(cat "$log.qemu")"; return; }
	if [ "$name" = triple-fault ]; then
		grep -aq '^PASS triple-fault: about to triple fault' "$log" || { echo "no about-to line"; return; }
		[ -z "$summary" ] || { echo "went on after the triple fault: $summary"; return; }
		grep -q '^Triple fault' "$log.reset" || { echo "QEMU logged no triple fault (exit status $rc)"; return; }
		[ "$rc" -eq 0 ] || echo "QEMU exit status $rc, want 0 (shutdown)"
		return
	fi
	[ -n "$summary" ] || { echo "no SUMMARY line (QEMU exit status $rc)"; return; }
	if [ "$rc" -ne 1 ] || ! grep -q ' failed=0 ' <<<"$summary"; then
		echo "QEMU exit status $rc, $(grep -ac '^FAIL ' "$log") FAIL lines, first: $(grep -a -m1 '^FAIL ' "$log" | tr -d '\r')"
	fi
}

for g in "${guests[@]}"; do
	elf=$B/guests/$g.elf log=$LOGS/$g.txt
	if [ ! -f "$elf" ]; then
		not_ok "$g" "$elf missing (make guests)"
		continue
	fi
	: >"$log"
	: >"$log.reset"
	timeout "$LIMIT" qemu-system-x86_64 -accel tcg -cpu max -m 128 -smp 1 -display none \
		-nic none -no-reboot -serial "file:$log" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$elf" \
		-d cpu_reset -D "$log.reset" >"$log.qemu" 2>&1
	rc=$?
	why=$(verdict "$g" "$rc" "$log")
	if [ -z "$why" ]; then ok "$g"; else not_ok "$g" "$why"; fi
	echo "#   $g: $(grep -ac '^PASS ' "$log") PASS, $(grep -ac '^FAIL ' "$log") FAIL, $(grep -ac '^SKIP ' "$log") SKIP"
done
echo "native guests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
