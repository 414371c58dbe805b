// SPDX-License-Identifier: Apache-2.0
// DetectionRule: the documentation of one rule id a scanner detector emits (detection stays in
// code; rules/builtin/detections.yaml describes it): title, description, default severity,
// remediation, references and examples.
// `severity` is the rule's documented default (the band a typical finding of the rule gets, and
// SARIF's defaultConfiguration level); each finding's score and band still come from its factors.
// Used by: RuleSet, the engine (remediation), reporters (SARIF rule metadata), `keyward rules list`.
#pragma once

#include <keyward/rules/example.hpp>
#include <keyward/rules/severity.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace keyward::rules {

// One detection rule's documentation.
struct DetectionRule {
  std::string id;  // e.g. "private-key/pkcs8" (scanner's Finding::rule)
  std::string title;
  std::string description;
  Severity severity = Severity::info;  // documented default band
  std::string remediation;
  std::vector<std::string> references;  // e.g. "CWE-321", "CWE-798", "MITRE ATT&CK T1552.004"
  std::vector<Example> examples;        // positive and negative
  std::string file;                     // where it was (last) defined
  std::uint64_t line = 0;
};

}  // namespace keyward::rules
