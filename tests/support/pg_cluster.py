#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A throw-away PostgreSQL cluster for the tests, on 127.0.0.1 in a temporary directory.

    pg_cluster.py start STATE [--durable]
                                initdb + pg_ctl start on a free port; writes STATE/conninfo (the
                                libpq connection string of the cluster's `postgres` database)
                                and STATE/cluster (the cluster's directory). Tests run without
                                fsync; --durable (benchmarks) keeps PostgreSQL's defaults
    pg_cluster.py stop STATE    pg_ctl stop -m fast, then removes the cluster's directory

As root the server runs as the `postgres` user (PostgreSQL refuses root); otherwise as the
caller. Nothing outside the temporary directory is touched: no system cluster, no config.
Used by the CTest fixture `pg` (tests/collector/CMakeLists.txt) and by bench/fleet_scale.py.
Importable: Cluster(...) as a context manager does the same for a Python test.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sshd import free_port  # noqa: E402  (one free-port helper for the test servers)


def server_bin(name: str) -> str:
    """The newest installed server's program (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    sys.exit(f"pg_cluster: PostgreSQL's {name} is not installed (Debian: apt-get install postgresql)")


def as_server_user(cmd: list) -> list:
    return ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd


def run(cmd: list, cwd: str) -> None:
    r = subprocess.run(as_server_user(cmd), cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"pg_cluster: {' '.join(cmd[:2])} failed ({r.returncode}):\n{r.stdout}{r.stderr}")


def start(state: str, durable: bool = False, password_file: str = "") -> str:
    """Starts a cluster; returns its conninfo. With password_file, connections over TCP must
    give that password (SCRAM) for the `postgres` user; the conninfo holds no password."""
    os.makedirs(state, exist_ok=True)
    top = tempfile.mkdtemp(prefix="keyward-pg-")
    os.chmod(top, 0o755)  # the server user must traverse it
    data, sock = os.path.join(top, "data"), os.path.join(top, "sock")
    os.mkdir(sock)
    if os.geteuid() == 0:
        shutil.chown(top, "postgres")
        shutil.chown(sock, "postgres")
    auth = ["-A", "trust"]
    if password_file:
        pw = os.path.join(top, "pwfile")
        shutil.copy(password_file, pw)
        if os.geteuid() == 0:
            shutil.chown(pw, "postgres")
        auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pw}"]
    run([server_bin("initdb"), "-D", data, *auth, "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
         "-U", "postgres"], cwd=top)
    if password_file:
        os.remove(pw)
    port = free_port()
    # fsync off: a test cluster is thrown away, and the store's own durability is SQLite's test.
    opts = f"-p {port} -c listen_addresses=127.0.0.1 -k {sock} -c max_connections=200"
    if not durable:
        opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    with open(os.path.join(state, "options"), "w") as f:
        f.write(opts + "\n")
    with open(os.path.join(state, "cluster"), "w") as f:
        f.write(top + "\n")
    resume(state)
    conninfo = f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=10"
    with open(os.path.join(state, "conninfo"), "w") as f:
        f.write(conninfo + "\n")
    return conninfo


def pause(state: str) -> None:
    """Stops the server and keeps its data (a database outage, for a test)."""
    top = open(os.path.join(state, "cluster")).read().strip()
    run([server_bin("pg_ctl"), "-D", os.path.join(top, "data"), "-m", "fast", "-w", "stop"], cwd=top)


def resume(state: str) -> None:
    """Starts the server of a cluster again, on its port."""
    top = open(os.path.join(state, "cluster")).read().strip()
    opts = open(os.path.join(state, "options")).read().strip()
    run([server_bin("pg_ctl"), "-D", os.path.join(top, "data"), "-o", opts, "-l", os.path.join(top, "server.log"),
         "-w", "start"], cwd=top)


def stop(state: str) -> None:
    path = os.path.join(state, "cluster")
    if not os.path.exists(path):
        return
    with open(path) as f:
        top = f.read().strip()
    data = os.path.join(top, "data")
    if os.path.isdir(data):
        subprocess.run(as_server_user([server_bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"]), cwd=top,
                       capture_output=True)
    shutil.rmtree(top, ignore_errors=True)
    for name in ("cluster", "conninfo", "options"):
        try:
            os.remove(os.path.join(state, name))
        except FileNotFoundError:
            pass


class Cluster:
    """with Cluster() as conninfo: ... (a cluster for one Python test or benchmark)."""

    def __init__(self, durable: bool = False, password_file: str = ""):
        self.durable, self.password_file = durable, password_file

    def __enter__(self) -> str:
        self.state = tempfile.mkdtemp(prefix="keyward-pg-state-")
        return start(self.state, self.durable, self.password_file)

    def __exit__(self, *exc) -> None:
        stop(self.state)
        shutil.rmtree(self.state, ignore_errors=True)


def main() -> int:
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "start":
        stop(sys.argv[2])  # a cluster a killed run left behind
        print(start(sys.argv[2], durable=sys.argv[3:] == ["--durable"]))
    else:
        stop(sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
