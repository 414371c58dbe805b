// SPDX-License-Identifier: Apache-2.0
// Helpers for the rules tests: hand-built findings (when facts suffice) and scans of small temp
// trees with keys generated in-process (tests/support/keygen.hpp).
#pragma once

#include <keyward/rules/engine.hpp>
#include <keyward/rules/rule_set.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/scanner/scan.hpp>

#include <algorithm>
#include <string>

namespace keyward::test {

// A private key finding with the facts the engine reads.
inline scanner::Finding key_finding(const std::string& path, bool encrypted, std::uint32_t mode = 0600,
                                    const std::string& spki = std::string(64, 'a')) {
  scanner::Finding f;
  f.id = "id-" + path;
  f.rule = encrypted ? "private-key/pkcs8-encrypted" : "private-key/pkcs8";
  f.kind = scanner::Kind::private_key;
  f.format = encrypted ? scanner::Format::pem_pkcs8_encrypted : scanner::Format::pem_pkcs8;
  f.location.path = path;
  f.location.line = 1;
  f.relative_path = path.front() == '/' ? path.substr(1) : path;
  f.file.mode = mode;
  f.file.owner = "alice";
  scanner::KeyFacts k;
  k.encrypted = encrypted;
  if (!encrypted) {
    k.algorithm = "rsa";
    k.bits = 3072;
    k.spki_sha256 = spki;
  }
  f.key = k;
  f.identity = encrypted ? "blob:" + std::string(64, 'e') : spki;
  return f;
}

// A certificate finding.
inline scanner::Finding cert_finding(const std::string& path, const std::string& spki, std::int64_t not_before,
                                     std::int64_t not_after, bool code_signing, bool self_signed) {
  scanner::Finding f;
  f.id = "cert-" + path;
  f.rule = "certificate/x509";
  f.kind = scanner::Kind::certificate;
  f.format = scanner::Format::pem_cert;
  f.location.path = path;
  f.relative_path = path.front() == '/' ? path.substr(1) : path;
  scanner::CertFacts c;
  c.subject = "CN=Example Signing,O=Example";
  c.issuer = self_signed ? c.subject : "CN=Example Code Signing CA,O=Example CA";
  c.self_signed = self_signed;
  c.not_before = not_before;
  c.not_after = not_after;
  if (code_signing) c.extended_key_usage = {"codeSigning"};
  c.signature_algorithm = "sha256WithRSAEncryption";
  c.key_algorithm = "rsa";
  c.key_bits = 3072;
  c.spki_sha256 = spki;
  c.sha256 = std::string(64, 'c');
  f.certificate = c;
  f.identity = c.sha256;
  return f;
}

// Links two findings both ways, as the scanner's pairing does.
inline void pair(scanner::Finding& a, scanner::Finding& b) {
  a.paired_with.push_back(b.id);
  b.paired_with.push_back(a.id);
}

// A context whose paths are absolute as written, at a fixed time, without this machine's
// package database (tests of package-owned set package_db_dir themselves).
inline rules::ScoreContext context(std::int64_t now = 1790000000) {  // 2026-09-21
  rules::ScoreContext ctx;
  ctx.now = now;
  ctx.package_db_dir.clear();
  return ctx;
}

inline bool has_factor(const scanner::Finding& f, const std::string& id) {
  return f.risk && std::any_of(f.risk->factors.begin(), f.risk->factors.end(),
                               [&](const scanner::RiskFactor& x) { return x.id == id; });
}

inline const scanner::RiskFactor* factor(const scanner::Finding& f, const std::string& id) {
  if (!f.risk) return nullptr;
  for (const auto& x : f.risk->factors)
    if (x.id == id) return &x;
  return nullptr;
}

// The first finding whose path ends with `suffix` and whose rule starts with `rule_prefix`.
inline const scanner::Finding* find(const scanner::ScanResult& r, const std::string& suffix,
                                    const std::string& rule_prefix = "") {
  for (const auto& f : r.findings)
    if (f.location.path.size() >= suffix.size() &&
        f.location.path.compare(f.location.path.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        f.rule.rfind(rule_prefix, 0) == 0)
      return &f;
  return nullptr;
}

// Scans a directory with one thread and no common passwords beyond the built-in list.
inline scanner::ScanResult scan_tree(const std::string& root) {
  scanner::ScanOptions o;
  o.roots = {root};
  o.threads = 1;
  o.passwords = {"changeit"};
  return scanner::scan(o);
}

}  // namespace keyward::test
