// SPDX-License-Identifier: Apache-2.0
#include "policy_match.hpp"

#include "glob.hpp"

#include <algorithm>

namespace keyward::rules::detail {

using scanner::Kind;

PolicyFacts policy_facts(const scanner::Finding& f, std::vector<const scanner::CertFacts*> certs,
                         std::vector<std::string> factors) {
  PolicyFacts p;
  p.finding = &f;
  p.certs = std::move(certs);
  p.factors = std::move(factors);
  auto add_key = [&](const std::string& alg, std::optional<std::uint32_t> bits) {
    if (!alg.empty() && std::find(p.algorithms.begin(), p.algorithms.end(), alg) == p.algorithms.end())
      p.algorithms.push_back(alg);
    if (bits && (!p.bits || *bits < *p.bits)) p.bits = bits;
  };
  if (f.key) add_key(f.key->algorithm, f.key->bits);
  if (f.certificate) add_key(f.certificate->key_algorithm, f.certificate->key_bits);
  bool any_key = false, all_encrypted = true;
  if (f.kind == Kind::private_key && f.key) {
    any_key = true;
    all_encrypted = f.key->encrypted;
  }
  for (const auto& e : f.entries) {
    if (e.kind != Kind::private_key) continue;
    if (e.key) {
      add_key(e.key->algorithm, e.key->bits);
      any_key = true;
      all_encrypted = all_encrypted && e.key->encrypted;
    } else if (e.certificate) {
      add_key(e.certificate->key_algorithm, e.certificate->key_bits);
    }
  }
  if (any_key) p.encrypted = all_encrypted;
  p.trust_store = (f.certificate && f.certificate->trust_store) || (f.store && f.store->truststore);
  return p;
}

namespace {

bool any_of(const std::vector<std::string>& wanted, const std::string& have) {
  return std::find(wanted.begin(), wanted.end(), have) != wanted.end();
}

}  // namespace

bool policy_matches(const PolicyMatch& m, const PolicyFacts& p) {
  const scanner::Finding& f = *p.finding;
  if (!m.kind.empty() && !any_of(m.kind, std::string(scanner::to_string(f.kind)))) return false;
  if (!m.format.empty() && !any_of(m.format, std::string(scanner::to_string(f.format)))) return false;
  if (!m.rule.empty() &&
      std::none_of(m.rule.begin(), m.rule.end(), [&](const std::string& g) { return glob_match(g, f.rule); }))
    return false;
  if (!m.path.empty()) {
    const std::string& rel = f.relative_path.empty() ? f.location.path : f.relative_path;
    if (std::none_of(m.path.begin(), m.path.end(),
                     [&](const std::string& g) { return path_glob_match(g, rel, f.location.member); }))
      return false;
  }
  if (!m.algorithm.empty() && std::none_of(p.algorithms.begin(), p.algorithms.end(),
                                           [&](const std::string& a) { return any_of(m.algorithm, a); }))
    return false;
  if (m.bits_below && !(p.bits && *p.bits < *m.bits_below)) return false;
  if (m.bits_at_least && !(p.bits && *p.bits >= *m.bits_at_least)) return false;
  if (!m.eku.empty() && std::none_of(p.certs.begin(), p.certs.end(), [&](const scanner::CertFacts* c) {
        return std::any_of(c->extended_key_usage.begin(), c->extended_key_usage.end(),
                           [&](const std::string& e) { return any_of(m.eku, e); });
      }))
    return false;
  if (!m.issuer.empty() && std::none_of(p.certs.begin(), p.certs.end(), [&](const scanner::CertFacts* c) {
        return std::any_of(m.issuer.begin(), m.issuer.end(),
                           [&](const std::string& s) { return c->issuer.find(s) != std::string::npos; });
      }))
    return false;
  if (m.encrypted && !(p.encrypted && *p.encrypted == *m.encrypted)) return false;
  if (m.trust_store && p.trust_store != *m.trust_store) return false;
  if (m.store_opened && !(f.store && f.store->opened == *m.store_opened)) return false;
  if (!m.factor.empty() &&
      std::none_of(p.factors.begin(), p.factors.end(), [&](const std::string& id) { return any_of(m.factor, id); }))
    return false;
  return true;
}

}  // namespace keyward::rules::detail
