#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test VM's initramfs: static busybox plus the few modules needed
# to mount the host's / over virtio-9p (read-only) under a tmpfs overlay,
# then switch_root into it and exec the guest init (scripts/vm-guest-init.sh)
# named on the kernel command line as xhp.init=PATH.
# Usage: scripts/mkinitramfs.sh KVER OUT   (KVER -: no modules, all built in)
# OUT (a gzip'd newc cpio) is rebuilt only when older than this script,
# busybox or one of the modules.
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 KVER OUT" >&2
	exit 2
fi
kver=$1
out=$2
busybox=/bin/busybox
# What the guest needs before it can mount the host's /: the virtio PCI
# transport, 9p over virtio, overlayfs, and virtio-serial ports (the
# command's output and status). 6.12 builds the virtio ones in; 6.1 has
# them all as modules, with more dependencies (fscache, the virtio_pci
# legacy/modern helpers).
roots=(virtio_pci 9pnet_virtio 9p overlay virtio_console)

[ -x "$busybox" ] || { echo "mkinitramfs: $busybox missing (apt install busybox-static)" >&2; exit 1; }
command -v modprobe >/dev/null || PATH=$PATH:/sbin:/usr/sbin
paths=()
# KVER "-": a kernel with all of them built in.
[ "$kver" = - ] && roots=()
# Dependency order, as modprobe would load them (busybox insmod does not
# resolve dependencies): "insmod PATH" per module, "builtin NAME" for one
# built in; each module once, where it first appears.
for r in "${roots[@]}"; do
	deps=$(modprobe -S "$kver" --show-depends "$r" 2>&1) ||
		{ echo "mkinitramfs: module $r not found for kernel $kver: $deps" >&2; exit 1; }
	while read -r verb p _; do
		[ "$verb" = insmod ] || continue
		m=$(basename "$p")
		m=${m%%.ko*}
		case " ${paths[*]} " in *" $m:"*) continue ;; esac
		paths+=("$m:$p")
	done <<<"$deps"
done

# Cache check: OUT must be newer than every input.
if [ -s "$out" ]; then
	fresh=1
	for f in "$0" "$busybox" "${paths[@]#*:}"; do
		[ "$out" -nt "$f" ] || { fresh=0; break; }
	done
	[ "$fresh" -eq 0 ] || exit 0
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/xhp-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"
mkdir -p "$stage"/{bin,dev,proc,sys,mnt/lower,mnt/rw,mnt/root,lib/modules}
cp "$busybox" "$stage/bin/busybox"
for a in $("$busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$stage/bin/$a"
done
# The kernel opens /dev/console for /init before anything is mounted; without
# the node it warns and /init starts with no stdio (it reopens it anyway).
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

order=()
for mp in "${paths[@]}"; do
	m=${mp%%:*} p=${mp#*:}
	# busybox insmod takes plain ELF only.
	case $p in
	*.xz) xz -dc "$p" >"$stage/lib/modules/$m.ko" ;;
	*.zst) zstd -qdc "$p" >"$stage/lib/modules/$m.ko" ;;
	*.gz) gzip -dc "$p" >"$stage/lib/modules/$m.ko" ;;
	*) cp "$p" "$stage/lib/modules/$m.ko" ;;
	esac
	order+=("$m")
done
echo "${order[*]}" >"$stage/lib/modules/order"

cat >"$stage/init" <<'EOF'
#!/bin/sh
# initramfs /init: host / (9p, ro) + tmpfs overlay, then the guest init.
PATH=/bin
export PATH

fail() {
	echo "xhp-initramfs: FAILED: $*"
	echo "xhp-initramfs: powering off (the host will report a lost exit status)"
	# /proc may already have been moved under the new root.
	echo o >/proc/sysrq-trigger || echo o >/mnt/root/proc/sysrq-trigger
	while :; do sleep 1000; done
}

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sys /sys || fail "mount /sys"
mount -t devtmpfs dev /dev || fail "mount /dev"
exec </dev/console >/dev/console 2>&1

ginit= gcwd= gcmd=
for arg in $(cat /proc/cmdline); do
	case $arg in
	xhp.init=*) ginit=${arg#xhp.init=} ;;
	xhp.cwd=*) gcwd=${arg#xhp.cwd=} ;;
	xhp.cmd=*) gcmd=${arg#xhp.cmd=} ;;
	esac
done
[ -n "$ginit" ] || fail "no xhp.init= on the kernel command line"

for m in $(cat /lib/modules/order); do
	insmod "/lib/modules/$m.ko" || fail "insmod $m"
done

# msize: big 9p messages make reads several times faster; cache=loose lets
# the guest keep pages and dentries (the host tree is read-only to it).
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 \
	hostroot /mnt/lower || fail "mount 9p hostroot (is -virtfs mount_tag=hostroot given?)"
mount -t tmpfs -o mode=0755 xhp-rw /mnt/rw || fail "mount tmpfs /mnt/rw"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work \
	xhp-root /mnt/root || fail "mount overlay /mnt/root"
[ -x "/mnt/root$ginit" ] || fail "guest init $ginit not found or not executable in the host tree"
[ -z "$gcwd" ] || [ -d "/mnt/root$gcwd" ] || fail "xhp.cwd $gcwd is not a directory in the host tree"

# Hand the mounts over rather than lose them under the old root.
for d in dev proc sys; do
	mount --move "/$d" "/mnt/root/$d" || fail "move /$d"
done
# The rest of the guest's mounts, done here because static busybox from RAM
# starts far faster under TCG than the host's dynamically linked tools over
# 9p (about 1 s of boot). vm-guest-init.sh mounts whatever is missing.
r=/mnt/root
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $r/dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 shm $r/dev/shm
# devtmpfs lacks these; bash process substitution needs /dev/fd.
ln -s /proc/self/fd $r/dev/fd
ln -s /proc/self/fd/0 $r/dev/stdin
ln -s /proc/self/fd/1 $r/dev/stdout
ln -s /proc/self/fd/2 $r/dev/stderr
# A fresh /tmp and /run, unless the run's own files live there (a checkout
# under /tmp, say): then the overlay's view stays, writable too.
for d in /tmp /run; do
	case "$gcwd/ $ginit $gcmd" in
	"$d"/* | *" $d"/*) echo "xhp-initramfs: keeping the host's $d (the run uses it) under the overlay" ;;
	*) if [ $d = /tmp ]; then mode=1777; else mode=755; fi
	   mount -t tmpfs -o nosuid,nodev,mode=$mode tmpfs $r$d ;;
	esac
done
mount -t debugfs -o nosuid,nodev,noexec debugfs $r/sys/kernel/debug
mount -t tracefs -o nosuid,nodev,noexec tracefs $r/sys/kernel/tracing
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 $r/sys/fs/cgroup
hostname xhp-vm
ip link set lo up
exec switch_root /mnt/root "$ginit"
fail "switch_root to $ginit"
EOF
chmod 755 "$stage/init"

mkdir -p "$(dirname "$out")"
tmp_out=$(mktemp "$out.XXXXXX")
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet -R 0:0) | gzip -6 >"$tmp_out"
chmod 644 "$tmp_out"
# Atomic, so a concurrent vm-run never boots a half-written file.
mv -f "$tmp_out" "$out"
echo "mkinitramfs: built $out (${order[*]})" >&2
