# SPDX-License-Identifier: MIT
# Sourced by tools/build-guest.sh and tools/bench.sh: the busybox initramfs
# tree both guests start from, and its archive.  Needs $BUSYBOX (the static
# busybox binary).

# busybox_tree DIR: a fresh DIR with static busybox and its applet links.
busybox_tree() {
	local r=$1 a
	rm -rf "$r"
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc}
	cp "$BUSYBOX" "$r/bin/busybox"
	for a in $("$BUSYBOX" --list-full); do
		[ -e "$r/$a" ] || ln -s /bin/busybox "$r/$a"
	done
	chmod 1777 "$r/tmp"
	chmod 700 "$r/root"
}

# cpio_of DIR: a newc cpio of DIR on stdout.  Owned by root in the archive
# whoever builds it; no device nodes needed (the kernel's built-in
# initramfs has /dev/console, and /init mounts devtmpfs).  Sorted names
# and --reproducible: the same tree gives the same bytes.
cpio_of() {
	(cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --reproducible --quiet)
}
