#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The HTML report in chromium (docs/formats/html.md): makes a tree of keys and certificates at
test time (an RSA, an EC and an Ed25519 key; certificates expiring in 20 and 200 days and one
expired; a key in a file named `<img src=x onerror=alert(1)>.pem`), plans it with
`keyward plan`, renders `keyward scan TREE --format html --plan plan.json`, and runs
tests/browser/html_report.test.mjs on the page (tests/browser/lib/browser.mjs).

Usage: run_html_report.py --bin build/bin   (env KEYWARD_NODE_MODULES, KEYWARD_SCREENSHOTS)
Prints node's output and exits with its status (2 when the setup fails).
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import npm_packages  # noqa: E402
HOSTILE = "<img src=x onerror=alert(1)>.pem"


def run(cmd: list[str], ok=(0,)) -> None:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in ok:
        sys.stderr.write(f"{cmd[:2]} exited {p.returncode}: {(p.stdout + p.stderr)[-2000:]}\n")
        raise SystemExit(2)


def certificate(path: str, cn: str, not_before: datetime.datetime, not_after: datetime.datetime) -> None:
    """A self-signed EC certificate (python3-cryptography: openssl 3.0 cannot date one in the past)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def make_tree(tree: str) -> None:
    genpkey = {"rsa.pem": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
               "ec.pem": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
               "ed25519.pem": ["-algorithm", "ED25519"], HOSTILE: ["-algorithm", "ED25519"]}
    for name, args in genpkey.items():
        run(["openssl", "genpkey", *args, "-out", os.path.join(tree, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    certificate(os.path.join(tree, "soon.crt"), "soon.example", now - 300 * day, now + 20 * day)
    certificate(os.path.join(tree, "later.crt"), "later.example", now - day, now + 200 * day)
    certificate(os.path.join(tree, "expired.crt"), "expired.example", now - 400 * day, now - 30 * day)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    keyward = os.path.join(os.path.abspath(args.bin), "keyward")
    modules = os.path.join(os.environ.get("KEYWARD_NODE_MODULES", ""), "node_modules", "playwright-core")
    if (skip := npm_packages.missing(modules, "run_html_report")) is not None:
        return skip
    with tempfile.TemporaryDirectory(prefix="keyward-html-") as work:
        tree = os.path.join(work, "tree")
        os.mkdir(tree)
        make_tree(tree)
        scan, plan, report = (os.path.join(work, n) for n in ("scan.json", "plan.json", "report.html"))
        run([keyward, "scan", tree, "--format", "json", "-o", scan], ok=(0, 1))
        run([keyward, "plan", scan, "--format", "json", "-o", plan])
        run([keyward, "scan", tree, "--format", "html", "--plan", plan, "-o", report], ok=(0, 1))
        p = subprocess.run(["node", os.path.join(HERE, "html_report.test.mjs"), report], capture_output=True,
                           text=True, timeout=240)
        sys.stdout.write(p.stdout + p.stderr)
        return p.returncode


if __name__ == "__main__":
    sys.exit(main())
