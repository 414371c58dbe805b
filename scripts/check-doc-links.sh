#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails when a file of the repository names a document the repository does not have: every
# Markdown link to a .md file (relative to the linking file), and every mention of `docs/….md` or
# of a top-level document in capitals (README.md, CONTRIBUTING.md, …) in
# any tracked file. Runs in `make test` as repo.doc_links.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
missing() { echo "check-doc-links: $1 names $2, which the repository does not have" >&2; status=1; }

# Markdown links: [text](path.md) or (path.md#anchor), relative to the linking file.
while IFS=: read -r file target; do
  target=${target#*](}; target=${target%)}; target=${target%%#*}
  [[ "$target" == http* || -z "$target" ]] && continue
  [[ -e "$(dirname "$file")/$target" ]] || missing "$file" "$target"
done < <(git grep -o -E '\]\([^)#[:space:]]+\.md(#[^)]*)?\)' -- '*.md' || true)

# docs/….md and top-level documents named anywhere (code comments, scripts, docs).
while IFS=: read -r file target; do
  [[ "$file" == scripts/check-doc-links.sh ]] && continue
  [[ -e "$target" ]] || missing "$file" "$target"
done < <(git grep -o -E '(^|[^A-Za-z0-9_./-])(docs/[A-Za-z0-9_./-]+\.md|(README|CONTRIBUTING|DESIGN|STYLE|PLATFORM|ARCHITECTURE|SECURITY|CHANGELOG)\.md)' |
         sed -E 's/:[^A-Za-z0-9]?((docs\/)?[A-Za-z0-9_./-]+\.md)$/:\1/' | sort -u || true)
[[ $status -eq 0 ]] && echo "check-doc-links: every document named exists"
exit $status
