// SPDX-License-Identifier: Apache-2.0
#include <keyward/rules/baseline.hpp>

#include <keyward/rules/rule_error.hpp>

#include <keyward/common/base64.hpp>
#include <keyward/common/utf8.hpp>

#include "yaml_reader.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>

namespace keyward::rules {
namespace {

std::string fingerprint_of(const scanner::Finding& f) {
  if (std::string s = f.spki(); !s.empty()) return s;
  if (f.certificate && !f.certificate->sha256.empty()) return f.certificate->sha256;
  // A store: the smallest SPKI of its key entries (stable when other entries change).
  std::string best;
  for (const auto& e : f.entries) {
    if (e.kind != scanner::Kind::private_key) continue;
    std::string s = e.key && !e.key->spki_sha256.empty() ? e.key->spki_sha256
                    : e.certificate                      ? e.certificate->spki_sha256
                                                         : std::string();
    if (!s.empty() && (best.empty() || s < best)) best = s;
  }
  if (!best.empty()) return best;
  return f.identity.empty() ? f.id : f.identity;
}

std::uint64_t line_at(std::string_view text, std::size_t byte) {
  std::uint64_t line = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

}  // namespace

BaselineEntry baseline_entry(const scanner::Finding& f) {
  BaselineEntry e;
  e.fingerprint = fingerprint_of(f);
  e.path = f.relative_path.empty() ? f.location.path : f.relative_path;
  while (e.path.rfind("./", 0) == 0) e.path.erase(0, 2);
  if (!f.location.member.empty()) e.path += "!" + f.location.member;
  e.rule = f.rule;
  return e;
}

void Baseline::normalise() {
  std::sort(entries_.begin(), entries_.end(), [](const BaselineEntry& a, const BaselineEntry& b) {
    return std::tie(a.path, a.fingerprint, a.rule) < std::tie(b.path, b.fingerprint, b.rule);
  });
  // One entry per identity (the same key twice in one file is one accepted finding).
  entries_.erase(std::unique(entries_.begin(), entries_.end(),
                             [](const BaselineEntry& a, const BaselineEntry& b) {
                               return a.path == b.path && a.fingerprint == b.fingerprint;
                             }),
                 entries_.end());
}

Baseline Baseline::from_result(const scanner::ScanResult& result) {
  Baseline b;
  for (const auto& f : result.findings) b.entries_.push_back(baseline_entry(f));
  b.normalise();
  return b;
}

std::string Baseline::create(const scanner::ScanResult& result) { return from_result(result).to_json(); }

void Baseline::update(const scanner::ScanResult& result) {
  const Baseline now = from_result(result);
  std::set<std::pair<std::string, std::string>> present;
  for (const auto& e : now.entries_) present.emplace(e.path, e.fingerprint);
  std::vector<BaselineEntry> kept;
  std::set<std::pair<std::string, std::string>> have;
  for (const auto& e : entries_)
    if (present.count({e.path, e.fingerprint}) != 0) {
      kept.push_back(e);
      have.emplace(e.path, e.fingerprint);
    }
  for (const auto& e : now.entries_)
    if (have.count({e.path, e.fingerprint}) == 0) kept.push_back(e);
  entries_ = std::move(kept);
  normalise();
}

std::string Baseline::to_json() const {
  nlohmann::ordered_json doc;
  doc["schema"] = kBaselineSchema;
  doc["entries"] = nlohmann::ordered_json::array();
  for (const auto& e : entries_) {
    nlohmann::ordered_json j;
    j["fingerprint"] = e.fingerprint;
    // What nlohmann can write as JSON (its strict dump checks well-formed UTF-8).
    if (common::valid_utf8(e.path)) j["path"] = e.path;
    else j["path_b64"] = common::base64_encode(std::string_view(e.path));
    j["rule"] = e.rule;
    doc["entries"].push_back(std::move(j));
  }
  return doc.dump(2) + "\n";
}

bool Baseline::contains(const scanner::Finding& f) const {
  const BaselineEntry e = baseline_entry(f);
  // entries_ is sorted by (path, fingerprint, rule).
  auto it = std::lower_bound(entries_.begin(), entries_.end(), e, [](const BaselineEntry& a, const BaselineEntry& b) {
    return std::tie(a.path, a.fingerprint) < std::tie(b.path, b.fingerprint);
  });
  return it != entries_.end() && it->path == e.path && it->fingerprint == e.fingerprint;
}

Baseline Baseline::load(const std::string& path) {
  std::string text;
  try {
    text = detail::read_text_file(path, 256ull << 20);
  } catch (const RuleError& e) {
    throw RuleError(path, 0, e.code,
                    "cannot read the baseline: " + e.message + " (create one with `keyward baseline create`)");
  }
  return parse(text, path);
}

Baseline Baseline::parse(std::string_view text, const std::string& file_name) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw RuleError(
        file_name, line_at(text, e.byte), "json-syntax",
        "not valid JSON: a baseline is written by `keyward baseline create`; regenerate it rather than edit it");
  } catch (const nlohmann::json::exception&) {
    // Syntax that parses but cannot be held, such as a number past a double's range (found by
    // suppressions_fuzzer): the same answer, not an exception the CLI cannot name.
    throw RuleError(file_name, 0, "json-syntax",
                    "a value is out of range: a baseline is written by `keyward baseline create`; regenerate it");
  }
  const auto fail = [&](std::string code, std::string msg) {
    throw RuleError(file_name, 0, std::move(code), std::move(msg));
  };
  if (!doc.is_object() || !doc.contains("schema") || doc["schema"] != kBaselineSchema)
    fail("bad-schema", std::string("not a keyward baseline (expected \"schema\": \"") + kBaselineSchema + "\")");
  if (!doc.contains("entries") || !doc["entries"].is_array()) fail("missing-field", "no \"entries\" list");
  Baseline b;
  std::size_t n = 0;
  for (const auto& j : doc["entries"]) {
    ++n;
    const std::string where = "entry " + std::to_string(n);
    if (!j.is_object()) fail("bad-type", where + " is not an object");
    BaselineEntry e;
    if (!j.contains("fingerprint") || !j["fingerprint"].is_string() || j["fingerprint"].get<std::string>().empty())
      fail("missing-field", where + " has no \"fingerprint\"");
    e.fingerprint = j["fingerprint"].get<std::string>();
    if (j.contains("path") && j["path"].is_string()) {
      e.path = j["path"].get<std::string>();
    } else if (j.contains("path_b64") && j["path_b64"].is_string()) {
      if (const auto path = common::base64_decode(j["path_b64"].get<std::string>()))
        e.path.assign(path->begin(), path->end());
      else fail("bad-value", where + " has a path_b64 that is not base64");
    } else {
      fail("missing-field", where + " has no \"path\"");
    }
    if (j.contains("rule") && j["rule"].is_string()) e.rule = j["rule"].get<std::string>();
    b.entries_.push_back(std::move(e));
  }
  b.normalise();
  return b;
}

std::size_t apply_baseline(scanner::ScanResult& result, const Baseline& baseline, const std::string& source) {
  std::size_t n = 0;
  for (auto& f : result.findings) {
    if (f.suppressed || !baseline.contains(f)) continue;
    f.suppressed = scanner::Suppression{std::string(kBaselineSuppression), "in baseline " + source};
    ++n;
  }
  return n;
}

}  // namespace keyward::rules
