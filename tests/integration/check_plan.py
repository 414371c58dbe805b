#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""keyward plan on a real scan: keys made now by openssl, scanned by keyward scan --format json,
planned by keyward plan; the JSON plan validates against docs/plan.schema.json, a key in two
files is one item with two clean-ups, and no key bytes reach any view of the plan.

Usage: check_plan.py --bin BUILD/bin --source SOURCE_DIR (run with /usr/bin/python3, which has
python3-jsonschema)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import jsonschema


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def make_tree(root):
    os.makedirs(os.path.join(root, "etc"))
    os.makedirs(os.path.join(root, "srv"))
    app = os.path.join(root, "etc", "app.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", app],
                   check=True, capture_output=True)
    shutil.copy(app, os.path.join(root, "srv", "copy.key"))
    subprocess.run(["openssl", "req", "-new", "-x509", "-key", app, "-subj", "/CN=app.example", "-days", "30",
                    "-out", os.path.join(root, "etc", "app.crt")], check=True, capture_output=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "ED25519", "-out", os.path.join(root, "srv", "ed.key")],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024",
                    "-out", os.path.join(root, "srv", "old.key")], check=True, capture_output=True)
    return app


def key_lines(root):
    """The base64 body lines of every private key made, which no plan may contain."""
    lines = set()
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".key"):
                with open(os.path.join(d, f), encoding="ascii") as fh:
                    lines |= {ln.strip() for ln in fh if ln.strip() and not ln.startswith("-----")}
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    keyward = os.path.join(a.bin, "keyward")
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="keyward-plan-") as tmp:
        tree = os.path.join(tmp, "tree")
        app = make_tree(tree)
        scan = os.path.join(tmp, "scan.json")
        r = run([keyward, "scan", "--format", "json", "-o", scan, tree])
        check(r.returncode in (0, 1), f"scan exit {r.returncode}: {r.stderr}")
        r = run([keyward, "plan", scan, "--format", "json"])
        check(r.returncode == 0, f"plan exit {r.returncode}: {r.stderr}")
        plan = json.loads(r.stdout)
        with open(os.path.join(a.source, "docs", "plan.schema.json"), encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        for err in cls(schema, format_checker=jsonschema.FormatChecker()).iter_errors(plan):
            failures.append("schema: " + "/".join(map(str, err.absolute_path)) + ": " + err.message[:200])

        items = plan["items"]
        check(len(items) == 3, f"3 items expected (one key in two files, ed25519, rsa-1024), got {len(items)}")
        copied = [i for i in items if len(i["places"]) == 2]
        check(len(copied) == 1, "the key in two files is one item")
        if copied:
            cleanups = [s["path"] for s in copied[0]["steps"] if s["kind"] == "cleanup"]
            check(sorted(cleanups) == sorted([app, os.path.join(tree, "srv", "copy.key")]),
                  f"one clean-up per copy: {cleanups}")
            check(copied[0]["strategy"] == "regenerate", "an unencrypted key is regenerated")
        old = [i for i in items if i["algorithm"] == "rsa-1024"]
        check(len(old) == 1 and any(b["code"] == "algorithm-refused-by-policy" for b in old[0]["blockers"]),
              "rsa-1024 is refused by the policy")
        check([i["rank"] for i in items] == list(range(1, len(items) + 1)), "ranks 1..n in order")
        check(plan["summary"]["cleanups"] == 4, f"4 clean-ups: {plan['summary']}")

        secrets = key_lines(tree)
        views = [r.stdout]
        for fmt in ("markdown", "text"):
            out = os.path.join(tmp, "plan." + fmt)
            r = run([keyward, "plan", scan, "--format", fmt, "-o", out])
            check(r.returncode == 0, f"plan --format {fmt} exit {r.returncode}: {r.stderr}")
            with open(out, encoding="utf-8") as f:
                views.append(f.read())
            check(copied and copied[0]["id"] in views[-1], f"the {fmt} view names the items")
        check(not any(s in v for s in secrets for v in views), "no key bytes in any view of the plan")

        r = run([keyward, "plan", os.path.join(tmp, "missing.json")])
        check(r.returncode == 2, f"a missing findings file exits 2, got {r.returncode}")
        bad = os.path.join(tmp, "hsm")
        os.makedirs(bad)
        with open(os.path.join(bad, "policy.yaml"), "w", encoding="utf-8") as f:
            f.write("rules:\n  - id: x\n    match: any\n    profile: nowhere\n    token: t\n")
        r = run([keyward, "plan", scan, "--hsm-dir", bad])
        check(r.returncode == 2 and "nowhere" in r.stderr, f"a rule naming an unknown profile exits 2: {r.stderr}")

    for f in failures:
        print("FAIL:", f)
    print("ok" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
