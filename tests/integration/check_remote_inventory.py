#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""`keyward remote --inventory` against real OpenSSH sshds on 127.0.0.1 (issue 16, docs/remote.md).

Usage:
  /usr/bin/python3 tests/integration/check_remote_inventory.py --bin build/bin --schema docs/findings.schema.json

What it checks (each line of output is one check; the run goes on after a failure):
  1. An inventory of one good host, one down (a closed port) and one whose key known_hosts does not
     hold (another key under its name): all three are reported, with statuses ok / unreachable /
     host_key_mismatch, in the status table and in the document's `hosts`, and the run exits 3.
  2. The good host's findings (a key made at test time) are in the merged document, each naming
     its host in location.host, and the document validates against the findings schema.
  3. --output-dir: the good host's own document, hosts.json with all three statuses, nothing for
     the hosts that were not scanned.
  4. Only the good host: exit 1 (a private key found); --parallel 1 gives the same ids.
  5. `keyward scan LOCAL ssh://.../SAME` with --package-db naming the key: the local finding is
     package-owned, the remote one is not (this machine's package database says nothing of
     another host's files).
  6. No key body in any output.
Exits 0 when every check passed, 1 otherwise, 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import check_fleet as fleet  # noqa: E402  (check counters, run, key makers)
from sshd import Sshd, dead_port  # noqa: E402

check, run = fleet.check, fleet.run
OUTPUTS: list[str] = []


def remote(args, *extra: str) -> subprocess.CompletedProcess:
    p = run([args.keyward, "remote", *extra], timeout=300)
    OUTPUTS.append(p.stdout + p.stderr)
    return p


def load(path: str) -> dict:
    try:
        with open(path) as f:
            OUTPUTS.append(f.read())
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return {}


def statuses(doc: dict) -> dict:
    return {h.get("name"): h.get("status") for h in doc.get("hosts", [])}


def validate(args, doc: dict, what: str) -> None:
    try:
        import jsonschema
    except ImportError:
        check(False, f"{what}: python3-jsonschema is installed (make deps)")
        return
    with open(args.schema) as f:
        schema = json.load(f)
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]
    check(not errors, f"{what}: validates against findings.schema.json", "; ".join(errors[:3]))


def make_tree(root: str) -> str:
    key = os.path.join(root, "srv", "app", "deploy.pem")
    fleet.make_key(key)
    with open(os.path.join(root, "srv", "notes.txt"), "w") as f:
        f.write("no key here\n")
    for dirpath, _, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for n in filenames:
            os.chmod(os.path.join(dirpath, n), 0o644)
    return key


def write_inventory(path: str, tree: str, good: Sshd, bad: Sshd, wrong_known_hosts: str, down_port: int,
                    only_good: bool = False) -> str:
    lines = [
        "defaults: {user: root, paths: [%s]}" % tree,
        "hosts:",
        "  - {host: 127.0.0.1, port: %d, name: good, known_hosts: %s}" % (good.port, good.known_hosts),
    ]
    if not only_good:
        lines += [
            "  - {host: 127.0.0.1, port: %d, name: down}" % down_port,
            "  - {url: 'ssh://root@127.0.0.1:%d', name: badkey, known_hosts: %s}" % (bad.port, wrong_known_hosts),
        ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def check_three_hosts(args, tmp: str, inventory: str, good: Sshd) -> None:
    out = os.path.join(tmp, "fleet.json")
    p = remote(args, "--inventory", inventory, "--format", "json", "-o", out, "-i", good.client_key,
               "--connect-timeout", "5s")
    check(p.returncode == 3, "one host down and one with a bad host key: exit 3", f"rc={p.returncode} {p.stderr[-500:]}")
    for name, status in (("good", "ok"), ("down", "unreachable"), ("badkey", "host_key_mismatch")):
        check(any(l.split()[:2] == [name, status] for l in p.stderr.splitlines()),
              f"the status table shows {name} {status}", p.stderr[-500:])
    doc = load(out)
    want = {"good": "ok", "down": "unreachable", "badkey": "host_key_mismatch"}
    check(statuses(doc) == want, "the document's hosts list all three with their statuses", str(statuses(doc)))
    label = f"127.0.0.1:{good.port}"
    findings = doc.get("findings", [])
    check(any(f.get("kind") == "private_key" and f["location"]["path"].endswith("/srv/app/deploy.pem")
              for f in findings), "the good host's key is in the merged document", str(len(findings)))
    hosts = {f["location"].get("host") for f in findings}
    check(hosts == {label}, f"every finding names its host ({label})", str(hosts))
    check(doc.get("scan", {}).get("complete") is False, "the merged document is marked incomplete")
    validate(args, doc, "the merged document")


def check_output_dir(args, tmp: str, inventory: str, good: Sshd) -> None:
    outdir = os.path.join(tmp, "per-host")
    p = remote(args, "--inventory", inventory, "--format", "json", "--output-dir", outdir, "-i", good.client_key,
               "--connect-timeout", "5s", "-q")
    check(p.returncode == 3, "--output-dir: exit 3 as well", f"rc={p.returncode} {p.stderr[-300:]}")
    check(p.stderr.strip() == "", "-q: no status table", p.stderr[-300:])
    listing = sorted(os.listdir(outdir)) if os.path.isdir(outdir) else []
    check(listing == ["good.json", "hosts.json"], "--output-dir: good.json and hosts.json only", str(listing))
    doc = load(os.path.join(outdir, "good.json"))
    check(any(f.get("kind") == "private_key" for f in doc.get("findings", [])), "--output-dir: good.json has the key")
    check("hosts" not in doc, "--output-dir: a host's document has no hosts list")
    validate(args, doc, "good.json")
    check(statuses(load(os.path.join(outdir, "hosts.json"))) ==
          {"good": "ok", "down": "unreachable", "badkey": "host_key_mismatch"},
          "--output-dir: hosts.json has every host's status")


def check_good_only(args, tmp: str, inventory: str, good: Sshd) -> None:
    ids = []
    for parallel in ("4", "1"):
        out = os.path.join(tmp, f"good-{parallel}.json")
        p = remote(args, "--inventory", inventory, "--format", "json", "-o", out, "-i", good.client_key,
                   "--parallel", parallel, "-q")
        check(p.returncode == 1, f"--parallel {parallel}: every host whole and a key found: exit 1",
              f"rc={p.returncode} {p.stderr[-300:]}")
        ids.append(sorted(f["id"] for f in load(out).get("findings", [])))
    check(ids[0] == ids[1] and ids[0], "--parallel 1 and 4 give the same ids")


def check_provenance_local_only(args, tmp: str, tree: str, key: str, good: Sshd) -> None:
    dpkg = os.path.join(tmp, "dpkg")
    os.makedirs(dpkg)
    with open(os.path.join(dpkg, "libfake:amd64.list"), "w") as f:
        f.write(f"/.\n{key}\n")
    p = run([args.keyward, "scan", tree, good.url(tree), "--format", "json", "-q", "--package-db", dpkg,
             "-i", good.client_key, "--known-hosts", good.known_hosts])
    OUTPUTS.append(p.stdout + p.stderr)
    doc = json.loads(p.stdout) if p.stdout.strip() else {}

    def factors(remote_side: bool) -> set[str]:
        for f in doc.get("findings", []):
            if f["location"]["path"] == key and bool(f["location"].get("host")) == remote_side:
                return {x.get("id") for x in f.get("risk", {}).get("factors", [])}
        return {"(no such finding)"}

    check("package-owned" in factors(False), "scan LOCAL: this machine's package database applies locally",
          str(factors(False)))
    check("package-owned" not in factors(True) and "(no such finding)" not in factors(True),
          "scan ssh://: it does not apply to the same path on another host", str(factors(True)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--schema", required=True)
    args = ap.parse_args()
    args.keyward = os.path.join(args.bin, "keyward")
    if not os.path.exists("/usr/sbin/sshd"):
        print("check_remote_inventory: /usr/sbin/sshd is missing (install openssh-server: make deps)")
        return 2
    tmp = tempfile.mkdtemp(prefix="keyward-remote-inventory.")
    os.chmod(tmp, 0o755)
    tree = os.path.join(tmp, "tree")
    key = make_tree(tree)
    try:
        with Sshd(os.path.join(tmp, "a")) as good, Sshd(os.path.join(tmp, "b")) as bad:
            # known_hosts for the bad host: its name with another server's key (good's).
            wrong = bad.write_known_hosts(os.path.join(tmp, "wrong_known_hosts"), good.host_public_key())
            inventory = write_inventory(os.path.join(tmp, "hosts.yaml"), tree, good, bad, wrong, dead_port())
            check_three_hosts(args, tmp, inventory, good)
            check_output_dir(args, tmp, inventory, good)
            only = write_inventory(os.path.join(tmp, "good.yaml"), tree, good, bad, wrong, 0, only_good=True)
            check_good_only(args, tmp, only, good)
            check_provenance_local_only(args, tmp, tree, key, good)
            leaked = [x for x in fleet.SECRETS if any(x in o for o in OUTPUTS)]
            check(not leaked, "no key body in any output", f"{len(leaked)} found")
            if fleet.FAILED:
                print(good.log_text()[-2000:])
    finally:
        subprocess.run(["rm", "-rf", tmp])
    print(f"check_remote_inventory: {fleet.PASSED} passed, {fleet.FAILED} failed")
    return 0 if fleet.FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
