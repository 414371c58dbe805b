#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers for tests/support/make_corpus.sh: builds the key encodings no command-line tool writes.

Subcommands (all read keys that openssl generated; none keeps or prints anything but its output):
  sk-openssh   an unencrypted openssh-key-v1 file for a FIDO key (sk-ssh-ed25519@openssh.com or
               sk-ecdsa-sha2-nistp256@openssh.com); the "security key" part (key handle) is random,
               the public key comes from an openssl key, so ssh-keygen -y/-l can read the file.
  jwk          a JSON Web Key (RFC 7517/7518) of an RSA or EC P-256/P-384 key, private or public.
  jwks         a JWK Set {"keys": [...]} of several keys.
  xml-rsa      a .NET RSAKeyValue XML document (RSA.ToXmlString), private or public.
  embed        a PEM file wrapped as a JSON string, Java string concatenation, YAML block scalar,
               .env value, or one base64 line (Kubernetes Secret data).
  secrets      every secret line (base64 body lines >= 40 chars of private-key blocks, PPK private
               lines, JWK private members, XML private elements) of the given files, one per line.

Run with /usr/bin/python3 (stdlib only).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import struct
import subprocess

MIN_SECRET = 40


# ---------------------------------------------------------------- openssl key parameters

def openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout


def key_text(path: str) -> dict[str, object]:
    """Parses `openssl pkey -text -noout`: {'type': 'rsa'|'ec'|..., field: int|str}."""
    text = openssl("pkey", "-in", path, "-text", "-noout").decode()
    fields: dict[str, object] = {}
    current = None
    hexbuf: list[str] = []

    def flush() -> None:
        nonlocal current, hexbuf
        if current is not None and hexbuf:
            fields[current] = int("".join(hexbuf).replace(":", ""), 16)
        current, hexbuf = None, []

    for line in text.splitlines():
        if line.startswith((" ", "\t")):
            if current is not None:
                hexbuf.append(line.strip())
            continue
        flush()
        m = re.match(r"^([A-Za-z0-9 ]+):\s*(.*)$", line)
        if not m:
            continue
        name, rest = m.group(1).strip(), m.group(2).strip()
        if rest == "":
            current = name
        else:
            fields[name] = rest
    flush()
    if "modulus" in fields:
        fields["type"] = "rsa"
        e = str(fields["publicExponent"]).split()[0]
        fields["publicExponent"] = int(e)
    elif "NIST CURVE" in fields:
        fields["type"] = "ec"
    else:
        raise SystemExit(f"corpus_tool: unsupported key type in {path}")
    return fields


def int_bytes(n: int, length: int | None = None) -> bytes:
    if length is None:
        length = max(1, (n.bit_length() + 7) // 8)
    return n.to_bytes(length, "big")


def b64url(n: int, length: int | None = None) -> str:
    return base64.urlsafe_b64encode(int_bytes(n, length)).rstrip(b"=").decode()


def b64(n: int, length: int | None = None) -> str:
    return base64.b64encode(int_bytes(n, length)).decode()


EC_SIZES = {"P-256": 32, "P-384": 48, "P-521": 66}


def jwk_of(path: str, public: bool, kid: str | None) -> dict[str, str]:
    f = key_text(path)
    jwk: dict[str, str] = {}
    if f["type"] == "rsa":
        jwk["kty"] = "RSA"
        jwk["n"] = b64url(f["modulus"])
        jwk["e"] = b64url(f["publicExponent"])
        if not public:
            size = (f["modulus"].bit_length() + 7) // 8
            jwk["d"] = b64url(f["privateExponent"], size)
            jwk["p"] = b64url(f["prime1"])
            jwk["q"] = b64url(f["prime2"])
            jwk["dp"] = b64url(f["exponent1"])
            jwk["dq"] = b64url(f["exponent2"])
            jwk["qi"] = b64url(f["coefficient"])
    else:
        crv = str(f["NIST CURVE"])
        size = EC_SIZES[crv]
        point = int_bytes(f["pub"], 1 + 2 * size)
        if point[0] != 4:
            raise SystemExit("corpus_tool: expected an uncompressed EC point")
        jwk["kty"] = "EC"
        jwk["crv"] = crv
        jwk["x"] = base64.urlsafe_b64encode(point[1:1 + size]).rstrip(b"=").decode()
        jwk["y"] = base64.urlsafe_b64encode(point[1 + size:]).rstrip(b"=").decode()
        if not public:
            jwk["d"] = b64url(f["priv"], size)
    if kid:
        jwk["kid"] = kid
    jwk["use"] = "sig"
    return jwk


def cmd_jwk(a: argparse.Namespace) -> None:
    print(json.dumps(jwk_of(a.key, a.public, a.kid), indent=2))


def cmd_jwks(a: argparse.Namespace) -> None:
    keys = [jwk_of(k, False, f"priv-{i}") for i, k in enumerate(a.private)]
    keys += [jwk_of(k, True, f"pub-{i}") for i, k in enumerate(a.public)]
    print(json.dumps({"keys": keys}, indent=2))


def cmd_xml_rsa(a: argparse.Namespace) -> None:
    f = key_text(a.key)
    if f["type"] != "rsa":
        raise SystemExit("corpus_tool: xml-rsa needs an RSA key")
    size = (f["modulus"].bit_length() + 7) // 8
    half = (size + 1) // 2
    parts = [("Modulus", b64(f["modulus"])), ("Exponent", b64(f["publicExponent"]))]
    if not a.public:
        parts += [("P", b64(f["prime1"], half)), ("Q", b64(f["prime2"], half)),
                  ("DP", b64(f["exponent1"], half)), ("DQ", b64(f["exponent2"], half)),
                  ("InverseQ", b64(f["coefficient"], half)), ("D", b64(f["privateExponent"], size))]
    body = "".join(f"<{k}>{v}</{k}>" for k, v in parts)
    print(f"<RSAKeyValue>{body}</RSAKeyValue>")


# ---------------------------------------------------------------- openssh-key-v1 for FIDO keys

def sshstr(b: bytes | str) -> bytes:
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def cmd_sk_openssh(a: argparse.Namespace) -> None:
    spki = openssl("pkey", "-in", a.key, "-pubout", "-outform", "DER")
    application = "ssh:"
    if a.type == "ed25519":
        keytype = "sk-ssh-ed25519@openssh.com"
        pub_fields = sshstr(spki[-32:])
    elif a.type == "ecdsa":
        keytype = "sk-ecdsa-sha2-nistp256@openssh.com"
        point = spki[-65:]
        if point[0] != 4:
            raise SystemExit("corpus_tool: expected an uncompressed P-256 point")
        pub_fields = sshstr("nistp256") + sshstr(point)
    else:
        raise SystemExit(f"corpus_tool: unknown sk type {a.type}")
    pub_fields += sshstr(application)
    public_blob = sshstr(keytype) + pub_fields

    check = os.urandom(4)
    flags = b"\x01"  # SSH_SK_USER_PRESENCE_REQD
    key_handle = os.urandom(64)
    private = check + check + sshstr(keytype) + pub_fields + flags + sshstr(key_handle)
    private += sshstr(b"") + sshstr(a.comment)  # reserved, comment
    pad = 1
    while len(private) % 8:
        private += bytes([pad])
        pad += 1

    blob = b"openssh-key-v1\0" + sshstr("none") + sshstr("none") + sshstr(b"")
    blob += struct.pack(">I", 1) + sshstr(public_blob) + sshstr(private)
    text = base64.b64encode(blob).decode()
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    with open(a.out, "w") as out:
        out.write("-----BEGIN OPENSSH PRIVATE KEY-----\n")
        out.write("\n".join(lines) + "\n")
        out.write("-----END OPENSSH PRIVATE KEY-----\n")
    os.chmod(a.out, 0o600)
    if a.pub:
        with open(a.pub, "w") as out:
            out.write(f"{keytype} {base64.b64encode(public_blob).decode()} {a.comment}\n")


# ---------------------------------------------------------------- embedding a PEM in other text

def cmd_embed(a: argparse.Namespace) -> None:
    with open(a.pem) as f:
        pem = f.read()
    lines = pem.rstrip("\n").split("\n")
    name = a.name
    if a.style == "json":
        doc = {"service": "billing", "tls": {"enabled": True, name: pem, "verify": False}}
        print(json.dumps(doc, indent=2))
    elif a.style == "java":
        print("package com.example.billing;\n")
        print("public final class KeyHolder {")
        print("  // TODO move to the vault")
        print(f"  static final String {name} =")
        for i, line in enumerate(lines):
            end = ";" if i == len(lines) - 1 else " +"
            print(f'      "{line}\\n"{end}')
        print("\n  private KeyHolder() {}\n}")
    elif a.style == "yaml":
        print("server:\n  port: 8443\n  tls:")
        print(f"    {name}: |")
        for line in lines:
            print(f"      {line}")
        print("    ciphers: modern")
    elif a.style == "env":
        print("APP_ENV=production\nDB_HOST=db.internal")
        print(f'{name}="' + "\\n".join(lines) + '\\n"')
        print("LOG_LEVEL=info")
    elif a.style == "base64":
        print(base64.b64encode(pem.encode()).decode())
    else:
        raise SystemExit(f"corpus_tool: unknown style {a.style}")


# ---------------------------------------------------------------- secret lines of key files

B64_LINE = re.compile(r"^[A-Za-z0-9+/=_-]+$")
PRIVATE_BEGIN = re.compile(r"-{4,5} ?BEGIN ([A-Z0-9 ]*PRIVATE KEY[A-Z ]*) ?-{4,5}")
JWK_PRIVATE = ("d", "p", "q", "dp", "dq", "qi")
XML_PRIVATE = re.compile(r"<(P|Q|DP|DQ|InverseQ|D)>([^<]+)</\1>")


def secret_lines(text: str) -> list[str]:
    text = text.replace("\r", "").lstrip("\ufeff")
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if PRIVATE_BEGIN.search(line):
            i += 1
            in_header = True
            while i < len(lines) and "END " not in lines[i]:
                body = lines[i].strip()
                if in_header and (":" in body or body.endswith("\\") or body == ""):
                    i += 1
                    continue
                in_header = False
                if len(body) >= MIN_SECRET and B64_LINE.match(body):
                    out.append(body)
                i += 1
            continue
        m = re.match(r"^Private-Lines: (\d+)$", line.strip())
        if m:
            for body in lines[i + 1:i + 1 + int(m.group(1))]:
                if len(body.strip()) >= MIN_SECRET:
                    out.append(body.strip())
        i += 1
    for m in XML_PRIVATE.finditer(text):
        if len(m.group(2)) >= MIN_SECRET:
            out.append(m.group(2))
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if k in JWK_PRIVATE and isinstance(v, str) and len(v) >= MIN_SECRET:
                    out.append(v)
                stack.append(v)
        elif isinstance(node, list):
            stack.extend(node)
    return out


def cmd_secrets(a: argparse.Namespace) -> None:
    seen: set[str] = set()
    for path in a.files:
        with open(path, "rb") as f:
            text = f.read().decode("latin-1")
        for s in secret_lines(text):
            if s not in seen:
                seen.add(s)
                print(s)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("sk-openssh")
    s.add_argument("--type", choices=["ed25519", "ecdsa"], required=True)
    s.add_argument("--key", required=True, help="openssl Ed25519 or P-256 key giving the public point")
    s.add_argument("--comment", default="")
    s.add_argument("--out", required=True)
    s.add_argument("--pub")
    s.set_defaults(fn=cmd_sk_openssh)

    s = sub.add_parser("jwk")
    s.add_argument("key")
    s.add_argument("--public", action="store_true")
    s.add_argument("--kid")
    s.set_defaults(fn=cmd_jwk)

    s = sub.add_parser("jwks")
    s.add_argument("--private", action="append", default=[])
    s.add_argument("--public", action="append", default=[])
    s.set_defaults(fn=cmd_jwks)

    s = sub.add_parser("xml-rsa")
    s.add_argument("key")
    s.add_argument("--public", action="store_true")
    s.set_defaults(fn=cmd_xml_rsa)

    s = sub.add_parser("embed")
    s.add_argument("--style", choices=["json", "java", "yaml", "env", "base64"], required=True)
    s.add_argument("--name", default="private_key")
    s.add_argument("pem")
    s.set_defaults(fn=cmd_embed)

    s = sub.add_parser("secrets")
    s.add_argument("files", nargs="+")
    s.set_defaults(fn=cmd_secrets)

    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
