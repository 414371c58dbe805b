// SPDX-License-Identifier: Apache-2.0
// Places of a report, made outside the store's lock (placed_report.hpp).
#include "store/placed_report.hpp"

#include "store/fleet_risk.hpp"
#include "store/secrets.hpp"

#include <keyward/common/terminal.hpp>
#include <keyward/common/utf8.hpp>
#include <keyward/rules/engine.hpp>
#include <keyward/rules/score_context.hpp>
#include <keyward/scanner/finding_json.hpp>

#include <keyward/collector/store.hpp>
#include <keyward/common/hex.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <span>

namespace keyward::collector::detail {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxHostWhy = 1000;  // bytes of an agent's package-owned explanation

// Facts of a finding the places table keeps in columns (for queries).
struct PlaceColumns {
  std::string algorithm;
  std::optional<std::uint32_t> bits;
  std::int64_t not_after = 0;
};

// The key of a key store: its first private key's, else its first certificate's.
void entries_key(const scanner::Finding& f, PlaceColumns& c) {
  for (const auto& e : f.entries) {
    if (e.kind == scanner::Kind::private_key && e.key) {
      c.algorithm = e.key->algorithm;
      c.bits = e.key->bits;
      return;
    }
  }
  for (const auto& e : f.entries)
    if (e.certificate) {
      c.algorithm = e.certificate->key_algorithm;
      c.bits = e.certificate->key_bits;
      return;
    }
}

PlaceColumns place_columns(const scanner::Finding& f) {
  PlaceColumns c;
  if (f.key) {
    c.algorithm = f.key->algorithm;
    c.bits = f.key->bits;
  } else if (f.certificate) {
    c.algorithm = f.certificate->key_algorithm;
    c.bits = f.certificate->key_bits;
  } else {
    entries_key(f, c);
  }
  if (f.certificate && f.certificate->not_after != 0) {
    c.not_after = f.certificate->not_after;
  } else {
    for (const auto& e : f.entries)
      if (e.certificate && e.certificate->not_after != 0 &&
          (c.not_after == 0 || e.certificate->not_after < c.not_after))
        c.not_after = e.certificate->not_after;
  }
  return c;
}

// Whether an installed package owns the file is a fact of the agent's host that the collector's
// engine cannot see: the agent's package-owned factor is kept when the engine's risk lacks it
// (with the collector's definition of the factor when its rules have one).
void keep_host_factors(const scanner::Finding& reported, scanner::Finding& scored, const rules::RuleSet& rules) {
  if (!reported.risk || !scored.risk || has_factor(*scored.risk, kPackageOwned)) return;
  for (const auto& factor : reported.risk->factors) {
    if (factor.id != kPackageOwned) continue;
    scanner::RiskFactor kept = factor;
    const rules::FactorDef* def = rules.factor(kPackageOwned);
    kept.points = def != nullptr ? def->points : std::clamp(kept.points, -100, 100);
    // The agent's sentence names the package; one that is not a short line of text is not shown.
    if (kept.why.size() > kMaxHostWhy || !common::valid_utf8(kept.why) || common::has_control_characters(kept.why))
      kept.why = def != nullptr ? def->why : "An installed package owns this file on its host.";
    scored.risk->factors.push_back(std::move(kept));
    return;
  }
}

PlacedFinding place_of(const std::string& agent_id, const scanner::Finding& f) {
  PlacedFinding p;
  p.place_id = sha256_hex(agent_id + std::string(1, '\0') + f.id);
  p.finding_id = f.id;
  p.identity = f.key_identity();
  p.kind = std::string(scanner::to_string(f.kind));
  p.rule = f.rule;
  p.path = f.location.path;
  p.member = f.location.member;
  const PlaceColumns cols = place_columns(f);
  p.algorithm = cols.algorithm;
  p.bits = cols.bits;
  p.not_after = cols.not_after;
  p.holds_key = f.holds_private_key();
  const scanner::RiskFacts base = f.risk.value_or(scanner::RiskFacts{});
  p.base_risk = risk_to_json(base).dump();
  p.package_owned = has_factor(base, kPackageOwned);
  p.score = base.score;
  p.severity = base.severity;
  const json doc = scanner::to_json(f);
  p.finding_json = doc.dump();
  p.event = {{"rule", f.rule}, {"kind", p.kind}};
  put_location(p.event, doc);
  return p;
}

// ScoredReport::digest: each field is length-prefixed, so no two snapshots hash the same text.
// The findings are written by the streaming JSON writer (no tree): an unchanged snapshot never
// builds one.
std::string snapshot_digest(bool complete, const std::vector<scanner::Finding>& findings) {
  std::vector<const scanner::Finding*> order;
  order.reserve(findings.size());
  for (const auto& f : findings) order.push_back(&f);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw StoreError("cannot hash a snapshot");
  auto add = [&](std::string_view s) {
    const std::uint64_t n = s.size();
    EVP_DigestUpdate(ctx.get(), &n, sizeof n);
    EVP_DigestUpdate(ctx.get(), s.data(), s.size());
  };
  add(complete ? "complete" : "partial");
  std::string text;
  for (const auto* f : order) {
    add(f->id);
    text.clear();
    scanner::write_json(*f, text);
    add(text);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) throw StoreError("cannot hash a snapshot");
  return common::to_hex(std::span<const std::uint8_t>(md, len));
}

}  // namespace

void put_location(json& detail, const json& finding) {
  auto loc = finding.find("location");
  if (loc == finding.end() || !loc->is_object()) return;
  for (const char* k : {"path", "path_b64", "member", "member_b64"})
    if (auto it = loc->find(k); it != loc->end()) detail[k] = *it;
}

ScoredReport score_report(const std::string& agent_id, const protocol::Report& report, const rules::RuleSet& rules,
                          std::int64_t now) {
  ScoredReport out;
  out.agent_id = agent_id;
  out.report_id = report.report_id;
  out.complete = report.result.complete;
  out.findings = report.result.findings.size();
  scanner::ScanResult scored = report.result;
  rules::ScoreContext ctx;
  ctx.now = now;
  // The paths are the agent's host's, not this machine's: the collector's own package database
  // says nothing of them (and reading it cost most of a small report's ingest). The agent's
  // package-owned factor is kept instead (keep_host_factors).
  ctx.package_db_dir.clear();
  rules::score(scored, rules, ctx);
  std::unordered_set<std::string> ids;
  out.scored.reserve(scored.findings.size());
  for (std::size_t i = 0; i < scored.findings.size(); ++i) {
    keep_host_factors(report.result.findings[i], scored.findings[i], rules);
    if (ids.insert(scored.findings[i].id).second) out.scored.push_back(std::move(scored.findings[i]));  // first wins
  }
  out.digest = snapshot_digest(out.complete, out.scored);
  return out;
}

PlacedReport place_report(ScoredReport scored) {
  PlacedReport out;
  out.report_id = std::move(scored.report_id);
  out.complete = scored.complete;
  out.findings = scored.findings;
  out.digest = std::move(scored.digest);
  out.places.reserve(scored.scored.size());
  for (const auto& f : scored.scored) {
    PlacedFinding p = place_of(scored.agent_id, f);
    out.place_ids.insert(p.place_id);
    out.places.push_back(std::move(p));
  }
  return out;
}

PlacedReport place_report(const std::string& agent_id, const protocol::Report& report, const rules::RuleSet& rules,
                          std::int64_t now) {
  return place_report(score_report(agent_id, report, rules, now));
}

}  // namespace keyward::collector::detail
