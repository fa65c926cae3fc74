#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds Petrel's default Linux guest into build/guest/ (or $BUILD/guest/):
#
#   vmlinuz              Debian's current amd64 kernel (bzImage), the one the
#                        linux-image-amd64 metapackage depends on
#   initrd.gz            gzip'd newc cpio: static busybox + /init (below) +
#                        /bin/smpwork (tools/smpwork.c)
#   kernel-version.txt   the kernel's release, e.g. 6.1.0-56-amd64
#   kernel-config        that kernel's .config, for reference
#   modules/             the kernel modules a root on a virtio disk needs
#                        (Debian builds virtio-blk, virtio-pci and ext4 as
#                        modules) with their dependencies, and load-order,
#                        the order to insmod them in (tools/mkdisk.sh)
#
# Cached: the kernel is fetched again only when the package apt resolves
# changes (after an `apt-get update` that brings a new one); the initrd is
# rebuilt only when /init, busybox or this script change.  A run with
# everything current prints what it has and does nothing else.
#
# Environment:
#   BUILD=dir                 build directory (default: <repo>/build)
#   PETREL_GUEST_KERNEL=x     a kernel package name (linux-image-6.1.0-56-amd64)
#                             or a path to a linux-image-*.deb, instead of the
#                             metapackage's current dependency
#   PETREL_GUEST_INIT=file    use this file as /init instead of the default
#
# Needs (tools/deps.sh installs them): busybox-static, cpio, gzip, xz, apt, dpkg, binutils,
# a C compiler with static glibc (build-essential).
# No kernel modules go into the initramfs: Debian builds in everything a
# serial console needs (8250 + its console, ACPI, PNP, devtmpfs, gzip initrd).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
OUT=$BUILD/guest
META=linux-image-amd64

say() { echo "guest: $*"; }
die() { echo "guest: error: $*" >&2; exit 1; }

for t in apt-get apt-cache dpkg-deb cpio gzip sha256sum flock objcopy xz; do
	command -v "$t" >/dev/null || die "'$t' not found (run tools/deps.sh or make deps)"
done
LIB=$(dirname "${BASH_SOURCE[0]}")/initramfs-lib.sh
. "$LIB" # busybox_tree, cpio_of
# busybox must be the static one (busybox-static), not Debian's dynamic busybox
BUSYBOX=$(dpkg -L busybox-static 2>/dev/null | grep -m1 '/bin/busybox$' || true)
[ -n "$BUSYBOX" ] && [ -x "$BUSYBOX" ] ||
	die "busybox-static is not installed (run tools/deps.sh or make deps)"

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9 # one build at a time (parallel make, two test runs)
# whatever happens, leave no half-made files behind
trap 'rm -rf "$OUT/.kernel-tmp" "$OUT/.initrd-root" "$OUT/vmlinuz.tmp" "$OUT/initrd.gz.tmp"' EXIT

# ------------------------------------------------------------------ /init
# The default /init, tools/guest/init: what every Linux guest test boots
# (and, as /sbin/init, the root file system of the disk images too).
DEFAULT_INIT=$(cat "$ROOT/tools/guest/init")
if [ -n "${PETREL_GUEST_INIT:-}" ]; then
	[ -r "$PETREL_GUEST_INIT" ] || die "PETREL_GUEST_INIT: cannot read $PETREL_GUEST_INIT"
	INIT_TEXT=$(cat "$PETREL_GUEST_INIT")
else
	INIT_TEXT=$DEFAULT_INIT
fi

# ------------------------------------------------------------------ kernel
# The modules a root file system on a virtio disk needs, DISK_MODULES and
# what modules.dep says they depend on, copied (uncompressed) from the
# package's tree $1 to $2, with $2/load-order listing them dependencies
# first.
DISK_MODULES="virtio_pci virtio_blk ext4 crc32c_generic"
keep_modules() {
	local tree=$1 out=$2 seen=" " m
	rm -rf "$out.tmp"
	mkdir -p "$out.tmp"
	# a module's dependencies are in its .modinfo section ("depends=a,b"):
	# read there, so no depmod (and no modules.dep, which packages lack)
	visit() {
		local name=$1 f ko deps d
		case "$seen" in *" $name "*) return ;; esac
		seen="$seen$name "
		f=$(find "$tree" \( -name "$name.ko" -o -name "$name.ko.*" -o -name "${name//_/-}.ko" -o -name "${name//_/-}.ko.*" \) | head -1)
		[ -n "$f" ] || die "the kernel has no module $name (built in? see kernel-config)"
		ko=$out.tmp/$(basename "${f%.ko*}").ko
		case "$f" in
		*.ko) cp "$f" "$ko" ;;
		*.ko.xz) xz -dc "$f" >"$ko" ;;
		*.ko.zst) zstd -qdc "$f" >"$ko" ;;
		*.ko.gz) gzip -dc "$f" >"$ko" ;;
		esac
		deps=$(objcopy -O binary --only-section=.modinfo "$ko" /dev/stdout | tr '\0' '\n' | sed -n 's/^depends=//p')
		for d in ${deps//,/ }; do visit "$d"; done
		basename "$ko" >>"$out.tmp/load-order" # after what it depends on
	}
	for m in $DISK_MODULES; do visit "$m"; done
	rm -rf "$out"
	mv "$out.tmp" "$out"
	say "modules for a virtio disk root: $(tr '\n' ' ' <"$out/load-order")"
}

# Which package (and version) is current?  Everything here reads apt's local
# lists; only the download below uses the network.
KDEB=""
KPKG=""
KPKGVER=""
if [ -n "${PETREL_GUEST_KERNEL:-}" ] && [ -f "$PETREL_GUEST_KERNEL" ]; then
	KDEB=$(cd "$(dirname "$PETREL_GUEST_KERNEL")" && pwd)/$(basename "$PETREL_GUEST_KERNEL")
	KPKG=$(dpkg-deb -f "$KDEB" Package) || die "$KDEB: not a .deb"
	KPKGVER=$(dpkg-deb -f "$KDEB" Version)
elif [ -n "${PETREL_GUEST_KERNEL:-}" ]; then
	KPKG=$PETREL_GUEST_KERNEL
	KPKGVER=$(apt-cache policy "$KPKG" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$KPKGVER" ] && [ "$KPKGVER" != "(none)" ] ||
		die "apt knows no package $KPKG (PETREL_GUEST_KERNEL; apt-get update?)"
else
	metaver=$(apt-cache policy "$META" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	if [ -n "$metaver" ] && [ "$metaver" != "(none)" ]; then
		# "Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)"
		dep=$(apt-cache show "$META=$metaver" 2>/dev/null | sed -n 's/^Depends: //p' | head -1 |
			tr ',' '\n' | grep -m1 -E '^ *linux-image-[0-9][^ ]*-amd64( |$)' || true)
		KPKG=$(echo "$dep" | awk '{print $1}')
		KPKGVER=$(echo "$dep" | sed -n 's/.*(= *\([^)]*\)).*/\1/p')
		[ -n "$KPKG" ] || die "cannot find a linux-image-*-amd64 in $META $metaver's Depends"
		[ -n "$KPKGVER" ] || KPKGVER=$(apt-cache policy "$KPKG" | sed -n 's/^ *Candidate: //p')
	fi
fi

kstamp="$KPKG $KPKGVER"
if [ -z "$KPKG" ]; then
	# apt cannot tell (no package lists here): keep a kernel we already have
	[ -s "$OUT/vmlinuz" ] && [ -s "$OUT/kernel-version.txt" ] && [ -s "$OUT/.kernel-stamp" ] ||
		die "apt has no candidate for $META and no kernel is cached in $OUT; run 'apt-get update' (Debian's package lists are needed)"
	say "apt has no candidate for $META; keeping the cached kernel ($(cat "$OUT/.kernel-stamp"))"
elif [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/kernel-version.txt" ] && [ -s "$OUT/modules/load-order" ] &&
	[ "$(cat "$OUT/.kernel-stamp" 2>/dev/null)" = "$kstamp" ]; then
	say "kernel $(cat "$OUT/kernel-version.txt") ($kstamp) is current"
else
	say "kernel: $kstamp${KDEB:+ from $KDEB}"
	tmp=$OUT/.kernel-tmp
	rm -rf "$tmp"
	mkdir -p "$tmp/deb" "$tmp/x"
	NEWDEB=$KDEB
	if [ -z "$KDEB" ]; then
		# as root, apt would otherwise complain that user _apt cannot write here
		sandbox=()
		[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
		if ! (cd "$tmp/deb" && apt-get download -q "${sandbox[@]}" "$KPKG=$KPKGVER"); then
			msg="apt-get download $KPKG=$KPKGVER failed (network? apt-get update?)"
			[ -s "$OUT/vmlinuz" ] && [ -s "$OUT/.kernel-stamp" ] || die "$msg"
			# a test run should not fail for a kernel update it cannot fetch
			echo "guest: warning: $msg; keeping the cached kernel ($(cat "$OUT/.kernel-stamp"))" >&2
		else
			NEWDEB=$(ls "$tmp"/deb/*.deb 2>/dev/null | head -1)
			[ -n "$NEWDEB" ] || die "apt-get download $KPKG left no .deb"
		fi
	fi
fi
if [ -n "${NEWDEB:-}" ]; then
	dpkg-deb -x "$NEWDEB" "$tmp/x" || die "dpkg-deb -x $NEWDEB failed"
	vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-* 2>/dev/null | head -1)
	[ -n "$vmlinuz" ] || die "$NEWDEB has no boot/vmlinuz-*"
	kver=${vmlinuz##*/vmlinuz-}
	cp "$vmlinuz" "$OUT/vmlinuz.tmp"
	cp "$tmp/x/boot/config-$kver" "$OUT/kernel-config" 2>/dev/null || true
	keep_modules "$tmp/x/lib/modules/$kver" "$OUT/modules"
	mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
	echo "$kver" >"$OUT/kernel-version.txt"
	echo "$kstamp" >"$OUT/.kernel-stamp"
	rm -rf "$tmp" # the download and its 400 MB of modules are not kept
	say "kernel $kver -> $OUT/vmlinuz"
fi

# ------------------------------------------------------------------ initrd
SMPWORK=$ROOT/tools/smpwork.c # the SMP workloads of the tests and benchmarks: /bin/smpwork
istamp=$( { printf '%s\n' "$INIT_TEXT"; sha256sum <"$BUSYBOX"; sha256sum <"${BASH_SOURCE[0]}";
	sha256sum <"$LIB"; sha256sum <"$SMPWORK"; } |
	sha256sum | cut -d' ' -f1)
if [ -s "$OUT/initrd.gz" ] && [ "$(cat "$OUT/.initrd-stamp" 2>/dev/null)" = "$istamp" ]; then
	say "initrd $OUT/initrd.gz is current"
else
	say "building $OUT/initrd.gz"
	r=$OUT/.initrd-root
	busybox_tree "$r"
	printf '%s\n' "$INIT_TEXT" >"$r/init"
	chmod 755 "$r/init"
	${CC:-cc} -static -O2 -pthread -o "$r/bin/smpwork" "$SMPWORK" || die "cannot build $SMPWORK (a static glibc: build-essential)"
	strip "$r/bin/smpwork"
	# Fixed times and gzip -n: the same input gives the same bytes.
	find "$r" -exec touch -h -d @0 {} +
	cpio_of "$r" | gzip -9n >"$OUT/initrd.gz.tmp" || die "cpio/gzip failed"
	mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
	echo "$istamp" >"$OUT/.initrd-stamp"
	rm -rf "$r"
	say "initrd $(du -k "$OUT/initrd.gz" | cut -f1) KiB -> $OUT/initrd.gz"
fi
