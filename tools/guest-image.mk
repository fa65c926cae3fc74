# SPDX-License-Identifier: MIT
# The default Linux guest: Debian's current amd64 kernel and a busybox
# initramfs whose /init prints PETREL-GUEST-READY and gives the console a
# shell (tools/build-guest.sh); and the BIOS disk image of the same kernel
# and userland that firmware boots (tools/mkdisk.sh).  Included from the
# top-level Makefile.
#
#   make guest-image    fetch/build what is missing or stale; otherwise nothing
#
# The script decides what is stale (a new kernel package in apt's lists, a
# changed /init, busybox or script), so the target is phony and cheap.

GUEST_DIR    := $(or $(BUILD),build)/guest
GUEST_KERNEL := $(GUEST_DIR)/vmlinuz
GUEST_INITRD := $(GUEST_DIR)/initrd.gz

.PHONY: guest-image
guest-image:
	BUILD=$(or $(BUILD),build) tools/build-guest.sh
	BUILD=$(or $(BUILD),build) tools/mkdisk.sh
