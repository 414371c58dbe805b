#!/usr/bin/env bash
# Runs keyward, ripgrep (-uuu: every file, like keyward; and default: skipping hidden, ignored
# and binary files) and grep -r alternately RUNS times over the benchmark tree, warm cache, and
# prints the median wall time and peak RSS of each and keyward's ratio to rg -uuu. With COLD=1
# (root, and /proc/sys/vm/drop_caches writable) it also runs each once after dropping the page
# cache. With BASE, another keyward binary (say, the commit before a change), it also runs that
# binary's scans in the same rounds and prints this build's time as a ratio of BASE's.
# Usage: run.sh KEYWARD TREE [RUNS] [BASE]
set -uo pipefail
kw=${1:?usage: run.sh KEYWARD TREE [RUNS] [BASE]}
tree=${2:?usage: run.sh KEYWARD TREE [RUNS] [BASE]}
runs=${3:-5}
base_kw=${4:-}
pattern='-----BEGIN [A-Z ]*PRIVATE KEY-----'
tmp=$(mktemp -d /tmp/keyward-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

declare -A cmds=(
  [keyward]="$kw scan -q --no-archives --format json -o /dev/null $tree"
  [keyward-archives]="$kw scan -q --format json -o /dev/null $tree"
  [rg-uuu]="rg -l -uuu -e '$pattern' $tree"
  [rg]="rg -l -e '$pattern' $tree"
  [rg-uuu-z]="rg -l -uuu -z -e '$pattern' $tree"
  [keyward-rescan]="$kw scan -q --no-archives --format json -o /dev/null --cache $tmp/scan.cache $tree"
  [keyward-archives-rescan]="$kw scan -q --format json -o /dev/null --cache $tmp/scan-archives.cache $tree"
  [grep-r]="grep -rlE -e '$pattern' $tree"
)
# rg-uuu-z also searches inside compressed files (gzip, bzip2, xz, ...; one decompressor process
# each): the reference for keyward with archives on, which opens zip/jar/tar/gz and image layers.
order=(keyward rg-uuu keyward-archives rg-uuu-z rg grep-r keyward-rescan keyward-archives-rescan)
if [[ -n "$base_kw" ]]; then
  cmds[base]="$base_kw scan -q --no-archives --format json -o /dev/null $tree"
  cmds[base-archives]="$base_kw scan -q --format json -o /dev/null $tree"
  cmds[base-rescan]="$base_kw scan -q --no-archives --format json -o /dev/null --cache $tmp/base.cache $tree"
  order+=(base base-archives base-rescan)
fi

measure() {  # measure NAME -> appends "seconds rss_kb" to $tmp/NAME (time to the millisecond)
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$tmp/t" bash -c "${cmds[$1]} >/dev/null 2>&1"
  t1=$(date +%s.%N)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $(grep -v "^Command" "$tmp/t")" >> "$tmp/$1"
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# One warm-up pass so every tool starts with the same page cache. The cache remembers only files
# older than its racy window (1 s): a tree made just now is settled first.
sleep 1.2
for n in "${order[@]}"; do bash -c "${cmds[$n]} >/dev/null 2>&1"; done
for ((i = 0; i < runs; i++)); do for n in "${order[@]}"; do measure "$n"; done; done

echo "warm cache, $runs runs each, median wall time and peak RSS ($(nproc) cores)"
printf '%-24s %10s %10s %12s\n' tool seconds rss_MiB vs_rg-uuu
base=$(cut -d' ' -f1 "$tmp/rg-uuu" | median)
for n in "${order[@]}"; do
  s=$(cut -d' ' -f1 "$tmp/$n" | median)
  m=$(cut -d' ' -f2 "$tmp/$n" | median)
  awk -v n="$n" -v s="$s" -v m="$m" -v b="$base" 'BEGIN { printf "%-24s %10s %10.1f %11.2fx\n", n, s, m / 1024, s / b }'
done

ratio() { awk -v a="$(cut -d' ' -f1 "$tmp/$1" | median)" -v b="$(cut -d' ' -f1 "$tmp/$2" | median)" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "keyward (archives on) vs rg -uuu -z (also searches compressed files): $(ratio keyward-archives rg-uuu-z)x"
echo "keyward-rescan and keyward-archives-rescan are keyward --cache on the unchanged tree (the"
echo "warm-up run wrote each cache); each is compared with the full scan of the same options:"
echo "  archives off: full scan / rescan = $(ratio keyward keyward-rescan)x faster"
echo "  archives on (the default): full scan / rescan = $(ratio keyward-archives keyward-archives-rescan)x faster"

if [[ "${COLD:-0}" == 1 ]]; then
  if sync && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then
    echo
    echo "cold cache (page cache dropped before each run), one run each"
    for n in keyward rg-uuu; do
      sync; echo 3 > /proc/sys/vm/drop_caches
      rm -f "$tmp/$n"; measure "$n"
      printf '%-24s %10s\n' "$n" "$(cut -d' ' -f1 "$tmp/$n")"
    done
  else
    echo "cold cache: dropping the page cache was refused here (not root, or a read-only /proc/sys)"
  fi
fi
if [[ -n "$base_kw" ]]; then
  echo "this build / BASE (below 1.00x is faster): archives off $(ratio keyward base)x," \
       "archives on $(ratio keyward-archives base-archives)x, rescan $(ratio keyward-rescan base-rescan)x"
fi
