#!/usr/bin/env bash
# Captures the firmware ACPI tables that Petrel sees on each emulator host,
# for the host unit tests (tests/unit/test_acpi.c).
#   tools/capture-acpi.sh [HOST...]     HOST: qemu-bios qemu-efi bochs (default: all)
# Boots build/hv.elf with the `acpidump` option, which prints every table it
# found as hex on serial:
#   acpidump SIG 0xPHYS LEN
#   acpidump SIG OFFSET HEXBYTES        (32 bytes per line)
#   acpidump end
# and turns that into tests/data/acpi/HOST/SIG.bin plus tables.txt, one line
# per table, "SIG PHYS LEN FILE" in dump order (RSDP first).  The RSDP is
# dumped from Petrel's own copy, so its PHYS is written as 0: only the tables
# it points to have real addresses.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=("$@")
[ ${#hosts[@]} -gt 0 ] || hosts=(qemu-bios qemu-efi bochs)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
qemu=(qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -display none -no-reboot)

# Runs "$@" (already wrapped in `timeout`) in the background until
# "acpidump end" shows up in the serial file $1, then stops it.
run_until_end() {
	local serial=$1 pid
	shift
	: > "$serial"
	"$@" </dev/null >"$work/emu.out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if grep -aq '^acpidump end' "$serial"; then
			kill -TERM "$pid" 2>/dev/null || true
			break
		fi
		sleep 1
	done
	wait "$pid" 2>/dev/null || true
}

iso() {
	[ -f "$work/acpidump.iso" ] || tools/mkiso.sh "$work/acpidump.iso" build/hv.elf --cmdline acpidump
}

boot_qemu_bios() {
	run_until_end "$1" timeout 20 "${qemu[@]}" -serial "file:$1" -kernel build/hv.elf -append acpidump
}

boot_qemu_efi() {
	iso
	run_until_end "$1" timeout 40 "${qemu[@]}" -serial "file:$1" -bios /usr/share/ovmf/OVMF.fd \
		-cdrom "$work/acpidump.iso"
}

boot_bochs() {
	local dir=$work/bochs
	iso
	mkdir -p "$dir"
	cat > "$dir/bochsrc" <<-RC
	megs: 512
	cpu: model=corei7_skylake_x, count=${BOCHS_CPUS:-2}, ips=100000000
	romimage: file=/usr/share/bochs/BIOS-bochs-latest
	vgaromimage: file=/usr/share/vgabios/vgabios.bin
	ata0-master: type=cdrom, path=$work/acpidump.iso, status=inserted
	boot: cdrom
	com1: enabled=1, mode=file, dev=$1
	display_library: rfb, options="timeout=0"
	log: $dir/bochs.log
	clock: sync=none
	speaker: enabled=0
	sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
	RC
	echo c > "$dir/cmds"
	(cd "$dir" && run_until_end "$1" timeout 300 bochs -q -f bochsrc -rc cmds)
	grep -aq '^acpidump end' "$1" || { echo "capture-acpi: bochs.log:" >&2; tail -n 30 "$dir/bochs.log" >&2; }
}

# Serial dump on stdin → DIR/SIG.bin and DIR/tables.txt.
convert() {
	local dir=$1
	rm -rf "$dir"
	mkdir -p "$dir"
	tr -d '\r' | awk -v dir="$dir" '
		$1 != "acpidump" { next }
		$2 == "end" { ended = 1; exit }
		NF == 4 && $3 ~ /^0x/ {
			sig = $2; n = ++count[sig]
			file[sig] = n == 1 ? sig ".bin" : sig "." n ".bin"
			phys = sig == "RSDP" ? "0x0" : $3
			order[++nt] = sig " " phys " " $4 " " file[sig]
			want[file[sig]] = $4; hex[file[sig]] = ""
			next
		}
		NF == 4 && ($2 in file) { hex[file[$2]] = hex[file[$2]] $4; next }
		{ print "capture-acpi: odd line: " $0 > "/dev/stderr"; bad = 1 }
		END {
			if (!ended || bad || nt == 0) { print "capture-acpi: incomplete dump" > "/dev/stderr"; exit 1 }
			for (i = 1; i <= nt; i++) {
				split(order[i], f, " ")
				if (length(hex[f[4]]) != 2 * f[3]) {
					print "capture-acpi: " f[4] ": length mismatch" > "/dev/stderr"; exit 1
				}
				print hex[f[4]] > (dir "/" f[4] ".hex")
				print order[i] > (dir "/tables.txt")
			}
		}'
	for h in "$dir"/*.hex; do
		xxd -r -p "$h" > "${h%.hex}"
		rm "$h"
	done
}

make build/hv.elf
for host in "${hosts[@]}"; do
	serial=$work/$host.serial
	case "$host" in
	qemu-bios) boot_qemu_bios "$serial" ;;
	qemu-efi) boot_qemu_efi "$serial" ;;
	bochs) boot_bochs "$serial" ;;
	*) echo "capture-acpi: unknown host $host" >&2; exit 2 ;;
	esac
	convert "tests/data/acpi/$host" < "$serial" || { echo "capture-acpi: $host failed" >&2; exit 1; }
	echo "capture-acpi: $host:"
	sed 's/^/  /' "tests/data/acpi/$host/tables.txt"
done
