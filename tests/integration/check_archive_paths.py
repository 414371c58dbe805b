#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The fast archive paths (docs/scan.md, "Archives and container images") give what libarchive gives.

Usage: check_archive_paths.py --keyward build/bin/keyward

Zips (stored and deflated members, directories, a Unix symlink and a FIFO, an MS-DOS name with
backslashes, a UTF-8 name, "./" prefixes, zip64 fields, a data descriptor, a bad CRC, a nested
stored jar, a comment, a zip over 8 MiB that is read member by member from its file) and gzip
files (a key, a key whose header stores its name, a tarball of keys, a tarball over 8 MiB that
libarchive streams from its file, an empty file, gzip in gzip) are made now by Python's zipfile,
gzip and tarfile, with keys openssl generates now. Each is written twice under the same name in
two trees: as it is, which the fast paths read (zip_index plus libdeflate, a whole gzip by
libdeflate), and in a form only libarchive reads with the same members (one more member
compressed with bzip2 in a zip; an empty second gzip member after the gzip). Both trees are
scanned with --threads 1 and --threads 2 (a large zip is split over workers).

Checks: the finding ids, kinds and members of both trees are equal, and equal for 1 and 2
threads; archive_members and the skip counts are equal; the members holding keys are those
Python's readers list as regular files holding a key (the reference for names: a UTF-8 name is
itself, an MS-DOS backslash name reads with '/'); a zip whose members lie about their size is
stopped by the bomb limits. Exits 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import zipfile

FAILS: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        FAILS.append(what)


def genkey(work: str, algorithm: str, n: int) -> bytes:
    path = os.path.join(work, f"k{n}.pem")
    opts = ["-pkeyopt", "rsa_keygen_bits:2048"] if algorithm == "RSA" else (
        ["-pkeyopt", "ec_paramgen_curve:P-256"] if algorithm == "EC" else [])
    subprocess.run(["openssl", "genpkey", "-algorithm", algorithm, *opts, "-out", path], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(path, "rb") as f:
        return f.read()


def filler(rng: random.Random, size: int) -> bytes:
    words = [b"class", b"import", b"return", b"static", b"void", b"public", b"final", b"int", b"\n"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


class Unseekable(io.RawIOBase):
    """A write-only stream without seek: zipfile then writes data descriptors."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        self.buf += b
        return len(b)


def make_zips(keys: list[bytes], rng: random.Random) -> dict[str, bytes]:
    zips: dict[str, bytes] = {}

    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(zipfile.ZipInfo("dir/"), b"")
        z.writestr("dir/deflated.pem", keys[0], compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("stored.key", keys[1], compress_type=zipfile.ZIP_STORED)
        z.writestr("./dot/prefixed.pem", keys[2], compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("ключи/utf8.pem", keys[3], compress_type=zipfile.ZIP_DEFLATED)
        link = zipfile.ZipInfo("link.pem")
        link.create_system = 3
        link.external_attr = (0o120777 << 16)
        z.writestr(link, keys[4])  # a symlink's data is its target: not read
        fifo = zipfile.ZipInfo("fifo.pem")
        fifo.create_system = 3
        fifo.external_attr = (0o010644 << 16)
        z.writestr(fifo, keys[5])  # libarchive reads a FIFO entry as a file
        dos = zipfile.ZipInfo("win\\sub\\dos.pem")
        dos.create_system = 0
        z.writestr(dos, keys[6], compress_type=zipfile.ZIP_DEFLATED)
        dosdir = zipfile.ZipInfo("windir\\")
        dosdir.create_system = 0
        dosdir.external_attr = 0x10
        z.writestr(dosdir, b"")
        z.writestr("text.txt", filler(rng, 3000), compress_type=zipfile.ZIP_DEFLATED)
        z.comment = b"a zip comment"
    zips["features.jar"] = b.getvalue()

    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("big64.pem", "w", force_zip64=True) as m:
            m.write(keys[0])
        z.writestr("plain.pem", keys[1])
    zips["zip64.zip"] = b.getvalue()

    s = Unseekable()
    with zipfile.ZipFile(s, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("descriptor.pem", keys[2])
        z.writestr("other.txt", filler(rng, 500))
    zips["descriptor.zip"] = bytes(s.buf)

    # A bad CRC on one member: the data is changed after the CRC was written (stored, same size).
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("good.pem", keys[3])
        z.writestr("bad.pem", keys[4])
    raw = bytearray(b.getvalue())
    at = raw.find(keys[4][40:80])
    raw[at] ^= 0x01
    zips["badcrc.zip"] = bytes(raw)

    # A fat jar: a stored inner jar holding a key.
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/inner.pem", keys[5])
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("BOOT-INF/lib/inner.jar", inner.getvalue(), compress_type=zipfile.ZIP_STORED)
        z.writestr("BOOT-INF/classes/app.properties", b"a=b\n", compress_type=zipfile.ZIP_DEFLATED)
    zips["fat.jar"] = b.getvalue()

    # Large enough to be split over the workers (at least 32 members and 4 MiB to inflate).
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(48):
            body = filler(rng, 120_000)
            if i % 7 == 3:
                body = body[:50_000] + b"\n" + keys[i % len(keys)] + body[50_000:]
            z.writestr(f"pkg/Class{i:02}.class", body)
    zips["large.jar"] = b.getvalue()

    # Larger than a window (8 MiB) on disk: read member by member from the file, never whole.
    # Random bytes do not compress; a zip64 member's local header has an extra field its
    # directory entry has not (the read of its data must follow the local header).
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(40):
            body = rng.randbytes(256 * 1024)
            if i % 9 == 4:
                body = body[:1000] + b"\n" + keys[i % len(keys)] + b"\n" + body[1000:]
            z.writestr(f"blob/{i:02}.bin", body, compress_type=zipfile.ZIP_STORED if i % 2 else zipfile.ZIP_DEFLATED)
        with z.open("blob/zip64.pem", "w", force_zip64=True) as m:
            m.write(keys[6])
    zips["big.jar"] = b.getvalue()
    assert len(zips["big.jar"]) > 8 << 20
    return zips


def make_gzips(keys: list[bytes]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    out["key.pem.gz"] = gzip.compress(keys[0], mtime=0)
    named = io.BytesIO()
    with gzip.GzipFile(filename="server.key", mode="wb", fileobj=named, mtime=0) as g:  # FNAME in the header
        g.write(keys[2])
    out["server.key.gz"] = named.getvalue()
    t = io.BytesIO()
    with tarfile.open(fileobj=t, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for i, k in enumerate(keys[:3]):
            info = tarfile.TarInfo(f"keys/k{i}.pem")
            info.size = len(k)
            tar.addfile(info, io.BytesIO(k))
    out["keys.tar.gz"] = gzip.compress(t.getvalue(), mtime=0)
    # Larger than a window on disk: streamed by libarchive from the file a block at a time.
    t = io.BytesIO()
    rng = random.Random(7)
    with tarfile.open(fileobj=t, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for i in range(12):
            body = rng.randbytes(1 << 20)
            if i % 5 == 2:
                body = body[:4096] + b"\n" + keys[i % len(keys)] + b"\n" + body[4096:]
            info = tarfile.TarInfo(f"big/part{i:02}.bin")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    out["big.tar.gz"] = gzip.compress(t.getvalue(), compresslevel=1, mtime=0)
    assert len(out["big.tar.gz"]) > 8 << 20
    out["empty.gz"] = gzip.compress(b"", mtime=0)
    out["twice.pem.gz.gz"] = gzip.compress(gzip.compress(keys[1], mtime=0), mtime=0)
    return out


def lying_bomb() -> bytes:
    """500 members of 8 MiB of zeros (a 4 MB zip) whose directory and local headers say 1 byte
    each: the fast path's first room is too small for every one, and with --max-size 6m each is
    too large once inflated as far as allowed."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(500):
            z.writestr(f"zeros/{i:04}.bin", bytes(8 << 20))
    raw = bytearray(b.getvalue())
    for sig, at_size in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        pos = raw.find(sig)
        while pos != -1:
            raw[pos + at_size:pos + at_size + 4] = (1).to_bytes(4, "little")
            pos = raw.find(sig, pos + 4)
    return bytes(raw)


def libarchive_only(name: str, data: bytes) -> bytes:
    """The same members in a form the fast paths refuse."""
    if name.endswith(".gz"):
        return data + gzip.compress(b"", mtime=0)  # a second, empty member: read as one stream
    # One more member, compressed with bzip2, which libarchive inflates and the fast path does
    # not take: the whole zip is then libarchive's (one member more in archive_members).
    b = io.BytesIO(data)
    with zipfile.ZipFile(b, "a") as z:
        z.writestr("zz-bzip2.txt", b"no key here\n" * 50, compress_type=zipfile.ZIP_BZIP2)
    return b.getvalue()


def scan(keyward: str, root: str, threads: int, *extra: str) -> dict:
    out = subprocess.run([keyward, "scan", "-q", "--format", "json", "--threads", str(threads), *extra, "-o", "-", root],
                         capture_output=True, check=False, timeout=120)
    if out.returncode not in (0, 1):
        raise SystemExit(f"keyward scan exited {out.returncode}: {out.stderr.decode(errors='replace')}")
    return json.loads(out.stdout)


def summary(report: dict) -> list[tuple]:
    return sorted((f["id"], f["kind"], f["location"]["path"].rsplit("/", 1)[-1], f["location"].get("member", ""))
                  for f in report["findings"])


def reference_members(name: str, data: bytes) -> set[str]:
    """Members holding a private key, as Python's readers name them (the names keyward uses)."""
    found: set[str] = set()
    if name.endswith(".gz"):
        inner = gzip.decompress(data)
        if name.endswith(".tar.gz"):
            with tarfile.open(fileobj=io.BytesIO(inner)) as tar:
                for m in tar.getmembers():
                    if m.isfile() and b"PRIVATE KEY" in tar.extractfile(m).read():
                        found.add(f"{name}:{m.name}")
        elif name.endswith(".gz.gz"):
            found.add(f"{name}:data")  # libarchive chains both gzip filters: one member
        elif name == "server.key.gz":
            found.add(f"{name}:server.key")  # the name its header stores, as libarchive gives it
        elif b"PRIVATE KEY" in inner:
            found.add(f"{name}:data")
        return found
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            mode_type = (info.external_attr >> 16) & 0o170000 if info.create_system == 3 else 0
            if info.is_dir() or mode_type not in (0, 0o100000, 0o010000):
                continue
            if info.create_system == 0 and "\\" in info.filename and "/" not in info.filename:
                if info.filename.endswith("\\") or info.external_attr & 0x10:
                    continue
            try:
                body = z.read(info)
            except zipfile.BadZipFile:
                continue  # a bad CRC: not read, as libarchive does not
            member = info.filename.replace("\\", "/") if info.create_system == 0 and "/" not in info.filename \
                else info.filename
            while member.startswith("./"):
                member = member[2:]
            if b"PRIVATE KEY" in body:
                found.add(f"{name}:{member}")
            if member.endswith(".jar"):
                with zipfile.ZipFile(io.BytesIO(body)) as inner:
                    for i in inner.infolist():
                        if b"PRIVATE KEY" in inner.read(i):
                            found.add(f"{name}:{member}!{i.filename}")
    return found


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keyward", required=True)
    a = ap.parse_args()
    rng = random.Random(20261204)
    with tempfile.TemporaryDirectory(prefix="keyward-archive-paths-") as work:
        keys = [genkey(work, alg, i) for i, alg in enumerate(["EC", "RSA", "ED25519", "EC", "ED25519", "EC", "RSA"])]
        items = {**make_zips(keys, rng), **make_gzips(keys)}
        fast, slow = os.path.join(work, "fast"), os.path.join(work, "slow")
        for d in (fast, slow):
            os.makedirs(d)
        for name, data in items.items():
            with open(os.path.join(fast, name), "wb") as f:
                f.write(data)
            with open(os.path.join(slow, name), "wb") as f:
                f.write(libarchive_only(name, data))
        reports = {(root, t): scan(a.keyward, os.path.join(work, root), t) for root in ("fast", "slow") for t in (1, 2)}
        for t in (1, 2):
            f, s = summary(reports[("fast", t)]), summary(reports[("slow", t)])
            check(f == s, f"threads {t}: fast paths and libarchive give the same {len(f)} findings "
                          f"(ids, kinds, members)" + ("" if f == s else f": only fast {sorted(set(f) - set(s))[:4]}, "
                                                                          f"only libarchive {sorted(set(s) - set(f))[:4]}"))
            fs, ss = reports[("fast", t)]["scan"]["stats"], reports[("slow", t)]["scan"]["stats"]
            for key in ("archives", "skipped"):
                check(fs.get(key) == ss.get(key), f"threads {t}: {key} equal ({fs.get(key)} / {ss.get(key)})")
            zips = sum(1 for n in items if not n.endswith(".gz"))
            check(ss["archive_members"] - fs["archive_members"] == zips,
                  f"threads {t}: archive_members equal but for the {zips} bzip2 members "
                  f"({fs['archive_members']} / {ss['archive_members']})")
        check(summary(reports[("fast", 1)]) == summary(reports[("fast", 2)]),
              "the fast paths give the same findings on 1 and 2 threads (the large jar is split over workers)")
        check(reports[("fast", 2)]["scan"]["stats"].get("skipped", {}).get("archive_member_error") == 1,
              "the member with a bad CRC is counted as archive_member_error, not read")

        want: set[str] = set()
        for name, data in items.items():
            want |= reference_members(name, data)
        got = {f"{f['location']['path'].rsplit('/', 1)[-1]}:{f['location'].get('member', '')}"
               for f in reports[("fast", 2)]["findings"] if f["kind"] == "private_key"}
        check(got == want, f"the members holding keys are those Python's readers list ({len(want)})"
                           + ("" if got == want else f": missing {sorted(want - got)}, extra {sorted(got - want)}"))
        check(not any(k.decode().split("\n")[1] in json.dumps(r) for k in keys for r in reports.values()),
              "no key body appears in any report")

        # A bomb whose members lie about their size: what each attempt inflated counts against
        # the limits, which stop it (else each member is inflated up to --max-size and dropped
        # as too large, the next one likewise, and no limit ever sees the bytes).
        bomb_dir = os.path.join(work, "bomb")
        os.makedirs(bomb_dir)
        with open(os.path.join(bomb_dir, "lying.zip"), "wb") as f:
            f.write(lying_bomb())
        skipped = scan(a.keyward, bomb_dir, 2, "--max-size", "6m")["scan"]["stats"].get("skipped", {})
        check(skipped.get("archive_ratio", 0) + skipped.get("archive_too_large", 0) == 1,
              f"a zip whose members lie about their size is stopped once by the bomb limits ({skipped})")
    print(f"{len(FAILS)} failed" if FAILS else "all passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
