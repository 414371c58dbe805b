#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The fleet under attack, on 127.0.0.1 (issue 12): a hostile enrolled host, a holder of one
enrollment token, a token holder who wants to approve their own request, a client that hoards
connections, and someone with write access to the database who rewrites the audit log.

Usage:
  /usr/bin/python3 tests/integration/check_fleet_abuse.py --bin build/bin

What it checks (each line of output is one check; the run goes on after a failure):
  1. Enrolling with a CSR made from a key the fleet reports as exposed is refused, and the key's
     places stay open with their score.
  2. A report of 100,000 findings is refused (413 too_many_findings) and stores nothing.
  3. /health answers within 200 ms, every time, while two agents' largest allowed reports ingest.
  4. 300 idle connections from one client address leave /health answering for another.
  5. A request whose body is framed two ways (Transfer-Encoding "chunked, identity") is refused;
     the request smuggled in its body is never answered.
  6. No token or key body appears in any output, the database or the events file.
The attacks on people and the audit log run in check_fleet.py, beside the flows they attack: a
second token of the principal "alice" cannot approve alice's request; a forged audit detail with a
repeated key, and a log rewritten with a recomputed chain, fail `audit verify` (the latter
through the signed checkpoints).
Exits 0 when every check passed, 1 otherwise, 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_fleet as cf  # noqa: E402  (the fleet test's clients, processes and key helpers)

check, run, Api, Collector = cf.check, cf.run, cf.Api, cf.Collector


def spki_of(pem_path: str) -> str:
    der = subprocess.run(["openssl", "pkey", "-in", pem_path, "-pubout", "-outform", "DER"], capture_output=True,
                         check=True).stdout
    return hashlib.sha256(der).hexdigest()


def slim_finding(template: dict, n: int) -> dict:
    """The template finding at another path, without the explanations (a small report line)."""
    f = {k: template[k] for k in ("format", "key", "kind", "rule") if k in template}
    f["id"] = hashlib.sha256(f"abuse-{n}".encode()).hexdigest()[:32]
    f["location"] = {"path": f"/srv/bulk/k{n:06}.pem", "line": 1, "offset": 0}
    f["risk"] = {"score": template["risk"]["score"], "severity": template["risk"]["severity"], "factors": []}
    return f


def report_doc(findings: list[dict], hostname: str) -> dict:
    return {"schema": "keyward.findings/v1", "report_id": os.urandom(16).hex(),
            "tool": {"name": "keyward", "version": "abuse-test"}, "host": {"hostname": hostname, "os": "linux"},
            "scan": {"id": "abuse", "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z",
                     "roots": ["/srv"], "complete": False, "stats": {"files_seen": len(findings)}, "errors": []},
            "findings": findings}


def health_ms(port: int, ca: str, source: str = "127.0.0.1") -> float:
    """Milliseconds for a fresh TLS connection's GET /health (connect, handshake, answer)."""
    ctx = ssl.create_default_context(cafile=ca)
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
    if not data.startswith(b"HTTP/1.1 200"):
        raise OSError(f"/health answered {data[:40]!r}")
    return (time.monotonic() - t0) * 1000


def raw_exchange(port: int, ca: str, payload: bytes, token: str, wait: float = 3.0) -> bytes:
    """Sends raw bytes on one TLS connection and returns everything the server wrote back."""
    ctx = ssl.create_default_context(cafile=ca)
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(payload.replace(b"TOKEN", token.encode()))
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
            except (socket.timeout, ssl.SSLError, OSError):
                pass
    return out


class Fleet:
    """A collector with two approved agents; agent "exposed" has scanned a tree holding a key."""

    def __init__(self, tmp: str, bins: str, max_findings: int | None = None, health_ms: int = 200):
        self.tmp, self.bins, self.max_findings, self.health_ms = tmp, bins, max_findings, health_ms
        self.collector_bin = os.path.join(bins, "keyward-collector")
        self.agent_bin = os.path.join(bins, "keyward-agent")
        self.outputs: list[str] = []
        self.collector: Collector | None = None
        self.agents: list[dict] = []

    def start(self) -> bool:
        self.port = cf.free_port()
        self.cdir = os.path.join(self.tmp, "collector")
        p = run([self.collector_bin, "init", "--dir", self.cdir, "--listen", f"127.0.0.1:{self.port}", "--san",
                 "127.0.0.1"])
        self.outputs.append(p.stderr)
        m = re.search(r"kwt_[A-Za-z0-9_-]{43}", p.stdout)
        if not check(p.returncode == 0 and m is not None, "collector init", p.stderr[-300:]):
            return False
        self.admin_token = m.group(0)
        cf.SECRETS.add(self.admin_token)
        self.config = os.path.join(self.cdir, "collector.yaml")
        # Bytes are not what is tested: an operator may well raise the byte cap, and the findings cap
        # (limits.max_findings_per_report) must still bound the work a report makes.
        with open(self.config) as f:
            text = f.read()
        assert "max_request_bytes: 33554432" in text, "collector init no longer writes max_request_bytes"
        text = text.replace("max_request_bytes: 33554432", "max_request_bytes: 67108864")
        if self.max_findings is not None:
            text = re.sub(r"max_findings_per_report: \d+", f"max_findings_per_report: {self.max_findings}", text)
        with open(self.config, "w") as f:
            f.write(text)
        self.ca = os.path.join(self.cdir, "pki", "ca.pem")
        self.log = os.path.join(self.tmp, "collector.log")
        self.collector = Collector(self.collector_bin, self.config, self.log)
        if not check(self.collector.start(self.port, self.ca), "collector serves /health"):
            print(open(self.log).read()[-2000:])
            return False
        self.admin = Api(self.port, self.ca, token=self.admin_token)
        return True

    def enrollment_token(self) -> str:
        st, body = self.admin.post("/api/v1/enrollment-tokens", {"ttl_seconds": 3600})
        secret = body.get("secret", "") if isinstance(body, dict) else ""
        cf.SECRETS.add(secret)
        return secret

    def enroll(self, name: str, root: str) -> dict:
        sdir = os.path.join(self.tmp, f"agent-{name}")
        acfg = os.path.join(sdir, "agent.yaml")
        p = run([self.agent_bin, "enroll", "--collector", f"https://127.0.0.1:{self.port}", "--token",
                 self.enrollment_token(), "--ca", self.ca, "--state-dir", sdir, "--root", root, "--config-out", acfg])
        self.outputs.append(p.stdout + p.stderr)
        agent = {"name": name, "dir": sdir, "config": acfg, "id": cf.agent_id_of(sdir), "root": root}
        check(p.returncode == 0, f"agent {name} enrolls", (p.stdout + p.stderr)[-300:])
        st, _ = self.admin.post(f"/api/v1/agents/{agent['id']}/approve")
        check(st == 200, f"admin approves agent {name}", str(st))
        self.agents.append(agent)
        return agent

    def client(self, agent: dict) -> Api:
        return Api(self.port, self.ca, cert=os.path.join(agent["dir"], "agent.pem"),
                   key=os.path.join(agent["dir"], "agent.key"))

    def token(self, role: str, name: str, principal: str | None = None) -> Api:
        body = {"role": role, "name": name}
        if principal:
            body["principal"] = principal
        st, b = self.admin.post("/api/v1/tokens", body)
        check(st == 201 and isinstance(b, dict) and "secret" in b, f"admin creates {role} token {name!r}", f"{st} {b}")
        secret = b.get("secret", "") if isinstance(b, dict) else ""
        cf.SECRETS.add(secret)
        return Api(self.port, self.ca, token=secret)


# ---------------------------------------------------------------- the attacks

def exposed_key_enrollment(fleet: Fleet, exposed: str, viewer: Api) -> None:
    spki = spki_of(exposed)
    q = f"/api/v1/findings?kind=private_key&status=all&limit=1000"

    def places() -> list[dict]:
        st, body = viewer.get(q)
        return [f for f in cf.items(body) if f["finding"].get("key", {}).get("spki_sha256") == spki]

    before = places()
    check(len(before) == 1 and before[0]["status"] == "open" and before[0]["finding"]["risk"]["score"] >= 70,
          "the exposed key is an open finding before the attack", str(before)[:300])
    csr = os.path.join(fleet.tmp, "evil.csr")
    cf.openssl("req", "-new", "-key", exposed, "-subj", "/CN=evil", "-out", csr)
    body = {"csr": open(csr).read(), "hostname": "evil", "os": "linux"}
    etoken = fleet.enrollment_token()
    st, answer = Api(fleet.port, fleet.ca, token=etoken).post("/api/v1/enroll", body)
    code = answer.get("error", {}).get("code", "") if isinstance(answer, dict) else ""
    check(st in (403, 409) and code != "", "enrolling with an exposed key's CSR is refused", f"{st} {answer}")
    after = places()
    check(len(after) == 1 and after[0]["status"] == "open"
          and after[0]["finding"]["risk"]["score"] == before[0]["finding"]["risk"]["score"],
          "the exposed key stays open with its score", str(after)[:300])
    st, audit = fleet.admin.get("/api/v1/audit?since=0&limit=1000")
    refusals = [e for e in cf.items(audit) if "enroll" in e.get("action", "") and "refus" in json.dumps(e)]
    check(bool(refusals), "the refused enrollment is in the audit log", str(cf.items(audit)[-3:])[:400])


def oversized_report(fleet: Fleet, agent: dict, template: dict) -> None:
    doc = report_doc([slim_finding(template, n) for n in range(100_000)], "bulk")
    raw = json.dumps(doc, separators=(",", ":")).encode()
    body = gzip.compress(raw, 6)
    client = fleet.client(agent)
    client.timeout = 300  # parsing up to the cap may be slow under a sanitizer
    st, answer = client.post("/api/v1/reports", body, headers={"Content-Encoding": "gzip"})
    code = answer.get("error", {}).get("code", "") if isinstance(answer, dict) else ""
    check(st == 413 and code == "too_many_findings",
          f"a report of 100,000 findings ({len(raw) >> 20} MiB) is refused with 413 too_many_findings",
          f"{st} {str(answer)[:200]}")
    st, fs = fleet.admin.get(f"/api/v1/findings?host={agent['id']}&limit=1")
    check(st == 200 and fs.get("total", -1) < 100, "the refused report stored nothing", f"{st} {str(fs)[:200]}")


def max_findings_per_report(fleet: Fleet) -> int:
    import yaml  # python3-yaml
    with open(fleet.config) as f:
        cfg = yaml.safe_load(f) or {}
    return int((cfg.get("limits") or {}).get("max_findings_per_report", 20000))


def health_during_ingest(fleet: Fleet, template: dict) -> None:
    cap = max_findings_per_report(fleet)
    bodies = []
    for a in fleet.agents[:2]:
        doc = report_doc([slim_finding(template, a["name"].__hash__() % 1000 * 1_000_000 + n) for n in range(cap)],
                         a["name"])
        bodies.append((a, gzip.compress(json.dumps(doc).encode(), 6)))
    results: list[tuple[int, object]] = []

    def post(agent: dict, body: bytes) -> None:
        client = fleet.client(agent)
        client.timeout = 300  # the ingest itself may be slow on a loaded machine; /health must not be
        try:
            results.append(client.post("/api/v1/reports", body, headers={"Content-Encoding": "gzip"}))
        except OSError as e:
            results.append((0, f"{type(e).__name__}: {e}"))

    threads = [threading.Thread(target=post, args=ab) for ab in bodies]
    for t in threads:
        t.start()
    times, errors = [], []
    while any(t.is_alive() for t in threads):
        try:
            times.append(health_ms(fleet.port, fleet.ca))
        except OSError as e:
            errors.append(str(e))
        time.sleep(0.05)
    for t in threads:
        t.join()
    stored = [r for r in results if r[0] == 202]
    check(len(stored) == 2, f"two reports of {cap} findings (the most allowed) are accepted",
          str([(s, str(b)[:100]) for s, b in results]))
    worst = max(times) if times else -1
    check(len(times) >= 3 and not errors and worst < fleet.health_ms,
          f"/health answers within {fleet.health_ms} ms while they ingest ({len(times)} probes, worst {worst:.0f} ms)",
          f"errors {errors[:3]}")


def idle_connections(fleet: Fleet) -> None:
    hoard = []
    try:
        for _ in range(300):
            s = socket.socket()
            s.settimeout(5)
            s.bind(("127.0.0.2", 0))
            try:
                s.connect(("127.0.0.1", fleet.port))
            except OSError:
                s.close()
                continue
            hoard.append(s)
        time.sleep(0.5)
        try:
            ms = health_ms(fleet.port, fleet.ca)
            ok = ms < 2000
        except OSError as e:
            ms, ok = -1, False
        check(ok, f"300 idle connections from 127.0.0.2 leave /health answering for 127.0.0.1 ({ms:.0f} ms)")
    finally:
        for s in hoard:
            s.close()


def smuggling(fleet: Fleet) -> None:
    smuggled = (b"GET /api/v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOKEN\r\n\r\n")
    chunk = b"%x\r\n" % len(smuggled) + smuggled + b"\r\n0\r\n\r\n"
    for te in (b"chunked, identity", b"xchunked", b"identity"):
        payload = (b"POST /api/v1/exceptions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOKEN\r\n"
                   b"Content-Type: application/json\r\nTransfer-Encoding: " + te + b"\r\n\r\n" + chunk)
        out = raw_exchange(fleet.port, fleet.ca, payload, fleet.admin_token)
        statuses = re.findall(rb"HTTP/1\.1 (\d{3})", out)
        check(len(statuses) == 1 and statuses[0] in (b"400", b"501"),
              f"Transfer-Encoding {te.decode()!r} is refused and the smuggled request is not answered",
              str(statuses))
    folded = (b"GET /api/v1/hosts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOKEN\r\nX-A: 1\r\n folded\r\n\r\n")
    out = raw_exchange(fleet.port, fleet.ca, folded, fleet.admin_token)
    check(out.startswith(b"HTTP/1.1 400"), "a folded header line is refused with 400", str(out[:40]))










def no_secrets(fleet: Fleet) -> None:
    blobs = {"process output": "\n".join(fleet.outputs).encode()}
    for name in ("keyward.db", "keyward.db-wal", "events.jsonl"):
        pth = os.path.join(fleet.cdir, name)
        if os.path.exists(pth):
            blobs[name] = open(pth, "rb").read()
    blobs["collector log"] = open(fleet.log, "rb").read()
    leaks = [f"{n}: {s[:8]}..." for n, d in blobs.items() for s in cf.SECRETS if s and s.encode() in d]
    check(not leaks, "no token or key body in the outputs, the database or the events file", "; ".join(leaks[:5]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with keyward, keyward-collector and keyward-agent")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--max-findings-per-report", type=int, default=None,
                    help="the collector's cap (default: what init writes); a sanitizer build uses a smaller one")
    ap.add_argument("--health-ms", type=int, default=200,
                    help="the slowest /health allowed during ingest (a sanitizer build's TLS is slower)")
    args = ap.parse_args()
    for b in ("keyward", "keyward-collector", "keyward-agent"):
        if not os.access(os.path.join(args.bin, b), os.X_OK):
            print(f"check_fleet_abuse: {b} is not built", file=sys.stderr)
            return 2
    tmp = tempfile.mkdtemp(prefix="keyward-abuse-")
    fleet = Fleet(tmp, args.bin, args.max_findings_per_report, args.health_ms)
    try:
        if not fleet.start():
            return 1
        root = os.path.join(tmp, "host-exposed")
        exposed = os.path.join(root, "srv", "release.pem")
        cf.make_key(exposed)
        victim = fleet.enroll("exposed", root)
        fleet.enroll("second", os.path.join(tmp, "host-second"))
        p = cf.run_agent(fleet.agent_bin, victim["config"], fleet.outputs)
        check(p.returncode == 0, "agent exposed reports its scan", (p.stdout + p.stderr)[-300:])
        scan = run([os.path.join(args.bin, "keyward"), "scan", root, "--format", "json"])
        template = next(f for f in json.loads(scan.stdout)["findings"] if f["kind"] == "private_key")
        viewer = fleet.token("viewer", "viewer")

        exposed_key_enrollment(fleet, exposed, viewer)
        oversized_report(fleet, fleet.agents[1], template)
        health_during_ingest(fleet, template)
        idle_connections(fleet)
        smuggling(fleet)
        fleet.collector.kill()
        no_secrets(fleet)
    finally:
        if fleet.collector:
            fleet.collector.kill(signal.SIGKILL)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"check_fleet_abuse: {cf.PASSED} passed, {cf.FAILED} failed")
    return 0 if cf.FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
