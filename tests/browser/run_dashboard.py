#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The collector's dashboard in chromium (docs/dashboard.md), against a real keyward-collector on
127.0.0.1 with two real keyward-agents' reports.

Usage (ctest browser.dashboard sets the environment):
  KEYWARD_NODE_MODULES=build/node KEYWARD_SCREENSHOTS=build/screenshots \\
    /usr/bin/python3 tests/browser/run_dashboard.py --bin build/bin

What it sets up (the checks are in dashboard.test.mjs, one line each):
  - `keyward-collector init` and `serve` (the dashboard from share/keyward/ui beside the binary);
  - tokens of each role through the API: viewer (read only), analyst, approver, admin (init's);
  - two hosts scanned by real agents: host-a holds a key file named
    `<img src=x onerror=alert(1)>.pem` and a certificate that expires in 20 days, both hosts a copy
    of one release key, host-b an RSA key, for which the analyst requests an exception;
  - a 0600 JSON file with the collector's URL, its CA, the tokens and what the test expects,
    whose PATH (never a token) is the one argument of `node dashboard.test.mjs`.
Exits with the node test's status; 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import check_fleet as fleet  # noqa: E402  (its Api, Collector, key makers and check counters)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import npm_packages  # noqa: E402

check, run = fleet.check, fleet.run
HOSTILE = "<img src=x onerror=alert(1)>.pem"


def make_hosts(tmp: str) -> dict:
    """Two scanned trees: host-a (the hostile name, a certificate of 20 days, the shared key) and
    host-b (the shared key and an RSA key)."""
    shared = os.path.join(tmp, "material", "release.pem")
    fleet.make_key(shared)
    roots = {"host-a": os.path.join(tmp, "host-a"), "host-b": os.path.join(tmp, "host-b")}
    for root in roots.values():
        dst = os.path.join(root, "srv", "release", "release.pem")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(shared, dst)
    a = roots["host-a"]
    fleet.make_key(os.path.join(a, "home", "ci", HOSTILE))
    web_key = os.path.join(a, "etc", "web", "web.key")
    fleet.make_key(web_key)
    fleet.openssl("req", "-new", "-x509", "-key", web_key, "-out", os.path.join(a, "etc", "web", "web.crt"),
                  "-days", "20", "-subj", "/CN=web.example.test")
    fleet.make_key(os.path.join(roots["host-b"], "srv", "app", "deploy.pem"), alg="RSA")
    return roots


def enroll_and_deliver(args, admin: fleet.Api, port: int, ca: str, tmp: str, name: str, root: str,
                       outputs: list[str]) -> str:
    """Enrolls an agent for root (the enrollment token through the environment, never argv),
    approves it and delivers one scan; its agent id ("" when something failed)."""
    st, body = admin.post("/api/v1/enrollment-tokens", {"ttl_seconds": 3600})
    if not check(st == 201 and "secret" in body, f"admin makes an enrollment token for {name}", str(st)):
        return ""
    fleet.SECRETS.add(body["secret"])
    sdir = os.path.join(tmp, f"agent-{name}")
    acfg = os.path.join(sdir, "agent.yaml")
    p = run([args.agent, "enroll", "--collector", f"https://127.0.0.1:{port}", "--ca", ca, "--state-dir", sdir,
             "--root", root, "--config-out", acfg], env={**os.environ, "KEYWARD_ENROLL_TOKEN": body["secret"]})
    outputs.append(p.stdout + p.stderr)
    agent_id = fleet.agent_id_of(sdir)
    if not check(p.returncode == 0 and bool(agent_id), f"{name}'s agent enrolls", (p.stdout + p.stderr)[-300:]):
        return ""
    st, _ = admin.post(f"/api/v1/agents/{agent_id}/approve")
    p = fleet.run_agent(args.agent, acfg, outputs)
    check(st == 200 and p.returncode == 0, f"{name}'s agent is approved and delivers its scan",
          (p.stdout + p.stderr)[-300:])
    return agent_id


def request_exception(port: int, ca: str, analyst_token: str, host_b: str) -> bool:
    """alice (analyst) asks for an exception for host-b's RSA key: the exceptions page has a
    pending one for an approver to approve."""
    analyst = fleet.Api(port, ca, token=analyst_token)
    st, body = analyst.get(f"/api/v1/findings?host={host_b}&kind=private_key")
    rows = [r for r in fleet.items(body) if r["finding"]["location"]["path"].endswith("srv/app/deploy.pem")]
    if not check(st == 200 and len(rows) == 1, "host-b's RSA key is in the inventory", str(st)):
        return False
    st, body = analyst.post("/api/v1/exceptions", {"identity": rows[0]["identity"], "reason": "lab key, retired in Q1",
                                                   "expires_at": fleet.days_ahead(30)})
    return check(st == 201 and body.get("status") == "pending", "alice requests an exception for it", f"{st} {body}")


def start_collector(args, tmp: str, outputs: list[str]):
    """init and serve on a free port; (collector, port, ca, admin token) or None."""
    port = fleet.free_port()
    cdir = os.path.join(tmp, "collector")
    p = run([args.collector, "init", "--dir", cdir, "--listen", f"127.0.0.1:{port}", "--san", "127.0.0.1"])
    outputs.append(p.stderr)
    m = re.search(r"kwt_[A-Za-z0-9_-]{43}", p.stdout)
    if not check(p.returncode == 0 and m is not None, "collector init", p.stderr[-300:]):
        return None
    fleet.SECRETS.add(m.group(0))
    ca = os.path.join(cdir, "pki", "ca.pem")
    collector = fleet.Collector(args.collector, os.path.join(cdir, "collector.yaml"), os.path.join(tmp, "collector.log"))
    if not check(collector.start(port, ca), "collector serves /health over TLS"):
        return None
    return collector, port, ca, m.group(0)


def write_config(tmp: str, data: dict) -> str:
    """The node test's input, mode 0600 from its creation (it holds tokens)."""
    path = os.path.join(tmp, "dashboard-test.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    return path


def setup(args, tmp: str, outputs: list[str]) -> tuple[dict, object] | None:
    started = start_collector(args, tmp, outputs)
    if started is None:
        return None
    collector, port, ca, admin_token = started
    admin = fleet.Api(port, ca, token=admin_token)
    tokens = {"admin": admin_token}
    for role, name in (("viewer", "vic"), ("analyst", "alice"), ("approver", "bob")):
        st, body = admin.post("/api/v1/tokens", {"role": role, "name": name})
        if not check(st == 201 and "secret" in body, f"admin makes {name} a {role} token", str(st)):
            return None
        tokens[role] = body["secret"]
        fleet.SECRETS.add(body["secret"])
    roots = make_hosts(tmp)
    hosts = {name: enroll_and_deliver(args, admin, port, ca, tmp, name, root, outputs) for name, root in roots.items()}
    if not all(hosts.values()) or not request_exception(port, ca, tokens["analyst"], hosts["host-b"]):
        return None
    config = {"url": f"https://127.0.0.1:{port}", "ca": ca, "tokens": tokens, "hosts": hosts,
              "hostile": HOSTILE, "shared_path": "srv/release/release.pem"}
    return config, collector


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with keyward-collector and keyward-agent")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    args.collector = os.path.join(args.bin, "keyward-collector")
    args.agent = os.path.join(args.bin, "keyward-agent")
    node = shutil.which("node")
    modules = os.path.join(os.environ.get("KEYWARD_NODE_MODULES", ""), "node_modules", "playwright-core")
    if (skip := npm_packages.missing(modules, "run_dashboard")) is not None:
        return skip
    if not node or not os.environ.get("KEYWARD_NODE_MODULES"):
        print("run_dashboard: needs node and KEYWARD_NODE_MODULES (run through ctest)", file=sys.stderr)
        return 2
    for b in (args.collector, args.agent):
        if not os.access(b, os.X_OK):
            print(f"run_dashboard: {b} is not built", file=sys.stderr)
            return 2
    tmp = tempfile.mkdtemp(prefix="keyward-dashboard-")
    outputs: list[str] = []
    collector = None
    try:
        done = setup(args, tmp, outputs)
        if done is None:
            return 1
        config, collector = done
        path = write_config(tmp, config)
        test = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboard.test.mjs")
        p = subprocess.run([node, test, path], capture_output=True, text=True, timeout=480)
        outputs.append(p.stdout + p.stderr)
        print(p.stdout, end="")
        print(p.stderr, end="", file=sys.stderr)
        check(p.returncode == 0, "the dashboard test in chromium passes", f"exit {p.returncode}")
        log = open(os.path.join(tmp, "collector.log")).read()
        outputs.append(log)
        leaked = [s[:8] for s in fleet.SECRETS if any(s in o for o in outputs)]
        check(not leaked, "no token or key body appears in any process output or the collector's log",
              f"{len(leaked)} found")
        return 0 if fleet.FAILED == 0 else 1
    finally:
        if collector is not None:
            collector.kill()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
