// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/allowlist.hpp>
#include <keyward/rules/rule_error.hpp>

#include <doctest/doctest.h>

#include <rules/support.hpp>
#include <support/temp_tree.hpp>

using keyward::rules::Allowlist;
using keyward::rules::apply_allowlist;
using keyward::rules::RuleError;
using keyward::scanner::ScanResult;
using namespace keyward::test;

namespace {

constexpr std::int64_t k20260601 = 1780272000;  // 2026-06-01T00:00:00Z
const std::string kSpki(64, 'a');
const std::string kOther(64, 'b');

ScanResult result() {
  ScanResult r;
  r.findings.push_back(key_finding("/repo/vagrant/insecure_key", false, 0600, kSpki));
  r.findings.push_back(key_finding("/repo/deploy/prod.pem", false, 0600, kSpki));
  r.findings.push_back(key_finding("/repo/deploy/other.pem", false, 0600, kOther));
  r.findings[0].relative_path = "vagrant/insecure_key";
  r.findings[1].relative_path = "deploy/prod.pem";
  r.findings[2].relative_path = "deploy/other.pem";
  return r;
}

RuleError error_of(const std::string& yaml) {
  try {
    Allowlist::parse(yaml, "allowlist.yaml");
  } catch (const RuleError& e) {
    return e;
  }
  FAIL("no RuleError");
  return RuleError("", 0, "", "");
}

}  // namespace

TEST_CASE("an allow entry suppresses the findings of its fingerprint within its path glob and says who approved it") {
  const auto list = Allowlist::parse(
      "schema: keyward.allowlist/v1\n"
      "allow:\n"
      "  - fingerprint: " +
          std::string(64, 'A') +
          "\n"
          "    path: \"vagrant/*\"\n"
          "    reason: Vagrant's published insecure key, local VMs only\n"
          "    approved_by: security@example.org\n"
          "    requested_by: dev@example.org\n"
          "    expires: 2026-12-31\n",
      "allowlist.yaml");
  REQUIRE(list.entries().size() == 1);
  CHECK(list.entries()[0].fingerprint == kSpki);  // normalised to lowercase
  CHECK(list.entries()[0].line == 3);
  auto r = result();
  const auto warnings = apply_allowlist(r, list, k20260601);
  CHECK(warnings.empty());
  REQUIRE(r.findings[0].suppressed);
  CHECK(r.findings[0].suppressed->kind == "allowlist");
  CHECK(r.findings[0].suppressed->justification ==
        "Vagrant's published insecure key, local VMs only (approved by security@example.org, expires 2026-12-31)");
  CHECK_FALSE(r.findings[1].suppressed);  // same key, outside the path glob
  CHECK_FALSE(r.findings[2].suppressed);
}

TEST_CASE("an allow entry without a path allows its key everywhere and matches certificate fingerprints") {
  auto r = result();
  r.findings.push_back(cert_finding("/repo/certs/a.crt", std::string(64, '9'), 0, 1, false, true));
  const auto list = Allowlist::parse(
      "allow:\n"
      "  - {fingerprint: " +
          kSpki +
          ", reason: r, approved_by: a, expires: 2027-01-01}\n"
          "  - {fingerprint: " +
          std::string(64, 'c') + ", reason: cert, approved_by: a, expires: 2027-01-01}\n",
      "allowlist.yaml");
  apply_allowlist(r, list, k20260601);
  CHECK(r.findings[0].suppressed);
  CHECK(r.findings[1].suppressed);
  CHECK_FALSE(r.findings[2].suppressed);
  CHECK(r.findings[3].suppressed);  // by its certificate SHA-256
}

TEST_CASE("an expired allow stops allowing and is reported as a warning") {
  const auto list = Allowlist::parse(
      "allow:\n"
      "  - fingerprint: " +
          kSpki +
          "\n"
          "    reason: temporary exception\n"
          "    approved_by: security@example.org\n"
          "    expires: 2026-05-31\n",
      "allowlist.yaml");
  auto r = result();
  const auto warnings = apply_allowlist(r, list, k20260601);
  CHECK_FALSE(r.findings[0].suppressed);
  CHECK_FALSE(r.findings[1].suppressed);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("allowlist.yaml:2") == 0);
  CHECK(warnings[0].find("expired on 2026-05-31") != std::string::npos);
  CHECK(warnings[0].find("2 findings") != std::string::npos);

  SUBCASE("the expiry day itself still allows") {
    auto r2 = result();
    CHECK(apply_allowlist(r2, list, k20260601 - 1).empty());
    CHECK(r2.findings[0].suppressed);
  }
}

TEST_CASE("an allow entry of kind false-positive suppresses as a false positive, reason and expiry still required") {
  const std::string entry = "allow:\n  - fingerprint: " + kSpki + "\n    approved_by: security@example.org\n";
  const auto list = Allowlist::parse(entry +
                                         "    kind: false-positive\n"
                                         "    reason: a fixture of our test suite, never deployed\n"
                                         "    expires: 2026-12-31\n",
                                     "allowlist.yaml");
  REQUIRE(list.entries().size() == 1);
  CHECK(list.entries()[0].kind == keyward::rules::AllowKind::false_positive);
  auto r = result();
  CHECK(apply_allowlist(r, list, k20260601).empty());
  REQUIRE(r.findings[0].suppressed);
  CHECK(r.findings[0].suppressed->kind == "false-positive");
  CHECK(r.findings[0].suppressed->justification.find("a fixture of our test suite") == 0);
  CHECK_FALSE(r.findings[2].suppressed);

  // accepted-risk, written or not, is the allow it always was.
  auto accepted = result();
  apply_allowlist(
      accepted, Allowlist::parse(entry + "    kind: accepted-risk\n    reason: r\n    expires: 2026-12-31\n", "a.yaml"),
      k20260601);
  CHECK(accepted.findings[0].suppressed->kind == "allowlist");

  CHECK(error_of(entry + "    kind: fp\n    reason: r\n    expires: 2026-12-31\n").code == "bad-value");
  CHECK(error_of(entry + "    kind: false-positive\n    expires: 2026-12-31\n").code == "missing-field");
  CHECK(error_of(entry + "    kind: false-positive\n    reason: r\n").code == "missing-field");
}

TEST_CASE("a finding already suppressed keeps its first suppression") {
  auto r = result();
  r.findings[0].suppressed = keyward::scanner::Suppression{"baseline", "in baseline b.json"};
  apply_allowlist(
      r,
      Allowlist::parse("allow:\n  - {fingerprint: " + kSpki + ", reason: r, approved_by: a, expires: 2030-01-01}\n",
                       "a.yaml"),
      k20260601);
  CHECK(r.findings[0].suppressed->kind == "baseline");
  CHECK(r.findings[1].suppressed->kind == "allowlist");
}

TEST_CASE("broken allowlists fail with file line and code") {
  SUBCASE("a required field is missing") {
    const auto e = error_of("allow:\n  - fingerprint: " + kSpki + "\n    reason: r\n    expires: 2030-01-01\n");
    CHECK(e.code == "missing-field");
    CHECK(e.line == 2);
    CHECK(e.message.find("approved_by") != std::string::npos);
    CHECK(std::string(e.what()).rfind("allowlist.yaml:2: missing-field: ", 0) == 0);
  }
  SUBCASE("the fingerprint is not SHA-256 hex") {
    const auto e = error_of("allow:\n  - {fingerprint: abc, reason: r, approved_by: a, expires: 2030-01-01}\n");
    CHECK(e.code == "bad-fingerprint");
  }
  SUBCASE("the date is not YYYY-MM-DD") {
    const auto e = error_of("allow:\n  - fingerprint: " + kSpki +
                            "\n    reason: r\n    approved_by: a\n    expires: 2030-02-30\n");
    CHECK(e.code == "bad-date");
    CHECK(e.line == 5);
  }
  SUBCASE("whoever requested an allow cannot approve it") {
    const auto e = error_of("allow:\n  - {fingerprint: " + kSpki +
                            ", reason: r, approved_by: me, requested_by: me, expires: 2030-01-01}\n");
    CHECK(e.code == "self-approved");
  }
  SUBCASE("an unknown field") {
    const auto e = error_of("allow:\n  - {fingerprint: " + kSpki +
                            ", reason: r, approved_by: a, expires: 2030-01-01, owner: x}\n");
    CHECK(e.code == "unknown-field");
  }
  SUBCASE("the file cannot be read") {
    try {
      Allowlist::load("/nonexistent/allowlist.yaml");
      FAIL("no error");
    } catch (const RuleError& e) {
      CHECK(e.code == "cannot-read");
      CHECK(e.file == "/nonexistent/allowlist.yaml");
    }
  }
}
