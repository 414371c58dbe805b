#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The collector under a simulated fleet (issue 19), on 127.0.0.1 with the real binaries.

  fleet_scale.py --bin build/bin --agents 1000 --seconds 20 [--fleet-cache DIR] [--keep]

Inits a collector (limits raised for a load test), starts it, enrolls AGENTS synthetic agents
with `keyward_fleet_load enroll` (or, with --fleet-cache, reuses the collector and the
identities made for a fleet of that size earlier), then runs, each for at most SECONDS:
  (a) first snapshots: every agent's first report (all its places new)
  (b) rescans: the same snapshots again (unchanged, or --churn of them changed), by the agents
      that (a) reached in its time
  (c) changing: every report carries --changing findings, all new each time
and prints reports/s, findings/s, ingest p50/p99 and /health p99 of each; then the inventory
reads (`keyward_fleet_load query`) and the collector's peak RSS. A benchmark, not a test: it
stops by itself and stops the collector (by its pid) on the way out, errors included.
Never prints a token or a key: the admin token goes from `init`'s output to a 0600 file.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

from fleet_bench import free_port, peak_rss_mib  # the same directory: run as bench/fleet_scale.py


def write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def raise_fd_limit() -> None:
    """In the collector's child: as many descriptors as allowed (one per open connection)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Collector:
    """A collector directory (made by `init` or copied from the cache) and its server process."""

    def __init__(self, bindir: str, tmp: str, agents: int):
        self.bin = os.path.join(bindir, "keyward-collector")
        self.tmp = tmp
        self.dir = os.path.join(tmp, "collector")
        self.config = os.path.join(self.dir, "collector.yaml")
        self.ca = os.path.join(self.dir, "pki", "ca.pem")
        self.admin_file = os.path.join(tmp, "admin.token")
        self.agents = agents
        self.port = 0
        self.proc = None
        self.log = None

    def init(self) -> None:
        self.port = free_port()
        out = subprocess.run([self.bin, "init", "--dir", self.dir, "--listen", f"127.0.0.1:{self.port}", "--san",
                              "127.0.0.1"], check=True, capture_output=True, text=True).stdout
        token = re.search(r"kwt_[A-Za-z0-9_-]{43}", out)
        if not token:
            raise SystemExit("keyward-collector init printed no admin token")
        write_private(self.admin_file, token.group(0) + "\n")
        self.configure()

    def adopt(self, cached: str) -> None:
        """Copies a cached collector directory (and its admin token) and points it at a new port."""
        shutil.copytree(os.path.join(cached, "collector"), self.dir)
        shutil.copy2(os.path.join(cached, "admin.token"), self.admin_file)
        self.port = free_port()
        self.configure()

    def configure(self) -> None:
        """A load test's limits, this directory and this port in collector.yaml."""
        conns = min(100000, max(1024, self.agents + 256))
        with open(self.config) as f:
            text = f.read()
        for key, value in (("reports_per_minute", 100000), ("reads_per_minute", 1000000), ("max_connections", conns),
                           ("max_connections_per_client", conns)):
            text = re.sub(rf"^(\s*){key}: *\d+", rf"\g<1>{key}: {value}", text, flags=re.M)
        text = re.sub(r"^listen: .*$", f"listen: 127.0.0.1:{self.port}", text, flags=re.M)
        text = re.sub(r"^data_dir: .*$", f"data_dir: {self.dir}", text, flags=re.M)
        write_private(self.config, text)

    def start(self) -> None:
        self.log = open(os.path.join(self.tmp, "collector.log"), "a")
        self.proc = subprocess.Popen([self.bin, "serve", "--config", self.config], stdout=self.log, stderr=self.log,
                                     preexec_fn=raise_fd_limit)
        ctx = ssl.create_default_context(cafile=self.ca)
        for _ in range(300):
            if self.proc.poll() is not None:
                raise SystemExit(f"the collector exited ({self.proc.returncode}); see {self.log.name}")
            try:
                conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the collector did not answer /health")

    def peak_rss_mib(self) -> float:
        return peak_rss_mib(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


def load_tool(a, col: Collector, *args: str, timeout: float) -> str:
    cmd = [a.load_bin, args[0], "--url", col.url, "--ca", col.ca, *args[1:]]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode not in (0, 1):
        raise SystemExit(f"keyward_fleet_load {args[0]} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return p.stdout


def cached_fleet(a) -> str | None:
    """The cache entry for this fleet size, when one was made earlier."""
    if not a.fleet_cache:
        return None
    entry = os.path.join(a.fleet_cache, f"fleet-{a.agents}")
    try:
        with open(os.path.join(entry, "fleet", "agents.json")) as f:
            if json.load(f).get("count", 0) >= a.agents:
                return entry
    except (OSError, ValueError):
        pass
    return None


def make_fleet(a, col: Collector, fleet: str) -> None:
    """Enrolls the fleet into a fresh collector; with --fleet-cache, keeps a copy of both."""
    t = time.perf_counter()
    out = load_tool(a, col, "enroll", "--admin-token-file", col.admin_file, "--agents", str(a.agents), "--out", fleet,
                    "--connections", str(a.enroll_connections), timeout=max(600, a.agents * 0.2))
    if "enrolled" not in out:
        raise SystemExit("enroll did not finish")
    print(f"enrolled {a.agents} agents in {time.perf_counter() - t:.1f} s")
    if a.fleet_cache:
        col.stop()  # a consistent copy of the database
        entry = os.path.join(a.fleet_cache, f"fleet-{a.agents}")
        staging = tempfile.mkdtemp(prefix=".staging-", dir=a.fleet_cache)
        shutil.copytree(col.dir, os.path.join(staging, "collector"))
        shutil.copytree(fleet, os.path.join(staging, "fleet"))
        shutil.copy2(col.admin_file, os.path.join(staging, "admin.token"))
        shutil.rmtree(entry, ignore_errors=True)
        os.rename(staging, entry)
        col.start()


def scenario(a, col: Collector, fleet: str, name: str, extra: list[str], agents: int, seconds: float) -> dict:
    args = ["run", "--fleet", fleet, "--agents", str(agents), "--seconds", str(seconds), "--connections",
            str(a.connections), "--threads", str(a.threads), "--findings-min", str(a.findings_min), "--findings-max",
            str(a.findings_max), "--shared-keys", str(a.shared_keys), "--health-interval-ms",
            str(a.health_interval_ms), "--json", *extra]
    if a.keep_alive:
        args.append("--keep-alive")
    out = load_tool(a, col, *args, timeout=seconds + 180)
    r = json.loads(out.strip().splitlines()[-1])
    r["name"] = name
    return r


def print_table(rows: list[dict]) -> None:
    print(f"{'scenario':<30} {'agents':>7} {'reports':>8} {'ok':>8} {'err':>5} {'reports/s':>10} {'findings/s':>11} "
          f"{'ingest p50':>11} {'ingest p99':>11} {'health p99':>11} {'resumed':>8}")
    for r in rows:
        err = sum(r["errors"].values())
        print(f"{r['name']:<30} {r['agents']:>7} {r['reports_sent']:>8} {r['reports_ok']:>8} {err:>5} "
              f"{r['reports_per_s']:>10.1f} "
              f"{r['findings_per_s']:>11.0f} {r['ingest']['p50_ms']:>9.1f}ms {r['ingest']['p99_ms']:>9.1f}ms "
              f"{r['health']['p99_ms']:>9.1f}ms {r['resumed']:>8}")
        if r["errors"]:
            print(f"{'':<30} errors: {', '.join(f'{k} x{v}' for k, v in sorted(r['errors'].items()))}")


def run_all(a, tmp: str) -> int:
    col = Collector(a.bin, tmp, a.agents)
    try:
        cached = cached_fleet(a)
        fleet = os.path.join(tmp, "fleet")
        if cached:
            col.adopt(cached)
            shutil.copytree(os.path.join(cached, "fleet"), fleet)
            col.start()
            print(f"fleet of {a.agents} agents from the cache {cached}")
        else:
            col.init()
            col.start()
            make_fleet(a, col, fleet)
        print(f"collector on 127.0.0.1:{col.port}, {a.agents} agents, {a.connections} connections, "
              f"{a.threads} client threads, {a.seconds} s per scenario, {os.cpu_count()} cores")
        first = scenario(a, col, fleet, "(a) first snapshots (all new)", ["--max-reports", str(a.agents)], a.agents,
                         a.first_seconds or a.seconds)
        # The rescans are those of the agents that sent a first snapshot (agents are taken in order).
        have_snapshot = max(1, min(a.agents, first["reports_ok"]))
        rows = [
            first,
            scenario(a, col, fleet, f"(b) rescans (churn {a.churn})", ["--churn", str(a.churn)], have_snapshot,
                     a.seconds),
            scenario(a, col, fleet, f"(c) {a.changing} changing findings",
                     ["--changing", str(a.changing), "--rate", str(a.changing_rate)], a.agents, a.seconds),
        ]
        print_table(rows)
        if have_snapshot < a.agents:
            print(f"(a) sent {have_snapshot} of {a.agents} first snapshots in its time (--first-seconds): "
                  f"(b) rescans those {have_snapshot} agents")
        print()
        print(load_tool(a, col, "query", "--token-file", col.admin_file, "--rounds", str(a.query_rounds),
                        *(["--cbom"] if a.cbom else []), timeout=600).rstrip())
        print(f"\ncollector peak RSS {col.peak_rss_mib():.1f} MiB; database "
              f"{os.path.getsize(os.path.join(col.dir, 'keyward.db')) / 1048576:.1f} MiB")
        return 1 if any(r["errors"] for r in rows) else 0
    finally:
        col.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="directory of keyward-collector")
    ap.add_argument("--load-bin", help="keyward_fleet_load (default: BIN/keyward_fleet_load)")
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--first-seconds", type=float, help="the time of (a) (default: --seconds)")
    ap.add_argument("--connections", type=int, default=16, help="reports in flight at once")
    ap.add_argument("--threads", type=int, default=1, help="keyward_fleet_load's client threads")
    ap.add_argument("--enroll-connections", type=int, default=8)
    ap.add_argument("--findings-min", type=int, default=10)
    ap.add_argument("--findings-max", type=int, default=200)
    ap.add_argument("--shared-keys", type=int, default=50)
    ap.add_argument("--churn", type=float, default=0.0, help="share of the rescans of (b) that change")
    ap.add_argument("--changing", type=int, default=50)
    ap.add_argument("--changing-rate", type=float, default=0,
                    help="(c) begins this many reports a second (e.g. 500; default 0: as fast as it goes)")
    ap.add_argument("--health-interval-ms", type=float, default=10)
    ap.add_argument("--keep-alive", action="store_true", help="one connection per agent for its reports")
    ap.add_argument("--query-rounds", type=int, default=5)
    ap.add_argument("--cbom", action="store_true", help="also time GET /api/v1/cbom")
    ap.add_argument("--fleet-cache", help="keep (and reuse) the enrolled collector and identities here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    a.load_bin = a.load_bin or os.path.join(a.bin, "keyward_fleet_load")
    if not os.access(a.load_bin, os.X_OK):
        raise SystemExit(f"no keyward_fleet_load at {a.load_bin} (--load-bin)")
    if a.fleet_cache:
        os.makedirs(a.fleet_cache, mode=0o700, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="keyward-fleet-scale-")
    try:
        return run_all(a, tmp)
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
