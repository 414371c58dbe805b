// SPDX-License-Identifier: Apache-2.0
// Target profiles and the migration policy as data (docs/migration.md, "Target profiles" and
// "Policy"): the embedded rules/hsm/*.yaml, then every *.yaml of the directories given; a
// profile or rule of the same id replaces the earlier one. Errors name the file, line and key.
#include <keyward/migrate/plan.hpp>
#include <keyward/rules/rule_error.hpp>

#include "yaml_reader.hpp"

#include <algorithm>
#include <filesystem>
#include <utility>

namespace keyward::rules::detail {
extern const char* const kHsmSofthsm2;         // generated from rules/hsm/softhsm2.yaml
extern const char* const kHsmYubihsm2;         // generated from rules/hsm/yubihsm2.yaml
extern const char* const kHsmAwsCloudhsm;      // generated from rules/hsm/aws-cloudhsm.yaml
extern const char* const kHsmAzureManagedHsm;  // generated from rules/hsm/azure-managed-hsm.yaml
extern const char* const kHsmThalesLuna;       // generated from rules/hsm/thales-luna.yaml
extern const char* const kHsmPolicy;           // generated from rules/hsm/policy.yaml
}  // namespace keyward::rules::detail

namespace keyward::migrate {
namespace {

using rules::detail::Field;
using rules::detail::find;
using rules::detail::YamlReader;

// What a policy rule's `match` may say (docs/migration.md, "Policy").
constexpr std::string_view kMatches[] = {"code-signing", "ca", "tls", "ssh", "any"};

template <class T>
void put_by_id(std::vector<T>& list, T value) {
  auto it = std::find_if(list.begin(), list.end(), [&](const T& x) { return x.id == value.id; });
  if (it == list.end()) list.push_back(std::move(value));
  else *it = std::move(value);
}

Profile read_profile(const YamlReader& r, const YAML::Node& node) {
  auto f = r.fields(node, {"id", "name", "vendor", "fips_level", "algorithms", "can_import", "source"}, "profile");
  Profile p;
  for (const char* key : {"id", "name", "fips_level", "algorithms", "source"})
    if (!find(f, key)) r.fail(node, "missing-field", std::string("a profile needs `") + key + "`");
  p.id = r.text(f.at("id"), "id");
  p.name = r.text(f.at("name"), "name");
  if (auto* x = find(f, "vendor")) p.vendor = r.text(*x, "vendor");
  p.fips_level = r.text(f.at("fips_level"), "fips_level");
  p.algorithms = r.texts(f.at("algorithms"), "algorithms");
  if (auto* x = find(f, "can_import")) p.can_import = r.boolean(*x, "can_import");
  p.source = r.text(f.at("source"), "source");
  return p;
}

PolicyRule read_rule(const YamlReader& r, const YAML::Node& node) {
  auto f = r.fields(node, {"id", "match", "profile", "token", "label_prefix", "refuse_algorithms", "allow_import"},
                    "policy rule");
  for (const char* key : {"id", "match", "profile", "token"})
    if (!find(f, key)) r.fail(node, "missing-field", std::string("a policy rule needs `") + key + "`");
  PolicyRule p;
  p.id = r.text(f.at("id"), "id");
  p.match = r.text(f.at("match"), "match");
  if (std::find(std::begin(kMatches), std::end(kMatches), p.match) == std::end(kMatches))
    r.fail(f.at("match").key, "bad-match", "`match` is one of code-signing, ca, tls, ssh, any; not " + p.match);
  p.profile = r.text(f.at("profile"), "profile");
  p.token = r.text(f.at("token"), "token");
  if (auto* x = find(f, "label_prefix")) p.label_prefix = r.text_or_empty(*x, "label_prefix");
  if (auto* x = find(f, "refuse_algorithms")) p.refuse_algorithms = r.texts(*x, "refuse_algorithms");
  if (auto* x = find(f, "allow_import")) p.allow_import = r.boolean(*x, "allow_import");
  return p;
}

void load_text(Targets& t, std::string_view text, const std::string& file) {
  const YamlReader r(file);
  const YAML::Node doc = rules::detail::load_yaml(text, file);
  if (!doc.IsMap()) r.fail(0, "bad-type", "a profile or policy file is a mapping (profiles:, rules:, default_owner:)");
  auto f = r.fields(doc, {"profiles", "rules", "default_owner"}, "profile or policy file");
  if (auto* x = find(f, "profiles"))
    for (const auto& n : r.sequence(*x, "profiles")) put_by_id(t.profiles, read_profile(r, n));
  if (auto* x = find(f, "rules"))
    for (const auto& n : r.sequence(*x, "rules")) put_by_id(t.rules, read_rule(r, n));
  if (auto* x = find(f, "default_owner")) t.default_owner = r.text(*x, "default_owner");
  t.sources.push_back(file);
}

std::vector<std::string> yaml_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw rules::RuleError(dir, 0, "cannot-read", "not a readable directory of HSM profile and policy *.yaml files");
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string ext = it->path().extension().string();
    if (it->is_regular_file(ec) && (ext == ".yaml" || ext == ".yml")) files.push_back(it->path().string());
  }
  if (ec) throw rules::RuleError(dir, 0, "cannot-read", "cannot list it (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  return files;
}

// Every rule names a profile that exists (else no item could say where it goes).
void check_references(const Targets& t) {
  for (const auto& rule : t.rules) {
    const bool known =
        std::any_of(t.profiles.begin(), t.profiles.end(), [&](const Profile& p) { return p.id == rule.profile; });
    if (!known)
      throw rules::RuleError("policy", 0, "unknown-profile",
                             "rule " + rule.id + " names profile " + rule.profile + ", which no profile file defines");
  }
}

}  // namespace

Targets load_targets(const std::vector<std::string>& dirs) {
  namespace d = rules::detail;
  Targets t;
  load_text(t, d::kHsmSofthsm2, "builtin:hsm/softhsm2.yaml");
  load_text(t, d::kHsmYubihsm2, "builtin:hsm/yubihsm2.yaml");
  load_text(t, d::kHsmAwsCloudhsm, "builtin:hsm/aws-cloudhsm.yaml");
  load_text(t, d::kHsmAzureManagedHsm, "builtin:hsm/azure-managed-hsm.yaml");
  load_text(t, d::kHsmThalesLuna, "builtin:hsm/thales-luna.yaml");
  load_text(t, d::kHsmPolicy, "builtin:hsm/policy.yaml");
  Targets user;
  for (const auto& dir : dirs)
    for (const auto& file : yaml_files(dir)) load_text(user, d::read_text_file(file), file);
  // The user's rules come first, in file order (first match wins); a built-in rule of the same
  // id gives way. Profiles of the same id replace the built-in one.
  for (auto& rule : t.rules)
    if (std::none_of(user.rules.begin(), user.rules.end(), [&](const PolicyRule& u) { return u.id == rule.id; }))
      user.rules.push_back(std::move(rule));
  t.rules = std::move(user.rules);
  for (auto& p : user.profiles) put_by_id(t.profiles, std::move(p));
  if (!user.default_owner.empty()) t.default_owner = user.default_owner;
  t.sources.insert(t.sources.end(), user.sources.begin(), user.sources.end());
  check_references(t);
  return t;
}

}  // namespace keyward::migrate
