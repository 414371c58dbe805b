#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The CI templates users copy (samples/ci/, docs/ci.md "CI templates") hold what each CI needs.

check_ci_templates.py SOURCE_DIR

GitHub Actions (samples/ci/github-actions.yml): triggers on push and pull_request, a job with
runs-on and steps, a checkout with fetch-depth 0, a `keyward ci --history` step whose exit status
is not masked, its SARIF file uploaded by github/codeql-action/upload-sarif also when the gate
failed, and permission to upload (security-events: write).
GitLab CI (samples/ci/gitlab-ci.yml): a job with a stage, GIT_DEPTH 0, a script whose last
`keyward ci` (the gate) is not masked, and the JUnit report it writes under artifacts:reports.

Every `keyward ci` command of both is checked against the CLI's source (cli/commands/), and, when
KEYWARD_BIN names a built keyward, against `keyward ci --help` and by running it as written in a
temporary git repository (it must pass there and write its report).
"""
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile

import yaml

problems = []


def check(cond, what):
    if not cond:
        problems.append(what)
    return cond


def keyward_commands(line):
    """Each `keyward ci ...` in a shell line: (argv, masked), masked when `|| ...` follows it."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    out, i = [], 0
    while i < len(tokens):
        if tokens[i] == "keyward" and i + 1 < len(tokens) and tokens[i + 1] == "ci":
            j = i
            while j < len(tokens) and tokens[j] not in ("||", "&&", ";", "|", "&"):
                j += 1
            out.append((tokens[i:j], j < len(tokens) and tokens[j] in ("||", "|", "&")))
            i = j
        else:
            i += 1
    return out


def option(argv, long, short=None):
    """The value of --long VALUE, --long=VALUE or -s VALUE in argv, or None."""
    for k, a in enumerate(argv):
        if a.startswith(long + "="):
            return a.split("=", 1)[1]
        if a in (long, short) and k + 1 < len(argv):
            return argv[k + 1]
    return None


def check_github(path):
    doc = yaml.safe_load(path.read_text())
    name = path.name
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True; GitHub reads it as "on".
    on = doc.get("on", doc.get(True))
    if check(on is not None, f"{name}: no `on:` triggers"):
        events = on if isinstance(on, (list, str)) else list(on)
        for event in ("push", "pull_request"):
            check(event in events, f"{name}: `on:` lacks {event}")
    perms = doc.get("permissions") or {}
    check(perms.get("security-events") == "write", f"{name}: permissions.security-events is not write")
    check(perms.get("contents") == "read", f"{name}: permissions.contents is not read")
    jobs = doc.get("jobs") or {}
    check(len(jobs) > 0, f"{name}: no jobs")
    commands = []
    for job_id, job in jobs.items():
        check("runs-on" in job, f"{name}: jobs.{job_id} has no runs-on")
        steps = job.get("steps")
        if not check(isinstance(steps, list) and steps, f"{name}: jobs.{job_id} has no steps"):
            continue
        uses = [str(s.get("uses", "")) for s in steps]
        checkout = [k for k, u in enumerate(uses) if u.startswith("actions/checkout@")]
        upload = [k for k, u in enumerate(uses) if u.startswith("github/codeql-action/upload-sarif@")]
        gate = [k for k, s in enumerate(steps) if "keyward ci" in str(s.get("run", ""))]
        if not check(checkout, f"{name}: jobs.{job_id} has no actions/checkout step"):
            continue
        check((steps[checkout[0]].get("with") or {}).get("fetch-depth") == 0,
              f"{name}: the checkout step's with.fetch-depth is not 0 (--history needs the whole history)")
        if not check(gate, f"{name}: jobs.{job_id} runs no `keyward ci`"):
            continue
        if not check(upload, f"{name}: jobs.{job_id} has no github/codeql-action/upload-sarif step"):
            continue
        check(checkout[0] < gate[0] < upload[0], f"{name}: steps not in the order checkout, keyward ci, upload")
        step = steps[gate[0]]
        check(not step.get("continue-on-error"), f"{name}: the keyward ci step has continue-on-error")
        runs = keyward_commands(str(step["run"]))
        commands += [argv for argv, _ in runs]
        for argv, masked in runs:
            check(not masked, f"{name}: the exit status of `{' '.join(argv)}` is masked")
            check("--history" in argv, f"{name}: `{' '.join(argv)}` lacks --history")
            check(option(argv, "--format", "-f") == "sarif", f"{name}: `{' '.join(argv)}` is not --format sarif")
        up = steps[upload[0]]
        check("always()" in str(up.get("if", "")), f"{name}: the upload step does not run `if: always()`")
        sarif = (up.get("with") or {}).get("sarif_file")
        outputs = [option(argv, "--output", "-o") for argv, _ in runs]
        check(sarif and sarif in outputs, f"{name}: upload-sarif's with.sarif_file is not the file keyward ci writes")
        check((up.get("with") or {}).get("category"), f"{name}: the upload step has no with.category")
    return commands


def check_gitlab(path):
    doc = yaml.safe_load(path.read_text())
    name = path.name
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    check(jobs, f"{name}: no job with a script")
    commands = []
    for job_id, job in jobs.items():
        check(job.get("stage"), f"{name}: {job_id} has no stage")
        depth = (job.get("variables") or {}).get("GIT_DEPTH")
        check(str(depth) == "0", f"{name}: {job_id}: variables.GIT_DEPTH is not 0 (--history needs the whole history)")
        script = job.get("script")
        if not check(isinstance(script, list), f"{name}: {job_id}: script is not a list"):
            continue
        runs = [r for line in script for r in keyward_commands(str(line))]
        if not check(runs, f"{name}: {job_id}: the script runs no `keyward ci`"):
            continue
        commands += [argv for argv, _ in runs]
        gate, masked = runs[-1]
        check(not masked, f"{name}: {job_id}: the exit status of the gate `{' '.join(gate)}` is masked")
        check(keyward_commands(str(script[-1])), f"{name}: {job_id}: the gate is not the script's last line")
        for argv, _ in runs:
            check("--history" in argv, f"{name}: `{' '.join(argv)}` lacks --history")
        artifacts = job.get("artifacts") or {}
        reports = artifacts.get("reports") or {}
        check(reports, f"{name}: {job_id} has no artifacts.reports")
        check(artifacts.get("when") == "always", f"{name}: {job_id}: artifacts.when is not always")
        by_format = {option(a, "--format", "-f"): option(a, "--output", "-o") for a, _ in runs}
        check(option(gate, "--format", "-f") == "junit", f"{name}: {job_id}: the gate does not write --format junit")
        check(reports.get("junit") and reports.get("junit") == by_format.get("junit"),
              f"{name}: {job_id}: artifacts.reports.junit is not the file the gate writes")
        if "sarif" in by_format:
            check(by_format["sarif"] in (artifacts.get("paths") or []),
                  f"{name}: {job_id}: the SARIF file is not in artifacts.paths")
    return commands


def long_flags(argv):
    return sorted({a.split("=", 1)[0] for a in argv[2:] if a.startswith("-")})


def check_against_source(source, commands):
    """Every flag a template uses is declared in cli/commands/, each format offered by `keyward ci`."""
    cli = "".join(p.read_text() for p in sorted((source / "cli" / "commands").glob("*.cpp")))
    ci_cpp = (source / "cli" / "commands" / "ci.cpp").read_text()
    offered = [l for l in ci_cpp.splitlines() if "add_format_option" in l]
    for argv in commands:
        for flag in long_flags(argv):
            check(f'"{flag}"' in cli or f',{flag}"' in cli, f"`{flag}` is declared nowhere in cli/commands/")
        fmt = option(argv, "--format", "-f")
        check(fmt and any(f"ReportFormat::{fmt}" in l for l in offered), f"keyward ci does not offer --format {fmt}")


def check_against_binary(binary, commands):
    """The flags in `keyward ci --help`, and each command run as written in a fresh repository."""
    if not check(os.access(binary, os.X_OK), f"KEYWARD_BIN={binary} is not an executable"):
        return
    help_text = subprocess.run([binary, "ci", "--help"], capture_output=True, text=True).stdout
    for argv in commands:
        for flag in long_flags(argv):
            check(flag in help_text, f"`{flag}` is not in `keyward ci --help`")
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    with tempfile.TemporaryDirectory() as tmp:
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]
        subprocess.run(git + ["init", "-q", tmp], check=True, env=env)
        (pathlib.Path(tmp) / "README").write_text("no keys here\n")
        subprocess.run(git + ["-C", tmp, "add", "README"], check=True, env=env)
        subprocess.run(git + ["-C", tmp, "commit", "-q", "-m", "first"], check=True, env=env)
        for argv in commands:
            out = option(argv, "--output", "-o")
            run = subprocess.run([binary] + argv[1:], cwd=tmp, capture_output=True, text=True, env=env)
            check(run.returncode == 0, f"`{' '.join(argv)}` exited {run.returncode} on a clean repository: "
                  f"{run.stderr.strip()}")
            report = pathlib.Path(tmp) / out if out else None
            check(report is not None and report.is_file() and report.stat().st_size > 0,
                  f"`{' '.join(argv)}` wrote no {out}")


def main():
    source = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2])
    commands = check_github(source / "samples" / "ci" / "github-actions.yml")
    commands += check_gitlab(source / "samples" / "ci" / "gitlab-ci.yml")
    check_against_source(source, commands)
    binary = os.environ.get("KEYWARD_BIN")
    if binary:
        check_against_binary(binary, commands)
    else:
        print("check_ci_templates: KEYWARD_BIN not set: flags checked against the source only")
    for p in problems:
        print("check_ci_templates:", p, file=sys.stderr)
    if not problems:
        print(f"check_ci_templates: both templates hold what their CI needs ({len(commands)} keyward ci commands)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
