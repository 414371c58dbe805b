// SPDX-License-Identifier: Apache-2.0
// Private: evaluating a policy rule's match block against one finding.
#pragma once

#include <keyward/rules/policy_rule.hpp>
#include <keyward/scanner/finding.hpp>

#include <optional>
#include <string>
#include <vector>

namespace keyward::rules::detail {

// The facts a match block reads, gathered once per finding.
struct PolicyFacts {
  const scanner::Finding* finding = nullptr;
  std::vector<const scanner::CertFacts*> certs;  // own, store entries', paired
  std::vector<std::string> algorithms;           // key (or certified key) algorithms
  std::optional<std::uint32_t> bits;             // smallest known key size
  std::optional<bool> encrypted;                 // unset when no key facts
  bool trust_store = false;
  std::vector<std::string> factors;  // engine factor ids
};

PolicyFacts policy_facts(const scanner::Finding& f, std::vector<const scanner::CertFacts*> certs,
                         std::vector<std::string> factors);

bool policy_matches(const PolicyMatch& m, const PolicyFacts& facts);

}  // namespace keyward::rules::detail
