#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# package_test.sh BUILD_DIR: builds the three Debian packages from BUILD_DIR with CPack, installs
# them with dpkg -i into a throw-away root, uses them there, and removes and purges them again
# (docs/install.md). The throw-away root is this machine's / seen through an overlay whose
# writable layer is a tmpfs in a private mount namespace: dpkg, the maintainer scripts, useradd
# and systemd-analyze run for real, and nothing of it reaches the machine.
# Needs root (mount namespaces, chroot); exits 77 (skipped) without it.
set -euo pipefail
build=$(cd "$1" && pwd)
if [[ $(id -u) -ne 0 ]]; then
  echo "package test skipped: it needs root (dpkg -i into a throw-away root via a mount namespace)"
  exit 77
fi
for tool in cpack dpkg-deb dpkg-shlibdeps unshare chroot; do
  command -v "$tool" >/dev/null || { echo "package test needs $tool (make deps)"; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== cpack: the three packages"
(cd "$work" && cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; exit 1; }
debs=("$work"/out/*.deb)
((${#debs[@]} == 3)) || { echo "expected 3 packages, got: ${debs[*]}"; exit 1; }
for deb in "${debs[@]}"; do
  echo "$(dpkg-deb -f "$deb" Package): Depends: $(dpkg-deb -f "$deb" Depends)"
  [[ -n $(dpkg-deb -f "$deb" Depends) ]] || { echo "no Depends computed for $deb"; exit 1; }
done
# A private mount namespace, so that no mount of the test is seen outside it. In a chroot (a fresh
# root made by debootstrap, say) / is no mount point and cannot be made private: the namespace
# then keeps the propagation it has, and package_test_root.sh unmounts all it mounted itself.
propagation=private
mountpoint -q / || propagation=unchanged
unshare --mount --propagation "$propagation" bash "$(dirname "$0")/package_test_root.sh" "$work" "${debs[@]}"
