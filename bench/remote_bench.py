#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Remote scans against the local scan of the same tree (issue 16, docs/performance.md).

A real sshd on 127.0.0.1 (tests/support/sshd.py) serves the benchmark tree; keyward scans it
locally, over SFTP and in exec mode, alternately, RUNS times each, warm cache; the medians are
printed with each remote mode's ratio to the local scan, and every run's finding ids are checked
to be the local scan's (a faster wrong answer is no result).

Usage: remote_bench.py --bin build/bin --tree DIR [--runs 5] [--archives]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
from sshd import Sshd  # noqa: E402


def timed(cmd: list[str]) -> tuple[float, list[str]]:
    """Wall seconds and the sorted finding ids."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    took = time.monotonic() - t0
    if p.returncode not in (0, 1):
        sys.exit(f"remote_bench: {' '.join(cmd[:3])} failed ({p.returncode}): {err.decode(errors='replace')[-400:]}")
    doc = json.loads(out)
    return took, sorted(f["id"] for f in doc.get("findings", []))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--tree", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--archives", action="store_true", help="archives on (default: --no-archives, the text path)")
    args = ap.parse_args()
    kw = os.path.join(args.bin, "keyward")
    tree = os.path.abspath(args.tree)
    size = int(subprocess.run(["du", "-sb", tree], capture_output=True, text=True).stdout.split()[0])
    files = int(subprocess.run(f"find {tree} -type f | wc -l", shell=True, capture_output=True, text=True).stdout)
    tmp = tempfile.mkdtemp(prefix="keyward-remote-bench.")
    flags = ["scan", "-q", "--format", "json"] + ([] if args.archives else ["--no-archives"])
    times: dict[str, list[float]] = {"local": [], "sftp": [], "exec": []}
    try:
        with Sshd(tmp) as s:
            ssh = ["-i", s.client_key, "--known-hosts", s.known_hosts]
            cmds = {
                "local": [kw, *flags, tree],
                "sftp": [kw, *flags, "--mode", "sftp", *ssh, s.url(tree)],
                "exec": [kw, *flags, "--mode", "exec", *ssh, s.url(tree)],
            }
            reference = None
            for name, cmd in cmds.items():  # one warm-up each (page cache, sshd's first sessions)
                _, ids = timed(cmd)
                reference = ids if name == "local" else reference
                if ids != reference:
                    sys.exit(f"remote_bench: {name} found other findings than the local scan")
            for _ in range(args.runs):
                for name, cmd in cmds.items():
                    took, ids = timed(cmd)
                    if ids != reference:
                        sys.exit(f"remote_bench: {name} found other findings than the local scan")
                    times[name].append(took)
    finally:
        subprocess.run(["rm", "-rf", tmp])
    local = statistics.median(times["local"])
    print(f"tree: {size / 2**20:.0f} MiB, {files} files; archives {'on' if args.archives else 'off'}; "
          f"{args.runs} runs each, warm; {len(reference)} findings, identical in every mode")
    print(f"{'scan':<8}{'median s':>10}{'MiB/s':>10}{'vs local':>10}")
    for name in ("local", "sftp", "exec"):
        m = statistics.median(times[name])
        print(f"{name:<8}{m:>10.2f}{size / 2**20 / m:>10.0f}{m / local:>9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
