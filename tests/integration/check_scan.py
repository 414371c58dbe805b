#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Scans the generated corpus with the real keyward binary and checks the findings against it.

Usage (run with /usr/bin/python3, which has python3-jsonschema):
  tests/support/make_corpus.sh build/corpus
  /usr/bin/python3 tests/integration/check_scan.py --keyward build/bin/keyward \
      --corpus build/corpus --schema docs/findings.schema.json

What it checks:
  1. `keyward scan --format json --output F TREE` exits 1 (the tree holds private keys) and writes
     one keyward.findings/v1 document; it validates against the JSON Schema when that file exists.
  2. Each manifest.tsv line is matched to its own finding (a one-to-one matching, so a file with
     three certificates needs three findings): location.path ends with the relpath, same kind and
     format, and where the manifest gives them: key.encrypted, key.algorithm, key.bits, key.curve
     (certificates: certificate.key_algorithm, key_bits, and key_curve when reported), and tags:
       code_signing -> "codeSigning" in certificate.extended_key_usage
       expired      -> certificate.not_after (RFC 3339) is in the past
       self_signed  -> certificate.self_signed is true;  ca -> certificate.is_ca is true
       paired       -> paired_with is a non-empty list of ids of findings in the same document
     and file.mode, when reported, equals the file's real mode ("0600").
  3. No private_key finding in a decoys.txt file, and no private_key finding the manifest does
     not expect (the corpus lists every private key it holds).
  4. `--format jsonl` (one finding per line, the document without findings last) agrees with the
     json run, and `--format text` exits 1 too.
  5. No line of secrets.txt (key body lines, passphrases) appears in any output: json, jsonl,
     text, their stdout and stderr, nor in any decoded JSON string.
Prints a summary, every miss with the reason, and a closing "check_scan: N passed, M failed"
line; exits 0 when nothing failed, 1 on any miss, 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import base64
import collections
import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

SCHEMA_NAME = "keyward.findings/v1"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
KNOWN_TAGS = {"code_signing", "expired", "self_signed", "ca", "paired"}


# ------------------------------------------------------------------------------ inputs

@dataclasses.dataclass
class Expected:
    """One manifest line: a finding the scan must report."""
    line: int
    relpath: str
    kind: str
    format: str
    encrypted: str   # "true" | "false" | "-"
    algorithm: str
    bits: str
    curve: str
    tags: list[str]

    def label(self) -> str:
        return f"{self.relpath} [{self.kind} {self.format}] (manifest line {self.line})"


def load_manifest(path: str) -> list[Expected]:
    out = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            raw = raw.rstrip("\n")
            if not raw or raw.startswith("#"):
                continue
            cols = raw.split("\t")
            if len(cols) != 8:
                raise SystemExit(f"check_scan: {path}:{n}: expected 8 TAB-separated columns, got {len(cols)}")
            tags = [] if cols[7] == "-" else cols[7].split(",")
            unknown = set(tags) - KNOWN_TAGS
            if unknown:
                raise SystemExit(f"check_scan: {path}:{n}: unknown tags {sorted(unknown)}")
            out.append(Expected(n, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], tags))
    return out


def load_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()]


# ------------------------------------------------------------------------------ running keyward

@dataclasses.dataclass
class Run:
    fmt: str
    argv: list[str]
    returncode: int
    output: str   # the --output file
    stdout: str
    stderr: str


def run_scan(keyward: str, fmt: str, tree: str, workdir: str, timeout: int) -> Run:
    out_file = os.path.join(workdir, f"scan.{fmt}")
    argv = [keyward, "scan", "--format", fmt, "--output", out_file, tree]
    env = dict(os.environ, NO_COLOR="1")
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Run(fmt, argv, -1, "", "", f"timed out after {timeout} s")
    output = ""
    if os.path.exists(out_file):
        with open(out_file, "rb") as f:
            output = f.read().decode("utf-8", errors="replace")
    return Run(fmt, argv, p.returncode, output,
               p.stdout.decode("utf-8", errors="replace"), p.stderr.decode("utf-8", errors="replace"))


# ------------------------------------------------------------------------------ findings

def finding_path(f: dict) -> str:
    loc = f.get("location") or {}
    path = loc.get("path")
    if path is None and "path_b64" in loc:
        path = base64.b64decode(loc["path_b64"]).decode("utf-8", errors="replace")
    return path or ""


def path_matches(path: str, relpath: str) -> bool:
    return path == relpath or path.endswith("/" + relpath)


def parse_time(value) -> dt.datetime | None:
    if not isinstance(value, str) or not RFC3339.match(value):
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def describe(f: dict) -> str:
    key = f.get("key") or {}
    cert = f.get("certificate") or {}
    facts = []
    for name in ("encrypted", "algorithm", "bits", "curve"):
        if name in key:
            facts.append(f"{name}={key[name]}")
    for name in ("key_algorithm", "key_bits", "key_curve", "self_signed", "is_ca", "not_after"):
        if name in cert:
            facts.append(f"{name}={cert[name]}")
    if cert.get("extended_key_usage"):
        facts.append("eku=" + ",".join(cert["extended_key_usage"]))
    if f.get("paired_with"):
        facts.append(f"paired_with={len(f['paired_with'])}")
    return f"{f.get('kind')} {f.get('format')} " + " ".join(facts)


class Checker:
    """Compares one expected line with one finding; returns why they differ."""

    def __init__(self, tree: str, ids: set[str], now: dt.datetime):
        self.tree = tree
        self.ids = ids
        self.now = now

    def mismatches(self, e: Expected, f: dict) -> list[str]:
        why: list[str] = []
        if f.get("kind") != e.kind:
            why.append(f"kind {f.get('kind')!r} != {e.kind!r}")
        if f.get("format") != e.format:
            why.append(f"format {f.get('format')!r} != {e.format!r}")
        if why:
            return why

        if e.kind == "certificate":
            facts = f.get("certificate") or {}
            names = {"algorithm": "certificate.key_algorithm", "bits": "certificate.key_bits",
                     "curve": "certificate.key_curve"}
            fields = {"algorithm": "key_algorithm", "bits": "key_bits", "curve": "key_curve"}
        else:
            facts = f.get("key") or {}
            names = {k: f"key.{k}" for k in ("algorithm", "bits", "curve")}
            fields = {k: k for k in ("algorithm", "bits", "curve")}

        if e.encrypted != "-":
            want = e.encrypted == "true"
            got = (f.get("key") or {}).get("encrypted")
            if got is not want:
                why.append(f"key.encrypted {json.dumps(got)} != {json.dumps(want)}")
        for attr in ("algorithm", "bits", "curve"):
            want_s = getattr(e, attr)
            if want_s == "-":
                continue
            # Certificates: the curve is checked only when the scanner reports key_curve.
            if e.kind == "certificate" and attr == "curve" and fields[attr] not in facts:
                continue
            want = int(want_s) if attr == "bits" else want_s
            got = facts.get(fields[attr])
            if got != want:
                why.append(f"{names[attr]} {json.dumps(got)} != {json.dumps(want)}")

        cert = f.get("certificate") or {}
        for tag in e.tags:
            if tag == "code_signing":
                eku = cert.get("extended_key_usage") or []
                if "codeSigning" not in eku:
                    why.append(f"tag code_signing: certificate.extended_key_usage {eku} lacks codeSigning")
            elif tag == "expired":
                t = parse_time(cert.get("not_after"))
                if t is None:
                    why.append(f"tag expired: certificate.not_after {cert.get('not_after')!r} is not RFC 3339")
                elif t >= self.now:
                    why.append(f"tag expired: certificate.not_after {cert.get('not_after')} is not in the past")
            elif tag == "self_signed":
                if cert.get("self_signed") is not True:
                    why.append(f"tag self_signed: certificate.self_signed is {json.dumps(cert.get('self_signed'))}")
            elif tag == "ca":
                if cert.get("is_ca") is not True:
                    why.append(f"tag ca: certificate.is_ca is {json.dumps(cert.get('is_ca'))}")
            elif tag == "paired":
                pw = f.get("paired_with")
                if not isinstance(pw, list) or not pw:
                    why.append("tag paired: paired_with is missing or empty")
                else:
                    dangling = [i for i in pw if i not in self.ids]
                    if dangling:
                        why.append(f"tag paired: paired_with names ids not in the document: {dangling}")

        mode = (f.get("file") or {}).get("mode")
        if mode is not None:
            real = f"{stat.S_IMODE(os.stat(os.path.join(self.tree, e.relpath)).st_mode):04o}"
            if mode != real:
                why.append(f"file.mode {mode!r} != {real!r}")
        return why


def max_matching(n_left: int, edges: list[list[int]]) -> dict[int, int]:
    """Maximum bipartite matching (augmenting paths): left index -> right index."""
    right_owner: dict[int, int] = {}

    def augment(u: int, seen: set[int]) -> bool:
        for v in edges[u]:
            if v in seen:
                continue
            seen.add(v)
            if v not in right_owner or augment(right_owner[v], seen):
                right_owner[v] = u
                return True
        return False

    for u in range(n_left):
        augment(u, set())
    return {u: v for v, u in right_owner.items()}


# ------------------------------------------------------------------------------ report

class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failures: list[tuple[str, str]] = []   # (section, message)

    def ok(self) -> None:
        self.passed += 1

    def fail(self, section: str, message: str) -> None:
        self.failures.append((section, message))

    def check(self, cond: bool, section: str, message: str) -> bool:
        if cond:
            self.ok()
        else:
            self.fail(section, message)
        return cond


def json_strings(node) -> list[str]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if isinstance(n, str):
            out.append(n)
        elif isinstance(n, dict):
            stack.extend(n.keys())
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return out


def redact(secret: str) -> str:
    return f"{secret[:4]}... ({len(secret)} chars)"


def scrub(text: str, secrets: list[str]) -> str:
    """The text with every secret replaced, for quoting keyward's own messages."""
    for s in secrets:
        text = text.replace(s, "<secret>")
    return text


def validate_schema(doc: dict, schema_path: str, report: Report) -> None:
    try:
        import jsonschema
    except ImportError:
        report.fail("schema", "python jsonschema is missing: run with /usr/bin/python3 "
                    "(Debian python3-jsonschema)")
        return
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as err:
        report.fail("schema", f"{schema_path} is not a valid JSON Schema: {err.message}")
        return
    validator = cls(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if not errors:
        report.ok()
        return
    for err in errors[:20]:
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        report.fail("schema", f"{where}: {err.message[:300]}")
    if len(errors) > 20:
        report.fail("schema", f"... and {len(errors) - 20} more schema errors")


def check_document(doc, tree: str, report: Report) -> list[dict]:
    if not isinstance(doc, dict):
        report.fail("document", "the json output is not an object")
        return []
    report.check(doc.get("schema") == SCHEMA_NAME, "document",
                 f"schema is {doc.get('schema')!r}, expected {SCHEMA_NAME!r}")
    scan = doc.get("scan") or {}
    report.check(scan.get("complete") is True, "document", f"scan.complete is {scan.get('complete')!r}")
    for name in ("started_at", "finished_at"):
        report.check(parse_time(scan.get(name)) is not None, "document",
                     f"scan.{name} {scan.get(name)!r} is not an RFC 3339 time")
    n_files = sum(len(files) for _, _, files in os.walk(tree))
    seen = (scan.get("stats") or {}).get("files_seen")
    report.check(isinstance(seen, int) and seen >= n_files, "document",
                 f"scan.stats.files_seen is {seen!r}, the tree has {n_files} files")
    findings = doc.get("findings")
    if not isinstance(findings, list):
        report.fail("document", "findings is not a list")
        return []
    return [f for f in findings if isinstance(f, dict)]


def check_jsonl(run: Run, json_findings: list[dict], report: Report) -> list:
    """Returns the parsed jsonl lines (for the secret scan)."""
    lines = [line for line in run.output.split("\n") if line.strip()]
    parsed = []
    for n, line in enumerate(lines, 1):
        try:
            parsed.append(json.loads(line))
        except ValueError as err:
            report.fail("jsonl", f"line {n} is not JSON: {err}")
            return parsed
    if not parsed:
        report.fail("jsonl", "no output")
        return parsed
    last, body = parsed[-1], parsed[:-1]
    report.check(isinstance(last, dict) and last.get("schema") == SCHEMA_NAME and not last.get("findings"),
                 "jsonl", "the last line is not the document without findings")
    report.check(all(isinstance(f, dict) and "kind" in f for f in body), "jsonl",
                 "a line before the last is not a finding")
    ids_jsonl = collections.Counter(f.get("id") for f in body if isinstance(f, dict))
    ids_json = collections.Counter(f.get("id") for f in json_findings)
    report.check(ids_jsonl == ids_json, "jsonl",
                 f"jsonl has {len(body)} findings, json has {len(json_findings)}; ids differ: "
                 f"only in jsonl {sorted((ids_jsonl - ids_json).elements())[:5]}, "
                 f"only in json {sorted((ids_json - ids_jsonl).elements())[:5]}")
    return parsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keyward", required=True, help="the keyward binary")
    ap.add_argument("--corpus", required=True, help="OUTDIR of tests/support/make_corpus.sh")
    ap.add_argument("--schema", default="docs/findings.schema.json",
                    help="JSON Schema of the json output (skipped if the file does not exist)")
    ap.add_argument("--keep", metavar="DIR", help="keep the scan outputs in DIR")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per scan (default 600)")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list the findings not in the manifest")
    a = ap.parse_args()

    corpus = os.path.abspath(a.corpus)
    tree = os.path.join(corpus, "tree")
    for name in ("manifest.tsv", "decoys.txt", "secrets.txt"):
        if not os.path.isfile(os.path.join(corpus, name)):
            print(f"check_scan: {corpus}/{name} is missing: run tests/support/make_corpus.sh {a.corpus}",
                  file=sys.stderr)
            return 2
    if not (os.path.isfile(a.keyward) and os.access(a.keyward, os.X_OK)):
        print(f"check_scan: {a.keyward} is not an executable file", file=sys.stderr)
        return 2
    keyward = os.path.abspath(a.keyward)
    schema_path = a.schema
    if not os.path.isabs(schema_path) and not os.path.exists(schema_path):
        repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        schema_path = os.path.join(repo_root, schema_path)
    expected = load_manifest(os.path.join(corpus, "manifest.tsv"))
    decoys = load_lines(os.path.join(corpus, "decoys.txt"))
    secrets = load_lines(os.path.join(corpus, "secrets.txt"))

    workdir = a.keep or tempfile.mkdtemp(prefix="keyward-check-")
    os.makedirs(workdir, exist_ok=True)
    report = Report()
    try:
        runs = {fmt: run_scan(keyward, fmt, tree, workdir, a.timeout) for fmt in ("json", "jsonl", "text")}
    finally:
        if not a.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    # 1. exit codes and the document
    for run in runs.values():
        report.check(run.returncode == 1, f"exit code ({run.fmt})",
                     f"`{' '.join(run.argv)}` exited {run.returncode}, expected 1 (private keys exist)"
                     + (f"; stderr: {scrub(run.stderr.strip()[:500], secrets)}" if run.stderr.strip() else ""))
    doc = None
    try:
        doc = json.loads(runs["json"].output)
    except ValueError as err:
        report.fail("document", f"the json output does not parse: {err}")
    findings = check_document(doc, tree, report) if doc is not None else []
    if doc is not None:
        if os.path.isfile(schema_path):
            validate_schema(doc, schema_path, report)
        else:
            print(f"note: {a.schema} does not exist; schema validation skipped")

    # 2. manifest lines, matched one-to-one
    now = dt.datetime.now(dt.timezone.utc)
    checker = Checker(tree, {f.get("id") for f in findings if f.get("id")}, now)
    paths = [finding_path(f) for f in findings]
    in_file = [[j for j, p in enumerate(paths) if path_matches(p, e.relpath)] for e in expected]
    edges = [[j for j in in_file[i] if not checker.mismatches(e, findings[j])] for i, e in enumerate(expected)]
    match = max_matching(len(expected), edges)
    matched_findings = set(match.values())
    per_format: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for i, e in enumerate(expected):
        per_format[f"{e.kind} {e.format}"][1] += 1
        if i in match:
            per_format[f"{e.kind} {e.format}"][0] += 1
            report.ok()
            continue
        if not in_file[i]:
            report.fail("missed", f"{e.label()}: no finding in this file")
            continue
        reasons = []
        for j in in_file[i]:
            why = checker.mismatches(e, findings[j])
            if not why:
                why = ["matches, but is already matched to another manifest line of this file"]
            reasons.append(f"      finding {describe(findings[j])}: " + "; ".join(why))
        report.fail("missed", f"{e.label()}:\n" + "\n".join(reasons))

    # 3. decoys and unexpected private keys
    for rel in decoys:
        bad = [findings[j] for j, p in enumerate(paths)
               if path_matches(p, rel) and findings[j].get("kind") == "private_key"]
        report.check(not bad, "decoy", f"{rel}: {len(bad)} private_key finding(s): "
                     + "; ".join(describe(f) for f in bad))
    # A file may hold no more private keys than its manifest lines say (the corpus lists them all).
    want_private = collections.Counter(e.relpath for e in expected if e.kind == "private_key")
    for rel, want in sorted(want_private.items()):
        got = [f for f, p in zip(findings, paths) if path_matches(p, rel) and f.get("kind") == "private_key"]
        report.check(len(got) <= want, "unexpected",
                     f"{rel}: {len(got)} private_key findings, the manifest expects {want}: "
                     + "; ".join(describe(f) for f in got))
    listed = set(want_private) | set(decoys) | {e.relpath for e in expected}
    for f, p in zip(findings, paths):
        if f.get("kind") == "private_key" and not any(path_matches(p, r) for r in listed):
            report.fail("unexpected", f"{p}: private_key finding in a file the corpus does not list: "
                        + describe(f))
    extras = [j for j in range(len(findings)) if j not in matched_findings]

    # 4. jsonl agrees with json
    jsonl_docs = check_jsonl(runs["jsonl"], findings, report) if runs["jsonl"].output else []
    if not runs["jsonl"].output:
        report.fail("jsonl", "no jsonl output written")
    report.check(bool(runs["text"].output.strip() or runs["text"].stdout.strip()), "text",
                 "the text run wrote nothing")

    # 5. no secret in any output (raw bytes, and JSON strings decoded, in case of escapes)
    texts: dict[str, str] = {}
    for run in runs.values():
        texts[f"{run.fmt} output"] = run.output
        texts[f"{run.fmt} stdout"] = run.stdout
        texts[f"{run.fmt} stderr"] = run.stderr
    if doc is not None:
        texts["json output"] += "\n" + "\n".join(json_strings(doc))
    texts["jsonl output"] += "\n" + "\n".join(json_strings(jsonl_docs))
    leaks = 0
    for name, text in texts.items():
        found = [s for s in secrets if s in text]
        leaks += len(found)
        report.check(not found, "leak", f"{name}: {len(found)} secret line(s), e.g. "
                     + ", ".join(redact(s) for s in found[:3]))

    # summary
    print(f"keyward: {keyward}")
    print(f"corpus:  {corpus} ({len(expected)} expected findings, {len(decoys)} decoys, "
          f"{len(secrets)} secret lines)")
    print(f"scan:    {len(findings)} findings, {len(match)}/{len(expected)} manifest lines matched, "
          f"{len(extras)} findings not in the manifest, {leaks} secret leaks")
    print("\nper kind and format (matched/expected):")
    for name in sorted(per_format):
        got, want = per_format[name]
        mark = "  " if got == want else "!!"
        print(f"  {mark} {name:38s} {got}/{want}")
    if a.verbose and extras:
        print("\nfindings not in the manifest:")
        for j in extras:
            print(f"  {paths[j]}: {describe(findings[j])}")
    if report.failures:
        print(f"\nMISSES ({len(report.failures)}):")
        sections = collections.OrderedDict()
        for section, msg in report.failures:
            sections.setdefault(section, []).append(msg)
        for section, msgs in sections.items():
            print(f"  [{section}]")
            for msg in msgs:
                print(f"    - {msg}")
    print(f"\ncheck_scan: {report.passed} passed, {len(report.failures)} failed")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
