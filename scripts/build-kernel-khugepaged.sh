#!/bin/bash
# Build the kernel's own mm selftest `khugepaged` from Debian's
# linux-source-SERIES package into build/kselftest-mm-SERIES/, to check that
# tools written for /sys/kernel/mm/transparent_hugepage work against
# xhugepaged's mirror; selftests/xhp_kernel_compat.sh runs the one for the
# series of the kernel it runs on. Build-time only: nothing from the kernel
# tree enters the repo.
# Usage: scripts/build-kernel-khugepaged.sh [SERIES...]
#   SERIES: 6.1, 6.12 (default: each whose linux-source tarball is installed)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

build_one() {
	local series=$1
	local out=$repo/build/kselftest-mm-$series
	local tarball=/usr/src/linux-source-$series.tar.xz
	local top=linux-source-$series
	local hdrs arch_hdrs dir srcs=() f

	[ -r "$tarball" ] || { echo "build-kernel-khugepaged: $tarball missing (make deps)" >&2; return 1; }
	[ -x "$out/khugepaged" ] && [ "$out/khugepaged" -nt "$tarball" ] && return 0
	# "6.1." must not match 6.12's directories.
	hdrs=$(ls -d /usr/src/linux-headers-"$series".*-common 2>/dev/null | sort -V | tail -n1)
	arch_hdrs=$(ls -d /usr/src/linux-headers-"$series".*-amd64 2>/dev/null | sort -V | tail -n1)
	[ -n "$hdrs" ] && [ -n "$arch_hdrs" ] ||
		{ echo "build-kernel-khugepaged: no linux-headers-$series.*-amd64 (make deps)" >&2; return 1; }
	# 6.1 keeps the mm selftests in selftests/vm/, later kernels in mm/.
	if tar -tJf "$tarball" "$top/tools/testing/selftests/mm/khugepaged.c" >/dev/null 2>&1; then
		dir=mm
	else
		dir=vm
	fi
	rm -rf "$out" && mkdir -p "$out/uapi"
	tar -C "$out" -xJf "$tarball" \
		"$top/tools/testing/selftests/$dir" \
		"$top/tools/testing/selftests/kselftest.h" \
		"$top/tools/include"
	# The kernel's own uapi (6.12's test needs PAGEMAP_SCAN; the host's
	# libc headers are 6.1's).
	cp -r "$hdrs"/include/uapi/. "$hdrs"/arch/x86/include/uapi/. "$out/uapi/"
	cp -r "$arch_hdrs"/arch/x86/include/generated/uapi/. "$out/uapi/"
	local src=$out/$top/tools/testing/selftests/$dir
	# 6.12 adds thp_settings.c to khugepaged.c and vm_util.c.
	for f in khugepaged.c vm_util.c thp_settings.c; do
		[ -e "$src/$f" ] && srcs+=("$src/$f")
	done
	# kselftest.h goes in first, so the sources' own _GNU_SOURCE comes
	# too late for libc's headers: define it up front.
	gcc -O2 -w -D_GNU_SOURCE -I"$src/.." -I"$out/$top/tools/include" \
		-isystem "$out/uapi" -include "$src/../kselftest.h" \
		-o "$out/khugepaged" "${srcs[@]}" -lrt -lpthread
	rm -rf "${out:?}/$top" "$out/uapi"
	echo "built $out/khugepaged (from $tarball)"
}

series=("$@")
if [ ${#series[@]} -eq 0 ]; then
	for s in 6.1 6.12; do
		[ -r "/usr/src/linux-source-$s.tar.xz" ] && series+=("$s")
	done
	[ ${#series[@]} -gt 0 ] || { echo "build-kernel-khugepaged: no /usr/src/linux-source-6.{1,12}.tar.xz (make deps)" >&2; exit 1; }
fi
for s in "${series[@]}"; do
	build_one "$s"
done
