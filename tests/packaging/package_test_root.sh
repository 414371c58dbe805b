#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The throw-away root of package_test.sh, in its private mount namespace: WORK DEB...
set -euo pipefail
work=$1; shift
root=$work/root
# Unmounted here rather than left to the namespace's end: in a chroot the namespace may share
# its mounts with the machine's (package_test.sh).
cleanup() {
  umount -R "$root" 2>/dev/null || umount -R -l "$root" 2>/dev/null
  umount "$work/layers" 2>/dev/null || umount -l "$work/layers" 2>/dev/null
  true
}
trap cleanup EXIT
mkdir -p "$work/layers" "$root"
mount -t tmpfs -o size=4g tmpfs "$work/layers"   # not on /: an overlay's layers must not overlap
mkdir -p "$work/layers/upper" "$work/layers/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/layers/upper,workdir=$work/layers/work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/tmp"
mount -t tmpfs tmpfs "$root/run"   # no /run/systemd/system: the scripts see no running systemd
mkdir -p "$root/tmp/debs"
cp "$@" "$root/tmp/debs/"
cp "$(dirname "$0")/package_test_inside.sh" "$root/tmp/"
status=0
# A clean environment, but for the sanitizers' options (make test-sanitize packages ASan builds,
# and its leak suppressions apply to them as to every other test).
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  ASAN_OPTIONS="${ASAN_OPTIONS:-}" LSAN_OPTIONS="${LSAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
  bash /tmp/package_test_inside.sh /tmp/debs || status=$?
exit $status
