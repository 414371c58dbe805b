#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fleet benchmarks (issue 6), all on 127.0.0.1 with the real binaries.

  fleet_bench.py load  --bin build/bin [--agents 8] [--reports 40] [--keys 25] [--procs 3]
      A collector on SQLite; AGENTS synthetic agents enroll through the API (CSR made with the
      openssl CLI), are approved, then post REPORTS gzip'd full snapshots each over keep-alive
      connections from PROCS client processes. The snapshot is a real `keyward scan` report of
      a generated tree with KEYS keys and their certificates; every third report drops one
      finding and the next brings it back, so ingest resolves and reopens places as it goes.
      Prints reports/s and findings/s for the first snapshots (every place new) and the steady
      state, and the collector's peak RSS.

  fleet_bench.py agent --bin build/bin --tree DIR
      One enrolled agent scans DIR (e.g. the `make bench` tree) with --once: a full scan
      unpaced, a rescan of the unchanged tree (incremental cache), and a full scan paced at the
      default max_cpu_percent 25; wall time, CPU time and peak RSS of each. Then the agent as a
      daemon after its first scan: RSS and CPU over 10 s of idling.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid: int) -> float:
    """A process's peak resident set (VmHWM), MiB; 0 when unknown."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def sh(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


class Collector:
    def __init__(self, bindir: str, tmp: str):
        self.bin = os.path.join(bindir, "keyward-collector")
        self.dir = os.path.join(tmp, "collector")
        self.port = free_port()
        out = sh(self.bin, "init", "--dir", self.dir, "--listen", f"127.0.0.1:{self.port}", "--san", "127.0.0.1")
        self.admin = re.search(r"kwt_[A-Za-z0-9_-]{43}", out).group(0)
        self.config = os.path.join(self.dir, "collector.yaml")
        self.ca = os.path.join(self.dir, "pki", "ca.pem")
        # A load test posts far more than 12 reports a minute per agent.
        with open(self.config) as f:
            text = f.read()
        text = re.sub(r"reports_per_minute: *\d+", "reports_per_minute: 100000", text)
        with open(self.config, "w") as f:
            f.write(text)
        self.log = open(os.path.join(tmp, "collector.log"), "w")
        self.proc = subprocess.Popen([self.bin, "serve", "--config", self.config], stdout=self.log, stderr=self.log)
        for _ in range(200):
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("collector did not start")

    def ctx(self, cert=None, key=None):
        c = ssl.create_default_context(cafile=self.ca)
        if cert:
            c.load_cert_chain(cert, key)
        return c

    def call(self, method, path, body=None, token=None, ctx=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx or self.ctx(), timeout=60)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, (json.loads(data) if data else None)

    def enroll(self, workdir: str, name: str) -> tuple[str, str]:
        """A synthetic agent: key and CSR by openssl, enrolled and approved; returns cert, key."""
        os.makedirs(workdir, exist_ok=True)
        key, csr, cert = (os.path.join(workdir, f"{name}.{x}") for x in ("key", "csr", "pem"))
        sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
           "-out", csr, "-subj", f"/CN={name}")
        st, tok = self.call("POST", "/api/v1/enrollment-tokens", {"ttl_seconds": 600}, token=self.admin)
        with open(csr) as f:
            body = {"csr": f.read(), "hostname": name, "os": "linux"}
        st, ans = self.call("POST", "/api/v1/enroll", body, token=tok["secret"])
        if st != 201:
            raise SystemExit(f"enroll failed: {st} {ans}")
        with open(cert, "w") as f:
            f.write(ans["certificate"])
        self.call("POST", f"/api/v1/agents/{ans['agent_id']}/approve", {}, token=self.admin)
        return cert, key

    def peak_rss_mib(self) -> float:
        return peak_rss_mib(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def make_report(keyward: str, tmp: str, keys: int) -> dict:
    tree = os.path.join(tmp, "host-tree")
    os.makedirs(tree)
    for i in range(keys):
        k = os.path.join(tree, f"svc{i}", "tls.key")
        os.makedirs(os.path.dirname(k))
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", k,
           "-out", os.path.join(tree, f"svc{i}", "tls.crt"), "-days", "90", "-subj", f"/CN=svc{i}.example")
    out = os.path.join(tmp, "report.json")
    subprocess.run([keyward, "scan", "-q", "--format", "json", "-o", out, tree], capture_output=True)
    with open(out) as f:
        return json.load(f)


def post_worker(args) -> tuple[int, int, float, float, int]:
    """Posts the bodies over one keep-alive connection; returns (reports, findings, first_s, rest_s, errors)."""
    port, ca, cert, key, bodies = args
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=120)
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    findings = errors = 0
    first = rest = 0.0
    for n, (body, count) in enumerate(bodies):
        t = time.perf_counter()
        conn.request("POST", "/api/v1/reports", body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        dt = time.perf_counter() - t
        if n == 0:
            first += dt
        else:
            rest += dt
        if r.status != 202:
            errors += 1
        findings += count
    conn.close()
    return len(bodies), findings, first, rest, errors


def cmd_load(a) -> int:
    tmp = tempfile.mkdtemp(prefix="keyward-fleet-bench-")
    try:
        doc = make_report(os.path.join(a.bin, "keyward"), tmp, a.keys)
        col = Collector(a.bin, tmp)
        agents = [col.enroll(os.path.join(tmp, "agents"), f"load-{i:03}") for i in range(a.agents)]
        n_find = len(doc["findings"])
        print(f"collector on SQLite, {a.agents} agents x {a.reports} full snapshots of {n_find} findings each "
              f"(gzip, keep-alive), {a.procs} client processes, {os.cpu_count()} cores")
        jobs = []
        for cert, key in agents:
            bodies = []
            for r in range(a.reports):
                d = dict(doc)
                d["report_id"] = os.urandom(16).hex()
                if r % 3 == 1:  # drop one finding (resolves a place); the next report reopens it
                    d["findings"] = doc["findings"][:-1]
                bodies.append((gzip.compress(json.dumps(d).encode()), len(d["findings"])))
            jobs.append((col.port, col.ca, cert, key, bodies))
        t0 = time.perf_counter()
        with multiprocessing.Pool(a.procs) as pool:
            results = pool.map(post_worker, jobs)
        wall = time.perf_counter() - t0
        reports = sum(r[0] for r in results)
        findings = sum(r[1] for r in results)
        errors = sum(r[4] for r in results)
        first = sum(r[2] for r in results) / len(results)
        steady = sum(r[3] for r in results) / max(1, sum(r[0] - 1 for r in results))
        print(f"{'reports':>10} {'findings':>10} {'seconds':>8} {'reports/s':>10} {'findings/s':>11} {'errors':>7}")
        print(f"{reports:>10} {findings:>10} {wall:>8.2f} {reports / wall:>10.1f} {findings / wall:>11.0f} {errors:>7}")
        print(f"latency: first snapshot (all places new) {first * 1000:.1f} ms; later snapshots {steady * 1000:.1f} ms "
              f"per report (with {a.procs} clients at once)")
        print(f"collector peak RSS {col.peak_rss_mib():.1f} MiB; database "
              f"{os.path.getsize(os.path.join(col.dir, 'keyward.db')) / 1048576:.1f} MiB")
        col.stop()
        return 1 if errors else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def timed(cmd: list[str]) -> tuple[float, float, float, int]:
    """(wall s, cpu s, peak RSS MiB, exit status) of a command, via /usr/bin/time."""
    fd, out = tempfile.mkstemp(prefix="keyward-time-")
    os.close(fd)
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", out, *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t
    with open(out) as f:
        u, s, m = f.read().split()[-3:]
    os.unlink(out)
    return wall, float(u) + float(s), int(m) / 1024, p.returncode


def cmd_agent(a) -> int:
    tmp = tempfile.mkdtemp(prefix="keyward-agent-bench-")
    agent = os.path.join(a.bin, "keyward-agent")
    try:
        col = Collector(a.bin, tmp)
        st, tok = col.call("POST", "/api/v1/enrollment-tokens", {"ttl_seconds": 600}, token=col.admin)
        state = os.path.join(tmp, "agent")
        cfg = os.path.join(state, "agent.yaml")
        subprocess.run([agent, "enroll", "--collector", f"https://127.0.0.1:{col.port}", "--token", tok["secret"],
                        "--ca", col.ca, "--state-dir", state, "--root", os.path.abspath(a.tree), "--config-out", cfg],
                       check=True, capture_output=True)
        agents = col.call("GET", "/api/v1/agents", token=col.admin)[1]
        for ag in (agents if isinstance(agents, list) else agents.get("items", [])):
            col.call("POST", f"/api/v1/agents/{ag['id']}/approve", {}, token=col.admin)
        with open(cfg) as f:
            base = f.read()

        def config(cpu: int, interval: str = "6h") -> None:
            text = re.sub(r"max_cpu_percent: *\d+", f"max_cpu_percent: {cpu}", base)
            text = re.sub(r"interval: *\S+", f"interval: {interval}", text)
            text = re.sub(r"jitter: *\S+", "jitter: 0s", text)
            with open(cfg, "w") as f:
                f.write(text)

        def clear_cache():
            for p in ("cache",):
                path = os.path.join(state, p)
                if os.path.exists(path):
                    os.unlink(path)

        print(f"keyward-agent --once on {a.tree} (threads 1, nice 10, io_class idle), {os.cpu_count()} cores")
        print(f"{'run':<34} {'wall s':>8} {'cpu s':>8} {'cpu %':>7} {'RSS MiB':>8} {'exit':>5}")
        rows = []
        config(100)
        clear_cache()
        rows.append(("full scan, unpaced", timed([agent, "--config", cfg, "--once"])))
        rows.append(("rescan, unchanged tree (cache)", timed([agent, "--config", cfg, "--once"])))
        config(25)
        clear_cache()
        rows.append(("full scan, max_cpu_percent 25", timed([agent, "--config", cfg, "--once"])))
        for name, (wall, cpu, rss, rc) in rows:
            print(f"{name:<34} {wall:>8.2f} {cpu:>8.2f} {100 * cpu / wall:>6.0f}% {rss:>8.1f} {rc:>5}")
        full, rescan = rows[0][1][0], rows[1][1][0]
        print(f"rescan speed-up: {full / rescan:.1f}x")

        # Idle daemon: after its first (cached) scan and delivery, sample RSS and CPU for 10 s.
        config(100, "6h")
        d = subprocess.Popen([agent, "--config", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        status = os.path.join(state, "status.json")
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with open(status) as f:
                    s = json.load(f)
                if (s.get("last_delivery", {}).get("last_delivered", 0) and s.get("spool", {}).get("depth", 1) == 0
                        and s.get("last_scan", {}).get("finished", 0)):
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        time.sleep(1)

        def ticks() -> int:
            with open(f"/proc/{d.pid}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            return int(parts[11]) + int(parts[12])

        def rss() -> float:
            with open(f"/proc/{d.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
            return 0.0

        t0, c0 = time.time(), ticks()
        time.sleep(10)
        t1, c1 = time.time(), ticks()
        hz = os.sysconf("SC_CLK_TCK")
        print(f"idle daemon: RSS {rss():.1f} MiB, CPU {100 * (c1 - c0) / hz / (t1 - t0):.2f}% over {t1 - t0:.0f} s")
        d.send_signal(signal.SIGTERM)
        d.wait(timeout=30)
        col.stop()
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("load")
    lp.add_argument("--bin", required=True)
    lp.add_argument("--agents", type=int, default=8)
    lp.add_argument("--reports", type=int, default=40)
    lp.add_argument("--keys", type=int, default=25)
    lp.add_argument("--procs", type=int, default=3)
    ag = sub.add_parser("agent")
    ag.add_argument("--bin", required=True)
    ag.add_argument("--tree", required=True)
    a = ap.parse_args()
    return cmd_load(a) if a.cmd == "load" else cmd_agent(a)


if __name__ == "__main__":
    sys.exit(main())
