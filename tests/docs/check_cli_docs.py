#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Man pages and completion scripts against the binaries (CONTRIBUTING.md, "Man pages and completion").

  coverage BIN MAN       every command and option --help shows is in the generated page, in its command's section
  render PAGE...         man -l / groff renders each page without a warning
  rules-keys PAGE SRC    keyward-rules(5) names every key the rule loader accepts and every key and factor id
                         of the shipped rule data
  bash BIN SCRIPT        the bash script registers its function and completes commands and options
  zsh SCRIPT...          zsh -n parses each zsh script, and TAB in an interactive zsh completes commands and
                         options (skipped, exit 77, without zsh)
  conventions BIN        -V and --version print "<binary> <version>", a parse error is "<binary>: ..." with the
                         --help hint and exit 2, --help points at the man page, not at the source tree
"""
import os
import re
import shutil
import subprocess
import sys

SKIP = 77


def help_of(binary, path):
    out = subprocess.run([binary, *path, "--help"], capture_output=True, text=True, check=True).stdout
    options, positionals, commands = [], [], []
    section = None
    for line in out.splitlines():
        if not line.strip():
            section = None
            continue
        if not line.startswith(" ") and line.rstrip().endswith(":"):
            section = line.rstrip()[:-1]
            continue
        m = re.match(r"^  (\S+)", line)
        if not m or section is None:
            continue
        word = m.group(1)
        if section == "Subcommands":
            commands.append(word)
        elif section == "Positionals":
            positionals.append(word)
        elif word.startswith("-"):
            options.extend(n for n in word.split(",") if n)
    return options, positionals, commands


def man_sections(page_text):
    """The roff page as plain words per .SS section (and the global part), hyphens unescaped."""
    text = re.sub(r"\\f[BIRP]", "", page_text.replace("\\-", "-"))
    sections, current = {"": []}, ""
    for line in text.splitlines():
        m = re.match(r'^\.SS "(.*)"$', line)
        if m:
            current = m.group(1)
            sections[current] = []
            continue
        if line.startswith(".SH"):
            current = ""
        sections[current].append(line)
    return {k: "\n".join(v) for k, v in sections.items()}


def has_word(text, word):
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text) is not None


def coverage(binary, page):
    name = os.path.basename(binary)
    sections = man_sections(open(page, encoding="utf-8").read())
    problems, checked = [], 0
    todo = [[]]
    while todo:
        path = todo.pop()
        options, positionals, commands = help_of(binary, path)
        title = " ".join([name, *path])
        where = sections.get(title) if path else sections[""]
        if where is None:
            problems.append(f"{title}: no .SS section in {page}")
            continue
        for word in options + positionals:
            checked += 1
            # -h/--help is documented once ("Every command also takes -h, --help").
            text = sections[""] if word in ("-h", "--help") else where
            if not has_word(text, word):
                problems.append(f"{title}: {word} (in --help) is not in its section of {page}")
        for c in commands:
            todo.append([*path, c])
            if f"{title} {c}" not in sections:
                problems.append(f"{title} {c}: command (in --help) has no section in {page}")
    for p in problems:
        print(p)
    print(f"{page}: {checked} options and arguments of {name} checked, {len(problems)} problems")
    return 1 if problems or checked == 0 else 0


def render(pages):
    if shutil.which("man") is None and shutil.which("groff") is None:
        print("neither man nor groff is installed: not checked")
        return SKIP
    status = 0
    for page in pages:
        if shutil.which("groff"):
            cmd = ["groff", "-man", "-Tutf8", "-ww", "-z", page]
        else:
            cmd = ["man", "--warnings=w", "-l", page]
        env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode != 0 or r.stderr.strip():
            print(f"{page}: {' '.join(cmd)} exited {r.returncode}:\n{r.stderr}")
            status = 1
        else:
            print(f"{page}: renders without a warning")
        if shutil.which("man"):
            r = subprocess.run(["man", "-l", page], capture_output=True, text=True, env=env)
            if r.returncode != 0 or "NAME" not in r.stdout:
                print(f"{page}: man -l failed ({r.returncode}): {r.stderr}")
                status = 1
    return status


def yaml_keys(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            out.add(str(k))
            yaml_keys(v, out)
    elif isinstance(node, list):
        for v in node:
            yaml_keys(v, out)


def rules_keys(page, src):
    import yaml

    text = open(page, encoding="utf-8").read().replace("\\-", "-")
    accepted = set()
    for f in ("rules/src/rule_set.cpp", "rules/src/allowlist.cpp"):
        code = open(os.path.join(src, f), encoding="utf-8").read()
        for block in re.findall(r"fields\([^{]*\{([^}]*)\}", code):
            accepted.update(re.findall(r'"([a-z_0-9]+)"', block))
    shipped, factor_ids = set(), set()
    data = ["rules/factors.yaml", "rules/builtin/detections.yaml", "rules/builtin/policy.yaml",
            "rules/builtin/vendored.yaml"]
    for f in data:
        doc = yaml.safe_load(open(os.path.join(src, f), encoding="utf-8"))
        yaml_keys(doc, shipped)
        factor_ids.update(x["id"] for x in doc.get("factors", []) or [])
    missing = sorted(k for k in accepted | shipped | factor_ids if not has_word(text, k))
    for k in missing:
        print(f"{page}: does not name '{k}'")
    print(f"{page}: {len(accepted)} loader keys, {len(shipped)} data keys, {len(factor_ids)} factor ids checked")
    return 1 if missing or len(accepted) < 20 else 0


def bash_complete(script, name, words):
    """The function's COMPREPLY for the command line `words` (the last word is being completed)."""
    fn = "_" + name.replace("-", "_")
    words_sh = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    prog = (f"source '{script}' && complete -p {name} >/dev/null && COMP_WORDS=({words_sh}) && "
            f"COMP_CWORD={len(words) - 1} && {fn}; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"bash failed ({r.returncode}): {r.stderr}")
    return [w for w in r.stdout.splitlines() if w]


def bash(binary, script):
    name = os.path.basename(binary)
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", f"source '{script}' && complete -p {name}"],
                       capture_output=True, text=True)
    problems = []
    if r.returncode != 0 or f"-F _{name.replace('-', '_')} {name}" not in r.stdout:
        problems.append(f"complete -p {name}: {r.stdout}{r.stderr}")
    _, _, commands = help_of(binary, [])
    for c in commands:  # every top-level command from its first two letters
        got = bash_complete(script, name, [name, c[:2]])
        if c not in got:
            problems.append(f"{name} {c[:2]}<TAB> offers {got}, not {c}")
    cases = {"keyward": [(["keyward", "scan", "--fo"], "--format"),
                         (["keyward", "scan", "--format", "js"], "json"),
                         (["keyward", "rules", "t"], "test"),
                         (["keyward", "completion", "z"], "zsh")],
             "keyward-collector": [(["keyward-collector", "token", "cr"], "create"),
                                   (["keyward-collector", "report", "--format", "cb"], "cbom")],
             "keyward-agent": [(["keyward-agent", "enroll", "--col"], "--collector")]}
    for words, want in cases.get(name, []):
        got = bash_complete(script, name, words)
        if want not in got:
            problems.append(f"{' '.join(words)}<TAB> offers {got}, not {want}")
    for p in problems:
        print(p)
    print(f"{script}: {len(commands)} commands and {len(cases.get(name, []))} cases checked, {len(problems)} problems")
    return 1 if problems else 0


ZSH_CASES = {"_keyward": [("keyward sc", "keyward scan"), ("keyward scan --fo", "keyward scan --format")],
             "_keyward-collector": [("keyward-collector token cr", "keyward-collector token create")],
             "_keyward-agent": [("keyward-agent enroll --col", "keyward-agent enroll --collector")]}


def zsh(scripts):
    if shutil.which("zsh") is None:
        print("zsh is not installed: the zsh scripts were not parsed")
        return SKIP
    status = 0
    driver = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zsh_complete.zsh")
    for s in scripts:
        r = subprocess.run(["zsh", "-n", s], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{s}: zsh -n: {r.stderr}")
            status = 1
            continue
        print(f"{s}: zsh -n parses it")
        # Completion in an interactive zsh (zpty), as a user's TAB runs it.
        for line, want in ZSH_CASES.get(os.path.basename(s), []):
            r = subprocess.run(["zsh", "-f", driver, s, line, want], capture_output=True, text=True, timeout=60)
            if r.returncode == 77:
                print("zsh has no zpty module: completion not driven")
            elif r.returncode != 0:
                print(f"{s}: {r.stdout}{r.stderr}")
                status = 1
            else:
                print(f"{s}: {line}<TAB> completes to {want!r}")
    return status


def conventions(binary):
    name = os.path.basename(binary)
    problems = []
    for flag in ("-V", "--version"):
        r = subprocess.run([binary, flag], capture_output=True, text=True)
        if r.returncode != 0 or not re.fullmatch(re.escape(name) + r" \d+\.\d+\.\d+\S*\n", r.stdout):
            problems.append(f"{name} {flag}: exit {r.returncode}, printed {r.stdout!r}{r.stderr!r}")
    for args in (["--no-such-option"], ["completion", "fish"]):
        r = subprocess.run([binary, *args], capture_output=True, text=True)
        if r.returncode != 2 or not r.stderr.startswith(name + ": ") or "Run with --help" not in r.stderr:
            problems.append(f"{name} {' '.join(args)}: exit {r.returncode}, stderr {r.stderr!r}")
    top = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    if f"man {name}" not in top and f"man 8 {name}" not in top or "/usr/share/doc/keyward" not in top:
        problems.append(f"{name} --help does not point at its man page and /usr/share/doc/keyward")
    if "source tree" in top or "--generate-man" in top:
        problems.append(f"{name} --help names the source tree or the hidden --generate-man")
    for p in problems:
        print(p)
    print(f"{name}: version, error prefix and help footer checked, {len(problems)} problems")
    return 1 if problems else 0


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "coverage":
        return coverage(*args)
    if cmd == "render":
        return render(args)
    if cmd == "rules-keys":
        return rules_keys(*args)
    if cmd == "bash":
        return bash(*args)
    if cmd == "zsh":
        return zsh(args)
    if cmd == "conventions":
        return conventions(*args)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
