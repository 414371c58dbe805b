#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Scans the generated key-store / archive / image corpus with the real keyward binary and checks
the findings against it (tests/support/make_store_corpus.sh; the text corpus has check_scan.py).

Usage (run with /usr/bin/python3, which has python3-jsonschema):
  tests/support/make_store_corpus.sh build/corpus
  /usr/bin/python3 tests/integration/check_store_scan.py --keyward build/bin/keyward \
      --corpus build/corpus --schema docs/findings.schema.json

What it checks (the corpus is OUTDIR/stores: tree/, manifest.tsv, decoys.txt, limits.tsv, secrets.txt):
  1. `keyward scan --format json --output F TREE` exits 1 and writes one keyward.findings/v1
     document (valid against the JSON Schema when that file exists) whose scan.stats.skipped has
     an "archive_*" key (the tree holds a 13-level zip chain and two 1 GiB bombs).
  2. Each manifest line is matched to its own finding: location.path ends with the relpath,
     location.member equals the member chain (absent when "-"), same kind and format; private
     keys and certificates as in check_scan.py (encrypted, algorithm, bits, curve, certificate
     tags); keystores by the store facts the tags name (see make_store_corpus.sh: opened,
     unopened, weak_password, password_exposed=PATH, truststore, inventory, legacy, modern,
     has_key, paired, chain, entry=NAME) and the algorithm of their private-key entry.
  3. Decoys: no private_key finding and no keystore with a private-key entry. No private key (nor
     keystore holding one) where the manifest expects none, and no more per file and member
     than it expects.
  4. The same scan with --no-archives exits 1, reports no archive member, and still finds every
     manifest line that is a file of its own (member "-"; encrypted zips aside); decoys hold.
  5. `--format jsonl` agrees with json; `--format text` exits 1 and writes something.
  6. Each limits.tsv directory scanned alone finishes within --limit-seconds (60) with an
     "archive_*" skip reason, and the manifest lines inside it (the shallow key of the nested
     zips) are still found.
  7. No line of secrets.txt (passwords, key body lines, base64 of the binary key files) appears in
     any output, stdout or stderr of any run, nor in any decoded JSON string.
Prints the scan wall times with and without --no-archives, a summary, every miss with its
reason, and a closing "check_store_scan: N passed, M failed" line; exits 0 when nothing failed, 1
on any miss, 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import base64
import collections
import dataclasses
import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_scan as base  # noqa: E402  (shared helpers: matching, schema, report, leaks)

CERT_TAGS = {"code_signing", "expired", "self_signed", "ca", "paired"}
STORE_FLAGS = {"opened", "unopened", "weak_password", "truststore", "inventory", "legacy", "modern",
               "has_key", "paired", "chain"}
STORE_VALUED = {"password_exposed", "entry"}
LEGACY_CIPHERS = {"rc2-40", "3des"}


# ------------------------------------------------------------------------------ inputs

@dataclasses.dataclass
class Expected:
    line: int
    relpath: str
    member: str      # "-" for none
    kind: str
    format: str
    encrypted: str
    algorithm: str
    bits: str
    curve: str
    tags: list[str]

    def label(self) -> str:
        where = self.relpath if self.member == "-" else f"{self.relpath} ! {self.member}"
        return f"{where} [{self.kind} {self.format}] (manifest line {self.line})"

    def flags(self) -> set[str]:
        return {t for t in self.tags if "=" not in t}

    def values(self, name: str) -> list[str]:
        return [t.split("=", 1)[1] for t in self.tags if t.startswith(name + "=")]


def load_manifest(path: str) -> list[Expected]:
    out = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            raw = raw.rstrip("\n")
            if not raw or raw.startswith("#"):
                continue
            cols = raw.split("\t")
            if len(cols) != 9:
                raise SystemExit(f"check_store_scan: {path}:{n}: expected 9 TAB-separated columns, got {len(cols)}")
            tags = [] if cols[8] == "-" else cols[8].split(",")
            for t in tags:
                name = t.split("=", 1)[0]
                if ("=" in t and name not in STORE_VALUED) or ("=" not in t and t not in STORE_FLAGS | CERT_TAGS):
                    raise SystemExit(f"check_store_scan: {path}:{n}: unknown tag {t!r}")
            out.append(Expected(n, *cols[:8], tags))
    return out


def load_limits(path: str) -> list[tuple[str, str]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            raw = raw.rstrip("\n")
            if raw:
                rel, _, what = raw.partition("\t")
                out.append((rel, what))
    return out


# ------------------------------------------------------------------------------ running keyward

@dataclasses.dataclass
class Run:
    name: str
    fmt: str
    argv: list[str]
    returncode: int
    output: str
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False


def run_scan(keyward: str, name: str, fmt: str, root: str, workdir: str, timeout: float,
             extra: list[str] | None = None) -> Run:
    out_file = os.path.join(workdir, f"scan.{name}.{fmt}")
    argv = [keyward, "scan", "--format", fmt, "--output", out_file, *(extra or []), root]
    env = dict(os.environ, NO_COLOR="1")
    start = time.monotonic()
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Run(name, fmt, argv, -1, "", "", f"timed out after {timeout:.0f} s", time.monotonic() - start, True)
    seconds = time.monotonic() - start
    output = ""
    if os.path.exists(out_file):
        with open(out_file, "rb") as f:
            output = f.read().decode("utf-8", errors="replace")
    return Run(name, fmt, argv, p.returncode, output, p.stdout.decode("utf-8", errors="replace"),
               p.stderr.decode("utf-8", errors="replace"), seconds)


def parse_doc(run: Run, report: base.Report, section: str):
    try:
        return json.loads(run.output)
    except ValueError as err:
        report.fail(section, f"the json output of `{' '.join(run.argv)}` does not parse: {err}")
        return None


# ------------------------------------------------------------------------------ findings

def finding_member(f: dict) -> str | None:
    loc = f.get("location") or {}
    member = loc.get("member")
    if member is None and "member_b64" in loc:
        member = base64.b64decode(loc["member_b64"]).decode("utf-8", errors="replace")
    return member or None


def entry_alias(e: dict) -> str:
    alias = e.get("alias")
    if alias is None and "alias_b64" in e:
        alias = base64.b64decode(e["alias_b64"]).decode("utf-8", errors="replace")
    return alias or ""


def key_entries(f: dict) -> list[dict]:
    return [e for e in (f.get("entries") or []) if isinstance(e, dict) and e.get("kind") == "private_key"]


def holds_private_key(f: dict) -> bool:
    return f.get("kind") == "private_key" or (f.get("kind") == "keystore" and bool(key_entries(f)))


def normalise_member(m: str | None) -> str | None:
    """Image layer blobs may be spelled "blobs/sha256/<hex>" or "sha256:<hex>" (docs/architecture.md): the
    same for the hint in a mismatch message, not for the match."""
    if m is None:
        return None
    return "!".join(p.replace("blobs/sha256/", "sha256:", 1) if p.startswith("blobs/sha256/") else p
                    for p in m.split("!"))


def describe(f: dict) -> str:
    text = base.describe(f)
    member = finding_member(f)
    if member:
        text += f" member={member}"
    store = f.get("store")
    if isinstance(store, dict):
        facts = [f"{k}={json.dumps(v)}" for k, v in store.items() if k in
                 ("opened", "weak_password", "password_exposed_in", "truststore", "weaknesses", "mac")]
        text += " store{" + " ".join(facts) + "}"
    entries = f.get("entries")
    if isinstance(entries, list):
        kinds = collections.Counter(e.get("kind") for e in entries if isinstance(e, dict))
        text += " entries{" + ",".join(f"{k}:{n}" for k, n in sorted(kinds.items())) + "}"
    return text


class Checker:
    """Compares one manifest line with one finding; returns why they differ ([] = they match)."""

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
        if e.kind == "keystore":
            why += self.store_mismatches(e, f)
        else:
            why += self.key_cert_mismatches(e, f)
        mode = (f.get("file") or {}).get("mode")
        if mode is not None and e.member == "-":
            real = f"{stat.S_IMODE(os.stat(os.path.join(self.tree, e.relpath)).st_mode):04o}"
            if mode != real:
                why.append(f"file.mode {mode!r} != {real!r}")
        return why

    def key_cert_mismatches(self, e: Expected, f: dict) -> list[str]:
        why: list[str] = []
        if e.kind == "certificate":
            facts = f.get("certificate") or {}
            fields = {"algorithm": "key_algorithm", "bits": "key_bits", "curve": "key_curve"}
            prefix = "certificate."
        else:
            facts = f.get("key") or {}
            fields = {k: k for k in ("algorithm", "bits", "curve")}
            prefix = "key."
        if e.encrypted != "-":
            want = e.encrypted == "true"
            got = (f.get("key") or {}).get("encrypted")
            if got is not want:
                why.append(f"key.encrypted {json.dumps(got)} != {json.dumps(want)}")
        for attr in ("algorithm", "bits", "curve"):
            want_s = getattr(e, attr)
            if want_s == "-":
                continue
            if e.kind == "certificate" and attr == "curve" and fields[attr] not in facts:
                continue
            want = int(want_s) if attr == "bits" else want_s
            got = facts.get(fields[attr])
            if got != want:
                why.append(f"{prefix}{fields[attr]} {json.dumps(got)} != {json.dumps(want)}")
        cert = f.get("certificate") or {}
        for tag in e.flags():
            if tag == "code_signing" and "codeSigning" not in (cert.get("extended_key_usage") or []):
                why.append("tag code_signing: certificate.extended_key_usage lacks codeSigning")
            elif tag == "expired":
                t = base.parse_time(cert.get("not_after"))
                if t is None or t >= self.now:
                    why.append(f"tag expired: certificate.not_after {cert.get('not_after')!r} is not in the past")
            elif tag == "self_signed" and cert.get("self_signed") is not True:
                why.append(f"tag self_signed: certificate.self_signed is {json.dumps(cert.get('self_signed'))}")
            elif tag == "ca" and cert.get("is_ca") is not True:
                why.append(f"tag ca: certificate.is_ca is {json.dumps(cert.get('is_ca'))}")
            elif tag == "paired":
                why += self.paired_with(f)
        return why

    def paired_with(self, f: dict) -> list[str]:
        pw = f.get("paired_with")
        if not isinstance(pw, list) or not pw:
            return ["tag paired: paired_with is missing or empty"]
        dangling = [i for i in pw if i not in self.ids]
        return [f"tag paired: paired_with names ids not in the document: {dangling}"] if dangling else []

    def store_mismatches(self, e: Expected, f: dict) -> list[str]:
        why: list[str] = []
        store = f.get("store")
        if not isinstance(store, dict):
            return ["no store object"]
        entries = [x for x in (f.get("entries") or []) if isinstance(x, dict)]
        keys = key_entries(f)
        weaknesses = store.get("weaknesses") or []
        flags = e.flags()
        inventory = "inventory" in flags

        # the private-key entry's algorithm, when the manifest gives it
        wanted = {a: getattr(e, a) for a in ("algorithm", "bits", "curve") if getattr(e, a) != "-"}
        if wanted:
            def entry_fact(x: dict, attr: str):
                k, c = x.get("key") or {}, x.get("certificate") or {}
                return k.get(attr, c.get({"algorithm": "key_algorithm", "bits": "key_bits",
                                          "curve": "key_curve"}[attr]))
            if not any(all(entry_fact(x, a) == (int(v) if a == "bits" else v) for a, v in wanted.items())
                       for x in keys):
                got = [{a: entry_fact(x, a) for a in wanted} for x in keys]
                why.append(f"no private_key entry with {wanted} (entries have {got})")

        if "opened" in flags and store.get("opened") is not True:
            why.append(f"tag opened: store.opened is {json.dumps(store.get('opened'))}")
        if "unopened" in flags and store.get("opened") is True:
            why.append("tag unopened: store.opened is true (its password is strong and exposed nowhere)")
        if "weak_password" in flags:
            if store.get("weak_password") is not True:
                why.append(f"tag weak_password: store.weak_password is {json.dumps(store.get('weak_password'))}")
        elif not inventory and store.get("weak_password") is True:
            why.append("store.weak_password is true, but no common or empty password opens this store")
        exposed = e.values("password_exposed")
        got_exposed = store.get("password_exposed_in") or ""
        if exposed:
            if not any(got_exposed == p or got_exposed.endswith("/" + p) for p in exposed):
                why.append(f"tag password_exposed: store.password_exposed_in {got_exposed!r} does not name {exposed[0]}")
        elif got_exposed and not inventory:
            why.append(f"store.password_exposed_in is {got_exposed!r}, but no file exposes this store's password")
        if "truststore" in flags or inventory:
            if store.get("truststore") is not True:
                why.append(f"tag truststore: store.truststore is {json.dumps(store.get('truststore'))}")
            if keys:
                why.append(f"tag truststore: {len(keys)} private_key entries")
        elif store.get("truststore") is True:
            why.append("store.truststore is true, but this store holds a private key")
        if inventory:
            # Not store.weaknesses: a JKS integrity check is SHA-1 whoever made it (a fact, reported);
            # inventory means it is not scored as an exposure.
            # docs/architecture.md: certificates in system trust stores (JDK cacerts) are trust_store: true.
            not_ts = [entry_alias(x) for x in entries
                      if isinstance(x.get("certificate"), dict) and x["certificate"].get("trust_store") is not True]
            if not_ts:
                why.append(f"tag inventory: {len(not_ts)} certificate entries without certificate.trust_store "
                           f"true, e.g. {not_ts[:2]}")
            severity = (f.get("risk") or {}).get("severity")
            if severity not in (None, "info", "low"):
                why.append(f"tag inventory: risk.severity {severity!r}, expected info or low")
        if "legacy" in flags:
            if not (LEGACY_CIPHERS & set(weaknesses)) or "sha1-mac" not in weaknesses:
                why.append(f"tag legacy: store.weaknesses {weaknesses} lack rc2-40/3des and sha1-mac")
        if "modern" in flags and weaknesses:
            why.append(f"tag modern: store.weaknesses {weaknesses} should be empty")
        if "has_key" in flags and not keys:
            why.append(f"tag has_key: no private_key entry (entries: {[x.get('kind') for x in entries]})")
        if "paired" in flags:
            ok = any((x.get("key") or {}).get("spki_sha256")
                     and (x.get("key") or {}).get("spki_sha256") == (x.get("certificate") or {}).get("spki_sha256")
                     for x in keys)
            if not ok and self.paired_with(f):
                why.append("tag paired: no private_key entry whose certificate.spki_sha256 equals its "
                           "key.spki_sha256, and no paired_with")
        if "chain" in flags:
            ok = any((x.get("chain_length") or 0) >= 2 for x in keys) or any(
                x.get("kind") == "certificate" and (x.get("certificate") or {}).get("is_ca") is True for x in entries)
            if not ok:
                why.append("tag chain: no private_key entry with chain_length >= 2 and no CA certificate entry")
        for name in e.values("entry"):
            aliases = [entry_alias(x) for x in entries]
            if not any(a == name or a.endswith("/" + name) for a in aliases):
                why.append(f"tag entry: no entry named {name!r} (aliases: {aliases[:5]})")
        return why


# ------------------------------------------------------------------------------ checks

def located(findings: list[dict], relpath: str, member: str | None) -> list[int]:
    want = None if member in (None, "-") else member
    return [j for j, f in enumerate(findings)
            if base.path_matches(base.finding_path(f), relpath) and finding_member(f) == want]


def match_manifest(expected: list[Expected], findings: list[dict], checker: Checker, report: base.Report,
                   section: str, per_format: dict | None = None) -> dict[int, int]:
    """Matches lines to findings one-to-one; reports every unmatched line with the reasons."""
    cands = [located(findings, e.relpath, e.member) for e in expected]
    edges = [[j for j in cands[i] if not checker.mismatches(e, findings[j])] for i, e in enumerate(expected)]
    match = base.max_matching(len(expected), edges)
    for i, e in enumerate(expected):
        name = f"{e.kind} {e.format}"
        if per_format is not None:
            per_format[name][1] += 1
        if i in match:
            if per_format is not None:
                per_format[name][0] += 1
            report.ok()
            continue
        if cands[i]:
            reasons = []
            for j in cands[i]:
                why = checker.mismatches(e, findings[j]) or ["matches, but is already matched to another manifest line"]
                reasons.append(f"      finding {describe(findings[j])}: " + "; ".join(why))
            report.fail(section, f"{e.label()}:\n" + "\n".join(reasons))
            continue
        # Nothing at this path and member: say what is in the file instead.
        in_file = [j for j, f in enumerate(findings) if base.path_matches(base.finding_path(f), e.relpath)]
        hint = ""
        if in_file:
            members = sorted({str(finding_member(findings[j])) for j in in_file})
            hint = f"; findings in this file have members {members[:6]}"
            if any(normalise_member(finding_member(findings[j])) == normalise_member(e.member) for j in in_file):
                hint += " (the same chain spelled differently: the brief asks for blobs/sha256/<digest>)"
        report.fail(section, f"{e.label()}: no finding at this path and member{hint}")
    return match


def check_decoys(decoys: list[str], findings: list[dict], report: base.Report, section: str) -> None:
    for rel in decoys:
        bad = [f for f in findings if base.path_matches(base.finding_path(f), rel) and holds_private_key(f)]
        report.check(not bad, section, f"{rel}: {len(bad)} finding(s) holding a private key: "
                     + "; ".join(describe(f) for f in bad))


def check_unexpected(expected: list[Expected], decoys: list[str], findings: list[dict],
                     report: base.Report) -> None:
    """No private key (nor keystore holding one) where the manifest has none; per file and member
    no more private_key findings than manifest lines."""
    want = collections.Counter((e.relpath, e.member) for e in expected if e.kind == "private_key")
    stores = {(e.relpath, e.member) for e in expected if e.kind == "keystore"}
    got: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    for f in findings:
        if not holds_private_key(f):
            continue
        path, member = base.finding_path(f), finding_member(f) or "-"
        if any(base.path_matches(path, d) for d in decoys):
            continue  # reported by the decoy check
        slot = next(((rel, mem) for rel, mem in set(want) | stores
                     if mem == member and base.path_matches(path, rel)), None)
        if slot is None:
            report.fail("unexpected", f"{path} ! {member}: a private key where the corpus has none: " + describe(f))
            continue
        got[slot].append(f)
    for slot, fs in sorted(got.items()):
        keys = [f for f in fs if f.get("kind") == "private_key"]
        report.check(len(keys) <= want.get(slot, 0), "unexpected",
                     f"{slot[0]} ! {slot[1]}: {len(keys)} private_key findings, the manifest expects "
                     f"{want.get(slot, 0)}: " + "; ".join(describe(f) for f in keys))


def skipped_archive(doc) -> list[str]:
    skipped = ((doc or {}).get("scan") or {}).get("stats", {}).get("skipped") or {}
    return sorted(k for k, v in skipped.items() if k.startswith("archive_") and v)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keyward", required=True, help="the keyward binary")
    ap.add_argument("--corpus", required=True, help="OUTDIR of tests/support/make_store_corpus.sh (holds stores/)")
    ap.add_argument("--schema", default="docs/findings.schema.json",
                    help="JSON Schema of the json output (skipped if the file does not exist)")
    ap.add_argument("--keep", metavar="DIR", help="keep the scan outputs in DIR")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per full-tree scan (default 600)")
    ap.add_argument("--limit-seconds", type=float, default=60.0,
                    help="a limits.tsv tree (archive bombs, deep nesting) must be scanned within this (default 60)")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list the findings not in the manifest")
    a = ap.parse_args()

    corpus = os.path.abspath(a.corpus)
    if os.path.isdir(os.path.join(corpus, "stores")):
        corpus = os.path.join(corpus, "stores")
    tree = os.path.join(corpus, "tree")
    for name in ("manifest.tsv", "decoys.txt", "secrets.txt", "limits.tsv"):
        if not os.path.isfile(os.path.join(corpus, name)):
            print(f"check_store_scan: {corpus}/{name} is missing: run tests/support/make_store_corpus.sh "
                  f"{a.corpus}", file=sys.stderr)
            return 2
    if not (os.path.isfile(a.keyward) and os.access(a.keyward, os.X_OK)):
        print(f"check_store_scan: {a.keyward} is not an executable file", file=sys.stderr)
        return 2
    keyward = os.path.abspath(a.keyward)
    schema_path = a.schema
    if not os.path.isabs(schema_path) and not os.path.exists(schema_path):
        repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        schema_path = os.path.join(repo_root, schema_path)
    expected = load_manifest(os.path.join(corpus, "manifest.tsv"))
    decoys = base.load_lines(os.path.join(corpus, "decoys.txt"))
    secrets = base.load_lines(os.path.join(corpus, "secrets.txt"))
    limits = load_limits(os.path.join(corpus, "limits.tsv"))

    workdir = a.keep or tempfile.mkdtemp(prefix="keyward-store-check-")
    os.makedirs(workdir, exist_ok=True)
    report = base.Report()
    try:
        full = run_scan(keyward, "full", "json", tree, workdir, a.timeout)
        noarc = run_scan(keyward, "no-archives", "json", tree, workdir, a.timeout, ["--no-archives"])
        jsonl = run_scan(keyward, "full", "jsonl", tree, workdir, a.timeout)
        text = run_scan(keyward, "full", "text", tree, workdir, a.timeout)
        limit_runs = [(rel, what, run_scan(keyward, "limit-" + rel.replace("/", "_"), "json",
                                           os.path.join(tree, rel), workdir, 2 * a.limit_seconds))
                      for rel, what in limits]
    finally:
        if not a.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    all_runs = [full, noarc, jsonl, text] + [r for _, _, r in limit_runs]

    def exit_one(run: Run, fmt: str) -> None:
        report.check(run.returncode == 1, f"exit code ({fmt})",
                     f"`{' '.join(run.argv)}` exited {run.returncode}, expected 1 (private keys exist)"
                     + (f"; stderr: {base.scrub(run.stderr.strip()[:500], secrets)}" if run.stderr.strip() else ""))

    # 1. the full scan: document, schema, archive limits
    exit_one(full, "json")
    doc = parse_doc(full, report, "document")
    findings = base.check_document(doc, tree, report) if doc is not None else []
    schema_ok = os.path.isfile(schema_path)
    if doc is not None:
        if schema_ok:
            base.validate_schema(doc, schema_path, report)
        else:
            print(f"note: {a.schema} does not exist; schema validation skipped")
        report.check(bool(skipped_archive(doc)), "archive limits",
                     f"full scan: scan.stats.skipped has no archive_* key: {doc.get('scan', {}).get('stats', {}).get('skipped')}")

    # 2. manifest lines, one-to-one
    now = dt.datetime.now(dt.timezone.utc)
    checker = Checker(tree, {f.get("id") for f in findings if f.get("id")}, now)
    per_format: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    match = match_manifest(expected, findings, checker, report, "missed", per_format)

    # 3. decoys and unexpected private keys
    check_decoys(decoys, findings, report, "decoy")
    check_unexpected(expected, decoys, findings, report)
    extras = [j for j in range(len(findings)) if j not in set(match.values())]

    # 4. --no-archives
    exit_one(noarc, "json --no-archives")
    ndoc = parse_doc(noarc, report, "no-archives")
    nfindings = base.check_document(ndoc, tree, report) if ndoc is not None else []
    if ndoc is not None and schema_ok:
        base.validate_schema(ndoc, schema_path, report)
    with_member = [f for f in nfindings if finding_member(f)]
    report.check(not with_member, "no-archives",
                 f"{len(with_member)} finding(s) inside archives with --no-archives, e.g. "
                 + "; ".join(f"{base.finding_path(f)} ! {finding_member(f)}" for f in with_member[:3]))
    plain = [e for e in expected if e.member == "-" and e.format != "zip-encrypted"]
    nchecker = Checker(tree, {f.get("id") for f in nfindings if f.get("id")}, now)
    nmatch = match_manifest(plain, nfindings, nchecker, report, "no-archives")
    check_decoys(decoys, nfindings, report, "no-archives decoy")

    # 5. jsonl and text
    jsonl_docs = []
    exit_one(jsonl, "jsonl")
    exit_one(text, "text")
    if jsonl.output:
        jsonl_docs = base.check_jsonl(jsonl, findings, report)
    else:
        report.fail("jsonl", "no jsonl output written")
    report.check(bool(text.output.strip() or text.stdout.strip()), "text", "the text run wrote nothing")

    # 6. archive limits, each tree alone
    limit_docs = []
    for rel, what, run in limit_runs:
        section = f"limits {rel}"
        report.check(not run.timed_out and run.seconds <= a.limit_seconds, section,
                     f"{what}: the scan took {run.seconds:.1f} s (limit {a.limit_seconds:.0f} s)"
                     + (" and was killed" if run.timed_out else ""))
        inside = [e for e in expected if e.relpath.startswith(rel.rstrip("/") + "/")]
        want_rc = 1 if any(e.kind == "private_key" for e in inside) else 0
        report.check(run.returncode == want_rc, section, f"`{' '.join(run.argv)}` exited {run.returncode}, "
                     f"expected {want_rc}" + (f"; stderr: {base.scrub(run.stderr.strip()[:300], secrets)}"
                                              if run.stderr.strip() else ""))
        if run.timed_out:
            continue
        ldoc = parse_doc(run, report, section)
        if ldoc is None:
            continue
        limit_docs.append(ldoc)
        lfindings = base.check_document(ldoc, os.path.join(tree, rel), report)
        report.check(bool(skipped_archive(ldoc)), section,
                     f"{what}: scan.stats.skipped has no archive_* key: "
                     f"{ldoc.get('scan', {}).get('stats', {}).get('skipped')}")
        lchecker = Checker(tree, {f.get("id") for f in lfindings if f.get("id")}, now)
        match_manifest(inside, lfindings, lchecker, report, section)
        check_decoys([d for d in decoys if d.startswith(rel.rstrip("/") + "/")], lfindings, report, section)

    # 7. no secret in any output
    texts: dict[str, str] = {}
    for run in all_runs:
        for part in ("output", "stdout", "stderr"):
            texts[f"{run.name} {run.fmt} {part}"] = getattr(run, part)
    decoded = [d for d in [doc, ndoc, *limit_docs] if d is not None] + list(jsonl_docs)
    texts["decoded JSON strings"] = "\n".join("\n".join(base.json_strings(d)) for d in decoded)
    leaks = 0
    for name, body in texts.items():
        found = [s for s in secrets if s in body]
        leaks += len(found)
        report.check(not found, "leak", f"{name}: {len(found)} secret line(s), e.g. "
                     + ", ".join(base.redact(s) for s in found[:3]))

    # summary
    print(f"keyward: {keyward}")
    print(f"corpus:  {corpus} ({len(expected)} expected findings, {len(decoys)} decoys, "
          f"{len(secrets)} secret lines, {len(limits)} limit trees)")
    print(f"scan:    {len(findings)} findings, {len(match)}/{len(expected)} manifest lines matched, "
          f"{len(extras)} findings not in the manifest, {leaks} secret leaks")
    print(f"         --no-archives: {len(nfindings)} findings, {len(nmatch)}/{len(plain)} file-level lines matched")
    print(f"wall time: {full.seconds:.2f} s with archives, {noarc.seconds:.2f} s with --no-archives"
          + "".join(f"; {rel} alone {run.seconds:.2f} s" for rel, _, run in limit_runs))
    if doc is not None:
        print(f"archive skips: {skipped_archive(doc)}")
    print("\nper kind and format (matched/expected):")
    for name in sorted(per_format):
        got, want = per_format[name]
        print(f"  {'  ' if got == want else '!!'} {name:38s} {got}/{want}")
    if a.verbose and extras:
        print("\nfindings not in the manifest:")
        for j in extras:
            print(f"  {base.finding_path(findings[j])}: {describe(findings[j])}")
    if report.failures:
        print(f"\nMISSES ({len(report.failures)}):")
        sections: dict[str, list[str]] = collections.OrderedDict()
        for section, msg in report.failures:
            sections.setdefault(section, []).append(msg)
        for section, msgs in sections.items():
            print(f"  [{section}]")
            for msg in msgs:
                print(f"    - {msg}")
    print(f"\ncheck_store_scan: {report.passed} passed, {len(report.failures)} failed")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
