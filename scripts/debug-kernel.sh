#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build, once, the debug kernel `make check-debug` boots: Debian's
# linux-source-6.12 on allnoconfig plus scripts/debug-kernel/xhp-debug.config
# (everything the test VM needs built in; lockdep, KASAN, kmemleak,
# DEBUG_VM on). Cached in build/debug-kernel/; rebuilt only when the
# fragment's content or the source package changes (the stamp records
# both: a fresh clone's checkout time says nothing). Prints the tree's path.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
dir=$repo/build/debug-kernel
src=$dir/linux-source-6.12
tarball=/usr/src/linux-source-6.12.tar.xz
frag=$repo/scripts/debug-kernel/xhp-debug.config
stamp=$dir/built.stamp

want="$(sha256sum <"$frag" | cut -d' ' -f1) $(stat -c '%s %Y' "$tarball" 2>/dev/null || echo no-package)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	echo "$src"
	exit 0
fi
mkdir -p "$dir"
if [ ! -f "$src/Makefile" ]; then
	echo "debug-kernel: unpacking $tarball" >&2
	tar -xJf "$tarball" -C "$dir"
fi
# A build that fails from here on must not leave a stamp that matches.
rm -f "$stamp"
echo "debug-kernel: configuring" >&2
make -s -C "$src" KCONFIG_ALLCONFIG="$frag" allnoconfig >&2
# Kconfig silently drops an option whose dependencies are unmet: say so.
lost=0
while IFS= read -r line; do
	case $line in CONFIG_*=*) ;; *) continue ;; esac
	opt=${line%%=*} val=${line#*=}
	if [ "$val" = n ]; then
		grep -q "^$opt=" "$src/.config" && { echo "debug-kernel: $opt is on, wanted off" >&2; lost=1; }
	elif ! grep -qxF "$line" "$src/.config"; then
		echo "debug-kernel: $line did not take: $(grep "^$opt=\|^# $opt " "$src/.config" || echo absent)" >&2
		lost=1
	fi
done <"$frag"
[ $lost -eq 0 ] || { echo "debug-kernel: fix $frag" >&2; exit 1; }
echo "debug-kernel: building (an hour or more on two cores)" >&2
nice -n 19 make -s -C "$src" -j"$(nproc)" >&2
echo "$want" >"$stamp"
echo "$src"
