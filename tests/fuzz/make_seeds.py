#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""make_seeds.py --keyward BIN --tree TREE --out DIR: seeds for the fleet's fuzz targets.

Writes DIR/<fuzzer>/<n> for report_fuzzer, collector_api_fuzzer, agent_config_fuzzer,
http_framing_fuzzer (raw requests: framed each way, pipelined, and the smuggling shapes) and
scan_cache_fuzzer (real cache files of `keyward scan --cache` over the same few files):
bks_fuzzer and bcfks_fuzzer (Bouncy Castle BKS, UBER and BCFKS stores that keytool with bcprov
converts from a PKCS#12 made here, when keytool and bcprov are installed);
a real report (`keyward scan --format json` of a few files of the generated corpus TREE plus a
report_id), enrollment messages with a CSR made here by the openssl CLI (its key is thrown
away), one API request per route in collector_api_fuzzer.cpp's input format, and agent.yaml
texts. Everything is made at run time in a temporary directory; nothing here is committed.
"""
import argparse
import gzip
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time

# collector_api_fuzzer.cpp, byte 0: authorization (bits 0-2), client certificate (bits 3-4),
# body encoding (bits 5-6).
NONE, ADMIN, VIEWER, ANALYST, APPROVER, ENROLL, RAW_AUTH, REVOKED_TOKEN = range(8)
NO_CERT, AGENT, PENDING_AGENT, REVOKED_AGENT = (0 << 3, 1 << 3, 2 << 3, 3 << 3)
PLAIN, GZIP_HERE, GZIP_RAW, RAW_ENCODING = (0 << 5, 1 << 5, 2 << 5, 3 << 5)
APPROVED_ID, PENDING_ID = "00000000f0000001", "00000000f0000002"  # the fuzzer's first agents


def api_seed(flags, method, target, body=b"", auth="", encoding=""):
    if isinstance(body, str):
        body = body.encode()
    head = f"{method}\n{target}\n{auth}\n{encoding}\n".encode()
    return bytes([flags]) + head + body


def make_report(keyward, tree, work):
    """A real findings document of a few small corpus files, with a report_id."""
    pick = os.path.join(work, "pick")
    os.makedirs(pick)
    n = 0
    for root, _, files in sorted(os.walk(tree)):
        for name in sorted(files):
            src = os.path.join(root, name)
            if os.path.getsize(src) > 16384 or n >= 24:
                continue
            shutil.copy(src, os.path.join(pick, f"{n:02d}-{name}"))
            n += 1
    # A key under a name that is not UTF-8 (Latin-1): the report carries it as location.path_b64.
    for name in sorted(os.listdir(pick)):
        with open(os.path.join(pick, name), "rb") as fh:
            if b"PRIVATE KEY-----" in fh.read():
                shutil.copy(os.path.join(pick, name), os.path.join(pick.encode(), b"caf\xe9-" + name.encode()))
                break
    out = subprocess.run([keyward, "scan", "--format", "json", "-q", "-j", "1", pick],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    if out.returncode not in (0, 1):
        raise SystemExit(f"make_seeds: keyward scan exited {out.returncode}")
    report = json.loads(out.stdout)
    report["report_id"] = secrets.token_hex(16)
    return report


def make_csr(work):
    key = os.path.join(work, "agent.key")
    csr = subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                          "-nodes", "-keyout", key, "-subj", "/CN=fuzz-agent"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.decode()
    os.unlink(key)
    return csr


def make_caches(keyward, work):
    """Cache files of the files make_report picked: with archives, and without (other options)."""
    pick = os.path.join(work, "pick")
    time.sleep(1.2)  # a cache keeps only files older than its racy window (ScanCache::kRacyNs)
    out = []
    for extra in ([], ["--no-archives"]):
        cache = os.path.join(work, "cache")
        subprocess.run([keyward, "scan", "--format", "json", "-q", "-j", "1", "-o", os.devnull,
                        "--cache", cache, *extra, pick], stderr=subprocess.DEVNULL, check=False)
        with open(cache, "rb") as fh:
            out.append(fh.read())
        os.unlink(cache)
    return out


def make_bc_stores(work):
    """BKS (a key and a trust store), UBER and BCFKS stores written by Bouncy Castle itself."""
    bcprov = "/usr/share/java/bcprov.jar"
    if shutil.which("keytool") is None or not os.path.exists(bcprov):
        return {"bks_fuzzer": [], "bcfks_fuzzer": []}
    bc = ["-providerpath", bcprov, "-providerclass", "org.bouncycastle.jce.provider.BouncyCastleProvider"]
    quiet = dict(cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "bc.key", "-out", "bc.crt", "-subj", "/CN=fuzz-bc", "-days", "2"], **quiet)
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", "bc.key", "-in", "bc.crt", "-name", "k",
                    "-passout", "pass:changeit", "-out", "bc.p12"], **quiet)
    out = {}
    for t in ("BKS", "UBER", "BCFKS"):
        subprocess.run(["keytool", "-importkeystore", "-noprompt", "-srckeystore", "bc.p12", "-srcstoretype",
                        "PKCS12", "-srcstorepass", "changeit", "-destkeystore", "bc." + t, "-deststoretype", t,
                        "-deststorepass", "changeit"] + bc, **quiet)
        with open(os.path.join(work, "bc." + t), "rb") as fh:
            out[t] = fh.read()
    subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", "bc.crt", "-keystore",
                    "trust.BKS", "-storetype", "BKS", "-storepass", "changeit"] + bc, **quiet)
    with open(os.path.join(work, "trust.BKS"), "rb") as fh:
        out["trust"] = fh.read()
    os.unlink(os.path.join(work, "bc.key"))
    return {"bks_fuzzer": [out["BKS"], out["UBER"], out["trust"]], "bcfks_fuzzer": [out["BCFKS"]]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keyward", required=True)
    ap.add_argument("--tree", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    seeds = {"report_fuzzer": [], "collector_api_fuzzer": [], "agent_config_fuzzer": [], "scan_cache_fuzzer": []}
    with tempfile.TemporaryDirectory(prefix="keyward-seeds-") as work:
        report = make_report(a.keyward, a.tree, work)
        csr = make_csr(work)
        seeds["scan_cache_fuzzer"] += make_caches(a.keyward, work)
        seeds.update(make_bc_stores(work))
    full = json.dumps(report).encode()
    odd = [f for f in report["findings"] if "path_b64" in f.get("location", {})]
    small = dict(report, findings=(odd + report["findings"])[:2], report_id=secrets.token_hex(16))
    small_b = json.dumps(small).encode()
    partial = dict(small, report_id=secrets.token_hex(16))
    partial["scan"] = dict(small["scan"], complete=False)
    empty = dict(small, findings=[], report_id=secrets.token_hex(16))
    enroll_req = json.dumps({"csr": csr, "hostname": "build-1", "os": "linux"})
    enroll_resp = json.dumps({"agent_id": APPROVED_ID, "certificate": csr, "ca": csr, "status": "pending"})

    r = seeds["report_fuzzer"]
    r += [full, small_b, json.dumps(partial).encode(), json.dumps(empty).encode(), enroll_req.encode(),
          enroll_resp.encode()]

    identity = "spki:" + "ab" * 32
    for f in report["findings"]:
        spki = (f.get("key") or {}).get("spki_sha256") or (f.get("certificate") or {}).get("spki_sha256")
        if spki:
            identity = "spki:" + spki
            break
    s = seeds["collector_api_fuzzer"]
    s += [
        api_seed(NONE, "GET", "/health"),
        api_seed(VIEWER, "GET", "/api/v1/hosts"),
        api_seed(VIEWER, "GET", "/api/v1/findings?host=fuzz-1&severity=high&min_severity=low&kind=private_key"
                                "&status=all&limit=10&offset=0"),
        api_seed(VIEWER, "GET", "/api/v1/findings?status=open&host=" + APPROVED_ID),
        api_seed(VIEWER, "GET", "/api/v1/keys?limit=5&offset=1"),
        api_seed(VIEWER, "GET", "/api/v1/certificates?expiring_within=3650d&limit=3"),
        api_seed(VIEWER, "GET", "/api/v1/certificates?expiring_within=12h"),
        api_seed(VIEWER, "GET", "/api/v1/events?since=0&limit=50"),
        api_seed(VIEWER, "GET", "/api/v1/agents/"),
        api_seed(ADMIN, "POST", f"/api/v1/agents/{PENDING_ID}/approve"),
        api_seed(ADMIN, "POST", f"/api/v1/agents/{APPROVED_ID}/revoke"),
        api_seed(ADMIN, "PUT", f"/api/v1/agents/{APPROVED_ID}/tags", '{"tags": ["build", "ci.x"]}'),
        api_seed(ADMIN, "POST", "/api/v1/enrollment-tokens", '{"ttl_seconds": 600}'),
        api_seed(ADMIN, "POST", "/api/v1/tokens", '{"role": "viewer", "name": "grafana", "ttl_seconds": 3600}'),
        api_seed(ADMIN, "GET", "/api/v1/tokens"),
        api_seed(ADMIN, "POST", "/api/v1/tokens/0123456789abcdef/revoke"),
        api_seed(ANALYST, "POST", "/api/v1/exceptions",
                 json.dumps({"identity": identity, "reason": "vendor appliance", "expires_at": "2035-01-31T00:00:00Z"})),
        api_seed(VIEWER, "GET", "/api/v1/exceptions"),
        api_seed(APPROVER, "POST", "/api/v1/exceptions/0123456789abcdef/approve"),
        api_seed(ADMIN, "GET", "/api/v1/audit?since=0&limit=10"),
        api_seed(VIEWER, "GET", "/metrics"),
        api_seed(VIEWER, "DELETE", "/api/v1/tokens"),
        api_seed(VIEWER, "GET", "/api/v1/%7a?a=%41+b&&c"),
        api_seed(REVOKED_TOKEN, "GET", "/api/v1/hosts"),
        api_seed(RAW_AUTH, "GET", "/api/v1/hosts", auth="bearer  kwt_AAAA "),
        api_seed(NONE | AGENT, "POST", "/api/v1/reports", full),
        api_seed(NONE | AGENT, "POST", "/api/v1/reports", json.dumps(partial)),
        api_seed(NONE | AGENT, "POST", "/api/v1/reports", json.dumps(empty)),
        api_seed(NONE | AGENT | GZIP_HERE, "POST", "/api/v1/reports", small_b),
        api_seed(NONE | AGENT | GZIP_RAW, "POST", "/api/v1/reports", gzip.compress(small_b)),
        api_seed(NONE | AGENT | GZIP_RAW, "POST", "/api/v1/reports", gzip.compress(small_b[:100]) + gzip.compress(small_b[100:])),
        api_seed(NONE | AGENT | GZIP_RAW, "POST", "/api/v1/reports", gzip.compress(b" " * (1 << 20))),
        api_seed(NONE | AGENT | RAW_ENCODING, "POST", "/api/v1/reports", gzip.compress(small_b), encoding="X-GZIP"),
        api_seed(NONE | AGENT | RAW_ENCODING, "POST", "/api/v1/reports", small_b, encoding="br"),
        api_seed(NONE | PENDING_AGENT, "POST", "/api/v1/reports", small_b),
        api_seed(NONE | REVOKED_AGENT, "POST", "/api/v1/reports", small_b),
        api_seed(NONE | AGENT, "GET", "/api/v1/hosts"),
        api_seed(ENROLL, "POST", "/api/v1/enroll", enroll_req),
        api_seed(RAW_AUTH, "POST", "/api/v1/enroll", enroll_req, auth="Bearer kwe_unknown"),
    ]

    # Plans and results as keyward migrate and the agent read them: a real plan of the report,
    # each of its items alone, and results of each outcome.
    with tempfile.TemporaryDirectory(prefix="keyward-seeds-") as work:
        path = os.path.join(work, "findings.json")
        with open(path, "w") as fh:
            json.dump(report, fh)
        out = subprocess.run([a.keyward, "plan", path, "--format", "json"], capture_output=True, check=True)
    plan = json.loads(out.stdout)
    result = {"schema": "keyward.migration-result/v1", "item_id": "0123456789abcdef", "identity": identity,
              "host": "build-1", "strategy": "import", "outcome": "done", "message": "done",
              "verification": {"signature_ok": True, "public_key_matches": True, "sensitive": True,
                               "extractable": False, "private_value_refused": True,
                               "mechanism": "CKM_SHA256_RSA_PKCS"},
              "cleanups": [{"path": "/srv/a.pem", "removed": True}]}
    seeds["plan_fuzzer"] = [out.stdout] + [json.dumps(i).encode() for i in plan.get("items", [])[:4]] + [
        json.dumps(dict(result, outcome=o)).encode() for o in ("done", "failed", "skipped", "refused")]
    if plan.get("items"):
        iid = plan["items"][0]["id"]
        s += [
            api_seed(VIEWER, "GET", "/api/v1/plan?format=text&state=proposed"),
            api_seed(ANALYST, "POST", f"/api/v1/plan/items/{iid}/request", json.dumps({"reason": "move it"})),
            api_seed(NONE | AGENT, "GET", "/api/v1/agent/migrations"),
            api_seed(NONE | AGENT, "POST", f"/api/v1/agent/migrations/{iid}/result",
                     json.dumps(dict(result, item_id=iid))),
        ]

    yaml_full = """# agent.yaml
collector: https://collector.example:8443
ca: ca.pem
certificate: /etc/keyward/agent.pem
key: agent.key
state_dir: /var/lib/keyward-agent
roots: [/home, /srv, "/opt/x y"]
excludes:
  - /proc
  - '*.iso'
schedule:
  interval: 6h
  jitter: 10m
limits:
  max_cpu_percent: 25
  threads: 2
  nice: 10
  io_class: best-effort
  max_file_size: 64M
  spool_max_bytes: 256MiB
proxy: http://proxy:3128
"""
    c = seeds["agent_config_fuzzer"]
    c += [yaml_full.encode(),
          b"collector: https://c\nca: a\ncertificate: b\nkey: c\nstate_dir: d\nschedule: {interval: 1d}\n",
          b"collector: https://c\nca: a\ncertificate: b\nkey: c\nstate_dir: d\nlimits: {io_class: idle}\nproxy: ~\n",
          b"6h", b"256MiB", b" 30 s ", b"1G"]

    # What a pull request can commit and `keyward ci` reads: ignore files (patterns, NUL, paths),
    # rule files (the built-in ones), baselines, allowlists and inline allows; and agent URLs.
    repo = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
    seeds["ignore_file_fuzzer"] = [
        b"*.pem\n!keep.pem\n/build/\n**/secret/**\ndocs/*.key\n\\#literal\n\0a/b/key.pem\nbuild/x\nkeep.pem\n",
        b"[a-c]*/**/z?.p12\n!**/fixtures/\n\0x/y/fixtures/z1.p12\nb/q/z2.p12\n",
        b"**/**/**/a\0" + b"b/" * 40 + b"a\n"]
    seeds["rule_yaml_fuzzer"] = [open(os.path.join(repo, "rules", f), "rb").read()
                                 for f in ("builtin/detections.yaml", "builtin/policy.yaml", "factors.yaml",
                                           "data/known-keys.txt")]
    allow = ("schema: keyward.allowlist/v1\nallow:\n  - fingerprint: " + "ab" * 32 + "\n    path: \"keys/*\"\n"
             "    reason: test\n    approved_by: a@example.org\n    requested_by: b@example.org\n"
             "    expires: 2027-01-01\n")
    baseline = json.dumps({"schema": "keyward.baseline/v1", "entries": [
        {"fingerprint": "cd" * 32, "path": "a/first.pem", "rule": "private-key/pkcs8"},
        {"fingerprint": "ef" * 32, "path": "lib.jar!keys/k.pem", "rule": "keystore/pkcs12"}]}, indent=2)
    seeds["suppressions_fuzzer"] = [allow.encode(), baseline.encode(),
                                    b"key: x\n# keyward:allow fixture for the parser tests\n-----BEGIN\n"]
    # http_framing_fuzzer.cpp: byte 0 cuts the reads (1 + b % 64 bytes each), then what a client
    # sends: requests framed each way, pipelined, and the smuggling shapes the framing refuses.
    get = b"GET /health HTTP/1.1\r\nHost: c\r\n\r\n"
    post = b"POST /api/v1/reports HTTP/1.1\r\nHost: c\r\nAuthorization: Bearer kwt_x\r\n"
    seeds["http_framing_fuzzer"] = [bytes([cut]) + req for cut, req in [
        (63, get),
        (0, get + get),
        (7, post + b"Content-Length: 11\r\nContent-Encoding: gzip\r\n\r\n{\"a\": true}" + get),
        (3, post + b"Transfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\nX-T: 1\r\n\r\n" + get),
        (12, post + b"Expect: 100-continue\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"),
        (5, post + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + get),
        (5, post + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + get),
        (9, post + b"Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + get),
        (9, post + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get),
        (2, post + b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        (1, b"GET /health HTTP/1.1\r\nHost: c\r\nX-Folded: a\r\n b\r\n\r\n" + get),
        (1, b"GET /health HTTP/1.1\nHost: c\n\n"),
        (40, b"GET /api/v1/findings?host=a%20b&limit=5 HTTP/1.0\r\nX-Pad: " + b"p" * 15000 + b"\r\n\r\n"),
        (33, post + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n"),
    ]]
    seeds["agent_url_fuzzer"] = [b"https://collector.example:8443/api/v1/reports", b"http://[::1]:3128",
                                 b"https://127.0.0.1/api/?since=4", b"HTTPS://c"]

    for name, items in seeds.items():
        d = os.path.join(a.out, name)
        os.makedirs(d, exist_ok=True)
        for i, data in enumerate(items):
            with open(os.path.join(d, f"seed-{i:03d}"), "wb") as fh:
                fh.write(data)


if __name__ == "__main__":
    main()
