// SPDX-License-Identifier: Apache-2.0
#include "report_rows.hpp"

#include <keyward/common/hex.hpp>
#include <keyward/common/utf8.hpp>
#include <keyward/reporters/crypto_algorithms.hpp>
#include <keyward/rules/rank.hpp>

#include <algorithm>

namespace keyward::reporters::detail {

using scanner::Finding;

std::string utf8_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t n = common::utf8_sequence(bytes, i);
    if (n != 0) {
      out.append(bytes.substr(i, n));
      i += n;
      continue;
    }
    out += "\\x" + common::to_hex(bytes.substr(i++, 1));
  }
  return out;
}

std::vector<const Finding*> ranked(const scanner::ScanResult& result) {
  std::vector<const Finding*> out;
  out.reserve(result.findings.size());
  for (const auto& f : result.findings) out.push_back(&f);
  std::sort(out.begin(), out.end(), [](const Finding* a, const Finding* b) { return rules::ranks_before(*a, *b); });
  return out;
}

std::string finding_host(const Finding& f, const scanner::ScanResult& result) {
  return f.location.host.empty() ? result.host.hostname : f.location.host;
}

const scanner::KeyFacts* finding_key(const Finding& f) {
  if (f.key) return &*f.key;
  for (const auto& e : f.entries)
    if (e.kind == scanner::Kind::private_key && e.key) return &*e.key;
  return nullptr;
}

const scanner::CertFacts* finding_certificate(const Finding& f) {
  if (f.certificate) return &*f.certificate;
  for (const auto& e : f.entries)
    if (e.certificate) return &*e.certificate;
  return nullptr;
}

KeyAlgorithm finding_algorithm(const Finding& f) {
  KeyAlgorithm a;
  if (const auto* k = finding_key(f); k != nullptr && !k->algorithm.empty()) {
    a.name = k->algorithm;
    a.bits = k->bits;
    a.curve = k->curve;
  } else if (const auto* c = finding_certificate(f); c != nullptr && !c->key_algorithm.empty()) {
    a.name = c->key_algorithm;
    a.bits = c->key_bits;
    a.curve = c->key_curve;
  }
  if (const auto info = key_algorithm(f)) {
    a.name = info->name;
    a.quantum_vulnerable = info->quantum_vulnerable;
  }
  return a;
}

std::string identity_spki(const Finding& f) {
  const std::string id = f.key_identity();
  return id.starts_with("spki:") ? id.substr(5) : std::string();
}

PlanIndex::PlanIndex(const migrate::Plan* plan) {
  if (plan == nullptr) return;
  for (const auto& item : plan->items) items_.emplace(item.identity, &item);
}

const migrate::PlanItem* PlanIndex::find(const Finding& f) const {
  if (items_.empty()) return nullptr;
  const auto it = items_.find(f.key_identity());
  return it == items_.end() ? nullptr : it->second;
}

const migrate::Step* migrate_step(const migrate::PlanItem& item) {
  for (const auto& s : item.steps)
    if (s.kind == migrate::StepKind::migrate) return &s;
  return nullptr;
}

}  // namespace keyward::reporters::detail
