#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what building, testing and demoing the module needs, from Debian.
# Idempotent and near-instant when everything is present: apt is only
# touched (update once, then install) when some package is missing, because
# every machine (a developer's, CI's) may come up without what an earlier
# session installed by hand.
# Usage: scripts/deps.sh [EXTRA-PACKAGE...]
set -euo pipefail

pkgs=(
	gcc make libc6-dev                            # building the module and tools
	linux-headers-6.12-amd64                      # kbuild tree for the module
	linux-image-6.12-amd64                        # the kernel the test VM boots
	linux-source-6.12                             # reference sources
	# Debian 12's own 6.1, the other supported kernel: the meta-packages
	# follow the newest 6.1.0-N-amd64 ABI, image and headers together.
	linux-headers-amd64 linux-image-amd64 linux-source-6.1
	qemu-system-x86                               # the test VM
	busybox-static xz-utils cpio kmod             # its initramfs
	bpftrace sparse                               # tracing in the VM, `make C=1`
	util-linux procps python3 gnuplot-nox         # mkswap/swapon/zramctl, ps, demo plots
	"$@"
)

# One dpkg-query for all (fast); `install ok installed` is the only state
# that means usable, and unknown packages print nothing.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${pkgs[@]}" 2>/dev/null |
	awk '$2 == "install" && $3 == "ok" && $4 == "installed" { print $1 }' || true)
missing=()
for p in "${pkgs[@]}"; do
	grep -qxF -- "$p" <<<"$installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi

echo "deps: installing ${#missing[@]} missing: ${missing[*]}"
# Root on every machine of this project; sudo only for a developer's own box.
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "deps: installed ${missing[*]}"
