#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The fleet end to end, with real processes on 127.0.0.1 (issue 6): one keyward-collector on
SQLite and three keyward-agents scanning three generated trees.

Usage:
  /usr/bin/python3 tests/integration/check_fleet.py --bin build/bin

What it checks, in order (each line of output is one check; the run goes on after a failure):
  1. `keyward-collector init` makes the CA, server certificate, config, database and a first
     admin token; `serve` answers /health.
  2. Tokens for each role are made through the API; a viewer cannot make tokens.
  3. Three agents enroll with one-time enrollment tokens (a reused token is refused, and a refused
     `enroll --force` leaves the agent's key, certificate and CA as they were); their reports are
     held until an admin approves them; a viewer cannot approve an agent.
  4. Inventory: three hosts; a key copied to two hosts is one row of /keys with two hosts and the
     fleet-spread factor; findings filter by host and kind; agents' own keys are "managed".
  5. A deleted key is resolved (with a time and a "resolved" event) after the next complete
     scan; a new key raises a "new" event; an incomplete report resolves nothing; a report
     replayed twice is stored once; malformed JSON and an unknown schema get 400.
  6. A gzip bomb gets 413 and a burst past the per-agent rate 429 with Retry-After.
     A client without a certificate cannot send reports (401); a certificate from another CA
     fails the handshake; a revoked agent is refused (403) on its already open connection.
  7. Exceptions: an analyst cannot approve (their own) exception, nor can a second token of the
     same principal that holds the approver role (separation of duties compares principals); an
     approver can, and the key's places become "excepted". An expiry past
     limits.max_exception_seconds is refused. API tokens last 90 days unless "never" is asked
     for by name, as on the command line (`--ttl never`; `--ttl 0` is refused).
  8. The collector is killed with SIGKILL while agents deliver spooled reports, restarted, and
     every report each agent spooled is stored exactly once; spools end empty.
  9. `keyward-collector report` (json and text) lists the three hosts and the copied key on two
     hosts, and writes no audit entry.
  10. `audit verify` passes and checks the signed checkpoints of the events file, then catches an
     edited row, a detail forged with a repeated key, (with a head exported earlier) a cut tail,
     and a log rewritten with its chain recomputed (through the signed checkpoints alone).
  11. No key body (the audit signing key's included), token or enrollment token appears in the
      database, its WAL, the spool, the events file, captured reports or any process output.
Exits 0 when every check passed, 1 otherwise, 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import glob
import gzip
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time

PASSED = 0
FAILED = 0
SECRETS: set[str] = set()


def check(ok: bool, what: str, detail: str = "") -> bool:
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print(f"ok    {what}")
    else:
        FAILED += 1
        print(f"FAIL  {what}" + (f": {detail}" if detail else ""))
    sys.stdout.flush()
    return ok


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run(cmd, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- key material (made at run time)

def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def key_body_lines(pem_path: str) -> list[str]:
    """Base64 lines of a PEM private key: what must never appear anywhere."""
    with open(pem_path) as f:
        lines = [l.strip() for l in f if l.strip() and not l.startswith("-----")]
    return [l for l in lines if len(l) >= 40]


def make_key(path: str, alg: str = "EC") -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if alg == "EC":
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    else:
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)
    for l in key_body_lines(path):
        SECRETS.add(l)


def make_tree(root: str, index: int, shared_key: str) -> dict:
    """A small host tree: its own key, a self-signed code-signing cert for it, the shared key."""
    os.makedirs(root, exist_ok=True)
    own = os.path.join(root, "srv", "app", f"deploy-{index}.pem")
    make_key(own)
    cert = os.path.join(root, "srv", "app", f"deploy-{index}.crt")
    openssl("req", "-new", "-x509", "-key", own, "-out", cert, "-days", "20", "-subj", f"/CN=host{index} signing",
            "-addext", "extendedKeyUsage=codeSigning")
    os.makedirs(os.path.join(root, "src"), exist_ok=True)
    with open(os.path.join(root, "src", "main.c"), "w") as f:
        f.write("int main(void) { return 0; }\n" * 50)
    placed = {"own": own, "cert": cert}
    if shared_key:
        dst = os.path.join(root, "home", "ci", ".ssh", "release.pem")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(shared_key, dst)
        placed["shared"] = dst
    return placed


# ---------------------------------------------------------------- HTTPS clients

class Api:
    def __init__(self, port: int, ca: str, cert: str | None = None, key: str | None = None,
                 token: str | None = None):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.check_hostname = True
        if cert:
            self.ctx.load_cert_chain(cert, key)
        self.token = token
        self.timeout = 30  # seconds per request
        self.conn: http.client.HTTPSConnection | None = None

    def connect(self) -> http.client.HTTPSConnection:
        if self.conn is None:
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body=None, headers=None, keep=False):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        conn = self.connect()
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            if not keep:
                self.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return resp.status, parsed

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)


# ---------------------------------------------------------------- processes

class Collector:
    def __init__(self, binary: str, config: str, log: str):
        self.binary, self.config, self.log = binary, config, log
        self.proc: subprocess.Popen | None = None

    def start(self, port: int, ca: str) -> bool:
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config], stdout=logf, stderr=logf)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                st, _ = Api(port, ca).get("/health")
                if st == 200:
                    return True
            except (OSError, ssl.SSLError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        return False

    def kill(self, sig=signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def items(body):
    """A list answer, whether bare or paged ({"items": [...]})."""
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return body["items"]
    return body if isinstance(body, list) else []


def agent_id_of(state_dir: str) -> str:
    out = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in",
                          os.path.join(state_dir, "agent.pem")], capture_output=True, text=True).stdout
    m = re.search(r"CN=([0-9a-f]+)", out)
    return m.group(1) if m else ""


def spool_ids(state_dir: str) -> set[str]:
    ids = set()
    for p in glob.glob(os.path.join(state_dir, "spool", "*.json.gz")):
        m = re.search(r"-([0-9a-f]{32})\.json\.gz$", p)
        if m:
            ids.add(m.group(1))
    return ids


def days_ahead(days: int) -> str:
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def audit_v2_hash(row: tuple, detail: str, prev: str) -> str:
    """An audit entry's hash by chain version 2 (docs/fleet.md): what someone who rewrites the
    database with this knowledge recomputes. row: seq, time, actor, via, action, subject."""
    text = b"keyward.audit/v2\n"
    for field in [str(row[0]), str(row[1]), row[2], row[3], row[4], row[5], detail, prev]:
        b = field.encode()
        text += str(len(b)).encode() + b":" + b + b"\n"
    return hashlib.sha256(text).hexdigest()


def tampered_copy(cdir: str, tampered: str, sql: list[tuple]) -> str:
    """A copy of the collector's directory with SQL applied to its database; its config path."""
    shutil.rmtree(tampered, ignore_errors=True)
    shutil.copytree(cdir, tampered)
    tcfg = os.path.join(tampered, "collector.yaml")
    with open(tcfg) as f:
        text = f.read()
    with open(tcfg, "w") as f:
        f.write(text.replace(cdir, tampered))
    con = sqlite3.connect(os.path.join(tampered, "keyward.db"))
    for stmt, params in sql:
        con.execute(stmt, params)
    con.commit()
    con.close()
    return tcfg


def run_agent(binary: str, config: str, outputs: list[str]) -> subprocess.CompletedProcess:
    p = run([binary, "--config", config, "--once"])
    outputs.append(p.stdout + p.stderr)
    return p


# ---------------------------------------------------------------- the checks

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with keyward-collector and keyward-agent")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    collector_bin = os.path.join(args.bin, "keyward-collector")
    agent_bin = os.path.join(args.bin, "keyward-agent")
    for b in (collector_bin, agent_bin):
        if not os.access(b, os.X_OK):
            print(f"check_fleet: {b} is not built", file=sys.stderr)
            return 2

    tmp = tempfile.mkdtemp(prefix="keyward-fleet-")
    outputs: list[str] = []
    collector = None
    try:
        port = free_port()
        cdir = os.path.join(tmp, "collector")
        p = run([collector_bin, "init", "--dir", cdir, "--listen", f"127.0.0.1:{port}", "--san", "127.0.0.1",
                 "--san", "localhost"])
        outputs.append(p.stderr)  # stdout shows the first admin token once, by design
        m = re.search(r"kwt_[A-Za-z0-9_-]{43}", p.stdout)
        if not check(p.returncode == 0 and m is not None, "collector init prints an admin token once",
                     p.stderr.strip()[-300:]):
            return 1
        admin_token = m.group(0)
        SECRETS.add(admin_token)
        config = os.path.join(cdir, "collector.yaml")
        ca = os.path.join(cdir, "pki", "ca.pem")
        check(os.path.exists(ca) and os.path.exists(config), "init writes collector.yaml and the CA")
        for keyfile in glob.glob(os.path.join(cdir, "pki", "*.key")):
            check(os.stat(keyfile).st_mode & 0o077 == 0, f"{os.path.basename(keyfile)} is mode 0600")
            SECRETS.update(key_body_lines(keyfile))
        log = os.path.join(tmp, "collector.log")
        collector = Collector(collector_bin, config, log)
        if not check(collector.start(port, ca), "collector serves /health over TLS"):
            print(open(log).read()[-2000:])
            return 1

        admin = Api(port, ca, token=admin_token)
        tokens = {}
        for role in ("viewer", "analyst", "approver"):
            st, body = admin.post("/api/v1/tokens", {"role": role, "name": f"test-{role}"})
            ok = st in (200, 201) and isinstance(body, dict) and "secret" in body
            check(ok, f"admin creates a {role} token", f"{st} {body}")
            if ok:
                tokens[role] = body["secret"]
                SECRETS.add(body["secret"])
        viewer = Api(port, ca, token=tokens.get("viewer"))
        analyst = Api(port, ca, token=tokens.get("analyst"))
        approver = Api(port, ca, token=tokens.get("approver"))
        st, _ = viewer.post("/api/v1/tokens", {"role": "admin", "name": "escalate"})
        check(st == 403, "a viewer cannot create tokens", str(st))
        st, _ = Api(port, ca, token="kwt_" + "A" * 43).get("/api/v1/hosts")
        check(st == 401, "an unknown token gets 401", str(st))

        # Token lifetimes: 90 days by default through the API and the command line; never by name.
        st, body = admin.post("/api/v1/tokens", {"role": "viewer", "name": "ttl-default"})
        exp = body.get("expires_at") if isinstance(body, dict) else None
        days = (datetime.datetime.strptime(exp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
                - datetime.datetime.now(datetime.timezone.utc)).days if exp else -1
        check(st == 201 and 89 <= days <= 90, "an API token made without ttl_seconds expires in 90 days", f"{st} {exp}")
        if isinstance(body, dict) and "secret" in body:
            SECRETS.add(body["secret"])
        st, body = admin.post("/api/v1/tokens", {"role": "viewer", "name": "ttl-never", "ttl_seconds": "never"})
        check(st == 201 and body.get("expires_at") is None, "ttl_seconds \"never\" makes a token that never expires",
              f"{st} {body.get('expires_at') if isinstance(body, dict) else body}")
        if isinstance(body, dict) and "secret" in body:
            SECRETS.add(body["secret"])
        st, _ = admin.post("/api/v1/tokens", {"role": "viewer", "name": "ttl-null", "ttl_seconds": None})
        check(st == 400, "ttl_seconds null is refused, not taken for never", str(st))
        p = run([collector_bin, "token", "create", "--config", config, "--role", "viewer", "--name", "cli-never",
                 "--ttl", "never"])
        SECRETS.add(p.stdout.strip())
        outputs.append(p.stderr)
        check(p.returncode == 0 and "expires never" in p.stderr, "token create --ttl never makes a token that never expires",
              p.stderr.strip())
        p = run([collector_bin, "token", "create", "--config", config, "--role", "viewer", "--name", "cli-default"])
        SECRETS.add(p.stdout.strip())
        outputs.append(p.stderr)
        check(p.returncode == 0 and days_ahead(90)[:10] in p.stderr, "token create without --ttl lasts 90 days",
              p.stderr.strip())
        p = run([collector_bin, "token", "create", "--config", config, "--role", "viewer", "--name", "cli-zero",
                 "--ttl", "0"])
        outputs.append(p.stdout + p.stderr)
        check(p.returncode == 2 and "never" in p.stderr, "token create --ttl 0 is refused (never must be said)",
              p.stderr.strip())

        # Three hosts; release.pem is copied to hosts 0 and 1.
        shared = os.path.join(tmp, "material", "release.pem")
        make_key(shared)
        trees, agents = [], []
        for i in range(3):
            root = os.path.join(tmp, f"host{i}")
            trees.append(make_tree(root, i, shared if i < 2 else ""))
            st, body = admin.post("/api/v1/enrollment-tokens", {"ttl_seconds": 3600})
            if not check(st in (200, 201) and isinstance(body, dict) and "secret" in body,
                         f"admin makes enrollment token {i}", f"{st} {body}"):
                return 1
            etoken = body["secret"]
            SECRETS.add(etoken)
            # Agent 0 keeps its state inside the tree it scans: its own key must show as managed.
            sdir = os.path.join(root, "var", "lib", "keyward-agent") if i == 0 else os.path.join(tmp, f"agent{i}")
            acfg = os.path.join(sdir, "agent.yaml")
            p = run([agent_bin, "enroll", "--collector", f"https://127.0.0.1:{port}", "--token", etoken, "--ca", ca,
                     "--state-dir", sdir, "--root", root, "--config-out", acfg])
            outputs.append(p.stdout + p.stderr)
            check(p.returncode == 0 and os.path.exists(acfg), f"agent {i} enrolls", (p.stdout + p.stderr)[-400:])
            if i == 0:
                p2 = run([agent_bin, "enroll", "--collector", f"https://127.0.0.1:{port}", "--token", etoken, "--ca", ca,
                          "--state-dir", os.path.join(tmp, "agent-reuse"), "--config-out",
                          os.path.join(tmp, "agent-reuse", "agent.yaml")])
                outputs.append(p2.stdout + p2.stderr)
                check(p2.returncode != 0 and "401" in p2.stdout + p2.stderr, "an enrollment token works once (401 the second time)",
                      (p2.stdout + p2.stderr)[-300:])
                # --force with that used token: the collector refuses, and agent 0 keeps its enrollment
                # byte for byte (it delivers below with it).
                before = {n: open(os.path.join(sdir, n), "rb").read() for n in ("agent.key", "agent.pem", "ca.pem")}
                p3 = run([agent_bin, "enroll", "--collector", f"https://127.0.0.1:{port}", "--token", etoken, "--ca", ca,
                          "--state-dir", sdir, "--root", root, "--config-out", acfg, "--force"])
                outputs.append(p3.stdout + p3.stderr)
                after = {n: open(os.path.join(sdir, n), "rb").read() for n in before}
                check(p3.returncode != 0 and "401" in p3.stdout + p3.stderr and after == before
                      and not glob.glob(os.path.join(sdir, "*.tmp")),
                      "a refused enroll --force keeps the old key, certificate and CA as they were",
                      (p3.stdout + p3.stderr)[-300:])
            for kf in glob.glob(os.path.join(sdir, "*.key")):
                check(os.stat(kf).st_mode & 0o077 == 0, f"agent {i} key is mode 0600")
                SECRETS.update(key_body_lines(kf))
            agents.append({"dir": sdir, "config": acfg, "id": agent_id_of(sdir), "root": root})
        check(all(len(a["id"]) == 16 for a in agents), "each agent certificate names its agent id",
              str([a["id"] for a in agents]))

        # Before approval: reports are held.
        p = run_agent(agent_bin, agents[0]["config"], outputs)
        check(p.returncode == 5 and "held" in p.stderr + p.stdout and "not approved" in p.stderr + p.stdout,
              "a pending agent's report is held: exit 5 and it says so, not 'delivered'",
              f"rc={p.returncode} {(p.stdout + p.stderr)[-400:]}")
        ps = run([agent_bin, "status", "--config", agents[0]["config"]])
        outputs.append(ps.stdout + ps.stderr)
        check(ps.returncode == 0 and "held pending approval" in ps.stdout, "agent status shows the report held",
              ps.stdout[-400:])
        st, hosts = viewer.get("/api/v1/hosts")
        hosts = items(hosts)
        open_counts = {h["agent_id"]: h.get("open_findings", 0) for h in (hosts or [])} if isinstance(hosts, list) else {}
        check(st == 200 and open_counts.get(agents[0]["id"], 0) == 0, "held reports are not in the inventory",
              f"{st} {hosts}")
        st, _ = viewer.post(f"/api/v1/agents/{agents[0]['id']}/approve")
        check(st == 403, "a viewer cannot approve an agent", str(st))
        st, _ = approver.post(f"/api/v1/agents/{agents[0]['id']}/approve")
        check(st == 403, "an approver (of exceptions) cannot approve an agent", str(st))
        for a in agents:
            st, body = admin.post(f"/api/v1/agents/{a['id']}/approve")
            check(st == 200, f"admin approves agent {a['id']}", f"{st} {body}")
        st, body = viewer.get(f"/api/v1/findings?host={agents[0]['id']}")
        check(st == 200 and body.get("total", 0) >= 3, "approval ingests the held report", f"{st} {str(body)[:300]}")

        st, _ = admin.request("PUT", f"/api/v1/agents/{agents[1]['id']}/tags", {"tags": ["build"]})
        check(st == 200, "admin tags host 1 as a build host", str(st))

        for a in agents:
            p = run_agent(agent_bin, a["config"], outputs)
            check(p.returncode == 0, f"agent {a['id']} scans and delivers", (p.stdout + p.stderr)[-400:])
            check(not spool_ids(a["dir"]), f"agent {a['id']} spool is empty after delivery")

        # Inventory.
        st, hosts = viewer.get("/api/v1/hosts")
        hosts = items(hosts)
        check(st == 200 and isinstance(hosts, list) and len(hosts) == 3, "three hosts in the inventory",
              f"{st} {str(hosts)[:300]}")
        st, keys = viewer.get("/api/v1/keys?limit=1000")
        shared_rows = []
        if st == 200:
            for row in keys.get("items", []):
                paths = [pl.get("path", "") for pl in row.get("places", [])]
                if any(p.endswith("release.pem") for p in paths):
                    shared_rows.append(row)
        check(len(shared_rows) == 1 and shared_rows[0].get("hosts") == 2,
              "a key copied to two hosts is one key with two hosts", str(shared_rows)[:400])
        st, fs = viewer.get("/api/v1/findings?kind=private_key&limit=1000")
        spread = [f for f in fs.get("items", []) if f["finding"]["location"]["path"].endswith("release.pem")] if st == 200 else []
        factors = [{x["id"] for x in f["finding"].get("risk", {}).get("factors", [])} for f in spread]
        check(len(spread) == 2 and all("fleet-spread" in fx for fx in factors),
              "both places of the copied key carry the fleet-spread factor", str(factors))
        on_build = [f for f in spread if f["agent_id"] == agents[1]["id"]]
        check(bool(on_build) and "build-host" in {x["id"] for x in on_build[0]["finding"]["risk"]["factors"]},
              "the copy on the build-tagged host carries build-host")
        st, mine = viewer.get(f"/api/v1/findings?host={agents[2]['id']}&limit=1000")
        paths2 = {f["finding"]["location"]["path"] for f in mine.get("items", [])} if st == 200 else set()
        check(st == 200 and paths2 and all(p.startswith(agents[2]["root"]) for p in paths2),
              "findings filter by host", str(paths2)[:300])
        st, managed = viewer.get(f"/api/v1/findings?host={agents[0]['id']}&status=managed&limit=1000")
        mpaths = [f["finding"]["location"]["path"] for f in managed.get("items", [])] if st == 200 else []
        check(any(p.endswith("agent.key") for p in mpaths), "the agent's own key is reported as managed", str(mpaths))
        st, opened = viewer.get(f"/api/v1/findings?host={agents[0]['id']}&status=open&limit=1000")
        opaths = [f["finding"]["location"]["path"] for f in opened.get("items", [])] if st == 200 else []
        check(not any(p.endswith("agent.key") for p in opaths), "the agent's own key is not an open exposure",
              str(opaths))
        # The API answers every GET path docs/api/openapi.yaml documents (and nothing is a 404).
        import yaml  # python3-yaml
        spec_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "api", "openapi.yaml")
        with open(spec_path) as f:
            spec = yaml.safe_load(f)
        gets = [p for p, ops in spec["paths"].items() if "get" in ops and "{" not in p]
        # An agent's path (security agentCertificate) needs the agent's certificate: a token is 401 there.
        agent_only = {p for p in gets if spec["paths"][p]["get"].get("security") == [{"agentCertificate": []}]}
        answers = {p: viewer.get(p)[0] for p in gets}
        check(len(gets) >= 9 and all(st in (200, 403) or (p in agent_only and st == 401) for p, st in answers.items()),
              "every documented GET path answers (200, or 403 where a reader lacks the role)", str(answers))
        st, certs = viewer.get("/api/v1/certificates?expiring_within=30d")
        check(st == 200 and certs.get("total", 0) >= 3, "certificates expiring within 30 days are listed",
              f"{st} {str(certs)[:200]}")
        st, _ = viewer.get("/api/v1/certificates?expiring_within=soon")
        check(st == 400, "a bad expiring_within is a 400", str(st))

        # Changes: delete the own key of host 0, add a new key on host 2.
        st, ev = viewer.get("/api/v1/events?since=0&limit=1000")
        last_seq = max([e["seq"] for e in items(ev)] or [0]) if st == 200 else 0
        os.remove(trees[0]["own"])
        newkey = os.path.join(agents[2]["root"], "srv", "app", "added-later.pem")
        make_key(newkey, "RSA")
        for a in (agents[0], agents[2]):
            run_agent(agent_bin, a["config"], outputs)
        st, ev = viewer.get(f"/api/v1/events?since={last_seq}&limit=1000")
        events = items(ev)
        resolved = [e for e in events if e.get("type") == "resolved" and e.get("agent_id") == agents[0]["id"]]
        new = [e for e in events if e.get("type") == "new" and e.get("agent_id") == agents[2]["id"]]
        check(bool(resolved), "a deleted key raises a resolved event", str(events)[:400])
        check(bool(new), "a new key raises a new event", str(events)[:400])
        st, fs = viewer.get(f"/api/v1/findings?host={agents[0]['id']}&status=resolved&limit=1000")
        gone = [f for f in fs.get("items", []) if f["finding"]["location"]["path"] == trees[0]["own"]] if st == 200 else []
        check(len(gone) == 1 and gone[0].get("resolved_at"), "the deleted key's finding is resolved with a time",
              str(fs)[:300])

        # Reports posted directly with agent 2's certificate: incomplete, replayed, malformed.
        a2 = agents[2]
        client = Api(port, ca, cert=os.path.join(a2["dir"], "agent.pem"), key=os.path.join(a2["dir"], "agent.key"))
        st, before = viewer.get(f"/api/v1/findings?host={a2['id']}&limit=1000")
        open_before = before.get("total", -1)
        rid = os.urandom(16).hex()
        doc = {"schema": "keyward.findings/v1", "report_id": rid, "tool": {"name": "keyward", "version": "test"},
               "host": {"hostname": "host2", "os": "linux"},
               "scan": {"id": "partial", "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z",
                        "roots": [a2["root"]], "complete": False, "stats": {"files_seen": 1}, "errors": []},
               "findings": []}
        st1, b1 = client.post("/api/v1/reports", doc)
        st2, b2 = client.post("/api/v1/reports", doc)
        check(st1 == 202 and b1.get("status") == "stored", "an incomplete report is stored", f"{st1} {b1}")
        check(st2 in (200, 202) and b2.get("status") == "duplicate", "the same report replayed is a duplicate",
              f"{st2} {b2}")
        st, after = viewer.get(f"/api/v1/findings?host={a2['id']}&limit=1000")
        check(after.get("total") == open_before and open_before > 0,
              "an incomplete report with no findings resolves nothing", f"{open_before} -> {after.get('total')}")
        st, b = client.post("/api/v1/reports", "{\"schema\": ")
        check(st == 400 and isinstance(b, dict) and "error" in b, "malformed JSON gets a 400 with a message", f"{st} {b}")
        bad = dict(doc, schema="keyward.findings/v9", report_id=os.urandom(16).hex())
        st, b = client.post("/api/v1/reports", bad)
        check(st == 400 and "keyward.findings/v1" in json.dumps(b), "an unknown schema gets a 400 naming v1",
              f"{st} {b}")
        gz = gzip.compress(json.dumps(dict(doc, report_id=os.urandom(16).hex())).encode())
        st, b = client.post("/api/v1/reports", gz, headers={"Content-Encoding": "gzip"})
        check(st == 202, "a gzip report is accepted", f"{st} {b}")
        with open(os.path.join(tmp, "captured-report.json"), "w") as f:
            json.dump(doc, f)

        # Authentication at the TLS layer.
        st, b = Api(port, ca).post("/api/v1/reports", dict(doc, report_id=os.urandom(16).hex()))
        check(st == 401, "a client without a certificate cannot send reports", f"{st}")
        other = os.path.join(tmp, "otherca")
        os.makedirs(other)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                f"{other}/ca.key", "-out", f"{other}/ca.pem", "-subj", "/CN=other ca", "-days", "2")
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                f"{other}/c.key", "-out", f"{other}/c.csr", "-subj", f"/CN={a2['id']}")
        openssl("x509", "-req", "-in", f"{other}/c.csr", "-CA", f"{other}/ca.pem", "-CAkey", f"{other}/ca.key",
                "-out", f"{other}/c.pem", "-days", "2", "-set_serial", "7")
        try:
            st, b = Api(port, ca, cert=f"{other}/c.pem", key=f"{other}/c.key").post(
                "/api/v1/reports", dict(doc, report_id=os.urandom(16).hex()))
            refused = st in (401, 403)
        except (ssl.SSLError, ConnectionError, OSError, http.client.HTTPException):
            refused = True
        check(refused, "a certificate from another CA is refused")

        # Revocation on an open keep-alive connection.
        a1 = agents[1]
        keep = Api(port, ca, cert=os.path.join(a1["dir"], "agent.pem"), key=os.path.join(a1["dir"], "agent.key"))
        st, b = keep.post("/api/v1/reports", dict(doc, report_id=os.urandom(16).hex(), findings=[]), keep=True)
        check(st == 202, "agent 1 posts on a keep-alive connection", f"{st} {b}")
        st, b = admin.post(f"/api/v1/agents/{a1['id']}/revoke")
        check(st == 200, "admin revokes agent 1", f"{st} {b}")
        try:
            st, b = keep.post("/api/v1/reports", dict(doc, report_id=os.urandom(16).hex()), keep=True)
        except (ssl.SSLError, ConnectionError, OSError, http.client.HTTPException) as e:
            st, b = -1, str(e)
        check(st == 403, "the revoked agent is refused on its open connection", f"{st} {b}")
        keep.close()

        # Limits: a gzip bomb is refused as too large; a burst past the per-agent rate gets 429.
        bomb = gzip.compress(b"\0" * (48 << 20))
        st, b = client.post("/api/v1/reports", bomb, headers={"Content-Encoding": "gzip"})
        check(st == 413, f"a {len(bomb) // 1024} KiB gzip body that inflates past the size cap gets 413", f"{st} {b}")
        limited, retry_after = 0, ""
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=client.ctx, timeout=30)
        for _ in range(40):
            conn.request("POST", "/api/v1/reports", body=json.dumps(dict(doc, report_id=os.urandom(16).hex())),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status == 429:
                limited, retry_after = 429, r.getheader("Retry-After") or ""
                break
        conn.close()
        check(limited == 429 and retry_after.isdigit(), "a burst of reports past the per-agent rate gets 429 with Retry-After",
              f"{limited} {retry_after!r}")

        # Exceptions: separation of duties.
        identity = ""
        if shared_rows:
            identity = shared_rows[0]["identity"]
        alice = {}
        for role in ("analyst", "approver"):  # two tokens of one person, principal "alice" (the name)
            st, body = admin.post("/api/v1/tokens", {"role": role, "name": "alice"})
            if check(st == 201 and body.get("principal") == "alice", f"admin makes alice a {role} token", f"{st} {body}"):
                alice[role] = Api(port, ca, token=body["secret"])
                SECRETS.add(body["secret"])
        st, b = alice["analyst"].post("/api/v1/exceptions", {"identity": identity, "reason": "too long",
                                                             "expires_at": days_ahead(400)})
        check(st == 400 and "limits.max_exception_seconds" in json.dumps(b),
              "an exception expiring past limits.max_exception_seconds is refused", f"{st} {b}")
        st, exc = alice["analyst"].post("/api/v1/exceptions", {"identity": identity, "reason": "release key, moving to HSM",
                                                               "expires_at": days_ahead(180)})
        check(st in (200, 201) and isinstance(exc, dict) and exc.get("requested_by") == "principal:alice",
              "an analyst (alice) requests an exception, requested_by names her", f"{st} {exc}")
        exc_id = exc.get("id", "x") if isinstance(exc, dict) else "x"
        st, _ = alice["analyst"].post(f"/api/v1/exceptions/{exc_id}/approve")
        check(st == 403, "an analyst cannot approve their own exception", str(st))
        st, b = alice["approver"].post(f"/api/v1/exceptions/{exc_id}/approve")
        check(st == 403 and isinstance(b, dict) and b.get("error", {}).get("code") == "separation_of_duties",
              "a second alice token (approver) cannot approve alice's request", f"{st} {b}")
        st, b = approver.post(f"/api/v1/exceptions/{exc_id}/approve")
        check(st == 200, "an approver approves it", f"{st} {b}")
        st, fs = viewer.get("/api/v1/findings?status=excepted&limit=1000")
        check(st == 200 and fs.get("total", 0) >= 1, "the key's places are excepted", f"{st} {str(fs)[:200]}")

        # SIGKILL during ingest: agents 0 and 2 spool reports while the collector is down, then
        # deliver while the collector is killed mid-delivery (several delays are tried until a kill
        # lands with some but not all reports stored), restarted, and delivered again.
        db = os.path.join(cdir, "keyward.db")
        bulk = os.path.join(agents[0]["root"], "srv", "bulk")
        os.makedirs(bulk)
        for n in range(200):  # 200 places of one key: a report that takes a while to ingest
            shutil.copy(shared, os.path.join(bulk, f"copy-{n:03}.pem"))
        collector.kill(signal.SIGKILL)
        live = [agents[0], agents[2]]
        for a in live:
            for _ in range(3):
                p = run_agent(agent_bin, a["config"], outputs)
                check(p.returncode == 3, f"agent {a['id']} spools while the collector is down (exit 3)",
                      f"exit {p.returncode}")
        spooled = {a["id"]: spool_ids(a["dir"]) for a in live}
        check(all(len(v) == 3 for v in spooled.values()), "three reports spooled per agent", str(spooled))

        def stored_ids() -> set[str]:
            con = sqlite3.connect(db)
            try:
                return {r[0] for r in con.execute("SELECT report_id FROM reports")}
            finally:
                con.close()

        mid = ""
        tried = []
        # Under a sanitizer an agent's scan before its delivery takes seconds: the sweep goes on
        # until a kill lands mid-delivery (it stops at the first that does).
        for delay in (0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2.0, 3.0, 4.5, 6.5):
            for a in live:  # keep a few reports waiting in each spool
                while len(spool_ids(a["dir"])) < 2:
                    run_agent(agent_bin, a["config"], outputs)
                spooled[a["id"]] |= spool_ids(a["dir"])
            waiting = set().union(*(spool_ids(a["dir"]) for a in live))
            if not collector.start(port, ca):
                check(False, "collector restarts")
                break
            procs = [subprocess.Popen([agent_bin, "--config", a["config"], "--once"], stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True) for a in live]
            time.sleep(delay)
            collector.kill(signal.SIGKILL)
            for pr in procs:
                out, _ = pr.communicate(timeout=300)
                outputs.append(out)
            for a in live:
                spooled[a["id"]] |= spool_ids(a["dir"])
            landed = len(waiting & stored_ids())
            tried.append(f"{delay} s: {landed} of {len(waiting)}")
            if 0 < landed < len(waiting):
                mid = f"{landed} of {len(waiting)} waiting reports stored when SIGKILL came after {delay} s"
                break
        check(bool(mid), "the collector was killed in the middle of delivery",
              "no delay landed mid-delivery (stored when killed: " + "; ".join(tried) + ")")
        if mid:
            print(f"      ({mid})")
        check(collector.start(port, ca), "collector restarts after SIGKILL during ingest")
        for a in live:
            p = run_agent(agent_bin, a["config"], outputs)
            check(p.returncode == 0, f"agent {a['id']} delivers the rest", f"exit {p.returncode}")
            check(not spool_ids(a["dir"]), f"agent {a['id']} spool drains")
        con = sqlite3.connect(db)
        try:
            for a in live:
                rows = con.execute("SELECT report_id, COUNT(*) FROM reports WHERE agent_id = ? GROUP BY report_id",
                                   (a["id"],)).fetchall()
                stored = {r[0]: r[1] for r in rows}
                missing = spooled[a["id"]] - set(stored)
                twice = [k for k, n in stored.items() if n != 1]
                check(not missing and not twice, f"every report agent {a['id']} spooled is stored exactly once",
                      f"missing {missing} twice {twice}")
        finally:
            con.close()

        # The fleet report, read straight from the database while the collector runs.
        head_before = run([collector_bin, "audit", "head", "--config", config]).stdout
        p = run([collector_bin, "report", "--config", config, "--format", "json"])
        outputs.append(p.stdout + p.stderr)
        try:
            rep = json.loads(p.stdout) if p.returncode == 0 else {}
        except ValueError:
            rep = {}
        rep_hosts = {h.get("agent_id") for h in rep.get("hosts", [])} if isinstance(rep, dict) else set()
        check(p.returncode == 0 and rep.get("schema") == "keyward.fleet-report/v1"
              and rep_hosts == {a["id"] for a in agents}, "report --format json lists the three hosts",
              f"exit {p.returncode} {p.stderr.strip()[-300:]} {sorted(rep_hosts)}")
        spread_rep = rep.get("keys", {}).get("on_several_hosts", {}).get("items", []) if isinstance(rep, dict) else []
        copied = [k for k in spread_rep if identity and k.get("identity") == identity]
        check(len(copied) == 1 and copied[0].get("hosts") == 2 and copied[0].get("state") == "excepted"
              and copied[0].get("places_total", 0) > len(copied[0].get("places", [])),
              "report --format json shows the copied key on two hosts, excepted, its places abbreviated",
              str(spread_rep)[:400])
        by_sev = rep.get("open_findings_by_severity", {}) if isinstance(rep, dict) else {}
        check(bool(by_sev) and sum(by_sev.values()) == rep.get("summary", {}).get("open_findings"),
              "report open findings by severity add up to the open findings", str(by_sev))
        p = run([collector_bin, "report", "--config", config, "--format", "text", "--top", "5"])
        outputs.append(p.stdout + p.stderr)
        lines = p.stdout.splitlines()
        key_line = [l for l in lines if identity and identity[:21] in l]
        check(p.returncode == 0 and all(a["id"] in p.stdout for a in agents)
              and "Keys on several hosts (" in p.stdout and bool(key_line)
              and key_line[0].split()[0] == "2" and "excepted" in key_line[0],
              "report --format text lists the three hosts and the copied key on 2 hosts",
              f"exit {p.returncode} {p.stderr.strip()[-300:]} {p.stdout[:1500]}")
        check(run([collector_bin, "audit", "head", "--config", config]).stdout == head_before,
              "report writes no audit entry")

        # Audit.
        collector.kill()
        p = run([collector_bin, "audit", "verify", "--config", config])
        m = re.search(r"(\d+) signed checkpoints match", p.stdout)
        check(p.returncode == 0 and m is not None and int(m.group(1)) > 10,
              "audit verify passes on an untouched log and checks the signed checkpoints", p.stdout + p.stderr)
        with open(os.path.join(cdir, "events.jsonl")) as f:
            last_cp = [json.loads(l) for l in f if '"audit_checkpoint"' in l][-1:]
        con = sqlite3.connect(db)
        max_seq = con.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
        rows = con.execute("SELECT seq, time, actor, via, action, subject, detail, prev_hash, hash FROM audit "
                           "WHERE seq >= ? ORDER BY seq", (max_seq - 3,)).fetchall()
        con.close()
        check(bool(last_cp) and last_cp[0].get("audit_seq") == max_seq and last_cp[0].get("audit_hash") == rows[-1][8],
              "the events file ends with a signed checkpoint of the audit head", str(last_cp))
        p = run([collector_bin, "audit", "head", "--config", config])
        headfile = os.path.join(tmp, "head.json")
        with open(headfile, "w") as f:
            f.write(p.stdout)
        check(p.returncode == 0 and "hash" in p.stdout, "audit head exports the last entry")
        tampered = os.path.join(tmp, "tampered")
        tcfg = tampered_copy(cdir, tampered, [("UPDATE audit SET actor = 'cli:mallory' WHERE seq = 3", ())])
        p = run([collector_bin, "audit", "verify", "--config", tcfg])
        check(p.returncode == 1 and "3" in p.stdout + p.stderr, "audit verify catches an edited row",
              p.stdout + p.stderr)
        # A repeated key: json_extract reads the first value, a parser keeping the last sees the old one.
        # The forged detail parses (last value wins) to what keyward wrote.
        seq, detail = next(((r[0], r[6]) for r in rows if json.loads(r[6])), (rows[0][0], '{"n":1}'))
        first = next(iter(json.loads(detail)))
        forged = "{" + json.dumps(first) + ':"forged",' + detail[1:]
        check(json.loads(forged) == json.loads(detail), "the forged detail parses to the stored value", forged)
        tcfg = tampered_copy(cdir, tampered, [("UPDATE audit SET detail = ? WHERE seq = ?", (forged, seq))])
        p = run([collector_bin, "audit", "verify", "--config", tcfg])
        check(p.returncode == 1 and f"entry {seq} " in p.stdout and "twice" in p.stdout,
              "audit verify refuses a detail forged with a repeated key, naming the entry", p.stdout + p.stderr)
        tcfg = tampered_copy(cdir, tampered, [("DELETE FROM audit WHERE seq >= (SELECT MAX(seq) - 1 FROM audit)", ())])
        p = run([collector_bin, "audit", "verify", "--config", tcfg, "--head", headfile])
        check(p.returncode == 1, "audit verify with the exported head catches the cut tail", p.stdout + p.stderr)
        # Rewrite an entry and recompute the chain after it, as someone who knows the rule would.
        sql, prev = [], rows[0][7]
        for row in rows:
            detail = '{"rewritten":true}' if row[0] == rows[0][0] else row[6]
            h = audit_v2_hash(row, detail, prev)
            sql.append(("UPDATE audit SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?", (detail, prev, h, row[0])))
            prev = h
        tcfg = tampered_copy(cdir, tampered, sql)
        p = run([collector_bin, "audit", "verify", "--config", tcfg, "--checkpoints", os.devnull])
        check(p.returncode == 0, "a log rewritten with its chain recomputed passes the chain alone", p.stdout + p.stderr)
        p = run([collector_bin, "audit", "verify", "--config", tcfg])
        check(p.returncode == 1 and "signed checkpoint" in p.stdout and f"entry {rows[0][0]} " in p.stdout,
              "audit verify catches the recomputed chain through the signed checkpoints", p.stdout + p.stderr)
        outputs.append(p.stdout + p.stderr)

        # No secrets anywhere.
        places = [db, db + "-wal", os.path.join(cdir, "events.jsonl"), log, os.path.join(tmp, "captured-report.json")]
        blobs = {}
        for pth in places:
            if os.path.exists(pth):
                blobs[pth] = open(pth, "rb").read()
        for a in agents:
            for pth in glob.glob(os.path.join(a["dir"], "**", "*"), recursive=True):
                if os.path.isfile(pth) and not pth.endswith(".key"):
                    data = open(pth, "rb").read()
                    if pth.endswith(".gz"):
                        data = gzip.decompress(data)
                    blobs[pth] = data
        blobs["process output"] = "\n".join(outputs).encode()
        leaks = []
        for name, data in blobs.items():
            for s in SECRETS:
                if s.encode() in data:
                    leaks.append(f"{os.path.basename(name)}: {s[:8]}...")
        check(len(blobs) > 6 and not leaks, "no key body or token in the database, spool, events, logs or reports",
              "; ".join(leaks[:10]))
        check(os.stat(db).st_mode & 0o077 == 0, "the database is mode 0600")
    finally:
        if collector:
            collector.kill(signal.SIGKILL)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"check_fleet: {PASSED} passed, {FAILED} failed")
    return 0 if FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
