# SPDX-License-Identifier: Apache-2.0
"""A real OpenSSH sshd on 127.0.0.1 for the remote-scan tests (docs/remote.md, "Tests").

Everything lives in one temporary directory: the host key, the client keys, authorized_keys, a
known_hosts file for the client, the config, the log and the pid file. Nothing touches the system
config; the only system-level step is `/run/sshd`, which sshd requires (created with mode 0755).
sshd is started by absolute path in the foreground and stopped by its pid.

    with Sshd(workdir) as s:          # starts; stops (SIGTERM, then SIGKILL) on exit
        s.port, s.client_key, s.known_hosts, s.url("/srv/tree")

A second user, `nobody`, may log in with the same client key over SFTP only (its shell is nologin),
so tests can see permission-denied directories that root would read.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: str, kind: str = "ed25519", passphrase: str = "") -> str:
    """Makes an OpenSSH key pair at path (and path.pub); returns path."""
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "keyward-test", "-f", path],
                   check=True, stdin=subprocess.DEVNULL)
    return path


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    return free_port()


class Blackhole:
    """A loopback port that accepts TCP connections (in the kernel's backlog) and never says
    anything: an SSH client's connect succeeds and its key exchange must time out."""

    def __enter__(self) -> "Blackhole":
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()


class Sshd:
    def __init__(self, workdir: str, extra_config: str = ""):
        self.dir = os.path.join(workdir, "sshd")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(workdir, 0o755)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.host_key = keygen(os.path.join(self.dir, "host_ed25519"))
        self.client_key = keygen(os.path.join(self.dir, "client_ed25519"))
        self.other_key = keygen(os.path.join(self.dir, "other_ed25519"))  # never authorized
        self.authorized_keys = os.path.join(self.dir, "authorized_keys")
        with open(self.client_key + ".pub") as f, open(self.authorized_keys, "w") as out:
            out.write(f.read())
        os.chmod(self.authorized_keys, 0o644)
        for p in (self.client_key, self.other_key, self.host_key):
            os.chmod(p, 0o600)
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        self.write_known_hosts(self.known_hosts)
        self.config = os.path.join(self.dir, "sshd_config")
        self.log = os.path.join(self.dir, "sshd.log")
        self.pidfile = os.path.join(self.dir, "sshd.pid")
        with open(self.config, "w") as f:
            f.write(f"""ListenAddress 127.0.0.1
Port {self.port}
HostKey {self.host_key}
PidFile {self.pidfile}
AuthorizedKeysFile {self.authorized_keys}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
MaxStartups 100:30:200
MaxSessions 64
LogLevel VERBOSE
{extra_config}""")
        self.proc: subprocess.Popen | None = None

    def host_public_key(self) -> str:
        with open(self.host_key + ".pub") as f:
            kind, blob = f.read().split()[:2]
        return f"{kind} {blob}"

    def write_known_hosts(self, path: str, key_line: str | None = None) -> str:
        """A known_hosts with this server's key (or key_line instead) under [127.0.0.1]:port."""
        line = key_line if key_line is not None else self.host_public_key()
        with open(path, "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {line}\n")
        return path

    def url(self, path: str, user: str = "root") -> str:
        return f"ssh://{user}@127.0.0.1:{self.port}{path}"

    def start(self) -> "Sshd":
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.proc = subprocess.Popen([SSHD, "-D", "-f", self.config, "-E", self.log],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited at start: " + self.log_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("sshd did not answer on port %d" % self.port)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def log_text(self) -> str:
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def __enter__(self) -> "Sshd":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
