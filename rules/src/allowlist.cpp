// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/allowlist.hpp>

#include <keyward/rules/rule_error.hpp>

#include "glob.hpp"
#include "yaml_reader.hpp"

#include <algorithm>

namespace keyward::rules {

using detail::find;

namespace {

constexpr std::string_view kAcceptedRisk = "accepted-risk";
constexpr std::string_view kFalsePositive = "false-positive";  // also the suppression kind it gives

AllowKind allow_kind(const detail::YamlReader& r, const detail::Field& x) {
  const std::string kind = r.text(x, "kind");
  if (kind == kFalsePositive) return AllowKind::false_positive;
  if (kind != kAcceptedRisk)
    r.fail(x.key, "bad-value",
           "'" + kind + "' is not an allow kind: use accepted-risk (the default) or false-positive");
  return AllowKind::accepted_risk;
}

}  // namespace

Allowlist Allowlist::load(const std::string& path) { return parse(detail::read_text_file(path), path); }

Allowlist Allowlist::parse(std::string_view text, const std::string& file_name) {
  const detail::YamlReader r(file_name);
  const YAML::Node doc = detail::load_yaml(text, file_name);
  Allowlist out;
  if (doc.IsNull() || !doc.IsDefined()) return out;
  auto top = r.fields(doc, {"schema", "allow"}, "allowlist");
  if (auto* x = find(top, "schema"))
    if (r.text(*x, "schema") != "keyward.allowlist/v1")
      r.fail(x->key, "bad-version", "this keyward reads schema keyward.allowlist/v1");
  const detail::Field* list = find(top, "allow");
  if (list == nullptr) return out;
  for (const auto& node : r.sequence(*list, "allow")) {
    auto f = r.fields(node, {"fingerprint", "path", "reason", "approved_by", "requested_by", "expires", "kind"},
                      "allow entry");
    AllowEntry e;
    e.file = file_name;
    e.line = detail::line_of(node);
    for (const char* need : {"fingerprint", "reason", "approved_by", "expires"})
      if (find(f, need) == nullptr)
        r.fail(node, "missing-field",
               std::string("an allow entry needs '") + need +
                   "' (fingerprint, reason, approved_by and expires are required; path, requested_by and kind "
                   "are optional)");
    if (auto* x = find(f, "kind")) e.kind = allow_kind(r, *x);
    const auto& fp = *find(f, "fingerprint");
    e.fingerprint = detail::lower(r.text(fp, "fingerprint"));
    if (e.fingerprint.rfind("sha256:", 0) == 0) e.fingerprint.erase(0, 7);
    if (!detail::is_sha256_hex(e.fingerprint))
      r.fail(fp.key, "bad-fingerprint",
             "'" + e.fingerprint +
                 "' is not a SHA-256 fingerprint: write the 64 hex digits of spki_sha256 or sha256 from the findings");
    if (auto* x = find(f, "path")) {
      e.path = r.text(*x, "path");
      if (auto why = detail::glob_problem(e.path); !why.empty())
        r.fail(x->key, "bad-glob", "'" + e.path + "' is not a usable glob: " + why);
    }
    e.reason = r.text(*find(f, "reason"), "reason");
    e.approved_by = r.text(*find(f, "approved_by"), "approved_by");
    if (auto* x = find(f, "requested_by")) {
      e.requested_by = r.text(*x, "requested_by");
      if (e.requested_by == e.approved_by)
        r.fail(x->key, "self-approved",
               "requested and approved by " + e.approved_by + ": someone else must approve an exception");
    }
    const auto& ex = *find(f, "expires");
    e.expires = r.text(ex, "expires");
    auto day = detail::parse_date(e.expires);
    if (!day) r.fail(ex.key, "bad-date", "'" + e.expires + "' is not a date: write YYYY-MM-DD");
    e.expires_at = *day + 86400;  // allowed through the end of that day, UTC
    out.entries_.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> finding_fingerprints(const scanner::Finding& f) {
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  if (f.key) add(f.key->spki_sha256);
  if (f.certificate) {
    add(f.certificate->spki_sha256);
    add(f.certificate->sha256);
  }
  for (const auto& e : f.entries) {
    if (e.key) add(e.key->spki_sha256);
    if (e.certificate) {
      add(e.certificate->spki_sha256);
      add(e.certificate->sha256);
    }
  }
  return out;
}

std::vector<std::string> apply_allowlist(scanner::ScanResult& result, const Allowlist& allowlist, std::int64_t now) {
  std::vector<std::string> warnings;
  for (const auto& e : allowlist.entries()) {
    auto matches = [&](const scanner::Finding& f) {
      const auto fps = finding_fingerprints(f);
      if (std::find(fps.begin(), fps.end(), e.fingerprint) == fps.end()) return false;
      if (e.path.empty()) return true;
      const std::string& rel = f.relative_path.empty() ? f.location.path : f.relative_path;
      return detail::path_glob_match(e.path, rel, f.location.member);
    };
    if (now >= e.expires_at) {
      std::size_t hit = 0;
      for (const auto& f : result.findings) hit += matches(f) ? 1 : 0;
      warnings.push_back(
          e.file + ":" + std::to_string(e.line) + ": allow for " + e.fingerprint.substr(0, 16) + "... (" + e.reason +
          ", approved by " + e.approved_by + ") expired on " + e.expires + ": it no longer suppresses anything" +
          (hit != 0 ? " (" + std::to_string(hit) + " finding" + (hit == 1 ? "" : "s") + " now count)" : std::string()) +
          "; renew it with a new approval or remove it");
      continue;
    }
    for (auto& f : result.findings) {
      if (f.suppressed || !matches(f)) continue;
      f.suppressed =
          scanner::Suppression{e.kind == AllowKind::false_positive ? std::string(kFalsePositive) : "allowlist",
                               e.reason + " (approved by " + e.approved_by + ", expires " + e.expires + ")"};
    }
  }
  return warnings;
}

}  // namespace keyward::rules
