#!/bin/bash
# Build the kernel's own mm selftest `khugepaged` from Debian's
# linux-source-6.12 package into build/kselftest-mm/, to check that tools
# written for /sys/kernel/mm/transparent_hugepage work against xhugepaged's
# mirror. Build-time only: nothing from the kernel tree enters the repo.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/build/kselftest-mm
tarball=/usr/src/linux-source-6.12.tar.xz
hdrs=$(ls -d /usr/src/linux-headers-6.12*-common 2>/dev/null | sort -V | tail -n1)
arch_hdrs=$(ls -d /usr/src/linux-headers-6.12*-amd64 2>/dev/null | sort -V | tail -n1)

[ -x "$out/khugepaged" ] && [ "$out/khugepaged" -nt "$tarball" ] && exit 0
[ -r "$tarball" ] || { echo "build-kernel-khugepaged: $tarball missing (make deps)" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out/uapi"
tar -C "$out" -xJf "$tarball" \
	linux-source-6.12/tools/testing/selftests/mm \
	linux-source-6.12/tools/testing/selftests/kselftest.h \
	linux-source-6.12/tools/include
# The test needs 6.12's uapi (PAGEMAP_SCAN); the host's libc headers are 6.1.
cp -r "$hdrs"/include/uapi/. "$hdrs"/arch/x86/include/uapi/. "$out/uapi/"
cp -r "$arch_hdrs"/arch/x86/include/generated/uapi/. "$out/uapi/"
src=$out/linux-source-6.12/tools/testing/selftests/mm
gcc -O2 -w -I"$src/.." -I"$out/linux-source-6.12/tools/include" \
	-isystem "$out/uapi" -include "$src/../kselftest.h" \
	-o "$out/khugepaged" "$src/khugepaged.c" "$src/vm_util.c" \
	"$src/thp_settings.c" -lrt -lpthread
rm -rf "$out/linux-source-6.12" "$out/uapi"
echo "built $out/khugepaged"
