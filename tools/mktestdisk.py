#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds the test disk image, 2048 sectors: the boot sector
(tests/disk/boot_check.asm, assembled) in sector 0, then 256 sectors of a
pattern the boot sector checks (byte i of sector s is (7*s + i) mod 256),
then zeros.  Usage: mktestdisk.py BOOT.bin OUT.img"""
import sys

SECTORS = 256
DISK = 2048


def main():
    boot, out = sys.argv[1], sys.argv[2]
    data = bytearray(open(boot, "rb").read())
    if len(data) != 512 or data[510:] != b"\x55\xaa":
        sys.exit(f"mktestdisk: {boot} is not a 512-byte boot sector")
    for s in range(1, SECTORS + 1):
        data += bytes((7 * s + i) % 256 for i in range(512))
    data += bytes((DISK - SECTORS - 1) * 512)
    open(out, "wb").write(data)


if __name__ == "__main__":
    main()
