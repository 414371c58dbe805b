#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs keyward, ripgrep (-uuu: every file, like keyward; and default: skipping hidden, ignored
# and binary files) and grep -r alternately RUNS times over each benchmark tree, warm cache, and
# prints per tree the median wall time and peak RSS of each and its ratio to rg -uuu over the same
# tree in the same run. With COLD=1 (root, and /proc/sys/vm/drop_caches writable) it also runs
# keyward (archives on and off) and rg -uuu once each after dropping the page cache, as ratios to
# the cold rg -uuu. With BASE, another keyward binary (say, the commit before a change), it also
# runs that binary's scans in the same rounds and prints this build's time as a ratio of BASE's.
# For each tree it then checks the findings: one keyward scan (archives on, JSON) and, with BASE,
# one of BASE; it prints the number of finding ids and whether they equal BASE's, and run.sh
# exits 1 after printing everything when they differ on any tree (or a scan wrote no report).
# A last block sums up each tree in one line.
# Usage: run.sh KEYWARD RUNS [BASE] -- TREE...
#   e.g. run.sh build/bin/keyward 5 /tmp/old-keyward -- build/bench/tree build/bench-archives/tree
# The one-tree form of before, run.sh KEYWARD TREE [RUNS] [BASE], is still accepted (no --).
set -uo pipefail
usage='usage: run.sh KEYWARD RUNS [BASE] -- TREE...  (or run.sh KEYWARD TREE [RUNS] [BASE])'
(($# >= 2)) || { echo "$usage" >&2; exit 2; }
kw=$1
shift
trees=()
if [[ " $* " == *" -- "* ]]; then
  pre=()
  while (($#)) && [[ "$1" != -- ]]; do pre+=("$1"); shift; done
  shift
  trees=("$@")
  ((${#pre[@]} >= 1 && ${#pre[@]} <= 2)) || { echo "$usage" >&2; exit 2; }
  runs=${pre[0]}
  base_kw=${pre[1]:-}
else
  trees=("$1")
  runs=${2:-5}
  base_kw=${3:-}
fi
# Checked here, not half way through a long run: a swapped argument would otherwise show up as
# a failed command timed RUNS times.
((${#trees[@]})) || { echo "$usage" >&2; exit 2; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: RUNS must be a positive number, not '$runs'" >&2; exit 2; }
for b in "$kw" ${base_kw:+"$base_kw"}; do
  [[ -x "$b" ]] || { echo "run.sh: '$b' is not an executable keyward" >&2; exit 2; }
done
for t in "${trees[@]}"; do
  [[ -d "$t" ]] || { echo "run.sh: tree '$t' is not a directory" >&2; exit 2; }
done
pattern='-----BEGIN [A-Z ]*PRIVATE KEY-----'
tmp=$(mktemp -d /tmp/keyward-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# rg-uuu-z also searches inside compressed files (gzip, bzip2, xz, ...; one decompressor process
# each): the reference for keyward with archives on, which opens zip/jar/tar/gz and image layers.
# keyward is --no-archives, keyward-archives the default (archives on); the names stay as they
# were so that tables in docs/performance.md read the same.
order=(keyward rg-uuu keyward-archives rg-uuu-z rg grep-r keyward-rescan keyward-archives-rescan)
[[ -n "$base_kw" ]] && order+=(base base-archives base-rescan)
declare -A cmds
set_cmds() {  # set_cmds TREE DIR: the commands for one tree; caches live in DIR, one per tree
  local tree=$1 dir=$2
  cmds=(
    [keyward]="$kw scan -q --no-archives --format json -o /dev/null $tree"
    [keyward-archives]="$kw scan -q --format json -o /dev/null $tree"
    [rg-uuu]="rg -l -uuu -e '$pattern' $tree"
    [rg]="rg -l -e '$pattern' $tree"
    [rg-uuu-z]="rg -l -uuu -z -e '$pattern' $tree"
    [keyward-rescan]="$kw scan -q --no-archives --format json -o /dev/null --cache $dir/scan.cache $tree"
    [keyward-archives-rescan]="$kw scan -q --format json -o /dev/null --cache $dir/scan-archives.cache $tree"
    [grep-r]="grep -rlE -e '$pattern' $tree"
  )
  if [[ -n "$base_kw" ]]; then
    cmds[base]="$base_kw scan -q --no-archives --format json -o /dev/null $tree"
    cmds[base-archives]="$base_kw scan -q --format json -o /dev/null $tree"
    cmds[base-rescan]="$base_kw scan -q --no-archives --format json -o /dev/null --cache $dir/base.cache $tree"
  fi
}

measure() {  # measure NAME FILE -> appends "seconds rss_kb" of cmds[NAME] to FILE (to the ms)
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$tmp/t" bash -c "${cmds[$1]} >/dev/null 2>&1"
  t1=$(date +%s.%N)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $(grep -v "^Command" "$tmp/t")" >> "$2"
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
secs() { cut -d' ' -f1 "$1" | median; }  # secs FILE: median seconds
rss_mib() { cut -d' ' -f2 "$1" | median | awk '{ printf "%.1f", $1 / 1024 }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ratio() { div "$(secs "$dir/$1")" "$(secs "$dir/$2")"; }  # ratio NAME NAME, in the current tree
drop_caches() { sync && { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; }

# Compares the finding ids of this build's JSON report ($1) with BASE's ($2, optional): prints one
# line (and examples of ids found by one build only), exits 1 when they differ, 2 when a report
# cannot be read. Ids are compared as a sorted list, so a finding reported twice counts twice.
findings_py='
import collections, json, sys
def load(p):
    try:
        with open(p) as f:
            return json.load(f)["findings"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        return e
mine = load(sys.argv[1])
if isinstance(mine, Exception):
    print(f"findings: this build wrote no readable report ({mine})"); sys.exit(2)
if len(sys.argv) < 3:
    print(f"findings: {len(mine)} ids"); sys.exit(0)
base = load(sys.argv[2])
if isinstance(base, Exception):
    print(f"findings: {len(mine)} ids; BASE wrote no readable report ({base})"); sys.exit(2)
a, b = collections.Counter(f["id"] for f in mine), collections.Counter(f["id"] for f in base)
if a == b:
    print(f"findings: {len(mine)} ids, same as BASE"); sys.exit(0)
print(f"findings: {len(mine)} ids, BASE {len(base)}: DIFFERENT, {sum((a - b).values())} only in "
      f"this build, {sum((b - a).values())} only in BASE")
for name, extra, fs in (("only in this build", a - b, mine), ("only in BASE", b - a, base)):
    shown = 0
    for f in fs:
        if extra[f["id"]] > 0 and shown < 5:
            loc = f.get("location", {})
            member = " member " + loc["member"] if loc.get("member") else ""
            print("  " + " ".join((name + ":", f["id"], f.get("kind", ""), loc.get("path", "?"))) + member)
            extra[f["id"]] -= 1
            shown += 1
sys.exit(1)
'

cold_ok=0
if [[ "${COLD:-0}" == 1 ]]; then
  # Tried once up front: where it is refused, no tree tries again (each says it has no cold rows).
  drop_caches && cold_ok=1
fi
findings_failed=0
summary=()
# The cache remembers only files older than its racy window (1 s): a tree made just now is
# settled first.
sleep 1.2
for ((ti = 0; ti < ${#trees[@]}; ti++)); do
  tree=${trees[ti]}
  dir=$tmp/tree$ti
  mkdir -p "$dir"
  set_cmds "$tree" "$dir"
  # One warm-up pass so every tool starts with the same page cache (and the rescans with a cache
  # file). Trees run one after the other, not interleaved: two trees together may not fit the
  # page cache, and each tree's ratios are to its own rg -uuu anyway.
  for n in "${order[@]}"; do bash -c "${cmds[$n]} >/dev/null 2>&1"; done
  for ((i = 0; i < runs; i++)); do for n in "${order[@]}"; do measure "$n" "$dir/$n"; done; done

  echo "== $tree"
  echo "warm cache, $runs runs each, median wall time and peak RSS ($(nproc) cores);" \
       "keyward is --no-archives, keyward-archives the default (archives on)"
  printf '%-24s %10s %10s %12s\n' tool seconds rss_MiB vs_rg-uuu
  for n in "${order[@]}"; do
    printf '%-24s %10s %10s %11sx\n' "$n" "$(secs "$dir/$n")" "$(rss_mib "$dir/$n")" "$(ratio "$n" rg-uuu)"
  done
  echo
  echo "keyward (archives on) vs rg -uuu -z (also searches compressed files): $(ratio keyward-archives rg-uuu-z)x"
  echo "keyward-rescan and keyward-archives-rescan are keyward --cache on the unchanged tree (the"
  echo "warm-up run wrote each cache); each is compared with the full scan of the same options:"
  echo "  archives off: full scan / rescan = $(ratio keyward keyward-rescan)x faster"
  echo "  archives on (the default): full scan / rescan = $(ratio keyward-archives keyward-archives-rescan)x faster"
  if [[ -n "$base_kw" ]]; then
    echo "this build / BASE (below 1.00x is faster): archives off $(ratio keyward base)x," \
         "archives on $(ratio keyward-archives base-archives)x, rescan $(ratio keyward-rescan base-rescan)x"
  fi

  cold=""
  if [[ "${COLD:-0}" == 1 ]]; then
    echo
    if ((cold_ok)); then
      echo "cold cache (page cache dropped before each run), one run each"
      printf '%-24s %10s %12s\n' tool seconds vs_rg-uuu
      for n in keyward-archives keyward rg-uuu; do
        drop_caches
        measure "$n" "$dir/cold-$n"
      done
      for n in keyward-archives keyward rg-uuu; do
        printf '%-24s %10s %11sx\n' "$n" "$(secs "$dir/cold-$n")" "$(ratio "cold-$n" cold-rg-uuu)"
      done
      cold=", cold default $(ratio cold-keyward-archives cold-rg-uuu)x"
    else
      echo "cold cache: dropping the page cache was refused here (not root, or a read-only /proc/sys)"
    fi
  fi

  # The findings: one report each, archives on (the default). keyward exits 1 when it finds
  # something, so the exit status says nothing here; the report itself is checked.
  echo
  "$kw" scan -q --format json -o "$dir/findings.json" "$tree" >/dev/null 2>&1
  if [[ -n "$base_kw" ]]; then
    "$base_kw" scan -q --format json -o "$dir/findings-base.json" "$tree" >/dev/null 2>&1
    /usr/bin/python3 -c "$findings_py" "$dir/findings.json" "$dir/findings-base.json" || findings_failed=1
  else
    /usr/bin/python3 -c "$findings_py" "$dir/findings.json" || findings_failed=1
  fi
  echo

  summary+=("$tree: default $(ratio keyward-archives rg-uuu)x, --no-archives $(ratio keyward rg-uuu)x$cold, peak RSS default $(rss_mib "$dir/keyward-archives") MiB")
done

echo "summary (ratios to rg -uuu of the same tree, this run):"
printf '%s\n' "${summary[@]}"
if ((findings_failed)); then
  echo "findings differ from BASE (or a report could not be read) on at least one tree: see above" >&2
  exit 1
fi
