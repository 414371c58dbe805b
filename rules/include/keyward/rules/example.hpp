// SPDX-License-Identifier: Apache-2.0
// Example: a positive or negative example of a rule, written as a generator spec (never key
// text): what to generate, where and with which file mode, and what the scan must then report.
// `keyward rules test` (run_rule_examples in rule_test.hpp) builds each one in a temporary tree,
// scans and scores it, and checks the expectation.
// Used by: RuleSet (parses them), rule_test.
#pragma once

#include <keyward/rules/severity.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace keyward::rules {

// The certificate an example generates with its key (a file next to the key, or inside the
// store), or the certificate itself for certificate formats.
struct ExampleCertificate {
  std::vector<std::string> eku;    // extendedKeyUsage short names, e.g. codeSigning, serverAuth
  bool ca_issued = true;           // issued by a generated CA; false: self-signed
  bool is_ca = false;              // a CA certificate (basicConstraints CA:TRUE)
  std::string validity = "valid";  // valid | expired | expiring (within 30 days)
  std::string not_before;          // YYYY-MM-DD; empty: yesterday
  std::string path;                // where a separate certificate file goes; empty: key path + ".crt"
};

// What the scan of an example must show.
struct ExampleExpect {
  std::string rule;                           // a finding with this rule id (default: the rule's own id)
  std::optional<Severity> severity_at_least;  // that finding's severity is at least this
  std::optional<Severity> severity_at_most;
  std::vector<std::string> factors;         // factor ids it must list
  std::vector<std::string> absent_factors;  // factor ids it must not list
};

// One example.
struct Example {
  bool positive = true;          // positive: the rule fires; negative: it does not
  std::string generate;          // "<algorithm> <format>", e.g. "rsa-2048 pem-pkcs8"
  std::string path;              // root-relative path of the generated file; empty: by format
  std::uint32_t mode = 0600;     // file mode
  std::string password;          // for encrypted formats and stores
  bool nearby_password = false;  // also write the password into keystore.properties beside it
  std::string owner;             // patched into the finding after the scan (tests cannot chown)
  std::optional<ExampleCertificate> certificate;
  ExampleExpect expect;
  std::string file;  // where the example is written
  std::uint64_t line = 0;
};

}  // namespace keyward::rules
