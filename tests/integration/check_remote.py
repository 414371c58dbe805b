#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Agentless scans over SSH against a real OpenSSH sshd on 127.0.0.1 (issue 16, docs/remote.md).

Usage:
  /usr/bin/python3 tests/integration/check_remote.py --bin build/bin

What it checks (each line of output is one check; the run goes on after a failure):
  1. `keyward scan ssh://root@127.0.0.1:PORT/TREE` in sftp mode and in exec mode gives the same
     finding ids, paths and counts as `keyward scan TREE`, every finding naming the host.
  2. Run as `nobody` (SFTP only), a directory it may not read is counted exactly as a local scan
     run as nobody counts it, with the same ids.
  3. A host missing from known_hosts is refused (host_key_unknown) unless --accept-new-host-keys,
     which records its key; a changed host key is refused (host_key_mismatch) even with it.
  4. A key the server does not accept is refused with a message naming the key (auth_refused);
     an encrypted identity opens with --passphrase-source and the passphrase is in no output or
     command line.
  5. A port that accepts TCP but never speaks SSH times out within --connect-timeout; a closed
     port is unreachable at once.
  6. Nothing from the remote tree lands on local disk: both modes run in a private mount namespace
     with fresh tmpfs over /tmp, /var/tmp, /dev/shm and HOME, and no file there may hold a marker
     that only the remote files hold.
  7. exec mode leaves nothing on the host: no keyward-remote.* directory after a scan, and none
     and no process after the client is killed mid-scan.
  8. No key body appears in any output.
Exits 0 when every check passed, 1 otherwise, 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import check_fleet as fleet  # noqa: E402  (check counters, run, key makers)
from sshd import Blackhole, Sshd, dead_port, keygen  # noqa: E402

check, run = fleet.check, fleet.run
OUTPUTS: list[str] = []


def scan(args, target: str, *extra: str, env: dict | None = None, timeout: int = 300) -> tuple[int, dict, str]:
    p = run([args.keyward, "scan", target, "--format", "json", "--quiet", *extra], env=env, timeout=timeout)
    OUTPUTS.append(p.stdout + p.stderr)
    try:
        doc = json.loads(p.stdout) if p.stdout.strip() else {}
    except json.JSONDecodeError:
        doc = {}
    return p.returncode, doc, p.stderr


def ids(doc: dict) -> list[str]:
    return sorted(f["id"] for f in doc.get("findings", []))


def paths(doc: dict) -> list[str]:
    return sorted(f["location"]["path"] + "!" + f["location"].get("member", "") for f in doc.get("findings", []))


def make_tree(root: str, marker: str) -> None:
    """Keys of several formats, a store, an archive, a FIFO, a symlink out, a private directory."""
    fleet.make_key(os.path.join(root, "srv", "app", "deploy.pem"))
    fleet.make_key(os.path.join(root, "srv", "app", "rsa.pem"), alg="RSA")
    cert = os.path.join(root, "srv", "app", "deploy.crt")
    fleet.openssl("req", "-new", "-x509", "-key", os.path.join(root, "srv", "app", "deploy.pem"), "-out", cert,
                  "-days", "30", "-subj", "/CN=remote signing", "-addext", "extendedKeyUsage=codeSigning")
    os.makedirs(os.path.join(root, "home", "dev", ".ssh"), exist_ok=True)
    keygen(os.path.join(root, "home", "dev", ".ssh", "id_ed25519"))
    fleet.openssl("pkcs12", "-export", "-inkey", os.path.join(root, "srv", "app", "deploy.pem"), "-in", cert,
                  "-out", os.path.join(root, "srv", "app", "signing.p12"), "-passout", "pass:changeit")
    fleet.SECRETS.update(fleet.key_body_lines(os.path.join(root, "home", "dev", ".ssh", "id_ed25519")))
    os.makedirs(os.path.join(root, "dist"), exist_ok=True)
    subprocess.run(["zip", "-q", "-j", os.path.join(root, "dist", "app.zip"), os.path.join(root, "srv", "app", "rsa.pem")],
                   check=True)
    with open(os.path.join(root, "srv", "notes.txt"), "w") as f:
        f.write(f"{marker}\n" * 100)
    for i in range(200):  # a few hundred small files, so pipelining and the session pool matter
        d = os.path.join(root, "src", f"m{i % 10}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i}.c"), "w") as f:
            f.write(f"/* {marker} */ int f{i}(void) {{ return {i}; }}\n" * 20)
    os.mkfifo(os.path.join(root, "srv", "pipe"))
    os.symlink("/etc", os.path.join(root, "srv", "etc-link"))
    private = os.path.join(root, "secret")
    fleet.make_key(os.path.join(private, "hidden.pem"))
    os.chmod(private, 0o700)
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath.startswith(private):
            continue
        os.chmod(dirpath, 0o755)
        for n in filenames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.chmod(p, 0o644)


def ssh_flags(s: Sshd, key: str | None = None, known_hosts: str | None = None) -> list[str]:
    return ["-i", key or s.client_key, "--known-hosts", known_hosts or s.known_hosts]


def check_equal_to_local(args, s: Sshd, tree: str) -> None:
    rc, local, err = scan(args, tree)
    check(rc == 1 and len(local.get("findings", [])) >= 6, "local scan of the tree finds its keys", err[-300:])
    label = f"127.0.0.1:{s.port}"
    for mode in ("sftp", "exec"):
        rc, remote, err = scan(args, s.url(tree), "--mode", mode, *ssh_flags(s))
        check(rc == 1, f"{mode}: remote scan exits 1 (keys found)", f"rc={rc} {err[-400:]}")
        check(ids(remote) == ids(local) and ids(local), f"{mode}: the same finding ids as the local scan",
              f"{len(ids(remote))} vs {len(ids(local))}")
        check(paths(remote) == paths(local), f"{mode}: the same paths and members")
        hosts = {f["location"].get("host") for f in remote.get("findings", [])}
        check(hosts == {label}, f"{mode}: every finding names the host {label}", str(hosts))
        ls, rs = local.get("scan", {}).get("stats", {}), remote.get("scan", {}).get("stats", {})
        for k in ("files_scanned", "bytes_scanned", "archive_members", "skipped"):
            check(ls.get(k) == rs.get(k), f"{mode}: stats.{k} as local", f"{rs.get(k)} vs {ls.get(k)}")
        check(remote.get("scan", {}).get("complete") is True, f"{mode}: the scan is complete")


def check_permission_denied(args, s: Sshd, tree: str) -> None:
    p = run(["runuser", "-u", "nobody", "--", args.keyward, "scan", tree, "--format", "json", "--quiet"])
    local = json.loads(p.stdout) if p.stdout.strip() else {}
    rc, remote, err = scan(args, s.url(tree, user="nobody"), *ssh_flags(s))
    lst, rst = local.get("scan", {}).get("stats", {}), remote.get("scan", {}).get("stats", {})
    check(ids(remote) == ids(local) and ids(local), "as nobody over SFTP: the same ids as a local scan as nobody",
          f"{len(ids(remote))} vs {len(ids(local))} {err[-300:]}")
    check(rst.get("skipped") == lst.get("skipped") and rst.get("skipped", {}).get("permission_denied", 0) >= 1,
          "as nobody: the unreadable directory is counted as a local scan counts it",
          f"{rst.get('skipped')} vs {lst.get('skipped')}")
    check(not any("hidden.pem" in f["location"]["path"] for f in remote.get("findings", [])),
          "as nobody: nothing from the private directory")


def check_host_keys(args, s: Sshd, tree: str, tmp: str) -> None:
    empty = os.path.join(tmp, "known_hosts_empty")
    open(empty, "w").close()
    rc, _, err = scan(args, s.url(tree), *ssh_flags(s, known_hosts=empty))
    check(rc == 2 and "host_key_unknown" in err, "an unknown host key is refused", f"rc={rc} {err[-300:]}")
    rc, doc, err = scan(args, s.url(tree), *ssh_flags(s, known_hosts=empty), "--accept-new-host-keys")
    check(rc == 1 and ids(doc), "--accept-new-host-keys scans an unknown host", f"rc={rc} {err[-300:]}")
    with open(empty) as f:
        recorded = f.read()
    check(s.host_public_key().split()[1] in recorded, "... and records its key in known_hosts")
    other = os.path.join(tmp, "known_hosts_other")
    with open(os.path.join(s.dir, "other_ed25519.pub")) as f:
        s.write_known_hosts(other, " ".join(f.read().split()[:2]))
    for extra in ([], ["--accept-new-host-keys"]):
        rc, doc, err = scan(args, s.url(tree), *ssh_flags(s, known_hosts=other), *extra)
        check(rc == 2 and "host_key_mismatch" in err and not doc.get("findings"),
              "a changed host key is refused" + (" even with --accept-new-host-keys" if extra else ""),
              f"rc={rc} {err[-300:]}")


def check_auth(args, s: Sshd, tree: str, tmp: str) -> None:
    rc, doc, err = scan(args, s.url(tree), *ssh_flags(s, key=s.other_key))
    check(rc == 2 and "auth_refused" in err and "other_ed25519" in err and not doc.get("findings"),
          "a key the server refuses: auth_refused naming the key", f"rc={rc} {err[-300:]}")
    passphrase = "pp-" + secrets.token_hex(12)
    enc = keygen(os.path.join(tmp, "encrypted_ed25519"), passphrase=passphrase)
    with open(enc + ".pub") as f, open(s.authorized_keys, "a") as out:
        out.write(f.read())
    env = {**os.environ, "KW_TEST_PASSPHRASE": passphrase}
    with fleet_cmdline_watch([passphrase]) as watch:
        rc, doc, err = scan(args, s.url(tree), *ssh_flags(s, key=enc), "--passphrase-source", "env:KW_TEST_PASSPHRASE",
                            env=env)
    check(rc == 1 and ids(doc), "an encrypted identity opens with --passphrase-source", f"rc={rc} {err[-300:]}")
    check(not watch.hits, "the passphrase is on no process's command line")
    rc, _, err = scan(args, s.url(tree), *ssh_flags(s, key=enc))
    check(rc == 2 and "auth_refused" in err, "an encrypted identity without its passphrase is refused", err[-300:])
    fleet.SECRETS.add(passphrase)


def fleet_cmdline_watch(secrets_: list[str]):
    import check_migration  # noqa: E402  (its /proc/*/cmdline watcher)
    return check_migration.CmdlineWatch(secrets_)


def check_timeouts(args, s: Sshd, tree: str) -> None:
    with Blackhole() as hole:
        t0 = time.monotonic()
        rc, _, err = scan(args, f"ssh://root@127.0.0.1:{hole.port}{tree}", *ssh_flags(s), "--connect-timeout", "2s",
                          timeout=60)
        took = time.monotonic() - t0
    check(rc == 2 and "unreachable" in err and 1.5 <= took < 8, "a silent port times out within --connect-timeout",
          f"rc={rc} took {took:.1f}s {err[-200:]}")
    t0 = time.monotonic()
    rc, _, err = scan(args, f"ssh://root@127.0.0.1:{dead_port()}{tree}", *ssh_flags(s), timeout=60)
    check(rc == 2 and "unreachable" in err and time.monotonic() - t0 < 5, "a closed port is unreachable at once",
          err[-200:])


def remote_dirs() -> set[str]:
    return set(glob.glob(os.path.join(os.environ.get("TMPDIR", "/tmp"), "keyward-remote.*"))) | set(
        glob.glob("/tmp/keyward-remote.*"))


def remote_processes() -> list[str]:
    hits = []
    for p in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            if b"keyward-remote." in open(p, "rb").read():
                hits.append(p)
        except OSError:
            pass
    return hits


def check_exec_cleanup(args, s: Sshd, tree: str, big_root: str) -> None:
    before = remote_dirs()
    rc, _, err = scan(args, s.url(tree), "--mode", "exec", *ssh_flags(s))
    check(remote_dirs() == before, "exec: no keyward-remote.* directory is left after a scan", str(remote_dirs() - before))
    proc = subprocess.Popen([args.keyward, "scan", s.url(big_root), "--mode", "exec", "--quiet", "--format", "json",
                             "--threads", "1", *ssh_flags(s)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not remote_processes() and proc.poll() is None:
        time.sleep(0.05)
    started = bool(remote_processes())
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (remote_processes() or remote_dirs() - before):
        time.sleep(0.1)
    check(started, "exec: the remote keyward was running when the client was killed")
    check(not remote_processes(), "exec: the remote keyward stops when the connection is cut", str(remote_processes()))
    check(remote_dirs() == before, "exec: its directory is gone after the cut", str(remote_dirs() - before))


def files_with(marker: bytes, roots: list[str], since: float, skip: list[str]) -> list[str]:
    hits = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not any(os.path.join(dirpath, d).startswith(x) for x in skip)]
            for n in filenames:
                p = os.path.join(dirpath, n)
                try:
                    if os.path.islink(p) or not os.path.isfile(p) or os.path.getmtime(p) < since:
                        continue
                    with open(p, "rb") as f:
                        if marker in f.read(64 << 20):
                            hits.append(p)
                except OSError:
                    pass
    return hits


def check_nothing_on_local_disk(args, s: Sshd, tree: str, tmp: str, marker: str) -> None:
    """Both modes run in a private mount namespace with fresh tmpfs over /tmp, /var/tmp, /dev/shm
    and HOME (the working directory is /tmp): whatever keyward writes there is looked at before the
    namespace ends, and none of it may hold the marker that only the remote files hold."""
    keys = os.path.join(tmp, "ns-keys")
    os.makedirs(keys, exist_ok=True)
    for src in (s.client_key, s.known_hosts):
        subprocess.run(["cp", src, keys], check=True)
    home = os.path.expanduser("~")
    # Outside the directories masked below (the build tree or this test's files may be under them).
    ns = f"/run/keyward-remote-test.{os.getpid()}"
    os.makedirs(ns, exist_ok=True)
    script = f"""set -e
mount -t tmpfs none {ns} && mkdir {ns}/bin && cp {keys}/* {ns}/
mount --bind {args.bin} {ns}/bin
for d in /tmp /var/tmp /dev/shm {home}; do mount -t tmpfs none "$d"; done
cd /tmp
for m in sftp exec; do
  {ns}/bin/keyward scan {s.url(tree)} --mode $m --quiet --format json -i {ns}/client_ed25519 \\
    --known-hosts {ns}/known_hosts -o /dev/null || [ $? -eq 1 ]
done
echo "written: $(find /tmp /var/tmp /dev/shm {home} -type f | wc -l)"
grep -rl -- {marker} /tmp /var/tmp /dev/shm {home} || true
"""
    try:
        p = run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
    finally:
        subprocess.run(["rm", "-rf", ns])
    OUTPUTS.append(p.stdout + p.stderr)
    if "cannot change root filesystem propagation" in p.stderr:
        # A chroot (a fresh root built for tests) cannot make / private: scan here and look at
        # every file written since under the temp dirs and HOME instead.
        since = time.time() - 1
        for m in ("sftp", "exec"):
            scan(args, s.url(tree), "--mode", m, *ssh_flags(s))
        hits = files_with(marker.encode(), ["/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~")], since,
                          [tree, os.path.join(os.path.expanduser("~"), ".cache")])
        check(not hits, "nothing from the remote tree was written to local disk (files written since)", str(hits[:5]))
        return
    hits = [l for l in p.stdout.splitlines() if l.startswith("/")]
    check(p.returncode == 0 and "written:" in p.stdout and not hits,
          "nothing from the remote tree was written to local disk (temp dirs, HOME, cwd)",
          f"rc={p.returncode} {hits[:5]} {p.stderr[-300:]}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    args.keyward = os.path.join(args.bin, "keyward")
    if not os.path.exists("/usr/sbin/sshd"):
        print("check_remote: /usr/sbin/sshd is missing (install openssh-server: make deps)")
        return 2
    tmp = tempfile.mkdtemp(prefix="keyward-remote-test.")
    os.chmod(tmp, 0o755)
    marker = "remote-only-" + secrets.token_hex(16)
    tree = os.path.join(tmp, "tree")
    make_tree(tree, marker)
    try:
        with Sshd(tmp) as s:
            check_equal_to_local(args, s, tree)
            check_permission_denied(args, s, tree)
            check_host_keys(args, s, tree, tmp)
            check_auth(args, s, tree, tmp)
            check_timeouts(args, s, tree)
            check_nothing_on_local_disk(args, s, tree, tmp, marker)
            check_exec_cleanup(args, s, tree, "/usr")
            leaked = [x for x in fleet.SECRETS if any(x in o for o in OUTPUTS)]
            check(not leaked, "no key body or passphrase in any output", f"{len(leaked)} found")
            if fleet.FAILED:
                print(s.log_text()[-3000:])
    finally:
        subprocess.run(["rm", "-rf", tmp])
    print(f"check_remote: {fleet.PASSED} passed, {fleet.FAILED} failed")
    return 0 if fleet.FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
