#!/usr/bin/env bash
# Installs every Debian package Petrel's build, run and tests need.
# Used by `make deps`, `make run`, `make test` and .ci/run.  Idempotent:
# does nothing when everything is already there.
set -euo pipefail
pkgs=(
	build-essential nasm binutils          # the core
	gnu-efi                                # hv.efi
	grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools   # petrel.iso
	qemu-system-x86 ovmf seabios           # QEMU TCG (SVM); UEFI and BIOS firmware for guests
	gdb                                    # the GDB stub's tests
	bochs bochsbios vgabios                # Bochs (VMX)
	libcmocka-dev                          # host unit tests
	busybox-static cpio                    # guest images
	syslinux syslinux-common dosfstools fdisk e2fsprogs xz-utils   # the disk images (tools/mkdisk.sh)
	python3                                # tools/serial-driver.py, tools/bench-summary.py
)
# `tools/deps.sh fuzz` adds what `make fuzz` needs (libFuzzer comes with
# clang's runtime libraries); plain `make test` does not need them.
[ "${1:-}" = fuzz ] && pkgs+=(clang libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
