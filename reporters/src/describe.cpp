// SPDX-License-Identifier: Apache-2.0
#include "describe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace keyward::reporters::detail {
namespace {

using scanner::Finding;
using scanner::Kind;

constexpr std::array<std::string_view, 5> kSeverities = {"info", "low", "medium", "high", "critical"};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "RSA 3072", "EC P-256", "ED25519"; empty when the type is hidden (encrypted without password).
std::string key_type(const scanner::KeyFacts& k) {
  if (k.algorithm.empty()) return {};
  std::string s = upper(k.algorithm);
  if (!k.curve.empty()) s += " " + k.curve;
  else if (k.bits && k.algorithm.find("ed") == std::string::npos) s += fmt::format(" {}", *k.bits);
  return s;
}

std::string key_phrase(const Finding& f) {
  if (!f.key) return "Private key";
  const auto type = key_type(*f.key);
  std::string s = f.key->encrypted ? "Encrypted " : "Unencrypted ";
  s += type.empty() ? "private key of a type hidden until decrypted" : type + " private key";
  if (f.key->weak_password) s += ", opened by a common or empty password,";
  else if (!f.key->password_exposed_in.empty())
    s += ", opened by a password found in " + f.key->password_exposed_in + ",";
  return s;
}

std::string certificate_phrase(const Finding& f) {
  if (!f.certificate) return "Certificate";
  const auto& c = *f.certificate;
  std::string s;
  if (c.trust_store) s = "Trust-store certificate";
  else if (c.code_signing()) s = "Code-signing certificate";
  else if (c.is_ca) s = "CA certificate";
  else s = "Certificate";
  if (!c.subject.empty()) s += " for " + c.subject;
  return s;
}

std::string store_phrase(const Finding& f) {
  std::string s = upper(std::string(scanner::to_string(f.format))) + " key store";
  if (f.store) {
    const auto& st = *f.store;
    if (st.opened) {
      if (!st.password_exposed_in.empty()) s += " opened by a password found in " + st.password_exposed_in;
      else if (st.weak_password) s += " opened by a common or empty password";
      else s += " (opened)";
    } else {
      s += " (locked)";
    }
    // A key entry's certificate chain counts: a JKS key with its chain is not "0 certificates";
    // a JCEKS secret (symmetric) key is a secret key, not a private key (issue 13).
    const auto n = f.store_counts();
    std::vector<std::string> held;
    if (n.private_keys != 0 || (st.opened && n.secret_keys == 0))
      held.push_back(counted(n.private_keys, "private key"));
    if (n.secret_keys != 0) held.push_back(counted(n.secret_keys, "secret key"));
    if (n.certificates != 0) held.push_back(counted(n.certificates, "certificate"));
    for (std::size_t i = 0; i < held.size(); ++i)
      s += (i == 0 ? " holding " : i + 1 == held.size() ? " and " : ", ") + held[i];
  }
  return s;
}

std::string public_key_phrase(const Finding& f) {
  const auto type = f.key ? key_type(*f.key) : std::string();
  return type.empty() ? "Public key" : type + " public key";
}

}  // namespace

std::string counted(std::size_t n, std::string_view noun) { return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"); }

std::optional<int> severity_rank(std::string_view severity) noexcept {
  for (std::size_t i = 0; i < kSeverities.size(); ++i)
    if (kSeverities[i] == severity) return static_cast<int>(i);
  return std::nullopt;
}

std::string_view fallback_severity(std::string_view rule) noexcept {
  if (rule.starts_with("private-key/")) return "high";
  if (rule.starts_with("keystore/")) return "medium";
  return "info";
}

std::string finding_severity(const Finding& f, std::string_view rule_default) {
  if (f.risk && severity_rank(f.risk->severity)) return f.risk->severity;
  if (severity_rank(rule_default)) return std::string(rule_default);
  return std::string(fallback_severity(rule_id(f)));
}

std::string rule_id(const Finding& f) {
  if (!f.rule.empty()) return f.rule;
  std::string_view family;
  switch (f.kind) {
    case Kind::private_key:
      family = "private-key";
      break;
    case Kind::certificate:
      family = "certificate";
      break;
    case Kind::keystore:
      family = "keystore";
      break;
    case Kind::public_key:
      family = "public-key";
      break;
  }
  return fmt::format("{}/{}", family, scanner::to_string(f.format));
}

std::string display_path(const Finding& f) { return f.relative_path.empty() ? f.location.path : f.relative_path; }

std::string describe(const Finding& f, std::string_view path) {
  std::string s;
  switch (f.kind) {
    case Kind::private_key:
      s = key_phrase(f);
      break;
    case Kind::certificate:
      s = certificate_phrase(f);
      break;
    case Kind::keystore:
      s = store_phrase(f);
      break;
    case Kind::public_key:
      s = public_key_phrase(f);
      break;
  }
  s += fmt::format(" ({}) in {}", scanner::to_string(f.format), path);
  if (!f.location.member.empty()) s += " (archive member " + f.location.member + ")";
  if (f.location.line != 0) s += fmt::format(" at line {}", f.location.line);
  if (f.git && !f.git->commit.empty()) s += " of commit " + f.git->commit;
  if (f.risk) {
    s += fmt::format("; risk {}/100 ({})", f.risk->score, f.risk->severity);
    std::vector<const scanner::RiskFactor*> top;
    for (const auto& r : f.risk->factors)
      if (r.points > 0) top.push_back(&r);
    std::stable_sort(top.begin(), top.end(), [](auto* a, auto* b) { return a->points > b->points; });
    if (top.size() > 3) top.resize(3);
    for (std::size_t i = 0; i < top.size(); ++i)
      s += fmt::format("{}{} (+{})", i == 0 ? ", top factors: " : ", ", top[i]->id, top[i]->points);
  } else {
    s += "; not scored";
  }
  s += ".";
  return s;
}

}  // namespace keyward::reporters::detail
