#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The CycloneDX 1.6 CBOM (docs/formats/cbom.md) of a real scan and of a real fleet, validated
against the official schema from npm @cyclonedx/cyclonedx-library (res/schema, installed by the
ctest fixture browser.npm) with python3-jsonschema's Draft7Validator and a local resolver (no
network).

Usage:
  /usr/bin/python3 tests/integration/check_cbom.py --bin build/bin --corpus build/corpus \
      --schemas build/node/node_modules/@cyclonedx/cyclonedx-library/res/schema

What it checks (each output line is one check; the run goes on after a failure):
  1. `keyward scan <corpus>/tree <corpus>/stores/tree --format cbom` (both generated corpora:
     tests/support/make_corpus.sh and make_store_corpus.sh) is schema-valid; every bom-ref is unique and every
     reference (dependencies, algorithmRef, signatureAlgorithmRef, subjectPublicKeyRef) names one.
  2. Every format family of the corpus shows up: each manifest line's file is an occurrence of a
     component of its kind (certificates, private and public keys, key stores' entry keys); RSA,
     ECDSA and Ed25519 algorithms with NIST quantum level 0 and keys marked quantum-vulnerable.
  3. One component per key identity: a SPKI's private-key findings and store entries of the json
     scan are exactly its component's occurrences.
  4. No secret of the corpus (key body lines, passphrases) and no key comment is in the CBOM.
  5. A fleet: a real keyward-collector, two agents whose trees hold the same key. GET /api/v1/cbom
     (viewer token) and `keyward-collector report --format cbom` are schema-valid, closed, and
     the shared key is one component with two occurrences, one per host. After an approved
     exception for one host's key, that key is still a component, marked keyward:suppressed.
Exits 0 when every check passed, 1 otherwise, 2 when it cannot run at all.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_fleet as fleet  # noqa: E402  (its Api, Collector, key makers and check counters)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import npm_packages  # noqa: E402

check, run = fleet.check, fleet.run
CDX = "http://cyclonedx.org/schema/"


def make_validator(schemas: str) -> jsonschema.Draft7Validator:
    """The 1.6 schema with its two referenced schemas resolved from the npm package's files."""
    docs = {}
    for name in ("bom-1.6.SNAPSHOT.schema.json", "spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"):
        with open(os.path.join(schemas, name), encoding="utf-8") as f:
            docs[name] = json.load(f)
    store = {}
    for name, doc in docs.items():
        store[name] = doc
        store[doc["$id"]] = doc
        store[CDX + name] = doc
    bom = docs["bom-1.6.SNAPSHOT.schema.json"]
    jsonschema.Draft7Validator.check_schema(bom)
    with warnings.catch_warnings():  # RefResolver is deprecated in later jsonschema, still the 4.10 way
        warnings.simplefilter("ignore", DeprecationWarning)
        resolver = jsonschema.RefResolver(base_uri=bom["$id"], referrer=bom, store=store)
    return jsonschema.Draft7Validator(bom, resolver=resolver, format_checker=jsonschema.FormatChecker())


def schema_errors(validator, doc) -> list[str]:
    return [f"{e.message} at /{'/'.join(str(p) for p in e.absolute_path)}" for e in validator.iter_errors(doc)][:10]


def dangling_refs(bom: dict) -> list[str]:
    """References that name no bom-ref, and bom-refs given twice."""
    refs, problems = [], []
    if "component" in bom.get("metadata", {}):
        refs.append(bom["metadata"]["component"].get("bom-ref"))
    refs += [c.get("bom-ref") for c in bom.get("components", [])]
    known = set(refs)
    problems += [f"duplicate bom-ref {r}" for r, n in collections.Counter(refs).items() if n > 1]
    named = []
    for d in bom.get("dependencies", []):
        named += [d["ref"]] + d.get("dependsOn", [])
    for c in bom.get("components", []):
        cp = c.get("cryptoProperties", {})
        named += [v for k, v in cp.get("certificateProperties", {}).items() if k.endswith("Ref")]
        rcm = cp.get("relatedCryptoMaterialProperties", {})
        named += [rcm[k] for k in ("algorithmRef",) if k in rcm]
        named += [rcm["securedBy"]["algorithmRef"]] if "algorithmRef" in rcm.get("securedBy", {}) else []
    problems += [f"dangling ref {r}" for r in named if r not in known]
    return problems


def check_bom(validator, bom, what: str) -> None:
    errors = schema_errors(validator, bom)
    check(not errors, f"{what}: valid against the CycloneDX 1.6 schema", "; ".join(errors))
    problems = dangling_refs(bom)
    check(not problems, f"{what}: bom-refs unique and every reference resolves", "; ".join(problems[:10]))
    check(bom.get("specVersion") == "1.6" and re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", bom.get("serialNumber", "")),
          f"{what}: specVersion 1.6 and a urn:uuid serial number", str(bom.get("serialNumber")))
    # date-time: the FormatChecker checks it only when rfc3339-validator is installed; check here.
    times = [bom.get("metadata", {}).get("timestamp", "")]
    for c in bom.get("components", []):
        cp = c["cryptoProperties"].get("certificateProperties", {})
        times += [cp[k] for k in ("notValidBefore", "notValidAfter") if k in cp]
    bad = [t for t in times if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t)]
    check(not bad, f"{what}: {len(times)} times are RFC 3339 UTC", ", ".join(bad[:5]))


def occurrences(c: dict) -> list[dict]:
    return c.get("evidence", {}).get("occurrences", [])


def prop(c: dict, name: str) -> str | None:
    return next((p.get("value") for p in c.get("properties", []) if p["name"] == name), None)


def read_manifests(corpus: str) -> list[dict]:
    """Both generators' manifests: tree/ (text formats) and stores/tree/ (binary stores, archives);
    "path" is the location an occurrence names (path, then "!member" inside an archive)."""
    rows = []
    for sub, has_member in (("", False), ("stores", True)):
        tree = os.path.join(corpus, sub, "tree")
        with open(os.path.join(corpus, sub, "manifest.tsv"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                cols = line.rstrip("\n").split("\t")
                if has_member:
                    path = os.path.join(tree, cols[0]) + ("" if cols[1] == "-" else "!" + cols[1])
                    rows.append({"path": path, "kind": cols[2], "format": cols[3]})
                else:
                    rows.append({"path": os.path.join(tree, cols[0]), "kind": cols[1], "format": cols[2]})
    return rows


def check_families(bom: dict, corpus: str) -> None:
    """Every manifest line's file is a place of a component of its kind."""
    by_type = collections.defaultdict(set)  # asset kind -> locations
    for c in bom["components"]:
        cp = c["cryptoProperties"]
        kind = cp["assetType"]
        if kind == "related-crypto-material":
            kind = cp["relatedCryptoMaterialProperties"]["type"]
        for o in occurrences(c):
            by_type[kind].add(o["location"])
    want = {"certificate": {"certificate"}, "private_key": {"private-key", "secret-key"},
            "public_key": {"public-key"}, "keystore": {"private-key", "secret-key", "unknown", "certificate"}}
    missing = collections.defaultdict(list)
    seen = collections.Counter()
    for row in read_manifests(corpus):
        path = row["path"]
        kinds = want.get(row["kind"], set())
        seen[row["kind"]] += 1
        if not any(loc == path or loc.startswith(path + "!") for k in kinds for loc in by_type[k]):
            missing[row["kind"]].append(f"{os.path.relpath(path, corpus)} ({row['format']})")
    for kind, n in sorted(seen.items()):
        check(not missing[kind], f"scan: all {n} manifest {kind} files are occurrences of {kind} components",
              ", ".join(missing[kind][:8]))
    names = {c["name"]: c for c in bom["components"] if c["cryptoProperties"]["assetType"] == "algorithm"}
    for family in ("RSA-", "ECDSA-P-256", "Ed25519", "SHA256withRSA"):
        hits = [n for n in names if n.startswith(family)]
        check(bool(hits) and all(names[n]["cryptoProperties"]["algorithmProperties"]["nistQuantumSecurityLevel"] == 0
                                 for n in hits), f"scan: algorithm {family}* is there with NIST quantum level 0",
              str(sorted(names)))
    store_keys = [c for c in bom["components"] if prop(c, "keyward:store-format") in ("pkcs12", "jks")]
    check(len({prop(c, "keyward:store-format") for c in store_keys}) == 2,
          "scan: PKCS#12 and JKS key entries are key components with their store's facts", str(len(store_keys)))
    rsa_keys = [c for c in bom["components"] if c["name"].startswith("RSA-") and c["name"].endswith("private key")]
    check(bool(rsa_keys) and all(prop(c, "keyward:quantum-vulnerable") == "true" for c in rsa_keys),
          "scan: RSA private keys carry keyward:quantum-vulnerable=true", str(len(rsa_keys)))


def check_identities(bom: dict, findings: list[dict]) -> None:
    """A SPKI's private-key findings and store entries are exactly its component's occurrences."""
    expected = collections.Counter()
    for f in findings:
        if f["kind"] == "private_key" and f.get("key", {}).get("spki_sha256"):
            expected[f["key"]["spki_sha256"]] += 1
        for e in f.get("entries", []) if f["kind"] == "keystore" else []:
            spki = e.get("key", {}).get("spki_sha256") or e.get("certificate", {}).get("spki_sha256")
            if e.get("kind") == "private_key" and spki:
                expected[spki] += 1
    comps = {c["bom-ref"]: c for c in bom["components"]}
    wrong = []
    for spki, n in expected.items():
        c = comps.get(f"key:spki:{spki}") or comps.get(f"secret-key:spki:{spki}")
        got = len(occurrences(c)) if c else 0
        if got != n:
            wrong.append(f"{spki[:12]}: {n} places, {got} occurrences")
    check(bool(expected) and not wrong, f"scan: {len(expected)} key identities, one component each with every place",
          "; ".join(wrong[:8]))
    multi = [s for s, n in expected.items() if n > 1]
    check(bool(multi), "scan: the corpus has a key in more than one place (one component, several occurrences)")


def scan_part(args, validator, tmp: str) -> None:
    keyward = os.path.join(args.bin, "keyward")
    trees = [os.path.join(args.corpus, "tree"), os.path.join(args.corpus, "stores", "tree")]
    p = run([keyward, "scan", *trees, "--format", "cbom"], timeout=600)
    check(p.returncode in (0, 1) and p.stdout.startswith("{"), "keyward scan --format cbom writes a document",
          f"rc={p.returncode} {p.stderr[-300:]}")
    try:
        bom = json.loads(p.stdout)
    except ValueError as e:
        check(False, "the CBOM is JSON", str(e))
        return
    check_bom(validator, bom, "scan")
    pj = run([keyward, "scan", *trees, "--format", "json"], timeout=600)
    findings = json.loads(pj.stdout).get("findings", []) if pj.stdout.startswith("{") else []
    check(bool(findings), "keyward scan --format json of the same tree", pj.stderr[-300:])
    check_families(bom, args.corpus)
    check_identities(bom, findings)
    secrets = []
    for sub in ("", "stores"):
        with open(os.path.join(args.corpus, sub, "secrets.txt"), encoding="utf-8", errors="replace") as f:
            secrets += [l.strip() for l in f if len(l.strip()) >= 8]
    comments = {f.get("key", {}).get("comment", "") for f in findings} - {""}
    leaked = [s[:12] + "…" for s in secrets if s in p.stdout] + [c for c in comments if len(c) >= 6 and c in p.stdout]
    check(bool(secrets) and not leaked, f"scan: none of {len(secrets)} secrets and {len(comments)} key comments "
          "is in the CBOM", ", ".join(leaked[:5]))
    again = run([keyward, "scan", *trees, "--format", "cbom"], timeout=600)
    same = [c["bom-ref"] for c in bom["components"]] == [c["bom-ref"] for c in json.loads(again.stdout)["components"]]
    check(same, "scan: a second scan lists the same components in the same order")


def start_fleet(args, tmp: str, outputs: list[str]) -> dict | None:
    """A collector, a viewer token, two enrolled, approved agents whose trees share one key."""
    collector_bin, agent_bin = os.path.join(args.bin, "keyward-collector"), os.path.join(args.bin, "keyward-agent")
    port = fleet.free_port()
    cdir = os.path.join(tmp, "collector")
    p = run([collector_bin, "init", "--dir", cdir, "--listen", f"127.0.0.1:{port}", "--san", "127.0.0.1"])
    outputs.append(p.stderr)
    m = re.search(r"kwt_[A-Za-z0-9_-]{43}", p.stdout)
    if not check(p.returncode == 0 and m is not None, "fleet: collector init", p.stderr[-300:]):
        return None
    ca, config = os.path.join(cdir, "pki", "ca.pem"), os.path.join(cdir, "collector.yaml")
    collector = fleet.Collector(collector_bin, config, os.path.join(tmp, "collector.log"))
    f = {"collector": collector, "config": config, "port": port, "ca": ca}
    if not check(collector.start(port, ca), "fleet: collector serves /health over TLS"):
        return f
    admin = fleet.Api(port, ca, token=m.group(0))
    fleet.SECRETS.add(m.group(0))
    for role, name in (("analyst", "alice"), ("approver", "bob"), ("viewer", "vic")):
        st, body = admin.post("/api/v1/tokens", {"role": role, "name": name})
        if not check(st == 201 and "secret" in body, f"fleet: admin makes {name} a {role} token", str(st)):
            return f
        fleet.SECRETS.add(body["secret"])
        f[role] = fleet.Api(port, ca, token=body["secret"])
    shared = os.path.join(tmp, "material", "shared.pem")
    fleet.make_key(shared)
    f["roots"] = []
    for i in range(2):
        root = os.path.join(tmp, f"host{i}")
        fleet.make_tree(root, i, shared)
        f["roots"].append(root)
        st, body = admin.post("/api/v1/enrollment-tokens", {"ttl_seconds": 3600})
        fleet.SECRETS.add(body["secret"])
        sdir = os.path.join(tmp, f"agent{i}")
        acfg = os.path.join(sdir, "agent.yaml")
        p = run([agent_bin, "enroll", "--collector", f"https://127.0.0.1:{port}", "--ca", ca, "--state-dir", sdir,
                 "--root", root, "--config-out", acfg], env={**os.environ, "KEYWARD_ENROLL_TOKEN": body["secret"]})
        outputs.append(p.stdout + p.stderr)
        agent_id = fleet.agent_id_of(sdir)
        check(p.returncode == 0 and bool(agent_id), f"fleet: agent {i} enrolls", (p.stdout + p.stderr)[-300:])
        fleet.run_agent(agent_bin, acfg, outputs)  # held until approved; approval ingests it
        st, _ = admin.post(f"/api/v1/agents/{agent_id}/approve")
        check(st == 200, f"fleet: admin approves agent {i} (its held report is ingested)", str(st))
    return f


def check_fleet_bom(bom: dict, roots: list[str], what: str) -> None:
    shared = [c for c in bom.get("components", []) if c["bom-ref"].startswith("key:")
              and any(o["location"].endswith("/home/ci/.ssh/release.pem") for o in occurrences(c))]
    locs = sorted(o["location"] for c in shared for o in occurrences(c))
    want = sorted(os.path.join(r, "home", "ci", ".ssh", "release.pem") for r in roots)
    check(len(shared) == 1 and locs == want and all("host=" in o["additionalContext"] for o in occurrences(shared[0])),
          f"{what}: the key on two hosts is one component with two occurrences", str(locs))
    own = [c for c in bom.get("components", []) if c["bom-ref"].startswith("key:")
           and any("/srv/app/deploy-" in o["location"] for o in occurrences(c))]
    check(len(own) == 2 and all(prop(c, "keyward:quantum-vulnerable") == "true" for c in own),
          f"{what}: each host's own EC key is its own component, marked quantum-vulnerable", str(len(own)))
    certs = [c for c in bom.get("components", []) if c["cryptoProperties"]["assetType"] == "certificate"]
    check(len(certs) == 2, f"{what}: both hosts' certificates are certificate components", str(len(certs)))


def check_excepted(f: dict, bom: dict, validator) -> None:
    """An approved exception for host 0's own key: the key stays in the fleet CBOM, suppressed."""
    own = [c for c in bom.get("components", []) if c["bom-ref"].startswith("key:")
           and any(o["location"].endswith("/host0/srv/app/deploy-0.pem") for o in occurrences(c))]
    if not check(len(own) == 1, "fleet: host 0's own key is a component", str(len(own))):
        return
    identity = prop(own[0], "keyward:identity")
    st, exc = f["analyst"].post("/api/v1/exceptions", {"identity": identity, "reason": "lab key, retiring",
                                                      "expires_at": fleet.days_ahead(30)})
    exc_id = exc.get("id", "x") if isinstance(exc, dict) else "x"
    st2, _ = f["approver"].post(f"/api/v1/exceptions/{exc_id}/approve")
    check(st in (200, 201) and st2 == 200, "fleet: an analyst's exception for it is approved", f"{st} {st2}")
    st, after = f["viewer"].get("/api/v1/cbom")
    if not check(st == 200 and isinstance(after, dict), "fleet: GET /api/v1/cbom after the exception", str(st)):
        return
    check_bom(validator, after, "GET /api/v1/cbom with an excepted key")
    same = [c for c in after["components"] if c["bom-ref"] == own[0]["bom-ref"]]
    check(len(same) == 1 and prop(same[0], "keyward:suppressed") == "true"
          and "suppressed=allowlist" in occurrences(same[0])[0]["additionalContext"],
          "fleet: the excepted key is still inventory, marked keyward:suppressed=true", str(same)[:300])


def fleet_part(args, validator, tmp: str) -> None:
    outputs: list[str] = []
    f = start_fleet(args, tmp, outputs)
    try:
        if f is None or "viewer" not in f:
            return
        st, body = f["viewer"].get("/api/v1/cbom")
        check(st == 200 and isinstance(body, dict), "fleet: GET /api/v1/cbom answers a viewer with JSON", str(st))
        if isinstance(body, dict):
            check_bom(validator, body, "GET /api/v1/cbom")
            check_fleet_bom(body, f["roots"], "GET /api/v1/cbom")
        st, _ = fleet.Api(f["port"], f["ca"]).get("/api/v1/cbom")
        check(st == 401, "fleet: GET /api/v1/cbom without a token is refused", str(st))
        p = run([os.path.join(args.bin, "keyward-collector"), "report", "--config", f["config"], "--format", "cbom"])
        check(p.returncode == 0 and p.stdout.startswith("{"), "fleet: keyward-collector report --format cbom",
              p.stderr[-300:])
        if p.returncode == 0:
            bom = json.loads(p.stdout)
            check_bom(validator, bom, "report --format cbom")
            check_fleet_bom(bom, f["roots"], "report --format cbom")
            same = isinstance(body, dict) and [c["bom-ref"] for c in bom["components"]] == [
                c["bom-ref"] for c in body["components"]]
            check(same, "fleet: the API and the command line list the same components")
            leaked = [s[:12] for s in fleet.SECRETS if s in p.stdout or s in json.dumps(body)]
            check(not leaked, "fleet: no key body line or token is in either CBOM", ", ".join(leaked))
        if isinstance(body, dict):
            check_excepted(f, body, validator)
    finally:
        if f is not None:
            f["collector"].kill()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with keyward, keyward-collector, keyward-agent")
    ap.add_argument("--corpus", required=True, help="the generated corpus (tests/support/make_corpus.sh)")
    ap.add_argument("--schemas", required=True, help="@cyclonedx/cyclonedx-library/res/schema")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--skip-fleet", action="store_true", help="only the scan part")
    args = ap.parse_args()
    for b in ("keyward", "keyward-collector", "keyward-agent"):
        if not os.access(os.path.join(args.bin, b), os.X_OK):
            print(f"check_cbom: {b} is not built in {args.bin}", file=sys.stderr)
            return 2
    if (skip := npm_packages.missing(os.path.join(args.schemas, "bom-1.6.SNAPSHOT.schema.json"), "check_cbom")) is not None:
        return skip
    validator = make_validator(args.schemas)
    tmp = tempfile.mkdtemp(prefix="keyward-cbom-")
    try:
        broken = json.loads(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
            {"type": "cryptographic-asset", "name": "x", "cryptoProperties": {"assetType": "key"}}]}))
        check(bool(schema_errors(validator, broken)), "the validator rejects an assetType the schema does not have")
        scan_part(args, validator, tmp)
        if not args.skip_fleet:
            fleet_part(args, validator, tmp)
    finally:
        if args.keep:
            print(f"check_cbom: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"check_cbom: {fleet.PASSED} passed, {fleet.FAILED} failed")
    return 1 if fleet.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
