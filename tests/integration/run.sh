#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration tests: boot build/hv.elf by every path under QEMU TCG (AMD SVM)
# and Bochs (Intel VMX) and check what Petrel prints on serial.  The tests
# are rows of tests/integration/tests.cfg; this file is their runner and the
# functions that rows with `run =` name.
# Run from the repository root after `make all` (tools/run-tests.sh does).
# Prints one "ok"/"not ok" line per check, then "N passed, N failed".
#   GROUP=quick   only the rows of that group, on SVM only (the everyday set)
#   ONLY=a,b      only the rows with those names
#   BACKENDS=svm  only those backends (svm, vmx or both)
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

B=build
OVMF=/usr/share/ovmf/OVMF.fd
BANNER_SVM=('cpus: 2 of 2 online' 'virt: svm npt=1' 'petrel: ready:')

# Two small files stand in for guest modules (guests come with a later
# issue), carried by each boot medium with the same command lines.
mkdir -p "$B/test-modules"
head -c 5000 /dev/urandom > "$B/test-modules/mod-a.bin"
head -c 70000 /dev/urandom > "$B/test-modules/mod-b.bin"
# A disk for firmware to boot: a boot sector that checks the disk it was
# booted from (tests/disk/boot_check.asm) on a disk of its pattern; and a
# disk shorter than a sector.
rm -f "$B/test-modules/boot_check.bin" "$B/test-modules/test-disk.img"
nasm -f bin -o "$B/test-modules/boot_check.bin" tests/disk/boot_check.asm &&
	tools/mktestdisk.py "$B/test-modules/boot_check.bin" "$B/test-modules/test-disk.img" ||
	echo "integration: error: the test disk could not be built (the disk tests will fail)" >&2
head -c 100 /dev/urandom > "$B/test-modules/short-disk.img"
tools/mkiso.sh $B/test.iso $B/hv.elf --cmdline "loglevel=info" \
	--module "$B/test-modules/mod-a.bin vm=t0 mem=64M" \
	--module "$B/test-modules/mod-b.bin role=initrd"
if [ -x tools/mkefidisk.sh ] && [ -f $B/hv.efi ]; then
	cat > $B/test-modules/petrel.cfg <<'CFG'
# Petrel UEFI configuration used by the tests
cmdline loglevel=info
module2 \guests\mod-a.bin vm=t0 mem=64M
module2 \guests\mod-b.bin role=initrd
CFG
	tools/mkefidisk.sh $B/test-efi.img $B/hv.efi $B/test-modules/petrel.cfg \
		$B/test-modules/mod-a.bin=/guests/mod-a.bin $B/test-modules/mod-b.bin=/guests/mod-b.bin
fi

# GRUB (BIOS) from an ISO, multiboot2: under QEMU and under Bochs.
test_grub_bios() {
	local log=$LOGDIR/$1-grub-bios.txt
	if [ "$1" = vmx ]; then
		BOCHS_LOG=$LOGDIR/bochs.log tools/run-bochs.sh $B/test.iso "$log" 600 "$STOP_RE"
		expect "vmx grub-bios: banner" "$log" 'boot=multiboot2-bios' \
			'cpus: 2 of 2 online' 'virt: vmx ept=1 unrestricted=1' 'apic: x2apic' 'petrel: ready:'
		return
	fi
	qemu_boot "$log" 90 -cpu max -cdrom $B/test.iso
	expect "svm grub-bios: banner" "$log" 'boot=multiboot2-bios' "${BANNER_SVM[@]}" \
		'cmdline: "loglevel=info"' 'modules: 2' 'module 0: .* 5 KiB "vm=t0 mem=64M"' \
		'module 1: .* 69 KiB "role=initrd"'
}

test_grub_efi() {
	local log=$LOGDIR/qemu-grub-efi.txt
	qemu_boot "$log" 180 -cpu max -bios $OVMF -cdrom $B/test.iso
	expect "svm grub-efi: banner" "$log" 'boot=multiboot2-efi' "${BANNER_SVM[@]}" \
		'acpi: rev 2 .*tables XSDT' 'modules: 2' 'module 0: .* 5 KiB "vm=t0 mem=64M"' 'module 1: .* 69 KiB "role=initrd"'
}

test_uefi() {
	local log=$LOGDIR/qemu-uefi.txt
	if [ ! -f $B/test-efi.img ]; then
		fail "svm uefi-application: banner" "$B/test-efi.img was not built"
		return
	fi
	qemu_boot "$log" 180 -cpu max -bios $OVMF -drive format=raw,file=$B/test-efi.img
	expect "svm uefi-application: banner" "$log" 'boot=uefi' "${BANNER_SVM[@]}" \
		'acpi: rev 2 .*tables XSDT' 'modules: 2' 'module 0: .* 5 KiB "vm=t0 mem=64M"' 'module 1: .* 69 KiB "role=initrd"'
}

test_cmdline() {
	local log=$LOGDIR/qemu-cmdline.txt log2=$LOGDIR/qemu-cmdline-com2.txt
	: > "$log2"
	WATCH=$log2 qemu_boot "$log" 60 -cpu max -kernel $B/hv.elf -serial "file:$log2" \
		-append "serial=0x2f8 bogus=1 loglevel=info"
	expect "svm serial-com2: serial=0x2f8 moves the console to COM2" "$log2" 'boot=multiboot1' \
		"error: command line: bad or unknown option 'bogus=1'" 'petrel: ready:'
}

# boot_guests BACKEND LOG SECONDS MODULE...: Petrel with these modules
# (each "file args"), under QEMU TCG -cpu max (svm: QEMU's -kernel loader)
# or Bochs (vmx: GRUB from an ISO), until the last VM ends.  SECONDS is the
# QEMU limit; Bochs gets five times as long.
boot_guests() {
	local be=$1 log=$2 limit=$3 m
	shift 3
	if [ "$be" = svm ]; then
		local IFS=,
		qemu_boot "$log" "$limit" -cpu max -kernel $B/hv.elf -initrd "$*"
		return
	fi
	local args=()
	for m in "$@"; do args+=(--module "$m"); done
	tools/mkiso.sh "$log.iso" $B/hv.elf --cmdline "loglevel=info" "${args[@]}" >/dev/null
	BOCHS_LOG=$log.bochs.log tools/run-bochs.sh "$log.iso" "$log" $((limit * 5)) "$STOP_RE"
}

# Lines that only a Petrel bug may print (a VM-entry failure, an exit the
# backend has no handler for), whatever a guest does.
PETREL_BUG_RE='VM entry failed|the CPU refused the guest state|an exit Petrel does not handle|its state was lost'

# The hostile guest beside the canary on one physical CPU (issue 9).  The
# hostile checks that every attack gets the architecture's answer; the
# canary, busy with an exit on every step (CPUID) while the hostile spins
# without exits, REP-INSes megabytes and more, checks its registers, RAM
# and test device are its own, that it never stalls longer than a slice
# and an exit or two (stall_us), and that it gets its share of the CPU.
# Bochs's TSC is virtual time, so the bound there is the scheduler's
# (10 ms turns, 13 ms measured); under QEMU TCG the TSC is the host's
# clock and a busy host adds its own stalls (43 ms seen once in a CI-like
# run), so the bound is looser: an unbounded exit stalled for seconds.
test_hostile() {
	local be=$1 log=$LOGDIR/$1-hostile.txt kib stall
	kib=$([ "$be" = svm ] && echo 8192 || echo 1024)
	stall=$([ "$be" = svm ] && echo 100000 || echo 20000)
	boot_guests "$be" "$log" 180 "$B/guests/hostile.elf vm=hostile cpu=0 cmdline=\"big_kib=$kib\"" \
		"$B/guests/canary.elf vm=canary cpu=0 cmdline=\"seed=99 exits stall_us=$stall share=25\""
	expect "$be hostile beside a canary: $(grep -ac '^\[hostile\] PASS' "$log") attacks get the CPU's answer" "$log" \
		'^\[hostile\] SUMMARY hostile passed=[1-9][0-9]* failed=0' 'vm hostile exit code 0'
	expect "$be canary beside the hostile: registers, RAM and devices its own" "$log" \
		'^\[canary\] PASS regs-kept' '^\[canary\] PASS ram-kept' '^\[canary\] PASS device-state-kept'
	expect "$be canary beside the hostile: stall bounded, share kept ($(sed -n 's/^\[canary\] timing: //p' "$log"))" "$log" \
		'^\[canary\] PASS stall-bounded' '^\[canary\] PASS share-kept' \
		'^\[canary\] SUMMARY canary passed=[1-9][0-9]* failed=0' 'all VMs stopped'
	expect_not "$be hostile beside a canary: no entry failure or unhandled exit" "$log" "$PETREL_BUG_RE"
}

# An exception delivered onto a stack outside RAM: Petrel does not emulate
# event delivery, so that VM stops with the reason; the canary goes on.
test_hostile_kill() {
	local be=$1 log=$LOGDIR/$1-hostile-kill.txt
	boot_guests "$be" "$log" 120 "$B/guests/hostile.elf vm=hk cpu=0 cmdline=\"kill=stack\"" \
		"$B/guests/canary.elf vm=canary cpu=0 cmdline=\"seed=7 rounds=5\""
	expect "$be hostile-kill: event delivery outside RAM stops only its VM" "$log" \
		'error: vm hk: event delivery touched guest-physical 0x[0-9a-f]+, which is not RAM' \
		'vm hk stopped: an access outside RAM that Petrel cannot emulate' \
		'^\[canary\] SUMMARY canary passed=[1-9][0-9]* failed=0' 'all VMs stopped'
}


# section NAME FILE: the captured output of the driver's `run NAME` step.
section() {
	sed -n "s/^$1| //p" "$2"
}

# irq_count FILE SECTION PATTERN: the per-CPU counts of the
# /proc/interrupts lines matching PATTERN, summed (the local APIC timer
# and IRQ 0 together: with the HPET, Linux ticks on the first and uses
# IRQ 0 only to broadcast).
irq_count() {
	section "$2" "$1" | awk -v pat="$3" '$0 ~ pat { f = 1; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { if (f) print n + 0 }'
}

# per_cpu FILE SECTION PATTERN: the per-CPU counts of the first
# /proc/interrupts line matching PATTERN, one per line.
per_cpu() {
	section "$2" "$1" | awk -v pat="$3" '$0 ~ pat { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) print $i; exit }'
}

# grew BEFORE AFTER: every count of the second list is above the first's
# at the same place, and there are as many as LINUX_CPUS.
grew() {
	paste <(echo "$1") <(echo "$2") | awk -v n="$LINUX_CPUS" 'NF == 2 && $2 > $1 { k++ } END { exit !(k == n && NR == n) }'
}

# Debian's kernel and a busybox initramfs (tools/build-guest.sh) under
# Petrel, 1 vCPU and 512 MiB: the test types into the guest's shell through
# Petrel's serial port (tools/serial-driver.py, tests/integration/linux.script)
# and checks what comes back.  The same checks for both backends:
#   linux_session TAG LOG OUT COMMAND...   runs the driver with COMMAND (the
#   emulator, its serial port on $sock), then judges the session.
# Error lines about the CPU model, not about Petrel's platform: Linux prints
# them on that CPU without Petrel too.  Bochs's Skylake has no IBRS, so
# Linux warns about RETBleed there (seen booting the same kernel directly on
# Bochs).
CPU_MODEL_LINES='RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed'
# The i440FX has no memory-mapped (PCIe) configuration space, so Linux says
# it cannot reach the extended space under the PCI root (the DSDT's PCI0),
# as it does on QEMU's pc machine.  Not a fault of Petrel's platform.
PLATFORM_LINES="acpi PNP0A03:00: fail to add MMCONFIG information, can't access extended PCI configuration space under this bridge"
linux_session() {
	local t=$1 log=$2 out=$3 script=${3%.txt}.script
	shift 3
	# @LAST@: the last vCPU, whose statistics end the session; without
	# LINUX_REBOOT the same session leaves out its reboot.
	sed "s/@LAST@/$((LINUX_CPUS - 1))/" tests/integration/linux.script >"$script"
	[ "${LINUX_REBOOT:-1}" = 0 ] && sed -i '/^send reboot/,/^run after_reboot/d' "$script"
	timeout 1500 tools/serial-driver.py --socket "$sock" --connect-timeout 120 --log "$log" \
		--line-prefix '\[linux0\] ' --char-delay 0.002 --script "$script" -- \
		"$@" >"$out" 2>&1
	local rc=$?
	if [ "$rc" != 0 ]; then # the driver's complaint and Petrel's last words, for a CI log
		echo "# $t: the serial driver ended with $rc; the end of $out:"
		tail -n 20 "$out" | cut -c1-200 | sed 's/^/#   /'
		echo "# $t: Petrel's last lines in $log:"
		grep -a '^petrel: ' "$log" | tail -n 8 | cut -c1-200 | sed 's/^/#   /'
	fi
	if ! grep -q '^=== wait /.*PETREL-GUEST-READY/: matched' "$out"; then
		fail "$t: boots to its shell" "no PETREL-GUEST-READY (driver exit $rc; logs: $log, $out)"
		return
	fi
	echo "# $t: shell after $(sed -n 's|^=== wait /.*PETREL-GUEST-READY/: matched after \([0-9.]*\) s|\1|p' "$out" | head -1) s"
	pass "$t: boots to its shell under Petrel"

	local n=$LINUX_CPUS last=$((LINUX_CPUS - 1))
	[ "$(section hypervisor "$out")" = "$n" ] && pass "$t: /proc/cpuinfo shows the hypervisor flag on all $n vCPUs" ||
		fail "$t: /proc/cpuinfo shows the hypervisor flag on all $n vCPUs" "got '$(section hypervisor "$out")'"
	[ "$(section cpus "$out")" = "0-$last" ] && [ "$(section nproc "$out")" = "$n" ] &&
		pass "$t: all $n vCPUs online, nproc $n (INIT and SIPI through the local APIC)" ||
		fail "$t: all $n vCPUs online" "online: '$(section cpus "$out")', nproc '$(section nproc "$out")'"

	# A thread pinned to each CPU ran there; threads sharing memory on
	# every CPU mapped and unmapped it (TLB shootdowns between vCPUs) and
	# always read what the others wrote; every CPU took timer interrupts
	# and shootdowns meanwhile.
	local want got
	want=$(for ((i = 0; i < n; i++)); do echo "thread $i on cpu $i, then cpu $i"; done)
	got=$(section where "$out" | grep '^thread' | sort -n -k2)
	[ "$got" = "$want" ] && pass "$t: a thread pinned to each of the $n CPUs runs there" ||
		fail "$t: a thread pinned to each CPU runs there" "$(echo "$got" | tr '\n' '|')"
	[ "$(section tlb "$out" | tail -1)" = "tlb ok" ] && pass "$t: threads on $n CPUs map, share and unmap memory (TLB shootdowns)" ||
		fail "$t: threads map, share and unmap memory" "$(section tlb "$out" | tail -2 | tr '\n' '|')"
	local fpu
	fpu=$(section fpu "$out" | tail -1)
	[ "${fpu%% (*}" = "fpu ok" ] && pass "$t: threads keep their vector registers live across the hypervisor's preemptions and moves ${fpu#fpu ok }" ||
		fail "$t: threads keep their vector registers" "$(section fpu "$out" | tail -2 | tr '\n' '|')"
	grew "$(per_cpu "$out" irq_before '^ *LOC:')" "$(per_cpu "$out" irq_smp '^ *LOC:')" &&
		pass "$t: every vCPU takes local timer interrupts ($(per_cpu "$out" irq_smp '^ *LOC:' | tr '\n' ' '))" ||
		fail "$t: every vCPU takes local timer interrupts" "LOC before '$(per_cpu "$out" irq_before '^ *LOC:' | tr '\n' ' ')' after '$(per_cpu "$out" irq_smp '^ *LOC:' | tr '\n' ' ')'"
	grew "$(per_cpu "$out" irq_before '^ *TLB:')" "$(per_cpu "$out" irq_smp '^ *TLB:')" &&
		pass "$t: every vCPU takes TLB shootdown IPIs ($(per_cpu "$out" irq_smp '^ *TLB:' | tr '\n' ' '))" ||
		fail "$t: every vCPU takes TLB shootdown IPIs" "TLB before '$(per_cpu "$out" irq_before '^ *TLB:' | tr '\n' ' ')' after '$(per_cpu "$out" irq_smp '^ *TLB:' | tr '\n' ' ')'"

	local bad ok_lines="${LINUX_DMESG_OK:-^$}|$PLATFORM_LINES"
	# Error and warning levels (<0> to <4> in `dmesg -r`) about the platform.
	bad=$(section dmesg "$out" | grep -E '^<[0-4]>' | grep -vE "$ok_lines" | grep -iE 'apic|timer|acpi|clock|tsc|hpet|irq|calibrat')
	[ -z "$bad" ] && pass "$t: dmesg has no APIC, timer, ACPI or clocksource error lines" ||
		fail "$t: dmesg has no APIC, timer, ACPI or clocksource error lines" "$(echo "$bad" | head -3 | tr '\n' '|')"

	bad=$(section dmesg "$out" | grep -E '^<[0-4]>' | grep -vE "$CPU_MODEL_LINES" | grep -vE "$ok_lines")
	[ -z "$bad" ] && pass "$t: dmesg has no error or warning lines at all" ||
		fail "$t: dmesg has no error or warning lines at all" "$(echo "$bad" | head -3 | tr '\n' '|')"

	local adv
	adv=$(section clock "$out" | sed -n 's/^advanced //p')
	[ -n "$adv" ] && [ "$adv" -ge 1 ] && pass "$t: date +%s advances by $adv across sleep 1" ||
		fail "$t: date +%s advances across sleep 1" "advanced '$adv'"

	local t0 t1 s0 s1
	t0=$(irq_count "$out" irq_before 'LOC|timer') t1=$(irq_count "$out" irq_after 'LOC|timer')
	s0=$(irq_count "$out" irq_before 'ttyS0') s1=$(irq_count "$out" irq_after 'ttyS0')
	[ -n "$t0" ] && [ -n "$t1" ] && [ "$t1" -gt "$t0" ] && pass "$t: timer interrupts count ($t0 -> $t1)" ||
		fail "$t: timer interrupts count" "'$t0' -> '$t1'"
	[ -n "$s0" ] && [ -n "$s1" ] && [ "$s1" -gt "$s0" ] && pass "$t: serial interrupts count ($s0 -> $s1)" ||
		fail "$t: serial interrupts count" "'$s0' -> '$s1'"

	# RAM: the e820 map Petrel gave ends at exactly 512 MiB (a firmware
	# keeps the top pages for itself: LINUX_RAM_TOP).
	local top want_top=${LINUX_RAM_TOP:-0x000000001fffffff}
	top=$(section e820 "$out" | sed -n 's/.*\[mem 0x[0-9a-f]*-\(0x[0-9a-f]*\)\] usable.*/\1/p' | tail -1)
	[ "$top" = "$want_top" ] && pass "$t: the guest sees its 512 MiB (usable up to $want_top)" ||
		fail "$t: the guest sees its 512 MiB (usable up to $want_top)" "last usable e820 byte '$top'"

	# reboot -f: Petrel resets the VM (Linux writes the FADT reset register)
	# and it boots again from a fresh load into fresh RAM: low uptime, and
	# the file written before is gone (the initramfs is unpacked anew).
	local up
	up=$(section after_reboot "$out" | awk 'NR == 1 { print int($1) }')
	if [ "${LINUX_REBOOT:-1}" = 0 ]; then
		: # not asked for: the linux test covers it on this backend
	elif grep -aq 'vm linux0 reset: reset control register 0xcf9' "$log" && [ -n "$up" ] && [ "$up" -lt 60 ] &&
		section after_reboot "$out" | grep -q 'No such file' &&
		[ "$(section after_reboot "$out" | tail -1)" = "0-$last" ]; then
		pass "$t: reboot -f restarts the VM with fresh RAM and kernel, all $n vCPUs again"
	else
		fail "$t: reboot -f restarts the VM with fresh RAM and kernel, all $n vCPUs again" \
			"reset line: $(grep -ac 'vm linux0 reset:' "$log"), uptime after '$up', after: $(section after_reboot "$out" | tail -2 | tr '\n' '|')"
	fi

	grep -aq 'vm linux0 stopped: ACPI S5' "$log" && pass "$t: poweroff -f ends the VM (ACPI S5)" ||
		fail "$t: poweroff -f ends the VM (ACPI S5)" "no 'vm linux0 stopped: ACPI S5' line"

	# With more vCPUs than CPUs the floating vCPUs move to a CPU that has
	# nothing to run (hv/core/run.c, balance): Petrel's statistics at the
	# stop count the moves of each.
	local moves
	moves=$(grep -aoE 'vm linux0 vcpu [0-9]+: [0-9]+ us in the hypervisor, [0-9]+ moves' "$log" |
		awk '{ n++; m += $(NF - 1) } END { if (n) print m " moves of " n " vCPUs" }')
	if [ "${LINUX_MOVES:-0}" = 1 ]; then
		[ -n "$moves" ] && [ "${moves%% *}" -gt 0 ] && pass "$t: vCPUs move between the CPUs ($moves)" ||
			fail "$t: vCPUs move between the CPUs" "statistics: '$moves'"
	fi
}


guest_image_present() {
	[ -f $B/guest/vmlinuz ] && [ -f $B/guest/initrd.gz ] && return 0
	fail "$1: guest image" "build/guest/vmlinuz or initrd.gz missing (make guest-image)"
	return 1
}

LINUX_CPUS=2
LINUX_MODS="$B/guest/vmlinuz vm=linux0 mem=512M cpus=2 cmdline=\"console=ttyS0 quiet panic=-1\""

# The Linux tests on SVM: QEMU TCG with three CPUs, CPU 0 kept for Petrel
# (cpu0=host), the VMs on the other two.  QEMU 7.2 (and 10.0) TCG has a
# race that corrupts the first CPU's SVM state when another CPU restores
# x87 state meanwhile (cpu_clear_ignne() writes first_cpu's hflags2 from
# any CPU's thread): a VMCB with the host's state, or a guest run without
# its nested page tables for a while (README, "Known problems").  A
# first CPU that never runs a guest is out of its reach.
SVM_LINUX_CPUS=(-smp 3 -append cpu0=host)

# linux_boot BACKEND NAME MODULE...: the Linux session of linux_session
# with these modules (each a file and its arguments) under BACKEND.
# SVM: QEMU TCG -cpu max, SVM_LINUX_CPUS; the serial port is a unix socket.
# VMX: Bochs (GRUB from the ISO), host 2 CPUs; COM1 is a TCP server Bochs
# waits on.  Bochs is slow: about 3 minutes to the shell, 6 in all.
linux_boot() {
	local be=$1 name=$2 port sock m isomods=() megs=${BOCHS_MEGS:-1024}
	shift 2
	guest_image_present "$be $name" || return
	if [ "$be" = svm ]; then
		sock=$B/$name-test.sock
		rm -f "$sock"
		linux_session "svm $name" $LOGDIR/svm-$name.txt $LOGDIR/svm-$name-steps.txt \
			qemu-system-x86_64 -accel tcg -cpu max -m 2048 "${SVM_LINUX_CPUS[@]}" -display none -nic none -no-reboot \
			-serial "unix:$sock,server=on,wait=on" -kernel $B/hv.elf -initrd "$(IFS=,; echo "$*")"
		return
	fi
	for m in "$@"; do isomods+=(--module "$m"); done
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("localhost", 0)); print(s.getsockname()[1])')
	sock=tcp:localhost:$port
	tools/mkiso.sh $B/vmx-$name.iso $B/hv.elf --cmdline "loglevel=info" "${isomods[@]}"
	linux_session "vmx $name" $LOGDIR/vmx-$name.txt $LOGDIR/vmx-$name-steps.txt \
		env BOCHS_SERIAL_TCP=$port BOCHS_MEGS=$megs BOCHS_LOG=$LOGDIR/vmx-$name.bochs.log \
		tools/run-bochs.sh $B/vmx-$name.iso - 1500
}

INITRD0="$B/guest/initrd.gz vm=linux0 role=initrd"

# Two vCPUs on the two physical CPUs that run VMs (Petrel spreads them).
test_linux() { LINUX_CPUS=2 linux_boot "$1" linux "$LINUX_MODS" "$INITRD0"; }

# Firmware boots Linux from a disk image of tools/mkdisk.sh on a virtio
# disk: SeaBIOS the BIOS image (syslinux), OVMF the UEFI image (GRUB on the
# EFI system partition); the boot loader loads the kernel and the
# initramfs, which loads the virtio and ext4 modules and mounts /dev/vda2
# as root.  The linux test's session runs there (on SVM with its reboot
# through the firmware and the boot loader again; on VMX without, to keep
# Bochs's time in bounds: both were run with it once, README);
# /sbin/init checks the disk each boot (petrel.disk): a large file's
# checksum after dropping the caches, a file written, synced and read back.
# firmware_linux BACKEND NAME FIRMWARE IMAGE RAM_TOP REGEX...: the REGEXes
# are the firmware's and boot loader's lines, in the log.
firmware_linux() {
	local be=$1 name=$2 fw=$3 img=$4 top=$5 log=$LOGDIR/$1-$2.txt boots=1 on="the boot"
	shift 5
	[ -f "$img" ] || { fail "$be $name: disk image" "$img missing (make guest-image)"; return; }
	[ "$(reboot_on "$be")" = 1 ] && boots=2 on="both boots"
	LINUX_REBOOT=$(reboot_on "$be") LINUX_CPUS=2 LINUX_RAM_TOP=$top BOCHS_MEGS=1536 linux_boot "$be" "$name" \
		"$fw vm=linux0 role=firmware mem=512M cpus=2" "$img vm=linux0 role=disk"
	expect "$be $name: the firmware finds the virtio disk and boots it; its boot loader starts Linux" "$log" "$@"
	# (not anchored: the serial driver's probes for the shell may share the line)
	[ "$(grep -ac 'PETREL-DISK root /dev/vda2 ext4' "$log")" -ge $boots ] &&
		pass "$be $name: the root is /dev/vda2, ext4 (on $on)" ||
		fail "$be $name: the root is /dev/vda2, ext4 (on $on)" \
			"$(grep -ac 'PETREL-DISK root /dev/vda2 ext4' "$log") boots with it"
	[ "$(grep -ac 'PETREL-DISK read PASS' "$log")" -ge $boots ] && ! grep -aq 'PETREL-DISK read FAIL' "$log" &&
		pass "$be $name: an 8 MiB file reads back with the image's sha256 after dropping the caches (on $on)" ||
		fail "$be $name: an 8 MiB file reads back with the image's sha256 after dropping the caches" "$(grep -a 'PETREL-DISK read' "$log" | head -2 | tr '\n' '|')"
	[ "$(grep -ac 'PETREL-DISK write PASS' "$log")" -ge $boots ] && ! grep -aq 'PETREL-DISK write FAIL' "$log" &&
		pass "$be $name: a file written, synced and read back from the disk is the same (on $on)" ||
		fail "$be $name: a file written, synced and read back" "$(grep -a 'PETREL-DISK write' "$log" | head -2 | tr '\n' '|')"
	# Linux enables MSI-X: the queue's vector takes the disk's interrupts
	local msix
	msix=$(section irq_smp "$LOGDIR/$be-$name-steps.txt" | grep -E 'PCI-MSI.*virtio0-req' |
		awk '{ n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print n }')
	[ -n "$msix" ] && [ "$msix" -gt 0 ] && pass "$be $name: the disk interrupts through MSI-X ($msix on its queue's vector)" ||
		fail "$be $name: the disk interrupts through MSI-X" "$(section irq_smp "$LOGDIR/$be-$name-steps.txt" | grep virtio | tr '\n' '|')"
	# the ACPI tables Linux found are Petrel's, installed by the firmware
	expect "$be $name: Linux finds Petrel's ACPI tables, installed by the firmware through the table-loader" "$log" \
		'ACPI: FACP 0x[0-9A-F]+ [0-9A-F]+ \(v06 PETREL PETRELVM' 'ACPI: PCI Root Bridge \[PCI0\]'
}

test_firmware_linux() {
	firmware_linux "$1" firmware-linux /usr/share/seabios/bios.bin "$B/guest/disk-bios.img" 0x000000001fffbfff \
		'^\[linux0\] SeaBIOS \(version' '^\[linux0\] QEMU fw_cfg DMA interface supported' \
		'^\[linux0\] sercon: using ioport 0x3f8' '^\[linux0\] 1: /pci@i0cf8/scsi@3/disk@0,0$' \
		'^\[linux0\] pci dev 00:03.0 using modern' \
		'^\[linux0\] Booting from Hard Disk' '^\[linux0\] SYSLINUX '
}

test_firmware_uefi_linux() {
	firmware_linux "$1" firmware-uefi-linux /usr/share/ovmf/OVMF.fd "$B/guest/disk-uefi.img" 0x000000001ffdffff \
		'BdsDxe: starting Boot[0-9A-F]+ "UEFI Misc Device" from PciRoot\(0x0\)/Pci\(0x3,0x0\)' \
		'^\[linux0\] .*Welcome to GRUB!'
}

# Bochs takes about 4 minutes per Linux boot: on VMX the SMP variants
# below leave out the reboot, which the linux test covers there.
reboot_on() { [ "$1" = svm ] && echo 1 || echo 0; }
reboot_word() { [ "$1" = svm ] && echo "reboots and "; }

# More vCPUs than physical CPUs: four on two, two per CPU.
test_linux_smp4() {
	LINUX_REBOOT=$(reboot_on "$1") LINUX_CPUS=4 LINUX_MOVES=1 linux_boot "$1" linux-smp4 \
		"$B/guest/vmlinuz vm=linux0 mem=512M cpus=4 cmdline=\"console=ttyS0 quiet panic=-1\"" "$INITRD0"
}

# Two Linux VMs with two vCPUs each on the two CPUs: the first is driven
# through the console as in the linux test (its reboot included on SVM); the
# second runs the SMP workloads by itself (petrel.selftest: /init of
# tools/build-guest.sh) meanwhile, its output on the console as [linux1].
#
# Four vCPUs on two CPUs: a vCPU that waits out the other VM's 10 ms slice
# (longer under TCG) can miss a period of the 64 Hz RTC interrupt that
# Linux's HPET RTC emulation runs at boot, and Linux says "hpet: Lost N RTC
# interrupts" (seen in 2 of 5 runs on a busy day; never with one VM).  That
# one line is the overcommitted host's, as on any hypervisor; the other
# Linux tests still refuse it.
test_linux_two() {
	local be=$1 log=$LOGDIR/$1-linux-two.txt
	LINUX_DMESG_OK='hpet: Lost [0-9]+ RTC interrupts' \
	LINUX_REBOOT=$(reboot_on "$be") LINUX_CPUS=2 LINUX_MOVES=1 BOCHS_MEGS=1536 linux_boot "$be" linux-two "$LINUX_MODS" "$INITRD0" \
		"$B/guest/vmlinuz vm=linux1 mem=512M cpus=2 cmdline=\"console=ttyS0 quiet panic=-1 petrel.selftest\"" \
		"$B/guest/initrd.gz vm=linux1 role=initrd"
	local want got
	want=$(printf 'thread 0 on cpu 0, then cpu 0\nthread 1 on cpu 1, then cpu 1')
	got=$(sed -n 's/^\[linux1\] PETREL-SELFTEST \(thread .*\)/\1/p' "$log" | tr -d '\r' | sort -n -k2)
	grep -aq '^\[linux1\] PETREL-SELFTEST-DONE' "$log" && [ "$got" = "$want" ] &&
		grep -aq '^\[linux1\] PETREL-SELFTEST tlb ok' "$log" &&
		pass "$be linux-two: the second VM ran its threads on both vCPUs and its TLB workload beside the first" ||
		fail "$be linux-two: the second VM ran its SMP workloads" "threads '$(echo "$got" | tr '\n' '|')', done: $(grep -ac 'PETREL-SELFTEST-DONE' "$log")"
	grep -aqE 'vm linux1 (stopped|reset)' "$log" &&
		fail "$be linux-two: the second VM goes on while the first $(reboot_word "$be")powers off" "$(grep -aE 'vm linux1 (stopped|reset)' "$log" | head -1)" ||
		pass "$be linux-two: the second VM goes on while the first $(reboot_word "$be")powers off"
}

# The console multiplexer and the shell (tests/integration/shell.script):
# two Linux VMs; the focus moves with Ctrl-A three times, both Linux
# shells answer, every shell command runs (a VM paused and resumed with its
# vCPUs held meanwhile: their exit counts stand still; its clock goes on:
# the two VMs' clocks agree within the RTC's second after 4 s paused), bad input gets its
# error line, and `reboot` resets the machine (QEMU -no-reboot and Bochs
# then end).
test_shell() {
	local be=$1 t="$1 shell" log=$LOGDIR/$1-shell.txt out=$LOGDIR/$1-shell-steps.txt port sock rc relay c2
	local m0="$B/guest/vmlinuz vm=linux0 mem=256M cpus=2 gdb=serial cmdline=\"console=ttyS0 quiet panic=-1 petrel.vm=linux0\""
	local m1="$B/guest/vmlinuz vm=linux1 mem=256M cpus=2 cmdline=\"console=ttyS0 quiet panic=-1 petrel.vm=linux1 nokaslr\""
	local i1="$B/guest/initrd.gz vm=linux1 role=initrd"
	local gport script=$B/shell-$1.script
	guest_image_present "$t" || return
	gport=$(free_port)
	sed "s/@GDBPORT@/$gport/" tests/integration/shell.script > "$script"
	if [ "$be" = svm ]; then
		sock=$B/shell-test.sock
		rm -f "$sock"
		timeout 1500 tools/serial-driver.py --socket "$sock" --connect-timeout 120 --log "$log" \
			--line-prefix '\[linux[01]\] ' --char-delay 0.002 --script "$script" -- \
			qemu-system-x86_64 -accel tcg -cpu max -m 2048 "${SVM_LINUX_CPUS[@]}" -display none -nic none -no-reboot \
			-serial "unix:$sock,server=on,wait=on" -serial "tcp:localhost:$gport,server=on,wait=off" \
			-kernel $B/hv.elf -initrd "$m0,$INITRD0,$m1,$i1" >"$out" 2>&1
		rc=$?
	else
		port=$(free_port) c2=$(free_port)
		tools/tcp-relay.py "$c2" "$gport" 1500 &
		relay=$!
		tools/mkiso.sh $B/vmx-shell.iso $B/hv.elf --cmdline "loglevel=info" --module "$m0" --module "$INITRD0" \
			--module "$m1" --module "$i1"
		timeout 1500 tools/serial-driver.py --socket tcp:localhost:$port --connect-timeout 120 --log "$log" \
			--line-prefix '\[linux[01]\] ' --char-delay 0.002 --script "$script" -- \
			env BOCHS_SERIAL_TCP=$port BOCHS_COM2_TCP=$c2 BOCHS_MEGS=1024 BOCHS_LOG=$LOGDIR/vmx-shell.bochs.log \
			tools/run-bochs.sh $B/vmx-shell.iso - 1500 >"$out" 2>&1
		rc=$?
		kill $relay 2>/dev/null
	fi
	# SVM runs it with cpu0=host (SVM_LINUX_CPUS): the shell's cpus shows
	# CPU 0 without a vCPU, after the moves of four vCPUs on the other two
	if [ "$be" = svm ]; then
		grep -aq 'cpu0=host: CPU 0 runs Petrel only; the VMs run on the other 2 CPUs' "$log" &&
			grep -aqE '^cpu 0: APIC ID 0, [0-9]+% idle since start, vCPUs: none' "$log" &&
			pass "$t: cpu0=host keeps CPU 0 for Petrel: the shell's cpus lists no vCPU there" ||
			fail "$t: cpu0=host keeps CPU 0 for Petrel" "$(grep -aE '^cpu [0-2]: APIC' "$log" | tr '\n' '|')"
	fi
	local sym
	sym=$(section ppidsym "$out")
	grep -aq 'gdb: attached to vm linux0 on the GDB serial port (x86-64 registers; single steps by RFLAGS.TF)' "$log" &&
		expect "$t: GDB attaches to a running Linux VM: x86-64 registers, its two vCPUs as threads" "$out" \
			'^gdb> \* 1 +Thread 1 \(vCPU 0 on CPU [0-2]' '^gdb>   2 +Thread 2 \(vCPU 1 on CPU [0-2]' ||
		fail "$t: GDB attaches to a running Linux VM" "(driver exit $rc; $log)"
	[ -n "$sym" ] && [ "$(grep -acE "^gdb> (Thread [0-9]+ hit )?Breakpoint 1, 0x0*$sym in " "$out")" = 2 ] &&
		grep -aqE "^gdb> rip +0x0*$sym " "$out" && grep -aqE '^gdb> cs +0x10 ' "$out" &&
		pass "$t: a breakpoint at getppid (0x$sym in /proc/kallsyms) stops the VM twice, for commands typed into its shell; registers read there" ||
		fail "$t: a breakpoint at getppid from /proc/kallsyms" "symbol '$sym' (driver exit $rc; $out)"
	[ "$(section ppid1 "$out" | grep -c '^PPID-IS-[0-9][0-9]*$')" = 1 ] && [ "$(section ppid2 "$out" | grep -c '^PPID-IS-[0-9][0-9]*$')" = 1 ] &&
		[ "$(section aftergdb "$out")" = "shell still here" ] && grep -aq '^gdb> \[Inferior 1 (Remote target) detached\]' "$out" &&
		pass "$t: continue, delete, detach: both commands finished and the shell still answers" ||
		fail "$t: continue and detach leave the shell working" "ppid1 '$(section ppid1 "$out")' ppid2 '$(section ppid2 "$out")' after '$(section aftergdb "$out")'"

	expect "$t: the serial port's input by interrupt" "$log" 'console: input by interrupt \(IRQ 4\), to vm linux0'
	# (the other VM's console lines share the port: its banner, just after
	# its READY line, can land inside a section; only petrel.vm= lines count)
	[ "$(section first "$out" | grep -x 'petrel[.]vm=[a-z0-9]*')" = petrel.vm=linux0 ] &&
		[ "$(section second "$out" | grep -x 'petrel[.]vm=[a-z0-9]*')" = petrel.vm=linux1 ] &&
		pass "$t: Ctrl-A three times moves the input from the first Linux VM's shell to the second's" ||
		fail "$t: the focus moves between the two Linux shells" "first '$(section first "$out")', second '$(section second "$out")' (driver exit $rc; $out)"
	local paused
	paused=$(grep -aoE '^linux1 +1 +[0-9]+ +paused +[0-9]+' "$log" | awk '{ print $5 }' | sort -u)
	[ "$(grep -acE '^linux1 +1 +[0-9]+ +paused +[0-9]+' "$log")" = 2 ] && [ "$(echo "$paused" | wc -l)" = 1 ] &&
		grep -aq 'vm linux1 paused: its 2 vCPUs out of the guest and held' "$log" &&
		pass "$t: vm pause holds every vCPU of the VM out of the guest (exits stay at $paused over 4 s)" ||
		fail "$t: vm pause holds the VM's vCPUs" "paused exit counts: '$(echo "$paused" | tr '\n' ' ')'"
	expect "$t: help, version, vm list, vcpu list, cpus, stats, exitcost, loglevel, vm output, vm reset, vm stop answer" "$out" \
		'^=== wait /reboot \+reset the whole machine/: matched' '^=== wait /linux0 \+running/: matched' \
		'^=== wait /cpu 1: APIC ID/: matched' '^=== wait /exit floor' '^=== wait /loglevel info/: matched' \
		'^=== wait /--- end ---/: matched' "^=== wait /vm linux1 reset: the shell's vm reset/: matched" \
		"^=== wait /linux1 \\+stopped/: matched"
	expect "$t: bad input gets one error line: unknown VM, bad usage, unknown command (with close ones), over-long line, resume of a running VM, stop of a stopped one" "$out" \
		'^=== wait /vm linux1 is stopped/: matched' \
		"^=== wait /no VM named 'nosuchvm'/: matched" '^=== wait /usage: vm list/: matched' \
		"^=== wait /unknown command 'vmm'; close: vm/: matched" "^=== wait /unknown command 'frobnicate'" \
		'^=== wait /line too long/: matched' '^=== wait /vm linux1 is not paused/: matched'
	# The paused vCPU's view: its registers; the same bytes read through its
	# page tables (the direct map) and by guest-physical address.
	local vdump pdump
	vdump=$(grep -aE '^  ffffffff810000[0-2]0  ' "$log" | cut -c21-68)
	pdump=$(grep -aE '^  00000000010000[0-2]0  ' "$log" | cut -c21-68)
	grep -aqE '^  rip [0-9a-f]{16} rflags [0-9a-f]{16}$' "$log" && grep -aqE '^  cr0 [0-9a-f]{16} cr2' "$log" &&
		grep -aqE '^  cs +sel [0-9a-f]{4} base' "$log" &&
		pass "$t: vcpu regs shows a paused vCPU's general, control and segment registers and pending events" ||
		fail "$t: vcpu regs shows a paused vCPU's registers" "(log: $log)"
	[ "$(echo "$vdump" | wc -l)" = 3 ] && [ -n "$(echo "$vdump" | tr -d ' \n')" ] && [ "$vdump" = "$pdump" ] &&
		grep -aq "^=== wait /0xffffffff81000010 -> guest-physical 0x1000010/: matched" "$out" &&
		pass "$t: translate and mem by guest-virtual address go through the paused vCPU's page tables (the same 48 bytes as by guest-physical address)" ||
		fail "$t: translate and mem through the vCPU's page tables" "virtual '$(echo "$vdump" | head -1)' physical '$(echo "$pdump" | head -1)'"
	expect "$t: unmapped, non-canonical, non-RAM addresses, a vCPU that is not there and a running VM get their error line" "$out" \
		'^=== wait /0x10 is not mapped for a read/: matched' '^=== wait /0x100000000000000 is not canonical/: matched' \
		'^=== wait /guest-physical 0xfee00000 is not RAM or ROM: not read/: matched' \
		"^=== wait /vm linux1 has vCPUs 0 to 1, not '7'/: matched" '^=== wait /vm linux0 is running: pause it first/: matched'
	local c0 c1
	c0=$(section clock0 "$out") c1=$(section clock1 "$out")
	[ -n "$c0" ] && [ -n "$c1" ] && [ $((c1 - c0)) -ge -2 ] && [ $((c1 - c0)) -le 2 ] &&
		[ "$(section after "$out")" = "still here" ] &&
		pass "$t: after vm resume both shells answer and the paused VM's clock went on (date $c0, then $c1)" ||
		fail "$t: after vm resume both shells answer" "dates '$c0' '$c1', after '$(section after "$out")'"
	grep -aq '^=== exit: socket closed' "$out" && grep -aq 'rebooting the machine' "$log" &&
		pass "$t: reboot resets the machine" || fail "$t: reboot resets the machine" "(driver exit $rc; $out)"
	expect_not "$t: no entry failure or unhandled exit" "$log" "$PETREL_BUG_RE"
}

# The exit profiler (tests/integration/profile.script): exitmix makes two
# CPUID exits to one port read; `profile` must report that mix, and the
# three RIPs behind it with their instructions decoded.  The session ends
# with the shell's poweroff, which must end the emulator.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("localhost", 0)); print(s.getsockname()[1])'
}

# GDB (Debian's, batch mode) against the gdb-target guest through Petrel's
# GDB stub on COM2: the guest waits for GDB (gdb=wait), GDB follows
# tests/integration/gdb-target.gdb, and the guest's own checks say whether
# GDB's `set var` reached it.  Under Bochs, COM2 is a TCP server that
# holds Bochs's start until a client comes: tools/tcp-relay.py is that
# client, and GDB connects to the relay later.
test_gdb() {
	local be=$1 t="$1 gdb" log=$LOGDIR/$1-gdb.txt out=$LOGDIR/$1-gdb-steps.txt gport port script=$B/gdb-$1.script rc
	local m="$B/guests/gdb-target.elf vm=dbg gdb=wait cmdline=\"debugged\"" tail=""
	gport=$(free_port)
	# The watchpoint fires under Bochs; QEMU 7.2 TCG's VMRUN loads the
	# VMCB's DR7 without arming its breakpoints (helper_vmrun), so under
	# it the guest runs on to its end.
	[ "$be" = vmx ] && tail="-ex 'hbreak report' -ex continue -ex delete -ex continue"
	# Bochs 2.7's corei7_skylake_x has no monitor trap flag (its tigerlake
	# model offers the control, but Bochs 2.7 does not act on it: only a
	# pending MTF injected at entry exits), so VMX steps by TF here too.
	local step=RFLAGS.TF
	cat > "$script" <<SCRIPT
wait vm dbg waits for GDB 300
spawn gdb gdb -batch -nx -ex 'set pagination off' -ex 'set remotetimeout 60' -ex 'target remote localhost:$gport' -x tests/integration/gdb-target.gdb $tail $B/guests/gdb-target.elf
reap gdb 1200
wait SUMMARY gdb-target 60
SCRIPT
	if [ "$be" = svm ]; then
		rm -f $B/gdb-test.sock
		timeout 600 tools/serial-driver.py --socket $B/gdb-test.sock --connect-timeout 60 --log "$log" \
			--script "$script" -- \
			qemu-system-x86_64 -accel tcg -cpu max -m 512 -smp 2 -display none -nic none -no-reboot \
			-serial "unix:$B/gdb-test.sock,server=on,wait=on" -serial "tcp:localhost:$gport,server=on,wait=off" \
			-kernel $B/hv.elf -initrd "$m" >"$out" 2>&1
		rc=$?
	else
		port=$(free_port)
		local c2
		c2=$(free_port)
		tools/tcp-relay.py "$c2" "$gport" 1500 &
		local relay=$!
		tools/mkiso.sh $B/vmx-gdb.iso $B/hv.elf --cmdline "loglevel=info" --module "$m"
		timeout 1500 tools/serial-driver.py --socket tcp:localhost:$port --connect-timeout 120 --log "$log" \
			--script "$script" -- \
			env BOCHS_SERIAL_TCP=$port BOCHS_COM2_TCP=$c2 BOCHS_MEGS=512 BOCHS_LOG=$LOGDIR/vmx-gdb.bochs.log \
			tools/run-bochs.sh $B/vmx-gdb.iso - 1500 >"$out" 2>&1
		rc=$?
		kill $relay 2>/dev/null
	fi
	grep -aq "gdb: attached to vm dbg on the GDB serial port (i386 registers; single steps by $step)" "$log" &&
		expect "$t: GDB attaches to the waiting guest: the i386 description, its vCPU as a thread, steps by $step" "$out" \
			'^gdb> \* 1 +Thread 1 ' ||
		fail "$t: GDB attaches to the waiting guest with the i386 description, steps by $step" "(driver exit $rc; $log)"
	expect "$t: a breakpoint at a function stops there; backtrace and print a variable" "$out" \
		'^gdb> Breakpoint 1, compute \(seed=5\) at tests/guests/gdb_target.c' '^gdb> #1 +0x[0-9a-f]+ in guest_main \(\)' \
		'^gdb> \$1 = 5$'
	expect "$t: set var, next, step into a function, backtrace there" "$out" \
		'^gdb> \$2 = 13$' '^gdb> add_one \(x=39\) at tests/guests/gdb_target.c' '^gdb> #1 +0x[0-9a-f]+ in compute \(seed=13\)' \
		'^gdb> \$3 = 39$'
	if [ "$be" = vmx ]; then
		expect "$t: a hardware watchpoint fires with the old and new value; then a hardware breakpoint" "$out" \
			'^gdb> Hardware watchpoint 2: watched$' '^gdb> Old value = 0$' '^gdb> New value = 7$' \
			'^gdb> Hardware assisted breakpoint 3 at 0x[0-9a-f]+' '^gdb> Breakpoint 3, 0x[0-9a-f]+ in report \(\)'
	else
		skip "$t: a hardware watchpoint and a hardware breakpoint fire" "QEMU 7.2 TCG does not arm the VMCB's DR7 at VMRUN (real AMD CPUs do)"
	fi
	expect "$t: monitor reaches the shell's vcpu regs for this VM" "$out" '^gdb> vm dbg vcpu 0 \(CPL 0, paused\):'
	expect "$t: the guest runs to its normal end: GDB sees it exit" "$out" \
		'^gdb> \[Inferior 1 \(.*\) exited normally\]' '^=== reap gdb: exit code 0'
	grep -aq "PASS compute" "$log" && grep -aq 'SUMMARY gdb-target passed=[0-9]* failed=0' "$log" &&
		pass "$t: the guest saw GDB's value (compute returned 13 * 3 + 1) and passed" ||
		fail "$t: the guest saw GDB's value" "(driver exit $rc; $log)"
}

test_profile() {
	local be=$1 t="$1 profile" log=$LOGDIR/$1-profile.txt out=$LOGDIR/$1-profile-steps.txt port
	local m="$B/guests/exitmix.elf vm=mix cmdline=\"seconds=60\"" script=$B/profile-$1.script
	# an over-long GDB packet (more than 4096 bytes) for the bad-input steps
	sed "s/@LONG@/$(head -c 4200 /dev/zero | tr '\0' a)/" tests/integration/profile.script > "$script"
	if [ "$be" = svm ]; then
		rm -f $B/profile-test.sock
		timeout 600 tools/serial-driver.py --socket $B/profile-test.sock --connect-timeout 60 --log "$log" \
			--script "$script" -- \
			qemu-system-x86_64 -accel tcg -cpu max -m 512 -smp 2 -display none -nic none -no-reboot \
			-serial "unix:$B/profile-test.sock,server=on,wait=on" -kernel $B/hv.elf -initrd "$m" >"$out" 2>&1
	else
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("localhost", 0)); print(s.getsockname()[1])')
		tools/mkiso.sh $B/vmx-profile.iso $B/hv.elf --cmdline "loglevel=info" --module "$m"
		timeout 900 tools/serial-driver.py --socket tcp:localhost:$port --connect-timeout 120 --log "$log" \
			--script "$script" -- \
			env BOCHS_SERIAL_TCP=$port BOCHS_MEGS=512 BOCHS_LOG=$LOGDIR/vmx-profile.bochs.log \
			tools/run-bochs.sh $B/vmx-profile.iso - 900 >"$out" 2>&1
	fi
	local rc=$? cpuid io ratio
	cpuid=$(grep -aE '^  cpuid +[0-9]+ +[0-9]+ ' "$log" | awk '{ print $2 }' | head -1)
	io=$(grep -aE '^  io +[0-9]+ +[0-9]+ ' "$log" | awk '{ print $2 }' | head -1)
	ratio=$([ -n "$cpuid" ] && [ -n "$io" ] && [ "$io" -gt 0 ] && echo $((cpuid * 100 / io)))
	[ -n "$ratio" ] && [ "$ratio" -ge 195 ] && [ "$ratio" -le 205 ] && [ "$io" -ge 100 ] &&
		pass "$t: profile reports the guest's mix: $cpuid CPUID to $io port exits in 2 s (2:1)" ||
		fail "$t: profile reports the guest's mix" "cpuid '$cpuid', io '$io' (driver exit $rc; $log)"
	local top
	top=$(grep -aE '^  [0-9a-f]{16} +[0-9]+ +[0-9]+%  ' "$log" | head -3)
	[ "$(echo "$top" | grep -cE '%  cpuid +0f a2 +cpuid$')" = 2 ] && echo "$top" | grep -qE '%  io +e4 61 +in$' &&
		grep -aqE '^  cpuid +[0-9]+ +[0-9]+ +[0-9 ]+$' "$log" &&
		pass "$t: its top RIPs are the two CPUIDs and the port read, decoded, with a histogram per exit" ||
		fail "$t: its top RIPs are the exits' instructions" "$(echo "$top" | tr '\n' '|')"
	expect "$t: on the paused multiboot guest: vcpu regs, translate (paging off), mem by physical and virtual address" "$out" \
		'^=== wait /vm mix paused/: matched' '^=== wait /pending: ' \
		'^=== wait /0x100000 -> guest-physical 0x100000/: matched' '^=== wait /vm mix resumed/: matched'
	[ "$(grep -acE '^  0000000000100000  02 b0 ad 1b 03 00 00 00 ' "$log")" = 2 ] &&
		pass "$t: its multiboot header reads the same at 1 MiB by physical and by virtual address" ||
		fail "$t: its multiboot header reads the same both ways" "(log: $log)"
	expect "$t: gdb VM: GDB's protocol on the console port: stop reason, memory, thread list" "$out" \
		'^=== wait /\\\+\\\$T05thread:1;' '^=== wait /\\\+\\\$02b0ad1b#' '^=== wait /\\\+\\\$m1#'
	expect "$t: gdb VM: a bad checksum and an over-long packet are refused, unknown packets answered empty, memory and breakpoints outside RAM and a malformed request get errors" "$out" \
		'^=== wait /-\\\+\\\$QC1#' '^=== wait /\\\+\\\$#00/' '^=== wait /\\\+\\\$E14#' '^=== wait /\\\+\\\$E16#' \
		'^=== wait /\\\+\\\$E01#'
	[ "$(grep -ac '^=== wait /mix +running/: matched' "$out")" = 2 ] &&
		pass "$t: gdb VM: a detach while a step runs, and Ctrl-A three times, give the port back and the guest runs on" ||
		fail "$t: gdb VM: detach while stepping, Ctrl-A three times" "(driver exit $rc; $out)"
	expect "$t: gdb VM: Ctrl-C stops a running VM (SIGINT), kill stops it for good" "$out" \
		'^=== wait /\\\$T02thread:1;#' '^=== wait /vm mix killed by GDB on the console port/: matched' \
		'^=== wait /mix \+stopped/: matched'
	expect "$t: a bad length and an unknown VM get their error line" "$out" \
		'^=== wait /a profile runs 1 to 60 seconds/: matched' "^=== wait /no VM named 'nosuchvm'/: matched"
	grep -aq '^=== exit: socket closed' "$out" && grep -aq 'powering the machine off (ACPI S5)' "$log" &&
		pass "$t: poweroff powers the machine off (ACPI S5 from the firmware's DSDT)" ||
		fail "$t: poweroff powers the machine off" "(driver exit $rc; $out)"
	expect_not "$t: no entry failure or unhandled exit" "$log" "$PETREL_BUG_RE"
}

# RAM above 4 GiB, in the e820 map Linux prints and up to its shell.
# SVM: more RAM than fits below the MMIO hole, 3 GiB at 0 and the rest at
# 4 GiB.  VMX: Bochs 2.7 backs at most 2 GiB of host memory (memory: host=;
# a larger guest memory there does not hold its contents), so the guest
# asks for less RAM below the hole instead (mem_below_4g=, QEMU's
# max-ram-below-4g): 1 GiB at 0 and 512 MiB at 4 GiB.
test_linux_high_ram() {
	local be=$1 log=$LOGDIR/$1-linux-high-ram.txt
	local STOP_RE='PETREL-GUEST-READY|petrel: vm linux0 stopped|FATAL|PANIC'
	guest_image_present "$be linux-high-ram" || return
	if [ "$be" = svm ]; then
		STOP=$STOP_RE qemu_boot "$log" 300 -cpu max -m 8192 -kernel $B/hv.elf \
			-initrd "$B/guest/vmlinuz vm=linux0 mem=3584M cmdline=\"console=ttyS0 panic=-1\",$B/guest/initrd.gz vm=linux0 role=initrd"
		expect "svm linux-high-ram: 3.5 GiB guest with RAM above 4 GiB" "$log" \
			'BIOS-e820: \[mem 0x0000000000100000-0x00000000bfffffff\] usable' \
			'BIOS-e820: \[mem 0x0000000100000000-0x000000011fffffff\] usable' 'PETREL-GUEST-READY'
		return
	fi
	tools/mkiso.sh "$log.iso" $B/hv.elf --cmdline "loglevel=info" \
		--module "$B/guest/vmlinuz vm=linux0 mem=1536M mem_below_4g=1G cmdline=\"console=ttyS0 panic=-1\"" \
		--module "$B/guest/initrd.gz vm=linux0 role=initrd" >/dev/null
	BOCHS_MEGS=2048 BOCHS_LOG=$log.bochs.log tools/run-bochs.sh "$log.iso" "$log" 1200 "$STOP_RE"
	expect "vmx linux-high-ram: 1.5 GiB guest, 512 MiB of it above 4 GiB (mem_below_4g=1G)" "$log" \
		'BIOS-e820: \[mem 0x0000000000100000-0x000000003fffffff\] usable' \
		'BIOS-e820: \[mem 0x0000000100000000-0x000000011fffffff\] usable' 'PETREL-GUEST-READY'
}

# kvm-unit-tests under Petrel on QEMU TCG (SVM): every entry listed in
# tests/kut/expected keeps its status and its count of PASS: lines
# (tools/kut.py; `make kut` runs the whole suite and prints the table).
kut_check() {
	local line
	while IFS= read -r line; do
		echo "$line"
		case "$line" in
		"ok - "*"# SKIP"*) SKIPPED=$((SKIPPED + 1)) ;;
		"ok - "*) PASSED=$((PASSED + 1)) ;;
		"not ok - "*) FAILED=$((FAILED + 1)) ;;
		esac
	done < <(python3 tools/kut.py check "$@")
}
# Under VMX: the entries marked vmx there, under Bochs (about 15 s each).
test_kut() { if [ "$1" = vmx ]; then kut_check --vmx; else kut_check; fi; }

# The same guests directly on QEMU TCG: proves the guests themselves.
test_native() {
	local line
	while IFS= read -r line; do
		echo "$line"
		case "$line" in
		"ok - "*) PASSED=$((PASSED + 1)) ;;
		"not ok - "*) FAILED=$((FAILED + 1)) ;;
		esac
	done < <(tests/guests/run-native.sh)
}

# --- the table -------------------------------------------------------------------------

# Parses tests.cfg into parallel arrays, one entry per row: multi-valued
# keys (modules, expect, forbid) are newline-separated.
declare -a T_NAME T_BACKENDS T_MODULES T_EXPECT T_EXPECT_SVM T_EXPECT_VMX T_FORBID T_TIMEOUT T_GROUP \
	T_RUN T_CMDLINE T_CPU
parse_cfg() {
	local line key val n=-1
	while IFS= read -r line || [ -n "$line" ]; do
		case "$line" in '#'* | '') continue ;; esac
		if [[ $line =~ ^\[(.*)\]$ ]]; then
			n=$((n + 1))
			T_NAME[n]=${BASH_REMATCH[1]} T_BACKENDS[n]=svm T_MODULES[n]= T_EXPECT[n]= T_EXPECT_SVM[n]=
			T_EXPECT_VMX[n]= T_FORBID[n]= T_TIMEOUT[n]=120 T_GROUP[n]= T_RUN[n]= T_CMDLINE[n]= T_CPU[n]=max
			continue
		fi
		[[ $line =~ ^([a-z.]+)\ =\ ?(.*)$ ]] || { echo "tests.cfg: bad line: $line" >&2; exit 2; }
		key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]//\$B/$B}
		case $key in
		backends) T_BACKENDS[n]=$val ;;
		modules) T_MODULES[n]+=$val$'\n' ;;
		expect) T_EXPECT[n]+=$val$'\n' ;;
		expect.svm) T_EXPECT_SVM[n]+=$val$'\n' ;;
		expect.vmx) T_EXPECT_VMX[n]+=$val$'\n' ;;
		forbid) T_FORBID[n]+=$val$'\n' ;;
		timeout) T_TIMEOUT[n]=$val ;;
		group) T_GROUP[n]=$val ;;
		run) T_RUN[n]=$val ;;
		cmdline) T_CMDLINE[n]=$val ;;
		cpu) T_CPU[n]=$val ;;
		*) echo "tests.cfg: unknown key '$key' in [${T_NAME[n]}]" >&2; exit 2 ;;
		esac
	done < tests/integration/tests.cfg
}

# Runs row i on backend be: boots Petrel with the row's modules and judges
# the log against its expect and forbid lines, in one result line.
run_row() {
	local i=$1 be=$2 name=${T_NAME[$1]} log=$LOGDIR/$2-${T_NAME[$1]}.txt mods=() re checks why=
	while IFS= read -r re; do [ -n "$re" ] && mods+=("$re"); done <<< "${T_MODULES[i]}"
	if [ "$be" = svm ]; then
		local args=(-cpu "${T_CPU[i]}" -kernel $B/hv.elf)
		[ ${#mods[@]} -gt 0 ] && args+=(-initrd "$(IFS=,; echo "${mods[*]}")")
		[ -n "${T_CMDLINE[i]}" ] && args+=(-append "${T_CMDLINE[i]}")
		qemu_boot "$log" "${T_TIMEOUT[i]}" "${args[@]}"
	else
		local margs=() m
		for m in "${mods[@]}"; do margs+=(--module "$m"); done
		tools/mkiso.sh "$log.iso" $B/hv.elf --cmdline "loglevel=info ${T_CMDLINE[i]}" "${margs[@]}" >/dev/null
		BOCHS_LOG=$log.bochs.log tools/run-bochs.sh "$log.iso" "$log" $((T_TIMEOUT[i] * 5)) "$STOP_RE"
	fi
	local exp=${T_EXPECT[i]}
	[ "$be" = svm ] && exp+=${T_EXPECT_SVM[i]} || exp+=${T_EXPECT_VMX[i]}
	while IFS= read -r re; do
		[ -n "$re" ] && ! grep -aqE -- "$re" "$log" && why="no line matching '$re'" && break
	done <<< "$exp"
	while IFS= read -r re; do
		[ -z "$why" ] && [ -n "$re" ] && grep -aqE -- "$re" "$log" &&
			why="unexpected line matching '$re': $(grep -aE -- "$re" "$log" | head -1)"
	done <<< "${T_FORBID[i]}"
	checks=$(grep -ac '^\[.*\] PASS' "$log")
	name+=$([ "$checks" -gt 0 ] && echo " ($checks checks pass)")
	if [ -z "$why" ]; then pass "$be $name"; else fail "$be $name" "$why (log: $log)"; fi
}

in_list() { [[ ",$2," == *",$1,"* ]]; }

parse_cfg
for i in "${!T_NAME[@]}"; do
	[ -n "${ONLY:-}" ] && ! in_list "${T_NAME[i]}" "$ONLY" && continue
	[ -n "${GROUP:-}" ] && [[ " ${T_GROUP[i]} " != *" $GROUP "* ]] && continue
	for be in ${T_BACKENDS[i]}; do
		[ -n "${GROUP:-}" ] && [ "$GROUP" = quick ] && [ "$be" != svm ] && continue
		[ -n "${BACKENDS:-}" ] && ! in_list "$be" "${BACKENDS// /,}" && continue
		if [ -n "${T_RUN[i]}" ]; then
			"${T_RUN[i]}" "$be"
		else
			run_row "$i" "$be"
		fi
	done
done
echo "integration: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
