#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the disk images firmware boots under Petrel, from the default
# guest's Debian kernel and busybox (tools/build-guest.sh), with no root
# rights and no loop devices:
#
#   $BUILD/guest/disk-bios.img   65 MiB, an MBR partition table (sfdisk)
#                                with syslinux's MBR boot code;
#       partition 1  16 MiB FAT16, active: syslinux (its mtools installer),
#                    syslinux.cfg, vmlinuz, initrd.gz (the one below)
#       partition 2  48 MiB ext4 made by `mke2fs -d`: busybox, /sbin/init
#                    (tools/guest/init), /bin/smpwork, and /data/big.bin,
#                    8 MiB of random bytes, with its sha256 in big.sha256
#   $BUILD/guest/disk-uefi.img   66 MiB, a GPT (sfdisk);
#       partition 1  16 MiB EFI system partition, FAT16: GRUB as
#                    /EFI/BOOT/BOOTX64.EFI (grub-mkstandalone, its grub.cfg
#                    built in), vmlinuz, initrd.gz
#       partition 2  the same ext4 root
#   $BUILD/guest/initrd-disk.gz  the initramfs of a disk boot: busybox, the
#                    virtio and ext4 modules (build-guest.sh keeps them),
#                    an /init that loads them, mounts root= and switches
#                    to it
#
# The kernel's command line (syslinux.cfg, grub.cfg) is
#   console=ttyS0 quiet panic=-1 root=/dev/vda2 petrel.disk
# petrel.disk makes /sbin/init check the disk (read and write) before its
# shell.  Cached: rebuilt when an input changes.
#
# Needs (tools/deps.sh): syslinux, syslinux-common, mtools, dosfstools,
# fdisk (sfdisk), e2fsprogs, grub-common and grub-efi-amd64-bin,
# busybox-static, cpio, gzip.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
G=$BUILD/guest
IMG=$G/disk-bios.img
UIMG=$G/disk-uefi.img
IRD=$G/initrd-disk.gz
CMDLINE="console=ttyS0 quiet panic=-1 root=/dev/vda2 petrel.disk"
MBR=/usr/lib/syslinux/mbr/mbr.bin

say() { echo "mkdisk: $*"; }
die() { echo "mkdisk: error: $*" >&2; exit 1; }

for t in sfdisk mkfs.fat mcopy mmd syslinux mke2fs grub-mkstandalone cpio gzip sha256sum; do
	command -v "$t" >/dev/null || die "'$t' not found (run tools/deps.sh or make deps)"
done
[ -r "$MBR" ] || die "$MBR missing (syslinux-common)"
[ -s "$G/vmlinuz" ] && [ -s "$G/modules/load-order" ] ||
	die "no guest kernel or modules in $G (run tools/build-guest.sh)"
BUSYBOX=$(dpkg -L busybox-static 2>/dev/null | grep -m1 '/bin/busybox$' || true)
[ -n "$BUSYBOX" ] || die "busybox-static is not installed"
. "$ROOT/tools/initramfs-lib.sh" # busybox_tree, cpio_of

exec 9>"$G/.disk-lock"
flock 9
stamp=$( { sha256sum "${BASH_SOURCE[0]}" "$ROOT/tools/guest/init" "$ROOT/tools/initramfs-lib.sh" \
	"$ROOT/tools/smpwork.c" "$BUSYBOX" "$G/vmlinuz" "$G/modules/load-order" "$MBR"; } | sha256sum | cut -d' ' -f1)
if [ -s "$IMG" ] && [ -s "$UIMG" ] && [ -s "$IRD" ] && [ "$(cat "$G/.disk-stamp" 2>/dev/null)" = "$stamp" ]; then
	say "$IMG and $UIMG are current"
	exit 0
fi
T=$G/.disk-tmp
rm -rf "$T"
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT

# --- the initramfs: load the modules, mount root=, switch to it
busybox_tree "$T/ird"
mkdir -p "$T/ird/lib/modules" "$T/ird/newroot"
cp "$G"/modules/*.ko "$G/modules/load-order" "$T/ird/lib/modules/"
cat >"$T/ird/init" <<'INIT'
#!/bin/sh
# The initramfs of Petrel's disk images (tools/mkdisk.sh): load the
# modules a root on a virtio disk needs, mount root= and switch to it.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/load-order); do
	insmod "/lib/modules/$m" || echo "initramfs: insmod $m failed"
done
root=$(sed -n 's/.*root=\([^ ]*\).*/\1/p' /proc/cmdline)
n=0
while [ ! -b "$root" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
if [ -b "$root" ] && mount -t ext4 "$root" /newroot; then
	umount /proc
	umount /dev
	exec switch_root /newroot /sbin/init
fi
echo "initramfs: cannot mount the root file system '$root'"
ls /dev/vd* 2>&1
exec sh
INIT
chmod 755 "$T/ird/init"
find "$T/ird" -exec touch -h -d @0 {} +
cpio_of "$T/ird" | gzip -9n >"$T/initrd.gz"

# --- partition 2: the root file system
busybox_tree "$T/root"
mkdir -p "$T/root/data" "$T/root/lib/modules"
rm -f "$T/root/sbin/init" # busybox's link, to an absolute path: not through it
cp "$ROOT/tools/guest/init" "$T/root/sbin/init"
chmod 755 "$T/root/sbin/init"
${CC:-cc} -static -O2 -pthread -o "$T/root/bin/smpwork" "$ROOT/tools/smpwork.c" || die "cannot build smpwork"
strip "$T/root/bin/smpwork"
head -c $((8 << 20)) /dev/urandom >"$T/root/data/big.bin"
sha256sum "$T/root/data/big.bin" | cut -d' ' -f1 >"$T/root/data/big.sha256"
mke2fs -q -F -t ext4 -L petrel-root -E root_owner=0:0 -d "$T/root" "$T/root.ext4" 48M >/dev/null ||
	die "mke2fs -d failed"

# --- partition 1: syslinux on FAT16
cat >"$T/syslinux.cfg" <<CFG
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT linux
LABEL linux
	KERNEL /vmlinuz
	INITRD /initrd.gz
	APPEND $CMDLINE
CFG
P1=2048 P1_SECTORS=32768 P2=34816 P2_SECTORS=98304
truncate -s $(((P2 + P2_SECTORS) * 512)) "$T/disk.img"
sfdisk -q "$T/disk.img" <<PART
label: dos
start=$P1, size=$P1_SECTORS, type=6, bootable
start=$P2, size=$P2_SECTORS, type=83
PART
mkfs.fat -F 16 -n PETRELBOOT --offset $P1 -h $P1 "$T/disk.img" $((P1_SECTORS / 2)) >/dev/null 2>&1 ||
	die "mkfs.fat failed"
MTOOLS_SKIP_CHECK=1 mcopy -i "$T/disk.img@@$((P1 * 512))" "$G/vmlinuz" "$T/initrd.gz" "$T/syslinux.cfg" ::/
syslinux --install --offset $((P1 * 512)) "$T/disk.img" || die "syslinux --install failed"
dd if="$MBR" of="$T/disk.img" bs=440 count=1 conv=notrunc status=none
dd if="$T/root.ext4" of="$T/disk.img" bs=512 seek=$P2 conv=notrunc status=none

# --- the UEFI image: GPT, an EFI system partition with GRUB, the same root
cat >"$T/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
search --no-floppy --set=root --file /vmlinuz
linux /vmlinuz $CMDLINE
initrd /initrd.gz
boot
CFG
grub-mkstandalone -O x86_64-efi -o "$T/BOOTX64.EFI" --locales= --fonts= --themes= \
	--install-modules="linux normal search search_fs_file fat part_gpt serial terminal echo boot configfile" \
	--modules="part_gpt fat" "boot/grub/grub.cfg=$T/grub.cfg" || die "grub-mkstandalone failed"
truncate -s $(((P2 + P2_SECTORS + 2048) * 512)) "$T/uefi.img" # room for the backup GPT
sfdisk -q "$T/uefi.img" <<PART
label: gpt
start=$P1, size=$P1_SECTORS, type=C12A7328-F81F-11D2-BA4B-00A0C93EC3B8, name="EFI system"
start=$P2, size=$P2_SECTORS, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
PART
mkfs.fat -F 16 -n PETRELEFI --offset $P1 -h $P1 "$T/uefi.img" $((P1_SECTORS / 2)) >/dev/null 2>&1 ||
	die "mkfs.fat failed"
ESP="$T/uefi.img@@$((P1 * 512))"
MTOOLS_SKIP_CHECK=1 mmd -i "$ESP" ::/EFI ::/EFI/BOOT
MTOOLS_SKIP_CHECK=1 mcopy -i "$ESP" "$T/BOOTX64.EFI" ::/EFI/BOOT/
MTOOLS_SKIP_CHECK=1 mcopy -i "$ESP" "$G/vmlinuz" "$T/initrd.gz" ::/
dd if="$T/root.ext4" of="$T/uefi.img" bs=512 seek=$P2 conv=notrunc status=none

mv "$T/initrd.gz" "$IRD"
mv "$T/disk.img" "$IMG"
mv "$T/uefi.img" "$UIMG"
echo "$stamp" >"$G/.disk-stamp"
say "$IMG ($(($(stat -c %s "$IMG") >> 20)) MiB), $UIMG ($(($(stat -c %s "$UIMG") >> 20)) MiB), $IRD ($(du -k "$IRD" | cut -f1) KiB)"
