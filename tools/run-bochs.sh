#!/usr/bin/env bash
# Boots an ISO under Bochs 2.7 (Intel VMX + EPT + unrestricted guest),
# headless, serial to a file.
#   tools/run-bochs.sh ISO SERIAL_OUT [TIMEOUT_S] [UNTIL_REGEX]
# Stops when UNTIL_REGEX appears in the serial output, or after TIMEOUT_S.
# With BOCHS_SERIAL_TCP=PORT, COM1 is instead a TCP server on localhost:PORT
# that Bochs waits on before it starts (for tools/serial-driver.py
# --socket tcp:localhost:PORT); SERIAL_OUT is then not written.
# With BOCHS_COM2_TCP=PORT, COM2 is a TCP server too (Petrel's GDB port);
# Bochs waits for a client there as well (tools/tcp-relay.py).
# Debian's bochs is a debugger build without a "nogui" display: the rfb
# display with timeout=0 needs no client, and the debugger gets the single
# command "c" (continue).  ../shared/HOSTS.md has the background.
set -euo pipefail
iso=$1 out=$2 limit=${3:-300} until=${4:-}
work=$(mktemp -d)
# Stopped from outside (serial-driver.py ends a failed session), Bochs
# goes too: timeout runs in a process group of its own, so it is told
# (and passes it on to Bochs).
pid=
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 143' TERM INT HUP
cat > "$work/bochsrc" <<RC
megs: ${BOCHS_MEGS:-512}
cpu: model=corei7_skylake_x, count=${BOCHS_CPUS:-2}, ips=100000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$(realpath "$iso"), status=inserted
boot: cdrom
$(if [ -n "${BOCHS_SERIAL_TCP:-}" ]; then
	echo "com1: enabled=1, mode=socket-server, dev=localhost:$BOCHS_SERIAL_TCP"
else
	echo "com1: enabled=1, mode=file, dev=$(realpath -m "$out")"
fi)
$([ -z "${BOCHS_COM2_TCP:-}" ] || echo "com2: enabled=1, mode=socket-server, dev=localhost:$BOCHS_COM2_TCP")
display_library: rfb, options="timeout=0"
log: ${BOCHS_LOG:-$work/bochs.log}
clock: sync=none
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
RC
echo c > "$work/cmds"
[ -n "${BOCHS_SERIAL_TCP:-}" ] || : > "$out"
# The rfb display listens on a TCP port (5900 and up); several Bochs at
# once each take the next free one.
(cd "$work" && exec timeout "$limit" bochs -q -f bochsrc -rc cmds </dev/null >"$work/stdout" 2>&1) &
pid=$!
if [ -n "$until" ]; then
	while kill -0 "$pid" 2>/dev/null; do
		if grep -aqE "$until" "$out" 2>/dev/null; then
			sleep 1
			pkill -TERM -P "$pid" 2>/dev/null || true
			break
		fi
		sleep 1
	done
fi
wait "$pid" 2>/dev/null || true
