#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds a benchmark tree of about SIZE_MB of this machine's own files, chosen by a seeded hash
# so that two runs on one machine take the same files, plus the generated key corpus (every text
# and binary format, copied a few times). Files are hard-linked when they are on the same file
# system as OUTDIR (no copy), else copied. A manifest lists what was taken. Two kinds:
#   system   (default, SIZE_MB 2048): files under /usr/include, /usr/share and /usr/lib
#            (sources, docs, binaries, libraries; 11k gzip'd man pages and changelogs);
#   archives (SIZE_MB 512): the archives this machine holds (jars, JDK jmods and src.zip, Python
#            wheels and eggs, zips, tarballs) under /usr, /opt, /root, /home and /var/lib (not
#            apt's cache of .deb files), plus tar.gz tarballs made now of Python packages from
#            /usr/lib/python3/dist-packages (a quarter of the budget), so that both a zip's
#            central directory and a streamed tarball are measured.
# Usage: make_tree.sh OUTDIR [SIZE_MB] [SEED] [KIND]
set -euo pipefail
out=${1:?usage: make_tree.sh OUTDIR [SIZE_MB] [SEED] [system|archives]}
kind=${4:-system}
case "$kind" in
  system) default_mb=2048 ;;
  archives) default_mb=512 ;;
  *) echo "make_tree.sh: KIND is system or archives, not '$kind'" >&2; exit 2 ;;
esac
size_mb=${2:-$default_mb}
seed=${3:-keyward-bench-1}
here=$(cd "$(dirname "$0")" && pwd)
stamp="$out/.complete-$kind-$size_mb-$seed"
[[ -f "$stamp" ]] && exit 0
rm -rf "$out"
mkdir -p "$out/tree/sys"

# Keys in every format: the test corpora, generated now (never committed).
corpus="$out/corpus"
bash "$here/../tests/support/make_corpus.sh" "$corpus" >/dev/null
bash "$here/../tests/support/make_store_corpus.sh" "$corpus" >/dev/null
for i in 1 2 3 4 5; do
  mkdir -p "$out/tree/keys/copy$i"
  cp -a "$corpus/tree/." "$out/tree/keys/copy$i/"
  cp -a "$corpus/stores/tree/." "$out/tree/keys/copy$i/stores/"
done
# The archive-bomb corpus directories stay out: they measure limits, not speed.
find "$out/tree/keys" -path '*/limits' -prune -exec rm -rf {} +

# A seeded, stable choice of this machine's files up to the size budget.
budget=$((size_mb * 1024 * 1024))
tarballs=0
if [[ "$kind" == archives ]]; then
  # A quarter of the budget as tarballs of whole Python packages (deterministic: sorted names,
  # fixed owner and time, gzip without a name or time stamp).
  tarballs=$((budget / 4))
  mkdir -p "$out/tree/tarballs"
  /usr/bin/python3 - "$seed" "$tarballs" > "$out/tarballs.txt" <<'PY'
import hashlib, os, sys
seed, budget = sys.argv[1], int(sys.argv[2])
top = "/usr/lib/python3/dist-packages"
dirs = []
for n in sorted(os.listdir(top)) if os.path.isdir(top) else []:
    p = os.path.join(top, n)
    if os.path.isdir(p) and not os.path.islink(p):
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(p) for f in fs
                   if os.path.isfile(os.path.join(d, f)))
        dirs.append((hashlib.sha256((seed + p).encode()).hexdigest(), size, n))
total = 0
for _, size, n in sorted(dirs):
    if size == 0 or total + size > budget:
        continue
    total += size
    print(n)
PY
  while read -r pkg; do
    tar -C /usr/lib/python3/dist-packages --sort=name --owner=0 --group=0 --mtime=@0 -cf - "$pkg" 2>/dev/null |
      gzip -6 -n > "$out/tree/tarballs/$pkg.tar.gz" || true
  done < "$out/tarballs.txt"
fi
link="cp -al"
[[ $(stat -c %d /usr) == $(stat -c %d "$out") ]] || link="cp -a"
/usr/bin/python3 - "$seed" "$((budget - tarballs))" "$kind" "$out" > "$out/manifest.tsv" <<'PY'
import hashlib, os, sys
seed, budget, kind, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], os.path.realpath(sys.argv[4])
if kind == "system":
    tops = ("/usr/include", "/usr/share", "/usr/lib")
    wanted = lambda n: True
else:
    tops = ("/usr", "/opt", "/root", "/home", "/var/lib")
    exts = (".jar", ".war", ".ear", ".jmod", ".whl", ".egg", ".zip", ".apk", ".aar", ".nupkg",
            ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tar.zst", ".sym")
    wanted = lambda n: n.lower().endswith(exts)
files = []
for top in tops:
    for d, dirs, names in os.walk(top):
        dirs.sort()
        if os.path.realpath(d).startswith(out):
            dirs[:] = []
            continue
        for n in names:
            if not wanted(n):
                continue
            p = os.path.join(d, n)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if os.path.isfile(p) and not os.path.islink(p) and 0 < st.st_size < 64 << 20:
                files.append((hashlib.sha256((seed + p).encode()).hexdigest(), st.st_size, p))
files.sort()
total = 0
for _, size, p in files:
    if total + size > budget:
        continue
    total += size
    print(f"{p}\t{size}")
PY
cut -f1 "$out/manifest.tsv" | sed 's|^/||' > "$out/files.txt"
if [[ "$link" == "cp -al" ]]; then
  (cd / && xargs -a "$out/files.txt" -d '\n' cp -al --parents -t "$out/tree/sys" 2>/dev/null) || true
else
  (cd / && xargs -a "$out/files.txt" -d '\n' cp -a --parents -t "$out/tree/sys" 2>/dev/null) || true
fi
{
  echo "seed: $seed, kind: $kind"
  echo "system files: $(wc -l < "$out/manifest.tsv"), $(awk -F'\t' '{s+=$2} END {printf "%.0f MiB", s/1048576}' "$out/manifest.tsv")"
  [[ "$kind" == archives ]] && echo "tarballs made: $(wc -l < "$out/tarballs.txt"), $(du -sm "$out/tree/tarballs" | cut -f1) MiB"
  echo "key files: $(find "$out/tree/keys" -type f | wc -l)"
  echo "total: $(du -sh --apparent-size "$out/tree" | cut -f1) in $(find "$out/tree" -type f | wc -l) files"
} | tee "$out/summary.txt"
touch "$stamp"
