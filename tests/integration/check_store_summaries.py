#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""How keyward describes what key stores and key files hold (issue 13, "Found on the way"),
checked end to end with the real binary on stores made at test time by openssl, keytool and gpg.

Usage: check_store_summaries.py --keyward build/bin/keyward

  1. A PKCS#12 (openssl pkcs12 -export with a CA) and a JKS (keytool -importkeystore from it)
     whose one key entry carries a two-certificate chain: JSON `store.certificates` is 2, the text
     report says "1 key, 2 certificates" and the SARIF message "1 private key and 2 certificates".
  2. A JCEKS store holding only a secret (AES) key is a secret key everywhere: the factor
     `secret-key`, never `private-key`, and no text or SARIF output calls it a private key.
     A JCEKS store with both keeps `private-key` and names both.
  3. `gpg --export-secret-subkeys` (the primary key a gnu-dummy stub, S2K mode 1001; the subkeys
     protected by a passphrase), armored and binary: each file is one encrypted private-key
     finding whose fingerprint is a subkey's, never the stub's.
Needs openssl, keytool and gpg; a tool that is missing skips its part (said on stdout), unless
KEYWARD_REQUIRE_TOOLS=1. Exits 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

FAILS: list[str] = []


def check(cond: bool, what: str) -> None:
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(cmd: list[str], cwd: str, ok=(0,)) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if p.returncode not in ok:
        sys.stderr.write(f"{cmd[0]} exited {p.returncode}: {(p.stdout + p.stderr)[-2000:]}\n")
        raise SystemExit(2)
    return p


def have(tool: str) -> bool:
    if shutil.which(tool):
        return True
    if os.environ.get("KEYWARD_REQUIRE_TOOLS") == "1":
        sys.stderr.write(f"{tool} is required\n")
        raise SystemExit(2)
    print(f"skip: {tool} not installed")
    return False


class Scan:
    """One directory scanned as JSON, text (with factors) and SARIF."""

    def __init__(self, keyward: str, root: str):
        base = [keyward, "scan", "--no-nearby-passwords", root]
        self.doc = json.loads(run(base + ["--format", "json"], root, ok=(0, 1)).stdout)
        self.text = run(base + ["--format", "text", "--explain"], root, ok=(0, 1)).stdout
        self.sarif = run(base + ["--format", "sarif"], root, ok=(0, 1)).stdout

    def finding(self, name: str) -> dict:
        hits = [f for f in self.doc["findings"] if f["location"]["path"].endswith("/" + name)]
        if len(hits) != 1:
            raise SystemExit(f"expected one finding for {name}, got {len(hits)}")
        return hits[0]

    def text_block(self, name: str) -> str:
        """The text report's lines for the finding of `name`, up to the next finding."""
        lines = self.text.splitlines()
        start = next(i for i, line in enumerate(lines) if line.rstrip().endswith("/" + name))
        end = start + 1
        while end < len(lines) and lines[end].startswith("    "):
            end += 1
        return "\n".join(lines[start:end])

    def sarif_message(self, name: str) -> str:
        for r in json.loads(self.sarif)["runs"][0]["results"]:
            uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            if uri.endswith(name):
                return r["message"]["text"]
        raise SystemExit(f"no SARIF result for {name}")


def factor_ids(f: dict) -> list[str]:
    return [x["id"] for x in f["risk"]["factors"]]


def make_chain_stores(d: str) -> list[str]:
    sh = lambda *c: run(list(c), d)  # noqa: E731
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=Summary Test CA", "-days", "30")
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=summary leaf")
    sh("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
       "-CAcreateserial", "-out", "leaf.crt", "-days", "30")
    sh("openssl", "pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.crt", "-certfile", "ca.crt",
       "-out", "chain.p12", "-passout", "pass:changeit")
    stores = ["chain.p12"]
    if have("keytool"):
        sh("keytool", "-importkeystore", "-noprompt", "-srckeystore", "chain.p12", "-srcstoretype", "PKCS12",
           "-srcstorepass", "changeit", "-destkeystore", "chain.jks", "-deststoretype", "JKS",
           "-deststorepass", "changeit")
        stores.append("chain.jks")
    for f in ("ca.key", "ca.crt", "leaf.key", "leaf.csr", "leaf.crt", "ca.srl"):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))
    return stores


def check_chains(keyward: str, d: str) -> None:
    stores = make_chain_stores(d)
    scan = Scan(keyward, d)
    for name in stores:
        f = scan.finding(name)
        chains = [e.get("chain_length") for e in f["entries"] if e["kind"] == "private_key"]
        check(chains == [2], f"{name}: one key entry with a two-certificate chain ({chains})")
        check(f["store"].get("certificates") == 2, f"{name}: store.certificates is 2")
        block = scan.text_block(name)
        check("1 key, 2 certificates" in block, f"{name}: text says 1 key, 2 certificates")
        msg = scan.sarif_message(name)
        check("holding 1 private key and 2 certificates" in msg, f"{name}: SARIF names the 2 certificates")


def check_secret_keys(keyward: str, d: str) -> None:
    if not have("keytool"):
        return
    kt = ["keytool", "-noprompt", "-storetype", "JCEKS", "-storepass", "changeit", "-keypass", "changeit"]
    run(kt + ["-keystore", "secret.jceks", "-genseckey", "-alias", "aes", "-keyalg", "AES", "-keysize", "128"], d)
    run(kt + ["-keystore", "both.jceks", "-genseckey", "-alias", "hmac", "-keyalg", "HmacSHA256", "-keysize", "256"], d)
    run(kt + ["-keystore", "both.jceks", "-genkeypair", "-alias", "rsa", "-keyalg", "RSA", "-keysize", "2048",
              "-dname", "CN=both"], d)
    scan = Scan(keyward, d)
    secret = scan.finding("secret.jceks")
    ids = factor_ids(secret)
    check("secret-key" in ids and "private-key" not in ids, f"secret.jceks: factor secret-key only ({ids})")
    block = scan.text_block("secret.jceks")
    check("private key" not in block.lower(), "secret.jceks: the text report never says private key")
    check("1 secret key" in block, "secret.jceks: the text report says 1 secret key")
    check('secret key "aes"' in block, "secret.jceks: its entry is listed as a secret key")
    msg = scan.sarif_message("secret.jceks")
    check("private key" not in msg.lower() and "1 secret key" in msg, f"secret.jceks: SARIF message ({msg})")
    both = scan.finding("both.jceks")
    ids = factor_ids(both)
    check("private-key" in ids and "secret-key" not in ids, f"both.jceks: factor private-key ({ids})")
    block = scan.text_block("both.jceks")
    check("1 key, 1 secret key" in block, "both.jceks: the text report names both kinds")
    msg = scan.sarif_message("both.jceks")
    check("1 private key, 1 secret key" in msg, f"both.jceks: SARIF message ({msg})")


def check_gpg_subkeys(keyward: str, d: str) -> None:
    if not have("gpg"):
        return
    home = os.path.join(d, "gnupg")
    os.mkdir(home, 0o700)
    gpg = ["gpg", "--homedir", home, "--batch", "--quiet", "--pinentry-mode", "loopback",
           "--passphrase", "subkey test pass"]
    try:
        run(gpg + ["--quick-gen-key", "Sub Tester <sub@example.org>", "ed25519", "cert"], d)
        colons = run(gpg + ["--with-colons", "-K", "sub@example.org"], d).stdout
        fprs = [line.split(":")[9] for line in colons.splitlines() if line.startswith("fpr:")]
        run(gpg + ["--quick-add-key", fprs[0], "cv25519", "encr"], d)
        run(gpg + ["--quick-add-key", fprs[0], "ed25519", "sign"], d)
        colons = run(gpg + ["--with-colons", "-K", "sub@example.org"], d).stdout
        fprs = [line.split(":")[9] for line in colons.splitlines() if line.startswith("fpr:")]
        out = os.path.join(d, "out")
        os.mkdir(out)
        for name, extra in (("subkeys.asc", ["--armor"]), ("subkeys.gpg", [])):
            run(gpg + extra + ["--output", os.path.join(out, name), "--export-secret-subkeys", "sub@example.org"], d)
        listed = run(["gpg", "--list-packets", os.path.join(out, "subkeys.gpg")], d, ok=(0, 2)).stdout
        check("gnu-dummy" in listed, "gpg wrote the primary key as a gnu-dummy stub")
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True)
    scan = Scan(keyward, out)
    check(len(scan.doc["findings"]) == 2, f"one finding per export ({len(scan.doc['findings'])})")
    for name in ("subkeys.asc", "subkeys.gpg"):
        f = scan.finding(name)
        key = f.get("key", {})
        check(f["kind"] == "private_key" and key.get("encrypted") is True, f"{name}: an encrypted private key")
        check(key.get("pgp_fingerprint") in fprs[1:], f"{name}: a subkey's fingerprint, not the stub's")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keyward", required=True)
    args = ap.parse_args()
    keyward = os.path.abspath(args.keyward)
    if not have("openssl"):
        return 0
    with tempfile.TemporaryDirectory(prefix="keyward-summaries-") as tmp:
        for part, fn in (("chains", check_chains), ("secret", check_secret_keys),
                         ("gpg", check_gpg_subkeys)):
            d = os.path.join(tmp, part)
            os.mkdir(d)
            fn(keyward, d)
    print(f"check_store_summaries: {len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
