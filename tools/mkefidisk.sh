#!/bin/sh
# SPDX-License-Identifier: MIT
# Make a FAT disk image (no partition table: UEFI firmware, OVMF included,
# reads a "superfloppy" FAT volume) that boots hv.efi as removable media:
#
#   \EFI\BOOT\BOOTX64.EFI   = HV.EFI   (UEFI 2.10 §3.5.1.1 default boot path)
#   \EFI\BOOT\petrel.cfg    = CFGFILE
#   DEST                    = SRC      for each extra SRC[=DEST] argument
#
# usage: tools/mkefidisk.sh OUT.img HV.EFI CFGFILE [SRC[=DEST]...]
#   DEST is a path from the volume root ('/' or '\'), the one a module2 line
#   in petrel.cfg names; without =DEST the file goes to the root under its
#   own name.  Example:
#   tools/mkefidisk.sh build/efi-disk.img build/hv.efi boot/efi/petrel.cfg \
#       build/guests/cpuid.elf=/guests/cpuid.elf
#
# Uses mtools only: no root, no loop devices, no mounts.
set -eu

die() { echo "mkefidisk: $*" >&2; exit 1; }

[ $# -ge 3 ] || die "usage: $0 OUT.img HV.EFI CFGFILE [SRC[=DEST]...]"
out=$1 efi=$2 cfg=$3
shift 3
for f in "$efi" "$cfg"; do
	[ -f "$f" ] || die "$f: no such file"
done

# mtools checks geometry against a PC floppy/disk table; an image file has none.
export MTOOLS_SKIP_CHECK=1

src_of() { printf '%s\n' "${1%%=*}"; }
dest_of() {
	case $1 in
	*=*) printf '%s\n' "${1#*=}" | tr '\\' '/' ;;
	*) printf '/%s\n' "$(basename "$1")" ;;
	esac
}

# Size: the files, plus a quarter and 2 MiB for FAT metadata; at least 8 MiB.
kib=0
for f in "$efi" "$cfg" "$@"; do
	s=$(src_of "$f")
	[ -f "$s" ] || die "$s: no such file"
	kib=$((kib + ($(stat -c %s "$s") + 1023) / 1024))
done
mib=$(( (kib + kib / 4 + 1023) / 1024 + 2 ))
[ "$mib" -ge 8 ] || mib=8

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
rm -f "$tmp"
truncate -s "${mib}M" "$tmp"
mformat -i "$tmp" -v PETREL ::

# mkdir -p inside the image, one component at a time.
mkdirs() {
	d=
	for part in $(printf '%s\n' "$1" | tr '/' ' '); do
		d="$d/$part"
		mdir -i "$tmp" "::$d" >/dev/null 2>&1 || mmd -i "$tmp" "::$d"
	done
}

put() { # SRC DEST
	mkdirs "$(dirname "$2")"
	mcopy -o -i "$tmp" "$1" "::$2"
}

put "$efi" /EFI/BOOT/BOOTX64.EFI
put "$cfg" /EFI/BOOT/petrel.cfg
for f in "$@"; do
	put "$(src_of "$f")" "$(dest_of "$f")"
done

mv "$tmp" "$out"
trap - EXIT
echo "mkefidisk: $out (${mib} MiB)"
