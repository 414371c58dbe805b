// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/gate.hpp>

namespace keyward::rules {

bool holds_key(const scanner::Finding& f) noexcept {
  if (f.holds_private_key()) return true;
  return f.kind == scanner::Kind::keystore && !(f.store && f.store->truststore);
}

bool fails_gate(const scanner::Finding& f, const GatePolicy& policy) noexcept {
  if (f.suppressed) return false;
  if (!policy.fail_on) return holds_key(f);
  if (!f.risk) return false;
  const auto sev = parse_severity(f.risk->severity);
  return sev && *sev >= *policy.fail_on;
}

std::string describe_gate(const GatePolicy& policy) {
  if (!policy.fail_on) return "any private key or key store";
  return "at or above " + std::string(to_string(*policy.fail_on));
}

}  // namespace keyward::rules
