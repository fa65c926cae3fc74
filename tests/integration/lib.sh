# SPDX-License-Identifier: MIT
# Helpers for the integration tests: boot Petrel under an emulator, wait for
# a line on its serial console, check the banner.  Each check prints
#   ok - NAME            or            not ok - NAME: what failed
# and the caller counts them.  Logs stay in $LOGDIR for a human to read.

LOGDIR=${LOGDIR:-build/test-logs}
mkdir -p "$LOGDIR"
PASSED=0
FAILED=0
SKIPPED=0

pass() { echo "ok - $1"; PASSED=$((PASSED + 1)); }
fail() { echo "not ok - $1: $2"; FAILED=$((FAILED + 1)); }
skip() { echo "ok - $1 # SKIP $2"; SKIPPED=$((SKIPPED + 1)); }

# Lines after which a boot has nothing more to say: with no guests, the
# banner's last line; with guests, the last VM ending; or a fatal stop.
STOP_RE='petrel: (ready: 0 VMs|all VMs stopped|FATAL|PANIC|cpu [0-9]+ stopped)'

# qemu_boot LOG TIMEOUT [QEMU ARGS...]: runs QEMU TCG (-smp 2) with the
# first serial port in LOG, until a line matching $STOP (default STOP_RE)
# appears in $WATCH (default LOG) or TIMEOUT seconds pass.
qemu_boot() {
	local log=$1 limit=$2
	shift 2
	: > "$log"
	timeout "$limit" qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -display none \
		-nic none -no-reboot -serial "file:$log" "$@" >"$log.qemu" 2>&1 &
	local pid=$! watch=${WATCH:-$log}
	while kill -0 "$pid" 2>/dev/null; do
		if grep -aqE "${STOP:-$STOP_RE}" "$watch"; then
			sleep 0.5 # let the rest of the line (and any dump) arrive
			kill "$pid" 2>/dev/null
			break
		fi
		sleep 0.5
	done
	wait "$pid" 2>/dev/null || true
}

# expect NAME LOG REGEX...: every extended regex must match a line of LOG.
expect() {
	local name=$1 log=$2
	shift 2
	for re in "$@"; do
		if ! grep -aqE -- "$re" "$log"; then
			fail "$name" "no line matching '$re' (log: $log)"
			return 1
		fi
	done
	pass "$name"
}

# expect_not NAME LOG REGEX: no line may match.
expect_not() {
	if grep -aqE -- "$3" "$2"; then
		fail "$1" "unexpected line matching '$3': $(grep -aE -- "$3" "$2" | head -1)"
		return 1
	fi
	pass "$1"
}
