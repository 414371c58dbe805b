#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Collector-scheduled remote scans end to end (issue 16; docs/fleet.md, "Remote scans"): a real
keyward-collector (its own `init` and `serve`) whose remote_scans inventory names a real OpenSSH
sshd on 127.0.0.1 (tests/support/sshd.py) and one dead port.

Usage:
  /usr/bin/python3 tests/integration/check_remote_collector.py --bin build/bin

What it checks (each line of output is one check; the run goes on after a failure):
  1. A remote_scans identity readable by others is refused with the chmod to run (exit 2).
  2. `serve` scans the inventory at start: the sshd host shows up in /api/v1/hosts with source
     remote, last_remote_scan ok and an open finding; its key (generated at run time) is in
     /api/v1/keys on host ssh:good; the dead host shows unreachable with a message.
  3. The ingest is audited report.ingest by collector:remote-scans.
  4. SIGTERM stops serve promptly (exit 0).
  5. `keyward-collector remote-scan --host good` exits 0 with the host ok; over the whole
     inventory it exits 3 (one host down); `keyward-collector report` lists ssh:good.
  6. No key body (the scanned key's, the SSH identity's) appears in the database, its WAL, the
     events file or any process output.
Exits 0 when every check passed, 1 otherwise, 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
import check_fleet as cf  # noqa: E402  (the fleet test's clients, processes and key helpers)
from check_fleet import check  # noqa: E402
import sshd as sshd_support  # noqa: E402  (a real sshd on 127.0.0.1)


def write_inventory(path: str, s: sshd_support.Sshd, tree: str, dead: int) -> None:
    with open(path, "w") as f:
        f.write(f"""hosts:
  - name: good
    host: 127.0.0.1
    port: {s.port}
    user: root
    paths: [{tree}]
  - name: dead
    host: 127.0.0.1
    port: {dead}
    user: root
    paths: [{tree}]
""")


def add_remote_scans(config: str, every: str = "1h") -> None:
    with open(config, "a") as f:
        f.write(f"""remote_scans:
  inventory: remote-hosts.yaml
  every: {every}
  identity: pki/remote_scan_key
  known_hosts: remote_known_hosts
  parallel: 2
  connect_timeout: 3s
  timeout: 20s
""")


def hosts_by_id(api: cf.Api) -> dict:
    st, body = api.get("/api/v1/hosts")
    return {h.get("agent_id"): h for h in cf.items(body)} if st == 200 else {}


def wait_for_scans(api: cf.Api, ids: list[str], seconds: float = 90) -> dict:
    deadline = time.time() + seconds
    hosts = {}
    while time.time() < deadline:
        hosts = hosts_by_id(api)
        if all((hosts.get(i) or {}).get("last_remote_scan") for i in ids):
            return hosts
        time.sleep(0.3)
    return hosts


def check_served(api: cf.Api, hosts: dict, key_name: str) -> None:
    good, dead = hosts.get("ssh:good") or {}, hosts.get("ssh:dead") or {}
    scan = good.get("last_remote_scan") or {}
    check(good.get("source") == "remote" and good.get("hostname") == "good",
          "the sshd host is in /api/v1/hosts as ssh:good with source remote", json.dumps(good))
    check(scan.get("status") == "ok" and good.get("open_findings", 0) >= 1,
          "its scheduled scan is ok and stored an open finding", json.dumps(good))
    st, body = api.get("/api/v1/keys?limit=1000")
    places = [p for k in cf.items(body) for p in k.get("places", [])]
    check(any(p.get("agent_id") == "ssh:good" and p.get("path", "").endswith(key_name) for p in places),
          "the key generated in the remote tree is in /api/v1/keys on ssh:good", f"{st} {places[:3]}")
    dscan = dead.get("last_remote_scan") or {}
    check(dead.get("source") == "remote" and dscan.get("status") == "unreachable" and dscan.get("message"),
          "the dead port's host shows unreachable with its message", json.dumps(dead))
    st, body = api.get("/api/v1/audit?limit=1000")
    ingests = [e for e in cf.items(body) if e.get("action") == "report.ingest" and e.get("subject") == "ssh:good"]
    check(bool(ingests) and all(e.get("actor") == "collector:remote-scans" for e in ingests),
          "the remote report's ingest is audited with the scheduler as actor", f"{st} {ingests[:1]}")


def check_no_secrets(cdir: str, outputs: list[str]) -> None:
    files = [p for p in glob.glob(os.path.join(cdir, "*")) if os.path.isfile(p) and not p.endswith(".yaml")]
    leaks = []
    for p in files:
        with open(p, "rb") as f:
            data = f.read()
        leaks += [f"{os.path.basename(p)}" for s in cf.SECRETS if s.encode() in data]
    leaks += ["output" for out in outputs for s in cf.SECRETS if s in out]
    check(not leaks, "no key body in the database, its WAL, the events file or any output", ", ".join(set(leaks)))


def openssh_body_lines(path: str) -> list[str]:
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("-----") and len(l.strip()) >= 40]


def setup(tmp: str, collector_bin: str, s: sshd_support.Sshd) -> tuple[str, str, str, int, str]:
    tree = os.path.join(tmp, "remote-tree")
    key_name = "deploy-remote.pem"
    cf.make_key(os.path.join(tree, "srv", "app", key_name))  # adds its body to cf.SECRETS
    cf.SECRETS.update(openssh_body_lines(s.client_key))
    port = cf.free_port()
    cdir = os.path.join(tmp, "collector")
    p = cf.run([collector_bin, "init", "--dir", cdir, "--listen", f"127.0.0.1:{port}", "--san", "127.0.0.1"])
    m = re.search(r"kwt_[A-Za-z0-9_-]{43}", p.stdout)
    if not check(p.returncode == 0 and m is not None, "collector init prints an admin token", p.stderr[-300:]):
        raise SystemExit(1)
    cf.SECRETS.add(m.group(0))
    shutil.copy(s.client_key, os.path.join(cdir, "pki", "remote_scan_key"))
    shutil.copy(s.known_hosts, os.path.join(cdir, "remote_known_hosts"))
    write_inventory(os.path.join(cdir, "remote-hosts.yaml"), s, tree, sshd_support.dead_port())
    add_remote_scans(os.path.join(cdir, "collector.yaml"))
    return cdir, tree, key_name, port, m.group(0)


def run_checks(collector_bin: str, tmp: str, outputs: list[str]) -> None:
    with sshd_support.Sshd(tmp) as s:
        cdir, _tree, key_name, port, token = setup(tmp, collector_bin, s)
        config, ca = os.path.join(cdir, "collector.yaml"), os.path.join(cdir, "pki", "ca.pem")
        identity = os.path.join(cdir, "pki", "remote_scan_key")
        os.chmod(identity, 0o644)
        p = cf.run([collector_bin, "remote-scan", "--config", config])
        outputs += [p.stdout, p.stderr]
        check(p.returncode == 2 and f"chmod 600 {identity}" in p.stderr,
              "an identity readable by others is refused with the chmod to run", p.stderr.strip())
        os.chmod(identity, 0o600)

        log = os.path.join(tmp, "collector.log")
        collector = cf.Collector(collector_bin, config, log)
        try:
            if not check(collector.start(port, ca), "collector serves /health with remote_scans configured"):
                return
            api = cf.Api(port, ca, token=token)
            hosts = wait_for_scans(api, ["ssh:good", "ssh:dead"])
            check_served(api, hosts, key_name)
            t0 = time.time()
            collector.proc.send_signal(signal.SIGTERM)
            rc = collector.proc.wait(timeout=30)
            check(rc == 0 and time.time() - t0 < 10, "SIGTERM stops serve promptly", f"rc {rc}")
        finally:
            collector.kill()
            with open(log, errors="replace") as f:
                outputs.append(f.read())

        p = cf.run([collector_bin, "remote-scan", "--config", config, "--host", "good"])
        outputs += [p.stdout, p.stderr]
        check(p.returncode == 0 and p.stdout.startswith("good\tok"), "remote-scan --host good exits 0, ok",
              (p.stdout + p.stderr).strip()[-300:])
        p = cf.run([collector_bin, "remote-scan", "--config", config])
        outputs += [p.stdout, p.stderr]
        check(p.returncode == 3 and "dead\tunreachable" in p.stdout,
              "remote-scan over the inventory exits 3 with the dead host unreachable", p.stdout.strip()[-300:])
        p = cf.run([collector_bin, "report", "--config", config, "--format", "json"])
        outputs += [p.stdout, p.stderr]
        try:
            listed = [h.get("agent_id") for h in cf.items(json.loads(p.stdout).get("hosts"))]
        except (ValueError, AttributeError):
            listed = []
        check("ssh:good" in listed, "keyward-collector report lists the remote host", str(listed))
        check_no_secrets(cdir, outputs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with keyward-collector")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    collector_bin = os.path.join(args.bin, "keyward-collector")
    if not os.access(collector_bin, os.X_OK) or not os.access(sshd_support.SSHD, os.X_OK):
        print(f"check_remote_collector: {collector_bin} or {sshd_support.SSHD} is missing", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="keyward-remote-collector-")
    outputs: list[str] = []
    try:
        run_checks(collector_bin, tmp, outputs)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{cf.PASSED} passed, {cf.FAILED} failed")
    return 0 if cf.FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
