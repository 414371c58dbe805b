#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An HSM migration end to end, with real processes on 127.0.0.1 (issue 14): a keyward-collector
on SQLite, one keyward-agent scanning a generated tree, and a SoftHSM2 token in a temp dir
(SOFTHSM2_CONF; never the global token directory).

Usage:
  /usr/bin/python3 tests/integration/check_migration.py --bin build/bin --source .

What it checks, in order (each line of output is one check; the run goes on after a failure):
  1. The fleet plan (GET /api/v1/plan) has one item for the host's unencrypted key, strategy
     regenerate with its reasons, proposed, to be migrated on that agent's host.
  2. An analyst requests it; the same person (principal) cannot approve it, not even with an
     approver token of their own (403 separation_of_duties); a viewer cannot request; an approver
     who is someone else approves it.
  3. The agent without a `migrate:` section runs a scan cycle and leaves the item approved: it
     asks for no migration and writes no results file. A person's `keyward migrate --collector
     --agent-config --dry-run` fetches it over the agent's mutual TLS, says what it would do, and
     changes nothing.
  4. With `migrate:` (module, token, pin_source env:VAR) the agent runs the item: exit 0, the
     token holds the new key (public objects listed without a login), the collector shows the
     item `done`, and its audit log has migration.request, migration.approve, one migration.start
     and migration.done (admin GET /api/v1/audit).
  5. A second cycle runs nothing and posts nothing (the item is done).
  6. The PIN (and SO PIN) appears in no process output, no file under the temp dirs (database,
     WAL, events, agent state and results, token files) and no /proc/*/cmdline while it runs.
Exits 0 when every check passed, 1 otherwise, 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_fleet as fleet  # noqa: E402  (its Api, Collector, key makers and check counters)

check, run = fleet.check, fleet.run
SOFTHSM_MODULES = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                   "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"]


class CmdlineWatch:
    """Reads every /proc/*/cmdline (and the agent's environment is not a command line) in a loop
    while something runs; remembers any process whose command line holds one of the secrets."""

    def __init__(self, secrets_: list[str]):
        self.secrets = [s.encode() for s in secrets_]
        self.hits: list[str] = []
        self.scans = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        while not self.stop.is_set():
            for p in glob.glob("/proc/[0-9]*/cmdline"):
                try:
                    data = open(p, "rb").read()
                except OSError:
                    continue
                if any(s in data for s in self.secrets):
                    self.hits.append(p)
            self.scans += 1
            self.stop.wait(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def find_module() -> str:
    for m in SOFTHSM_MODULES:
        if os.path.exists(m):
            return m
    return ""


def plan_items(api: fleet.Api) -> list[dict]:
    st, body = api.get("/api/v1/plan?format=json")
    return body.get("items", []) if st == 200 and isinstance(body, dict) else []


def item_for(api: fleet.Api, path: str) -> dict:
    for it in plan_items(api):
        if any(p.get("path") == path for p in it.get("places", [])):
            return it
    return {}


def audit_actions(admin: fleet.Api, item_id: str) -> list[str]:
    st, body = admin.get("/api/v1/audit?since=0&limit=1000")
    out = []
    for e in fleet.items(body) if st == 200 else []:
        if item_id in json.dumps(e):
            out.append(e.get("action", ""))
    return out


def setup_fleet(args, tmp: str, outputs: list[str]) -> dict | None:
    """Collector up, tokens for each role, one agent enrolled and approved, its tree delivered."""
    port = fleet.free_port()
    cdir = os.path.join(tmp, "collector")
    p = run([args.collector, "init", "--dir", cdir, "--listen", f"127.0.0.1:{port}", "--san", "127.0.0.1"])
    outputs.append(p.stderr)
    m = re.search(r"kwt_[A-Za-z0-9_-]{43}", p.stdout)
    if not check(p.returncode == 0 and m is not None, "collector init", p.stderr[-300:]):
        return None
    ca, config = os.path.join(cdir, "pki", "ca.pem"), os.path.join(cdir, "collector.yaml")
    collector = fleet.Collector(args.collector, config, os.path.join(tmp, "collector.log"))
    if not check(collector.start(port, ca), "collector serves /health over TLS"):
        return None
    admin = fleet.Api(port, ca, token=m.group(0))
    apis = {"admin": admin}
    for role, name in (("viewer", "vic"), ("analyst", "alice"), ("approver", "alice"), ("approver", "bob")):
        st, body = admin.post("/api/v1/tokens", {"role": role, "name": name})
        if not check(st == 201 and "secret" in body, f"admin makes {name} a {role} token", f"{st} {body}"):
            return None
        apis[f"{name}-{role}"] = fleet.Api(port, ca, token=body["secret"])
    root = os.path.join(tmp, "host")
    key = os.path.join(root, "srv", "app", "deploy.pem")
    fleet.make_key(key)
    st, body = admin.post("/api/v1/enrollment-tokens", {"ttl_seconds": 3600})
    sdir = os.path.join(tmp, "agent")
    acfg = os.path.join(sdir, "agent.yaml")
    p = run([args.agent, "enroll", "--collector", f"https://127.0.0.1:{port}", "--ca", ca, "--state-dir", sdir,
             "--root", root, "--config-out", acfg], env={**os.environ, "KEYWARD_ENROLL_TOKEN": body["secret"]})
    outputs.append(p.stdout + p.stderr)
    agent_id = fleet.agent_id_of(sdir)
    if not check(p.returncode == 0 and bool(agent_id), "the agent enrolls", (p.stdout + p.stderr)[-300:]):
        return None
    st, _ = admin.post(f"/api/v1/agents/{agent_id}/approve")
    p = fleet.run_agent(args.agent, acfg, outputs)
    check(st == 200 and p.returncode == 0, "the agent is approved and delivers its scan", (p.stdout + p.stderr)[-300:])
    return {"apis": apis, "collector": collector, "cdir": cdir, "agent_dir": sdir, "agent_config": acfg,
            "agent_id": agent_id, "key": key, "port": port, "ca": ca}


def plan_and_approve(f: dict) -> str:
    """Checks 1 and 2; the item's id ("" when there is none)."""
    apis = f["apis"]
    item = item_for(apis["vic-viewer"], f["key"])
    reasons = " ".join(item.get("reasons", []))
    if not check(bool(item) and item.get("strategy") == "regenerate" and item.get("state") == "proposed"
                 and bool(reasons) and item.get("migrate_on", {}).get("agent_id") == f["agent_id"],
                 "the fleet plan has the host's unencrypted key as one proposed regenerate item with its reasons",
                 json.dumps(item)[:600]):
        return ""
    iid = item["id"]
    print(f"      (reasons: {reasons[:200]})")
    st, _ = apis["vic-viewer"].post(f"/api/v1/plan/items/{iid}/request", {"reason": "x"})
    check(st == 403, "a viewer cannot request a migration", str(st))
    st, body = apis["alice-analyst"].post(f"/api/v1/plan/items/{iid}/request", {"reason": "move the deploy key"})
    check(st == 200 and body.get("requested_by") == "principal:alice", "alice (analyst) requests the migration",
          f"{st} {body}")
    st, _ = apis["alice-analyst"].post(f"/api/v1/plan/items/{iid}/approve")
    check(st == 403, "an analyst cannot approve", str(st))
    st, body = apis["alice-approver"].post(f"/api/v1/plan/items/{iid}/approve")
    check(st == 403 and isinstance(body, dict) and body.get("error", {}).get("code") == "separation_of_duties",
          "alice's own approver token cannot approve her request (separation_of_duties)", f"{st} {body}")
    st, body = apis["bob-approver"].post(f"/api/v1/plan/items/{iid}/approve")
    check(st == 200 and body.get("state") == "approved" and body.get("approved_by") == "principal:bob",
          "bob (approver) approves it", f"{st} {body}")
    return iid


def without_section(f: dict, iid: str, outputs: list[str]) -> None:
    """Check 3: no migrate: section, no migration."""
    p = fleet.run_agent(args_global.agent, f["agent_config"], outputs)
    item = item_for(f["apis"]["vic-viewer"], f["key"])
    check(p.returncode == 0 and item.get("state") == "approved"
          and not glob.glob(os.path.join(f["agent_dir"], "migration-results*"))
          and "migration" not in (p.stdout + p.stderr),
          "an agent without migrate: leaves the approved item alone", f"{p.returncode} {item.get('state')}")


def person_dry_run(f: dict, iid: str, hsm: dict, outputs: list[str]) -> None:
    """A person on the host: keyward migrate --collector --agent-config --dry-run fetches the
    approved item over the agent's mutual TLS, says what it would do, and changes nothing."""
    keyward = os.path.join(args_global.bin, "keyward")
    env = {**os.environ, "SOFTHSM2_CONF": hsm["conf"], "KW_HSM_PIN": hsm["pin"]}
    with CmdlineWatch([hsm["pin"], hsm["so_pin"]]) as watch:
        p = run([keyward, "migrate", "--collector", f"https://127.0.0.1:{f['port']}", "--agent-config",
                 f["agent_config"], "--module", hsm["module"], "--token", hsm["label"], "--pin-source",
                 "env:KW_HSM_PIN", "--dry-run"], env=env)
    outputs.append(p.stdout + p.stderr)
    item = item_for(f["apis"]["vic-viewer"], f["key"])
    check(p.returncode == 0 and iid in p.stdout + p.stderr and "would" in p.stdout + p.stderr
          and item.get("state") == "approved" and not watch.hits,
          "keyward migrate --collector --dry-run says what it would do and leaves the item approved",
          f"exit {p.returncode} {item.get('state')} {(p.stdout + p.stderr)[-600:]}")


def with_section(f: dict, iid: str, hsm: dict, outputs: list[str]) -> None:
    """Checks 4 and 5."""
    with open(f["agent_config"], "a") as cfg:
        cfg.write(f"migrate:\n  module: {hsm['module']}\n  token: {hsm['label']}\n  pin_source: env:KW_HSM_PIN\n"
                  "  strategies: [regenerate, import]\n")
    env = {**os.environ, "SOFTHSM2_CONF": hsm["conf"], "KW_HSM_PIN": hsm["pin"]}
    with CmdlineWatch([hsm["pin"], hsm["so_pin"]]) as watch:
        p = run([args_global.agent, "--config", f["agent_config"], "--once"], env=env)
    outputs.append(p.stdout + p.stderr)
    print("      agent: " + "\n      agent: ".join(l for l in (p.stdout + p.stderr).splitlines() if "migrat" in l
                                                    or "verif" in l)[:1500])
    check(p.returncode == 0 and "1 done" in p.stdout + p.stderr, "the agent with migrate: runs the approved item",
          f"exit {p.returncode} {(p.stdout + p.stderr)[-800:]}")
    check(watch.scans > 0 and not watch.hits, "the PIN is in no /proc/*/cmdline while the agent runs",
          f"{watch.scans} scans, hits {watch.hits}")
    q = run(["pkcs11-tool", "--module", hsm["module"], "--token-label", hsm["label"], "--list-objects",
             "--type", "pubkey"], env={**os.environ, "SOFTHSM2_CONF": hsm["conf"]})
    outputs.append(q.stdout + q.stderr)
    check(q.returncode == 0 and "Public Key Object" in q.stdout, "the token holds the new key",
          (q.stdout + q.stderr)[-400:])
    item = item_for(f["apis"]["vic-viewer"], f["key"])
    check(item.get("state") == "done", "the collector shows the item done", json.dumps(item)[:400])
    actions = audit_actions(f["apis"]["admin"], iid)
    check(actions.count("migration.start") == 1
          and all(a in actions for a in ("migration.request", "migration.approve", "migration.done")),
          "the audit log has the request, the approval, the start and the result", str(actions))
    check(not glob.glob(os.path.join(f["agent_dir"], "migration-results.jsonl*"))
          or os.path.getsize(os.path.join(f["agent_dir"], "migration-results.jsonl")) == 0,
          "no result is left waiting in the agent's results file")
    p = run([args_global.agent, "--config", f["agent_config"], "--once"], env=env)
    outputs.append(p.stdout + p.stderr)
    again = audit_actions(f["apis"]["admin"], iid)
    check(p.returncode == 0 and "0 done, 0 skipped, 0 failed" in p.stdout + p.stderr and again == actions,
          "a second cycle runs nothing and posts nothing (the item is done)",
          f"{(p.stdout + p.stderr)[-400:]} {again}")


def make_token(tmp: str, outputs: list[str]) -> dict | None:
    module = find_module()
    if not module:
        print("check_migration: SoftHSM2 is not installed (scripts/install-deps.sh)", file=sys.stderr)
        return None
    hsm = {"module": module, "label": "codesign", "dir": os.path.join(tmp, "softhsm"),
           "pin": "pin-" + secrets.token_hex(8), "so_pin": "so-" + secrets.token_hex(8)}
    p = run([sys.executable, os.path.join(args_global.source, "scripts", "softhsm-token.py"), "--dir", hsm["dir"],
             "--label", hsm["label"], "--module", module],
            env={**os.environ, "KW_PIN": hsm["pin"], "KW_SO_PIN": hsm["so_pin"]})
    outputs.append(p.stdout + p.stderr)
    if not check(p.returncode == 0, "a SoftHSM2 token in a temp dir", p.stderr[-300:]):
        return None
    hsm["conf"] = p.stdout.strip()
    return hsm


def no_pin_anywhere(tmp: str, hsm: dict, outputs: list[str]) -> None:
    blobs = {"process output": "\n".join(outputs).encode()}
    for pth in glob.glob(os.path.join(tmp, "**", "*"), recursive=True):
        if os.path.isfile(pth):
            blobs[pth] = open(pth, "rb").read()
    leaks = [os.path.relpath(n, tmp) for n, d in blobs.items()
             for s in (hsm["pin"], hsm["so_pin"]) if s.encode() in d]
    check(len(blobs) > 10 and not leaks, "the PIN is in no output and no file under the temp dirs", str(leaks[:10]))


args_global: argparse.Namespace


def main() -> int:
    global args_global
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with keyward-collector and keyward-agent")
    ap.add_argument("--source", required=True, help="the source tree (scripts/softhsm-token.py)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    args.collector = os.path.join(args.bin, "keyward-collector")
    args.agent = os.path.join(args.bin, "keyward-agent")
    args_global = args
    for b in (args.collector, args.agent):
        if not os.access(b, os.X_OK):
            print(f"check_migration: {b} is not built", file=sys.stderr)
            return 2
    tmp = tempfile.mkdtemp(prefix="keyward-migration-")
    outputs: list[str] = []
    f = None
    try:
        hsm = make_token(tmp, outputs)
        if hsm is None:
            return 2
        f = setup_fleet(args, tmp, outputs)
        if f is None:
            return 1
        iid = plan_and_approve(f)
        if iid:
            without_section(f, iid, outputs)
            person_dry_run(f, iid, hsm, outputs)
            with_section(f, iid, hsm, outputs)
        f["collector"].kill()
        no_pin_anywhere(tmp, hsm, outputs)
    finally:
        if f:
            f["collector"].kill(signal.SIGKILL)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"check_migration: {fleet.PASSED} passed, {fleet.FAILED} failed")
    return 0 if fleet.FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
