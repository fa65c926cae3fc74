#!/usr/bin/env bash
# Checks build/hv.elf has the shape the loaders need:
#  - the multiboot1 header within the first 8 KiB, multiboot2 within 32 KiB;
#  - every PT_LOAD segment's file offset equals its address minus the load
#    address, so QEMU's multiboot1 loader (which copies the file flat from
#    offset 0, using the header's address fields) puts each byte in place;
#  - no segment is both writable and executable.
set -euo pipefail
elf=$1
fail() { echo "check-image: $elf: $*" >&2; exit 1; }

words=$(head -c 32768 "$elf" | od -A d -t x4 -v -w4)
mb1=$(awk '$2=="1badb002"{print $1; exit}' <<<"$words")
mb2=$(awk '$2=="e85250d6"{print $1; exit}' <<<"$words")
[ -n "$mb1" ] && [ "$mb1" -lt 8192 ] || fail "multiboot1 header not in the first 8 KiB"
[ -n "$mb2" ] && [ "$mb2" -lt 32768 ] || fail "multiboot2 header not in the first 32 KiB"

base=
while read -r type off vaddr _paddr _filesz _memsz flags; do
	[ "$type" = LOAD ] || continue
	delta=$(( vaddr - off ))
	[ -n "$base" ] || base=$delta
	[ "$delta" -eq "$base" ] || fail "segment at $vaddr is not at its flat file offset"
	case "$flags" in *W*E*) fail "segment at $vaddr is writable and executable" ;; esac
done < <(readelf -lW "$elf" | awk '$1=="LOAD"{print $1,$2,$3,$4,$5,$6,$7 $8 $9}')
[ -n "$base" ] || fail "no PT_LOAD segments"
