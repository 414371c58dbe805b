#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers for tests/support/make_store_corpus.sh: the binary files no command-line tool writes
quickly or at all.

Subcommands:
  bomb-zip     a zip with one member of N zero bytes, built without ever holding or writing the
               zeros: the deflate stream of one zero chunk, ended by a full flush, is the same bytes
               for every chunk, so it is repeated (1 GiB of zeros -> about 1 MiB of zip).
  bomb-targz   the same for a .tar.gz holding one N-byte file of zeros.
  nested-zip   a zip in a zip ... DEPTH levels deep; a given file placed at a shallow level.
  image        a `docker save`-style tarball (OCI layout inside: oci-layout, index.json,
               manifest.json, blobs/sha256/...) and/or an unpacked OCI layout directory, of two
               layers: the first adds a file, the second deletes it with a whiteout. Prints the
               digest of the first layer blob: "tar <hex>" and "dir <hex>".
  der-decoy    random bytes that begin like DER (30 82 + a length that matches the file size).
  der-secrets  the base64 of binary key files, wrapped at 64 like a PEM body: a scanner that
               printed the key bytes in base64 would print these lines.
  secrets      secret lines of text key files (tests/support/corpus_tool.py secret_lines).
  jks-info     verifies a JKS/JCEKS store's integrity digest with a password and prints
               "<type> keys=N certs=M" (the generator's self-check; keytool -list costs a JVM).
  check-members  opens every archive member chain a manifest names (zip, also encrypted with a
               given password; tar, plain or gz/bz2/xz/zst) and checks that the member holds what
               the line says (a PEM private key openssl reads, or a store's magic).

Run with /usr/bin/python3 (stdlib only).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_tool  # noqa: E402  (secret_lines)

CHUNK = 1 << 20
FIXED_TIME = 1700000000  # deterministic archive timestamps (2023-11-14)


# ---------------------------------------------------------------- zero bombs

def zero_deflate(size: int, wbits: int, prefix: bytes = b"", suffix_zeros: int = 0):
    """Deflate stream (raw or gzip-wrapped by wbits) of prefix + `size` zeros + suffix_zeros zeros,
    and the CRC-32 of the uncompressed data. Cost: one chunk compressed, the CRC computed in
    large zero blocks."""
    if size % CHUNK:
        raise SystemExit("store_corpus_tool: bomb size must be a multiple of 1 MiB")
    zero = bytes(CHUNK)
    co = zlib.compressobj(9, zlib.DEFLATED, wbits)
    head = co.compress(prefix) + co.flush(zlib.Z_FULL_FLUSH) if prefix else co.compress(b"")
    block = co.compress(zero) + co.flush(zlib.Z_FULL_FLUSH)
    again = co.compress(zero) + co.flush(zlib.Z_FULL_FLUSH)
    if block != again:
        raise SystemExit("store_corpus_tool: zlib does not repeat its full-flush block")
    tail = co.compress(bytes(suffix_zeros)) + co.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    big = bytes(64 * CHUNK)
    left = size
    while left >= len(big):
        crc = zlib.crc32(big, crc)
        left -= len(big)
    if left:
        crc = zlib.crc32(bytes(left), crc)
    crc = zlib.crc32(bytes(suffix_zeros), crc)
    return head, block, size // CHUNK, tail, crc


def cmd_bomb_zip(a: argparse.Namespace) -> None:
    size = a.size
    head, block, n, tail, crc = zero_deflate(size, -15)
    csize = len(head) + len(block) * n + len(tail)
    name = a.member.encode()
    dostime, dosdate = 0, (2023 - 1980) << 9 | 11 << 5 | 14
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, dostime, dosdate, crc, csize, size,
                        len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, 0, 8, dostime, dosdate, crc,
                          csize, size, len(name), 0, 0, 0, 0, 0o100644 << 16, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + csize, 0)
    with open(a.out, "wb") as out:
        out.write(local + head)
        for _ in range(n):
            out.write(block)
        out.write(tail + central + end)


def cmd_bomb_targz(a: argparse.Namespace) -> None:
    size = a.size
    info = tarfile.TarInfo(a.member)
    info.size = size
    info.mtime = FIXED_TIME
    info.mode = 0o644
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    # payload: size zeros (a multiple of 512, no padding) + the 1024-byte end-of-archive zeros
    head, block, n, tail, crc = zero_deflate(size, -15, prefix=header, suffix_zeros=1024)
    total = len(header) + size + 1024
    gz_head = b"\x1f\x8b\x08\x00" + struct.pack("<I", FIXED_TIME) + b"\x02\x03"
    with open(a.out, "wb") as out:
        out.write(gz_head + head)
        for _ in range(n):
            out.write(block)
        out.write(tail + struct.pack("<II", crc, total & 0xFFFFFFFF))


# ---------------------------------------------------------------- nested zips

def zip_bytes(files: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            zi = zipfile.ZipInfo(name, date_time=(2023, 11, 14, 12, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data)
    return buf.getvalue()


def cmd_nested_zip(a: argparse.Namespace) -> None:
    """Level 1 is the file itself; level k (k >= 2) is member lNN.zip of level k-1. The innermost
    level holds only a text file. The extra file goes into level a.key_level as a.key_member."""
    with open(a.key, "rb") as f:
        key = f.read()
    inner = zip_bytes([("README.txt", b"the bottom of the archive chain\n")])
    for level in range(a.depth, 0, -1):
        files = []
        if level < a.depth:
            files.append((f"l{level + 1:02d}.zip", inner))
        if level == a.key_level:
            files.append((a.key_member, key))
        files.append((f"notes-{level:02d}.txt", f"level {level}\n".encode()))
        inner = zip_bytes(files)
    with open(a.out, "wb") as out:
        out.write(inner)
    # the member chain of the key, for the manifest
    chain = [f"l{lv:02d}.zip" for lv in range(2, a.key_level + 1)] + [a.key_member]
    print("!".join(chain))


# ---------------------------------------------------------------- container images

def tar_bytes(entries: list[tuple[str, bytes | None, int]]) -> bytes:
    """entries: (name, data or None for a directory, mode)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mtime = FIXED_TIME
            info.mode = mode
            info.uname = info.gname = "root"
            if data is None:
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image_blobs(key: bytes, path: str, compress: bool):
    """Returns (blobs {digest: bytes}, manifest_digest, manifest_size, config_digest, layer digests)."""
    parts = path.split("/")
    dirs = ["/".join(parts[:i]) + "/" for i in range(1, len(parts))]
    layer1 = tar_bytes([(d, None, 0o755) for d in dirs[:-1]] + [(dirs[-1], None, 0o700)]
                       + [("etc/hostname", b"app\n", 0o644), (path, key, 0o600)])
    whiteout = "/".join(parts[:-1] + [".wh." + parts[-1]])
    layer2 = tar_bytes([(d, None, 0o755) for d in dirs[:-1]] + [(dirs[-1], None, 0o700)]
                       + [(whiteout, b"", 0o600), ("etc/motd", b"hardened image\n", 0o644)])
    diff_ids = ["sha256:" + sha(layer1), "sha256:" + sha(layer2)]
    if compress:
        layers = [gzip.compress(layer1, mtime=0), gzip.compress(layer2, mtime=0)]
        media = "application/vnd.oci.image.layer.v1.tar+gzip"
    else:
        layers = [layer1, layer2]
        media = "application/vnd.oci.image.layer.v1.tar"
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(FIXED_TIME))
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {"Cmd": ["/usr/sbin/nginx", "-g", "daemon off;"], "Env": ["PATH=/usr/sbin:/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": created, "created_by": f"COPY server.key /{path}"},
                    {"created": created, "created_by": f"RUN rm /{path}"}],
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + sha(config), "size": len(config)},
        "layers": [{"mediaType": media, "digest": "sha256:" + sha(l), "size": len(l)} for l in layers],
    }, sort_keys=True).encode()
    blobs = {sha(b): b for b in [config, manifest, *layers]}
    return blobs, sha(manifest), len(manifest), sha(config), [sha(l) for l in layers]


def index_json(manifest_digest: str, manifest_size: int, tag: str) -> bytes:
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": "sha256:" + manifest_digest, "size": manifest_size,
                       "annotations": {"io.containerd.image.name": f"docker.io/library/{tag}",
                                       "org.opencontainers.image.ref.name": tag.split(":")[-1]}}],
    }, sort_keys=True).encode()


def cmd_image(a: argparse.Namespace) -> None:
    with open(a.key, "rb") as f:
        key = f.read()
    if a.tar:
        blobs, mdig, msize, cdig, ldigs = image_blobs(key, a.path, compress=False)
        docker_manifest = json.dumps([{
            "Config": f"blobs/sha256/{cdig}", "RepoTags": [a.tag],
            "Layers": [f"blobs/sha256/{d}" for d in ldigs]}]).encode()
        entries: list[tuple[str, bytes | None, int]] = [("blobs/", None, 0o755), ("blobs/sha256/", None, 0o755)]
        entries += [(f"blobs/sha256/{d}", b, 0o644) for d, b in sorted(blobs.items())]
        entries += [("index.json", index_json(mdig, msize, a.tag), 0o644),
                    ("manifest.json", docker_manifest, 0o644),
                    ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}', 0o644),
                    ("repositories", json.dumps({a.tag.split(":")[0]: {a.tag.split(":")[1]: ldigs[-1]}}).encode(),
                     0o644)]
        with open(a.tar, "wb") as out:
            out.write(tar_bytes(entries))
        print(f"tar {ldigs[0]}")
    if a.dir:
        blobs, mdig, msize, cdig, ldigs = image_blobs(key, a.path, compress=True)
        os.makedirs(os.path.join(a.dir, "blobs", "sha256"), exist_ok=True)
        for d, b in blobs.items():
            with open(os.path.join(a.dir, "blobs", "sha256", d), "wb") as out:
                out.write(b)
        with open(os.path.join(a.dir, "index.json"), "wb") as out:
            out.write(index_json(mdig, msize, a.tag))
        with open(os.path.join(a.dir, "oci-layout"), "wb") as out:
            out.write(b'{"imageLayoutVersion":"1.0.0"}')
        print(f"dir {ldigs[0]}")


# ---------------------------------------------------------------- DER decoys, secrets

def cmd_der_decoy(a: argparse.Namespace) -> None:
    body = os.urandom(a.length)
    with open(a.out, "wb") as out:
        out.write(b"\x30\x82" + struct.pack(">H", a.length) + body)


def cmd_der_secrets(a: argparse.Namespace) -> None:
    seen: set[str] = set()
    for path in a.files:
        with open(path, "rb") as f:
            text = base64.b64encode(f.read()).decode()
        for i in range(0, len(text), 64):
            line = text[i:i + 64]
            if len(line) >= corpus_tool.MIN_SECRET and line not in seen:
                seen.add(line)
                print(line)


def cmd_secrets(a: argparse.Namespace) -> None:
    corpus_tool.cmd_secrets(a)


# ---------------------------------------------------------------- self-checks

JKS_MAGIC = {0xFEEDFEED: "jks", 0xCECECECE: "jceks"}


def jks_info(data: bytes, password: str) -> tuple[str, int, int]:
    """(type, private key entries, trusted certificate entries); raises ValueError when the
    integrity digest does not verify or the layout is wrong."""
    magic, version, count = struct.unpack(">III", data[:12])
    if magic not in JKS_MAGIC or version != 2:
        raise ValueError("not a JKS/JCEKS version 2 store")
    digest = hashlib.sha1(password.encode("utf-16-be") + b"Mighty Aphrodite" + data[:-20]).digest()
    if digest != data[-20:]:
        raise ValueError("integrity digest does not verify with this password")
    pos, keys, certs = 12, 0, 0

    def u16() -> int:
        nonlocal pos
        (v,) = struct.unpack(">H", data[pos:pos + 2])
        pos += 2
        return v

    def u32() -> int:
        nonlocal pos
        (v,) = struct.unpack(">I", data[pos:pos + 4])
        pos += 4
        return v

    def skip(n: int) -> None:
        nonlocal pos
        if pos + n > len(data) - 20:
            raise ValueError("an entry runs past the end")
        pos += n

    def utf() -> None:
        skip(u16())

    def cert() -> None:
        utf()            # certificate type, "X.509"
        skip(u32())      # encoded certificate

    for _ in range(count):
        tag = u32()
        utf()            # alias
        skip(8)          # date
        if tag == 1:
            keys += 1
            skip(u32())  # protected key
            for _ in range(u32()):
                cert()
        elif tag == 2:
            certs += 1
            cert()
        else:
            raise ValueError(f"entry tag {tag} not expected in this corpus")
    if pos != len(data) - 20:
        raise ValueError("entries do not end where the digest starts")
    return JKS_MAGIC[magic], keys, certs


def cmd_jks_info(a: argparse.Namespace) -> None:
    with open(a.file, "rb") as f:
        data = f.read()
    try:
        kind, keys, certs = jks_info(data, a.password)
    except ValueError as err:
        raise SystemExit(f"store_corpus_tool: {a.file}: {err}")
    print(f"{kind} keys={keys} certs={certs}")


def open_member(data: bytes, name: str, passwords: list[str]) -> bytes:
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo(name)
            if info.flag_bits & 1:
                for pw in passwords:
                    try:
                        return z.read(info, pwd=pw.encode())
                    except RuntimeError:
                        continue
                raise ValueError(f"{name}: no password opens it")
            return z.read(info)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        data = subprocess.run(["zstd", "-dc"], input=data, stdout=subprocess.PIPE, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as t:
        f = t.extractfile(name)
        if f is None:
            raise ValueError(f"{name}: not a regular file")
        return f.read()


def cmd_check_members(a: argparse.Namespace) -> None:
    bad = 0
    with open(a.manifest, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            cols = line.rstrip("\n").split("\t")
            rel, member, kind = cols[0], cols[1], cols[2]
            if member == "-":
                continue
            try:
                with open(os.path.join(a.tree, rel), "rb") as fh:
                    data = fh.read()
                for name in member.split("!"):
                    # keyward names an image layer blob by its digest (docs/architecture.md): sha256:<hex>
                    if name.startswith("sha256:"):
                        name = "blobs/sha256/" + name[len("sha256:"):]
                    data = open_member(data, name, a.password)
                if kind == "private_key":
                    subprocess.run(["openssl", "pkey", "-noout", "-passin", "pass:"], input=data,
                                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                elif kind == "keystore" and cols[3] in ("jks", "jceks"):
                    if struct.unpack(">I", data[:4])[0] not in JKS_MAGIC:
                        raise ValueError("not a JKS/JCEKS store")
                elif kind == "keystore" and data[:1] != b"\x30":
                    raise ValueError("not DER")
            except (OSError, KeyError, ValueError, tarfile.TarError, zipfile.BadZipFile,
                    subprocess.CalledProcessError) as err:
                print(f"store_corpus_tool: manifest line {n}: {rel} {member}: {err}", file=sys.stderr)
                bad += 1
    if bad:
        raise SystemExit(1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("bomb-zip")
    s.add_argument("--size", type=int, default=1 << 30)
    s.add_argument("--member", default="zeros.bin")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_bomb_zip)

    s = sub.add_parser("bomb-targz")
    s.add_argument("--size", type=int, default=1 << 30)
    s.add_argument("--member", default="var/log/huge.log")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_bomb_targz)

    s = sub.add_parser("nested-zip")
    s.add_argument("--depth", type=int, required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--key-level", type=int, default=2)
    s.add_argument("--key-member", default="keys/shallow.pem")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_nested_zip)

    s = sub.add_parser("image")
    s.add_argument("--key", required=True)
    s.add_argument("--path", default="etc/ssl/private/server.key")
    s.add_argument("--tag", default="shop/web:1.4.2")
    s.add_argument("--tar")
    s.add_argument("--dir")
    s.set_defaults(fn=cmd_image)

    s = sub.add_parser("der-decoy")
    s.add_argument("--length", type=int, required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_der_decoy)

    s = sub.add_parser("der-secrets")
    s.add_argument("files", nargs="+")
    s.set_defaults(fn=cmd_der_secrets)

    s = sub.add_parser("secrets")
    s.add_argument("files", nargs="+")
    s.set_defaults(fn=cmd_secrets)

    s = sub.add_parser("jks-info")
    s.add_argument("file")
    s.add_argument("password")
    s.set_defaults(fn=cmd_jks_info)

    s = sub.add_parser("check-members")
    s.add_argument("--tree", required=True)
    s.add_argument("--manifest", required=True)
    s.add_argument("--password", action="append", default=[], help="zip passwords to try")
    s.set_defaults(fn=cmd_check_members)

    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
