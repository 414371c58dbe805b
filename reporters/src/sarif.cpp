// SPDX-License-Identifier: Apache-2.0
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <keyward/reporters/sarif.hpp>
#include <keyward/scanner/finding_json.hpp>
#include <keyward/scanner/scan.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "describe.hpp"

namespace keyward::reporters {
namespace {

using json = nlohmann::ordered_json;
using scanner::Finding;

// The log's $schema: the $id of docs/schemas/sarif-schema-2.1.0.json.
constexpr const char* kSarifSchema =
    "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json";
constexpr const char* kSrcRoot = "%SRCROOT%";
// Stable name of the partial fingerprint; a new meaning gets a new version, never this name.
constexpr const char* kFingerprintName = "keywardIdentity/v1";
// The commit that added a blob found in history (keyward ci --history), 40 hex digits.
constexpr const char* kCommitFingerprintName = "keywardCommit/v1";

// SARIF level of a severity (GitHub shows error/warning/note when security-severity is absent).
std::string_view level_of(std::string_view severity) {
  const int r = detail::severity_rank(severity).value_or(0);
  return r >= 3 ? "error" : r == 2 ? "warning" : "note";
}

// GitHub's security-severity (a string holding 0.0-10.0) reads over 9.0 as critical, 7.0-8.9 high,
// 4.0-6.9 medium, 3.9 or less low (docs/formats/sarif.md cites GitHub's documentation).
// A rule's: the middle of its default severity's band.
std::string_view security_severity_of(std::string_view severity) {
  switch (detail::severity_rank(severity).value_or(0)) {
    case 4:
      return "9.5";
    case 3:
      return "8.0";
    case 2:
      return "5.5";
    case 1:
      return "3.0";
    default:
      return "1.0";
  }
}

// A scored result's: the score in tenths, kept inside its severity's band so that GitHub reads the
// same severity as keyward (a critical 90 is "9.1", not "9.0", which GitHub reads as high).
std::string security_severity_of(int score, std::string_view severity) {
  struct Band {
    int low, high;  // tenths
  };
  constexpr std::array<Band, 5> kBands{{{0, 14}, {15, 39}, {40, 69}, {70, 89}, {91, 100}}};  // info..critical
  const auto& band = kBands[static_cast<std::size_t>(std::clamp(detail::severity_rank(severity).value_or(0), 0, 4))];
  const int tenths = std::clamp(score, band.low, band.high);
  return fmt::format("{}.{}", tenths / 10, tenths % 10);
}

// RFC 3986: everything but unreserved characters and '/' is percent-encoded, byte by byte (so
// spaces, '%', '#', '?', ':' and non-UTF-8 bytes survive as %XX).
std::string percent_encode(std::string_view s) {
  static const char* hexd = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 && c < 0x80) out += static_cast<char>(c);
    else if (c == '-' || c == '.' || c == '_' || c == '~' || c == '/') out += static_cast<char>(c);
    else {
      out += '%';
      out += hexd[c >> 4];
      out += hexd[c & 15];
    }
  }
  return out;
}

// "private-key/pkcs8-encrypted" -> "PrivateKeyPkcs8Encrypted".
std::string pascal_case(std::string_view id) {
  std::string out;
  bool start = true;
  for (unsigned char c : id) {
    if (std::isalnum(c) == 0) {
      start = true;
      continue;
    }
    out += static_cast<char>(start ? std::toupper(c) : c);
    start = false;
  }
  return out;
}

bool semver_like(std::string_view v) {
  int dots = 0;
  std::size_t i = 0;
  for (; i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) != 0 || v[i] == '.'); ++i) dots += v[i] == '.';
  return dots == 2 && i > 0 && v[0] != '.' && (i == v.size() || v[i] == '-' || v[i] == '+');
}

std::string strip_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// The scan root as given and in absolute form, lexically normal, for prefix matching.
struct Root {
  std::vector<std::string> forms;  // candidates a finding path may start with
  std::string absolute;            // for originalUriBaseIds; empty when no root
};

Root make_root(const std::string& root) {
  Root r;
  if (root.empty()) return r;
  namespace fs = std::filesystem;
  const std::string given = strip_slashes(fs::path(root).lexically_normal().string());
  r.forms.push_back(given);
  std::error_code ec;
  const fs::path abs = fs::path(root).is_absolute() ? fs::path(root) : fs::absolute(root, ec);
  r.absolute = ec ? given : strip_slashes(abs.lexically_normal().string());
  if (r.absolute != given) r.forms.push_back(r.absolute);
  return r;
}

// The finding's path relative to the root (unencoded, '/'-separated, no leading slash).
std::string root_relative(const Finding& f, const Root& root) {
  const std::string p = std::filesystem::path(f.location.path).lexically_normal().string();
  for (const auto& r : root.forms) {
    if (r == "/" && p.size() > 1 && p[0] == '/') return p.substr(1);
    if (p.size() > r.size() + 1 && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/') return p.substr(r.size() + 1);
  }
  if (!f.relative_path.empty()) return f.relative_path;
  std::string_view s = p;
  while (s.starts_with("./")) s.remove_prefix(2);
  while (s.starts_with('/')) s.remove_prefix(1);
  return std::string(s);
}

// A rule descriptor for a rule id nobody described: generic words by family.
RuleHelp generated_rule(const std::string& id) {
  RuleHelp h;
  h.id = id;
  h.severity = std::string(detail::fallback_severity(id));
  const auto slash = id.find('/');
  const std::string family = id.substr(0, slash);
  const std::string form = slash == std::string::npos ? std::string() : id.substr(slash + 1);
  if (family == "private-key") {
    h.title = fmt::format("Private key ({}) found", form);
    h.description = fmt::format(
        "A private key in {} form was found. Whoever can read it can sign, decrypt or log in as its owner.", form);
    h.remediation =
        "Remove the key from the tree or image, rotate it (revoke certificates issued for it) and keep it in a "
        "secret store or HSM. If it must stay on disk, encrypt it with a strong passphrase and make it readable by "
        "its owner only.";
  } else if (family == "keystore") {
    h.title = fmt::format("Key store ({}) found", form);
    h.description = fmt::format("A {} key store was found; it may hold private keys.", form);
    h.remediation =
        "Move the key store out of the tree, rotate the keys it holds and protect it with a strong password kept "
        "outside the repository.";
  } else {
    h.title = fmt::format("{} ({}) found", family == "certificate" ? "Certificate" : "Public key", form);
    h.description = "Inventory: public material, not a secret by itself.";
    h.remediation = "Confirm it is expected here; track the expiry of certificates.";
  }
  h.tags = {family};
  return h;
}

// "CWE-321" -> "321"; empty for anything else.
std::string cwe_number(std::string_view ref) {
  if (!ref.starts_with("CWE-") || ref.size() == 4) return {};
  ref.remove_prefix(4);
  for (char c : ref)
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return {};
  return std::string(ref);
}

// An absolute http(s) URL without spaces (helpUri must be a URI).
bool is_web_uri(std::string_view ref) {
  return (ref.starts_with("https://") || ref.starts_with("http://")) &&
         ref.find_first_of(" \t<>\"") == std::string_view::npos;
}

json rule_descriptor(const RuleHelp& h) {
  const std::string severity =
      detail::severity_rank(h.severity) ? h.severity : std::string(detail::fallback_severity(h.id));
  std::string text = h.description.empty() ? h.title : h.description;
  std::string markdown = text;
  if (!h.remediation.empty()) {
    text += "\n\nRemediation: " + h.remediation;
    markdown += "\n\n**Remediation:** " + h.remediation;
  }
  json tags = json::array({"security"});
  std::set<std::string> seen{"security"};
  auto tag = [&](const std::string& t) {
    if (!t.empty() && seen.insert(t).second) tags.push_back(t);
  };
  for (const auto& t : h.tags) tag(t);
  std::string help_uri;
  if (!h.references.empty()) {
    text += "\n\nReferences:";
    markdown += "\n\n**References**\n";
    for (const auto& ref : h.references) {
      text += "\n- " + ref;
      if (const auto cwe = cwe_number(ref); !cwe.empty()) {
        // CodeQL's convention: GitHub shows external/cwe tags as CWE links on the alert.
        markdown += fmt::format("\n- [{}](https://cwe.mitre.org/data/definitions/{}.html)", ref, cwe);
        tag("external/cwe/cwe-" + cwe);
      } else if (is_web_uri(ref)) {
        markdown += "\n- <" + ref + ">";
        if (help_uri.empty()) help_uri = ref;
      } else {
        markdown += "\n- " + ref;
      }
    }
  }

  json d;
  d["id"] = h.id;
  d["name"] = pascal_case(h.id);
  d["shortDescription"] = {{"text", h.title.empty() ? h.id : h.title}};
  d["fullDescription"] = {{"text", h.description.empty() ? (h.title.empty() ? h.id : h.title) : h.description}};
  if (!help_uri.empty()) d["helpUri"] = help_uri;
  d["help"] = {{"text", text}, {"markdown", markdown}};
  d["defaultConfiguration"] = {{"level", level_of(severity)}};
  d["properties"] = {{"tags", tags},
                     {"precision", "very-high"},
                     {"security-severity", security_severity_of(severity)},
                     {"keyward-severity", severity}};
  return d;
}

json suppression_of(const scanner::Suppression& s) {
  json j;
  j["kind"] = s.kind == "inline" ? "inSource" : "external";
  j["status"] = "accepted";
  j["justification"] =
      s.justification.empty() ? "suppressed by " + (s.kind.empty() ? std::string("policy") : s.kind) : s.justification;
  j["properties"] = {{"keyward-suppression", s.kind}};
  return j;
}

json result_of(const Finding& f, const std::string& rule, std::size_t rule_index, const std::string& rule_severity,
               const Root& root) {
  const std::string rel = root_relative(f, root);
  const std::string severity = detail::finding_severity(f, rule_severity);
  const std::string& member = f.location.member;

  json region;
  // A line inside an archive member is not a line of the archive file: point at the file.
  region["startLine"] = member.empty() && f.location.line != 0 ? f.location.line : 1;
  json location;
  location["physicalLocation"] = {{"artifactLocation", {{"uri", percent_encode(rel)}, {"uriBaseId", kSrcRoot}}},
                                  {"region", region}};
  if (!member.empty()) {
    const auto last = member.find_last_of("!/");
    location["logicalLocations"] = json::array({{{"name", last == std::string::npos ? member : member.substr(last + 1)},
                                                 {"fullyQualifiedName", rel + "!" + member},
                                                 {"kind", "resource"}}});
  }

  json r;
  r["ruleId"] = rule;
  r["ruleIndex"] = rule_index;
  r["level"] = level_of(severity);
  r["message"] = {{"text", detail::describe(f, rel)}};
  r["locations"] = json::array({location});
  // keywardIdentity/v1 = scanner::finding_id(root-relative path, member, identity, 0): SHA-256
  // over those fields, 32 hex digits; the same as the finding id when the scan root is the SARIF
  // root. Should finding_id ever change, this needs a new fingerprint name (v2).
  const std::string& identity = f.identity.empty() ? f.id : f.identity;
  r["partialFingerprints"] = {{kFingerprintName, scanner::finding_id(rel, member, identity, 0)}};
  // A blob from history: the same key added by another commit is another result.
  if (f.git && !f.git->commit.empty()) r["partialFingerprints"][kCommitFingerprintName] = f.git->commit;

  json props;
  props["security-severity"] =
      f.risk ? security_severity_of(f.risk->score, severity) : std::string(security_severity_of(severity));
  props["keyward-severity"] = severity;
  if (f.risk) props["keyward-risk-score"] = f.risk->score;
  json factors = json::array();
  if (f.risk)
    for (const auto& x : f.risk->factors) factors.push_back({{"id", x.id}, {"points", x.points}, {"why", x.why}});
  props["keyward-risk-factors"] = factors;
  if (f.risk && !f.risk->remediation.empty()) props["keyward-remediation"] = f.risk->remediation;
  if (!f.id.empty()) props["keyward-finding-id"] = f.id;
  if (f.git && !f.git->commit.empty()) {
    props["commit"] = f.git->commit;
    if (f.git->author_date != 0) props["commit-date"] = scanner::rfc3339(f.git->author_date);
  }
  props["kind"] = scanner::to_string(f.kind);
  props["format"] = scanner::to_string(f.format);
  // A remote scan's host: the artifact's uri stays the path on that host.
  if (!f.location.host.empty()) props["host"] = f.location.host;
  if (!member.empty()) {
    props["member"] = member;
    if (f.location.line != 0) props["member-line"] = f.location.line;
  }
  r["properties"] = props;
  if (f.suppressed) r["suppressions"] = json::array({suppression_of(*f.suppressed)});
  return r;
}

}  // namespace

std::string render_sarif(const scanner::ScanResult& result, const SarifOptions& options) {
  // Rules: every one described, then one generated per rule id used without a description.
  std::vector<RuleHelp> rules;
  std::map<std::string, std::size_t> index;
  for (const auto& h : options.rules)
    if (!h.id.empty() && index.emplace(h.id, rules.size()).second) rules.push_back(h);
  for (const auto& f : result.findings) {
    const auto id = detail::rule_id(f);
    if (index.emplace(id, rules.size()).second) rules.push_back(generated_rule(id));
  }

  const Root root = make_root(options.root);
  json results = json::array();
  for (const auto& f : result.findings) {
    const auto id = detail::rule_id(f);
    const std::size_t i = index.at(id);
    results.push_back(result_of(f, id, i, rules[i].severity, root));
  }

  json driver;
  driver["name"] = "keyward";
  const std::string version = options.tool_version.empty() ? result.tool_version : options.tool_version;
  if (!version.empty()) {
    driver["version"] = version;
    if (semver_like(version)) driver["semanticVersion"] = version;
  }
  if (!options.information_uri.empty()) driver["informationUri"] = options.information_uri;
  json rule_list = json::array();
  for (const auto& h : rules) rule_list.push_back(rule_descriptor(h));
  driver["rules"] = rule_list;

  json invocation;
  invocation["executionSuccessful"] = result.complete;
  if (result.started_at != 0) invocation["startTimeUtc"] = scanner::rfc3339(result.started_at);
  if (result.finished_at != 0) invocation["endTimeUtc"] = scanner::rfc3339(result.finished_at);
  if (!result.host.hostname.empty()) invocation["machine"] = result.host.hostname;
  json notes = json::array();
  for (const auto& e : result.errors)
    notes.push_back({{"level", "warning"}, {"message", {{"text", e.path + ": " + e.what}}}});
  if (!notes.empty()) invocation["toolExecutionNotifications"] = notes;
  invocation["properties"] = {{"files_seen", result.stats.files_seen},
                              {"files_scanned", result.stats.files_scanned},
                              {"bytes_scanned", result.stats.bytes_scanned},
                              {"errors", result.stats.errors}};

  json run;
  run["tool"] = {{"driver", driver}};
  run["invocations"] = json::array({invocation});
  if (!root.absolute.empty()) {
    std::string uri = "file://" + percent_encode(root.absolute);
    if (uri.back() != '/') uri += '/';
    run["originalUriBaseIds"] = {{kSrcRoot, {{"uri", uri}}}};
  }
  run["automationDetails"] = {{"id", "keyward/" + result.scan_id}};
  run["columnKind"] = "unicodeCodePoints";
  run["results"] = results;
  if (!result.scan_id.empty()) run["properties"] = {{"keyward-scan-id", result.scan_id}};

  json log;
  log["$schema"] = kSarifSchema;
  log["version"] = "2.1.0";
  log["runs"] = json::array({run});
  return log.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace keyward::reporters
