// SPDX-License-Identifier: Apache-2.0
// PolicyRule: a team's rule over finding facts (rules/builtin/policy.yaml and --rules DIR): a
// match block and actions that raise or lower the severity, add factors and remediation.
// Every condition of a match must hold; a list inside one condition means "any of".
// Used by: RuleSet (loads), the engine (applies, in load order, after the factors).
#pragma once

#include <keyward/rules/example.hpp>
#include <keyward/rules/severity.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace keyward::rules {

// What a policy rule matches. Empty lists and unset optionals are "any".
struct PolicyMatch {
  std::vector<std::string> kind;       // private_key | certificate | keystore | public_key
  std::vector<std::string> format;     // e.g. pem-pkcs8, pkcs12
  std::vector<std::string> rule;       // rule ids or globs ("private-key/*")
  std::vector<std::string> path;       // globs on the root-relative path ('*' crosses '/'; no '/': the name)
  std::vector<std::string> algorithm;  // key algorithm (rsa, ec, ed25519, dsa, ...)
  std::optional<std::uint32_t> bits_below;
  std::optional<std::uint32_t> bits_at_least;
  std::vector<std::string> eku;      // its certificate (own, store entry or paired) has one of these EKUs
  std::vector<std::string> issuer;   // that certificate's issuer contains one of these substrings
  std::optional<bool> encrypted;     // the key (all key entries of a store) is encrypted
  std::optional<bool> trust_store;   // trust-store certificate or a store without private keys
  std::optional<bool> store_opened;  // a password opened the store
  std::vector<std::string> factor;   // the engine listed one of these factor ids
};

// One policy rule.
struct PolicyRule {
  std::string id;  // kebab-case, conventionally "policy/<name>"
  std::string title;
  std::string description;
  bool enabled = true;
  PolicyMatch match;
  std::optional<Severity> severity_at_least;
  std::optional<Severity> severity_at_most;
  std::vector<std::string> add_factors;  // factor ids from the factor table
  std::string remediation;               // appended to the rule's remediation
  std::vector<Example> examples;
  std::string file;
  std::uint64_t line = 0;
};

}  // namespace keyward::rules
