#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make run`: boots build/petrel.iso under QEMU TCG -cpu max (AMD SVM with
# NPT) with the serial console on this terminal.  Leave with Ctrl-A x.
# PETREL_FIRMWARE=efi boots it through OVMF and EFI GRUB instead of BIOS.
# Three CPUs: the ISO's `cpu0=host` keeps CPU 0 for Petrel (Makefile), the
# guest's two vCPUs get CPUs 1 and 2.
set -euo pipefail
cd "$(dirname "$0")/.."
args=(-accel tcg -cpu max -m 2048 -smp 3 -nographic -nic none -no-reboot
	-cdrom build/petrel.iso)
[ "${PETREL_FIRMWARE:-bios}" = efi ] && args+=(-bios /usr/share/ovmf/OVMF.fd)
echo "run: qemu-system-x86_64 ${args[*]}   (leave with Ctrl-A x)"
exec qemu-system-x86_64 "${args[@]}"
