#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: one guest benchmark (tests/bench/guest-bench.c) in the same
# Linux guest, run on this host in up to three configurations:
#
#   native  the guest directly on QEMU TCG:
#             qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nographic
#                 -nic none -no-reboot -kernel build/guest/vmlinuz
#                 -initrd build/bench/initrd.gz -append "console=ttyS0 quiet panic=-1 gbench=..."
#   petrel  the same kernel and initrd under Petrel on QEMU TCG (guest 2 vCPUs on the
#           2 physical CPUs, 768 MiB):
#             qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 2 -display none
#                 -nic none -no-reboot -serial stdio -kernel build/hv.elf -initrd
#                 "build/guest/vmlinuz vm=linux0 mem=768M cpus=2 cmdline=\"...\",build/bench/initrd.gz vm=linux0 role=initrd"
#   fair    two canary test guests (build/guests/canary.elf) spinning under Petrel
#           on the same physical CPU (cpu=0), 10 rounds of 200 ms each: the work
#           each did (its loop count), min / max, in Petrel's column (fair_minmax)
#   disk-native, disk-petrel   SeaBIOS booting the BIOS disk image
#           (tools/mkdisk.sh; its syslinux.cfg's command line made
#           "... petrel.diskbench", in $BB/disk-bench.img) to its shell, then
#           reading the whole virtio disk once (dd after dropping the caches,
#           disk_read), directly on QEMU with QEMU's virtio-blk:
#             qemu-system-x86_64 -accel tcg -cpu max -m 512 -smp 2 -nographic -nic none
#                 -no-reboot -bios /usr/share/seabios/bios.bin
#                 -drive file=$BB/disk-bench.img,if=virtio,format=raw
#           and under Petrel (bios.bin vm=linux0 role=firmware mem=512M cpus=2, the
#           image vm=linux0 role=disk); disk_reset_to_shell: host seconds from the
#           reset (QEMU's start; Petrel's "vm linux0: ..." line) to the shell
#   kvm     (--kvm) the same guest under Linux KVM + QEMU, nested in QEMU TCG:
#             L1 = build/guest/vmlinuz + build/bench/kvm/l1-initrd.cpio (kvm_amd,
#             qemu-system-x86_64 and its libraries) on -accel tcg -cpu max -m 3072 -smp 1;
#             L1's init runs L2 = the native command line with -enable-kvm -cpu host.
#             Without --kvm, the summary compares with the KVM figures recorded in
#             ../shared/anchor-kvm/results.tsv (tag v2), labelled as recorded.
#
# Runs are sequential and interleaved (native, petrel[, kvm]) x REPS.  Every
# serial line is time-stamped on the host as it arrives (QEMU's serial on a
# pipe for every configuration alike: -nographic, or -serial stdio for Petrel
# rather than a file), so "host_to_init" is the wall time
# from starting QEMU to the bench init's first line (BENCH-INIT).  Under
# Petrel the guest's lines arrive as "[linux0] ..."; the run ends when Petrel
# prints "petrel: vm linux0 stopped" (the init ends with poweroff -f, ACPI S5)
# and this script then stops QEMU.
#
# Output (under $BUILD/bench/):
#   results.tsv    raw results of this invocation: config rep metric value unit
#   summary.txt    medians, min-max per metric and configuration, ratios, targets
#   logs/CONFIG-REP.log   time-stamped serial transcript of every run
#
# Usage: tools/bench.sh [--kvm] [--reps N] [--configs LIST] [--no-build]
#   --kvm          also measure KVM+QEMU nested on TCG (downloads the guest
#                  kernel's .deb once for its kvm modules; BENCH_KVM=1 does the same)
#   --reps N       runs per configuration (default 3; BENCH_REPS)
#   --configs L    comma-separated subset of native,petrel,fair,disk-native,disk-petrel,kvm
#   --no-build     use the initrd (and L1 image) already in $BUILD/bench
# Environment: BUILD (default build), QEMU (default qemu-system-x86_64),
#   BENCH_ARGS  guest-bench options, ':'-separated (default -t:250:-m:256)
#   BENCH_WAIT_IDLE  seconds to wait before each run for the host to go quiet
#                    (other processes < 0.3 cores; default 20; 0 = do not wait)
#   BENCH_TIMEOUT    seconds one run may take (default 300)
# Needs: build/hv.elf and build/guest/{vmlinuz,initrd.gz} (make build/hv.elf
# guest-image), gcc with static glibc, busybox-static, cpio, gzip, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
BB=$BUILD/bench
QEMU=${QEMU:-qemu-system-x86_64}
REPS=${BENCH_REPS:-3}
KVM=${BENCH_KVM:-0}
CONFIGS=""
DO_BUILD=1
BENCH_ARGS=${BENCH_ARGS:--t:250:-m:256}
TIMEOUT=${BENCH_TIMEOUT:-300}
WAIT_IDLE=${BENCH_WAIT_IDLE:-20}
APPEND="console=ttyS0 quiet panic=-1 gbench=$BENCH_ARGS"

say() { echo "bench: $*"; }
die() { echo "bench: error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--kvm) KVM=1 ;;
	--reps) REPS=${2:?--reps N}; shift ;;
	--configs) CONFIGS=${2:?--configs LIST}; shift ;;
	--no-build) DO_BUILD=0 ;;
	-h | --help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
	shift
done
[ "$KVM" = 1 ] || KVM=0
[ -n "$CONFIGS" ] || { CONFIGS="native,petrel,fair,disk-native,disk-petrel"; [ "$KVM" = 0 ] || CONFIGS+=",kvm"; }
case ",$CONFIGS," in *,kvm,*) KVM=1 ;; esac
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "--reps: not a positive number: $REPS"
case $BENCH_ARGS in *,* | *' '*) die "BENCH_ARGS: separate options with ':' (no commas or spaces)" ;; esac

for f in "$BUILD/hv.elf" "$BUILD/guest/vmlinuz" "$BUILD/guest/.kernel-stamp"; do
	[ -s "$f" ] || die "$f missing (make build/hv.elf guest-image)"
done
for t in gcc cpio gzip python3 "$QEMU"; do
	command -v "$t" >/dev/null || die "'$t' not found (tools/deps.sh)"
done
BUSYBOX=$(dpkg -L busybox-static 2>/dev/null | grep -m1 '/bin/busybox$' || true)
[ -n "$BUSYBOX" ] && [ -x "$BUSYBOX" ] || die "busybox-static is not installed (tools/deps.sh)"

mkdir -p "$BB/logs"
T_START=$(date +%s)

# ------------------------------------------------------------ guest image
# busybox_tree, cpio_of
. "$(dirname "${BASH_SOURCE[0]}")/initramfs-lib.sh"

build_guest() {
	say "compiling tests/bench/guest-bench.c"
	gcc -static -O2 -pthread -Wall -Wextra -Werror -o "$BB/guest-bench" tests/bench/guest-bench.c
	local r=$BB/.root
	busybox_tree "$r"
	cp "$BB/guest-bench" "$r/bin/guest-bench"
	cat >"$r/init" <<'EOF'
#!/bin/sh
# The bench guest's /init (tools/bench.sh): print the marker first (the host
# time-stamps it: boot-to-init), run guest-bench with the options from
# gbench= on the kernel command line (':'-separated), power off.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
read -r up _ </proc/uptime
echo "BENCH-INIT uptime=$up"
echo "RESULT boot_uptime $up s"
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
args=""
for t in $(cat /proc/cmdline); do
	case $t in gbench=*) args=$(echo "${t#gbench=}" | tr ':' ' ') ;; esac
done
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
echo "BENCH-INFO kernel=$(uname -r) clocksource=$cs hypervisor_flag=$(grep -c -w -m1 hypervisor /proc/cpuinfo) mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) args=$args"
/bin/guest-bench $args
echo "BENCH-END rc=$?"
poweroff -f
EOF
	chmod 755 "$r/init"
	cpio_of "$r" | gzip -6n >"$BB/initrd.gz.tmp"
	mv "$BB/initrd.gz.tmp" "$BB/initrd.gz"
	rm -rf "$r"
	say "initrd $(du -k "$BB/initrd.gz" | cut -f1) KiB -> $BB/initrd.gz"
}

# ------------------------------------------------------------ disk image
# The BIOS disk image with its kernel command line asking for the disk
# benchmark (tools/guest/init, petrel.diskbench): syslinux.cfg replaced
# through mtools on a copy.
build_disk() {
	local img=$BUILD/guest/disk-bios.img cfg=$BB/.syslinux.cfg
	[ -s "$img" ] || die "$img missing (make guest-image)"
	cp "$img" "$BB/disk-bench.img.tmp"
	MTOOLS_SKIP_CHECK=1 mtype -i "$BB/disk-bench.img.tmp@@1M" ::/syslinux.cfg |
		sed 's/ petrel\.disk\b/ petrel.diskbench/' >"$cfg"
	grep -q 'petrel.diskbench' "$cfg" || die "cannot make the bench's syslinux.cfg from $img's"
	MTOOLS_SKIP_CHECK=1 mcopy -o -i "$BB/disk-bench.img.tmp@@1M" "$cfg" ::/syslinux.cfg
	mv "$BB/disk-bench.img.tmp" "$BB/disk-bench.img"
	rm -f "$cfg"
	say "disk image $BB/disk-bench.img"
}

# ------------------------------------------------------------ KVM (L1) image
# add_module NAME: NAME's dependencies, then NAME, from $MD into
# $K/modules (uncompressed), appended to $K/modules/order.
add_module() {
	local name=${1//_/-} f dep
	grep -qx "$name" "$K/modules/order" && return 0
	f=$(find "$MD" \( -name "$name.ko*" -o -name "${name//-/_}.ko*" \) | head -1)
	[ -n "$f" ] || die "kvm: module $name not in the kernel package"
	case $f in
	*.xz) xz -dc "$f" ;; *.zst) zstd -dc "$f" ;; *.gz) gzip -dc "$f" ;; *) cat "$f" ;;
	esac >"$K/modules/$name.ko"
	for dep in $(strings "$K/modules/$name.ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$dep"
	done
	echo "$name" >>"$K/modules/order"
}

# The L1 host: the same Debian kernel, its kvm_amd module and dependencies
# (from the kernel's .deb: build-guest.sh keeps only vmlinuz), QEMU with
# every library ldd names and its data files, and the L2 guest.
build_kvm() {
	local kver pkg
	K=$BB/kvm
	kver=$(cat "$BUILD/guest/kernel-version.txt")
	pkg=$(cat "$BUILD/guest/.kernel-stamp") # "linux-image-X Y"
	mkdir -p "$K"
	if [ "$(cat "$K/modules.stamp" 2>/dev/null)" != "$pkg" ]; then
		say "kvm: fetching $pkg for its kvm modules"
		local tmp=$K/.deb sandbox=()
		rm -rf "$tmp" "$K/modules"
		mkdir -p "$tmp/x" "$K/modules"
		[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
		(cd "$tmp" && apt-get download -q "${sandbox[@]}" "${pkg% *}=${pkg#* }") ||
			die "apt-get download ${pkg% *}=${pkg#* } failed (network? apt-get update?)"
		dpkg-deb -x "$tmp"/*.deb "$tmp/x"
		# kvm-amd and what it depends on (the .deb has no modules.dep: read
		# each module's own depends= in .modinfo), dependencies first
		MD=$tmp/x/lib/modules/$kver/kernel
		: >"$K/modules/order"
		add_module kvm-amd
		rm -rf "$tmp"
		echo "$pkg" >"$K/modules.stamp"
		say "kvm: modules $(tr '\n' ' ' <"$K/modules/order")"
	fi
	local r=$K/.root q lib d
	busybox_tree "$r"
	mkdir -p "$r/kvm" "$r/l2"
	cp "$K"/modules/*.ko "$K/modules/order" "$r/kvm/"
	cp "$BUILD/guest/vmlinuz" "$r/l2/vmlinuz"
	cp "$BB/initrd.gz" "$r/l2/initrd.gz"
	echo "$APPEND" >"$r/l2/append"
	q=$(command -v "$QEMU")
	cp "$q" "$r/usr/bin/qemu-system-x86_64"
	for lib in $(ldd "$q" | grep -o '/[^ ]*'); do
		mkdir -p "$r$(dirname "$lib")"
		cp -L "$lib" "$r$lib"
	done
	for d in /usr/lib/x86_64-linux-gnu/qemu /usr/share/qemu /usr/share/seabios; do
		[ -d "$d" ] && mkdir -p "$r$d" && cp -a "$d/." "$r$d/"
	done
	cat >"$r/init" <<'EOF'
#!/bin/sh
# L1 (tools/bench.sh --kvm): load kvm_amd, run the bench guest under KVM.
export PATH=/usr/bin:/bin:/sbin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
for m in $(cat /kvm/order); do insmod /kvm/$m.ko || echo "KVM-L1 insmod $m failed"; done
echo "KVM-L1 kvm_amd: npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) nested=$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null) nrips=$(cat /sys/module/kvm_amd/parameters/nrips 2>/dev/null)"
[ -c /dev/kvm ] || { echo "KVM-L1 no /dev/kvm"; poweroff -f; }
echo "KVM-L2-START"
qemu-system-x86_64 -enable-kvm -cpu host -m 1024 -smp 1 -nographic -nic none -no-reboot \
	-kernel /l2/vmlinuz -initrd /l2/initrd.gz -append "$(cat /l2/append)" </dev/null
echo "KVM-L2-EXIT rc=$?"
poweroff -f
EOF
	chmod 755 "$r/init"
	cpio_of "$r" >"$K/l1-initrd.cpio.tmp" # not compressed: TCG gunzips slowly
	mv "$K/l1-initrd.cpio.tmp" "$K/l1-initrd.cpio"
	rm -rf "$r"
	say "kvm: L1 initrd $(du -m "$K/l1-initrd.cpio" | cut -f1) MiB -> $K/l1-initrd.cpio"
}

DISK=0
case ",$CONFIGS," in *,disk-*) DISK=1 ;; esac
if [ "$DO_BUILD" = 1 ]; then
	build_guest
	[ "$DISK" = 0 ] || build_disk
	[ "$KVM" = 0 ] || build_kvm
fi
[ "$DISK" = 0 ] || [ -s "$BB/disk-bench.img" ] || die "$BB/disk-bench.img missing (run without --no-build)"
[ -s "$BB/initrd.gz" ] || die "$BB/initrd.gz missing (run without --no-build)"
[ "$KVM" = 0 ] || [ -s "$BB/kvm/l1-initrd.cpio" ] || die "$BB/kvm/l1-initrd.cpio missing"

# ------------------------------------------------------------ one run
# stamp LOG TIMEOUT STOP_REGEX WAIT_IDLE CALIBRATE -- COMMAND...: wait (up
# to WAIT_IDLE s) for a quiet host, run CALIBRATE (guest-bench's compute loop,
# on the host: how fast the host is just now), start COMMAND with its output on a pipe, write every line to LOG
# prefixed with host seconds since the start, stop COMMAND once a line matches
# STOP_REGEX (1 s later, so that it can print what follows) or after TIMEOUT
# s, and end LOG with a "#### run" line: wall time (to the STOP_REGEX line
# where there is one), QEMU's CPU time, the other processes' load on the
# host, the CPU time the machine under this host took (steal), the idle wait,
# the calibration loop's time.
STAMP_PY='
import os, re, signal, subprocess, sys, threading, time
log, timeout, stop, wait_idle, calib = sys.argv[1], float(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
cmd = sys.argv[7:]
hz = os.sysconf("SC_CLK_TCK")
def stat():
    with open("/proc/stat") as f:  # user nice system idle iowait irq softirq steal
        return [int(x) for x in f.readline().split()[1:9]]
def busy():
    v = stat()
    return (sum(v) - v[3] - v[4] - v[7]) / hz  # CPU seconds not idle, waiting or stolen
waited = 0.0
while waited < wait_idle:
    b = busy(); time.sleep(2); load = (busy() - b) / 2
    if load < 0.3:
        break
    waited += 2
calib_ms = "NA"
if calib:  # how fast is the host right now: the compute loop, run here
    m = re.search(rb"RESULT compute (\S+) ms", subprocess.run(calib.split(), stdout=subprocess.PIPE).stdout)
    calib_ms = m.group(1).decode() if m else "NA"
stop_re = re.compile(stop.encode()) if stop else None
csi = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1bc|\r")
b0, s0, t0 = busy(), stat()[7], time.monotonic()
p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
how, t_end, later = ["exit"], None, None
def expire():
    how[0] = "timeout"
    p.kill()
timer = threading.Timer(timeout, expire); timer.daemon = True; timer.start()
with open(log, "w", encoding="utf-8") as out:
    for raw in iter(p.stdout.readline, b""):
        t = time.monotonic() - t0
        out.write("%9.3f %s\n" % (t, csi.sub(b"", raw.rstrip(b"\n")).decode("utf-8", "replace")))
        out.flush()
        if stop_re is not None and how[0] == "exit" and stop_re.search(raw):
            # the guest is off; let the hypervisor print its exit statistics
            how[0], t_end = "marker", t
            later = threading.Timer(1.0, p.send_signal, (signal.SIGTERM,))
            later.daemon = True; later.start()
    _, status, ru = os.wait4(p.pid, 0)
    timer.cancel()
    if later is not None:
        later.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    # wall: until QEMU exited, or until the stop line when this script stopped it
    full = time.monotonic() - t0
    wall = t_end if how[0] == "marker" else full
    cpu = ru.ru_utime + ru.ru_stime
    other = max(0.0, (busy() - b0 - cpu) / full)
    steal = (stat()[7] - s0) / hz / full
    out.write("#### run wall=%.3f qemu_cpu=%.3f other_load=%.2f steal=%.2f idle_wait=%.0f calib_ms=%s end=%s rc=%d\n"
              % (wall, cpu, other, steal, waited, calib_ms, how[0], p.returncode))
'

run_one() {
	local cfg=$1 rep=$2 log=$BB/logs/$1-$2.log stop="" cmd
	case $cfg in
	native)
		cmd=("$QEMU" -accel tcg -cpu max -m 1024 -smp 2 -nographic -nic none -no-reboot
			-kernel "$BUILD/guest/vmlinuz" -initrd "$BB/initrd.gz" -append "$APPEND") ;;
	petrel)
		stop='petrel: vm linux0 stopped'
		cmd=("$QEMU" -accel tcg -cpu max -m 2048 -smp 2 -display none -nic none -no-reboot
			-serial stdio -kernel "$BUILD/hv.elf"
			-initrd "$BUILD/guest/vmlinuz vm=linux0 mem=768M cpus=2 cmdline=\"$APPEND\",$BB/initrd.gz vm=linux0 role=initrd") ;;
	fair)
		stop='petrel: all VMs stopped'
		cmd=("$QEMU" -accel tcg -cpu max -m 1024 -smp 2 -display none -nic none -no-reboot
			-serial stdio -kernel "$BUILD/hv.elf"
			-initrd "$BUILD/guests/canary.elf vm=fa cpu=0 cmdline=\"seed=1 rounds=10 busy_ms=200\",$BUILD/guests/canary.elf vm=fb cpu=0 cmdline=\"seed=2 rounds=10 busy_ms=200\"") ;;
	disk-native)
		cmd=("$QEMU" -accel tcg -cpu max -m 512 -smp 2 -nographic -nic none -no-reboot
			-bios /usr/share/seabios/bios.bin -drive "file=$BB/disk-bench.img,if=virtio,format=raw") ;;
	disk-petrel)
		stop='petrel: vm linux0 stopped'
		cmd=("$QEMU" -accel tcg -cpu max -m 2048 -smp 2 -display none -nic none -no-reboot
			-serial stdio -kernel "$BUILD/hv.elf"
			-initrd "/usr/share/seabios/bios.bin vm=linux0 role=firmware mem=512M cpus=2,$BB/disk-bench.img vm=linux0 role=disk") ;;
	kvm)
		cmd=("$QEMU" -accel tcg -cpu max -m 3072 -smp 1 -nographic -nic none -no-reboot
			-kernel "$BUILD/guest/vmlinuz" -initrd "$BB/kvm/l1-initrd.cpio"
			-append "console=ttyS0 quiet panic=-1") ;;
	*) die "unknown configuration $cfg" ;;
	esac
	printf '%s\n' "${cmd[*]}" >"$BB/logs/$cfg.cmdline"
	python3 -c "$STAMP_PY" "$log" "$TIMEOUT" "$stop" "$WAIT_IDLE" "$BB/guest-bench -C" -- "${cmd[@]}"
	python3 tools/bench-summary.py collect "$cfg" "$rep" "$log" >>"$BB/results.tsv"
	say "$cfg $rep: $(tail -1 "$log" | cut -c6-) -> $log"
	[ "$cfg" = fair ] || grep -q 'RESULT done' "$log" || echo "bench: warning: $cfg run $rep did not finish (see $log)" >&2
	return 0
}

printf 'config\trep\tmetric\tvalue\tunit\n' >"$BB/results.tsv"
IFS=, read -r -a CFGS <<<"$CONFIGS"
say "configurations: ${CFGS[*]}; $REPS runs each, interleaved; guest options: $BENCH_ARGS"
for rep in $(seq 1 "$REPS"); do
	for cfg in "${CFGS[@]}"; do
		run_one "$cfg" "$rep"
	done
done

extra=()
[ "$KVM" = 1 ] || extra=(--recorded-kvm ../shared/anchor-kvm/results.tsv)
python3 tools/bench-summary.py summary "$BB/results.tsv" "${extra[@]}" \
	--elapsed $(($(date +%s) - T_START)) >"$BB/summary.txt"
cat "$BB/summary.txt"
say "raw results: $BB/results.tsv  table: $BB/summary.txt  logs: $BB/logs/"
