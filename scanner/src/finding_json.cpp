// SPDX-License-Identifier: Apache-2.0
#include <keyward/scanner/finding_json.hpp>

#include "encoding.hpp"

#include <ctime>

namespace keyward::scanner {
namespace {

using nlohmann::json;

// A string field that may hold arbitrary bytes: as is when valid UTF-8, else replaced and
// kept exactly in <name>_b64.
void put_bytes(json& j, const char* name, const std::string& value) {
  if (detail::loose_utf8(value)) {
    j[name] = value;
    return;
  }
  std::string lossy;
  for (unsigned char c : value) lossy += c < 0x80 ? static_cast<char>(c) : '?';
  j[name] = lossy;
  j[std::string(name) + "_b64"] = detail::base64_encode(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(value.data()), value.size()));
}

std::string mode_string(std::uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

json protection_json(const Protection& pr) {
  json p = json::object();
  if (!pr.cipher.empty()) p["cipher"] = pr.cipher;
  if (!pr.kdf.empty()) p["kdf"] = pr.kdf;
  if (pr.kdf_iterations) p["kdf_iterations"] = *pr.kdf_iterations;
  return p;
}

json key_json(const KeyFacts& k) {
  json j = json::object();
  if (!k.algorithm.empty()) j["algorithm"] = k.algorithm;
  if (k.bits) j["bits"] = *k.bits;
  if (!k.curve.empty()) j["curve"] = k.curve;
  j["encrypted"] = k.encrypted;
  if (k.protection) j["protection"] = protection_json(*k.protection);
  if (k.weak_password) j["weak_password"] = true;
  if (!k.password_exposed_in.empty()) j["password_exposed_in"] = k.password_exposed_in;
  if (!k.spki_sha256.empty()) j["spki_sha256"] = k.spki_sha256;
  if (!k.ssh_fingerprint.empty()) j["ssh_fingerprint"] = k.ssh_fingerprint;
  if (!k.pgp_fingerprint.empty()) j["pgp_fingerprint"] = k.pgp_fingerprint;
  if (!k.comment.empty()) put_bytes(j, "comment", k.comment);
  return j;
}

json cert_json(const CertFacts& c) {
  json j = json::object();
  put_bytes(j, "subject", c.subject);
  put_bytes(j, "issuer", c.issuer);
  j["serial"] = c.serial;
  j["not_before"] = rfc3339(c.not_before);
  j["not_after"] = rfc3339(c.not_after);
  j["self_signed"] = c.self_signed;
  j["is_ca"] = c.is_ca;
  j["key_usage"] = c.key_usage;
  j["extended_key_usage"] = c.extended_key_usage;
  if (!c.signature_algorithm.empty()) j["signature_algorithm"] = c.signature_algorithm;
  j["sha256"] = c.sha256;
  if (!c.spki_sha256.empty()) j["spki_sha256"] = c.spki_sha256;
  if (!c.key_algorithm.empty()) j["key_algorithm"] = c.key_algorithm;
  if (c.key_bits) j["key_bits"] = *c.key_bits;
  if (!c.key_curve.empty()) j["key_curve"] = c.key_curve;
  j["trust_store"] = c.trust_store;
  return j;
}

}  // namespace

std::string rfc3339(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json to_json(const Finding& f) {
  json j = json::object();
  j["id"] = f.id;
  j["rule"] = f.rule;
  j["kind"] = std::string(to_string(f.kind));
  j["format"] = std::string(to_string(f.format));
  if (!f.encoding.empty()) j["encoding"] = f.encoding;
  json loc = json::object();
  put_bytes(loc, "path", f.location.path);
  if (!f.location.host.empty()) loc["host"] = f.location.host;
  if (!f.location.member.empty()) put_bytes(loc, "member", f.location.member);
  if (f.location.line != 0) loc["line"] = f.location.line;
  loc["offset"] = f.location.offset;
  j["location"] = loc;
  json file = json::object();
  file["mode"] = mode_string(f.file.mode);
  file["uid"] = f.file.uid;
  file["gid"] = f.file.gid;
  if (!f.file.owner.empty()) file["owner"] = f.file.owner;
  file["size"] = f.file.size;
  file["mtime"] = rfc3339(f.file.mtime);
  j["file"] = file;
  if (f.key) j["key"] = key_json(*f.key);
  if (f.certificate) j["certificate"] = cert_json(*f.certificate);
  if (f.store) {
    const StoreFacts& s = *f.store;
    json sj = json::object();
    sj["opened"] = s.opened;
    if (s.certificates != 0) sj["certificates"] = s.certificates;
    if (s.weak_password) sj["weak_password"] = true;
    if (!s.password_exposed_in.empty()) put_bytes(sj, "password_exposed_in", s.password_exposed_in);
    if (!s.mac.empty()) sj["mac"] = s.mac;
    if (s.mac_iterations) sj["mac_iterations"] = *s.mac_iterations;
    if (!s.encryption.empty()) {
      json enc = json::array();
      for (const auto& p : s.encryption) enc.push_back(protection_json(p));
      sj["encryption"] = enc;
    }
    sj["weaknesses"] = s.weaknesses;
    if (!s.contents.empty()) sj["contents"] = s.contents;
    sj["truststore"] = s.truststore;
    j["store"] = sj;
  }
  if (!f.entries.empty()) {
    json entries = json::array();
    for (const auto& e : f.entries) {
      json ej = json::object();
      ej["kind"] = std::string(to_string(e.kind));
      if (!e.alias.empty()) put_bytes(ej, "alias", e.alias);
      if (e.key) ej["key"] = key_json(*e.key);
      if (e.certificate) ej["certificate"] = cert_json(*e.certificate);
      if (e.chain_length != 0) ej["chain_length"] = e.chain_length;
      if (e.created != 0) ej["created"] = rfc3339(e.created);
      entries.push_back(ej);
    }
    j["entries"] = entries;
  }
  if (!f.paired_with.empty()) j["paired_with"] = f.paired_with;
  if (f.git) j["git"] = {{"commit", f.git->commit}, {"author_date", rfc3339(f.git->author_date)}};
  if (f.risk) {
    json factors = json::array();
    for (const auto& x : f.risk->factors) factors.push_back({{"id", x.id}, {"points", x.points}, {"why", x.why}});
    json r = {{"score", f.risk->score}, {"raw", f.risk->raw}, {"severity", f.risk->severity}, {"factors", factors}};
    if (!f.risk->remediation.empty()) r["remediation"] = f.risk->remediation;
    j["risk"] = r;
  }
  if (f.suppressed) j["suppressed"] = {{"kind", f.suppressed->kind}, {"justification", f.suppressed->justification}};
  if (f.trailing_bytes != 0) j["trailing_bytes"] = f.trailing_bytes;
  return j;
}

json to_json(const ScanResult& r, bool with_findings) {
  json j = json::object();
  j["schema"] = kFindingsSchema;
  j["tool"] = {{"name", "keyward"}, {"version", r.tool_version}};
  j["host"] = {{"hostname", r.host.hostname}, {"os", r.host.os}};
  json scan = json::object();
  scan["id"] = r.scan_id;
  scan["started_at"] = rfc3339(r.started_at);
  scan["finished_at"] = rfc3339(r.finished_at);
  json roots = json::array();
  for (const auto& root : r.roots) {
    json rj = json::object();
    put_bytes(rj, "path", root);  // a non-UTF-8 root is written lossily here
    roots.push_back(rj["path"]);
  }
  scan["roots"] = roots;
  scan["complete"] = r.complete;
  json stats = json::object();
  stats["files_seen"] = r.stats.files_seen;
  stats["files_scanned"] = r.stats.files_scanned;
  if (r.stats.files_cached != 0) stats["files_cached"] = r.stats.files_cached;
  stats["bytes_scanned"] = r.stats.bytes_scanned;
  stats["dirs_seen"] = r.stats.dirs_seen;
  if (r.stats.dirs_cached != 0) stats["dirs_cached"] = r.stats.dirs_cached;
  stats["skipped"] = json(r.stats.skipped);
  stats["rejected"] = json(r.stats.rejected);
  stats["errors"] = r.stats.errors;
  stats["trust_store_certificates"] = r.stats.trust_store_certificates;
  stats["archives"] = r.stats.archives;
  stats["archive_members"] = r.stats.archive_members;
  scan["stats"] = stats;
  json errors = json::array();
  for (const auto& e : r.errors) {
    json ej = json::object();
    put_bytes(ej, "path", e.path);
    ej["error"] = e.what;
    errors.push_back(ej);
  }
  scan["errors"] = errors;
  j["scan"] = scan;
  if (with_findings) {
    json findings = json::array();
    for (const auto& f : r.findings) findings.push_back(to_json(f));
    j["findings"] = findings;
  }
  return j;
}

}  // namespace keyward::scanner
