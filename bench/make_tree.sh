#!/usr/bin/env bash
# Builds the benchmark tree: about SIZE_MB (default 2048) of what this machine has under
# /usr/include, /usr/share and /usr/lib (sources, docs, binaries, libraries), chosen by a seeded
# hash so that two runs on one machine take the same files, plus the generated key corpus
# (every text and binary format, copied a few times). Files are hard-linked when /usr is on the
# same file system (no copy), else copied. A manifest lists what was taken.
# Usage: make_tree.sh OUTDIR [SIZE_MB] [SEED]
set -euo pipefail
out=${1:?usage: make_tree.sh OUTDIR [SIZE_MB] [SEED]}
size_mb=${2:-2048}
seed=${3:-keyward-bench-1}
here=$(cd "$(dirname "$0")" && pwd)
stamp="$out/.complete-$size_mb-$seed"
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

# A seeded, stable choice of system files up to the size budget.
budget=$((size_mb * 1024 * 1024))
link="cp -al"
[[ $(stat -c %d /usr) == $(stat -c %d "$out") ]] || link="cp -a"
/usr/bin/python3 - "$seed" "$budget" > "$out/manifest.tsv" <<'PY'
import hashlib, os, sys
seed, budget = sys.argv[1], int(sys.argv[2])
files = []
for top in ("/usr/include", "/usr/share", "/usr/lib"):
    for d, dirs, names in os.walk(top):
        dirs.sort()
        for n in names:
            p = os.path.join(d, n)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if os.path.isfile(p) and not os.path.islink(p) and st.st_size < 64 << 20:
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
  echo "seed: $seed"
  echo "system files: $(wc -l < "$out/manifest.tsv"), $(awk -F'\t' '{s+=$2} END {printf "%.0f MiB", s/1048576}' "$out/manifest.tsv")"
  echo "key files: $(find "$out/tree/keys" -type f | wc -l)"
  echo "total: $(du -sh --apparent-size "$out/tree" | cut -f1) in $(find "$out/tree" -type f | wc -l) files"
} | tee "$out/summary.txt"
touch "$stamp"
