#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Builds rules/data/known-public-keys.txt: keys that Debian packages ship as test data.

A private key that an installed package ships in its test data (or compiles into a library for
its self-tests) is on every machine that installs the package: its private half is public, and
a scan that finds a copy of it elsewhere should say so (factor known-public-key, docs/rules.md,
"Provenance").

Usage (from the repository root, after building keyward):
  scripts/build-known-public-keys.py --keyward build/bin/keyward            # scans /usr
  scripts/build-known-public-keys.py --report scan.json                     # reuses a scan
  scripts/build-known-public-keys.py --roots /usr /opt --output /tmp/list.txt

What it does:
  1. Scans ROOTS (default /usr) with `keyward scan --format json --show-vendor` (or reads
     --report, a keyward.findings/v1 document).
  2. Reads dpkg's file lists (DPKG_INFO/*.list) and keeps the private keys and key stores whose
     file is listed by a package (on a merged-/usr system /usr/lib/x may be listed as /lib/x).
  3. Of those, keeps the ones that are test or example material: a path or archive-member
     component such as test, tests, testdata, fixtures, certdata, dummyserver, examples, or a key
     compiled into code (a .so/.a library, a .class member, or a DER key embedded in any
     packaged binary such as an executable's built-in benchmark keys) for self-tests.
  4. Writes "<spki_sha256> <package>:<path>[!member]" per key, sorted by SPKI, one line per SPKI
     (the first place in path order), under a header. Only public SPKI hashes are written: no
     key body is read by this script or kept in the list.
The list is merged with the existing one unless --replace is given, so keys seen on other
machines stay. Exits 0 on success, 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys

HEADER = """\
# Keys published in public test suites and documentation: their private half ships with the
# software, so they protect nothing (factor known-public-key). Format as known-keys.txt:
# "<SPKI SHA-256 hex> <package>:<path>". Built by scripts/build-known-public-keys.py from the
# private keys that Debian packages ship as test data or compile into libraries for self-tests
# (docs/rules.md, "Provenance"); a team adds its own in a known-public-keys.txt in --rules DIR.
# Public SPKI hashes only: no key material is kept here.
"""

TEST_COMPONENT = re.compile(
    r"(^|[._-])(tests?|testdata|test_data|testing|testsuite|selftests?|unittests?|fixtures?|__tests__|"
    r"specs?|certdata|dummyserver|examples?|samples?|demos?)([._-]|$)",
    re.I,
)
COMPILED = re.compile(r"(\.so(\.\d+)*|\.a|\.class|\.dll)$")
MERGED = ("/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/")


def load_owners(info_dir: str) -> dict[str, str]:
    owners: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(info_dir, "*.list"))):
        package = os.path.basename(path)[: -len(".list")].split(":")[0]
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                owners.setdefault(line.rstrip("\n"), package)
    return owners


def owner_of(owners: dict[str, str], path: str) -> str | None:
    if path in owners:
        return owners[path]
    if path.startswith("/usr/") and path[4:].startswith(MERGED):
        return owners.get(path[4:])
    if path.startswith(MERGED):
        return owners.get("/usr" + path)
    return None


def is_test_material(path: str, member: str, encoding: str = "") -> bool:
    if encoding == "embedded":  # raw DER inside a packaged binary: compiled in, shipped to everyone
        return True
    parts = path.split("/") + re.split(r"[!/]", member)
    if any(TEST_COMPONENT.search(p) for p in parts if p):
        return True
    inner = member.split("!")[-1] if member else ""
    return bool(COMPILED.search(path) or COMPILED.search(inner))


def spkis_of(finding: dict) -> list[str]:
    out = []
    key = finding.get("key") or {}
    if key.get("spki_sha256"):
        out.append(key["spki_sha256"])
    for entry in finding.get("entries") or []:
        if entry.get("kind") != "private_key":
            continue
        s = (entry.get("key") or {}).get("spki_sha256") or (entry.get("certificate") or {}).get("spki_sha256")
        if s:
            out.append(s)
    return [s.lower() for s in out if re.fullmatch(r"[0-9a-fA-F]{64}", s)]


def scan(keyward: str, roots: list[str]) -> dict:
    proc = subprocess.run(
        [keyward, "scan", *roots, "--format", "json", "--quiet", "--one-file-system", "--show-vendor"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"build-known-public-keys: keyward scan failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def read_existing(path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            spki, _, name = line.partition(" ")
            out[spki.lower()] = name.strip()
    return out


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keyward", default=os.path.join(here, "..", "build", "bin", "keyward"))
    ap.add_argument("--roots", nargs="+", default=["/usr"])
    ap.add_argument("--report", help="a keyward JSON report to use instead of scanning")
    ap.add_argument("--dpkg-info", default="/var/lib/dpkg/info")
    ap.add_argument("--output", default=os.path.join(here, "..", "rules", "data", "known-public-keys.txt"))
    ap.add_argument("--replace", action="store_true", help="drop the keys the existing list holds")
    args = ap.parse_args()

    owners = load_owners(args.dpkg_info)
    if not owners:
        print(f"build-known-public-keys: no dpkg file lists in {args.dpkg_info}", file=sys.stderr)
        return 2
    if args.report:
        with open(args.report, encoding="utf-8") as f:
            doc = json.load(f)
    else:
        doc = scan(args.keyward, args.roots)

    found: dict[str, str] = {}
    places = sorted(
        (f for f in doc.get("findings", []) if f.get("kind") in ("private_key", "keystore")),
        key=lambda f: (f["location"]["path"], f["location"].get("member", "")),
    )
    for finding in places:
        path, member = finding["location"]["path"], finding["location"].get("member", "")
        package = owner_of(owners, path)
        if package is None or not is_test_material(path, member, finding.get("encoding", "")):
            continue
        name = f"{package}:{path}" + (f"!{member}" if member else "")
        for spki in spkis_of(finding):
            found.setdefault(spki, name.replace(" ", "_"))

    merged = {} if args.replace else read_existing(args.output)
    added = sum(1 for s in found if s not in merged)
    merged.update({s: n for s, n in found.items() if s not in merged})
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(HEADER)
        for spki in sorted(merged):
            f.write(f"{spki} {merged[spki]}\n")
    print(f"build-known-public-keys: {len(found)} package test keys seen, {added} new, {len(merged)} in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
