// SPDX-License-Identifier: Apache-2.0
// The CI gate's verdict (rules/gate.hpp): every key by default, the severity threshold with
// --fail-on, never a suppressed finding.
#include <keyward/rules/gate.hpp>

#include <doctest/doctest.h>

using namespace keyward::rules;
using namespace keyward::scanner;

namespace {

Finding finding(Kind kind, const std::string& severity) {
  Finding f;
  f.kind = kind;
  f.risk.emplace();
  f.risk->severity = severity;
  return f;
}

Finding store(bool truststore, bool key_entry) {
  Finding f = finding(Kind::keystore, "info");
  f.store.emplace();
  f.store->truststore = truststore;
  StoreEntry e;
  e.kind = key_entry ? Kind::private_key : Kind::certificate;
  f.entries.push_back(e);
  return f;
}

}  // namespace

TEST_CASE("by default every key and key store that may hold one fails, whatever its severity") {
  const GatePolicy by_default;
  for (const char* sev : {"info", "low", "medium", "high", "critical"}) {
    CAPTURE(sev);
    CHECK(fails_gate(finding(Kind::private_key, sev), by_default));
    CHECK_FALSE(fails_gate(finding(Kind::certificate, sev), by_default));
    CHECK_FALSE(fails_gate(finding(Kind::public_key, sev), by_default));
  }
  CHECK(fails_gate(store(false, true), by_default));        // a store with a key entry
  CHECK(fails_gate(store(false, false), by_default));       // not known to hold only certificates
  CHECK_FALSE(fails_gate(store(true, false), by_default));  // a trust store: certificates only
  Finding allowed = finding(Kind::private_key, "critical");
  allowed.suppressed = Suppression{"baseline", "in baseline"};
  CHECK_FALSE(fails_gate(allowed, by_default));
  CHECK(describe_gate(by_default) == "any private key or key store");
}

TEST_CASE("--fail-on replaces the key rule by the severity threshold, for every kind") {
  GatePolicy high;
  high.fail_on = Severity::high;
  CHECK_FALSE(fails_gate(finding(Kind::private_key, "medium"), high));  // relaxed
  CHECK(fails_gate(finding(Kind::private_key, "high"), high));
  CHECK(fails_gate(finding(Kind::certificate, "critical"), high));  // and wider: any kind
  GatePolicy info;
  info.fail_on = Severity::info;
  CHECK(fails_gate(finding(Kind::public_key, "info"), info));
  Finding allowed = finding(Kind::private_key, "critical");
  allowed.suppressed = Suppression{"inline", "keyward:allow"};
  CHECK_FALSE(fails_gate(allowed, info));
  CHECK(describe_gate(high) == "at or above high");
}
