#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The DKMS package, end to end, without leaving the host changed:
#
# On the host (run by scripts/check.sh before the VM suite):
#   - `make deb` builds xhugepaged-dkms; it ships dkms.conf (version filled
#     in) and every module source, and depends on dkms;
#   - the package's files are unpacked (dpkg-deb -x) into build/dkms-test/
#     and DKMS itself, with that tree as its --sourcetree and a private
#     --dkmstree, adds the module (parsing the shipped dkms.conf) and builds
#     it for every installed kernel with headers. This runs in a private
#     mount namespace with a tmpfs over /var/lib/dkms, where dkms 3.0.10
#     generates its module-signing key: nothing under /var/lib/dkms, /usr/src
#     or /lib/modules of the host is written. A failed build is reported
#     with the kernel and the first compiler errors from make.log;
#   - for each kernel it built for, one VM boot of that kernel runs the
#     guest part below.
#
# In the VM (selftests/xhp_dkms.sh --guest DIR), whose writes land in a
# tmpfs overlay: `dpkg -i` installs the package, the host's built state goes
# into /var/lib/dkms, `dkms install` puts it into
# /lib/modules/$(uname -r)/updates/dkms, `modprobe xhugepaged` loads it (the
# loaded module's build ID is the DKMS-built file's), and `dkms remove` + `dpkg -r`
# take module and sources away again. Two steps are done on the host
# because TCG makes them take minutes (measured: the module build 6m50s,
# one depmod over the kernel's 4,230 .ko.xz about 2.5 min): compiling
# (autoinstall is off in the guest) and depmod (dkms runs with
# --no-depmod; the host runs the same depmod over the same modules plus the
# DKMS-built one, and the guest installs those index files).
set -uo pipefail
cd "$(dirname "$0")/.."
. selftests/lib.sh

name=xhugepaged
ver=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)

# --- guest part ----------------------------------------------------------
if [ "${1:-}" = "--guest" ]; then
	dir=$2
	k=$(uname -r)
	deb=$dir/$name-dkms_${ver}_all.deb
	ktap_begin
	mkdir -p /etc/dkms && touch /etc/dkms/no-autoinstall
	if dpkg -i "$deb" >/tmp/dpkg-i.log 2>&1 &&
		dpkg-query -W -f='${Status}' $name-dkms | grep -q "install ok installed" &&
		grep -q "^PACKAGE_VERSION=\"$ver\"" /usr/src/$name-$ver/dkms.conf; then
		ok "package_installs_in_guest_$k"
	else
		not_ok "package_installs_in_guest_$k # $(tail -n 3 /tmp/dpkg-i.log | tr '\n' ' ')"
	fi
	# The package's sources, and the module DKMS built from them on the host.
	dkms add -m $name -v $ver >/tmp/dkms.log 2>&1
	cp -a "$dir/dkms/$name/$ver/$k" /var/lib/dkms/$name/$ver/
	if dkms status -m $name -v $ver -k "$k" | grep -q ": built" &&
		dkms install -m $name -v $ver -k "$k" --no-depmod >>/tmp/dkms.log 2>&1 &&
		ls /lib/modules/"$k"/updates/dkms/$name.ko* >/dev/null 2>&1; then
		ok "dkms_install_$k"
	else
		not_ok "dkms_install_$k # $(tail -n 3 /tmp/dkms.log | tr '\n' ' ')"
	fi
	find "$dir/depmod-$k/lib/modules/$k" -maxdepth 1 -type f -name 'modules.*' \
		-exec cp {} /lib/modules/"$k"/ \;
	file=$(modinfo -n $name 2>/dev/null)
	# The DKMS-built file's GNU build ID (a SHA-1 of its contents), to be
	# matched by the loaded module's (/sys/module/*/notes: raw ELF note,
	# the ID is its last 20 bytes). Neither kernel sets srcversion here.
	built=$(ls "$dir/dkms/$name/$ver/$k/x86_64/module/$name.ko"* 2>/dev/null | head -n 1)
	case $built in *.xz) xz -dc "$built" ;; *) cat "$built" ;; esac >/tmp/built.ko 2>/dev/null
	want=$(readelf -n /tmp/built.ko 2>/dev/null | awk '/Build ID/ { print $3 }')
	loaded=
	if modprobe $name 2>/tmp/modprobe.err; then
		loaded=$(od -An -tx1 -v /sys/module/$name/notes/.note.gnu.build-id 2>/dev/null |
			tr -d ' \n' | tail -c 40)
	fi
	if [ -d "$X" ] && [ -n "$want" ] && [ "$loaded" = "$want" ] &&
		case $file in /lib/modules/$k/updates/dkms/*) true ;; *) false ;; esac; then
		ok "modprobe_loads_dkms_module_$k # $file, build ID $want"
	else
		not_ok "modprobe_loads_dkms_module_$k # file '$file', loaded build ID '$loaded' vs built '$want', $(cat /tmp/modprobe.err)"
	fi
	modprobe -r $name 2>/dev/null
	dkms remove -m $name -v $ver --all --no-depmod >/tmp/dpkg-r.log 2>&1
	dpkg -r $name-dkms >>/tmp/dpkg-r.log 2>&1
	if ! ls /lib/modules/"$k"/updates/dkms/$name.ko* >/dev/null 2>&1 &&
		[ ! -e /usr/src/$name-$ver ] && ! xhp_loaded &&
		! dpkg-query -W -f='${Status}' $name-dkms 2>/dev/null | grep -q "ok installed"; then
		ok "package_remove_takes_module_away_$k"
	else
		not_ok "package_remove_takes_module_away_$k # $(tail -n 3 /tmp/dpkg-r.log | tr '\n' ' ')"
	fi
	ktap_end
	exit
fi

# --- host part -------------------------------------------------------------
out=$PWD/build/dkms-test
rm -rf "$out"
mkdir -p "$out/dkms"
ktap_begin
deb=build/$name-dkms_${ver}_all.deb
if make --no-print-directory deb >"$out/deb.log" 2>&1 && [ -f "$deb" ]; then
	ok "make_deb_builds # $deb"
else
	not_ok "make_deb_builds # $(tail -n 5 "$out/deb.log" | tr '\n' ' ')"
	ktap_end
	exit
fi
cp "$deb" "$out/"

# Contents: dkms.conf with the version filled in, the same sources as kmod/.
dpkg-deb -x "$deb" "$out/root"
src=$out/root/usr/src/$name-$ver
want=$(cd kmod && ls Kbuild *.c *.h *.S | grep -v '\.mod\.c$' | sort)
have=$(cd "$src/kmod" 2>/dev/null && ls | sort)
deps=$(dpkg-deb -f "$deb" Depends)
if [ "$want" = "$have" ] && [ -f "$src/Kbuild" ] &&
	grep -q "^PACKAGE_VERSION=\"$ver\"$" "$src/dkms.conf" &&
	[ "$(dpkg-deb -f "$deb" Package)" = "$name-dkms" ] &&
	case $deps in *dkms*) true ;; *) false ;; esac; then
	ok "deb_ships_dkms_tree # $(echo "$have" | wc -l) files, Depends: $deps"
else
	not_ok "deb_ships_dkms_tree # missing/extra: $(diff <(echo "$want") <(echo "$have") | grep '^[<>]' | tr '\n' ' ') Depends: $deps"
fi

kernels=$(for d in /lib/modules/*/build; do [ -e "$d/Makefile" ] && basename "$(dirname "$d")"; done | sort -V)
# Build for each kernel in a private mount namespace (see the top).
unshare --mount --propagation private bash -c '
	set -u
	out=$1 src=$2 name=$3 ver=$4; shift 4
	mount -t tmpfs xhp-dkms /var/lib/dkms || exit 3
	d=(--sourcetree "$out/root/usr/src" --dkmstree "$out/dkms")
	dkms add -m $name -v $ver "${d[@]}" >"$out/add.log" 2>&1
	echo "add $?" >"$out/results"
	for k in "$@"; do
		dkms build -m $name -v $ver -k "$k" "${d[@]}" >"$out/build-$k.log" 2>&1
		echo "build $? $k" >>"$out/results"
		cp "$out/dkms/$name/$ver/build/make.log" "$out/make-$k.log" 2>/dev/null
	done
' xhp-dkms "$out" "$src" $name "$ver" $kernels
mounted=$(find /var/lib/dkms -mindepth 1 | head -n 3 | tr '\n' ' ')

add_rc=$(awk '$1 == "add" { print $2 }' "$out/results" 2>/dev/null)
if [ "$add_rc" = 0 ]; then
	ok "dkms_accepts_dkms_conf # $(dkms --version)"
else
	not_ok "dkms_accepts_dkms_conf # $(tail -n 3 "$out/add.log" | tr '\n' ' ')"
fi
built=()
for k in $kernels; do
	rc=$(awk -v k="$k" '$1 == "build" && $3 == k { print $2 }' "$out/results")
	ko=$(ls "$out/dkms/$name/$ver/$k/x86_64/module/$name.ko"* 2>/dev/null | head -n 1)
	vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null | awk '{print $1}')
	if [ "$rc" = 0 ] && [ "$vermagic" = "$k" ]; then
		ok "dkms_build_$k # $(basename "$ko"), vermagic $vermagic"
		built+=("$k")
	else
		errs=$(grep -c 'error:' "$out/make-$k.log" 2>/dev/null)
		first=$(grep -m 2 -E 'error:|\*\*\*' "$out/make-$k.log" 2>/dev/null | sed "s|$out/dkms/$name/$ver/build/||g" | tr '\n' ' ')
		not_ok "dkms_build_$k # dkms exit ${rc:-?}, ${errs:-0} compiler errors (log $out/make-$k.log); first: $first"
	fi
done
check "host_var_lib_dkms_untouched${mounted:+ # found: $mounted}" test -z "$mounted"

# One VM boot per kernel built: install the package and modprobe the module.
for k in "${built[@]}"; do
	if [ ! -e "/boot/vmlinuz-$k" ]; then
		not_ok "vm_modprobe_$k # no /boot/vmlinuz-$k to boot"
		continue
	fi
	# The module index `dkms install` would make, made here (see the top).
	r=$out/depmod-$k/lib/modules/$k
	mkdir -p "$r/updates/dkms"
	for f in kernel modules.order modules.builtin modules.builtin.modinfo; do
		ln -s "/lib/modules/$k/$f" "$r/$f"
	done
	cp "$out/dkms/$name/$ver/$k/x86_64/module/$name.ko"* "$r/updates/dkms/"
	map=(); [ -f "/boot/System.map-$k" ] && map=(-F "/boot/System.map-$k")
	if ! depmod -b "$out/depmod-$k" "${map[@]}" "$k" 2>"$out/depmod-$k.err"; then
		not_ok "depmod_$k # $(head -n 2 "$out/depmod-$k.err" | tr '\n' ' ')"
		continue
	fi
	scripts/vm-run.sh --kernel "$k" --timeout 300 -- selftests/xhp_dkms.sh --guest "$out" \
		>"$out/vm-$k.ktap" 2>"$out/vm-$k.err"
	rc=$?
	# The guest's results, renumbered into this run.
	while read -r line; do
		case $line in
		"ok "*) ok "vm: ${line#ok [0-9]* }" ;;
		"not ok "*) not_ok "vm: ${line#not ok [0-9]* }" ;;
		esac
	done <"$out/vm-$k.ktap"
	check "vm_run_clean_$k # vm-run exit $rc" test "$rc" -eq 0
done
ktap_end
