#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Two keyward-collector replicas on one PostgreSQL database, with real processes on 127.0.0.1
(issue 19; docs/deployment.md, "PostgreSQL and replicas").

Usage:
  /usr/bin/python3 tests/integration/check_replicas.py --bin build/bin

What it checks (each line of output is one check; the run goes on after a failure):
  1. A throw-away PostgreSQL cluster that wants a password over TCP (SCRAM). `init --database
     postgres://... --database-password-file F` makes the schema and the first admin token in it;
     without the password file the collector cannot connect and says so.
  2. Two `serve` processes with the same config (but their listen port and events file) answer
     /health and /ready.
  3. An enrollment token made through replica B enrolls an agent at replica A; B approves it; the
     agent's scan sent to A is in B's inventory.
  4. A report posted to A and replayed to B is a duplicate at B: stored once.
  5. An agent revoked through B is refused by A at its next report.
  6. `audit verify` passes over the entries both replicas wrote (one chain), and each replica's
     events file holds the database's events gap-free, in one order.
  7. While the database is down a replica answers /health 200 and /ready 503; once it is back
     both are ready and write again, and the chain still verifies.
  8. The password is in no config, log, process output or process argument list.
Exits 0 when every check passed, 1 otherwise, 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import shutil
import json
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
import check_fleet as fleet  # noqa: E402  (Api, Collector, trees, agents' helpers)
import pg_cluster  # noqa: E402

check, run = fleet.check, fleet.run


def event_seqs(path: str) -> list[int]:
    out = []
    if os.path.exists(path):
        for line in open(path):
            j = json.loads(line)
            if "seq" in j and j.get("type") != "audit_checkpoint":
                out.append(j["seq"])
    return out


def replicas(args, tmp: str, outputs: list[str]) -> None:
    collector_bin = os.path.join(args.bin, "keyward-collector")
    agent_bin = os.path.join(args.bin, "keyward-agent")
    password = os.urandom(16).hex()
    pwfile = os.path.join(tmp, "pg.password")
    with open(pwfile, "w") as f:
        f.write(password + "\n")
    os.chmod(pwfile, 0o600)
    cluster = pg_cluster.Cluster(password_file=pwfile)
    with cluster as conninfo:
        pg_port = re.search(r"port=(\d+)", conninfo).group(1)
        url = f"postgres://postgres@127.0.0.1:{pg_port}/postgres"
        port_a, port_b = fleet.free_port(), fleet.free_port()
        cdir = os.path.join(tmp, "collector")

        # 1. Without the password the collector cannot connect, and says why.
        p = run([collector_bin, "init", "--dir", os.path.join(tmp, "nopw"), "--listen", f"127.0.0.1:{port_a}",
                 "--database", url], env=dict(os.environ, PGPASSFILE=os.devnull, PGPASSWORD=""))
        outputs.append(p.stdout + p.stderr)
        check(p.returncode != 0 and "PostgreSQL" in p.stderr, "init without the database password fails and says so",
              p.stderr.strip()[-300:])
        p = run([collector_bin, "init", "--dir", cdir, "--listen", f"127.0.0.1:{port_a}", "--san", "127.0.0.1",
                 "--database", url, "--database-password-file", pwfile])
        outputs.append(p.stderr)
        m = re.search(r"kwt_[A-Za-z0-9_-]{43}", p.stdout)
        if not check(p.returncode == 0 and m is not None, "init on PostgreSQL prints an admin token",
                     p.stderr.strip()[-400:]):
            return
        admin_token = m.group(0)
        config_a = os.path.join(cdir, "collector.yaml")
        text = open(config_a).read()
        check(url in text and password not in text, "collector.yaml names the database, not its password")
        # Replica B: the same config but for its port and its own events file.
        config_b = os.path.join(cdir, "collector-b.yaml")
        events_b = os.path.join(cdir, "events-b.jsonl")
        with open(config_b, "w") as f:
            f.write(re.sub(r"^events_file: .*$", f"events_file: {events_b}",
                           text.replace(f"127.0.0.1:{port_a}", f"127.0.0.1:{port_b}"), flags=re.M))
        os.chmod(config_b, 0o600)
        ca = os.path.join(cdir, "pki", "ca.pem")

        # 2. Two replicas.
        a = fleet.Collector(collector_bin, config_a, os.path.join(tmp, "a.log"))
        b = fleet.Collector(collector_bin, config_b, os.path.join(tmp, "b.log"))
        try:
            ok = check(a.start(port_a, ca), "replica A serves") and check(b.start(port_b, ca), "replica B serves")
            if not ok:
                return
            for name, port in (("A", port_a), ("B", port_b)):
                st, body = fleet.Api(port, ca).get("/ready")
                check(st == 200, f"replica {name} is ready", f"{st} {body}")
            for proc in (a.proc, b.proc):
                cmdline = open(f"/proc/{proc.pid}/cmdline", "rb").read().decode(errors="replace")
                check(password not in cmdline, "the password is not in a replica's arguments")
            admin_a = fleet.Api(port_a, ca, token=admin_token)
            admin_b = fleet.Api(port_b, ca, token=admin_token)

            # 3. Enrolled through A with B's token, approved by B, reporting to A, seen by B.
            root = os.path.join(tmp, "host0")
            fleet.make_tree(root, 0, "")
            st, body = admin_b.post("/api/v1/enrollment-tokens", {"ttl_seconds": 3600})
            if not check(st in (200, 201) and "secret" in body, "replica B makes an enrollment token", f"{st}"):
                return
            sdir = os.path.join(tmp, "agent0")
            acfg = os.path.join(sdir, "agent.yaml")
            p = run([agent_bin, "enroll", "--collector", f"https://127.0.0.1:{port_a}", "--token", body["secret"],
                     "--ca", ca, "--state-dir", sdir, "--root", root, "--config-out", acfg])
            outputs.append(p.stdout + p.stderr)
            if not check(p.returncode == 0, "the agent enrolls at replica A with B's token", p.stderr[-300:]):
                return
            agent_id = fleet.agent_id_of(sdir)
            st, _ = admin_b.post(f"/api/v1/agents/{agent_id}/approve")
            check(st == 200, "replica B approves the agent", str(st))
            p = fleet.run_agent(agent_bin, acfg, outputs)
            check(p.returncode == 0, "the agent's scan is delivered to replica A", (p.stdout + p.stderr)[-300:])
            st, fs = admin_b.get(f"/api/v1/findings?host={agent_id}&limit=100")
            paths = [f["finding"]["location"]["path"] for f in fs.get("items", [])] if st == 200 else []
            check(any(x.endswith("deploy-0.pem") for x in paths), "replica B lists the findings A stored", str(paths)[:300])

            # 4. A report posted to A and replayed to B is stored once.
            cert, key = os.path.join(sdir, "agent.pem"), os.path.join(sdir, "agent.key")
            doc = {"schema": "keyward.findings/v1", "report_id": os.urandom(16).hex(),
                   "tool": {"name": "keyward", "version": "test"}, "host": {"hostname": "host0", "os": "linux"},
                   "scan": {"id": "partial", "started_at": "2026-01-01T00:00:00Z",
                            "finished_at": "2026-01-01T00:00:01Z", "roots": [root], "complete": False,
                            "stats": {"files_seen": 1}, "errors": []},
                   "findings": []}
            st1, b1 = fleet.Api(port_a, ca, cert=cert, key=key).post("/api/v1/reports", doc)
            st2, b2 = fleet.Api(port_b, ca, cert=cert, key=key).post("/api/v1/reports", doc)
            check(st1 == 202 and b1.get("status") == "stored", "replica A stores a report", f"{st1} {b1}")
            check(st2 in (200, 202) and b2.get("status") == "duplicate", "the same report replayed to B is a duplicate",
                  f"{st2} {b2}")

            # 5. Revoked through B, refused by A.
            st, _ = admin_b.post(f"/api/v1/agents/{agent_id}/revoke")
            check(st == 200, "replica B revokes the agent", str(st))
            st, body = fleet.Api(port_a, ca, cert=cert, key=key).post(
                "/api/v1/reports", dict(doc, report_id=os.urandom(16).hex()))
            check(st == 403, "replica A refuses the revoked agent's next report", f"{st} {body}")

            # 6. One audit chain, one order of events.
            admin_a.post("/api/v1/enrollment-tokens", {"ttl_seconds": 60})  # a commit on each replica: both
            admin_b.post("/api/v1/enrollment-tokens", {"ttl_seconds": 60})  # files catch up
            p = run([collector_bin, "audit", "verify", "--config", config_a])
            outputs.append(p.stdout + p.stderr)
            check(p.returncode == 0 and "chain intact" in p.stdout, "audit verify passes over both replicas' entries",
                  (p.stdout + p.stderr)[-300:])
            st, evs = admin_a.get("/api/v1/events?limit=1000")
            total = len(fleet.items(evs))
            for name, path in (("A", os.path.join(cdir, "events.jsonl")), ("B", events_b)):
                seqs = event_seqs(path)
                check(total > 0 and seqs == list(range(1, total + 1)),
                      f"replica {name}'s events file holds every event in one order", f"{seqs[:10]} of {total}")

            # 7. The database goes away and comes back.
            pg_cluster.pause(cluster.state)
            st_live, _ = fleet.Api(port_a, ca).get("/health")
            st_ready, body = fleet.Api(port_a, ca).get("/ready")
            check(st_live == 200 and st_ready == 503, "while the database is down, a replica is live but not ready",
                  f"{st_live} {st_ready} {body}")
            pg_cluster.resume(cluster.state)
            ready = []
            for port in (port_a, port_b):
                deadline = time.time() + 20
                st = 0
                while time.time() < deadline and st != 200:
                    st, _ = fleet.Api(port, ca).get("/ready")
                    time.sleep(0.2) if st != 200 else None
                ready.append(st)
            check(ready == [200, 200], "both replicas are ready again once the database is back", str(ready))
            st_a, _ = admin_a.post("/api/v1/enrollment-tokens", {"ttl_seconds": 60})
            st_b, _ = admin_b.post("/api/v1/enrollment-tokens", {"ttl_seconds": 60})
            check(st_a == 201 and st_b == 201, "both replicas write again after the outage", f"{st_a} {st_b}")
            p = run([collector_bin, "audit", "verify", "--config", config_b])
            check(p.returncode == 0, "the audit chain still verifies after the outage", (p.stdout + p.stderr)[-300:])
        finally:
            a.kill()
            b.kill()
        for log in ("a.log", "b.log"):
            outputs.append(open(os.path.join(tmp, log)).read())
        check(not any(password in o for o in outputs), "the password is in no output or log")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with keyward-collector and keyward-agent")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="keyward-replicas-")
    outputs: list[str] = []
    try:
        replicas(args, tmp, outputs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{fleet.PASSED} passed, {fleet.FAILED} failed")
    return 0 if fleet.FAILED == 0 and fleet.PASSED > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
