#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the kernel's own mm selftests that selftests/xhp_mm_selftests.sh runs
# from Debian's linux-source-6.12 package into build/mm-selftests/. The
# generalization of build-kernel-khugepaged.sh: the same headers recipe, one
# gcc line per test (each test with the mm directory's vm_util.c and
# thp_settings.c, as its Makefile does). Build-time only: nothing from the
# kernel tree enters the repo. cow's io_uring cases need liburing-dev.
# Usage: scripts/build-kernel-mm-selftests.sh [TEST...]   (default: all below)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/build/mm-selftests
tarball=/usr/src/linux-source-6.12.tar.xz
tests=(split_huge_page_test transhuge-stress cow mremap_test madv_populate
	uffd-unit-tests ksm_functional_tests soft-dirty mlock2-tests mkdirty
	map_fixed_noreplace mremap_dontunmap khugepaged)
[ $# -gt 0 ] && tests=("$@")

# Already built and newer than the tarball: nothing to do.
stale=0
for t in "${tests[@]}"; do
	[ -x "$out/$t" ] && [ "$out/$t" -nt "$tarball" ] || stale=1
done
[ $stale -eq 0 ] && exit 0

"$repo/scripts/deps.sh" liburing-dev
[ -r "$tarball" ] || { echo "build-kernel-mm-selftests: $tarball missing (make deps)" >&2; exit 1; }
hdrs=$(ls -d /usr/src/linux-headers-6.12*-common 2>/dev/null | sort -V | tail -n1)
arch_hdrs=$(ls -d /usr/src/linux-headers-6.12*-amd64 2>/dev/null | sort -V | tail -n1)
[ -n "$hdrs" ] && [ -n "$arch_hdrs" ] || { echo "build-kernel-mm-selftests: 6.12 headers missing (make deps)" >&2; exit 1; }

mkdir -p "$repo/build"
work=$(mktemp -d "$repo/build/kselftest-mm-src.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$work/uapi"
tar -C "$work" -xJf "$tarball" \
	linux-source-6.12/tools/testing/selftests/mm \
	linux-source-6.12/tools/testing/selftests/kselftest.h \
	linux-source-6.12/tools/testing/selftests/kselftest_harness.h \
	linux-source-6.12/tools/include \
	linux-source-6.12/mm/gup_test.h
# The tests need 6.12's uapi (PAGEMAP_SCAN, UFFD features); the host's libc
# headers are 6.1.
cp -r "$hdrs"/include/uapi/. "$hdrs"/arch/x86/include/uapi/. "$work/uapi/"
cp -r "$arch_hdrs"/arch/x86/include/generated/uapi/. "$work/uapi/"
# Raw uapi headers: do the part of headers_install the tests need (drop the
# kernel-internal compiler.h includes, spell out __packed).
find "$work/uapi" -name '*.h' -exec sed -i -E \
	-e '/^#include <linux\/compiler(_types)?\.h>/d' \
	-e 's/(^|[^A-Za-z0-9_])__packed([^A-Za-z0-9_]|$)/\1__attribute__((packed))\2/g' {} +
src=$work/linux-source-6.12/tools/testing/selftests/mm

# local_config.h as the Makefile's check_config.sh would write it.
if echo '#include <liburing.h>' | gcc -x c -c -o /dev/null - 2>/dev/null; then
	echo '#define LOCAL_CONFIG_HAVE_LIBURING 1' >"$src/local_config.h"
	uring=-luring
else
	echo '// No liburing support found' >"$src/local_config.h"
	uring=
fi

for t in "${tests[@]}"; do
	extra=() pre=()
	case $t in
	# It uses KSFT_SKIP without including kselftest.h.
	khugepaged) pre=(-include "$src/../kselftest.h") ;;
	uffd-unit-tests) extra=("$src/uffd-common.c") ;;
	cow) extra=($uring) ;;
	esac
	gcc -O2 -w -U_FORTIFY_SOURCE "${pre[@]}" -I"$src/.." -I"$work/linux-source-6.12" \
		-isystem "$work/uapi" -isystem "$work/linux-source-6.12/tools/include/uapi" \
		-o "$out/$t" "$src/$t.c" "$src/vm_util.c" "$src/thp_settings.c" \
		"${extra[@]}" -lrt -lpthread -lm
	echo "built $out/$t"
done
