# SPDX-License-Identifier: Apache-2.0
# zsh -f zsh_complete.zsh SCRIPT LINE EXPECTED: types LINE and a TAB into an interactive zsh (zpty)
# that has compinit and SCRIPT loaded; exits 0 when the edited line shows EXPECTED within 15 s.
setopt extendedglob
zmodload zsh/zpty || exit 77
zpty z zsh -f -i
zpty -w z "PROMPT='> '; autoload -U compinit; compinit -u -D; source ${(q)1}"
zpty -n -w z "$2"$'\t'
local all="" out
for i in {1..75}; do
  while zpty -r -t z out 2>/dev/null; do all+="$out"; done
  if [[ "${all//$'\e'\[[0-9;?]#[a-zA-Z]/}" == *"$3"* ]]; then
    zpty -d z
    exit 0
  fi
  sleep 0.2
done
zpty -d z
print -r -- "typed [$2<TAB>], expected [$3]; the terminal showed: ${(q+)all}"
exit 1
